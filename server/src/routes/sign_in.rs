//! Sign-in without an access link: the email form, the code form, the
//! emailed one-time link, and "email me a new link" from an expired link.
//! Plain form POSTs that redirect to Leptos pages (works without JS).

use crate::http_error::HttpError;
use app::server::repo::merchants::{self, MerchantRow};
use app::server::sign_in::{self, CodeOutcome, PasswordOutcome, StartOutcome};
use app::server::{portal, portal_session, AppError, AppState};
use axum::extract::{ConnectInfo, OriginalUri, Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use serde::Deserialize;
use std::net::SocketAddr;
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/p/{slug}/sign-in", post(request_code))
        .route("/p/{slug}/sign-in/code", post(enter_code))
        .route("/p/{slug}/sign-in/password", post(sign_in_with_password))
        .route("/p/{slug}/s/{token}", post(continue_with_sign_in_link))
        .route("/p/{slug}/l/{token}/renew", post(renew_link))
}

pub(crate) async fn merchant(state: &AppState, slug: &str) -> Result<MerchantRow, HttpError> {
    if !portal::is_valid_slug(slug) {
        return Err(AppError::NotFound.into());
    }
    Ok(merchants::find_by_slug(state.db.pool(), slug).await?.ok_or(AppError::NotFound)?)
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

async fn sign_in_with_password(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(slug): Path<String>,
    Form(form): Form<PasswordForm>,
) -> Result<Response, HttpError> {
    let merchant = merchant(&state, &slug).await?;
    let email = form.email.trim();
    if !sign_in::looks_like_email(email) || form.password.is_empty() {
        return Ok(Redirect::to(&format!("/p/{slug}/sign-in?error=password")).into_response());
    }
    let outcome = sign_in::with_password(
        state.db.pool(),
        state.clock.now(),
        &merchant,
        email,
        &form.password,
        &peer.ip().to_string(),
    )
    .await?;
    Ok(match outcome {
        PasswordOutcome::SignedIn(identity) => {
            tracing::info!(merchant = %identity.merchant_id, customer = %identity.customer_id, "signed in with password");
            portal_session::sign_in(&session, identity).await?;
            Redirect::to(&format!("/p/{slug}/account")).into_response()
        }
        PasswordOutcome::Refused => Redirect::to(&format!("/p/{slug}/sign-in?error=password")).into_response(),
        PasswordOutcome::RateLimited { retry_after_secs } => too_many(retry_after_secs, &format!("/p/{slug}/sign-in")),
    })
}

/// 429 with a page that says what happened and when to try again.
pub(crate) fn too_many(retry_after_secs: i64, portal_home: &str) -> Response {
    let minutes = (retry_after_secs + 59) / 60;
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Too many attempts</title><link rel=\"stylesheet\" href=\"/pkg/settle.css\"></head><body><div class=\"portal\">\
         <main id=\"main\" class=\"portal__main\"><h1>Too many attempts</h1>\
         <p>For your security we've paused sign-in requests for this address. Please try again in {minutes} minute{s}.</p>\
         <p><a href=\"{portal_home}\">Back</a></p></main></div></body></html>",
        s = if minutes == 1 { "" } else { "s" },
    );
    let mut res = (StatusCode::TOO_MANY_REQUESTS, Html(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

#[derive(Deserialize)]
struct EmailForm {
    #[serde(default)]
    email: String,
}

async fn request_code(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(slug): Path<String>,
    Form(form): Form<EmailForm>,
) -> Result<Response, HttpError> {
    let merchant = merchant(&state, &slug).await?;
    let email = form.email.trim().to_string();
    if !sign_in::looks_like_email(&email) {
        return Ok(Redirect::to(&format!("/p/{slug}/sign-in?error=email")).into_response());
    }
    let outcome = sign_in::start(
        state.db.pool(),
        state.clock.now(),
        &merchant,
        &email,
        &peer.ip().to_string(),
        &state.portal.base_url,
    )
    .await?;
    match outcome {
        StartOutcome::RateLimited { retry_after_secs } => Ok(too_many(retry_after_secs, &format!("/p/{slug}/sign-in"))),
        StartOutcome::CodeSent { challenge_id } => {
            portal_session::set_pending(
                &session,
                portal_session::PendingSignIn { merchant_id: merchant.merchant_id(), challenge_id, email },
            )
            .await?;
            Ok(Redirect::to(&format!("/p/{slug}/sign-in/code")).into_response())
        }
    }
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
}

async fn enter_code(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    Form(form): Form<CodeForm>,
) -> Result<Redirect, HttpError> {
    let merchant = merchant(&state, &slug).await?;
    let Some(pending) = portal_session::pending_for(&session, &merchant.merchant_id()).await? else {
        return Ok(Redirect::to(&format!("/p/{slug}/sign-in?error=start")));
    };
    let outcome =
        sign_in::verify_code(state.db.pool(), state.clock.now(), &merchant, &pending.challenge_id, &form.code).await?;
    Ok(match outcome {
        CodeOutcome::SignedIn(identity) => {
            tracing::info!(merchant = %identity.merchant_id, customer = %identity.customer_id, "signed in with emailed code");
            portal_session::sign_in(&session, identity).await?;
            Redirect::to(&format!("/p/{slug}/account"))
        }
        CodeOutcome::Wrong { tries_left } => {
            Redirect::to(&format!("/p/{slug}/sign-in/code?error=wrong&left={tries_left}"))
        }
        CodeOutcome::Expired => Redirect::to(&format!("/p/{slug}/sign-in/code?error=expired")),
        CodeOutcome::TooManyTries => Redirect::to(&format!("/p/{slug}/sign-in/code?error=locked")),
    })
}

async fn continue_with_sign_in_link(
    State(state): State<AppState>,
    session: Session,
    OriginalUri(uri): OriginalUri,
    Path((slug, token)): Path<(String, String)>,
) -> Result<Redirect, HttpError> {
    let merchant = merchant(&state, &slug).await?;
    match sign_in::redeem_link(state.db.pool(), state.clock.now(), &merchant, &token).await? {
        Some(identity) => {
            tracing::info!(merchant = %identity.merchant_id, customer = %identity.customer_id, "signed in with emailed link");
            portal_session::sign_in(&session, identity).await?;
            Ok(Redirect::to(&format!("/p/{slug}/account")))
        }
        None => Ok(Redirect::to(uri.path())),
    }
}

async fn renew_link(
    State(state): State<AppState>,
    Path((slug, token)): Path<(String, String)>,
) -> Result<Response, HttpError> {
    let merchant = merchant(&state, &slug).await?;
    match sign_in::renew_access_link(state.db.pool(), state.clock.now(), &merchant, &token, &state.portal.base_url)
        .await?
    {
        Ok(()) => {
            // Same answer whatever the link was; the page says where it went.
            let back = match app::server::tokens::SecretToken::parse(&token) {
                Ok(t) => format!("/p/{slug}/l/{}?renewed=1", t.expose()),
                Err(_) => format!("/p/{slug}/sign-in"),
            };
            Ok(Redirect::to(&back).into_response())
        }
        Err(retry_after_secs) => Ok(too_many(retry_after_secs, &format!("/p/{slug}"))),
    }
}
