//! The local Lambda service: runs a function's built `bootstrap` as Lambda does, through the one
//! Runtime API implementation of the project ([`runtime`]). One process serves one invocation at a
//! time; a request that finds no idle process starts another (a cold start); a process that
//! crashed, timed out or answered too much is dropped (killed), and the next request gets a fresh one.

pub mod runtime;

use bytes::Bytes;
use runtime::{Failure, Launch, PendingPoll, Process, RuntimeApi};
use std::sync::Mutex;

/// One function of the template and its warm processes.
pub struct Function {
    pub launch: Launch,
    idle: Mutex<Vec<Sandbox>>,
}

/// A process with its own Runtime API endpoint.
struct Sandbox {
    api: RuntimeApi,
    process: Process,
    first_poll: Option<PendingPoll>,
}

/// What an invocation gave back: the answer, or the error the function posted (a handled error
/// keeps the process, as on Lambda).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Response(Bytes),
    Error(Bytes),
}

impl Function {
    pub fn new(launch: Launch) -> Self {
        Self {
            launch,
            idle: Mutex::default(),
        }
    }

    /// Hands `event` to an idle process, or to a new one (cold start).
    pub async fn invoke(&self, event: Bytes) -> Result<Answer, Failure> {
        let mut sandbox = match self.warm() {
            Some(sandbox) => sandbox,
            None => self.cold_start().await?,
        };
        let poll = sandbox.first_poll.take();
        // On a failure the sandbox is dropped here: its process is killed, its endpoint closed.
        let invoked = sandbox.api.invoke(&mut sandbox.process, poll, event).await?;
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).push(sandbox);
        Ok(if invoked.error {
            Answer::Error(invoked.body)
        } else {
            Answer::Response(invoked.body)
        })
    }

    /// An idle process that is still alive; the ones that died while idle are dropped.
    fn warm(&self) -> Option<Sandbox> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(mut sandbox) = idle.pop() {
            if sandbox.process.exited().is_none() {
                return Some(sandbox);
            }
        }
        None
    }

    async fn cold_start(&self) -> Result<Sandbox, Failure> {
        let mut api = RuntimeApi::start(0).await.map_err(Failure::Service)?;
        let mut process = api.spawn(&self.launch).map_err(Failure::Service)?;
        let (_, poll) = api.init(&mut process).await?;
        Ok(Sandbox {
            api,
            process,
            first_poll: Some(poll),
        })
    }
}

/// An `--env-vars` file in `sam local`'s format: `{"<LogicalId>": {"VAR": "value"}, "Parameters":
/// {"VAR": "value"}}`; `Parameters` applies to every function, a function's own entry wins. As with
/// `sam local`, only variables the template declares for the function are overridden.
#[derive(Debug, Clone, Default)]
pub struct EnvVars {
    all: Vec<(String, String)>,
    by_function: std::collections::HashMap<String, Vec<(String, String)>>,
    /// The local stack's own settings, applied last.
    settings: Vec<(String, String)>,
}

impl EnvVars {
    pub fn parse(text: &str) -> Result<Self, String> {
        let doc: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(text).map_err(|e| format!("the env-vars file is not a JSON object: {e}"))?;
        let vars = |v: &serde_json::Value| -> Result<Vec<(String, String)>, String> {
            let map = v
                .as_object()
                .ok_or("each entry of the env-vars file is an object of variables")?;
            Ok(map
                .iter()
                .map(|(k, v)| {
                    let value = match v {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    (k.clone(), value)
                })
                .collect())
        };
        let mut env = Self::default();
        for (key, value) in &doc {
            if key == "Parameters" {
                env.all = vars(value)?;
            } else {
                env.by_function.insert(key.clone(), vars(value)?);
            }
        }
        Ok(env)
    }

    pub fn load(path: &std::path::Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Adds the local stack's settings for every function (its table, its DynamoDB endpoint),
    /// which win over the file's.
    pub fn with_settings(mut self, vars: &[(&str, &str)]) -> Self {
        self.settings
            .extend(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        self
    }

    fn overrides<'a>(&'a self, function: &str) -> impl Iterator<Item = &'a (String, String)> {
        self.all
            .iter()
            .chain(self.by_function.get(function).into_iter().flatten())
            .chain(&self.settings)
    }
}

/// A function's environment as `sam local` gives it: `Globals`' and its own variables with
/// intrinsics resolved (unresolvable ones empty), then the env-vars overrides of declared variables.
/// `hosts` maps host names to addresses in URLs (`--add-host host.docker.internal:127.0.0.1`).
pub fn environment(
    function: &crate::template::FunctionDef,
    symbols: &crate::template::Symbols,
    env_vars: &EnvVars,
    hosts: &[(String, String)],
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = function
        .environment
        .iter()
        .map(|(k, v)| (k.clone(), crate::template::resolve(v, symbols).unwrap_or_default()))
        .collect();
    for (k, v) in env_vars.overrides(&function.logical_id) {
        if let Some(slot) = env.iter_mut().find(|(name, _)| name == k) {
            slot.1 = v.clone();
        }
    }
    for (_, value) in &mut env {
        for (host, address) in hosts {
            *value = value.replace(&format!("//{host}:"), &format!("//{address}:"));
            *value = value.replace(&format!("//{host}/"), &format!("//{address}/"));
        }
    }
    env
}

/// Serves `jwks` at `http://127.0.0.1:<port>/jwks.json`: the identity provider's JWKS URL the
/// authorizer fetches at init, as on AWS (the template requires one).
pub async fn serve_jwks(jwks: String) -> Result<(String, crate::Background), crate::LocalError> {
    let app = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            let jwks = jwks.clone();
            async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], jwks) }
        }),
    );
    let (url, server) = crate::serve_local("the JWKS", app).await?;
    Ok((format!("{url}/jwks.json"), server))
}

