//! REST API Gateway TOKEN authorizer: verifies `Bearer <jwt>` tokens against a JWKS and answers
//! with an IAM policy allowing the whole API, plus the caller's identity as context.
//!
//! The same code serves the Lambda (`main.rs`) and the in-process local API server:
//! build an [`Authorizer`] (or just a [`Verifier`]) from a [`Config`] once, then call
//! [`Authorizer::authorize`] per request (or [`Verifier::verify_authorization`] for the claims).
//!
//! Every failure is the same opaque [`Unauthorized`] (its message is exactly `Unauthorized`,
//! which API Gateway maps to a 401); [`Unauthorized::reason`] gives a short, token-free reason
//! for logs.

mod config;
mod jwks;
mod verifier;

pub use config::{
    Config, ConfigError, DEFAULT_JWKS_REFETCH_INTERVAL, ENV_AUDIENCE, ENV_ISSUER, ENV_JWKS_JSON, ENV_JWKS_URL,
    JwksSource,
};
pub use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerRequest, ApiGatewayCustomAuthorizerResponse,
};
pub use verifier::{LEEWAY_SECS, MAX_TOKEN_LEN, VerifiedClaims, Verifier, bearer_token};

use lambda_http::aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use serde::{Deserialize, Serialize};
use shared::http::caller::{CONTEXT_BANK_IDS, CONTEXT_EXP, CONTEXT_SCOPE, CONTEXT_USER_ID};

/// The only error a caller ever sees. Displays as exactly `Unauthorized`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Unauthorized")]
pub struct Unauthorized {
    reason: &'static str,
}

impl Unauthorized {
    pub(crate) const fn new(reason: &'static str) -> Self {
        Self { reason }
    }

    /// A short reason for the denial, safe to log (never contains token data).
    pub fn reason(&self) -> &'static str {
        self.reason
    }
}

impl From<Unauthorized> for lambda_runtime::Diagnostic {
    fn from(_: Unauthorized) -> Self {
        Self {
            error_type: "Unauthorized".to_owned(),
            error_message: "Unauthorized".to_owned(),
        }
    }
}

/// Why the authorizer could not be built. Meant to be logged before exiting.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// Environment configuration is missing or contradictory.
    #[error("invalid authorizer configuration: {0}")]
    Config(#[from] ConfigError),
    /// The configured issuer is blank.
    #[error("invalid authorizer configuration: the issuer ({ENV_ISSUER}) is empty")]
    EmptyIssuer,
    /// The configured audience is blank.
    #[error("invalid authorizer configuration: the audience ({ENV_AUDIENCE}) is empty")]
    EmptyAudience,
    /// `JWKS_URL` is not an acceptable URL.
    #[error("invalid {ENV_JWKS_URL} {url:?}: {reason}")]
    JwksUrl {
        /// The configured URL.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The JWKS could not be fetched (or what was fetched is not a usable JWKS).
    #[error("cannot load the JWKS from {url}: {reason}")]
    JwksFetch {
        /// The configured URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The inline JWKS is not usable.
    #[error("invalid JWKS in {origin}: {reason}")]
    InvalidJwks {
        /// Where the document came from.
        origin: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// The authorizer context handed to the API's functions (API Gateway only passes string values).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthContext {
    /// The token's `sub`.
    pub user_id: String,
    /// The token's `scope` (space-separated, possibly empty).
    pub scope: String,
    /// The token's `bank_ids`, joined by single spaces (possibly empty).
    pub bank_ids: String,
    /// The token's `exp` (seconds since the epoch), as a decimal string.
    pub exp: String,
}

impl AuthContext {
    /// Builds the context fields from verified claims.
    pub fn from_claims(claims: &VerifiedClaims) -> Self {
        Self {
            user_id: claims.sub.clone(),
            scope: claims.scope.clone(),
            bank_ids: claims.bank_ids.join(" "),
            exp: claims.exp.to_string(),
        }
    }

    /// The context as the JSON object put in the authorizer response (all values strings).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            CONTEXT_USER_ID: self.user_id,
            CONTEXT_SCOPE: self.scope,
            CONTEXT_BANK_IDS: self.bank_ids,
            CONTEXT_EXP: self.exp,
        })
    }

    /// The individual scopes.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split(' ').filter(|s| !s.is_empty())
    }

    /// The individual bank ids.
    pub fn bank_id_list(&self) -> impl Iterator<Item = &str> {
        self.bank_ids.split(' ').filter(|s| !s.is_empty())
    }
}

/// The resource covering the whole API stage of a method ARN:
/// `arn:PARTITION:execute-api:REGION:ACCOUNT:APIID/STAGE/VERB/path...` →
/// `arn:PARTITION:execute-api:REGION:ACCOUNT:APIID/STAGE/*/*`. `None` when malformed.
pub fn whole_api_resource(method_arn: &str) -> Option<String> {
    let part_ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    let mut fields = method_arn.splitn(6, ':');
    let (arn, partition, service, region, account, resource) = (
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
    );
    if arn != "arn" || service != "execute-api" || ![partition, region, account].into_iter().all(part_ok) {
        return None;
    }
    let mut path = resource.splitn(4, '/');
    let (api_id, stage, verb) = (path.next()?, path.next()?, path.next()?);
    if ![api_id, stage].into_iter().all(part_ok) || verb.is_empty() {
        return None;
    }
    Some(format!(
        "arn:{partition}:execute-api:{region}:{account}:{api_id}/{stage}/*/*"
    ))
}

