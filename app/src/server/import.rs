//! CSV import of customers and invoices, for the console upload and
//! `settle import`. One row per invoice with its customer's columns (a row
//! without invoice columns adds just the customer). Every bad cell is
//! reported with its line and column; by default nothing is written unless
//! every row is good, or, asked explicitly, the good rows go in and the bad
//! ones are reported. Re-importing a file changes nothing: customers and
//! invoices are matched by their external references.

use crate::server::db::begin_write;
use crate::server::ids::{CustomerId, MerchantId};
use crate::server::repo::customers::{self, NewCustomer};
use crate::server::repo::invoices::{self, InvoiceStatus, NewInvoice, NewInvoiceLine};
use crate::server::repo::merchants::MerchantRow;
use crate::server::sign_in::looks_like_email;
use crate::server::{AppError, UtcMillis};
use crate::types::{Currency, Money};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use sqlx::AnyPool;
use std::collections::HashMap;

/// The most rows one import takes (a bigger book is split into files).
pub const MAX_ROWS: usize = 50_000;
pub const MAX_BYTES: usize = 20 * 1024 * 1024;

pub const COLUMNS: &[&str] = &[
    "customer_ref",
    "customer_name",
    "customer_email",
    "customer_phone",
    "customer_time_zone",
    "customer_locale",
    "invoice_ref",
    "invoice_number",
    "currency",
    "amount",
    "tax",
    "issued_on",
    "due_on",
    "status",
    "memo",
];

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowProblem {
    /// 1 is the header line.
    pub line: u64,
    pub column: String,
    pub reason: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub rows: usize,
    pub customers_created: usize,
    pub customers_existing: usize,
    pub invoices_created: usize,
    pub invoices_existing: usize,
    /// Rows left out (skip mode) or the reason nothing was written.
    pub problems: Vec<RowProblem>,
    /// False when problems stopped an all-or-nothing import.
    pub written: bool,
}

impl ImportReport {
    pub fn summary(&self) -> String {
        if !self.written {
            return format!(
                "Nothing was imported: {} problem{} in {} row{} (fix them, or import with skip-bad-rows).",
                self.problems.len(),
                if self.problems.len() == 1 { "" } else { "s" },
                self.rows,
                if self.rows == 1 { "" } else { "s" }
            );
        }
        let mut s = format!(
            "Imported {} row{}: {} new customer{}, {} new invoice{}",
            self.rows,
            if self.rows == 1 { "" } else { "s" },
            self.customers_created,
            if self.customers_created == 1 { "" } else { "s" },
            self.invoices_created,
            if self.invoices_created == 1 { "" } else { "s" },
        );
        if self.customers_existing + self.invoices_existing > 0 {
            s.push_str(&format!(
                "; already there: {} customer{}, {} invoice{}",
                self.customers_existing,
                if self.customers_existing == 1 { "" } else { "s" },
                self.invoices_existing,
                if self.invoices_existing == 1 { "" } else { "s" }
            ));
        }
        if !self.problems.is_empty() {
            s.push_str(&format!(
                "; {} bad row{} skipped",
                self.bad_lines(),
                if self.bad_lines() == 1 { "" } else { "s" }
            ));
        }
        s.push('.');
        s
    }

    fn bad_lines(&self) -> usize {
        let mut lines: Vec<u64> = self.problems.iter().map(|p| p.line).collect();
        lines.dedup();
        lines.len()
    }
}

#[derive(Clone, Debug)]
struct CustomerCols {
    reference: String,
    name: String,
    email: String,
    phone: Option<String>,
    time_zone: String,
    locale: String,
}

