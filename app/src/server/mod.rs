//! Server-only code: database, clock, tokens, sessions, repositories.
//! Compiled only with the `ssr` feature, so none of it reaches the wasm bundle.

pub mod account_security;
pub mod clock;
pub mod console;
pub mod csp;
pub mod db;
pub mod dunning;
pub mod error;
pub mod gateway;
pub mod history;
pub mod ids;
pub mod import;
pub mod jobs;
pub mod lease_keeper;
pub mod mail;
pub mod passwords;
pub mod pay_views;
pub mod payments;
pub mod portal;
pub mod portal_session;
pub mod promises;
pub mod repo;
pub mod session_store;
pub mod settings;
pub mod sign_in;
pub mod state;
pub mod tokens;
pub mod webhooks;

pub use clock::{Clock, ManualClock, SystemClock, UtcMillis};
pub use db::{Backend, Db};
pub use error::AppError;
pub use state::AppState;
