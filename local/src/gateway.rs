//! The local API Gateway: matches a request to a template route, runs the real authorizer on its
//! bearer token (401/403 as API Gateway answers them, with the template's gateway responses),
//! puts the same request context on the request that Lambda would, and calls the group's router
//! in-process.

use crate::template::{GatewayResponse, Template};
use authorizer::{ApiGatewayCustomAuthorizerRequest, ApiGatewayCustomAuthorizerResponse, Authorizer};
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequestContext;
use lambda_http::request::RequestContext;
use shared::AppState;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tower::ServiceExt;

/// The routers of the function groups, by group name (the `CodeUri` folder). A new group is
/// registered here and nowhere else; its routes come from the template.
pub fn group_routers(state: &AppState) -> HashMap<&'static str, Router> {
    HashMap::from([
        ("customers", customers::router(state.clone())),
        ("user-customer-links", user_customer_links::router(state.clone())),
        ("firehose", firehose::router(state.clone())),
        ("addresses", addresses::router(state.clone())),
        ("social-media", social_media::router(state.clone())),
        ("tax-residences", tax_residences::router(state.clone())),
        ("credit-limit-orders", credit_limit_orders::router(state.clone())),
        ("crm-events", crm_events::router(state.clone())),
    ])
}

/// Stage name of local requests, as the template's default.
pub const LOCAL_STAGE: &str = "api";
const LOCAL_ARN_PREFIX: &str = "arn:aws:execute-api:us-east-1:000000000000:local";

pub struct Gateway {
    template: Template,
    authorizer: Authorizer,
    validation: Option<regex::Regex>,
    policies: PolicyCache,
    groups: HashMap<&'static str, Router>,
}

/// What an authorizer's answer grants: the resources it allows and the context API Gateway hands
/// the function (its `context` plus `principalId`), built once per answer.
struct Grant {
    allowed: Vec<String>,
    fields: HashMap<String, serde_json::Value>,
}

impl Grant {
    fn of(policy: ApiGatewayCustomAuthorizerResponse) -> Self {
        let allowed = policy
            .policy_document
            .statement
            .into_iter()
            .filter(|s| s.effect == lambda_http::aws_lambda_events::iam::IamPolicyEffect::Allow)
            .flat_map(|s| s.resource)
            .collect();
        let mut fields: HashMap<String, serde_json::Value> = match policy.context {
            serde_json::Value::Object(map) => map.into_iter().collect(),
            _ => HashMap::new(),
        };
        fields.insert("principalId".into(), policy.principal_id.unwrap_or_default().into());
        Self { allowed, fields }
    }

    fn allows(&self, method_arn: &str) -> bool {
        self.allowed.iter().any(|r| arn_matches(r, method_arn))
    }
}

/// API Gateway's authorizer cache: an Allow policy is reused for the same token for the
/// template's `ReauthorizeEvery` seconds; a rejected token is asked about every time.
struct PolicyCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Instant, Arc<Grant>)>>,
}

impl PolicyCache {
    /// Enough for any local use; past it, expired entries go, then everything.
    const MAX_ENTRIES: usize = 10_000;

    fn get(&self, token: &str) -> Option<Arc<Grant>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let (at, grant) = entries.get(token)?;
        (at.elapsed() < self.ttl).then(|| grant.clone())
    }

    fn put(&self, token: &str, grant: &Arc<Grant>) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= Self::MAX_ENTRIES {
            entries.retain(|_, (at, _)| at.elapsed() < self.ttl);
            if entries.len() >= Self::MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(token.to_owned(), (Instant::now(), grant.clone()));
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("the template's route {method} {path} is served by group {group}, which local-api does not know")]
    UnknownGroup {
        method: String,
        path: String,
        group: String,
    },
    #[error("the template's authorizer is {0}, but local-api runs the `authorizer` group")]
    UnknownAuthorizer(String),
    #[error("the authorizer's ValidationExpression is not a valid regex: {0}")]
    Validation(#[from] regex::Error),
}

impl Gateway {
    pub fn new(template: Template, authorizer: Authorizer, state: &AppState) -> Result<Self, GatewayError> {
        let groups = group_routers(state);
        if let Some(r) = template.routes.iter().find(|r| !groups.contains_key(r.group.as_str())) {
            return Err(GatewayError::UnknownGroup {
                method: r.method.clone(),
                path: r.path.clone(),
                group: r.group.clone(),
            });
        }
        if template.authorizer.group != "authorizer" {
            return Err(GatewayError::UnknownAuthorizer(template.authorizer.group.clone()));
        }
        let validation = template
            .authorizer
            .validation_expression
            .as_deref()
            .map(regex::Regex::new)
            .transpose()?;
        let policies = PolicyCache {
            ttl: Duration::from_secs(template.authorizer.cache_seconds),
            entries: Mutex::default(),
        };
        Ok(Self {
            template,
            authorizer,
            validation,
            policies,
            groups,
        })
    }

