//! `/api/v1/customers`: list (cursor pages), create, fetch.

use super::auth::ApiMerchant;
use super::error::{ApiError, ErrorBody};
use super::{idempotency, page_limit, ApiQuery, PageQuery};
use app::server::ids::CustomerId;
use app::server::repo::customers::{self, NewCustomer};
use app::server::repo::unique_violation;
use app::server::sign_in::looks_like_email;
use app::server::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct Customer {
    /// `cus_…`
    pub id: String,
    /// Your own reference for the customer, unique per merchant.
    pub external_ref: Option<String>,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    /// IANA zone reminders and dates follow.
    pub time_zone: String,
    pub locale: String,
    /// `active` or `suspended`.
    pub status: String,
    pub autopay_enabled: bool,
    /// Unix milliseconds.
    pub created_at: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerList {
    pub data: Vec<Customer>,
    pub has_more: bool,
    /// Pass as `starting_after` for the next page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewCustomerBody {
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub external_ref: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// Defaults to the merchant's zone.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Defaults to `en-US`.
    #[serde(default)]
    pub locale: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CustomerQuery {
    /// Only the customer with this email (any case).
    pub email: Option<String>,
}

/// A customer's writable fields, as sent.
struct Fields {
    name: String,
    email: String,
    phone: Option<String>,
    time_zone: String,
    locale: String,
    external_ref: Option<String>,
}

impl Fields {
    /// Trimmed, the email lower-cased, empty optionals `None`; or the first
    /// field that won't do.
    fn checked(self) -> Result<Fields, ApiError> {
        let name = self.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(ApiError::invalid("name", "Give the customer's name (at most 200 characters)."));
        }
        let email = self.email.trim().to_lowercase();
        if !looks_like_email(&email) {
            return Err(ApiError::invalid("email", format!("{email:?} is not an email address.")));
        }
        if jiff::tz::TimeZone::get(&self.time_zone).is_err() {
            return Err(ApiError::invalid("time_zone", format!("{:?} is not an IANA time zone.", self.time_zone)));
        }
        let locale = &self.locale;
        if locale.len() > 16 || !locale.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(ApiError::invalid("locale", format!("{locale:?} is not a locale like en-US.")));
        }
        let optional = |v: Option<String>| v.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let external_ref = optional(self.external_ref);
        if external_ref.as_ref().is_some_and(|r| r.chars().count() > 100) {
            return Err(ApiError::invalid("external_ref", "At most 100 characters."));
        }
        Ok(Fields {
            name,
            email,
            phone: optional(self.phone),
            time_zone: self.time_zone,
            locale: self.locale,
            external_ref,
        })
    }
}

const SELECT: &str = "SELECT id, external_ref, name, email, phone, time_zone, locale, status, \
     CASE WHEN autopay_enabled <> 0 THEN 1 ELSE 0 END AS autopay_enabled, created_at FROM customers";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    external_ref: Option<String>,
    name: String,
    email: String,
    phone: Option<String>,
    time_zone: String,
    locale: String,
    status: String,
    autopay_enabled: i64,
    created_at: i64,
}

impl From<Row> for Customer {
    fn from(r: Row) -> Customer {
        Customer {
            id: r.id,
            external_ref: r.external_ref,
            name: r.name,
            email: r.email,
            phone: r.phone,
            time_zone: r.time_zone,
            locale: r.locale,
            status: r.status,
            autopay_enabled: r.autopay_enabled != 0,
            created_at: r.created_at,
        }
    }
}

