//! Card-expiry warnings: an autopay customer whose default card expires
//! before their next charge hears about it 30 and 7 days before (the
//! policy's days), in their allowed hours. A card refreshed by the card
//! updater or replaced is no longer expiring, so no warning goes out; each
//! warning is keyed by card, expiry and day, so it goes out once.

use super::calendar::{is_quiet, local_day};
use super::notify::{self, Notice};
use super::sweep::policy_for;
use crate::server::ids::{CustomerId, MerchantId};
use crate::server::portal::{customer_zone, human_date};
use crate::server::repo::{customers, events, merchants};
use crate::server::{AppError, AppState, UtcMillis};
use jiff::civil::Date;

/// The last day a card with this expiry works.
pub fn last_valid_day(exp_month: i64, exp_year: i64) -> Option<Date> {
    let first = Date::new(exp_year as i16, exp_month as i8, 1).ok()?;
    Some(first.last_of_month())
}

/// Which warning is due on `today` for a card valid through `last_day`: the
/// smallest of `days` whose moment has come (a late sweep sends only that).
pub fn due_warning(days: &[i64], last_day: Date, today: Date) -> Option<i64> {
    let left = (last_day - today).get_days() as i64;
    if left < 0 {
        return None;
    }
    days.iter().copied().filter(|d| left <= *d).min()
}

#[derive(sqlx::FromRow)]
struct Candidate {
    customer_id: String,
    merchant_id: String,
    card_id: String,
    brand: String,
    last4: String,
    exp_month: i64,
    exp_year: i64,
}

/// Queues the warnings due now; returns how many.
pub async fn warn_expiring_cards(state: &AppState) -> Result<usize, AppError> {
    let pool = state.db.pool();
    let now = state.clock.now();
    let today_utc = local_day(now, &jiff::tz::TimeZone::UTC);
    // Cards expiring within about three months: the longest warning window
    // is 90 days.
    let horizon = today_utc.year() as i64 * 12 + today_utc.month() as i64 + 3;
    let candidates: Vec<Candidate> = sqlx::query_as(
        "SELECT c.id AS customer_id, c.merchant_id, pm.id AS card_id, pm.brand, pm.last4, pm.exp_month, pm.exp_year \
         FROM customers c JOIN payment_methods pm ON pm.customer_id = c.id AND pm.merchant_id = c.merchant_id \
         WHERE c.autopay_enabled = 1 AND c.status = 'active' AND c.email_opt_out = 0 \
         AND pm.is_default = 1 AND pm.status = 'active' AND pm.exp_year * 12 + pm.exp_month <= $1",
    )
    .bind(horizon)
    .fetch_all(pool)
    .await?;
    let mut sent = 0;
    for c in candidates {
        let mid = MerchantId::from_trusted(c.merchant_id.clone());
        let cid = CustomerId::from_trusted(c.customer_id.clone());
        let (Some(merchant), Some(customer)) =
            (merchants::find(pool, &mid).await?, customers::find(pool, &mid, &cid).await?)
        else {
            continue;
        };
        let policy = policy_for(pool, &mid).await?;
        let zone = customer_zone(&customer.time_zone, &merchant.time_zone);
        let Some(last_day) = last_valid_day(c.exp_month, c.exp_year) else { continue };
        // Only when the card won't last until the next charge.
        let next_charge: Option<(i64,)> = sqlx::query_as(
            "SELECT due_at FROM invoices WHERE merchant_id = $1 AND customer_id = $2 AND status = 'open' \
             AND total_minor > amount_paid_minor AND due_at > $3 ORDER BY due_at LIMIT 1",
        )
        .bind(mid.as_str())
        .bind(cid.as_str())
        .bind(now.0)
        .fetch_optional(pool)
        .await?;
        match next_charge {
            Some((due_at,)) if local_day(UtcMillis(due_at), &zone) > last_day => {}
            _ => continue,
        }
        let today = local_day(now, &zone);
        let Some(days) = due_warning(&policy.expiry_warning_days, last_day, today) else { continue };
        let t = jiff::Timestamp::from_millisecond(now.0).unwrap_or(jiff::Timestamp::UNIX_EPOCH).to_zoned(zone.clone());
        if is_quiet(policy.quiet_hours, t.hour() as u16 * 60 + t.minute() as u16) {
            continue;
        }
        let key = format!("card-expiry:{}:{}-{:02}:{days}", c.card_id, c.exp_year, c.exp_month);
        let (exists,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM messages WHERE merchant_id = $1 AND dedupe_key = $2")
                .bind(mid.as_str())
                .bind(&key)
                .fetch_one(pool)
                .await?;
        if exists > 0 {
            continue;
        }
        let mut brand = c.brand.clone();
        if let Some(first) = brand.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        let card = format!("{brand} ending {}", c.last4);
        let notice = Notice {
            subject: format!("Your {card} expires soon: update it for {}", merchant.display_name),
            heading: format!("Your card for {} expires soon", merchant.display_name),
            paragraphs: vec![
                format!(
                    "Hi {}, the {card} that pays your {} invoices automatically expires on {}, before your next payment.",
                    customer.first_name(),
                    merchant.display_name,
                    human_date(last_day, &customer.locale)
                ),
                "Add your new card so your next payment goes through without a hitch.".into(),
            ],
            action_label: "Update your card",
            template: "card_expiring",
            dedupe_key: key,
            send_at: now,
            invoices: &[],
        };
        let queued = notify::queue(state, &merchant, &customer, notice).await?;
        if let Some(id) = queued {
            let detail = serde_json::json!({ "message_id": id.as_str(), "card": c.card_id, "days_before": days });
            events::record(pool, &mid, Some(&cid), None, "card_expiry_warning", &detail, now).await?;
            sent += 1;
        }
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn cards_work_through_the_end_of_their_month() {
        assert_eq!(last_valid_day(2, 2028), Some(date(2028, 2, 29)));
        assert_eq!(last_valid_day(12, 2026), Some(date(2026, 12, 31)));
        assert_eq!(last_valid_day(13, 2026), None);
    }

    #[test]
    fn the_latest_warning_due_is_the_one_sent() {
        let last = date(2026, 6, 30);
        assert_eq!(due_warning(&[30, 7], last, date(2026, 5, 30)), None);
        assert_eq!(due_warning(&[30, 7], last, date(2026, 5, 31)), Some(30));
        assert_eq!(due_warning(&[30, 7], last, date(2026, 6, 23)), Some(7));
        assert_eq!(due_warning(&[30, 7], last, date(2026, 6, 29)), Some(7));
        assert_eq!(due_warning(&[30, 7], last, date(2026, 7, 1)), None, "expired: the payment flow takes over");
    }
}
