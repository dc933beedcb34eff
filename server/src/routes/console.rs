//! The merchant console's form posts: staff sign-in and sign-out. Plain
//! POSTs that redirect to the Leptos pages, so they work without JS.

use crate::http_error::HttpError;
use crate::routes::sign_in::{merchant, too_many};
use app::server::console::session as console_session;
use app::server::console::sign_in::{self as console_sign_in, ConsoleSignIn};
use app::server::sign_in::looks_like_email;
use app::server::AppState;
use axum::extract::{ConnectInfo, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use serde::Deserialize;
use std::net::SocketAddr;
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new().route("/m/{slug}/sign-in", post(sign_in)).route("/m/{slug}/sign-out", post(sign_out))
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
