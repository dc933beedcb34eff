//! Outbound webhooks, on both backends, against a real HTTP receiver on
//! 127.0.0.1: an endpoint added in the console (https only, or this
//! machine), each event POSTed once and signed, a failure retried after a
//! backoff, a disabled endpoint sent nothing more, another merchant's
//! events never sent.

use crate::common::*;
use app::server::gateway::signature;
use app::server::repo::invoices::InvoiceStatus;
use app::server::repo::merchant_users::{self, Role};
use settle::outbound_webhooks::{client, run_once};
use std::sync::{Arc, Mutex};

on_both_backends!(events_are_posted_once_signed_and_retried);

const PASSWORD: &str = "copper kettle morning drive";

/// A receiver answering 500 to the first request and 200 after; it keeps
/// every (signature header, event id header, body).
async fn receiver() -> (String, Arc<Mutex<Vec<(String, String, String)>>>) {
    let seen: Arc<Mutex<Vec<(String, String, String)>>> = Arc::default();
    let log = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let log = log.clone();
            async move {
                let h = |k: &str| headers.get(k).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
                let mut log = log.lock().unwrap();
                log.push((h("settle-signature"), h("settle-event-id"), body));
                if log.len() == 1 {
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    axum::http::StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

async fn events_are_posted_once_signed_and_retried(app: TestApp) {
    let acme = app.seed_customer_with_invoices("acme", "Acme").await;
    let globex = app.seed_customer_with_invoices("globex", "Globex").await;
    let mid = acme.merchant.merchant_id();
    let hash = app::server::passwords::hash(PASSWORD.into()).await.unwrap();
    merchant_users::insert(app.db.pool(), &mid, "owner@acme.example", "O", Some(&hash), Role::Owner, app.clock_now())
        .await
        .unwrap();
    let owner = browser();
    owner
        .post(app.url("/m/acme/sign-in"))
        .form(&[("email", "owner@acme.example"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();

    // Plain http elsewhere is refused in words; the local receiver is taken and its secret shown once.
    owner.post(app.url("/m/acme/webhooks")).form(&[("url", "http://hooks.example.com/x")]).send().await.unwrap();
    let html = page(owner.get(app.url("/m/acme/api-keys")).send().await.unwrap()).await;
    assert!(
        html.contains("The endpoint wasn&#x27;t added: Use an https://")
            || html.contains("The endpoint wasn't added: Use an https://"),
        "{html}"
    );
    let (url, seen) = receiver().await;
    let res = owner.post(app.url("/m/acme/webhooks")).form(&[("url", url.as_str())]).send().await.unwrap();
    let shown = res.text().await.unwrap();
    let at = shown.find("whsec_").expect("the secret is shown");
    let secret = shown[at..at + "whsec_".len() + 22].to_string();

    // Events after the endpoint was added: one for acme, one for globex.
    let app_ref = &app;
    let invoice = |number: &'static str| async move {
        let (id,): (String,) = sqlx::query_as("SELECT id FROM invoices WHERE number = $1")
            .bind(number)
            .fetch_one(app_ref.db.pool())
            .await
            .unwrap();
        id
    };
    let a1 = invoice("Acme-1").await;
    owner
        .post(app.url(&format!("/m/acme/invoices/{a1}/mark-paid")))
        .form(&[("reference", "cheque 7")])
        .send()
        .await
        .unwrap();
    let (status,): (String,) =
        sqlx::query_as("SELECT status FROM invoices WHERE id = $1").bind(&a1).fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(status, InvoiceStatus::Paid.as_str());
    app::server::repo::events::record(
        app.db.pool(),
        &globex.merchant.merchant_id(),
        Some(&globex.customer),
        None,
        "reminder_sent",
        &serde_json::json!({}),
        app.clock_now(),
    )
    .await
    .unwrap();

    let http = client();
    // First pass: queued, sent, refused by the receiver, retried later.
    let r = run_once(&app.db, &http, app.clock.as_ref()).await.unwrap();
    assert_eq!((r.queued, r.delivered, r.retrying), (1, 0, 1), "{r:?}");
    let r = run_once(&app.db, &http, app.clock.as_ref()).await.unwrap();
    assert_eq!((r.queued, r.delivered, r.retrying), (0, 0, 0), "not before its backoff: {r:?}");
    app.clock.advance(std::time::Duration::from_secs(31));
    let r = run_once(&app.db, &http, app.clock.as_ref()).await.unwrap();
    assert_eq!((r.queued, r.delivered, r.retrying), (0, 1, 0), "{r:?}");
    let delivered_at = app.clock_now();
    app.clock.advance(std::time::Duration::from_secs(3600));
    let r = run_once(&app.db, &http, app.clock.as_ref()).await.unwrap();
    assert_eq!(r, Default::default(), "nothing twice");

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "one failure, one success");
    let (header, event_id, body) = &seen[1];
    assert_eq!(seen[0].2, *body, "the retry sends the same event");
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        (json["type"].as_str(), json["merchant"].as_str(), json["invoice_id"].as_str()),
        (Some("paid_outside"), Some("acme"), Some(a1.as_str()))
    );
    assert_eq!(json["id"].as_str(), Some(event_id.as_str()));
    assert_eq!(json["data"]["reference"], "cheque 7");
    signature::verify(body.as_bytes(), header, &secret, delivered_at).expect("signed with the endpoint's secret");
    assert!(signature::verify(body.as_bytes(), header, "whsec_wrong", delivered_at).is_err());

    // The console shows it (signing in again: an hour went by); disabling stops further sends.
    owner
        .post(app.url("/m/acme/sign-in"))
        .form(&[("email", "owner@acme.example"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let html = page(owner.get(app.url("/m/acme/api-keys")).send().await.unwrap()).await;
    assert!(html.contains(&url), "{html}");
    let (endpoint,): (String,) =
        sqlx::query_as("SELECT id FROM webhook_endpoints").fetch_one(app.db.pool()).await.unwrap();
    owner.post(app.url(&format!("/m/acme/webhooks/{endpoint}/disable"))).send().await.unwrap();
    let a2 = invoice("Acme-2").await;
    owner.post(app.url(&format!("/m/acme/invoices/{a2}/void"))).send().await.unwrap();
    let r = run_once(&app.db, &http, app.clock.as_ref()).await.unwrap();
    assert_eq!(r, Default::default(), "a disabled endpoint gets nothing");
}
