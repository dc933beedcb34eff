//! The first-run form: on an install with no merchant yet, create the
//! first merchant and its owner from the browser (the same checks as
//! `settle create-merchant`), then sign the owner in to the console.

use crate::http_error::HttpError;
use crate::merchant_admin::{create_merchant, MerchantAdminError, NewMerchantRequest};
use app::console_api::REJECTED_SETUP;
use app::server::console::session::{self as console_session, ConsoleIdentity};
use app::server::repo::{merchant_users, merchants};
use app::server::{AppError, AppState};
use app::types::SetupForm;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use serde::Deserialize;
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new().route("/setup", post(setup))
}

#[derive(Deserialize)]
struct Posted {
    #[serde(flatten)]
    form: SetupForm,
    #[serde(default)]
    password: String,
}

/// The CLI's messages name its options; the form's name its fields.
fn for_the_form(e: &MerchantAdminError) -> String {
    match e {
        MerchantAdminError::BadSlug(s) => format!(
            "The portal address {s:?} can't be used: use 1–63 lower-case letters, digits and dashes, not starting or \
             ending with a dash."
        ),
        MerchantAdminError::SlugTaken(s) => format!("The portal address {s:?} is taken."),
        MerchantAdminError::BadName => "Enter the business name (at most 100 characters).".into(),
        MerchantAdminError::BadEmail(s) => format!("{s:?} is not an email address."),
        MerchantAdminError::BadTimeZone(s) => format!("{s:?} is not an IANA time zone like Europe/London."),
        MerchantAdminError::BadCurrency(s) => format!("{s:?} is not a supported currency code like USD or EUR."),
        MerchantAdminError::WeakPassword(p) => format!("Choose another password: {p}"),
        other => other.to_string(),
    }
}

async fn setup(
    State(state): State<AppState>,
    session: Session,
    Form(posted): Form<Posted>,
) -> Result<Response, HttpError> {
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM merchants").fetch_one(state.db.pool()).await?;
    if count > 0 {
        return Err(AppError::NotFound.into());
    }
    let f = posted.form.clone();
    let request = NewMerchantRequest {
        slug: f.slug.clone(),
        name: f.name.clone(),
        owner_email: f.owner_email.clone(),
        owner_name: f.owner_name.clone(),
        time_zone: f.time_zone.clone(),
        currency: f.currency.trim().to_uppercase(),
        owner_password: posted.password,
    };
    match create_merchant(&state.db, state.clock.as_ref(), request).await {
        Ok(_) => {
            let merchant = merchants::find_by_slug(state.db.pool(), f.slug.trim())
                .await?
                .ok_or_else(|| AppError::internal("the merchant just created is missing"))?;
            let owner = merchant_users::find_by_email(state.db.pool(), &merchant.merchant_id(), &f.owner_email)
                .await?
                .ok_or_else(|| AppError::internal("the owner just created is missing"))?;
            let now = state.clock.now();
            console_session::sign_in(
                &session,
                ConsoleIdentity {
                    merchant_id: merchant.merchant_id(),
                    user_id: owner.user_id(),
                    signed_in_at: now.0,
                    last_seen_at: now.0,
                },
            )
            .await?;
            tracing::info!(merchant = %merchant.id, "first merchant created from the setup form");
            Ok(Redirect::to(&format!("/m/{}/dashboard", merchant.slug)).into_response())
        }
        Err(MerchantAdminError::Db(e)) => Err(AppError::Db(e).into()),
        Err(e) => {
            console_session::set_rejected(&session, REJECTED_SETUP, &(f, for_the_form(&e))).await?;
            Ok(Redirect::to("/setup").into_response())
        }
    }
}
