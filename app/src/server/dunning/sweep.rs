//! The reminder sweep: gives each open invoice its place in the sequence,
//! and for every invoice whose next step has come, queues one consolidated
//! message per customer (in their zone's allowed hours, within the weekly
//! cap and one a day, by email or text), unless a stop rule holds. Steps are
//! advanced and messages queued in one transaction, each invoice guarded by
//! the step it read, so two workers sweeping the same invoices queue each
//! message once.

use super::calendar::{is_quiet, local_day, next_allowed, send_time};
use super::policy::{Channel, FinalAction, Policy, StepKind};
use super::schedule::{place, steps_for, ScheduleMemo};
use super::templates::{default_template, ReminderContext, ReminderInvoice, Template};
use crate::server::ids::{AccessTokenId, CustomerId, EventId, InvoiceId, MerchantId, MessageId};
use crate::server::mail::{render_text, EmailContent};
use crate::server::portal::{access_link_path, human_date};
use crate::server::repo::bulk::{self, Val};
use crate::server::repo::{events, merchants};
use crate::server::tokens::SecretToken;
use crate::server::{AppError, AppState, UtcMillis};
use crate::types::{Currency, Money};
use std::collections::{BTreeMap, HashMap, HashSet};

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

pub use super::store::policy_for;

/// Runs one sweep at the clock's now, over at most `limit` due invoices.
/// Set-based: the due invoices with their customers, the stop rules and the
/// recent-message counts are read in a few queries; each customer's
/// reminder is decided and rendered in memory; the effects are written in
/// chunks, several statements per chunk whatever its size, by a writer
/// task while the next chunk is decided.
pub async fn sweep(state: &AppState, limit: i64) -> Result<SweepReport, AppError> {
    let mut report = SweepReport {
        scheduled: schedule_new(state, limit).await?,
        expiry_warnings: super::expiry::warn_expiring_cards(state).await?,
        ..SweepReport::default()
    };
    let pool = state.db.pool();
    let now = state.clock.now();
    // The due invoices, then their customers: one row per customer rather
    // than its fields repeated on every invoice row.
    let due = "i.status = 'open' AND i.dunning_next_at <= $1 AND i.total_minor > i.amount_paid_minor";
    let invoices: Vec<DueInvoice> = bulk::fetch_json(
        pool,
        state.db.backend(),
        DueInvoice::COLUMNS,
        &format!(
            "SELECT i.id, i.merchant_id, i.customer_id, i.number, i.currency, \
             i.total_minor - i.amount_paid_minor AS owed, i.due_at, i.dunning_step FROM invoices i \
             WHERE {due} ORDER BY i.dunning_next_at LIMIT $2"
        ),
        &[Val::from(now.0), Val::from(limit)],
    )
    .await?;
    if invoices.is_empty() {
        return Ok(report);
    }
    let customer_ids: Vec<&str> =
        invoices.iter().map(|i| i.customer_id.as_str()).collect::<HashSet<_>>().into_iter().collect();
    let customer_columns: Vec<String> = DueCustomer::COLUMNS.iter().map(|c| format!("c.{c}")).collect();
    let customers: HashMap<String, DueCustomer> = bulk::select_in::<DueCustomer>(
        pool,
        state.db.backend(),
        DueCustomer::COLUMNS,
        &format!("SELECT {} FROM customers c", customer_columns.join(", ")),
        "c.id",
        &customer_ids,
    )
    .await?
    .into_iter()
    .map(|c| (c.id.clone(), c))
    .collect();
    let rules = StopRules::load(pool, now).await?;
    let mut by_customer: BTreeMap<(String, String), Vec<DueInvoice>> = BTreeMap::new();
    for row in invoices {
        by_customer.entry((row.merchant_id.clone(), row.customer_id.clone())).or_default().push(row);
    }
    // Oldest first within each customer's reminder (read in due-time order,
    // which the index serves; sorting here is cheaper than sorting there).
    for rows in by_customer.values_mut() {
        rows.sort_by(|a, b| (a.due_at, &a.number).cmp(&(b.due_at, &b.number)));
    }
    type Templates = HashMap<(String, Channel), Template>;
    let mut merchants_seen: BTreeMap<String, Option<(merchants::MerchantRow, Policy, Templates)>> = BTreeMap::new();
    let mut plan = Plan::default();
    let mut memo = ScheduleMemo::default();
    for merchant_id in by_customer.keys().map(|(m, _)| m) {
        if !merchants_seen.contains_key(merchant_id) {
            let id = MerchantId::from_trusted(merchant_id.clone());
            let found = match merchants::find(pool, &id).await? {
                Some(m) => Some((m, policy_for(pool, &id).await?, super::store::merchant_templates(pool, &id).await?)),
                None => None,
            };
            merchants_seen.insert(merchant_id.clone(), found);
        }
    }
    // Reminders are written while the next ones are decided: rendering is
    // CPU work here, writing mostly the database's (SQLite's worker thread,
    // a sync at each commit), so the two overlap on separate cores. The
    // writer takes chunks in order; a full channel makes deciding wait.
    let (chunks, writer) = spawn_writer(state.clone(), now);
    let mut decided = Ok(());
    for ((merchant_id, customer_id), rows) in by_customer {
        let Some((merchant, policy, templates)) = &merchants_seen[&merchant_id] else { continue };
        // The join's guarantee: an invoice's customer is the merchant's.
        let Some(customer) = customers.get(&customer_id).filter(|c| c.merchant_id == merchant_id) else { continue };
        let due = Due { merchant, policy, templates, customer, rows };
        if let Err(e) = decide(state, due, &rules, now, &mut memo, &mut plan, &mut report) {
            decided = Err(e);
            break;
        }
        if plan.outgoing.len() >= WRITE_CHUNK && chunks.send(std::mem::take(&mut plan.outgoing)).await.is_err() {
            break; // the writer failed: its error is reported below
        }
    }
    if decided.is_ok() && !plan.outgoing.is_empty() {
        let _ = chunks.send(std::mem::take(&mut plan.outgoing)).await;
    }
    // Whatever happened, the chunks already handed over are written (or
    // failed) before the sweep returns: none is left writing behind it.
    drop(chunks);
    let written = writer.await.map_err(AppError::internal)?;
    decided?;
    report.messages += written?;

    // Holds: when each held invoice is looked at again.
    if !plan.holds.is_empty() {
        let rows: Vec<Vec<Val>> =
            plan.holds.iter().map(|(id, until)| vec![Val::from(id.as_str()), Val::from(until.0)]).collect();
        let mut tx = crate::server::db::begin_write(pool).await?;
        bulk::update_many(&mut tx, "invoices", &["id", "until_at"], &rows, &[("dunning_next_at", "until_at")], &[], "")
            .await?;
        tx.commit().await?;
    }
    for (merchant, customer, policy, row, steps) in &plan.finals {
        final_action(state, merchant, customer, policy, row, *steps).await?;
    }
    Ok(report)
}

