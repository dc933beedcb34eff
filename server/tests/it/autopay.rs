//! Autopay on both backends, through the sandbox gateway: consent recorded
//! word for word, the default card charged off-session on the due date by a
//! job (once, however many workers run), failures recorded and shown, the
//! newest default card used.

use crate::common::paying::*;
use crate::common::*;
use std::time::Duration;

on_both_backends!(
    autopay_needs_consent_and_records_it,
    the_default_card_is_charged_once_on_the_due_date,
    a_failed_autopay_charge_is_recorded_and_shown,
    a_new_default_card_is_used_for_the_next_charge,
    soft_declines_are_retried_silently_then_the_customer_is_asked_for_a_card,
    a_hard_decline_skips_retries,
    a_retry_with_a_new_card_recovers_the_payment,
);

/// (local time in Chicago, status) of the customer's autopay payments.
async fn attempts(app: &TestApp, customer: &app::server::ids::CustomerId) -> Vec<(String, String)> {
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT created_at, status FROM payments WHERE customer_id = $1 ORDER BY created_at")
            .bind(customer.as_str())
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    let tz = jiff::tz::TimeZone::get("America/Chicago").unwrap();
    rows.into_iter()
        .map(|(at, st)| {
            let local = jiff::Timestamp::from_millisecond(at).unwrap().to_zoned(tz.clone());
            (local.strftime("%m-%d %H:%M").to_string(), st)
        })
        .collect()
}

async fn card_emails(app: &TestApp, customer: &app::server::ids::CustomerId) -> i64 {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM messages WHERE customer_id = $1 AND template_key = 'dunning:update_card'")
            .bind(customer.as_str())
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    n
}

/// Runs the job worker and the reminder sweep every hour for `hours`.
async fn run_hours(app: &TestApp, hours: u32) {
    for _ in 0..hours {
        app.clock.advance(Duration::from_secs(3600));
        run_jobs_until_idle(app, "w1").await;
        app::server::dunning::sweep::sweep(&app.state, 500).await.unwrap();
    }
}

