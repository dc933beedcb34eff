//! The template editor, on both backends: the built-in wording shown with
//! a sample rendering; unknown variables and link-less texts refused with
//! what was typed kept; a saved wording used by the next reminder; a test
//! sent once to the staff member however many clicks; back to built-in;
//! viewers only look.

use crate::common::*;
use app::server::repo::merchant_users::{self, Role};

on_both_backends!(templates_are_checked_previewed_saved_and_used);

const PASSWORD: &str = "copper kettle morning drive";

async fn member(app: &TestApp, email: &str, role: Role) -> reqwest::Client {
    let m = app::server::repo::merchants::find_by_slug(app.db.pool(), "acme").await.unwrap().unwrap();
    let hash = app::server::passwords::hash(PASSWORD.into()).await.unwrap();
    merchant_users::insert(app.db.pool(), &m.merchant_id(), email, "Pat", Some(&hash), role, app.clock_now())
        .await
        .unwrap();
    let client = browser();
    client.post(app.url("/m/acme/sign-in")).form(&[("email", email), ("password", PASSWORD)]).send().await.unwrap();
    client
}

const EDITOR: &str = "/m/acme/templates?key=overdue_firm&channel=email";

async fn editor(app: &TestApp, client: &reqwest::Client) -> String {
    page(client.get(app.url(EDITOR)).send().await.unwrap()).await
}

async fn submit(app: &TestApp, client: &reqwest::Client, subject: &str, body: &str, action: &str) -> reqwest::Response {
    let form =
        [("key", "overdue_firm"), ("channel", "email"), ("subject", subject), ("body", body), ("action", action)];
    client.post(app.url("/m/acme/templates")).form(&form).send().await.unwrap()
}

async fn templates_are_checked_previewed_saved_and_used(app: TestApp) {
    let seeded = app.seed_customer_with_invoices("acme", "Acme").await;
    let admin = member(&app, "admin@acme.example", Role::Admin).await;
    let html = editor(&app, &admin).await;
    assert!(html.contains("Overdue: {{total_due}} to {{merchant_name}}"), "the built-in wording: {html}");
    assert!(html.contains("Overdue: $335.50 to ACME Ltd"), "the sample rendering");

    // Refused: an unknown variable, a text without the customer's link; what was typed comes back.
    let res = submit(&app, &admin, "Hi {{first_name}}", "Pay: {{pay_link}}", "save").await;
    assert_eq!(location(&res).as_deref(), Some(EDITOR));
    let html = editor(&app, &admin).await;
    assert!(html.contains("Unknown variable {{first_name}}"), "{html}");
    assert!(html.contains("value=\"Hi {{first_name}}\""), "typed subject kept");
    submit(&app, &admin, "Overdue", "Please pay soon.", "save").await;
    assert!(editor(&app, &admin).await.contains("put {{pay_link}} or {{access_link}} in the text"));
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM templates").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(n, 0);

    // Saved, previewed, and used by the next reminder.
    let subject = "Psst {{customer_first_name}}, {{total_due}} is waiting";
    submit(&app, &admin, subject, "Hi {{customer_first_name}},\r\n\r\nPay here: {{pay_link}}", "save").await;
    let html = editor(&app, &admin).await;
    assert!(html.contains("Saved. Reminders use this wording from the next sweep."));
    assert!(html.contains("Psst Sam, $335.50 is waiting"), "{html}");
    app::server::dunning::sweep::sweep(&app.state, 500).await.unwrap();
    let (sent,): (String,) =
        sqlx::query_as("SELECT subject FROM messages WHERE customer_id = $1 AND template_key LIKE 'dunning:%'")
            .bind(seeded.customer.as_str())
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(sent, "Psst Acme, $200.50 is waiting");

    // A test: one email to the staff member, however many clicks in a minute.
    for _ in 0..2 {
        submit(&app, &admin, subject, "Pay here: {{pay_link}}", "test").await;
    }
    let tests: Vec<(String, String)> =
        sqlx::query_as("SELECT to_address, subject FROM messages WHERE template_key = 'test:overdue_firm'")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    assert_eq!(tests, [("admin@acme.example".to_string(), "[Test] Psst Sam, $335.50 is waiting".to_string())]);

    // Viewers look, and are refused changes.
    let viewer = member(&app, "viewer@acme.example", Role::Viewer).await;
    assert!(!editor(&app, &viewer).await.contains("Save template"));
    assert_eq!(submit(&app, &viewer, "x {{pay_link}}", "{{pay_link}}", "save").await.status(), 403);

    // Back to the built-in text.
    submit(&app, &admin, "", "", "reset").await;
    assert!(editor(&app, &admin).await.contains("Back to the built-in text."));
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM templates").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(n, 0);
    let (audits,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE action IN ('template.changed', 'template.reset')")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(audits, 2);
}
