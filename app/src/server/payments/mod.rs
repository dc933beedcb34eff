//! Paying invoices through the merchant's gateway. The rules that keep money
//! safe live here:
//! - a payment row with its idempotency key is written before the gateway is
//!   called, and the gateway gets that same key, so a retry replays instead
//!   of charging twice;
//! - at most one payment per customer is undecided at a time (a unique
//!   index), so two tabs or fifty concurrent requests make one charge;
//! - an unclear answer (timeout, lost response) leaves the payment
//!   `unknown`, and it is settled by asking the gateway, never by charging
//!   under a new key;
//! - a decision is applied once: only the request, webhook or reconciler
//!   that moves the payment out of flight applies its effects.

pub mod autopay;
pub mod plan;
mod receipt_email;
pub mod reconcile;
pub mod retries;

use super::gateway::{ChargeOutcome, ChargeRequest, CustomerInfo, DeclineKind, GatewayError, PaymentGateway};
use super::ids::{CustomerId, InvoiceId, MerchantId, PaymentMethodId};
use super::portal_session::PortalIdentity;
use super::repo::merchants::MerchantRow;
use super::repo::payment_methods::PaymentMethodRow;
use super::repo::payments::{self as payment_repo, InsertPaymentError, NewPayment, PaymentRecord, StatusChange};
use super::repo::{customers, events, invoices, payment_methods};
use super::{AppError, AppState, UtcMillis};
use plan::{PaymentPlan, PlanError};

/// What the confirmation form sends back.
#[derive(Clone, Debug)]
pub struct PayRequest {
    pub invoice_ids: Vec<String>,
    /// A partial amount in minor units; `None` pays everything selected.
    pub amount_minor: Option<i64>,
    pub card_id: String,
    /// Generated when the confirmation page was shown: a double click, a
    /// reload or a client retry of that page carries the same one.
    pub attempt: String,
    /// The total the customer saw and confirmed.
    pub confirmed_total_minor: i64,
}

/// Where a payment stands, as the customer is told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PayResult {
    Succeeded {
        payment_id: String,
    },
    RequiresAction {
        payment_id: String,
    },
    Declined {
        payment_id: String,
        message: String,
        hard: bool,
    },
    /// Undecided (the gateway's answer was lost or is pending): it is being
    /// confirmed; nothing will be charged again.
    Processing {
        payment_id: String,
    },
}

impl PayResult {
    pub fn payment_id(&self) -> &str {
        match self {
            PayResult::Succeeded { payment_id }
            | PayResult::RequiresAction { payment_id }
            | PayResult::Declined { payment_id, .. }
            | PayResult::Processing { payment_id } => payment_id,
        }
    }
}

/// Why a payment was not started; nothing was charged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PayRefusal {
    #[error("{0}")]
    Plan(PlanError),
    #[error("The amounts due changed since you reviewed them. Please check the new total and confirm again.")]
    AmountsChanged,
    #[error("Choose a saved card, or add one.")]
    NoCard,
    #[error("That card has expired. Add a new card or choose another one.")]
    CardExpired,
    /// Another payment of this customer is undecided.
    #[error("Another payment is in progress. Wait for it to finish before paying again.")]
    InFlight { payment_id: String },
    #[error("This payment form has expired. Please review your payment again.")]
    BadAttempt,
    #[error("Payments are not available right now. Please try again later or contact us.")]
    GatewayUnavailable,
}

impl PayRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            PayRefusal::Plan(e) => e.code(),
            PayRefusal::AmountsChanged => "changed",
            PayRefusal::NoCard => "no_card",
            PayRefusal::CardExpired => "card_expired",
            PayRefusal::InFlight { .. } => "in_flight",
            PayRefusal::BadAttempt => "attempt",
            PayRefusal::GatewayUnavailable => "unavailable",
        }
    }
}

/// The same for the first request and any resend: the gateway compares a
/// repeated idempotency key's parameters.
pub(crate) fn charge_description(payment_id: &str) -> String {
    format!("Settle payment {payment_id}")
}

