//! Multi-step flows several test files share: an app wired to an SMTP sink,
//! starting an email sign-in, reading codes and links from the sink.

use super::smtp::SmtpSink;
use super::*;
use std::time::{Duration, Instant};

pub async fn app_and_sink(backend: Backend) -> Option<(TestApp, SmtpSink)> {
    let sink = SmtpSink::start()?;
    let url = sink.url();
    let app = spawn_app_with(backend, move |c| c.smtp_url = Some(url)).await?;
    Some((app, sink))
}

/// An app where acme's customer A has signed in through an access link,
/// and the browser that holds that session.
pub async fn app_with_signed_in_customer(backend: Backend) -> Option<(TestApp, reqwest::Client)> {
    let app = spawn_app(backend).await?;
    let s = app.seed_customer_with_invoices("acme", "A").await;
    let (_, path) = app.link(&s.merchant, &s.customer).await;
    let client = browser();
    sign_in_with_link(&app, &client, &path).await;
    Some((app, client))
}

/// Waits for the `n`th email at the sink and returns it with quoted-printable
/// soft line breaks undone.
pub async fn nth_email(sink: &SmtpSink, n: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let mut all = sink.messages();
        if all.len() >= n {
            return all.swap_remove(n - 1).replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
        }
        assert!(Instant::now() < deadline, "expected {n} emails, got {}", all.len());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn code_in(raw: &str) -> String {
    let subject = raw.lines().find(|l| l.starts_with("Subject: ")).expect("subject");
    subject.trim_start_matches("Subject: ").chars().take(6).collect()
}

pub fn sign_in_link_in(raw: &str, slug: &str) -> String {
    let marker = format!("/p/{slug}/s/");
    let at = raw.find(&marker).expect("sign-in link in the email");
    raw[at..at + marker.len() + 22].to_string()
}

pub async fn start_sign_in(app: &TestApp, client: &reqwest::Client, email: &str) -> reqwest::Response {
    client.post(app.url("/p/acme/sign-in")).form(&[("email", email)]).send().await.expect("POST sign-in")
}

pub async fn enter_code(app: &TestApp, client: &reqwest::Client, code: &str) -> reqwest::Response {
    client.post(app.url("/p/acme/sign-in/code")).form(&[("code", code)]).send().await.expect("POST code")
}
