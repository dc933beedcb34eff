//! The merchant console, on both backends: staff sign in with a password
//! (wrong ones refused, one answer for all), see only their own merchant's
//! customers, search and filter them, lose access the moment their account
//! is removed, and sign out.

use crate::common::*;
use app::server::ids::{CustomerId, MerchantId};
use app::server::repo::invoices::InvoiceStatus;
use app::server::repo::merchant_users::{self, Role};

on_both_backends!(
    staff_sign_in_and_see_only_their_merchant,
    customers_are_searched_and_filtered,
    actions_are_enforced_by_role_scoped_and_audited,
    the_demo_has_an_owner_and_a_viewer,
    the_first_run_form_sets_up_the_first_merchant_only,
    invoices_are_searched_and_filtered
);

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

/// What the actions could change, read straight from the database.
async fn state_of(app: &TestApp, customer: &CustomerId) -> (String, Option<i64>, Vec<(String, String)>, i64, i64) {
    let (status, paused): (String, Option<i64>) =
        sqlx::query_as("SELECT status, dunning_paused_at FROM customers WHERE id = $1")
            .bind(customer.as_str())
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    let invoices: Vec<(String, String)> =
        sqlx::query_as("SELECT number, status FROM invoices WHERE customer_id = $1 ORDER BY number")
            .bind(customer.as_str())
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    let (messages,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM messages WHERE customer_id = $1")
        .bind(customer.as_str())
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let (audits,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE actor_kind = 'merchant_user'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    (status, paused, invoices, messages, audits)
}

async fn invoice_id(app: &TestApp, number: &str) -> String {
    let (id,): (String,) = sqlx::query_as("SELECT id FROM invoices WHERE number = $1")
        .bind(number)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    id
}

async fn post(app: &TestApp, client: &reqwest::Client, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    client.post(app.url(path)).form(form).send().await.unwrap()
}

async fn actions_are_enforced_by_role_scoped_and_audited(app: TestApp) {
    let acme = app.seed_customer_with_invoices("acme", "Acme").await;
    let globex = app.seed_customer_with_invoices("globex", "Globex").await;
    let mid = acme.merchant.merchant_id();
    staff(&app, &mid, "viewer@acme.example", Role::Viewer).await;
    staff(&app, &mid, "admin@acme.example", Role::Admin).await;
    let c = acme.customer.clone();
    let here = format!("/m/acme/customers/{c}");
    let inv1 = invoice_id(&app, "Acme-1").await;
    let inv2 = invoice_id(&app, "Acme-2").await;
    let actions: Vec<(String, Vec<(&str, &str)>)> = vec![
        (format!("{here}/pause"), vec![]),
        (format!("{here}/suspend"), vec![]),
        (format!("{here}/send-link"), vec![]),
        (format!("/m/acme/invoices/{inv1}/mark-paid"), vec![("reference", "cheque 1")]),
        (format!("/m/acme/invoices/{inv2}/void"), vec![]),
    ];

    // A viewer sees no buttons and is refused every action; nothing changes.
    let viewer = browser();
    sign_in(&app, &viewer, "acme", "viewer@acme.example", PASSWORD).await;
    let html = page(get(&app, &viewer, &here).await).await;
    assert!(html.contains("Acme-1") && !html.contains("Mark paid") && !html.contains("Pause reminders"), "{html}");
    let before = state_of(&app, &c).await;
    for (path, form) in &actions {
        let res = post(&app, &viewer, path, form).await;
        assert_eq!(res.status(), 403, "{path}");
        assert!(page(res).await.contains("Your role (viewer) may not change customers and invoices."));
    }
    assert_eq!(state_of(&app, &c).await, before);

    // An admin: each action does what it says, once, and is audited.
    let admin = browser();
    sign_in(&app, &admin, "acme", "admin@acme.example", PASSWORD).await;
    let html = page(get(&app, &admin, &here).await).await;
    assert!(html.contains("Mark paid") && html.contains("Pause reminders"), "{html}");

    let res = post(&app, &admin, &format!("{here}/pause"), &[]).await;
    assert_eq!(location(&res).as_deref(), Some(here.as_str()));
    let html = page(get(&app, &admin, &here).await).await;
    assert!(html.contains("Paused reminders and retries for Acme Customer."), "{html}");
    assert!(html.contains("Resume reminders") && html.contains("Paused since"));
    // The notice shows once.
    assert!(!page(get(&app, &admin, &here).await).await.contains("Paused reminders and retries"));
    // Paused: the sweep holds the overdue invoice instead of reminding.
    let quiet = state_of(&app, &c).await.3;
    let report = app::server::dunning::sweep::sweep(&app.state, 500).await.unwrap();
    assert!(report.held >= 2, "{report:?}");
    assert_eq!(state_of(&app, &c).await.3, quiet, "no reminder while paused");
    post(&app, &admin, &format!("{here}/pause"), &[]).await;
    assert!(page(get(&app, &admin, &here).await).await.contains("Reminders to Acme Customer were already paused."));
    post(&app, &admin, &format!("{here}/resume"), &[]).await;
    app::server::dunning::sweep::sweep(&app.state, 500).await.unwrap();
    assert_eq!(state_of(&app, &c).await.3, quiet + 1, "resumed: the overdue reminder goes out on the next sweep");

    // Two clicks on "email a link": one email.
    let messages = state_of(&app, &c).await.3;
    post(&app, &admin, &format!("{here}/send-link"), &[]).await;
    post(&app, &admin, &format!("{here}/send-link"), &[]).await;
    let html = page(get(&app, &admin, &here).await).await;
    assert!(html.contains("A link already went to acme.customer@example.com"), "{html}");
    assert_eq!(state_of(&app, &c).await.3, messages + 1);

    post(&app, &admin, &format!("{here}/suspend"), &[]).await;
    assert_eq!(state_of(&app, &c).await.0, "suspended");
    post(&app, &admin, &format!("{here}/reinstate"), &[]).await;
    assert_eq!(state_of(&app, &c).await.0, "active");

    // Mark paid twice: one external payment for what was owed.
    for _ in 0..2 {
        post(&app, &admin, &format!("/m/acme/invoices/{inv1}/mark-paid"), &[("reference", "cheque 1042")]).await;
    }
    let html = page(get(&app, &admin, &here).await).await;
    assert!(html.contains("Invoice Acme-1 is paid; nothing was changed."), "{html}");
    let payments: Vec<(i64, String)> =
        sqlx::query_as("SELECT amount_minor, status FROM payments WHERE customer_id = $1 AND gateway = 'outside'")
            .bind(c.as_str())
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    assert_eq!(payments, [(12_000, "external".to_string())]);

    // Void: refused with words once something is paid on it, done otherwise.
    sqlx::query("UPDATE invoices SET amount_paid_minor = 50 WHERE id = $1")
        .bind(&inv2)
        .execute(app.db.pool())
        .await
        .unwrap();
    post(&app, &admin, &format!("/m/acme/invoices/{inv2}/void"), &[]).await;
    assert!(page(get(&app, &admin, &here).await).await.contains("has $0.50 paid on it and can't be voided"));
    sqlx::query("UPDATE invoices SET amount_paid_minor = 0 WHERE id = $1")
        .bind(&inv2)
        .execute(app.db.pool())
        .await
        .unwrap();
    post(&app, &admin, &format!("/m/acme/invoices/{inv2}/void"), &[]).await;
    let (_, paused, invoices, _, audits) = state_of(&app, &c).await;
    assert_eq!(paused, None);
    let status = |n: &str| invoices.iter().find(|(num, _)| num == n).unwrap().1.clone();
    assert_eq!((status("Acme-1"), status("Acme-2")), ("paid".to_string(), "void".to_string()));
    // pause, resume, link, suspend, reinstate, mark paid, void: seven audited changes.
    assert_eq!(audits - before.4, 7);

    // The timeline tells the story, with who did what.
    let html = page(get(&app, &admin, &here).await).await;
    for line in [
        "Reminders paused",
        "Reminders resumed",
        "Account link emailed",
        "Suspended",
        "Reinstated",
        "Marked Acme-1 paid outside Settle",
        "reference cheque 1042",
        "Voided Acme-2",
        "by Pat Staff",
    ] {
        assert!(html.contains(line), "timeline lacks {line:?}");
    }
    // The emailed link is on the timeline in whatever state the app's own
    // delivery worker (which polls on its own) has reached with it.
    let link_email = ["queued", "sent", "kept in the outbox"]
        .iter()
        .any(|state| html.contains(&format!("Email {state}: Your ACME Ltd account link")));
    assert!(link_email, "timeline lacks the emailed link: {html}");

    // The audit log shows it all, to viewers too; only staff who may export get the CSV.
    let html = page(get(&app, &viewer, "/m/acme/audit").await).await;
    for text in [
        "customer.dunning_paused",
        "invoice.marked_paid",
        "Pat Staff (staff)",
        "invoice Acme-1",
        "customer Acme Customer",
    ] {
        assert!(html.contains(text), "audit page lacks {text:?}");
    }
    assert!(!html.contains("Download the whole log"));
    assert_eq!(get(&app, &viewer, "/m/acme/audit.csv").await.status(), 403);
    let csv = get(&app, &admin, "/m/acme/audit.csv").await.text().await.unwrap();
    assert!(csv.starts_with("when,who,action,subject,detail,ip\n"), "{csv}");
    assert_eq!(csv.lines().filter(|l| l.contains("Pat Staff (staff)")).count(), 7, "{csv}");
    assert!(csv.contains("cheque 1042"));

    // Another merchant's customer and invoice: not found, and untouched.
    let g = globex.customer.clone();
    let g_inv = invoice_id(&app, "Globex-1").await;
    let before = state_of(&app, &g).await;
    for path in [format!("/m/acme/customers/{g}/suspend"), format!("/m/acme/invoices/{g_inv}/void")] {
        assert_eq!(post(&app, &admin, &path, &[]).await.status(), 404, "{path}");
    }
    assert_eq!(get(&app, &admin, &format!("/m/acme/customers/{g}")).await.status(), 404);
    assert_eq!(state_of(&app, &g).await.0, before.0);
    assert_eq!(state_of(&app, &g).await.2, before.2);
}

async fn the_demo_has_an_owner_and_a_viewer(app: TestApp) {
    use settle::demo::{DEMO_OWNER, DEMO_STAFF_PASSWORD, DEMO_VIEWER};
    let summary = settle::demo::seed(&app.db, app.clock.as_ref()).await.unwrap();
    assert_eq!(summary.console_path, "/m/acme/sign-in");
    // Seeding again adds no second pair.
    settle::demo::seed(&app.db, app.clock.as_ref()).await.unwrap();
    let (staff,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM merchant_users").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(staff, 2);
    for (email, manages) in [(DEMO_OWNER, true), (DEMO_VIEWER, false)] {
        let client = browser();
        let res = sign_in(&app, &client, "acme", email, DEMO_STAFF_PASSWORD).await;
        assert_eq!(location(&res).as_deref(), Some("/m/acme"), "{email}");
        let html = page(get(&app, &client, "/m/acme/customers?q=dana").await).await;
        assert!(html.contains("Dana Whitfield"), "{html}");
        let (id,): (String,) = sqlx::query_as("SELECT id FROM customers WHERE name = 'Dana Whitfield'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
        let html = page(get(&app, &client, &format!("/m/acme/customers/{id}")).await).await;
        assert_eq!(html.contains("Pause reminders"), manages, "{email}");
    }
}

async fn the_first_run_form_sets_up_the_first_merchant_only(app: TestApp) {
    let client = browser();
    let html = page(get(&app, &client, "/setup").await).await;
    assert!(html.contains("Set up Settle") && html.contains("Portal address"), "{html}");
    let form = |slug: &'static str, password: &'static str| {
        vec![
            ("name", "Northwind Traders"),
            ("slug", slug),
            ("time_zone", "Europe/Berlin"),
            ("currency", "eur"),
            ("owner_name", "Nancy"),
            ("owner_email", "nancy@northwind.example"),
            ("password", password),
        ]
    };
    // Refused in words, what was typed kept (never the password).
    let res = client.post(app.url("/setup")).form(&form("North Wind", PASSWORD)).send().await.unwrap();
    assert_eq!(location(&res).as_deref(), Some("/setup"));
    let html = page(get(&app, &client, "/setup").await).await;
    assert!(html.contains("The portal address \"North Wind\" can"), "{html}");
    assert!(html.contains("value=\"Northwind Traders\"") && !html.contains(PASSWORD));
    let res = client.post(app.url("/setup")).form(&form("northwind", "password")).send().await.unwrap();
    assert_eq!(location(&res).as_deref(), Some("/setup"));
    assert!(page(get(&app, &client, "/setup").await).await.contains("Choose another password"));

    let res = client.post(app.url("/setup")).form(&form("northwind", PASSWORD)).send().await.unwrap();
    assert_eq!(location(&res).as_deref(), Some("/m/northwind/dashboard"));
    let res = get(&app, &client, "/m/northwind/dashboard").await;
    assert_eq!(res.status(), 200, "the owner is signed in");
    let m = app::server::repo::merchants::find_by_slug(app.db.pool(), "northwind").await.unwrap().unwrap();
    assert_eq!((m.default_currency.as_str(), m.time_zone.as_str()), ("EUR", "Europe/Berlin"));

    // Once there is a merchant, the form is gone for everyone.
    assert_eq!(get(&app, &browser(), "/setup").await.status(), 404);
    let res = browser().post(app.url("/setup")).form(&form("another", PASSWORD)).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM merchants").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(n, 1);
}

/// The invoice numbers a filtered invoice list shows, in order.
async fn numbers(app: &TestApp, client: &reqwest::Client, query: &str) -> Vec<String> {
    let res = get(app, client, &format!("/m/acme/invoices?{query}")).await;
    assert_eq!(res.status(), 200, "{query}");
    let html = page(res).await;
    html.split("<span class=\"invoice-number\">").skip(1).map(|s| s.split('<').next().unwrap().to_string()).collect()
}

async fn invoices_are_searched_and_filtered(app: TestApp) {
    let a = app.seed_customer_with_invoices("acme", "Acme").await;
    app.seed_customer_with_invoices("globex", "Globex").await;
    staff(&app, &a.merchant.merchant_id(), "viewer@acme.example", Role::Viewer).await;
    let client = browser();
    sign_in(&app, &client, "acme", "viewer@acme.example", PASSWORD).await;
    // Latest due first; another merchant's never.
    assert_eq!(numbers(&app, &client, "").await, ["Acme-2", "Acme-1", "Acme-PAID", "Acme-VOID"]);
    assert_eq!(numbers(&app, &client, "status=open").await, ["Acme-2", "Acme-1"]);
    assert_eq!(numbers(&app, &client, "aging=1-30").await, ["Acme-1"]);
    assert_eq!(numbers(&app, &client, "aging=current").await, ["Acme-2"]);
    assert_eq!(numbers(&app, &client, "q=paid").await, ["Acme-PAID"]);
    assert_eq!(numbers(&app, &client, "q=acme%20customer&status=void").await, ["Acme-VOID"], "by customer name");
    assert_eq!(numbers(&app, &client, "q=globex").await, Vec::<String>::new());
    let html = page(get(&app, &client, "/m/acme/invoices?status=late").await).await;
    assert!(html.contains("Ignored the status filter: \"late\""), "{html}");

    // An invoice's page: facts, lines, timeline; another merchant's is not found.
    let id = |number: &'static str| {
        let pool = app.db.pool().clone();
        async move {
            let (id,): (String,) = sqlx::query_as("SELECT id FROM invoices WHERE number = $1")
                .bind(number)
                .fetch_one(&pool)
                .await
                .unwrap();
            id
        }
    };
    let acme_1 = id("Acme-1").await;
    staff(&app, &a.merchant.merchant_id(), "admin@acme.example", Role::Admin).await;
    let admin = browser();
    sign_in(&app, &admin, "acme", "admin@acme.example", PASSWORD).await;
    admin
        .post(app.url(&format!("/m/acme/invoices/{acme_1}/mark-paid")))
        .form(&[("reference", "wire 9")])
        .send()
        .await
        .unwrap();
    let html = page(get(&app, &admin, &format!("/m/acme/invoices/{acme_1}")).await).await;
    for text in [
        "Invoice Acme-1",
        "Acme Customer",
        "Service",
        "$120.00",
        "invoice marked paid",
        "by Pat Staff",
        "paid_outside".replace('_', " ").as_str(),
    ] {
        assert!(html.contains(text), "invoice page lacks {text:?}: {html}");
    }
    let globex_1 = id("Globex-1").await;
    assert_eq!(get(&app, &admin, &format!("/m/acme/invoices/{globex_1}")).await.status(), 404);
}
