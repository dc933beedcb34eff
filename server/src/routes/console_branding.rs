//! Branding from the console: the form, logo upload and removal, and the
//! stored logos themselves (served with their checked type).

use crate::http_error::HttpError;
use crate::routes::console::{origin, staff};
use app::console_api::REJECTED_BRANDING;
use app::server::console::branding;
use app::server::console::session as console_session;
use app::server::AppState;
use app::types::BrandingForm;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Multipart, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use std::net::SocketAddr;
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/m/{slug}/branding", post(save))
        .route(
            "/m/{slug}/branding/logo",
            // Room for the largest logo and the multipart framing around it.
            post(upload).layer(DefaultBodyLimit::max(branding::LOGO_MAX_BYTES + 64 * 1024)),
        )
        .route("/m/{slug}/branding/logo/remove", post(remove))
        .route("/logos/{file}", get(logo))
}

async fn save(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(form): Form<BrandingForm>,
) -> Result<Response, HttpError> {
    let (merchant, staff) = match staff(&state, &session, &slug).await? {
        Ok(found) => found,
        Err(to_sign_in) => return Ok(to_sign_in.into_response()),
    };
    let back = Redirect::to(&format!("/m/{slug}/branding")).into_response();
    match branding::save(state.db.pool(), &staff, &merchant, &form, &origin(peer, &headers), state.clock.now()).await? {
        Ok(_) => {
            tracing::info!(merchant = %merchant.id, user = %staff.user.id, "branding saved");
            console_session::set_notice(&session, true, "Saved. The portal and new emails use it now.".into()).await?;
        }
        Err(errors) => {
            console_session::set_rejected(&session, REJECTED_BRANDING, &(form, errors)).await?;
            console_session::set_notice(&session, false, "Nothing was saved: fix the fields marked below.".into())
                .await?;
        }
    }
    Ok(back)
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
    let mut bytes = Vec::new();
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("logo") => match field.bytes().await {
                Ok(b) => bytes = b.to_vec(),
                Err(e) => return Ok(too_large_or_bad(&session, &slug, &e.body_text()).await?),
            },
            Ok(Some(_)) => continue,
            Ok(None) => break,
            Err(e) => return Ok(too_large_or_bad(&session, &slug, &e.body_text()).await?),
        }
    }
    let outcome =
        branding::store_logo(state.db.pool(), &staff, &merchant, &bytes, &origin(peer, &headers), state.clock.now())
            .await?;
    let (ok, text) = match outcome {
        Ok(done) => (true, done),
        Err(problem) => (false, format!("The logo wasn't changed: {problem}")),
    };
    console_session::set_notice(&session, ok, text).await?;
    Ok(Redirect::to(&format!("/m/{slug}/branding")).into_response())
}

/// An upload the multipart reader refused (over the size limit, cut off).
async fn too_large_or_bad(session: &Session, slug: &str, why: &str) -> Result<Response, HttpError> {
    tracing::info!(why, "logo upload refused");
    let text = format!(
        "The logo wasn't changed: the upload didn't arrive whole. Logos can be at most {} KB.",
        branding::LOGO_MAX_BYTES / 1024
    );
    console_session::set_notice(session, false, text).await?;
    Ok(Redirect::to(&format!("/m/{slug}/branding")).into_response())
}

async fn remove(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> Result<Response, HttpError> {
    let (merchant, staff) = match staff(&state, &session, &slug).await? {
        Ok(found) => found,
        Err(to_sign_in) => return Ok(to_sign_in.into_response()),
    };
    let removed =
        branding::remove_logo(state.db.pool(), &staff, &merchant, &origin(peer, &headers), state.clock.now()).await?;
    let text = if removed { "Removed the logo; your name shows instead." } else { "There was no logo to remove." };
    console_session::set_notice(&session, removed, text.into()).await?;
    Ok(Redirect::to(&format!("/m/{slug}/branding")).into_response())
}

async fn logo(State(state): State<AppState>, Path(file): Path<String>) -> Result<Response, HttpError> {
    let Some((content_type, bytes)) = branding::logo_file(state.db.pool(), &file).await? else {
        return Ok((StatusCode::NOT_FOUND, "Not found\n").into_response());
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            // A logo's address changes with its content, so it never goes stale.
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable".to_string()),
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'; sandbox; frame-ancestors 'none'".to_string()),
        ],
        bytes,
    )
        .into_response())
}
