//! The console's invoice list: search by number or customer, filters by
//! status, aging bucket, dunning, promise and dispute; the merchant's
//! invoices only, a page at a time.

use super::aging::AgingBucket;
use crate::server::ids::MerchantId;
use crate::server::{AppError, UtcMillis};
use crate::types::{Currency, InvoiceFilter, InvoiceListItem, Money};
use jiff::tz::TimeZone;
use sqlx::AnyPool;

pub const PER_PAGE: u32 = 50;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

pub struct Listed {
    pub items: Vec<InvoiceListItem>,
    pub total: i64,
    pub errors: Vec<String>,
}

enum Bind {
    Text(String),
    Int(i64),
}

pub async fn list(
    pool: &AnyPool,
    merchant: &MerchantId,
    zone: &TimeZone,
    now: UtcMillis,
    f: &InvoiceFilter,
) -> Result<Listed, AppError> {
    let mut sql = vec!["i.merchant_id = $1".to_string()];
    let mut binds = vec![Bind::Text(merchant.as_str().to_string())];
    let mut errors = Vec::new();
    let bind = |b: Bind, binds: &mut Vec<Bind>| {
        binds.push(b);
        format!("${}", binds.len())
    };
    if !f.q.trim().is_empty() {
        let p = bind(Bind::Text(super::customers::like_pattern(&f.q)), &mut binds);
        sql.push(format!("(LOWER(i.number) LIKE {p} ESCAPE '\\' OR LOWER(c.name) LIKE {p} ESCAPE '\\')"));
    }
    match f.status.as_str() {
        "" => {}
        "open" | "paid" | "void" | "uncollectible" => {
            let p = bind(Bind::Text(f.status.clone()), &mut binds);
            sql.push(format!("i.status = {p}"));
        }
        other => errors.push(format!("Ignored the status filter: {other:?} is not open, paid, void or uncollectible.")),
    }
    if !f.aging.is_empty() {
        match AgingBucket::parse(&f.aging) {
            Some(b) => {
                let (after, up_to) = b.due_range(now);
                sql.push("i.status = 'open' AND i.total_minor > i.amount_paid_minor".into());
                if let Some(a) = after {
                    let p = bind(Bind::Int(a), &mut binds);
                    sql.push(format!("i.due_at > {p}"));
                }
                if let Some(u) = up_to {
                    let p = bind(Bind::Int(u), &mut binds);
                    sql.push(format!("i.due_at <= {p}"));
                }
            }
            None => errors.push(format!(
                "Ignored the aging filter: {:?} is not one of current, 1-30, 31-60, 61-90, 90+.",
                f.aging
            )),
        }
    }
    let yes_no = |v: &str, what: &str, errors: &mut Vec<String>| match v {
        "" => None,
        "yes" => Some(true),
        "no" => Some(false),
        other => {
            errors.push(format!("Ignored the {what} filter: {other:?} is not \"yes\" or \"no\"."));
            None
        }
    };
    if let Some(on) = yes_no(&f.dunning, "in-dunning", &mut errors) {
        let p = bind(Bind::Int(now.0), &mut binds);
        let cond = format!("(i.status = 'open' AND i.due_at < {p} AND i.dunning_next_at IS NOT NULL)");
        sql.push(if on { cond } else { format!("NOT {cond}") });
    }
    if let Some(on) = yes_no(&f.promise, "promise", &mut errors) {
        let p = bind(Bind::Int(now.0), &mut binds);
        let cond = format!(
            "EXISTS (SELECT 1 FROM promises p WHERE p.merchant_id = i.merchant_id AND p.invoice_id = i.id \
             AND p.status = 'active' AND p.promised_until > {p})"
        );
        sql.push(if on { cond } else { format!("NOT {cond}") });
    }
    if let Some(on) = yes_no(&f.dispute, "dispute", &mut errors) {
        let cond = "EXISTS (SELECT 1 FROM disputes d WHERE d.merchant_id = i.merchant_id AND d.invoice_id = i.id \
                    AND d.status = 'open')"
            .to_string();
        sql.push(if on { cond } else { format!("NOT {cond}") });
    }
    let from = "FROM invoices i JOIN customers c ON c.id = i.customer_id AND c.merchant_id = i.merchant_id";
    let condition = sql.join(" AND ");
    let count_sql = format!("SELECT COUNT(*) {from} WHERE {condition}");
    let mut count = sqlx::query_as::<_, (i64,)>(&count_sql);
    for b in &binds {
        count = match b {
            Bind::Text(s) => count.bind(s.clone()),
            Bind::Int(i) => count.bind(*i),
        };
    }
    let (total,) = count.fetch_one(pool).await?;
    let page = f.page.max(1) as i64;
    let n = bind(Bind::Int(now.0), &mut binds);
    let limit = bind(Bind::Int(PER_PAGE as i64), &mut binds);
    let offset = bind(Bind::Int((page - 1) * PER_PAGE as i64), &mut binds);
    let rows_sql = format!(
        "SELECT i.id, i.number, c.id, c.name, i.status, i.due_at, i.total_minor, i.total_minor - i.amount_paid_minor, \
         i.currency, CASE WHEN i.status = 'open' AND i.due_at < {n} AND i.dunning_next_at IS NOT NULL THEN 1 ELSE 0 END, \
         CASE WHEN EXISTS (SELECT 1 FROM promises p WHERE p.merchant_id = i.merchant_id AND p.invoice_id = i.id \
              AND p.status = 'active' AND p.promised_until > {n}) THEN 1 ELSE 0 END, \
         CASE WHEN EXISTS (SELECT 1 FROM disputes d WHERE d.merchant_id = i.merchant_id AND d.invoice_id = i.id \
              AND d.status = 'open') THEN 1 ELSE 0 END \
         {from} WHERE {condition} ORDER BY i.due_at DESC, i.number LIMIT {limit} OFFSET {offset}"
    );
    type Row = (String, String, String, String, String, i64, i64, i64, String, i64, i64, i64);
    let mut q = sqlx::query_as::<_, Row>(&rows_sql);
    for b in &binds {
        q = match b {
            Bind::Text(s) => q.bind(s.clone()),
            Bind::Int(i) => q.bind(*i),
        };
    }
    let rows = q.fetch_all(pool).await?;
    let items = rows
        .into_iter()
        .map(|(id, number, customer_id, customer, status, due_at, total, owed, currency, dunning, promise, dispute)| {
            let c = Currency::parse(&currency).map_err(AppError::internal)?;
            let open = status == "open";
            Ok(InvoiceListItem {
                id,
                number,
                customer_id,
                customer,
                due_on: UtcMillis(due_at)
                    .to_timestamp()
                    .to_zoned(zone.clone())
                    .date()
                    .strftime("%b %-d, %Y")
                    .to_string(),
                total: Money::new(total, c).display_in("en-US"),
                owed: Money::new(if open { owed } else { 0 }, c).display_in("en-US"),
                days_overdue: (open && owed > 0 && due_at < now.0).then(|| (now.0 - due_at) / DAY_MS),
                status,
                in_dunning: dunning != 0,
                promise: promise != 0,
                dispute: dispute != 0,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok(Listed { items, total, errors })
}
