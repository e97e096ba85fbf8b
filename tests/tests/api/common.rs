//! A running local API per test: its own table in the one DynamoDB Local of the test run, its own
//! dev signing key, a real HTTP server on a free loopback port, every DynamoDB call through the
//! local IAM check. With `API_TESTS_MODE=lambda` (as `make test` runs them a second time) the API
//! runs the built bootstraps of `make build` behind the gateway instead of the routers in-process.

use aws_sdk_dynamodb::types::Select;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use local_api::keys::{self, DevKeys, TokenRequest};
use reqwest::Method;
use serde_json::{Value, json};
use shared::AppState;
use shared::store::keys::Shards;
use std::path::PathBuf;

/// Defines a test module named after `$test` (an `async fn(shards: u16)`), with one test per shard
/// count: the bank-wide lists merge a bank's shards, so their tests run with one shard, the
/// template's 16, and 64 (most of them empty), in one test process.
macro_rules! sharded {
    ($test:ident) => {
        mod $test {
            #[tokio::test]
            async fn shards_1() {
                super::$test(1).await
            }
            #[tokio::test]
            async fn shards_16() {
                super::$test(16).await
            }
            #[tokio::test]
            async fn shards_64() {
                super::$test(64).await
            }
        }
    };
}
pub(crate) use sharded;

pub const ALL_SCOPES: &str = "customer.read customer.write customer.firehose customer.approve";
/// The page token secret of every test API.
pub const PAGE_SECRET: &str = "api-tests-page-token-secret-0123456789";

/// Whether the tests run against the built functions (`API_TESTS_MODE=lambda`).
pub fn lambda_mode() -> bool {
    match std::env::var("API_TESTS_MODE").as_deref() {
        Ok("lambda") => true,
        Ok("in-process") | Err(_) => false,
        Ok(other) => panic!("API_TESTS_MODE is lambda or in-process, not {other}"),
    }
}

pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
    pub keys: DevKeys,
    pub key_dir: PathBuf,
    pub state: AppState,
    pub enforcer: std::sync::Arc<local_api::iam::Enforcer>,
    /// Whether the local IAM check may deny calls (a test's variant of the template).
    denials_expected: bool,
    /// The changes function reading this API's table stream, and where its events go.
    pub changes: local_api::changes::Pipeline,
    _events: local_api::changes::Receiver,
    /// Directories the test made for this API, removed with it.
    scratch: Vec<local_api::scratch::Scratch>,
}

/// The project's template allows every call its functions make: a denial fails the test, whatever
/// the statuses it checked.
impl Drop for Api {
    fn drop(&mut self) {
        drop_table(self.state.store.table());
        // A run leaves nothing in the temp dir (`make test` checks).
        let _ = std::fs::remove_dir_all(&self.key_dir);
        if self.denials_expected || std::thread::panicking() {
            return;
        }
        let denied: Vec<_> = self.enforcer.decisions().into_iter().filter(|d| !d.allowed).collect();
        assert!(denied.is_empty(), "the local IAM check denied: {denied:?}");
    }
}

/// Deletes a test's table once the test is done with it: the one DynamoDB Local of a run serves
/// every suite, and hundreds of tables left behind (each with its stream) slow it down for the
/// tests that come later. On a thread of its own, as the test's runtime is the one dropping.
fn drop_table(table: &str) {
    let table = table.to_owned();
    let deleted = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        runtime.block_on(async {
            let client = shared::config::dynamodb_client().ok()?;
            client.delete_table().table_name(table).send().await.ok()
        })
    });
    let _ = deleted.join();
}

pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The fields a 400 named.
    pub fn fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|e| {
                e.iter()
                    .map(|x| x["field"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.body);
        if status >= 400 {
            let ct = self
                .headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            assert_eq!(ct, "application/problem+json", "errors are problem+json");
            assert_eq!(
                self.body["status"],
                json!(status),
                "problem status matches: {}",
                self.body
            );
        }
        self
    }
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", shared::domain::ids::CustomerId::new())
}

impl Api {
    pub async fn start() -> Api {
        let template =
            local_api::template::Template::load(&local_api::template_path().expect("the checkout")).expect("template");
        let mut api = Self::start_with(template).await;
        api.denials_expected = false;
        api
    }

    /// An API from `template` (a test's variant of the project's).
    pub async fn start_with(template: local_api::template::Template) -> Api {
        Self::start_in(template, Self::mode()).await
    }

    /// The routers in-process, or the built functions (`API_TESTS_MODE=lambda`).
    fn mode() -> local_api::Mode {
        if lambda_mode() {
            local_api::Mode::Lambda(local_api::LambdaOptions {
                build_dir: local_api::build_dir().expect("the checkout"),
                log_dir: std::env::temp_dir().join("api-tests-lambda-logs"),
                page_secret: PAGE_SECRET.into(),
            })
        } else {
            local_api::Mode::InProcess
        }
    }

    /// An API from `template` running its functions as `mode` says.
    pub async fn start_in(template: local_api::template::Template, mode: local_api::Mode) -> Api {
        Self::start_sharded_in(template, mode, Shards::DEFAULT).await
    }

