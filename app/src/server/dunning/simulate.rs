//! `settle simulate`: runs a merchant's dunning policy (or a draft) on
//! virtual time against a copy of their current data, and tells what would
//! happen: each message and charge attempt, on which local date and hour,
//! and why. Customers follow a behaviour model (pay after reminder N; cards
//! that pay, decline softly or decline hard). The copy is a private SQLite
//! file that is deleted afterwards; the real data is only read, and no
//! message or charge leaves the process.

use super::policy::{Policy, PolicyError};
use super::sim_gateway::{CardBehaviour, SimGateway};
use super::store;
use crate::server::gateway::sandbox::SandboxGateway;
use crate::server::gateway::Gateways;
use crate::server::ids::MerchantId;
use crate::server::portal::customer_zone;
use crate::server::repo::bulk::Val;
use crate::server::repo::{customers, merchants};
use crate::server::state::PortalSettings;
use crate::server::{AppState, Db, ManualClock, UtcMillis};
use crate::types::{Currency, Money};
use sqlx::{Column, Row};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const HOUR_MS: i64 = 3_600_000;
pub const MAX_DAYS: u32 = 366;

#[derive(Clone, Debug)]
pub struct SimOptions {
    pub merchant_slug: String,
    pub days: u32,
    /// Show only this customer's timeline (everyone is still simulated:
    /// the engine treats customers independently).
    pub customer_email: Option<String>,
    /// A draft to try instead of the merchant's stored policy.
    pub policy: Option<Policy>,
    /// Customers pay everything they owe the day after their Nth reminder.
    pub pays_after_reminder: Option<u32>,
    pub card: CardBehaviour,
    /// The public origin links in messages are built from.
    pub base_url: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("no merchant with the portal name {0:?}")]
    UnknownMerchant(String),
    #[error("merchant {merchant:?} has no customer with the email {email:?}")]
    UnknownCustomer { merchant: String, email: String },
    #[error("--days must be from 1 to {MAX_DAYS}")]
    Days,
    #[error("the policy is not valid:\n{}", .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    BadPolicy(Vec<PolicyError>),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("the copy of the data could not be made: {0}")]
    Copy(String),
    #[error("{0}")]
    Engine(String),
}

impl From<crate::server::AppError> for SimError {
    fn from(e: crate::server::AppError) -> SimError {
        SimError::Engine(e.to_string())
    }
}

/// One thing that happened, in the customer's local time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub at: UtcMillis,
    /// "2026-03-16 Mon 08:00 CDT"
    pub local: String,
    pub customer: String,
    pub what: String,
    pub why: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub emails: usize,
    pub texts: usize,
    pub charges: usize,
    pub charges_succeeded: usize,
    pub customers_paid: usize,
    /// Collected in the simulation (charges and modelled payments), per currency.
    pub collected: BTreeMap<String, i64>,
    pub final_actions: usize,
}

#[derive(Clone, Debug)]
pub struct Timeline {
    pub header: String,
    pub entries: Vec<Entry>,
    pub summary: Summary,
}

impl Timeline {
    /// The timeline as the CLI prints it.
    pub fn render(&self) -> String {
        let mut out = format!("{}\n\n", self.header);
        if self.entries.is_empty() {
            out.push_str("Nothing would be sent or charged in this period.\n");
        }
        let name_width = self.entries.iter().map(|e| e.customer.chars().count()).max().unwrap_or(0).max(8);
        let when_width = self.entries.iter().map(|e| e.local.chars().count()).max().unwrap_or(0);
        for e in &self.entries {
            out.push_str(&format!("{:<when_width$}  {:<name_width$}  {}\n", e.local, e.customer, e.what));
            out.push_str(&format!("{:<when_width$}  {:<name_width$}  why: {}\n", "", "", e.why));
        }
        let s = &self.summary;
        let collected: Vec<String> = s
            .collected
            .iter()
            .filter_map(|(c, v)| Currency::parse(c).ok().map(|c| Money::new(*v, c).display_in("en-US")))
            .collect();
        out.push_str(&format!(
            "\nSummary: {} email(s), {} text message(s), {} charge attempt(s) ({} succeeded), {} customer(s) paid, \
             collected {}, {} final action(s).\n",
            s.emails,
            s.texts,
            s.charges,
            s.charges_succeeded,
            s.customers_paid,
            if collected.is_empty() { "nothing".to_string() } else { collected.join(" + ") },
            s.final_actions
        ));
        out
    }
}

