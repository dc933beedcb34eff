//! Limits on the endpoints that take a secret: links carrying a token, the
//! one-time code forms, API keys. Sign-in forms have their own limits per
//! address (`app::server::sign_in`). The counters live in the database, so
//! every replica enforces the same limit.

use crate::routes::sign_in::too_many;
use app::server::repo::rate_limits;
use app::server::{AppState, UtcMillis};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use sqlx::AnyPool;
use std::net::SocketAddr;

/// At most `max` hits per `window_ms` for each key of `bucket`.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    pub bucket: &'static str,
    pub max: i64,
    pub window_ms: i64,
}

/// Requests to a link with a token or a code form, per IP: room for a
/// household or an office, far too few to guess a 128-bit token or
/// (with the per-challenge lock) a code.
pub const SECRETS_PER_IP: Limit = Limit { bucket: "secret-ip", max: 60, window_ms: 10 * 60_000 };
/// API requests with a key that isn't valid, per IP.
pub const BAD_API_KEYS_PER_IP: Limit = Limit { bucket: "api-bad-key-ip", max: 20, window_ms: 15 * 60_000 };
/// Requests per API key per minute (`SETTLE_API_REQUESTS_PER_MINUTE`,
/// default 600: ten a second on average, bursts allowed). Handed to the
/// API's key check as a request extension.
#[derive(Clone, Copy, Debug)]
pub struct ApiKeyLimit(pub Limit);

impl ApiKeyLimit {
    pub fn per_minute(max: u32) -> ApiKeyLimit {
        ApiKeyLimit(Limit { bucket: "api-key", max: i64::from(max), window_ms: 60_000 })
    }
}

impl Limit {
    fn key(&self, who: &str) -> String {
        format!("{}:{who}", self.bucket)
    }

    /// Counts one hit for `who`; `Err(seconds until it may try again)` once over.
    pub async fn hit(&self, pool: &AnyPool, who: &str, now: UtcMillis) -> Result<Result<(), i64>, sqlx::Error> {
        let hits = rate_limits::hit(pool, &self.key(who), self.window_ms, now).await?;
        Ok(self.verdict(hits, now))
    }

    /// Like `hit`, without counting (for limits that count failures only).
    pub async fn check(&self, pool: &AnyPool, who: &str, now: UtcMillis) -> Result<Result<(), i64>, sqlx::Error> {
        let hits = rate_limits::hits(pool, &self.key(who), self.window_ms, now).await?;
        Ok(self.verdict(hits + 1, now))
    }

    fn verdict(&self, hits: i64, now: UtcMillis) -> Result<(), i64> {
        if hits > self.max {
            Err(rate_limits::retry_after_secs(self.window_ms, now))
        } else {
            Ok(())
        }
    }
}

/// Whether a request presents a token (in a link, or to the server
/// functions that look one up) or a one-time code (posted to its form).
pub fn takes_a_secret(method: &Method, path: &str) -> bool {
    let s: Vec<&str> = path.split('/').collect();
    match s.as_slice() {
        ["", "p", _, "l" | "s", _, ..] | ["", "m", _, "invite", _, ..] => true,
        ["", "p", _, "sign-in", "code"] | ["", "p", _, "account", "verify", "code"] => *method == Method::POST,
        // The server functions that look a token up.
        ["", "_srv", "link_status" | "sign_in_link" | "invitation"] => true,
        _ => false,
    }
}

/// Middleware: refuses secret-bearing requests from an IP over its limit.
pub async fn secrets(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !takes_a_secret(req.method(), req.uri().path()) {
        return next.run(req).await;
    }
    let ip = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string()).unwrap_or_default();
    match SECRETS_PER_IP.hit(state.db.pool(), &ip, state.clock.now()).await {
        Ok(Ok(())) => next.run(req).await,
        Ok(Err(retry_after)) => {
            tracing::warn!(ip = %ip, "too many requests with tokens or codes");
            too_many(retry_after, "/")
        }
        // The limit is a defence, not a gate to the database being up:
        // the handler will report the database problem itself.
        Err(e) => {
            tracing::warn!(error = %e, "rate limit unavailable");
            next.run(req).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::takes_a_secret;
    use axum::http::Method;

    #[test]
    fn secret_bearing_paths_are_recognised() {
        for p in [
            "/p/acme/l/abc",
            "/p/acme/l/abc/renew",
            "/p/acme/s/abc",
            "/m/acme/invite/abc",
            "/p/acme/sign-in/code",
            "/p/acme/account/verify/code",
            "/_srv/link_status",
            "/_srv/invitation",
        ] {
            assert!(takes_a_secret(&Method::POST, p), "{p}");
        }
        assert!(takes_a_secret(&Method::GET, "/p/acme/l/abc"), "a link's page tells whether it is valid");
        assert!(!takes_a_secret(&Method::GET, "/p/acme/sign-in/code"), "the code form itself");
        for p in ["/p/acme", "/p/acme/account", "/p/acme/sign-in", "/m/acme/staff", "/_srv/account", "/p/l/x"] {
            assert!(!takes_a_secret(&Method::POST, p), "{p}");
        }
    }
}
