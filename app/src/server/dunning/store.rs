//! Policies stored per merchant (`dunning_policies` + `dunning_steps`). A
//! merchant without an active policy runs the default. A stored policy is
//! validated on save; one that fails validation when read (edited by hand)
//! is not used: the default runs and the problem is logged loudly.

use super::policy::{Channel, FinalAction, LateFee, Policy, QuietHours, RetrySchedule, Step, StepKind, Tone};
use crate::server::ids::{DunningPolicyId, DunningStepId, MerchantId};
use crate::server::{AppError, UtcMillis};
use sqlx::AnyPool;

#[derive(sqlx::FromRow)]
struct PolicyRow {
    id: String,
    quiet_start_minute: i64,
    quiet_end_minute: i64,
    weekly_message_cap: i64,
    consolidate: i64,
    final_action: String,
    late_fee_kind: Option<String>,
    late_fee_value: Option<i64>,
    retry_local_hour: i64,
}

#[derive(sqlx::FromRow)]
struct StepRow {
    kind: String,
    offset_days: i64,
    channel: String,
    template_key: Option<String>,
    tone: String,
}

fn final_action(s: &str) -> FinalAction {
    match s {
        "suspend" => FinalAction::Suspend,
        "collections" => FinalAction::Collections,
        "write_off" => FinalAction::WriteOff,
        _ => FinalAction::None,
    }
}

fn final_action_str(a: FinalAction) -> &'static str {
    match a {
        FinalAction::None => "none",
        FinalAction::Suspend => "suspend",
        FinalAction::Collections => "collections",
        FinalAction::WriteOff => "write_off",
    }
}

/// The merchant's policy in force.
pub async fn policy_for(pool: &AnyPool, merchant: &MerchantId) -> Result<Policy, AppError> {
    let row: Option<PolicyRow> = sqlx::query_as(
        "SELECT id, quiet_start_minute, quiet_end_minute, weekly_message_cap, consolidate, final_action, late_fee_kind, \
         late_fee_value, retry_local_hour FROM dunning_policies WHERE merchant_id = $1 AND is_active = 1 \
         ORDER BY updated_at DESC LIMIT 1",
    )
    .bind(merchant.as_str())
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(Policy::default()) };
    let steps: Vec<StepRow> = sqlx::query_as(
        "SELECT kind, offset_days, channel, template_key, tone FROM dunning_steps WHERE policy_id = $1 ORDER BY position",
    )
    .bind(&row.id)
    .fetch_all(pool)
    .await?;
    let mut policy = Policy {
        steps: Vec::new(),
        retries: RetrySchedule { days: Vec::new(), local_hour: row.retry_local_hour.clamp(0, 23) as u8 },
        quiet_hours: QuietHours {
            start_minute: row.quiet_start_minute.clamp(0, 24 * 60) as u16,
            end_minute: row.quiet_end_minute.clamp(0, 24 * 60) as u16,
        },
        weekly_cap: row.weekly_message_cap.clamp(0, 1000) as u32,
        consolidate: row.consolidate != 0,
        final_action: final_action(&row.final_action),
        final_action_after_days: Policy::default().final_action_after_days,
        late_fee: match (row.late_fee_kind.as_deref(), row.late_fee_value) {
            (Some("flat"), Some(v)) => Some(LateFee::Flat(v)),
            (Some("percent"), Some(v)) => Some(LateFee::Percent(v)),
            _ => None,
        },
        expiry_warning_days: Vec::new(),
    };
    for s in steps {
        let tone = match s.tone.as_str() {
            "firm" => Tone::Firm,
            "final" => Tone::Final,
            _ => Tone::Friendly,
        };
        let channel = if s.channel == "sms" { Channel::Sms } else { Channel::Email };
        let template_key = s.template_key.unwrap_or_default();
        match s.kind.as_str() {
            "pre_due" => policy.steps.push(Step {
                kind: StepKind::PreDue,
                offset_days: s.offset_days,
                channel,
                template_key,
                tone,
            }),
            "overdue" => policy.steps.push(Step {
                kind: StepKind::Overdue,
                offset_days: s.offset_days,
                channel,
                template_key,
                tone,
            }),
            "charge_retry" => policy.retries.days.push(s.offset_days),
            "card_expiry" => policy.expiry_warning_days.push(s.offset_days.abs()),
            "final" => policy.final_action_after_days = s.offset_days,
            _ => {}
        }
    }
    match policy.validate() {
        Ok(()) => Ok(policy),
        Err(problems) => {
            tracing::error!(merchant = %merchant, policy = %row.id, ?problems, "stored dunning policy is invalid; running the default");
            Ok(Policy::default())
        }
    }
}