#[derive(Clone, Debug)]
struct InvoiceCols {
    reference: String,
    number: String,
    currency: Currency,
    amount_minor: i64,
    tax_minor: i64,
    issued_at: UtcMillis,
    due_at: UtcMillis,
    status: InvoiceStatus,
    memo: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Row {
    line: u64,
    customer: CustomerCols,
    invoice: Option<InvoiceCols>,
}

/// The start of `day` in `zone`, in UTC milliseconds.
fn start_of(day: Date, zone: &TimeZone) -> Option<i64> {
    day.to_zoned(zone.clone()).ok().map(|z| z.timestamp().as_millisecond())
}

/// Reads the file: the rows that are good, and a problem for every bad cell.
/// Touches no database (public for the fuzz target in `fuzz/`).
pub fn read(bytes: &[u8], merchant: &MerchantRow) -> Result<(Vec<Row>, Vec<RowProblem>, usize), RowProblem> {
    let file_problem = |reason: String| RowProblem { line: 1, column: String::new(), reason };
    if bytes.len() > MAX_BYTES {
        return Err(file_problem(format!("The file is larger than {} MB; split it.", MAX_BYTES / (1024 * 1024))));
    }
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes))
        .map_err(|_| file_problem("The file isn't UTF-8 text; save it as \"CSV UTF-8\".".into()))?;
    let mut reader = csv::ReaderBuilder::new().flexible(false).trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| file_problem(format!("The header line can't be read: {e}")))?
        .iter()
        .map(|h| h.to_lowercase())
        .collect();
    for h in &headers {
        if !COLUMNS.contains(&h.as_str()) {
            return Err(RowProblem {
                line: 1,
                column: h.clone(),
                reason: format!("Unknown column {h:?}; the columns are: {}.", COLUMNS.join(", ")),
            });
        }
    }
    if !headers.iter().any(|h| h == "customer_ref") {
        return Err(file_problem("The file needs a customer_ref column.".into()));
    }
    let col = |name: &str| headers.iter().position(|h| h == name);
    let default_currency = Currency::parse(&merchant.default_currency).unwrap_or(Currency::USD);
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut count = 0;
    for record in reader.records() {
        count += 1;
        if count > MAX_ROWS {
            return Err(file_problem(format!("The file has more than {MAX_ROWS} rows; split it.")));
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                problems.push(RowProblem {
                    line,
                    column: String::new(),
                    reason: format!("This line can't be read: {e}"),
                });
                continue;
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let get = |name: &str| col(name).and_then(|i| record.get(i)).unwrap_or("").to_string();
        let mut row_problems: Vec<RowProblem> = Vec::new();
        let mut bad =
            |column: &str, reason: String| row_problems.push(RowProblem { line, column: column.into(), reason });

        let reference = get("customer_ref");
        if reference.is_empty() {
            bad("customer_ref", "Every row needs the customer's reference.".into());
        } else if reference.chars().count() > 100 {
            bad("customer_ref", "At most 100 characters.".into());
        }
        let email = get("customer_email").to_lowercase();
        if !email.is_empty() && !looks_like_email(&email) {
            bad("customer_email", format!("{email:?} is not an email address."));
        }
        let name = get("customer_name");
        if name.chars().count() > 200 {
            bad("customer_name", "At most 200 characters.".into());
        }
        let zone_name = match get("customer_time_zone") {
            z if z.is_empty() => merchant.time_zone.clone(),
            z => z,
        };
        let zone = match TimeZone::get(&zone_name) {
            Ok(z) => Some(z),
            Err(_) => {
                bad("customer_time_zone", format!("{zone_name:?} is not an IANA time zone like America/Chicago."));
                None
            }
        };
        let locale = match get("customer_locale") {
            l if l.is_empty() => "en-US".to_string(),
            l => l,
        };
        let locale_ok = locale.len() <= 16 && locale.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !locale_ok {
            bad("customer_locale", format!("{locale:?} is not a locale like en-US."));
        }
        let phone = Some(get("customer_phone")).filter(|p| !p.is_empty());
        let customer = CustomerCols { reference, name, email, phone, time_zone: zone_name, locale };

        let invoice_cells = ["invoice_ref", "invoice_number", "amount", "due_on", "issued_on", "tax", "status", "memo"];
        let has_invoice = invoice_cells.iter().any(|c| !get(c).is_empty());
        let mut invoice = None;
        if has_invoice {
            let reference = get("invoice_ref");
            if reference.is_empty() {
                bad("invoice_ref", "An invoice needs its reference (what makes a re-import safe).".into());
            }
            let number = get("invoice_number");
            if number.is_empty() {
                bad("invoice_number", "An invoice needs its number.".into());
            } else if number.chars().count() > 64 {
                bad("invoice_number", "At most 64 characters.".into());
            }
            let currency = match get("currency") {
                c if c.is_empty() => Some(default_currency),
                c => match Currency::parse(&c.to_uppercase()) {
                    Ok(c) => Some(c),
                    Err(_) => {
                        bad("currency", format!("{c:?} is not a supported currency code."));
                        None
                    }
                },
            };
            let amount = currency.and_then(|c| match Money::parse_in(&get("amount"), c, "en-US") {
                Ok(m) => Some(m.minor),
                Err(e) => {
                    bad("amount", format!("{:?}: {e}", get("amount")));
                    None
                }
            });
            let tax = match get("tax") {
                t if t.is_empty() => Some(0),
                t => currency.and_then(|c| match Money::parse_in(&t, c, "en-US") {
                    Ok(m) => Some(m.minor),
                    Err(e) => {
                        bad("tax", format!("{t:?}: {e}"));
                        None
                    }
                }),
            };
            let date = |column: &str, bad: &mut dyn FnMut(&str, String)| -> Option<Date> {
                let v = get(column);
                match v.parse::<Date>() {
                    Ok(d) => Some(d),
                    Err(_) if v.is_empty() => None,
                    Err(_) => {
                        bad(column, format!("{v:?} is not a date like 2026-03-31."));
                        None
                    }
                }
            };
            let due = date("due_on", &mut bad);
            if due.is_none() && get("due_on").is_empty() {
                bad("due_on", "An invoice needs its due date (YYYY-MM-DD).".into());
            }
            let issued = date("issued_on", &mut bad).or(due);
            let status = match get("status").to_lowercase().as_str() {
                "" | "open" => Some(InvoiceStatus::Open),
                "paid" => Some(InvoiceStatus::Paid),
                "void" => Some(InvoiceStatus::Void),
                other => {
                    bad("status", format!("{other:?} is not open, paid or void."));
                    None
                }
            };
            if let (Some(due), Some(issued)) = (due, issued) {
                if issued > due {
                    bad("issued_on", "The issue date is after the due date.".into());
                }
            }
            if let (
                Some(currency),
                Some(amount_minor),
                Some(tax_minor),
                Some(due),
                Some(issued),
                Some(status),
                Some(zone),
            ) = (currency, amount, tax, due, issued, status, zone.as_ref())
            {
                // Due "on" a date: overdue once that day is over where the customer is.
                let due_at = due.tomorrow().ok().and_then(|d| start_of(d, zone)).map(|t| t - 1);
                let issued_at = start_of(issued, zone);
                if let (Some(due_at), Some(issued_at)) = (due_at, issued_at) {
                    invoice = Some(InvoiceCols {
                        reference,
                        number,
                        currency,
                        amount_minor,
                        tax_minor,
                        issued_at: UtcMillis(issued_at),
                        due_at: UtcMillis(due_at),
                        status,
                        memo: Some(get("memo")).filter(|m| !m.is_empty()),
                    });
                }
            }
        }
        if row_problems.is_empty() {
            rows.push(Row { line, customer, invoice });
        }
        problems.extend(row_problems);
    }
    Ok((rows, problems, count))
}

