//! The AR dashboard's figures, computed in SQL over the merchant's rows
//! in its default currency, money in minor units throughout (ratios in
//! integer tenths, never floats).

use super::charts::bar_chart;
use crate::server::ids::MerchantId;
use crate::server::repo::merchants::MerchantRow;
use crate::server::{AppError, UtcMillis};
use crate::types::{Alert, AtRisk, Bar, ConsoleHeader, Currency, Dashboard, DsoFigure, Money};
use jiff::tz::TimeZone;
use sqlx::AnyPool;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// DSO, recovery and the funnel look back this far.
pub const TRAILING_DAYS: i64 = 90;
/// Alerts look back this far.
pub const ALERT_DAYS: i64 = 14;
/// The funnel's last bar collects this many reminders and more.
const FUNNEL_CAP: i64 = 5;

/// `n / d` in tenths, rounded half up; `None` when `d` is 0.
pub fn tenths(n: i64, d: i64) -> Option<i64> {
    (d > 0).then(|| ((n as i128 * 20 + d as i128) / (d as i128 * 2)) as i64)
}

/// DSO = open receivables ÷ amount invoiced in the last 90 days × 90 days.
pub fn dso_tenths(receivables: i64, invoiced: i64) -> Option<i64> {
    tenths(receivables * TRAILING_DAYS, invoiced)
}

pub fn show_tenths(t: i64) -> String {
    format!("{}.{}", t / 10, t % 10)
}

pub async fn load(
    pool: &AnyPool,
    merchant: &MerchantRow,
    header: ConsoleHeader,
    can_export: bool,
    now: UtcMillis,
) -> Result<Dashboard, AppError> {
    let currency = Currency::parse(&merchant.default_currency).map_err(AppError::internal)?;
    let mid = merchant.merchant_id();
    let zone = TimeZone::get(&merchant.time_zone).unwrap_or(TimeZone::UTC);
    let money = |minor: i64| Money::new(minor, currency).display_in("en-US");
    let m = mid.as_str();
    let cur = currency.code();

    let aging = aging(pool, &mid, cur, now).await?;
    let receivables: i64 = aging.iter().map(|b| b.value).sum();
    let aging: Vec<Bar> = aging.into_iter().map(|b| Bar { display: money(b.value), ..b }).collect();

    let other_currencies: Vec<(String,)> = sqlx::query_as(
        "SELECT DISTINCT currency FROM invoices WHERE merchant_id = $1 AND status = 'open' \
         AND total_minor > amount_paid_minor AND currency <> $2 ORDER BY currency",
    )
    .bind(m)
    .bind(cur)
    .fetch_all(pool)
    .await?;

    let since = now.0 - TRAILING_DAYS * DAY_MS;
    let (invoiced,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(total_minor), 0) AS BIGINT) FROM invoices WHERE merchant_id = $1 \
         AND currency = $2 AND status IN ('open', 'paid', 'uncollectible') AND issued_at > $3 AND issued_at <= $4",
    )
    .bind(m)
    .bind(cur)
    .bind(since)
    .bind(now.0)
    .fetch_one(pool)
    .await?;
    let dso = dso_tenths(receivables, invoiced).map(|t| DsoFigure {
        tenths: t,
        receivables: money(receivables),
        invoiced: money(invoiced),
    });

    // Invoices an autopay charge failed on lately, and which are paid now.
    let (failed, recovered): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN i.status = 'paid' THEN 1 ELSE 0 END), 0) FROM invoices i \
         WHERE i.merchant_id = $1 AND EXISTS (SELECT 1 FROM payments p JOIN payment_allocations a \
             ON a.payment_id = p.id AND a.merchant_id = p.merchant_id \
             WHERE p.merchant_id = i.merchant_id AND a.invoice_id = i.id AND p.purpose = 'autopay' \
             AND p.status = 'failed' AND p.created_at > $2)",
    )
    .bind(m)
    .bind(since)
    .fetch_one(pool)
    .await?;

    let funnel = funnel(pool, &mid, since).await?;

    let (collected, this_month) = collected(pool, &mid, cur, &zone, now).await?;
    let collected: Vec<Bar> = collected.into_iter().map(|b| Bar { display: money(b.value), ..b }).collect();

    Ok(Dashboard {
        aging_svg: bar_chart("Receivables by age", &aging),
        funnel_svg: bar_chart("Invoices paid, by reminders sent first", &funnel),
        collected_svg: bar_chart("Collected per month", &collected),
        header,
        currency: cur.to_string(),
        other_currencies: other_currencies.into_iter().map(|(c,)| c).collect(),
        aging,
        receivables: money(receivables),
        dso,
        failed_invoices: failed,
        recovered_invoices: recovered,
        recovery_tenths: tenths(recovered * 100, failed),
        funnel,
        collected_this_month: money(this_month),
        collected,
        at_risk: at_risk(pool, &mid, &zone, now).await?,
        alerts: alerts(pool, &mid, &zone, now).await?,
        can_export,
    })
}

