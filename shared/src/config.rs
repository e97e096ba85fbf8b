//! Configuration read once at init: a function with missing or bad configuration fails before it
//! serves, with a message naming the variable.

use crate::http::page::PageTokens;
use crate::store::Store;
use crate::store::keys::Shards;
use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Region, SharedHttpClient, StalledStreamProtectionConfig};
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use std::time::Duration;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// What every handler needs, built once per Lambda instance.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub pages: PageTokens,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {0} is invalid: {1}")]
    Invalid(&'static str, String),
    #[error("the TLS configuration is invalid: {0}")]
    Tls(String),
    #[error("the page token secret cannot be read from Secrets Manager: {0}")]
    Secret(String),
}

/// How long a request may wait on an unreachable DynamoDB before its 503 (C-ERR-7), cold start
/// included: the init's connection ([`CONNECT_AT_INIT`]) and then the request's own calls
/// ([`sdk_timeouts`]) share it.
pub const UNAVAILABLE_BOUND: Duration = Duration::from_secs(5);
/// What the init may spend opening connections: one try. A DynamoDB that does not answer then will
/// not answer the request either, so waiting longer only delays its 503.
pub const CONNECT_AT_INIT: Duration = Duration::from_secs(1);

/// Bounded time for every DynamoDB call: a dead endpoint becomes a 503 quickly, never a hang. The
/// operation's budget is what [`CONNECT_AT_INIT`] leaves of [`UNAVAILABLE_BOUND`].
pub fn sdk_timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_millis(500))
        .operation_attempt_timeout(Duration::from_secs(2))
        .operation_timeout(UNAVAILABLE_BOUND - CONNECT_AT_INIT)
        .build()
}

/// The init's connection: one attempt within [`CONNECT_AT_INIT`].
pub fn connect_at_init_timeouts() -> (TimeoutConfig, RetryConfig) {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_millis(500))
        .operation_attempt_timeout(CONNECT_AT_INIT)
        .operation_timeout(CONNECT_AT_INIT)
        .build();
    (timeouts, RetryConfig::disabled())
}

/// The standard retry mode: exponential backoff with jitter, three attempts.
pub fn sdk_retries() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(3)
}

/// A required environment variable, not empty.
pub fn var(name: &'static str) -> Result<String, ConfigError> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(ConfigError::Missing(name)),
    }
}

impl AppState {
    pub fn new(
        client: aws_sdk_dynamodb::Client,
        table: impl Into<String>,
        page_secret: &[u8],
    ) -> Result<Self, ConfigError> {
        Ok(Self {
            store: Store::new(client, table),
            pages: PageTokens::new(page_secret).map_err(|e| ConfigError::Invalid("PAGE_TOKEN_SECRET", e))?,
        })
    }

    /// The state with a bank's customers and CRM events spread over `shards` partitions.
    pub fn with_shards(mut self, shards: Shards) -> Self {
        self.store = self.store.with_shards(shards);
        self
    }

    /// From `TABLE_NAME`, `SHARDS`, `PAGE_TOKEN_SECRET_ARN` (or `PAGE_TOKEN_SECRET`, see [`page_tokens`]),
    /// `DYNAMODB_CONNECT_AT_INIT` and the SDK's variables. The secret is read while the DynamoDB
    /// connection opens.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let table = var("TABLE_NAME")?;
        let connect = connect_at_init()?;
        let store = Store::new(dynamodb_client()?, table).with_shards(shards()?);
        let opened = async {
            if connect {
                store.connect().await;
            }
        };
        let (pages, ()) = tokio::join!(page_tokens(), opened);
        Ok(Self { store, pages: pages? })
    }
}

/// `SHARDS`: how many partitions a bank's customers and CRM events are spread over (the template's
/// `Shards`); 16 when unset.
pub fn shards() -> Result<Shards, ConfigError> {
    match std::env::var("SHARDS") {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse::<u16>()
            .map_err(|e| e.to_string())
            .and_then(Shards::new)
            .map_err(|why| ConfigError::Invalid("SHARDS", why)),
        _ => Ok(Shards::DEFAULT),
    }
}

