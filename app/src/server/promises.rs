//! Promise to pay and dispute: a customer who can't pay today says so, the
//! merchant is told (event + audit entry) and dunning for that invoice
//! pauses. Stored in `promises` / `disputes` for the dunning engine.

use super::history::Standing;
use super::ids::{DisputeId, InvoiceId, PromiseId};
use super::portal::{customer_zone, human_date, local_date};
use super::portal_session::PortalIdentity;
use super::repo::events;
use super::repo::merchants::MerchantRow;
use super::repo::{customers, invoices};
use super::{AppError, UtcMillis};
use jiff::civil::Date;
use serde_json::json;
use sqlx::AnyPool;

pub const REASONS: &[(&str, &str)] = &[
    ("not_received", "I didn't receive what I was billed for"),
    ("wrong_amount", "The amount is wrong"),
    ("already_paid", "I already paid this"),
    ("duplicate", "I was billed twice"),
    ("other", "Something else"),
];
pub const MAX_DETAILS: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromiseError {
    NotOverdue,
    BadDate,
    OutOfRange,
    AlreadyPromised,
    Disputed,
}

impl PromiseError {
    pub fn code(&self) -> &'static str {
        match self {
            PromiseError::NotOverdue => "not_overdue",
            PromiseError::BadDate => "bad_date",
            PromiseError::OutOfRange => "out_of_range",
            PromiseError::AlreadyPromised => "already_promised",
            PromiseError::Disputed => "disputed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisputeError {
    NotOpen,
    BadReason,
    TooLong,
    AlreadyDisputed,
}

impl DisputeError {
    pub fn code(&self) -> &'static str {
        match self {
            DisputeError::NotOpen => "not_open",
            DisputeError::BadReason => "bad_reason",
            DisputeError::TooLong => "too_long",
            DisputeError::AlreadyDisputed => "already_disputed",
        }
    }
}

