//! `local-api`: the Customer API on one machine, without Docker or AWS. It plays API Gateway from
//! `template.yaml` (routes, TOKEN authorizer, gateway responses), creates the table from the
//! template's definition in DynamoDB Local, and runs the real authorizer and routers in-process or
//! the built functions through a local Lambda service, with each function's IAM policy enforced.

pub mod changes;
pub mod docs;
pub mod eventbridge;
pub mod gateway;
pub mod iam;
pub mod import;
pub mod invoke;
pub mod keys;
pub mod lambda;
pub mod migrate;
pub mod oauth;
pub mod proxy_event;
pub mod scratch;
pub mod secrets;
pub mod seed;
pub(crate) mod state_file;
pub mod streams;
pub mod table;
pub mod template;

use authorizer::{Authorizer, Config};
use shared::AppState;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error(transparent)]
    Template(#[from] template::TemplateError),
    #[error(transparent)]
    Table(#[from] table::TableError),
    #[error(transparent)]
    Gateway(#[from] gateway::GatewayError),
    #[error(transparent)]
    Keys(#[from] keys::DevKeysError),
    #[error("authorizer: {0}")]
    Authorizer(String),
    #[error(transparent)]
    Iam(#[from] iam::IamError),
    #[error("local Lambda: {0}")]
    Lambda(String),
    #[error("{0}")]
    Usage(String),
    #[error("DYNAMODB_ENDPOINT is not set: the local stack runs against DynamoDB Local")]
    NoEndpoint,
}

/// The file that marks a checkout's root.
const CHECKOUT_MARK: &str = "template.yaml";

/// `make build`'s output, in the checkout.
const BUILD_DIR: &str = ".aws-sam/build";

/// The checkout `dir` is in: the nearest directory at or above it holding `template.yaml`.
fn checkout_of(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| d.join(CHECKOUT_MARK).is_file())
        .map(Path::to_path_buf)
}

/// The checkout local-api runs in, found from the current directory. Not the one it was compiled
/// in: a binary built in one checkout and run in another (a copy, a shared target directory) would
/// serve the first one's template and bootstraps.
pub fn checkout() -> Result<PathBuf, LocalError> {
    checkout_at(&current_dir()?)
}

fn current_dir() -> Result<PathBuf, LocalError> {
    std::env::current_dir().map_err(|e| LocalError::Usage(format!("no current directory: {e}")))
}

fn checkout_at(dir: &Path) -> Result<PathBuf, LocalError> {
    checkout_of(dir).ok_or_else(|| {
        LocalError::Usage(format!(
            "no {CHECKOUT_MARK} in {} or above: local-api serves the checkout it runs in, so run it there \
             (as make run does), or set LOCAL_TEMPLATE and LOCAL_BUILD_DIR",
            dir.display()
        ))
    })
}

/// `overridden` if set (an environment variable's value), else `relative` in the checkout of `dir`.
fn checkout_path(overridden: Option<std::ffi::OsString>, dir: &Path, relative: &str) -> Result<PathBuf, LocalError> {
    match overridden {
        Some(path) => Ok(PathBuf::from(path)),
        None => Ok(checkout_at(dir)?.join(relative)),
    }
}

/// The checkout's `template.yaml` (`LOCAL_TEMPLATE` overrides).
pub fn template_path() -> Result<PathBuf, LocalError> {
    checkout_path(std::env::var_os("LOCAL_TEMPLATE"), &current_dir()?, CHECKOUT_MARK)
}

/// Where `make build` put the checkout's functions (`LOCAL_BUILD_DIR` overrides).
pub fn build_dir() -> Result<PathBuf, LocalError> {
    checkout_path(std::env::var_os("LOCAL_BUILD_DIR"), &current_dir()?, BUILD_DIR)
}

/// A server task of the local stack (the IAM check, a Runtime API, the JWKS), stopped when dropped.
pub struct Background(tokio::task::JoinHandle<()>);

impl Background {
    /// Serves `app` on `listener` until dropped.
    pub fn serve(listener: tokio::net::TcpListener, app: axum::Router) -> Self {
        Self(tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        }))
    }

    /// Runs `task` until dropped.
    pub fn spawn(task: impl std::future::Future<Output = ()> + Send + 'static) -> Self {
        Self(tokio::spawn(task))
    }
}

/// An AWS JSON 1.1 answer, as the local stand-ins of AWS services (Secrets Manager, EventBridge)
/// give it to the SDK's clients.
pub(crate) fn aws_json(status: axum::http::StatusCode, body: serde_json::Value) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    response
}

