//! `/api/v1/payments` and `/api/v1/events`: what happened, read-only.

use super::auth::ApiMerchant;
use super::error::{ApiError, ErrorBody};
use super::{page_limit, ApiQuery, PageQuery};
use app::server::AppState;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct Allocation {
    pub invoice_id: String,
    /// Minor units put towards this invoice.
    pub amount: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Payment {
    /// `pay_…`
    pub id: String,
    pub customer_id: String,
    /// Minor units.
    pub amount: i64,
    pub currency: String,
    /// `pending`, `processing`, `requires_action`, `succeeded`, `failed`,
    /// `unknown`, `refunded` or `external` (recorded as paid outside Settle).
    pub status: String,
    /// `portal`, `autopay` or `external`.
    pub purpose: String,
    pub failure_message: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
    pub allocations: Vec<Allocation>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentList {
    pub data: Vec<Payment>,
    pub has_more: bool,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PaymentQuery {
    pub customer_id: Option<String>,
}

/// The merchant's payments, oldest first, with what each paid.
#[utoipa::path(get, path = "/api/v1/payments", tag = "payments",
    params(PageQuery, PaymentQuery),
    responses((status = 200, body = PaymentList), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn list_payments(
    State(state): State<AppState>,
    auth: ApiMerchant,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(filter): ApiQuery<PaymentQuery>,
) -> Result<Json<PaymentList>, ApiError> {
    let limit = page_limit(page.limit)?;
    let mut sql = "SELECT id, customer_id, amount_minor, currency, status, purpose, failure_message, created_at \
                   FROM payments WHERE merchant_id = $1 AND id > $2"
        .to_string();
    if filter.customer_id.is_some() {
        sql.push_str(" AND customer_id = $4");
    }
    sql.push_str(" ORDER BY id LIMIT $3");
    type Row = (String, String, i64, String, String, String, Option<String>, i64);
    let mut q = sqlx::query_as::<_, Row>(&sql)
        .bind(auth.merchant.id.as_str())
        .bind(page.starting_after.clone().unwrap_or_default())
        .bind(limit + 1);
    if let Some(c) = &filter.customer_id {
        q = q.bind(c.as_str());
    }
    let mut rows = q.fetch_all(state.db.pool()).await?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let mut allocations: HashMap<String, Vec<Allocation>> = HashMap::new();
    if !rows.is_empty() {
        let marks: Vec<String> = (0..rows.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT payment_id, invoice_id, amount_minor FROM payment_allocations WHERE merchant_id = $1 \
             AND payment_id IN ({}) ORDER BY invoice_id",
            marks.join(", ")
        );
        let mut q = sqlx::query_as::<_, (String, String, i64)>(&sql).bind(auth.merchant.id.as_str());
        for r in &rows {
            q = q.bind(r.0.as_str());
        }
        for (payment, invoice_id, amount) in q.fetch_all(state.db.pool()).await? {
            allocations.entry(payment).or_default().push(Allocation { invoice_id, amount });
        }
    }
    let data: Vec<Payment> = rows
        .into_iter()
        .map(|(id, customer_id, amount, currency, status, purpose, failure_message, created_at)| Payment {
            allocations: allocations.remove(&id).unwrap_or_default(),
            id,
            customer_id,
            amount,
            currency,
            status,
            purpose,
            failure_message,
            created_at,
        })
        .collect();
    let next_cursor = if has_more { data.last().map(|p| p.id.clone()) } else { None };
    Ok(Json(PaymentList { data, has_more, next_cursor }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Event {
    /// `evt_…`
    pub id: String,
    /// `reminder_sent`, `retry_attempted`, `payment_recovered`,
    /// `customer_suspended`, `late_fee_added`, `paid_outside`, …
    #[serde(rename = "type")]
    pub kind: String,
    pub customer_id: Option<String>,
    pub invoice_id: Option<String>,
    /// What the event carries, by type.
    pub data: serde_json::Value,
    /// Unix milliseconds.
    pub created_at: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventList {
    pub data: Vec<Event>,
    pub has_more: bool,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct EventQuery {
    /// Only events of this type.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
}

/// The merchant's events, oldest first.
#[utoipa::path(get, path = "/api/v1/events", tag = "events",
    params(PageQuery, EventQuery),
    responses((status = 200, body = EventList), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn list_events(
    State(state): State<AppState>,
    auth: ApiMerchant,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(filter): ApiQuery<EventQuery>,
) -> Result<Json<EventList>, ApiError> {
    let limit = page_limit(page.limit)?;
    let mut sql = "SELECT id, kind, customer_id, invoice_id, detail, created_at FROM events \
                   WHERE merchant_id = $1 AND id > $2"
        .to_string();
    if filter.kind.is_some() {
        sql.push_str(" AND kind = $4");
    }
    sql.push_str(" ORDER BY id LIMIT $3");
    type Row = (String, String, Option<String>, Option<String>, String, i64);
    let mut q = sqlx::query_as::<_, Row>(&sql)
        .bind(auth.merchant.id.as_str())
        .bind(page.starting_after.clone().unwrap_or_default())
        .bind(limit + 1);
    if let Some(k) = &filter.kind {
        q = q.bind(k.as_str());
    }
    let mut rows = q.fetch_all(state.db.pool()).await?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let data: Vec<Event> = rows
        .into_iter()
        .map(|(id, kind, customer_id, invoice_id, detail, created_at)| Event {
            id,
            kind,
            customer_id,
            invoice_id,
            data: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
            created_at,
        })
        .collect();
    let next_cursor = if has_more { data.last().map(|e| e.id.clone()) } else { None };
    Ok(Json(EventList { data, has_more, next_cursor }))
}
