//! The receipt email after a successful payment, queued in the same
//! transaction that records the success (dedupe key per payment: one email).

use crate::server::mail::{render_branded, EmailContent};
use crate::server::repo::customers::CustomerRow;
use crate::server::repo::merchants::MerchantRow;
use crate::server::repo::messages::{self, NewEmail};
use crate::server::repo::payments::PaymentRecord;
use crate::server::{AppError, AppState, UtcMillis};
use crate::types::{Currency, Money};

pub(super) async fn enqueue(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    state: &AppState,
    merchant: &MerchantRow,
    customer: &CustomerRow,
    payment: &PaymentRecord,
    now: UtcMillis,
) -> Result<(), AppError> {
    let currency = Currency::parse(&payment.currency).map_err(AppError::internal)?;
    let amount = Money::new(payment.amount_minor, currency).display_in(&customer.locale);
    let numbers: Vec<(String,)> = sqlx::query_as(
        "SELECT i.number FROM payment_allocations a JOIN invoices i ON i.id = a.invoice_id \
         WHERE a.payment_id = $1 ORDER BY i.due_at, i.number",
    )
    .bind(&payment.id)
    .fetch_all(&mut **tx)
    .await?;
    let numbers: Vec<String> = numbers.into_iter().map(|n| n.0).collect();
    let url = format!("{}/p/{}/payments/{}", state.portal.base_url, merchant.slug, payment.id);
    let (text, html) = render_branded(
        merchant,
        &state.portal.base_url,
        &EmailContent {
            heading: format!("Thank you: we received {amount}"),
            paragraphs: vec![
                format!(
                    "Hi {}, your payment of {amount} to {} went through.",
                    customer.first_name(),
                    merchant.display_name
                ),
                format!("It pays {}: {}.", if numbers.len() == 1 { "invoice" } else { "invoices" }, numbers.join(", ")),
                format!("Payment reference: {}", payment.id),
            ],
            action: Some(("View your receipt".into(), url)),
        },
    );
    messages::enqueue_email(
        &mut **tx,
        &merchant.merchant_id(),
        &NewEmail {
            customer: Some(customer.customer_id()),
            to_address: customer.email.clone(),
            subject: format!("Receipt for your payment of {amount} to {}", merchant.display_name),
            body_text: text,
            body_html: html,
            template_key: "payment_receipt".into(),
            dedupe_key: format!("receipt:{}", payment.id),
        },
        now,
    )
    .await?;
    Ok(())
}
