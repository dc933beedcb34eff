//! After a declined autopay charge: soft declines are retried silently on
//! the policy's schedule (days after the due date, at a set hour in the
//! customer's zone) before the customer hears anything; a hard decline, or
//! the last retry failing, asks the customer to update their card.

use super::autopay::RETRY_JOB;
use crate::server::dunning::calendar::{local_day, local_instant, next_allowed};
use crate::server::dunning::notify::{self, Notice};
use crate::server::dunning::sweep::policy_for;
use crate::server::ids::{CustomerId, InvoiceId};
use crate::server::portal::customer_zone;
use crate::server::repo::customers::CustomerRow;
use crate::server::repo::merchants::MerchantRow;
use crate::server::repo::{events, jobs};
use crate::server::{AppError, AppState, UtcMillis};

pub(super) async fn after_decline(
    state: &AppState,
    merchant: &MerchantRow,
    customer: &CustomerRow,
    invoice_id: &str,
    due_at: i64,
    attempt: u32,
    hard: bool,
) -> Result<(), AppError> {
    let pool = state.db.pool();
    let now = state.clock.now();
    let mid = merchant.merchant_id();
    let policy = policy_for(pool, &mid).await?;
    let zone = customer_zone(&customer.time_zone, &merchant.time_zone);
    let inv = InvoiceId::from_trusted(invoice_id.to_string());
    let next_day = policy.retries.days.get(attempt as usize).copied();
    match next_day {
        Some(days) if !hard => {
            let due_day = local_day(UtcMillis(due_at), &zone);
            let day = due_day.checked_add(jiff::Span::new().days(days)).unwrap_or(due_day);
            let at = local_instant(day, policy.retries.local_hour as u16 * 60, &zone);
            let run_at = if at.0 > now.0 { at } else { now };
            let payload = serde_json::json!({ "invoice_id": invoice_id, "due_at": due_at, "attempt": attempt + 1 });
            let key = format!("autopay-retry:{invoice_id}:{due_at}:{}", attempt + 1);
            jobs::enqueue(pool, Some(&mid), RETRY_JOB, &payload, &key, run_at, now).await?;
            let detail = serde_json::json!({ "attempt": attempt + 1, "at": run_at.0 });
            events::record(pool, &mid, Some(&customer.customer_id()), Some(&inv), "retry_scheduled", &detail, now)
                .await?;
        }
        _ => ask_for_a_new_card(state, merchant, customer, invoice_id, due_at, hard).await?,
    }
    Ok(())
}

/// "Your payment didn't go through: update your card", once per invoice
/// and due date, sent at the first moment outside quiet hours.
async fn ask_for_a_new_card(
    state: &AppState,
    merchant: &MerchantRow,
    customer: &CustomerRow,
    invoice_id: &str,
    due_at: i64,
    hard: bool,
) -> Result<(), AppError> {
    let pool = state.db.pool();
    let now = state.clock.now();
    let mid = merchant.merchant_id();
    let cid: CustomerId = customer.customer_id();
    let zone = customer_zone(&customer.time_zone, &merchant.time_zone);
    let policy = policy_for(pool, &mid).await?;
    let number: (String,) =
        sqlx::query_as("SELECT number FROM invoices WHERE id = $1").bind(invoice_id).fetch_one(pool).await?;
    let reason = if hard {
        "your bank declined it and it can't be tried again"
    } else {
        "we tried several times and your bank declined each attempt"
    };
    let notice = Notice {
        subject: format!("Action needed: your payment to {} didn't go through", merchant.display_name),
        heading: format!("Your automatic payment to {} didn't go through", merchant.display_name),
        paragraphs: vec![
            format!("Hi {}, we couldn't charge your card for invoice {}: {reason}.", customer.first_name(), number.0),
            "Please pay with another card, or add a new card for your next automatic payments.".into(),
        ],
        action_label: "Update your card",
        template: "update_card",
        dedupe_key: format!("update-card:{invoice_id}:{due_at}"),
        send_at: next_allowed(now, &zone, policy.quiet_hours),
        invoices: &[invoice_id],
    };
    if let Some(id) = notify::queue(state, merchant, customer, notice).await? {
        let inv = InvoiceId::from_trusted(invoice_id.to_string());
        let detail = serde_json::json!({ "message_id": id.as_str(), "template": "update_card", "hard": hard });
        events::record(pool, &mid, Some(&cid), Some(&inv), "reminder_sent", &detail, now).await?;
    }
    Ok(())
}