/// Open receivables per aging bucket (values in minor units).
async fn aging(pool: &AnyPool, mid: &MerchantId, currency: &str, now: UtcMillis) -> Result<Vec<Bar>, AppError> {
    let ago = |days: i64| now.0 - days * DAY_MS;
    let sum = |cond: &str| {
        format!("CAST(COALESCE(SUM(CASE WHEN {cond} THEN total_minor - amount_paid_minor ELSE 0 END), 0) AS BIGINT)")
    };
    let sql = format!(
        "SELECT {}, {}, {}, {}, {} FROM invoices WHERE merchant_id = $1 AND currency = $2 AND status = 'open' \
         AND total_minor > amount_paid_minor",
        sum("due_at >= $3"),
        sum("due_at < $3 AND due_at >= $4"),
        sum("due_at < $4 AND due_at >= $5"),
        sum("due_at < $5 AND due_at >= $6"),
        sum("due_at < $6"),
    );
    let row: (i64, i64, i64, i64, i64) = sqlx::query_as(&sql)
        .bind(mid.as_str())
        .bind(currency)
        .bind(now.0)
        .bind(ago(30))
        .bind(ago(60))
        .bind(ago(90))
        .fetch_one(pool)
        .await?;
    let values = [row.0, row.1, row.2, row.3, row.4];
    Ok(super::aging::AgingBucket::ALL
        .iter()
        .zip(values)
        .map(|(b, v)| Bar { label: b.label().to_string(), value: v, display: String::new() })
        .collect())
}

/// Invoices paid since `since`, by how many dunning reminders went out
/// for them before they were paid.
async fn funnel(pool: &AnyPool, mid: &MerchantId, since: i64) -> Result<Vec<Bar>, AppError> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT r.n, COUNT(*) FROM (SELECT i.id, (SELECT COUNT(*) FROM message_invoices mi \
             JOIN messages g ON g.id = mi.message_id \
             WHERE mi.invoice_id = i.id AND g.merchant_id = i.merchant_id AND g.status = 'sent' \
             AND g.template_key LIKE 'dunning:%' AND COALESCE(g.sent_at, g.created_at) <= i.paid_at) AS n \
         FROM invoices i WHERE i.merchant_id = $1 AND i.status = 'paid' AND i.paid_at > $2) r GROUP BY r.n",
    )
    .bind(mid.as_str())
    .bind(since)
    .fetch_all(pool)
    .await?;
    let mut counts = vec![0i64; FUNNEL_CAP as usize + 1];
    for (n, count) in rows {
        counts[n.clamp(0, FUNNEL_CAP) as usize] += count;
    }
    Ok(counts
        .into_iter()
        .enumerate()
        .map(|(n, count)| {
            let label = match n as i64 {
                0 => "Before any reminder".to_string(),
                1 => "After 1 reminder".to_string(),
                FUNNEL_CAP => format!("After {FUNNEL_CAP} or more"),
                k => format!("After {k} reminders"),
            };
            Bar { label, value: count, display: format!("{count} invoice{}", if count == 1 { "" } else { "s" }) }
        })
        .collect())
}

