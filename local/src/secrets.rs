//! Secrets Manager, locally: the one call the functions make (`GetSecretValue`, AWS JSON 1.1
//! protocol), for the page token secret, so that the built functions read it through the real SDK
//! client as on AWS. A secret has a current value and, during a rotation, a previous one.

use crate::{aws_json as answer, aws_json_error as error};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use std::sync::Arc;

/// The page token secret's local ARN (account and region of the local identity).
pub fn page_token_secret_arn(region: &str) -> String {
    format!(
        "arn:aws:secretsmanager:{region}:{}:secret:customer-api-local-page-token-secret-AbCdEf",
        crate::iam::LOCAL_ACCOUNT
    )
}

/// One secret: its ARN, its current value and, during a rotation, its previous one.
#[derive(Debug, Clone)]
pub struct Secret {
    pub arn: String,
    pub current: String,
    pub previous: Option<String>,
}

/// Serves `secret` on an ephemeral port; the URL is `SECRETS_MANAGER_ENDPOINT` for the functions.
pub async fn serve(secret: Secret) -> Result<(String, crate::Background), crate::LocalError> {
    crate::serve_local("Secrets Manager", router(secret)).await
}

pub fn router(secret: Secret) -> Router {
    Router::new()
        .route("/", axum::routing::post(call))
        .with_state(Arc::new(secret))
}

async fn call(State(secret): State<Arc<Secret>>, headers: HeaderMap, body: Bytes) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if target != "secretsmanager.GetSecretValue" {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestException",
            &format!("{target} is not served locally"),
        );
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidParameterException",
            "the body is not JSON",
        );
    };
    let id = request["SecretId"].as_str().unwrap_or_default();
    let name = secret.arn.rsplit(':').next().unwrap_or_default();
    if id != secret.arn && id != name {
        return error(
            StatusCode::BAD_REQUEST,
            "ResourceNotFoundException",
            "Secrets Manager can't find the specified secret.",
        );
    }
    let stage = request["VersionStage"].as_str().unwrap_or("AWSCURRENT");
    let (version, value) = match (stage, &secret.previous) {
        ("AWSCURRENT", _) => ("local-current", secret.current.as_str()),
        ("AWSPREVIOUS", Some(previous)) => ("local-previous", previous.as_str()),
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "ResourceNotFoundException",
                &format!("Secrets Manager can't find the specified secret value for staging label: {stage}"),
            );
        }
    };
    answer(
        StatusCode::OK,
        json!({
            "ARN": secret.arn,
            "Name": name,
            "VersionId": version,
            "SecretString": value,
            "VersionStages": [stage],
            "CreatedDate": 1.7e9,
        }),
    )
}
