//! Invoice detail and payment history for the signed-in customer.

use super::ids::InvoiceId;
use super::portal::{customer_zone, human_date, local_date};
use super::portal_session::PortalIdentity;
use super::repo::merchants::MerchantRow;
use super::repo::{customers, invoices, payments};
use super::AppError;
use crate::types::{
    Currency, InvoiceDetail, InvoiceLineView, Money, PaymentHistory, PaymentView, Receipt, TimelineEntry,
};
use jiff::tz::TimeZone;
use sqlx::AnyPool;

/// Where an invoice stands beyond its status: an active promise to pay
/// (shown as its date) or an open dispute (shown as its reason).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Standing {
    pub promise: Option<String>,
    pub dispute: Option<String>,
}

impl Standing {
    pub async fn load(
        pool: &AnyPool,
        merchant: &super::ids::MerchantId,
        invoice: &InvoiceId,
        now: super::UtcMillis,
        locale: &str,
    ) -> Result<Standing, AppError> {
        let promise: Option<(String,)> = sqlx::query_as(
            "SELECT promised_date FROM promises WHERE merchant_id = $1 AND invoice_id = $2 AND status = 'active'              AND promised_until > $3 ORDER BY created_at DESC LIMIT 1",
        )
        .bind(merchant.as_str())
        .bind(invoice.as_str())
        .bind(now.0)
        .fetch_optional(pool)
        .await?;
        let dispute: Option<(String,)> = sqlx::query_as(
            "SELECT reason FROM disputes WHERE merchant_id = $1 AND invoice_id = $2 AND status = 'open' LIMIT 1",
        )
        .bind(merchant.as_str())
        .bind(invoice.as_str())
        .fetch_optional(pool)
        .await?;
        Ok(Standing {
            promise: promise.and_then(|(d,)| d.parse::<jiff::civil::Date>().ok()).map(|d| human_date(d, locale)),
            dispute: dispute.map(|(r,)| reason_label(&r).to_string()),
        })
    }
}

pub fn reason_label(code: &str) -> &'static str {
    super::promises::REASONS.iter().find(|(c, _)| *c == code).map(|(_, l)| *l).unwrap_or("Other")
}

fn money(minor: i64, currency: &str) -> Result<Money, AppError> {
    Ok(Money::new(minor, Currency::parse(currency).map_err(AppError::internal)?))
}

fn status_word(status: &str) -> &'static str {
    match status {
        "succeeded" | "external" => "Paid",
        "pending" | "processing" => "Processing",
        "requires_action" => "Needs your confirmation",
        "failed" => "Failed",
        "refunded" => "Refunded",
        "open" => "Open",
        "paid" => "Paid",
        "void" => "Void",
        "uncollectible" => "Written off",
        _ => "Unknown",
    }
}

fn method_label(p: &payments::PaymentRow) -> String {
    match (&p.brand, &p.last4) {
        (Some(brand), Some(last4)) => {
            let mut b = brand.clone();
            if let Some(first) = b.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            format!("{b} ending {last4}")
        }
        _ => "Recorded by the merchant".to_string(),
    }
}

fn payment_view(
    p: &payments::PaymentRow,
    zone: &TimeZone,
    locale: &str,
    allocations: &[payments::AllocationRow],
) -> Result<PaymentView, AppError> {
    let currency = &p.currency;
    Ok(PaymentView {
        id: p.id.clone(),
        date: human_date(local_date(p.created_at, zone), locale),
        amount: money(p.amount_minor, currency)?,
        method: method_label(p),
        status: status_word(&p.status).to_string(),
        applied_to: allocations
            .iter()
            .filter(|a| a.payment_id == p.id)
            .map(|a| Ok((a.invoice_number.clone(), money(a.amount_minor, currency)?)))
            .collect::<Result<_, AppError>>()?,
    })
}