/// An attempt token: what the page generated, nothing else.
pub fn valid_attempt(s: &str) -> bool {
    (16..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Keys are per customer, so one customer can never replay another's.
fn portal_key(customer: &CustomerId, attempt: &str) -> String {
    format!("portal:{customer}:{attempt}")
}

/// Whether a card's expiry month has passed on `today` (year, month).
pub fn card_expired(card: &PaymentMethodRow, today: (i64, i64)) -> bool {
    (card.exp_year, card.exp_month) < today
}

/// Today's date in UTC: card expiry is a calendar month, and a day's
/// difference at the month's edge is within what networks accept.
pub(crate) fn portal_today(now: UtcMillis) -> jiff::civil::Date {
    super::portal::local_date(now.0, &jiff::tz::TimeZone::UTC)
}

pub(crate) fn this_month(now: UtcMillis) -> (i64, i64) {
    let d = portal_today(now);
    (d.year() as i64, d.month() as i64)
}

/// The plan for the customer's selection, from today's balances.
pub async fn plan_for(
    state: &AppState,
    identity: &PortalIdentity,
    invoice_ids: &[String],
    amount_minor: Option<i64>,
) -> Result<Result<PaymentPlan, PlanError>, AppError> {
    let open = invoices::open_for_customer(state.db.pool(), &identity.merchant_id, &identity.customer_id).await?;
    Ok(plan::plan(&open, invoice_ids, amount_minor))
}

/// The gateway customer for ours, created on first use and remembered.
pub(crate) async fn gateway_customer(
    state: &AppState,
    gateway: &dyn PaymentGateway,
    merchant: &MerchantId,
    customer: &CustomerId,
) -> Result<String, AppError> {
    let pool = state.db.pool();
    let existing = customers::gateway_customer_ref(pool, merchant, customer).await?;
    if let Some(existing) = existing.as_deref().filter(|r| gateway.kind().owns_customer_ref(r)) {
        return Ok(existing.to_string());
    }
    let row = customers::find(pool, merchant, customer).await?.ok_or(AppError::NotFound)?;
    let info = CustomerInfo { id: row.id.clone(), name: row.name.clone(), email: row.email.clone() };
    let created =
        gateway.ensure_customer(&info, None).await.map_err(|e| AppError::internal(format!("gateway: {e}")))?;
    customers::set_gateway_customer_ref(pool, merchant, customer, &created, state.clock.now()).await?;
    Ok(created)
}

pub async fn gateway_customer_ref_of(
    state: &AppState,
    gateway: &dyn PaymentGateway,
    identity: &PortalIdentity,
) -> Result<String, AppError> {
    gateway_customer(state, gateway, &identity.merchant_id, &identity.customer_id).await
}

/// Pays the confirmed selection with the chosen card (the customer is present).
pub async fn pay(
    state: &AppState,
    merchant: &MerchantRow,
    identity: &PortalIdentity,
    request: &PayRequest,
) -> Result<Result<PayResult, PayRefusal>, AppError> {
    if !valid_attempt(&request.attempt) {
        return Ok(Err(PayRefusal::BadAttempt));
    }
    let pool = state.db.pool();
    let now = state.clock.now();
    let key = portal_key(&identity.customer_id, &request.attempt);
    // A repeat of a request already made (double click, reload, retry):
    // answer with that payment, whatever this request says.
    if let Some(existing) = payment_repo::find_by_key(pool, &identity.merchant_id, &key).await? {
        return Ok(Ok(result_of(&existing)));
    }
    let Some(gateway) = state.gateways.get(&merchant.gateway) else {
        return Ok(Err(PayRefusal::GatewayUnavailable));
    };
    let plan = match plan_for(state, identity, &request.invoice_ids, request.amount_minor).await? {
        Ok(plan) => plan,
        Err(e) => return Ok(Err(PayRefusal::Plan(e))),
    };
    if plan.total.minor != request.confirmed_total_minor {
        return Ok(Err(PayRefusal::AmountsChanged));
    }
    let Ok(card_id) = PaymentMethodId::parse(&request.card_id) else { return Ok(Err(PayRefusal::NoCard)) };
    let cards = payment_methods::list_active(pool, &identity.merchant_id, &identity.customer_id).await?;
    let Some(card) = cards.into_iter().find(|c| c.id == card_id.as_str() && c.gateway == merchant.gateway) else {
        return Ok(Err(PayRefusal::NoCard));
    };
    if card_expired(&card, this_month(now)) {
        return Ok(Err(PayRefusal::CardExpired));
    }
    let customer_ref = gateway_customer(state, gateway.as_ref(), &identity.merchant_id, &identity.customer_id).await?;

    // The row (and what it pays for) is in the database before the gateway
    // hears of it.
    let new = NewPayment {
        merchant: &identity.merchant_id,
        customer: &identity.customer_id,
        method: &card_id,
        amount: plan.total,
        idempotency_key: &key,
        gateway: &merchant.gateway,
        off_session: false,
        purpose: "portal",
    };
    let payment_id = match write_payment(state, &new, &plan, now).await? {
        Ok(id) => id,
        Err(InsertPaymentError::DuplicateKey) => {
            let existing =
                payment_repo::find_by_key(pool, &identity.merchant_id, &key).await?.ok_or(AppError::NotFound)?;
            return Ok(Ok(result_of(&existing)));
        }
        Err(InsertPaymentError::InFlight) => {
            let other =
                payment_repo::in_flight_for_customer(pool, &identity.merchant_id, &identity.customer_id).await?;
            return Ok(Err(PayRefusal::InFlight { payment_id: other.map(|p| p.id).unwrap_or_default() }));
        }
        Err(InsertPaymentError::StaleBalances) => return Ok(Err(PayRefusal::AmountsChanged)),
        Err(InsertPaymentError::Db(e)) => return Err(e.into()),
    };
    tracing::info!(payment = %payment_id, customer = %identity.customer_id, amount = plan.total.minor, "payment started");
    let request = ChargeRequest {
        customer_ref,
        card_ref: card.gateway_ref.clone(),
        amount: plan.total,
        idempotency_key: key,
        off_session: false,
        payment_id: payment_id.clone(),
        description: charge_description(&payment_id),
    };
    charge_and_settle(state, gateway.as_ref(), &identity.merchant_id, &payment_id, &request).await.map(Ok)
}

/// Writes the pending payment and its planned allocations in one transaction.
/// The balances the plan was made from are checked again inside it, after
/// the insert has taken the customer's one in-flight slot: a payment decided
/// between planning and writing (another tab) makes this one stale instead
/// of paying the same invoices twice.
pub async fn write_payment(
    state: &AppState,
    new: &NewPayment<'_>,
    plan: &PaymentPlan,
    now: UtcMillis,
) -> Result<Result<String, InsertPaymentError>, AppError> {
    let mut tx = super::db::begin_write(state.db.pool()).await?;
    let id = match payment_repo::insert_pending(&mut *tx, new, now).await {
        Ok(id) => id,
        Err(e) => return Ok(Err(e)),
    };
    for a in &plan.allocations {
        let owed: Option<(i64,)> = sqlx::query_as(
            "SELECT total_minor - amount_paid_minor FROM invoices \
             WHERE merchant_id = $1 AND customer_id = $2 AND id = $3 AND status = 'open'",
        )
        .bind(new.merchant.as_str())
        .bind(new.customer.as_str())
        .bind(&a.invoice_id)
        .fetch_optional(&mut *tx)
        .await?;
        if owed.map(|o| o.0) != Some(a.amount_due_minor) {
            tx.rollback().await?;
            return Ok(Err(InsertPaymentError::StaleBalances));
        }
        let invoice = InvoiceId::from_trusted(a.invoice_id.clone());
        payment_repo::allocate(&mut *tx, new.merchant, &id, &invoice, a.amount_minor, now).await?;
    }
    tx.commit().await?;
    Ok(Ok(id.as_str().to_string()))
}

/// Calls the gateway for a written payment and applies its answer.
pub(crate) async fn charge_and_settle(
    state: &AppState,
    gateway: &dyn PaymentGateway,
    merchant: &MerchantId,
    payment_id: &str,
    request: &ChargeRequest,
) -> Result<PayResult, AppError> {
    payment_repo::note_attempt(state.db.pool(), payment_id, state.clock.now()).await?;
    let outcome = match gateway.charge(request).await {
        Ok(outcome) => outcome,
        Err(e) => outcome_of_error(&e),
    };
    settle(state, merchant, payment_id, &outcome).await?;
    let record = payment_repo::find_record(state.db.pool(), merchant, payment_id).await?.ok_or(AppError::NotFound)?;
    Ok(result_of(&record))
}

/// A gateway error as an outcome: unclear answers stay undecided (and are
/// reconciled); clear refusals fail the payment with nothing charged.
pub fn outcome_of_error(e: &GatewayError) -> ChargeOutcome {
    if e.outcome_unknown() {
        tracing::warn!(error = %e, "gateway answer unclear; the payment will be reconciled");
        ChargeOutcome::Unknown { payment_ref: None, reason: e.to_string() }
    } else {
        tracing::error!(error = %e, "gateway refused the charge request");
        ChargeOutcome::Declined {
            payment_ref: None,
            code: "processing_error".into(),
            message: "The payment could not be processed. Nothing was charged.".into(),
            kind: DeclineKind::Soft,
        }
    }
}

/// Applies a gateway outcome to an in-flight payment, once: moves its status
/// and, on success, pays its invoices, tells the merchant and emails a
/// receipt, all in one transaction. An outcome for a payment already decided
/// changes nothing.
pub async fn settle(
    state: &AppState,
    merchant: &MerchantId,
    payment_id: &str,
    outcome: &ChargeOutcome,
) -> Result<bool, AppError> {
    let mut tx = super::db::begin_write(state.db.pool()).await?;
    let changed = settle_in(state, &mut tx, merchant, payment_id, outcome).await?;
    tx.commit().await?;
    Ok(changed)
}

/// `settle` inside the caller's transaction (a webhook stores its event id
/// in the same transaction as the effect).
pub async fn settle_in(
    state: &AppState,
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    merchant: &MerchantId,
    payment_id: &str,
    outcome: &ChargeOutcome,
) -> Result<bool, AppError> {
    let now = state.clock.now();
    let (status, gateway_ref, code, message, kind) = match outcome {
        ChargeOutcome::Succeeded { payment_ref } => ("succeeded", Some(payment_ref.as_str()), None, None, None),
        ChargeOutcome::RequiresAction { payment_ref } => {
            ("requires_action", Some(payment_ref.as_str()), None, None, None)
        }
        ChargeOutcome::Declined { payment_ref, code, message, kind } => (
            "failed",
            payment_ref.as_deref(),
            Some(code.as_str()),
            Some(message.as_str()),
            Some(if kind.is_hard() { "hard" } else { "soft" }),
        ),
        ChargeOutcome::Unknown { payment_ref, .. } => ("unknown", payment_ref.as_deref(), None, None, None),
    };
    // Everything is read through the transaction: a second pool connection
    // taken while it is open could wait on writers waiting on this one.
    let record = payment_repo::find_record(&mut **tx, merchant, payment_id).await?.ok_or(AppError::NotFound)?;
    if record.status == status && status != "succeeded" {
        // Same undecided state again (e.g. still requires action): just keep the reference.
        if let Some(r) = gateway_ref {
            let change = StatusChange {
                status,
                gateway_ref: Some(r),
                failure_code: None,
                failure_message: None,
                decline_kind: None,
            };
            payment_repo::change_in_flight(&mut **tx, payment_id, &change, now).await?;
        }
        return Ok(false);
    }
    let customer = CustomerId::from_trusted(record.customer_id.clone());
    let receipt_to = if status == "succeeded" {
        let m = super::repo::merchants::find(&mut **tx, merchant).await?.ok_or(AppError::NotFound)?;
        let c = customers::find(&mut **tx, merchant, &customer).await?.ok_or(AppError::NotFound)?;
        Some((m, c))
    } else {
        None
    };
    let change = StatusChange { status, gateway_ref, failure_code: code, failure_message: message, decline_kind: kind };
    if !payment_repo::change_in_flight(&mut **tx, payment_id, &change, now).await? {
        return Ok(false);
    }
    let detail = serde_json::json!({
        "payment_id": payment_id, "amount_minor": record.amount_minor, "currency": record.currency,
        "purpose": record.purpose, "code": code, "decline": kind,
    });
    match status {
        "succeeded" => {
            let mut unapplied = 0;
            for a in payment_repo::allocations_of(&mut **tx, payment_id).await? {
                let applied = invoices::apply_payment(tx, merchant, &a.invoice_id, a.amount_minor, now).await?;
                unapplied += a.amount_minor - applied;
                let invoice = InvoiceId::from_trusted(a.invoice_id.clone());
                events::record(&mut **tx, merchant, Some(&customer), Some(&invoice), "payment.succeeded", &detail, now)
                    .await?;
            }
            if unapplied > 0 {
                // Paid elsewhere meanwhile: the merchant owes a refund or a credit.
                let d = serde_json::json!({ "payment_id": payment_id, "unapplied_minor": unapplied });
                events::record(&mut **tx, merchant, Some(&customer), None, "payment.unapplied", &d, now).await?;
            }
            if let Some((m, c)) = &receipt_to {
                receipt_email::enqueue(tx, state, m, c, &record, now).await?;
            }
        }
        "failed" => {
            events::record(&mut **tx, merchant, Some(&customer), None, "payment.failed", &detail, now).await?;
        }
        _ => {}
    }
    tracing::info!(payment = %payment_id, status, code = code.unwrap_or(""), "payment settled");
    Ok(true)
}

/// How a stored payment reads to the customer.
pub fn result_of(record: &PaymentRecord) -> PayResult {
    let payment_id = record.id.clone();
    match record.status.as_str() {
        "succeeded" | "refunded" | "external" => PayResult::Succeeded { payment_id },
        "requires_action" => PayResult::RequiresAction { payment_id },
        "failed" => PayResult::Declined {
            payment_id,
            message: record.failure_message.clone().unwrap_or_else(|| "Your card was declined.".into()),
            hard: record.decline_kind.as_deref() == Some("hard"),
        },
        _ => PayResult::Processing { payment_id },
    }
}

/// The customer's payment, for the pages that follow a payment.
pub async fn customer_payment(
    state: &AppState,
    identity: &PortalIdentity,
    payment_id: &str,
) -> Result<PaymentRecord, AppError> {
    let record = payment_repo::find_record(state.db.pool(), &identity.merchant_id, payment_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if record.customer_id != identity.customer_id.as_str() {
        return Err(AppError::NotFound);
    }
    Ok(record)
}

/// After 3-D Secure in the browser (or on the sandbox's challenge page): ask
/// the gateway where the payment stands and apply it.
pub async fn refresh(state: &AppState, identity: &PortalIdentity, payment_id: &str) -> Result<PayResult, AppError> {
    let record = customer_payment(state, identity, payment_id).await?;
    let gateway = state.gateways.get(&record.gateway).ok_or_else(|| AppError::internal("gateway not configured"))?;
    if let Some(gateway_ref) = record.gateway_ref.as_deref() {
        let outcome = match gateway.fetch_payment(gateway_ref).await {
            Ok(o) => o,
            Err(e) => outcome_of_error(&e),
        };
        settle(state, &identity.merchant_id, &record.id, &outcome).await?;
    }
    let record = customer_payment(state, identity, payment_id).await?;
    Ok(result_of(&record))
}

/// Gives up on a payment waiting for authentication (the customer chose
/// another card instead): cancelled at the gateway, so it can't complete
/// later, and failed here with nothing charged. If it completed meanwhile,
/// that is what gets recorded.
pub async fn abandon(state: &AppState, identity: &PortalIdentity, payment_id: &str) -> Result<PayResult, AppError> {
    let record = customer_payment(state, identity, payment_id).await?;
    if record.status == "requires_action" {
        let gateway =
            state.gateways.get(&record.gateway).ok_or_else(|| AppError::internal("gateway not configured"))?;
        let outcome = match record.gateway_ref.as_deref() {
            Some(r) => match gateway.cancel_payment(r).await {
                Ok(o) => o,
                Err(e) => outcome_of_error(&e),
            },
            None => ChargeOutcome::Unknown { payment_ref: None, reason: "no gateway reference".into() },
        };
        settle(state, &identity.merchant_id, &record.id, &outcome).await?;
    }
    let record = customer_payment(state, identity, payment_id).await?;
    Ok(result_of(&record))
}
