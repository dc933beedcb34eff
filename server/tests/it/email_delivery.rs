//! Email delivery through a real SMTP server (aiosmtpd), on both backends:
//! multipart and branded, once per dedupe key, failures recorded and retried
//! by the running worker, never lost.

use crate::common::smtp::{free_port, SmtpSink};
use crate::common::*;
use app::server::dunning::sweep::sweep;
use app::server::mail::{render_branded, EmailContent};
use app::server::repo::invoices::InvoiceStatus;
use app::server::repo::messages::{self, NewEmail};
use app::server::repo::outbox_leases::{renew_sending, Outbox};
use app::server::{Clock, UtcMillis};
use std::time::{Duration, Instant};

async fn app_with_smtp(backend: Backend, url: String) -> Option<TestApp> {
    spawn_app_with(backend, move |c| {
        c.smtp_url = Some(url);
        c.mail_from = "billing-robot@settle.test".into();
    })
    .await
}

async fn queue(app: &TestApp, to: &str, key: &str) -> Option<String> {
    queue_at(app, to, key, app.clock.now()).await
}

/// Queues a sign-in code email, due at `at`.
async fn queue_at(app: &TestApp, to: &str, key: &str, at: UtcMillis) -> Option<String> {
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
    messages::enqueue_email(app.db.pool(), &merchant.merchant_id(), &email, at).await.unwrap().map(|id| id.to_string())
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

/// The decoded body of the raw email's part of `content_type`.
fn mime_part(raw: &str, content_type: &str) -> String {
    use base64::Engine;
    let raw = raw.replace("\r\n", "\n");
    let start =
        raw.find(&format!("Content-Type: {content_type}")).unwrap_or_else(|| panic!("no {content_type}: {raw}"));
    let (headers, rest) = raw[start..].split_once("\n\n").expect("part headers");
    let body = &rest[..rest.find("\n--").unwrap_or(rest.len())];
    if headers.contains("Content-Transfer-Encoding: base64") {
        let bytes = base64::engine::general_purpose::STANDARD.decode(body.replace('\n', "")).expect("base64 part");
        String::from_utf8(bytes).expect("utf-8 part")
    } else if headers.contains("Content-Transfer-Encoding: quoted-printable") {
        let joined = body.replace("=\n", "");
        let mut out = Vec::new();
        let mut bytes = joined.bytes();
        while let Some(b) = bytes.next() {
            if b == b'=' {
                let hex: String = [bytes.next().unwrap(), bytes.next().unwrap()].iter().map(|&c| c as char).collect();
                out.push(u8::from_str_radix(&hex, 16).expect("quoted-printable escape"));
            } else {
                out.push(b);
            }
        }
        String::from_utf8(out).expect("utf-8 part")
    } else {
        body.to_string()
    }
}

/// A reminder is queued as its text and its content; its HTML part is
/// branded by the worker as it sends, with the same pay-now link as the text.
async fn a_reminder_is_branded_as_html_when_it_is_sent(backend: Backend) {
    let Some(sink) = SmtpSink::start() else { return };
    let Some(app) = app_with_smtp(backend, sink.url()).await else { return };
    let m = app.merchant("dun", "Dun & Sons").await;
    sqlx::query("UPDATE merchants SET primary_color = '#0a7d4f', support_email = 'billing@dun.example'")
        .execute(app.db.pool())
        .await
        .unwrap();
    let c = app.customer(&m.merchant_id(), "Rita Reyes", "UTC").await;
    app.invoice(&m.merchant_id(), &c, "RR-1", 12_345, -2, InvoiceStatus::Open, 0).await;
    assert_eq!(sweep(&app.state, 100).await.unwrap().messages, 1);
    let (key, html, content): (String, Option<String>, Option<String>) =
        sqlx::query_as("SELECT dedupe_key, body_html, body_content FROM messages WHERE customer_id = $1")
            .bind(c.as_str())
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(html, None, "no HTML stored");
    let content = content.expect("the reminder's content");
    assert!(content.contains("RR-1") && content.contains("Pay now"), "{content}");

    wait_for(&app, &key, |s| s.0 == "sent").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let received = sink.messages();
    assert_eq!(received.len(), 1, "exactly one email");
    let (text, html) = (mime_part(&received[0], "text/plain"), mime_part(&received[0], "text/html"));
    let link = text.split("Pay now: ").nth(1).and_then(|l| l.split_whitespace().next()).expect("pay link in text");
    assert!(link.contains("/p/dun/l/") && link.ends_with("?to=pay"), "{link}");
    assert!(html.contains(&format!("href=\"{link}\"")), "the same link as the button: {html}");
    assert!(html.contains("border-top:4px solid #0a7d4f"), "the merchant's colour: {html}");
    assert!(html.contains("Dun &amp; Sons") && html.contains("billing@dun.example"), "{html}");
    assert!(html.contains("RR-1") && html.contains("$123.45"), "{html}");
}

/// A reminder whose stored content can't be read fails with that reason
/// (kept for the merchant), rather than going out without its HTML.
async fn unreadable_reminder_content_fails_with_the_reason(backend: Backend) {
    let Some(sink) = SmtpSink::start() else { return };
    let Some(app) = app_with_smtp(backend, sink.url()).await else { return };
    let m = app.merchant("dun", "Dun Co").await;
    sqlx::query(
        "INSERT INTO messages (id, merchant_id, channel, to_address, subject, body_text, body_content, template_key, \
         dedupe_key, status, created_at, next_attempt_at) \
         VALUES ('msg_bad', $1, 'email', 'rita@example.com', 'Reminder', 'text', '{\"heading\": 1', 'dunning:x', \
         'bad:1', 'queued', $2, $2)",
    )
    .bind(m.id.as_str())
    .bind(app.clock.now().0)
    .execute(app.db.pool())
    .await
    .unwrap();
    let (_, attempts, err) = wait_for(&app, "bad:1", |s| s.0 == "failed").await;
    assert_eq!(attempts, 1, "permanent: no retries");
    assert!(err.unwrap_or_default().contains("stored reminder content is unreadable"));
    assert!(sink.messages().is_empty());
}

/// A worker renews the leases of the messages it is still sending (its
/// batch can outlast one lease behind a slow mail server); a dead worker's
/// lapse and are taken over. The messages are due a day ahead of the app's
/// clock, so the app's own worker leaves them to this test.
async fn a_live_worker_keeps_its_claims_and_a_dead_ones_lapse(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let t0 = app.clock.now().0 + 86_400_000;
    let at = |secs: i64| UtcMillis(t0 + secs * 1000);
    for key in ["lease:1", "lease:2", "lease:3"] {
        queue_at(&app, &format!("{key}@example.com").replace(':', "-"), key, at(0)).await.unwrap();
    }
    let lease = 60_000;
    let live = messages::claim_due(&app.db, at(0), lease, 2).await.unwrap();
    let dead = messages::claim_due(&app.db, at(0), lease, 10).await.unwrap();
    assert_eq!((live.len(), dead.len()), (2, 1));
    let live_ids: Vec<String> = live.iter().map(|m| m.id.clone()).collect();
    // The live worker sends its first message at once, then renews 20 s
    // and 40 s in: only the one it is still sending.
    messages::mark_sent(&app.db, &live_ids[0], "test", None, at(1)).await.unwrap();
    for secs in [20, 40] {
        assert_eq!(renew_sending(&app.db, Outbox::Messages, &live_ids, at(secs), lease).await.unwrap(), 1);
    }
    // 70 s in, past the first lease: only the dead worker's message is free.
    let taken = messages::claim_due(&app.db, at(70), lease, 10).await.unwrap();
    assert_eq!(taken.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), [dead[0].id.as_str()]);
    // Had the live worker died after its last renewal, its message would be
    // free 60 s after it (100 s in), and not before.
    assert!(messages::claim_due(&app.db, at(99), lease, 10).await.unwrap().is_empty());
    let taken = messages::claim_due(&app.db, at(101), lease, 10).await.unwrap();
    assert_eq!(taken.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), [live_ids[1].as_str()]);
    // Webhook deliveries renew the same way, in their own table.
    let none = ["whd_none".to_string()];
    assert_eq!(renew_sending(&app.db, Outbox::WebhookDeliveries, &none, at(101), lease).await.unwrap(), 0);
    assert_eq!(renew_sending(&app.db, Outbox::Messages, &[], at(101), lease).await.unwrap(), 0);
}

per_backend!(
    a_live_worker_keeps_its_claims_and_a_dead_ones_lapse,
    a_reminder_is_branded_as_html_when_it_is_sent,
    unreadable_reminder_content_fails_with_the_reason,
    smtp_delivery_is_multipart_branded_and_once_only,
    failed_delivery_is_recorded_and_retried_not_lost,
    undeliverable_address_fails_with_the_reason_kept,
    without_smtp_messages_stay_in_the_outbox
);
