//! The server-side error type behind server functions and portal handlers.
//! Its `Display` carries context for the log; clients only ever get the
//! [`PortalError`] it maps to.

use crate::types::PortalError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not signed in")]
    NotSignedIn,
    #[error("not found")]
    NotFound,
    /// Signed in, but the role doesn't allow it; the message says what was refused.
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("session error: {0}")]
    Session(#[from] tower_sessions::session::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn internal(context: impl std::fmt::Display) -> Self {
        AppError::Internal(context.to_string())
    }
}

impl From<AppError> for PortalError {
    fn from(err: AppError) -> Self {
        match err {
            AppError::NotSignedIn => PortalError::NotSignedIn,
            AppError::NotFound => PortalError::NotFound,
            AppError::Forbidden(message) => PortalError::Forbidden(message),
            other => {
                tracing::error!(error = %other, "portal request failed");
                PortalError::Internal
            }
        }
    }
}
