//! `Authorization: Bearer sk_settle_…` → the merchant the key belongs to,
//! within the limits per key and, for keys that aren't valid, per IP.

use super::error::ApiError;
use crate::throttle::{ApiKeyLimit, BAD_API_KEYS_PER_IP};
use app::server::console::api_keys;
use app::server::repo::merchants::MerchantRow;
use app::server::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;

/// The merchant behind the request's API key, and the key's id.
pub struct ApiMerchant {
    pub merchant: MerchantRow,
    pub key_id: String,
}

/// 429 in the API's error shape, with `Retry-After`.
pub fn too_many(retry_after_secs: i64) -> Response {
    let error = ApiError {
        status: StatusCode::TOO_MANY_REQUESTS,
        code: "rate_limited",
        message: format!("Too many requests; try again in {retry_after_secs} seconds."),
        param: None,
    };
    let mut res = error.into_response();
    if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

impl FromRequestParts<AppState> for ApiMerchant {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let (pool, now) = (state.db.pool(), state.clock.now());
        let ip = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string()).unwrap_or_default();
        let internal = |e: sqlx::Error| ApiError::from(e).into_response();
        // An IP that has been guessing keys is refused before its next guess.
        if let Err(wait) = BAD_API_KEYS_PER_IP.check(pool, &ip, now).await.map_err(internal)? {
            return Err(too_many(wait));
        }
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let found = match presented {
            Some(key) => api_keys::authenticate(pool, key, now).await.map_err(|e| ApiError::from(e).into_response())?,
            None => None,
        };
        let Some((merchant, key_id)) = found else {
            // A request with no key at all is a mistake, not a guess.
            if presented.is_some() {
                BAD_API_KEYS_PER_IP.hit(pool, &ip, now).await.map_err(internal)?.ok();
            }
            return Err(ApiError::unauthorized().into_response());
        };
        let limit = parts.extensions.get::<ApiKeyLimit>().copied().unwrap_or(ApiKeyLimit::per_minute(600)).0;
        if let Err(wait) = limit.hit(pool, &key_id, now).await.map_err(internal)? {
            return Err(too_many(wait));
        }
        Ok(ApiMerchant { merchant, key_id })
    }
}
