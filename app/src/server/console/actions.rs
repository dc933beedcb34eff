//! What staff do to customers and invoices from the console: pause or
//! resume reminders, suspend or reinstate, resend an access link, mark an
//! invoice paid outside Settle, void it. Each one checks the role first,
//! touches only the merchant's own rows, is audited with who did it, and
//! says in words what happened (or why nothing did).

use super::access::Action;
use super::session::Staff;
use crate::server::db::begin_write;
use crate::server::ids::{CustomerId, InvoiceId, PaymentId};
use crate::server::mail::{render_branded, EmailContent};
use crate::server::repo::merchants::MerchantRow;
use crate::server::repo::messages::{self, NewEmail};
use crate::server::repo::{customers, events, invoices, payments};
use crate::server::{portal, AppError, UtcMillis};
use crate::types::{Currency, Money};
use sqlx::AnyPool;

/// Where a request came from, for the audit log.
#[derive(Clone, Debug, Default)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// What the staff member is told afterwards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Done(String),
    /// Nothing changed, and why (already paused, already paid, …).
    Unchanged(String),
}

struct Ctx<'a> {
    pool: &'a AnyPool,
    staff: &'a Staff,
    merchant: &'a MerchantRow,
    origin: &'a Origin,
    now: UtcMillis,
}

impl Ctx<'_> {
    async fn audit<'c>(
        &self,
        ex: impl sqlx::any::AnyExecutor<'c>,
        action: &str,
        subject: (&str, &str),
        detail: serde_json::Value,
    ) -> Result<(), AppError> {
        events::audit(
            ex,
            &self.merchant.merchant_id(),
            "merchant_user",
            Some(self.staff.user.id.as_str()),
            action,
            Some(subject),
            &detail,
            self.origin.ip.as_deref(),
            self.origin.user_agent.as_deref(),
            self.now,
        )
        .await?;
        Ok(())
    }

    async fn customer(&self, id: &CustomerId) -> Result<customers::CustomerRow, AppError> {
        customers::find(self.pool, &self.merchant.merchant_id(), id).await?.ok_or(AppError::NotFound)
    }
}

/// A customer-level action, by name (the console's form posts use these).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CustomerAction {
    Pause,
    Resume,
    Suspend,
    Reinstate,
    SendLink,
}

impl CustomerAction {
    pub fn parse(s: &str) -> Option<CustomerAction> {
        Some(match s {
            "pause" => CustomerAction::Pause,
            "resume" => CustomerAction::Resume,
            "suspend" => CustomerAction::Suspend,
            "reinstate" => CustomerAction::Reinstate,
            "send-link" => CustomerAction::SendLink,
            _ => return None,
        })
    }
}

