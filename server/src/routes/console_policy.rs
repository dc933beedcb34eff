//! The policy editor's posts: save the policy, or preview what it would
//! do with the simulator on a copy of the merchant's own data.

use crate::http_error::HttpError;
use crate::routes::console::{origin, staff};
use app::console_api::{PREVIEWED_POLICY, REJECTED_POLICY};
use app::server::console::session as console_session;
use app::server::console::{policy_form, Action};
use app::server::dunning::sim_gateway::CardBehaviour;
use app::server::dunning::simulate::{simulate, SimOptions};
use app::server::dunning::store;
use app::server::repo::events;
use app::server::{AppError, AppState};
use app::types::Currency;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use std::net::SocketAddr;
use tower_sessions::Session;

/// The preview looks this far ahead.
pub const PREVIEW_DAYS: u32 = 30;

pub fn router() -> Router<AppState> {
    Router::new().route("/m/{slug}/policy", post(save)).route("/m/{slug}/policy/preview", post(preview))
}

async fn save(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, HttpError> {
    let (merchant, staff) = match staff(&state, &session, &slug).await? {
        Ok(found) => found,
        Err(to_sign_in) => return Ok(to_sign_in.into_response()),
    };
    staff.require(Action::EditPolicy)?;
    let back = Redirect::to(&format!("/m/{slug}/policy")).into_response();
    let currency = Currency::parse(&merchant.default_currency).map_err(AppError::internal)?;
    let form = policy_form::from_pairs(&pairs);
    let policy = match policy_form::parse(&form, currency) {
        Ok(p) => p,
        Err(errors) => {
            console_session::set_rejected(&session, REJECTED_POLICY, &(form, errors)).await?;
            console_session::set_notice(&session, false, "Nothing was saved: see the problems listed.".into()).await?;
            return Ok(back);
        }
    };
    let now = state.clock.now();
    let mid = merchant.merchant_id();
    let saved = store::save(state.db.pool(), &mid, "Edited in the console", &policy, now).await?;
    if let Err(problems) = saved {
        let errors: Vec<String> = problems.into_iter().map(|p| p.to_string()).collect();
        console_session::set_rejected(&session, REJECTED_POLICY, &(form, errors)).await?;
        return Ok(back);
    }
    let o = origin(peer, &headers);
    let detail = serde_json::to_value(&policy).map_err(AppError::internal)?;
    events::audit(
        state.db.pool(),
        &mid,
        "merchant_user",
        Some(staff.user.id.as_str()),
        "policy.changed",
        Some(("merchant", merchant.id.as_str())),
        &detail,
        o.ip.as_deref(),
        o.user_agent.as_deref(),
        now,
    )
    .await?;
    tracing::info!(merchant = %merchant.id, user = %staff.user.id, "dunning policy saved");
    console_session::set_notice(&session, true, "Saved. The next sweep follows the new policy.".into()).await?;
    Ok(back)
}

async fn preview(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, HttpError> {
    let (merchant, staff) = match staff(&state, &session, &slug).await? {
        Ok(found) => found,
        Err(to_sign_in) => return Ok(to_sign_in.into_response()),
    };
    staff.require(Action::View)?;
    let back = Redirect::to(&format!("/m/{slug}/policy#preview")).into_response();
    let currency = Currency::parse(&merchant.default_currency).map_err(AppError::internal)?;
    let form = policy_form::from_pairs(&pairs);
    let policy = match policy_form::parse(&form, currency) {
        Ok(p) => p,
        Err(errors) => {
            console_session::set_rejected(&session, REJECTED_POLICY, &(form, errors)).await?;
            return Ok(Redirect::to(&format!("/m/{slug}/policy")).into_response());
        }
    };
    let opts = SimOptions {
        merchant_slug: merchant.slug.clone(),
        days: PREVIEW_DAYS,
        customer_email: None,
        policy: Some(policy),
        pays_after_reminder: None,
        card: CardBehaviour::Pays,
        base_url: state.portal.base_url.clone(),
    };
    let timeline = simulate(&state.db, state.clock.now(), &opts, &std::env::temp_dir())
        .await
        .map_err(|e| AppError::internal(format!("policy preview: {e}")))?;
    console_session::set_rejected(&session, PREVIEWED_POLICY, &(form, timeline.render())).await?;
    Ok(back)
}