/// The `Allow` response for verified claims: `execute-api:Invoke` on `resource`, the claims'
/// `sub` as principal and [`AuthContext`] as context.
pub fn allow_response(claims: &VerifiedClaims, resource: String) -> ApiGatewayCustomAuthorizerResponse {
    // The event types are `#[non_exhaustive]`: build from `Default`.
    let mut statement = IamPolicyStatement::default();
    statement.action = vec!["execute-api:Invoke".to_owned()];
    statement.effect = IamPolicyEffect::Allow;
    statement.resource = vec![resource];

    let mut policy = ApiGatewayCustomAuthorizerPolicy::default();
    policy.version = Some("2012-10-17".to_owned());
    policy.statement = vec![statement];

    let mut response = ApiGatewayCustomAuthorizerResponse::default();
    response.principal_id = Some(claims.sub.clone());
    response.policy_document = policy;
    response.context = claims.context().to_json();
    response
}

/// The TOKEN authorizer.
#[derive(Debug)]
pub struct Authorizer {
    verifier: Verifier,
}

impl Authorizer {
    /// Wraps a verifier.
    pub fn new(verifier: Verifier) -> Self {
        Self { verifier }
    }

    /// Builds from explicit configuration (see [`Verifier::new`]).
    pub async fn from_config(config: Config) -> Result<Self, InitError> {
        Ok(Self::new(Verifier::new(config).await?))
    }

    /// Builds from `JWT_ISSUER`, `JWT_AUDIENCE` and `JWKS_URL` or `JWKS_JSON`.
    pub async fn from_env() -> Result<Self, InitError> {
        Self::from_config(Config::from_env()?).await
    }

    /// The underlying verifier.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// Handles one TOKEN authorizer event. Denials are logged with their reason only.
    pub async fn authorize(
        &self,
        event: ApiGatewayCustomAuthorizerRequest,
    ) -> Result<ApiGatewayCustomAuthorizerResponse, Unauthorized> {
        let result = self.authorize_event(&event).await;
        if let Err(denial) = &result {
            tracing::info!(reason = denial.reason(), "authorization denied");
            shared::metrics::count("AuthorizerDenials", &[]);
        }
        result
    }

    async fn authorize_event(
        &self,
        event: &ApiGatewayCustomAuthorizerRequest,
    ) -> Result<ApiGatewayCustomAuthorizerResponse, Unauthorized> {
        let resource = event
            .method_arn
            .as_deref()
            .and_then(whole_api_resource)
            .ok_or(Unauthorized::new("malformed methodArn"))?;
        let claims = self
            .verifier
            .verify_authorization(event.authorization_token.as_deref())
            .await?;
        Ok(allow_response(&claims, resource))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_api_resource_from_method_arn() {
        assert_eq!(
            whole_api_resource("arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/banks/b1/customers/c9")
                .as_deref(),
            Some("arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*/*")
        );
        assert_eq!(
            whole_api_resource("arn:aws-cn:execute-api:cn-north-1:123456789012:x/dev/POST/").as_deref(),
            Some("arn:aws-cn:execute-api:cn-north-1:123456789012:x/dev/*/*")
        );
        for bad in [
            "",
            "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod",
            "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/",
            "arn:aws:lambda:eu-west-1:123456789012:abc123/prod/GET/x",
            "arn:aws:execute-api:eu-west-1:123456789012:*/prod/GET/x",
            "arn:aws:execute-api:eu-west-1:123456789012:abc/*/GET/x",
            "arn:aws:execute-api:eu-west-1::abc/prod/GET/x",
            "nope:aws:execute-api:eu-west-1:1:abc/prod/GET/x",
            "arn:aws:execute-api:eu-west-1:1:/prod/GET/x",
        ] {
            assert_eq!(whole_api_resource(bad), None, "{bad}");
        }
    }

    #[test]
    fn bearer_parsing() {
        assert_eq!(bearer_token("Bearer a.b.c"), Some("a.b.c"));
        assert_eq!(bearer_token("bearer  a.b.c "), Some("a.b.c"));
        assert_eq!(bearer_token("Bearer"), None);
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("Basic dXNlcjpwYXNz"), None);
        assert_eq!(bearer_token("Bearer a.b c"), None);
        assert_eq!(bearer_token("Bearer a.b.c\u{e9}"), None);
        assert_eq!(bearer_token("a.b.c"), None);
    }

    #[test]
    fn unauthorized_displays_exactly() {
        let denial = Unauthorized::new("whatever");
        assert_eq!(denial.to_string(), "Unauthorized");
        let diagnostic = lambda_runtime::Diagnostic::from(denial);
        assert_eq!(diagnostic.error_message, "Unauthorized");
        assert_eq!(diagnostic.error_type, "Unauthorized");
    }
}
