//! Errors from Settle's own axum handlers: the client gets a status and a
//! plain message; the details go to the log.

use app::server::AppError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error(transparent)]
    App(#[from] AppError),
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        match self {
            HttpError::App(AppError::NotFound) => (StatusCode::NOT_FOUND, "Not found\n").into_response(),
            HttpError::App(AppError::NotSignedIn) => {
                (StatusCode::UNAUTHORIZED, "Please sign in first.\n").into_response()
            }
            HttpError::App(AppError::Forbidden(message)) => {
                (StatusCode::FORBIDDEN, format!("{message}\n")).into_response()
            }
            HttpError::App(e) => {
                tracing::error!(error = %e, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong on our side. Please try again in a moment.\n")
                    .into_response()
            }
        }
    }
}

impl From<sqlx::Error> for HttpError {
    fn from(e: sqlx::Error) -> Self {
        HttpError::App(AppError::Db(e))
    }
}
