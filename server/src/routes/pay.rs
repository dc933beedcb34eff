//! Paying and cards, as plain form posts. The merchant and customer come
//! from the session; the ids in the path only pick among the customer's own
//! payments and cards.

use crate::http_error::HttpError;
use crate::routes::signed_in;
use app::server::gateway::sandbox::CardEntryError;
use app::server::gateway::{GatewayKind, SetupOutcome};
use app::server::ids::{PaymentId, PaymentMethodId};
use app::server::pay_views::safe_return_path;
use app::server::payments::autopay::{self, ConsentOrigin};
use app::server::payments::{self, PayRefusal, PayRequest, PayResult};
use app::server::repo::payment_methods::{self, NewPaymentMethod};
use app::server::{AppError, AppState};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap};
use axum::response::Redirect;
use axum::routing::post;
use axum::{Form, Router};
use serde::Deserialize;
use std::net::SocketAddr;
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/p/{slug}/pay", post(pay))
        .route("/p/{slug}/pay/{id}/refresh", post(refresh))
        .route("/p/{slug}/pay/{id}/cancel", post(cancel))
        .route("/p/{slug}/sandbox/setups/{setup}", post(sandbox_card))
        .route("/p/{slug}/sandbox/payments/{id}/challenge", post(sandbox_challenge))
        .route("/p/{slug}/account/cards/complete", post(complete_card_setup))
        .route("/p/{slug}/account/cards/{id}/default", post(make_default))
        .route("/p/{slug}/account/autopay", post(autopay))
}

/// The confirmation form: `invoice` repeats, so it is read as pairs
/// (serde_urlencoded can't collect repeated keys).
fn pay_request(body: &[u8]) -> PayRequest {
    let mut request = PayRequest {
        invoice_ids: Vec::new(),
        amount_minor: None,
        card_id: String::new(),
        attempt: String::new(),
        confirmed_total_minor: -1,
    };
    for (key, value) in url::form_urlencoded::parse(body) {
        match key.as_ref() {
            "invoice" if request.invoice_ids.len() < 500 => request.invoice_ids.push(value.into_owned()),
            "amount_minor" => request.amount_minor = value.trim().parse().ok(),
            "total_minor" => request.confirmed_total_minor = value.trim().parse().unwrap_or(-1),
            "card" => request.card_id = value.into_owned(),
            "attempt" => request.attempt = value.into_owned(),
            _ => {}
        }
    }
    request
}

/// The review page again, for the same selection, with a message.
fn back_to_review(slug: &str, request: &PayRequest, extra: &str) -> String {
    let mut url = format!("/p/{slug}/pay?");
    for id in &request.invoice_ids {
        // Only well-formed ids go back into a URL.
        if app::server::ids::InvoiceId::parse(id).is_ok() {
            url.push_str(&format!("invoice={id}&"));
        }
    }
    if let Some(minor) = request.amount_minor {
        // Minor units, not text: the page formats it in the customer's locale.
        url.push_str(&format!("amount_minor={minor}&"));
    }
    url.push_str(extra);
    url
}

fn where_to(slug: &str, request: &PayRequest, result: &PayResult) -> String {
    match result {
        PayResult::Succeeded { payment_id } => format!("/p/{slug}/payments/{payment_id}?paid=1"),
        PayResult::Processing { payment_id } => format!("/p/{slug}/payments/{payment_id}?processing=1"),
        PayResult::RequiresAction { payment_id } => format!("/p/{slug}/pay/{payment_id}/authenticate"),
        PayResult::Declined { payment_id, .. } => back_to_review(slug, request, &format!("declined={payment_id}")),
    }
}

async fn pay(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    body: Bytes,
) -> Result<Redirect, HttpError> {
    let (merchant, identity) = match signed_in(&state, &session, &slug).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    let request = pay_request(&body);
    let to = match payments::pay(&state, &merchant, &identity, &request).await? {
        Ok(result) => where_to(&slug, &request, &result),
        Err(PayRefusal::InFlight { payment_id }) if !payment_id.is_empty() => {
            back_to_review(&slug, &request, "error=in_flight")
        }
        Err(refusal) => back_to_review(&slug, &request, &format!("error={}", refusal.code())),
    };
    Ok(Redirect::to(&to))
}

async fn refresh(
    State(state): State<AppState>,
    session: Session,
    Path((slug, id)): Path<(String, String)>,
) -> Result<Redirect, HttpError> {
    let id = PaymentId::parse(&id).map_err(|_| AppError::NotFound)?;
    let (_, identity) = match signed_in(&state, &session, &slug).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    let result = payments::refresh(&state, &identity, id.as_str()).await?;
    Ok(Redirect::to(&after_authentication(&state, &slug, &result).await?))
}

