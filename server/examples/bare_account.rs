//! The account page written by hand: the baseline `scripts/load.sh` gives
//! Settle's ratio against. It does the same work per request as Settle's
//! account page, through the same code below the web layer, and none of the
//! web layer's machinery:
//!
//! - the same reads and the same figures: `portal::signed_in_account` with
//!   the session its cookie names (the session row, merchant, customer, open
//!   invoices and last autopay failure in one query, the session's checks,
//!   dates in the customer's zone, balance), through the same pool;
//! - the same page: the summary and the invoice rows by the functions
//!   Settle writes them with (`summary_html`, `invoice_rows_html`); the
//!   page's other parts (head, navigation, forms) come from Settle's own
//!   rendering, captured once by the script;
//! - no Leptos, and none of the router's layers (session manager, security
//!   headers, origin check, throttles, custom domains, tracing, compression).
//!
//! So the ratio is what Settle's web layer costs. Usage:
//! `bare_account DATABASE_URL SLUG PAGE_FILE ADDR`, where PAGE_FILE is the
//! account page as Settle served it to the customer being measured.

use app::pages::{invoice_rows_html, summary_html};
use app::server::session_store::DbSessionStore;
use app::server::{portal, AppError};
use app::server::{Db, UtcMillis};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sqlx::AnyPool;
use std::str::FromStr;
use std::sync::Arc;
use tower_sessions::session::Id;
use tower_sessions::Session;

struct Bare {
    pool: AnyPool,
    sessions: Arc<DbSessionStore>,
    slug: String,
    /// The captured page around its two per-request parts: before the
    /// summary, between the summary and the rows, after the rows.
    head: String,
    middle: String,
    tail: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, slug, page, addr] = args.as_slice() else {
        return Err("usage: bare_account DATABASE_URL SLUG PAGE_FILE ADDR".into());
    };
    let page = std::fs::read_to_string(page)?;
    let (head, middle, tail) = split_page(&page).ok_or("the page has no summary section or invoice table")?;
    // The pool Settle runs with in scripts/load.sh (its default size).
    let db = Db::connect(url, settle::config::default_pool_size(settle::config::cpu_count())).await?;
    let pool = db.pool().clone();
    let sessions = Arc::new(DbSessionStore::new(pool.clone()));
    let bare = Arc::new(Bare { pool, sessions, slug: slug.clone(), head, middle, tail });
    let app = Router::new().route(&format!("/p/{slug}/account"), get(account)).with_state(bare);
    axum::serve(tokio::net::TcpListener::bind(addr.as_str()).await?, app).await?;
    Ok(())
}

fn split_page(page: &str) -> Option<(String, String, String)> {
    let summary = page[..page.find("class=\"summary\"")?].rfind("<section")?;
    let summary_end = summary + page[summary..].find("</section>")? + "</section>".len();
    let rows = page.find("<tbody>")? + "<tbody>".len();
    let rows_end = page.find("</tbody>")?;
    Some((page[..summary].into(), page[summary_end..rows].into(), page[rows_end..].into()))
}

async fn account(State(bare): State<Arc<Bare>>, headers: HeaderMap) -> Response {
    match page(&bare, &headers).await {
        Ok(html) => Html(html).into_response(),
        Err(status) => status.into_response(),
    }
}

async fn page(bare: &Bare, headers: &HeaderMap) -> Result<String, StatusCode> {
    let session_id = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix("settle_session="))
        .and_then(|v| Id::from_str(v).ok())
        .ok_or(StatusCode::UNAUTHORIZED)?;
    let session = Session::new(Some(session_id), bare.sessions.clone(), None);
    let now = UtcMillis(jiff::Timestamp::now().as_millisecond());
    let view = portal::signed_in_account(&bare.pool, &session, &bare.slug, now).await.map_err(|e| match e {
        AppError::NotFound => StatusCode::NOT_FOUND,
        AppError::NotSignedIn => StatusCode::UNAUTHORIZED,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    })?;

    let mut html =
        String::with_capacity(bare.head.len() + bare.middle.len() + bare.tail.len() + 512 * view.invoices.len());
    html.push_str(&bare.head);
    html.push_str(&summary_html(&view, &format!("/p/{}", bare.slug)));
    html.push_str(&bare.middle);
    html.push_str(&invoice_rows_html(&view.invoices, &view.locale, &format!("/p/{}/invoices", bare.slug)));
    html.push_str(&bare.tail);
    Ok(html)
}
