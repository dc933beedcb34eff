use crate::server::ids::{CustomerId, InvoiceId, InvoiceLineId, MerchantId};
use crate::server::UtcMillis;
use crate::types::Currency;
use sqlx::any::AnyExecutor;
use sqlx::AnyPool;

#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize)]
pub struct InvoiceRow {
    pub id: String,
    pub customer_id: String,
    pub number: String,
    pub currency: String,
    pub subtotal_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    pub amount_paid_minor: i64,
    pub status: String,
    pub issued_at: i64,
    pub due_at: i64,
}

impl InvoiceRow {
    /// The fields in declaration order, for reads as JSON arrays.
    pub const COLUMNS: &'static [&'static str] = &[
        "id",
        "customer_id",
        "number",
        "currency",
        "subtotal_minor",
        "tax_minor",
        "total_minor",
        "amount_paid_minor",
        "status",
        "issued_at",
        "due_at",
    ];

    pub fn amount_due_minor(&self) -> i64 {
        self.total_minor - self.amount_paid_minor
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvoiceStatus {
    Draft,
    Open,
    Paid,
    Void,
    Uncollectible,
}

impl InvoiceStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Open => "open",
            Self::Paid => "paid",
            Self::Void => "void",
            Self::Uncollectible => "uncollectible",
        }
    }
}

#[derive(Clone, Debug)]
pub struct NewInvoiceLine {
    pub description: String,
    pub quantity: i64,
    pub unit_minor: i64,
}

