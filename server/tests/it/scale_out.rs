//! Scale-out on PostgreSQL: two `settle serve` processes on one database.
//! A session made on one works on the other (and signing out on one ends it
//! on both). Both run the dunning and job workers on the same tables, one is
//! killed mid-run and restarted, and the effects are counted where they
//! land: one charge per autopay invoice at the Stripe stand-in
//! (localstripe), one reminder per customer at a real SMTP server, and
//! nothing lost.

use crate::common::smtp::{free_port, SmtpSink};
use crate::common::stripe::{localstripe, stripe_get, stripe_post, PUBLISHABLE_KEY, SECRET_KEY};
use crate::common::*;
use crate::exactly_once::{noon_zone, received};
use app::server::ids::{new_id_body, MerchantId};
use app::server::repo::invoices;
use app::server::repo::{customers, merchants};
use app::server::{portal, Db, UtcMillis};
use rand::Rng;
use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Customers charged by autopay, and customers sent a reminder.
const AUTOPAY: usize = 20;
const REMINDED: usize = 40;

struct Seeded {
    merchant: merchants::MerchantRow,
    /// Stripe customer ids of the autopay customers.
    stripe_customers: Vec<String>,
}

async fn seed(db: &Db, now: UtcMillis) -> Seeded {
    let mid: MerchantId = merchants::insert(db.pool(), &new_merchant("scale", "Scale Ltd", "UTC"), now).await.unwrap();
    sqlx::query("UPDATE merchants SET gateway = 'stripe' WHERE id = $1")
        .bind(mid.as_str())
        .execute(db.pool())
        .await
        .unwrap();
    let zone = noon_zone(now);
    let mut stripe_customers = Vec::new();
    for i in 0..AUTOPAY + REMINDED {
        let autopay = i < AUTOPAY;
        let c = numbered_customer(i, &zone, autopay);
        let cid = customers::insert(db.pool(), &mid, &c, now).await.unwrap();
        if autopay {
            // The card lives at Stripe; we keep its reference only.
            let cus = stripe_post("/v1/customers", &[("email", c.email.clone())]).await;
            let cus = cus["id"].as_str().expect("a Stripe customer").to_string();
            let pm = stripe_post(
                "/v1/payment_methods",
                &[
                    ("type", "card".into()),
                    ("card[number]", "4242424242424242".into()),
                    ("card[exp_month]", "12".into()),
                    ("card[exp_year]", "2031".into()),
                    ("card[cvc]", "123".into()),
                ],
            )
            .await;
            let pm = pm["id"].as_str().expect("a payment method").to_string();
            stripe_post(&format!("/v1/payment_methods/{pm}/attach"), &[("customer", cus.clone())]).await;
            sqlx::query("UPDATE customers SET gateway_customer_ref = $1 WHERE id = $2")
                .bind(&cus)
                .bind(cid.as_str())
                .execute(db.pool())
                .await
                .unwrap();
            let pm_id = format!("pm_{}", new_id_body());
            sqlx::query(
                "INSERT INTO payment_methods (id, merchant_id, customer_id, gateway, gateway_ref, brand, last4, \
                 exp_month, exp_year, is_default, created_at, updated_at) \
                 VALUES ($1, $2, $3, 'stripe', $4, 'visa', '4242', 12, 2031, 1, $5, $5)",
            )
            .bind(&pm_id)
            .bind(mid.as_str())
            .bind(cid.as_str())
            .bind(&pm)
            .bind(now.0)
            .execute(db.pool())
            .await
            .unwrap();
            sqlx::query(
                "INSERT INTO autopay_consents (id, merchant_id, customer_id, payment_method_id, consent_text, granted_at) \
                 VALUES ($1, $2, $3, $4, 'I authorise Scale Ltd to charge my card for invoices on their due date.', $5)",
            )
            .bind(format!("apc_{}", new_id_body()))
            .bind(mid.as_str())
            .bind(cid.as_str())
            .bind(&pm_id)
            .bind(now.plus_days(-10).0)
            .execute(db.pool())
            .await
            .unwrap();
            stripe_customers.push(cus);
        }
        // Autopay: due an hour ago (charged now). Others: two days overdue
        // (the +1 reminder is due now).
        let due_at = if autopay { now.plus_millis(-3_600_000) } else { now.plus_days(-2) };
        let inv = open_invoice(format!("SO-{i}"), 10_000 + i as i64, due_at);
        let mut conn = db.pool().acquire().await.unwrap();
        invoices::insert(&mut conn, &mid, &cid, &inv, now).await.unwrap();
    }
    Seeded { merchant: merchants::find_by_slug(db.pool(), "scale").await.unwrap().unwrap(), stripe_customers }
}

fn serve(database_url: &str, smtp_url: &str, stripe: &str, dir: &std::path::Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_settle"))
        .arg("serve")
        .env("SETTLE_DATABASE_URL", database_url)
        .env("SETTLE_SMTP_URL", smtp_url)
        .env("SETTLE_MAIL_FROM", "billing@settle.test")
        .env("SETTLE_LISTEN", format!("127.0.0.1:{port}"))
        .env("SETTLE_BASE_URL", format!("http://127.0.0.1:{port}"))
        .env("SETTLE_DATA_DIR", dir)
        .env("SETTLE_SITE_ROOT", dir)
        .env("SETTLE_LOG", "error")
        .env("SETTLE_DUNNING", "on")
        .env("SETTLE_STRIPE_SECRET_KEY", SECRET_KEY)
        .env("SETTLE_STRIPE_PUBLISHABLE_KEY", PUBLISHABLE_KEY)
        .env("SETTLE_STRIPE_API_BASE", stripe)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start settle serve")
}

