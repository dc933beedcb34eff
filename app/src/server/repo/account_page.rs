//! The account page's one read: the session's stored data, the portal's
//! merchant by its slug and, when the session's customer belongs to that
//! merchant, the customer, whether they have a password, their open
//! invoices and their latest relevant autopay failure.
//!
//! One query rather than six because the account page is the portal's
//! busiest, and on PostgreSQL its time under load went mostly to round trips
//! (measured with `scripts/load.sh`): each query is one, and sqlx adds a
//! second when it pings the connection on its way back to the pool. The
//! session row is read as the session store reads it
//! ([`session_store::LOAD_SQL`]); the merchant and customer that gate every
//! other part are taken from inside it, never from the request. The
//! customer, the invoices and the failure come back as JSON text inside the
//! merchant's row (see [`super::bulk::json_rows`]).

use super::bulk::{self, from_json};
use super::customers::{CustomerRow, COLUMNS as CUSTOMER_COLUMNS};
use super::invoices::{open_for_customer_sql, sort_open, InvoiceRow};
use super::merchants::{MerchantRow, COLUMNS as MERCHANT_COLUMNS};
use crate::server::db::Backend;
use crate::server::payments::autopay::latest_failure_sql;
use crate::server::portal_session::PORTAL_KEY;
use crate::server::session_store;
use sqlx::AnyPool;
use std::sync::OnceLock;

/// What the one query found for a portal that exists.
pub struct AccountPageRead {
    pub merchant: MerchantRow,
    /// The session's data as stored, when its row is live.
    pub session: Option<String>,
    /// The account of the customer the stored session names, when that
    /// session is signed in to this merchant's portal.
    pub account: Option<AccountRead>,
}

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

/// The portal `slug` (`None`: no such portal), the stored data of session
/// `session_id` and, when that session is signed in to this portal, its
/// customer's account. Nothing of a customer is read unless the session
/// names them and the slug's merchant is the session's.
pub async fn read(
    pool: &AnyPool,
    session_id: Option<&str>,
    slug: &str,
) -> Result<Option<AccountPageRead>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        merchant: MerchantRow,
        session: Option<String>,
        customer: Option<String>,
        has_password: Option<i64>,
        open_invoices: Option<String>,
        autopay_failure: Option<String>,
    }
    let row: Option<Row> = sqlx::query_as(statement(Backend::of(pool)))
        .bind(session_id)
        .bind(session_store::now_millis())
        .bind(slug)
        .fetch_optional(pool)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let account = match (row.customer, row.has_password, row.open_invoices) {
        (Some(customer), Some(has_password), Some(open_invoices)) => {
            let mut open_invoices: Vec<InvoiceRow> = from_json(&open_invoices)?;
            sort_open(&mut open_invoices);
            Some(AccountRead {
                customer: from_json(&customer)?,
                has_password: super::flag(has_password),
                open_invoices,
                autopay_failure: row.autopay_failure.as_deref().map(from_json).transpose()?,
            })
        }
        _ => None,
    };
    Ok(Some(AccountPageRead { merchant: row.merchant, session: row.session, account }))
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
        // `$1` the session id and `$2` the time its row must outlive (as the
        // store's own read binds them), `$3` the slug. `s` is the live session
        // row, or NULLs: its merchant and customer gate every subquery, and
        // each also requires the slug's merchant to be the session's. `s` is
        // a materialized CTE so that its JSON is parsed once: as a subquery
        // PostgreSQL inlined it and parsed the JSON again for every invoice
        // row it filtered (pgbench: 0.58 ms a page against 0.27).
        let merchant = "s.merchant_id";
        let customer = "s.customer_id";
        format!(
            "WITH s AS MATERIALIZED \
             (SELECT l.data, {session_merchant} AS merchant_id, {session_customer} AS customer_id \
              FROM ({load}) l) \
             SELECT {merchant_columns}, s.data AS session, \
             (SELECT {customer_json} FROM customers c \
              WHERE c.merchant_id = {merchant} AND c.id = {customer} AND m.id = {merchant}) AS customer, \
             (SELECT CASE WHEN c.password_hash IS NULL THEN 0 ELSE 1 END FROM customers c \
              WHERE c.merchant_id = {merchant} AND c.id = {customer} AND m.id = {merchant}) AS has_password, \
             (SELECT {invoices} FROM ({open}) i WHERE m.id = {merchant}) AS open_invoices, \
             (SELECT {failure} FROM ({latest}) f WHERE m.id = {merchant}) AS autopay_failure \
             FROM merchants m LEFT JOIN s ON 1 = 1 \
             WHERE m.slug = $3",
            merchant_columns = merchant_columns.join(", "),
            customer_json = bulk::json_row(backend, "c", &customer_columns),
            invoices = bulk::json_rows(backend, "i", InvoiceRow::COLUMNS),
            open = open_for_customer_sql(merchant, customer),
            failure = bulk::json_row(backend, "f", &["message", "created_at"]),
            latest = latest_failure_sql(merchant, customer),
            session_merchant = bulk::json_text(backend, "l.data", &[PORTAL_KEY, "merchant_id"]),
            session_customer = bulk::json_text(backend, "l.data", &[PORTAL_KEY, "customer_id"]),
            load = session_store::LOAD_SQL,
        )
    })
}