    /// The whole local API as one axum app, with the docs page (`/docs`, `/openapi.yaml`) beside it.
    pub fn into_router(self) -> Router {
        crate::docs::router(&self.template, crate::docs::DocsFiles::from_env())
            .fallback(handle)
            .with_state(Arc::new(self))
    }

    fn gateway_response(&self, kind: &str, status: StatusCode, detail: &str) -> Response {
        let fallback = GatewayResponse {
            status: status.as_u16(),
            headers: vec![("Content-Type".into(), "application/problem+json".into())],
            body: format!(
                r#"{{"type":"about:blank","title":"{}","status":{},"detail":"{detail}"}}"#,
                status.canonical_reason().unwrap_or("Error"),
                status.as_u16()
            ),
        };
        let r = self.template.gateway_responses.get(kind).unwrap_or(&fallback);
        let status = StatusCode::from_u16(r.status).unwrap_or(status);
        let mut response = (status, r.body.clone()).into_response();
        for (name, value) in &r.headers {
            if let (Ok(name), Ok(value)) = (name.parse::<axum::http::HeaderName>(), HeaderValue::from_str(value)) {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }
}

async fn handle(State(gw): State<Arc<Gateway>>, mut request: Request) -> Response {
    let Some(route) = gw.template.route(request.method().as_str(), request.uri().path()) else {
        return gw.gateway_response("MISSING_AUTHENTICATION_TOKEN", StatusCode::NOT_FOUND, "route not found");
    };

    // API Gateway's TOKEN authorizer: the identity source must be present and match the
    // validation expression before the function is even called (a cached token already did).
    let unauthorized = || {
        gw.gateway_response(
            "UNAUTHORIZED",
            StatusCode::UNAUTHORIZED,
            "missing or invalid bearer token",
        )
    };
    let token = request
        .headers()
        .get(gw.template.authorizer.header.as_str())
        .and_then(|v| v.to_str().ok());
    let Some(token) = token else {
        return unauthorized();
    };
    let path = request.uri().path();
    let method_arn = format!("{LOCAL_ARN_PREFIX}/{LOCAL_STAGE}/{}{path}", request.method());
    let grant = match gw.policies.get(token) {
        Some(grant) => grant,
        None => {
            if gw.validation.as_ref().is_some_and(|re| !re.is_match(token)) {
                return unauthorized();
            }
            let mut event = ApiGatewayCustomAuthorizerRequest::default();
            event.type_ = Some("TOKEN".into());
            event.authorization_token = Some(token.to_owned());
            event.method_arn = Some(method_arn.clone());
            let Ok(policy) = gw.authorizer.authorize(event).await else {
                return unauthorized();
            };
            let grant = Arc::new(Grant::of(policy));
            gw.policies.put(token, &grant);
            grant
        }
    };
    if !grant.allows(&method_arn) {
        return gw.gateway_response("ACCESS_DENIED", StatusCode::FORBIDDEN, "access denied");
    }

    // The request context a REST API proxy integration gives the function.
    let mut context = ApiGatewayProxyRequestContext::default();
    context.request_id = Some(uuid_v4_like());
    context.stage = Some(LOCAL_STAGE.into());
    context.resource_path = Some(route.path.clone());
    context.http_method = request.method().clone();
    context.path = Some(format!("/{LOCAL_STAGE}{path}"));
    context.authorizer.fields = grant.fields.clone();
    request.extensions_mut().insert(RequestContext::ApiGatewayV1(context));

    let Some(router) = gw.groups.get(route.group.as_str()) else {
        return gw.gateway_response("DEFAULT_5XX", StatusCode::INTERNAL_SERVER_ERROR, "no such group");
    };
    match router.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// IAM-style match of a policy resource (with `*` wildcards) against a method ARN.
fn arn_matches(pattern: &str, arn: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let Some((first, rest)) = parts.split_first() else {
        return false;
    };
    let Some(mut remaining) = arn.strip_prefix(first) else {
        return false;
    };
    for (i, part) in rest.iter().enumerate() {
        let last = i == rest.len() - 1;
        if last {
            return remaining.ends_with(part);
        }
        match remaining.find(part) {
            Some(at) => remaining = &remaining[at + part.len()..],
            None => return false,
        }
    }
    remaining.is_empty()
}

/// A request id like API Gateway's.
fn uuid_v4_like() -> String {
    shared::ids::CustomerId::new().to_string()
}

#[cfg(test)]
mod tests {
    use super::arn_matches;

    #[test]
    fn arn_wildcards() {
        let arn = "arn:aws:execute-api:us-east-1:000000000000:local/api/GET/v1/banks/b/customers";
        assert!(arn_matches(
            "arn:aws:execute-api:us-east-1:000000000000:local/api/*/*",
            arn
        ));
        assert!(arn_matches(arn, arn));
        assert!(!arn_matches(
            "arn:aws:execute-api:us-east-1:000000000000:other/api/*/*",
            arn
        ));
        assert!(!arn_matches(
            "arn:aws:execute-api:us-east-1:000000000000:local/api/POST/*",
            arn
        ));
    }
}
