use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Everything the server can fail with. Each variant has a stable machine-readable code and a
/// status: client input only ever leads to a 4xx; a 5xx is logged here, once, and the client
/// sees a generic message (database errors may name tables, never values).
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("a valid bearer token is required")]
    Unauthorized,
    #[error("{}", .0.message())]
    TokenRefused(crate::auth::TokenRefusal),
    #[error("the enrollment code is unknown, used up or expired")]
    InvalidCode,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("the request body is larger than the server accepts")]
    TooLarge,
    #[error("the request body must be {0}")]
    UnsupportedMediaType(&'static str),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("too many wrong enrollment codes: try again in {} s", .retry_after.as_secs())]
    TooManyAttempts { retry_after: std::time::Duration },
    #[error("this token has used its {0} aggregate queries for today (UTC); ask again tomorrow")]
    QueryBudget(i64),
    #[error(transparent)]
    Core(#[from] sync_core::Error),
    /// An XLSForm workbook that did not convert, with every problem found in it.
    #[error(transparent)]
    Import(#[from] crate::xlsform::ImportError),
    #[error("database: {0}")]
    Database(sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(sqlx::migrate::MigrateError),
    #[error("the server took too long to answer")]
    TimedOut,
    #[error("{0}")]
    Internal(String),
}

pub type Result<T, E = ApiError> = std::result::Result<T, E>;

/// Every 4xx and 5xx answer's body.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub(crate) struct ErrorBody<'a> {
    /// A stable machine-readable code: `not_found`, `forbidden`, `bad_query`, ...
    error: &'a str,
    message: String,
    /// A refused XLSForm workbook: every problem found in it.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    problems: &'a [crate::xlsform::Problem],
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            code,
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized | ApiError::TokenRefused(_) | ApiError::InvalidCode => {
                StatusCode::UNAUTHORIZED
            }
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::QueryBudget(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Core(e) if e.code() == "too_large" => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Core(_) => StatusCode::BAD_REQUEST,
            ApiError::Import(crate::xlsform::ImportError::TooLarge { .. }) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Import(_) => StatusCode::BAD_REQUEST,
            ApiError::Database(sqlx::Error::PoolTimedOut) | ApiError::TimedOut => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Database(_) | ApiError::Migrate(_) | ApiError::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized => "unauthorized",
            ApiError::TokenRefused(refusal) => refusal.code(),
            ApiError::InvalidCode => "invalid_code",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::BadRequest { code, .. } | ApiError::Conflict { code, .. } => code,
            ApiError::TooLarge => "too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::TooManyAttempts { .. } => "too_many_attempts",
            ApiError::QueryBudget(_) => "query_budget",
            ApiError::Core(e) => e.code(),
            ApiError::Import(e) => e.code(),
            ApiError::Database(sqlx::Error::PoolTimedOut) | ApiError::TimedOut => "unavailable",
            ApiError::Database(_) | ApiError::Migrate(_) | ApiError::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
            "the server could not complete the request".to_owned()
        } else {
            self.to_string()
        };
        let problems = match &self {
            ApiError::Import(e) => e.problems(),
            _ => &[],
        };
        let body = ErrorBody {
            error: self.code(),
            message,
            problems,
        };
        let mut response = (status, Json(body)).into_response();
        if let ApiError::TooManyAttempts { retry_after } = self {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(retry_after.as_secs()));
        }
        response
    }
}

/// What a client sees of a storage failure: storage's refusals keep the codes clients know;
/// its failures are 5xx (503 while the pool is exhausted), logged, never shown.
impl From<crate::storage::Error> for ApiError {
    fn from(error: crate::storage::Error) -> ApiError {
        use crate::storage::Error;
        let conflict = |code, error: Error| ApiError::Conflict {
            code,
            message: error.to_string(),
        };
        match error {
            Error::NotFound(what) => ApiError::NotFound(what.into()),
            e @ Error::VersionExists { .. } => conflict("version_exists", e),
            e @ Error::DeviceRevoked => conflict("device_revoked", e),
            e @ Error::NotDemo => conflict("not_demo", e),
            e @ Error::ActorClaimed => conflict("linked_actor", e),
            Error::Seed(e) => ApiError::Core(e),
            Error::Database(e) => ApiError::Database(e),
            Error::Migrate(e) => ApiError::Migrate(e),
            e @ (Error::Corrupt(_) | Error::Unavailable(_)) => ApiError::Internal(e.to_string()),
        }
    }
}

/// axum's own rejections (bad JSON, bad path) in this crate's JSON error shape.
impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> ApiError {
        match rejection.status() {
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType("application/json"),
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge,
            _ => ApiError::bad_request("bad_json", rejection.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> ApiError {
        ApiError::bad_request("bad_path", rejection.body_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage;

    #[test]
    fn storage_refusals_keep_their_wire_codes() {
        let cases = [
            (
                storage::Error::NotFound("response"),
                StatusCode::NOT_FOUND,
                "not_found",
            ),
            (
                storage::Error::VersionExists {
                    form: "intake".into(),
                    version: 2,
                },
                StatusCode::CONFLICT,
                "version_exists",
            ),
            (
                storage::Error::DeviceRevoked,
                StatusCode::CONFLICT,
                "device_revoked",
            ),
            (storage::Error::NotDemo, StatusCode::CONFLICT, "not_demo"),
            (storage::Error::ActorClaimed, StatusCode::CONFLICT, "linked_actor"),
            (
                storage::Error::Database(sqlx::Error::PoolTimedOut),
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
            ),
            (
                storage::Error::Database(sqlx::Error::RowNotFound),
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
            ),
            (
                storage::Error::Corrupt("unknown role".into()),
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
            ),
        ];
        for (error, status, code) in cases {
            let message = error.to_string();
            let api = ApiError::from(error);
            assert_eq!((api.status(), api.code()), (status, code), "{message}");
            if status.is_client_error() {
                assert_eq!(api.to_string(), message, "a refusal says what storage said");
            }
        }
    }
}
