//! Outbound webhooks: every merchant event is POSTed, signed, to each of the
//! merchant's endpoints. A delivery row per (endpoint, event) is written
//! first (the unique pair makes each one happen once, whatever the number
//! of workers), then claimed under a lease and sent; failures are retried
//! with backoff and given up after `MAX_ATTEMPTS`, the error kept.
//!
//! Signature: `Settle-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
//! "{t}.{body}" with the endpoint's secret>` (Stripe's scheme, so the same
//! verification code works).

use crate::delivery::backoff_ms;
use app::server::db::{begin_write, Claim};
use app::server::gateway::signature;
use app::server::ids::new_id_body;
use app::server::lease_keeper::renew_until_dropped;
use app::server::repo::events;
use app::server::repo::merchants::MerchantRow;
use app::server::repo::outbox_leases::{self, Outbox};
use app::server::tokens::SecretToken;
use app::server::{AppError, Clock, Db, UtcMillis};
use std::time::Duration;

pub const MAX_ATTEMPTS: i64 = 8;
const LEASE_MS: i64 = 60_000;
/// Events older than this when an endpoint is added are not sent to it.
const LOOKBACK_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// Only https, except plain http to this machine (for development).
pub fn check_url(raw: &str) -> Result<String, String> {
    let url = url::Url::parse(raw.trim()).map_err(|_| format!("{:?} is not a URL.", raw.trim()))?;
    let host = url.host_str().unwrap_or("");
    let local = matches!(host, "localhost" | "127.0.0.1" | "[::1]" | "::1");
    match url.scheme() {
        "https" if !host.is_empty() => {}
        "http" if local => {}
        "http" => return Err("Use an https:// address (plain http only to this machine, for testing).".into()),
        _ => return Err("Use an https:// address.".into()),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("Leave credentials out of the address; check the signature instead.".into());
    }
    if raw.len() > 500 {
        return Err("The address is longer than 500 characters.".into());
    }
    Ok(url.to_string())
}

/// Adds an endpoint; the secret is returned this once (`whsec_…`).
pub async fn add_endpoint(
    db: &Db,
    merchant: &MerchantRow,
    url: &str,
    actor: (&str, Option<&str>),
    now: UtcMillis,
) -> Result<Result<String, String>, AppError> {
    let url = match check_url(url) {
        Ok(u) => u,
        Err(problem) => return Ok(Err(problem)),
    };
    let secret = format!("whsec_{}", SecretToken::generate().expose());
    let id = format!("whe_{}", new_id_body());
    let mut tx = begin_write(db.pool()).await?;
    sqlx::query("INSERT INTO webhook_endpoints (id, merchant_id, url, secret, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&id)
        .bind(merchant.id.as_str())
        .bind(&url)
        .bind(&secret)
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
    events::audit(
        &mut *tx,
        &merchant.merchant_id(),
        actor.0,
        actor.1,
        "webhook_endpoint.added",
        Some(("webhook_endpoint", id.as_str())),
        &serde_json::json!({ "url": url }),
        None,
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(secret))
}

/// Queues a delivery of every new event to every live endpoint of its merchant.
pub async fn fan_out(db: &Db, now: UtcMillis) -> Result<u64, sqlx::Error> {
    // The id is made from the pair, so a second fan-out of the same pair
    // collides with the first and adds nothing.
    let done = sqlx::query(
        "INSERT INTO webhook_deliveries (id, merchant_id, endpoint_id, event_id, next_attempt_at, created_at) \
         SELECT 'whd_' || w.id || '_' || e.id, e.merchant_id, w.id, e.id, $1, $1 \
         FROM webhook_endpoints w JOIN events e ON e.merchant_id = w.merchant_id \
         WHERE w.disabled_at IS NULL AND e.created_at >= w.created_at AND e.created_at >= $2 \
         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.endpoint_id = w.id AND d.event_id = e.id) \
         ON CONFLICT DO NOTHING",
    )
    .bind(now.0)
    .bind(now.0 - LOOKBACK_MS)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected())
}

#[derive(sqlx::FromRow)]
struct Claimed {
    id: String,
    endpoint_id: String,
    event_id: String,
    attempts: i64,
}

async fn claim(db: &Db, now: UtcMillis, limit: i64) -> Result<Vec<Claimed>, sqlx::Error> {
    let sql = db.backend().claim_sql(&Claim {
        table: "webhook_deliveries",
        due: "((status = 'queued' AND next_attempt_at <= $2) OR (status = 'sending' AND lease_expires_at < $2))",
        order_by: "next_attempt_at, id",
        limit: "$3",
        set: "status = 'sending', lease_expires_at = $1, attempts = attempts + 1",
        returning: "id, endpoint_id, event_id, attempts",
    });
    sqlx::query_as(&sql).bind(now.0 + LEASE_MS).bind(now.0).bind(limit).fetch_all(db.pool()).await
}

