//! The one application state, handed to axum handlers (via `FromRef`) and to
//! server functions (via Leptos context).

use super::gateway::Gateways;
use super::{Clock, Db};
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct PortalSettings {
    /// Public origin links are built from, e.g. `https://pay.example.com`.
    pub base_url: String,
    /// Where the browser loads Stripe.js from (the CSP allows exactly this).
    pub stripe_js_url: String,
    /// Stripe's API origin the browser's Stripe.js talks to (when configured).
    pub stripe_api_base: Option<String>,
}

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub leptos_options: LeptosOptions,
    pub portal: Arc<PortalSettings>,
    pub gateways: Gateways,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("db", &self.db).field("portal", &self.portal).finish_non_exhaustive()
    }
}

impl AppState {
    pub fn stripe_js_url(&self) -> String {
        self.portal.stripe_js_url.clone()
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
