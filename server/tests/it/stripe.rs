//! The Stripe gateway against localstripe (the project's harness), on both
//! backends: cards through SetupIntents, success, declines, 3-D Secure,
//! off-session authentication_required, fifty concurrent requests making one
//! charge, reconciliation after a crash or a lost answer, and webhooks:
//! forged, stale and duplicate deliveries change nothing, a real delivery
//! settles a payment the browser never came back for, the card updater
//! refreshes an expiry.

use crate::common::paying::*;
use crate::common::stripe::*;
use crate::common::*;
use app::server::gateway::signature;
use app::server::payments::reconcile;
use app::server::Clock;
use std::time::Duration;

macro_rules! on_both_backends_with_stripe {
    ($($name:ident),* $(,)?) => {
        mod sqlite_stripe { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some((app, secret)) = $crate::common::stripe::spawn_stripe_app($crate::common::Backend::Sqlite).await {
                    super::$name(app, secret).await;
                }
            }
        )* }
        mod postgres_stripe { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some((app, secret)) = $crate::common::stripe::spawn_stripe_app($crate::common::Backend::Postgres).await {
                    super::$name(app, secret).await;
                }
            }
        )* }
    };
}

on_both_backends_with_stripe!(
    cards_are_saved_through_setup_intents_and_pay,
    declines_and_three_d_secure,
    off_session_authentication_is_a_hard_decline,
    fifty_concurrent_requests_make_one_stripe_charge,
    crashes_and_lost_answers_reconcile_to_one_charge,
    webhooks_refuse_forgeries_and_apply_each_event_once,
    a_card_updater_event_refreshes_the_expiry,
    partial_payments_refunds_disputes_and_card_removal,
);

async fn stripe_charges(customer_ref: &str) -> usize {
    let list = stripe_get(&format!("/v1/charges?customer={customer_ref}&limit=100")).await;
    list["data"].as_array().map(|a| a.len()).unwrap_or(0)
}

async fn customer_ref(app: &TestApp, s: &Seeded) -> String {
    app::server::repo::customers::gateway_customer_ref(app.db.pool(), &s.merchant.merchant_id(), &s.customer)
        .await
        .unwrap()
        .expect("a Stripe customer")
}

async fn pay_all(app: &TestApp, client: &reqwest::Client, s: &Seeded, card: &str) -> String {
    let ids = open_invoice_ids(app, &s.customer).await;
    let (attempt, total, _) = review(app, client, "shop", "").await;
    let res = confirm(app, client, "shop", &ids, None, &total, card, &attempt).await;
    location(&res).unwrap()
}

async fn cards_are_saved_through_setup_intents_and_pay(app: TestApp, _secret: String) {
    let (client, s) = signed_in_customer(&app, "shop", "SP").await;
    let res = add_stripe_card(&app, &client, "4242424242424242").await;
    let to = location(&res).unwrap();
    assert!(to.contains("card_added=1"), "{to}");
    let card = card_in(&to);
    let (gateway_ref, last4, exp): (String, String, i64) =
        sqlx::query_as("SELECT gateway_ref, last4, exp_year FROM payment_methods WHERE id = $1")
            .bind(&card)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert!(gateway_ref.starts_with("pm_"));
    assert_eq!((last4.as_str(), exp), ("4242", 2031));
    // The add-card page loads Stripe.js from the configured origin, and its
    // CSP allows scripts from exactly that origin besides our own.
    let res = client.get(app.url("/p/shop/account/cards/new")).send().await.unwrap();
    let csp = res.headers().get("content-security-policy").expect("a CSP").to_str().unwrap().to_string();
    let stripe_origin = localstripe().unwrap();
    assert!(csp.contains(&format!("'wasm-unsafe-eval' {stripe_origin};")), "{csp}");
    assert!(!csp.contains("https://js.stripe.com"), "only the configured origin: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"));
    let html = page(res).await;
    assert!(html.contains("/js.stripe.com/v3/") && html.contains(PUBLISHABLE_KEY));
    assert!(!html.contains("Test mode"), "no test-mode badge on a Stripe merchant");
    let receipt = pay_all(&app, &client, &s, &card).await;
    assert!(receipt.ends_with("?paid=1"), "{receipt}");
    assert_eq!(invoice_state(&app, "SP-1").await, ("paid".into(), 12_000));
    let (pi,): (String,) = sqlx::query_as("SELECT gateway_ref FROM payments WHERE customer_id = $1")
        .bind(s.customer.as_str())
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let intent = stripe_get(&format!("/v1/payment_intents/{pi}")).await;
    assert_eq!(intent["status"], "succeeded");
    assert_eq!(intent["amount"], 20_050);
    assert_eq!(stripe_charges(&customer_ref(&app, &s).await).await, 1);
    // A card Stripe declines when saved is not saved.
    let res = add_stripe_card(&app, &client, "4000000000000002").await;
    assert!(location(&res).unwrap().contains("error="), "declined setup goes back to the form");
}

