//! The reminder sweep: gives each open invoice its place in the sequence,
//! and for every invoice whose next step has come, sends one consolidated
//! email per customer (in their zone's allowed hours, within the weekly
//! cap), unless a stop rule holds. The step is advanced and the message
//! queued in one transaction, guarded by the step it read, so two workers
//! sweeping the same invoices queue each message once.

use super::calendar::{is_quiet, local_day, next_allowed, send_time};
use super::policy::{Channel, FinalAction, Policy, Step, StepKind};
use super::templates::{default_template, ReminderContext, ReminderInvoice};
use crate::server::ids::{CustomerId, InvoiceId, MerchantId};
use crate::server::mail::{render_branded, EmailContent};
use crate::server::portal::{access_link_path, customer_zone, human_date};
use crate::server::repo::messages::{self, NewEmail, NewSms};
use crate::server::repo::{customers, events, merchants};
use crate::server::{AppError, AppState, UtcMillis};
use crate::types::{Currency, Money};
use jiff::tz::TimeZone;
use std::collections::BTreeMap;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Invoices given their first place in the sequence.
    pub scheduled: usize,
    pub messages: usize,
    /// Customers whose reminder waits (quiet hours, weekly cap).
    pub deferred: usize,
    /// Invoices held by a stop rule (promise, dispute, opt-out, suspension).
    pub held: usize,
    /// Card-expiry warnings queued.
    pub expiry_warnings: usize,
}

/// The steps that apply to an invoice: no courtesy reminders when autopay
/// will pay it anyway.
fn steps_for(policy: &Policy, autopay: bool) -> Vec<&Step> {
    policy.steps.iter().filter(|s| !(autopay && s.kind == StepKind::PreDue)).collect()
}

/// When each step is sent, for an invoice due at `due_at`.
fn step_times(steps: &[&Step], due_at: i64, zone: &TimeZone, policy: &Policy) -> Vec<UtcMillis> {
    let due_day = local_day(UtcMillis(due_at), zone);
    steps
        .iter()
        .map(|s| {
            let day = due_day.checked_add(jiff::Span::new().days(s.offset_days)).unwrap_or(due_day);
            send_time(day, zone, policy.quiet_hours)
        })
        .collect()
}

/// Which step comes next at `now`: the latest one whose time has passed
/// (an invoice that arrives late, or a sweep that ran late, sends only the
/// most recent reminder, not every one it missed), else the first to come.
pub fn place(times: &[UtcMillis], now: UtcMillis) -> Option<(usize, UtcMillis)> {
    match times.iter().rposition(|t| t.0 <= now.0) {
        Some(i) => Some((i, times[i])),
        None => times.first().map(|t| (0, *t)),
    }
}

pub use super::store::policy_for;

/// Runs one sweep at the clock's now, over at most `limit` due invoices.
pub async fn sweep(state: &AppState, limit: i64) -> Result<SweepReport, AppError> {
    let mut report = SweepReport {
        scheduled: schedule_new(state, limit).await?,
        expiry_warnings: super::expiry::warn_expiring_cards(state).await?,
        ..SweepReport::default()
    };
    let now = state.clock.now();
    let due: Vec<DueRow> = sqlx::query_as(
        "SELECT i.id, i.merchant_id, i.customer_id, i.number, i.currency, i.total_minor - i.amount_paid_minor AS owed, \
         i.due_at, i.dunning_step FROM invoices i \
         WHERE i.status = 'open' AND i.dunning_next_at <= $1 AND i.total_minor > i.amount_paid_minor \
         ORDER BY i.merchant_id, i.customer_id, i.due_at LIMIT $2",
    )
    .bind(now.0)
    .bind(limit)
    .fetch_all(state.db.pool())
    .await?;
    let mut by_customer: BTreeMap<(String, String), Vec<DueRow>> = BTreeMap::new();
    for row in due {
        by_customer.entry((row.merchant_id.clone(), row.customer_id.clone())).or_default().push(row);
    }
    for ((merchant, customer), rows) in by_customer {
        let merchant = MerchantId::from_trusted(merchant);
        let customer = CustomerId::from_trusted(customer);
        remind(state, &merchant, &customer, rows, &mut report).await?;
    }
    Ok(report)
}

#[derive(Clone, Debug, sqlx::FromRow)]
struct DueRow {
    id: String,
    merchant_id: String,
    customer_id: String,
    number: String,
    currency: String,
    owed: i64,
    due_at: i64,
    dunning_step: Option<i64>,
}

