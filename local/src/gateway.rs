//! The local API Gateway: matches a request to a template route, runs the authorizer on its bearer
//! token (401/403 as API Gateway answers them, with the template's gateway responses, its answer
//! cached per token for `ReauthorizeEvery`), and hands the request to the route's function: either
//! its group's router in-process (`make run`, the fast loop) or its built bootstrap through the
//! local Lambda service as the REST proxy event (`make run-lambda`, what ships). One gateway for both.

use crate::lambda::{Answer, Function};
use crate::proxy_event::{self, Origin};
use crate::template::{GatewayResponse, Route, Template};
use authorizer::{ApiGatewayCustomAuthorizerRequest, Authorizer};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequestContext;
use lambda_http::request::RequestContext;
use serde_json::{Map, Value};
use shared::AppState;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tower::ServiceExt;

/// The routers of the function groups, by group name (the `CodeUri` folder), each with the state
/// `state_of(group)` gives it. A new group is registered here and nowhere else; its routes come
/// from the template.
pub fn group_routers(state_of: impl Fn(&str) -> AppState) -> HashMap<&'static str, Router> {
    HashMap::from([
        ("customers", customers::router(state_of("customers"))),
        (
            "user-customer-links",
            user_customer_links::router(state_of("user-customer-links")),
        ),
        ("firehose", firehose::router(state_of("firehose"))),
        ("addresses", addresses::router(state_of("addresses"))),
        ("social-media", social_media::router(state_of("social-media"))),
        ("tax-residences", tax_residences::router(state_of("tax-residences"))),
        (
            "credit-limit-orders",
            credit_limit_orders::router(state_of("credit-limit-orders")),
        ),
        ("crm-events", crm_events::router(state_of("crm-events"))),
    ])
}

/// [`group_routers`] with each group's DynamoDB calls through `enforcer` under its function's
/// credentials, so that the IAM check applies that function's policy.
pub fn checked_group_routers(
    template: &Template,
    state: &AppState,
    enforcer: &crate::iam::Enforcer,
) -> HashMap<&'static str, Router> {
    group_routers(|group| {
        let function = template.function_of_group(group).map(|f| f.logical_id.as_str());
        enforcer.state_for(state, function.unwrap_or_default())
    })
}

/// Stage name of local requests, as the template's default.
pub const LOCAL_STAGE: &str = "api";
const LOCAL_ARN_PREFIX: &str = "arn:aws:execute-api:us-east-1:000000000000:local";
/// API Gateway's limit on a request body.
pub const MAX_REQUEST_BYTES: usize = 10 * 1024 * 1024;
/// API Gateway's integration timeout of a REST API.
pub const INTEGRATION_TIMEOUT: Duration = Duration::from_secs(29);

/// Who answers a route: the routers in-process, or the built functions.
pub enum Backend {
    InProcess {
        authorizer: Box<Authorizer>,
        groups: HashMap<&'static str, Router>,
    },
    Lambda {
        authorizer: Arc<Function>,
        /// By group.
        functions: HashMap<String, Arc<Function>>,
        /// The JWKS endpoint the authorizer reads at init, stopped with the gateway.
        _jwks: Option<crate::Background>,
        /// The local Secrets Manager the functions read the page token secret from.
        _secrets: Option<crate::Background>,
    },
}

pub struct Gateway {
    template: Template,
    backend: Backend,
    /// The IAM check the functions' DynamoDB calls go through: it lives as long as the gateway.
    _enforcer: Arc<crate::iam::Enforcer>,
    validation: Option<regex::Regex>,
    policies: PolicyCache,
}

/// What an authorizer's answer grants: the resources it allows and the context API Gateway hands
/// the function (its `context` as strings, plus `principalId`), built once per answer.
struct Grant {
    allowed: Vec<String>,
    denied: Vec<String>,
    context: Map<String, Value>,
}

/// Why an authorizer gave no usable policy, and API Gateway's answer for it.
enum AuthFailure {
    /// The token was refused (`Unauthorized`): 401.
    Unauthorized,
    /// The authorizer failed or gave an invalid answer: 500.
    Failed,
}