async fn declines_and_three_d_secure(app: TestApp, _secret: String) {
    let (client, s) = signed_in_customer(&app, "shop", "SD").await;
    // Attaches, then every charge fails.
    let bad = card_in(&location(&add_stripe_card(&app, &client, "4000000000000341").await).unwrap());
    let back = pay_all(&app, &client, &s, &bad).await;
    assert!(back.contains("declined=pay_"), "{back}");
    let html = page(client.get(app.url(&back)).send().await.unwrap()).await;
    assert!(html.contains("The payment didn't go through") && html.contains("Nothing was charged"));
    assert_eq!(invoice_state(&app, "SD-1").await, ("open".into(), 0));
    // 3-D Secure: the bank's check happens in the browser with Stripe.js.
    let secure = card_in(&location(&add_stripe_card(&app, &client, "4000002500003155").await).unwrap());
    let auth = pay_all(&app, &client, &s, &secure).await;
    assert!(auth.ends_with("/authenticate"), "{auth}");
    let html = page(client.get(app.url(&auth)).send().await.unwrap()).await;
    let at = html.find("data-client-secret=\"").expect("client secret for Stripe.js") + 20;
    let client_secret: String = html[at..].chars().take_while(|c| *c != '"').collect();
    let pi = client_secret.split("_secret_").next().unwrap().to_string();
    // What Stripe.js does when the customer completes the check.
    stripe_post(&format!("/v1/payment_intents/{pi}/_authenticate?success=true"), &[("client_secret", client_secret)])
        .await;
    let payment = auth.trim_end_matches("/authenticate").rsplit('/').next().unwrap().to_string();
    let res = client.post(app.url(&format!("/p/shop/pay/{payment}/refresh"))).send().await.unwrap();
    assert_eq!(location(&res).unwrap(), format!("/p/shop/payments/{payment}?paid=1"));
    assert_eq!(invoice_state(&app, "SD-2").await, ("paid".into(), 8_050));
}

async fn off_session_authentication_is_a_hard_decline(app: TestApp, _secret: String) {
    let (client, s) = signed_in_customer(&app, "shop", "SO").await;
    let card = card_in(&location(&add_stripe_card(&app, &client, "4000002500003155").await).unwrap());
    let res = client
        .post(app.url("/p/shop/account/autopay"))
        .form(&[("action", "on"), ("card", card.as_str()), ("consent", "yes")])
        .send()
        .await
        .unwrap();
    assert!(location(&res).unwrap().contains("saved=autopay_on"));
    app.clock.advance_days(6);
    app::server::jobs::run_once(&app.state, "w1", 20).await.unwrap();
    let n = eventually(
        &app,
        "SELECT COUNT(*) FROM payments WHERE customer_id = $1 AND status = 'failed'",
        s.customer.as_str(),
        1,
    )
    .await;
    assert_eq!(n, 1);
    let (code, kind, purpose): (Option<String>, Option<String>, String) =
        sqlx::query_as("SELECT failure_code, decline_kind, purpose FROM payments WHERE customer_id = $1")
            .bind(s.customer.as_str())
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(code.as_deref(), Some("authentication_required"));
    assert_eq!((kind.as_deref(), purpose.as_str()), (Some("hard"), "autopay"));
    assert_eq!(invoice_state(&app, "SO-2").await, ("open".into(), 0));
}