/// Gives invoices without a place in the sequence their first one.
async fn schedule_new(state: &AppState, limit: i64) -> Result<usize, AppError> {
    let now = state.clock.now();
    let rows: Vec<(String, String, i64, String, String, i64)> = sqlx::query_as(
        "SELECT i.id, i.merchant_id, i.due_at, c.time_zone, m.time_zone, c.autopay_enabled FROM invoices i \
         JOIN customers c ON c.id = i.customer_id AND c.merchant_id = i.merchant_id \
         JOIN merchants m ON m.id = i.merchant_id \
         WHERE i.status = 'open' AND i.dunning_step IS NULL LIMIT $1",
    )
    .bind(limit)
    .fetch_all(state.db.pool())
    .await?;
    let mut scheduled = 0;
    for (id, merchant, due_at, customer_tz, merchant_tz, autopay) in rows {
        let policy = policy_for(state.db.pool(), &MerchantId::from_trusted(merchant)).await?;
        let zone = customer_zone(&customer_tz, &merchant_tz);
        let steps = steps_for(&policy, autopay != 0);
        let times = step_times(&steps, due_at, &zone, &policy);
        let (step, at) = match place(&times, now) {
            Some((i, at)) => (i as i64, Some(at.0)),
            None => (0, None),
        };
        let done = sqlx::query(
            "UPDATE invoices SET dunning_step = $1, dunning_next_at = $2 WHERE id = $3 AND dunning_step IS NULL",
        )
        .bind(step)
        .bind(at)
        .bind(&id)
        .execute(state.db.pool())
        .await?;
        scheduled += done.rows_affected() as usize;
    }
    Ok(scheduled)
}

/// Where a customer can be reached: the channels they haven't opted out of.
#[derive(sqlx::FromRow)]
struct Reach {
    email_opt_out: i64,
    sms_opt_out: i64,
    sms_number: Option<String>,
}

impl Reach {
    /// The step's channel when the customer can get it, else the other one
    /// (a customer who turned off email reminders but kept texts gets a
    /// text, and one without a textable number gets the email); `None` when
    /// they have turned both off.
    fn channel_for(&self, wanted: Channel) -> Option<Channel> {
        let email = self.email_opt_out == 0;
        let sms = self.sms_opt_out == 0 && self.sms_number.is_some();
        match wanted {
            Channel::Sms if sms => Some(Channel::Sms),
            Channel::Email if email => Some(Channel::Email),
            _ if email => Some(Channel::Email),
            _ if sms => Some(Channel::Sms),
            _ => None,
        }
    }
}

/// Sets when an invoice is looked at again, without moving its step.
async fn hold(state: &AppState, invoice: &str, until: UtcMillis) -> Result<(), AppError> {
    sqlx::query("UPDATE invoices SET dunning_next_at = $1 WHERE id = $2")
        .bind(until.0)
        .bind(invoice)
        .execute(state.db.pool())
        .await?;
    Ok(())
}

