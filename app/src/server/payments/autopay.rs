//! Autopay: with the customer's recorded consent, the default card is
//! charged off-session on each invoice's due date, by a job on the job
//! table. Everything is checked again just before the charge; a failure is
//! recorded and shown, and the invoice stays open for the retry schedule.

use super::plan::plan;
use super::{card_expired, charge_and_settle, charge_description, gateway_customer, write_payment, PayResult};
use crate::server::gateway::ChargeRequest;
use crate::server::ids::{CustomerId, InvoiceId, MerchantId, PaymentMethodId};
use crate::server::portal_session::PortalIdentity;
use crate::server::repo::merchants::MerchantRow;
use crate::server::repo::payments::{InsertPaymentError, NewPayment};
use crate::server::repo::{customers, events, invoices, jobs, merchants, payment_methods};
use crate::server::{AppError, AppState, UtcMillis};

pub const CHARGE_JOB: &str = "autopay_charge";
/// A silent retry of a declined autopay charge, on the policy's schedule.
pub const RETRY_JOB: &str = "autopay_retry";

/// Exactly what the customer agrees to; stored word for word with the consent.
pub fn consent_text(merchant_name: &str, card_label: &str) -> String {
    format!(
        "I authorise {merchant_name} to charge my {card_label} for each of my invoices on its due date, \
         or the card I make my default later, until I turn autopay off."
    )
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AutopayError {
    #[error("Tick the box to agree to automatic payments.")]
    NoConsent,
    #[error("Choose a card that hasn't expired, or add one.")]
    NoCard,
}

impl AutopayError {
    pub fn code(&self) -> &'static str {
        match self {
            AutopayError::NoConsent => "consent",
            AutopayError::NoCard => "card",
        }
    }
}

