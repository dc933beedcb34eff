//! Limits on the endpoints that take a secret, on both backends: links
//! with a token and code forms per IP, API keys per key and (for keys that
//! aren't valid) per IP; each refusal a 429 with Retry-After, lifted when
//! the window ends. Sign-in forms per address and per IP: `sign_in.rs`,
//! `passwords.rs`, `console.rs`.

use crate::common::staff::*;
use crate::common::*;
use app::server::repo::merchant_users::Role;

on_both_backends!(links_and_codes_are_limited_per_ip, api_keys_are_limited_per_key_and_bad_keys_per_ip);

/// Behind a reverse proxy (here: the test itself, on 127.0.0.1), each
/// client has its own limit, and a client can't pick its address by
/// sending the header itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_each_client_has_its_own_limit() {
    let Some(app) = spawn_app_with(Backend::Sqlite, |c| c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await
    else {
        return;
    };
    app.merchant("acme", "Acme").await;
    let client = browser();
    let guess = |xff: &'static str| {
        client.get(app.url("/p/acme/l/AAAAAAAAAAAAAAAAAAAAAA")).header("x-forwarded-for", xff).send()
    };
    for _ in 0..60 {
        assert_eq!(guess("203.0.113.7").await.unwrap().status(), 404);
    }
    assert_eq!(guess("203.0.113.7").await.unwrap().status(), 429);
    // What the client wrote left of the proxy's entry doesn't count.
    assert_eq!(guess("198.51.100.1, 203.0.113.7").await.unwrap().status(), 429);
    assert_eq!(guess("203.0.113.8").await.unwrap().status(), 404, "another client is not held back");
}

fn retry_after(res: &reqwest::Response) -> i64 {
    res.headers().get("retry-after").expect("Retry-After").to_str().unwrap().parse().unwrap()
}

async fn links_and_codes_are_limited_per_ip(app: TestApp) {
    let seeded = app.seed_customer_with_invoices("acme", "Alice").await;
    let (good, good_path) = app.link(&seeded.merchant, &seeded.customer).await;
    let guesser = browser();
    // 60 guesses in ten minutes: links that don't exist, and codes.
    for i in 0..60 {
        let res = if i % 4 == 3 {
            guesser.post(app.url("/p/acme/sign-in/code")).form(&[("code", "123456")]).send().await.unwrap()
        } else {
            guesser.get(app.url(&format!("/p/acme/l/AAAAAAAAAAAAAAAAAAAA{i:02}"))).send().await.unwrap()
        };
        assert_ne!(res.status(), 429, "guess {i} is within the limit");
    }
    let res = guesser.get(app.url("/p/acme/l/BBBBBBBBBBBBBBBBBBBBBB")).send().await.unwrap();
    assert_eq!(res.status(), 429);
    let wait = retry_after(&res);
    assert!((1..=600).contains(&wait), "Retry-After {wait}");
    assert!(page(res).await.contains("Too many attempts"));
    // The IP is paused, whatever it presents, and whichever door it tries.
    for path in [good_path.as_str(), "/p/acme/s/AAAAAAAAAAAAAAAAAAAAAA", "/m/acme/invite/AAAAAAAAAAAAAAAAAAAAAA"] {
        assert_eq!(guesser.get(app.url(&path)).send().await.unwrap().status(), 429, "{path}");
    }
    let res = guesser.post(app.url("/_srv/link_status")).form(&[("slug", "acme"), ("token", good.expose())]).send();
    assert_eq!(res.await.unwrap().status(), 429, "the server function that reads links too");
    // Without a trusted proxy configured, X-Forwarded-For changes nothing.
    let res = guesser.get(app.url(&good_path)).header("x-forwarded-for", "203.0.113.9").send().await.unwrap();
    assert_eq!(res.status(), 429, "a forged X-Forwarded-For doesn't escape the limit");
    // Other pages are not limited.
    assert_eq!(guesser.get(app.url("/p/acme/sign-in")).send().await.unwrap().status(), 200);

    // When the window ends, the real link works again.
    app.clock.advance(std::time::Duration::from_secs(wait as u64));
    let res = guesser.post(app.url(&good_path)).send().await.unwrap();
    assert_eq!(res.status(), 303, "signed in after the pause");
}

async fn call(app: &TestApp, key: &str) -> reqwest::Response {
    reqwest::Client::new().get(app.url("/api/v1/customers?limit=1")).bearer_auth(key).send().await.unwrap()
}

async fn api_keys_are_limited_per_key_and_bad_keys_per_ip(app: TestApp) {
    app.merchant("acme", "Acme").await;
    let owner = signed_in_member(&app, "acme", "owner@acme.example", Role::Owner).await;
    let key = make_api_key(&app, &owner, "acme").await;

    // 600 requests a minute per key, then 429 until the minute ends.
    for i in 0..600 {
        let res = call(&app, &key).await;
        assert_eq!(res.status(), 200, "request {i}");
    }
    let res = call(&app, &key).await;
    assert_eq!(res.status(), 429);
    let wait = retry_after(&res);
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    // Another merchant's key is not held back by this one.
    app.merchant("globex", "Globex").await;
    let other_owner = signed_in_member(&app, "globex", "owner@globex.example", Role::Owner).await;
    let other = make_api_key(&app, &other_owner, "globex").await;
    assert_eq!(call(&app, &other).await.status(), 200);
    app.clock.advance(std::time::Duration::from_secs(wait as u64));
    assert_eq!(call(&app, &key).await.status(), 200, "a new minute");

    // Guessing keys: 20 wrong ones per IP, then even a right one waits.
    for i in 0..20 {
        let res = call(&app, &format!("sk_settle_{i:0>22}")).await;
        assert_eq!(res.status(), 401, "guess {i}");
    }
    let res = call(&app, "sk_settle_AAAAAAAAAAAAAAAAAAAAAA").await;
    assert_eq!(res.status(), 429);
    assert_eq!(call(&app, &key).await.status(), 429, "the IP is paused");
    let wait = retry_after(&call(&app, &key).await);
    assert!((1..=900).contains(&wait), "Retry-After {wait}");
    app.clock.advance(std::time::Duration::from_secs(wait as u64));
    assert_eq!(call(&app, &key).await.status(), 200, "the pause is over");
    // Forgetting the header altogether is a mistake, not a guess: 401.
    let res = reqwest::Client::new().get(app.url("/api/v1/customers")).send().await.unwrap();
    assert_eq!(res.status(), 401);
}