/// Money received (portal, autopay and recorded outside Settle, refunds
/// left out) per calendar month in the merchant's zone, the last six
/// months; and this month's total.
async fn collected(
    pool: &AnyPool,
    mid: &MerchantId,
    currency: &str,
    zone: &TimeZone,
    now: UtcMillis,
) -> Result<(Vec<Bar>, i64), AppError> {
    let today = now.to_timestamp().to_zoned(zone.clone()).date();
    let this_month = today.first_of_month();
    let months: Vec<jiff::civil::Date> =
        (0..6).rev().map(|back| this_month.checked_sub(jiff::Span::new().months(back)).unwrap_or(this_month)).collect();
    let start = months[0].to_zoned(zone.clone()).map_err(AppError::internal)?.timestamp().as_millisecond();
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT amount_minor, created_at FROM payments WHERE merchant_id = $1 AND currency = $2 \
         AND status IN ('succeeded', 'external') AND created_at >= $3 AND created_at <= $4",
    )
    .bind(mid.as_str())
    .bind(currency)
    .bind(start)
    .bind(now.0)
    .fetch_all(pool)
    .await?;
    let mut sums = vec![0i64; months.len()];
    for (amount, at) in rows {
        let month = UtcMillis(at).to_timestamp().to_zoned(zone.clone()).date().first_of_month();
        if let Some(i) = months.iter().position(|m| *m == month) {
            sums[i] += amount;
        }
    }
    let this = *sums.last().unwrap_or(&0);
    let bars = months
        .iter()
        .zip(sums)
        .map(|(m, v)| Bar { label: m.strftime("%b %Y").to_string(), value: v, display: String::new() })
        .collect();
    Ok((bars, this))
}

fn day(ms: i64, zone: &TimeZone) -> String {
    UtcMillis(ms).to_timestamp().to_zoned(zone.clone()).date().strftime("%b %-d, %Y").to_string()
}

/// Open invoices whose final notice has gone out: the last chance list.
async fn at_risk(pool: &AnyPool, mid: &MerchantId, zone: &TimeZone, now: UtcMillis) -> Result<Vec<AtRisk>, AppError> {
    // The sweep writes reminder events as compact JSON with sorted keys,
    // so the tone appears exactly as `"tone":"final"`.
    let rows: Vec<(String, String, String, i64, String, i64, i64)> = sqlx::query_as(
        "SELECT c.id, c.name, i.number, i.total_minor - i.amount_paid_minor, i.currency, i.due_at, \
         MAX(e.created_at) FROM events e \
         JOIN invoices i ON i.id = e.invoice_id AND i.merchant_id = e.merchant_id \
         JOIN customers c ON c.id = i.customer_id AND c.merchant_id = i.merchant_id \
         WHERE e.merchant_id = $1 AND e.kind = 'reminder_sent' AND e.detail LIKE '%\"tone\":\"final\"%' \
         AND i.status = 'open' AND i.total_minor > i.amount_paid_minor \
         GROUP BY c.id, c.name, i.number, i.total_minor, i.amount_paid_minor, i.currency, i.due_at \
         ORDER BY i.total_minor - i.amount_paid_minor DESC, i.number LIMIT 50",
    )
    .bind(mid.as_str())
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|(customer_id, customer, number, owed, currency, due_at, sent)| {
            let c = Currency::parse(&currency).map_err(AppError::internal)?;
            Ok(AtRisk {
                customer_id,
                customer,
                number,
                owed: Money::new(owed, c).display_in("en-US"),
                days_overdue: ((now.0 - due_at) / DAY_MS).max(0),
                final_notice_on: day(sent, zone),
            })
        })
        .collect()
}

