//! The account page's one read after the session: the portal's merchant by
//! its slug and, when the session's customer belongs to it, the customer,
//! whether they have a password, their open invoices and their latest
//! relevant autopay failure.
//!
//! One query rather than five because the account page is the portal's
//! busiest, and on PostgreSQL its time under load went mostly to round trips
//! (measured with `scripts/load.sh`). The customer, the invoices and the
//! failure come back as JSON text inside the merchant's row (see
//! [`super::bulk::json_rows`]).

use super::bulk::{self, from_json};
use super::customers::{CustomerRow, COLUMNS as CUSTOMER_COLUMNS};
use super::invoices::{open_for_customer_sql, sort_open, InvoiceRow};
use super::merchants::{MerchantRow, COLUMNS as MERCHANT_COLUMNS};
use crate::server::db::Backend;
use crate::server::ids::{CustomerId, MerchantId};
use crate::server::payments::autopay::LATEST_FAILURE_SQL;
use sqlx::AnyPool;
use std::sync::OnceLock;

pub struct AccountRead {
    pub customer: CustomerRow,
    /// Whether the customer has set a password; the hash stays in the
    /// database.
    pub has_password: bool,
    /// Oldest due first, then by number.
    pub open_invoices: Vec<InvoiceRow>,
    /// The latest autopay failure still relevant: its message and when.
    pub autopay_failure: Option<(String, i64)>,
}

/// The merchant whose portal is `slug` (`None`: no such portal) and the
/// account of `customer` there. The account is `None` unless `merchant`,
/// which comes from the session, is that portal's merchant and the customer
/// is theirs: the customer's rows are not even read for another portal.
pub async fn read(
    pool: &AnyPool,
    merchant: &MerchantId,
    customer: &CustomerId,
    slug: &str,
) -> Result<Option<(MerchantRow, Option<AccountRead>)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        merchant: MerchantRow,
        customer: Option<String>,
        has_password: Option<i64>,
        open_invoices: Option<String>,
        autopay_failure: Option<String>,
    }
    let row: Option<Row> = sqlx::query_as(statement(Backend::of(pool)))
        .bind(merchant.as_str())
        .bind(customer.as_str())
        .bind(slug)
        .fetch_optional(pool)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let (Some(customer), Some(has_password), Some(open_invoices)) = (row.customer, row.has_password, row.open_invoices)
    else {
        return Ok(Some((row.merchant, None)));
    };
    let mut open_invoices: Vec<InvoiceRow> = from_json(&open_invoices)?;
    sort_open(&mut open_invoices);
    let account = AccountRead {
        customer: from_json(&customer)?,
        has_password: super::flag(has_password),
        open_invoices,
        autopay_failure: row.autopay_failure.as_deref().map(from_json).transpose()?,
    };
    Ok(Some((row.merchant, Some(account))))
}

/// The query for `backend`, written once per process: the page is the
/// portal's busiest and its text never changes.
fn statement(backend: Backend) -> &'static str {
    static SQLITE: OnceLock<String> = OnceLock::new();
    static POSTGRES: OnceLock<String> = OnceLock::new();
    let cell = match backend {
        Backend::Sqlite => &SQLITE,
        Backend::Postgres => &POSTGRES,
    };
    cell.get_or_init(|| {
        let customer_columns: Vec<&str> = CUSTOMER_COLUMNS.split(", ").collect();
        let merchant_columns: Vec<String> = MERCHANT_COLUMNS.split(", ").map(|c| format!("m.{c}")).collect();
        // `$1` merchant and `$2` customer (as the reused SELECTs expect), `$3`
        // the slug. Each subquery also requires the slug's merchant to be the
        // session's (`m.id = $1`).
        format!(
            "SELECT {merchant}, \
             (SELECT {customer} FROM customers c WHERE c.merchant_id = $1 AND c.id = $2 AND m.id = $1) AS customer, \
             (SELECT CASE WHEN c.password_hash IS NULL THEN 0 ELSE 1 END FROM customers c \
              WHERE c.merchant_id = $1 AND c.id = $2 AND m.id = $1) AS has_password, \
             (SELECT {invoices} FROM ({open}) i WHERE m.id = $1) AS open_invoices, \
             (SELECT {failure} FROM ({latest}) f WHERE m.id = $1) AS autopay_failure \
             FROM merchants m WHERE m.slug = $3",
            merchant = merchant_columns.join(", "),
            customer = bulk::json_row(backend, "c", &customer_columns),
            invoices = bulk::json_rows(backend, "i", InvoiceRow::COLUMNS),
            open = open_for_customer_sql(),
            failure = bulk::json_row(backend, "f", &["message", "created_at"]),
            latest = LATEST_FAILURE_SQL,
        )
    })
}