/// Where the customer goes once the bank's check is over: the receipt, or
/// the review page for the same invoices with the decline explained.
async fn after_authentication(state: &AppState, slug: &str, result: &PayResult) -> Result<String, AppError> {
    let invoices: Vec<(String,)> = sqlx::query_as("SELECT invoice_id FROM payment_allocations WHERE payment_id = $1")
        .bind(result.payment_id())
        .fetch_all(state.db.pool())
        .await?;
    let request = PayRequest {
        invoice_ids: invoices.into_iter().map(|r| r.0).collect(),
        amount_minor: None,
        card_id: String::new(),
        attempt: String::new(),
        confirmed_total_minor: 0,
    };
    Ok(where_to(slug, &request, result))
}

async fn cancel(
    State(state): State<AppState>,
    session: Session,
    Path((slug, id)): Path<(String, String)>,
) -> Result<Redirect, HttpError> {
    let id = PaymentId::parse(&id).map_err(|_| AppError::NotFound)?;
    let (_, identity) = match signed_in(&state, &session, &slug).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    let result = payments::abandon(&state, &identity, id.as_str()).await?;
    Ok(Redirect::to(&after_authentication(&state, &slug, &result).await?))
}

#[derive(Deserialize)]
struct ChallengeForm {
    #[serde(default)]
    decision: String,
}

/// The sandbox's stand-in for the bank's 3-D Secure page.
async fn sandbox_challenge(
    State(state): State<AppState>,
    session: Session,
    Path((slug, id)): Path<(String, String)>,
    Form(form): Form<ChallengeForm>,
) -> Result<Redirect, HttpError> {
    let id = PaymentId::parse(&id).map_err(|_| AppError::NotFound)?;
    let (merchant, identity) = match signed_in(&state, &session, &slug).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    let record = payments::customer_payment(&state, &identity, id.as_str()).await?;
    if merchant.gateway != GatewayKind::Sandbox.as_str() || record.gateway != GatewayKind::Sandbox.as_str() {
        return Err(AppError::NotFound.into());
    }
    if let Some(gateway_ref) = record.gateway_ref.as_deref() {
        state
            .gateways
            .sandbox
            .complete_challenge(gateway_ref, form.decision == "approve")
            .await
            .map_err(|e| AppError::internal(format!("sandbox: {e}")))?;
    }
    let result = payments::refresh(&state, &identity, id.as_str()).await?;
    Ok(Redirect::to(&after_authentication(&state, &slug, &result).await?))
}

#[derive(Deserialize)]
struct SandboxCardForm {
    #[serde(default)]
    number: String,
    #[serde(default)]
    expiry: String,
    #[serde(default)]
    cvc: String,
    #[serde(default)]
    return_to: String,
}

/// Adds `card=…&card_added=1` to a portal path.
fn with_card(return_to: &str, card: &PaymentMethodId) -> String {
    let sep = if return_to.contains('?') { '&' } else { '?' };
    format!("{return_to}{sep}card={card}&card_added=1")
}

/// The sandbox's hosted card form. Test mode only: it takes only the
/// published test numbers, and the number is dropped once checked.
async fn sandbox_card(
    State(state): State<AppState>,
    session: Session,
    Path((slug, setup)): Path<(String, String)>,
    Form(form): Form<SandboxCardForm>,
) -> Result<Redirect, HttpError> {
    let (merchant, identity) = match signed_in(&state, &session, &slug).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    if merchant.gateway != GatewayKind::Sandbox.as_str() {
        return Err(AppError::NotFound.into());
    }
    let return_to = safe_return_path(&slug, &form.return_to);
    let retry = |e: CardEntryError| {
        let back = format!("/p/{slug}/account/cards/new?return_to={}&error={}", encode(&return_to), e.code());
        Redirect::to(&back)
    };
    let gateway = state.gateways.sandbox.clone();
    let customer_ref = payments::gateway_customer_ref_of(&state, gateway.as_ref(), &identity).await?;
    // Another customer's setup (or none at all) is not found: nothing of
    // theirs may be touched. submit_card refuses setups already used.
    if !gateway.setup_is_for(&setup, &customer_ref).await? {
        return Err(AppError::NotFound.into());
    }
    if let Err(e) = gateway.submit_card(&customer_ref, &setup, &form.number, &form.expiry, &form.cvc).await {
        return Ok(retry(e));
    }
    save_finished_setup(&state, &identity, &merchant.gateway, &customer_ref, &setup, &return_to, &slug).await
}

#[derive(Deserialize)]
struct CompleteSetupForm {
    #[serde(default)]
    setup_ref: String,
    #[serde(default)]
    return_to: String,
}

