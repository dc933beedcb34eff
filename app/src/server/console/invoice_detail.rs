//! One invoice in the console: its facts, lines, and a timeline of what
//! happened to it (reminders that covered it, payments towards it, retries,
//! promises, disputes, staff and API actions), scoped to the merchant.

use super::customer_detail::{money, when};
use crate::server::history::reason_label;
use crate::server::ids::InvoiceId;
use crate::server::repo::merchants::MerchantRow;
use crate::server::{AppError, UtcMillis};
use crate::types::{ConsoleEvent, ConsoleHeader, ConsoleInvoice, ConsoleInvoiceDetail};
use jiff::tz::TimeZone;
use sqlx::AnyPool;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

#[derive(sqlx::FromRow)]
struct Facts {
    number: String,
    customer_id: String,
    customer: String,
    status: String,
    currency: String,
    total_minor: i64,
    amount_paid_minor: i64,
    issued_at: i64,
    due_at: i64,
    memo: Option<String>,
    external_ref: Option<String>,
}

pub async fn load(
    pool: &AnyPool,
    merchant: &MerchantRow,
    header: ConsoleHeader,
    invoice: &InvoiceId,
    now: UtcMillis,
) -> Result<ConsoleInvoiceDetail, AppError> {
    let (m, i) = (merchant.id.as_str(), invoice.as_str());
    let f: Facts = sqlx::query_as(
        "SELECT i.number, i.customer_id, c.name AS customer, i.status, i.currency, i.total_minor, i.amount_paid_minor, \
         i.issued_at, i.due_at, i.memo, i.external_ref FROM invoices i \
         JOIN customers c ON c.id = i.customer_id AND c.merchant_id = i.merchant_id WHERE i.merchant_id = $1 AND i.id = $2",
    )
    .bind(m)
    .bind(i)
    .fetch_optional(pool)
    .await?
    .ok_or(AppError::NotFound)?;
    let zone = TimeZone::get(&merchant.time_zone).unwrap_or(TimeZone::UTC);
    let day = |ms: i64| UtcMillis(ms).to_timestamp().to_zoned(zone.clone()).date().strftime("%b %-d, %Y").to_string();
    let open = f.status == "open";
    let owed = if open { f.total_minor - f.amount_paid_minor } else { 0 };
    let lines: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "SELECT description, quantity, unit_minor, amount_minor FROM invoice_lines WHERE merchant_id = $1 \
         AND invoice_id = $2 ORDER BY position",
    )
    .bind(m)
    .bind(i)
    .fetch_all(pool)
    .await?;
    let lines = lines
        .into_iter()
        .map(|(d, q, u, a)| Ok((d, q, money(u, &f.currency)?, money(a, &f.currency)?)))
        .collect::<Result<Vec<_>, AppError>>()?;

    let mut out: Vec<(i64, &'static str, String, String)> = Vec::new();
    let sent: Vec<(String, Option<String>, String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT g.channel, g.subject, g.status, g.created_at, g.sent_at FROM message_invoices mi \
         JOIN messages g ON g.id = mi.message_id WHERE mi.invoice_id = $1 AND g.merchant_id = $2 ORDER BY g.created_at DESC",
    )
    .bind(i)
    .bind(m)
    .fetch_all(pool)
    .await?;
    for (channel, subject, status, created, sent_at) in sent {
        let what = if channel == "sms" { "Text" } else { "Email" };
        out.push((
            sent_at.unwrap_or(created),
            "message",
            format!("{what} {status}: {}", subject.unwrap_or_default()),
            String::new(),
        ));
    }
    let paid: Vec<(i64, String, String, i64)> = sqlx::query_as(
        "SELECT a.amount_minor, p.status, p.purpose, p.created_at FROM payment_allocations a \
         JOIN payments p ON p.id = a.payment_id AND p.merchant_id = a.merchant_id \
         WHERE a.merchant_id = $1 AND a.invoice_id = $2 ORDER BY p.created_at DESC",
    )
    .bind(m)
    .bind(i)
    .fetch_all(pool)
    .await?;
    for (amount, status, purpose, at) in paid {
        out.push((
            at,
            "payment",
            format!("Payment of {} ({purpose}): {status}", money(amount, &f.currency)?),
            String::new(),
        ));
    }
    let events: Vec<(String, i64)> = sqlx::query_as(
        "SELECT kind, created_at FROM events WHERE merchant_id = $1 AND invoice_id = $2 AND kind <> 'reminder_sent' \
         ORDER BY created_at DESC",
    )
    .bind(m)
    .bind(i)
    .fetch_all(pool)
    .await?;
    for (kind, at) in events {
        out.push((at, "dunning", kind.replace('_', " "), String::new()));
    }
    let promises: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT promised_date, status, created_at FROM promises WHERE merchant_id = $1 AND invoice_id = $2",
    )
    .bind(m)
    .bind(i)
    .fetch_all(pool)
    .await?;
    for (date, status, at) in promises {
        out.push((at, "promise", format!("Promised to pay by {date}"), status));
    }
    let disputes: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT reason, details, status, created_at FROM disputes WHERE merchant_id = $1 AND invoice_id = $2",
    )
    .bind(m)
    .bind(i)
    .fetch_all(pool)
    .await?;
    for (reason, details, status, at) in disputes {
        out.push((at, "dispute", format!("Disputed: {} ({status})", reason_label(&reason)), details));
    }
    let audit: Vec<(String, String, Option<String>, i64)> = sqlx::query_as(
        "SELECT a.action, a.actor_kind, u.name, a.created_at FROM audit_log a \
         LEFT JOIN merchant_users u ON u.id = a.actor_id AND u.merchant_id = a.merchant_id \
         WHERE a.merchant_id = $1 AND a.subject_kind = 'invoice' AND a.subject_id = $2",
    )
    .bind(m)
    .bind(i)
    .fetch_all(pool)
    .await?;
    for (action, actor, name, at) in audit {
        let by = match actor.as_str() {
            "merchant_user" => format!("by {}", name.unwrap_or_else(|| "a removed staff member".into())),
            "api" => "through the API".into(),
            "customer" => "by the customer".into(),
            _ => "by Settle".into(),
        };
        out.push((at, "staff", action.replace(['.', '_'], " "), by));
    }
    out.sort_by(|a, b| b.0.cmp(&a.0));
    let timeline = out
        .into_iter()
        .map(|(at, category, title, detail)| ConsoleEvent {
            at: when(at, &zone),
            category: category.into(),
            title,
            detail,
        })
        .collect();
    let (reminders,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM message_invoices mi JOIN messages g ON g.id = mi.message_id \
         WHERE mi.invoice_id = $1 AND g.merchant_id = $2 AND g.status = 'sent'",
    )
    .bind(i)
    .bind(m)
    .fetch_one(pool)
    .await?;
    Ok(ConsoleInvoiceDetail {
        header,
        invoice: ConsoleInvoice {
            id: i.to_string(),
            number: f.number,
            status: f.status.clone(),
            total: money(f.total_minor, &f.currency)?,
            owed: money(owed, &f.currency)?,
            due_on: day(f.due_at),
            days_overdue: (open && owed > 0 && f.due_at < now.0).then(|| (now.0 - f.due_at) / DAY_MS),
            reminders_sent: reminders,
            promise: None,
            dispute: None,
            open,
            voidable: open && f.amount_paid_minor == 0,
        },
        customer_id: f.customer_id,
        customer: f.customer,
        issued_on: day(f.issued_at),
        paid: money(f.amount_paid_minor, &f.currency)?,
        memo: f.memo,
        external_ref: f.external_ref,
        lines,
        timeline,
    })
}
