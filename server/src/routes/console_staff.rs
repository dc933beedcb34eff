//! The team from the console (invite, withdraw, change a role, remove) and
//! accepting an invitation from its emailed link.

use crate::http_error::HttpError;
use crate::routes::console::{origin, staff};
use crate::routes::sign_in::merchant;
use app::console_api::REJECTED_INVITATION;
use app::server::console::actions::Outcome;
use app::server::console::session as console_session;
use app::server::console::staff as team;
use app::server::ids::MerchantUserId;
use app::server::{AppError, AppState};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use serde::Deserialize;
use std::net::SocketAddr;
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/m/{slug}/staff/invite", post(invite))
        .route("/m/{slug}/staff/invitations/{id}/withdraw", post(withdraw))
        .route("/m/{slug}/staff/{id}/role", post(role))
        .route("/m/{slug}/staff/{id}/remove", post(remove))
        .route("/m/{slug}/invite/{token}", post(accept))
}

#[derive(Deserialize)]
struct InviteForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

async fn tell(session: &Session, slug: &str, outcome: Outcome) -> Result<Response, HttpError> {
    console_session::set_outcome(session, outcome).await?;
    Ok(Redirect::to(&format!("/m/{slug}/staff")).into_response())
}

async fn invite(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(form): Form<InviteForm>,
) -> Result<Response, HttpError> {
    let (merchant, staff) = match staff(&state, &session, &slug).await? {
        Ok(found) => found,
        Err(to_sign_in) => return Ok(to_sign_in.into_response()),
    };
    let o = origin(peer, &headers);
    let outcome = team::invite(
        state.db.pool(),
        &staff,
        &merchant,
        &form.email,
        &form.role,
        &o,
        &state.portal.base_url,
        state.clock.now(),
    )
    .await?;
    tell(&session, &slug, outcome).await
}

async fn withdraw(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, String)>,
) -> Result<Response, HttpError> {
    let (merchant, staff) = match staff(&state, &session, &slug).await? {
        Ok(found) => found,
        Err(to_sign_in) => return Ok(to_sign_in.into_response()),
    };
    let outcome =
        team::revoke(state.db.pool(), &staff, &merchant, &id, &origin(peer, &headers), state.clock.now()).await?;
    tell(&session, &slug, outcome).await
}

#[derive(Deserialize)]
struct RoleForm {
    #[serde(default)]
    role: String,
}

async fn role(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, String)>,
    Form(form): Form<RoleForm>,
) -> Result<Response, HttpError> {
    let (merchant, staff) = match staff(&state, &session, &slug).await? {
        Ok(found) => found,
        Err(to_sign_in) => return Ok(to_sign_in.into_response()),
    };
    let member = MerchantUserId::parse(&id).map_err(|_| AppError::NotFound)?;
    let outcome = team::change(
        state.db.pool(),
        &staff,
        &merchant,
        &member,
        Some(&form.role),
        &origin(peer, &headers),
        state.clock.now(),
    )
    .await?;
    tell(&session, &slug, outcome).await
}

async fn remove(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, String)>,
) -> Result<Response, HttpError> {
    let (merchant, staff) = match staff(&state, &session, &slug).await? {
        Ok(found) => found,
        Err(to_sign_in) => return Ok(to_sign_in.into_response()),
    };
    let member = MerchantUserId::parse(&id).map_err(|_| AppError::NotFound)?;
    let outcome =
        team::change(state.db.pool(), &staff, &merchant, &member, None, &origin(peer, &headers), state.clock.now())
            .await?;
    tell(&session, &slug, outcome).await
}

#[derive(Deserialize)]
struct AcceptForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

async fn accept(
    State(state): State<AppState>,
    session: Session,
    Path((slug, token)): Path<(String, String)>,
    Form(form): Form<AcceptForm>,
) -> Result<Response, HttpError> {
    let merchant = merchant(&state, &slug).await?;
    match team::accept(state.db.pool(), &merchant, &token, &form.name, &form.password, state.clock.now()).await? {
        Ok(identity) => {
            tracing::info!(merchant = %merchant.id, user = %identity.user_id, "staff joined by invitation");
            console_session::sign_in(&session, identity).await?;
            Ok(Redirect::to(&format!("/m/{slug}/dashboard")).into_response())
        }
        Err(message) => {
            console_session::set_rejected(&session, REJECTED_INVITATION, &message).await?;
            Ok(Redirect::to(&format!("/m/{slug}/invite/{token}")).into_response())
        }
    }
}
