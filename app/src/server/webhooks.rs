//! Stripe webhooks, per merchant (`/webhooks/stripe/{merchant}`), each with
//! its own signing secret. A delivery is verified (every `v1` signature,
//! ±300 s), its event id stored under a unique constraint in the same
//! transaction as its effect (a redelivery changes nothing), and the objects
//! it names are fetched again from Stripe rather than trusted from the
//! payload, so deliveries arriving out of order still end in Stripe's
//! current state.

use super::gateway::{Card, ChargeOutcome, GatewayKind, SetupOutcome, WebhookError, WebhookEvent, WebhookKind};
use super::ids::{CustomerId, MerchantId, WebhookEventId};
use super::repo::merchants::{self, MerchantRow};
use super::repo::payment_methods::NewPaymentMethod;
use super::repo::{events, payments as payment_repo};
use super::{payments, AppError, AppState};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// New event; its effect (if any) is applied.
    Applied,
    /// Seen before: nothing done again.
    Duplicate,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("no such merchant")]
    UnknownMerchant,
    #[error("webhooks are not configured for this merchant")]
    NotConfigured,
    #[error("{0}")]
    Invalid(WebhookError),
}

/// What has to be looked up at Stripe before the transaction (no network
/// calls while it is open).
enum Prepared {
    Payment {
        payment_id: String,
        outcome: ChargeOutcome,
    },
    Card {
        card: Card,
    },
    Setup {
        customer: CustomerId,
        card: Card,
    },
    Refund {
        payment_id: String,
        amount_refunded_minor: i64,
        customer: String,
    },
    Dispute {
        payment_id: Option<String>,
        customer: Option<String>,
        amount_minor: i64,
        reason: String,
        payment_ref: String,
    },
    Nothing,
}

async fn webhook_secret(state: &AppState, merchant: &MerchantRow) -> Result<Option<String>, AppError> {
    let row: Option<(Option<String>,)> = sqlx::query_as("SELECT webhook_secret FROM merchants WHERE id = $1")
        .bind(&merchant.id)
        .fetch_optional(state.db.pool())
        .await?;
    Ok(row.and_then(|r| r.0).filter(|s| !s.is_empty()))
}

pub async fn receive_stripe(
    state: &AppState,
    slug: &str,
    payload: &[u8],
    signature: &str,
) -> Result<Result<Received, Refused>, AppError> {
    let Some(merchant) = merchants::find_by_slug(state.db.pool(), slug).await? else {
        return Ok(Err(Refused::UnknownMerchant));
    };
    let (Some(gateway), Some(secret)) =
        (state.gateways.get(GatewayKind::Stripe.as_str()), webhook_secret(state, &merchant).await?)
    else {
        return Ok(Err(Refused::NotConfigured));
    };
    let now = state.clock.now();
    let event = match gateway.parse_webhook(payload, signature, &secret, now) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(merchant = %merchant.slug, error = %e, "webhook refused");
            return Ok(Err(Refused::Invalid(e)));
        }
    };
    let mid = merchant.merchant_id();
    if already_seen(state, &mid, &event).await? {
        return Ok(Ok(Received::Duplicate));
    }
    let prepared = prepare(state, &mid, &event).await?;

    let mut tx = crate::server::db::begin_write(state.db.pool()).await?;
    let stored = sqlx::query(
        "INSERT INTO webhook_events (id, merchant_id, source, event_id, event_type, payload, received_at, processed_at) \
         VALUES ($1, $2, 'stripe', $3, $4, $5, $6, $6) ON CONFLICT (merchant_id, source, event_id) DO NOTHING",
    )
    .bind(WebhookEventId::new().as_str())
    .bind(mid.as_str())
    .bind(&event.id)
    .bind(&event.event_type)
    .bind(String::from_utf8_lossy(payload).into_owned())
    .bind(now.0)
    .execute(&mut *tx)
    .await?;
    if stored.rows_affected() == 0 {
        // Another delivery of the same event got here first.
        return Ok(Ok(Received::Duplicate));
    }
    apply(state, &mut tx, &mid, &event, prepared).await?;
    tx.commit().await?;
    tracing::info!(merchant = %merchant.slug, event = %event.id, kind = %event.event_type, "webhook applied");
    Ok(Ok(Received::Applied))
}