/// How to start `function` as Lambda would: its bootstrap from `build_dir`, its environment
/// ([`environment`]), its timeout and memory, and credentials that name it to the IAM check.
pub fn launch(
    function: &crate::template::FunctionDef,
    symbols: &crate::template::Symbols,
    env_vars: &EnvVars,
    hosts: &[(String, String)],
    build_dir: &std::path::Path,
    log_dir: &std::path::Path,
) -> Result<Launch, crate::LocalError> {
    let bootstrap = build_dir.join(&function.logical_id).join("bootstrap");
    // Absolute: the process starts in its task root, where a relative path would not resolve.
    let bootstrap = std::fs::canonicalize(&bootstrap)
        .ok()
        .filter(|b| b.is_file())
        .ok_or_else(|| {
            crate::LocalError::Lambda(format!("{} is missing: run `make build` first", bootstrap.display()))
        })?;
    std::fs::create_dir_all(log_dir).map_err(|e| crate::LocalError::Lambda(format!("{}: {e}", log_dir.display())))?;
    Ok(Launch {
        label: function.group.clone(),
        function_name: function.logical_id.clone(),
        bootstrap,
        env: environment(function, symbols, env_vars, hosts),
        timeout: std::time::Duration::from_secs(function.timeout_seconds),
        memory_mb: function.memory_mb,
        access_key_id: crate::iam::Enforcer::access_key(&function.logical_id),
        log: Some(log_dir.join(format!("{}.log", function.logical_id))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::{Symbols, Template};

    fn template() -> Template {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
        Template::load(&path).expect("the project's template")
    }

    fn var<'a>(env: &'a [(String, String)], name: &str) -> Option<&'a str> {
        env.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn the_environment_is_built_as_sam_local_builds_it() {
        let template = template();
        let customers = template.function("CustomersFunction").expect("CustomersFunction");
        let symbols = Symbols::new(&template, &[("LogLevel", "warn")], "eu-west-1", "local-table");
        let file = EnvVars::parse(
            r#"{"Parameters": {"RUST_LOG": "debug"},
                "CustomersFunction": {"DYNAMODB_ENDPOINT": "http://host.docker.internal:8000", "NOT_DECLARED": "x"},
                "FirehoseFunction": {"TABLE_NAME": "not-this-function"}}"#,
        )
        .expect("env-vars file");
        let hosts = [("host.docker.internal".to_owned(), "127.0.0.1".to_owned())];
        let env = environment(customers, &symbols, &file, &hosts);
        // Globals, resolved.
        assert_eq!(var(&env, "METRICS_NAMESPACE"), Some("CustomerApi"));
        assert_eq!(var(&env, "CORS_ALLOWED_ORIGINS"), Some(""), "the parameter's default");
        // The function's own: a resource's Ref, a parameter's default, one without a value.
        assert_eq!(var(&env, "TABLE_NAME"), Some("local-table"));
        assert_eq!(var(&env, "DYNAMODB_CONNECT_AT_INIT"), Some("true"));
        assert_eq!(
            var(&env, "PAGE_TOKEN_SECRET_ARN"),
            Some(""),
            "a resource's Ref that cannot be resolved: empty, as sam local"
        );
        // The file: Parameters for all, the function's own entry, declared variables only.
        assert_eq!(var(&env, "RUST_LOG"), Some("debug"));
        assert_eq!(
            var(&env, "DYNAMODB_ENDPOINT"),
            Some("http://127.0.0.1:8000"),
            "host mapped"
        );
        assert_eq!(var(&env, "NOT_DECLARED"), None);
        // Settings of the local stack win over the file.
        let settings = file.clone().with_settings(&[("RUST_LOG", "info")]);
        assert_eq!(
            var(&environment(customers, &symbols, &settings, &hosts), "RUST_LOG"),
            Some("info")
        );
    }

    #[test]
    fn a_launch_carries_the_template_s_timeout_memory_and_credentials() {
        let template = template();
        let links = template.function("UserCustomerLinksFunction").expect("links");
        let symbols = Symbols::new(&template, &[], "us-east-1", "t");
        let scratch = crate::scratch::Scratch::new("launch").expect("scratch");
        let dir = scratch.path();
        std::fs::create_dir_all(dir.join("UserCustomerLinksFunction")).expect("dir");
        std::fs::write(dir.join("UserCustomerLinksFunction/bootstrap"), b"").expect("bootstrap");
        let launch = launch(links, &symbols, &EnvVars::default(), &[], dir, dir).expect("launch");
        assert_eq!(launch.timeout, std::time::Duration::from_secs(10));
        assert_eq!(launch.memory_mb, 128);
        assert_eq!(launch.access_key_id, "UserCustomerLinksFunction");
        let missing = launch_of_missing(&template, &symbols, dir);
        assert!(missing.contains("make build"), "{missing}");
    }

    fn launch_of_missing(template: &Template, symbols: &Symbols, dir: &std::path::Path) -> String {
        let customers = template.function("CustomersFunction").expect("customers");
        match launch(customers, symbols, &EnvVars::default(), &[], dir, dir) {
            Err(e) => e.to_string(),
            Ok(_) => "a launch without a bootstrap".into(),
        }
    }
}