/// After Stripe.js confirmed a SetupIntent in the browser: ask Stripe what
/// it saved (the browser's word is not taken for it).
async fn complete_card_setup(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    Form(form): Form<CompleteSetupForm>,
) -> Result<Redirect, HttpError> {
    let (merchant, identity) = match signed_in(&state, &session, &slug).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    let gateway = state.gateways.get(&merchant.gateway).ok_or_else(|| AppError::internal("gateway not configured"))?;
    let customer_ref = payments::gateway_customer_ref_of(&state, gateway.as_ref(), &identity).await?;
    let return_to = safe_return_path(&slug, &form.return_to);
    save_finished_setup(&state, &identity, &merchant.gateway, &customer_ref, &form.setup_ref, &return_to, &slug).await
}

async fn save_finished_setup(
    state: &AppState,
    identity: &app::server::portal_session::PortalIdentity,
    gateway_name: &str,
    customer_ref: &str,
    setup_ref: &str,
    return_to: &str,
    slug: &str,
) -> Result<Redirect, HttpError> {
    let gateway = state.gateways.get(gateway_name).ok_or_else(|| AppError::internal("gateway not configured"))?;
    let outcome = match gateway.finish_card_setup(customer_ref, setup_ref).await {
        Ok(o) => o,
        Err(app::server::gateway::GatewayError::NotFound(_)) => {
            let back = format!("/p/{slug}/account/cards/new?return_to={}&error=setup", encode(return_to));
            return Ok(Redirect::to(&back));
        }
        Err(e) => return Err(AppError::internal(format!("gateway: {e}")).into()),
    };
    match outcome {
        SetupOutcome::Saved(card) => {
            let new = NewPaymentMethod {
                gateway: gateway_name.to_string(),
                gateway_ref: card.gateway_ref,
                brand: card.brand,
                last4: card.last4,
                exp_month: card.exp_month,
                exp_year: card.exp_year,
                is_default: true,
            };
            let id = payment_methods::save_as_default(
                state.db.pool(),
                &identity.merchant_id,
                &identity.customer_id,
                &new,
                state.clock.now(),
            )
            .await?;
            tracing::info!(customer = %identity.customer_id, card = %id, "card added");
            Ok(Redirect::to(&with_card(return_to, &id)))
        }
        SetupOutcome::Declined { .. } => {
            let back = format!("/p/{slug}/account/cards/new?return_to={}&error=declined", encode(return_to));
            Ok(Redirect::to(&back))
        }
        SetupOutcome::Pending => {
            let back = format!("/p/{slug}/account/cards/new?return_to={}&error=setup", encode(return_to));
            Ok(Redirect::to(&back))
        }
    }
}

async fn make_default(
    State(state): State<AppState>,
    session: Session,
    Path((slug, id)): Path<(String, String)>,
) -> Result<Redirect, HttpError> {
    let id = PaymentMethodId::parse(&id).map_err(|_| AppError::NotFound)?;
    let (_, identity) = match signed_in(&state, &session, &slug).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    let changed = payment_methods::make_default(
        state.db.pool(),
        &identity.merchant_id,
        &identity.customer_id,
        &id,
        state.clock.now(),
    )
    .await?;
    if !changed {
        return Err(AppError::NotFound.into());
    }
    Ok(Redirect::to(&format!("/p/{slug}/account/settings?saved=default_card")))
}

#[derive(Deserialize)]
struct AutopayForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    card: String,
    #[serde(default)]
    consent: String,
}

async fn autopay(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(form): Form<AutopayForm>,
) -> Result<Redirect, HttpError> {
    let (merchant, identity) = match signed_in(&state, &session, &slug).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    let origin = ConsentOrigin {
        ip: Some(peer.ip().to_string()),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(300).collect()),
    };
    let back = format!("/p/{slug}/account/settings");
    if form.action == "off" {
        autopay::disable(&state, &identity, &origin).await?;
        return Ok(Redirect::to(&format!("{back}?saved=autopay_off#autopay")));
    }
    let agreed = form.consent == "yes";
    Ok(match autopay::enable(&state, &merchant, &identity, &form.card, agreed, &origin).await? {
        Ok(()) => Redirect::to(&format!("{back}?saved=autopay_on#autopay")),
        Err(e) => Redirect::to(&format!("{back}?error=autopay_{}#autopay", e.code())),
    })
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_repeated_invoice_fields() {
        let r = pay_request(b"invoice=inv_a&invoice=inv_b&total_minor=1500&amount_minor=&card=pm_x&attempt=abc");
        assert_eq!(r.invoice_ids, ["inv_a", "inv_b"]);
        assert_eq!(r.confirmed_total_minor, 1500);
        assert_eq!(r.amount_minor, None);
        assert_eq!(r.card_id, "pm_x");
        let bad = pay_request(b"total_minor=lots");
        assert_eq!(bad.confirmed_total_minor, -1);
    }
}