/// The task that writes reminders, chunk by chunk in the order sent, and
/// returns how many messages it queued (or the first error, after which it
/// takes no more chunks).
fn spawn_writer(
    state: AppState,
    now: UtcMillis,
) -> (tokio::sync::mpsc::Sender<Vec<Outgoing>>, tokio::task::JoinHandle<Result<usize, AppError>>) {
    let (send, mut receive) = tokio::sync::mpsc::channel::<Vec<Outgoing>>(1);
    let writer = tokio::spawn(async move {
        let mut queued = 0;
        while let Some(chunk) = receive.recv().await {
            queued += write_chunk(&state, chunk, now).await?;
        }
        Ok(queued)
    });
    (send, writer)
}

/// Customers whose reminders are written in one transaction. Each commit
/// costs a WAL sync on SQLite, so chunks are large; a chunk still holds the
/// write lock (SQLite) or its invoices' row locks (PostgreSQL) for only a
/// fraction of a second, so a payment arriving meanwhile waits briefly.
const WRITE_CHUNK: usize = 2_000;

/// An invoice whose next step has come.
#[derive(Clone, Debug, serde::Deserialize)]
struct DueInvoice {
    id: String,
    merchant_id: String,
    customer_id: String,
    number: String,
    currency: String,
    owed: i64,
    due_at: i64,
    dunning_step: Option<i64>,
}