    /// The project's API with its customers and CRM events spread over `shards` partitions.
    pub async fn start_sharded(shards: u16) -> Api {
        let template =
            local_api::template::Template::load(&local_api::template_path().expect("the checkout")).expect("template");
        let shards = Shards::new(shards).expect("a shard count");
        let mut api = Self::start_sharded_in(template, Self::mode(), shards).await;
        api.denials_expected = false;
        api
    }

    async fn start_sharded_in(template: local_api::template::Template, mode: local_api::Mode, shards: Shards) -> Api {
        assert!(
            std::env::var_os("DYNAMODB_ENDPOINT").is_some(),
            "DYNAMODB_ENDPOINT is not set: run the tests with `make test`, which starts DynamoDB Local"
        );
        let table = unique("api");
        let client = shared::config::dynamodb_client().expect("DynamoDB client");
        let state = AppState::new(client, table.clone(), PAGE_SECRET.as_bytes())
            .expect("state")
            .with_shards(shards);
        let key_dir = std::env::temp_dir().join(unique("api-tests-keys"));
        let keys = keys::load_or_create(&key_dir).expect("dev keys");
        let endpoint = std::env::var("DYNAMODB_ENDPOINT").expect("DYNAMODB_ENDPOINT");
        let stack = local_api::build_stack(template, &keys, &state, mode, &endpoint, &key_dir)
            .await
            .expect("local api");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let app = stack
            .router
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Api {
            base,
            http: reqwest::Client::new(),
            keys,
            key_dir,
            state,
            enforcer: stack.enforcer,
            denials_expected: true,
            changes: stack.changes,
            _events: stack.events,
            scratch: Vec::new(),
        }
    }

    /// Keeps `scratch` until this API is dropped (after its functions have stopped).
    pub fn keep(&mut self, scratch: local_api::scratch::Scratch) {
        self.scratch.push(scratch);
    }

    pub fn token(&self, sub: &str, banks: &[&str], scope: &str) -> String {
        let mut request = TokenRequest::new(sub);
        request.bank_ids = banks.iter().map(|b| b.to_string()).collect();
        request.scope = scope.into();
        self.keys.mint(&request).expect("mint")
    }

    /// Staff of `bank` with every scope.
    pub fn staff(&self, bank: &str) -> String {
        self.token(&format!("staff-of-{bank}"), &[bank], ALL_SCOPES)
    }

    /// A token signed by this API's dev key with arbitrary header and claims.
    pub fn signed(&self, alg: Algorithm, kid: Option<&str>, claims: Value) -> String {
        let pem = std::fs::read(self.key_dir.join(keys::PRIVATE_KEY_FILE)).expect("key file");
        let mut header = Header::new(alg);
        header.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ec_pem(&pem).expect("pem")).expect("encode")
    }

    pub async fn send(&self, method: Method, path: &str, token: Option<&str>, body: Option<&str>) -> Reply {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        if let Some(b) = body {
            req = req.body(b.to_owned());
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("non-JSON body ({status}): {text}"))
        };
        Reply { status, headers, body }
    }

    /// A POST with an `Idempotency-Key`.
    pub async fn post_keyed(&self, path: &str, token: &str, key: &str, body: &Value) -> Reply {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {token}"))
            .header("Idempotency-Key", key)
            .body(body.to_string())
            .send()
            .await
            .expect("request");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body");
        Reply {
            status,
            headers,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.send(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.send(Method::POST, path, Some(token), Some(&body.to_string()))
            .await
    }

    pub async fn put(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.send(Method::PUT, path, Some(token), Some(&body.to_string())).await
    }

    /// Every page of a list, following `next_page_token` from `first` (a URL that has a query
    /// already); each page must answer 200.
    pub async fn pages(&self, first: &str, token: &str) -> Vec<Reply> {
        let mut pages = Vec::new();
        let mut url = first.to_owned();
        loop {
            assert!(pages.len() < 100, "more than 100 pages from {first}");
            let page = self.get(&url, token).await;
            page.expect(200);
            let next = page.body["next_page_token"]
                .as_str()
                .map(|t| format!("{first}&page_token={t}"));
            pages.push(page);
            match next {
                Some(next) => url = next,
                None => return pages,
            }
        }
    }

    /// Creates a customer at `bank` (merging `extra` into a minimal body) and returns its id.
    pub async fn create_customer(&self, bank: &str, extra: Value) -> String {
        let mut body = json!({"bank_id": bank, "legal_name": "Test Customer"});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let r = self.post("/v1/customers", &self.staff(bank), &body).await;
        r.expect(201);
        r.body["customer_id"].as_str().expect("customer_id").to_owned()
    }

    /// How many items the table holds, deletions' markers and history entries aside (tests only:
    /// the API itself never scans). A delete leaves one fewer.
    pub async fn item_count(&self) -> i32 {
        self.state
            .store
            .client()
            .scan()
            .table_name(self.state.store.table())
            .filter_expression("NOT begins_with(sk, :marker) AND NOT begins_with(sk, :history)")
            .expression_attribute_values(
                ":marker",
                aws_sdk_dynamodb::types::AttributeValue::S(shared::store::keys::DELETED_PREFIX.into()),
            )
            .expression_attribute_values(
                ":history",
                aws_sdk_dynamodb::types::AttributeValue::S(shared::store::keys::HISTORY_PREFIX.into()),
            )
            .select(Select::Count)
            .consistent_read(true)
            .send()
            .await
            .expect("scan")
            .count
    }
}