async fn already_seen(state: &AppState, merchant: &MerchantId, event: &WebhookEvent) -> Result<bool, AppError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT id FROM webhook_events WHERE merchant_id = $1 AND source = 'stripe' AND event_id = $2")
            .bind(merchant.as_str())
            .bind(&event.id)
            .fetch_optional(state.db.pool())
            .await?;
    Ok(row.is_some())
}

async fn customer_by_gateway_ref(
    state: &AppState,
    merchant: &MerchantId,
    customer_ref: &str,
) -> Result<Option<CustomerId>, AppError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT id FROM customers WHERE merchant_id = $1 AND gateway_customer_ref = $2")
            .bind(merchant.as_str())
            .bind(customer_ref)
            .fetch_optional(state.db.pool())
            .await?;
    Ok(row.map(|r| CustomerId::from_trusted(r.0)))
}

async fn prepare(state: &AppState, merchant: &MerchantId, event: &WebhookEvent) -> Result<Prepared, AppError> {
    let gateway = state.gateways.get(GatewayKind::Stripe.as_str()).ok_or_else(|| AppError::internal("no Stripe"))?;
    let gateway_err = |e| AppError::internal(format!("Stripe: {e}"));
    Ok(match &event.kind {
        WebhookKind::PaymentChanged { payment_ref } => {
            let pool = state.db.pool();
            match payment_repo::find_by_gateway_ref(pool, merchant, "stripe", payment_ref).await? {
                // Where the payment stands now, whatever this event said.
                Some(p) => Prepared::Payment {
                    payment_id: p.id,
                    outcome: gateway.fetch_payment(payment_ref).await.map_err(gateway_err)?,
                },
                // Not ours, or not yet linked (the reconciler links it).
                None => Prepared::Nothing,
            }
        }
        WebhookKind::CardChanged { card, customer_ref } => {
            let owner: Option<(String,)> = sqlx::query_as(
                "SELECT c.gateway_customer_ref FROM payment_methods pm JOIN customers c ON c.id = pm.customer_id \
                 WHERE pm.merchant_id = $1 AND pm.gateway = 'stripe' AND pm.gateway_ref = $2",
            )
            .bind(merchant.as_str())
            .bind(&card.gateway_ref)
            .fetch_optional(state.db.pool())
            .await?;
            let customer_ref = owner.map(|o| o.0).or_else(|| customer_ref.clone());
            match customer_ref {
                Some(customer_ref) => {
                    let cards = gateway.list_cards(&customer_ref).await.map_err(gateway_err)?;
                    match cards.into_iter().find(|c| c.gateway_ref == card.gateway_ref) {
                        Some(current) => Prepared::Card { card: current },
                        None => Prepared::Nothing,
                    }
                }
                None => Prepared::Nothing,
            }
        }
        WebhookKind::SetupSucceeded { setup_ref, customer_ref: Some(customer_ref), .. } => {
            match customer_by_gateway_ref(state, merchant, customer_ref).await? {
                Some(customer) => {
                    match gateway.finish_card_setup(customer_ref, setup_ref).await.map_err(gateway_err)? {
                        SetupOutcome::Saved(card) => Prepared::Setup { customer, card },
                        _ => Prepared::Nothing,
                    }
                }
                None => Prepared::Nothing,
            }
        }
        WebhookKind::ChargeRefunded { payment_ref, amount_refunded_minor } => {
            match payment_repo::find_by_gateway_ref(state.db.pool(), merchant, "stripe", payment_ref).await? {
                Some(p) => Prepared::Refund {
                    payment_id: p.id,
                    amount_refunded_minor: *amount_refunded_minor,
                    customer: p.customer_id,
                },
                None => Prepared::Nothing,
            }
        }
        WebhookKind::DisputeOpened { payment_ref, amount_minor, reason } => {
            let p = payment_repo::find_by_gateway_ref(state.db.pool(), merchant, "stripe", payment_ref).await?;
            Prepared::Dispute {
                payment_id: p.as_ref().map(|p| p.id.clone()),
                customer: p.map(|p| p.customer_id),
                amount_minor: *amount_minor,
                reason: reason.clone(),
                payment_ref: payment_ref.clone(),
            }
        }
        WebhookKind::SetupSucceeded { customer_ref: None, .. } | WebhookKind::Ignored => Prepared::Nothing,
    })
}

