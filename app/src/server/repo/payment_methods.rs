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