/// The body sent for an event.
async fn payload(db: &Db, event_id: &str) -> Result<Option<(String, String)>, sqlx::Error> {
    let row: Option<(String, String, Option<String>, Option<String>, String, i64, String)> = sqlx::query_as(
        "SELECT e.id, e.kind, e.customer_id, e.invoice_id, e.detail, e.created_at, m.slug FROM events e \
         JOIN merchants m ON m.id = e.merchant_id WHERE e.id = $1",
    )
    .bind(event_id)
    .fetch_optional(db.pool())
    .await?;
    Ok(row.map(|(id, kind, customer_id, invoice_id, detail, created_at, slug)| {
        let body = serde_json::json!({
            "id": id, "type": kind, "created_at": created_at, "merchant": slug,
            "customer_id": customer_id, "invoice_id": invoice_id,
            "data": serde_json::from_str::<serde_json::Value>(&detail).unwrap_or(serde_json::Value::Null),
        });
        (id, body.to_string())
    }))
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct WebhookReport {
    pub queued: u64,
    pub delivered: usize,
    pub retrying: usize,
    pub failed: usize,
}

/// One pass: fan out new events, then send what is due, renewing the
/// batch's leases while it runs (50 slow endpoints take longer than one
/// lease, and another worker must not send the same deliveries meanwhile).
pub async fn run_once(db: &Db, http: &reqwest::Client, clock: &dyn Clock) -> Result<WebhookReport, sqlx::Error> {
    let now = clock.now();
    let queued = fan_out(db, now).await?;
    let claimed = claim(db, now, 50).await?;
    if claimed.is_empty() {
        return Ok(WebhookReport { queued, ..WebhookReport::default() });
    }
    let ids: Vec<String> = claimed.iter().map(|d| d.id.clone()).collect();
    let ids = &ids;
    let renew = move || outbox_leases::renew_sending(db, Outbox::WebhookDeliveries, ids, clock.now(), LEASE_MS);
    let sent = tokio::select! {
        sent = send(db, http, now, claimed) => sent?,
        never = renew_until_dropped("webhook deliveries", renew) => match never {},
    };
    Ok(WebhookReport { queued, ..sent })
}

/// Sends the claimed deliveries and records each outcome.
async fn send(
    db: &Db,
    http: &reqwest::Client,
    now: UtcMillis,
    claimed: Vec<Claimed>,
) -> Result<WebhookReport, sqlx::Error> {
    let mut report = WebhookReport::default();
    for d in claimed {
        let endpoint: Option<(String, String, Option<i64>)> =
            sqlx::query_as("SELECT url, secret, disabled_at FROM webhook_endpoints WHERE id = $1")
                .bind(&d.endpoint_id)
                .fetch_optional(db.pool())
                .await?;
        let (outcome, status) = match (endpoint, payload(db, &d.event_id).await?) {
            (Some((_, _, Some(_))), _) => (Err("the endpoint was disabled".to_string()), None),
            (Some((url, secret, None)), Some((event_id, body))) => {
                let header = signature::sign(body.as_bytes(), &secret, now.0 / 1000);
                let sent = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("settle-signature", header)
                    .header("settle-event-id", event_id)
                    .header("user-agent", "Settle-Webhooks/1")
                    .body(body)
                    .send()
                    .await;
                match sent {
                    Ok(res) if res.status().is_success() => (Ok(()), Some(res.status().as_u16() as i64)),
                    Ok(res) => {
                        (Err(format!("the endpoint answered {}", res.status())), Some(res.status().as_u16() as i64))
                    }
                    Err(e) => (Err(format!("could not reach the endpoint: {}", e.without_url())), None),
                }
            }
            _ => (Err("the endpoint or event is gone".to_string()), None),
        };
        match outcome {
            Ok(()) => {
                sqlx::query(
                    "UPDATE webhook_deliveries SET status = 'delivered', delivered_at = $1, last_status = $2, \
                     lease_expires_at = NULL, last_error = NULL WHERE id = $3",
                )
                .bind(now.0)
                .bind(status)
                .bind(&d.id)
                .execute(db.pool())
                .await?;
                report.delivered += 1;
            }
            Err(error) => {
                let give_up = d.attempts >= MAX_ATTEMPTS;
                sqlx::query(
                    "UPDATE webhook_deliveries SET status = $1, next_attempt_at = $2, last_status = $3, last_error = $4, \
                     lease_expires_at = NULL WHERE id = $5",
                )
                .bind(if give_up { "failed" } else { "queued" })
                .bind(now.0 + backoff_ms(d.attempts))
                .bind(status)
                .bind(&error)
                .bind(&d.id)
                .execute(db.pool())
                .await?;
                tracing::info!(delivery = %d.id, attempts = d.attempts, error = %error, "webhook delivery failed");
                if give_up {
                    report.failed += 1;
                } else {
                    report.retrying += 1;
                }
            }
        }
    }
    Ok(report)
}

/// The HTTP client deliveries use: short timeouts, no redirects followed
/// (a redirect could point anywhere).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
}

#[cfg(test)]
mod tests {
    use super::check_url;

    #[test]
    fn only_https_or_this_machine() {
        assert_eq!(check_url("https://hooks.example.com/settle").unwrap(), "https://hooks.example.com/settle");
        assert!(check_url("http://127.0.0.1:8080/hook").is_ok());
        assert!(check_url("http://localhost/hook").is_ok());
        assert!(check_url("http://hooks.example.com/settle").unwrap_err().starts_with("Use an https://"));
        assert!(check_url("ftp://hooks.example.com").unwrap_err().starts_with("Use an https://"));
        assert!(check_url("https://user:pw@hooks.example.com").unwrap_err().starts_with("Leave credentials out"));
        assert!(check_url("not a url").unwrap_err().ends_with("is not a URL."));
    }
}