/// The page token keys. On AWS, from Secrets Manager (`PAGE_TOKEN_SECRET_ARN`): the secret's
/// `AWSCURRENT` version signs, and its `AWSPREVIOUS` one, when there is one, still verifies, so a
/// rotation (a new secret value) does not break lists being paged. Outside AWS (`sam local invoke`
/// with an env-vars file), `PAGE_TOKEN_SECRET` holds the value itself; the template never sets it.
async fn page_tokens() -> Result<PageTokens, ConfigError> {
    let Ok(arn) = var("PAGE_TOKEN_SECRET_ARN") else {
        let secret = var("PAGE_TOKEN_SECRET")?;
        return PageTokens::new(secret.as_bytes()).map_err(|e| ConfigError::Invalid("PAGE_TOKEN_SECRET", e));
    };
    let region = var("AWS_REGION")?;
    let endpoint = std::env::var("SECRETS_MANAGER_ENDPOINT").ok();
    page_tokens_from(&secrets_client(&region, endpoint.as_deref())?, &arn).await
}

/// The page token keys of the secret `arn`: its current value, and its previous one if any.
pub async fn page_tokens_from(client: &aws_sdk_secretsmanager::Client, arn: &str) -> Result<PageTokens, ConfigError> {
    let version = |stage: &'static str| client.get_secret_value().secret_id(arn).version_stage(stage).send();
    let (current, previous) = tokio::join!(version("AWSCURRENT"), version("AWSPREVIOUS"));
    let reason = |e: &dyn aws_sdk_secretsmanager::error::ProvideErrorMetadata| {
        format!("{}: {}", e.code().unwrap_or("-"), e.message().unwrap_or("-"))
    };
    let current = current
        .map_err(|e| ConfigError::Secret(reason(&e)))?
        .secret_string
        .ok_or_else(|| ConfigError::Secret("the secret has no string value".into()))?;
    // No previous version outside a rotation: that is not an error.
    let previous = match previous {
        Ok(out) => out.secret_string,
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            None
        }
        Err(e) => return Err(ConfigError::Secret(reason(&e))),
    };
    PageTokens::rotating(current.as_bytes(), previous.as_deref().map(str::as_bytes))
        .map_err(|e| ConfigError::Invalid("PAGE_TOKEN_SECRET_ARN", e))
}

/// The Secrets Manager client, built as the DynamoDB one; `endpoint` (`SECRETS_MANAGER_ENDPOINT`),
/// when set and not empty, points it at a local endpoint that speaks the service's protocol.
pub fn secrets_client(region: &str, endpoint: Option<&str>) -> Result<aws_sdk_secretsmanager::Client, ConfigError> {
    let region = region.to_owned();
    let endpoint = endpoint.map(str::trim).filter(|e| !e.is_empty());
    let mut config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(aws_sdk_secretsmanager::config::BehaviorVersion::latest())
        .region(aws_sdk_secretsmanager::config::Region::new(region.clone()))
        .credentials_provider(EnvironmentVariableCredentialsProvider::new())
        .timeout_config(sdk_timeouts())
        .retry_config(sdk_retries())
        .http_client(https_client(&region, endpoint)?);
    if let Some(endpoint) = endpoint {
        config = config.endpoint_url(endpoint);
    }
    Ok(aws_sdk_secretsmanager::Client::from_conf(config.build()))
}