async fn ready(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(format!("http://127.0.0.1:{port}/readyz")).await.map(|r| r.status() != 200).unwrap_or(true) {
        assert!(Instant::now() < deadline, "settle on {port} did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A request carrying `cookie`, not following redirects.
async fn with_cookie(method: reqwest::Method, url: String, cookie: &str) -> reqwest::Response {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    client.request(method, url).header("cookie", cookie).send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_sessions_and_work_without_duplicates_when_one_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let Some((database_url, cleanup)) = fresh_database_url(Backend::Postgres, dir.path()).await else { return };
    let Some(sink) = SmtpSink::start() else { return };
    let Some(stripe) = localstripe() else { return };
    let db = Db::connect(&database_url, 2).await.unwrap();
    db.migrate().await.unwrap();
    let now = UtcMillis(jiff::Timestamp::now().as_millisecond());
    let seeded = seed(&db, now).await;

    let (port_a, port_b) = (free_port(), free_port());
    let mut a = serve(&database_url, &sink.url(), stripe, dir.path(), port_a);
    let mut b = serve(&database_url, &sink.url(), stripe, dir.path(), port_b);
    ready(port_a).await;
    ready(port_b).await;

    // A session made on A works on B; signing out on B ends it on A.
    let customer = sqlx::query_as::<_, (String,)>("SELECT id FROM customers WHERE email = 'c30@example.com'")
        .fetch_one(db.pool())
        .await
        .unwrap()
        .0;
    let customer = app::server::ids::CustomerId::parse(&customer).unwrap();
    let token = portal::issue_access_link(db.pool(), now, &seeded.merchant, &customer).await.unwrap();
    let res =
        with_cookie(reqwest::Method::POST, format!("http://127.0.0.1:{port_a}/p/scale/l/{}", token.expose()), "").await;
    assert_eq!(res.status(), 303, "signed in on A");
    let cookie = session_cookie(&res).expect("a session cookie from A");
    let res = with_cookie(reqwest::Method::GET, format!("http://127.0.0.1:{port_b}/p/scale/account"), &cookie).await;
    assert_eq!(res.status(), 200, "the session works on B");
    assert!(page(res).await.contains("SO-30"), "B shows the customer's invoice");
    let res = with_cookie(reqwest::Method::POST, format!("http://127.0.0.1:{port_b}/p/scale/sign-out"), &cookie).await;
    assert_eq!(res.status(), 303, "signed out on B");
    let res = with_cookie(reqwest::Method::GET, format!("http://127.0.0.1:{port_a}/p/scale/account"), &cookie).await;
    assert_eq!(location(&res).as_deref(), Some("/p/scale"), "and so on A");

    // Kill A while both work through the due set, then bring it back.
    let started = Instant::now();
    tokio::time::sleep(Duration::from_millis(rand::rng().random_range(200..2_500))).await;
    a.kill().unwrap();
    a.wait().unwrap();
    a = serve(&database_url, &sink.url(), stripe, dir.path(), port_a);
    let deadline = Instant::now() + Duration::from_secs(180);
    let (paid, unsent) = loop {
        let (paid,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM invoices WHERE status = 'paid'").fetch_one(db.pool()).await.unwrap();
        let (reminders, unsent): (i64, i64) = sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN template_key LIKE 'dunning:%' THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN status <> 'sent' THEN 1 ELSE 0 END), 0) FROM messages",
        )
        .fetch_one(db.pool())
        .await
        .unwrap();
        let done = paid as usize == AUTOPAY && reminders as usize >= REMINDED && unsent == 0;
        if done || Instant::now() > deadline {
            break (paid, unsent);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    for p in [&mut a, &mut b] {
        let _ = p.kill();
        let _ = p.wait();
    }
    assert_eq!((paid as usize, unsent), (AUTOPAY, 0), "every autopay invoice paid, every message sent");

    // At Stripe: exactly one charge per autopay customer.
    for cus in &seeded.stripe_customers {
        let charges = stripe_get(&format!("/v1/charges?customer={cus}&limit=100")).await;
        let n = charges["data"].as_array().map(|a| a.len()).unwrap_or(0);
        assert_eq!(n, 1, "one charge for {cus}");
    }
    // At the SMTP server: every message once (under its Message-ID), and
    // one reminder per reminded customer.
    let (reminded,): (i64,) =
        sqlx::query_as("SELECT COUNT(DISTINCT customer_id) FROM messages WHERE template_key LIKE 'dunning:%'")
            .fetch_one(db.pool())
            .await
            .unwrap();
    let (reminders,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM messages WHERE template_key LIKE 'dunning:%'")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!((reminded, reminders), (REMINDED as i64, REMINDED as i64), "one reminder per customer");
    let ids: Vec<(String,)> = sqlx::query_as("SELECT id FROM messages").fetch_all(db.pool()).await.unwrap();
    let expected: BTreeSet<String> = ids.into_iter().map(|(id,)| format!("<{id}@settle.test>")).collect();
    let got = received(&sink);
    assert_eq!(got.keys().cloned().collect::<BTreeSet<_>>(), expected, "every message reached the sink");
    let redelivered: usize = got.values().map(|n| n - 1).sum();
    assert!(redelivered <= 1, "at most one resend, for the one kill: {redelivered}");
    eprintln!(
        "scale-out: {AUTOPAY} autopay charges and {} messages across two processes, one killed, {:.1} s",
        expected.len(),
        started.elapsed().as_secs_f64()
    );
    drop_test_schema(db, cleanup).await;
}
