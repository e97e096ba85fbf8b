//! What can go wrong in the store, in the store's own terms. The HTTP edge maps each kind to a
//! problem (`http::error`); nothing here knows of status codes.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The item is missing, or belongs to another bank (the two are not told apart).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The item exists, but not at a version the write accepts (`If-Match`).
    #[error("version mismatch")]
    VersionMismatch,
    /// A uniqueness or state condition failed; the message says which, for the client.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The four-eyes rule refuses the change.
    #[error("refused: {0:?}")]
    Refused(crate::domain::credit_limit_order::Refusal),
    /// An `Idempotency-Key` record exists for the key: the caller replays it.
    #[error("idempotency key in use")]
    KeyInUse,
    /// Throttled, unreachable or too slow, after the SDK's own retries: worth retrying later.
    #[error("unavailable")]
    Unavailable,
    /// A real fault. The detail is logged, never sent.
    #[error("internal: {0}")]
    Internal(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

pub(crate) fn internal(err: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(err.to_string())
}

/// Error codes DynamoDB answers when it is throttling or briefly unable to serve.
const RETRYABLE: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionConflictException",
];

/// Throttling and an unreachable or slow DynamoDB are `Unavailable` (the SDK has already retried);
/// anything else is a real fault. Only the error's kind, code and message are kept: an SDK error's
/// `Debug` can carry the raw response, and with it a customer's data.
pub fn sdk_error<E: ProvideErrorMetadata, R>(err: SdkError<E, R>) -> StoreError {
    let kind = match &err {
        SdkError::ConstructionFailure(_) => "construction failure",
        SdkError::TimeoutError(_) => "timeout",
        SdkError::DispatchFailure(_) => "dispatch failure",
        SdkError::ResponseError(_) => "unreadable response",
        SdkError::ServiceError(_) => "service error",
        _ => "error",
    };
    let code = err.code().unwrap_or("-").to_owned();
    match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            tracing::warn!(kind, "DynamoDB unavailable");
            crate::metrics::count("DynamoDbUnavailable", &[]);
            StoreError::Unavailable
        }
        _ if RETRYABLE.contains(&code.as_str()) => {
            tracing::warn!(code, "DynamoDB throttled");
            crate::metrics::count("DynamoDbThrottled", &[]);
            StoreError::Unavailable
        }
        _ => StoreError::Internal(format!("DynamoDB {kind}: {code}: {}", err.message().unwrap_or("-"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::config::http::HttpResponse;
    use aws_sdk_dynamodb::error::ErrorMetadata;
    use aws_sdk_dynamodb::operation::get_item::GetItemError;
    use aws_smithy_types::body::SdkBody;

    fn service(code: &str, message: &str) -> SdkError<GetItemError, HttpResponse> {
        let meta = ErrorMetadata::builder().code(code).message(message).build();
        let response = HttpResponse::new(400u16.try_into().expect("status"), SdkBody::from("{\"name\":\"Ada\"}"));
        SdkError::service_error(GetItemError::generic(meta), response)
    }

    #[test]
    fn throttling_and_outages_are_unavailable() {
        for code in RETRYABLE {
            assert!(
                matches!(sdk_error(service(code, "slow down")), StoreError::Unavailable),
                "{code}"
            );
        }
        let timeout = SdkError::<GetItemError, HttpResponse>::timeout_error("deadline");
        assert!(matches!(sdk_error(timeout), StoreError::Unavailable));
    }

    #[test]
    fn other_errors_are_internal_without_the_raw_response() {
        let err = sdk_error(service("ValidationException", "bad expression"));
        let StoreError::Internal(detail) = err else {
            panic!("not internal: {err:?}");
        };
        assert_eq!(detail, "DynamoDB service error: ValidationException: bad expression");
        let built = SdkError::<GetItemError, HttpResponse>::construction_failure("no table");
        assert!(matches!(sdk_error(built), StoreError::Internal(_)));
    }
}