/// Reports a failed init to the Lambda Runtime API (`/runtime/init/error`), as Lambda's own
/// runtimes do, so that Lambda reports `Runtime.InitError` with the reason rather than a bare exit;
/// logs it, and gives the message back for `main` to return.
pub fn init_failed(error: impl std::fmt::Display) -> String {
    use std::io::{Read as _, Write as _};
    let message = error.to_string();
    tracing::error!(error = %message, "init failed");
    let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else {
        return message;
    };
    let body = serde_json::json!({"errorType": "Runtime.InitError", "errorMessage": message}).to_string();
    // A blocking HTTP/1.1 request: the runtime client is not running yet, and this is one POST.
    if let Ok(mut stream) = std::net::TcpStream::connect(&api) {
        let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
        let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
        let request = format!(
            "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: {api}\r\n\
             Lambda-Runtime-Function-Error-Type: Runtime.InitError\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        if stream.write_all(request.as_bytes()).is_ok() {
            let mut answer = [0u8; 256];
            let _ = stream.read(&mut answer);
        }
    }
    message
}

/// The DynamoDB client from Lambda's environment (`AWS_REGION`, the `AWS_ACCESS_KEY_ID` family),
/// with bounded timeouts and standard retries. `DYNAMODB_ENDPOINT`, when set and not empty, points
/// it at DynamoDB Local; the template declares it empty so that `sam local invoke --env-vars` can
/// override it.
pub fn dynamodb_client() -> Result<aws_sdk_dynamodb::Client, ConfigError> {
    let endpoint = std::env::var("DYNAMODB_ENDPOINT").ok();
    dynamodb_client_for(endpoint.as_deref())
}

/// The same client for an explicit endpoint (`None` or empty: the real DynamoDB).
///
/// Built from the SDK's parts rather than `aws_config`'s default chains: on Lambda the region and
/// credentials are always in the environment, and the chains (profile files, SSO, STS web identity,
/// IMDS) would only add size and init time. A missing variable fails here, at init.
pub fn dynamodb_client_for(endpoint: Option<&str>) -> Result<aws_sdk_dynamodb::Client, ConfigError> {
    let region = var("AWS_REGION")?;
    var("AWS_ACCESS_KEY_ID")?;
    var("AWS_SECRET_ACCESS_KEY")?;
    let endpoint = endpoint.map(str::trim).filter(|e| !e.is_empty());
    let mut config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.clone()))
        .credentials_provider(EnvironmentVariableCredentialsProvider::new())
        .timeout_config(sdk_timeouts())
        .retry_config(sdk_retries())
        // The attempt timeout already bounds a stalled response; the SDK's own stall watch would
        // only add a timer and a body wrapper to every call: 3-5% of a GetItem's CPU under load.
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .http_client(https_client(&region, endpoint)?);
    if let Some(endpoint) = endpoint {
        config = config.endpoint_url(endpoint);
    }
    Ok(aws_sdk_dynamodb::Client::from_conf(config.build()))
}

/// Amazon Trust Services' roots, which issue the certificates of AWS endpoints.
const AMAZON_ROOTS: &str = include_str!("../certs/amazon-trust-services.pem");

/// HTTPS that trusts only Amazon's roots for the real DynamoDB: nothing else may answer for it,
/// and init does not read and parse the system's whole certificate store (measured by `make bench`).
/// China regions and custom `https` endpoints trust the system's store as well.
pub fn https_client(region: &str, endpoint: Option<&str>) -> Result<SharedHttpClient, ConfigError> {
    let system = region.starts_with("cn-") || endpoint.is_some_and(|e| e.starts_with("https:"));
    let trust = TrustStore::empty()
        .with_native_roots(system)
        .with_pem_certificate(AMAZON_ROOTS.as_bytes());
    let tls = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .map_err(|e| ConfigError::Tls(e.to_string()))?;
    Ok(aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
        .tls_context(tls)
        .build_https())
}

/// `DYNAMODB_CONNECT_AT_INIT` (`true` or `false`, default `false`): whether to open the connection
/// to DynamoDB during init, so that the first request does not pay for the TCP and TLS handshakes.
pub fn connect_at_init() -> Result<bool, ConfigError> {
    let value = std::env::var("DYNAMODB_CONNECT_AT_INIT").ok();
    flag("DYNAMODB_CONNECT_AT_INIT", value.as_deref())
}