/// An AWS JSON 1.1 error: the SDK reads its type from `__type`.
pub(crate) fn aws_json_error(status: axum::http::StatusCode, kind: &str, message: &str) -> axum::response::Response {
    aws_json(status, serde_json::json!({ "__type": kind, "message": message }))
}

/// Serves `app` on an ephemeral loopback port (a local stand-in for an AWS endpoint): its URL, and
/// the task, stopped when dropped. `what` names it in an error.
pub async fn serve_local(what: &str, app: axum::Router) -> Result<(String, Background), LocalError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| LocalError::Lambda(format!("cannot serve {what}: {e}")))?;
    let addr = listener.local_addr().map_err(|e| LocalError::Lambda(e.to_string()))?;
    Ok((format!("http://{addr}"), Background::serve(listener, app)))
}

impl Drop for Background {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How the local API runs the functions.
pub enum Mode {
    /// The groups' routers in-process (`make run`).
    InProcess,
    /// The built bootstraps through the local Lambda service (`make run-lambda`).
    Lambda(LambdaOptions),
}

pub struct LambdaOptions {
    /// Where `make build` put the bootstraps: `<dir>/<LogicalId>/bootstrap`.
    pub build_dir: PathBuf,
    /// The functions' stdout and stderr (their CloudWatch Logs) go to `<dir>/<LogicalId>.log`.
    pub log_dir: PathBuf,
    /// The page token secret, as the functions' `PAGE_TOKEN_SECRET`.
    pub page_secret: String,
}

/// The local stack: the API's router and the IAM check in front of DynamoDB Local, and the changes
/// function reading the table's stream.
pub struct Stack {
    pub router: axum::Router,
    pub enforcer: Arc<iam::Enforcer>,
    pub changes: changes::Pipeline,
    pub events: changes::Receiver,
}

/// The region of the local stack: `AWS_REGION`, else `us-east-1`.
pub fn region() -> String {
    std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into())
}

