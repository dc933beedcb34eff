//! Text messages, on both backends: a policy step on the SMS channel goes
//! out through the Twilio adapter (the local double checks each request's
//! shape), a STOP reply with a valid signature opts the number out (a forged
//! one changes nothing) and the next step falls back to email, START opts
//! back in, and a carrier's "unsubscribed" answer is recorded as an opt-out.

use crate::common::twilio::{TwilioDouble, AUTH_TOKEN, FROM};
use crate::common::*;
use app::server::dunning::policy::{Channel, Policy, Step, StepKind, Tone};
use app::server::dunning::{store, sweep::sweep};
use app::server::ids::{CustomerId, MerchantId};
use app::server::repo::invoices::InvoiceStatus;
use app::server::Clock;
use std::time::Duration;

macro_rules! on_both_backends_with_twilio {
    ($($name:ident),* $(,)?) => {
        mod sqlite_sms { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let twilio = $crate::common::twilio::TwilioDouble::start().await;
                let settings = twilio.settings();
                if let Some(app) = $crate::common::spawn_app_with($crate::common::Backend::Sqlite, |c| c.twilio = Some(settings)).await {
                    super::$name(app, twilio).await;
                }
            }
        )* }
        mod postgres_sms { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let twilio = $crate::common::twilio::TwilioDouble::start().await;
                let settings = twilio.settings();
                if let Some(app) = $crate::common::spawn_app_with($crate::common::Backend::Postgres, |c| c.twilio = Some(settings)).await {
                    super::$name(app, twilio).await;
                }
            }
        )* }
    };
}

on_both_backends_with_twilio!(
    sms_steps_are_texted_and_stop_opts_the_number_out,
    a_carrier_unsubscribed_answer_opts_out_and_is_not_retried,
);

/// Overdue +1 by text, +3 by email, +7 by text.
fn texting_policy() -> Policy {
    let step = |offset_days, channel, template: &str, tone| Step {
        kind: StepKind::Overdue,
        offset_days,
        channel,
        template_key: template.into(),
        tone,
    };
    Policy {
        steps: vec![
            step(1, Channel::Sms, "overdue_friendly", Tone::Friendly),
            step(3, Channel::Email, "overdue_reminder", Tone::Friendly),
            step(7, Channel::Sms, "overdue_firm", Tone::Firm),
        ],
        ..Policy::default()
    }
}

async fn texting_customer(app: &TestApp, phone: &str) -> (MerchantId, CustomerId) {
    let m = app.merchant("txt", "Text Co").await;
    let mid = m.merchant_id();
    store::save(app.db.pool(), &mid, "texting", &texting_policy(), app.clock.now()).await.unwrap().unwrap();
    let c = app.customer(&mid, "Pat Phone", "UTC").await;
    sqlx::query("UPDATE customers SET phone = $1, sms_number = $2 WHERE id = $3")
        .bind(phone)
        .bind(app::server::settings::sms_number(phone))
        .bind(c.as_str())
        .execute(app.db.pool())
        .await
        .unwrap();
    (mid, c)
}

/// Sweeps hourly for `days` of virtual time, letting the running delivery
/// worker catch up after each sweep that queued something.
async fn run_days(app: &TestApp, days: i64) {
    for _ in 0..(days * 24) {
        let r = sweep(&app.state, 500).await.unwrap();
        if r.messages > 0 {
            settle_outbox(app).await;
        }
        app.clock.advance(Duration::from_secs(3600));
    }
}

