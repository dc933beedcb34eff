use crate::server::ids::{CustomerId, MerchantId};
use crate::server::UtcMillis;
use sqlx::AnyPool;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ChallengeRow {
    pub id: String,
    pub customer_id: String,
    pub code_hash: String,
    pub expires_at: i64,
    pub attempts: i64,
    pub consumed_at: Option<i64>,
}

const COLUMNS: &str = "id, customer_id, code_hash, expires_at, attempts, consumed_at";

#[allow(clippy::too_many_arguments)]
pub async fn insert(
    pool: &AnyPool,
    id: &str,
    merchant: &MerchantId,
    customer: &CustomerId,
    code_hash: &str,
    link_hash: &str,
    now: UtcMillis,
    expires_at: UtcMillis,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sign_in_challenges (id, merchant_id, customer_id, code_hash, link_hash, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(merchant.as_str())
    .bind(customer.as_str())
    .bind(code_hash)
    .bind(link_hash)
    .bind(now.0)
    .bind(expires_at.0)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn find(pool: &AnyPool, merchant: &MerchantId, id: &str) -> Result<Option<ChallengeRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM sign_in_challenges WHERE merchant_id = $1 AND id = $2"))
        .bind(merchant.as_str())
        .bind(id)
        .fetch_optional(pool)
        .await
}

pub async fn find_by_link(
    pool: &AnyPool,
    merchant: &MerchantId,
    link_hash: &str,
) -> Result<Option<ChallengeRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM sign_in_challenges WHERE merchant_id = $1 AND link_hash = $2"))
        .bind(merchant.as_str())
        .bind(link_hash)
        .fetch_optional(pool)
        .await
}

/// Counts a wrong code; returns the attempts so far. Conditional on the
/// challenge still being open, so concurrent guesses cannot exceed the limit.
pub async fn record_failed_attempt(pool: &AnyPool, id: &str) -> Result<i64, sqlx::Error> {
    let (attempts,): (i64,) =
        sqlx::query_as("UPDATE sign_in_challenges SET attempts = attempts + 1 WHERE id = $1 RETURNING attempts")
            .bind(id)
            .fetch_one(pool)
            .await?;
    Ok(attempts)
}

/// Marks the challenge used; false if it was already used (two tabs racing).
pub async fn consume(pool: &AnyPool, id: &str, max_attempts: i64, now: UtcMillis) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE sign_in_challenges SET consumed_at = $1 \
         WHERE id = $2 AND consumed_at IS NULL AND attempts < $3 AND expires_at > $1",
    )
    .bind(now.0)
    .bind(id)
    .bind(max_attempts)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}
