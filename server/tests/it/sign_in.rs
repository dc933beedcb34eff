//! Signing in without an access link, on both backends, with the emails
//! read from a real SMTP server (aiosmtpd).

use crate::common::flows::*;
use crate::common::*;
use app::server::Clock;
use std::time::Duration;

async fn code_sign_in_with_the_code_from_the_email(backend: Backend) {
    let Some((app, sink)) = app_and_sink(backend).await else { return };
    let s = app.seed_customer_with_invoices("acme", "A").await;
    let client = browser();
    let res = start_sign_in(&app, &client, "A.CUSTOMER@example.com").await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res).as_deref(), Some("/p/acme/sign-in/code"));
    let page_html = page(client.get(app.url("/p/acme/sign-in/code")).send().await.unwrap()).await;
    assert!(page_html.contains("we've sent it a code"), "{page_html}");

    let raw = nth_email(&sink, 1).await;
    assert!(raw.contains("To: a.customer@example.com"), "sent to the address on file");
    let code = code_in(&raw);
    assert!(code.chars().all(|c| c.is_ascii_digit()) && code.len() == 6, "{code}");

    let res = enter_code(&app, &client, &format!("{} {}", &code[..3], &code[3..])).await;
    assert_eq!(location(&res).as_deref(), Some("/p/acme/account"));
    let account = page(client.get(app.url("/p/acme/account")).send().await.unwrap()).await;
    assert!(account.contains(&s.invoice_numbers[0]));
    // A code works once.
    let other = browser();
    start_sign_in(&app, &other, "a.customer@example.com").await;
    let res = enter_code(&app, &other, &code).await;
    assert_ne!(location(&res).as_deref(), Some("/p/acme/account"), "an old code does not open a new challenge");
}

async fn link_sign_in_from_the_email_works_once(backend: Backend) {
    let Some((app, sink)) = app_and_sink(backend).await else { return };
    app.seed_customer_with_invoices("acme", "A").await;
    start_sign_in(&app, &browser(), "a.customer@example.com").await;
    let link = sign_in_link_in(&nth_email(&sink, 1).await, "acme");

    let res = fetch(app.url(&link)).await;
    assert_eq!(res.status(), 200, "GET only shows a button");
    assert!(page(res).await.contains("Sign in to your account"));
    let client = browser();
    let res = client.post(app.url(&link)).send().await.unwrap();
    assert_eq!(location(&res).as_deref(), Some("/p/acme/account"));
    assert_eq!(client.get(app.url("/p/acme/account")).send().await.unwrap().status(), 200);

    let again = browser();
    let res = again.post(app.url(&link)).send().await.unwrap();
    assert_eq!(location(&res).as_deref(), Some(link.as_str()), "used links do not sign in");
    assert_eq!(fetch(app.url(&link)).await.status(), 410);
}

async fn unknown_email_gets_the_same_response_and_no_email(backend: Backend) {
    let Some((app, sink)) = app_and_sink(backend).await else { return };
    app.seed_customer_with_invoices("acme", "A").await;
    let known = browser();
    let unknown = browser();
    let a = start_sign_in(&app, &known, "a.customer@example.com").await;
    let b = start_sign_in(&app, &unknown, "nobody@example.com").await;
    assert_eq!((a.status(), location(&a)), (b.status(), location(&b)));
    let page_a = page(known.get(app.url("/p/acme/sign-in/code")).send().await.unwrap()).await;
    let page_b = page(unknown.get(app.url("/p/acme/sign-in/code")).send().await.unwrap()).await;
    let main = |html: &str| html[html.find("<main").unwrap()..html.find("</main>").unwrap()].to_string();
    assert_eq!(main(&page_a).replace("a.customer@example.com", "X"), main(&page_b).replace("nobody@example.com", "X"));
    let res = enter_code(&app, &unknown, "123456").await;
    assert_eq!(location(&res).as_deref(), Some("/p/acme/sign-in/code?error=wrong&left=4"), "looks like a wrong code");
    nth_email(&sink, 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.messages().len(), 1, "only the known address got an email");
}