/// Who asked (kept with the consent).
#[derive(Clone, Debug, Default)]
pub struct ConsentOrigin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Turns autopay on with `card` (made the default) and records the consent.
pub async fn enable(
    state: &AppState,
    merchant: &MerchantRow,
    identity: &PortalIdentity,
    card_id: &str,
    agreed: bool,
    origin: &ConsentOrigin,
) -> Result<Result<(), AutopayError>, AppError> {
    if !agreed {
        return Ok(Err(AutopayError::NoConsent));
    }
    let pool = state.db.pool();
    let now = state.clock.now();
    let Ok(card_id) = PaymentMethodId::parse(card_id) else { return Ok(Err(AutopayError::NoCard)) };
    let cards = payment_methods::list_active(pool, &identity.merchant_id, &identity.customer_id).await?;
    let Some(card) = cards.into_iter().find(|c| c.id == card_id.as_str()) else {
        return Ok(Err(AutopayError::NoCard));
    };
    if card_expired(&card, super::this_month(now)) {
        return Ok(Err(AutopayError::NoCard));
    }
    let label = crate::server::settings::card_view(card.clone(), super::portal_today(now)).label;
    let text = consent_text(&merchant.display_name, &label);
    payment_methods::make_default(pool, &identity.merchant_id, &identity.customer_id, &card_id, now).await?;
    let mut tx = crate::server::db::begin_write(pool).await?;
    let detail = serde_json::json!({ "card": card_id.as_str(), "consent_text": text });
    switch(&mut tx, identity, true, &detail, origin, now).await?;
    sqlx::query(
        "INSERT INTO autopay_consents (id, merchant_id, customer_id, payment_method_id, consent_text, ip, user_agent, \
         granted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(format!("apc_{}", crate::server::ids::new_id_body()))
    .bind(identity.merchant_id.as_str())
    .bind(identity.customer_id.as_str())
    .bind(card_id.as_str())
    .bind(&text)
    .bind(&origin.ip)
    .bind(&origin.user_agent)
    .bind(now.0)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// Turns autopay off; the consent is kept, marked revoked.
pub async fn disable(state: &AppState, identity: &PortalIdentity, origin: &ConsentOrigin) -> Result<(), AppError> {
    let now = state.clock.now();
    let mut tx = crate::server::db::begin_write(state.db.pool()).await?;
    switch(&mut tx, identity, false, &serde_json::json!({}), origin, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Revokes the consent in force, sets the customer's flag, and tells the
/// merchant (event + audit entry with where the request came from).
async fn switch(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    identity: &PortalIdentity,
    on: bool,
    detail: &serde_json::Value,
    origin: &ConsentOrigin,
    now: UtcMillis,
) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE autopay_consents SET revoked_at = $1 WHERE merchant_id = $2 AND customer_id = $3 AND revoked_at IS NULL",
    )
    .bind(now.0)
    .bind(identity.merchant_id.as_str())
    .bind(identity.customer_id.as_str())
    .execute(&mut **tx)
    .await?;
    set_flag(tx, identity, on, now).await?;
    let (kind, action) =
        if on { ("autopay.enabled", "autopay.enable") } else { ("autopay.disabled", "autopay.disable") };
    let customer = Some(&identity.customer_id);
    events::record(&mut **tx, &identity.merchant_id, customer, None, kind, detail, now).await?;
    events::audit(
        &mut **tx,
        &identity.merchant_id,
        "customer",
        Some(identity.customer_id.as_str()),
        action,
        Some(("customer", identity.customer_id.as_str())),
        detail,
        origin.ip.as_deref(),
        origin.user_agent.as_deref(),
        now,
    )
    .await?;
    Ok(())
}

async fn set_flag(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    identity: &PortalIdentity,
    on: bool,
    now: UtcMillis,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE customers SET autopay_enabled = $1, updated_at = $2 WHERE merchant_id = $3 AND id = $4")
        .bind(on as i64)
        .bind(now.0)
        .bind(identity.merchant_id.as_str())
        .bind(identity.customer_id.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The consent in force: (text, granted_at).
pub async fn active_consent(
    pool: &sqlx::AnyPool,
    merchant: &MerchantId,
    customer: &CustomerId,
) -> Result<Option<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT consent_text, granted_at FROM autopay_consents WHERE merchant_id = $1 AND customer_id = $2 \
         AND revoked_at IS NULL ORDER BY granted_at DESC LIMIT 1",
    )
    .bind(merchant.as_str())
    .bind(customer.as_str())
    .fetch_optional(pool)
    .await
}

/// Queues a charge for every open invoice that has come due for customers
/// with autopay on (and consent given before the due date). The dedupe key (invoice and due date) makes each due
/// date one job, however often this runs and however many processes run it.
pub async fn schedule_due(state: &AppState) -> Result<usize, AppError> {
    let now = state.clock.now();
    let due: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT i.id, i.merchant_id, i.due_at FROM invoices i \
         JOIN customers c ON c.id = i.customer_id AND c.merchant_id = i.merchant_id \
         WHERE i.status = 'open' AND i.due_at <= $1 AND i.total_minor > i.amount_paid_minor \
         AND c.autopay_enabled = 1 AND c.status = 'active' \
         AND EXISTS (SELECT 1 FROM autopay_consents ac WHERE ac.merchant_id = i.merchant_id \
                     AND ac.customer_id = i.customer_id AND ac.revoked_at IS NULL AND ac.granted_at <= i.due_at) \
         AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.dedupe_key = 'autopay:' || i.id || ':' || CAST(i.due_at AS TEXT)) \
         ORDER BY i.due_at LIMIT 500",
    )
    .bind(now.0)
    .fetch_all(state.db.pool())
    .await?;
    let mut queued = 0;
    for (invoice, merchant, due_at) in due {
        let merchant = MerchantId::from_trusted(merchant);
        let payload = serde_json::json!({ "invoice_id": invoice, "due_at": due_at });
        let key = format!("autopay:{invoice}:{due_at}");
        if jobs::enqueue(state.db.pool(), Some(&merchant), CHARGE_JOB, &payload, &key, now, now).await?.is_some() {
            queued += 1;
        }
    }
    Ok(queued)
}

