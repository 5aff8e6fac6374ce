//! API errors: a status and a JSON body `{"error":{"code":...,"message":...}}`, and
//! request extractors whose rejections come out the same way.

use crate::error::DaemonError;
use crate::model::{ErrorBody, ErrorInfo};
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::FromRequest;
use axum::extract::FromRequestParts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use ferrent_session::SessionError;

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable machine-readable code.
    pub code: &'static str,
    /// What went wrong.
    pub message: String,
}

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body =
            ErrorBody { error: ErrorInfo { code: self.code.to_string(), message: self.message } };
        let mut response = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"ferrent\""),
            );
        }
        response
    }
}

impl From<DaemonError> for ApiError {
    fn from(e: DaemonError) -> Self {
        use StatusCode as S;
        let (status, code) = match &e {
            DaemonError::NotFound(_) => (S::NOT_FOUND, "not_found"),
            DaemonError::Duplicate(_) => (S::CONFLICT, "duplicate"),
            DaemonError::InvalidTorrent(_) => (S::BAD_REQUEST, "invalid_torrent"),
            DaemonError::InvalidMagnet(_) => (S::BAD_REQUEST, "invalid_magnet"),
            DaemonError::Unsupported(_) => (S::UNPROCESSABLE_ENTITY, "unsupported"),
            DaemonError::BadField { .. } => (S::BAD_REQUEST, "bad_request"),
            DaemonError::Path(_) => (S::FORBIDDEN, "path_not_allowed"),
            DaemonError::Conflict(_) => (S::CONFLICT, "conflict"),
            DaemonError::Fetch { .. } => (S::BAD_GATEWAY, "fetch_failed"),
            DaemonError::Store(_) => (S::INTERNAL_SERVER_ERROR, "storage_error"),
            DaemonError::Session(SessionError::Duplicate(_)) => (S::CONFLICT, "duplicate"),
            DaemonError::Session(SessionError::BadFileIndex { .. }) => {
                (S::BAD_REQUEST, "bad_request")
            }
            DaemonError::Session(SessionError::V2Only) => (S::UNPROCESSABLE_ENTITY, "unsupported"),
            DaemonError::Session(_) => (S::INTERNAL_SERVER_ERROR, "session_error"),
            DaemonError::Internal(_) => (S::INTERNAL_SERVER_ERROR, "internal_error"),
            DaemonError::ShuttingDown => (S::SERVICE_UNAVAILABLE, "shutting_down"),
        };
        ApiError::new(status, code, e.to_string())
    }
}

fn rejection(status: StatusCode, text: String) -> ApiError {
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid_body",
        s if s.is_server_error() => "internal_error",
        _ => "bad_request",
    };
    ApiError::new(status, code, text)
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        rejection(r.status(), r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        rejection(StatusCode::BAD_REQUEST, r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        rejection(StatusCode::BAD_REQUEST, r.body_text())
    }
}

impl From<BytesRejection> for ApiError {
    fn from(r: BytesRejection) -> Self {
        rejection(r.status(), r.body_text())
    }
}

/// A JSON request body; malformed bodies are answered as [`ApiError`]s.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct JsonBody<T>(pub T);

/// Query parameters; bad ones are answered as [`ApiError`]s.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct QueryArgs<T>(pub T);

/// Path parameters; bad ones are answered as [`ApiError`]s.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct PathArg<T>(pub T);

/// A raw body (size-limited); too large is 413 as an [`ApiError`].
pub struct RawBody(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        Ok(RawBody(axum::body::Bytes::from_request(request, state).await?))
    }
}
