//! The reminder sweep on virtual time, on both backends: a 60-day sequence
//! sends exactly the default policy's reminders on the right local days and
//! hours in two zones and stops when paid; quiet hours defer; invoices due
//! together are consolidated into one message; promises and disputes hold
//! reminders; a reminder for an invoice paid after it was queued is moot;
//! two concurrent sweeps queue each message once; the weekly cap and the
//! one-a-day rule hold reminders back (never lose them) across a DST change.

use crate::common::*;
use app::server::dunning::sweep::sweep;
use app::server::repo::invoices::InvoiceStatus;
use app::server::repo::messages;
use app::server::{Clock, UtcMillis};
use std::time::Duration;

on_both_backends!(
    a_sixty_day_sequence_sends_each_reminder_once_on_its_local_day,
    quiet_hours_defer_and_due_invoices_are_consolidated,
    promises_and_disputes_hold_reminders,
    a_reminder_paid_before_delivery_is_moot,
    concurrent_sweeps_queue_each_message_once,
    the_pay_now_link_lands_on_the_payment_page,
    expiring_cards_are_warned_30_and_7_days_ahead_unless_refreshed,
    stored_policies_round_trip_and_final_actions_happen_once,
    the_weekly_cap_and_one_a_day_hold_back_reminders_across_a_dst_change,
);

async fn customer_in(app: &TestApp, slug: &str, name: &str, zone: &str) -> app::server::ids::CustomerId {
    let m = match app::server::repo::merchants::find_by_slug(app.db.pool(), slug).await.unwrap() {
        Some(m) => m,
        None => app.merchant(slug, "Dun Co").await,
    };
    app.customer(&m.merchant_id(), name, zone).await
}

/// (template key, local time "YYYY-MM-DD HH:MM") of each reminder queued.
async fn reminders(app: &TestApp, customer: &app::server::ids::CustomerId, zone: &str) -> Vec<(String, String)> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT template_key, created_at FROM messages WHERE customer_id = $1 AND template_key LIKE 'dunning:%' \
         ORDER BY created_at",
    )
    .bind(customer.as_str())
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    let tz = jiff::tz::TimeZone::get(zone).unwrap();
    rows.into_iter()
        .map(|(k, at)| {
            let local = jiff::Timestamp::from_millisecond(at).unwrap().to_zoned(tz.clone());
            (k.trim_start_matches("dunning:").to_string(), local.strftime("%Y-%m-%d %H:%M").to_string())
        })
        .collect()
}

