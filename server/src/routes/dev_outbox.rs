//! The demo's mailbox: without an SMTP server, emails stay in the outbox;
//! this page shows the latest ones so a person trying the demo can read
//! their sign-in code. Only when no SMTP server is configured, and only to
//! requests from this machine (loopback); everywhere else it is a 404.

use crate::http_error::HttpError;
use app::server::mail::escape_html;
use app::server::{AppError, AppState};
use axum::extract::{ConnectInfo, State};
use axum::response::Html;
use axum::routing::get;
use axum::{Extension, Router};
use std::net::SocketAddr;

/// Whether the outbox viewer is switched on (no SMTP configured).
#[derive(Clone, Copy, Debug)]
pub struct OutboxViewer(pub bool);

pub fn router() -> Router<AppState> {
    Router::new().route("/_dev/outbox", get(outbox))
}

async fn outbox(
    State(state): State<AppState>,
    Extension(OutboxViewer(enabled)): Extension<OutboxViewer>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Result<Html<String>, HttpError> {
    if !enabled || !peer.ip().is_loopback() {
        return Err(AppError::NotFound.into());
    }
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT to_address, subject, body_text, created_at FROM messages WHERE channel = 'email' \
         ORDER BY created_at DESC LIMIT 20",
    )
    .fetch_all(state.db.pool())
    .await?;
    let items: String = rows
        .iter()
        .map(|(to, subject, text, at)| {
            let when = app::server::UtcMillis(*at).to_timestamp().strftime("%Y-%m-%d %H:%M:%S UTC").to_string();
            format!(
                "<article class=\"panel\"><h2>{}</h2><p class=\"muted\">To {} · {}</p><pre class=\"mail\">{}</pre></article>",
                escape_html(subject),
                escape_html(to),
                when,
                escape_html(text)
            )
        })
        .collect();
    let empty = if rows.is_empty() { "<p>No emails yet.</p>" } else { "" };
    Ok(Html(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Demo outbox · Settle</title><link rel=\"stylesheet\" href=\"/pkg/settle.css\"></head><body><div class=\"portal\">\
         <main id=\"main\" class=\"portal__main\"><h1>Demo outbox</h1>\
         <p>No SMTP server is configured, so emails stay here instead of being sent. Newest first; \
         set <code>SETTLE_SMTP_URL</code> to deliver them. This page answers only on this machine.</p>{empty}{items}</main></div></body></html>"
    )))
}
