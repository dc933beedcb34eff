//! One customer in the console: who they are, their invoices, and one
//! timeline of everything that happened to them (messages, link visits,
//! payments, retries, promises, disputes, consents, staff actions), every
//! query scoped to the merchant.

use crate::server::history::reason_label;
use crate::server::ids::{CustomerId, MerchantId};
use crate::server::repo::merchants::MerchantRow;
use crate::server::{AppError, UtcMillis};
use crate::types::{ConsoleEvent, ConsoleHeader, ConsoleInvoice, Currency, CustomerDetail, Money};
use jiff::tz::TimeZone;
use sqlx::AnyPool;
use std::collections::HashMap;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// The timeline keeps this many of the newest entries.
const TIMELINE_LEN: usize = 200;

/// Staff read times in the merchant's zone.
pub(crate) fn when(ms: i64, zone: &TimeZone) -> String {
    let t = UtcMillis(ms).to_timestamp().to_zoned(zone.clone());
    t.strftime("%b %-d, %Y, %-I:%M %p %Z").to_string()
}

pub(crate) fn money(minor: i64, currency: &str) -> Result<String, AppError> {
    Ok(Money::new(minor, Currency::parse(currency).map_err(AppError::internal)?).display_in("en-US"))
}

#[derive(sqlx::FromRow)]
struct CustomerFacts {
    name: String,
    email: String,
    phone: Option<String>,
    time_zone: String,
    locale: String,
    status: String,
    autopay_enabled: i64,
    email_opt_out: i64,
    sms_opt_out: i64,
    dunning_paused_at: Option<i64>,
}