async fn a_sixty_day_sequence_sends_each_reminder_once_on_its_local_day(app: TestApp) {
    // T0 is 2026-03-15 15:00 UTC; both invoices fall due 10 days later.
    // Reminders go out at 08:00 in each customer's own zone.
    let ny = customer_in(&app, "dun", "Nora York", "America/New_York").await;
    let tokyo = customer_in(&app, "dun", "Taro Tokyo", "Asia/Tokyo").await;
    let mid = app::server::repo::merchants::find_by_slug(app.db.pool(), "dun").await.unwrap().unwrap().merchant_id();
    app.invoice(&mid, &ny, "NY-1", 10_000, 10, InvoiceStatus::Open, 0).await;
    app.invoice(&mid, &tokyo, "TK-1", 20_000, 10, InvoiceStatus::Open, 0).await;
    let started = std::time::Instant::now();
    for hour in 0..(60 * 24) {
        sweep(&app.state, 500).await.unwrap();
        // Taro pays the day after his +3 reminder.
        if hour == (10 + 4) * 24 {
            sqlx::query("UPDATE invoices SET status = 'paid', amount_paid_minor = total_minor WHERE number = 'TK-1'")
                .execute(app.db.pool())
                .await
                .unwrap();
        }
        app.clock.advance(Duration::from_secs(3600));
    }
    eprintln!("60 days of hourly sweeps took {:?}", started.elapsed());
    assert_eq!(
        reminders(&app, &ny, "America/New_York").await,
        [
            ("courtesy".into(), "2026-03-18 08:00".into()),
            ("due_tomorrow".into(), "2026-03-24 08:00".into()),
            ("overdue_friendly".into(), "2026-03-26 08:00".into()),
            ("overdue_reminder".into(), "2026-03-28 08:00".into()),
            ("overdue_firm".into(), "2026-04-01 08:00".into()),
            ("final_notice".into(), "2026-04-08 08:00".into()),
        ]
    );
    assert_eq!(
        reminders(&app, &tokyo, "Asia/Tokyo").await,
        [
            ("courtesy".into(), "2026-03-19 08:00".into()),
            ("due_tomorrow".into(), "2026-03-25 08:00".into()),
            ("overdue_friendly".into(), "2026-03-27 08:00".into()),
            ("overdue_reminder".into(), "2026-03-29 08:00".into()),
        ],
        "nothing after paying"
    );
    let (sent_events,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events WHERE kind = 'reminder_sent'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(sent_events, 10);
    let (body,): (String,) = sqlx::query_as(
        "SELECT body_text FROM messages WHERE customer_id = $1 AND template_key = 'dunning:overdue_firm'",
    )
    .bind(ny.as_str())
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert!(body.contains("NY-1") && body.contains("$100.00") && body.contains("/p/dun/l/"), "{body}");
}

async fn quiet_hours_defer_and_due_invoices_are_consolidated(app: TestApp) {
    let c = customer_in(&app, "dun", "Kiko Tokyo", "Asia/Tokyo").await;
    let mid = app::server::repo::merchants::find_by_slug(app.db.pool(), "dun").await.unwrap().unwrap().merchant_id();
    // Both overdue by two days: their +1 step is due now.
    app.invoice(&mid, &c, "KT-1", 10_000, -2, InvoiceStatus::Open, 0).await;
    app.invoice(&mid, &c, "KT-2", 5_000, -2, InvoiceStatus::Open, 0).await;
    // 2026-03-16 03:00 in Tokyo: quiet.
    app.clock.set(UtcMillis("2026-03-15T18:00:00Z".parse::<jiff::Timestamp>().unwrap().as_millisecond()));
    let r = sweep(&app.state, 500).await.unwrap();
    assert_eq!((r.messages, r.deferred), (0, 1), "nothing at 03:00 local");
    app.clock.set(UtcMillis("2026-03-15T22:59:00Z".parse::<jiff::Timestamp>().unwrap().as_millisecond()));
    assert_eq!(sweep(&app.state, 500).await.unwrap().messages, 0, "still before 08:00");
    app.clock.set(UtcMillis("2026-03-15T23:00:00Z".parse::<jiff::Timestamp>().unwrap().as_millisecond()));
    assert_eq!(sweep(&app.state, 500).await.unwrap().messages, 1, "one message at 08:00 local");
    let (body,): (String,) = sqlx::query_as("SELECT body_text FROM messages WHERE customer_id = $1")
        .bind(c.as_str())
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert!(body.contains("KT-1") && body.contains("KT-2") && body.contains("$150.00"), "consolidated: {body}");
}

async fn promises_and_disputes_hold_reminders(app: TestApp) {
    let c = customer_in(&app, "dun", "Pat Promise", "UTC").await;
    let mid = app::server::repo::merchants::find_by_slug(app.db.pool(), "dun").await.unwrap().unwrap().merchant_id();
    app.invoice(&mid, &c, "PP-1", 10_000, -2, InvoiceStatus::Open, 0).await;
    app.invoice(&mid, &c, "PP-2", 10_000, -2, InvoiceStatus::Open, 0).await;
    let ids: Vec<(String, String)> =
        sqlx::query_as("SELECT id, number FROM invoices WHERE customer_id = $1 ORDER BY number")
            .bind(c.as_str())
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    let until = app.clock.now().plus_days(3).0;
    sqlx::query(
        "INSERT INTO promises (id, merchant_id, customer_id, invoice_id, promised_date, promised_until, created_at) \
         VALUES ('prm_t', $1, $2, $3, '2026-03-18', $4, $5)",
    )
    .bind(mid.as_str())
    .bind(c.as_str())
    .bind(&ids[0].0)
    .bind(until)
    .bind(app.clock.now().0)
    .execute(app.db.pool())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO disputes (id, merchant_id, customer_id, invoice_id, reason, created_at) \
         VALUES ('dsp_t', $1, $2, $3, 'wrong_amount', $4)",
    )
    .bind(mid.as_str())
    .bind(c.as_str())
    .bind(&ids[1].0)
    .bind(app.clock.now().0)
    .execute(app.db.pool())
    .await
    .unwrap();
    let r = sweep(&app.state, 500).await.unwrap();
    assert_eq!((r.messages, r.held), (0, 2));
    // The promise lapses unpaid: reminders resume; the dispute still holds.
    app.clock.advance_days(4);
    assert_eq!(sweep(&app.state, 500).await.unwrap().messages, 1);
    let (body,): (String,) = sqlx::query_as("SELECT body_text FROM messages WHERE customer_id = $1")
        .bind(c.as_str())
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert!(body.contains("PP-1") && !body.contains("PP-2"), "{body}");
}