/// The template parameters that make the authorizer trust the local identity provider (the dev
/// keys' issuer and audience, and their JWKS at `jwks_url`).
pub fn local_identity(jwks_url: &str) -> [(&'static str, &str); 3] {
    [
        ("JwtIssuer", keys::LOCAL_ISSUER),
        ("JwtAudience", keys::LOCAL_AUDIENCE),
        ("JwksUrl", jwks_url),
    ]
}

/// Builds the whole local API for `state`'s table, in-process, in front of the DynamoDB Local
/// that `DYNAMODB_ENDPOINT` names (see [`build_stack`]); change events go to `<dir>/events.jsonl`.
pub async fn build(
    template: template::Template,
    dev_keys: &keys::DevKeys,
    state: &AppState,
    dir: &Path,
) -> Result<Stack, LocalError> {
    let endpoint = std::env::var("DYNAMODB_ENDPOINT").map_err(|_| LocalError::NoEndpoint)?;
    build_stack(template, dev_keys, state, Mode::InProcess, &endpoint, dir).await
}

/// Builds the whole local API for `state`'s table, creating the table if it is absent. Tokens are
/// checked against the dev keys' JWKS, with the local issuer and audience. Every DynamoDB call of
/// a function goes through the IAM check of that function's policies, in both modes, in front of
/// `dynamodb_endpoint` (the DynamoDB Local that `state`'s client uses). The changes function reads
/// the table's stream; its events go to `<dir>/events.jsonl`.
pub async fn build_stack(
    template: template::Template,
    dev_keys: &keys::DevKeys,
    state: &AppState,
    mode: Mode,
    dynamodb_endpoint: &str,
    dir: &Path,
) -> Result<Stack, LocalError> {
    table::ensure_table(state.store.client(), state.store.table(), &template.table).await?;
    let (jwks_url, jwks_server) = match &mode {
        Mode::Lambda(_) => {
            let (url, server) = lambda::serve_jwks(dev_keys.jwks_json().to_owned()).await?;
            (url, Some(server))
        }
        Mode::InProcess => (String::new(), None),
    };
    // The built functions read the page token secret from Secrets Manager, through the SDK.
    let (secrets_url, secrets_server) = match &mode {
        Mode::Lambda(options) => {
            let secret = secrets::Secret {
                arn: secrets::page_token_secret_arn(&region()),
                current: options.page_secret.clone(),
                previous: None,
            };
            let (url, server) = secrets::serve(secret).await?;
            (url, Some(server))
        }
        Mode::InProcess => (String::new(), None),
    };
    let symbols = template::Symbols::new(&template, &local_identity(&jwks_url), &region(), state.store.table());
    let enforcer = Arc::new(iam::Enforcer::start(&template, &symbols, dynamodb_endpoint).await?);
    let events = changes::receiver(dir).await?;
    let mut changes_function = None;

    let backend = match mode {
        Mode::InProcess => {
            let config = Config::with_inline_jwks(keys::LOCAL_ISSUER, keys::LOCAL_AUDIENCE, dev_keys.jwks_json());
            let authorizer = Authorizer::from_config(config)
                .await
                .map_err(|e| LocalError::Authorizer(e.to_string()))?;
            let groups = gateway::checked_group_routers(&template, state, &enforcer);
            gateway::Backend::InProcess {
                authorizer: Box::new(authorizer),
                groups,
            }
        }
        Mode::Lambda(options) => {
            let secret_arn = secrets::page_token_secret_arn(&region());
            let shards = state.store.shards().count().to_string();
            let settings = lambda::EnvVars::default().with_settings(&[
                ("TABLE_NAME", state.store.table()),
                ("SHARDS", &shards),
                ("PAGE_TOKEN_SECRET_ARN", &secret_arn),
                ("SECRETS_MANAGER_ENDPOINT", &secrets_url),
                ("DYNAMODB_ENDPOINT", &enforcer.endpoint),
                ("EVENTBRIDGE_ENDPOINT", &events.url),
                ("EVENT_BUS_NAME", changes::BUS),
            ]);
            let mut functions = std::collections::HashMap::new();
            for f in &template.functions {
                let launch = lambda::launch(f, &symbols, &settings, &[], &options.build_dir, &options.log_dir)?;
                let function = Arc::new(lambda::Function::new(launch));
                if f.logical_id == changes::FUNCTION {
                    changes_function = Some(function.clone());
                }
                functions.insert(f.group.clone(), function);
            }
            let authorizer = functions
                .get(&template.authorizer.group)
                .cloned()
                .ok_or_else(|| LocalError::Authorizer("the template's authorizer has no function".into()))?;
            gateway::Backend::Lambda {
                authorizer,
                functions,
                _jwks: jwks_server,
                _secrets: secrets_server,
            }
        }
    };
    let target = match changes_function {
        Some(function) => changes::Target::Built(function),
        None => changes::Target::InProcess(changes::in_process(&enforcer, state, &events)?),
    };
    let pipeline = changes::start(
        &template,
        &symbols,
        state.store.client().clone(),
        dynamodb_endpoint,
        state.store.table(),
        &events,
        target,
    )?;
    Ok(Stack {
        router: gateway::Gateway::new(template, backend, enforcer.clone())?
            .into_router()
            .merge(oauth::router(dev_keys.clone())),
        enforcer,
        changes: pipeline,
        events,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory holding a checkout (its `template.yaml`) with a nested folder.
    fn checkout_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("local-checkout-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("local/src")).unwrap();
        std::fs::write(dir.join(CHECKOUT_MARK), "Resources: {}\n").unwrap();
        dir
    }

    /// Defect: the build folder was the one of the checkout local-api was compiled in, so a second
    /// checkout (or a copy) served the first one's bootstraps.
    #[test]
    fn the_build_folder_and_template_are_the_checkout_it_runs_in() {
        let (first, second) = (checkout_dir("first"), checkout_dir("second"));
        for here in [second.clone(), second.join("local"), second.join("local/src")] {
            assert_eq!(
                checkout_path(None, &here, BUILD_DIR).unwrap(),
                second.join(".aws-sam/build"),
                "from {}",
                here.display()
            );
            assert_eq!(
                checkout_path(None, &here, CHECKOUT_MARK).unwrap(),
                second.join("template.yaml")
            );
        }
        assert_eq!(checkout_of(&first.join("local")), Some(first.clone()));
        // LOCAL_BUILD_DIR and LOCAL_TEMPLATE still name a folder or file of their own.
        let elsewhere = std::ffi::OsString::from("/elsewhere/build");
        assert_eq!(
            checkout_path(Some(elsewhere), &second, BUILD_DIR).unwrap(),
            Path::new("/elsewhere/build")
        );
        for dir in [first, second] {
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    #[test]
    fn outside_a_checkout_it_refuses_and_says_what_to_do() {
        let outside = std::env::temp_dir().join(format!("local-no-checkout-{}", std::process::id()));
        std::fs::create_dir_all(&outside).unwrap();
        // A temporary directory under a checkout would be found: only judge a truly outside one.
        if checkout_of(&outside).is_none() {
            let e = checkout_path(None, &outside, BUILD_DIR).unwrap_err().to_string();
            assert!(
                e.contains("template.yaml")
                    && e.contains("LOCAL_BUILD_DIR")
                    && e.contains(&outside.display().to_string()),
                "{e}"
            );
        }
        let _ = std::fs::remove_dir_all(outside);
    }
}