async fn fifty_concurrent_requests_make_one_stripe_charge(app: TestApp, _secret: String) {
    let (client, s) = signed_in_customer(&app, "shop", "SC").await;
    let card = card_in(&location(&add_stripe_card(&app, &client, "4242424242424242").await).unwrap());
    let ids = open_invoice_ids(&app, &s.customer).await;
    let (shared, total, _) = review(&app, &client, "shop", "").await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let attempt = if i % 2 == 0 { shared.clone() } else { review(&app, &client, "shop", "").await.0 };
        let (client, base, ids, total, card) =
            (client.clone(), app.base.clone(), ids.clone(), total.clone(), card.clone());
        tasks.push(tokio::spawn(async move {
            let mut form: Vec<(&str, String)> = ids.iter().map(|i| ("invoice", i.clone())).collect();
            form.extend([
                ("total_minor", total),
                ("card", card),
                ("attempt", attempt),
                ("amount_minor", String::new()),
            ]);
            client.post(format!("{base}/p/shop/pay")).form(&form).send().await.unwrap().status().as_u16()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 303);
    }
    assert_eq!(stripe_charges(&customer_ref(&app, &s).await).await, 1, "one charge at Stripe");
    assert_eq!(invoice_state(&app, "SC-2").await, ("paid".into(), 8_050));
}

async fn crashes_and_lost_answers_reconcile_to_one_charge(app: TestApp, _secret: String) {
    use app::server::gateway::ChargeRequest;
    use app::server::ids::PaymentMethodId;
    use app::server::repo::payments::NewPayment;
    let (client, s) = signed_in_customer(&app, "shop", "SR").await;
    let card = card_in(&location(&add_stripe_card(&app, &client, "4242424242424242").await).unwrap());
    let cus = customer_ref(&app, &s).await;
    let mid = s.merchant.merchant_id();
    let open = app::server::repo::invoices::open_for_customer(app.db.pool(), &mid, &s.customer).await.unwrap();
    let first: Vec<String> = vec![open[0].id.clone()];
    let plan = app::server::payments::plan::plan(&open, &first, None).unwrap();
    let method = PaymentMethodId::parse(&card).unwrap();
    // 1. The process dies after writing the payment, before calling Stripe.
    let key = format!("portal:{}:crash-{}", s.customer, app::server::ids::new_id_body());
    let new = NewPayment {
        merchant: &mid,
        customer: &s.customer,
        method: &method,
        amount: plan.total,
        idempotency_key: &key,
        gateway: "stripe",
        off_session: false,
        purpose: "portal",
    };
    let crashed =
        app::server::payments::write_payment(&app.state, &new, &plan, app.clock.now()).await.unwrap().unwrap();
    app.clock.advance(Duration::from_secs(120));
    reconcile::reconcile_stale(&app.state, 10).await.unwrap();
    assert_eq!(stripe_charges(&cus).await, 1);
    assert_eq!(invoice_state(&app, "SR-1").await, ("paid".into(), 12_000));
    // 2. Stripe charged, but the answer was lost: the reconciler's resend
    //    under the same key is answered with the first charge.
    let open = app::server::repo::invoices::open_for_customer(app.db.pool(), &mid, &s.customer).await.unwrap();
    let plan = app::server::payments::plan::plan(&open, &[open[0].id.clone()], None).unwrap();
    let key = format!("portal:{}:lost-{}", s.customer, app::server::ids::new_id_body());
    let new = NewPayment { idempotency_key: &key, amount: plan.total, ..new };
    let lost = app::server::payments::write_payment(&app.state, &new, &plan, app.clock.now()).await.unwrap().unwrap();
    let (card_ref,): (String,) = sqlx::query_as("SELECT gateway_ref FROM payment_methods WHERE id = $1")
        .bind(&card)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let stripe = app.state.gateways.stripe.clone().unwrap();
    stripe
        .charge(&ChargeRequest {
            customer_ref: cus.clone(),
            card_ref,
            amount: plan.total,
            idempotency_key: key.clone(),
            off_session: false,
            payment_id: lost.clone(),
            description: format!("Settle payment {lost}"),
        })
        .await
        .unwrap();
    assert_eq!(stripe_charges(&cus).await, 2);
    app.clock.advance(Duration::from_secs(120));
    reconcile::reconcile_stale(&app.state, 10).await.unwrap();
    assert_eq!(stripe_charges(&cus).await, 2, "no second charge for the lost answer");
    assert_eq!(invoice_state(&app, "SR-2").await, ("paid".into(), 8_050));
    let statuses: Vec<(String,)> = sqlx::query_as("SELECT status FROM payments WHERE id IN ($1, $2)")
        .bind(&crashed)
        .bind(&lost)
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    assert!(statuses.iter().all(|(s,)| s == "succeeded"));
}

async fn post_webhook(app: &TestApp, payload: &str, header: &str) -> (u16, String) {
    let res = reqwest::Client::new()
        .post(app.url("/webhooks/stripe/shop"))
        .header("stripe-signature", header)
        .header("content-type", "application/json")
        .body(payload.to_string())
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn webhooks_refuse_forgeries_and_apply_each_event_once(app: TestApp, secret: String) {
    let (client, s) = signed_in_customer(&app, "shop", "SW").await;
    let card = card_in(&location(&add_stripe_card(&app, &client, "4000002500003155").await).unwrap());
    // A 3-D Secure payment the customer completes at the bank, then closes
    // the tab: only Stripe's webhook tells us.
    let auth = pay_all(&app, &client, &s, &card).await;
    let html = page(client.get(app.url(&auth)).send().await.unwrap()).await;
    let at = html.find("data-client-secret=\"").unwrap() + 20;
    let client_secret: String = html[at..].chars().take_while(|c| *c != '"').collect();
    let pi = client_secret.split("_secret_").next().unwrap().to_string();
    stripe_post(&format!("/v1/payment_intents/{pi}/_authenticate?success=true"), &[("client_secret", client_secret)])
        .await;
    let paid = eventually(&app, "SELECT COUNT(*) FROM invoices WHERE customer_id = $1 AND status = 'paid' AND number LIKE 'SW-%' AND amount_paid_minor = total_minor AND number <> 'SW-PAID'", s.customer.as_str(), 2).await;
    assert_eq!(paid, 2, "the webhook settled the payment");
    let (stored,): (String,) = sqlx::query_as(
        "SELECT payload FROM webhook_events WHERE event_type = 'payment_intent.succeeded' AND payload LIKE $1",
    )
    .bind(format!("%{pi}%"))
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let events_before: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events WHERE customer_id = $1")
        .bind(s.customer.as_str())
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let now = app.clock.now().0 / 1000;
    // The same event again, correctly signed: accepted, nothing done twice.
    let (status, body) = post_webhook(&app, &stored, &signature::sign(stored.as_bytes(), &secret, now)).await;
    assert_eq!((status, body.as_str()), (200, "duplicate\n"));
    // Forged: signed with another secret, or the payload changed after signing.
    let (status, _) = post_webhook(&app, &stored, &signature::sign(stored.as_bytes(), "whsec_forged", now)).await;
    assert_eq!(status, 400);
    let tampered = stored.replacen("payment_intent.succeeded", "payment_intent.payment_failed", 1);
    let (status, _) = post_webhook(&app, &tampered, &signature::sign(stored.as_bytes(), &secret, now)).await;
    assert_eq!(status, 400);
    // Stale: a correctly signed delivery from six minutes ago.
    let fresh_id = stored.replacen("\"id\": \"evt_", "\"id\": \"evt_replayed", 1);
    let (status, _) = post_webhook(&app, &fresh_id, &signature::sign(fresh_id.as_bytes(), &secret, now - 360)).await;
    assert_eq!(status, 400);
    let (status, _) = post_webhook(&app, &stored, "").await;
    assert_eq!(status, 400, "no signature at all");
    let events_after: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events WHERE customer_id = $1")
        .bind(s.customer.as_str())
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(events_before, events_after, "refused and duplicate deliveries have no effect");
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM webhook_events WHERE event_id LIKE 'evt_replayed%'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(n, 0);
    // Another merchant's path with this merchant's secret is refused too.
    let res = reqwest::Client::new()
        .post(app.url("/webhooks/stripe/nobody"))
        .header("stripe-signature", signature::sign(stored.as_bytes(), &secret, now))
        .body(stored.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

async fn a_card_updater_event_refreshes_the_expiry(app: TestApp, secret: String) {
    let (client, s) = signed_in_customer(&app, "shop", "SU").await;
    let card = card_in(&location(&add_stripe_card(&app, &client, "4242424242424242").await).unwrap());
    let (pm,): (String,) = sqlx::query_as("SELECT gateway_ref FROM payment_methods WHERE id = $1")
        .bind(&card)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    // The network refreshes the card at Stripe …
    stripe_post(
        &format!("/v1/payment_methods/{pm}"),
        &[("card[exp_month]", "7".into()), ("card[exp_year]", "2034".into())],
    )
    .await;
    // … and Stripe tells us (localstripe sends no payment_method.* events, so
    // the delivery is built and signed here exactly as Stripe would).
    let cus = customer_ref(&app, &s).await;
    let payload = serde_json::json!({
        "id": format!("evt_{}", app::server::ids::new_id_body()),
        "object": "event",
        "type": "payment_method.automatically_updated",
        "created": app.clock.now().0 / 1000,
        // Deliberately stale data: the handler fetches the card from Stripe.
        "data": { "object": { "id": pm, "object": "payment_method", "customer": cus,
            "card": { "brand": "visa", "last4": "4242", "exp_month": 1, "exp_year": 2030 } } }
    })
    .to_string();
    let (status, _) =
        post_webhook(&app, &payload, &signature::sign(payload.as_bytes(), &secret, app.clock.now().0 / 1000)).await;
    assert_eq!(status, 200);
    let (month, year, refreshed): (i64, i64, Option<i64>) =
        sqlx::query_as("SELECT exp_month, exp_year, refreshed_at FROM payment_methods WHERE id = $1")
            .bind(&card)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!((month, year), (7, 2034), "Stripe's current expiry, not the payload's");
    assert!(refreshed.is_some());
    let settings = page(client.get(app.url("/p/shop/account/settings")).send().await.unwrap()).await;
    assert!(settings.contains("07/2034"));
}

async fn partial_payments_refunds_disputes_and_card_removal(app: TestApp, secret: String) {
    let (client, s) = signed_in_customer(&app, "shop", "SX").await;
    let card = card_in(&location(&add_stripe_card(&app, &client, "4242424242424242").await).unwrap());
    // $150.00 of $200.50: the oldest invoice in full, the rest on the next.
    let ids = open_invoice_ids(&app, &s.customer).await;
    let (attempt, total, _) =
        review(&app, &client, "shop", &format!("?invoice={}&invoice={}&amount=150", ids[0], ids[1])).await;
    assert_eq!(total, "15000");
    let res = confirm(&app, &client, "shop", &ids, Some(15_000), &total, &card, &attempt).await;
    assert!(location(&res).unwrap().ends_with("?paid=1"));
    assert_eq!(invoice_state(&app, "SX-1").await, ("paid".into(), 12_000));
    assert_eq!(invoice_state(&app, "SX-2").await, ("open".into(), 3_000));
    let (payment, pi): (String, String) = sqlx::query_as("SELECT id, gateway_ref FROM payments WHERE customer_id = $1")
        .bind(s.customer.as_str())
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(stripe_get(&format!("/v1/payment_intents/{pi}")).await["amount"], 15_000);
    // Refund and chargeback arrive as webhooks (localstripe sends no charge.*
    // events: signed here as Stripe would).
    let now = app.clock.now().0 / 1000;
    let event = |kind: &str, object: serde_json::Value| {
        serde_json::json!({ "id": format!("evt_{}", app::server::ids::new_id_body()), "object": "event",
            "type": kind, "created": now, "data": { "object": object } })
        .to_string()
    };
    let refund = event(
        "charge.refunded",
        serde_json::json!({ "id": "ch_x", "object": "charge",
        "payment_intent": pi, "amount_refunded": 5_000 }),
    );
    assert_eq!(post_webhook(&app, &refund, &signature::sign(refund.as_bytes(), &secret, now)).await.0, 200);
    let dispute = event(
        "charge.dispute.created",
        serde_json::json!({ "id": "dp_x", "object": "dispute",
        "payment_intent": pi, "amount": 15_000, "reason": "fraudulent" }),
    );
    assert_eq!(post_webhook(&app, &dispute, &signature::sign(dispute.as_bytes(), &secret, now)).await.0, 200);
    let (refunded, status): (i64, String) = sqlx::query_as("SELECT refunded_minor, status FROM payments WHERE id = $1")
        .bind(&payment)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!((refunded, status.as_str()), (5_000, "succeeded"), "a partial refund");
    let kinds: Vec<(String,)> = sqlx::query_as(
        "SELECT kind FROM events WHERE customer_id = $1 AND kind IN ('payment.refunded', 'payment.disputed') ORDER BY kind",
    )
    .bind(s.customer.as_str())
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(kinds.iter().map(|k| k.0.as_str()).collect::<Vec<_>>(), ["payment.disputed", "payment.refunded"]);
    // Removing a card (after a step-up) detaches it at Stripe too.
    let (pm,): (String,) = sqlx::query_as("SELECT gateway_ref FROM payment_methods WHERE id = $1")
        .bind(&card)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let hash = app::server::passwords::hash("a long passphrase for tests".into()).await.unwrap();
    app::server::repo::customers::set_password_hash(
        app.db.pool(),
        &s.merchant.merchant_id(),
        &s.customer,
        &hash,
        app.clock.now(),
    )
    .await
    .unwrap();
    let res = client
        .post(app.url("/p/shop/account/verify/password"))
        .form(&[("password", "a long passphrase for tests")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let res = client.post(app.url(&format!("/p/shop/account/cards/{card}/remove"))).send().await.unwrap();
    assert_eq!(location(&res).unwrap(), "/p/shop/account/settings?saved=card");
    assert!(stripe_get(&format!("/v1/payment_methods/{pm}")).await["customer"].is_null(), "detached at Stripe");
}