#[derive(Clone, Debug)]
pub struct NewInvoice {
    pub number: String,
    pub currency: Currency,
    pub lines: Vec<NewInvoiceLine>,
    /// Tax in minor units, added on top of the line items.
    pub tax_minor: i64,
    pub amount_paid_minor: i64,
    pub status: InvoiceStatus,
    pub issued_at: UtcMillis,
    pub due_at: UtcMillis,
    pub paid_at: Option<UtcMillis>,
    pub voided_at: Option<UtcMillis>,
    pub memo: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum NewInvoiceError {
    #[error("an invoice needs at least one line")]
    NoLines,
    #[error("invoice amounts out of range")]
    Overflow,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Inserts the invoice and its lines. Run it inside a transaction (the
/// caller's `conn`) so an invoice never exists without its lines.
pub async fn insert(
    conn: &mut sqlx::AnyConnection,
    merchant: &MerchantId,
    customer: &CustomerId,
    inv: &NewInvoice,
    now: UtcMillis,
) -> Result<InvoiceId, NewInvoiceError> {
    if inv.lines.is_empty() {
        return Err(NewInvoiceError::NoLines);
    }
    let mut subtotal: i64 = 0;
    for l in &inv.lines {
        let amount = l.unit_minor.checked_mul(l.quantity).ok_or(NewInvoiceError::Overflow)?;
        subtotal = subtotal.checked_add(amount).ok_or(NewInvoiceError::Overflow)?;
    }
    let total = subtotal.checked_add(inv.tax_minor).ok_or(NewInvoiceError::Overflow)?;
    let id = InvoiceId::new();
    sqlx::query(
        "INSERT INTO invoices (id, merchant_id, customer_id, number, currency, subtotal_minor, tax_minor, \
         total_minor, amount_paid_minor, status, issued_at, due_at, paid_at, voided_at, memo, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)",
    )
    .bind(id.as_str())
    .bind(merchant.as_str())
    .bind(customer.as_str())
    .bind(&inv.number)
    .bind(inv.currency.code())
    .bind(subtotal)
    .bind(inv.tax_minor)
    .bind(total)
    .bind(inv.amount_paid_minor)
    .bind(inv.status.as_str())
    .bind(inv.issued_at.0)
    .bind(inv.due_at.0)
    .bind(inv.paid_at.map(|t| t.0))
    .bind(inv.voided_at.map(|t| t.0))
    .bind(&inv.memo)
    .bind(now.0)
    .execute(&mut *conn)
    .await?;
    for (position, l) in inv.lines.iter().enumerate() {
        insert_line(&mut *conn, merchant, &id, position as i64, l, now).await?;
    }
    Ok(id)
}

async fn insert_line<'c>(
    ex: impl AnyExecutor<'c>,
    merchant: &MerchantId,
    invoice: &InvoiceId,
    position: i64,
    l: &NewInvoiceLine,
    now: UtcMillis,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO invoice_lines (id, merchant_id, invoice_id, position, description, quantity, unit_minor, \
         amount_minor, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(InvoiceLineId::new().as_str())
    .bind(merchant.as_str())
    .bind(invoice.as_str())
    .bind(position)
    .bind(&l.description)
    .bind(l.quantity)
    .bind(l.unit_minor)
    .bind(l.unit_minor * l.quantity)
    .bind(now.0)
    .execute(ex)
    .await?;
    Ok(())
}

/// The customer's invoices with something left to pay, oldest due first.
/// Read as one JSON row (`bulk::fetch_json`): every page that lists them
/// (the account page with 50 open invoices under load) would otherwise
/// pass each invoice through SQLite's driver thread on its own.
pub async fn open_for_customer(
    pool: &AnyPool,
    merchant: &MerchantId,
    customer: &CustomerId,
) -> Result<Vec<InvoiceRow>, sqlx::Error> {
    let mut rows: Vec<InvoiceRow> = super::bulk::fetch_json(
        pool,
        crate::server::db::Backend::of(pool),
        InvoiceRow::COLUMNS,
        &open_for_customer_sql("$1", "$2"),
        &[merchant.as_str().into(), customer.as_str().into()],
    )
    .await?;
    sort_open(&mut rows);
    Ok(rows)
}

/// The SELECT behind [`open_for_customer`], for the merchant and customer
/// that the SQL expressions `merchant` and `customer` give (binds such as
/// `$1`, or columns of an enclosing query).
pub(crate) fn open_for_customer_sql(merchant: &str, customer: &str) -> String {
    format!(
        "SELECT {} FROM invoices \
         WHERE merchant_id = {merchant} AND customer_id = {customer} AND status = 'open' \
         AND total_minor > amount_paid_minor",
        InvoiceRow::COLUMNS.join(", ")
    )
}

/// Oldest due first, then by number: the order the portal lists open
/// invoices and payments are allocated in. Sorted here because an aggregate
/// over an ordered subquery keeps its order in practice but not by any
/// guarantee.
pub(crate) fn sort_open(rows: &mut [InvoiceRow]) {
    rows.sort_by(|a, b| (a.due_at, &a.number).cmp(&(b.due_at, &b.number)));
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct InvoiceLineRow {
    pub description: String,
    pub quantity: i64,
    pub unit_minor: i64,
    pub amount_minor: i64,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct InvoiceFull {
    pub id: String,
    pub number: String,
    pub currency: String,
    pub subtotal_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    pub amount_paid_minor: i64,
    pub status: String,
    pub issued_at: i64,
    pub due_at: i64,
    pub memo: Option<String>,
}

/// One invoice of this customer (any status except draft); another
/// customer's or merchant's id finds nothing.
pub async fn find_for_customer(
    pool: &AnyPool,
    merchant: &MerchantId,
    customer: &CustomerId,
    id: &InvoiceId,
) -> Result<Option<InvoiceFull>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, number, currency, subtotal_minor, tax_minor, total_minor, amount_paid_minor, status, issued_at,          due_at, memo FROM invoices WHERE merchant_id = $1 AND customer_id = $2 AND id = $3 AND status <> 'draft'",
    )
    .bind(merchant.as_str())
    .bind(customer.as_str())
    .bind(id.as_str())
    .fetch_optional(pool)
    .await
}

pub async fn lines(
    pool: &AnyPool,
    merchant: &MerchantId,
    invoice: &InvoiceId,
) -> Result<Vec<InvoiceLineRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT description, quantity, unit_minor, amount_minor FROM invoice_lines          WHERE merchant_id = $1 AND invoice_id = $2 ORDER BY position",
    )
    .bind(merchant.as_str())
    .bind(invoice.as_str())
    .fetch_all(pool)
    .await
}

/// Puts `amount_minor` of a succeeded payment towards an open invoice,
/// never above what it still owes, and marks it paid when nothing is left.
/// Returns the amount actually applied (0 when it was paid or voided since).
pub async fn apply_payment(
    conn: &mut sqlx::AnyConnection,
    merchant: &MerchantId,
    invoice: &str,
    amount_minor: i64,
    now: UtcMillis,
) -> Result<i64, sqlx::Error> {
    let owed: Option<(i64,)> = sqlx::query_as(
        "SELECT total_minor - amount_paid_minor FROM invoices WHERE merchant_id = $1 AND id = $2 AND status = 'open'",
    )
    .bind(merchant.as_str())
    .bind(invoice)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((owed,)) = owed else { return Ok(0) };
    let applied = amount_minor.min(owed).max(0);
    if applied == 0 {
        return Ok(0);
    }
    // Relative update guarded by the balance read above: a concurrent change
    // makes this match nothing rather than overpay.
    let done = sqlx::query(
        "UPDATE invoices SET amount_paid_minor = amount_paid_minor + $1, \
         status = CASE WHEN amount_paid_minor + $1 >= total_minor THEN 'paid' ELSE status END, \
         paid_at = CASE WHEN amount_paid_minor + $1 >= total_minor THEN $2 ELSE paid_at END, updated_at = $2 \
         WHERE merchant_id = $3 AND id = $4 AND status = 'open' AND total_minor - amount_paid_minor = $5",
    )
    .bind(applied)
    .bind(now.0)
    .bind(merchant.as_str())
    .bind(invoice)
    .bind(owed)
    .execute(&mut *conn)
    .await?;
    Ok(if done.rows_affected() == 1 { applied } else { 0 })
}