async fn too_many_requests_get_429_per_email_and_per_ip(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    app.seed_customer_with_invoices("acme", "A").await;
    let client = browser();
    for i in 0..5 {
        let res = start_sign_in(&app, &client, "a.customer@example.com").await;
        assert_eq!(res.status(), 303, "request {i} allowed");
    }
    let res = start_sign_in(&app, &client, "A.Customer@example.com").await;
    assert_eq!(res.status(), 429);
    let retry: i64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    assert!(page(res).await.contains("Too many attempts"));
    // Other addresses from the same IP go on until the per-IP limit.
    let mut statuses = vec![];
    for i in 0..16 {
        statuses.push(start_sign_in(&app, &client, &format!("someone{i}@example.com")).await.status().as_u16());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 303).count(), 14, "{statuses:?}");
    assert_eq!(statuses.last(), Some(&429));
    // A new window opens later.
    app.clock.advance_days(1);
    assert_eq!(start_sign_in(&app, &client, "a.customer@example.com").await.status(), 303);
}

async fn codes_expire_after_ten_minutes_and_lock_after_five_tries(backend: Backend) {
    let Some((app, sink)) = app_and_sink(backend).await else { return };
    app.seed_customer_with_invoices("acme", "A").await;
    let client = browser();
    start_sign_in(&app, &client, "a.customer@example.com").await;
    let code = code_in(&nth_email(&sink, 1).await);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for left in [4, 3, 2, 1] {
        let res = enter_code(&app, &client, wrong).await;
        assert_eq!(location(&res), Some(format!("/p/acme/sign-in/code?error=wrong&left={left}")));
    }
    let res = enter_code(&app, &client, wrong).await;
    assert_eq!(location(&res).as_deref(), Some("/p/acme/sign-in/code?error=locked"));
    let res = enter_code(&app, &client, &code).await;
    assert_eq!(location(&res).as_deref(), Some("/p/acme/sign-in/code?error=locked"), "the right code no longer works");

    let fresh = browser();
    start_sign_in(&app, &fresh, "a.customer@example.com").await;
    let code = code_in(&nth_email(&sink, 2).await);
    app.clock.set(app.clock.now().plus_millis(10 * 60 * 1000 + 1));
    let res = enter_code(&app, &fresh, &code).await;
    assert_eq!(location(&res).as_deref(), Some("/p/acme/sign-in/code?error=expired"));
    let html = page(fresh.get(app.url("/p/acme/sign-in/code?error=expired")).send().await.unwrap()).await;
    assert!(html.contains("That code has expired"));
}

async fn expired_access_link_can_email_a_new_one(backend: Backend) {
    let Some((app, sink)) = app_and_sink(backend).await else { return };
    let s = app.seed_customer_with_invoices("acme", "A").await;
    let (_, path) = app.link(&s.merchant, &s.customer).await;
    app.clock.advance_days(15);
    let html = page(fetch(app.url(&path)).await).await;
    assert!(html.contains("Email me a new link"));
    let res = browser().post(app.url(&format!("{path}/renew"))).send().await.unwrap();
    assert_eq!(location(&res), Some(format!("{path}?renewed=1")));
    let html = page(fetch(app.url(&format!("{path}?renewed=1"))).await).await;
    assert!(html.contains("sent a new link to the email address on file"));

    let raw = nth_email(&sink, 1).await;
    let at = raw.find("/p/acme/l/").expect("new link in the email");
    let new_path = &raw[at..at + "/p/acme/l/".len() + 22];
    assert_ne!(new_path, path);
    let client = browser();
    let res = client.post(app.url(new_path)).send().await.unwrap();
    assert_eq!(location(&res).as_deref(), Some("/p/acme/account"), "the new link works");
    // Renewing a link that is still valid, or unknown, sends nothing.
    let (_, valid) = app.link(&s.merchant, &s.customer).await;
    browser().post(app.url(&format!("{valid}/renew"))).send().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sink.messages().len(), 1);
}

per_backend!(
    code_sign_in_with_the_code_from_the_email,
    link_sign_in_from_the_email_works_once,
    unknown_email_gets_the_same_response_and_no_email,
    too_many_requests_get_429_per_email_and_per_ip,
    codes_expire_after_ten_minutes_and_lock_after_five_tries,
    expired_access_link_can_email_a_new_one
);
