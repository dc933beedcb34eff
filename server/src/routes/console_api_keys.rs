//! Creating and revoking REST API keys from the console. A new key is
//! shown on the response page itself, once; it is never stored or logged.

use crate::http_error::HttpError;
use crate::routes::console::{origin, staff};
use app::server::console::actions::Outcome;
use app::server::console::api_keys;
use app::server::console::session as console_session;
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
    Router::new().route("/m/{slug}/api-keys", post(create)).route("/m/{slug}/api-keys/{id}/revoke", post(revoke))
}

#[derive(Deserialize)]
struct NewKey {
    #[serde(default)]
    name: String,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
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
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width, initial-scale=1\"><title>Your new API key</title>\
         <link rel=\"stylesheet\" href=\"/pkg/settle.css\"></head><body><div class=\"portal portal--plain\">\
         <main id=\"main\" class=\"portal__main\"><h1>Your new API key</h1>\
         <p>Copy it now: this is the only time it is shown. Settle keeps only a fingerprint of it.</p>\
         <p><label for=\"key\">Key \u{201c}{name}\u{201d}</label><br>\
         <input id=\"key\" class=\"input\" readonly size=\"40\" value=\"{secret}\"></p>\
         <p><a href=\"/m/{slug}/api-keys\">Back to API keys</a></p></main></div></body></html>",
        name = escape(form.name.trim()),
        secret = escape(&secret),
        slug = escape(&slug),
    );
    let mut res = Html(body).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
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
    let (ok, text) = match outcome {
        Outcome::Done(t) => (true, t),
        Outcome::Unchanged(t) => (false, t),
    };
    console_session::set_notice(&session, ok, text).await?;
    Ok(Redirect::to(&format!("/m/{slug}/api-keys")).into_response())
}
