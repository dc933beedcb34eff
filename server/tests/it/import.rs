//! CSV import, on both backends: bad rows are reported by line, column and
//! reason and nothing is written (all or nothing), or the good rows go in
//! when asked; importing the same file again changes nothing; due dates
//! land on the customer's local day; the console upload is for owners and
//! admins; `settle import` prints a progress bar and the same report.

use crate::common::*;
use app::server::import::import;
use app::server::repo::merchant_users::{self, Role};
use app::server::repo::merchants::{self, MerchantRow};

on_both_backends!(bad_rows_stop_the_file_and_good_files_import_once, the_console_upload_reports_and_respects_roles);

const GOOD: &str = "\
customer_ref,customer_name,customer_email,customer_time_zone,invoice_ref,invoice_number,currency,amount,tax,issued_on,due_on,status,memo
C-1,Ada Lovelace,ada@example.com,America/Chicago,I-1,INV-9001,USD,1250.00,,2026-03-01,2026-03-31,,Consulting
C-1,,,,I-2,INV-9002,USD,80.5,4.50,2026-03-05,2026-04-05,open,
C-2,Grace Hopper,GRACE@example.com,Europe/Berlin,,,,,,,,,
C-2,,,,I-3,INV-9003,EUR,99,,2026-02-01,2026-02-15,paid,Old one
";

const BAD: &str = "\
customer_ref,customer_name,customer_email,customer_time_zone,invoice_ref,invoice_number,currency,amount,tax,issued_on,due_on,status,memo
C-1,Ada Lovelace,ada@example.com,America/Chicago,I-1,INV-9001,USD,1250.00,,2026-03-01,2026-03-31,,Consulting
C-3,Bad Amount,bad@example.com,,I-4,INV-9004,USD,twelve,,,2026-03-31,,
C-4,Bad Date,date@example.com,Mars/Olympus,I-5,INV-9005,USD,10,,,31/03/2026,,
C-5,No Email,,,I-6,INV-9006,USD,10,,,2026-03-31,,
C-1,,,,I-1,INV-9007,USD,10,,,2026-03-31,unpaid,
";

