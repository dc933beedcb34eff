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

/// Statuses of a payment whose outcome is not settled yet. At most one per
/// customer (the `payments_one_in_flight` index).
pub const IN_FLIGHT: &str = "('pending', 'processing', 'requires_action', 'unknown')";

/// A payment as the payment flow needs it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PaymentRecord {
    pub id: String,
    pub merchant_id: String,
    pub customer_id: String,
    pub payment_method_id: Option<String>,
    pub amount_minor: i64,
    pub currency: String,
    pub status: String,
    pub idempotency_key: String,
    pub gateway: String,
    pub gateway_ref: Option<String>,
    pub off_session: i64,
    pub purpose: String,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    pub decline_kind: Option<String>,
    pub gateway_attempts: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const RECORD_COLUMNS: &str = "id, merchant_id, customer_id, payment_method_id, amount_minor, currency, status, \
     idempotency_key, gateway, gateway_ref, off_session, purpose, failure_code, failure_message, decline_kind, \
     gateway_attempts, created_at, updated_at";

pub struct NewPayment<'a> {
    pub merchant: &'a MerchantId,
    pub customer: &'a CustomerId,
    pub method: &'a PaymentMethodId,
    pub amount: Money,
    pub idempotency_key: &'a str,
    pub gateway: &'a str,
    pub off_session: bool,
    pub purpose: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum InsertPaymentError {
    /// A payment with this idempotency key exists: the caller replays it.
    #[error("a payment with this idempotency key exists")]
    DuplicateKey,
    /// Another payment of this customer is still undecided.
    #[error("another payment of this customer is in flight")]
    InFlight,
    /// What the payment was planned on changed before it was written.
    #[error("the balances changed since the payment was planned")]
    StaleBalances,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Writes the payment, status `pending`, before any gateway is called.
pub async fn insert_pending<'c>(
    ex: impl AnyExecutor<'c>,
    new: &NewPayment<'_>,
    now: UtcMillis,
) -> Result<PaymentId, InsertPaymentError> {
    let id = PaymentId::new();
    let result = sqlx::query(
        "INSERT INTO payments (id, merchant_id, customer_id, payment_method_id, amount_minor, currency, status, \
         idempotency_key, gateway, off_session, purpose, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $9, $10, $11, $11)",
    )
    .bind(id.as_str())
    .bind(new.merchant.as_str())
    .bind(new.customer.as_str())
    .bind(new.method.as_str())
    .bind(new.amount.minor)
    .bind(new.amount.currency.code())
    .bind(new.idempotency_key)
    .bind(new.gateway)
    .bind(new.off_session as i64)
    .bind(new.purpose)
    .bind(now.0)
    .execute(ex)
    .await;
    match result {
        Ok(_) => Ok(id),
        Err(e) if super::unique_violation(&e, "payments_idempotency_key", "payments.idempotency_key") => {
            Err(InsertPaymentError::DuplicateKey)
        }
        Err(e) if super::unique_violation(&e, "payments_one_in_flight", "payments.customer_id") => {
            Err(InsertPaymentError::InFlight)
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn find_record<'c>(
    ex: impl AnyExecutor<'c>,
    merchant: &MerchantId,
    id: &str,
) -> Result<Option<PaymentRecord>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {RECORD_COLUMNS} FROM payments WHERE merchant_id = $1 AND id = $2"))
        .bind(merchant.as_str())
        .bind(id)
        .fetch_optional(ex)
        .await
}

pub async fn find_by_key(
    pool: &AnyPool,
    merchant: &MerchantId,
    key: &str,
) -> Result<Option<PaymentRecord>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {RECORD_COLUMNS} FROM payments WHERE merchant_id = $1 AND idempotency_key = $2"))
        .bind(merchant.as_str())
        .bind(key)
        .fetch_optional(pool)
        .await
}

