//! The policy editor, on both backends: the active policy is shown; bad
//! input is refused with every problem in words and nothing typed lost;
//! the preview runs the simulator on the merchant's own customers and
//! changes when the policy does; saving is for owners and admins, audited,
//! and what the next sweep follows.

use crate::common::*;
use app::server::console::policy_form::from_policy;
use app::server::dunning::policy::{FinalAction, Policy};
use app::server::dunning::store::policy_for;
use app::server::repo::merchant_users::{self, Role};
use app::types::{Currency, PolicyForm};

on_both_backends!(policies_are_edited_previewed_and_saved);

const PASSWORD: &str = "copper kettle morning drive";

fn pairs(form: &PolicyForm) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, s) in form.steps.iter().enumerate() {
        out.push((format!("offset_{i}"), s.offset.clone()));
        out.push((format!("channel_{i}"), if s.channel.is_empty() { "email".into() } else { s.channel.clone() }));
        out.push((format!("template_{i}"), s.template.clone()));
        out.push((format!("tone_{i}"), if s.tone.is_empty() { "friendly".into() } else { s.tone.clone() }));
    }
    for (k, v) in [
        ("retry_days", &form.retry_days),
        ("retry_hour", &form.retry_hour),
        ("quiet_start", &form.quiet_start),
        ("quiet_end", &form.quiet_end),
        ("weekly_cap", &form.weekly_cap),
        ("final_action", &form.final_action),
        ("final_after_days", &form.final_after_days),
        ("late_fee_kind", &form.late_fee_kind),
        ("late_fee_value", &form.late_fee_value),
        ("expiry_days", &form.expiry_days),
    ] {
        out.push((k.to_string(), v.clone()));
    }
    if form.consolidate {
        out.push(("consolidate".into(), "on".into()));
    }
    out
}

async fn staff(app: &TestApp, role: Role) -> reqwest::Client {
    let m = app::server::repo::merchants::find_by_slug(app.db.pool(), "acme").await.unwrap().unwrap();
    let email = format!("{}@acme.example", role.as_str());
    let hash = app::server::passwords::hash(PASSWORD.into()).await.unwrap();
    merchant_users::insert(app.db.pool(), &m.merchant_id(), &email, "Pat", Some(&hash), role, app.clock_now())
        .await
        .unwrap();
    let client = browser();
    client
        .post(app.url("/m/acme/sign-in"))
        .form(&[("email", email.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    client
}

async fn policy_page(app: &TestApp, client: &reqwest::Client) -> String {
    page(client.get(app.url("/m/acme/policy")).send().await.unwrap()).await
}

async fn policies_are_edited_previewed_and_saved(app: TestApp) {
    let seeded = app.seed_customer_with_invoices("acme", "Acme").await;
    let mid = seeded.merchant.merchant_id();
    let admin = staff(&app, Role::Admin).await;
    let html = policy_page(&app, &admin).await;
    assert!(
        html.contains("value=\"-7\"") && html.contains("value=\"14\"") && html.contains("value=\"21:00\""),
        "{html}"
    );

    // Unreadable fields and broken rules: every problem listed, the typed values back, nothing saved.
    let mut bad = from_policy(&Policy::default(), Currency::USD);
    bad.steps[2].offset = "seven".into();
    bad.weekly_cap = "40".into();
    let res = admin.post(app.url("/m/acme/policy")).form(&pairs(&bad)).send().await.unwrap();
    assert_eq!(location(&res).as_deref(), Some("/m/acme/policy"));
    let html = policy_page(&app, &admin).await;
    assert!(html.contains("Step 3, days from the due date: \"seven\" is not a whole number."), "{html}");
    assert!(html.contains("value=\"seven\"") && html.contains("value=\"40\""), "typed values kept");
    let mut soft = from_policy(&Policy::default(), Currency::USD);
    soft.steps[5].tone = "friendly".into();
    soft.weekly_cap = "40".into();
    admin.post(app.url("/m/acme/policy")).form(&pairs(&soft)).send().await.unwrap();
    let html = policy_page(&app, &admin).await;
    assert!(
        html.contains("Step 6: the tone can&#x27;t soften") || html.contains("Step 6: the tone can't soften"),
        "{html}"
    );
    assert!(html.contains("The weekly cap must be between 1 and 14 messages."));
    assert_eq!(policy_for(app.db.pool(), &mid).await.unwrap(), Policy::default());

    // The preview: the default policy reminds the overdue customer.
    let default_form = from_policy(&Policy::default(), Currency::USD);
    let res = admin.post(app.url("/m/acme/policy/preview")).form(&pairs(&default_form)).send().await.unwrap();
    assert_eq!(location(&res).as_deref(), Some("/m/acme/policy#preview"));
    let before = policy_page(&app, &admin).await;
    assert!(before.contains("Acme Customer") && before.contains("overdue_"), "{before}");
    // Only overdue steps, the first a firm one at +2: the preview changes with it.
    let mut changed = Policy::default();
    changed.steps.retain(|s| s.offset_days > 0);
    changed.steps[0].offset_days = 2;
    changed.steps[0].tone = app::server::dunning::policy::Tone::Firm;
    changed.steps[1].tone = app::server::dunning::policy::Tone::Firm;
    changed.final_action = FinalAction::Suspend;
    let changed_form = from_policy(&changed, Currency::USD);
    admin.post(app.url("/m/acme/policy/preview")).form(&pairs(&changed_form)).send().await.unwrap();
    let after = policy_page(&app, &admin).await;
    let timeline = |html: &str| -> String {
        let Some(at) = html.find("timeline-preview") else { return String::new() };
        let rest = &html[at..];
        let open = rest.find('>').unwrap() + 1;
        rest[open..rest.find("</pre>").unwrap()].to_string()
    };
    assert_ne!(timeline(&before), timeline(&after));
    let (b, a) = (timeline(&before), timeline(&after));
    // The friendly text goes; the firm one takes its place from the first step.
    assert!(b.contains("Reminder: $80.50") && !a.contains("Reminder: $80.50"), "{b}\n---\n{a}");
    assert!(a.contains("customer suspended") && !b.contains("customer suspended"), "{a}");
    assert_eq!(policy_for(app.db.pool(), &mid).await.unwrap(), Policy::default(), "a preview saves nothing");

    // Viewers may preview but not save.
    let viewer = staff(&app, Role::Viewer).await;
    let res = viewer.post(app.url("/m/acme/policy/preview")).form(&pairs(&changed_form)).send().await.unwrap();
    assert_eq!(location(&res).as_deref(), Some("/m/acme/policy#preview"));
    assert!(!policy_page(&app, &viewer).await.contains("Save policy"));
    assert_eq!(viewer.post(app.url("/m/acme/policy")).form(&pairs(&changed_form)).send().await.unwrap().status(), 403);

    // Saving: the sweep follows it, and it's audited.
    admin.post(app.url("/m/acme/policy")).form(&pairs(&changed_form)).send().await.unwrap();
    assert!(policy_page(&app, &admin).await.contains("Saved. The next sweep follows the new policy."));
    assert_eq!(policy_for(app.db.pool(), &mid).await.unwrap(), changed);
    let (audits,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE action = 'policy.changed'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(audits, 1);
}
