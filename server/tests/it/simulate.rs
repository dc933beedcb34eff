//! The policy simulator, on both backends: a cohort on virtual time (one
//! customer who pays after the third reminder, one whose autopay card
//! declines softly, one whose card declines hard) gets the expected
//! timeline with reasons, in each customer's local time; the real data is
//! untouched; bad options are refused clearly. The CLI prints the same.

use crate::common::*;
use app::server::dunning::policy::Policy;
use app::server::dunning::sim_gateway::CardBehaviour;
use app::server::dunning::simulate::{simulate, Entry, SimError, SimOptions};
use app::server::ids::{CustomerId, MerchantId};
use app::server::repo::invoices::InvoiceStatus;
use app::server::Clock;

on_both_backends!(
    a_cohort_gets_the_expected_timeline_and_the_data_is_untouched,
    a_hard_decline_asks_for_a_card_at_once,
    bad_options_are_refused_clearly,
);

fn options(card: CardBehaviour, pays_after: Option<u32>) -> SimOptions {
    SimOptions {
        merchant_slug: "sim".into(),
        days: 20,
        customer_email: None,
        policy: None,
        pays_after_reminder: pays_after,
        card,
        base_url: "https://pay.sim.test".into(),
    }
}

/// Turns autopay on with a valid default card and a consent from before the due date.
async fn autopay(app: &TestApp, mid: &MerchantId, c: &CustomerId) {
    let now = app.clock.now().0;
    let pm = format!("pm_{}", c.as_str());
    sqlx::query(
        "INSERT INTO payment_methods (id, merchant_id, customer_id, gateway, gateway_ref, brand, last4, exp_month, \
         exp_year, is_default, created_at, updated_at) VALUES ($1, $2, $3, 'sandbox', $4, 'visa', '4242', 12, 2030, 1, $5, $5)",
    )
    .bind(&pm)
    .bind(mid.as_str())
    .bind(c.as_str())
    .bind(format!("card_{}", c.as_str()))
    .bind(now)
    .execute(app.db.pool())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO autopay_consents (id, merchant_id, customer_id, payment_method_id, consent_text, granted_at) \
         VALUES ($1, $2, $3, $4, 'I authorise automatic payments.', $5)",
    )
    .bind(format!("ac_{}", c.as_str()))
    .bind(mid.as_str())
    .bind(c.as_str())
    .bind(&pm)
    .bind(now)
    .execute(app.db.pool())
    .await
    .unwrap();
    sqlx::query("UPDATE customers SET autopay_enabled = 1 WHERE id = $1")
        .bind(c.as_str())
        .execute(app.db.pool())
        .await
        .unwrap();
}

async fn counts(app: &TestApp) -> (i64, i64, i64, i64) {
    sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM messages), (SELECT COUNT(*) FROM payments), (SELECT COUNT(*) FROM events), \
         (SELECT COUNT(*) FROM invoices WHERE status = 'open' AND dunning_step IS NULL)",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap()
}

fn of<'a>(entries: &'a [Entry], customer: &str) -> Vec<(&'a str, &'a str, &'a str)> {
    entries
        .iter()
        .filter(|e| e.customer == customer)
        .map(|e| (e.local.as_str(), e.what.split(':').next().unwrap_or(""), e.why.as_str()))
        .collect()
}

