//! No secret reaches the logs or an error response: a real `settle serve`
//! process at its most talkative log level, configured with SMTP, Stripe
//! and Twilio credentials, is driven through every flow that handles a
//! secret (access and sign-in links, codes, passwords, staff invitations,
//! API keys, webhook signing secrets), right and wrong. Then its whole
//! output, and every response it gave, is searched for each secret.

use crate::common::smtp::{free_port, SmtpSink};
use crate::common::staff::STAFF_PASSWORD;
use crate::common::*;
use app::server::repo::merchant_users::{self, Role};
use app::server::{portal, Clock, Db};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SMTP_PASSWORD: &str = "smtp-pw-Quartz-Lantern-41";
const STRIPE_SECRET: &str = "sk_test_51SecretStripeKeyNeverLogged";
const TWILIO_TOKEN: &str = "twilio-token-Velvet-Harbor-77";
const CUSTOMER_PASSWORD: &str = "maple orchard silver tide";

struct Driver {
    base: String,
    client: reqwest::Client,
    /// Every response body with its URL, but those made to show a secret once.
    bodies: Vec<(String, String)>,
}

impl Driver {
    async fn send(&mut self, req: reqwest::RequestBuilder) -> (u16, String) {
        let res = req.send().await.unwrap();
        let url = res.url().to_string();
        let status = res.status().as_u16();
        let body = res.text().await.unwrap();
        self.bodies.push((url, body.clone()));
        (status, body)
    }
    async fn get(&mut self, path: &str) -> (u16, String) {
        let req = self.client.get(format!("{}{path}", self.base));
        self.send(req).await
    }
    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        let req = self.client.post(format!("{}{path}", self.base)).form(form);
        self.send(req).await
    }
}

/// The text, then the subject, of the latest message made from `template`.
async fn latest(db: &Db, template: &str) -> (String, String) {
    let body: (String, String) = sqlx::query_as(
        "SELECT body_text, subject FROM messages WHERE template_key = $1 ORDER BY created_at DESC LIMIT 1",
    )
    .bind(template)
    .fetch_one(db.pool())
    .await
    .unwrap_or_else(|e| panic!("no {template} message: {e}"));
    body
}

