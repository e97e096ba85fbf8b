//! The one error type of the HTTP edge, rendered as RFC 9457 problem details; the domain's and the
//! store's errors map into it here.

use crate::domain::credit_limit_order::Refusal;
use crate::domain::validate::{FieldError, Invalid};
use crate::store::StoreError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid request")]
    Invalid(Vec<FieldError>),
    #[error("unauthorized")]
    Unauthorized,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("conflict: {0}")]
    Conflict(String),
    /// An `Idempotency-Key` record already exists: `idempotency::once` replays it.
    #[error("idempotency key in use")]
    KeyInUse,
    #[error("precondition failed")]
    PreconditionFailed,
    /// The body is larger than this many bytes.
    #[error("request body too large")]
    PayloadTooLarge(usize),
    #[error("service unavailable")]
    Unavailable,
    /// A real fault. The detail is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Why a credit limit order cannot be decided: the four-eyes rule is a permission (403), an order
/// that is no longer pending a conflict with its state (409).
impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::OwnOrder => Self::Forbidden(
                "four-eyes rule: the member of staff who requested a credit limit order may not decide it",
            ),
            Refusal::AlreadyDecided(status) => {
                Self::Conflict(format!("the credit limit order is already decided: {}", status.name()))
            }
            Refusal::MakerUnknown => Self::Conflict(
                "the credit limit order does not record who requested it, so the four-eyes rule cannot be checked"
                    .into(),
            ),
            Refusal::NoOrder => Self::Forbidden(
                "four-eyes rule: raising a credit limit or changing its currency takes a credit limit order \
                 (POST .../credit_limit/requests) approved by another member of staff; lowering it does not",
            ),
            Refusal::BeyondRequest(field, why) => Self::field(field, why),
        }
    }
}

impl From<Invalid> for ApiError {
    fn from(invalid: Invalid) -> Self {
        Self::Invalid(invalid.0)
    }
}

/// The store's outcomes as problems: a missing item is 404, a version `If-Match` does not accept
/// is 412, a taken number or key is 409, a throttled or unreachable DynamoDB is 503.
impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(what) => Self::NotFound(what),
            StoreError::VersionMismatch => Self::PreconditionFailed,
            StoreError::Conflict(why) => Self::Conflict(why),
            StoreError::Refused(refusal) => refusal.into(),
            StoreError::KeyInUse => Self::KeyInUse,
            StoreError::Unavailable => Self::Unavailable,
            StoreError::Internal(detail) => Self::Internal(detail),
        }
    }
}

impl ApiError {
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Invalid(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) | Self::KeyInUse => StatusCode::CONFLICT,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::Invalid(errors) => {
                let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
                format!("invalid value for: {}", fields.join(", "))
            }
            Self::Unauthorized => "missing or invalid bearer token".into(),
            Self::Forbidden(why) => (*why).into(),
            Self::NotFound(what) => format!("{what} not found"),
            Self::Conflict(why) => why.clone(),
            Self::KeyInUse => "this Idempotency-Key is in use".into(),
            Self::PreconditionFailed => "the resource has changed since it was read (If-Match)".into(),
            Self::PayloadTooLarge(limit) => format!("request body exceeds {limit} bytes"),
            Self::Unavailable => "the data store is temporarily unavailable, retry later".into(),
            Self::Internal(_) => "an unexpected error occurred".into(),
        }
    }
}

#[derive(Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// Seconds a client should wait before retrying a 503.
pub const RETRY_AFTER_SECONDS: u32 = 1;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let Self::Internal(detail) = &self {
            tracing::error!(error = %detail, "internal error");
        }
        let problem = Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: self.detail(),
            errors: match self {
                Self::Invalid(errors) => errors,
                _ => Vec::new(),
            },
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        }
        // As the gateway's own 401 (RFC 6750): a token the function refuses (expired) says so.
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_map_to_their_problems() {
        let cases = [
            (
                StoreError::NotFound("customer"),
                StatusCode::NOT_FOUND,
                "customer not found",
            ),
            (
                StoreError::VersionMismatch,
                StatusCode::PRECONDITION_FAILED,
                "the resource has changed since it was read (If-Match)",
            ),
            (
                StoreError::Conflict("number taken".into()),
                StatusCode::CONFLICT,
                "number taken",
            ),
            (
                StoreError::KeyInUse,
                StatusCode::CONFLICT,
                "this Idempotency-Key is in use",
            ),
            (
                StoreError::Unavailable,
                StatusCode::SERVICE_UNAVAILABLE,
                "the data store is temporarily unavailable, retry later",
            ),
            // The detail of a fault stays in the log.
            (
                StoreError::Internal("DynamoDB service error: secret detail".into()),
                StatusCode::INTERNAL_SERVER_ERROR,
                "an unexpected error occurred",
            ),
        ];
        for (store, status, detail) in cases {
            let err = ApiError::from(store);
            assert_eq!(err.status(), status);
            assert_eq!(err.detail(), detail);
        }
    }

    #[test]
    fn unavailable_tells_when_to_retry_and_invalid_names_fields() {
        let response = ApiError::from(StoreError::Unavailable).into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        let invalid = ApiError::from(Invalid::field("email", "must be an email address"));
        assert_eq!(invalid.status(), StatusCode::BAD_REQUEST);
        assert_eq!(invalid.detail(), "invalid value for: email");
        assert_eq!(
            ApiError::PayloadTooLarge(65_536).detail(),
            "request body exceeds 65536 bytes"
        );
    }
}