async fn a_cohort_gets_the_expected_timeline_and_the_data_is_untouched(app: TestApp) {
    let m = app.merchant("sim", "Sim Co").await;
    let mid = m.merchant_id();
    // T0 is Sunday 2026-03-15 15:00 UTC (11:00 in New York, on summer time since March 8).
    let nora = app.customer(&mid, "Nora Payer", "America/New_York").await;
    app.invoice(&mid, &nora, "N-1", 10_000, 3, InvoiceStatus::Open, 0).await;
    let ada = app.customer(&mid, "Ada Autopay", "UTC").await;
    autopay(&app, &mid, &ada).await;
    app.invoice(&mid, &ada, "A-1", 5_000, 2, InvoiceStatus::Open, 0).await;
    let before = counts(&app).await;

    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let timeline = simulate(
        &app.db,
        app.clock.now(),
        &options(CardBehaviour::SoftDecline { recovers_on_retry: None }, Some(3)),
        dir.path(),
    )
    .await
    .unwrap();
    eprintln!("20 simulated days took {:?}", started.elapsed());
    assert_eq!(counts(&app).await, before, "the real data is only read");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "the private copy is deleted");

    // Nora: the courtesy note at once (its day has passed), due tomorrow,
    // the +1 reminder, then she pays the next day, and nothing follows.
    let nora_lines = of(&timeline.entries, "Nora Payer");
    let shape: Vec<(&str, &str)> = nora_lines.iter().map(|(when, what, _)| (*when, *what)).collect();
    assert_eq!(
        shape,
        [
            ("2026-03-15 Sun 11:00 EDT", "email courtesy"),
            ("2026-03-17 Tue 08:00 EDT", "email due_tomorrow"),
            ("2026-03-19 Thu 08:00 EDT", "email overdue_friendly"),
            ("2026-03-20 Fri 08:00 EDT", "pays N-1 ($100.00)"),
        ]
    );
    assert_eq!(nora_lines[1].2, "N-1 due in 1 day; policy step 1 day before the due date (friendly tone, email)");
    assert_eq!(nora_lines[3].2, "behaviour model: pays the day after reminder 3");

    // Ada: charged on the due date, four silent retries at 10:00 on days
    // 1, 3, 5 and 7, no reminder meanwhile, then asked for a new card.
    let ada_lines = of(&timeline.entries, "Ada Autopay");
    let shape: Vec<(&str, &str)> = ada_lines.iter().take(6).map(|(when, what, _)| (*when, *what)).collect();
    assert_eq!(
        shape,
        [
            ("2026-03-17 Tue 15:00 UTC", "autopay charge $50.00"),
            ("2026-03-18 Wed 10:00 UTC", "autopay charge $50.00"),
            ("2026-03-20 Fri 10:00 UTC", "autopay charge $50.00"),
            ("2026-03-22 Sun 10:00 UTC", "autopay charge $50.00"),
            ("2026-03-24 Tue 10:00 UTC", "autopay charge $50.00"),
            ("2026-03-24 Tue 10:00 UTC", "email update_card"),
        ]
    );
    assert!(timeline
        .entries
        .iter()
        .filter(|e| e.what.starts_with("autopay"))
        .all(|e| e.what.ends_with("declined (insufficient_funds, soft)")));
    assert_eq!(ada_lines[0].2, "A-1 is due and autopay is on");
    assert!(ada_lines[2].2.starts_with("silent retry 2 of 4 for A-1"), "{}", ada_lines[2].2);
    assert!(ada_lines[5].2.contains("declined and no retry is left"), "{}", ada_lines[5].2);
    // Then the held overdue reminders resume, never on the same day as the
    // card note: the latest step due (+7) the next morning, the final notice
    // at +14, and she pays the day after that third reminder.
    let rest: Vec<(&str, &str)> = ada_lines.iter().skip(6).map(|(when, what, _)| (*when, *what)).collect();
    assert_eq!(
        rest,
        [
            ("2026-03-25 Wed 08:00 UTC", "email overdue_firm"),
            ("2026-03-31 Tue 08:00 UTC", "email final_notice"),
            ("2026-04-01 Wed 08:00 UTC", "pays A-1 ($50.00)"),
        ]
    );

    let text = timeline.render();
    assert!(text.starts_with("Simulation of the merchant's current policy for Sim Co (sim): 20 days"), "{text}");
    assert!(text.contains("Summary: 6 email(s), 0 text message(s), 5 charge attempt(s) (0 succeeded), 2 customer(s) paid, collected $150.00"), "{text}");

    // One customer only, and a card that recovers on the second retry.
    let mut one = options(CardBehaviour::SoftDecline { recovers_on_retry: Some(2) }, None);
    one.customer_email = Some("ada.autopay@example.com".into());
    let t = simulate(&app.db, app.clock.now(), &one, dir.path()).await.unwrap();
    assert!(t.entries.iter().all(|e| e.customer == "Ada Autopay"));
    let whats: Vec<&str> = t.entries.iter().map(|e| e.what.as_str()).collect();
    assert_eq!(
        whats,
        [
            "autopay charge $50.00: declined (insufficient_funds, soft)",
            "autopay charge $50.00: declined (insufficient_funds, soft)",
            "autopay charge $50.00: succeeded",
            "email payment_receipt: \"Receipt for your payment of $50.00 to Sim Co\"",
        ]
    );
    assert_eq!((t.summary.charges_succeeded, t.summary.collected.get("USD")), (1, Some(&5_000)));
}

async fn a_hard_decline_asks_for_a_card_at_once(app: TestApp) {
    let m = app.merchant("sim", "Sim Co").await;
    let mid = m.merchant_id();
    let c = app.customer(&mid, "Hal Hard", "Asia/Tokyo").await;
    autopay(&app, &mid, &c).await;
    app.invoice(&mid, &c, "H-1", 7_500, 1, InvoiceStatus::Open, 0).await;
    let dir = tempfile::tempdir().unwrap();
    let t = simulate(&app.db, app.clock.now(), &options(CardBehaviour::HardDecline, None), dir.path()).await.unwrap();
    let lines: Vec<(&str, &str)> = t.entries.iter().take(2).map(|e| (e.local.as_str(), e.what.as_str())).collect();
    // Due 2026-03-16 15:00 UTC = 00:00 in Tokyo: charged then; the email
    // waits for 08:00, the end of quiet hours.
    assert_eq!(
        lines,
        [
            ("2026-03-17 Tue 00:00 JST", "autopay charge $75.00: declined (stolen_card, hard)"),
            (
                "2026-03-17 Tue 08:00 JST",
                "email update_card: \"Action needed: your payment to Sim Co didn't go through\""
            ),
        ]
    );
    assert_eq!(t.summary.charges, 1, "a hard decline is never retried");
}