/// Runs the simulation. `workdir` holds the private copy while it runs.
pub async fn simulate(source: &Db, now: UtcMillis, opts: &SimOptions, workdir: &Path) -> Result<Timeline, SimError> {
    if opts.days == 0 || opts.days > MAX_DAYS {
        return Err(SimError::Days);
    }
    if let Some(p) = &opts.policy {
        p.validate().map_err(SimError::BadPolicy)?;
    }
    let merchant = merchants::find_by_slug(source.pool(), &opts.merchant_slug)
        .await?
        .ok_or_else(|| SimError::UnknownMerchant(opts.merchant_slug.clone()))?;
    let mid = merchant.merchant_id();
    let only = match &opts.customer_email {
        Some(email) => Some(
            customers::find_by_email(source.pool(), &mid, email)
                .await?
                .ok_or_else(|| SimError::UnknownCustomer { merchant: merchant.slug.clone(), email: email.clone() })?
                .id,
        ),
        None => None,
    };

    let file = workdir.join(format!("settle-simulation-{}.db", crate::server::ids::new_id_body()));
    let copy = Db::connect(&format!("sqlite://{}?mode=rwc", file.display()), 4)
        .await
        .map_err(|e| SimError::Copy(e.to_string()))?;
    let result = async {
        copy.migrate().await.map_err(|e| SimError::Copy(e.to_string()))?;
        copy_merchant(source, &copy, &mid).await?;
        run(&copy, &merchant, now, opts, only.as_deref()).await
    }
    .await;
    copy.pool().close().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
    result
}

/// The merchant's rows, table by table in dependency order.
const TABLES: &[(&str, &str)] = &[
    ("merchants", "id = $1"),
    ("customers", "merchant_id = $1"),
    ("payment_methods", "merchant_id = $1"),
    ("invoices", "merchant_id = $1"),
    ("invoice_lines", "merchant_id = $1"),
    ("payments", "merchant_id = $1"),
    ("payment_allocations", "merchant_id = $1"),
    ("dunning_policies", "merchant_id = $1"),
    ("dunning_steps", "merchant_id = $1"),
    ("templates", "merchant_id = $1"),
    ("promises", "merchant_id = $1"),
    ("disputes", "merchant_id = $1"),
    ("autopay_consents", "merchant_id = $1"),
    // History the engine consults: dedupe keys, the weekly cap, pending retries.
    ("jobs", "merchant_id = $1"),
    ("messages", "merchant_id = $1"),
    ("message_invoices", "message_id IN (SELECT id FROM messages WHERE merchant_id = $1)"),
];

