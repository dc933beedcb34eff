//! Invoice detail and payment history on both backends: what they show, and
//! that nobody sees another customer's or merchant's invoice.

use crate::common::*;
use app::server::repo::invoices::InvoiceStatus;

on_both_backends!(
    invoice_detail_shows_lines_totals_and_payments,
    payment_history_lists_payments,
    invoices_are_scoped,
    receipts_and_timeline
);

async fn sign_in_as_dana(app: &TestApp) -> reqwest::Client {
    let demo = settle::demo::seed(&app.db, app.clock.as_ref()).await.unwrap();
    let client = browser();
    sign_in_with_link(app, &client, &demo.link_path).await;
    client
}

async fn dana_invoice(app: &TestApp, condition: &str) -> (String, String, i64, i64) {
    sqlx::query_as(&format!(
        "SELECT i.id, i.number, i.total_minor, i.amount_paid_minor FROM invoices i JOIN customers c ON c.id = i.customer_id \
         WHERE c.external_ref = 'demo-cus-01' AND {condition} ORDER BY i.due_at LIMIT 1"
    ))
    .fetch_one(app.db.pool())
    .await
    .unwrap()
}

fn usd(minor: i64) -> String {
    app::types::Money::new(minor, app::types::Currency::USD).display()
}

async fn invoice_detail_shows_lines_totals_and_payments(app: TestApp) {
    let client = sign_in_as_dana(&app).await;
    let (id, number, total, paid) = dana_invoice(&app, "i.status = 'open' AND i.amount_paid_minor > 0").await;
    let res = client.get(app.url(&format!("/p/acme/invoices/{id}"))).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let html = page(res).await;
    assert!(html.contains(&format!("Invoice {number}")));
    let lines: Vec<(String,)> = sqlx::query_as("SELECT description FROM invoice_lines WHERE invoice_id = $1")
        .bind(&id)
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    assert!(!lines.is_empty());
    for (d,) in &lines {
        assert!(html.contains(d.as_str()), "line {d}");
    }
    assert!(html.contains(&usd(total)) && html.contains(&usd(paid)) && html.contains(&usd(total - paid)));
    assert!(html.contains("Visa ending 4242"), "the payment applied, with its card");
    assert!(html.contains("Print or save as PDF"));
    // The account page links to it.
    let account = page(client.get(app.url("/p/acme/account")).send().await.unwrap()).await;
    assert!(account.contains(&format!("/p/acme/invoices/{id}")));
}

async fn payment_history_lists_payments(app: TestApp) {
    let client = sign_in_as_dana(&app).await;
    let html = page(client.get(app.url("/p/acme/payments")).send().await.unwrap()).await;
    let (_, paid_number, _, _) = dana_invoice(&app, "i.status = 'paid'").await;
    let (_, partly_number, _, partly_paid) = dana_invoice(&app, "i.status = 'open' AND i.amount_paid_minor > 0").await;
    assert!(html.contains(&paid_number) && html.contains(&partly_number), "both payments listed");
    assert!(html.contains(&format!("{partly_number} ({})", usd(partly_paid))));
    assert_eq!(html.matches("data-payment=").count(), 2, "only Dana's payments");
    // Not signed in: back to the portal home.
    let res = browser().get(app.url("/p/acme/payments")).send().await.unwrap();
    assert_eq!(location(&res).as_deref(), Some("/p/acme"));
}

async fn invoices_are_scoped(app: TestApp) {
    let client = sign_in_as_dana(&app).await;
    let (other_id,): (String,) = sqlx::query_as(
        "SELECT i.id FROM invoices i JOIN customers c ON c.id = i.customer_id WHERE c.external_ref = 'demo-cus-02' LIMIT 1",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let res = client.get(app.url(&format!("/p/acme/invoices/{other_id}"))).send().await.unwrap();
    assert_eq!(res.status(), 404, "another customer's invoice");
    let html = page(res).await;
    assert!(!html.contains("INV-"), "nothing of it leaks");

    let elsewhere = app.merchant("other", "Other").await;
    let c = app.customer(&elsewhere.merchant_id(), "Someone Else", "UTC").await;
    app.invoice(&elsewhere.merchant_id(), &c, "OTHER-1", 5_000, 3, InvoiceStatus::Open, 0).await;
    let (foreign_id,): (String,) =
        sqlx::query_as("SELECT id FROM invoices WHERE number = 'OTHER-1'").fetch_one(app.db.pool()).await.unwrap();
    let res = client.get(app.url(&format!("/p/acme/invoices/{foreign_id}"))).send().await.unwrap();
    assert_eq!(res.status(), 404, "another merchant's invoice");
    let res = client.get(app.url("/p/acme/invoices/inv_garbage")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let res = client.get(app.url("/p/acme/invoices/..%2F..%2Fetc")).send().await.unwrap();
    assert_eq!(res.status(), 404);
}

async fn receipts_and_timeline(app: TestApp) {
    let client = sign_in_as_dana(&app).await;
    let (id, number, _, paid) = dana_invoice(&app, "i.status = 'open' AND i.amount_paid_minor > 0").await;
    let html = page(client.get(app.url(&format!("/p/acme/invoices/{id}"))).send().await.unwrap()).await;
    let history = &html[html.find("<ol class=\"timeline\"").expect("timeline")..];
    let issued = history.find("Invoice issued").expect("issued");
    let payment = history.find(&format!("Payment of {} received", usd(paid))).expect("payment in the timeline");
    let due = history.find("Payment due").expect("due");
    assert!(issued < payment && payment < due, "oldest first: issued, paid part, due");

    let (payment_id,): (String,) = sqlx::query_as("SELECT payment_id FROM payment_allocations WHERE invoice_id = $1")
        .bind(&id)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert!(html.contains(&format!("/p/acme/payments/{payment_id}")), "links to the receipt");
    let res = client.get(app.url(&format!("/p/acme/payments/{payment_id}"))).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let receipt = page(res).await;
    assert!(receipt.contains("Receipt") && receipt.contains(&usd(paid)) && receipt.contains(&number));
    assert!(receipt.contains("Visa ending 4242") && receipt.contains("Dana Whitfield"));

    let (other_payment,): (String,) = sqlx::query_as(
        "SELECT p.id FROM payments p JOIN customers c ON c.id = p.customer_id WHERE c.external_ref <> 'demo-cus-01' LIMIT 1",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let res = client.get(app.url(&format!("/p/acme/payments/{other_payment}"))).send().await.unwrap();
    assert_eq!(res.status(), 404, "another customer's receipt");
}
