//! Promise to pay and dispute on both backends: validated, stored for the
//! dunning engine, the merchant told (event + audit entry), shown in the
//! portal, and scoped to the signed-in customer.

use crate::common::*;

on_both_backends!(
    promise_to_pay_is_validated_recorded_and_shown,
    dispute_is_recorded_and_pauses_promises,
    promises_and_disputes_are_scoped
);

async fn invoice_id(app: &TestApp, number: &str) -> String {
    let (id,): (String,) = sqlx::query_as("SELECT id FROM invoices WHERE number = $1")
        .bind(number)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    id
}

async fn post(app: &TestApp, client: &reqwest::Client, path: &str, form: &[(&str, &str)]) -> Option<String> {
    location(&client.post(app.url(path)).form(form).send().await.unwrap())
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql).fetch_one(app.db.pool()).await.unwrap();
    n
}

async fn signed_in(app: &TestApp, seeded: &Seeded) -> reqwest::Client {
    let (_, path) = app.link(&seeded.merchant, &seeded.customer).await;
    let client = browser();
    sign_in_with_link(app, &client, &path).await;
    client
}

async fn promise_to_pay_is_validated_recorded_and_shown(app: TestApp) {
    // T0 is 2026-03-15 10:00 in Chicago; A-1 is 10 days overdue, A-2 due in 5 days.
    let s = app.seed_customer_with_invoices("acme", "A").await;
    let client = signed_in(&app, &s).await;
    let overdue = invoice_id(&app, "A-1").await;
    let upcoming = invoice_id(&app, "A-2").await;
    let path = format!("/p/acme/invoices/{overdue}/promise");
    let back = format!("/p/acme/invoices/{overdue}");

    for (date, code) in
        [("2026-03-15", "out_of_range"), ("2026-03-30", "out_of_range"), ("next friday", "bad_date"), ("", "bad_date")]
    {
        let to = post(&app, &client, &path, &[("date", date)]).await;
        assert_eq!(to, Some(format!("{back}?promise_error={code}#cannot-pay")), "{date:?}");
    }
    let to = post(&app, &client, &format!("/p/acme/invoices/{upcoming}/promise"), &[("date", "2026-03-20")]).await;
    assert_eq!(to, Some(format!("/p/acme/invoices/{upcoming}?promise_error=not_overdue#cannot-pay")));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM promises").await, 0, "nothing stored for refused promises");

    let to = post(&app, &client, &path, &[("date", "2026-03-29")]).await;
    assert_eq!(to, Some(format!("{back}?promise=saved#cannot-pay")), "14 days is the default limit");
    let (date, until, status): (String, i64, String) =
        sqlx::query_as("SELECT promised_date, promised_until, status FROM promises")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!((date.as_str(), status.as_str()), ("2026-03-29", "active"));
    // The end of Mar 29 in Chicago (CDT, UTC-5) is 2026-03-30T05:00Z.
    assert_eq!(until, 1_774_846_800_000);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM events WHERE kind = 'promise_to_pay'").await, 1);
    let (action, ip): (String, Option<String>) =
        sqlx::query_as("SELECT action, ip FROM audit_log").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!((action.as_str(), ip.as_deref()), ("invoice.promise_to_pay", Some("127.0.0.1")));

    let html = page(client.get(app.url(&back)).send().await.unwrap()).await;
    assert!(html.contains("You promised to pay by <strong>Mar 29, 2026</strong>"), "shown in the portal");
    let to = post(&app, &client, &path, &[("date", "2026-03-20")]).await;
    assert_eq!(to, Some(format!("{back}?promise_error=already_promised#cannot-pay")));
}

async fn dispute_is_recorded_and_pauses_promises(app: TestApp) {
    let s = app.seed_customer_with_invoices("acme", "A").await;
    let client = signed_in(&app, &s).await;
    let overdue = invoice_id(&app, "A-1").await;
    let path = format!("/p/acme/invoices/{overdue}/dispute");
    let back = format!("/p/acme/invoices/{overdue}");
    let to = post(&app, &client, &path, &[("reason", "because"), ("details", "x")]).await;
    assert_eq!(to, Some(format!("{back}?dispute_error=bad_reason#cannot-pay")));
    let long = "x".repeat(1001);
    let to = post(&app, &client, &path, &[("reason", "wrong_amount"), ("details", &long)]).await;
    assert_eq!(to, Some(format!("{back}?dispute_error=too_long#cannot-pay")));

    let to = post(&app, &client, &path, &[("reason", "wrong_amount"), ("details", "We agreed on $100.")]).await;
    assert_eq!(to, Some(format!("{back}?dispute=saved#cannot-pay")));
    let (reason, details): (String, String) =
        sqlx::query_as("SELECT reason, details FROM disputes WHERE status = 'open'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!((reason.as_str(), details.as_str()), ("wrong_amount", "We agreed on $100."));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM events WHERE kind = 'dispute_opened'").await, 1);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM audit_log WHERE action = 'invoice.dispute'").await, 1);
    let html = page(client.get(app.url(&back)).send().await.unwrap()).await;
    assert!(html.contains("You disputed this invoice: <strong>The amount is wrong</strong>"));
    assert!(!html.contains("Promise to pay</button>"), "no promise form on a disputed invoice");
    let to = post(&app, &client, &format!("{back}/promise"), &[("date", "2026-03-20")]).await;
    assert_eq!(to, Some(format!("{back}?promise_error=disputed#cannot-pay")));
    let to = post(&app, &client, &path, &[("reason", "other")]).await;
    assert_eq!(to, Some(format!("{back}?dispute_error=already_disputed#cannot-pay")));
}

async fn promises_and_disputes_are_scoped(app: TestApp) {
    let a = app.seed_customer_with_invoices("acme", "A").await;
    let b = app.seed_customer_with_invoices("acme", "B").await;
    let b_client = signed_in(&app, &b).await;
    let a_invoice = invoice_id(&app, "A-1").await;
    let res = b_client
        .post(app.url(&format!("/p/acme/invoices/{a_invoice}/promise")))
        .form(&[("date", "2026-03-20")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404, "B cannot promise on A's invoice");
    let res = b_client
        .post(app.url(&format!("/p/acme/invoices/{a_invoice}/dispute")))
        .form(&[("reason", "other")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM promises").await + count(&app, "SELECT COUNT(*) FROM disputes").await,
        0
    );
    // Not signed in (or signed in elsewhere): back to the portal home, nothing stored.
    let x = app.seed_customer_with_invoices("xeno", "X").await;
    let x_client = signed_in(&app, &x).await;
    let to = post(&app, &x_client, &format!("/p/acme/invoices/{a_invoice}/promise"), &[("date", "2026-03-20")]).await;
    assert_eq!(to.as_deref(), Some("/p/acme"));
    let res = browser()
        .post(app.url(&format!("/p/acme/invoices/{a_invoice}/dispute")))
        .form(&[("reason", "other")])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&res).as_deref(), Some("/p/acme"));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM disputes").await, 0);
    let _ = a;
}
