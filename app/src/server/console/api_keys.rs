//! REST API keys: `sk_settle_` and 22 random base64url characters (128
//! bits), shown once when made, stored as a SHA-256 hash, listed by their
//! first characters, revocable. A key belongs to one merchant.

use super::access::Action;
use super::actions::{Origin, Outcome};
use super::session::Staff;
use crate::server::db::begin_write;
use crate::server::ids::new_id_body;
use crate::server::repo::events;
use crate::server::repo::merchants::{self, MerchantRow};
use crate::server::tokens::SecretToken;
use crate::server::{AppError, UtcMillis};
use sqlx::AnyPool;

pub const KEY_PREFIX: &str = "sk_settle_";

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

pub async fn list(pool: &AnyPool, merchant: &MerchantRow) -> Result<Vec<ApiKeyRow>, AppError> {
    Ok(sqlx::query_as(
        "SELECT id, name, prefix, created_at, last_used_at, revoked_at FROM api_keys WHERE merchant_id = $1 \
         ORDER BY created_at DESC",
    )
    .bind(merchant.id.as_str())
    .fetch_all(pool)
    .await?)
}

/// Writes a new key in `tx`: `(id, secret, prefix)`. The secret exists in
/// full only in what this returns.
pub async fn issue(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    merchant: &MerchantRow,
    name: &str,
    created_by: Option<&str>,
    now: UtcMillis,
) -> Result<(String, String, String), AppError> {
    let token = SecretToken::generate();
    let secret = format!("{KEY_PREFIX}{}", token.expose());
    let prefix: String = secret.chars().take(KEY_PREFIX.len() + 4).collect();
    let id = format!("key_{}", new_id_body());
    sqlx::query(
        "INSERT INTO api_keys (id, merchant_id, name, prefix, key_hash, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(merchant.id.as_str())
    .bind(name)
    .bind(&prefix)
    .bind(token.hash())
    .bind(created_by)
    .bind(now.0)
    .execute(&mut **tx)
    .await?;
    Ok((id, secret, prefix))
}

/// Makes a key; `Ok(Ok(secret))` is the only time the secret exists in full.
pub async fn create(
    pool: &AnyPool,
    staff: &Staff,
    merchant: &MerchantRow,
    name: &str,
    origin: &Origin,
    now: UtcMillis,
) -> Result<Result<String, String>, AppError> {
    staff.require(Action::ManageIntegrations)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Ok(Err("Name the key (at most 60 characters), e.g. \"Accounting sync\".".into()));
    }
    let mut tx = begin_write(pool).await?;
    let (id, secret, prefix) = issue(&mut tx, merchant, name, Some(staff.user.id.as_str()), now).await?;
    events::audit(
        &mut *tx,
        &merchant.merchant_id(),
        "merchant_user",
        Some(staff.user.id.as_str()),
        "api_key.created",
        Some(("api_key", id.as_str())),
        &serde_json::json!({ "name": name, "prefix": prefix }),
        origin.ip.as_deref(),
        origin.user_agent.as_deref(),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(secret))
}

pub async fn revoke(
    pool: &AnyPool,
    staff: &Staff,
    merchant: &MerchantRow,
    key: &str,
    origin: &Origin,
    now: UtcMillis,
) -> Result<Outcome, AppError> {
    staff.require(Action::ManageIntegrations)?;
    let mut tx = begin_write(pool).await?;
    let row: Option<(String, Option<i64>)> =
        sqlx::query_as("SELECT name, revoked_at FROM api_keys WHERE merchant_id = $1 AND id = $2")
            .bind(merchant.id.as_str())
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((name, revoked)) = row else { return Err(AppError::NotFound) };
    if revoked.is_some() {
        return Ok(Outcome::Unchanged(format!("The key {name:?} was already revoked.")));
    }
    sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE merchant_id = $2 AND id = $3")
        .bind(now.0)
        .bind(merchant.id.as_str())
        .bind(key)
        .execute(&mut *tx)
        .await?;
    events::audit(
        &mut *tx,
        &merchant.merchant_id(),
        "merchant_user",
        Some(staff.user.id.as_str()),
        "api_key.revoked",
        Some(("api_key", key)),
        &serde_json::json!({ "name": name }),
        origin.ip.as_deref(),
        origin.user_agent.as_deref(),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Outcome::Done(format!("Revoked the key {name:?}; requests with it are refused from now on.")))
}

/// The merchant a presented key belongs to, if it is one of ours and not
/// revoked; notes when it was last used (at most once a minute).
pub async fn authenticate(
    pool: &AnyPool,
    presented: &str,
    now: UtcMillis,
) -> Result<Option<(MerchantRow, String)>, AppError> {
    let Some(body) = presented.strip_prefix(KEY_PREFIX) else { return Ok(None) };
    let Ok(token) = SecretToken::parse(body) else { return Ok(None) };
    let row: Option<(String, String, Option<i64>)> =
        sqlx::query_as("SELECT id, merchant_id, last_used_at FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL")
            .bind(token.hash())
            .fetch_optional(pool)
            .await?;
    let Some((id, merchant_id, last_used)) = row else { return Ok(None) };
    if last_used.is_none_or(|t| now.0 - t > 60_000) {
        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2").bind(now.0).bind(&id).execute(pool).await?;
    }
    let mid = crate::server::ids::MerchantId::from_trusted(merchant_id);
    Ok(merchants::find(pool, &mid).await?.map(|m| (m, id)))
}
