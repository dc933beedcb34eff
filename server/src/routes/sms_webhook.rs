//! `POST /webhooks/sms/inbound`: replies to our sending number, forwarded
//! by the SMS provider. STOP (and its synonyms) opts the number out of text
//! messages for every merchant on this install; START opts it back in.
//! Answered with empty TwiML: the provider sends the carrier-required
//! confirmation itself. 403 for a missing or wrong signature; 404 when no
//! provider is configured.

use crate::sms::inbound::{self, Intent};
use app::server::repo::customers;
use app::server::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Router};
use std::sync::Arc;

pub const PATH: &str = "/webhooks/sms/inbound";

/// What the route needs to check a forward: the token that signs it and the
/// public URL the provider posts to (the signature covers it).
#[derive(Clone)]
pub struct SmsInbound(pub Option<Arc<InboundSettings>>);

pub struct InboundSettings {
    pub auth_token: String,
    pub url: String,
}

pub fn router() -> Router<AppState> {
    Router::new().route(PATH, post(receive))
}

async fn receive(
    State(state): State<AppState>,
    Extension(SmsInbound(settings)): Extension<SmsInbound>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(settings) = settings else {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    };
    let Ok(fields) = serde_urlencoded_pairs(&body) else {
        return (StatusCode::BAD_REQUEST, "unreadable form\n").into_response();
    };
    let signature = headers.get("x-twilio-signature").and_then(|v| v.to_str().ok()).unwrap_or("");
    if !inbound::verify(&settings.auth_token, &settings.url, &fields, signature) {
        tracing::warn!("inbound SMS with a bad signature refused");
        return (StatusCode::FORBIDDEN, "invalid signature\n").into_response();
    }
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("");
    let Some(number) = app::server::settings::sms_number(field("From")) else {
        return (StatusCode::BAD_REQUEST, "no sender number\n").into_response();
    };
    let now = state.clock.now();
    let result = async {
        let mut tx = app::server::db::begin_write(state.db.pool()).await?;
        let changed = match inbound::intent(field("Body")) {
            Intent::OptOut => customers::opt_out_of_sms(&mut tx, &number, "reply", now).await?,
            Intent::OptIn => customers::opt_in_to_sms(&mut tx, &number, "reply", now).await?,
            Intent::Other => 0,
        };
        tx.commit().await?;
        Ok::<usize, sqlx::Error>(changed)
    }
    .await;
    match result {
        Ok(changed) => {
            tracing::info!(changed, "inbound SMS handled");
            ([(header::CONTENT_TYPE, "text/xml")], "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>")
                .into_response()
        }
        Err(e) => {
            // The provider retries on 5xx; nothing was changed.
            tracing::error!(error = %e, "inbound SMS not recorded");
            (StatusCode::SERVICE_UNAVAILABLE, "try again\n").into_response()
        }
    }
}

/// The form's fields in order, as sent (names may repeat).
fn serde_urlencoded_pairs(body: &[u8]) -> Result<Vec<(String, String)>, ()> {
    std::str::from_utf8(body).map_err(|_| ())?;
    Ok(url::form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
}