pub async fn on_customer(
    pool: &AnyPool,
    staff: &Staff,
    merchant: &MerchantRow,
    customer: &CustomerId,
    action: CustomerAction,
    origin: &Origin,
    now: UtcMillis,
    base_url: &str,
) -> Result<Outcome, AppError> {
    staff.require(Action::ManageCustomers)?;
    let ctx = Ctx { pool, staff, merchant, origin, now };
    let row = ctx.customer(customer).await?;
    let mid = merchant.merchant_id();
    let subject = ("customer", row.id.as_str());
    match action {
        CustomerAction::Pause | CustomerAction::Resume => {
            let pause = action == CustomerAction::Pause;
            let mut tx = begin_write(pool).await?;
            let changed = sqlx::query(if pause {
                "UPDATE customers SET dunning_paused_at = $1, updated_at = $1 \
                 WHERE merchant_id = $2 AND id = $3 AND dunning_paused_at IS NULL"
            } else {
                "UPDATE customers SET dunning_paused_at = NULL, updated_at = $1 \
                 WHERE merchant_id = $2 AND id = $3 AND dunning_paused_at IS NOT NULL"
            })
            .bind(now.0)
            .bind(mid.as_str())
            .bind(customer.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 0 {
                return Ok(Outcome::Unchanged(if pause {
                    format!("Reminders to {} were already paused.", row.name)
                } else {
                    format!("Reminders to {} were not paused.", row.name)
                }));
            }
            if !pause {
                // Looked at on the next sweep rather than when the hold ran out.
                sqlx::query(
                    "UPDATE invoices SET dunning_next_at = $1 WHERE merchant_id = $2 AND customer_id = $3 \
                     AND status = 'open' AND dunning_next_at > $1",
                )
                .bind(now.0)
                .bind(mid.as_str())
                .bind(customer.as_str())
                .execute(&mut *tx)
                .await?;
            }
            let name = if pause { "customer.dunning_paused" } else { "customer.dunning_resumed" };
            ctx.audit(&mut *tx, name, subject, serde_json::json!({})).await?;
            tx.commit().await?;
            Ok(Outcome::Done(if pause {
                format!("Paused reminders and retries for {}.", row.name)
            } else {
                format!("Resumed reminders for {}; anything due goes out on the next run.", row.name)
            }))
        }
        CustomerAction::Suspend | CustomerAction::Reinstate => {
            let suspend = action == CustomerAction::Suspend;
            let (to, from) = if suspend { ("suspended", "active") } else { ("active", "suspended") };
            let mut tx = begin_write(pool).await?;
            let changed = sqlx::query(
                "UPDATE customers SET status = $1, updated_at = $2 WHERE merchant_id = $3 AND id = $4 AND status = $5",
            )
            .bind(to)
            .bind(now.0)
            .bind(mid.as_str())
            .bind(customer.as_str())
            .bind(from)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 0 {
                return Ok(Outcome::Unchanged(format!("{} is already {to}.", row.name)));
            }
            let kind = if suspend { "customer_suspended" } else { "customer_reinstated" };
            let detail = serde_json::json!({ "by": "staff", "user_id": staff.user.id });
            events::record(&mut *tx, &mid, Some(customer), None, kind, &detail, now).await?;
            let name = if suspend { "customer.suspended" } else { "customer.reinstated" };
            ctx.audit(&mut *tx, name, subject, serde_json::json!({})).await?;
            tx.commit().await?;
            Ok(Outcome::Done(if suspend {
                format!("Suspended {}: no more reminders or retries until reinstated.", row.name)
            } else {
                format!("Reinstated {}.", row.name)
            }))
        }
        CustomerAction::SendLink => {
            // One link per customer per ten minutes, however many clicks or tabs.
            let window = now.0 / (10 * 60 * 1000);
            let dedupe_key = format!("console-link:{}:{window}", row.id);
            let token = portal::issue_access_link(pool, now, merchant, customer).await?;
            let base_url = merchant.public_base_url(base_url);
            let url = format!("{base_url}{}", portal::access_link_path(&merchant.slug, &token));
            let (text, html) = render_branded(
                merchant,
                &base_url,
                &EmailContent {
                    heading: "Your account link".into(),
                    paragraphs: vec![
                        format!(
                            "{} sent you a link to your account, where you can see your invoices and pay them.",
                            merchant.display_name
                        ),
                        format!("It works for {} days.", merchant.access_link_ttl_days),
                    ],
                    action: Some(("Open your account".into(), url)),
                },
            );
            let mut tx = begin_write(pool).await?;
            let queued = messages::enqueue_email(
                &mut *tx,
                &mid,
                &NewEmail {
                    customer: Some(customer.clone()),
                    to_address: row.email.clone(),
                    subject: format!("Your {} account link", merchant.display_name),
                    body_text: text,
                    body_html: html,
                    template_key: "access_link_console".into(),
                    dedupe_key,
                },
                now,
            )
            .await?;
            if queued.is_none() {
                return Ok(Outcome::Unchanged(format!(
                    "A link already went to {} in the last few minutes; it is in their inbox or on its way.",
                    row.email
                )));
            }
            ctx.audit(&mut *tx, "customer.link_sent", subject, serde_json::json!({})).await?;
            tx.commit().await?;
            Ok(Outcome::Done(format!("Emailed a new account link to {}.", row.email)))
        }
    }
}

/// An invoice-level action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InvoiceAction {
    /// Paid by cheque, bank transfer, cash…; the reference is kept.
    MarkPaid {
        reference: String,
    },
    Void,
}

pub const MAX_REFERENCE_LEN: usize = 100;