/// What needs a look: invoices that just became overdue, promises that
/// ran out unpaid, disputes opened; the last two weeks, newest first.
async fn alerts(pool: &AnyPool, mid: &MerchantId, zone: &TimeZone, now: UtcMillis) -> Result<Vec<Alert>, AppError> {
    let since = now.0 - ALERT_DAYS * DAY_MS;
    let m = mid.as_str();
    let mut out: Vec<(i64, Alert)> = Vec::new();
    let overdue: Vec<(String, String, String, i64, String, i64)> = sqlx::query_as(
        "SELECT c.id, c.name, i.number, i.total_minor - i.amount_paid_minor, i.currency, i.due_at FROM invoices i \
         JOIN customers c ON c.id = i.customer_id AND c.merchant_id = i.merchant_id \
         WHERE i.merchant_id = $1 AND i.status = 'open' AND i.total_minor > i.amount_paid_minor \
         AND i.due_at > $2 AND i.due_at <= $3 ORDER BY i.due_at DESC LIMIT 50",
    )
    .bind(m)
    .bind(since)
    .bind(now.0)
    .fetch_all(pool)
    .await?;
    for (cid, name, number, owed, currency, due_at) in overdue {
        let c = Currency::parse(&currency).map_err(AppError::internal)?;
        let text = format!("{number} for {name} became overdue ({} owed)", Money::new(owed, c).display_in("en-US"));
        out.push((due_at, Alert { at: day(due_at, zone), kind: "overdue".into(), text, customer_id: cid }));
    }
    let broken: Vec<(String, String, String, String, i64)> = sqlx::query_as(
        "SELECT c.id, c.name, i.number, p.promised_date, p.promised_until FROM promises p \
         JOIN invoices i ON i.id = p.invoice_id AND i.merchant_id = p.merchant_id \
         JOIN customers c ON c.id = p.customer_id AND c.merchant_id = p.merchant_id \
         WHERE p.merchant_id = $1 AND p.status IN ('active', 'broken') AND p.promised_until > $2 \
         AND p.promised_until <= $3 AND i.status = 'open' AND i.total_minor > i.amount_paid_minor \
         ORDER BY p.promised_until DESC LIMIT 50",
    )
    .bind(m)
    .bind(since)
    .bind(now.0)
    .fetch_all(pool)
    .await?;
    for (cid, name, number, date, until) in broken {
        let text = format!("{name} promised to pay {number} by {date} and hasn't");
        out.push((until, Alert { at: day(until, zone), kind: "promise_broken".into(), text, customer_id: cid }));
    }
    let disputes: Vec<(String, String, String, String, i64)> = sqlx::query_as(
        "SELECT c.id, c.name, i.number, d.reason, d.created_at FROM disputes d \
         JOIN invoices i ON i.id = d.invoice_id AND i.merchant_id = d.merchant_id \
         JOIN customers c ON c.id = d.customer_id AND c.merchant_id = d.merchant_id \
         WHERE d.merchant_id = $1 AND d.created_at > $2 ORDER BY d.created_at DESC LIMIT 50",
    )
    .bind(m)
    .bind(since)
    .fetch_all(pool)
    .await?;
    for (cid, name, number, reason, at) in disputes {
        let reason = crate::server::history::reason_label(&reason);
        let text = format!("{name} disputed {number}: {reason}");
        out.push((at, Alert { at: day(at, zone), kind: "dispute".into(), text, customer_id: cid }));
    }
    out.sort_by(|a, b| b.0.cmp(&a.0));
    out.truncate(50);
    Ok(out.into_iter().map(|(_, a)| a).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_are_integer_tenths_rounded_half_up() {
        assert_eq!(tenths(1, 3), Some(3)); // 0.333… → 0.3
        assert_eq!(tenths(2, 3), Some(7)); // 0.666… → 0.7
        assert_eq!(tenths(1, 20), Some(1)); // 0.05 → 0.1
        assert_eq!(tenths(5, 0), None);
        // $4,500 open against $9,000 invoiced in 90 days: 45.0 days.
        assert_eq!(dso_tenths(450_000, 900_000), Some(450));
        assert_eq!(show_tenths(345), "34.5");
        // Large books don't overflow.
        assert_eq!(dso_tenths(i64::MAX / 100, i64::MAX / 100), Some(900));
    }
}
