//! CSV import from the console: the upload, run as `settle import` runs it.

use crate::http_error::HttpError;
use crate::routes::console::{origin, staff};
use app::console_api::IMPORT_REPORT;
use app::server::console::session as console_session;
use app::server::console::Action;
use app::server::import::{import, ImportReport, RowProblem, MAX_BYTES};
use app::server::repo::events;
use app::server::AppState;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Multipart, Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::Router;
use std::net::SocketAddr;
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new().route("/m/{slug}/import", post(upload).layer(DefaultBodyLimit::max(MAX_BYTES + 64 * 1024)))
}

async fn upload(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    mut multipart: Multipart,
) -> Result<Response, HttpError> {
    let (merchant, staff) = match staff(&state, &session, &slug).await? {
        Ok(found) => found,
        Err(to_sign_in) => return Ok(to_sign_in.into_response()),
    };
    staff.require(Action::Import)?;
    let back = Redirect::to(&format!("/m/{slug}/import")).into_response();
    let (mut bytes, mut skip) = (None, false);
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => match field.name() {
                Some("file") => match field.bytes().await {
                    Ok(b) => bytes = Some(b.to_vec()),
                    Err(_) => bytes = None,
                },
                Some("mode") => skip = field.text().await.map(|t| t == "skip").unwrap_or(false),
                _ => {}
            },
            Ok(None) => break,
            Err(e) => {
                tracing::info!(why = %e.body_text(), "import upload refused");
                bytes = None;
                break;
            }
        }
    }
    let report = match bytes.filter(|b| !b.is_empty()) {
        Some(bytes) => import(state.db.pool(), &merchant, &bytes, skip, state.clock.now(), |_, _| {}).await?,
        None => ImportReport {
            problems: vec![RowProblem {
                line: 0,
                column: String::new(),
                reason: format!("No file arrived: choose a CSV file of at most {} MB.", MAX_BYTES / (1024 * 1024)),
            }],
            ..ImportReport::default()
        },
    };
    if report.written {
        let o = origin(peer, &headers);
        let detail = serde_json::json!({ "rows": report.rows, "customers_created": report.customers_created,
            "invoices_created": report.invoices_created, "skipped_problems": report.problems.len() });
        events::audit(
            state.db.pool(),
            &merchant.merchant_id(),
            "merchant_user",
            Some(staff.user.id.as_str()),
            "import.completed",
            Some(("merchant", merchant.id.as_str())),
            &detail,
            o.ip.as_deref(),
            o.user_agent.as_deref(),
            state.clock.now(),
        )
        .await?;
    }
    tracing::info!(merchant = %merchant.id, rows = report.rows, written = report.written, "console import");
    console_session::set_rejected(&session, IMPORT_REPORT, &report).await?;
    Ok(back)
}
