//! Repository functions and the schema's guarantees, on both backends.

use crate::common::*;
use app::server::repo::invoices::{self, InvoiceStatus, NewInvoice, NewInvoiceLine};
use app::server::repo::{access_tokens, account_page, customers, merchants, payment_methods};
use app::server::session_store::DbSessionStore;
use app::server::Clock;
use app::types::Currency;
use tower_sessions::session::{Id, Record};
use tower_sessions::SessionStore;

on_both_backends!(
    migrations_are_idempotent,
    invoice_totals_and_constraints,
    open_invoices_are_scoped_and_ordered,
    access_tokens_are_scoped_by_merchant,
    money_and_time_columns_round_trip_at_full_width,
    session_store_round_trip,
    demo_seed_is_complete_and_idempotent,
    bulk_reads_and_guarded_updates,
);

async fn migrations_are_idempotent(app: TestApp) {
    app.db.migrate().await.expect("second run is a no-op");
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM _sqlx_migrations").fetch_one(app.db.pool()).await.unwrap();
    assert!(n >= 1);
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error().map(|d| d.is_unique_violation()).unwrap_or(false)
}

async fn invoice_totals_and_constraints(app: TestApp) {
    let m = app.merchant("acme", "Acme").await;
    let mid = m.merchant_id();
    let c = app.customer(&mid, "Dana Whitfield", "America/Chicago").await;
    let now = app.clock.now();
    let inv = NewInvoice {
        number: "INV-1".into(),
        currency: Currency::USD,
        lines: vec![
            NewInvoiceLine { description: "Cleaning".into(), quantity: 2, unit_minor: 10_000 },
            NewInvoiceLine { description: "Toner".into(), quantity: 1, unit_minor: 2_550 },
        ],
        tax_minor: 1_804,
        amount_paid_minor: 0,
        status: InvoiceStatus::Open,
        issued_at: now,
        due_at: now.plus_days(30),
        paid_at: None,
        voided_at: None,
        memo: None,
    };
    let mut conn = app.db.pool().acquire().await.unwrap();
    invoices::insert(&mut conn, &mid, &c, &inv, now).await.unwrap();
    let (sub, total, lines): (i64, i64, i64) = sqlx::query_as(
        "SELECT subtotal_minor, total_minor, (SELECT COUNT(*) FROM invoice_lines l WHERE l.invoice_id = i.id) \
         FROM invoices i WHERE number = 'INV-1'",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert_eq!((sub, total, lines), (22_550, 24_354, 2));

    match invoices::insert(&mut conn, &mid, &c, &inv, now).await {
        Err(invoices::NewInvoiceError::Db(e)) => assert!(is_unique_violation(&e), "{e}"),
        other => panic!("duplicate number accepted: {other:?}"),
    }
    let overpaid = NewInvoice { number: "INV-2".into(), amount_paid_minor: 99_999_999, ..inv.clone() };
    assert!(invoices::insert(&mut conn, &mid, &c, &overpaid, now).await.is_err(), "paid above total rejected");
    let empty = NewInvoice { number: "INV-3".into(), lines: vec![], ..inv.clone() };
    assert!(matches!(
        invoices::insert(&mut conn, &mid, &c, &empty, now).await,
        Err(invoices::NewInvoiceError::NoLines)
    ));
    let huge = NewInvoice {
        number: "INV-4".into(),
        lines: vec![NewInvoiceLine { description: "x".into(), quantity: 3, unit_minor: i64::MAX / 2 }],
        ..inv.clone()
    };
    assert!(matches!(
        invoices::insert(&mut conn, &mid, &c, &huge, now).await,
        Err(invoices::NewInvoiceError::Overflow)
    ));

    // Another merchant may reuse the number.
    let other = app.merchant("other", "Other").await;
    let oc = app.customer(&other.merchant_id(), "Sam", "UTC").await;
    invoices::insert(&mut conn, &other.merchant_id(), &oc, &inv, now).await.expect("numbers are per merchant");
}

async fn open_invoices_are_scoped_and_ordered(app: TestApp) {
    let a = app.seed_customer_with_invoices("acme", "A").await;
    let b = app.seed_customer_with_invoices("acme", "B").await;
    let mid = a.merchant.merchant_id();
    let rows = invoices::open_for_customer(app.db.pool(), &mid, &a.customer).await.unwrap();
    let numbers: Vec<_> = rows.iter().map(|r| r.number.as_str()).collect();
    assert_eq!(numbers, ["A-1", "A-2"], "open only, oldest due first, A's only");
    assert_eq!(rows[0].amount_due_minor(), 12_000);

    let other = app.merchant("other", "Other").await;
    let none = invoices::open_for_customer(app.db.pool(), &other.merchant_id(), &a.customer).await.unwrap();
    assert!(none.is_empty(), "right customer, wrong merchant: nothing");
    assert!(customers::find(app.db.pool(), &other.merchant_id(), &b.customer).await.unwrap().is_none());
    assert!(customers::find(app.db.pool(), &mid, &b.customer).await.unwrap().is_some());

    // The account page's single read returns the same invoices for the
    // customer its session names, and no account when the session's
    // merchant is not the portal's.
    let session_a = stored_session(&app, serde_json::json!({ "portal": identity(&mid, &a.customer) })).await;
    let read = account_page::read(app.db.pool(), Some(&session_a), "acme").await.unwrap().expect("portal found");
    assert_eq!(read.merchant.id, mid.as_str());
    assert!(read.session.as_deref().is_some_and(|d| d.contains(a.customer.as_str())), "the stored session comes back");
    let read = read.account.expect("A's account");
    assert_eq!(read.customer.id, a.customer.as_str());
    assert_eq!(read.customer.name, "A Customer");
    let numbers: Vec<_> = read.open_invoices.iter().map(|r| r.number.as_str()).collect();
    assert_eq!(numbers, ["A-1", "A-2"]);
    assert_eq!(read.open_invoices[0].amount_due_minor(), 12_000);
    assert!(!read.has_password && read.autopay_failure.is_none());

    let foreign =
        stored_session(&app, serde_json::json!({ "portal": identity(&other.merchant_id(), &a.customer) })).await;
    let wrong_merchant = account_page::read(app.db.pool(), Some(&foreign), "acme").await.unwrap().unwrap();
    assert!(wrong_merchant.account.is_none(), "a session of another merchant reads nothing here");
    let other_portal = account_page::read(app.db.pool(), Some(&session_a), "other").await.unwrap().unwrap();
    assert_eq!(other_portal.merchant.slug, "other");
    assert!(other_portal.account.is_none(), "acme's customer reads nothing on another portal");
    assert!(account_page::read(app.db.pool(), Some(&session_a), "nope").await.unwrap().is_none());

    // No session, a session with no portal identity, an expired one.
    let none = account_page::read(app.db.pool(), None, "acme").await.unwrap().unwrap();
    assert!(none.session.is_none() && none.account.is_none());
    let pending = stored_session(&app, serde_json::json!({ "pending_sign_in": { "email": "a@example.com" } })).await;
    let pending = account_page::read(app.db.pool(), Some(&pending), "acme").await.unwrap().unwrap();
    assert!(pending.session.is_some() && pending.account.is_none(), "not signed in: no account");
    let expired = stored_session_until(
        &app,
        serde_json::json!({ "portal": identity(&mid, &a.customer) }),
        time::OffsetDateTime::now_utc() - time::Duration::seconds(1),
    )
    .await;
    let expired = account_page::read(app.db.pool(), Some(&expired), "acme").await.unwrap().unwrap();
    assert!(expired.session.is_none() && expired.account.is_none(), "an expired session row reads nothing");
}

/// A portal identity as the session keeps it.
fn identity(merchant: &app::server::ids::MerchantId, customer: &app::server::ids::CustomerId) -> serde_json::Value {
    serde_json::json!({
        "merchant_id": merchant.as_str(),
        "customer_id": customer.as_str(),
        "method": "AccessLink",
        "signed_in_at": 0,
    })
}

/// Stores a live session whose data is `data` (a map); returns its id.
async fn stored_session(app: &TestApp, data: serde_json::Value) -> String {
    stored_session_until(app, data, time::OffsetDateTime::now_utc() + time::Duration::minutes(30)).await
}

async fn stored_session_until(app: &TestApp, data: serde_json::Value, expiry_date: time::OffsetDateTime) -> String {
    let data = serde_json::from_value(data).unwrap();
    let mut record = Record { id: Id::default(), data, expiry_date };
    DbSessionStore::new(app.db.pool().clone()).create(&mut record).await.unwrap();
    record.id.to_string()
}

async fn access_tokens_are_scoped_by_merchant(app: TestApp) {
    let a = app.seed_customer_with_invoices("acme", "A").await;
    let other = app.merchant("other", "Other").await;
    let (token, _) = app.link(&a.merchant, &a.customer).await;
    let found = access_tokens::find_by_hash(app.db.pool(), &a.merchant.merchant_id(), &token.hash()).await.unwrap();
    let found = found.expect("found in its own merchant");
    assert_eq!(found.customer_id, a.customer.as_str());
    assert_eq!(found.expires_at, app.clock.now().plus_days(14).0);
    let elsewhere = access_tokens::find_by_hash(app.db.pool(), &other.merchant_id(), &token.hash()).await.unwrap();
    assert!(elsewhere.is_none());
    let (stored,): (String,) =
        sqlx::query_as("SELECT token_hash FROM access_tokens").fetch_one(app.db.pool()).await.unwrap();
    assert_ne!(stored, token.expose(), "only the hash is stored");
}

async fn money_and_time_columns_round_trip_at_full_width(app: TestApp) {
    let m = app.merchant("acme", "Acme").await;
    let mid = m.merchant_id();
    let c = app.customer(&mid, "Big Spender", "UTC").await;
    let big = 900_000_000_000_000_i64; // far beyond 32 bits
    app.invoice(&mid, &c, "BIG", big, 3, InvoiceStatus::Open, 0).await;
    let rows = invoices::open_for_customer(app.db.pool(), &mid, &c).await.unwrap();
    assert_eq!(rows[0].total_minor, big);
    let session = stored_session(&app, serde_json::json!({ "portal": identity(&mid, &c) })).await;
    let read = account_page::read(app.db.pool(), Some(&session), "acme").await.unwrap().unwrap();
    assert_eq!(read.account.unwrap().open_invoices[0].total_minor, big, "exact through the JSON read too");
    assert_eq!(rows[0].due_at, app.clock.now().plus_days(3).0);
    let pm = payment_methods::NewPaymentMethod {
        gateway: "sandbox".into(),
        gateway_ref: "pm_x".into(),
        brand: "visa".into(),
        last4: "4242".into(),
        exp_month: 12,
        exp_year: 2030,
        is_default: true,
    };
    payment_methods::insert(app.db.pool(), &mid, &c, &pm, app.clock.now()).await.unwrap();
    let listed = payment_methods::list_active(app.db.pool(), &mid, &c).await.unwrap();
    assert_eq!((listed[0].last4.as_str(), listed[0].exp_year, listed[0].is_default), ("4242", 2030, 1));
    let bad = payment_methods::NewPaymentMethod { gateway_ref: "pm_y".into(), exp_month: 13, ..pm };
    assert!(payment_methods::insert(app.db.pool(), &mid, &c, &bad, app.clock.now()).await.is_err());
    let _ = merchants::find(app.db.pool(), &mid).await.unwrap().expect("merchant by id");
}

async fn session_store_round_trip(app: TestApp) {
    let store = DbSessionStore::new(app.db.pool().clone());
    let mut record = Record {
        id: Id::default(),
        data: [("portal".to_string(), serde_json::json!({"k": 1}))].into_iter().collect(),
        expiry_date: time::OffsetDateTime::now_utc() + time::Duration::minutes(30),
    };
    store.create(&mut record).await.unwrap();
    let loaded = store.load(&record.id).await.unwrap().expect("stored");
    assert_eq!(loaded.data, record.data);
    assert_eq!(loaded.expiry_date.unix_timestamp(), record.expiry_date.unix_timestamp());
    record.data.insert("more".into(), serde_json::json!("x"));
    store.save(&record).await.unwrap();
    assert_eq!(store.load(&record.id).await.unwrap().unwrap().data.len(), 2);

    let mut expired = Record {
        id: Id::default(),
        data: Default::default(),
        expiry_date: time::OffsetDateTime::now_utc() - time::Duration::seconds(1),
    };
    store.create(&mut expired).await.unwrap();
    assert!(store.load(&expired.id).await.unwrap().is_none(), "expired sessions don't load");
    // The app's own sweeper may have removed it already; either way it is gone.
    store.delete_expired().await.unwrap();
    let (left,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sessions WHERE id = $1")
        .bind(expired.id.to_string())
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(left, 0, "expired sessions are deleted");
    assert!(store.load(&record.id).await.unwrap().is_some(), "live sessions are kept");

    store.delete(&record.id).await.unwrap();
    assert!(store.load(&record.id).await.unwrap().is_none());
}

async fn demo_seed_is_complete_and_idempotent(app: TestApp) {
    let first = settle::demo::seed(&app.db, app.clock.as_ref()).await.unwrap();
    assert!(first.created);
    assert!(first.customers >= 25, "{first:?}");
    let second = settle::demo::seed(&app.db, app.clock.as_ref()).await.unwrap();
    assert!(!second.created);
    assert_eq!((first.customers, first.invoices), (second.customers, second.invoices));
    assert_ne!(first.link_path, second.link_path, "a fresh link each run");

    let pool = app.db.pool();
    let (mid,): (String,) =
        sqlx::query_as("SELECT id FROM merchants WHERE slug = 'acme'").fetch_one(pool).await.unwrap();
    let now = app.clock.now().0;
    let day = 86_400_000_i64;
    // Every state the issue lists, by due-date bucket and status.
    let bucket = |lo: i64, hi: i64| {
        let pool = pool.clone();
        let mid = mid.clone();
        async move {
            let (n,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM invoices WHERE merchant_id = $1 AND status = 'open' \
                 AND due_at > $2 AND due_at <= $3",
            )
            .bind(&mid)
            .bind(now - hi * day)
            .bind(now - lo * day)
            .fetch_one(&pool)
            .await
            .unwrap();
            n
        }
    };
    assert!(bucket(1, 30).await > 0, "1–30 days overdue");
    assert!(bucket(31, 60).await > 0, "31–60");
    assert!(bucket(61, 90).await > 0, "61–90");
    assert!(bucket(91, 10_000).await > 0, "90+");
    for (sql, what) in [
        ("status = 'open' AND due_at > $2 + 7 * 86400000", "not yet due"),
        ("status = 'open' AND due_at BETWEEN $2 + 2 * 86400000 AND $2 + 4 * 86400000", "due in 3 days"),
        ("status = 'open' AND amount_paid_minor > 0", "partly paid"),
        ("status = 'paid' AND amount_paid_minor = total_minor", "paid"),
        ("status = 'void'", "void"),
    ] {
        let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM invoices WHERE merchant_id = $1 AND {sql}"))
            .bind(&mid)
            .bind(now)
            .fetch_one(pool)
            .await
            .unwrap();
        assert!(n > 0, "demo has invoices {what}");
    }
    // Cards: one expiring this month, one already expired.
    let today = app.clock.now().to_timestamp().to_zoned(jiff::tz::TimeZone::UTC).date();
    let this_month = (today.year() as i64) * 12 + today.month() as i64;
    let cards: Vec<(i64, i64)> =
        sqlx::query_as("SELECT exp_year, exp_month FROM payment_methods WHERE merchant_id = $1")
            .bind(&mid)
            .fetch_all(pool)
            .await
            .unwrap();
    assert!(cards.iter().any(|(y, m)| y * 12 + m == this_month), "a card expiring this month");
    assert!(cards.iter().any(|(y, m)| y * 12 + m < this_month), "an expired card");

    // The printed link works and the customer has several overdue invoices.
    let client = browser();
    let res = sign_in_with_link(&app, &client, &second.link_path).await;
    assert_eq!(location(&res).as_deref(), Some("/p/acme/account"));
    let html = client.get(app.url("/p/acme/account")).send().await.map(page).unwrap().await;
    assert!(html.matches("days overdue").count() >= 2, "several overdue invoices");
    assert!(html.contains("Dana Whitfield"));
}

/// The sweep's batch helpers: reads come back whole (NULLs, full-width
/// integers, text with quotes and non-ASCII), and a guarded update changes
/// exactly the rows still meeting the guard, all at once or (when another
/// writer moved one) only the others, and says which.
async fn bulk_reads_and_guarded_updates(app: TestApp) {
    use app::server::repo::bulk::{self, Val};
    let pool = app.db.pool();
    sqlx::query("CREATE TABLE bulk_probe (id TEXT PRIMARY KEY, step BIGINT, note TEXT)").execute(pool).await.unwrap();
    let rows: Vec<Vec<Val>> = (0..5)
        .map(|n| {
            let note = if n == 0 { None } else { Some(format!("n\"{n}\" é")) };
            vec![Val::from(format!("p{n}")), Val::from(i64::MAX - n), Val::from(note)]
        })
        .collect();
    let mut tx = app::server::db::begin_write(pool).await.unwrap();
    bulk::insert(&mut tx, "bulk_probe", &["id", "step", "note"], &rows, "").await.unwrap();
    tx.commit().await.unwrap();

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Probe {
        id: String,
        step: i64,
        note: Option<String>,
    }
    let columns = ["id", "step", "note"];
    let mut found: Vec<Probe> = bulk::select_in(
        pool,
        app.db.backend(),
        &columns,
        "SELECT id, step, note FROM bulk_probe",
        "id",
        &["p0", "p3", "nope"],
    )
    .await
    .unwrap();
    found.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(
        found,
        vec![
            Probe { id: "p0".into(), step: i64::MAX, note: None },
            Probe { id: "p3".into(), step: i64::MAX - 3, note: Some("n\"3\" é".into()) },
        ]
    );
    let none: Vec<Probe> = bulk::fetch_json(
        pool,
        app.db.backend(),
        &columns,
        "SELECT id, step, note FROM bulk_probe WHERE step < $1",
        &[Val::from(0)],
    )
    .await
    .unwrap();
    assert!(none.is_empty());

    // Every row meets the guard: all updated.
    sqlx::query("UPDATE bulk_probe SET step = 1").execute(pool).await.unwrap();
    assert_eq!(step_one_to_two(&app, &["p0", "p1"], "").await, ["p0", "p1"]);

    // p3 was moved on by someone else: only p2 and p4 change, and only
    // they are reported; p3 keeps the other writer's value.
    sqlx::query("UPDATE bulk_probe SET step = 7 WHERE id = 'p3'").execute(pool).await.unwrap();
    assert_eq!(step_one_to_two(&app, &["p2", "p3", "p4"], "note IS NOT NULL").await, ["p2", "p4"]);
    let steps: Vec<(String, i64)> =
        sqlx::query_as("SELECT id, step FROM bulk_probe ORDER BY id").fetch_all(pool).await.unwrap();
    let steps: Vec<i64> = steps.into_iter().map(|(_, s)| s).collect();
    assert_eq!(steps, [2, 2, 2, 7, 2]);
}

/// Moves `keys` of `bulk_probe` from step 1 to step 2, guarded by step 1,
/// in one write transaction; the keys updated, sorted.
async fn step_one_to_two(app: &TestApp, keys: &[&str], filter: &str) -> Vec<String> {
    use app::server::repo::bulk::{self, Val};
    let rows: Vec<Vec<Val>> = keys.iter().map(|k| vec![Val::from(*k), Val::from(1), Val::from(2)]).collect();
    let mut tx = app::server::db::begin_write(app.db.pool()).await.unwrap();
    let mut done = bulk::update_many(
        &mut tx,
        "bulk_probe",
        &["id", "read", "new"],
        &rows,
        &[("step", "new")],
        &[("step", "read")],
        filter,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    done.sort();
    done
}