/// The customer of due invoices: how to reach them and in which zone.
#[derive(Clone, Debug, serde::Deserialize)]
struct DueCustomer {
    id: String,
    merchant_id: String,
    name: String,
    email: String,
    time_zone: String,
    locale: String,
    status: String,
    autopay_enabled: i64,
    email_opt_out: i64,
    sms_opt_out: i64,
    sms_number: Option<String>,
    dunning_paused_at: Option<i64>,
}

impl DueInvoice {
    /// The fields, in order, as `bulk::fetch_json` reads them.
    const COLUMNS: &'static [&'static str] =
        &["id", "merchant_id", "customer_id", "number", "currency", "owed", "due_at", "dunning_step"];
}

impl DueCustomer {
    /// The fields, in order: what the sweep selects and `fetch_json` reads.
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "merchant_id",
        "name",
        "email",
        "time_zone",
        "locale",
        "status",
        "autopay_enabled",
        "email_opt_out",
        "sms_opt_out",
        "sms_number",
        "dunning_paused_at",
    ];
}

/// One customer's due invoices, with their merchant and its policy.
struct Due<'a> {
    merchant: &'a merchants::MerchantRow,
    policy: &'a Policy,
    templates: &'a HashMap<(String, Channel), Template>,
    customer: &'a DueCustomer,
    rows: Vec<DueInvoice>,
}

/// The stop rules for every due invoice, read at once: active promises,
/// open disputes, pending silent retries, and each customer's recent
/// reminders (the weekly cap and one a day).
struct StopRules {
    promised_until: HashMap<String, i64>,
    disputed: HashSet<String>,
    /// Invoice → when its pending retry runs.
    retry_at: HashMap<String, i64>,
    /// Customer → (reminders in the last 7 days, when the latest goes out).
    recent: HashMap<String, (i64, Option<i64>)>,
}

impl StopRules {
    async fn load(pool: &sqlx::AnyPool, now: UtcMillis) -> Result<StopRules, sqlx::Error> {
        let due = "i.status = 'open' AND i.dunning_next_at <= $1";
        let promised: Vec<(String, i64)> = sqlx::query_as(&format!(
            "SELECT p.invoice_id, MAX(p.promised_until) FROM promises p JOIN invoices i ON i.id = p.invoice_id \
             WHERE {due} AND p.status = 'active' AND p.promised_until > $1 GROUP BY p.invoice_id"
        ))
        .bind(now.0)
        .fetch_all(pool)
        .await?;
        let disputed: Vec<(String,)> = sqlx::query_as(&format!(
            "SELECT DISTINCT d.invoice_id FROM disputes d JOIN invoices i ON i.id = d.invoice_id \
             WHERE {due} AND d.status = 'open'"
        ))
        .bind(now.0)
        .fetch_all(pool)
        .await?;
        // Retry jobs are few: the ones pending, keyed `autopay-retry:<invoice>:…`.
        let retries: Vec<(String, i64)> = sqlx::query_as(
            "SELECT dedupe_key, run_at FROM jobs WHERE kind = 'autopay_retry' AND status IN ('queued', 'running')",
        )
        .fetch_all(pool)
        .await?;
        let mut retry_at: HashMap<String, i64> = HashMap::new();
        for (key, run_at) in retries {
            if let Some(invoice) = key.strip_prefix("autopay-retry:").and_then(|k| k.split(':').next()) {
                let e = retry_at.entry(invoice.to_string()).or_insert(run_at);
                *e = (*e).max(run_at);
            }
        }
        let recent: Vec<(String, i64, Option<i64>)> = sqlx::query_as(&format!(
            "SELECT g.customer_id, COUNT(*), MAX(CASE WHEN g.next_attempt_at > g.created_at THEN g.next_attempt_at \
             ELSE g.created_at END) FROM messages g \
             WHERE g.template_key LIKE 'dunning:%' AND g.created_at > $2 AND g.customer_id IN \
             (SELECT i.customer_id FROM invoices i WHERE {due}) GROUP BY g.customer_id"
        ))
        .bind(now.0)
        .bind(now.0 - 7 * DAY_MS)
        .fetch_all(pool)
        .await?;
        Ok(StopRules {
            promised_until: promised.into_iter().collect(),
            disputed: disputed.into_iter().map(|(id,)| id).collect(),
            retry_at,
            recent: recent.into_iter().map(|(c, n, latest)| (c, (n, latest))).collect(),
        })
    }
}

