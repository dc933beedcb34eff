//! `Authorization: Bearer sk_settle_…` → the merchant the key belongs to.

use super::error::ApiError;
use app::server::console::api_keys;
use app::server::repo::merchants::MerchantRow;
use app::server::AppState;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

/// The merchant behind the request's API key, and the key's id.
pub struct ApiMerchant {
    pub merchant: MerchantRow,
    pub key_id: String,
}

impl FromRequestParts<AppState> for ApiMerchant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(ApiError::unauthorized)?;
        match api_keys::authenticate(state.db.pool(), presented, state.clock.now()).await? {
            Some((merchant, key_id)) => Ok(ApiMerchant { merchant, key_id }),
            None => Err(ApiError::unauthorized()),
        }
    }
}
