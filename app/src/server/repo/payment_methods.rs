use crate::server::ids::{CustomerId, MerchantId, PaymentMethodId};
use crate::server::UtcMillis;
use sqlx::any::AnyExecutor;
use sqlx::AnyPool;

/// A saved card as the gateway describes it: a reference, never a number.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PaymentMethodRow {
    pub id: String,
    pub gateway: String,
    pub gateway_ref: String,
    pub brand: String,
    pub last4: String,
    pub exp_month: i64,
    pub exp_year: i64,
    pub is_default: i64,
}

#[derive(Clone, Debug)]
pub struct NewPaymentMethod {
    pub gateway: String,
    pub gateway_ref: String,
    pub brand: String,
    pub last4: String,
    pub exp_month: i64,
    pub exp_year: i64,
    pub is_default: bool,
}

pub async fn insert<'c>(
    ex: impl AnyExecutor<'c>,
    merchant: &MerchantId,
    customer: &CustomerId,
    pm: &NewPaymentMethod,
    now: UtcMillis,
) -> Result<PaymentMethodId, sqlx::Error> {
    let id = PaymentMethodId::new();
    sqlx::query(
        "INSERT INTO payment_methods (id, merchant_id, customer_id, gateway, gateway_ref, brand, last4, \
         exp_month, exp_year, is_default, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
    )
    .bind(id.as_str())
    .bind(merchant.as_str())
    .bind(customer.as_str())
    .bind(&pm.gateway)
    .bind(&pm.gateway_ref)
    .bind(&pm.brand)
    .bind(&pm.last4)
    .bind(pm.exp_month)
    .bind(pm.exp_year)
    .bind(pm.is_default as i64)
    .bind(now.0)
    .execute(ex)
    .await?;
    Ok(id)
}

pub async fn list_active(
    pool: &AnyPool,
    merchant: &MerchantId,
    customer: &CustomerId,
) -> Result<Vec<PaymentMethodRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, gateway, gateway_ref, brand, last4, exp_month, exp_year, is_default FROM payment_methods \
         WHERE merchant_id = $1 AND customer_id = $2 AND status = 'active' ORDER BY is_default DESC, created_at",
    )
    .bind(merchant.as_str())
    .bind(customer.as_str())
    .fetch_all(pool)
    .await
}

/// Marks a card removed; false when it is not this customer's active card.
pub async fn detach(
    pool: &AnyPool,
    merchant: &MerchantId,
    customer: &CustomerId,
    id: &PaymentMethodId,
    now: UtcMillis,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE payment_methods SET status = 'detached', is_default = 0, updated_at = $1 \
         WHERE merchant_id = $2 AND customer_id = $3 AND id = $4 AND status = 'active'",
    )
    .bind(now.0)
    .bind(merchant.as_str())
    .bind(customer.as_str())
    .bind(id.as_str())
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// One of the customer's cards, removed or not (to name it on past payments).
pub async fn find_any(
    pool: &AnyPool,
    merchant: &MerchantId,
    customer: &CustomerId,
    id: &str,
) -> Result<Option<PaymentMethodRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, gateway, gateway_ref, brand, last4, exp_month, exp_year, is_default FROM payment_methods \
         WHERE merchant_id = $1 AND customer_id = $2 AND id = $3",
    )
    .bind(merchant.as_str())
    .bind(customer.as_str())
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// Saves a card a finished setup produced (or refreshes it if the gateway
/// reference is known already) and makes it the default: the card the
/// customer just added is the one they expect to be used next.
pub async fn save_as_default(
    pool: &AnyPool,
    merchant: &MerchantId,
    customer: &CustomerId,
    card: &NewPaymentMethod,
    now: UtcMillis,
) -> Result<PaymentMethodId, sqlx::Error> {
    let mut tx = crate::server::db::begin_write(pool).await?;
    let existing: Option<(String,)> = sqlx::query_as(
        "SELECT id FROM payment_methods WHERE merchant_id = $1 AND customer_id = $2 AND gateway = $3 AND gateway_ref = $4",
    )
    .bind(merchant.as_str())
    .bind(customer.as_str())
    .bind(&card.gateway)
    .bind(&card.gateway_ref)
    .fetch_optional(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE payment_methods SET is_default = 0, updated_at = $1 WHERE merchant_id = $2 AND customer_id = $3",
    )
    .bind(now.0)
    .bind(merchant.as_str())
    .bind(customer.as_str())
    .execute(&mut *tx)
    .await?;
    let id = match existing {
        Some((id,)) => {
            sqlx::query(
                "UPDATE payment_methods SET status = 'active', is_default = 1, exp_month = $1, exp_year = $2, \
                 updated_at = $3 WHERE id = $4",
            )
            .bind(card.exp_month)
            .bind(card.exp_year)
            .bind(now.0)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
            PaymentMethodId::from_trusted(id)
        }
        None => {
            insert(&mut *tx, merchant, customer, &NewPaymentMethod { is_default: true, ..card.clone() }, now).await?
        }
    };
    tx.commit().await?;
    Ok(id)
}

/// Makes one of the customer's active cards the default; false if it isn't theirs.
pub async fn make_default(
    pool: &AnyPool,
    merchant: &MerchantId,
    customer: &CustomerId,
    id: &PaymentMethodId,
    now: UtcMillis,
) -> Result<bool, sqlx::Error> {
    let mut tx = crate::server::db::begin_write(pool).await?;
    let owned: Option<(String,)> = sqlx::query_as(
        "SELECT id FROM payment_methods WHERE merchant_id = $1 AND customer_id = $2 AND id = $3 AND status = 'active'",
    )
    .bind(merchant.as_str())
    .bind(customer.as_str())
    .bind(id.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    if owned.is_none() {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE payment_methods SET is_default = CASE WHEN id = $1 THEN 1 ELSE 0 END, updated_at = $2 \
         WHERE merchant_id = $3 AND customer_id = $4",
    )
    .bind(id.as_str())
    .bind(now.0)
    .bind(merchant.as_str())
    .bind(customer.as_str())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// A card updater's refreshed expiry (webhook or gateway sync).
pub async fn refresh_expiry(
    pool: &AnyPool,
    merchant: &MerchantId,
    gateway: &str,
    gateway_ref: &str,
    exp_month: i64,
    exp_year: i64,
    now: UtcMillis,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE payment_methods SET exp_month = $1, exp_year = $2, refreshed_at = $3, updated_at = $3 \
         WHERE merchant_id = $4 AND gateway = $5 AND gateway_ref = $6 AND (exp_month <> $1 OR exp_year <> $2)",
    )
    .bind(exp_month)
    .bind(exp_year)
    .bind(now.0)
    .bind(merchant.as_str())
    .bind(gateway)
    .bind(gateway_ref)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}
