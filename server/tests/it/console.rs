//! The merchant console, on both backends: staff sign in with a password
//! (wrong ones refused, one answer for all), see only their own merchant's
//! customers, search and filter them, lose access the moment their account
//! is removed, and sign out.

use crate::common::*;
use app::server::ids::{CustomerId, MerchantId};
use app::server::repo::invoices::InvoiceStatus;
use app::server::repo::merchant_users::{self, Role};

on_both_backends!(staff_sign_in_and_see_only_their_merchant, customers_are_searched_and_filtered);

const PASSWORD: &str = "copper kettle morning drive";

async fn staff(app: &TestApp, merchant: &MerchantId, email: &str, role: Role) {
    let hash = app::server::passwords::hash(PASSWORD.into()).await.unwrap();
    merchant_users::insert(app.db.pool(), merchant, email, "Pat Staff", Some(&hash), role, app.clock_now())
        .await
        .unwrap();
}

async fn sign_in(
    app: &TestApp,
    client: &reqwest::Client,
    slug: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(app.url(&format!("/m/{slug}/sign-in")))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap()
}

async fn get(app: &TestApp, client: &reqwest::Client, path: &str) -> reqwest::Response {
    client.get(app.url(path)).send().await.unwrap()
}

async fn staff_sign_in_and_see_only_their_merchant(app: TestApp) {
    let acme = app.seed_customer_with_invoices("acme", "Acme").await;
    let globex = app.seed_customer_with_invoices("globex", "Globex").await;
    staff(&app, &acme.merchant.merchant_id(), "viewer@acme.example", Role::Viewer).await;
    staff(&app, &globex.merchant.merchant_id(), "owner@globex.example", Role::Owner).await;
    let client = browser();

    // Signed out: the console sends you to its sign-in page.
    let res = get(&app, &client, "/m/acme/customers").await;
    assert_eq!(location(&res).as_deref(), Some("/m/acme/sign-in"));

    // Wrong password, unknown address, and another merchant's staff: one answer.
    for (email, password) in [
        ("viewer@acme.example", "wrong password here"),
        ("nobody@acme.example", PASSWORD),
        ("owner@globex.example", PASSWORD),
    ] {
        let res = sign_in(&app, &client, "acme", email, password).await;
        assert_eq!(location(&res).as_deref(), Some("/m/acme/sign-in?error=password"), "{email}");
    }
    let res = get(&app, &client, "/m/acme/sign-in?error=password").await;
    assert!(page(res).await.contains("That email and password don"));

    // Any capitals in the address.
    let res = sign_in(&app, &client, "acme", "Viewer@ACME.example", PASSWORD).await;
    assert_eq!(location(&res).as_deref(), Some("/m/acme"));
    assert!(session_cookie(&res).is_some(), "a fresh session id at sign-in");
    let res = get(&app, &client, "/m/acme/customers").await;
    assert_eq!(res.status(), 200);
    let html = page(res).await;
    assert!(html.contains("Acme Customer"), "{html}");
    assert!(html.contains("$200.50"), "open balance of INV-1 and INV-2");
    assert!(html.contains("viewer"), "the role is shown");
    assert!(!html.contains("Globex Customer"), "another merchant's customer leaked");

    // Signed in to acme is not signed in to globex.
    let res = get(&app, &client, "/m/globex/customers").await;
    assert_eq!(location(&res).as_deref(), Some("/m/globex/sign-in"));
    let res = client
        .post(app.url("/_srv/console_customers"))
        .header("accept", "application/json")
        .form(&[("slug", "globex"), ("filter[page]", "1")])
        .send()
        .await
        .unwrap();
    let body = page(res).await;
    assert!(body.contains("NotSignedIn") && !body.contains("Globex Customer"), "{body}");
    // The same call for acme works: the refusal above is the session's doing.
    let res = client
        .post(app.url("/_srv/console_customers"))
        .header("accept", "application/json")
        .form(&[("slug", "acme"), ("filter[q]", "acme")])
        .send()
        .await
        .unwrap();
    let body = page(res).await;
    assert!(body.contains("Acme Customer"), "{body}");

    // Removing the account ends its access at once.
    sqlx::query("DELETE FROM merchant_users WHERE email = 'viewer@acme.example'").execute(app.db.pool()).await.unwrap();
    let res = get(&app, &client, "/m/acme/customers").await;
    assert_eq!(location(&res).as_deref(), Some("/m/acme/sign-in"));

    // Sign out: the session is gone on the server.
    staff(&app, &acme.merchant.merchant_id(), "admin@acme.example", Role::Admin).await;
    let res = sign_in(&app, &client, "acme", "admin@acme.example", PASSWORD).await;
    assert_eq!(location(&res).as_deref(), Some("/m/acme"));
    let res = client.post(app.url("/m/acme/sign-out")).send().await.unwrap();
    assert_eq!(location(&res).as_deref(), Some("/m/acme/sign-in?signed_out=1"));
    let res = get(&app, &client, "/m/acme/customers").await;
    assert_eq!(location(&res).as_deref(), Some("/m/acme/sign-in"));
}

async fn insert_row(app: &TestApp, sql: &str, merchant: &MerchantId, customer: &CustomerId) {
    let (invoice,): (String,) =
        sqlx::query_as("SELECT id FROM invoices WHERE customer_id = $1 AND status = 'open' ORDER BY number LIMIT 1")
            .bind(customer.as_str())
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    sqlx::query(sql)
        .bind(merchant.as_str())
        .bind(customer.as_str())
        .bind(invoice)
        .bind(app.clock_now().plus_days(3).0)
        .execute(app.db.pool())
        .await
        .unwrap();
}