async fn copy_merchant(source: &Db, copy: &Db, merchant: &MerchantId) -> Result<(), SimError> {
    let mut tx = copy.pool().begin().await?;
    for (table, filter) in TABLES {
        let rows = sqlx::query(&format!("SELECT * FROM {table} WHERE {filter}"))
            .bind(merchant.as_str())
            .fetch_all(source.pool())
            .await?;
        for row in rows {
            let columns: Vec<String> = row.columns().iter().map(|c| c.name().to_string()).collect();
            let mut values = Vec::with_capacity(columns.len());
            for i in 0..columns.len() {
                // Every column is BIGINT or TEXT on both backends.
                values.push(match row.try_get::<Option<i64>, _>(i) {
                    Ok(v) => Val::Int(v),
                    Err(_) => Val::Text(
                        row.try_get::<Option<String>, _>(i)
                            .map_err(|e| SimError::Copy(format!("{table}.{}: {e}", columns[i])))?,
                    ),
                });
            }
            let names: Vec<&str> = columns.iter().map(String::as_str).collect();
            crate::server::repo::bulk::insert(&mut tx, table, &names, &[values], "").await?;
        }
    }
    // Secrets have no business in the copy.
    sqlx::query("UPDATE merchants SET webhook_secret = NULL").execute(&mut *tx).await?;
    sqlx::query("UPDATE customers SET password_hash = NULL").execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

async fn run(
    copy: &Db,
    merchant: &merchants::MerchantRow,
    start: UtcMillis,
    opts: &SimOptions,
    only: Option<&str>,
) -> Result<Timeline, SimError> {
    let mid = merchant.merchant_id();
    let policy_label = match &opts.policy {
        Some(p) => {
            store::save(copy.pool(), &mid, "draft (simulated)", p, start).await?.map_err(SimError::BadPolicy)?;
            "the draft policy given"
        }
        None => "the merchant's current policy",
    };
    let policy = store::policy_for(copy.pool(), &mid).await?;
    let clock = Arc::new(ManualClock::new(start));
    let state = AppState {
        db: copy.clone(),
        clock: clock.clone(),
        leptos_options: leptos::config::LeptosOptions::builder().output_name("settle").build(),
        portal: Arc::new(PortalSettings {
            base_url: opts.base_url.clone(),
            stripe_js_url: String::new(),
            stripe_api_base: None,
        }),
        gateways: Gateways {
            sandbox: Arc::new(SandboxGateway::new(copy.clone(), clock.clone(), Duration::ZERO)),
            stripe: None,
            simulated: Some(Arc::new(SimGateway { behaviour: opts.card })),
        },
    };
    let mut modelled: Vec<Entry> = Vec::new();
    for _ in 0..(opts.days as i64 * 24) {
        super::sweep::sweep(&state, 100_000).await?;
        crate::server::jobs::run_once(&state, "simulator", 10_000).await?;
        if let Some(n) = opts.pays_after_reminder {
            pay_per_model(&state, &mid, start, n, &mut modelled).await?;
        }
        clock.advance(Duration::from_millis(HOUR_MS as u64));
    }
    let mut entries = collect(copy, merchant, &policy, start).await?;
    entries.extend(modelled);
    if let Some(customer) = only {
        let (name,): (String,) =
            sqlx::query_as("SELECT name FROM customers WHERE id = $1").bind(customer).fetch_one(copy.pool()).await?;
        entries.retain(|e| e.customer == name);
    }
    // Same moment: the charge, then the message it caused, then the rest.
    let rank = |e: &Entry| match e.what.split(' ').next() {
        Some("autopay") => 0,
        Some("email" | "sms") => 1,
        Some("pays") => 3,
        _ => 2,
    };
    entries.sort_by(|a, b| (a.at, &a.customer, rank(a)).cmp(&(b.at, &b.customer, rank(b))));
    let summary = summarize(&entries, copy, &mid, start, only).await?;
    let start_utc = start.to_timestamp().strftime("%Y-%m-%d %H:%M UTC");
    let card = match opts.card {
        CardBehaviour::Pays => "autopay charges succeed".to_string(),
        CardBehaviour::SoftDecline { recovers_on_retry: None } => "autopay cards decline (soft), never recover".into(),
        CardBehaviour::SoftDecline { recovers_on_retry: Some(n) } => {
            format!("autopay cards decline (soft) until retry {n}")
        }
        CardBehaviour::HardDecline => "autopay cards decline (hard)".into(),
    };
    let pays = match opts.pays_after_reminder {
        Some(n) => format!("customers pay the day after reminder {n}"),
        None => "customers never pay by themselves".into(),
    };
    let header = format!(
        "Simulation of {policy_label} for {} ({}): {} days from {start_utc}.\nBehaviour: {pays}; {card}.\n\
         Nothing was sent or charged; times are each customer's local time.",
        merchant.display_name, merchant.slug, opts.days
    );
    Ok(Timeline { header, entries, summary })
}

/// Customers who have had `n` reminders pay everything the day after the nth.
async fn pay_per_model(
    state: &AppState,
    merchant: &MerchantId,
    start: UtcMillis,
    n: u32,
    out: &mut Vec<Entry>,
) -> Result<(), SimError> {
    let now = state.clock.now();
    let ready: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT c.id, c.name, c.time_zone, m.time_zone FROM customers c JOIN merchants m ON m.id = c.merchant_id \
         WHERE c.merchant_id = $1 \
         AND EXISTS (SELECT 1 FROM invoices i WHERE i.customer_id = c.id AND i.status = 'open') \
         AND (SELECT COUNT(*) FROM messages g WHERE g.customer_id = c.id AND g.template_key LIKE 'dunning:%' \
              AND g.created_at >= $2 AND MAX(g.created_at, g.next_attempt_at) <= $3) >= $4",
    )
    .bind(merchant.as_str())
    .bind(start.0)
    .bind(now.0 - 24 * HOUR_MS)
    .bind(n as i64)
    .fetch_all(state.db.pool())
    .await?;
    for (customer, name, tz, merchant_tz) in ready {
        let open: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT number, currency, total_minor - amount_paid_minor FROM invoices \
             WHERE customer_id = $1 AND status = 'open' ORDER BY due_at",
        )
        .bind(&customer)
        .fetch_all(state.db.pool())
        .await?;
        sqlx::query(
            "UPDATE invoices SET status = 'paid', amount_paid_minor = total_minor, paid_at = $1, updated_at = $1 \
             WHERE customer_id = $2 AND status = 'open'",
        )
        .bind(now.0)
        .bind(&customer)
        .execute(state.db.pool())
        .await?;
        let zone = customer_zone(&tz, &merchant_tz);
        let amounts: Vec<String> = open.iter().map(|(_, c, v)| money(*v, c)).collect();
        let numbers: Vec<&str> = open.iter().map(|(n, _, _)| n.as_str()).collect();
        out.push(Entry {
            at: now,
            local: local_label(now, &zone),
            customer: name,
            what: format!("pays {} ({})", numbers.join(", "), amounts.join(" + ")),
            why: format!("behaviour model: pays the day after reminder {n}"),
        });
    }
    Ok(())
}

