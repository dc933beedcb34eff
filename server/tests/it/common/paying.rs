//! Driving the pay flow over HTTP as a browser would: add a card on the
//! sandbox's card page, review, confirm.

use super::*;

/// The value of `<input … name="{name}" value="…">` in a page.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let rest = &html[at..];
    let end = rest.find('>')?;
    let tag = &rest[..end];
    let v = tag.find("value=\"")? + 7;
    let close = tag[v..].find('"')?;
    Some(tag[v..v + close].replace("&amp;", "&"))
}

/// A signed-in browser for a fresh customer with INV-1 ($120.00, overdue)
/// and INV-2 ($80.50, due in 5 days) at merchant `slug`.
pub async fn signed_in_customer(app: &TestApp, slug: &str, prefix: &str) -> (reqwest::Client, Seeded) {
    let seeded = app.seed_customer_with_invoices(slug, prefix).await;
    let (_, path) = app.link(&seeded.merchant, &seeded.customer).await;
    let client = browser();
    let res = sign_in_with_link(app, &client, &path).await;
    assert_eq!(res.status(), 303, "signed in");
    (client, seeded)
}

/// Adds a test card through the sandbox's card page; returns the
/// redirect's location (carrying `card=pm_…`).
pub async fn add_card(app: &TestApp, client: &reqwest::Client, slug: &str, number: &str) -> String {
    let res = try_add_card(app, client, slug, number, "12 / 30").await;
    let to = location(&res).expect("redirect after saving the card");
    assert!(to.contains("card_added=1"), "card saved: {to}");
    to
}

pub async fn try_add_card(
    app: &TestApp,
    client: &reqwest::Client,
    slug: &str,
    number: &str,
    expiry: &str,
) -> reqwest::Response {
    let res =
        client.get(app.url(&format!("/p/{slug}/account/cards/new?return_to=/p/{slug}/pay"))).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let html = page(res).await;
    let start = html.find(&format!("/p/{slug}/sandbox/setups/")).expect("sandbox card form");
    let action: String = html[start..].chars().take_while(|c| *c != '"').collect();
    client
        .post(app.url(&action))
        .form(&[("number", number), ("expiry", expiry), ("cvc", "123"), ("return_to", &format!("/p/{slug}/pay"))])
        .send()
        .await
        .unwrap()
}

/// The card id a redirect carries.
pub fn card_in(location: &str) -> String {
    let at = location.find("card=").expect("card id in redirect") + 5;
    location[at..].chars().take_while(|c| *c != '&').collect()
}

/// What the review page offers: (attempt, total_minor, html).
pub async fn review(app: &TestApp, client: &reqwest::Client, slug: &str, query: &str) -> (String, String, String) {
    let res = client.get(app.url(&format!("/p/{slug}/pay{query}"))).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let html = page(res).await;
    let attempt = input_value(&html, "attempt").unwrap_or_default();
    let total = input_value(&html, "total_minor").unwrap_or_default();
    (attempt, total, html)
}

/// Confirms a payment; returns the response (a 303 somewhere).
#[allow(clippy::too_many_arguments)]
pub async fn confirm(
    app: &TestApp,
    client: &reqwest::Client,
    slug: &str,
    invoices: &[String],
    amount_minor: Option<i64>,
    total_minor: &str,
    card: &str,
    attempt: &str,
) -> reqwest::Response {
    let mut form: Vec<(&str, String)> = invoices.iter().map(|i| ("invoice", i.clone())).collect();
    form.push(("amount_minor", amount_minor.map(|m| m.to_string()).unwrap_or_default()));
    form.push(("total_minor", total_minor.to_string()));
    form.push(("card", card.to_string()));
    form.push(("attempt", attempt.to_string()));
    client.post(app.url(&format!("/p/{slug}/pay"))).form(&form).send().await.unwrap()
}

/// Open invoice ids of a customer, oldest due first.
pub async fn open_invoice_ids(app: &TestApp, customer: &app::server::ids::CustomerId) -> Vec<String> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM invoices WHERE customer_id = $1 AND status = 'open' ORDER BY due_at")
            .bind(customer.as_str())
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    rows.into_iter().map(|r| r.0).collect()
}

/// How many charges the sandbox gateway has seen for this customer.
pub async fn sandbox_charges(app: &TestApp, customer: &app::server::ids::CustomerId) -> i64 {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM sandbox_objects s JOIN customers c ON c.gateway_customer_ref = s.customer_ref \
         WHERE s.kind = 'payment' AND c.id = $1",
    )
    .bind(customer.as_str())
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    n
}

/// (status, amount_paid_minor) of an invoice by number.
pub async fn invoice_state(app: &TestApp, number: &str) -> (String, i64) {
    sqlx::query_as("SELECT status, amount_paid_minor FROM invoices WHERE number = $1")
        .bind(number)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}