/// What a sweep decided, written afterwards in bulk.
#[derive(Default)]
struct Plan {
    holds: Vec<(String, UtcMillis)>,
    finals: Vec<(MerchantId, CustomerId, Policy, DueInvoice, usize)>,
    outgoing: Vec<Outgoing>,
}

/// One customer's reminder, rendered, and the invoices it advances, as the
/// rows the writer inserts. They are built while deciding, on the deciding
/// task, so that the writer (whose every pause idles the database) only
/// picks which of them to write.
struct Outgoing {
    merchant: MerchantId,
    customer: CustomerId,
    /// Its `messages` row (`MESSAGE_COLUMNS`), written when any invoice advances.
    message: Vec<Val>,
    message_id: String,
    /// Its `access_tokens` row (`TOKEN_COLUMNS`).
    token: Vec<Val>,
    invoices: Vec<Advancing>,
}

/// An invoice a reminder moves on, with the rows that record it.
struct Advancing {
    id: String,
    /// `[id, step read, step to set, next time]`, for the guarded update.
    step: Vec<Val>,
    /// Its `message_invoices` row and its `reminder_sent` event (`EVENT_COLUMNS`).
    link: Vec<Val>,
    event: Vec<Val>,
    late_fee: Option<i64>,
}

const MESSAGE_COLUMNS: [&str; 13] = [
    "id",
    "merchant_id",
    "customer_id",
    "channel",
    "to_address",
    "subject",
    "body_text",
    "body_content",
    "template_key",
    "dedupe_key",
    "status",
    "created_at",
    "next_attempt_at",
];
const TOKEN_COLUMNS: [&str; 7] =
    ["id", "merchant_id", "customer_id", "token_hash", "purpose", "created_at", "expires_at"];
const EVENT_COLUMNS: [&str; 7] = ["id", "merchant_id", "customer_id", "invoice_id", "kind", "detail", "created_at"];

/// Where a customer can be reached: the channels they haven't opted out of.
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