async fn a_reminder_paid_before_delivery_is_moot(app: TestApp) {
    let c = customer_in(&app, "dun", "Paige Late", "UTC").await;
    let mid = app::server::repo::merchants::find_by_slug(app.db.pool(), "dun").await.unwrap().unwrap().merchant_id();
    app.invoice(&mid, &c, "PL-1", 10_000, -2, InvoiceStatus::Open, 0).await;
    assert_eq!(sweep(&app.state, 500).await.unwrap().messages, 1);
    let (id,): (String,) = sqlx::query_as("SELECT id FROM messages WHERE customer_id = $1")
        .bind(c.as_str())
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert!(!messages::reminder_is_moot(app.db.pool(), &id, app.clock.now()).await.unwrap());
    sqlx::query("UPDATE invoices SET status = 'paid', amount_paid_minor = total_minor WHERE number = 'PL-1'")
        .execute(app.db.pool())
        .await
        .unwrap();
    assert!(messages::reminder_is_moot(app.db.pool(), &id, app.clock.now()).await.unwrap(), "paid a moment ago");
    app.clock.advance_days(10);
    assert_eq!(sweep(&app.state, 500).await.unwrap().messages, 0);
}

async fn concurrent_sweeps_queue_each_message_once(app: TestApp) {
    let mid = app.merchant("dun", "Dun Co").await.merchant_id();
    for i in 0..20 {
        let c = app.customer(&mid, &format!("Many Customer{i}"), "UTC").await;
        app.invoice(&mid, &c, &format!("MC-{i}"), 1_000 + i, -2, InvoiceStatus::Open, 0).await;
    }
    let (a, b) = tokio::join!(sweep(&app.state, 500), sweep(&app.state, 500));
    assert_eq!(a.unwrap().messages + b.unwrap().messages, 20);
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM messages WHERE template_key LIKE 'dunning:%'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(n, 20, "one reminder per customer");
}

async fn the_pay_now_link_lands_on_the_payment_page(app: TestApp) {
    let c = customer_in(&app, "dun", "Penny Paynow", "UTC").await;
    let m = app::server::repo::merchants::find_by_slug(app.db.pool(), "dun").await.unwrap().unwrap();
    app.invoice(&m.merchant_id(), &c, "PN-1", 10_000, -2, InvoiceStatus::Open, 0).await;
    assert_eq!(sweep(&app.state, 500).await.unwrap().messages, 1);
    let (body,): (String,) = sqlx::query_as("SELECT body_text FROM messages WHERE customer_id = $1")
        .bind(c.as_str())
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let at = body.find("/p/dun/l/").expect("a link in the reminder");
    let link: String = body[at..].chars().take_while(|c| !c.is_whitespace()).collect();
    assert!(link.ends_with("?to=pay"), "{link}");
    let client = browser();
    let page_html = page(client.get(app.url(&link)).send().await.unwrap()).await;
    assert!(page_html.contains("name=\"to\" value=\"pay\""), "the Continue form carries where to land");
    let path = link.trim_end_matches("?to=pay");
    let res = client.post(app.url(path)).form(&[("to", "pay")]).send().await.unwrap();
    assert_eq!(location(&res).as_deref(), Some("/p/dun/pay"));
    let html = page(client.get(app.url("/p/dun/pay")).send().await.unwrap()).await;
    assert!(html.contains("PN-1") && html.contains("$100.00"));
}

