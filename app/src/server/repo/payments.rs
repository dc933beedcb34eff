use crate::server::ids::{CustomerId, InvoiceId, MerchantId, PaymentId, PaymentMethodId};
use crate::server::UtcMillis;
use crate::types::Money;
use sqlx::any::AnyExecutor;
use sqlx::AnyPool;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PaymentRow {
    pub id: String,
    pub amount_minor: i64,
    pub currency: String,
    pub status: String,
    pub created_at: i64,
    pub brand: Option<String>,
    pub last4: Option<String>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AllocationRow {
    pub payment_id: String,
    pub invoice_number: String,
    pub amount_minor: i64,
}

/// A payment already settled outside the portal flow (demo data, imports).
#[allow(clippy::too_many_arguments)]
pub async fn insert_settled<'c>(
    ex: impl AnyExecutor<'c>,
    merchant: &MerchantId,
    customer: &CustomerId,
    method: Option<&PaymentMethodId>,
    amount: Money,
    gateway: &str,
    idempotency_key: &str,
    at: UtcMillis,
) -> Result<PaymentId, sqlx::Error> {
    let id = PaymentId::new();
    sqlx::query(
        "INSERT INTO payments (id, merchant_id, customer_id, payment_method_id, amount_minor, currency, status, \
         idempotency_key, gateway, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'succeeded', $7, $8, $9, $9)",
    )
    .bind(id.as_str())
    .bind(merchant.as_str())
    .bind(customer.as_str())
    .bind(method.map(|m| m.as_str().to_string()))
    .bind(amount.minor)
    .bind(amount.currency.code())
    .bind(idempotency_key)
    .bind(gateway)
    .bind(at.0)
    .execute(ex)
    .await?;
    Ok(id)
}

pub async fn allocate<'c>(
    ex: impl AnyExecutor<'c>,
    merchant: &MerchantId,
    payment: &PaymentId,
    invoice: &InvoiceId,
    amount_minor: i64,
    at: UtcMillis,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO payment_allocations (payment_id, invoice_id, merchant_id, amount_minor, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(payment.as_str())
    .bind(invoice.as_str())
    .bind(merchant.as_str())
    .bind(amount_minor)
    .bind(at.0)
    .execute(ex)
    .await?;
    Ok(())
}

const PAYMENT_SELECT: &str = "SELECT p.id, p.amount_minor, p.currency, p.status, p.created_at, pm.brand, pm.last4 \
     FROM payments p LEFT JOIN payment_methods pm ON pm.id = p.payment_method_id AND pm.merchant_id = p.merchant_id";

/// The customer's payments, newest first.
pub async fn for_customer(
    pool: &AnyPool,
    merchant: &MerchantId,
    customer: &CustomerId,
) -> Result<Vec<PaymentRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "{PAYMENT_SELECT} WHERE p.merchant_id = $1 AND p.customer_id = $2 ORDER BY p.created_at DESC, p.id DESC"
    ))
    .bind(merchant.as_str())
    .bind(customer.as_str())
    .fetch_all(pool)
    .await
}

/// Payments applied to one invoice of this customer, oldest first.
pub async fn for_invoice(
    pool: &AnyPool,
    merchant: &MerchantId,
    customer: &CustomerId,
    invoice: &InvoiceId,
) -> Result<Vec<PaymentRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "{PAYMENT_SELECT} WHERE p.merchant_id = $1 AND p.customer_id = $2 \
         AND p.id IN (SELECT payment_id FROM payment_allocations WHERE merchant_id = $1 AND invoice_id = $3) \
         ORDER BY p.created_at, p.id"
    ))
    .bind(merchant.as_str())
    .bind(customer.as_str())
    .bind(invoice.as_str())
    .fetch_all(pool)
    .await
}

/// Where each of the customer's payments went.
pub async fn allocations_for_customer(
    pool: &AnyPool,
    merchant: &MerchantId,
    customer: &CustomerId,
) -> Result<Vec<AllocationRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.payment_id, i.number AS invoice_number, a.amount_minor FROM payment_allocations a \
         JOIN invoices i ON i.id = a.invoice_id AND i.merchant_id = a.merchant_id \
         WHERE a.merchant_id = $1 AND i.customer_id = $2 ORDER BY i.due_at",
    )
    .bind(merchant.as_str())
    .bind(customer.as_str())
    .fetch_all(pool)
    .await
}