pub async fn find_by_gateway_ref(
    pool: &AnyPool,
    merchant: &MerchantId,
    gateway: &str,
    gateway_ref: &str,
) -> Result<Option<PaymentRecord>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {RECORD_COLUMNS} FROM payments WHERE merchant_id = $1 AND gateway = $2 AND gateway_ref = $3"
    ))
    .bind(merchant.as_str())
    .bind(gateway)
    .bind(gateway_ref)
    .fetch_optional(pool)
    .await
}

/// The customer's undecided payment, if any.
pub async fn in_flight_for_customer(
    pool: &AnyPool,
    merchant: &MerchantId,
    customer: &CustomerId,
) -> Result<Option<PaymentRecord>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {RECORD_COLUMNS} FROM payments WHERE merchant_id = $1 AND customer_id = $2 AND status IN {IN_FLIGHT}"
    ))
    .bind(merchant.as_str())
    .bind(customer.as_str())
    .fetch_optional(pool)
    .await
}

/// Payments left undecided since before `before` (a crash, a lost answer):
/// the reconciler settles them by asking the gateway.
pub async fn stale_in_flight(pool: &AnyPool, before: UtcMillis, limit: i64) -> Result<Vec<PaymentRecord>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {RECORD_COLUMNS} FROM payments WHERE status IN ('pending', 'processing', 'unknown') \
         AND updated_at < $1 ORDER BY updated_at LIMIT $2"
    ))
    .bind(before.0)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Counts a call to the gateway (before it is made).
pub async fn note_attempt(pool: &AnyPool, id: &str, now: UtcMillis) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE payments SET gateway_attempts = gateway_attempts + 1, last_attempt_at = $1, updated_at = $1 \
         WHERE id = $2",
    )
    .bind(now.0)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

/// The new state of an in-flight payment.
pub struct StatusChange<'a> {
    pub status: &'a str,
    pub gateway_ref: Option<&'a str>,
    pub failure_code: Option<&'a str>,
    pub failure_message: Option<&'a str>,
    pub decline_kind: Option<&'a str>,
}

/// Moves a payment that is still in flight to a new state; false when it
/// was already decided (by a webhook, the reconciler or another request), so
/// the effects of a decision are applied exactly once.
pub async fn change_in_flight<'c>(
    ex: impl AnyExecutor<'c>,
    id: &str,
    change: &StatusChange<'_>,
    now: UtcMillis,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(&format!(
        "UPDATE payments SET status = $1, gateway_ref = COALESCE($2, gateway_ref), failure_code = $3, \
         failure_message = $4, decline_kind = $5, updated_at = $6 WHERE id = $7 AND status IN {IN_FLIGHT}"
    ))
    .bind(change.status)
    .bind(change.gateway_ref)
    .bind(change.failure_code)
    .bind(change.failure_message)
    .bind(change.decline_kind)
    .bind(now.0)
    .bind(id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PlannedAllocation {
    pub invoice_id: String,
    pub amount_minor: i64,
}

pub async fn allocations_of<'c>(
    ex: impl AnyExecutor<'c>,
    payment: &str,
) -> Result<Vec<PlannedAllocation>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.invoice_id, a.amount_minor FROM payment_allocations a JOIN invoices i ON i.id = a.invoice_id \
         WHERE a.payment_id = $1 ORDER BY i.due_at, i.number",
    )
    .bind(payment)
    .fetch_all(ex)
    .await
}

/// Records a refund reported by the gateway; true when it changed anything.
pub async fn set_refunded<'c>(
    ex: impl AnyExecutor<'c>,
    id: &str,
    refunded_minor: i64,
    now: UtcMillis,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE payments SET refunded_minor = $1, \
         status = CASE WHEN $1 >= amount_minor THEN 'refunded' ELSE status END, updated_at = $2 \
         WHERE id = $3 AND status IN ('succeeded', 'refunded') AND refunded_minor < $1",
    )
    .bind(refunded_minor)
    .bind(now.0)
    .bind(id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}
