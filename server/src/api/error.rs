//! The API's one error shape: `{"error": {"code", "message", "param"}}`
//! with a fitting status; internals go to the log, never to the client.

use app::server::AppError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, for programs: `unauthorized`, `not_found`, `invalid_request`,
    /// `conflict`, `idempotency_key_reused`, `internal`.
    pub code: String,
    /// For people.
    pub message: String,
    /// The field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub param: Option<String>,
}

impl ApiError {
    pub fn invalid(param: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid_request",
            message: message.into(),
            param: Some(param.into()),
        }
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError { status: StatusCode::NOT_FOUND, code: "not_found", message: format!("No such {what}."), param: None }
    }

    pub fn unauthorized() -> ApiError {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: "unauthorized",
            message: "Send a valid API key as `Authorization: Bearer sk_settle_…`.".into(),
            param: None,
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::CONFLICT, code, message: message.into(), param: None }
    }

    pub fn body(&self) -> serde_json::Value {
        serde_json::to_value(ErrorBody {
            error: ErrorDetail { code: self.code.into(), message: self.message.clone(), param: self.param.clone() },
        })
        .unwrap_or_default()
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> ApiError {
        match e {
            AppError::NotFound => ApiError::not_found("object"),
            other => {
                tracing::error!(error = %other, "api request failed");
                ApiError {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    code: "internal",
                    message: "Something went wrong on our side; try again.".into(),
                    param: None,
                }
            }
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> ApiError {
        ApiError::from(AppError::Db(e))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}
