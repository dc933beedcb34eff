//! Turning an access link into a session, and ending it. Plain form POSTs,
//! so they work without JavaScript.

use crate::http_error::HttpError;
use app::server::{portal, portal_session, AppState};
use axum::extract::{OriginalUri, Path, State};
use axum::response::Redirect;
use axum::routing::post;
use axum::Router;
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new().route("/p/{slug}/l/{token}", post(continue_with_link)).route("/p/{slug}/sign-out", post(sign_out))
}

/// POST of the "Continue" button. A good link starts a fresh session (new
/// id) and goes to the account; any other link goes back to the GET page,
/// which explains what is wrong with it.
async fn continue_with_link(
    State(state): State<AppState>,
    session: Session,
    OriginalUri(uri): OriginalUri,
    Path((slug, token)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Redirect, HttpError> {
    // Where to land: the payment page for a reminder's "Pay now" link.
    let to_pay = url::form_urlencoded::parse(&body).any(|(k, v)| k == "to" && v == "pay");
    match portal::redeem_link(state.db.pool(), state.clock.now(), &slug, &token).await? {
        Ok(identity) => {
            tracing::info!(merchant = %identity.merchant_id, customer = %identity.customer_id, "signed in with access link");
            portal_session::sign_in(&session, identity).await?;
            Ok(Redirect::to(&format!("/p/{slug}/{}", if to_pay { "pay" } else { "account" })))
        }
        Err(_) => Ok(Redirect::to(uri.path())),
    }
}

async fn sign_out(session: Session, Path(slug): Path<String>) -> Result<Redirect, HttpError> {
    // The slug goes into a Location header: only a well-formed one may.
    if !portal::is_valid_slug(&slug) {
        return Err(HttpError::App(app::server::AppError::NotFound));
    }
    portal_session::sign_out(&session).await?;
    Ok(Redirect::to(&format!("/p/{slug}")))
}
