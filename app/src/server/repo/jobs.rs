//! The durable job table: everything that must happen later (autopay on a
//! due date, and the dunning engine's steps) is a row here, claimed by a
//! worker with a lease. A dedupe key makes a second enqueue of the same
//! effect a no-op; a lease that runs out (a crashed worker) is taken over.

use crate::server::db::Claim;
use crate::server::ids::{JobId, MerchantId};
use crate::server::{Db, UtcMillis};
use sqlx::any::AnyExecutor;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct JobRow {
    pub id: String,
    pub merchant_id: Option<String>,
    pub kind: String,
    pub payload: String,
    pub dedupe_key: Option<String>,
    pub run_at: i64,
    pub attempts: i64,
    pub max_attempts: i64,
}

/// Queues a job; `None` when one with this dedupe key exists already.
pub async fn enqueue<'c>(
    ex: impl AnyExecutor<'c>,
    merchant: Option<&MerchantId>,
    kind: &str,
    payload: &serde_json::Value,
    dedupe_key: &str,
    run_at: UtcMillis,
    now: UtcMillis,
) -> Result<Option<JobId>, sqlx::Error> {
    let id = JobId::new();
    let done = sqlx::query(
        "INSERT INTO jobs (id, merchant_id, kind, payload, dedupe_key, run_at, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7, $7) ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(id.as_str())
    .bind(merchant.map(|m| m.as_str().to_string()))
    .bind(kind)
    .bind(payload.to_string())
    .bind(dedupe_key)
    .bind(run_at.0)
    .bind(now.0)
    .execute(ex)
    .await?;
    Ok((done.rows_affected() == 1).then_some(id))
}

const CLAIMABLE: &str = "((status = 'queued' AND run_at <= $2) OR (status = 'running' AND lease_expires_at < $2))";

/// Claims up to `limit` due jobs of the given kinds for `owner`, in one
/// statement ([`crate::server::Backend::claim_sql`]): never a row another
/// worker holds, never more than `limit`.
pub async fn claim_due(
    db: &Db,
    kinds: &[&str],
    owner: &str,
    now: UtcMillis,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<JobRow>, sqlx::Error> {
    // Kinds are our own constants, never user input; bound anyway.
    let placeholders: Vec<String> = (0..kinds.len()).map(|i| format!("${}", i + 5)).collect();
    let due = format!("{CLAIMABLE} AND kind IN ({})", placeholders.join(", "));
    let sql = db.backend().claim_sql(&Claim {
        table: "jobs",
        due: &due,
        order_by: "run_at, id",
        limit: "$4",
        set: "status = 'running', lease_owner = $1, lease_expires_at = $3, attempts = attempts + 1, updated_at = $2",
        returning: "id, merchant_id, kind, payload, dedupe_key, run_at, attempts, max_attempts",
    });
    let mut query = sqlx::query_as(&sql).bind(owner).bind(now.0).bind(now.0 + lease_ms).bind(limit);
    for kind in kinds {
        query = query.bind(*kind);
    }
    query.fetch_all(db.pool()).await
}

/// Extends the lease on every job `owner` still holds, so a live worker
/// keeps its claims however long its batch runs while a crashed worker's
/// claims lapse within one lease. A job another worker has taken over has
/// another owner, so it is left alone. Returns how many were extended.
pub async fn renew_leases(db: &Db, owner: &str, now: UtcMillis, lease_ms: i64) -> Result<u64, sqlx::Error> {
    let renewed = sqlx::query(
        "UPDATE jobs SET lease_expires_at = $1, updated_at = $2 WHERE lease_owner = $3 AND status = 'running'",
    )
    .bind(now.0 + lease_ms)
    .bind(now.0)
    .bind(owner)
    .execute(db.pool())
    .await?;
    Ok(renewed.rows_affected())
}

/// The job did what it had to (or found it no longer had to).
pub async fn complete(db: &Db, id: &str, owner: &str, now: UtcMillis) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE jobs SET status = 'done', lease_owner = NULL, lease_expires_at = NULL, last_error = NULL, \
         updated_at = $1 WHERE id = $2 AND lease_owner = $3 AND status = 'running'",
    )
    .bind(now.0)
    .bind(id)
    .bind(owner)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A failed run: back in the queue at `retry_at`, or dead (error kept) once
/// its attempts are used up.
pub async fn fail(
    db: &Db,
    id: &str,
    owner: &str,
    error: &str,
    retry_at: UtcMillis,
    now: UtcMillis,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE jobs SET status = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END, run_at = $1, \
         last_error = $2, lease_owner = NULL, lease_expires_at = NULL, updated_at = $3 \
         WHERE id = $4 AND lease_owner = $5 AND status = 'running'",
    )
    .bind(retry_at.0)
    .bind(error)
    .bind(now.0)
    .bind(id)
    .bind(owner)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Backoff before attempt `attempts + 1`: 1, 2, 4 … minutes, at most 6 hours.
pub fn backoff_ms(attempts: i64) -> i64 {
    let minutes = 1i64 << attempts.clamp(0, 9);
    (minutes * 60_000).min(6 * 60 * 60 * 1000)
}
