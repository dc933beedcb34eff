//! Paying through the sandbox gateway over HTTP, on both backends: pay all,
//! partial payments oldest first, declines (hard and soft), 3-D Secure,
//! fifty concurrent requests making one charge, a crash before the gateway
//! call reconciled to one charge, cards and scoping.

use crate::common::paying::*;
use crate::common::*;
use app::server::gateway::PaymentGateway;
use app::server::payments::reconcile;
use app::server::Clock;

on_both_backends!(
    pay_all_pays_every_open_invoice_once_and_emails_a_receipt,
    a_partial_amount_pays_the_oldest_invoice_first,
    declines_are_explained_and_another_card_recovers,
    three_d_secure_completes_or_fails_in_the_browser,
    fifty_concurrent_pay_requests_make_one_charge,
    a_crash_before_the_gateway_call_reconciles_to_one_charge,
    a_lost_gateway_answer_is_reconciled_without_a_second_charge,
    changed_totals_and_expired_cards_are_refused_before_charging,
    cards_are_checked_and_new_ones_become_the_default,
    payments_and_cards_are_scoped_to_the_customer,
);

async fn pay_all_pays_every_open_invoice_once_and_emails_a_receipt(app: TestApp) {
    let (client, s) = signed_in_customer(&app, "shop", "PA").await;
    let to = add_card(&app, &client, "shop", "4242 4242 4242 4242").await;
    let card = card_in(&to);
    // The review page pre-selects everything open and shows the total.
    let (attempt, total, html) = review(&app, &client, "shop", "").await;
    assert_eq!(total, "20050");
    assert!(html.contains("$200.50") && html.contains("PA-1") && html.contains("PA-2"));
    assert!(html.contains("Visa ending 4242"), "the card to be charged is named");
    assert!(!html.contains("PA-PAID") && !html.contains("PA-VOID"));
    let ids = open_invoice_ids(&app, &s.customer).await;
    let res = confirm(&app, &client, "shop", &ids, None, &total, &card, &attempt).await;
    assert_eq!(res.status(), 303);
    let receipt = location(&res).unwrap();
    assert!(receipt.starts_with("/p/shop/payments/pay_") && receipt.ends_with("?paid=1"), "{receipt}");
    assert_eq!(invoice_state(&app, "PA-1").await, ("paid".into(), 12_000));
    assert_eq!(invoice_state(&app, "PA-2").await, ("paid".into(), 8_050));
    assert_eq!(sandbox_charges(&app, &s.customer).await, 1);
    let html = page(client.get(app.url(&receipt)).send().await.unwrap()).await;
    assert!(html.contains("Thank you! Your payment went through") && html.contains("$200.50"));
    // The same confirmation again (a reload, a double click) is the same payment.
    let again = confirm(&app, &client, "shop", &ids, None, &total, &card, &attempt).await;
    assert_eq!(location(&again).unwrap(), receipt);
    assert_eq!(sandbox_charges(&app, &s.customer).await, 1);
    // One receipt email, and the merchant sees the payment as events.
    let (mails,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM messages WHERE customer_id = $1 AND template_key = 'payment_receipt' \
         AND subject LIKE 'Receipt for your payment of $200.50%'",
    )
    .bind(s.customer.as_str())
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(mails, 1);
    let (events,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM events WHERE customer_id = $1 AND kind = 'payment.succeeded'")
            .bind(s.customer.as_str())
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(events, 2, "one per invoice paid");
    // Nothing left to pay.
    let (_, _, html) = review(&app, &client, "shop", "").await;
    assert!(html.contains("You have nothing to pay"));
}

async fn a_partial_amount_pays_the_oldest_invoice_first(app: TestApp) {
    let (client, s) = signed_in_customer(&app, "shop", "PP").await;
    let card = card_in(&add_card(&app, &client, "shop", "4242424242424242").await);
    let ids = open_invoice_ids(&app, &s.customer).await;
    let query = format!("?invoice={}&invoice={}&amount=150.00", ids[1], ids[0]);
    let (attempt, total, html) = review(&app, &client, "shop", &query).await;
    assert_eq!(total, "15000");
    assert!(html.contains("(part)"), "the second invoice is paid in part");
    assert_eq!(input_value(&html, "amount_minor").as_deref(), Some("15000"));
    let res = confirm(&app, &client, "shop", &ids, Some(15_000), &total, &card, &attempt).await;
    assert!(location(&res).unwrap().ends_with("?paid=1"));
    assert_eq!(invoice_state(&app, "PP-1").await, ("paid".into(), 12_000), "oldest due first, in full");
    assert_eq!(invoice_state(&app, "PP-2").await, ("open".into(), 3_000), "the rest on the next");
    // Deselecting: paying only PP-2 leaves nothing else touched; more than due is refused.
    let (attempt, _, html) = review(&app, &client, "shop", &format!("?invoice={}&amount=60", ids[1])).await;
    assert!(html.contains("You can pay at most $50.50"), "more than owed is refused with the maximum");
    assert!(attempt.is_empty(), "no confirm button without a valid plan");
    let (_, _, html) = review(&app, &client, "shop", &format!("?invoice={}&amount=12abc", ids[1])).await;
    assert!(html.contains("Enter the amount as a number, for example $20.50"));
}

async fn declines_are_explained_and_another_card_recovers(app: TestApp) {
    let (client, s) = signed_in_customer(&app, "shop", "DC").await;
    let ids = open_invoice_ids(&app, &s.customer).await;
    // Soft decline: insufficient funds.
    let poor = card_in(&add_card(&app, &client, "shop", "4000000000009995").await);
    let (attempt, total, _) = review(&app, &client, "shop", "").await;
    let res = confirm(&app, &client, "shop", &ids, None, &total, &poor, &attempt).await;
    let back = location(&res).unwrap();
    assert!(back.starts_with("/p/shop/pay?") && back.contains("declined=pay_"), "{back}");
    let html = page(client.get(app.url(&back)).send().await.unwrap()).await;
    assert!(html.contains("insufficient funds") && html.contains("Nothing was charged"));
    assert_eq!(invoice_state(&app, "DC-1").await, ("open".into(), 0));
    let (kind,): (Option<String>,) =
        sqlx::query_as("SELECT decline_kind FROM payments WHERE customer_id = $1 AND status = 'failed'")
            .bind(s.customer.as_str())
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(kind.as_deref(), Some("soft"));
    // Hard decline: a stolen card can't be used again.
    let stolen = card_in(&add_card(&app, &client, "shop", "4000000000009979").await);
    let (attempt, total, _) = review(&app, &client, "shop", "").await;
    let res = confirm(&app, &client, "shop", &ids, None, &total, &stolen, &attempt).await;
    let html = page(client.get(app.url(&location(&res).unwrap())).send().await.unwrap()).await;
    assert!(html.contains("This card can't be used for this payment"));
    // Another card pays.
    let good = card_in(&add_card(&app, &client, "shop", "5555555555554444").await);
    let (attempt, total, _) = review(&app, &client, "shop", "").await;
    let res = confirm(&app, &client, "shop", &ids, None, &total, &good, &attempt).await;
    assert!(location(&res).unwrap().ends_with("?paid=1"));
    assert_eq!(invoice_state(&app, "DC-2").await, ("paid".into(), 8_050));
    let (failed,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM events WHERE customer_id = $1 AND kind = 'payment.failed'")
            .bind(s.customer.as_str())
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(failed, 2, "each decline is recorded for the merchant");
    // A card declined when saved never becomes a card.
    let res = try_add_card(&app, &client, "shop", "4000000000000002", "12/30").await;
    assert!(location(&res).unwrap().contains("error=declined"));
    let res = try_add_card(&app, &client, "shop", "4111111111111111", "12/30").await;
    assert!(location(&res).unwrap().contains("error=not_test_card"), "only test numbers in test mode");
}

async fn three_d_secure_completes_or_fails_in_the_browser(app: TestApp) {
    let (client, s) = signed_in_customer(&app, "shop", "TD").await;
    let ids = open_invoice_ids(&app, &s.customer).await;
    let card = card_in(&add_card(&app, &client, "shop", "4000 0025 0000 3155").await);
    // First the customer fails the bank's check: declined, nothing paid.
    let (attempt, total, _) = review(&app, &client, "shop", "").await;
    let res = confirm(&app, &client, "shop", &ids, None, &total, &card, &attempt).await;
    let auth = location(&res).unwrap();
    assert!(auth.ends_with("/authenticate"), "{auth}");
    let html = page(client.get(app.url(&auth)).send().await.unwrap()).await;
    assert!(html.contains("Confirm your payment of $200.50") && html.contains("Complete authentication"));
    let payment = auth.trim_end_matches("/authenticate").rsplit('/').next().unwrap().to_string();
    // While it waits for the bank, a second payment can't start.
    let (attempt2, total2, html) = review(&app, &client, "shop", "").await;
    assert!(html.contains("is still in progress"));
    let res = confirm(&app, &client, "shop", &ids, None, &total2, &card, &attempt2).await;
    assert!(location(&res).unwrap().contains("error=in_flight"));
    let challenge = format!("/p/shop/sandbox/payments/{payment}/challenge");
    let res = client.post(app.url(&challenge)).form(&[("decision", "fail")]).send().await.unwrap();
    assert!(location(&res).unwrap().contains(&format!("declined={payment}")));
    assert_eq!(invoice_state(&app, "TD-1").await, ("open".into(), 0));
    // Then they pass it: paid.
    let (attempt, total, _) = review(&app, &client, "shop", "").await;
    let res = confirm(&app, &client, "shop", &ids, None, &total, &card, &attempt).await;
    let auth = location(&res).unwrap();
    let payment = auth.trim_end_matches("/authenticate").rsplit('/').next().unwrap().to_string();
    let challenge = format!("/p/shop/sandbox/payments/{payment}/challenge");
    let res = client.post(app.url(&challenge)).form(&[("decision", "approve")]).send().await.unwrap();
    assert_eq!(location(&res).unwrap(), format!("/p/shop/payments/{payment}?paid=1"));
    assert_eq!(invoice_state(&app, "TD-1").await, ("paid".into(), 12_000));
    // Approving again changes nothing.
    client.post(app.url(&challenge)).form(&[("decision", "approve")]).send().await.unwrap();
    assert_eq!(invoice_state(&app, "TD-2").await, ("paid".into(), 8_050));
    assert_eq!(sandbox_charges(&app, &s.customer).await, 2, "one failed, one paid");
}

async fn fifty_concurrent_pay_requests_make_one_charge(app: TestApp) {
    let (client, s) = signed_in_customer(&app, "shop", "CC").await;
    let card = card_in(&add_card(&app, &client, "shop", "4242424242424242").await);
    let ids = open_invoice_ids(&app, &s.customer).await;
    // Half are retries of one confirmation (same attempt), half come from
    // other tabs (each its own attempt).
    let (shared, total, _) = review(&app, &client, "shop", "").await;
    let mut attempts = Vec::new();
    for i in 0..50 {
        attempts.push(if i % 2 == 0 { shared.clone() } else { review(&app, &client, "shop", "").await.0 });
    }
    let mut tasks = Vec::new();
    for attempt in attempts {
        let (client, app_url, ids, total, card) =
            (client.clone(), app.base.clone(), ids.clone(), total.clone(), card.clone());
        tasks.push(tokio::spawn(async move {
            let mut form: Vec<(&str, String)> = ids.iter().map(|i| ("invoice", i.clone())).collect();
            form.extend([
                ("total_minor", total),
                ("card", card),
                ("attempt", attempt),
                ("amount_minor", String::new()),
            ]);
            let res = client.post(format!("{app_url}/p/shop/pay")).form(&form).send().await.unwrap();
            (res.status().as_u16(), location(&res).unwrap_or_default())
        }));
    }
    let mut paid_redirects = 0;
    for t in tasks {
        let (status, to) = t.await.unwrap();
        assert_eq!(status, 303, "every request gets an answer, none an error");
        if to.ends_with("?paid=1") {
            paid_redirects += 1;
        }
    }
    assert!(paid_redirects >= 1);
    assert_eq!(sandbox_charges(&app, &s.customer).await, 1, "exactly one charge at the gateway");
    let (rows,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM payments WHERE customer_id = $1")
        .bind(s.customer.as_str())
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(rows, 1, "one payment row");
    assert_eq!(invoice_state(&app, "CC-1").await, ("paid".into(), 12_000));
    assert_eq!(invoice_state(&app, "CC-2").await, ("paid".into(), 8_050), "never paid twice");
}

/// A payment written as the pay flow writes it, but with the process
/// "crashing" before the gateway is called.
async fn write_pending_payment(app: &TestApp, s: &Seeded, card: &str, key: &str) -> String {
    use app::server::ids::PaymentMethodId;
    use app::server::repo::payments::NewPayment;
    let open = app::server::repo::invoices::open_for_customer(app.db.pool(), &s.merchant.merchant_id(), &s.customer)
        .await
        .unwrap();
    let ids: Vec<String> = open.iter().map(|r| r.id.clone()).collect();
    let plan = app::server::payments::plan::plan(&open, &ids, None).unwrap();
    // The gateway customer exists (it was made when the card was added).
    let mid = s.merchant.merchant_id();
    let method = PaymentMethodId::parse(card).unwrap();
    let new = NewPayment {
        merchant: &mid,
        customer: &s.customer,
        method: &method,
        amount: plan.total,
        idempotency_key: key,
        gateway: "sandbox",
        off_session: false,
        purpose: "portal",
    };
    app::server::payments::write_payment(&app.state, &new, &plan, app.clock.now()).await.unwrap().unwrap()
}

async fn a_crash_before_the_gateway_call_reconciles_to_one_charge(app: TestApp) {
    let (client, s) = signed_in_customer(&app, "shop", "CR").await;
    let card = card_in(&add_card(&app, &client, "shop", "4242424242424242").await);
    let payment = write_pending_payment(&app, &s, &card, "portal:crash-test-key-0001").await;
    // While it is undecided, the customer can't start another payment.
    let (attempt, total, html) = review(&app, &client, "shop", "").await;
    assert!(html.contains("is still in progress"));
    let ids = open_invoice_ids(&app, &s.customer).await;
    let res = confirm(&app, &client, "shop", &ids, None, &total, &card, &attempt).await;
    assert!(location(&res).unwrap().contains("error=in_flight"));
    // Too fresh for the reconciler: a request may still be working on it.
    assert_eq!(reconcile::reconcile_stale(&app.state, 10).await.unwrap(), 0);
    assert_eq!(sandbox_charges(&app, &s.customer).await, 0);
    app.clock.advance(std::time::Duration::from_secs(120));
    assert_eq!(reconcile::reconcile_stale(&app.state, 10).await.unwrap(), 1);
    assert_eq!(sandbox_charges(&app, &s.customer).await, 1);
    let (status,): (String,) = sqlx::query_as("SELECT status FROM payments WHERE id = $1")
        .bind(&payment)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(status, "succeeded");
    assert_eq!(invoice_state(&app, "CR-1").await, ("paid".into(), 12_000));
    // Nothing left to reconcile, nothing charged again.
    app.clock.advance(std::time::Duration::from_secs(120));
    assert_eq!(reconcile::reconcile_stale(&app.state, 10).await.unwrap(), 0);
    assert_eq!(sandbox_charges(&app, &s.customer).await, 1);
}

async fn a_lost_gateway_answer_is_reconciled_without_a_second_charge(app: TestApp) {
    use app::server::gateway::ChargeRequest;
    let (client, s) = signed_in_customer(&app, "shop", "LA").await;
    let card = card_in(&add_card(&app, &client, "shop", "4242424242424242").await);
    let key = "portal:lost-answer-key-0001";
    let payment = write_pending_payment(&app, &s, &card, key).await;
    // The charge reached the gateway, but its answer never came back.
    let customer_ref =
        app::server::repo::customers::gateway_customer_ref(app.db.pool(), &s.merchant.merchant_id(), &s.customer)
            .await
            .unwrap()
            .unwrap();
    let (card_ref,): (String,) = sqlx::query_as("SELECT gateway_ref FROM payment_methods WHERE id = $1")
        .bind(&card)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let request = ChargeRequest {
        customer_ref,
        card_ref,
        amount: app::types::Money::new(20_050, app::types::Currency::USD),
        idempotency_key: key.into(),
        off_session: false,
        payment_id: payment.clone(),
        description: format!("Settle payment {payment}"),
    };
    app.state.gateways.sandbox.charge(&request).await.unwrap();
    assert_eq!(sandbox_charges(&app, &s.customer).await, 1);
    app.clock.advance(std::time::Duration::from_secs(120));
    assert_eq!(reconcile::reconcile_stale(&app.state, 10).await.unwrap(), 1);
    assert_eq!(sandbox_charges(&app, &s.customer).await, 1, "the same key replays the first charge");
    assert_eq!(invoice_state(&app, "LA-2").await, ("paid".into(), 8_050));
}

async fn changed_totals_and_expired_cards_are_refused_before_charging(app: TestApp) {
    let (client, s) = signed_in_customer(&app, "shop", "CT").await;
    let card = card_in(&add_card(&app, &client, "shop", "4242424242424242").await);
    let ids = open_invoice_ids(&app, &s.customer).await;
    let (attempt, _, _) = review(&app, &client, "shop", "").await;
    // The customer confirmed a different total than what is due now.
    let res = confirm(&app, &client, "shop", &ids, None, "19999", &card, &attempt).await;
    assert!(location(&res).unwrap().contains("error=changed"));
    // A forged attempt token is refused.
    let res = confirm(&app, &client, "shop", &ids, None, "20050", &card, "x").await;
    assert!(location(&res).unwrap().contains("error=attempt"));
    // An expired card is refused (and shown as expired).
    sqlx::query("UPDATE payment_methods SET exp_year = 2025 WHERE id = $1")
        .bind(&card)
        .execute(app.db.pool())
        .await
        .unwrap();
    let (attempt, _, html) = review(&app, &client, "shop", "").await;
    assert!(html.contains("Expired") && html.contains("Add a card"));
    assert!(attempt.is_empty(), "no Pay button without a usable card");
    // A hand-made request with a well-formed attempt is refused all the same.
    let res = confirm(&app, &client, "shop", &ids, None, "20050", &card, "hand-made-attempt-0001").await;
    assert!(location(&res).unwrap().contains("error=card_expired"));
    assert_eq!(sandbox_charges(&app, &s.customer).await, 0);
    let (rows,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM payments WHERE customer_id = $1")
        .bind(s.customer.as_str())
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(rows, 0, "refusals write no payment");
    // Expired when typed in: refused by the card page.
    let res = try_add_card(&app, &client, "shop", "4242424242424242", "01/20").await;
    assert!(location(&res).unwrap().contains("error=expired"));
}

async fn cards_are_checked_and_new_ones_become_the_default(app: TestApp) {
    let (client, s) = signed_in_customer(&app, "shop", "CD").await;
    let first = card_in(&add_card(&app, &client, "shop", "4242424242424242").await);
    let second = card_in(&add_card(&app, &client, "shop", "5555555555554444").await);
    let default: (String,) = sqlx::query_as("SELECT id FROM payment_methods WHERE customer_id = $1 AND is_default = 1")
        .bind(s.customer.as_str())
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(default.0, second, "the card just added is the default");
    let (_, _, html) = review(&app, &client, "shop", "").await;
    assert!(html.contains("Mastercard ending 4444"));
    let res = client.post(app.url(&format!("/p/shop/account/cards/{first}/default"))).send().await.unwrap();
    assert_eq!(location(&res).unwrap(), "/p/shop/account/settings?saved=default_card");
    let default: (String,) = sqlx::query_as("SELECT id FROM payment_methods WHERE customer_id = $1 AND is_default = 1")
        .bind(s.customer.as_str())
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(default.0, first);
    let settings = page(client.get(app.url("/p/shop/account/settings")).send().await.unwrap()).await;
    assert!(settings.contains("Add a card") && settings.contains("Make default"));
    // Card numbers are never stored: only brand, last four and expiry.
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM sandbox_objects WHERE body LIKE '%4242424242424242%' OR body LIKE '%5555555555554444%'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(n, 0);
}

async fn payments_and_cards_are_scoped_to_the_customer(app: TestApp) {
    let (alice, _) = signed_in_customer(&app, "shop", "AL").await;
    let (bob, b) = signed_in_customer(&app, "shop", "BO").await;
    let bob_card = card_in(&add_card(&app, &bob, "shop", "4000002500003155").await);
    let ids = open_invoice_ids(&app, &b.customer).await;
    let (attempt, total, _) = review(&app, &bob, "shop", "").await;
    let res = confirm(&app, &bob, "shop", &ids, None, &total, &bob_card, &attempt).await;
    let auth = location(&res).unwrap();
    let payment = auth.trim_end_matches("/authenticate").rsplit('/').next().unwrap().to_string();
    // Alice can't see, approve or cancel Bob's payment, use his card or pay his invoices.
    assert_eq!(alice.get(app.url(&auth)).send().await.unwrap().status(), 404);
    let challenge = format!("/p/shop/sandbox/payments/{payment}/challenge");
    let res = alice.post(app.url(&challenge)).form(&[("decision", "approve")]).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let res = alice.post(app.url(&format!("/p/shop/pay/{payment}/cancel"))).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let res = alice.post(app.url(&format!("/p/shop/account/cards/{bob_card}/default"))).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let res = confirm(&app, &alice, "shop", &ids, None, &total, &bob_card, "alice-attempt-00000001").await;
    let to = location(&res).unwrap();
    assert!(to.contains("error=not_open"), "Bob's invoices are not Alice's to pay: {to}");
    assert_eq!(invoice_state(&app, "BO-1").await, ("open".into(), 0));
    // Bob cancels his own: nothing charged, and he can pay again.
    let res = bob.post(app.url(&format!("/p/shop/pay/{payment}/cancel"))).send().await.unwrap();
    assert!(location(&res).unwrap().contains(&format!("declined={payment}")));
    let (_, _, html) = review(&app, &bob, "shop", "").await;
    assert!(!html.contains("is still in progress"));
}