async fn remind(
    state: &AppState,
    merchant_id: &MerchantId,
    customer_id: &CustomerId,
    rows: Vec<DueRow>,
    report: &mut SweepReport,
) -> Result<(), AppError> {
    let pool = state.db.pool();
    let now = state.clock.now();
    let policy = policy_for(pool, merchant_id).await?;
    let Some(merchant) = merchants::find(pool, merchant_id).await? else { return Ok(()) };
    let Some(customer) = customers::find(pool, merchant_id, customer_id).await? else { return Ok(()) };
    let zone = customer_zone(&customer.time_zone, &merchant.time_zone);
    let steps = steps_for(&policy, customer.autopay_enabled != 0);
    let reach: Reach = sqlx::query_as("SELECT email_opt_out, sms_opt_out, sms_number FROM customers WHERE id = $1")
        .bind(customer_id.as_str())
        .fetch_one(pool)
        .await?;

    // Stop rules, checked now, right before the effect.
    let mut sendable = Vec::new();
    let mut finals = Vec::new();
    for row in rows {
        let mut step = row.dunning_step.unwrap_or(0) as usize;
        // A reminder held back (quiet hours, the weekly cap, a promise) may
        // find later steps due too: send only the latest, never two in a row.
        if step < steps.len() {
            if let Some((latest, _)) = place(&step_times(&steps, row.due_at, &zone, &policy), now) {
                step = step.max(latest);
            }
        }
        if step > steps.len() {
            continue;
        }
        let promised: Option<(i64,)> = sqlx::query_as(
            "SELECT promised_until FROM promises WHERE invoice_id = $1 AND status = 'active' AND promised_until > $2 \
             ORDER BY promised_until DESC LIMIT 1",
        )
        .bind(&row.id)
        .bind(now.0)
        .fetch_optional(pool)
        .await?;
        let (disputes,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM disputes WHERE invoice_id = $1 AND status = 'open'")
                .bind(&row.id)
                .fetch_one(pool)
                .await?;
        let retrying = crate::server::payments::retries::retry_pending_until(pool, &row.id).await?;
        if let Some(until) = retrying {
            // Silent retries come before any reminder.
            hold(state, &row.id, until).await?;
            report.held += 1;
        } else if let Some((until,)) = promised {
            // Paused until the promised day is over.
            hold(state, &row.id, UtcMillis(until)).await?;
            report.held += 1;
        } else if disputes > 0 || customer.status != "active" || reach.channel_for(Channel::Email).is_none() {
            // Looked at again tomorrow: a dispute resolved or an opt-in resumes it.
            hold(state, &row.id, UtcMillis(now.0 + DAY_MS)).await?;
            report.held += 1;
        } else {
            if step == steps.len() {
                finals.push(row);
            } else {
                sendable.push((row, step));
            }
        }
    }
    for row in finals {
        final_action(state, merchant_id, customer_id, &policy, &row, steps.len()).await?;
    }
    if sendable.is_empty() {
        return Ok(());
    }
    let local_minute = {
        let t = jiff::Timestamp::from_millisecond(now.0).unwrap_or(jiff::Timestamp::UNIX_EPOCH).to_zoned(zone.clone());
        t.hour() as u16 * 60 + t.minute() as u16
    };
    let defer_to = if is_quiet(policy.quiet_hours, local_minute) {
        Some(next_allowed(now, &zone, policy.quiet_hours))
    } else {
        // The weekly cap, and at most one message a day: a reminder never
        // follows another (say, the "update your card" note) within hours.
        let (recent, latest): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), MAX(CASE WHEN next_attempt_at > created_at THEN next_attempt_at ELSE created_at END) \
             FROM messages WHERE merchant_id = $1 AND customer_id = $2 \
             AND template_key LIKE 'dunning:%' AND created_at > $3",
        )
        .bind(merchant_id.as_str())
        .bind(customer_id.as_str())
        .bind(now.0 - 7 * DAY_MS)
        .fetch_one(pool)
        .await?;
        let today = local_day(now, &zone);
        let sent_today = latest.is_some_and(|at| local_day(UtcMillis(at), &zone) >= today);
        (recent >= policy.weekly_cap as i64 || sent_today).then(|| {
            let tomorrow = local_day(now, &zone).tomorrow().unwrap_or(local_day(now, &zone));
            send_time(tomorrow, &zone, policy.quiet_hours)
        })
    };
    if let Some(at) = defer_to {
        for (row, _) in &sendable {
            hold(state, &row.id, at).await?;
        }
        report.deferred += 1;
        return Ok(());
    }

    // The policy's late fee comes with the first overdue reminder, as a line
    // of its own on the invoice; the reminder already shows the new amount.
    let first_overdue = steps.iter().position(|s| s.kind == StepKind::Overdue);
    let mut fees: BTreeMap<String, i64> = BTreeMap::new();
    for (row, step) in sendable.iter_mut() {
        if Some(*step) == first_overdue {
            if let Some(fee) = policy.late_fee_on(row.owed) {
                fees.insert(row.id.clone(), fee);
                row.owed += fee;
            }
        }
    }

    // The message: the firmest step among the invoices decides the text.
    let (_, firm_index) = sendable.iter().map(|(_, s)| (steps[*s].tone, *s)).max().unwrap_or((steps[0].tone, 0));
    let lead = steps[firm_index];
    let Some(channel) = reach.channel_for(lead.channel) else { return Ok(()) };
    let today = local_day(now, &zone);
    let mut invoices = Vec::new();
    let mut total = 0i64;
    let mut currency = None;
    for (row, _) in &sendable {
        let c = Currency::parse(&row.currency).map_err(AppError::internal)?;
        currency.get_or_insert(c);
        if Some(c) == currency {
            total += row.owed;
        }
        let due_day = local_day(UtcMillis(row.due_at), &zone);
        invoices.push(ReminderInvoice {
            number: row.number.clone(),
            amount_due: Money::new(row.owed, c).display_in(&customer.locale),
            due_on: human_date(due_day, &customer.locale),
            days_overdue: (today - due_day).get_days() as i64,
        });
    }
    let currency = currency.unwrap_or(Currency::USD);
    // A fresh link before the transaction (an unused one is harmless).
    let token = crate::server::portal::issue_access_link(pool, now, &merchant, customer_id).await?;
    let link = format!("{}{}", state.portal.base_url.trim_end_matches('/'), access_link_path(&merchant.slug, &token));
    let ctx = ReminderContext {
        merchant_name: merchant.display_name.clone(),
        support_email: merchant.support_email.clone(),
        support_phone: merchant.support_phone.clone(),
        customer_first_name: customer.first_name().to_string(),
        invoices,
        total_due: Money::new(total, currency).display_in(&customer.locale),
        pay_link: format!("{link}?to=pay"),
        access_link: link.clone(),
    };
    let rendered = default_template(&lead.template_key, lead.tone, channel)
        .render(&ctx)
        .map_err(|e| AppError::internal(format!("template {}: {e}", lead.template_key)))?;

    let mut tx = crate::server::db::begin_write(pool).await?;
    let mut included = Vec::new();
    for (row, step) in &sendable {
        let times = step_times(&steps, row.due_at, &zone, &policy);
        let next = match times.get(step + 1) {
            Some(t) => Some(t.0),
            // After the last step: the final action, if the policy has one.
            None if policy.final_action != FinalAction::None => {
                Some(times[*step].0 + policy.final_action_after_days * DAY_MS)
            }
            None => None,
        };
        let advanced = sqlx::query(
            "UPDATE invoices SET dunning_step = $1, dunning_next_at = $2 \
             WHERE id = $3 AND dunning_step = $4 AND status = 'open'",
        )
        .bind((step + 1) as i64)
        .bind(next)
        .bind(&row.id)
        .bind(row.dunning_step.unwrap_or(0))
        .execute(&mut *tx)
        .await?;
        if advanced.rows_affected() == 1 {
            included.push((row.id.clone(), *step));
            if let Some(fee) = fees.get(&row.id) {
                add_late_fee(&mut tx, merchant_id, customer_id, &row.id, *fee, now).await?;
            }
        }
    }
    if included.is_empty() {
        // Another worker sent these.
        tx.rollback().await?;
        return Ok(());
    }
    let dedupe = format!("dunning:{}:{}:{}", customer_id, today, lead.template_key);
    let template_key = format!("dunning:{}", lead.template_key);
    let queued = match (channel, &reach.sms_number) {
        (Channel::Sms, Some(number)) => {
            let sms = NewSms {
                customer: customer_id.clone(),
                to_number: number.clone(),
                body: rendered.body.clone(),
                template_key,
                dedupe_key: dedupe,
            };
            messages::enqueue_sms(&mut *tx, merchant_id, &sms, now).await?
        }
        _ => {
            let paragraphs: Vec<String> = rendered.body.split("\n\n").map(str::to_string).collect();
            let (text, html) = render_branded(
                &merchant,
                &state.portal.base_url,
                &EmailContent {
                    heading: rendered.subject.clone(),
                    paragraphs,
                    action: Some(("Pay now".into(), ctx.pay_link.clone())),
                },
            );
            let email = NewEmail {
                customer: Some(customer_id.clone()),
                to_address: customer.email.clone(),
                subject: rendered.subject.clone(),
                body_text: text,
                body_html: html,
                template_key,
                dedupe_key: dedupe,
            };
            messages::enqueue_email(&mut *tx, merchant_id, &email, now).await?
        }
    };
    if let Some(message) = &queued {
        for (invoice, step) in &included {
            sqlx::query("INSERT INTO message_invoices (message_id, invoice_id) VALUES ($1, $2)")
                .bind(message.as_str())
                .bind(invoice)
                .execute(&mut *tx)
                .await?;
            let detail = serde_json::json!({ "message_id": message.as_str(), "step": step,
                "template": steps[*step].template_key, "tone": steps[*step].tone, "channel": channel });
            let inv = InvoiceId::from_trusted(invoice.clone());
            events::record(&mut *tx, merchant_id, Some(customer_id), Some(&inv), "reminder_sent", &detail, now).await?;
        }
        report.messages += 1;
    }
    tx.commit().await?;
    Ok(())
}