fn money(minor: i64, currency: &str) -> String {
    match Currency::parse(currency) {
        Ok(c) => Money::new(minor, c).display_in("en-US"),
        Err(_) => format!("{minor} {currency}"),
    }
}

fn local_label(at: UtcMillis, zone: &jiff::tz::TimeZone) -> String {
    at.to_timestamp().to_zoned(zone.clone()).strftime("%Y-%m-%d %a %H:%M %Z").to_string()
}

fn plural_days(n: i64) -> String {
    if n.abs() == 1 {
        "1 day".into()
    } else {
        format!("{} days", n.abs())
    }
}

/// Reads back what the engine did in the copy, with the reason for each.
async fn collect(
    copy: &Db,
    merchant: &merchants::MerchantRow,
    policy: &Policy,
    start: UtcMillis,
) -> Result<Vec<Entry>, SimError> {
    let pool = copy.pool();
    let mid = merchant.merchant_id();
    let mut entries = Vec::new();

    let messages: Vec<(String, i64, String, String, String, String, String, String)> = sqlx::query_as(
        "SELECT g.id, MAX(g.created_at, g.next_attempt_at), g.channel, COALESCE(g.template_key, ''), g.subject, g.body_text, c.name, \
         c.time_zone FROM messages g JOIN customers c ON c.id = g.customer_id \
         WHERE g.merchant_id = $1 AND g.created_at >= $2",
    )
    .bind(mid.as_str())
    .bind(start.0)
    .fetch_all(pool)
    .await?;
    for (id, at, channel, template, subject, body, name, tz) in messages {
        let zone = customer_zone(&tz, &merchant.time_zone);
        let about: Vec<(String, i64)> = sqlx::query_as(
            "SELECT i.number, i.due_at FROM message_invoices mi JOIN invoices i ON i.id = mi.invoice_id \
             WHERE mi.message_id = $1 ORDER BY i.due_at",
        )
        .bind(&id)
        .fetch_all(pool)
        .await?;
        let key = template.trim_start_matches("dunning:");
        let headline = if channel == "sms" { body.chars().take(70).collect::<String>() } else { subject.clone() };
        let what = format!("{channel} {key}: \"{headline}\"");
        let numbers: Vec<&str> = about.iter().map(|(n, _)| n.as_str()).collect();
        let why = match policy.steps.iter().find(|s| s.template_key == key) {
            Some(step) => {
                let today = super::calendar::local_day(UtcMillis(at), &zone);
                let oldest = about.first().map(|(_, due)| super::calendar::local_day(UtcMillis(*due), &zone));
                let late = oldest.map(|d| (today - d).get_days() as i64).unwrap_or(0);
                let position = if late > 0 {
                    format!("{} overdue", plural_days(late))
                } else if late == 0 {
                    "due today".into()
                } else {
                    format!("due in {}", plural_days(late))
                };
                let side = if step.offset_days < 0 { "before" } else { "after" };
                format!(
                    "{} {position}; policy step {} the due date ({:?} tone, {:?})",
                    numbers.join(", "),
                    format_args!("{} {side}", plural_days(step.offset_days)),
                    step.tone,
                    step.channel
                )
                .replace("Friendly", "friendly")
                .replace("Firm", "firm")
                .replace("Final", "final")
                .replace("Email", "email")
                .replace("Sms", "SMS")
            }
            None if key == "update_card" => {
                format!("the automatic payment for {} was declined and no retry is left", numbers.join(", "))
            }
            None if key == "payment_receipt" => "a receipt for the payment that went through".into(),
            None if key == "card_expiring" => "the card autopay charges expires before the next payment".into(),
            None => format!("about {}", numbers.join(", ")),
        };
        entries.push(Entry { at: UtcMillis(at), local: local_label(UtcMillis(at), &zone), customer: name, what, why });
    }

    let charges: Vec<(i64, String, i64, String, String, Option<String>, Option<String>, String, String)> =
        sqlx::query_as(
            "SELECT p.created_at, p.idempotency_key, p.amount_minor, p.currency, p.status, p.failure_code, \
             p.decline_kind, c.name, c.time_zone FROM payments p JOIN customers c ON c.id = p.customer_id \
             WHERE p.merchant_id = $1 AND p.created_at >= $2 AND p.purpose = 'autopay'",
        )
        .bind(mid.as_str())
        .bind(start.0)
        .fetch_all(pool)
        .await?;
    let retries = policy.retries.days.len();
    for (at, key, amount, currency, status, code, kind, name, tz) in charges {
        let zone = customer_zone(&tz, &merchant.time_zone);
        let invoice_id = key.split(':').nth(1).unwrap_or_default().to_string();
        let (number,): (String,) = sqlx::query_as("SELECT number FROM invoices WHERE id = $1")
            .bind(&invoice_id)
            .fetch_optional(pool)
            .await?
            .unwrap_or_default();
        let outcome = match status.as_str() {
            "succeeded" => "succeeded".to_string(),
            "failed" => format!(
                "declined ({}, {})",
                code.unwrap_or_else(|| "declined".into()),
                kind.unwrap_or_else(|| "soft".into())
            ),
            other => other.to_string(),
        };
        let attempt = key.rsplit_once(":retry").and_then(|(_, n)| n.parse::<usize>().ok());
        let why = match attempt {
            None => format!("{number} is due and autopay is on"),
            Some(n) => format!(
                "silent retry {n} of {retries} for {number} (policy: days {:?} after the due date at {:02}:00)",
                policy.retries.days, policy.retries.local_hour
            ),
        };
        entries.push(Entry {
            at: UtcMillis(at),
            local: local_label(UtcMillis(at), &zone),
            customer: name,
            what: format!("autopay charge {}: {outcome}", money(amount, &currency)),
            why,
        });
    }

    let events: Vec<(i64, String, String, Option<String>, String, String)> = sqlx::query_as(
        "SELECT e.created_at, e.kind, e.detail, i.number, c.name, c.time_zone FROM events e \
         JOIN customers c ON c.id = e.customer_id LEFT JOIN invoices i ON i.id = e.invoice_id \
         WHERE e.merchant_id = $1 AND e.created_at >= $2 \
         AND e.kind IN ('customer_suspended', 'sent_to_collections', 'written_off', 'late_fee_added')",
    )
    .bind(mid.as_str())
    .bind(start.0)
    .fetch_all(pool)
    .await?;
    for (at, kind, detail, number, name, tz) in events {
        let zone = customer_zone(&tz, &merchant.time_zone);
        let number = number.unwrap_or_default();
        let detail: serde_json::Value = serde_json::from_str(&detail).unwrap_or_default();
        let after = plural_days(policy.final_action_after_days);
        let (what, why) = match kind.as_str() {
            "late_fee_added" => (
                format!(
                    "late fee {} added to {number}",
                    money(detail["fee_minor"].as_i64().unwrap_or(0), &merchant.default_currency)
                ),
                "policy late fee, with the first overdue reminder".to_string(),
            ),
            "customer_suspended" => {
                ("customer suspended".into(), format!("{number} still unpaid {after} after the last reminder"))
            }
            "sent_to_collections" => {
                (format!("{number} marked for collections"), format!("still unpaid {after} after the last reminder"))
            }
            _ => (format!("{number} written off"), format!("still unpaid {after} after the last reminder")),
        };
        entries.push(Entry { at: UtcMillis(at), local: local_label(UtcMillis(at), &zone), customer: name, what, why });
    }
    Ok(entries)
}