pub async fn invoice_detail(
    pool: &AnyPool,
    now: super::UtcMillis,
    merchant: &MerchantRow,
    identity: &PortalIdentity,
    raw_id: &str,
) -> Result<InvoiceDetail, AppError> {
    let invoice_id = InvoiceId::parse(raw_id).map_err(|_| AppError::NotFound)?;
    let mid = &identity.merchant_id;
    let customer = customers::find(pool, mid, &identity.customer_id).await?.ok_or(AppError::NotSignedIn)?;
    let inv =
        invoices::find_for_customer(pool, mid, &identity.customer_id, &invoice_id).await?.ok_or(AppError::NotFound)?;
    let zone = customer_zone(&customer.time_zone, &merchant.time_zone);
    let c = &inv.currency;
    let lines = invoices::lines(pool, mid, &invoice_id)
        .await?
        .into_iter()
        .map(|l| {
            Ok(InvoiceLineView {
                description: l.description,
                quantity: l.quantity,
                unit: money(l.unit_minor, c)?,
                amount: money(l.amount_minor, c)?,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    let allocations = payments::allocations_for_customer(pool, mid, &identity.customer_id).await?;
    let payments_rows = payments::for_invoice(pool, mid, &identity.customer_id, &invoice_id).await?;
    let payments = payments_rows
        .iter()
        .map(|p| payment_view(p, &zone, &customer.locale, &allocations))
        .collect::<Result<Vec<_>, AppError>>()?;
    let standing = Standing::load(pool, mid, &invoice_id, now, &customer.locale).await?;
    let timeline = timeline(pool, mid, &inv, &payments_rows, &zone, &customer.locale).await?;
    let today = local_date(now.0, &zone);
    let overdue = inv.status == "open" && local_date(inv.due_at, &zone) < today;
    let (earliest, latest) = super::promises::promise_window(today, merchant.promise_max_days);
    Ok(InvoiceDetail {
        id: inv.id.clone(),
        can_promise: overdue && standing.promise.is_none() && standing.dispute.is_none(),
        promise_earliest: earliest.to_string(),
        promise_latest: latest.to_string(),
        can_dispute: inv.status == "open" && standing.dispute.is_none(),
        promise: standing.promise,
        dispute: standing.dispute,
        dispute_reasons: super::promises::REASONS.iter().map(|(c, l)| (c.to_string(), l.to_string())).collect(),
        branding: merchant.branding(),
        customer_name: customer.name.clone(),
        locale: customer.locale.clone(),
        number: inv.number.clone(),
        status: status_word(&inv.status).to_string(),
        issued_on: human_date(local_date(inv.issued_at, &zone), &customer.locale),
        due_on: human_date(local_date(inv.due_at, &zone), &customer.locale),
        lines,
        subtotal: money(inv.subtotal_minor, c)?,
        tax: money(inv.tax_minor, c)?,
        total: money(inv.total_minor, c)?,
        paid: money(inv.amount_paid_minor, c)?,
        amount_due: money(if inv.status == "open" { inv.total_minor - inv.amount_paid_minor } else { 0 }, c)?,
        payments,
        memo: inv.memo,
        time_zone: zone.iana_name().unwrap_or("UTC").to_string(),
        timeline,
    })
}

/// Issued, due, payments, and every merchant event about the invoice
/// (promises, disputes, and reminders once the dunning engine sends them).
async fn timeline(
    pool: &AnyPool,
    merchant: &super::ids::MerchantId,
    inv: &invoices::InvoiceFull,
    payment_rows: &[payments::PaymentRow],
    zone: &TimeZone,
    locale: &str,
) -> Result<Vec<TimelineEntry>, AppError> {
    let mut entries: Vec<(i64, String)> =
        vec![(inv.issued_at, "Invoice issued".into()), (inv.due_at, "Payment due".into())];
    for p in payment_rows {
        let amount = money(p.amount_minor, &p.currency)?.display_in(locale);
        let text = match p.status.as_str() {
            "succeeded" | "external" => format!("Payment of {amount} received"),
            "failed" => format!("Payment of {amount} failed"),
            "refunded" => format!("Payment of {amount} refunded"),
            _ => format!("Payment of {amount} started"),
        };
        entries.push((p.created_at, text));
    }
    let events: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT kind, detail, created_at FROM events WHERE merchant_id = $1 AND invoice_id = $2 ORDER BY created_at",
    )
    .bind(merchant.as_str())
    .bind(&inv.id)
    .fetch_all(pool)
    .await?;
    for (kind, detail, at) in events {
        let detail: serde_json::Value = serde_json::from_str(&detail).unwrap_or_default();
        let text = match kind.as_str() {
            "promise_to_pay" => {
                let date = detail["date"].as_str().and_then(|d| d.parse::<jiff::civil::Date>().ok());
                match date {
                    Some(d) => format!("You promised to pay by {}", human_date(d, locale)),
                    None => "You promised to pay".to_string(),
                }
            }
            "dispute_opened" => "You disputed the invoice".to_string(),
            "reminder_sent" => "Reminder sent".to_string(),
            _ => continue,
        };
        entries.push((at, text));
    }
    entries.sort_by_key(|(at, _)| *at);
    Ok(entries
        .into_iter()
        .map(|(at, text)| TimelineEntry { date: human_date(local_date(at, zone), locale), text })
        .collect())
}

pub async fn payment_history(
    pool: &AnyPool,
    merchant: &MerchantRow,
    identity: &PortalIdentity,
) -> Result<PaymentHistory, AppError> {
    let mid = &identity.merchant_id;
    let customer = customers::find(pool, mid, &identity.customer_id).await?.ok_or(AppError::NotSignedIn)?;
    let zone = customer_zone(&customer.time_zone, &merchant.time_zone);
    let allocations = payments::allocations_for_customer(pool, mid, &identity.customer_id).await?;
    let payments = payments::for_customer(pool, mid, &identity.customer_id)
        .await?
        .iter()
        .map(|p| payment_view(p, &zone, &customer.locale, &allocations))
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok(PaymentHistory {
        locale: customer.locale.clone(),
        branding: merchant.branding(),
        customer_name: customer.name,
        payments,
        time_zone: zone.iana_name().unwrap_or("UTC").to_string(),
    })
}

/// One of the customer's payments as a receipt; another customer's is not found.
pub async fn receipt(
    pool: &AnyPool,
    merchant: &MerchantRow,
    identity: &PortalIdentity,
    raw_id: &str,
) -> Result<Receipt, AppError> {
    let id = super::ids::PaymentId::parse(raw_id).map_err(|_| AppError::NotFound)?;
    let mid = &identity.merchant_id;
    let customer = customers::find(pool, mid, &identity.customer_id).await?.ok_or(AppError::NotSignedIn)?;
    let zone = customer_zone(&customer.time_zone, &merchant.time_zone);
    let rows = payments::for_customer(pool, mid, &identity.customer_id).await?;
    let row = rows.iter().find(|p| p.id == id.as_str()).ok_or(AppError::NotFound)?;
    let allocations = payments::allocations_for_customer(pool, mid, &identity.customer_id).await?;
    Ok(Receipt {
        branding: merchant.branding(),
        customer_name: customer.name.clone(),
        customer_email: customer.email.clone(),
        locale: customer.locale.clone(),
        payment: payment_view(row, &zone, &customer.locale, &allocations)?,
    })
}
