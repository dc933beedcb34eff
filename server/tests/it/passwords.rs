//! Customer passwords on both backends: who may set one, the rules, argon2id
//! storage, session id cycling, and signing in with it.

use crate::common::flows::*;
use crate::common::*;

async fn post_password(
    app: &TestApp,
    client: &reqwest::Client,
    current: &str,
    new: &str,
    confirm: &str,
) -> Option<String> {
    let res = client
        .post(app.url("/p/acme/account/password"))
        .form(&[("current_password", current), ("new_password", new), ("confirm_password", confirm)])
        .send()
        .await
        .unwrap();
    location(&res)
}

async fn stored_hash(app: &TestApp) -> Option<String> {
    let (h,): (Option<String>,) =
        sqlx::query_as("SELECT password_hash FROM customers WHERE email = 'a.customer@example.com'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    h
}

async fn sign_in_with_password(app: &TestApp, client: &reqwest::Client, email: &str, password: &str) -> Option<String> {
    let res = client
        .post(app.url("/p/acme/sign-in/password"))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap();
    location(&res)
}

async fn an_access_link_alone_cannot_set_a_password(backend: Backend) {
    let Some((app, client)) = app_with_signed_in_customer(backend).await else { return };
    let html = page(client.get(app.url("/p/acme/account")).send().await.unwrap()).await;
    assert!(html.contains("sign in with an emailed code"), "explains the step-up");
    assert!(html.contains("No password set."), "the account page knows there is no password yet");
    let to = post_password(&app, &client, "", "violet tractor harbour", "violet tractor harbour").await;
    assert_eq!(to.as_deref(), Some("/p/acme/account?password_error=stepup#security"));
    assert_eq!(stored_hash(&app).await, None);
    // Not signed in at all: nothing happens either.
    let to = post_password(&app, &browser(), "", "violet tractor harbour", "violet tractor harbour").await;
    assert_eq!(to.as_deref(), Some("/p/acme"));
}

async fn set_after_email_code_then_sign_in_with_it(backend: Backend) {
    let Some((app, sink)) = app_and_sink(backend).await else { return };
    app.seed_customer_with_invoices("acme", "A").await;
    let client = browser();
    start_sign_in(&app, &client, "a.customer@example.com").await;
    let code = code_in(&nth_email(&sink, 1).await);
    let res = enter_code(&app, &client, &code).await;
    let before = session_cookie(&res).expect("session");

    for (new, confirm, code) in [
        ("short", "short", "short"),
        ("password123", "password123", "common"),
        ("a.customer", "a.customer", "personal"),
        ("violet tractor harbour", "violet tractor harbor", "mismatch"),
    ] {
        let to = post_password(&app, &client, "", new, confirm).await;
        assert_eq!(to, Some(format!("/p/acme/account?password_error={code}#security")), "{new}");
    }
    assert_eq!(stored_hash(&app).await, None, "nothing stored for rejected passwords");

    let res = client
        .post(app.url("/p/acme/account/password"))
        .form(&[("new_password", "violet tractor harbour"), ("confirm_password", "violet tractor harbour")])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&res).as_deref(), Some("/p/acme/account?password=saved#security"));
    let after = session_cookie(&res).expect("session id cycled");
    assert_ne!(before, after);
    let hash = stored_hash(&app).await.expect("stored");
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
    assert!(!hash.contains("violet"));
    let html = page(client.get(app.url("/p/acme/account?password=saved")).send().await.unwrap()).await;
    assert!(html.contains("Your password is saved."));
    assert!(html.contains("You can sign in with your email and password."), "the account page sees the password");
    assert!(!html.contains("No password set."));

    // Changing it needs the current one (a wrong one is refused even now).
    let to = post_password(&app, &client, "wrong one", "marble orchard lantern", "marble orchard lantern").await;
    assert_eq!(to.as_deref(), Some("/p/acme/account?password_error=current#security"));

    // Sign in with it from a fresh browser; wrong and unknown look the same.
    let fresh = browser();
    assert_eq!(
        sign_in_with_password(&app, &fresh, "A.Customer@example.com", "violet tractor harbour").await.as_deref(),
        Some("/p/acme/account")
    );
    assert_eq!(fresh.get(app.url("/p/acme/account")).send().await.unwrap().status(), 200);
    let wrong = sign_in_with_password(&app, &browser(), "a.customer@example.com", "violet tractor harbor").await;
    let unknown = sign_in_with_password(&app, &browser(), "nobody@example.com", "violet tractor harbour").await;
    assert_eq!(wrong.as_deref(), Some("/p/acme/sign-in?error=password"));
    assert_eq!(wrong, unknown);
}

async fn password_attempts_are_rate_limited(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    app.seed_customer_with_invoices("acme", "A").await;
    let client = browser();
    for _ in 0..5 {
        sign_in_with_password(&app, &client, "a.customer@example.com", "guess guess guess").await;
    }
    let res = client
        .post(app.url("/p/acme/sign-in/password"))
        .form(&[("email", "a.customer@example.com"), ("password", "guess guess guess")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
}

async fn forgotten_password_is_reset_by_emailed_code(backend: Backend) {
    let Some((app, sink)) = app_and_sink(backend).await else { return };
    let s = app.seed_customer_with_invoices("acme", "A").await;
    let old = app::server::passwords::hash("forgotten long phrase".into()).await.unwrap();
    app::server::repo::customers::set_password_hash(
        app.db.pool(),
        &s.merchant.merchant_id(),
        &s.customer,
        &old,
        app.clock_now(),
    )
    .await
    .unwrap();
    // Signed in by access link only: the current password is required.
    let (_, path) = app.link(&s.merchant, &s.customer).await;
    let linked = browser();
    sign_in_with_link(&app, &linked, &path).await;
    let to = post_password(&app, &linked, "", "marble orchard lantern", "marble orchard lantern").await;
    assert_eq!(to.as_deref(), Some("/p/acme/account?password_error=current#security"));
    // Signed in by emailed code: a new one can be set without the old.
    let client = browser();
    start_sign_in(&app, &client, "a.customer@example.com").await;
    let code = code_in(&nth_email(&sink, 1).await);
    enter_code(&app, &client, &code).await;
    let to = post_password(&app, &client, "", "marble orchard lantern", "marble orchard lantern").await;
    assert_eq!(to.as_deref(), Some("/p/acme/account?password=saved#security"));
    assert_eq!(
        sign_in_with_password(&app, &browser(), "a.customer@example.com", "marble orchard lantern").await.as_deref(),
        Some("/p/acme/account")
    );
    assert_eq!(
        sign_in_with_password(&app, &browser(), "a.customer@example.com", "forgotten long phrase").await.as_deref(),
        Some("/p/acme/sign-in?error=password")
    );
}

per_backend!(
    forgotten_password_is_reset_by_emailed_code,
    an_access_link_alone_cannot_set_a_password,
    set_after_email_code_then_sign_in_with_it,
    password_attempts_are_rate_limited
);