async fn counts(app: &TestApp) -> (i64, i64) {
    let (c,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM customers").fetch_one(app.db.pool()).await.unwrap();
    let (i,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM invoices").fetch_one(app.db.pool()).await.unwrap();
    (c, i)
}

async fn merchant(app: &TestApp) -> MerchantRow {
    app.merchant("acme", "Acme").await;
    merchants::find_by_slug(app.db.pool(), "acme").await.unwrap().unwrap()
}

async fn bad_rows_stop_the_file_and_good_files_import_once(app: TestApp) {
    let m = merchant(&app).await;
    let now = app.clock_now();

    // All or nothing: every problem, by line and column; nothing written.
    let report = import(app.db.pool(), &m, BAD.as_bytes(), false, now, |_, _| {}).await.unwrap();
    assert!(!report.written);
    let problems: Vec<(u64, &str)> = report.problems.iter().map(|p| (p.line, p.column.as_str())).collect();
    assert_eq!(
        problems,
        [(3, "amount"), (4, "customer_time_zone"), (4, "due_on"), (5, "customer_email"), (6, "status"),],
        "{:#?}",
        report.problems
    );
    let reason = |line: u64, column: &str| {
        report.problems.iter().find(|p| p.line == line && p.column == column).unwrap().reason.clone()
    };
    assert!(reason(3, "amount").starts_with("\"twelve\""), "{}", reason(3, "amount"));
    assert_eq!(reason(4, "due_on"), "\"31/03/2026\" is not a date like 2026-03-31.");
    assert_eq!(reason(5, "customer_email"), "Customer \"C-5\" is new and needs an email address.");
    assert_eq!(counts(&app).await, (0, 0));
    assert!(report.summary().starts_with("Nothing was imported: 5 problems in 5 rows"), "{}", report.summary());

    // Skip mode: the good row goes in, the bad ones are reported.
    let report = import(app.db.pool(), &m, BAD.as_bytes(), true, now, |_, _| {}).await.unwrap();
    assert!(report.written);
    assert_eq!((report.customers_created, report.invoices_created), (1, 1));
    assert_eq!(counts(&app).await, (1, 1));

    // The good file: C-1 exists now (matched by reference), the rest is new.
    let mut seen = Vec::new();
    let report =
        import(app.db.pool(), &m, GOOD.as_bytes(), false, now, |done, total| seen.push((done, total))).await.unwrap();
    assert!(report.written, "{:?}", report.problems);
    assert_eq!(
        (report.customers_created, report.customers_existing, report.invoices_created, report.invoices_existing),
        (1, 1, 2, 1)
    );
    assert_eq!(seen.last(), Some(&(4, 4)), "progress reaches the end");
    assert_eq!(counts(&app).await, (2, 3));
    // Again: nothing changes.
    let again = import(app.db.pool(), &m, GOOD.as_bytes(), false, now, |_, _| {}).await.unwrap();
    assert_eq!((again.customers_created, again.invoices_created, again.invoices_existing), (0, 0, 3));
    assert_eq!(counts(&app).await, (2, 3));

    // What landed: amounts in minor units with tax, the local due day, paid state, lower-cased email.
    let rows: Vec<(String, i64, i64, String, i64, String)> = sqlx::query_as(
        "SELECT i.number, i.total_minor, i.amount_paid_minor, i.status, i.due_at, i.currency FROM invoices i \
         ORDER BY i.number",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(rows[1].0, "INV-9002");
    assert_eq!((rows[1].1, rows[1].2, rows[1].3.as_str()), (8_500, 0, "open"));
    assert_eq!((rows[2].1, rows[2].2, rows[2].3.as_str(), rows[2].5.as_str()), (9_900, 9_900, "paid", "EUR"));
    // INV-9001 is due on 2026-03-31 in Chicago (CDT, UTC-5): overdue from 05:00 UTC on April 1st.
    let april_first_0500_utc = 1_775_019_600_000i64;
    assert_eq!(rows[0].4, april_first_0500_utc - 1);
    let (email,): (String,) = sqlx::query_as("SELECT email FROM customers WHERE external_ref = 'C-2'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(email, "grace@example.com");

    // A file with a column nobody knows is refused whole, by name.
    let odd = "customer_ref,customer_name,shoe_size\nC-9,Someone,44\n";
    let report = import(app.db.pool(), &m, odd.as_bytes(), true, now, |_, _| {}).await.unwrap();
    assert!(!report.written);
    assert_eq!(report.problems[0].column, "shoe_size");
    assert!(report.problems[0].reason.starts_with("Unknown column \"shoe_size\""));
    assert_eq!(counts(&app).await, (2, 3));
}

const PASSWORD: &str = "copper kettle morning drive";

async fn the_console_upload_reports_and_respects_roles(app: TestApp) {
    let m = merchant(&app).await;
    let hash = app::server::passwords::hash(PASSWORD.into()).await.unwrap();
    let mut clients = Vec::new();
    for role in [Role::Admin, Role::Viewer] {
        let email = format!("{}@acme.example", role.as_str());
        merchant_users::insert(app.db.pool(), &m.merchant_id(), &email, "Pat", Some(&hash), role, app.clock_now())
            .await
            .unwrap();
        let client = browser();
        client
            .post(app.url("/m/acme/sign-in"))
            .form(&[("email", email.as_str()), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        clients.push(client);
    }
    let (admin, viewer) = (&clients[0], &clients[1]);
    let upload = |client: &reqwest::Client, body: &'static str, mode: &'static str| {
        let form = reqwest::multipart::Form::new()
            .part("file", reqwest::multipart::Part::bytes(body.as_bytes().to_vec()).file_name("book.csv"))
            .text("mode", mode);
        client.post(app.url("/m/acme/import")).multipart(form).send()
    };
    assert_eq!(upload(viewer, GOOD, "all").await.unwrap().status(), 403);
    assert_eq!(counts(&app).await, (0, 0));

    let res = upload(admin, BAD, "all").await.unwrap();
    assert_eq!(location(&res).as_deref(), Some("/m/acme/import"));
    let html = page(admin.get(app.url("/m/acme/import")).send().await.unwrap()).await;
    assert!(html.contains("Nothing was imported: 5 problems in 5 rows"), "{html}");
    assert!(html.contains("is not a date like 2026-03-31."));
    assert_eq!(counts(&app).await, (0, 0));

    upload(admin, GOOD, "all").await.unwrap();
    let html = page(admin.get(app.url("/m/acme/import")).send().await.unwrap()).await;
    assert!(html.contains("Imported 4 rows: 2 new customers, 3 new invoices."), "{html}");
    assert_eq!(counts(&app).await, (2, 3));
    let (audits,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE action = 'import.completed'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(audits, 1);
}

/// `settle import` on a SQLite file: a progress bar, the report, and exit
/// status 1 when nothing was written.
#[test]
fn the_cli_imports_with_a_progress_bar() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_settle"))
            .args(args)
            .env("SETTLE_DATA_DIR", dir.path())
            .env("SETTLE_LOG", "error")
            .env("SETTLE_OWNER_PASSWORD", "violet harbour lantern seven")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, _, err) = run(&[
        "create-merchant",
        "--slug",
        "acme",
        "--name",
        "Acme",
        "--owner-email",
        "o@acme.example",
        "--time-zone",
        "America/Chicago",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let good = dir.path().join("good.csv");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&good, GOOD).unwrap();
    std::fs::write(&bad, BAD).unwrap();

    let (code, out, err) = run(&["import", "--merchant", "acme", bad.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert!(out.contains("line 4, column due_on: \"31/03/2026\" is not a date like 2026-03-31."), "{out}");
    assert!(err.contains("nothing was imported"), "{err}");

    let (code, out, err) = run(&["import", "--merchant", "acme", good.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "Imported 4 rows: 2 new customers, 3 new invoices.\n");
    assert!(err.contains("] 100% 4/4 rows"), "{err}");
    let (_, out, _) = run(&["import", "--merchant", "acme", good.to_str().unwrap()]);
    assert_eq!(out, "Imported 4 rows: 0 new customers, 0 new invoices; already there: 2 customers, 3 invoices.\n");
    let (code, _, err) = run(&["import", "--merchant", "nobody", good.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert!(err.contains("no merchant has the portal address `nobody`"), "{err}");
}