async fn add_late_fee(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    merchant: &MerchantId,
    customer: &CustomerId,
    invoice: &str,
    fee: i64,
    now: UtcMillis,
) -> Result<(), AppError> {
    let (position,): (i64,) =
        sqlx::query_as("SELECT COALESCE(MAX(position), -1) + 1 FROM invoice_lines WHERE invoice_id = $1")
            .bind(invoice)
            .fetch_one(&mut **tx)
            .await?;
    sqlx::query(
        "INSERT INTO invoice_lines (id, merchant_id, invoice_id, position, description, quantity, unit_minor, \
         amount_minor, kind, created_at) VALUES ($1, $2, $3, $4, 'Late fee', 1, $5, $5, 'late_fee', $6)",
    )
    .bind(crate::server::ids::InvoiceLineId::new().as_str())
    .bind(merchant.as_str())
    .bind(invoice)
    .bind(position)
    .bind(fee)
    .bind(now.0)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE invoices SET subtotal_minor = subtotal_minor + $1, total_minor = total_minor + $1, updated_at = $2 \
         WHERE id = $3",
    )
    .bind(fee)
    .bind(now.0)
    .bind(invoice)
    .execute(&mut **tx)
    .await?;
    let inv = InvoiceId::from_trusted(invoice.to_string());
    let detail = serde_json::json!({ "fee_minor": fee });
    events::record(&mut **tx, merchant, Some(customer), Some(&inv), "late_fee_added", &detail, now).await?;
    Ok(())
}