/// Runs jobs until none is queued or running (the app's own worker runs
/// too; either may take a job).
async fn run_jobs_until_idle(app: &TestApp, worker: &str) {
    for _ in 0..100 {
        app::server::jobs::run_once(&app.state, worker, 20).await.unwrap();
        let (busy,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running') AND run_at <= $1")
                .bind(app.clock_now().0)
                .fetch_one(app.db.pool())
                .await
                .unwrap();
        if busy == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("jobs did not finish");
}

async fn turn_on(app: &TestApp, client: &reqwest::Client, card: &str, consent: bool) -> String {
    let mut form = vec![("action", "on"), ("card", card)];
    if consent {
        form.push(("consent", "yes"));
    }
    let res = client
        .post(app.url("/p/shop/account/autopay"))
        .header("user-agent", "AutopayTest/1.0")
        .form(&form)
        .send()
        .await
        .unwrap();
    location(&res).unwrap()
}

async fn autopay_needs_consent_and_records_it(app: TestApp) {
    let (client, s) = signed_in_customer(&app, "shop", "AC").await;
    let card = card_in(&add_card(&app, &client, "shop", "4242424242424242").await);
    let html = page(client.get(app.url("/p/shop/account/settings")).send().await.unwrap()).await;
    let offered = "I authorise SHOP Ltd to charge my Visa ending 4242 for each of my invoices on its due date";
    assert!(html.contains(offered), "the exact consent words are shown");
    assert!(turn_on(&app, &client, &card, false).await.contains("error=autopay_consent"));
    assert!(turn_on(&app, &client, "pm_01notmycard0000000000000", true).await.contains("error=autopay_card"));
    assert!(turn_on(&app, &client, &card, true).await.contains("saved=autopay_on"));
    let (text, ip, ua, pm, revoked): (String, Option<String>, Option<String>, String, Option<i64>) = sqlx::query_as(
        "SELECT consent_text, ip, user_agent, payment_method_id, revoked_at FROM autopay_consents WHERE customer_id = $1",
    )
    .bind(s.customer.as_str())
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert!(text.starts_with(offered));
    assert_eq!(ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(ua.as_deref(), Some("AutopayTest/1.0"));
    assert_eq!((pm, revoked), (card.clone(), None));
    let html = page(client.get(app.url("/p/shop/account/settings")).send().await.unwrap()).await;
    assert!(html.contains("Autopay is on") && html.contains("Turn off autopay"));
    let res = client.post(app.url("/p/shop/account/autopay")).form(&[("action", "off")]).send().await.unwrap();
    assert!(location(&res).unwrap().contains("saved=autopay_off"));
    let (flag, revoked): (i64, Option<i64>) = sqlx::query_as(
        "SELECT c.autopay_enabled, a.revoked_at FROM customers c JOIN autopay_consents a ON a.customer_id = c.id \
         WHERE c.id = $1",
    )
    .bind(s.customer.as_str())
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(flag, 0);
    assert!(revoked.is_some(), "the consent is kept, marked revoked");
}

async fn the_default_card_is_charged_once_on_the_due_date(app: TestApp) {
    let (client, s) = signed_in_customer(&app, "shop", "AD").await;
    let card = card_in(&add_card(&app, &client, "shop", "4242424242424242").await);
    assert!(turn_on(&app, &client, &card, true).await.contains("saved=autopay_on"));
    // AD-1 was already overdue when autopay was turned on: not charged.
    // AD-2 is due in 5 days: nothing yet.
    run_jobs_until_idle(&app, "w1").await;
    assert_eq!(sandbox_charges(&app, &s.customer).await, 0);
    app.clock.advance_days(5);
    app.clock.advance(Duration::from_secs(60));
    // Two workers at once, as two processes would.
    let (a, b) = tokio::join!(
        app::server::jobs::run_once(&app.state, "w1", 20),
        app::server::jobs::run_once(&app.state, "w2", 20)
    );
    a.unwrap();
    b.unwrap();
    run_jobs_until_idle(&app, "w1").await;
    assert_eq!(sandbox_charges(&app, &s.customer).await, 1);
    assert_eq!(invoice_state(&app, "AD-2").await, ("paid".into(), 8_050));
    assert_eq!(invoice_state(&app, "AD-1").await, ("open".into(), 0));
    let (purpose, off_session): (String, i64) =
        sqlx::query_as("SELECT purpose, off_session FROM payments WHERE customer_id = $1")
            .bind(s.customer.as_str())
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!((purpose.as_str(), off_session), ("autopay", 1));
    // Later runs change nothing.
    app.clock.advance_days(1);
    run_jobs_until_idle(&app, "w2").await;
    assert_eq!(sandbox_charges(&app, &s.customer).await, 1);
}

async fn a_failed_autopay_charge_is_recorded_and_shown(app: TestApp) {
    let (client, s) = signed_in_customer(&app, "shop", "AF").await;
    let card = card_in(&add_card(&app, &client, "shop", "4000000000009995").await);
    assert!(turn_on(&app, &client, &card, true).await.contains("saved=autopay_on"));
    app.clock.advance_days(6);
    run_jobs_until_idle(&app, "w1").await;
    assert_eq!(invoice_state(&app, "AF-2").await, ("open".into(), 0), "the invoice stays open");
    let (status, code, kind): (String, Option<String>, Option<String>) =
        sqlx::query_as("SELECT status, failure_code, decline_kind FROM payments WHERE customer_id = $1")
            .bind(s.customer.as_str())
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(
        (status.as_str(), code.as_deref(), kind.as_deref()),
        ("failed", Some("insufficient_funds"), Some("soft"))
    );
    // Days later the customer follows a new reminder's link.
    let (_, link) = app.link(&s.merchant, &s.customer).await;
    sign_in_with_link(&app, &client, &link).await;
    let account = page(client.get(app.url("/p/shop/account")).send().await.unwrap()).await;
    // As the page writes it: the apostrophe is escaped like every value.
    let notice = "Autopay couldn&#39;t charge your card";
    assert!(account.contains(notice) && account.contains("insufficient funds"));
    // The customer pays by hand with a good card: the notice goes away.
    let good = card_in(&add_card(&app, &client, "shop", "4242424242424242").await);
    let ids = open_invoice_ids(&app, &s.customer).await;
    let (attempt, total, _) = review(&app, &client, "shop", "").await;
    confirm(&app, &client, "shop", &ids, None, &total, &good, &attempt).await;
    let account = page(client.get(app.url("/p/shop/account")).send().await.unwrap()).await;
    assert!(!account.contains(notice) && !account.contains("autopay-problem"));
}

async fn a_new_default_card_is_used_for_the_next_charge(app: TestApp) {
    let (client, s) = signed_in_customer(&app, "shop", "AN").await;
    let old = card_in(&add_card(&app, &client, "shop", "4242424242424242").await);
    assert!(turn_on(&app, &client, &old, true).await.contains("saved=autopay_on"));
    let new = card_in(&add_card(&app, &client, "shop", "5555555555554444").await);
    app.clock.advance_days(6);
    run_jobs_until_idle(&app, "w1").await;
    let (used,): (String,) = sqlx::query_as("SELECT payment_method_id FROM payments WHERE customer_id = $1")
        .bind(s.customer.as_str())
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(used, new);
    assert_eq!(invoice_state(&app, "AN-2").await, ("paid".into(), 8_050));
}

async fn soft_declines_are_retried_silently_then_the_customer_is_asked_for_a_card(app: TestApp) {
    let (client, s) = signed_in_customer(&app, "shop", "RS").await;
    let card = card_in(&add_card(&app, &client, "shop", "4000000000009995").await);
    assert!(turn_on(&app, &client, &card, true).await.contains("saved=autopay_on"));
    // RS-2 falls due on 03-20 at 10:00 Chicago time (T0 + 5 days).
    run_hours(&app, 17 * 24).await;
    let got = attempts(&app, &s.customer).await;
    let times: Vec<&str> = got.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        &times[1..],
        ["03-21 10:00", "03-23 10:00", "03-25 10:00", "03-27 10:00"],
        "retries at 10:00 local: {got:?}"
    );
    assert!(got.iter().all(|(_, st)| st == "failed"));
    assert_eq!(card_emails(&app, &s.customer).await, 1, "after the last retry, once");
    // No reminder about RS-2 while its retries were pending.
    let (early,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM messages m JOIN message_invoices mi ON mi.message_id = m.id \
         JOIN invoices i ON i.id = mi.invoice_id WHERE i.number = 'RS-2' AND m.template_key <> 'dunning:update_card' \
         AND m.created_at < (SELECT MAX(created_at) FROM payments WHERE customer_id = $1)",
    )
    .bind(s.customer.as_str())
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(early, 0, "silent retries come first");
    let (retried,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM events WHERE customer_id = $1 AND kind = 'retry_attempted'")
            .bind(s.customer.as_str())
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(retried, 4);
}

async fn a_hard_decline_skips_retries(app: TestApp) {
    let (client, s) = signed_in_customer(&app, "shop", "RH").await;
    let card = card_in(&add_card(&app, &client, "shop", "4000000000009979").await);
    assert!(turn_on(&app, &client, &card, true).await.contains("saved=autopay_on"));
    run_hours(&app, 6 * 24).await;
    assert_eq!(attempts(&app, &s.customer).await.len(), 1, "no retries after a hard decline");
    assert_eq!(card_emails(&app, &s.customer).await, 1);
    let (jobs,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM jobs WHERE kind = 'autopay_retry'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(jobs, 0);
}

async fn a_retry_with_a_new_card_recovers_the_payment(app: TestApp) {
    let (client, s) = signed_in_customer(&app, "shop", "RR").await;
    let poor = card_in(&add_card(&app, &client, "shop", "4000000000009995").await);
    assert!(turn_on(&app, &client, &poor, true).await.contains("saved=autopay_on"));
    run_hours(&app, 5 * 24 + 2).await;
    assert_eq!(attempts(&app, &s.customer).await.len(), 1);
    // A new card before the first retry (the session has expired by now).
    let (_, link) = app.link(&s.merchant, &s.customer).await;
    sign_in_with_link(&app, &client, &link).await;
    add_card(&app, &client, "shop", "4242424242424242").await;
    run_hours(&app, 2 * 24).await;
    let got = attempts(&app, &s.customer).await;
    assert_eq!(got.iter().map(|(_, st)| st.as_str()).collect::<Vec<_>>(), ["failed", "succeeded"]);
    assert_eq!(invoice_state(&app, "RR-2").await, ("paid".into(), 8_050));
    let (recovered,): (String,) =
        sqlx::query_as("SELECT detail FROM events WHERE customer_id = $1 AND kind = 'payment_recovered'")
            .bind(s.customer.as_str())
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert!(recovered.contains("retry 1"), "{recovered}");
    assert_eq!(card_emails(&app, &s.customer).await, 0);
}