/// One customer's due invoices: stop rules, quiet hours, the cap, then the
/// consolidated reminder, rendered. Pure apart from reading `state`'s settings.
fn decide(
    state: &AppState,
    due: Due<'_>,
    rules: &StopRules,
    now: UtcMillis,
    memo: &mut ScheduleMemo,
    plan: &mut Plan,
    report: &mut SweepReport,
) -> Result<(), AppError> {
    let Due { merchant, policy, templates, customer, rows } = due;
    let merchant_id = merchant.merchant_id();
    let customer_id = CustomerId::from_trusted(customer.id.clone());
    let zone = memo.zone(&customer.time_zone, &merchant.time_zone);
    let autopay = customer.autopay_enabled != 0;
    let steps = steps_for(policy, autopay);
    let reach = Reach {
        email_opt_out: customer.email_opt_out,
        sms_opt_out: customer.sms_opt_out,
        sms_number: customer.sms_number.clone(),
    };
    // Suspended, or reminders paused from the console: held like a dispute.
    let (name, email, locale, active) = (
        customer.name.clone(),
        customer.email.clone(),
        customer.locale.clone(),
        customer.status == "active" && customer.dunning_paused_at.is_none(),
    );

    // Stop rules, as they stand now, right before the effect.
    let mut sendable = Vec::new();
    for row in rows {
        let mut step = row.dunning_step.unwrap_or(0) as usize;
        if step > steps.len() {
            continue;
        }
        // A reminder held back (quiet hours, the weekly cap, a promise) may
        // find later steps due too: send only the latest, never two in a row.
        if step < steps.len() {
            if let Some((latest, _)) = place(memo.times(&merchant.id, &zone, row.due_at, autopay, policy), now) {
                step = step.max(latest);
            }
        }
        if let Some(at) = rules.retry_at.get(&row.id) {
            // Silent retries come before any reminder; an hour after the
            // retry, the next one or the card email is queued.
            plan.holds.push((row.id.clone(), UtcMillis(at + 60 * 60 * 1000)));
            report.held += 1;
        } else if let Some(until) = rules.promised_until.get(&row.id) {
            // Paused until the promised day is over.
            plan.holds.push((row.id.clone(), UtcMillis(*until)));
            report.held += 1;
        } else if rules.disputed.contains(&row.id) || !active || reach.channel_for(Channel::Email).is_none() {
            // Looked at again tomorrow: a dispute resolved or an opt-in resumes it.
            plan.holds.push((row.id.clone(), UtcMillis(now.0 + DAY_MS)));
            report.held += 1;
        } else if step == steps.len() {
            plan.finals.push((merchant_id.clone(), customer_id.clone(), policy.clone(), row, steps.len()));
        } else {
            sendable.push((row, step));
        }
    }
    if sendable.is_empty() {
        return Ok(());
    }
    let local_minute = {
        let t = now.to_timestamp().to_zoned(zone.clone());
        t.hour() as u16 * 60 + t.minute() as u16
    };
    let today = local_day(now, &zone);
    let defer_to = if is_quiet(policy.quiet_hours, local_minute) {
        Some(next_allowed(now, &zone, policy.quiet_hours))
    } else {
        // The weekly cap, and at most one message a day: a reminder never
        // follows another (say, the "update your card" note) within hours.
        let (recent, latest) = rules.recent.get(customer_id.as_str()).copied().unwrap_or((0, None));
        let sent_today = latest.is_some_and(|at| local_day(UtcMillis(at), &zone) >= today);
        (recent >= policy.weekly_cap as i64 || sent_today).then(|| {
            let tomorrow = today.tomorrow().unwrap_or(today);
            send_time(tomorrow, &zone, policy.quiet_hours)
        })
    };
    if let Some(at) = defer_to {
        plan.holds.extend(sendable.iter().map(|(row, _)| (row.id.clone(), at)));
        report.deferred += 1;
        return Ok(());
    }

    // The policy's late fee comes with the first overdue reminder, as a line
    // of its own on the invoice; the reminder already shows the new amount.
    let first_overdue = steps.iter().position(|s| s.kind == StepKind::Overdue);
    let mut fees: HashMap<String, i64> = HashMap::new();
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
            amount_due: Money::new(row.owed, c).display_in(&locale),
            due_on: human_date(due_day, &locale),
            days_overdue: (today - due_day).get_days() as i64,
        });
    }
    let currency = currency.unwrap_or(Currency::USD);
    // A fresh access link in every reminder (an unused one is harmless).
    let token = SecretToken::generate();
    let base_url = merchant.public_base_url(&state.portal.base_url);
    let link = format!("{base_url}{}", access_link_path(&merchant.slug, &token));
    let ctx = ReminderContext {
        merchant_name: merchant.display_name.clone(),
        support_email: merchant.support_email.clone(),
        support_phone: merchant.support_phone.clone(),
        customer_first_name: crate::server::repo::customers::first_name(&name).to_string(),
        invoices,
        total_due: Money::new(total, currency).display_in(&locale),
        pay_link: format!("{link}?to=pay"),
        access_link: link.clone(),
    };
    // The merchant's own wording when it has one, else the built-in text.
    let template = templates
        .get(&(lead.template_key.clone(), channel))
        .cloned()
        .unwrap_or_else(|| default_template(&lead.template_key, lead.tone, channel));
    let rendered =
        template.render(&ctx).map_err(|e| AppError::internal(format!("template {}: {e}", lead.template_key)))?;
    // An email's HTML part is branded by the delivery worker when it sends
    // (see `mail::render_html`): the reminder keeps its content instead, a
    // fifth of the bytes, and ten thousand of them are written per sweep.
    let (to, subject, text, content) = match (channel, &reach.sms_number) {
        (Channel::Sms, Some(number)) => (number.clone(), String::new(), rendered.body.clone(), None),
        _ => {
            let content = EmailContent {
                heading: rendered.subject.clone(),
                paragraphs: rendered.body.split("\n\n").map(str::to_string).collect(),
                action: Some(("Pay now".into(), ctx.pay_link.clone())),
            };
            let text = render_text(merchant, &content);
            let content = serde_json::to_string(&content).map_err(AppError::internal)?;
            (email, rendered.subject.clone(), text, Some(content))
        }
    };
    let message_id = MessageId::new().as_str().to_string();
    let channel_name = if channel == Channel::Sms { "sms" } else { "email" };
    let invoices = sendable
        .iter()
        .map(|(row, step)| {
            let times = memo.times(&merchant.id, &zone, row.due_at, autopay, policy);
            let next = match times.get(step + 1) {
                Some(t) => Some(t.0),
                // After the last step: the final action, if the policy has one.
                None if policy.final_action != FinalAction::None => {
                    Some(times[*step].0 + policy.final_action_after_days * DAY_MS)
                }
                None => None,
            };
            let this = &steps[*step];
            let detail = serde_json::json!({ "message_id": message_id, "step": step, "template": this.template_key,
                "tone": this.tone, "channel": channel_name });
            Advancing {
                id: row.id.clone(),
                step: vec![
                    Val::from(row.id.as_str()),
                    Val::from(row.dunning_step.unwrap_or(0)),
                    Val::from((step + 1) as i64),
                    Val::from(next),
                ],
                link: vec![Val::from(message_id.as_str()), Val::from(row.id.as_str())],
                event: vec![
                    Val::from(EventId::new().as_str()),
                    Val::from(merchant_id.as_str()),
                    Val::from(customer_id.as_str()),
                    Val::from(row.id.as_str()),
                    Val::from("reminder_sent"),
                    Val::from(detail.to_string()),
                    Val::from(now.0),
                ],
                late_fee: fees.get(&row.id).copied(),
            }
        })
        .collect();
    let message = vec![
        Val::from(message_id.as_str()),
        Val::from(merchant_id.as_str()),
        Val::from(customer_id.as_str()),
        Val::from(channel_name),
        Val::from(to),
        Val::from(subject),
        Val::from(text),
        Val::from(content),
        Val::from(format!("dunning:{}", lead.template_key)),
        Val::from(format!("dunning:{}:{}:{}", customer_id, today, lead.template_key)),
        Val::from("queued"),
        Val::from(now.0),
        Val::from(now.0),
    ];
    let token = vec![
        Val::from(AccessTokenId::new().as_str()),
        Val::from(merchant_id.as_str()),
        Val::from(customer_id.as_str()),
        Val::from(token.hash()),
        Val::from("access_link"),
        Val::from(now.0),
        Val::from(now.plus_days(merchant.access_link_ttl_days).0),
    ];
    plan.outgoing.push(Outgoing { merchant: merchant_id, customer: customer_id, message, message_id, token, invoices });
    Ok(())
}