/// The policy's final action for an invoice past its last step, once:
/// suspend the customer, hand the invoice to collections, or write it off.
async fn final_action(
    state: &AppState,
    merchant: &MerchantId,
    customer: &CustomerId,
    policy: &Policy,
    row: &DueRow,
    steps: usize,
) -> Result<(), AppError> {
    let now = state.clock.now();
    let mut tx = crate::server::db::begin_write(state.db.pool()).await?;
    let claimed = sqlx::query(
        "UPDATE invoices SET dunning_step = $1, dunning_next_at = NULL WHERE id = $2 AND dunning_step = $3 \
         AND status = 'open'",
    )
    .bind((steps + 1) as i64)
    .bind(&row.id)
    .bind(steps as i64)
    .execute(&mut *tx)
    .await?;
    if claimed.rows_affected() == 0 {
        tx.rollback().await?;
        return Ok(());
    }
    let invoice = InvoiceId::from_trusted(row.id.clone());
    let detail = serde_json::json!({ "invoice": row.number, "owed_minor": row.owed, "currency": row.currency });
    let kind = match policy.final_action {
        FinalAction::None => None,
        FinalAction::Suspend => {
            sqlx::query(
                "UPDATE customers SET status = 'suspended', updated_at = $1 WHERE merchant_id = $2 AND id = $3",
            )
            .bind(now.0)
            .bind(merchant.as_str())
            .bind(customer.as_str())
            .execute(&mut *tx)
            .await?;
            Some("customer_suspended")
        }
        FinalAction::Collections => Some("sent_to_collections"),
        FinalAction::WriteOff => {
            sqlx::query("UPDATE invoices SET status = 'uncollectible', updated_at = $1 WHERE id = $2")
                .bind(now.0)
                .bind(&row.id)
                .execute(&mut *tx)
                .await?;
            Some("written_off")
        }
    };
    if let Some(kind) = kind {
        events::record(&mut *tx, merchant, Some(customer), Some(&invoice), kind, &detail, now).await?;
        events::audit(
            &mut *tx,
            merchant,
            "system",
            Some("dunning"),
            kind,
            Some(("invoice", row.id.as_str())),
            &detail,
            None,
            None,
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_invoice_gets_only_its_latest_step() {
        let t = |v| UtcMillis(v);
        let times = [t(10), t(20), t(30)];
        assert_eq!(place(&times, t(5)), Some((0, t(10))));
        assert_eq!(place(&times, t(20)), Some((1, t(20))));
        assert_eq!(place(&times, t(99)), Some((2, t(30))));
        assert_eq!(place(&[], t(1)), None);
    }

    #[test]
    fn autopay_invoices_get_no_courtesy_reminders() {
        let p = Policy::default();
        assert_eq!(steps_for(&p, false).len(), 6);
        assert!(steps_for(&p, true).iter().all(|s| s.kind == StepKind::Overdue));
    }
}