async fn bad_options_are_refused_clearly(app: TestApp) {
    let m = app.merchant("sim", "Sim Co").await;
    let dir = tempfile::tempdir().unwrap();
    let now = app.clock.now();
    let mut o = options(CardBehaviour::Pays, None);
    o.merchant_slug = "nope".into();
    let e = simulate(&app.db, now, &o, dir.path()).await.unwrap_err();
    assert_eq!(e.to_string(), "no merchant with the portal name \"nope\"");
    let mut o = options(CardBehaviour::Pays, None);
    o.customer_email = Some("who@example.com".into());
    let e = simulate(&app.db, now, &o, dir.path()).await.unwrap_err();
    assert!(matches!(e, SimError::UnknownCustomer { .. }), "{e}");
    let mut o = options(CardBehaviour::Pays, None);
    o.days = 0;
    assert!(matches!(simulate(&app.db, now, &o, dir.path()).await, Err(SimError::Days)));
    let mut o = options(CardBehaviour::Pays, None);
    o.policy = Some(Policy { weekly_cap: 0, ..Policy::default() });
    let e = simulate(&app.db, now, &o, dir.path()).await.unwrap_err();
    assert!(e.to_string().starts_with("the policy is not valid:\n  - "), "{e}");
    // A merchant with no invoices: an empty, readable timeline.
    let t = simulate(&app.db, now, &options(CardBehaviour::Pays, None), dir.path()).await.unwrap();
    assert!(t.render().contains("Nothing would be sent or charged in this period."));
    let _ = m;
}

/// The command line: the demo's merchant, a draft policy from a file, and errors.
#[test]
fn the_cli_prints_a_timeline_and_explains_mistakes() {
    let dir = tempfile::tempdir().unwrap();
    let settle = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_settle"))
            .args(args)
            .env("SETTLE_DATA_DIR", dir.path())
            .env("SETTLE_LOG", "error")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (ok, _, err) = settle(&["demo"]);
    assert!(ok, "{err}");
    let (ok, out, err) = settle(&["simulate", "--merchant", "acme", "--days", "10", "--pays-after", "2"]);
    assert!(ok, "{err}");
    assert!(out.contains("Simulation of the merchant's current policy for Acme Co (acme): 10 days"), "{out}");
    assert!(out.contains("why: behaviour model: pays the day after reminder 2"), "{out}");
    assert!(out.contains("\nSummary: "), "{out}");

    let (ok, policy_json, _) = settle(&["simulate", "--print-default-policy"]);
    assert!(ok);
    let mut draft: serde_json::Value = serde_json::from_str(&policy_json).unwrap();
    assert_eq!(serde_json::from_value::<Policy>(draft.clone()).unwrap(), Policy::default());
    draft["weekly_cap"] = 1.into();
    let file = dir.path().join("draft.json");
    std::fs::write(&file, draft.to_string()).unwrap();
    let (ok, out, err) =
        settle(&["simulate", "--merchant", "acme", "--days", "10", "--policy", file.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.starts_with("Simulation of the draft policy given for Acme Co"), "{out}");

    draft["weekly_cap"] = 0.into();
    std::fs::write(&file, draft.to_string()).unwrap();
    let (ok, _, err) = settle(&["simulate", "--merchant", "acme", "--policy", file.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("the policy is not valid"), "{err}");
    std::fs::write(&file, "{ not json").unwrap();
    let (ok, _, err) = settle(&["simulate", "--merchant", "acme", "--policy", file.to_str().unwrap()]);
    assert!(!ok && err.contains("cannot read the policy file"), "{err}");
    let (ok, _, err) = settle(&["simulate", "--merchant", "acme", "--days", "0"]);
    assert!(!ok && err.contains("--days"), "{err}");
    let (ok, _, err) = settle(&["simulate", "--merchant", "nobody"]);
    assert!(!ok && err.contains("no merchant with the portal name \"nobody\""), "{err}");
    let (ok, _, err) = settle(&["simulate", "--merchant", "acme", "--recovers-on-retry", "2"]);
    assert!(!ok && err.contains("only applies with --card soft"), "{err}");
}