/// Writes a chunk of reminders in one transaction: each invoice's step is
/// advanced only if it is still the step read (another worker may have
/// sent it), and a customer's message is queued only when at least one of
/// its invoices advanced, under its dedupe key. Returns messages queued.
async fn write_chunk(state: &AppState, mut chunk: Vec<Outgoing>, now: UtcMillis) -> Result<usize, AppError> {
    let mut tx = crate::server::db::begin_write(state.db.pool()).await?;
    let steps: Vec<Vec<Val>> =
        chunk.iter_mut().flat_map(|o| o.invoices.iter_mut()).map(|i| std::mem::take(&mut i.step)).collect();
    let advanced: HashSet<String> = bulk::update_many(
        &mut tx,
        "invoices",
        &["id", "read_step", "new_step", "next_at"],
        &steps,
        &[("dunning_step", "new_step"), ("dunning_next_at", "next_at")],
        &[("dunning_step", "read_step")],
        "status = 'open'",
    )
    .await?
    .into_iter()
    .collect();

    let tokens: Vec<Vec<Val>> = chunk.iter_mut().map(|o| std::mem::take(&mut o.token)).collect();
    bulk::insert(&mut tx, "access_tokens", &TOKEN_COLUMNS, &tokens, "").await?;

    // Another worker sent the ones none of whose invoices advanced here.
    chunk.retain(|o| o.invoices.iter().any(|i| advanced.contains(&i.id)));
    let messages: Vec<Vec<Val>> = chunk.iter_mut().map(|o| std::mem::take(&mut o.message)).collect();
    let queued: HashSet<String> = bulk::insert(
        &mut tx,
        "messages",
        &MESSAGE_COLUMNS,
        &messages,
        "ON CONFLICT (merchant_id, dedupe_key) DO NOTHING RETURNING id",
    )
    .await?
    .into_iter()
    .collect();

    let (mut links, mut sent_events) = (Vec::new(), Vec::new());
    for o in chunk.iter_mut().filter(|o| queued.contains(&o.message_id)) {
        for i in o.invoices.iter_mut().filter(|i| advanced.contains(&i.id)) {
            links.push(std::mem::take(&mut i.link));
            sent_events.push(std::mem::take(&mut i.event));
        }
    }
    bulk::insert(&mut tx, "message_invoices", &["message_id", "invoice_id"], &links, "").await?;
    bulk::insert(&mut tx, "events", &EVENT_COLUMNS, &sent_events, "").await?;
    // The fee goes with the step, whether or not this worker's message did.
    for o in &chunk {
        for i in o.invoices.iter().filter(|i| advanced.contains(&i.id)) {
            if let Some(fee) = i.late_fee {
                add_late_fee(&mut tx, &o.merchant, &o.customer, &i.id, fee, now).await?;
            }
        }
    }
    tx.commit().await?;
    Ok(queued.len())
}

