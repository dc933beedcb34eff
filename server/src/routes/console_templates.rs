//! The template editor's post: save, back to the built-in text, or send a
//! test to the staff member, as the pressed button says.

use crate::http_error::HttpError;
use crate::routes::console::{origin, staff};
use app::console_api::REJECTED_TEMPLATE;
use app::server::console::actions::Outcome;
use app::server::console::policy_form::TEMPLATES;
use app::server::console::session as console_session;
use app::server::console::templates::{parse_channel, reset, save, send_test};
use app::server::dunning::templates::Template;
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
    Router::new().route("/m/{slug}/templates", post(submit))
}

#[derive(Deserialize)]
struct TemplateForm {
    #[serde(default)]
    key: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    action: String,
}

async fn submit(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(form): Form<TemplateForm>,
) -> Result<Response, HttpError> {
    let (merchant, staff) = match staff(&state, &session, &slug).await? {
        Ok(found) => found,
        Err(to_sign_in) => return Ok(to_sign_in.into_response()),
    };
    if !TEMPLATES.iter().any(|(k, _)| *k == form.key) {
        return Err(AppError::NotFound.into());
    }
    let channel = parse_channel(&form.channel).ok_or(AppError::NotFound)?;
    let back = Redirect::to(&format!("/m/{slug}/templates?key={}&channel={}", form.key, form.channel)).into_response();
    // Line endings as browsers send them become plain newlines.
    let template = Template { subject: form.subject.trim().to_string(), body: form.body.replace("\r\n", "\n") };
    let now = state.clock.now();
    let o = origin(peer, &headers);
    let outcome = match form.action.as_str() {
        "save" => match save(state.db.pool(), &staff, &merchant, &form.key, channel, &template, &o, now).await? {
            Ok(()) => Outcome::Done("Saved. Reminders use this wording from the next sweep.".into()),
            Err(problem) => {
                let kept = (form.key.clone(), form.channel.clone(), template.subject, template.body, problem);
                console_session::set_rejected(&session, REJECTED_TEMPLATE, &kept).await?;
                Outcome::Unchanged("Nothing was saved.".into())
            }
        },
        "reset" => reset(state.db.pool(), &staff, &merchant, &form.key, channel, &o, now).await?,
        "test" => {
            send_test(state.db.pool(), &staff, &merchant, &state.portal.base_url, &form.key, &template, now).await?
        }
        _ => return Err(AppError::NotFound.into()),
    };
    console_session::set_outcome(&session, outcome).await?;
    Ok(back)
}
