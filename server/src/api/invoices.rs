//! `/api/v1/invoices`: list (cursor pages), create, fetch, void.

use super::auth::ApiMerchant;
use super::error::{ApiError, ErrorBody};
use super::{idempotency, page_limit, ApiQuery, PageQuery};
use app::server::ids::{CustomerId, InvoiceId};
use app::server::repo::invoices::{self, InvoiceStatus, NewInvoice, NewInvoiceLine};
use app::server::repo::{events, unique_violation};
use app::server::{AppState, UtcMillis};
use app::types::Currency;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct Invoice {
    /// `inv_…`
    pub id: String,
    pub customer_id: String,
    pub number: String,
    pub external_ref: Option<String>,
    /// ISO 4217.
    pub currency: String,
    /// Minor units (cents), tax included.
    pub total: i64,
    pub amount_paid: i64,
    pub amount_due: i64,
    /// `draft`, `open`, `paid`, `void` or `uncollectible`.
    pub status: String,
    /// Unix milliseconds.
    pub issued_at: i64,
    /// Unix milliseconds: the end of the due day in the customer's zone.
    pub due_at: i64,
    pub memo: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceList {
    pub data: Vec<Invoice>,
    pub has_more: bool,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewInvoiceBody {
    pub customer_id: String,
    pub number: String,
    /// Minor units (cents), before tax; above zero.
    pub amount: i64,
    /// Minor units; defaults to 0.
    #[serde(default)]
    pub tax: Option<i64>,
    /// Defaults to the merchant's currency.
    #[serde(default)]
    pub currency: Option<String>,
    /// `YYYY-MM-DD`, in the customer's zone.
    pub due_on: String,
    /// `YYYY-MM-DD`; defaults to the due date.
    #[serde(default)]
    pub issued_on: Option<String>,
    #[serde(default)]
    pub external_ref: Option<String>,
    #[serde(default)]
    pub memo: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct InvoiceQuery {
    pub customer_id: Option<String>,
    /// `open`, `paid`, `void`, …
    pub status: Option<String>,
}

const SELECT: &str = "SELECT id, customer_id, number, external_ref, currency, total_minor AS total, \
     amount_paid_minor AS amount_paid, total_minor - amount_paid_minor AS amount_due, status, issued_at, due_at, memo \
     FROM invoices";

/// The merchant's invoices, oldest first, a page at a time.
#[utoipa::path(get, path = "/api/v1/invoices", tag = "invoices",
    params(PageQuery, InvoiceQuery),
    responses((status = 200, body = InvoiceList), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn list_invoices(
    State(state): State<AppState>,
    auth: ApiMerchant,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(filter): ApiQuery<InvoiceQuery>,
) -> Result<Json<InvoiceList>, ApiError> {
    let limit = page_limit(page.limit)?;
    let mut sql = format!("{SELECT} WHERE merchant_id = $1 AND id > $2");
    let mut extra = Vec::new();
    if let Some(c) = &filter.customer_id {
        extra.push(c.clone());
        sql.push_str(&format!(" AND customer_id = ${}", 3 + extra.len()));
    }
    if let Some(s) = &filter.status {
        extra.push(s.clone());
        sql.push_str(&format!(" AND status = ${}", 3 + extra.len()));
    }
    sql.push_str(" ORDER BY id LIMIT $3");
    let mut q = sqlx::query_as::<_, Invoice>(&sql)
        .bind(auth.merchant.id.as_str())
        .bind(page.starting_after.clone().unwrap_or_default())
        .bind(limit + 1);
    for v in &extra {
        q = q.bind(v.as_str());
    }
    let mut rows = q.fetch_all(state.db.pool()).await?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if has_more { rows.last().map(|i| i.id.clone()) } else { None };
    Ok(Json(InvoiceList { data: rows, has_more, next_cursor }))
}

async fn find(state: &AppState, auth: &ApiMerchant, id: &str) -> Result<Invoice, ApiError> {
    sqlx::query_as::<_, Invoice>(&format!("{SELECT} WHERE merchant_id = $1 AND id = $2"))
        .bind(auth.merchant.id.as_str())
        .bind(id)
        .fetch_optional(state.db.pool())
        .await?
        .ok_or_else(|| ApiError::not_found("invoice"))
}

/// One invoice.
#[utoipa::path(get, path = "/api/v1/invoices/{id}", tag = "invoices",
    params(("id" = String, Path, description = "`inv_…`")),
    responses((status = 200, body = Invoice), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn get_invoice(
    State(state): State<AppState>,
    auth: ApiMerchant,
    Path(id): Path<String>,
) -> Result<Json<Invoice>, ApiError> {
    find(&state, &auth, &id).await.map(Json)
}

fn date(field: &str, text: &str) -> Result<Date, ApiError> {
    text.parse::<Date>().map_err(|_| ApiError::invalid(field, format!("{text:?} is not a date like 2026-03-31.")))
}

/// Creates an open invoice. Send `Idempotency-Key` to make retries safe.
#[utoipa::path(post, path = "/api/v1/invoices", tag = "invoices",
    request_body = NewInvoiceBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response")),
    responses((status = 201, body = Invoice), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn create_invoice(
    State(state): State<AppState>,
    auth: ApiMerchant,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let merchant_id = auth.merchant.id.clone();
    idempotency::run(&state, &merchant_id, &headers, "POST /api/v1/invoices", &body, || async {
        let input: NewInvoiceBody = super::json(&body)?;
        let customer = super::customers::find(&state, &auth, &input.customer_id)
            .await
            .map_err(|_| ApiError::invalid("customer_id", format!("No customer {:?}.", input.customer_id)))?;
        let number = input.number.trim();
        if number.is_empty() || number.chars().count() > 64 {
            return Err(ApiError::invalid("number", "Give the invoice number (at most 64 characters)."));
        }
        if input.amount <= 0 {
            return Err(ApiError::invalid("amount", "The amount is in minor units (cents) and must be above zero."));
        }
        let tax = input.tax.unwrap_or(0);
        if tax < 0 {
            return Err(ApiError::invalid("tax", "Tax can't be negative."));
        }
        let currency_code = input.currency.clone().unwrap_or_else(|| auth.merchant.default_currency.clone());
        let currency = Currency::parse(&currency_code.to_uppercase())
            .map_err(|_| ApiError::invalid("currency", format!("{currency_code:?} is not a supported currency.")))?;
        let zone = jiff::tz::TimeZone::get(&customer.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
        let due = date("due_on", &input.due_on)?;
        let issued = match &input.issued_on {
            Some(d) => date("issued_on", d)?,
            None => due,
        };
        if issued > due {
            return Err(ApiError::invalid("issued_on", "The issue date is after the due date."));
        }
        let start = |d: Date| d.to_zoned(zone.clone()).map(|z| z.timestamp().as_millisecond());
        let due_at = due.tomorrow().ok().and_then(|d| start(d).ok()).map(|t| t - 1);
        let (Some(due_at), Ok(issued_at)) = (due_at, start(issued)) else {
            return Err(ApiError::invalid("due_on", "That date is out of range."));
        };
        let external_ref = input.external_ref.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(String::from);
        let mid = auth.merchant.merchant_id();
        let now = state.clock.now();
        let mut tx = app::server::db::begin_write(state.db.pool()).await?;
        let created = invoices::insert(
            &mut tx,
            &mid,
            &CustomerId::from_trusted(customer.id.clone()),
            &NewInvoice {
                number: number.to_string(),
                currency,
                lines: vec![NewInvoiceLine {
                    description: input.memo.clone().unwrap_or_else(|| format!("Invoice {number}")),
                    quantity: 1,
                    unit_minor: input.amount,
                }],
                tax_minor: tax,
                amount_paid_minor: 0,
                status: InvoiceStatus::Open,
                issued_at: UtcMillis(issued_at),
                due_at: UtcMillis(due_at),
                paid_at: None,
                voided_at: None,
                memo: input.memo.clone(),
            },
            now,
        )
        .await;
        let id = match created {
            Ok(id) => id,
            Err(invoices::NewInvoiceError::Db(e)) if unique_violation(&e, "invoices_number_key", "invoices.number") => {
                return Err(ApiError::conflict("conflict", format!("Invoice number {number:?} is taken.")))
            }
            Err(invoices::NewInvoiceError::Db(e)) => return Err(e.into()),
            Err(_) => return Err(ApiError::invalid("amount", "The amounts are out of range.")),
        };
        if let Some(r) = &external_ref {
            let set = sqlx::query("UPDATE invoices SET external_ref = $1 WHERE merchant_id = $2 AND id = $3")
                .bind(r)
                .bind(mid.as_str())
                .bind(id.as_str())
                .execute(&mut *tx)
                .await;
            match set {
                Ok(_) => {}
                Err(e) if unique_violation(&e, "invoices_external_ref_key", "invoices.external_ref") => {
                    return Err(ApiError::conflict("conflict", format!("An invoice with external_ref {r:?} exists.")))
                }
                Err(e) => return Err(e.into()),
            }
        }
        tx.commit().await?;
        let invoice = find(&state, &auth, id.as_str()).await?;
        Ok((StatusCode::CREATED, serde_json::to_value(invoice).unwrap_or_default()))
    })
    .await
}

/// Voids an open invoice with nothing paid on it.
#[utoipa::path(post, path = "/api/v1/invoices/{id}/void", tag = "invoices",
    params(("id" = String, Path, description = "`inv_…`"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response")),
    responses((status = 200, body = Invoice), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn void_invoice(
    State(state): State<AppState>,
    auth: ApiMerchant,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let merchant_id = auth.merchant.id.clone();
    let request = format!("POST /api/v1/invoices/{id}/void");
    idempotency::run(&state, &merchant_id, &headers, &request, b"", || async {
        let invoice = find(&state, &auth, &id).await?;
        if invoice.status == "void" {
            return Ok((StatusCode::OK, serde_json::to_value(invoice).unwrap_or_default()));
        }
        if invoice.status != "open" || invoice.amount_paid > 0 {
            return Err(ApiError::conflict(
                "conflict",
                format!(
                    "Invoice {} is {} with {} paid; only an open, unpaid invoice can be voided.",
                    invoice.number, invoice.status, invoice.amount_paid
                ),
            ));
        }
        let now = state.clock.now();
        let mid = auth.merchant.merchant_id();
        let mut tx = app::server::db::begin_write(state.db.pool()).await?;
        sqlx::query(
            "UPDATE invoices SET status = 'void', voided_at = $1, updated_at = $1, dunning_next_at = NULL \
             WHERE merchant_id = $2 AND id = $3 AND status = 'open' AND amount_paid_minor = 0",
        )
        .bind(now.0)
        .bind(mid.as_str())
        .bind(&id)
        .execute(&mut *tx)
        .await?;
        let inv = InvoiceId::from_trusted(id.clone());
        let customer = CustomerId::from_trusted(invoice.customer_id.clone());
        let detail = serde_json::json!({ "api_key": auth.key_id });
        events::record(&mut *tx, &mid, Some(&customer), Some(&inv), "invoice_voided", &detail, now).await?;
        events::audit(
            &mut *tx,
            &mid,
            "api",
            Some(&auth.key_id),
            "invoice.voided",
            Some(("invoice", &id)),
            &detail,
            None,
            None,
            now,
        )
        .await?;
        tx.commit().await?;
        let invoice = find(&state, &auth, &id).await?;
        Ok((StatusCode::OK, serde_json::to_value(invoice).unwrap_or_default()))
    })
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceUpdate {
    /// `YYYY-MM-DD`, in the customer's zone; the reminder sequence starts over from it.
    #[serde(default)]
    pub due_on: Option<String>,
    #[serde(default)]
    pub number: Option<String>,
    #[serde(default)]
    pub external_ref: Option<String>,
    #[serde(default)]
    pub memo: Option<String>,
}

/// Changes an open invoice's due date, number, reference or memo.
#[utoipa::path(patch, path = "/api/v1/invoices/{id}", tag = "invoices",
    request_body = InvoiceUpdate,
    params(("id" = String, Path, description = "`inv_…`")),
    responses((status = 200, body = Invoice), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn update_invoice(
    State(state): State<AppState>,
    auth: ApiMerchant,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Invoice>, ApiError> {
    let input: InvoiceUpdate = super::json(&body)?;
    let invoice = find(&state, &auth, &id).await?;
    if invoice.status != "open" {
        return Err(ApiError::conflict(
            "conflict",
            format!("Invoice {} is {}; only open invoices change.", invoice.number, invoice.status),
        ));
    }
    let mid = auth.merchant.merchant_id();
    let now = state.clock.now();
    let mut tx = app::server::db::begin_write(state.db.pool()).await?;
    if let Some(due_on) = &input.due_on {
        let customer = super::customers::find(&state, &auth, &invoice.customer_id).await?;
        let zone = jiff::tz::TimeZone::get(&customer.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
        let due = date("due_on", due_on)?;
        let due_at = due
            .tomorrow()
            .ok()
            .and_then(|d| d.to_zoned(zone.clone()).ok())
            .map(|z| z.timestamp().as_millisecond() - 1)
            .ok_or_else(|| ApiError::invalid("due_on", "That date is out of range."))?;
        if due_at < invoice.issued_at {
            return Err(ApiError::invalid("due_on", "The due date is before the issue date."));
        }
        // A new due date starts the reminder sequence over.
        sqlx::query(
            "UPDATE invoices SET due_at = $1, dunning_step = NULL, dunning_next_at = NULL, updated_at = $2 \
             WHERE merchant_id = $3 AND id = $4",
        )
        .bind(due_at)
        .bind(now.0)
        .bind(mid.as_str())
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    }
    if let Some(number) = &input.number {
        let number = number.trim();
        if number.is_empty() || number.chars().count() > 64 {
            return Err(ApiError::invalid("number", "Give the invoice number (at most 64 characters)."));
        }
        let set = sqlx::query("UPDATE invoices SET number = $1, updated_at = $2 WHERE merchant_id = $3 AND id = $4")
            .bind(number)
            .bind(now.0)
            .bind(mid.as_str())
            .bind(&id)
            .execute(&mut *tx)
            .await;
        match set {
            Ok(_) => {}
            Err(e) if unique_violation(&e, "invoices_number_key", "invoices.number") => {
                return Err(ApiError::conflict("conflict", format!("Invoice number {number:?} is taken.")))
            }
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(r) = &input.external_ref {
        let r = r.trim();
        let value = (!r.is_empty()).then_some(r);
        let set =
            sqlx::query("UPDATE invoices SET external_ref = $1, updated_at = $2 WHERE merchant_id = $3 AND id = $4")
                .bind(value)
                .bind(now.0)
                .bind(mid.as_str())
                .bind(&id)
                .execute(&mut *tx)
                .await;
        match set {
            Ok(_) => {}
            Err(e) if unique_violation(&e, "invoices_external_ref_key", "invoices.external_ref") => {
                return Err(ApiError::conflict("conflict", format!("An invoice with external_ref {r:?} exists.")))
            }
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(memo) = &input.memo {
        if memo.chars().count() > 1000 {
            return Err(ApiError::invalid("memo", "At most 1000 characters."));
        }
        sqlx::query("UPDATE invoices SET memo = $1, updated_at = $2 WHERE merchant_id = $3 AND id = $4")
            .bind(memo)
            .bind(now.0)
            .bind(mid.as_str())
            .bind(&id)
            .execute(&mut *tx)
            .await?;
    }
    let changed: Vec<&str> = [
        input.due_on.as_ref().map(|_| "due_on"),
        input.number.as_ref().map(|_| "number"),
        input.external_ref.as_ref().map(|_| "external_ref"),
        input.memo.as_ref().map(|_| "memo"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let detail = serde_json::json!({ "api_key": auth.key_id, "changed": changed });
    events::audit(
        &mut *tx,
        &mid,
        "api",
        Some(&auth.key_id),
        "invoice.updated",
        Some(("invoice", &id)),
        &detail,
        None,
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    find(&state, &auth, &id).await.map(Json)
}
