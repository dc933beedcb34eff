//! The AR dashboard against a fixture whose figures were worked out by
//! hand (below, next to each assertion), on both backends; the CSV
//! exports (owners and admins only, formulas defused).

use crate::common::*;
use app::server::ids::{CustomerId, MerchantId};
use app::server::repo::invoices::InvoiceStatus;
use app::server::repo::merchant_users::{self, Role};
use app::server::UtcMillis;

on_both_backends!(figures_match_the_hand_computed_fixture);

const DAY: i64 = 24 * 60 * 60 * 1000;
const PASSWORD: &str = "copper kettle morning drive";

async fn exec(app: &TestApp, sql: &str, binds: &[&str]) {
    let mut q = sqlx::query(sql);
    for b in binds {
        q = q.bind(*b);
    }
    q.execute(app.db.pool()).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn id_of(app: &TestApp, number: &str) -> String {
    let (id,): (String,) = sqlx::query_as("SELECT id FROM invoices WHERE number = $1")
        .bind(number)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    id
}

#[allow(clippy::too_many_arguments)]
async fn payment(
    app: &TestApp,
    id: &str,
    m: &MerchantId,
    c: &CustomerId,
    amount: i64,
    currency: &str,
    status: &str,
    purpose: &str,
    at: UtcMillis,
    invoice: Option<&str>,
) {
    sqlx::query(
        "INSERT INTO payments (id, merchant_id, customer_id, amount_minor, currency, status, idempotency_key, gateway, \
         purpose, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $1, 'sandbox', $7, $8, $8)",
    )
    .bind(id)
    .bind(m.as_str())
    .bind(c.as_str())
    .bind(amount)
    .bind(currency)
    .bind(status)
    .bind(purpose)
    .bind(at.0)
    .execute(app.db.pool())
    .await
    .unwrap();
    if let Some(inv) = invoice {
        sqlx::query(
            "INSERT INTO payment_allocations (payment_id, invoice_id, merchant_id, amount_minor, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(inv)
        .bind(m.as_str())
        .bind(amount)
        .bind(at.0)
        .execute(app.db.pool())
        .await
        .unwrap();
    }
}

async fn sent_reminder(app: &TestApp, id: &str, m: &MerchantId, c: &CustomerId, invoice: &str, at: UtcMillis) {
    sqlx::query(
        "INSERT INTO messages (id, merchant_id, customer_id, channel, to_address, subject, body_text, template_key, \
         dedupe_key, status, created_at, next_attempt_at, sent_at) \
         VALUES ($1, $2, $3, 'email', 'x@example.com', 'Reminder', 'text', 'dunning:overdue_friendly', $1, 'sent', $4, $4, $4)",
    )
    .bind(id)
    .bind(m.as_str())
    .bind(c.as_str())
    .bind(at.0)
    .execute(app.db.pool())
    .await
    .unwrap();
    exec(app, "INSERT INTO message_invoices (message_id, invoice_id) VALUES ($1, $2)", &[id, invoice]).await;
}

async fn event(app: &TestApp, id: &str, m: &MerchantId, invoice: &str, detail: &str, at: UtcMillis) {
    sqlx::query(
        "INSERT INTO events (id, merchant_id, customer_id, invoice_id, kind, detail, created_at) \
         SELECT $1, merchant_id, customer_id, id, 'reminder_sent', $2, $3 FROM invoices WHERE id = $4 AND merchant_id = $5",
    )
    .bind(id)
    .bind(detail)
    .bind(at.0)
    .bind(invoice)
    .bind(m.as_str())
    .execute(app.db.pool())
    .await
    .unwrap();
}

async fn figures_match_the_hand_computed_fixture(app: TestApp) {
    let now = app.clock_now();
    let ago = |days: i64| UtcMillis(now.0 - days * DAY);
    let merchant = app.merchant("acme", "Acme").await;
    let m = merchant.merchant_id();
    let zone = "America/Chicago";
    let a = app.customer(&m, "Ada Customer", zone).await;
    let b = app.customer(&m, "=B Customer", zone).await;
    let c = app.customer(&m, "Cy Customer", zone).await;
    // (number, customer, amount, due in days, status, paid); issued 30 days before due.
    let open = InvoiceStatus::Open;
    app.invoice(&m, &a, "A-1", 10_000, 5, open, 0).await; // current 100.00; issued -25d: invoiced
    app.invoice(&m, &a, "A-2", 20_000, -10, open, 5_000).await; // 1–30: 150.00; issued -40d: invoiced
    app.invoice(&m, &b, "B-1", 30_000, -45, open, 0).await; // 31–60: 300.00; issued -75d: invoiced
    app.invoice(&m, &b, "B-2", 40_000, -75, open, 0).await; // 61–90: 400.00; issued -105d: not
    app.invoice(&m, &c, "C-1", 50_000, -100, open, 0).await; // 90+: 500.00; issued -130d: not
    app.invoice(&m, &c, "C-2", 60_000, -20, InvoiceStatus::Paid, 60_000).await; // issued -50d: invoiced
    app.invoice(&m, &c, "C-3", 7_000, -5, InvoiceStatus::Void, 0).await; // void: nowhere
    app.invoice(&m, &a, "A-0", 1_000, -3, InvoiceStatus::Paid, 1_000).await; // issued -33d: invoiced
    app.invoice(&m, &a, "A-3", 9_900, -3, open, 0).await; // made EUR below: left out, and said so
    exec(&app, "UPDATE invoices SET currency = 'EUR' WHERE number = 'A-3'", &[]).await;
    let (c2, a0, b1, b2, c1) = (
        id_of(&app, "C-2").await,
        id_of(&app, "A-0").await,
        id_of(&app, "B-1").await,
        id_of(&app, "B-2").await,
        id_of(&app, "C-1").await,
    );
    sqlx::query("UPDATE invoices SET paid_at = $1 WHERE id = $2")
        .bind(ago(2).0)
        .bind(&c2)
        .execute(app.db.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE invoices SET paid_at = $1 WHERE id = $2")
        .bind(ago(1).0)
        .bind(&a0)
        .execute(app.db.pool())
        .await
        .unwrap();

    // Failed autopay: on C-2 (paid since) and B-1 (still open) lately, on C-1 long ago.
    payment(&app, "pay_f1", &m, &c, 60_000, "USD", "failed", "autopay", ago(20), Some(&c2)).await;
    payment(&app, "pay_f2", &m, &b, 30_000, "USD", "failed", "autopay", ago(10), Some(&b1)).await;
    payment(&app, "pay_f3", &m, &c, 50_000, "USD", "failed", "autopay", ago(95), Some(&c1)).await;
    // Collected (all today, so this month whatever the date): 600.00 + 10.00; a refund and EUR left out.
    payment(&app, "pay_s1", &m, &c, 60_000, "USD", "succeeded", "portal", now, None).await;
    payment(&app, "pay_s2", &m, &a, 1_000, "USD", "external", "external", now, None).await;
    payment(&app, "pay_r1", &m, &a, 5_000, "USD", "refunded", "portal", now, None).await;
    payment(&app, "pay_e1", &m, &a, 9_900, "EUR", "succeeded", "portal", now, None).await;
    // Reminders: two sent for C-2 before it was paid, one after (doesn't count); none for A-0.
    sent_reminder(&app, "msg_1", &m, &c, &c2, ago(10)).await;
    sent_reminder(&app, "msg_2", &m, &c, &c2, ago(5)).await;
    sent_reminder(&app, "msg_3", &m, &c, &c2, ago(1)).await;
    // Final notices: B-2 (open: at risk), C-2 (paid: not); a firm one on B-1 (not final).
    event(&app, "evt_1", &m, &b2, r#"{"channel":"email","step":3,"template":"final_notice","tone":"final"}"#, ago(3))
        .await;
    event(&app, "evt_2", &m, &c2, r#"{"channel":"email","step":3,"template":"final_notice","tone":"final"}"#, ago(4))
        .await;
    event(&app, "evt_3", &m, &b1, r#"{"channel":"email","step":2,"template":"overdue_firm","tone":"firm"}"#, ago(3))
        .await;
    // A promise on B-1 that ran out two days ago; a dispute on C-1 yesterday.
    sqlx::query(
        "INSERT INTO promises (id, merchant_id, customer_id, invoice_id, promised_date, promised_until, created_at) \
         VALUES ('prm_1', $1, $2, $3, '2026-01-01', $4, $5)",
    )
    .bind(m.as_str())
    .bind(b.as_str())
    .bind(&b1)
    .bind(ago(2).0)
    .bind(ago(9).0)
    .execute(app.db.pool())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO disputes (id, merchant_id, customer_id, invoice_id, reason, created_at) \
         VALUES ('dsp_1', $1, $2, $3, 'wrong_amount', $4)",
    )
    .bind(m.as_str())
    .bind(c.as_str())
    .bind(&c1)
    .bind(ago(1).0)
    .execute(app.db.pool())
    .await
    .unwrap();

    let d =
        app::server::console::dashboard::load(app.db.pool(), &merchant, Default::default(), true, now).await.unwrap();
    let bars = |v: &[app::types::Bar]| v.iter().map(|b| (b.label.clone(), b.value)).collect::<Vec<_>>();
    assert_eq!(
        bars(&d.aging),
        [
            ("Current".to_string(), 10_000),
            ("1–30 days".to_string(), 15_000),
            ("31–60 days".to_string(), 30_000),
            ("61–90 days".to_string(), 40_000),
            ("Over 90 days".to_string(), 50_000)
        ]
    );
    assert_eq!(d.receivables, "$1,450.00");
    assert_eq!(d.other_currencies, ["EUR"]);
    // Invoiced in 90 days: A-1 100 + A-2 200 + B-1 300 + C-2 600 + A-0 10 = 1,210.00.
    // DSO = 1,450 / 1,210 × 90 = 107.85… → 107.9 days.
    let dso = d.dso.clone().expect("a DSO");
    assert_eq!((dso.tenths, dso.receivables.as_str(), dso.invoiced.as_str()), (1079, "$1,450.00", "$1,210.00"));
    // Failed lately: C-2 and B-1; paid now: C-2. 1 of 2 = 50.0%.
    assert_eq!((d.failed_invoices, d.recovered_invoices, d.recovery_tenths), (2, 1, Some(500)));
    // Paid in 90 days: A-0 before any reminder; C-2 after two.
    assert_eq!(
        bars(&d.funnel),
        [
            ("Before any reminder".to_string(), 1),
            ("After 1 reminder".to_string(), 0),
            ("After 2 reminders".to_string(), 1),
            ("After 3 reminders".to_string(), 0),
            ("After 4 reminders".to_string(), 0),
            ("After 5 or more".to_string(), 0)
        ]
    );
    assert_eq!(d.collected_this_month, "$610.00");
    assert_eq!(d.collected.len(), 6);
    assert_eq!(d.collected.last().unwrap().value, 61_000);
    assert_eq!(d.collected.iter().map(|b| b.value).sum::<i64>(), 61_000);
    assert_eq!(d.at_risk.len(), 1);
    let r = &d.at_risk[0];
    assert_eq!(
        (r.number.as_str(), r.owed.as_str(), r.days_overdue, r.customer.as_str()),
        ("B-2", "$400.00", 75, "=B Customer")
    );
    let alerts: Vec<(&str, &str)> = d.alerts.iter().map(|a| (a.kind.as_str(), a.text.as_str())).collect();
    assert_eq!(
        alerts,
        [
            ("dispute", "Cy Customer disputed C-1: The amount is wrong"),
            ("promise_broken", "=B Customer promised to pay B-1 by 2026-01-01 and hasn't"),
            ("overdue", "A-3 for Ada Customer became overdue (€99.00 owed)"),
            ("overdue", "A-2 for Ada Customer became overdue ($150.00 owed)"),
        ]
    );
    assert!(d.aging_svg.contains("Receivables by age: Current: $100.00; 1–30 days: $150.00"), "{}", d.aging_svg);

    // Through the console: the page, and CSV for owners only.
    let hash = app::server::passwords::hash(PASSWORD.into()).await.unwrap();
    for (email, role) in [("owner@acme.example", Role::Owner), ("viewer@acme.example", Role::Viewer)] {
        merchant_users::insert(app.db.pool(), &m, email, "Staff", Some(&hash), role, now).await.unwrap();
    }
    let owner = browser();
    owner
        .post(app.url("/m/acme/sign-in"))
        .form(&[("email", "owner@acme.example"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let res = owner.get(app.url("/m/acme")).send().await.unwrap();
    assert_eq!(location(&res).as_deref(), Some("/m/acme/dashboard"));
    let html = page(owner.get(app.url("/m/acme/dashboard")).send().await.unwrap()).await;
    for text in ["$1,450.00", "107.9 days", "50.0%", "1 of 2 invoices", "$610.00", "<svg", "Download CSV", "B-2"] {
        assert!(html.contains(text), "dashboard lacks {text:?}");
    }
    let res = owner.get(app.url("/m/acme/dashboard.csv?part=aging")).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = res.text().await.unwrap();
    assert!(csv.starts_with("bucket,currency,amount\n") && csv.contains("1–30 days,USD,150.00\n"), "{csv}");
    let csv = owner.get(app.url("/m/acme/dashboard.csv?part=at-risk")).send().await.unwrap().text().await.unwrap();
    assert!(csv.contains("'=B Customer,B-2,"), "formula defused: {csv}");
    let res = owner.get(app.url("/m/acme/dashboard.csv?part=everything")).send().await.unwrap();
    assert_eq!(res.status(), 400);

    let viewer = browser();
    viewer
        .post(app.url("/m/acme/sign-in"))
        .form(&[("email", "viewer@acme.example"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let html = page(viewer.get(app.url("/m/acme/dashboard")).send().await.unwrap()).await;
    assert!(html.contains("$1,450.00") && !html.contains("Download CSV"));
    let res = viewer.get(app.url("/m/acme/dashboard.csv?part=aging")).send().await.unwrap();
    assert_eq!(res.status(), 403);
}
