//! One-off account emails of the dunning engine (card expiring, payment
//! failed): a fresh access link behind a button that lands on the payment
//! page, the merchant's branding, a dedupe key, a send time outside quiet
//! hours, and the invoices it is about (so it is suppressed if they are
//! settled before it goes out).

use crate::server::ids::MessageId;
use crate::server::mail::{render_branded, EmailContent};
use crate::server::portal::{access_link_path, issue_access_link};
use crate::server::repo::customers::CustomerRow;
use crate::server::repo::merchants::MerchantRow;
use crate::server::repo::messages::{self, NewEmail};
use crate::server::{AppError, AppState, UtcMillis};

pub struct Notice<'a> {
    pub subject: String,
    pub heading: String,
    pub paragraphs: Vec<String>,
    pub action_label: &'a str,
    /// Stored as `dunning:{template}`.
    pub template: &'a str,
    pub dedupe_key: String,
    pub send_at: UtcMillis,
    pub invoices: &'a [&'a str],
}

/// Queues the notice; `None` when one with its dedupe key exists already.
pub async fn queue(
    state: &AppState,
    merchant: &MerchantRow,
    customer: &CustomerRow,
    notice: Notice<'_>,
) -> Result<Option<MessageId>, AppError> {
    let pool = state.db.pool();
    let now = state.clock.now();
    let token = issue_access_link(pool, now, merchant, &customer.customer_id()).await?;
    let link = format!("{}{}", state.portal.base_url.trim_end_matches('/'), access_link_path(&merchant.slug, &token));
    let (text, html) = render_branded(
        merchant,
        &state.portal.base_url,
        &EmailContent {
            heading: notice.heading,
            paragraphs: notice.paragraphs,
            action: Some((notice.action_label.to_string(), format!("{link}?to=pay"))),
        },
    );
    let mut tx = crate::server::db::begin_write(pool).await?;
    let queued = messages::enqueue_email(
        &mut *tx,
        &merchant.merchant_id(),
        &NewEmail {
            customer: Some(customer.customer_id()),
            to_address: customer.email.clone(),
            subject: notice.subject,
            body_text: text,
            body_html: html,
            template_key: format!("dunning:{}", notice.template),
            dedupe_key: notice.dedupe_key,
        },
        now,
    )
    .await?;
    if let Some(id) = &queued {
        sqlx::query("UPDATE messages SET next_attempt_at = $1 WHERE id = $2")
            .bind(notice.send_at.0.max(now.0))
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        for invoice in notice.invoices {
            sqlx::query("INSERT INTO message_invoices (message_id, invoice_id) VALUES ($1, $2)")
                .bind(id.as_str())
                .bind(*invoice)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(queued)
}
