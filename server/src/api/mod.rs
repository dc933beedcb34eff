//! The REST API under `/api/v1`: per-merchant API keys, JSON in and out,
//! cursor pagination, `Idempotency-Key` on POST, one error shape, and an
//! OpenAPI document generated from these handlers' annotations.

pub mod activity;
pub mod auth;
pub mod customers;
pub mod error;
pub mod idempotency;
pub mod invoices;

use app::server::AppState;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use error::ApiError;
use serde::Deserialize;
use std::sync::{Arc, OnceLock};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub const MAX_PAGE: i64 = 100;
pub const DEFAULT_PAGE: i64 = 20;

#[derive(Debug, Deserialize, IntoParams)]
pub struct PageQuery {
    /// 1 to 100; 20 when absent.
    pub limit: Option<i64>,
    /// The last id of the previous page.
    pub starting_after: Option<String>,
}

pub fn page_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit {
        None => Ok(DEFAULT_PAGE),
        Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::invalid("limit", format!("limit must be 1 to {MAX_PAGE}, not {n}."))),
    }
}

/// `Query<T>` whose refusal is the API's own JSON error (422, naming the
/// query string), not axum's plain-text 400.
pub struct ApiQuery<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(e) => Err(ApiError::invalid("query", e.body_text())),
        }
    }
}

/// A JSON body, or an `invalid_request` that says what is wrong with it.
pub fn json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::invalid("body", format!("The JSON body doesn't fit: {e}")))
}

struct BearerKeys;

impl Modify for BearerKeys {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("api_key", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// Every operation may answer 429 (`crate::throttle`'s limits per key and
/// per IP). Applied once the routes are in: `ApiDoc`'s own modifiers run
/// before the router adds any path.
struct RateLimited;

impl Modify for RateLimited {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{header::HeaderBuilder, ContentBuilder, Ref, ResponseBuilder};
        let response = ResponseBuilder::new()
            .description("Too many requests: wait the seconds in Retry-After.")
            .header("Retry-After", HeaderBuilder::new().description(Some("Seconds to wait.")).build())
            .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build())
            .build();
        for item in openapi.paths.paths.values_mut() {
            for op in
                [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete].into_iter().flatten()
            {
                op.responses.responses.insert("429".into(), response.clone().into());
            }
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Settle API", version = "1", description = "Customers, invoices, payments and events of one merchant, by API key."),
    modifiers(&BearerKeys),
    tags((name = "customers"), (name = "invoices"), (name = "payments"), (name = "events"))
)]
struct ApiDoc;

/// The API's routes and its OpenAPI document, from the same annotations.
pub fn parts() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(customers::list_customers, customers::create_customer))
        .routes(routes!(customers::get_customer, customers::update_customer))
        .routes(routes!(invoices::list_invoices, invoices::create_invoice))
        .routes(routes!(invoices::get_invoice, invoices::update_invoice))
        .routes(routes!(invoices::void_invoice))
        .routes(routes!(activity::list_payments))
        .routes(routes!(activity::list_events))
        .split_for_parts();
    RateLimited.modify(&mut doc);
    (router, doc)
}

/// The document as served (generated once per process).
pub fn openapi_json() -> Arc<String> {
    static DOC: OnceLock<Arc<String>> = OnceLock::new();
    DOC.get_or_init(|| Arc::new(parts().1.to_pretty_json().unwrap_or_else(|_| "{}".into()))).clone()
}

pub fn router() -> Router<AppState> {
    let (api, _) = parts();
    api.route(
        "/api/v1/openapi.json",
        get(|| async {
            ([(header::CONTENT_TYPE, "application/json")], openapi_json().as_str().to_string()).into_response()
        }),
    )
}

/// `settle api-key`: a new key for `slug`, audited as made from the CLI.
pub async fn issue_key_cli(
    db: &app::server::Db,
    clock: &dyn app::server::Clock,
    slug: &str,
    name: &str,
) -> Result<String, Box<dyn std::error::Error>> {
    let merchant = app::server::repo::merchants::find_by_slug(db.pool(), slug)
        .await?
        .ok_or_else(|| format!("no merchant has the portal address `{slug}`"))?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err("--name must be 1 to 60 characters".into());
    }
    let now = clock.now();
    let mut tx = app::server::db::begin_write(db.pool()).await?;
    let (id, secret, prefix) = app::server::console::api_keys::issue(&mut tx, &merchant, name, None, now).await?;
    app::server::repo::events::audit(
        &mut *tx,
        &merchant.merchant_id(),
        "system",
        None,
        "api_key.created",
        Some(("api_key", id.as_str())),
        &serde_json::json!({ "name": name, "prefix": prefix, "via": "cli" }),
        None,
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(secret)
}
