//! Merchant-facing events (the console's alerts and funnel) and the audit log.

use crate::server::ids::{AuditId, CustomerId, EventId, InvoiceId, MerchantId};
use crate::server::UtcMillis;
use sqlx::any::AnyExecutor;

pub async fn record<'c>(
    ex: impl AnyExecutor<'c>,
    merchant: &MerchantId,
    customer: Option<&CustomerId>,
    invoice: Option<&InvoiceId>,
    kind: &str,
    detail: &serde_json::Value,
    now: UtcMillis,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO events (id, merchant_id, customer_id, invoice_id, kind, detail, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(EventId::new().as_str())
    .bind(merchant.as_str())
    .bind(customer.map(|c| c.as_str().to_string()))
    .bind(invoice.map(|i| i.as_str().to_string()))
    .bind(kind)
    .bind(detail.to_string())
    .bind(now.0)
    .execute(ex)
    .await?;
    Ok(())
}

/// Who did what, kept for the merchant. `ip`/`user_agent` when a person did it.
#[allow(clippy::too_many_arguments)]
pub async fn audit<'c>(
    ex: impl AnyExecutor<'c>,
    merchant: &MerchantId,
    actor_kind: &str,
    actor_id: Option<&str>,
    action: &str,
    subject: Option<(&str, &str)>,
    detail: &serde_json::Value,
    ip: Option<&str>,
    user_agent: Option<&str>,
    now: UtcMillis,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (id, merchant_id, actor_kind, actor_id, action, subject_kind, subject_id, detail, ip, \
         user_agent, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(AuditId::new().as_str())
    .bind(merchant.as_str())
    .bind(actor_kind)
    .bind(actor_id)
    .bind(action)
    .bind(subject.map(|s| s.0.to_string()))
    .bind(subject.map(|s| s.1.to_string()))
    .bind(detail.to_string())
    .bind(ip)
    .bind(user_agent)
    .bind(now.0)
    .execute(ex)
    .await?;
    Ok(())
}