/// The customer names a filtered list page shows, in order.
async fn names(app: &TestApp, client: &reqwest::Client, query: &str) -> Vec<String> {
    let res = get(app, client, &format!("/m/acme/customers?{query}")).await;
    assert_eq!(res.status(), 200, "{query}");
    let html = page(res).await;
    html.split("<span class=\"customer-name\">").skip(1).map(|s| s.split('<').next().unwrap().to_string()).collect()
}

async fn customers_are_searched_and_filtered(app: TestApp) {
    let m = app.merchant("acme", "Acme").await;
    let mid = m.merchant_id();
    let zone = "America/Chicago";
    let current = app.customer(&mid, "Carla Current", zone).await;
    app.invoice(&mid, &current, "C-1", 5_000, 5, InvoiceStatus::Open, 0).await;
    let late = app.customer(&mid, "Larry Late", zone).await;
    app.invoice(&mid, &late, "L-1", 7_000, -10, InvoiceStatus::Open, 0).await;
    let later = app.customer(&mid, "Olga Older", zone).await;
    app.invoice(&mid, &later, "O-1", 9_000, -45, InvoiceStatus::Open, 0).await;
    app.invoice(&mid, &later, "O-2", 1_000, -5, InvoiceStatus::Open, 0).await;
    let paid = app.customer(&mid, "Paula Paid", zone).await;
    app.invoice(&mid, &paid, "P-1", 9_000, -45, InvoiceStatus::Paid, 9_000).await;
    let promised = app.customer(&mid, "Percy Promise", zone).await;
    app.invoice(&mid, &promised, "PR-1", 3_000, -3, InvoiceStatus::Open, 0).await;
    insert_row(
        &app,
        "INSERT INTO promises (id, merchant_id, customer_id, invoice_id, promised_date, promised_until, created_at) \
         VALUES ('prm_1', $1, $2, $3, '2026-03-18', $4, $4)",
        &mid,
        &promised,
    )
    .await;
    let disputed = app.customer(&mid, "Dora Dispute", zone).await;
    app.invoice(&mid, &disputed, "D-1", 3_000, -100, InvoiceStatus::Open, 0).await;
    insert_row(
        &app,
        "INSERT INTO disputes (id, merchant_id, customer_id, invoice_id, reason, created_at) \
         VALUES ('dsp_1', $1, $2, $3, 'other', $4)",
        &mid,
        &disputed,
    )
    .await;
    sqlx::query("UPDATE customers SET autopay_enabled = 1 WHERE id = $1")
        .bind(current.as_str())
        .execute(app.db.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE customers SET status = 'suspended' WHERE id = $1")
        .bind(disputed.as_str())
        .execute(app.db.pool())
        .await
        .unwrap();
    // Larry's invoice is in the reminder sequence; Carla's not due yet.
    sqlx::query("UPDATE invoices SET dunning_step = 1, dunning_next_at = $1 WHERE number IN ('L-1', 'C-1')")
        .bind(app.clock_now().plus_days(2).0)
        .execute(app.db.pool())
        .await
        .unwrap();
    // Someone else's customer with a matching name never shows.
    let other = app.merchant("globex", "Globex").await;
    let stranger = app.customer(&other.merchant_id(), "Larry Lookalike", zone).await;
    app.invoice(&other.merchant_id(), &stranger, "G-1", 7_000, -10, InvoiceStatus::Open, 0).await;

    staff(&app, &mid, "viewer@acme.example", Role::Viewer).await;
    let client = browser();
    sign_in(&app, &client, "acme", "viewer@acme.example", PASSWORD).await;

    let all = ["Carla Current", "Dora Dispute", "Larry Late", "Olga Older", "Paula Paid", "Percy Promise"];
    assert_eq!(names(&app, &client, "").await, all);
    assert_eq!(names(&app, &client, "q=LARRY").await, ["Larry Late"]);
    assert_eq!(names(&app, &client, "q=larry.late%40").await, ["Larry Late"], "by email");
    assert_eq!(names(&app, &client, "q=%25").await, Vec::<String>::new(), "% is a literal character");
    assert_eq!(names(&app, &client, "aging=current").await, ["Carla Current"]);
    assert_eq!(names(&app, &client, "aging=1-30").await, ["Larry Late", "Percy Promise"]);
    assert_eq!(names(&app, &client, "aging=31-60").await, ["Olga Older"], "the oldest open invoice decides");
    assert_eq!(names(&app, &client, "aging=90%2B").await, ["Dora Dispute"]);
    assert_eq!(names(&app, &client, "autopay=yes").await, ["Carla Current"]);
    assert_eq!(names(&app, &client, "status=suspended").await, ["Dora Dispute"]);
    assert_eq!(names(&app, &client, "promise=yes").await, ["Percy Promise"]);
    assert_eq!(names(&app, &client, "dispute=yes").await, ["Dora Dispute"]);
    assert_eq!(names(&app, &client, "dispute=no&promise=no&aging=1-30").await, ["Larry Late"]);
    assert_eq!(names(&app, &client, "dunning=yes").await, ["Larry Late"], "past due and scheduled");

    // A filter value that means nothing is named, not silently dropped.
    let res = get(&app, &client, "/m/acme/customers?aging=ancient").await;
    let html = page(res).await;
    assert!(html.contains("Ignored the aging filter: \"ancient\" is not one of"), "{html}");
}
