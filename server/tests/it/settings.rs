//! Contact details and preferences on both backends: preferences need only
//! the session; changing email or phone needs a step-up (password or emailed
//! code, 10 minutes), which cycles the session id.

use crate::common::flows::*;
use crate::common::*;
use app::server::Clock;

async fn signed_in_by_link(app: &TestApp, seeded: &Seeded) -> reqwest::Client {
    let (_, path) = app.link(&seeded.merchant, &seeded.customer).await;
    let client = browser();
    sign_in_with_link(app, &client, &path).await;
    client
}

async fn post(app: &TestApp, client: &reqwest::Client, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    client.post(app.url(path)).form(form).send().await.unwrap()
}

async fn contact(app: &TestApp) -> (String, Option<String>, String, i64) {
    sqlx::query_as("SELECT email, phone, time_zone, email_opt_out FROM customers WHERE name = 'A Customer'")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn preferences_need_no_step_up_and_are_validated(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let s = app.seed_customer_with_invoices("acme", "A").await;
    let client = signed_in_by_link(&app, &s).await;
    let res = post(
        &app,
        &client,
        "/p/acme/account/preferences",
        &[("sms_reminders", "on"), ("time_zone", "Europe/Berlin"), ("locale", "de-DE")],
    )
    .await;
    assert_eq!(location(&res).as_deref(), Some("/p/acme/account/settings?saved=preferences"));
    let (_, _, tz, email_opt_out) = contact(&app).await;
    assert_eq!((tz.as_str(), email_opt_out), ("Europe/Berlin", 1), "unticked box = opted out");
    let res =
        post(&app, &client, "/p/acme/account/preferences", &[("time_zone", "Mars/Olympus"), ("locale", "en-US")]).await;
    assert_eq!(location(&res).as_deref(), Some("/p/acme/account/settings?error=time_zone"));
    let res = post(&app, &client, "/p/acme/account/preferences", &[("time_zone", "UTC"), ("locale", "tlh-KX")]).await;
    assert_eq!(location(&res).as_deref(), Some("/p/acme/account/settings?error=locale"));
    assert_eq!(contact(&app).await.2, "Europe/Berlin", "nothing changed");
    let html = page(client.get(app.url("/p/acme/account/settings")).send().await.unwrap()).await;
    assert!(html.contains("confirm it's you"), "contact change needs a step-up");
    // Dates now render in the new zone, amounts and dates in German style.
    let account = page(client.get(app.url("/p/acme/account")).send().await.unwrap()).await;
    assert!(account.contains("Europe/Berlin"));
    assert!(account.contains("200,50\u{a0}$"), "de-DE amounts");
    assert!(account.contains("5. März 2026") && account.contains("20. März 2026"), "de-DE dates");
}

async fn contact_change_needs_a_step_up_by_emailed_code(backend: Backend) {
    let Some((app, sink)) = app_and_sink(backend).await else { return };
    let s = app.seed_customer_with_invoices("acme", "A").await;
    app.seed_customer_with_invoices("acme", "B").await;
    let client = signed_in_by_link(&app, &s).await;
    let res = post(&app, &client, "/p/acme/account/contact", &[("email", "new@example.com"), ("phone", "")]).await;
    assert_eq!(location(&res).as_deref(), Some("/p/acme/account/verify"));
    assert_eq!(contact(&app).await.0, "a.customer@example.com", "unchanged without step-up");

    let res = post(&app, &client, "/p/acme/account/verify/send-code", &[]).await;
    assert_eq!(location(&res).as_deref(), Some("/p/acme/account/verify?sent=1"));
    let mail = nth_email(&sink, 1).await;
    assert!(mail.contains("To: a.customer@example.com"), "code goes to the address on file");
    let res = post(&app, &client, "/p/acme/account/verify/code", &[("code", "000000")]).await;
    if code_in(&mail) != "000000" {
        assert_eq!(location(&res).as_deref(), Some("/p/acme/account/verify?sent=1&error=wrong"));
    }
    let res = post(&app, &client, "/p/acme/account/verify/code", &[("code", &code_in(&mail))]).await;
    assert_eq!(location(&res).as_deref(), Some("/p/acme/account/settings?verified=1"));
    assert!(session_cookie(&res).is_some(), "session id cycled at step-up");

    for (email, phone, code) in [
        ("not-an-email", "", "email"),
        ("b.customer@example.com", "", "email_taken"),
        ("new@example.com", "12", "phone"),
    ] {
        let res = post(&app, &client, "/p/acme/account/contact", &[("email", email), ("phone", phone)]).await;
        assert_eq!(location(&res), Some(format!("/p/acme/account/settings?error={code}")), "{email} {phone}");
    }
    let res =
        post(&app, &client, "/p/acme/account/contact", &[("email", "new@example.com"), ("phone", "+1 555 010 9999")])
            .await;
    assert_eq!(location(&res).as_deref(), Some("/p/acme/account/settings?saved=contact"));
    let (email, phone, _, _) = contact(&app).await;
    assert_eq!((email.as_str(), phone.as_deref()), ("new@example.com", Some("+1 555 010 9999")));
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE action = 'customer.contact_changed'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(n, 1);

    // The step-up lasts 10 minutes.
    app.clock.set(app.clock.now().plus_millis(11 * 60 * 1000));
    let res = post(&app, &client, "/p/acme/account/contact", &[("email", "newer@example.com"), ("phone", "")]).await;
    assert_eq!(location(&res).as_deref(), Some("/p/acme/account/verify"));
}

async fn step_up_by_password(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let s = app.seed_customer_with_invoices("acme", "A").await;
    let hash = app::server::passwords::hash("violet tractor harbour".into()).await.unwrap();
    app::server::repo::customers::set_password_hash(
        app.db.pool(),
        &s.merchant.merchant_id(),
        &s.customer,
        &hash,
        app.clock.now(),
    )
    .await
    .unwrap();
    let client = signed_in_by_link(&app, &s).await;
    let res = post(&app, &client, "/p/acme/account/verify/password", &[("password", "wrong")]).await;
    assert_eq!(location(&res).as_deref(), Some("/p/acme/account/verify?error=password"));
    let res = post(&app, &client, "/p/acme/account/verify/password", &[("password", "violet tractor harbour")]).await;
    assert_eq!(location(&res).as_deref(), Some("/p/acme/account/settings?verified=1"));
    let res = post(
        &app,
        &client,
        "/p/acme/account/contact",
        &[("email", "a.customer@example.com"), ("phone", "(555) 010-2030")],
    )
    .await;
    assert_eq!(location(&res).as_deref(), Some("/p/acme/account/settings?saved=contact"));
    // Signed out: nothing can be changed.
    let res = post(&app, &browser(), "/p/acme/account/preferences", &[("time_zone", "UTC"), ("locale", "en-US")]).await;
    assert_eq!(location(&res).as_deref(), Some("/p/acme"));
}

async fn removing_a_card_needs_a_step_up_and_is_scoped(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let s = app.seed_customer_with_invoices("acme", "A").await;
    let other = app.seed_customer_with_invoices("acme", "B").await;
    let mid = s.merchant.merchant_id();
    let card = |r: &str, last4: &str| app::server::repo::payment_methods::NewPaymentMethod {
        gateway: "sandbox".into(),
        gateway_ref: r.into(),
        brand: "visa".into(),
        last4: last4.into(),
        exp_month: 1,
        exp_year: 2026,
        is_default: true,
    };
    let mine = app::server::repo::payment_methods::insert(
        app.db.pool(),
        &mid,
        &s.customer,
        &card("pm_a", "4242"),
        app.clock.now(),
    )
    .await
    .unwrap();
    let theirs = app::server::repo::payment_methods::insert(
        app.db.pool(),
        &mid,
        &other.customer,
        &card("pm_b", "1881"),
        app.clock.now(),
    )
    .await
    .unwrap();
    let hash = app::server::passwords::hash("violet tractor harbour".into()).await.unwrap();
    app::server::repo::customers::set_password_hash(app.db.pool(), &mid, &s.customer, &hash, app.clock.now())
        .await
        .unwrap();
    let client = signed_in_by_link(&app, &s).await;

    let html = page(client.get(app.url("/p/acme/account/settings")).send().await.unwrap()).await;
    assert!(
        html.contains("Visa ending 4242") && html.contains("Expired"),
        "listed, marked expired (Jan 2026 < Mar 2026)"
    );
    assert!(!html.contains("1881"), "only the customer's own cards");
    let remove = format!("/p/acme/account/cards/{mine}/remove");
    let res = post(&app, &client, &remove, &[]).await;
    assert_eq!(location(&res).as_deref(), Some("/p/acme/account/verify"), "step-up first");
    post(&app, &client, "/p/acme/account/verify/password", &[("password", "violet tractor harbour")]).await;
    let res = post(&app, &client, &format!("/p/acme/account/cards/{theirs}/remove"), &[]).await;
    assert_eq!(res.status(), 404, "another customer's card");
    let res = post(&app, &client, &remove, &[]).await;
    assert_eq!(location(&res).as_deref(), Some("/p/acme/account/settings?saved=card"));
    let statuses: Vec<(String, String)> = sqlx::query_as("SELECT last4, status FROM payment_methods ORDER BY last4")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    assert_eq!(
        statuses,
        vec![("1881".to_string(), "active".to_string()), ("4242".to_string(), "detached".to_string())]
    );
    let res = post(&app, &client, &remove, &[]).await;
    assert_eq!(res.status(), 404, "already removed");
}

per_backend!(
    removing_a_card_needs_a_step_up_and_is_scoped,
    preferences_need_no_step_up_and_are_validated,
    contact_change_needs_a_step_up_by_emailed_code,
    step_up_by_password
);
