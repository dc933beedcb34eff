//! Settles payments left undecided: a crash between writing the payment and
//! calling the gateway, a timeout, a lost response. With a gateway reference
//! the payment is fetched; without one, the same request is sent again under
//! the same idempotency key, which the gateway answers with the first
//! charge if there was one. Never a new key, so never a second charge.

use super::{outcome_of_error, settle};
use crate::server::gateway::{ChargeOutcome, ChargeRequest};
use crate::server::ids::{CustomerId, MerchantId};
use crate::server::repo::customers;
use crate::server::repo::payments::{self as payment_repo, PaymentRecord};
use crate::server::{AppError, AppState};
use crate::types::{Currency, Money};

/// How long a payment may stay undecided before the reconciler looks at it
/// (a request in progress normally decides it well within this).
pub const GRACE_MS: i64 = 60_000;
/// Stripe keeps idempotency keys for 24 hours; after that a resend could
/// charge again, so such a payment is left for a person to check.
const KEY_LIFETIME_MS: i64 = 23 * 60 * 60 * 1000;

/// Reconciles up to `limit` stale payments; returns how many were decided.
pub async fn reconcile_stale(state: &AppState, limit: i64) -> Result<usize, AppError> {
    let now = state.clock.now();
    let stale =
        payment_repo::stale_in_flight(state.db.pool(), crate::server::UtcMillis(now.0 - GRACE_MS), limit).await?;
    let mut decided = 0;
    for record in stale {
        match reconcile_one(state, &record).await {
            Ok(true) => decided += 1,
            Ok(false) => {}
            Err(e) => tracing::warn!(payment = %record.id, error = %e, "reconciliation failed; will retry"),
        }
    }
    Ok(decided)
}

/// Asks the gateway about one undecided payment and applies the answer.
pub async fn reconcile_one(state: &AppState, record: &PaymentRecord) -> Result<bool, AppError> {
    let merchant = MerchantId::from_trusted(record.merchant_id.clone());
    let gateway = state.gateways.get(&record.gateway).ok_or_else(|| AppError::internal("gateway not configured"))?;
    let outcome = if let Some(gateway_ref) = record.gateway_ref.as_deref() {
        gateway.fetch_payment(gateway_ref).await.unwrap_or_else(|e| outcome_of_error(&e))
    } else if state.clock.now().0 - record.created_at > KEY_LIFETIME_MS {
        tracing::error!(payment = %record.id, "undecided payment older than the gateway's key lifetime: needs review");
        return Ok(false);
    } else {
        let request = resend_request(state, &merchant, record).await?;
        payment_repo::note_attempt(state.db.pool(), &record.id, state.clock.now()).await?;
        gateway.charge(&request).await.unwrap_or_else(|e| outcome_of_error(&e))
    };
    if let ChargeOutcome::Unknown { reason, .. } = &outcome {
        tracing::info!(payment = %record.id, reason, "payment still undecided");
    }
    settle(state, &merchant, &record.id, &outcome).await
}

/// The original charge request, rebuilt from what was written before it.
async fn resend_request(
    state: &AppState,
    merchant: &MerchantId,
    record: &PaymentRecord,
) -> Result<ChargeRequest, AppError> {
    let pool = state.db.pool();
    let customer = CustomerId::from_trusted(record.customer_id.clone());
    let customer_ref = customers::gateway_customer_ref(pool, merchant, &customer)
        .await?
        .ok_or_else(|| AppError::internal("payment without a gateway customer"))?;
    let card_ref: (String,) =
        sqlx::query_as("SELECT gateway_ref FROM payment_methods WHERE merchant_id = $1 AND id = $2")
            .bind(merchant.as_str())
            .bind(record.payment_method_id.as_deref().unwrap_or(""))
            .fetch_one(pool)
            .await?;
    Ok(ChargeRequest {
        customer_ref,
        card_ref: card_ref.0,
        amount: Money::new(record.amount_minor, Currency::parse(&record.currency).map_err(AppError::internal)?),
        idempotency_key: record.idempotency_key.clone(),
        off_session: record.off_session != 0,
        payment_id: record.id.clone(),
        description: super::charge_description(&record.id),
    })
}
