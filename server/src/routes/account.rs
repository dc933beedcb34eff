//! Changes a signed-in customer makes to their own account. Merchant and
//! customer come from the session only.

use crate::http_error::HttpError;
use crate::routes::signed_in;
use app::server::account_security;
use app::server::ids::InvoiceId;
use app::server::promises::{self, Requester};
use app::server::{AppError, AppState};
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
        .route("/p/{slug}/account/password", post(set_password))
        .route("/p/{slug}/invoices/{id}/promise", post(promise_to_pay))
        .route("/p/{slug}/invoices/{id}/dispute", post(dispute))
}

#[derive(Deserialize)]
struct SetPasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

async fn set_password(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    Form(form): Form<SetPasswordForm>,
) -> Result<Redirect, HttpError> {
    let (merchant, identity) = match signed_in(&state, &session, &slug).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    let outcome = account_security::set_password(
        state.db.pool(),
        state.clock.now(),
        &merchant,
        &identity,
        &form.current_password,
        &form.new_password,
        &form.confirm_password,
    )
    .await?;
    Ok(match outcome {
        Ok(()) => {
            tracing::info!(customer = %identity.customer_id, "password set");
            // A privilege change: new session id, same identity.
            session.cycle_id().await.map_err(AppError::from)?;
            Redirect::to(&format!("/p/{slug}/account?password=saved#security"))
        }
        Err(e) => Redirect::to(&format!("/p/{slug}/account?password_error={}#security", e.code())),
    })
}

#[derive(Deserialize)]
struct PromiseForm {
    #[serde(default)]
    date: String,
}

#[derive(Deserialize)]
struct DisputeForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    details: String,
}

/// The requester's IP and (truncated) user agent, for the audit log.
fn requester(peer: SocketAddr, headers: &HeaderMap) -> Requester {
    Requester {
        ip: Some(peer.ip().to_string()),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(300).collect()),
    }
}

async fn promise_to_pay(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, String)>,
    Form(form): Form<PromiseForm>,
) -> Result<Redirect, HttpError> {
    // The id goes into a Location header: only a well-formed one may.
    let invoice = InvoiceId::parse(&id).map_err(|_| AppError::NotFound)?;
    let (merchant, identity) = match signed_in(&state, &session, &slug).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    let now = state.clock.now();
    let who = requester(peer, &headers);
    let back = format!("/p/{slug}/invoices/{invoice}");
    Ok(match promises::promise(state.db.pool(), now, &merchant, &identity, invoice.as_str(), &form.date, who).await? {
        Ok(_) => Redirect::to(&format!("{back}?promise=saved#cannot-pay")),
        Err(e) => Redirect::to(&format!("{back}?promise_error={}#cannot-pay", e.code())),
    })
}

async fn dispute(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, String)>,
    Form(form): Form<DisputeForm>,
) -> Result<Redirect, HttpError> {
    let invoice = InvoiceId::parse(&id).map_err(|_| AppError::NotFound)?;
    let (merchant, identity) = match signed_in(&state, &session, &slug).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    let now = state.clock.now();
    let who = requester(peer, &headers);
    let back = format!("/p/{slug}/invoices/{invoice}");
    let outcome = promises::dispute(
        state.db.pool(),
        now,
        &merchant,
        &identity,
        invoice.as_str(),
        &form.reason,
        &form.details,
        who,
    )
    .await?;
    Ok(match outcome {
        Ok(()) => Redirect::to(&format!("{back}?dispute=saved#cannot-pay")),
        Err(e) => Redirect::to(&format!("{back}?dispute_error={}#cannot-pay", e.code())),
    })
}
