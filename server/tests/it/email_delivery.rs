//! Email delivery through a real SMTP server (aiosmtpd), on both backends:
//! multipart and branded, once per dedupe key, failures recorded and retried
//! by the running worker, never lost.

use crate::common::smtp::{free_port, SmtpSink};
use crate::common::*;
use app::server::mail::{render_branded, EmailContent};
use app::server::repo::messages::{self, NewEmail};
use app::server::Clock;
use std::time::{Duration, Instant};

async fn app_with_smtp(backend: Backend, url: String) -> Option<TestApp> {
    spawn_app_with(backend, move |c| {
        c.smtp_url = Some(url);
        c.mail_from = "billing-robot@settle.test".into();
    })
    .await
}

async fn queue(app: &TestApp, to: &str, key: &str) -> Option<String> {
    let merchant = match app::server::repo::merchants::find_by_slug(app.db.pool(), "acme").await.unwrap() {
        Some(m) => m,
        None => app.merchant("acme", "Acme Co").await,
    };
    let (text, html) = render_branded(
        &merchant,
        "https://pay.acme.example",
        &EmailContent {
            heading: "Your sign-in code".into(),
            paragraphs: vec!["Your code is 424242.".into()],
            action: Some(("Open your account".into(), "https://pay.acme.example/p/acme".into())),
        },
    );
    let email = NewEmail {
        customer: None,
        to_address: to.into(),
        subject: "Your Acme Co sign-in code".into(),
        body_text: text,
        body_html: html,
        template_key: "test".into(),
        dedupe_key: key.into(),
    };
    messages::enqueue_email(app.db.pool(), &merchant.merchant_id(), &email, app.clock.now())
        .await
        .unwrap()
        .map(|id| id.to_string())
}

async fn status(app: &TestApp, key: &str) -> (String, i64, Option<String>) {
    sqlx::query_as("SELECT status, attempts, last_error FROM messages WHERE dedupe_key = $1")
        .bind(key)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

/// Waits (real time) for the app's own delivery worker.
async fn wait_for(
    app: &TestApp,
    key: &str,
    what: impl Fn(&(String, i64, Option<String>)) -> bool,
) -> (String, i64, Option<String>) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let s = status(app, key).await;
        if what(&s) {
            return s;
        }
        assert!(Instant::now() < deadline, "message {key} stuck at {s:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn smtp_delivery_is_multipart_branded_and_once_only(backend: Backend) {
    let Some(sink) = SmtpSink::start() else { return };
    let Some(app) = app_with_smtp(backend, sink.url()).await else { return };
    assert!(queue(&app, "dana@example.com", "signin:1").await.is_some());
    assert!(queue(&app, "dana@example.com", "signin:1").await.is_none(), "same key: no second message");
    let (s, attempts, _) = wait_for(&app, "signin:1", |s| s.0 == "sent").await;
    assert_eq!((s.as_str(), attempts), ("sent", 1));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let received = sink.messages();
    assert_eq!(received.len(), 1, "exactly one email");
    let raw = &received[0];
    assert!(raw.contains("multipart/alternative"), "{raw}");
    assert!(raw.contains("text/plain") && raw.contains("text/html"), "{raw}");
    assert!(
        raw.contains("From: \"Acme Co\" <billing-robot@settle.test>")
            || raw.contains("From: Acme Co <billing-robot@settle.test>"),
        "{raw}"
    );
    assert!(raw.contains("Subject: Your Acme Co sign-in code"), "{raw}");
    assert!(raw.contains("424242"));
    let (transport,): (Option<String>,) =
        sqlx::query_as("SELECT transport FROM messages WHERE dedupe_key = 'signin:1'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(transport.as_deref(), Some("smtp"));
}

async fn failed_delivery_is_recorded_and_retried_not_lost(backend: Backend) {
    let port = free_port();
    let Some(app) = app_with_smtp(backend, format!("smtp://127.0.0.1:{port}")).await else { return };
    queue(&app, "dana@example.com", "signin:2").await.unwrap();
    let (s, attempts, err) = wait_for(&app, "signin:2", |s| s.1 >= 1 && s.0 == "queued").await;
    assert_eq!(s, "queued", "kept for a retry");
    assert!(attempts >= 1);
    assert!(err.as_deref().unwrap_or("").contains("temporary"), "{err:?}");

    // The server comes back; once the backoff has passed the worker delivers.
    let Some(sink) = SmtpSink::start_on(port) else { return };
    app.clock.advance_days(1);
    wait_for(&app, "signin:2", |s| s.0 == "sent").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.messages().len(), 1);
}

async fn undeliverable_address_fails_with_the_reason_kept(backend: Backend) {
    let Some(sink) = SmtpSink::start() else { return };
    let Some(app) = app_with_smtp(backend, sink.url()).await else { return };
    queue(&app, "not an address", "signin:3").await.unwrap();
    let (s, attempts, err) = wait_for(&app, "signin:3", |s| s.0 == "failed").await;
    assert_eq!((s.as_str(), attempts), ("failed", 1), "permanent: no retries");
    assert!(err.unwrap_or_default().contains("bad recipient"));
    assert!(sink.messages().is_empty());
}

async fn without_smtp_messages_stay_in_the_outbox(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    queue(&app, "dana@example.com", "signin:4").await.unwrap();
    wait_for(&app, "signin:4", |s| s.0 == "sent").await;
    let (transport, html): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT transport, body_html FROM messages WHERE dedupe_key = 'signin:4'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(transport.as_deref(), Some("outbox"));
    assert!(html.unwrap_or_default().contains("424242"), "readable in the outbox");
    // The demo's mailbox page shows it (to this machine only).
    let res = fetch(app.url("/_dev/outbox")).await;
    assert_eq!(res.status(), 200);
    let page = page(res).await;
    assert!(page.contains("Your Acme Co sign-in code") && page.contains("424242") && page.contains("dana@example.com"));
}

per_backend!(
    smtp_delivery_is_multipart_branded_and_once_only,
    failed_delivery_is_recorded_and_retried_not_lost,
    undeliverable_address_fails_with_the_reason_kept,
    without_smtp_messages_stay_in_the_outbox
);