/// The merchant's customers, oldest first, a page at a time.
#[utoipa::path(get, path = "/api/v1/customers", tag = "customers",
    params(PageQuery, CustomerQuery),
    responses((status = 200, body = CustomerList), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn list_customers(
    State(state): State<AppState>,
    auth: ApiMerchant,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(filter): ApiQuery<CustomerQuery>,
) -> Result<Json<CustomerList>, ApiError> {
    let limit = page_limit(page.limit)?;
    let mut sql = format!("{SELECT} WHERE merchant_id = $1 AND id > $2");
    if filter.email.is_some() {
        sql.push_str(" AND LOWER(email) = LOWER($4)");
    }
    sql.push_str(" ORDER BY id LIMIT $3");
    let mut q = sqlx::query_as::<_, Row>(&sql)
        .bind(auth.merchant.id.as_str())
        .bind(page.starting_after.clone().unwrap_or_default())
        .bind(limit + 1);
    if let Some(email) = &filter.email {
        q = q.bind(email.trim());
    }
    let mut rows: Vec<Customer> = q.fetch_all(state.db.pool()).await?.into_iter().map(Customer::from).collect();
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if has_more { rows.last().map(|c| c.id.clone()) } else { None };
    Ok(Json(CustomerList { data: rows, has_more, next_cursor }))
}

/// One customer.
#[utoipa::path(get, path = "/api/v1/customers/{id}", tag = "customers",
    params(("id" = String, Path, description = "`cus_…`")),
    responses((status = 200, body = Customer), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn get_customer(
    State(state): State<AppState>,
    auth: ApiMerchant,
    Path(id): Path<String>,
) -> Result<Json<Customer>, ApiError> {
    find(&state, &auth, &id).await.map(Json)
}

pub(crate) async fn find(state: &AppState, auth: &ApiMerchant, id: &str) -> Result<Customer, ApiError> {
    let row: Option<Row> = sqlx::query_as(&format!("{SELECT} WHERE merchant_id = $1 AND id = $2"))
        .bind(auth.merchant.id.as_str())
        .bind(id)
        .fetch_optional(state.db.pool())
        .await?;
    row.map(Customer::from).ok_or_else(|| ApiError::not_found("customer"))
}

/// Creates a customer. Send `Idempotency-Key` to make retries safe.
#[utoipa::path(post, path = "/api/v1/customers", tag = "customers",
    request_body = NewCustomerBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response")),
    responses((status = 201, body = Customer), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn create_customer(
    State(state): State<AppState>,
    auth: ApiMerchant,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let merchant_id = auth.merchant.id.clone();
    idempotency::run(&state, &merchant_id, &headers, "POST /api/v1/customers", &body, || async {
        let input: NewCustomerBody = super::json(&body)?;
        let f = Fields {
            name: input.name.clone(),
            email: input.email.clone(),
            phone: input.phone.clone(),
            time_zone: input.time_zone.clone().unwrap_or_else(|| auth.merchant.time_zone.clone()),
            locale: input.locale.clone().unwrap_or_else(|| "en-US".into()),
            external_ref: input.external_ref.clone(),
        }
        .checked()?;
        let external_ref = f.external_ref.clone();
        let new = NewCustomer {
            external_ref: f.external_ref,
            name: f.name,
            email: f.email,
            phone: f.phone,
            time_zone: f.time_zone,
            locale: f.locale,
            autopay_enabled: false,
        };
        let id: CustomerId =
            match customers::insert(state.db.pool(), &auth.merchant.merchant_id(), &new, state.clock.now()).await {
                Ok(id) => id,
                Err(e) if unique_violation(&e, "customers_external_ref_key", "customers.external_ref") => {
                    return Err(ApiError::conflict(
                        "conflict",
                        format!("A customer with external_ref {:?} exists already.", external_ref.unwrap_or_default()),
                    ))
                }
                Err(e) => return Err(e.into()),
            };
        let customer = find(&state, &auth, id.as_str()).await?;
        Ok((StatusCode::CREATED, serde_json::to_value(customer).unwrap_or_default()))
    })
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerUpdate {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default)]
    pub external_ref: Option<String>,
}

/// Changes a customer's details; fields left out stay as they are.
#[utoipa::path(patch, path = "/api/v1/customers/{id}", tag = "customers",
    request_body = CustomerUpdate,
    params(("id" = String, Path, description = "`cus_…`")),
    responses((status = 200, body = Customer), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn update_customer(
    State(state): State<AppState>,
    auth: ApiMerchant,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Customer>, ApiError> {
    let input: CustomerUpdate = super::json(&body)?;
    let current = find(&state, &auth, &id).await?;
    // Fields left out keep their values; all of them are checked as on create.
    let Fields { name, email, phone, time_zone, locale, external_ref } = Fields {
        name: input.name.clone().unwrap_or(current.name.clone()),
        email: input.email.clone().unwrap_or(current.email.clone()),
        phone: input.phone.clone().or(current.phone.clone()),
        time_zone: input.time_zone.clone().unwrap_or(current.time_zone.clone()),
        locale: input.locale.clone().unwrap_or(current.locale.clone()),
        external_ref: input.external_ref.clone().or(current.external_ref.clone()),
    }
    .checked()?;
    let now = state.clock.now();
    let set = sqlx::query(
        "UPDATE customers SET name = $1, email = $2, phone = $3, time_zone = $4, locale = $5, external_ref = $6, \
         updated_at = $7 WHERE merchant_id = $8 AND id = $9",
    )
    .bind(&name)
    .bind(&email)
    .bind(phone.as_deref())
    .bind(&time_zone)
    .bind(&locale)
    .bind(external_ref.as_deref())
    .bind(now.0)
    .bind(auth.merchant.id.as_str())
    .bind(&id)
    .execute(state.db.pool())
    .await;
    match set {
        Ok(_) => {}
        Err(e) if unique_violation(&e, "customers_external_ref_key", "customers.external_ref") => {
            return Err(ApiError::conflict("conflict", "Another customer has that external_ref."))
        }
        Err(e) => return Err(e.into()),
    }
    app::server::repo::events::audit(
        state.db.pool(),
        &auth.merchant.merchant_id(),
        "api",
        Some(&auth.key_id),
        "customer.updated",
        Some(("customer", &id)),
        &serde_json::json!({ "api_key": auth.key_id }),
        None,
        None,
        now,
    )
    .await?;
    find(&state, &auth, &id).await.map(Json)
}
