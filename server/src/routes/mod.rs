//! HTTP routes. Each module exposes a `router()`; `app_router` puts them
//! together with the Leptos pages and the middleware every request passes.

pub mod account;
pub mod console;
pub mod console_api_keys;
pub mod console_branding;
pub mod console_export;
pub mod console_import;
pub mod console_policy;
pub mod console_staff;
pub mod console_templates;
pub mod custom_domain;
pub mod dev_outbox;
pub mod health;
pub mod pay;
pub mod portal_auth;
pub mod settings;
pub mod setup;
pub mod sign_in;
pub mod sms_webhook;
pub mod webhooks;

use crate::http_error::HttpError;
use crate::origin::{self, OriginPolicy};
use app::app::{shell, App};
use app::server::portal_session::{self, PortalIdentity};
use app::server::repo::merchants::MerchantRow;
use app::server::session_store::DbSessionStore;
use app::server::{AppError, AppState};
use axum::response::Redirect;
use axum::Router;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use std::sync::{Arc, OnceLock};
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::Session;
use tower_sessions::{Expiry, SessionManagerLayer};

/// The signed-in identity for this portal, or where to send the browser.
pub(crate) async fn signed_in(
    state: &AppState,
    session: &Session,
    slug: &str,
) -> Result<Result<(MerchantRow, PortalIdentity), Redirect>, HttpError> {
    let merchant = sign_in::merchant(state, slug).await?;
    match portal_session::for_merchant(session, &merchant.merchant_id(), state.clock.now()).await {
        Ok(identity) => Ok(Ok((merchant, identity))),
        Err(AppError::NotSignedIn) => Ok(Err(Redirect::to(&format!("/p/{slug}")))),
        Err(e) => Err(e.into()),
    }
}

/// Session cookie settings derived from how the portal is served.
#[derive(Clone, Debug)]
pub struct CookiePolicy {
    pub https: bool,
}

impl CookiePolicy {
    /// `__Host-` binds the cookie to this exact host over https; browsers
    /// refuse that prefix on plain http, so local dev uses a plain name.
    pub fn cookie_name(&self) -> &'static str {
        if self.https {
            "__Host-settle_session"
        } else {
            "settle_session"
        }
    }
}

/// The Leptos route list, generated once per process. Generating it renders
/// the app with resource loading suppressed through a process-wide flag, so
/// it must never run while another router in the process (tests start many)
/// is serving, or a concurrently rendered page can hang forever
/// (leptos-rs/leptos#4773).
fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The Leptos pages' paths in axum's syntax (`/p/{slug}/invoices/{id}`),
/// for the suites that visit every route.
pub fn page_paths() -> Vec<String> {
    route_list().iter().map(|r| r.path().to_string()).collect()
}

/// What the router needs from the settings, besides the state.
pub struct RouterSettings {
    pub origin_policy: OriginPolicy,
    pub cookies: CookiePolicy,
    pub outbox_viewer: dev_outbox::OutboxViewer,
    pub sms_inbound: sms_webhook::SmsInbound,
    pub proxies: crate::client_ip::TrustedProxies,
    pub api_key_limit: crate::throttle::ApiKeyLimit,
}

pub fn app_router(state: AppState, settings: RouterSettings) -> Router {
    let RouterSettings { origin_policy, cookies, outbox_viewer, sms_inbound, proxies, api_key_limit } = settings;
    let routes = route_list();
    let own_host = url::Url::parse(&state.portal.base_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .unwrap_or_default();
    let domains = custom_domain::Domains { state: state.clone(), own_host };
    let session_layer = SessionManagerLayer::new(DbSessionStore::new(state.db.pool().clone()))
        .with_name(cookies.cookie_name())
        .with_secure(cookies.https)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(30)));

    Router::new()
        .merge(health::router())
        .merge(crate::api::router())
        .merge(portal_auth::router())
        .merge(sign_in::router())
        .merge(console::router())
        .merge(console_api_keys::router())
        .merge(setup::router())
        .merge(console_branding::router())
        .merge(console_policy::router())
        .merge(console_staff::router())
        .merge(console_templates::router())
        .merge(console_export::router())
        .merge(console_import::router())
        .merge(account::router())
        .merge(settings::router())
        .merge(pay::router())
        .merge(webhooks::router())
        .merge(sms_webhook::router())
        .merge(dev_outbox::router())
        .leptos_routes(&state, routes, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .with_state(state.clone())
        .layer(axum::middleware::from_fn_with_state(state, crate::throttle::secrets))
        .layer(axum::Extension(outbox_viewer))
        .layer(axum::Extension(sms_inbound))
        .layer(axum::Extension(api_key_limit))
        .layer(session_layer)
        .layer(axum::middleware::from_fn_with_state(domains, custom_domain::map))
        .layer(axum::middleware::from_fn_with_state(Arc::new(origin_policy), origin::enforce))
        .layer(axum::middleware::map_response_with_state(
            crate::security_headers::Transport { https: cookies.https },
            crate::security_headers::add,
        ))
        .layer(crate::asset_compression::layer())
        // Outside everything that reads the client's address.
        .layer(axum::middleware::from_fn_with_state(proxies, crate::client_ip::resolve))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            // The path only: access-link tokens must not reach the logs.
            tracing::info_span!("http", method = %req.method(), route = %redact_path(req.uri().path()))
        }))
}

/// `/p/acme/l/<token>/renew` → `/p/acme/l/…` (and `/s/` sign-in links) for
/// logs: bearer tokens never reach them.
pub fn redact_path(path: &str) -> String {
    if path.starts_with("/m/") {
        if let Some(i) = path.find("/invite/") {
            return format!("{}/invite/…", &path[..i]);
        }
        return path.to_string();
    }
    if !path.starts_with("/p/") {
        return path.to_string();
    }
    for marker in ["/l/", "/s/"] {
        if let Some(i) = path.find(marker) {
            return format!("{}{marker}…", &path[..i]);
        }
    }
    path.to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_cut_from_logged_paths() {
        assert_eq!(super::redact_path("/p/acme/l/abcdefghijklmnopqrstuv"), "/p/acme/l/…");
        assert_eq!(super::redact_path("/p/acme/l/abcdefghijklmnopqrstuv/renew"), "/p/acme/l/…");
        assert_eq!(super::redact_path("/p/acme/s/abcdefghijklmnopqrstuv"), "/p/acme/s/…");
        assert_eq!(super::redact_path("/p/acme/account"), "/p/acme/account");
        assert_eq!(super::redact_path("/m/acme/invite/abcdefghijklmnopqrstuv"), "/m/acme/invite/…");
        assert_eq!(super::redact_path("/m/acme/customers"), "/m/acme/customers");
    }
}
