//! The template editor: a merchant's own subject and body for a template
//! key and channel, checked (known variables only, closed braces, a link
//! in every message, SMS length) before it is saved; a rendered sample;
//! "send me a test" to the signed-in staff member.

use super::access::Action;
use super::actions::{Origin, Outcome};
use super::previews::{render_sample, sample_context};
use super::session::Staff;
use crate::server::db::begin_write;
use crate::server::dunning::policy::{Channel, Tone};
use crate::server::dunning::templates::{default_template, Template};
use crate::server::ids::new_id_body;
use crate::server::repo::events;
use crate::server::repo::merchants::MerchantRow;
use crate::server::repo::messages::{self, NewEmail};
use crate::server::{AppError, UtcMillis};
use sqlx::AnyPool;

pub fn parse_channel(s: &str) -> Option<Channel> {
    match s {
        "email" => Some(Channel::Email),
        "sms" => Some(Channel::Sms),
        _ => None,
    }
}

/// The tone a key's built-in text is written in (the overdue keys follow
/// the step's tone; this is the one their default policy step uses).
pub fn default_tone(key: &str) -> Tone {
    match key {
        "overdue_firm" => Tone::Firm,
        "final_notice" => Tone::Final,
        _ => Tone::Friendly,
    }
}

/// The merchant's wording for (key, channel), if it has one.
pub async fn custom(
    pool: &AnyPool,
    merchant: &MerchantRow,
    key: &str,
    channel: Channel,
) -> Result<Option<Template>, AppError> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT subject, body_text FROM templates WHERE merchant_id = $1 AND template_key = $2 AND channel = $3 \
         AND locale = 'en-US'",
    )
    .bind(merchant.id.as_str())
    .bind(key)
    .bind(if channel == Channel::Sms { "sms" } else { "email" })
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(subject, body)| Template { subject, body }))
}

/// The wording in use for (key, channel): the merchant's or the built-in one.
pub async fn current(
    pool: &AnyPool,
    merchant: &MerchantRow,
    key: &str,
    channel: Channel,
) -> Result<(Template, bool), AppError> {
    Ok(match custom(pool, merchant, key, channel).await? {
        Some(t) => (t, true),
        None => (default_template(key, default_tone(key), channel), false),
    })
}

/// The sample rendering of `template`: (subject, html for email, text).
pub fn preview(
    merchant: &MerchantRow,
    base_url: &str,
    template: &Template,
    channel: Channel,
) -> Result<(String, Option<String>, String), String> {
    if channel == Channel::Sms {
        let rendered = template.render(&sample_context(merchant, base_url)).map_err(|e| e.to_string())?;
        return Ok((String::new(), None, rendered.body));
    }
    let (subject, text, html) = render_sample(merchant, base_url, template)?;
    Ok((subject, Some(html), text))
}

fn channel_str(c: Channel) -> &'static str {
    if c == Channel::Sms {
        "sms"
    } else {
        "email"
    }
}

#[allow(clippy::too_many_arguments)]
pub async fn save(
    pool: &AnyPool,
    staff: &Staff,
    merchant: &MerchantRow,
    key: &str,
    channel: Channel,
    template: &Template,
    origin: &Origin,
    now: UtcMillis,
) -> Result<Result<(), String>, AppError> {
    staff.require(Action::EditPolicy)?;
    if let Err(e) = template.check(channel) {
        return Ok(Err(e.to_string()));
    }
    let mut tx = begin_write(pool).await?;
    sqlx::query(
        "DELETE FROM templates WHERE merchant_id = $1 AND template_key = $2 AND channel = $3 AND locale = 'en-US'",
    )
    .bind(merchant.id.as_str())
    .bind(key)
    .bind(channel_str(channel))
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO templates (id, merchant_id, template_key, channel, locale, subject, body_text, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'en-US', $5, $6, $7, $7)",
    )
    .bind(format!("tpl_{}", new_id_body()))
    .bind(merchant.id.as_str())
    .bind(key)
    .bind(channel_str(channel))
    .bind(&template.subject)
    .bind(&template.body)
    .bind(now.0)
    .execute(&mut *tx)
    .await?;
    let detail = serde_json::json!({ "key": key, "channel": channel_str(channel), "subject": template.subject,
        "body": template.body });
    events::audit(
        &mut *tx,
        &merchant.merchant_id(),
        "merchant_user",
        Some(staff.user.id.as_str()),
        "template.changed",
        Some(("template", key)),
        &detail,
        origin.ip.as_deref(),
        origin.user_agent.as_deref(),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(()))
}

pub async fn reset(
    pool: &AnyPool,
    staff: &Staff,
    merchant: &MerchantRow,
    key: &str,
    channel: Channel,
    origin: &Origin,
    now: UtcMillis,
) -> Result<Outcome, AppError> {
    staff.require(Action::EditPolicy)?;
    let mut tx = begin_write(pool).await?;
    let gone = sqlx::query(
        "DELETE FROM templates WHERE merchant_id = $1 AND template_key = $2 AND channel = $3 AND locale = 'en-US'",
    )
    .bind(merchant.id.as_str())
    .bind(key)
    .bind(channel_str(channel))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if gone == 0 {
        return Ok(Outcome::Unchanged("This template already uses the built-in text.".into()));
    }
    events::audit(
        &mut *tx,
        &merchant.merchant_id(),
        "merchant_user",
        Some(staff.user.id.as_str()),
        "template.reset",
        Some(("template", key)),
        &serde_json::json!({ "channel": channel_str(channel) }),
        origin.ip.as_deref(),
        origin.user_agent.as_deref(),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Outcome::Done("Back to the built-in text.".into()))
}

/// Emails the rendered sample to the staff member asking (at most one a
/// minute per template, however many clicks).
pub async fn send_test(
    pool: &AnyPool,
    staff: &Staff,
    merchant: &MerchantRow,
    base_url: &str,
    key: &str,
    template: &Template,
    now: UtcMillis,
) -> Result<Outcome, AppError> {
    staff.require(Action::EditPolicy)?;
    if let Err(e) = template.check(Channel::Email) {
        return Ok(Outcome::Unchanged(format!("No test was sent: {e}")));
    }
    let (subject, text, html) = match render_sample(merchant, base_url, template) {
        Ok(r) => r,
        Err(e) => return Ok(Outcome::Unchanged(format!("No test was sent: {e}"))),
    };
    let queued = messages::enqueue_email(
        pool,
        &merchant.merchant_id(),
        &NewEmail {
            customer: None,
            to_address: staff.user.email.clone(),
            subject: format!("[Test] {subject}"),
            body_text: text,
            body_html: html,
            template_key: format!("test:{key}"),
            dedupe_key: format!("template-test:{}:{key}:{}", staff.user.id, now.0 / 60_000),
        },
        now,
    )
    .await?;
    Ok(match queued {
        Some(_) => Outcome::Done(format!("Sent a test to {}.", staff.user.email)),
        None => Outcome::Unchanged(format!("A test went to {} less than a minute ago.", staff.user.email)),
    })
}
