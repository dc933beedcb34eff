//! The outbox: every message is a row written before anything is sent, under
//! a per-merchant dedupe key, so the same effect never produces two messages.
//! Delivery workers claim due rows with a lease and record the outcome.

use crate::server::db::Claim;
use crate::server::ids::{CustomerId, MerchantId, MessageId};
use crate::server::{Db, UtcMillis};
use sqlx::any::AnyExecutor;

#[derive(Clone, Debug)]
pub struct NewEmail {
    pub customer: Option<CustomerId>,
    pub to_address: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub template_key: String,
    /// Same key, same message: a second enqueue is a no-op.
    pub dedupe_key: String,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MessageRow {
    pub id: String,
    pub merchant_id: String,
    pub customer_id: Option<String>,
    pub channel: String,
    pub to_address: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    /// A reminder's `mail::EmailContent` as JSON: its HTML part is branded
    /// when it is sent (`body_html` is then empty).
    pub body_content: Option<String>,
    pub attempts: i64,
}

/// Queues an email; `None` when a message with this dedupe key exists already.
pub async fn enqueue_email<'c>(
    ex: impl AnyExecutor<'c>,
    merchant: &MerchantId,
    email: &NewEmail,
    now: UtcMillis,
) -> Result<Option<MessageId>, sqlx::Error> {
    let id = MessageId::new();
    let done = sqlx::query(
        "INSERT INTO messages (id, merchant_id, customer_id, channel, to_address, subject, body_text, body_html, \
         template_key, dedupe_key, status, created_at, next_attempt_at) \
         VALUES ($1, $2, $3, 'email', $4, $5, $6, $7, $8, $9, 'queued', $10, $10) \
         ON CONFLICT (merchant_id, dedupe_key) DO NOTHING",
    )
    .bind(id.as_str())
    .bind(merchant.as_str())
    .bind(email.customer.as_ref().map(|c| c.as_str().to_string()))
    .bind(&email.to_address)
    .bind(&email.subject)
    .bind(&email.body_text)
    .bind(&email.body_html)
    .bind(&email.template_key)
    .bind(&email.dedupe_key)
    .bind(now.0)
    .execute(ex)
    .await?;
    Ok((done.rows_affected() == 1).then_some(id))
}

const CLAIM_COLUMNS: &str =
    "id, merchant_id, customer_id, channel, to_address, subject, body_text, body_html, body_content, attempts";

/// Claims up to `limit` messages of every channel that are due (queued and past their next
/// attempt time, or held by a worker whose lease ran out). One statement
/// ([`crate::server::Backend::claim_sql`]), so two workers never claim the
/// same row and none claims more than `limit`.
pub async fn claim_due(db: &Db, now: UtcMillis, lease_ms: i64, limit: i64) -> Result<Vec<MessageRow>, sqlx::Error> {
    let sql = db.backend().claim_sql(&Claim {
        table: "messages",
        due: "((status = 'queued' AND next_attempt_at <= $2) OR (status = 'sending' AND lease_expires_at < $2))",
        order_by: "next_attempt_at, created_at",
        limit: "$3",
        set: "status = 'sending', lease_expires_at = $1, attempts = attempts + 1",
        returning: CLAIM_COLUMNS,
    });
    sqlx::query_as(&sql).bind(now.0 + lease_ms).bind(now.0).bind(limit).fetch_all(db.pool()).await
}

pub async fn mark_sent(
    db: &Db,
    id: &str,
    transport: &str,
    provider_ref: Option<&str>,
    now: UtcMillis,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE messages SET status = 'sent', sent_at = $1, transport = $2, provider_ref = $3, \
         lease_expires_at = NULL, last_error = NULL WHERE id = $4",
    )
    .bind(now.0)
    .bind(transport)
    .bind(provider_ref)
    .bind(id)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Records a failed attempt. `retry_at` puts it back in the queue; `None`
/// gives up (status `failed`, error kept for the merchant to see).
pub async fn mark_failed(db: &Db, id: &str, error: &str, retry_at: Option<UtcMillis>) -> Result<(), sqlx::Error> {
    let (status, next) = match retry_at {
        Some(t) => ("queued", t.0),
        None => ("failed", 0),
    };
    sqlx::query(
        "UPDATE messages SET status = $1, next_attempt_at = $2, last_error = $3, lease_expires_at = NULL WHERE id = $4",
    )
    .bind(status)
    .bind(next)
    .bind(error)
    .bind(id)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Whether a reminder's invoices no longer call for it: every one of them
/// is paid or voided, under an active promise to pay, or disputed, or the
/// customer was suspended or had reminders paused since. Messages
/// that are not about invoices are never moot.
pub async fn reminder_is_moot(pool: &sqlx::AnyPool, message: &str, now: UtcMillis) -> Result<bool, sqlx::Error> {
    let (about, still_due): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN i.status = 'open' AND i.total_minor > i.amount_paid_minor \
             AND NOT EXISTS (SELECT 1 FROM promises p WHERE p.invoice_id = i.id AND p.status = 'active' AND p.promised_until > $2) \
             AND NOT EXISTS (SELECT 1 FROM disputes d WHERE d.invoice_id = i.id AND d.status = 'open') \
             AND c.status = 'active' AND c.dunning_paused_at IS NULL \
             THEN 1 ELSE 0 END), 0) \
         FROM message_invoices mi JOIN invoices i ON i.id = mi.invoice_id \
         JOIN customers c ON c.id = i.customer_id AND c.merchant_id = i.merchant_id WHERE mi.message_id = $1",
    )
    .bind(message)
    .bind(now.0)
    .fetch_one(pool)
    .await?;
    Ok(about > 0 && still_due == 0)
}

pub async fn mark_suppressed(db: &Db, id: &str, now: UtcMillis) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE messages SET status = 'suppressed', lease_expires_at = NULL, last_error = 'no longer due', \
         sent_at = $1 WHERE id = $2",
    )
    .bind(now.0)
    .bind(id)
    .execute(db.pool())
    .await?;
    Ok(())
}
