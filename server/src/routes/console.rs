//! The merchant console's form posts: staff sign-in and sign-out, and the
//! actions on customers and invoices. Plain
//! POSTs that redirect to the Leptos pages, so they work without JS.

use crate::http_error::HttpError;
use crate::routes::sign_in::{merchant, too_many};
use app::server::console::actions::{self, CustomerAction, InvoiceAction, Origin};
use app::server::console::session as console_session;
use app::server::console::sign_in::{self as console_sign_in, ConsoleSignIn};
use app::server::console::Staff;
use app::server::ids::{CustomerId, InvoiceId};
use app::server::repo::merchants::MerchantRow;
use app::server::sign_in::looks_like_email;
use app::server::{AppError, AppState};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use serde::Deserialize;
use std::net::SocketAddr;
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/m/{slug}/sign-in", post(sign_in))
        .route("/m/{slug}/sign-out", post(sign_out))
        .route("/m/{slug}/customers/{id}/{action}", post(customer_action))
        .route("/m/{slug}/invoices/{id}/{action}", post(invoice_action))
}

/// The merchant and the staff member signed in to its console, or where
/// to send the browser (the sign-in page).
pub(crate) async fn staff(
    state: &AppState,
    session: &Session,
    slug: &str,
) -> Result<Result<(MerchantRow, Staff), Redirect>, HttpError> {
    let merchant = merchant(state, slug).await?;
    match console_session::for_merchant(state.db.pool(), session, &merchant.merchant_id(), state.clock.now()).await {
        Ok(staff) => Ok(Ok((merchant, staff))),
        Err(AppError::NotSignedIn) => Ok(Err(Redirect::to(&format!("/m/{slug}/sign-in")))),
        Err(e) => Err(e.into()),
    }
}

pub(crate) fn origin(peer: SocketAddr, headers: &HeaderMap) -> Origin {
    Origin {
        ip: Some(peer.ip().to_string()),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(300).collect()),
    }
}

async fn customer_action(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path((slug, id, action)): Path<(String, String, String)>,
) -> Result<Response, HttpError> {
    let (merchant, staff) = match staff(&state, &session, &slug).await? {
        Ok(found) => found,
        Err(to_sign_in) => return Ok(to_sign_in.into_response()),
    };
    let action = CustomerAction::parse(&action).ok_or(AppError::NotFound)?;
    let customer = CustomerId::parse(&id).map_err(|_| AppError::NotFound)?;
    let outcome = actions::on_customer(
        state.db.pool(),
        &staff,
        &merchant,
        &customer,
        action,
        &origin(peer, &headers),
        state.clock.now(),
        &state.portal.base_url,
    )
    .await?;
    tracing::info!(merchant = %merchant.id, user = %staff.user.id, customer = %customer, ?action, "console action");
    console_session::set_outcome(&session, outcome).await?;
    Ok(Redirect::to(&format!("/m/{slug}/customers/{customer}")).into_response())
}

#[derive(Deserialize)]
struct InvoiceForm {
    #[serde(default)]
    reference: String,
}

async fn invoice_action(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path((slug, id, action)): Path<(String, String, String)>,
    Form(form): Form<InvoiceForm>,
) -> Result<Response, HttpError> {
    let (merchant, staff) = match staff(&state, &session, &slug).await? {
        Ok(found) => found,
        Err(to_sign_in) => return Ok(to_sign_in.into_response()),
    };
    let action = match action.as_str() {
        "mark-paid" => InvoiceAction::MarkPaid { reference: form.reference },
        "void" => InvoiceAction::Void,
        _ => return Err(AppError::NotFound.into()),
    };
    let invoice = InvoiceId::parse(&id).map_err(|_| AppError::NotFound)?;
    let customer: Option<(String,)> =
        sqlx::query_as("SELECT customer_id FROM invoices WHERE merchant_id = $1 AND id = $2")
            .bind(merchant.id.as_str())
            .bind(invoice.as_str())
            .fetch_optional(state.db.pool())
            .await?;
    let (customer,) = customer.ok_or(AppError::NotFound)?;
    let outcome = actions::on_invoice(
        state.db.pool(),
        &staff,
        &merchant,
        &invoice,
        action.clone(),
        &origin(peer, &headers),
        state.clock.now(),
    )
    .await?;
    tracing::info!(merchant = %merchant.id, user = %staff.user.id, invoice = %invoice, "console invoice action");
    console_session::set_outcome(&session, outcome).await?;
    Ok(Redirect::to(&format!("/m/{slug}/customers/{customer}")).into_response())
}

#[derive(Deserialize)]
struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

async fn sign_in(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(slug): Path<String>,
    Form(form): Form<SignInForm>,
) -> Result<Response, HttpError> {
    let merchant = merchant(&state, &slug).await?;
    let refused = Redirect::to(&format!("/m/{slug}/sign-in?error=password")).into_response();
    if !looks_like_email(&form.email) || form.password.is_empty() {
        return Ok(refused);
    }
    let outcome = console_sign_in::with_password(
        state.db.pool(),
        state.clock.now(),
        &merchant,
        &form.email,
        &form.password,
        &peer.ip().to_string(),
    )
    .await?;
    Ok(match outcome {
        ConsoleSignIn::SignedIn(identity) => {
            tracing::info!(merchant = %identity.merchant_id, user = %identity.user_id, "staff signed in");
            console_session::sign_in(&session, identity).await?;
            Redirect::to(&format!("/m/{slug}")).into_response()
        }
        ConsoleSignIn::Refused => refused,
        ConsoleSignIn::RateLimited { retry_after_secs } => too_many(retry_after_secs, &format!("/m/{slug}/sign-in")),
    })
}

async fn sign_out(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
) -> Result<Redirect, HttpError> {
    merchant(&state, &slug).await?;
    console_session::sign_out(&session).await?;
    Ok(Redirect::to(&format!("/m/{slug}/sign-in?signed_out=1")))
}
