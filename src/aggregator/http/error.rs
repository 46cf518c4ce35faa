//! API errors as Prometheus reports them: an `errorType` with its HTTP status, and a
//! message, in the `{"status":"error",...}` envelope.

use super::json;
use crate::aggregator::promql::QueryError;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// Prometheus's `errorType` values (web/api/v1 `errorType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    BadData,
    Execution,
    Timeout,
    Canceled,
    Internal,
    NotFound,
}

impl ErrorType {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::BadData => "bad_data",
            ErrorType::Execution => "execution",
            ErrorType::Timeout => "timeout",
            ErrorType::Canceled => "canceled",
            ErrorType::Internal => "internal",
            ErrorType::NotFound => "not_found",
        }
    }

    /// The status `respondError` sends with each type.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorType::BadData => StatusCode::BAD_REQUEST,
            ErrorType::Execution => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorType::Timeout | ErrorType::Canceled => StatusCode::SERVICE_UNAVAILABLE,
            ErrorType::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorType::NotFound => StatusCode::NOT_FOUND,
        }
    }
}

/// An error the API answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub kind: ErrorType,
    pub message: String,
}

impl ApiError {
    pub fn bad_data(message: impl Into<String>) -> ApiError {
        ApiError {
            kind: ErrorType::BadData,
            message: message.into(),
        }
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError {
            kind: ErrorType::Internal,
            message: message.into(),
        }
    }

    /// `returnAPIError` for a failed evaluation; a bad expression is the `query`
    /// parameter's fault, as Prometheus words it.
    pub fn from_query(e: QueryError) -> ApiError {
        let kind = match &e {
            QueryError::BadData(m) => {
                return ApiError::bad_data(super::params::invalid_param("query", m))
            }
            QueryError::Execution(_) | QueryError::TooManySamples(_) => ErrorType::Execution,
            QueryError::Timeout(_) => ErrorType::Timeout,
            QueryError::Storage(_) => ErrorType::Internal,
        };
        ApiError {
            kind,
            message: e.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json::error(self.kind.as_str(), &self.message);
        json_response(self.kind.status(), body)
    }
}

/// A JSON body with Prometheus's content type.
pub fn json_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}