fn after(text: &str, marker: &str, len: usize) -> String {
    let at = text.find(marker).unwrap_or_else(|| panic!("{marker} in {text}")) + marker.len();
    text[at..].chars().take(len).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_logs_or_an_error_response() {
    let Some(sink) = SmtpSink::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}?mode=rwc", dir.path().join("settle.db").display());
    let db = Db::connect(&database_url, 2).await.unwrap();
    db.migrate().await.unwrap();
    // The demo data: a merchant, its owner, customers with invoices.
    let now = app::server::SystemClock.now();
    settle::demo::seed(&db, &app::server::SystemClock).await.expect("demo data");
    let acme = app::server::repo::merchants::find_by_slug(db.pool(), "acme").await.unwrap().unwrap();
    let hash = app::server::passwords::hash(STAFF_PASSWORD.into()).await.unwrap();
    merchant_users::insert(db.pool(), &acme.merchant_id(), "pat@acme.example", "Pat", Some(&hash), Role::Owner, now)
        .await
        .unwrap();
    let (customer,): (String,) =
        sqlx::query_as("SELECT id FROM customers WHERE merchant_id = $1 ORDER BY name LIMIT 1")
            .bind(acme.id.as_str())
            .fetch_one(db.pool())
            .await
            .unwrap();
    let customer = app::server::ids::CustomerId::parse(&customer).unwrap();

    let port = free_port();
    let smtp_port = sink.url().rsplit(':').next().unwrap().to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_settle"))
        .arg("serve")
        .env("SETTLE_DATABASE_URL", &database_url)
        .env("SETTLE_SMTP_URL", format!("smtp://mailer:{SMTP_PASSWORD}@127.0.0.1:{smtp_port}"))
        .env("SETTLE_MAIL_FROM", "billing@settle.test")
        .env("SETTLE_LISTEN", format!("127.0.0.1:{port}"))
        .env("SETTLE_BASE_URL", format!("http://127.0.0.1:{port}"))
        .env("SETTLE_DATA_DIR", dir.path())
        .env("SETTLE_SITE_ROOT", dir.path())
        .env("SETTLE_STRIPE_SECRET_KEY", STRIPE_SECRET)
        .env("SETTLE_STRIPE_PUBLISHABLE_KEY", "pk_test_public")
        .env("SETTLE_STRIPE_API_BASE", "http://127.0.0.1:9")
        .env("SETTLE_TWILIO_ACCOUNT_SID", "AC00000000000000000000000000000000")
        .env("SETTLE_TWILIO_AUTH_TOKEN", TWILIO_TOKEN)
        .env("SETTLE_TWILIO_FROM", "+15005550006")
        .env("SETTLE_TWILIO_API_BASE", "http://127.0.0.1:9")
        .env("SETTLE_LOG", "trace")
        .env("SETTLE_DUNNING", "on")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read the output as it comes: a full pipe would stall the server.
    let drain = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut out = Vec::new();
            let _ = r.read_to_end(&mut out);
            String::from_utf8_lossy(&out).into_owned()
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(format!("{base}/readyz")).await.map(|r| r.status() != 200).unwrap_or(true) {
        assert!(Instant::now() < deadline, "settle serve did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut secrets: Vec<(&str, String)> = vec![
        ("SMTP password", SMTP_PASSWORD.into()),
        ("Stripe secret key", STRIPE_SECRET.into()),
        ("Twilio auth token", TWILIO_TOKEN.into()),
        ("staff password", STAFF_PASSWORD.into()),
        ("customer password", CUSTOMER_PASSWORD.into()),
    ];
    let mut d = Driver { base: base.clone(), client: browser(), bodies: Vec::new() };

    // Access link: a wrong one, then the right one.
    let token = portal::issue_access_link(db.pool(), now, &acme, &customer).await.unwrap();
    secrets.push(("access token", token.expose().to_string()));
    d.get("/p/acme/l/WrongWrongWrongWrong00").await;
    assert_eq!(d.get(&format!("/p/acme/l/{}", token.expose())).await.0, 200);
    assert_eq!(d.post(&format!("/p/acme/l/{}", token.expose()), &[]).await.0, 303);
    // An emailed code and link: a wrong code, then the right one; the link once more after use.
    let email: (String,) = sqlx::query_as("SELECT email FROM customers WHERE id = $1")
        .bind(customer.as_str())
        .fetch_one(db.pool())
        .await
        .unwrap();
    let email = email.0;
    d.client = browser();
    d.post("/p/acme/sign-in", &[("email", &email)]).await;
    let (mail, subject) = latest(&db, "sign_in_code").await;
    let link = after(&mail, "/p/acme/s/", 22);
    let code: String = subject.chars().take(6).collect();
    secrets.push(("sign-in link token", link.clone()));
    // Six digits alone would match timestamps in the logs; the subject carries the code.
    secrets.push(("sign-in email subject", subject.clone()));
    let wrong = if code == "000000" { "111111" } else { "000000" };
    d.post("/p/acme/sign-in/code", &[("code", wrong)]).await;
    assert_eq!(d.post("/p/acme/sign-in/code", &[("code", &code)]).await.0, 303);
    d.get(&format!("/p/acme/s/{link}")).await;
    d.post(&format!("/p/acme/s/{link}"), &[]).await;

    // Signed in by email, a password: too weak, then a good one; sign out; wrong, then right.
    d.post("/p/acme/account/password", &[("new_password", "short"), ("confirm_password", "short")]).await;
    d.post("/p/acme/account/password", &[("new_password", CUSTOMER_PASSWORD), ("confirm_password", CUSTOMER_PASSWORD)])
        .await;
    d.post("/p/acme/sign-out", &[]).await;
    d.post("/p/acme/sign-in/password", &[("email", &email), ("password", "maple orchard silver TIDE")]).await;
    d.post("/p/acme/sign-in/password", &[("email", &email), ("password", CUSTOMER_PASSWORD)]).await;
    // Staff: a wrong password, the right one, an invitation, a key, a webhook.
    let staff = browser();
    d.client = staff.clone();
    d.post("/m/acme/sign-in", &[("email", "pat@acme.example"), ("password", "copper kettle morning DRIVE")]).await;
    assert_eq!(d.post("/m/acme/sign-in", &[("email", "pat@acme.example"), ("password", STAFF_PASSWORD)]).await.0, 303);
    d.post("/m/acme/staff/invite", &[("email", "new@acme.example"), ("role", "viewer")]).await;
    let invite = after(&latest(&db, "staff_invitation").await.0, "/m/acme/invite/", 22);
    secrets.push(("invitation token", invite.clone()));
    d.client = browser();
    d.get(&format!("/m/acme/invite/{invite}")).await;
    d.post(&format!("/m/acme/invite/{invite}"), &[("name", "New"), ("password", "short")]).await;
    d.client = staff.clone();
    let shown = staff.post(format!("{base}/m/acme/api-keys")).form(&[("name", "Books")]).send().await.unwrap();
    let key = after(&shown.text().await.unwrap(), "value=\"", 32);
    assert!(key.starts_with("sk_settle_"), "{key}");
    secrets.push(("API key", key.clone()));
    let shown =
        staff.post(format!("{base}/m/acme/webhooks")).form(&[("url", "http://127.0.0.1:9/hook")]).send().await.unwrap();
    let webhook_secret = after(&shown.text().await.unwrap(), "value=\"", 200);
    let webhook_secret: String = webhook_secret.chars().take_while(|c| *c != '"').collect();
    assert!(webhook_secret.len() >= 24, "{webhook_secret}");
    secrets.push(("webhook signing secret", webhook_secret));
    // The API: right key, wrong key, a key in the wrong place, bad JSON.
    for k in [key.as_str(), "sk_settle_WrongWrongWrongWrong00"] {
        let req = reqwest::Client::new().get(format!("{base}/api/v1/customers")).bearer_auth(k);
        d.send(req).await;
    }
    let req = reqwest::Client::new().get(format!("{base}/api/v1/customers?key={key}"));
    d.send(req).await;
    let req = reqwest::Client::new()
        .post(format!("{base}/api/v1/customers"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(format!("{{\"name\": \"{key}\", \"email\": 12"));
    d.send(req).await;
    // An event the webhook worker will try to deliver (to a closed port).
    let req = reqwest::Client::new()
        .post(format!("{base}/api/v1/customers"))
        .bearer_auth(&key)
        .json(&serde_json::json!({"name": "Hook Trigger", "email": "hook@example.com"}));
    d.send(req).await;
    // Let the workers try delivery with the SMTP credentials and the webhook.
    tokio::time::sleep(Duration::from_secs(6)).await;

    let hashes: Vec<(Option<String>,)> =
        sqlx::query_as("SELECT password_hash FROM customers UNION ALL SELECT password_hash FROM merchant_users")
            .fetch_all(db.pool())
            .await
            .unwrap();
    for (h,) in hashes.into_iter().filter_map(|(h,)| h.map(|h| (h,))) {
        // The salt and the hash part each, since a log could cut the string.
        for (i, part) in h.split('$').filter(|p| p.len() >= 16).enumerate() {
            secrets.push((if i == 0 { "password hash salt" } else { "password hash" }, part.to_string()));
        }
    }

    // SIGTERM: a graceful stop, so the process flushes its logs.
    Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
    child.wait().unwrap();
    let logs = format!("{}{}", stdout.join().unwrap(), stderr.join().unwrap());
    // Kept for reading when an assertion below fails.
    let _ = std::fs::write(std::env::temp_dir().join("settle-secrets-test.log"), &logs);
    // The logs did record these flows (so silence can't pass the test).
    for expected in
        ["password set", "signed in with password", "signed in with emailed code", "api key created", "/p/acme/l/…"]
    {
        assert!(logs.contains(expected), "the logs mention {expected:?}");
    }
    assert!(logs.lines().count() > 200, "trace-level logs: {} lines", logs.lines().count());
    for (what, secret) in &secrets {
        assert!(secret.len() >= 6, "{what}: {secret}");
        assert!(!logs.contains(secret.as_str()), "the {what} is in the logs");
        // A link's own page names its token (its form posts back to it).
        for (url, body) in d.bodies.iter().filter(|(url, _)| !url.contains(secret.as_str())) {
            assert!(!body.contains(secret.as_str()), "the {what} is in the response to {url}");
        }
    }
}