pub async fn on_invoice(
    pool: &AnyPool,
    staff: &Staff,
    merchant: &MerchantRow,
    invoice: &InvoiceId,
    action: InvoiceAction,
    origin: &Origin,
    now: UtcMillis,
) -> Result<Outcome, AppError> {
    staff.require(Action::ManageCustomers)?;
    let ctx = Ctx { pool, staff, merchant, origin, now };
    let mid = merchant.merchant_id();
    let mut tx = begin_write(pool).await?;
    let row: Option<(String, String, String, i64, i64, String)> = sqlx::query_as(
        "SELECT customer_id, number, status, total_minor, amount_paid_minor, currency FROM invoices \
         WHERE merchant_id = $1 AND id = $2",
    )
    .bind(mid.as_str())
    .bind(invoice.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    let Some((customer, number, status, total, paid, currency)) = row else { return Err(AppError::NotFound) };
    let currency = Currency::parse(&currency).map_err(AppError::internal)?;
    let customer = CustomerId::from_trusted(customer);
    let subject = ("invoice", invoice.as_str());
    if status != "open" {
        return Ok(Outcome::Unchanged(format!("Invoice {number} is {status}; nothing was changed.")));
    }
    match action {
        InvoiceAction::MarkPaid { reference } => {
            let reference = reference.trim().to_string();
            if reference.chars().count() > MAX_REFERENCE_LEN {
                return Ok(Outcome::Unchanged(format!(
                    "The reference is too long ({} characters; at most {MAX_REFERENCE_LEN}). Nothing was changed.",
                    reference.chars().count()
                )));
            }
            let owed = total - paid;
            if owed <= 0 {
                return Ok(Outcome::Unchanged(format!("Invoice {number} has nothing left to pay.")));
            }
            // The key is the invoice and what it owed: a second click finds
            // the invoice paid (above) or this key taken, never pays twice.
            let key = format!("outside:{}:{paid}", invoice.as_str());
            let payment = PaymentId::new();
            let inserted = sqlx::query(
                "INSERT INTO payments (id, merchant_id, customer_id, amount_minor, currency, status, idempotency_key, \
                 gateway, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, 'external', $6, 'outside', $7, $7) \
                 ON CONFLICT (merchant_id, idempotency_key) DO NOTHING",
            )
            .bind(payment.as_str())
            .bind(mid.as_str())
            .bind(customer.as_str())
            .bind(owed)
            .bind(currency.code())
            .bind(&key)
            .bind(now.0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 0 {
                return Ok(Outcome::Unchanged(format!("Invoice {number} was already marked paid.")));
            }
            let applied = invoices::apply_payment(&mut *tx, &mid, invoice.as_str(), owed, now).await?;
            if applied != owed {
                return Err(AppError::internal(format!("invoice {number} changed while being marked paid")));
            }
            payments::allocate(&mut *tx, &mid, &payment, invoice, owed, now).await?;
            let amount = Money::new(owed, currency);
            let detail = serde_json::json!({ "payment_id": payment.as_str(), "amount_minor": owed,
                "reference": reference, "user_id": staff.user.id });
            events::record(&mut *tx, &mid, Some(&customer), Some(invoice), "paid_outside", &detail, now).await?;
            ctx.audit(&mut *tx, "invoice.marked_paid", subject, detail).await?;
            tx.commit().await?;
            Ok(Outcome::Done(format!("Marked invoice {number} paid ({} outside Settle).", amount.display_in("en-US"))))
        }
        InvoiceAction::Void => {
            if paid > 0 {
                return Ok(Outcome::Unchanged(format!(
                    "Invoice {number} has {} paid on it and can't be voided; refund the payment first.",
                    Money::new(paid, currency).display_in("en-US")
                )));
            }
            sqlx::query(
                "UPDATE invoices SET status = 'void', voided_at = $1, updated_at = $1, dunning_next_at = NULL \
                 WHERE merchant_id = $2 AND id = $3 AND status = 'open'",
            )
            .bind(now.0)
            .bind(mid.as_str())
            .bind(invoice.as_str())
            .execute(&mut *tx)
            .await?;
            let detail = serde_json::json!({ "user_id": staff.user.id });
            events::record(&mut *tx, &mid, Some(&customer), Some(invoice), "invoice_voided", &detail, now).await?;
            ctx.audit(&mut *tx, "invoice.voided", subject, detail).await?;
            tx.commit().await?;
            Ok(Outcome::Done(format!("Voided invoice {number}.")))
        }
    }
}