/// Checks the rows against each other and the database: the same customer
/// reference must mean the same customer, new customers need a name and an
/// email, invoice references and numbers must be unique.
async fn check(pool: &AnyPool, merchant: &MerchantId, rows: &[Row]) -> Result<Vec<RowProblem>, AppError> {
    let mut problems = Vec::new();
    let mut first_customer: HashMap<&str, &Row> = HashMap::new();
    let mut invoice_refs: HashMap<&str, u64> = HashMap::new();
    let mut numbers: HashMap<&str, u64> = HashMap::new();
    for row in rows {
        let c = &row.customer;
        if let Some(first) = first_customer.get(c.reference.as_str()) {
            let f = &first.customer;
            if (!c.name.is_empty() && c.name != f.name) || (!c.email.is_empty() && c.email != f.email) {
                problems.push(RowProblem {
                    line: row.line,
                    column: "customer_ref".into(),
                    reason: format!(
                        "Customer {:?} has a different name or email here than on line {}.",
                        c.reference, first.line
                    ),
                });
            }
        } else {
            first_customer.insert(&c.reference, row);
            let exists = customers::find_by_external_ref(pool, merchant, &c.reference).await?.is_some();
            if !exists {
                if c.name.is_empty() {
                    problems.push(RowProblem {
                        line: row.line,
                        column: "customer_name".into(),
                        reason: format!("Customer {:?} is new and needs a name.", c.reference),
                    });
                }
                if c.email.is_empty() {
                    problems.push(RowProblem {
                        line: row.line,
                        column: "customer_email".into(),
                        reason: format!("Customer {:?} is new and needs an email address.", c.reference),
                    });
                }
            }
        }
        if let Some(inv) = &row.invoice {
            if let Some(line) = invoice_refs.insert(&inv.reference, row.line) {
                problems.push(RowProblem {
                    line: row.line,
                    column: "invoice_ref".into(),
                    reason: format!("Invoice reference {:?} is already on line {line}.", inv.reference),
                });
            }
            if let Some(line) = numbers.insert(&inv.number, row.line) {
                problems.push(RowProblem {
                    line: row.line,
                    column: "invoice_number".into(),
                    reason: format!("Invoice number {:?} is already on line {line}.", inv.number),
                });
            }
            // A number taken by a different invoice of this merchant.
            let taken: Option<(Option<String>,)> =
                sqlx::query_as("SELECT external_ref FROM invoices WHERE merchant_id = $1 AND number = $2")
                    .bind(merchant.as_str())
                    .bind(&inv.number)
                    .fetch_optional(pool)
                    .await?;
            if let Some((other_ref,)) = taken {
                if other_ref.as_deref() != Some(inv.reference.as_str()) {
                    problems.push(RowProblem {
                        line: row.line,
                        column: "invoice_number".into(),
                        reason: format!("Invoice number {:?} belongs to another invoice already.", inv.number),
                    });
                }
            }
        }
    }
    Ok(problems)
}