async fn apply(
    state: &AppState,
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    merchant: &MerchantId,
    event: &WebhookEvent,
    prepared: Prepared,
) -> Result<(), AppError> {
    let now = state.clock.now();
    match prepared {
        Prepared::Payment { payment_id, outcome } => {
            payments::settle_in(state, tx, merchant, &payment_id, &outcome).await?;
        }
        Prepared::Card { card } => {
            // The card updater's refreshed expiry (brand and last4 may change too).
            let done = sqlx::query(
                "UPDATE payment_methods SET exp_month = $1, exp_year = $2, brand = $3, last4 = $4, refreshed_at = $5, \
                 updated_at = $5 WHERE merchant_id = $6 AND gateway = 'stripe' AND gateway_ref = $7 \
                 AND (exp_month <> $1 OR exp_year <> $2 OR last4 <> $4)",
            )
            .bind(card.exp_month)
            .bind(card.exp_year)
            .bind(&card.brand)
            .bind(&card.last4)
            .bind(now.0)
            .bind(merchant.as_str())
            .bind(&card.gateway_ref)
            .execute(&mut **tx)
            .await?;
            if done.rows_affected() > 0 {
                let detail = serde_json::json!({ "card": card.gateway_ref, "exp_month": card.exp_month,
                    "exp_year": card.exp_year, "event": event.event_type });
                events::record(&mut **tx, merchant, None, None, "card.refreshed", &detail, now).await?;
            }
        }
        Prepared::Setup { customer, card } => {
            // Normally saved already by the browser's return; this covers a
            // customer who closed the tab right after confirming.
            let known: Option<(String,)> = sqlx::query_as(
                "SELECT id FROM payment_methods WHERE merchant_id = $1 AND gateway = 'stripe' AND gateway_ref = $2",
            )
            .bind(merchant.as_str())
            .bind(&card.gateway_ref)
            .fetch_optional(&mut **tx)
            .await?;
            if known.is_none() {
                let (has_default,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) FROM payment_methods WHERE merchant_id = $1 AND customer_id = $2 \
                     AND status = 'active' AND is_default = 1",
                )
                .bind(merchant.as_str())
                .bind(customer.as_str())
                .fetch_one(&mut **tx)
                .await?;
                let new = NewPaymentMethod {
                    gateway: "stripe".into(),
                    gateway_ref: card.gateway_ref,
                    brand: card.brand,
                    last4: card.last4,
                    exp_month: card.exp_month,
                    exp_year: card.exp_year,
                    is_default: has_default == 0,
                };
                super::repo::payment_methods::insert(&mut **tx, merchant, &customer, &new, now).await?;
            }
        }
        Prepared::Refund { payment_id, amount_refunded_minor, customer } => {
            if payment_repo::set_refunded(&mut **tx, &payment_id, amount_refunded_minor, now).await? {
                let customer = CustomerId::from_trusted(customer);
                let detail = serde_json::json!({ "payment_id": payment_id, "refunded_minor": amount_refunded_minor });
                events::record(&mut **tx, merchant, Some(&customer), None, "payment.refunded", &detail, now).await?;
            }
        }
        Prepared::Dispute { payment_id, customer, amount_minor, reason, payment_ref } => {
            let customer = customer.map(CustomerId::from_trusted);
            let detail = serde_json::json!({ "payment_id": payment_id, "payment_ref": payment_ref,
                "amount_minor": amount_minor, "reason": reason });
            events::record(&mut **tx, merchant, customer.as_ref(), None, "payment.disputed", &detail, now).await?;
            events::audit(
                &mut **tx,
                merchant,
                "system",
                Some("stripe"),
                "chargeback.opened",
                payment_id.as_deref().map(|p| ("payment", p)),
                &detail,
                None,
                None,
                now,
            )
            .await?;
        }
        Prepared::Nothing => {}
    }
    Ok(())
}
