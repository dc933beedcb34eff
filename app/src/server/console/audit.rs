//! The merchant's audit log as staff read it: who did what to which
//! customer or invoice, newest first, in the merchant's time zone.

use crate::server::repo::merchants::MerchantRow;
use crate::server::{AppError, UtcMillis};
use crate::types::AuditEntry;
use jiff::tz::TimeZone;
use sqlx::AnyPool;

pub const PER_PAGE: u32 = 50;

#[derive(sqlx::FromRow)]
struct Row {
    created_at: i64,
    actor_kind: String,
    staff: Option<String>,
    customer: Option<String>,
    action: String,
    subject_kind: Option<String>,
    subject_id: Option<String>,
    subject_customer: Option<String>,
    subject_invoice: Option<String>,
    detail: String,
    ip: Option<String>,
}

/// `limit` entries after skipping `offset`, newest first.
pub async fn entries(
    pool: &AnyPool,
    merchant: &MerchantRow,
    offset: i64,
    limit: i64,
) -> Result<Vec<AuditEntry>, AppError> {
    let zone = TimeZone::get(&merchant.time_zone).unwrap_or(TimeZone::UTC);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT a.created_at, a.actor_kind, u.name AS staff, ac.name AS customer, a.action, a.subject_kind, a.subject_id, \
         sc.name AS subject_customer, si.number AS subject_invoice, a.detail, a.ip FROM audit_log a \
         LEFT JOIN merchant_users u ON a.actor_kind = 'merchant_user' AND u.id = a.actor_id AND u.merchant_id = a.merchant_id \
         LEFT JOIN customers ac ON a.actor_kind = 'customer' AND ac.id = a.actor_id AND ac.merchant_id = a.merchant_id \
         LEFT JOIN customers sc ON a.subject_kind = 'customer' AND sc.id = a.subject_id AND sc.merchant_id = a.merchant_id \
         LEFT JOIN invoices si ON a.subject_kind = 'invoice' AND si.id = a.subject_id AND si.merchant_id = a.merchant_id \
         WHERE a.merchant_id = $1 ORDER BY a.created_at DESC, a.id DESC LIMIT $2 OFFSET $3",
    )
    .bind(merchant.id.as_str())
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let actor = match r.actor_kind.as_str() {
                "merchant_user" => format!("{} (staff)", r.staff.unwrap_or_else(|| "removed staff member".into())),
                "customer" => format!("{} (customer)", r.customer.unwrap_or_else(|| "a customer".into())),
                "api" => "API".to_string(),
                _ => "Settle".to_string(),
            };
            let subject = match (r.subject_kind.as_deref(), r.subject_customer, r.subject_invoice) {
                (Some("customer"), Some(name), _) => format!("customer {name}"),
                (Some("invoice"), _, Some(number)) => format!("invoice {number}"),
                (Some("merchant"), _, _) => "settings".to_string(),
                (Some(kind), _, _) => format!("{kind} {}", r.subject_id.unwrap_or_default()),
                (None, _, _) => String::new(),
            };
            AuditEntry {
                at: UtcMillis(r.created_at)
                    .to_timestamp()
                    .to_zoned(zone.clone())
                    .strftime("%Y-%m-%d %H:%M:%S %Z")
                    .to_string(),
                actor,
                action: r.action,
                subject,
                detail: if r.detail == "{}" { String::new() } else { r.detail },
                ip: r.ip.unwrap_or_default(),
            }
        })
        .collect())
}
