//! Stripe in tests: the project's localstripe harness
//! (end2end/stripe/localstripe_harness.py), one per test binary, started on
//! a free 127.0.0.1 port and ended with the binary. Without Python's
//! localstripe the Stripe tests are skipped loudly, except under CI.

use super::smtp::free_port;
use super::*;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const SECRET_KEY: &str = "sk_test_settle_localstripe";
pub const PUBLISHABLE_KEY: &str = "pk_test_settle_localstripe";

/// The harness's base URL, starting it on first use.
pub fn localstripe() -> Option<&'static str> {
    static BASE: OnceLock<Option<String>> = OnceLock::new();
    BASE.get_or_init(|| {
        let python = std::env::var("TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let has_it = Command::new(&python)
            .args(["-c", "import localstripe"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !has_it {
            if std::env::var("CI").is_ok() {
                panic!("localstripe is not installed: run scripts/setup.sh --test-tools");
            }
            eprintln!("SKIPPED: localstripe not available (scripts/setup.sh --test-tools installs it)");
            return None;
        }
        let port = free_port();
        let harness = concat!(env!("CARGO_MANIFEST_DIR"), "/../end2end/stripe/localstripe_harness.py");
        Command::new(&python)
            .args([harness, "--port", &port.to_string(), "--parent-pid", &std::process::id().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start localstripe");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "localstripe did not start on port {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(format!("http://127.0.0.1:{port}"))
    })
    .as_deref()
}

/// An API client for the harness, as Stripe's own SDKs would call it.
pub fn api() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap()
}

pub async fn stripe_post(path: &str, form: &[(&str, String)]) -> serde_json::Value {
    let base = localstripe().expect("localstripe");
    let res = api().post(format!("{base}{path}")).bearer_auth(SECRET_KEY).form(form).send().await.unwrap();
    res.json().await.unwrap()
}

pub async fn stripe_get(path: &str) -> serde_json::Value {
    let base = localstripe().expect("localstripe");
    api().get(format!("{base}{path}")).bearer_auth(SECRET_KEY).send().await.unwrap().json().await.unwrap()
}

/// A test app whose merchant `shop` takes payments through localstripe,
/// with its webhook endpoint registered there. Its clock is the real time
/// (webhook signatures carry real timestamps).
pub async fn spawn_stripe_app(backend: Backend) -> Option<(TestApp, String)> {
    let base = localstripe()?;
    let app = spawn_app_with(backend, |c| {
        c.stripe = Some(settle::config::StripeConfig {
            secret_key: SECRET_KEY.into(),
            publishable_key: PUBLISHABLE_KEY.into(),
            api_base: url::Url::parse(base).unwrap(),
        });
        c.stripe_js_url = url::Url::parse(&format!("{base}/js.stripe.com/v3/")).unwrap();
    })
    .await?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    app.clock.set(UtcMillis(now));
    app.merchant("shop", "SHOP Ltd").await;
    let secret = format!("whsec_{}", app::server::ids::new_id_body());
    sqlx::query("UPDATE merchants SET gateway = 'stripe', webhook_secret = $1 WHERE slug = 'shop'")
        .bind(&secret)
        .execute(app.db.pool())
        .await
        .unwrap();
    let name = app::server::ids::new_id_body();
    let url = app.url("/webhooks/stripe/shop");
    let res = api()
        .post(format!("{base}/_config/webhooks/{name}"))
        .bearer_auth(SECRET_KEY)
        .form(&[("url", url.as_str()), ("secret", secret.as_str())])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "register the webhook at localstripe");
    Some((app, secret))
}

/// Adds a card the way Stripe.js does: our page starts a SetupIntent, the
/// browser confirms it at Stripe with the card, our server is told the
/// setup id. Returns our redirect's location.
pub async fn add_stripe_card(app: &TestApp, client: &reqwest::Client, number: &str) -> reqwest::Response {
    let res = client.get(app.url("/p/shop/account/cards/new?return_to=/p/shop/pay")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let html = page(res).await;
    let setup_ref = super::paying::input_value(&html, "setup_ref").expect("a SetupIntent on the page");
    let at = html.find("data-client-secret=\"").expect("client secret for Stripe.js") + 20;
    let client_secret: String = html[at..].chars().take_while(|c| *c != '"').collect();
    let confirmed = stripe_post(
        &format!("/v1/setup_intents/{setup_ref}/confirm"),
        &[
            ("client_secret", client_secret.clone()),
            ("payment_method_data[type]", "card".into()),
            ("payment_method_data[card][number]", number.into()),
            ("payment_method_data[card][exp_month]", "12".into()),
            ("payment_method_data[card][exp_year]", "2031".into()),
            ("payment_method_data[card][cvc]", "123".into()),
        ],
    )
    .await;
    let confirmed_status = confirmed["status"].clone();
    if confirmed_status == "requires_action" {
        // The bank's check during setup; Stripe.js completes it in the browser.
        stripe_post(&format!("/v1/setup_intents/{setup_ref}/confirm"), &[("client_secret", client_secret)]).await;
    }
    let res = client
        .post(app.url("/p/shop/account/cards/complete"))
        .form(&[("setup_ref", setup_ref.as_str()), ("return_to", "/p/shop/pay")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "card setup completes with a redirect (confirm said {confirmed_status})");
    res
}

/// Waits (up to 20 s) for `query` to return `want`.
pub async fn eventually(app: &TestApp, query: &str, bind: &str, want: i64) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (n,): (i64,) = sqlx::query_as(query).bind(bind).fetch_one(app.db.pool()).await.unwrap();
        if n == want || Instant::now() > deadline {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
