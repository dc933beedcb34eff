//! The `settle` server: configuration, startup, HTTP routes outside Leptos
//! (health, access-link sign-in), middleware, and the CLI's commands.

pub mod api;
pub mod asset_compression;
pub mod client_ip;
pub mod config;
pub mod delivery;
pub mod demo;
pub mod gateway_admin;
pub mod http_error;
pub mod import_cli;
pub mod mail;
pub mod merchant_admin;
pub mod origin;
pub mod outbound_webhooks;
pub mod routes;
pub mod security_headers;
pub mod simulate_cli;
pub mod sms;
pub mod startup;
pub mod telemetry;
pub mod throttle;
