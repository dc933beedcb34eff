//! Merchants' own domains: a request whose Host is a merchant's custom
//! domain belongs to that merchant. Its front page is the merchant's
//! portal, and another merchant's portal is not served there.

use app::server::repo::merchants;
use app::server::AppState;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

#[derive(Clone)]
pub struct Domains {
    pub state: AppState,
    /// The install's own host (from the base URL): never a custom domain.
    pub own_host: String,
}

pub async fn map(State(d): State<Domains>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| h.rsplit_once(':').map(|(name, _)| name).unwrap_or(h).to_ascii_lowercase());
    // The install's own address, bare IPs and localhost are never a merchant's domain.
    let Some(host) = host.filter(|h| *h != d.own_host && h.contains('.') && h.parse::<std::net::IpAddr>().is_err())
    else {
        return next.run(req).await;
    };
    match merchants::find_by_custom_domain(d.state.db.pool(), &host).await {
        Ok(Some(m)) => {
            let path = req.uri().path();
            if path == "/" {
                return Redirect::to(&format!("/p/{}", m.slug)).into_response();
            }
            if let Some(rest) = path.strip_prefix("/p/").or_else(|| path.strip_prefix("/m/")) {
                if rest.split('/').next() != Some(m.slug.as_str()) {
                    return (StatusCode::NOT_FOUND, "Not found\n").into_response();
                }
            }
            next.run(req).await
        }
        Ok(None) => next.run(req).await,
        Err(e) => {
            tracing::error!(error = %e, "custom domain lookup failed");
            (StatusCode::SERVICE_UNAVAILABLE, "Please try again in a moment.\n").into_response()
        }
    }
}