impl Grant {
    /// API Gateway's reading of an authorizer's answer: context values must be strings, numbers or
    /// booleans (passed on as strings); anything else fails the request.
    fn of(answer: &Value) -> Result<Self, AuthFailure> {
        let document = answer.get("policyDocument").ok_or(AuthFailure::Failed)?;
        let mut allowed = Vec::new();
        let mut denied = Vec::new();
        let statements = match document.get("Statement") {
            Some(Value::Array(list)) => list.clone(),
            Some(one @ Value::Object(_)) => vec![one.clone()],
            _ => return Err(AuthFailure::Failed),
        };
        for s in statements {
            let resources: Vec<String> = match s.get("Resource") {
                Some(Value::String(r)) => vec![r.clone()],
                Some(Value::Array(list)) => list.iter().filter_map(|r| r.as_str().map(str::to_owned)).collect(),
                _ => return Err(AuthFailure::Failed),
            };
            match s.get("Effect").and_then(Value::as_str) {
                Some("Allow") => allowed.extend(resources),
                Some("Deny") => denied.extend(resources),
                _ => return Err(AuthFailure::Failed),
            }
        }
        let mut context = Map::new();
        match answer.get("context") {
            None | Some(Value::Null) => {}
            Some(Value::Object(values)) => {
                for (k, v) in values {
                    let text = match v {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        _ => return Err(AuthFailure::Failed),
                    };
                    context.insert(k.clone(), Value::String(text));
                }
            }
            _ => return Err(AuthFailure::Failed),
        }
        let principal = answer
            .get("principalId")
            .and_then(Value::as_str)
            .ok_or(AuthFailure::Failed)?;
        context.insert("principalId".into(), Value::String(principal.to_owned()));
        Ok(Self {
            allowed,
            denied,
            context,
        })
    }

    fn allows(&self, method_arn: &str) -> bool {
        !self.denied.iter().any(|r| arn_matches(r, method_arn))
            && self.allowed.iter().any(|r| arn_matches(r, method_arn))
    }
}

