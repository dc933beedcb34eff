//! `POST /webhooks/stripe/{merchant}`: Stripe's deliveries for one merchant.
//! 200 for an event applied or seen before (so Stripe stops retrying);
//! 400 for a bad signature, stale timestamp or unreadable event; 404 for a
//! merchant without webhooks. Nothing about why goes back beyond that.

use crate::http_error::HttpError;
use app::server::webhooks::{self, Received, Refused};
use app::server::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new().route("/webhooks/stripe/{merchant}", post(stripe))
}

async fn stripe(
    State(state): State<AppState>,
    Path(merchant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, &'static str), HttpError> {
    let signature = headers.get("stripe-signature").and_then(|v| v.to_str().ok()).unwrap_or("");
    Ok(match webhooks::receive_stripe(&state, &merchant, &body, signature).await? {
        Ok(Received::Applied) => (StatusCode::OK, "ok\n"),
        Ok(Received::Duplicate) => (StatusCode::OK, "duplicate\n"),
        Err(Refused::UnknownMerchant | Refused::NotConfigured) => (StatusCode::NOT_FOUND, "not found\n"),
        Err(Refused::Invalid(_)) => (StatusCode::BAD_REQUEST, "invalid webhook\n"),
    })
}
