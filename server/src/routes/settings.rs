//! Contact details, preferences and the step-up that guards contact changes.

use crate::http_error::HttpError;
use crate::routes::signed_in;
use app::server::portal_session;
use app::server::repo::customers;
use app::server::sign_in::{self, CodeOutcome, StartOutcome};
use app::server::{passwords, settings, AppError, AppState};
use axum::extract::{ConnectInfo, Path, State};
use axum::response::Redirect;
use axum::routing::post;
use axum::{Form, Router};
use serde::Deserialize;
use std::net::SocketAddr;
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/p/{slug}/account/contact", post(change_contact))
        .route("/p/{slug}/account/preferences", post(change_preferences))
        .route("/p/{slug}/account/verify/password", post(verify_with_password))
        .route("/p/{slug}/account/verify/send-code", post(send_code))
        .route("/p/{slug}/account/verify/code", post(verify_with_code))
        .route("/p/{slug}/account/cards/{id}/remove", post(remove_card))
}

#[derive(Deserialize)]
struct ContactForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
}

async fn change_contact(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    Form(form): Form<ContactForm>,
) -> Result<Redirect, HttpError> {
    let (_, identity) = match signed_in(&state, &session, &slug).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    let now = state.clock.now();
    if !portal_session::is_stepped_up(&session, &identity, now).await? {
        return Ok(Redirect::to(&format!("/p/{slug}/account/verify")));
    }
    Ok(match settings::change_contact(state.db.pool(), now, &identity, &form.email, &form.phone).await? {
        Ok(()) => Redirect::to(&format!("/p/{slug}/account/settings?saved=contact")),
        Err(e) => Redirect::to(&format!("/p/{slug}/account/settings?error={}", e.code())),
    })
}

#[derive(Deserialize)]
struct PreferencesForm {
    /// Checkboxes: present ("on") when ticked, absent otherwise.
    email_reminders: Option<String>,
    sms_reminders: Option<String>,
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    locale: String,
}

async fn change_preferences(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    Form(form): Form<PreferencesForm>,
) -> Result<Redirect, HttpError> {
    let (_, identity) = match signed_in(&state, &session, &slug).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    let outcome = settings::change_preferences(
        state.db.pool(),
        state.clock.now(),
        &identity,
        form.email_reminders.is_some(),
        form.sms_reminders.is_some(),
        form.time_zone.trim(),
        form.locale.trim(),
    )
    .await?;
    Ok(match outcome {
        Ok(()) => Redirect::to(&format!("/p/{slug}/account/settings?saved=preferences")),
        Err(e) => Redirect::to(&format!("/p/{slug}/account/settings?error={}", e.code())),
    })
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    password: String,
}

async fn verify_with_password(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    Form(form): Form<PasswordForm>,
) -> Result<Redirect, HttpError> {
    let (_, identity) = match signed_in(&state, &session, &slug).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    let pool = state.db.pool();
    let now = state.clock.now();
    let hits =
        app::server::repo::rate_limits::hit(pool, &format!("step-up:{}", identity.customer_id), 15 * 60 * 1000, now)
            .await?;
    if hits > 5 {
        return Ok(Redirect::to(&format!("/p/{slug}/account/verify?error=limited")));
    }
    let stored = customers::password_hash(pool, &identity.merchant_id, &identity.customer_id).await?;
    if !passwords::verify(stored, form.password).await {
        return Ok(Redirect::to(&format!("/p/{slug}/account/verify?error=password")));
    }
    portal_session::record_step_up(&session, now).await?;
    Ok(Redirect::to(&format!("/p/{slug}/account/settings?verified=1")))
}

async fn send_code(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(slug): Path<String>,
) -> Result<Redirect, HttpError> {
    let (merchant, identity) = match signed_in(&state, &session, &slug).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    let pool = state.db.pool();
    let customer =
        customers::find(pool, &identity.merchant_id, &identity.customer_id).await?.ok_or(AppError::NotSignedIn)?;
    // The code goes to the address on file, never to one typed here.
    match sign_in::start(
        pool,
        state.clock.now(),
        &merchant,
        &customer.email,
        &peer.ip().to_string(),
        &state.portal.base_url,
    )
    .await?
    {
        StartOutcome::CodeSent { challenge_id } => {
            portal_session::set_step_up_challenge(&session, &challenge_id).await?;
            Ok(Redirect::to(&format!("/p/{slug}/account/verify?sent=1")))
        }
        StartOutcome::RateLimited { .. } => Ok(Redirect::to(&format!("/p/{slug}/account/verify?error=limited"))),
    }
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
}

async fn verify_with_code(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    Form(form): Form<CodeForm>,
) -> Result<Redirect, HttpError> {
    let (merchant, identity) = match signed_in(&state, &session, &slug).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    let Some(challenge) = portal_session::step_up_challenge(&session).await? else {
        return Ok(Redirect::to(&format!("/p/{slug}/account/verify?error=start")));
    };
    let now = state.clock.now();
    Ok(match sign_in::verify_code(state.db.pool(), now, &merchant, &challenge, &form.code).await? {
        CodeOutcome::SignedIn(proved) if proved.customer_id == identity.customer_id => {
            portal_session::record_step_up(&session, now).await?;
            Redirect::to(&format!("/p/{slug}/account/settings?verified=1"))
        }
        CodeOutcome::SignedIn(_) => Redirect::to(&format!("/p/{slug}/account/verify?error=start")),
        CodeOutcome::Wrong { .. } => Redirect::to(&format!("/p/{slug}/account/verify?sent=1&error=wrong")),
        CodeOutcome::Expired | CodeOutcome::TooManyTries => {
            Redirect::to(&format!("/p/{slug}/account/verify?error=expired"))
        }
    })
}

async fn remove_card(
    State(state): State<AppState>,
    session: Session,
    Path((slug, id)): Path<(String, String)>,
) -> Result<Redirect, HttpError> {
    let (_, identity) = match signed_in(&state, &session, &slug).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    let now = state.clock.now();
    if !portal_session::is_stepped_up(&session, &identity, now).await? {
        return Ok(Redirect::to(&format!("/p/{slug}/account/verify")));
    }
    settings::remove_card(&state, &identity, &id).await?;
    Ok(Redirect::to(&format!("/p/{slug}/account/settings?saved=card")))
}