async fn expiring_cards_are_warned_30_and_7_days_ahead_unless_refreshed(app: TestApp) {
    use app::server::repo::payment_methods::{self, NewPaymentMethod};
    let mid = app.merchant("dun", "Dun Co").await.merchant_id();
    let mut cards = Vec::new();
    for name in ["Ella Expiring", "Rhea Refreshed"] {
        let c = app.customer(&mid, name, "UTC").await;
        sqlx::query("UPDATE customers SET autopay_enabled = 1 WHERE id = $1")
            .bind(c.as_str())
            .execute(app.db.pool())
            .await
            .unwrap();
        let card = NewPaymentMethod {
            gateway: "sandbox".into(),
            gateway_ref: format!("sbpm_{}", app::server::ids::new_id_body()),
            brand: "visa".into(),
            last4: "4242".into(),
            exp_month: 4,
            exp_year: 2026,
            is_default: true,
        };
        let card_id = payment_methods::insert(app.db.pool(), &mid, &c, &card, app.clock.now()).await.unwrap();
        // The next charge (due 2026-05-10) comes after the card's last day (04-30).
        app.invoice(&mid, &c, &format!("EX-{}", &name[..4]), 10_000, 56, InvoiceStatus::Open, 0).await;
        cards.push((c, card_id));
    }
    let (ella, rhea) = (&cards[0], &cards[1]);
    for hour in 0..(47 * 24) {
        if hour == 26 * 24 {
            // 2026-04-10: the card updater gives Rhea's card a new expiry.
            sqlx::query("UPDATE payment_methods SET exp_year = 2029, refreshed_at = $1 WHERE id = $2")
                .bind(app.clock.now().0)
                .bind(rhea.1.as_str())
                .execute(app.db.pool())
                .await
                .unwrap();
        }
        sweep(&app.state, 500).await.unwrap();
        app.clock.advance(Duration::from_secs(3600));
    }
    let warnings = |c: &app::server::ids::CustomerId| {
        let c = c.clone();
        let pool = app.db.pool().clone();
        async move {
            let rows: Vec<(i64,)> = sqlx::query_as(
                "SELECT created_at FROM messages WHERE customer_id = $1 AND template_key = 'dunning:card_expiring' ORDER BY created_at",
            )
            .bind(c.as_str())
            .fetch_all(&pool)
            .await
            .unwrap();
            rows.into_iter()
                .map(|(at,)| jiff::Timestamp::from_millisecond(at).unwrap().strftime("%m-%d %H:%M").to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(warnings(&ella.0).await, ["03-31 08:00", "04-23 08:00"]);
    assert_eq!(warnings(&rhea.0).await, ["03-31 08:00"], "no 7-day warning after the card was refreshed");
}

async fn stored_policies_round_trip_and_final_actions_happen_once(app: TestApp) {
    use app::server::dunning::policy::{Channel, FinalAction, LateFee, Policy, Step, StepKind, Tone};
    use app::server::dunning::store;
    let m = app.merchant("dun", "Dun Co").await;
    let mid = m.merchant_id();
    // An invalid policy is refused with its problems; nothing is stored.
    let bad = Policy { weekly_cap: 0, ..Policy::default() };
    let problems = store::save(app.db.pool(), &mid, "bad", &bad, app.clock.now()).await.unwrap().unwrap_err();
    assert_eq!(problems.len(), 1);
    assert_eq!(store::policy_for(app.db.pool(), &mid).await.unwrap(), Policy::default(), "default until one is saved");
    let policy = Policy {
        steps: vec![Step {
            kind: StepKind::Overdue,
            offset_days: 1,
            channel: Channel::Email,
            template_key: "final_notice".into(),
            tone: Tone::Final,
        }],
        final_action: FinalAction::WriteOff,
        final_action_after_days: 2,
        late_fee: Some(LateFee::Percent(150)),
        ..Policy::default()
    };
    store::save(app.db.pool(), &mid, "strict", &policy, app.clock.now()).await.unwrap().unwrap();
    assert_eq!(store::policy_for(app.db.pool(), &mid).await.unwrap(), policy, "stored as given");
    let c = app.customer(&mid, "Wendy Writeoff", "UTC").await;
    app.invoice(&mid, &c, "WO-1", 10_000, 0, InvoiceStatus::Open, 0).await;
    for _ in 0..(6 * 24) {
        sweep(&app.state, 500).await.unwrap();
        app.clock.advance(Duration::from_secs(3600));
    }
    let (status,): (String,) =
        sqlx::query_as("SELECT status FROM invoices WHERE number = 'WO-1'").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(status, "uncollectible");
    let kinds: Vec<(String,)> = sqlx::query_as(
        "SELECT kind FROM events WHERE customer_id = $1 AND kind IN ('reminder_sent', 'written_off') ORDER BY created_at",
    )
    .bind(c.as_str())
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(kinds.iter().map(|k| k.0.as_str()).collect::<Vec<_>>(), ["reminder_sent", "written_off"]);
    // The 1.5 % late fee came with the first overdue reminder, as its own line.
    let (total, fee_lines): (i64, i64) = sqlx::query_as(
        "SELECT i.total_minor, (SELECT COUNT(*) FROM invoice_lines l WHERE l.invoice_id = i.id AND l.kind = 'late_fee' \
         AND l.description = 'Late fee' AND l.amount_minor = 150) FROM invoices i WHERE i.number = 'WO-1'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!((total, fee_lines), (10_150, 1));
    let (body,): (String,) = sqlx::query_as("SELECT body_text FROM messages WHERE customer_id = $1")
        .bind(c.as_str())
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert!(body.contains("$101.50"), "the reminder shows the amount with the fee: {body}");
    // Suspension: the customer is suspended once; their later reminders are held.
    let suspend = Policy { final_action: FinalAction::Suspend, ..policy.clone() };
    store::save(app.db.pool(), &mid, "suspend", &suspend, app.clock.now()).await.unwrap().unwrap();
    let s2 = app.customer(&mid, "Sam Suspend", "UTC").await;
    app.invoice(&mid, &s2, "SU-1", 10_000, 0, InvoiceStatus::Open, 0).await;
    app.invoice(&mid, &s2, "SU-2", 10_000, 10, InvoiceStatus::Open, 0).await;
    for _ in 0..(20 * 24) {
        sweep(&app.state, 500).await.unwrap();
        app.clock.advance(Duration::from_secs(3600));
    }
    let (st,): (String,) = sqlx::query_as("SELECT status FROM customers WHERE id = $1")
        .bind(s2.as_str())
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(st, "suspended");
    let (suspensions, reminders): (i64, i64) = sqlx::query_as(
        "SELECT SUM(CASE WHEN kind = 'customer_suspended' THEN 1 ELSE 0 END), \
         SUM(CASE WHEN kind = 'reminder_sent' THEN 1 ELSE 0 END) FROM events WHERE customer_id = $1",
    )
    .bind(s2.as_str())
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!((suspensions, reminders), (1, 1), "SU-2's reminder is held once the customer is suspended");
}

async fn the_weekly_cap_and_one_a_day_hold_back_reminders_across_a_dst_change(app: TestApp) {
    use app::server::dunning::policy::Policy;
    use app::server::dunning::store;
    let m = app.merchant("dun", "Dun Co").await;
    let mid = m.merchant_id();
    let capped = Policy { weekly_cap: 2, consolidate: true, ..Policy::default() };
    store::save(app.db.pool(), &mid, "capped", &capped, app.clock.now()).await.unwrap().unwrap();
    // London moves to summer time on 2026-03-29. Three invoices due two days
    // apart would, uncapped, bring reminders on many days in a row.
    let c = app.customer(&mid, "Lena London", "Europe/London").await;
    for (n, due) in [("LL-1", 10), ("LL-2", 12), ("LL-3", 14)] {
        app.invoice(&mid, &c, n, 10_000, due, InvoiceStatus::Open, 0).await;
    }
    for _ in 0..(50 * 24) {
        sweep(&app.state, 500).await.unwrap();
        app.clock.advance(Duration::from_secs(3600));
    }
    let sent = reminders(&app, &c, "Europe/London").await;
    assert!(sent.len() >= 6, "{sent:?}");
    let days: Vec<jiff::civil::Date> =
        sent.iter().map(|(_, at)| jiff::civil::Date::strptime("%Y-%m-%d", &at[..10]).unwrap()).collect();
    for (i, (key, at)) in sent.iter().enumerate() {
        assert!(at.ends_with(" 08:00"), "every reminder at 08:00 local, before and after the change: {sent:?}");
        let in_week = days[..=i].iter().filter(|d| (days[i] - **d).get_days() < 7).count();
        assert!(in_week <= 2, "{key} on {at} is the third within 7 days: {sent:?}");
        assert!(i == 0 || days[i] != days[i - 1], "two reminders on {at}: {sent:?}");
    }
    // Held back, never lost: each invoice still reached its final notice.
    let (finals,): (i64,) = sqlx::query_as(
        "SELECT COUNT(DISTINCT mi.invoice_id) FROM message_invoices mi JOIN messages g ON g.id = mi.message_id \
         WHERE g.customer_id = $1 AND g.template_key = 'dunning:final_notice'",
    )
    .bind(c.as_str())
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(finals, 3, "{sent:?}");
}