/// What one autopay job did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChargeRun {
    Charged(PayResult),
    /// Nothing to do any more (paid, voided, autopay off, …): why.
    Skipped(&'static str),
    /// Could not try now (another payment in flight): run again later.
    Later(&'static str),
}

/// Runs one autopay charge job (attempt 0 on the due date, then the
/// retries), re-checking everything first.
pub async fn run_charge(
    state: &AppState,
    merchant: &MerchantId,
    invoice_id: &str,
    due_at: i64,
    attempt: u32,
) -> Result<ChargeRun, AppError> {
    let pool = state.db.pool();
    let now = state.clock.now();
    let Some(merchant_row) = merchants::find(pool, merchant).await? else { return Ok(ChargeRun::Skipped("merchant")) };
    let invoice: Option<(String, String, i64, i64, i64)> = sqlx::query_as(
        "SELECT customer_id, status, total_minor - amount_paid_minor, due_at, \
         (SELECT COUNT(*) FROM disputes d WHERE d.invoice_id = invoices.id AND d.status = 'open') \
         FROM invoices WHERE merchant_id = $1 AND id = $2",
    )
    .bind(merchant.as_str())
    .bind(invoice_id)
    .fetch_optional(pool)
    .await?;
    let Some((customer, status, owed, current_due, disputes)) = invoice else {
        return Ok(ChargeRun::Skipped("invoice"));
    };
    if status != "open" || owed <= 0 {
        return Ok(ChargeRun::Skipped("not open"));
    }
    if current_due != due_at {
        return Ok(ChargeRun::Skipped("due date moved"));
    }
    if disputes > 0 {
        return Ok(ChargeRun::Skipped("disputed"));
    }
    let customer = CustomerId::from_trusted(customer);
    let Some(row) = customers::find(pool, merchant, &customer).await? else {
        return Ok(ChargeRun::Skipped("customer"));
    };
    if row.autopay_enabled == 0 || row.status != "active" {
        return Ok(ChargeRun::Skipped("autopay off"));
    }
    // The due-date charge is what the customer authorised; the retries
    // after a failure are dunning, which the merchant may have paused.
    if attempt > 0 && customers::dunning_paused_at(pool, merchant, &customer).await?.is_some() {
        return Ok(ChargeRun::Skipped("dunning paused"));
    }
    // A consent covers invoices coming due after it was given, not ones
    // already overdue when autopay was turned on.
    match active_consent(pool, merchant, &customer).await? {
        Some((_, granted_at)) if granted_at <= due_at => {}
        _ => return Ok(ChargeRun::Skipped("no consent for this due date")),
    }
    let promised: Option<(i64,)> = sqlx::query_as(
        "SELECT promised_until FROM promises WHERE merchant_id = $1 AND invoice_id = $2 AND status = 'active' \
         AND promised_until > $3 LIMIT 1",
    )
    .bind(merchant.as_str())
    .bind(invoice_id)
    .bind(now.0)
    .fetch_optional(pool)
    .await?;
    if promised.is_some() {
        return Ok(ChargeRun::Skipped("promise to pay"));
    }
    let Some(gateway) = state.gateways.get(&merchant_row.gateway) else {
        return Ok(ChargeRun::Later("gateway not configured"));
    };
    let cards = payment_methods::list_active(pool, merchant, &customer).await?;
    let card = cards.into_iter().find(|c| c.is_default != 0 && c.gateway == merchant_row.gateway);
    let card = match card {
        Some(c) if !card_expired(&c, super::this_month(now)) => c,
        other => {
            let reason = if other.is_some() { "card_expired" } else { "no_card" };
            let detail = serde_json::json!({ "invoice_id": invoice_id, "reason": reason });
            let inv = InvoiceId::from_trusted(invoice_id.to_string());
            events::record(pool, merchant, Some(&customer), Some(&inv), "autopay.failed", &detail, now).await?;
            return Ok(ChargeRun::Skipped("no usable card"));
        }
    };
    let open = invoices::open_for_customer(pool, merchant, &customer).await?;
    let plan = match plan(&open, &[invoice_id.to_string()], None) {
        Ok(p) => p,
        Err(_) => return Ok(ChargeRun::Skipped("not payable")),
    };
    // Each attempt its own key: the one before it was declined for good.
    let key = match attempt {
        0 => format!("autopay:{invoice_id}:{due_at}"),
        n => format!("autopay:{invoice_id}:{due_at}:retry{n}"),
    };
    let method = PaymentMethodId::from_trusted(card.id.clone());
    let new = NewPayment {
        merchant,
        customer: &customer,
        method: &method,
        amount: plan.total,
        idempotency_key: &key,
        gateway: &merchant_row.gateway,
        off_session: true,
        purpose: "autopay",
    };
    let payment_id = match write_payment(state, &new, &plan, now).await? {
        Ok(id) => id,
        // Already tried for this due date (a job retried after a crash): the
        // reconciler settles that payment; never a second one.
        Err(InsertPaymentError::DuplicateKey) => return Ok(ChargeRun::Skipped("already attempted")),
        Err(InsertPaymentError::InFlight) => return Ok(ChargeRun::Later("another payment in flight")),
        Err(InsertPaymentError::StaleBalances) => return Ok(ChargeRun::Later("balance changed while planning")),
        Err(InsertPaymentError::Db(e)) => return Err(e.into()),
    };
    let customer_ref = gateway_customer(state, gateway.as_ref(), merchant, &customer).await?;
    let request = ChargeRequest {
        customer_ref,
        card_ref: card.gateway_ref.clone(),
        amount: plan.total,
        idempotency_key: key,
        off_session: true,
        payment_id: payment_id.clone(),
        description: charge_description(&payment_id),
    };
    let result = charge_and_settle(state, gateway.as_ref(), merchant, &payment_id, &request).await?;
    let inv = InvoiceId::from_trusted(invoice_id.to_string());
    if attempt > 0 {
        let detail = serde_json::json!({ "attempt": attempt, "payment_id": payment_id });
        events::record(pool, merchant, Some(&customer), Some(&inv), "retry_attempted", &detail, now).await?;
    }
    match &result {
        PayResult::Declined { hard, .. } => {
            super::retries::after_decline(state, &merchant_row, &row, invoice_id, due_at, attempt, *hard).await?;
        }
        PayResult::Succeeded { .. } if attempt > 0 => {
            let detail = serde_json::json!({ "step": format!("retry {attempt}"), "payment_id": payment_id });
            events::record(pool, merchant, Some(&customer), Some(&inv), "payment_recovered", &detail, now).await?;
        }
        _ => {}
    }
    Ok(ChargeRun::Charged(result))
}

/// The latest autopay failure still relevant to the customer: a failed
/// autopay payment newer than any success, for an invoice still open. For
/// the merchant and customer that the SQL expressions `merchant` and
/// `customer` give; columns `message`, `created_at`. The account page reads
/// it inside its one query of the customer.
pub(crate) fn latest_failure_sql(merchant: &str, customer: &str) -> String {
    format!(
        "SELECT COALESCE(p.failure_message, 'Your card was declined.') AS message, p.created_at FROM payments p \
         WHERE p.merchant_id = {merchant} AND p.customer_id = {customer} AND p.purpose = 'autopay' \
         AND p.status = 'failed' \
         AND EXISTS (SELECT 1 FROM payment_allocations a JOIN invoices i ON i.id = a.invoice_id \
                     WHERE a.payment_id = p.id AND i.status = 'open') \
         AND NOT EXISTS (SELECT 1 FROM payments q WHERE q.merchant_id = p.merchant_id \
                         AND q.customer_id = p.customer_id AND q.status = 'succeeded' AND q.created_at > p.created_at) \
         ORDER BY p.created_at DESC LIMIT 1"
    )
}