/// Who made the request, for the audit log.
pub struct Requester {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// The merchant hears of it twice, in one transaction: an event (alerts,
/// funnel) and an audit entry (who, from where).
async fn tell_merchant(
    tx: &mut sqlx::AnyConnection,
    identity: &PortalIdentity,
    invoice_id: &InvoiceId,
    (event, action): (&str, &str),
    detail: &serde_json::Value,
    who: &Requester,
    now: UtcMillis,
) -> Result<(), AppError> {
    let mid = &identity.merchant_id;
    events::record(&mut *tx, mid, Some(&identity.customer_id), Some(invoice_id), event, detail, now).await?;
    events::audit(
        &mut *tx,
        mid,
        "customer",
        Some(identity.customer_id.as_str()),
        action,
        Some(("invoice", invoice_id.as_str())),
        detail,
        who.ip.as_deref(),
        who.user_agent.as_deref(),
        now,
    )
    .await?;
    Ok(())
}

pub async fn promise(
    pool: &AnyPool,
    now: UtcMillis,
    merchant: &MerchantRow,
    identity: &PortalIdentity,
    raw_invoice_id: &str,
    date_input: &str,
    who: Requester,
) -> Result<Result<String, PromiseError>, AppError> {
    if merchant.id != identity.merchant_id.as_str() {
        return Err(AppError::NotSignedIn);
    }
    let invoice_id = InvoiceId::parse(raw_invoice_id).map_err(|_| AppError::NotFound)?;
    let mid = &identity.merchant_id;
    let customer = customers::find(pool, mid, &identity.customer_id).await?.ok_or(AppError::NotSignedIn)?;
    let inv =
        invoices::find_for_customer(pool, mid, &identity.customer_id, &invoice_id).await?.ok_or(AppError::NotFound)?;
    let zone = customer_zone(&customer.time_zone, &merchant.time_zone);
    let today = local_date(now.0, &zone);
    if inv.status != "open" || local_date(inv.due_at, &zone) >= today {
        return Ok(Err(PromiseError::NotOverdue));
    }
    let standing = Standing::load(pool, mid, &invoice_id, now, &customer.locale).await?;
    if standing.dispute.is_some() {
        return Ok(Err(PromiseError::Disputed));
    }
    if standing.promise.is_some() {
        return Ok(Err(PromiseError::AlreadyPromised));
    }
    let Ok(date) = date_input.trim().parse::<Date>() else { return Ok(Err(PromiseError::BadDate)) };
    let (earliest, latest) = promise_window(today, merchant.promise_max_days);
    if date < earliest || date > latest {
        return Ok(Err(PromiseError::OutOfRange));
    }
    // The promise holds until the end of that day where the customer is.
    let next_day = date.tomorrow().map_err(AppError::internal)?;
    let until = next_day.to_zoned(zone.clone()).map_err(AppError::internal)?.timestamp().as_millisecond();
    let mut tx = crate::server::db::begin_write(pool).await?;
    let id = PromiseId::new();
    sqlx::query(
        "INSERT INTO promises (id, merchant_id, customer_id, invoice_id, promised_date, promised_until, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id.as_str())
    .bind(mid.as_str())
    .bind(identity.customer_id.as_str())
    .bind(invoice_id.as_str())
    .bind(date.to_string())
    .bind(until)
    .bind(now.0)
    .execute(&mut *tx)
    .await?;
    let detail = json!({ "promise": id.as_str(), "invoice": inv.number, "date": date.to_string() });
    tell_merchant(&mut tx, identity, &invoice_id, ("promise_to_pay", "invoice.promise_to_pay"), &detail, &who, now)
        .await?;
    tx.commit().await?;
    Ok(Ok(human_date(date, &customer.locale)))
}

/// Tomorrow through `max_days` from today, in the customer's calendar.
pub fn promise_window(today: Date, max_days: i64) -> (Date, Date) {
    let earliest = today.tomorrow().unwrap_or(today);
    let latest = today.checked_add(jiff::Span::new().days(max_days.clamp(1, 90))).unwrap_or(today);
    (earliest, latest)
}

#[allow(clippy::too_many_arguments)]
pub async fn dispute(
    pool: &AnyPool,
    now: UtcMillis,
    merchant: &MerchantRow,
    identity: &PortalIdentity,
    raw_invoice_id: &str,
    reason: &str,
    details: &str,
    who: Requester,
) -> Result<Result<(), DisputeError>, AppError> {
    if merchant.id != identity.merchant_id.as_str() {
        return Err(AppError::NotSignedIn);
    }
    let invoice_id = InvoiceId::parse(raw_invoice_id).map_err(|_| AppError::NotFound)?;
    let mid = &identity.merchant_id;
    let inv =
        invoices::find_for_customer(pool, mid, &identity.customer_id, &invoice_id).await?.ok_or(AppError::NotFound)?;
    if inv.status != "open" {
        return Ok(Err(DisputeError::NotOpen));
    }
    if !REASONS.iter().any(|(code, _)| *code == reason) {
        return Ok(Err(DisputeError::BadReason));
    }
    let details = details.trim();
    if details.chars().count() > MAX_DETAILS {
        return Ok(Err(DisputeError::TooLong));
    }
    // Only whether a dispute is open matters here, not how dates read.
    if Standing::load(pool, mid, &invoice_id, now, "en-US").await?.dispute.is_some() {
        return Ok(Err(DisputeError::AlreadyDisputed));
    }
    let mut tx = crate::server::db::begin_write(pool).await?;
    let id = DisputeId::new();
    sqlx::query(
        "INSERT INTO disputes (id, merchant_id, customer_id, invoice_id, reason, details, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id.as_str())
    .bind(mid.as_str())
    .bind(identity.customer_id.as_str())
    .bind(invoice_id.as_str())
    .bind(reason)
    .bind(details)
    .bind(now.0)
    .execute(&mut *tx)
    .await?;
    let detail = json!({ "dispute": id.as_str(), "invoice": inv.number, "reason": reason });
    tell_merchant(&mut tx, identity, &invoice_id, ("dispute_opened", "invoice.dispute"), &detail, &who, now).await?;
    tx.commit().await?;
    Ok(Ok(()))
}
