//! `Idempotency-Key` on POST: the first request with a key runs and its
//! response is stored; a retry with the same key and the same request gets
//! that response again (marked `Idempotent-Replayed: true`), a different
//! request with the key is refused, and one still running gets 409. The
//! row is written before the effect, so two at once can't both run.

use super::error::ApiError;
use app::server::AppState;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use sha2::{Digest, Sha256};
use std::future::Future;

const MAX_KEY_LEN: usize = 255;

pub async fn run<F, Fut>(
    state: &AppState,
    merchant_id: &str,
    headers: &HeaderMap,
    request: &str,
    body: &[u8],
    effect: F,
) -> Result<Response, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(StatusCode, serde_json::Value), ApiError>>,
{
    let Some(key) = headers.get("idempotency-key").map(|v| v.to_str().unwrap_or("").trim().to_string()) else {
        let (status, value) = effect().await?;
        return Ok((status, Json(value)).into_response());
    };
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(ApiError::invalid("Idempotency-Key", format!("Use 1 to {MAX_KEY_LEN} visible characters.")));
    }
    let mut hasher = Sha256::new();
    hasher.update(request.as_bytes());
    hasher.update([0]);
    hasher.update(body);
    let fingerprint: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let pool = state.db.pool();
    let claimed = sqlx::query(
        "INSERT INTO api_idempotency (merchant_id, idempotency_key, fingerprint, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (merchant_id, idempotency_key) DO NOTHING",
    )
    .bind(merchant_id)
    .bind(&key)
    .bind(&fingerprint)
    .bind(state.clock.now().0)
    .execute(pool)
    .await?
    .rows_affected()
        == 1;
    if !claimed {
        let (stored_fp, status, stored): (String, Option<i64>, Option<String>) = sqlx::query_as(
            "SELECT fingerprint, status, body FROM api_idempotency WHERE merchant_id = $1 AND idempotency_key = $2",
        )
        .bind(merchant_id)
        .bind(&key)
        .fetch_one(pool)
        .await?;
        if stored_fp != fingerprint {
            return Err(ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "idempotency_key_reused",
                message: "This Idempotency-Key was used for a different request.".into(),
                param: Some("Idempotency-Key".into()),
            });
        }
        return match (status, stored) {
            (Some(status), Some(body)) => {
                let value: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                let status = StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK);
                let mut res = (status, Json(value)).into_response();
                res.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
                Ok(res)
            }
            _ => Err(ApiError::conflict("conflict", "A request with this Idempotency-Key is still being processed.")),
        };
    }
    match effect().await {
        Ok((status, value)) => {
            store(state, merchant_id, &key, status, &value).await?;
            Ok((status, Json(value)).into_response())
        }
        // A refusal is an answer too, and is replayed like one.
        Err(e) if e.status.is_client_error() => {
            store(state, merchant_id, &key, e.status, &e.body()).await?;
            Err(e)
        }
        // Our failure: forget the key so a retry runs again.
        Err(e) => {
            sqlx::query("DELETE FROM api_idempotency WHERE merchant_id = $1 AND idempotency_key = $2")
                .bind(merchant_id)
                .bind(&key)
                .execute(pool)
                .await?;
            Err(e)
        }
    }
}

async fn store(
    state: &AppState,
    merchant_id: &str,
    key: &str,
    status: StatusCode,
    value: &serde_json::Value,
) -> Result<(), ApiError> {
    sqlx::query("UPDATE api_idempotency SET status = $1, body = $2 WHERE merchant_id = $3 AND idempotency_key = $4")
        .bind(status.as_u16() as i64)
        .bind(value.to_string())
        .bind(merchant_id)
        .bind(key)
        .execute(state.db.pool())
        .await?;
    Ok(())
}