async fn summarize(
    entries: &[Entry],
    copy: &Db,
    merchant: &MerchantId,
    start: UtcMillis,
    only: Option<&str>,
) -> Result<Summary, SimError> {
    let mut s = Summary::default();
    for e in entries {
        if e.what.starts_with("email ") {
            s.emails += 1;
        } else if e.what.starts_with("sms ") {
            s.texts += 1;
        } else if e.what.starts_with("autopay charge ") {
            s.charges += 1;
            s.charges_succeeded += e.what.ends_with(": succeeded") as usize;
        } else if e.what.starts_with("pays ") {
            s.customers_paid += 1;
        } else if e.what.starts_with("customer suspended")
            || e.what.ends_with("for collections")
            || e.what.ends_with("written off")
        {
            s.final_actions += 1;
        }
    }
    // What was collected: invoices that went from open to paid in the run.
    let paid: Vec<(String, i64)> = sqlx::query_as(
        "SELECT currency, SUM(total_minor) FROM invoices WHERE merchant_id = $1 AND status = 'paid' \
         AND paid_at >= $2 AND ($3 = '' OR customer_id = $3) GROUP BY currency",
    )
    .bind(merchant.as_str())
    .bind(start.0)
    .bind(only.unwrap_or(""))
    .fetch_all(copy.pool())
    .await?;
    s.collected = paid.into_iter().collect();
    Ok(s)
}
