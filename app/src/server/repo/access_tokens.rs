use crate::server::ids::{AccessTokenId, CustomerId, MerchantId};
use crate::server::UtcMillis;
use sqlx::any::AnyExecutor;
use sqlx::AnyPool;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AccessTokenRow {
    pub id: String,
    pub customer_id: String,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenPurpose {
    AccessLink,
}

impl TokenPurpose {
    fn as_str(&self) -> &'static str {
        match self {
            TokenPurpose::AccessLink => "access_link",
        }
    }
}

pub async fn insert<'c>(
    ex: impl AnyExecutor<'c>,
    merchant: &MerchantId,
    customer: &CustomerId,
    token_hash: &str,
    purpose: TokenPurpose,
    now: UtcMillis,
    expires_at: UtcMillis,
) -> Result<AccessTokenId, sqlx::Error> {
    let id = AccessTokenId::new();
    sqlx::query(
        "INSERT INTO access_tokens (id, merchant_id, customer_id, token_hash, purpose, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id.as_str())
    .bind(merchant.as_str())
    .bind(customer.as_str())
    .bind(token_hash)
    .bind(purpose.as_str())
    .bind(now.0)
    .bind(expires_at.0)
    .execute(ex)
    .await?;
    Ok(id)
}

/// Looks a token up within one merchant only: a token of merchant X is
/// simply unknown in merchant Y's portal.
pub async fn find_by_hash(
    pool: &AnyPool,
    merchant: &MerchantId,
    token_hash: &str,
) -> Result<Option<AccessTokenRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, customer_id, expires_at, revoked_at FROM access_tokens \
         WHERE merchant_id = $1 AND token_hash = $2 AND purpose = 'access_link'",
    )
    .bind(merchant.as_str())
    .bind(token_hash)
    .fetch_optional(pool)
    .await
}

/// Counts a sign-in through the link (shown on the merchant's timeline later).
pub async fn record_use(pool: &AnyPool, merchant: &MerchantId, id: &str, now: UtcMillis) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE access_tokens SET last_used_at = $1, use_count = use_count + 1 WHERE merchant_id = $2 AND id = $3",
    )
    .bind(now.0)
    .bind(merchant.as_str())
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}