/// A `true`/`false` variable; unset or blank is `false`.
fn flag(name: &'static str, value: Option<&str>) -> Result<bool, ConfigError> {
    match value.map(str::trim) {
        None | Some("" | "false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(ConfigError::Invalid(
            name,
            format!("{other:?} is neither true nor false"),
        )),
    }
}

/// JSON logs for CloudWatch: one object per line. `RUST_LOG` is a level (`info`, the default) or
/// `target=level` pairs; an unreadable value falls back to `info`. (`Targets` rather than
/// `EnvFilter`: the same syntax for this use, without a regex engine in every function.)
/// On Lambda a line logged during an invocation carries the runtime's span and its `requestId`
/// (Lambda's), which the API Gateway access log pairs with the API's request id.
pub fn init_tracing() {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO));
    let _ = tracing_subscriber::registry()
        .with(json_logs(std::io::stdout))
        .with(filter)
        .try_init();
}

/// The JSON lines, with the current span (the invocation's) but no timestamp: CloudWatch adds one.
fn json_logs<S, W>(writer: W) -> impl tracing_subscriber::Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + 'static,
{
    tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .without_time()
        .with_writer(writer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Collects what the logs layer writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::ErrorKind::Other)?
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_line_logged_during_an_invocation_carries_its_request_id() {
        let captured = Captured::default();
        let sink = captured.clone();
        let subscriber = tracing_subscriber::registry().with(json_logs(move || sink.clone()));
        tracing::subscriber::with_default(subscriber, || {
            // The span lambda_runtime opens around every invocation.
            let span = tracing::info_span!("Lambda runtime invoke", requestId = "req-42");
            span.in_scope(|| tracing::error!(error = "boom", "internal error"));
        });
        let text = String::from_utf8(captured.0.lock().expect("not poisoned").clone()).expect("UTF-8");
        let line: serde_json::Value = serde_json::from_str(text.trim()).expect("one JSON line");
        assert_eq!(line["span"]["requestId"], "req-42", "{line}");
        assert_eq!(line["fields"]["message"], "internal error");
        assert_eq!(line["level"], "ERROR");
    }

    fn offline_client() -> aws_sdk_dynamodb::Client {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }

    #[test]
    fn a_short_page_token_secret_fails_at_init_naming_the_variable() {
        let err = AppState::new(offline_client(), "table", b"too short")
            .err()
            .expect("refused");
        assert!(err.to_string().contains("PAGE_TOKEN_SECRET"), "{err}");
        assert!(AppState::new(offline_client(), "table", &[7; 32]).is_ok());
    }

    #[test]
    fn the_amazon_roots_parse_as_the_sdk_parses_them() {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject;
        let roots = CertificateDer::pem_slice_iter(AMAZON_ROOTS.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .expect("valid PEM");
        assert_eq!(roots.len(), 5, "Amazon Root CA 1-4 and Starfield Services G2");
    }

    #[test]
    fn flags_are_true_false_or_unset() {
        assert!(!flag("X", None).unwrap());
        assert!(!flag("X", Some(" ")).unwrap());
        assert!(!flag("X", Some("false")).unwrap());
        assert!(flag("X", Some("true")).unwrap());
        let err = flag("DYNAMODB_CONNECT_AT_INIT", Some("yes")).unwrap_err();
        assert!(err.to_string().contains("DYNAMODB_CONNECT_AT_INIT"), "{err}");
    }

    #[test]
    fn missing_variables_are_named() {
        assert_eq!(
            ConfigError::Missing("TABLE_NAME").to_string(),
            "environment variable TABLE_NAME is required"
        );
        // A name no environment sets.
        assert!(matches!(
            var("CUSTOMER_API_TEST_UNSET_VARIABLE"),
            Err(ConfigError::Missing(_))
        ));
    }
}