/// Saves `policy` as the merchant's active one (earlier ones are kept,
/// inactive). Refused with every problem when it doesn't validate.
pub async fn save(
    pool: &AnyPool,
    merchant: &MerchantId,
    name: &str,
    policy: &Policy,
    now: UtcMillis,
) -> Result<Result<DunningPolicyId, Vec<super::policy::PolicyError>>, AppError> {
    if let Err(problems) = policy.validate() {
        return Ok(Err(problems));
    }
    let id = DunningPolicyId::new();
    let mut tx = crate::server::db::begin_write(pool).await?;
    sqlx::query("UPDATE dunning_policies SET is_active = 0, updated_at = $1 WHERE merchant_id = $2 AND is_active = 1")
        .bind(now.0)
        .bind(merchant.as_str())
        .execute(&mut *tx)
        .await?;
    let (fee_kind, fee_value) = match policy.late_fee {
        Some(LateFee::Flat(v)) => (Some("flat"), Some(v)),
        Some(LateFee::Percent(v)) => (Some("percent"), Some(v)),
        None => (None, None),
    };
    sqlx::query(
        "INSERT INTO dunning_policies (id, merchant_id, name, is_active, quiet_start_minute, quiet_end_minute, \
         weekly_message_cap, consolidate, final_action, late_fee_kind, late_fee_value, retry_local_hour, created_at, \
         updated_at) VALUES ($1, $2, $3, 1, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
    )
    .bind(id.as_str())
    .bind(merchant.as_str())
    .bind(name)
    .bind(policy.quiet_hours.start_minute as i64)
    .bind(policy.quiet_hours.end_minute as i64)
    .bind(policy.weekly_cap as i64)
    .bind(policy.consolidate as i64)
    .bind(final_action_str(policy.final_action))
    .bind(fee_kind)
    .bind(fee_value)
    .bind(policy.retries.local_hour as i64)
    .bind(now.0)
    .execute(&mut *tx)
    .await?;
    let mut rows: Vec<(&str, i64, &str, Option<&str>, &str)> = Vec::new();
    for s in &policy.steps {
        let kind = if s.kind == StepKind::PreDue { "pre_due" } else { "overdue" };
        let channel = if s.channel == Channel::Sms { "sms" } else { "email" };
        let tone = match s.tone {
            Tone::Friendly => "friendly",
            Tone::Firm => "firm",
            Tone::Final => "final",
        };
        rows.push((kind, s.offset_days, channel, Some(s.template_key.as_str()), tone));
    }
    for d in &policy.retries.days {
        rows.push(("charge_retry", *d, "none", None, "friendly"));
    }
    for d in &policy.expiry_warning_days {
        rows.push(("card_expiry", -d, "email", Some("card_expiring"), "friendly"));
    }
    rows.push(("final", policy.final_action_after_days, "none", None, "final"));
    for (position, (kind, offset, channel, template, tone)) in rows.into_iter().enumerate() {
        sqlx::query(
            "INSERT INTO dunning_steps (id, merchant_id, policy_id, kind, offset_days, channel, template_key, tone, \
             position, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(DunningStepId::new().as_str())
        .bind(merchant.as_str())
        .bind(id.as_str())
        .bind(kind)
        .bind(offset)
        .bind(channel)
        .bind(template)
        .bind(tone)
        .bind(position as i64)
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(Ok(id))
}

/// The merchant's own wording for its templates, by (key, channel); a key
/// without one uses the built-in text.
pub async fn merchant_templates(
    pool: &AnyPool,
    merchant: &MerchantId,
) -> Result<std::collections::HashMap<(String, Channel), super::templates::Template>, AppError> {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT template_key, channel, subject, body_text FROM templates WHERE merchant_id = $1 AND locale = 'en-US'",
    )
    .bind(merchant.as_str())
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(key, channel, subject, body)| {
            let channel = if channel == "sms" { Channel::Sms } else { Channel::Email };
            ((key, channel), super::templates::Template { subject, body })
        })
        .collect())
}