/// Gives invoices without a place in the sequence their first one.
async fn schedule_new(state: &AppState, limit: i64) -> Result<usize, AppError> {
    let now = state.clock.now();
    // Merchant first, so that SQLite walks the partial index of unplaced
    // invoices per merchant (CROSS JOIN fixes its join order) instead of
    // every open invoice.
    let rows: Vec<(String, String, i64, String, String, i64)> = sqlx::query_as(
        "SELECT i.id, i.merchant_id, i.due_at, c.time_zone, m.time_zone, c.autopay_enabled FROM merchants m \
         CROSS JOIN invoices i JOIN customers c ON c.id = i.customer_id AND c.merchant_id = i.merchant_id \
         WHERE i.merchant_id = m.id AND i.status = 'open' AND i.dunning_step IS NULL LIMIT $1",
    )
    .bind(limit)
    .fetch_all(state.db.pool())
    .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let mut policies: HashMap<String, Policy> = HashMap::new();
    let mut memo = ScheduleMemo::default();
    let mut placed = Vec::with_capacity(rows.len());
    for (id, merchant, due_at, customer_tz, merchant_tz, autopay) in rows {
        if !policies.contains_key(&merchant) {
            let policy = policy_for(state.db.pool(), &MerchantId::from_trusted(merchant.clone())).await?;
            policies.insert(merchant.clone(), policy);
        }
        let policy = &policies[&merchant];
        let zone = memo.zone(&customer_tz, &merchant_tz);
        let (step, at) = match place(memo.times(&merchant, &zone, due_at, autopay != 0, policy), now) {
            Some((i, at)) => (i as i64, Some(at.0)),
            None => (0, None),
        };
        placed.push(vec![Val::from(id), Val::from(step), Val::from(at)]);
    }
    let mut tx = crate::server::db::begin_write(state.db.pool()).await?;
    let done = bulk::update_many(
        &mut tx,
        "invoices",
        &["id", "step", "next_at"],
        &placed,
        &[("dunning_step", "step"), ("dunning_next_at", "next_at")],
        &[],
        "dunning_step IS NULL",
    )
    .await?;
    tx.commit().await?;
    Ok(done.len())
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
    row: &DueInvoice,
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
