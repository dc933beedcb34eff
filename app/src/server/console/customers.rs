//! The console's customer list: search and filters as SQL over the
//! merchant's customers only, a page at a time, then the open balances of
//! that page's customers per currency.

use super::aging::AgingBucket;
use crate::server::ids::MerchantId;
use crate::server::{AppError, UtcMillis};
use crate::types::{Currency, CustomerFilter, CustomerListItem, Money};
use sqlx::AnyPool;
use std::collections::HashMap;

pub const PER_PAGE: u32 = 50;

/// An open invoice that still has something to pay.
const OWED: &str = "i.merchant_id = c.merchant_id AND i.customer_id = c.id AND i.status = 'open' \
                    AND i.total_minor > i.amount_paid_minor";

/// A SQL condition and its bound values, built from the filter. Values are
/// always bound, never spliced into the text.
struct Where {
    sql: Vec<String>,
    binds: Vec<Bind>,
    errors: Vec<String>,
}

enum Bind {
    Text(String),
    Int(i64),
}

impl Where {
    fn bind(&mut self, b: Bind) -> String {
        self.binds.push(b);
        format!("${}", self.binds.len())
    }
}

fn yes_no(value: &str, what: &str, errors: &mut Vec<String>) -> Option<bool> {
    match value {
        "" => None,
        "yes" => Some(true),
        "no" => Some(false),
        other => {
            errors.push(format!("Ignored the {what} filter: {other:?} is not \"yes\" or \"no\"."));
            None
        }
    }
}

/// `%`, `_` and `\` in a search are literal characters, not patterns.
pub(crate) fn like_pattern(q: &str) -> String {
    let mut out = String::from("%");
    for ch in q.trim().to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('%');
    out
}

fn build(merchant: &MerchantId, filter: &CustomerFilter, now: UtcMillis) -> Where {
    let mut w = Where { sql: Vec::new(), binds: Vec::new(), errors: Vec::new() };
    let m = w.bind(Bind::Text(merchant.as_str().to_string()));
    w.sql.push(format!("c.merchant_id = {m}"));
    if !filter.q.trim().is_empty() {
        let p = w.bind(Bind::Text(like_pattern(&filter.q)));
        w.sql.push(format!("(LOWER(c.name) LIKE {p} ESCAPE '\\' OR LOWER(c.email) LIKE {p} ESCAPE '\\')"));
    }
    match filter.status.as_str() {
        "" => {}
        "active" | "suspended" => {
            let s = w.bind(Bind::Text(filter.status.clone()));
            w.sql.push(format!("c.status = {s}"));
        }
        other => w.errors.push(format!("Ignored the status filter: {other:?} is not \"active\" or \"suspended\".")),
    }
    if let Some(on) = yes_no(&filter.autopay, "autopay", &mut w.errors) {
        w.sql.push(format!("c.autopay_enabled = {}", i64::from(on)));
    }
    if !filter.aging.is_empty() {
        match AgingBucket::parse(&filter.aging) {
            Some(bucket) => {
                // The customer's oldest open invoice decides the bucket.
                let (after, up_to) = bucket.due_range(now);
                let mut cond = format!("(SELECT MIN(i.due_at) FROM invoices i WHERE {OWED})");
                let oldest = cond.clone();
                cond = format!("{oldest} IS NOT NULL");
                if let Some(a) = after {
                    let a = w.bind(Bind::Int(a));
                    cond.push_str(&format!(" AND {oldest} > {a}"));
                }
                if let Some(u) = up_to {
                    let u = w.bind(Bind::Int(u));
                    cond.push_str(&format!(" AND {oldest} <= {u}"));
                }
                w.sql.push(format!("({cond})"));
            }
            None => w.errors.push(format!(
                "Ignored the aging filter: {:?} is not one of current, 1-30, 31-60, 61-90, 90+.",
                filter.aging
            )),
        }
    }
    if let Some(on) = yes_no(&filter.dunning, "in-dunning", &mut w.errors) {
        let n = w.bind(Bind::Int(now.0));
        let exists = format!(
            "EXISTS (SELECT 1 FROM invoices i WHERE {OWED} AND i.due_at < {n} AND i.dunning_next_at IS NOT NULL)"
        );
        w.sql.push(if on { exists } else { format!("NOT {exists}") });
    }
    if let Some(on) = yes_no(&filter.promise, "promise", &mut w.errors) {
        let n = w.bind(Bind::Int(now.0));
        let exists = format!(
            "EXISTS (SELECT 1 FROM promises p WHERE p.merchant_id = c.merchant_id AND p.customer_id = c.id \
             AND p.status = 'active' AND p.promised_until > {n})"
        );
        w.sql.push(if on { exists } else { format!("NOT {exists}") });
    }
    if let Some(on) = yes_no(&filter.dispute, "dispute", &mut w.errors) {
        let exists = "EXISTS (SELECT 1 FROM disputes d WHERE d.merchant_id = c.merchant_id AND d.customer_id = c.id \
                      AND d.status = 'open')"
            .to_string();
        w.sql.push(if on { exists } else { format!("NOT {exists}") });
    }
    w
}

