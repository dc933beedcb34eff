//! The account page's read of the signed-in customer: one query for the
//! customer, whether they have a password, their open invoices and their
//! latest relevant autopay failure.
//!
//! One query rather than three because the page is the portal's busiest and
//! on PostgreSQL its time under load went mostly to round trips (measured
//! with `scripts/load.sh`). The invoices and the failure come back as JSON
//! text inside the customer's row (see [`super::bulk::json_rows`]).

use super::bulk::{self, from_json};
use super::customers::{CustomerRow, COLUMNS as CUSTOMER_COLUMNS};
use super::invoices::{open_for_customer_sql, sort_open, InvoiceRow};
use crate::server::db::Backend;
use crate::server::ids::{CustomerId, MerchantId};
use crate::server::payments::autopay::LATEST_FAILURE_SQL;
use sqlx::AnyPool;

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

/// The customer of this merchant with what the account page shows of them;
/// another merchant's customer id finds nothing.
pub async fn read(pool: &AnyPool, merchant: &MerchantId, id: &CustomerId) -> Result<Option<AccountRead>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        customer: CustomerRow,
        has_password: i64,
        open_invoices: String,
        autopay_failure: Option<String>,
    }
    let backend = Backend::of(pool);
    let customer_columns: Vec<String> = CUSTOMER_COLUMNS.split(", ").map(|c| format!("c.{c}")).collect();
    let sql = format!(
        "SELECT {customer}, CASE WHEN c.password_hash IS NULL THEN 0 ELSE 1 END AS has_password, \
         (SELECT {invoices} FROM ({open}) i) AS open_invoices, \
         (SELECT {failure} FROM ({latest}) f) AS autopay_failure \
         FROM customers c WHERE c.merchant_id = $1 AND c.id = $2",
        customer = customer_columns.join(", "),
        invoices = bulk::json_rows(backend, "i", InvoiceRow::COLUMNS),
        open = open_for_customer_sql(),
        failure = bulk::json_row(backend, "f", &["message", "created_at"]),
        latest = LATEST_FAILURE_SQL,
    );
    let Some(row): Option<Row> =
        sqlx::query_as(&sql).bind(merchant.as_str()).bind(id.as_str()).fetch_optional(pool).await?
    else {
        return Ok(None);
    };
    let mut open_invoices: Vec<InvoiceRow> = from_json(&row.open_invoices)?;
    sort_open(&mut open_invoices);
    let autopay_failure = row.autopay_failure.as_deref().map(from_json).transpose()?;
    Ok(Some(AccountRead {
        customer: row.customer,
        has_password: super::flag(row.has_password),
        open_invoices,
        autopay_failure,
    }))
}