pub async fn load(
    pool: &AnyPool,
    merchant: &MerchantRow,
    header: ConsoleHeader,
    customer: &CustomerId,
    now: UtcMillis,
) -> Result<CustomerDetail, AppError> {
    let mid = merchant.merchant_id();
    let facts: CustomerFacts = sqlx::query_as(
        "SELECT name, email, phone, time_zone, locale, status, autopay_enabled, email_opt_out, sms_opt_out, \
         dunning_paused_at FROM customers WHERE merchant_id = $1 AND id = $2",
    )
    .bind(mid.as_str())
    .bind(customer.as_str())
    .fetch_optional(pool)
    .await?
    .ok_or(AppError::NotFound)?;
    let zone = TimeZone::get(&merchant.time_zone).unwrap_or(TimeZone::UTC);
    let cards: Vec<(String, String, i64, i64, i64)> = sqlx::query_as(
        "SELECT brand, last4, exp_month, exp_year, is_default FROM payment_methods \
         WHERE merchant_id = $1 AND customer_id = $2 AND status = 'active' ORDER BY is_default DESC, created_at DESC",
    )
    .bind(mid.as_str())
    .bind(customer.as_str())
    .fetch_all(pool)
    .await?;
    let cards = cards
        .into_iter()
        .map(|(brand, last4, m, y, default)| {
            let mut s = format!("{} •••• {last4}, expires {m:02}/{y}", capitalise(&brand));
            if default != 0 {
                s.push_str(" (default)");
            }
            s
        })
        .collect();
    Ok(CustomerDetail {
        header,
        id: customer.as_str().to_string(),
        invoices: invoices(pool, &mid, customer, now, &zone).await?,
        timeline: timeline(pool, &mid, customer, &zone).await?,
        name: facts.name,
        email: facts.email,
        phone: facts.phone,
        time_zone: facts.time_zone,
        locale: facts.locale,
        status: facts.status,
        autopay: facts.autopay_enabled != 0,
        paused_since: facts.dunning_paused_at.map(|at| when(at, &zone)),
        email_opt_out: facts.email_opt_out != 0,
        sms_opt_out: facts.sms_opt_out != 0,
        cards,
        notice: None,
    })
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

async fn invoices(
    pool: &AnyPool,
    mid: &MerchantId,
    customer: &CustomerId,
    now: UtcMillis,
    zone: &TimeZone,
) -> Result<Vec<ConsoleInvoice>, AppError> {
    let rows: Vec<(String, String, String, i64, i64, String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT id, number, status, total_minor, amount_paid_minor, currency, due_at, dunning_step FROM invoices \
         WHERE merchant_id = $1 AND customer_id = $2 ORDER BY due_at DESC, number LIMIT 200",
    )
    .bind(mid.as_str())
    .bind(customer.as_str())
    .fetch_all(pool)
    .await?;
    let promises: HashMap<String, String> = sqlx::query_as::<_, (String, String)>(
        "SELECT invoice_id, promised_date FROM promises WHERE merchant_id = $1 AND customer_id = $2 \
         AND status = 'active' AND promised_until > $3",
    )
    .bind(mid.as_str())
    .bind(customer.as_str())
    .bind(now.0)
    .fetch_all(pool)
    .await?
    .into_iter()
    .collect();
    let disputes: HashMap<String, String> = sqlx::query_as::<_, (String, String)>(
        "SELECT invoice_id, reason FROM disputes WHERE merchant_id = $1 AND customer_id = $2 AND status = 'open'",
    )
    .bind(mid.as_str())
    .bind(customer.as_str())
    .fetch_all(pool)
    .await?
    .into_iter()
    .collect();
    let sent: HashMap<String, i64> = sqlx::query_as::<_, (String, i64)>(
        "SELECT mi.invoice_id, COUNT(*) FROM message_invoices mi JOIN messages m ON m.id = mi.message_id \
         WHERE m.merchant_id = $1 AND m.customer_id = $2 AND m.status = 'sent' GROUP BY mi.invoice_id",
    )
    .bind(mid.as_str())
    .bind(customer.as_str())
    .fetch_all(pool)
    .await?
    .into_iter()
    .collect();
    rows.into_iter()
        .map(|(id, number, status, total, paid, currency, due_at, _step)| {
            let open = status == "open";
            let owed = if open { total - paid } else { 0 };
            let date = UtcMillis(due_at).to_timestamp().to_zoned(zone.clone()).date();
            Ok(ConsoleInvoice {
                number,
                total: money(total, &currency)?,
                owed: money(owed, &currency)?,
                due_on: date.strftime("%b %-d, %Y").to_string(),
                days_overdue: (open && owed > 0 && due_at < now.0).then(|| (now.0 - due_at) / DAY_MS),
                reminders_sent: sent.get(&id).copied().unwrap_or(0),
                promise: promises.get(&id).cloned(),
                dispute: disputes.get(&id).map(|r| reason_label(r).to_string()),
                open,
                voidable: open && paid == 0,
                status,
                id,
            })
        })
        .collect()
}

struct Entry {
    at: i64,
    category: &'static str,
    title: String,
    detail: String,
}

async fn timeline(
    pool: &AnyPool,
    mid: &MerchantId,
    customer: &CustomerId,
    zone: &TimeZone,
) -> Result<Vec<ConsoleEvent>, AppError> {
    let (m, c) = (mid.as_str(), customer.as_str());
    let mut out: Vec<Entry> = Vec::new();

    let messages: Vec<(String, Option<String>, String, String, i64, Option<i64>, Option<String>)> = sqlx::query_as(
        "SELECT channel, subject, template_key, status, created_at, sent_at, last_error FROM messages \
         WHERE merchant_id = $1 AND customer_id = $2 ORDER BY created_at DESC LIMIT 200",
    )
    .bind(m)
    .bind(c)
    .fetch_all(pool)
    .await?;
    for (channel, subject, template, status, created, sent, error) in messages {
        let what = if channel == "sms" { "Text" } else { "Email" };
        let subject = subject.filter(|s| !s.is_empty()).unwrap_or_else(|| template.clone());
        let (title, detail) = match status.as_str() {
            "sent" => (format!("{what} sent: {subject}"), template),
            "suppressed" => (format!("{what} not sent: {subject}"), "no longer due when its turn came".to_string()),
            "failed" => (format!("{what} failed: {subject}"), error.unwrap_or_default()),
            "kept" => (format!("{what} kept in the outbox: {subject}"), "no mail server configured".to_string()),
            _ => (format!("{what} queued: {subject}"), template),
        };
        out.push(Entry { at: sent.unwrap_or(created), category: "message", title, detail });
    }

    let events: Vec<(String, String, i64, Option<String>)> = sqlx::query_as(
        "SELECT e.kind, e.detail, e.created_at, i.number FROM events e \
         LEFT JOIN invoices i ON i.id = e.invoice_id AND i.merchant_id = e.merchant_id \
         WHERE e.merchant_id = $1 AND e.customer_id = $2 \
         AND e.kind NOT IN ('reminder_sent', 'card_expiry_warning', 'paid_outside', 'invoice_voided', \
                            'customer_reinstated') \
         ORDER BY e.created_at DESC LIMIT 200",
    )
    .bind(m)
    .bind(c)
    .fetch_all(pool)
    .await?;
    for (kind, detail, at, number) in events {
        let detail: serde_json::Value = serde_json::from_str(&detail).unwrap_or_default();
        if kind == "customer_suspended" && detail["by"] == "staff" {
            continue; // the audit entry below says who
        }
        let on = number.map(|n| format!(" on {n}")).unwrap_or_default();
        let (category, title) = match kind.as_str() {
            "retry_scheduled" => ("retry", format!("Card retry scheduled{on}")),
            "retry_attempted" => {
                ("retry", format!("Card retry{on}: {}", detail["outcome"].as_str().unwrap_or("tried")))
            }
            "payment_recovered" => ("payment", format!("Payment recovered{on}")),
            "late_fee_added" => ("dunning", format!("Late fee added{on}")),
            "customer_suspended" => ("dunning", "Suspended by the dunning policy".to_string()),
            "sent_to_collections" => ("dunning", format!("Marked for collections{on}")),
            "written_off" => ("dunning", format!("Written off{on}")),
            other => ("dunning", format!("{}{on}", other.replace('_', " "))),
        };
        out.push(Entry { at, category, title, detail: String::new() });
    }

    let payments: Vec<(i64, String, String, i64, Option<String>)> = sqlx::query_as(
        "SELECT amount_minor, currency, status, created_at, failure_message FROM payments \
         WHERE merchant_id = $1 AND customer_id = $2 AND status <> 'external' ORDER BY created_at DESC LIMIT 200",
    )
    .bind(m)
    .bind(c)
    .fetch_all(pool)
    .await?;
    for (amount, currency, status, at, failure) in payments {
        let amount = money(amount, &currency)?;
        let title = match status.as_str() {
            "succeeded" => format!("Paid {amount}"),
            "failed" => format!("Payment of {amount} failed"),
            "refunded" => format!("Payment of {amount} refunded"),
            other => format!("Payment of {amount}: {}", other.replace('_', " ")),
        };
        out.push(Entry { at, category: "payment", title, detail: failure.unwrap_or_default() });
    }

    let promises: Vec<(String, String, i64, String)> = sqlx::query_as(
        "SELECT p.promised_date, p.status, p.created_at, i.number FROM promises p \
         JOIN invoices i ON i.id = p.invoice_id AND i.merchant_id = p.merchant_id \
         WHERE p.merchant_id = $1 AND p.customer_id = $2 ORDER BY p.created_at DESC LIMIT 100",
    )
    .bind(m)
    .bind(c)
    .fetch_all(pool)
    .await?;
    for (date, status, at, number) in promises {
        out.push(Entry {
            at,
            category: "promise",
            title: format!("Promised to pay {number} by {date}"),
            detail: status,
        });
    }

    let disputes: Vec<(String, String, String, i64, String)> = sqlx::query_as(
        "SELECT d.reason, d.details, d.status, d.created_at, i.number FROM disputes d \
         JOIN invoices i ON i.id = d.invoice_id AND i.merchant_id = d.merchant_id \
         WHERE d.merchant_id = $1 AND d.customer_id = $2 ORDER BY d.created_at DESC LIMIT 100",
    )
    .bind(m)
    .bind(c)
    .fetch_all(pool)
    .await?;
    for (reason, details, status, at, number) in disputes {
        out.push(Entry {
            at,
            category: "dispute",
            title: format!("Disputed {number}: {} ({status})", reason_label(&reason)),
            detail: details,
        });
    }

    let links: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT last_used_at, use_count FROM access_tokens WHERE merchant_id = $1 AND customer_id = $2 \
         AND last_used_at IS NOT NULL ORDER BY last_used_at DESC LIMIT 50",
    )
    .bind(m)
    .bind(c)
    .fetch_all(pool)
    .await?;
    for (at, uses) in links {
        let times = if uses == 1 { "once".to_string() } else { format!("{uses} times") };
        out.push(Entry {
            at,
            category: "link",
            title: "Opened an account link".into(),
            detail: format!("used {times}"),
        });
    }

    // Consents and changes the customer made, and what staff did.
    let audit: Vec<(String, Option<String>, String, String, i64, Option<String>)> = sqlx::query_as(
        "SELECT a.actor_kind, u.name, a.action, a.detail, a.created_at, i.number FROM audit_log a \
         LEFT JOIN merchant_users u ON u.id = a.actor_id AND u.merchant_id = a.merchant_id \
         LEFT JOIN invoices i ON a.subject_kind = 'invoice' AND i.id = a.subject_id AND i.merchant_id = a.merchant_id \
         WHERE a.merchant_id = $1 AND ((a.subject_kind = 'customer' AND a.subject_id = $2) \
              OR (a.actor_kind = 'customer' AND a.actor_id = $2) OR i.customer_id = $2) \
         ORDER BY a.created_at DESC LIMIT 200",
    )
    .bind(m)
    .bind(c)
    .fetch_all(pool)
    .await?;
    for (actor, staff, action, detail, at, number) in audit {
        let by = match actor.as_str() {
            "merchant_user" => format!("by {}", staff.unwrap_or_else(|| "a removed staff member".into())),
            "customer" => "by the customer".to_string(),
            "api" => "through the API".to_string(),
            _ => "by Settle".to_string(),
        };
        let detail: serde_json::Value = serde_json::from_str(&detail).unwrap_or_default();
        let on = number.map(|n| format!(" {n}")).unwrap_or_default();
        let title = match action.as_str() {
            "customer.dunning_paused" => "Reminders paused".to_string(),
            "customer.dunning_resumed" => "Reminders resumed".to_string(),
            "customer.suspended" => "Suspended".to_string(),
            "customer.reinstated" => "Reinstated".to_string(),
            "customer.link_sent" => "Account link emailed".to_string(),
            "invoice.marked_paid" => format!("Marked{on} paid outside Settle"),
            "invoice.voided" => format!("Voided{on}"),
            other => other.replace(['.', '_'], " "),
        };
        let reference = detail["reference"].as_str().filter(|r| !r.is_empty()).map(|r| format!(" · reference {r}"));
        let category = if actor == "merchant_user" { "staff" } else { "customer" };
        out.push(Entry { at, category, title, detail: format!("{by}{}", reference.unwrap_or_default()) });
    }

    out.sort_by(|a, b| b.at.cmp(&a.at));
    out.truncate(TIMELINE_LEN);
    Ok(out
        .into_iter()
        .map(|e| ConsoleEvent { at: when(e.at, zone), category: e.category.into(), title: e.title, detail: e.detail })
        .collect())
}