fn bind_all<'q, O>(
    mut q: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    binds: &'q [Bind],
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
    for b in binds {
        q = match b {
            Bind::Text(s) => q.bind(s.as_str()),
            Bind::Int(i) => q.bind(*i),
        };
    }
    q
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    name: String,
    email: String,
    status: String,
    autopay_enabled: i64,
    oldest_due_at: Option<i64>,
    open_invoices: i64,
    in_dunning: i64,
    promise: i64,
    dispute: i64,
}

pub struct Listed {
    pub items: Vec<CustomerListItem>,
    pub total: i64,
    pub errors: Vec<String>,
}

pub async fn list(
    pool: &AnyPool,
    merchant: &MerchantId,
    locale: &str,
    now: UtcMillis,
    filter: &CustomerFilter,
) -> Result<Listed, AppError> {
    let mut w = build(merchant, filter, now);
    let condition = w.sql.join(" AND ");
    let (total,): (i64,) =
        bind_all(sqlx::query_as(&format!("SELECT COUNT(*) FROM customers c WHERE {condition}")), &w.binds)
            .fetch_one(pool)
            .await?;
    let page = filter.page.max(1);
    let n = w.bind(Bind::Int(now.0));
    let limit = w.bind(Bind::Int(PER_PAGE as i64));
    let offset = w.bind(Bind::Int((page as i64 - 1) * PER_PAGE as i64));
    let sql = format!(
        "SELECT c.id, c.name, c.email, c.status, c.autopay_enabled, \
         (SELECT MIN(i.due_at) FROM invoices i WHERE {OWED}) AS oldest_due_at, \
         (SELECT COUNT(*) FROM invoices i WHERE {OWED}) AS open_invoices, \
         CASE WHEN EXISTS (SELECT 1 FROM invoices i WHERE {OWED} AND i.due_at < {n} \
              AND i.dunning_next_at IS NOT NULL) THEN 1 ELSE 0 END AS in_dunning, \
         CASE WHEN EXISTS (SELECT 1 FROM promises p WHERE p.merchant_id = c.merchant_id AND p.customer_id = c.id \
              AND p.status = 'active' AND p.promised_until > {n}) THEN 1 ELSE 0 END AS promise, \
         CASE WHEN EXISTS (SELECT 1 FROM disputes d WHERE d.merchant_id = c.merchant_id AND d.customer_id = c.id \
              AND d.status = 'open') THEN 1 ELSE 0 END AS dispute \
         FROM customers c WHERE {condition} ORDER BY LOWER(c.name), c.id LIMIT {limit} OFFSET {offset}"
    );
    let rows: Vec<Row> = bind_all(sqlx::query_as(&sql), &w.binds).fetch_all(pool).await?;
    let balances = balances(pool, merchant, rows.iter().map(|r| r.id.as_str()), locale).await?;
    let items = rows
        .into_iter()
        .map(|r| {
            let days_overdue = r.oldest_due_at.filter(|d| *d < now.0).map(|d| (now.0 - d) / (24 * 60 * 60 * 1000));
            CustomerListItem {
                balances: balances.get(&r.id).cloned().unwrap_or_default(),
                aging_label: r.oldest_due_at.map(|d| AgingBucket::of(d, now).label().to_string()).unwrap_or_default(),
                id: r.id,
                name: r.name,
                email: r.email,
                status: r.status,
                autopay: r.autopay_enabled != 0,
                open_invoices: r.open_invoices,
                days_overdue,
                in_dunning: r.in_dunning != 0,
                promise: r.promise != 0,
                dispute: r.dispute != 0,
            }
        })
        .collect();
    Ok(Listed { items, total, errors: std::mem::take(&mut w.errors) })
}

/// Open balances per customer and currency, formatted, largest first.
async fn balances<'a>(
    pool: &AnyPool,
    merchant: &MerchantId,
    customers: impl Iterator<Item = &'a str>,
    locale: &str,
) -> Result<HashMap<String, Vec<String>>, AppError> {
    let ids: Vec<&str> = customers.collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let marks: Vec<String> = (0..ids.len()).map(|k| format!("${}", k + 2)).collect();
    let sql = format!(
        "SELECT i.customer_id, i.currency, CAST(SUM(i.total_minor - i.amount_paid_minor) AS BIGINT) FROM invoices i \
         WHERE i.merchant_id = $1 AND i.status = 'open' AND i.total_minor > i.amount_paid_minor \
         AND i.customer_id IN ({}) GROUP BY i.customer_id, i.currency",
        marks.join(", ")
    );
    let mut q = sqlx::query_as::<_, (String, String, i64)>(&sql).bind(merchant.as_str());
    for id in &ids {
        q = q.bind(*id);
    }
    let mut out: HashMap<String, Vec<(i64, String)>> = HashMap::new();
    for (customer, currency, owed) in q.fetch_all(pool).await? {
        let c = Currency::parse(&currency).map_err(AppError::internal)?;
        out.entry(customer).or_default().push((owed, Money::new(owed, c).display_in(locale)));
    }
    Ok(out
        .into_iter()
        .map(|(k, mut v)| {
            v.sort_by(|a, b| b.0.cmp(&a.0));
            (k, v.into_iter().map(|(_, s)| s).collect())
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn search_wildcards_are_literal() {
        assert_eq!(like_pattern(" Ada "), "%ada%");
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
