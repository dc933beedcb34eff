//! CSV downloads of the dashboard's figures and the audit log, for owners
//! and admins.

use crate::http_error::HttpError;
use crate::routes::console::staff;
use app::server::console::{dashboard, Action};
use app::server::{AppError, AppState};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new().route("/m/{slug}/dashboard.csv", get(download)).route("/m/{slug}/audit.csv", get(audit_log))
}

#[derive(Deserialize)]
struct Part {
    #[serde(default)]
    part: String,
}

/// A cell a spreadsheet won't run: text starting with `=`, `+`, `-`, `@`
/// (or a tab or carriage return) gets a leading apostrophe. Customer names
/// are written by customers.
pub fn spreadsheet_safe(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

fn csv_bytes(header: &[&str], rows: Vec<Vec<String>>) -> Result<Vec<u8>, AppError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).map_err(AppError::internal)?;
    for row in rows {
        w.write_record(row.iter().map(|c| spreadsheet_safe(c))).map_err(AppError::internal)?;
    }
    w.into_inner().map_err(AppError::internal)
}

/// Minor units as a plain decimal ("1234.50"): what a spreadsheet sums.
fn decimal(minor: i64, exponent: u32) -> String {
    if exponent == 0 {
        return minor.to_string();
    }
    let scale = 10i64.pow(exponent);
    let sign = if minor < 0 { "-" } else { "" };
    format!("{sign}{}.{:0width$}", (minor / scale).abs(), (minor % scale).abs(), width = exponent as usize)
}

async fn download(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    Query(q): Query<Part>,
) -> Result<Response, HttpError> {
    let (merchant, staff) = match staff(&state, &session, &slug).await? {
        Ok(found) => found,
        Err(to_sign_in) => return Ok(to_sign_in.into_response()),
    };
    staff.require(Action::Export)?;
    let d = dashboard::load(state.db.pool(), &merchant, Default::default(), true, state.clock.now()).await?;
    let exp = app::types::Currency::parse(&d.currency).map_err(AppError::internal)?.exponent();
    let money_rows = |bars: Vec<app::types::Bar>| {
        bars.into_iter().map(|b| vec![b.label, d.currency.clone(), decimal(b.value, exp)]).collect::<Vec<_>>()
    };
    let body = match q.part.as_str() {
        "aging" => csv_bytes(&["bucket", "currency", "amount"], money_rows(d.aging.clone()))?,
        "collected" => csv_bytes(&["month", "currency", "amount"], money_rows(d.collected.clone()))?,
        "funnel" => csv_bytes(
            &["paid", "invoices"],
            d.funnel.iter().map(|b| vec![b.label.clone(), b.value.to_string()]).collect(),
        )?,
        "at-risk" => csv_bytes(
            &["customer", "invoice", "owed", "days_overdue", "final_notice"],
            d.at_risk
                .iter()
                .map(|r| {
                    vec![
                        r.customer.clone(),
                        r.number.clone(),
                        r.owed.clone(),
                        r.days_overdue.to_string(),
                        r.final_notice_on.clone(),
                    ]
                })
                .collect(),
        )?,
        _ => {
            return Ok((
                axum::http::StatusCode::BAD_REQUEST,
                "Unknown part: ask for part=aging, funnel, collected or at-risk.\n",
            )
                .into_response())
        }
    };
    Ok(csv_response(&format!("{}-{}.csv", merchant.slug, q.part), body))
}

/// The most an audit export holds; a merchant with more asks support.
const AUDIT_EXPORT_MAX: i64 = 100_000;

async fn audit_log(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
) -> Result<Response, HttpError> {
    let (merchant, staff) = match staff(&state, &session, &slug).await? {
        Ok(found) => found,
        Err(to_sign_in) => return Ok(to_sign_in.into_response()),
    };
    staff.require(Action::Export)?;
    let entries = app::server::console::audit::entries(state.db.pool(), &merchant, 0, AUDIT_EXPORT_MAX).await?;
    let rows = entries.into_iter().map(|e| vec![e.at, e.actor, e.action, e.subject, e.detail, e.ip]).collect();
    let body = csv_bytes(&["when", "who", "action", "subject", "detail", "ip"], rows)?;
    tracing::info!(merchant = %merchant.id, user = %staff.user.id, "audit log exported");
    Ok(csv_response(&format!("{}-audit-log.csv", merchant.slug), body))
}

fn csv_response(filename: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_amounts_are_plain_decimals() {
        assert_eq!(spreadsheet_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(spreadsheet_safe("-1+2"), "'-1+2");
        assert_eq!(spreadsheet_safe("Dana"), "Dana");
        assert_eq!(decimal(123_450, 2), "1234.50");
        assert_eq!(decimal(-5, 2), "-0.05");
        assert_eq!(decimal(1_000, 0), "1000");
    }
}