/// Waits until no message is queued or being sent.
async fn settle_outbox(app: &TestApp) {
    for _ in 0..100 {
        let (pending,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM messages WHERE status IN ('queued', 'sending')")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
        if pending == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the delivery worker did not send the queued messages");
}

/// (channel, template, status, transport) of each reminder, oldest first.
async fn reminders(app: &TestApp, c: &CustomerId) -> Vec<(String, String, String, Option<String>)> {
    sqlx::query_as(
        "SELECT channel, template_key, status, transport FROM messages WHERE customer_id = $1 \
         AND template_key LIKE 'dunning:%' ORDER BY created_at",
    )
    .bind(c.as_str())
    .fetch_all(app.db.pool())
    .await
    .unwrap()
}

async fn reply(app: &TestApp, from: &str, body: &str, signed_with: &str) -> reqwest::Response {
    let fields: Vec<(String, String)> = [
        ("AccountSid", crate::common::twilio::ACCOUNT_SID),
        ("Body", body),
        ("From", from),
        ("MessageSid", "SM00000000000000000000000000000001"),
        ("To", FROM),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    // The URL Twilio posts to: the configured public base URL plus the path.
    let signature = settle::sms::inbound::signature(signed_with, "http://127.0.0.1/webhooks/sms/inbound", &fields);
    reqwest::Client::new()
        .post(app.url("/webhooks/sms/inbound"))
        .header("x-twilio-signature", signature)
        .form(&fields)
        .send()
        .await
        .unwrap()
}

async fn sms_opt_out(app: &TestApp, c: &CustomerId) -> i64 {
    let (v,): (i64,) = sqlx::query_as("SELECT sms_opt_out FROM customers WHERE id = $1")
        .bind(c.as_str())
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    v
}

async fn sms_steps_are_texted_and_stop_opts_the_number_out(app: TestApp, twilio: TwilioDouble) {
    let (mid, c) = texting_customer(&app, "+1 (555) 010-2030").await;
    app.invoice(&mid, &c, "TX-1", 12_500, 0, InvoiceStatus::Open, 0).await;
    run_days(&app, 2).await;
    let texts = twilio.received();
    assert_eq!(texts.len(), 1, "the +1 step is a text");
    assert_eq!(texts[0].to, "+15550102030", "sent to the number in E.164 form");
    assert_eq!(texts[0].from, FROM);
    assert!(texts[0].body.starts_with("Text Co: "), "{}", texts[0].body);
    assert!(texts[0].body.contains("$125.00") && texts[0].body.contains("/p/txt/l/"), "{}", texts[0].body);
    assert!(texts[0].body.contains("?to=pay"), "a pay-now link: {}", texts[0].body);
    assert!(twilio.malformed().is_empty(), "{:?}", twilio.malformed());
    let (provider_ref,): (Option<String>,) =
        sqlx::query_as("SELECT provider_ref FROM messages WHERE customer_id = $1 AND channel = 'sms'")
            .bind(c.as_str())
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert!(provider_ref.is_some_and(|r| r.starts_with("SM")), "Twilio's message sid is kept");

    // A reply signed with another token is refused and changes nothing.
    let forged = reply(&app, "+15550102030", "STOP", "not-the-token-0123456789").await;
    assert_eq!(forged.status(), 403);
    assert_eq!(sms_opt_out(&app, &c).await, 0);
    // A chatty reply is not an opt-out.
    assert_eq!(reply(&app, "+15550102030", "I'll pay on Friday", AUTH_TOKEN).await.status(), 200);
    assert_eq!(sms_opt_out(&app, &c).await, 0);
    let stop = reply(&app, "+15550102030", "Stop", AUTH_TOKEN).await;
    assert_eq!(stop.status(), 200);
    assert_eq!(stop.headers()["content-type"], "text/xml");
    assert_eq!(sms_opt_out(&app, &c).await, 1, "STOP opts the number out");
    let (events,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM events WHERE customer_id = $1 AND kind = 'sms_opt_out'")
            .bind(c.as_str())
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(events, 1);

    // +3 is an email anyway; +7 would be a text, and now falls back to email.
    run_days(&app, 6).await;
    assert_eq!(twilio.received().len(), 1, "no text after STOP");
    let sent = reminders(&app, &c).await;
    let shape: Vec<(&str, &str)> = sent.iter().map(|(ch, k, _, _)| (ch.as_str(), k.as_str())).collect();
    assert_eq!(
        shape,
        [("sms", "dunning:overdue_friendly"), ("email", "dunning:overdue_reminder"), ("email", "dunning:overdue_firm")]
    );
    assert!(sent.iter().all(|(_, _, status, _)| status == "sent"), "{sent:?}");
    assert_eq!(sent[0].3.as_deref(), Some("twilio"));

    // START opts back in.
    assert_eq!(reply(&app, "+15550102030", "START", AUTH_TOKEN).await.status(), 200);
    assert_eq!(sms_opt_out(&app, &c).await, 0);
}

async fn a_carrier_unsubscribed_answer_opts_out_and_is_not_retried(app: TestApp, twilio: TwilioDouble) {
    let (mid, c) = texting_customer(&app, "+44 20 7946 0018").await;
    twilio.unsubscribe("+442079460018");
    app.invoice(&mid, &c, "TX-2", 9_900, 0, InvoiceStatus::Open, 0).await;
    run_days(&app, 2).await;
    let sent = reminders(&app, &c).await;
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].0.as_str(), sent[0].2.as_str()), ("sms", "failed"), "given up at once, not retried");
    assert_eq!(sms_opt_out(&app, &c).await, 1, "the carrier's opt-out is recorded");
    assert!(twilio.received().is_empty());
    assert!(twilio.malformed().is_empty(), "{:?}", twilio.malformed());
}