/// API Gateway's authorizer cache: the policy an authorizer returned for a token, Allow or Deny,
/// is reused for the template's `ReauthorizeEvery` seconds; a refused token is asked about again.
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
    pub fn new(
        template: Template,
        backend: Backend,
        enforcer: Arc<crate::iam::Enforcer>,
    ) -> Result<Self, GatewayError> {
        let known = |group: &str| match &backend {
            Backend::InProcess { groups, .. } => groups.contains_key(group),
            Backend::Lambda { functions, .. } => functions.contains_key(group),
        };
        if let Some(r) = template.routes.iter().find(|r| !known(&r.group)) {
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
            backend,
            _enforcer: enforcer,
            validation,
            policies,
        })
    }

    /// The whole local API as one axum app, with the docs page (`/docs`, `/openapi.yaml`) beside it.
    pub fn into_router(self) -> Router {
        crate::docs::router(&self.template, crate::docs::DocsFiles::from_env())
            .fallback(handle)
            .with_state(Arc::new(self))
    }

    /// The template's gateway response of `kind`, else its `DEFAULT_4XX`/`DEFAULT_5XX`, else API
    /// Gateway's own `{"message": ...}`; `message` is `$context.error.messageString`.
    fn gateway_response(&self, kind: &str, status: StatusCode, message: &str) -> Response {
        let default = if status.is_server_error() {
            "DEFAULT_5XX"
        } else {
            "DEFAULT_4XX"
        };
        let responses = &self.template.gateway_responses;
        let quoted = Value::String(message.to_owned()).to_string();
        let fallback = GatewayResponse {
            status: status.as_u16(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: format!(r#"{{"message":{quoted}}}"#),
        };
        let r = responses
            .get(kind)
            .or_else(|| responses.get(default))
            .unwrap_or(&fallback);
        let status = StatusCode::from_u16(r.status).unwrap_or(status);
        let body = r.body.replace("$context.error.messageString", &quoted);
        let mut response = (status, body).into_response();
        for (name, value) in &r.headers {
            if let (Ok(name), Ok(value)) = (name.parse::<axum::http::HeaderName>(), HeaderValue::from_str(value)) {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }

    /// The authorizer's answer for `token`, through the backend.
    async fn authorize(&self, token: &str, method_arn: &str) -> Result<Grant, AuthFailure> {
        match &self.backend {
            Backend::InProcess { authorizer, .. } => {
                let mut event = ApiGatewayCustomAuthorizerRequest::default();
                event.type_ = Some("TOKEN".into());
                event.authorization_token = Some(token.to_owned());
                event.method_arn = Some(method_arn.to_owned());
                let answer = authorizer
                    .authorize(event)
                    .await
                    .map_err(|_| AuthFailure::Unauthorized)?;
                Grant::of(&serde_json::to_value(answer).map_err(|_| AuthFailure::Failed)?)
            }
            Backend::Lambda { authorizer, .. } => {
                let event = proxy_event::token_event(token, method_arn).to_string();
                match authorizer.invoke(Bytes::from(event)).await {
                    Ok(Answer::Response(body)) => {
                        Grant::of(&serde_json::from_slice(&body).map_err(|_| AuthFailure::Failed)?)
                    }
                    // An authorizer refuses a token by failing with exactly "Unauthorized".
                    Ok(Answer::Error(body)) => {
                        let error: Value = serde_json::from_slice(&body).unwrap_or_default();
                        if error.get("errorMessage").and_then(Value::as_str) == Some("Unauthorized") {
                            Err(AuthFailure::Unauthorized)
                        } else {
                            Err(AuthFailure::Failed)
                        }
                    }
                    Err(failure) => {
                        tracing::warn!(%failure, "local Lambda: the authorizer failed");
                        Err(AuthFailure::Failed)
                    }
                }
            }
        }
    }
}

async fn handle(State(gw): State<Arc<Gateway>>, request: Request) -> Response {
    // Served with `into_make_service_with_connect_info`, the caller's address is `sourceIp`.
    let source = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    let Some(route) = gw.template.route(request.method().as_str(), request.uri().path()) else {
        return gw.gateway_response(
            "MISSING_AUTHENTICATION_TOKEN",
            StatusCode::FORBIDDEN,
            "Missing Authentication Token",
        );
    };
    let route = route.clone();
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_REQUEST_BYTES).await else {
        return gw.gateway_response("REQUEST_TOO_LARGE", StatusCode::PAYLOAD_TOO_LARGE, "Request Too Long");
    };

    // API Gateway's TOKEN authorizer: the identity source must be present and match the
    // validation expression before the function is even called (a cached token already did).
    let unauthorized = || gw.gateway_response("UNAUTHORIZED", StatusCode::UNAUTHORIZED, "Unauthorized");
    let token = parts
        .headers
        .get(gw.template.authorizer.header.as_str())
        .and_then(|v| v.to_str().ok());
    let Some(token) = token else {
        return unauthorized();
    };
    let path = parts.uri.path();
    let method_arn = format!("{LOCAL_ARN_PREFIX}/{LOCAL_STAGE}/{}{path}", parts.method);
    let grant = match gw.policies.get(token) {
        Some(grant) => grant,
        None => {
            if gw.validation.as_ref().is_some_and(|re| !re.is_match(token)) {
                return unauthorized();
            }
            match gw.authorize(token, &method_arn).await {
                Ok(grant) => {
                    let grant = Arc::new(grant);
                    gw.policies.put(token, &grant);
                    grant
                }
                Err(AuthFailure::Unauthorized) => return unauthorized(),
                Err(AuthFailure::Failed) => {
                    return gw.gateway_response(
                        "AUTHORIZER_FAILURE",
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "Internal server error",
                    );
                }
            }
        }
    };
    if !grant.allows(&method_arn) {
        return gw.gateway_response(
            "ACCESS_DENIED",
            StatusCode::FORBIDDEN,
            "User is not authorized to access this resource",
        );
    }
    let request_id = shared::domain::ids::CustomerId::new().to_string();
    let call = Call {
        route: &route,
        parts,
        body,
        grant: &grant,
        request_id,
        source,
    };
    match &gw.backend {
        Backend::InProcess { groups, .. } => match groups.get(route.group.as_str()) {
            Some(router) => in_process(router, call).await,
            None => gw.gateway_response(
                "DEFAULT_5XX",
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal server error",
            ),
        },
        Backend::Lambda { functions, .. } => match functions.get(&route.group) {
            Some(function) => gw.through_lambda(function, call).await,
            None => gw.gateway_response(
                "DEFAULT_5XX",
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal server error",
            ),
        },
    }
}

/// An authorized request on its way to the route's function.
struct Call<'a> {
    route: &'a Route,
    parts: Parts,
    body: Bytes,
    grant: &'a Grant,
    request_id: String,
    source: Option<SocketAddr>,
}

/// The route's router in-process, with the request context a REST API proxy integration gives.
async fn in_process(router: &Router, call: Call<'_>) -> Response {
    let Call {
        route,
        mut parts,
        body,
        grant,
        request_id,
        ..
    } = call;
    let mut context = ApiGatewayProxyRequestContext::default();
    context.request_id = Some(request_id);
    context.stage = Some(LOCAL_STAGE.into());
    context.resource_path = Some(route.path.clone());
    context.http_method = parts.method.clone();
    context.path = Some(format!("/{LOCAL_STAGE}{}", parts.uri.path()));
    context.authorizer.fields = grant.context.clone().into_iter().collect();
    // The Lambda runtime (lambda_http) resolves dot segments of the event's path as URLs are
    // resolved; the routers in-process get the same path the built functions do.
    if let Some(resolved) = resolve_dot_segments(parts.uri.path()) {
        let query = parts.uri.query().map(|q| format!("?{q}")).unwrap_or_default();
        if let Ok(uri) = format!("{resolved}{query}").parse() {
            parts.uri = uri;
        }
    }
    let mut request = Request::from_parts(parts, Body::from(body));
    request.extensions_mut().insert(RequestContext::ApiGatewayV1(context));
    match router.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

impl Gateway {
    /// The route's built function, through the local Lambda service: the REST proxy event in, the
    /// proxy response out, and API Gateway's answers when that fails.
    async fn through_lambda(&self, function: &Arc<Function>, call: Call<'_>) -> Response {
        // The API's own domain: what the client reached it by, when that is a host name.
        let host = call
            .parts
            .headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .filter(|h| h.parse::<axum::http::uri::Authority>().is_ok_and(|a| a.as_str() == *h))
            .unwrap_or("localhost");
        let origin = Origin {
            stage: LOCAL_STAGE,
            request_id: &call.request_id,
            domain_name: host,
            source: call.source,
        };
        let event = proxy_event::request_event(call.route, &call.parts, &call.body, &call.grant.context, &origin);
        // The invocation runs on by itself, as on Lambda: past API Gateway's 29 s, or when the client
        // goes away, the function still finishes (or meets its own Timeout) and its process is kept.
        let invocation = {
            let function = function.clone();
            tokio::spawn(async move { function.invoke(Bytes::from(event.to_string())).await })
        };
        let answer = match tokio::time::timeout(INTEGRATION_TIMEOUT, invocation).await {
            Err(_) => {
                return self.gateway_response(
                    "INTEGRATION_TIMEOUT",
                    StatusCode::GATEWAY_TIMEOUT,
                    "Endpoint request timed out",
                );
            }
            Ok(Ok(Ok(Answer::Response(body)))) => proxy_event::read_response(&body),
            Ok(Ok(Ok(Answer::Error(_)))) => None,
            Ok(Ok(Err(failure))) => {
                tracing::warn!(function = %function.launch.function_name, %failure, "local Lambda: invocation failed");
                None
            }
            Ok(Err(_panicked)) => None,
        };
        match answer {
            Some(answer) => {
                let mut response = (answer.status, answer.body).into_response();
                *response.headers_mut() = answer.headers;
                response
            }
            None => self.gateway_response("INTEGRATION_FAILURE", StatusCode::BAD_GATEWAY, "Internal server error"),
        }
    }
}

/// `path` with its `.` and `..` segments (also percent-encoded, as WHATWG URLs count them)
/// resolved, or `None` when it has none.
fn resolve_dot_segments(path: &str) -> Option<String> {
    let kind = |segment: &str| match segment.to_ascii_lowercase().as_str() {
        "." | "%2e" => 1,
        ".." | ".%2e" | "%2e." | "%2e%2e" => 2,
        _ => 0,
    };
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    if segments.iter().all(|s| kind(s) == 0) {
        return None;
    }
    let mut out: Vec<&str> = Vec::new();
    let last = segments.len().saturating_sub(1);
    for (i, segment) in segments.into_iter().enumerate() {
        match kind(segment) {
            0 => out.push(segment),
            k => {
                if k == 2 {
                    out.pop();
                }
                // A trailing dot segment leaves the directory: `/a/b/..` is `/a/`.
                if i == last {
                    out.push("");
                }
            }
        }
    }
    Some(format!("/{}", out.join("/")))
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

#[cfg(test)]
mod tests {
    use super::arn_matches;

    #[test]
    fn dot_segments_resolve_as_in_urls() {
        use super::resolve_dot_segments as r;
        assert_eq!(r("/v1/banks/b/customers"), None);
        assert_eq!(r("/v1/banks/../customers/x").as_deref(), Some("/v1/customers/x"));
        assert_eq!(r("/v1/banks/%2E%2E/customers/x").as_deref(), Some("/v1/customers/x"));
        assert_eq!(r("/v1/banks/./customers").as_deref(), Some("/v1/banks/customers"));
        assert_eq!(r("/v1/banks/b/customers/..").as_deref(), Some("/v1/banks/b/"));
        assert_eq!(r("/..").as_deref(), Some("/"));
    }

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