/// Imports `bytes` for `merchant`. `progress(done, total)` is called as
/// rows are written.
pub async fn import(
    pool: &AnyPool,
    merchant: &MerchantRow,
    bytes: &[u8],
    skip_bad_rows: bool,
    now: UtcMillis,
    mut progress: impl FnMut(usize, usize),
) -> Result<ImportReport, AppError> {
    let mid = merchant.merchant_id();
    let (rows, mut problems, count) = match read(bytes, merchant) {
        Ok(r) => r,
        Err(p) => return Ok(ImportReport { problems: vec![p], ..ImportReport::default() }),
    };
    problems.extend(check(pool, &mid, &rows).await?);
    problems.sort_by(|a, b| (a.line, &a.column).cmp(&(b.line, &b.column)));
    let mut report = ImportReport { rows: count, ..ImportReport::default() };
    if !problems.is_empty() && !skip_bad_rows {
        report.problems = problems;
        return Ok(report);
    }
    let bad_lines: std::collections::HashSet<u64> = problems.iter().map(|p| p.line).collect();
    let good: Vec<&Row> = rows.iter().filter(|r| !bad_lines.contains(&r.line)).collect();
    let mut tx = begin_write(pool).await?;
    let mut known: HashMap<String, CustomerId> = HashMap::new();
    for (done, row) in good.iter().enumerate() {
        let c = &row.customer;
        let customer = match known.get(&c.reference) {
            Some(id) => id.clone(),
            None => {
                let id = match customers::find_by_external_ref(&mut *tx, &mid, &c.reference).await? {
                    Some(existing) => {
                        report.customers_existing += 1;
                        existing.customer_id()
                    }
                    None => {
                        report.customers_created += 1;
                        customers::insert(
                            &mut *tx,
                            &mid,
                            &NewCustomer {
                                external_ref: Some(c.reference.clone()),
                                name: c.name.clone(),
                                email: c.email.clone(),
                                phone: c.phone.clone(),
                                time_zone: c.time_zone.clone(),
                                locale: c.locale.clone(),
                                autopay_enabled: false,
                            },
                            now,
                        )
                        .await?
                    }
                };
                known.insert(c.reference.clone(), id.clone());
                id
            }
        };
        if let Some(inv) = &row.invoice {
            let exists: Option<(String,)> =
                sqlx::query_as("SELECT id FROM invoices WHERE merchant_id = $1 AND external_ref = $2")
                    .bind(mid.as_str())
                    .bind(&inv.reference)
                    .fetch_optional(&mut *tx)
                    .await?;
            if exists.is_some() {
                report.invoices_existing += 1;
            } else {
                let total = inv.amount_minor + inv.tax_minor;
                let paid = inv.status == InvoiceStatus::Paid;
                let id = invoices::insert(
                    &mut tx,
                    &mid,
                    &customer,
                    &NewInvoice {
                        number: inv.number.clone(),
                        currency: inv.currency,
                        lines: vec![NewInvoiceLine {
                            description: inv.memo.clone().unwrap_or_else(|| format!("Invoice {}", inv.number)),
                            quantity: 1,
                            unit_minor: inv.amount_minor,
                        }],
                        tax_minor: inv.tax_minor,
                        amount_paid_minor: if paid { total } else { 0 },
                        status: inv.status,
                        issued_at: inv.issued_at,
                        due_at: inv.due_at,
                        paid_at: paid.then_some(inv.due_at),
                        voided_at: (inv.status == InvoiceStatus::Void).then_some(now),
                        memo: inv.memo.clone(),
                    },
                    now,
                )
                .await
                .map_err(|e| match e {
                    invoices::NewInvoiceError::Db(e) => AppError::Db(e),
                    other => AppError::internal(other),
                })?;
                sqlx::query("UPDATE invoices SET external_ref = $1 WHERE merchant_id = $2 AND id = $3")
                    .bind(&inv.reference)
                    .bind(mid.as_str())
                    .bind(id.as_str())
                    .execute(&mut *tx)
                    .await?;
                report.invoices_created += 1;
            }
        }
        progress(done + 1, good.len());
    }
    tx.commit().await?;
    report.problems = problems;
    report.written = true;
    Ok(report)
}
