//! Creating and revoking REST API keys, and adding and disabling webhook
//! endpoints, from the console. A new key is
//! shown on the response page itself, once; it is never stored or logged.

use crate::http_error::HttpError;
use crate::routes::console::{origin, staff};
use app::server::console::api_keys;
use app::server::console::session as console_session;
use app::server::mail::escape_html as escape;
use app::server::AppState;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use serde::Deserialize;
use std::net::SocketAddr;
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/m/{slug}/api-keys", post(create))
        .route("/m/{slug}/api-keys/{id}/revoke", post(revoke))
        .route("/m/{slug}/webhooks", post(add_webhook))
        .route("/m/{slug}/webhooks/{id}/disable", post(disable_webhook))
}

#[derive(Deserialize)]
struct NewKey {
    #[serde(default)]
    name: String,
}

/// A page showing a secret this one time (`Cache-Control: no-store`); it
/// is never stored or logged. `intro` is plain text.
fn shown_once(title: &str, intro: &str, label: &str, secret: &str, slug: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width, initial-scale=1\"><title>{title}</title>\
         <link rel=\"stylesheet\" href=\"/pkg/settle.css\"></head><body><div class=\"portal portal--plain\">\
         <main id=\"main\" class=\"portal__main\"><h1>{title}</h1><p>{intro}</p>\
         <p><label for=\"secret\">{label}</label><br>\
         <input id=\"secret\" class=\"input\" readonly size=\"44\" value=\"{secret}\"></p>\
         <p><a href=\"/m/{slug}/api-keys\">Back to API keys and webhooks</a></p></main></div></body></html>",
        title = escape(title),
        intro = escape(intro),
        label = escape(label),
        secret = escape(secret),
        slug = escape(slug),
    );
    let mut res = Html(body).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

async fn create(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(form): Form<NewKey>,
) -> Result<Response, HttpError> {
    let (merchant, staff) = match staff(&state, &session, &slug).await? {
        Ok(found) => found,
        Err(to_sign_in) => return Ok(to_sign_in.into_response()),
    };
    let made =
        api_keys::create(state.db.pool(), &staff, &merchant, &form.name, &origin(peer, &headers), state.clock.now())
            .await?;
    let secret = match made {
        Ok(secret) => secret,
        Err(problem) => {
            console_session::set_notice(&session, false, problem).await?;
            return Ok(Redirect::to(&format!("/m/{slug}/api-keys")).into_response());
        }
    };
    tracing::info!(merchant = %merchant.id, user = %staff.user.id, "api key created");
    Ok(shown_once(
        "Your new API key",
        "Copy it now: this is the only time it is shown. Settle keeps only a fingerprint of it.",
        &format!("Key \u{201c}{}\u{201d}", form.name.trim()),
        &secret,
        &slug,
    ))
}

async fn revoke(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, String)>,
) -> Result<Response, HttpError> {
    let (merchant, staff) = match staff(&state, &session, &slug).await? {
        Ok(found) => found,
        Err(to_sign_in) => return Ok(to_sign_in.into_response()),
    };
    let outcome =
        api_keys::revoke(state.db.pool(), &staff, &merchant, &id, &origin(peer, &headers), state.clock.now()).await?;
    console_session::set_outcome(&session, outcome).await?;
    Ok(Redirect::to(&format!("/m/{slug}/api-keys")).into_response())
}

#[derive(Deserialize)]
struct NewEndpoint {
    #[serde(default)]
    url: String,
}

/// Adds a webhook endpoint; its signing secret is shown on this page, once.
async fn add_webhook(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    Form(form): Form<NewEndpoint>,
) -> Result<Response, HttpError> {
    let (merchant, staff) = match staff(&state, &session, &slug).await? {
        Ok(found) => found,
        Err(to_sign_in) => return Ok(to_sign_in.into_response()),
    };
    staff.require(app::server::console::Action::ManageIntegrations)?;
    let actor = ("merchant_user", Some(staff.user.id.as_str()));
    let secret = match crate::outbound_webhooks::add_endpoint(&state.db, &merchant, &form.url, actor, state.clock.now())
        .await?
    {
        Ok(secret) => secret,
        Err(problem) => {
            console_session::set_notice(&session, false, format!("The endpoint wasn't added: {problem}")).await?;
            return Ok(Redirect::to(&format!("/m/{slug}/api-keys")).into_response());
        }
    };
    Ok(shown_once(
        "Your webhook signing secret",
        &format!(
            "Events go to {}. Check each one's Settle-Signature header with this secret; copy it now, it is \
             shown only this once.",
            form.url.trim()
        ),
        "Signing secret",
        &secret,
        &slug,
    ))
}

async fn disable_webhook(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, String)>,
) -> Result<Response, HttpError> {
    let (merchant, staff) = match staff(&state, &session, &slug).await? {
        Ok(found) => found,
        Err(to_sign_in) => return Ok(to_sign_in.into_response()),
    };
    staff.require(app::server::console::Action::ManageIntegrations)?;
    let now = state.clock.now();
    let changed = sqlx::query(
        "UPDATE webhook_endpoints SET disabled_at = $1 WHERE merchant_id = $2 AND id = $3 AND disabled_at IS NULL",
    )
    .bind(now.0)
    .bind(merchant.id.as_str())
    .bind(&id)
    .execute(state.db.pool())
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(app::server::AppError::NotFound.into());
    }
    let o = origin(peer, &headers);
    app::server::repo::events::audit(
        state.db.pool(),
        &merchant.merchant_id(),
        "merchant_user",
        Some(staff.user.id.as_str()),
        "webhook_endpoint.disabled",
        Some(("webhook_endpoint", id.as_str())),
        &serde_json::json!({}),
        o.ip.as_deref(),
        o.user_agent.as_deref(),
        now,
    )
    .await?;
    console_session::set_notice(&session, true, "Disabled the endpoint; nothing more is sent to it.".into()).await?;
    Ok(Redirect::to(&format!("/m/{slug}/api-keys")).into_response())
}
