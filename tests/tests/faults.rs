//! DynamoDB faults, end to end: the whole API in-process (`local_api::build` behind a real HTTP
//! server) against its own DynamoDB Local on port 8791, which these tests stop, kill and freeze
//! under it.
//!
//! - **stopped** (`scripts/dynamodb-local.sh stop`): every route answers 503 problem+json with
//!   `Retry-After` within the SDK's operation timeout plus a margin, and nothing is written; once
//!   DynamoDB Local is started again on the same data directory the API serves again without a
//!   restart, and every customer item has its customer-number item and vice versa;
//! - **dying during a burst of concurrent creates** (stopped, then SIGKILLed): every create
//!   answered 201 or 503, never anything else, and no customer is half-written;
//! - **frozen** (SIGSTOP: a DynamoDB that accepts connections but never answers): 503 within the
//!   timeout rather than a hang, and recovery after SIGCONT.
//!
//! Needs Java >= 17 and `scripts/dynamodb-local.sh` (the tests fail, never skip, without them), and
//! `AWS_REGION` plus credentials (any values) as `make test` sets them. The tests share the port, so
//! they run one at a time, across processes too. They print what they measure:
//! `cargo test -p api-tests --test faults -- --nocapture`.

use aws_sdk_dynamodb::types::AttributeValue;
use futures::future::join_all;
use local_api::keys::{self, TokenRequest};
use reqwest::Method;
use serde_json::{Value, json};
use shared::AppState;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const PORT: &str = "8791";
const ENDPOINT: &str = "http://127.0.0.1:8791";
const BANK: &str = "fault-bank";
const SCOPES: &str = "customer.read customer.write customer.firehose";
/// Latency allowed beyond the SDK's operation timeout: scheduling on a loaded machine.
const MARGIN: Duration = Duration::from_secs(3);
/// How long the API may take to serve again once DynamoDB Local answers.
const RECOVERY_LIMIT: Duration = Duration::from_secs(15);

/// The tests share port 8791 and the script's pid file for it: one at a time, across processes
/// too (a `make test` in another shell runs this binary as well). The lock is released when the
/// file is closed, also when a test panics.
fn lock_port() -> std::fs::File {
    // Under the target dir, which every `make test` of this checkout shares; not in the temp dir.
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("customer-api-faults-{PORT}.lock"));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(false)
        .open(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if file.try_lock().is_err() {
        println!(
            "faults: waiting for another test that uses port {PORT} ({})",
            path.display()
        );
        file.lock().unwrap_or_else(|e| panic!("lock {}: {e}", path.display()));
    }
    file
}

type Item = HashMap<String, AttributeValue>;
type Table = BTreeMap<(String, String), Item>;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", shared::domain::ids::CustomerId::new())
}

/// The 503 bound every request must meet: the contract's plus `MARGIN`.
fn bound() -> Duration {
    shared::config::UNAVAILABLE_BOUND + MARGIN
}

/// Whether the functions are the built bootstraps behind the local Lambda service
/// (`API_TESTS_MODE=lambda`, as `make test` runs the burst test again after `make build`).
fn lambda_mode() -> bool {
    std::env::var("API_TESTS_MODE").is_ok_and(|m| m == "lambda")
}

// ----- DynamoDB Local on PORT, through scripts/dynamodb-local.sh -----

fn script(args: &[&str]) -> Output {
    let script = root().join("scripts/dynamodb-local.sh");
    assert!(
        script.is_file(),
        "{} is missing: the fault tests need it to run DynamoDB Local (they never skip)",
        script.display()
    );
    Command::new("bash")
        .arg(&script)
        .args(args)
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} {args:?}: {e}", script.display()))
}

fn require_java() {
    match Command::new("java").arg("-version").output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "`java -version` failed ({}): DynamoDB Local needs Java >= 17 (the fault tests never skip)\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => panic!("java not found ({e}): DynamoDB Local needs Java >= 17 on PATH (the fault tests never skip)"),
    }
}

/// The SDK's region and credentials, which `dynamodb_client_for` reads from the environment.
fn require_sdk_env() {
    for var in ["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
        assert!(
            std::env::var_os(var).is_some_and(|v| !v.is_empty()),
            "{var} is not set: run with `make test`, or set AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local \
             AWS_SECRET_ACCESS_KEY=local (DynamoDB Local accepts any credentials)"
        );
    }
}

fn answers() -> bool {
    script(&["status", PORT]).status.success()
}

fn show(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Our DynamoDB Local; dropping it stops it (thawing it first) and deletes its data directory.
struct DynamoDbLocal {
    /// `-dbPath` directory, or `None` for an in-memory instance.
    data: Option<PathBuf>,
    frozen: bool,
}

impl DynamoDbLocal {
    fn start(data: Option<PathBuf>) -> Self {
        require_sdk_env();
        require_java();
        // A leftover of an aborted run (its pid file names it) is stopped; anything else on the
        // port is not ours to stop.
        script(&["stop", PORT]);
        assert!(
            !answers(),
            "a DynamoDB that scripts/dynamodb-local.sh did not start answers on port {PORT}: free the port"
        );
        let ddb = DynamoDbLocal { data, frozen: false };
        ddb.launch();
        ddb
    }

    /// Starts it (again) on the same port and storage; returns once it answers.
    fn launch(&self) {
        let storage = match &self.data {
            Some(dir) => dir.display().to_string(),
            None => "memory".into(),
        };
        let out = script(&["start", PORT, &storage]);
        assert!(
            out.status.success(),
            "scripts/dynamodb-local.sh start {PORT} {storage} failed ({}):\n{}",
            out.status,
            show(&out)
        );
    }

    fn stop(&self) {
        let out = script(&["stop", PORT]);
        assert!(out.status.success(), "stop failed: {}", show(&out));
        assert!(!answers(), "DynamoDB Local still answers on port {PORT} after stop");
    }

    fn pid(&self) -> String {
        let file = root().join(format!(".local/dynamodb-{PORT}.pid"));
        let pid = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let pid = pid.trim().to_owned();
        assert!(pid.parse::<u32>().is_ok(), "{} holds {pid:?}", file.display());
        pid
    }

    fn signal(&self, signal: &str) -> bool {
        Command::new("kill")
            .args([format!("-{signal}"), self.pid()])
            .status()
            .is_ok_and(|s| s.success())
    }

    /// SIGKILL: no shutdown at all. Returns once the port refuses connections.
    fn kill(&self) {
        assert!(self.signal("KILL"), "kill -KILL {} failed", self.pid());
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect_timeout(&"127.0.0.1:8791".parse().unwrap(), Duration::from_millis(200))
            .is_ok()
        {
            assert!(
                Instant::now() < deadline,
                "port {PORT} still accepts connections after SIGKILL"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // The pid file is stale now: the script removes it.
        script(&["stop", PORT]);
    }

    fn freeze(&mut self) {
        assert!(self.signal("STOP"), "kill -STOP failed");
        self.frozen = true;
    }

    fn thaw(&mut self) {
        assert!(self.signal("CONT"), "kill -CONT failed");
        self.frozen = false;
    }
}

impl Drop for DynamoDbLocal {
    fn drop(&mut self) {
        if self.frozen {
            // A stopped JVM would sit out SIGTERM until the script's SIGKILL.
            let _ = self.signal("CONT");
        }
        let out = script(&["stop", PORT]);
        if !out.status.success() {
            eprintln!("faults: stopping DynamoDB Local on {PORT} failed: {}", show(&out));
        }
        if let Some(dir) = &self.data {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

// ----- the API -----

struct Api {
    base: String,
    http: reqwest::Client,
    /// Staff of BANK with every scope.
    staff: String,
    /// Not staff: `LINKED_USER`, linked to the fixture's customer.
    linked: String,
    state: AppState,
    /// The changes function reading the table's stream, where a test keeps it running.
    changes: Option<(local_api::changes::Pipeline, local_api::changes::Receiver)>,
    /// The dev keys (and the functions' logs), removed with the API.
    _scratch: local_api::scratch::Scratch,
}

const LINKED_USER: &str = "linked-user";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Who {
    Staff,
    Linked,
}

struct Call {
    name: &'static str,
    method: Method,
    path: String,
    body: Option<Value>,
    who: Who,
    /// The status once DynamoDB answers.
    ok: u16,
}

struct Reply {
    status: u16,
    problem: bool,
    retry_after: Option<String>,
    etag: Option<String>,
    body: Value,
    started: Instant,
    latency: Duration,
}

/// Ids made while DynamoDB Local is up.
struct Fixture {
    customer: String,
    number: String,
    address: String,
    tax_residence: String,
    order: String,
}

impl Api {
    /// The API alone: these tests are about the requests, and the changes function's writes would
    /// only blur what the table holds.
    async fn start() -> Api {
        Self::start_with(false).await
    }

    async fn start_with(changes: bool) -> Api {
        require_sdk_env();
        let client = shared::config::dynamodb_client_for(Some(ENDPOINT)).expect("DynamoDB client");
        let table = unique("faults");
        let template =
            local_api::template::Template::load(&local_api::template_path().expect("the checkout")).expect("template");
        local_api::table::ensure_table(&client, &table, &template.table)
            .await
            .expect("table");
        // The secret the built functions get too (`LambdaOptions::page_secret`).
        let state = AppState::new(client, table, "9".repeat(32).as_bytes()).expect("state");
        let scratch = local_api::scratch::Scratch::new("faults").expect("scratch");
        let key_dir = scratch.path().join("keys");
        let keys = keys::load_or_create(&key_dir).expect("dev keys");
        // The IAM check in front of this test's own DynamoDB Local.
        let mode = if lambda_mode() {
            local_api::Mode::Lambda(local_api::LambdaOptions {
                build_dir: local_api::build_dir().expect("the checkout"),
                log_dir: std::env::temp_dir().join("faults-lambda-logs"),
                page_secret: "9".repeat(32),
            })
        } else {
            local_api::Mode::InProcess
        };
        let stack = local_api::build_stack(template, &keys, &state, mode, ENDPOINT, &key_dir)
            .await
            .expect("local api");
        let app = stack.router;
        let changes = changes.then_some((stack.changes, stack.events));
        let mint = |sub: &str, banks: &[&str]| {
            let mut request = TokenRequest::new(sub);
            request.bank_ids = banks.iter().map(|b| b.to_string()).collect();
            request.scope = SCOPES.into();
            keys.mint(&request).expect("mint")
        };
        let staff = mint("fault-staff", &[BANK]);
        let linked = mint(LINKED_USER, &[]);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        let http = reqwest::Client::builder()
            // Far beyond any bound: a hung request fails the test instead of hanging it.
            .timeout(Duration::from_secs(60))
            .build()
            .expect("http client");
        Api {
            base,
            http,
            staff,
            linked,
            state,
            changes,
            _scratch: scratch,
        }
    }

    /// The change ids of the customer's history once it has at least `count` entries.
    async fn history(&self, customer: &str, count: usize) -> Vec<String> {
        let path = format!("/v1/banks/{BANK}/customers/{customer}/history?limit=100");
        let started = Instant::now();
        loop {
            let r = self.send(Method::GET, &path, Who::Staff, None).await;
            let ids: Vec<String> = r.body["history"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e["change_id"].as_str().map(str::to_owned))
                .collect();
            if ids.len() >= count {
                return ids;
            }
            assert!(
                started.elapsed() < RECOVERY_LIMIT,
                "the history of {customer} has {} of {count} entries ({}: {})",
                ids.len(),
                r.status,
                r.body
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn send(&self, method: Method, path: &str, who: Who, body: Option<&Value>) -> Reply {
        let token = match who {
            Who::Staff => &self.staff,
            Who::Linked => &self.linked,
        };
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {token}"));
        if let Some(b) = body {
            request = request.body(b.to_string());
        }
        let started = Instant::now();
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: no answer: {e}"));
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let problem = header("content-type").as_deref() == Some("application/problem+json");
        let retry_after = header("retry-after");
        let etag = header("etag");
        let text = response.text().await.unwrap_or_default();
        let latency = started.elapsed();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply {
            status,
            problem,
            retry_after,
            etag,
            body,
            started,
            latency,
        }
    }

    async fn call(&self, call: &Call) -> Reply {
        self.send(call.method.clone(), &call.path, call.who, call.body.as_ref())
            .await
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Who::Staff, Some(&body)).await
    }

    #[track_caller]
    fn created(reply: &Reply, what: &str, id_field: &str) -> String {
        assert_eq!(reply.status, 201, "creating {what}: {}", reply.body);
        reply.body[id_field]
            .as_str()
            .unwrap_or_else(|| panic!("{what}: no {id_field} in {}", reply.body))
            .to_owned()
    }

    async fn create_customer(&self, legal_name: &str, number: Option<&str>) -> Reply {
        let mut body = json!({"bank_id": BANK, "legal_name": legal_name, "email": "someone@example.com"});
        if let Some(n) = number {
            body["customer_number"] = json!(n);
        }
        self.post("/v1/customers", body).await
    }

    /// A customer with one child of every kind, a link and a CRM event, plus a few more customers
    /// with addresses, so the table has something to lose.
    async fn fixture(&self) -> Fixture {
        for i in 0..4 {
            let r = self.create_customer(&format!("Bystander {i}"), None).await;
            let id = Self::created(&r, "a bystander", "customer_id");
            let r = self.post(&format!("/v1/customers/{id}/address"), address()).await;
            Self::created(&r, "an address", "customer_address_id");
        }
        let number = "FIXTURE-1".to_owned();
        let r = self.create_customer("Fixture Customer", Some(&number)).await;
        let customer = Self::created(&r, "the fixture customer", "customer_id");
        let at = format!("/v1/banks/{BANK}/customers/{customer}");
        let r = self
            .post(
                &format!("/v1/banks/{BANK}/user_customer_links"),
                json!({"user_id": LINKED_USER, "customer_id": customer}),
            )
            .await;
        Self::created(&r, "a link", "user_customer_link_id");
        let r = self.post(&format!("/v1/customers/{customer}/address"), address()).await;
        let address = Self::created(&r, "an address", "customer_address_id");
        let r = self
            .post(
                &format!("/v1/customers/{customer}/social_media_handles"),
                json!({"type": "twitter", "handle": "@fixture"}),
            )
            .await;
        assert_eq!(r.status, 201, "social media handle: {}", r.body);
        let r = self
            .post(
                &format!("{at}/tax-residences"),
                json!({"domain": "DE", "tax_number": "12345"}),
            )
            .await;
        let tax_residence = Self::created(&r, "a tax residence", "tax_residence_id");
        let r = self
            .post(
                &format!("{at}/credit_limit/requests"),
                json!({"requested_current_rate_amount1": "1000"}),
            )
            .await;
        let order = Self::created(&r, "a credit limit order", "credit_limit_order_id");
        let r = self
            .post(
                &format!("/v1/banks/{BANK}/crm-events"),
                json!({"customer_id": customer, "category": "call"}),
            )
            .await;
        assert_eq!(r.status, 201, "CRM event: {}", r.body);
        Fixture {
            customer,
            number,
            address,
            tax_residence,
            order,
        }
    }

    /// Polls a read until it answers 200; returns how long that took.
    async fn wait_until_serving(&self, customer: &str) -> Duration {
        let started = Instant::now();
        let path = format!("/v1/banks/{BANK}/customers/{customer}");
        let mut statuses = BTreeSet::new();
        loop {
            let r = self.send(Method::GET, &path, Who::Staff, None).await;
            if r.status == 200 {
                return started.elapsed();
            }
            statuses.insert(r.status);
            assert!(
                started.elapsed() < RECOVERY_LIMIT,
                "the API did not recover within {RECOVERY_LIMIT:?} of DynamoDB Local answering again \
                 (statuses seen: {statuses:?}; last: {})",
                r.body
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn address() -> Value {
    json!({"line_1": "1 Main St", "city": "Berlin", "country_code": "DE"})
}

/// One request per route of the API (and a non-staff read), reads first, then updates, creates and
/// deletes, so that run one after another they all succeed. `tag` makes new values distinct.
fn every_route(f: &Fixture, tag: &str) -> Vec<Call> {
    let c = &f.customer;
    let at = format!("/v1/banks/{BANK}/customers/{c}");
    let call = |name, method, path: String, body: Option<Value>, ok| Call {
        name,
        method,
        path,
        body,
        who: Who::Staff,
        ok,
    };
    let get = |name, path: String| call(name, Method::GET, path, None, 200);
    let put = |name, path: String, body: Value| call(name, Method::PUT, path, Some(body), 200);
    let post = |name, path: String, body: Value| call(name, Method::POST, path, Some(body), 201);
    let mut calls = vec![
        get("GET customer", at.clone()),
        Call {
            who: Who::Linked,
            ..get("GET customer (linked user)", at.clone())
        },
        get("GET customer by number", format!("{at}/customer-number/{}", f.number)),
        get("GET current user's customers", "/v1/users/current/customers".into()),
        get("GET bank's linked customers", format!("/v1/banks/{BANK}/customers")),
        get("GET firehose", format!("/v1/banks/{BANK}/firehose/customers?limit=5")),
        get("GET addresses", format!("{at}/addresses")),
        get("GET social media handles", format!("{at}/social_media_handles")),
        get("GET tax residences", format!("{at}/tax-residences")),
        get("GET credit limit orders", format!("{at}/credit_limit/requests")),
        get(
            "GET credit limit order",
            format!("{at}/credit_limit/request/{}", f.order),
        ),
        get("GET CRM events", format!("/v1/banks/{BANK}/crm-events")),
        put(
            "PUT branch",
            format!("{at}/branch"),
            json!({"branch_id": format!("{tag}-branch")}),
        ),
        put(
            "PUT credit-limit",
            format!("{at}/credit-limit"),
            json!({"credit_limit": {"cur": "EUR", "num": "0"}}),
        ),
        put(
            "PUT credit-rating-and-source",
            format!("{at}/credit-rating-and-source"),
            json!({"credit_rating": {"rating": "B", "source": tag}}),
        ),
        put(
            "PUT email",
            format!("{at}/email"),
            json!({"email": format!("{tag}@example.com")}),
        ),
        put(
            "PUT identity",
            format!("{at}/identity"),
            json!({"legal_name": format!("Renamed {tag}")}),
        ),
        put(
            "PUT mobile-number",
            format!("{at}/mobile-number"),
            json!({"mobile_phone_number": "+14155550100"}),
        ),
        put(
            "PUT number",
            format!("{at}/number"),
            json!({"customer_number": format!("{tag}-renumbered")}),
        ),
        put("PUT data", format!("{at}/data"), json!({"dependants": 2})),
        put(
            "PUT address",
            format!("{at}/addresses/{}", f.address),
            json!({"city": format!("{tag} city")}),
        ),
        post(
            "POST customer",
            "/v1/customers".into(),
            json!({"bank_id": BANK, "legal_name": format!("Created during {tag}"), "customer_number": format!("{tag}-new")}),
        ),
        post(
            "POST user customer link",
            format!("/v1/banks/{BANK}/user_customer_links"),
            json!({"user_id": format!("{tag}-user"), "customer_id": c}),
        ),
        post("POST address", format!("/v1/customers/{c}/address"), address()),
        post(
            "POST social media handle",
            format!("/v1/customers/{c}/social_media_handles"),
            json!({"type": "mastodon", "handle": format!("@{tag}")}),
        ),
        post(
            "POST tax residence",
            format!("{at}/tax-residences"),
            json!({"domain": "FR", "tax_number": "999"}),
        ),
        post(
            "POST credit limit order",
            format!("{at}/credit_limit/requests"),
            json!({"requested_current_rate_amount1": "5"}),
        ),
        post(
            "POST CRM event",
            format!("/v1/banks/{BANK}/crm-events"),
            json!({"customer_id": c, "category": tag}),
        ),
    ];
    calls.push(call(
        "DELETE address",
        Method::DELETE,
        format!("{at}/addresses/{}", f.address),
        None,
        204,
    ));
    calls.push(call(
        "DELETE tax residence",
        Method::DELETE,
        format!("{at}/tax_residencies/{}", f.tax_residence),
        None,
        204,
    ));
    calls
}

/// Sends every call at once; asserts each answered 503 problem+json with `Retry-After` within
/// `bound()`; prints and returns the latencies.
async fn all_unavailable(api: &Api, calls: &[Call], phase: &str) -> Vec<Duration> {
    let replies = join_all(calls.iter().map(|c| api.call(c))).await;
    let bound = bound();
    let mut failures = Vec::new();
    for (call, r) in calls.iter().zip(&replies) {
        let retry_after_ok = r
            .retry_after
            .as_deref()
            .and_then(|v| v.trim().parse::<u32>().ok())
            .is_some_and(|s| s >= 1);
        if r.status != 503 || !r.problem || r.body["status"] != json!(503) || !retry_after_ok || r.latency > bound {
            failures.push(format!(
                "{} {} {}: status {}, problem+json {}, Retry-After {:?}, {:?} (bound {bound:?}), body {}",
                call.name, call.method, call.path, r.status, r.problem, r.retry_after, r.latency, r.body
            ));
        }
    }
    let mut latencies: Vec<Duration> = replies.iter().map(|r| r.latency).collect();
    latencies.sort();
    println!(
        "faults [{phase}]: {} requests, 503 latency min {:?} / median {:?} / max {:?} (bound {bound:?})",
        latencies.len(),
        latencies[0],
        latencies[latencies.len() / 2],
        latencies[latencies.len() - 1]
    );
    for (call, r) in calls.iter().zip(&replies) {
        println!(
            "faults [{phase}]:   {:>5} ms  {}  {}",
            r.latency.as_millis(),
            r.status,
            call.name
        );
    }
    assert!(
        failures.is_empty(),
        "with DynamoDB {phase}, every request must answer 503 problem+json with Retry-After within {bound:?}:\n{}",
        failures.join("\n")
    );
    latencies
}

// ----- the table, as a test sees it -----

async fn scan(state: &AppState) -> Table {
    let mut table = Table::new();
    let mut start = None;
    loop {
        let out = state
            .store
            .client()
            .scan()
            .table_name(state.store.table())
            .consistent_read(true)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .expect("scan");
        for item in out.items.unwrap_or_default() {
            let key = (s(&item, "pk").to_owned(), s(&item, "sk").to_owned());
            table.insert(key, item);
        }
        start = out.last_evaluated_key;
        if start.is_none() {
            return table;
        }
    }
}

/// A scan that two reads in a row agree on: writes still in flight inside DynamoDB Local (after a
/// thaw) have landed.
async fn settled_scan(state: &AppState) -> Table {
    let mut last = scan(state).await;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = scan(state).await;
        if now == last {
            return now;
        }
        last = now;
    }
    panic!("the table kept changing for 10 s");
}

fn s<'a>(item: &'a Item, name: &str) -> &'a str {
    item.get(name).and_then(|v| v.as_s().ok()).map_or("", String::as_str)
}

/// What a table holds, after checking that nothing in it is half-written: every customer item is
/// whole and has its customer-number item, every customer-number item has its customer, and every
/// child, link and CRM event belongs to an existing customer of its bank.
struct Census {
    /// Customer id → (customer number, legal name).
    customers: BTreeMap<String, (String, String)>,
    items: usize,
}

#[track_caller]
fn census(table: &Table) -> Census {
    let mut problems = Vec::new();
    let mut customers = BTreeMap::new();
    // Customer id → bank.
    let mut banks: HashMap<&str, &str> = HashMap::new();
    for ((pk, sk), item) in table {
        if sk == "CUSTOMER" {
            let id = s(item, "id");
            let bank = s(item, "bank_id");
            let number = s(item, "customer_number");
            if pk != &format!("CUSTOMER#{id}") {
                problems.push(format!("customer item {pk} has id {id:?}"));
            }
            for attribute in ["legal_name", "version", "created_at", "firehose_pk", "firehose_sk"] {
                if !item.contains_key(attribute) {
                    problems.push(format!("customer item {pk} lacks {attribute}"));
                }
            }
            if !s(item, "firehose_pk").starts_with(&format!("BANK#{bank}#CUSTOMERS#"))
                || !s(item, "firehose_sk").ends_with(&format!("#{id}"))
                || item.contains_key("gsi1pk")
            {
                problems.push(format!("customer item {pk} has a wrong firehose index key"));
            }
            let number_key = number_item_key(bank, number);
            match table.get(&number_key) {
                Some(n) if s(n, "customer_id") == id => {}
                Some(n) => problems.push(format!(
                    "customer {id} (number {number}) but {} points to {}",
                    number_key.0,
                    s(n, "customer_id")
                )),
                None => problems.push(format!("customer {id} has no customer-number item {}", number_key.0)),
            }
            banks.insert(id, bank);
            customers.insert(id.to_owned(), (number.to_owned(), s(item, "legal_name").to_owned()));
        }
    }
    for ((pk, sk), item) in table {
        let customer_of = |id: &str| table.get(&(format!("CUSTOMER#{id}"), "CUSTOMER".to_owned()));
        if sk == "NUMBER" {
            let rest = pk.strip_prefix("BANK#").unwrap_or_default();
            let (bank, number) = rest.split_once("#NUMBER#").unwrap_or_default();
            let id = s(item, "customer_id");
            match customer_of(id) {
                // Numbers are unique whatever their case: the key holds the case-folded form.
                Some(c) if s(c, "bank_id") == bank && s(c, "customer_number").eq_ignore_ascii_case(number) => {}
                Some(c) => problems.push(format!(
                    "number item {pk} points to customer {id}, whose number is {}#{}",
                    s(c, "bank_id"),
                    s(c, "customer_number")
                )),
                None => problems.push(format!("number item {pk} points to missing customer {id}")),
            }
        } else if sk.starts_with(shared::store::keys::DELETED_PREFIX) {
            // A deletion's marker: who deleted the item beside it, and when it expires.
            for attribute in ["changed_by", "request_id", "changed_at", "expires_at"] {
                if !item.contains_key(attribute) {
                    problems.push(format!("deletion marker {pk} {sk} lacks {attribute}"));
                }
            }
        } else if let Some(record) =
            shared::store::keys::idempotency_of_pointer(sk).filter(|_| pk.starts_with("CUSTOMER#"))
        {
            // A pointer to a stored answer: written with it, so never without it.
            if !table.contains_key(&(record.pk.clone(), record.sk.clone())) {
                problems.push(format!("idempotency pointer {pk} {sk} has no record"));
            }
        } else if let Some(id) = pk.strip_prefix("CUSTOMER#").filter(|_| sk != "CUSTOMER") {
            if banks.get(id) != Some(&s(item, "bank_id")) {
                problems.push(format!(
                    "child {pk} {sk} has no customer at bank {}",
                    s(item, "bank_id")
                ));
            }
        } else if let Some(rest) = sk.strip_prefix("LINK#").filter(|_| pk.starts_with("USER#")) {
            let (bank, id) = rest.split_once('#').unwrap_or_default();
            if banks.get(id) != Some(&bank) {
                problems.push(format!("link {pk} {sk} has no customer"));
            }
        } else if pk.contains("#CRM_EVENTS#") {
            let id = s(item, "customer_id");
            if !banks.contains_key(id) {
                problems.push(format!("CRM event {pk} {sk} names missing customer {id}"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "half-written or dangling items ({} of {} items):\n{}",
        problems.len(),
        table.len(),
        problems.join("\n")
    );
    Census {
        customers,
        items: table.len(),
    }
}

/// The keys of items that differ between two scans.
fn differences(before: &Table, after: &Table) -> Vec<String> {
    let keys: BTreeSet<&(String, String)> = before.keys().chain(after.keys()).collect();
    keys.into_iter()
        .filter(|k| before.get(*k) != after.get(*k))
        .map(|(pk, sk)| {
            let what = match (
                before.contains_key(&(pk.clone(), sk.clone())),
                after.contains_key(&(pk.clone(), sk.clone())),
            ) {
                (false, true) => "added",
                (true, false) => "removed",
                _ => "changed",
            };
            format!("{what}: {pk} {sk}")
        })
        .collect()
}

// ----- the tests -----

// contract: C-ERR-7
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_dynamodb_answers_503_and_the_api_recovers_with_nothing_half_written() {
    let _port = lock_port();
    let ddb = DynamoDbLocal::start(Some(std::env::temp_dir().join(unique("faults-ddb"))));
    let api = Api::start().await;
    let fixture = api.fixture().await;
    let before = scan(&api.state).await;
    census(&before);

    ddb.stop();
    let outage = every_route(&fixture, "outage");
    all_unavailable(&api, &outage, "stopped").await;

    let restarting = Instant::now();
    ddb.launch();
    let startup = restarting.elapsed();
    let recovery = api.wait_until_serving(&fixture.customer).await;
    println!(
        "faults [stopped]: DynamoDB Local restart took {startup:?}; the API served again {recovery:?} after it \
         answered ({:?} after the restart began)",
        restarting.elapsed()
    );

    // Nothing sent during the outage left a trace, in particular not the customer it tried to create.
    let after = scan(&api.state).await;
    let changed = differences(&before, &after);
    assert!(
        changed.is_empty(),
        "requests answered 503 during the outage changed the table:\n{}",
        changed.join("\n")
    );
    let now = census(&after);
    assert!(
        now.customers
            .values()
            .all(|(number, name)| number != "outage-new" && name != "Created during outage"),
        "the customer created during the outage exists"
    );
    assert!(!after.contains_key(&number_item_key(BANK, "outage-new")));

    // Every route works again, without restarting the API.
    for call in every_route(&fixture, "after") {
        let r = api.call(&call).await;
        assert_eq!(
            r.status, call.ok,
            "{} {} {} after recovery: {}",
            call.name, call.method, call.path, r.body
        );
    }
    let end = census(&scan(&api.state).await);
    assert_eq!(
        end.customers.len(),
        now.customers.len() + 1,
        "one customer created after recovery"
    );
    println!(
        "faults [stopped]: {} items before the outage, {} after, {} after recovery's writes; no half-written item",
        before.len(),
        now.items,
        end.items
    );
}

/// One create of the burst.
struct Attempt {
    legal_name: String,
    number: Option<String>,
    reply: Reply,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Death {
    /// `scripts/dynamodb-local.sh stop`: SIGTERM, DynamoDB Local's own shutdown.
    Stop,
    /// SIGKILL: no shutdown at all.
    Kill,
}

/// Workers create customers (half with a number of their own, half with one the server draws)
/// until DynamoDB Local dies under them, `BEFORE_DEATH` creates into the burst; then it is started
/// again and the table checked. Every create answered 201 or 503, and nothing is half-written.
async fn burst_until_death(api: &Arc<Api>, ddb: &DynamoDbLocal, death: Death, round: usize) {
    const WORKERS: usize = 8;
    const BEFORE_DEATH: usize = 20;
    let phase = format!("{death:?}");
    let created = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (api, created) = (api.clone(), created.clone());
            tokio::spawn(async move {
                let mut attempts = Vec::new();
                for i in 1.. {
                    let legal_name = format!("Burst {round}-{w}-{i}");
                    let number = (i % 2 == 0).then(|| format!("BURST-{round}-{w}-{i}"));
                    let reply = api.create_customer(&legal_name, number.as_deref()).await;
                    let status = reply.status;
                    if status == 201 {
                        created.fetch_add(1, Ordering::SeqCst);
                    }
                    attempts.push(Attempt {
                        legal_name,
                        number,
                        reply,
                    });
                    // Each worker creates until DynamoDB is gone; one failure is enough (hammering a
                    // dead endpoint would only drain the SDK's retry tokens for the other tests).
                    if status != 201 {
                        break;
                    }
                }
                attempts
            })
        })
        .collect();

    let deadline = Instant::now() + Duration::from_secs(60);
    while created.load(Ordering::SeqCst) < BEFORE_DEATH {
        assert!(
            Instant::now() < deadline,
            "the burst created only {} customers in 60 s",
            created.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let died_at = Instant::now();
    match death {
        Death::Stop => ddb.stop(),
        Death::Kill => ddb.kill(),
    }
    let mut attempts = Vec::new();
    for w in workers {
        let done = tokio::time::timeout(Duration::from_secs(60), w).await;
        attempts.extend(
            done.expect("a worker still gets 201s after DynamoDB died")
                .expect("worker"),
        );
    }

    // Every create answered 201 or 503 (problem+json with Retry-After), never anything else.
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    let mut wrong = Vec::new();
    for a in &attempts {
        *statuses.entry(a.reply.status).or_default() += 1;
        let good = match a.reply.status {
            201 => a.reply.body["customer_id"].is_string(),
            503 => a.reply.problem && a.reply.retry_after.is_some(),
            _ => false,
        };
        if !good {
            wrong.push(format!(
                "{}: {} {:?} {}",
                a.legal_name, a.reply.status, a.reply.retry_after, a.reply.body
            ));
        }
    }
    let in_flight = attempts
        .iter()
        .filter(|a| a.reply.started < died_at && a.reply.started + a.reply.latency > died_at)
        .count();
    let mut unavailable: Vec<Duration> = attempts
        .iter()
        .filter(|a| a.reply.status == 503)
        .map(|a| a.reply.latency)
        .collect();
    unavailable.sort();
    println!(
        "faults [{phase}]: {} creates by {WORKERS} workers, statuses {statuses:?}, {in_flight} in flight when \
         DynamoDB Local died",
        attempts.len()
    );
    if let (Some(min), Some(max)) = (unavailable.first(), unavailable.last()) {
        println!(
            "faults [{phase}]: 503 latency min {min:?} / median {:?} / max {max:?}",
            unavailable[unavailable.len() / 2]
        );
    }
    assert!(
        wrong.is_empty(),
        "creates must answer 201 or 503 while DynamoDB dies ({death:?}):\n{}",
        wrong.join("\n")
    );
    assert!(statuses.contains_key(&503), "no create saw the outage");
    assert!(in_flight > 0, "no create was in flight when DynamoDB Local died");
    assert!(
        unavailable.last().is_none_or(|l| *l <= bound()),
        "a 503 took longer than {:?}",
        bound()
    );

    let restarting = Instant::now();
    ddb.launch();
    let startup = restarting.elapsed();
    let answered: Vec<&Attempt> = attempts.iter().filter(|a| a.reply.status == 201).collect();
    let first = answered[0].reply.body["customer_id"].as_str().unwrap().to_owned();
    let recovery = api.wait_until_serving(&first).await;
    println!("faults [{phase}]: restart {startup:?}, the API served again {recovery:?} after DynamoDB Local answered");

    // Nothing half-written (census); every 201 is there as created, except that a create
    // acknowledged in the last moments before the death may be gone - whole: DynamoDB Local
    // acknowledges a TransactWriteItems before it is durable, and neither a SIGKILL nor its own
    // SIGTERM shutdown flushes it (seen in CI: one create answered 201 just before a SIGTERM lost).
    // DynamoDB itself acknowledges only durable writes; what this test owns is atomicity.
    let found = census(&scan(&api.state).await);
    let mut missing = Vec::new();
    let mut lost = Vec::new();
    for a in &answered {
        let id = a.reply.body["customer_id"].as_str().unwrap();
        let answered_before = died_at.saturating_duration_since(a.reply.started + a.reply.latency);
        match found.customers.get(id) {
            Some((number, name)) if name == &a.legal_name && a.number.as_ref().is_none_or(|n| n == number) => {}
            None if answered_before < Duration::from_secs(2) => lost.push(format!(
                "{} (answered {answered_before:?} before the {death:?})",
                a.legal_name
            )),
            other => missing.push(format!(
                "{} ({id}, answered {answered_before:?} before the {death:?}): {other:?}",
                a.legal_name
            )),
        }
    }
    assert!(
        missing.is_empty(),
        "customers answered 201 are missing or different after the restart ({death:?}):\n{}",
        missing.join("\n")
    );
    let by_name: BTreeSet<&str> = found.customers.values().map(|(_, n)| n.as_str()).collect();
    let committed_anyway: Vec<&str> = attempts
        .iter()
        .filter(|a| a.reply.status == 503 && by_name.contains(a.legal_name.as_str()))
        .map(|a| a.legal_name.as_str())
        .collect();
    println!(
        "faults [{phase}]: {} answered 201: all whole, {} lost whole by DynamoDB Local {lost:?}; {} answered 503 \
         but committed {committed_anyway:?}; {} customers in the table, none half-written",
        answered.len(),
        lost.len(),
        committed_anyway.len(),
        found.customers.len(),
    );
    for a in answered.iter().take(5) {
        let id = a.reply.body["customer_id"].as_str().unwrap();
        if !found.customers.contains_key(id) {
            continue;
        }
        let r = api
            .send(
                Method::GET,
                &format!("/v1/banks/{BANK}/customers/{id}"),
                Who::Staff,
                None,
            )
            .await;
        assert_eq!(r.status, 200, "GET {id} after the restart: {}", r.body);
        assert_eq!(r.body["legal_name"], json!(a.legal_name));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_dying_during_a_burst_of_creates_leaves_only_whole_customers() {
    let _port = lock_port();
    let ddb = DynamoDbLocal::start(Some(std::env::temp_dir().join(unique("faults-ddb"))));
    let api = Arc::new(Api::start().await);
    burst_until_death(&api, &ddb, Death::Stop, 1).await;
    burst_until_death(&api, &ddb, Death::Kill, 2).await;
}

// contract: C-ERR-7
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frozen_dynamodb_answers_503_within_the_timeout_not_a_hang() {
    let _port = lock_port();
    let mut ddb = DynamoDbLocal::start(None);
    let api = Api::start().await;
    let fixture = api.fixture().await;
    let customer_path = format!("/v1/banks/{BANK}/customers/{}", fixture.customer);
    let etag_before = api.send(Method::GET, &customer_path, Who::Staff, None).await.etag;

    ddb.freeze();
    let frozen = every_route(&fixture, "frozen");
    all_unavailable(&api, &frozen, "frozen").await;
    ddb.thaw();
    let recovery = api.wait_until_serving(&fixture.customer).await;
    println!("faults [frozen]: the API served again {recovery:?} after SIGCONT");

    // A timed-out write may still land once DynamoDB resumes (503 says "unknown outcome" then),
    // but nothing is half-written.
    let table = settled_scan(&api.state).await;
    let found = census(&table);
    let landed = found.customers.values().any(|(_, n)| n == "Created during frozen");
    let etag_after = api.send(Method::GET, &customer_path, Who::Staff, None).await.etag;
    println!(
        "faults [frozen]: after the thaw the table has {} items; the customer POSTed while frozen {}; the fixture \
         customer's ETag went from {etag_before:?} to {etag_after:?} although its 8 PUTs were answered 503",
        found.items,
        if landed { "exists (whole)" } else { "does not exist" },
    );
}

/// The (pk, sk) of a number's uniqueness item, from the store's own key design.
fn number_item_key(bank: &str, number: &str) -> (String, String) {
    let bank = shared::domain::ids::BankId::parse(bank).expect("bank id");
    let number = shared::domain::ids::CustomerNumber::parse(number).expect("customer number");
    let key = shared::store::keys::customer_number(&bank, &number);
    (key.pk, key.sk)
}

/// The changes function across an outage of DynamoDB Local: the stream is read again once it is
/// back, and every write before and after the outage has exactly one history entry and one event.
#[tokio::test]
async fn the_history_loses_nothing_and_repeats_nothing_across_an_outage() {
    let _port = lock_port();
    let ddb = DynamoDbLocal::start(Some(std::env::temp_dir().join(unique("faults-ddb"))));
    let api = Api::start_with(true).await;
    let customer = Api::created(
        &api.create_customer("History Across", None).await,
        "a customer",
        "customer_id",
    );
    let email = |n: u32| json!({"email": format!("n{n}@example.com")});
    let path = format!("/v1/banks/{BANK}/customers/{customer}/email");
    assert_eq!(
        api.send(Method::PUT, &path, Who::Staff, Some(&email(1))).await.status,
        200
    );
    api.history(&customer, 2).await;

    ddb.stop();
    tokio::time::sleep(Duration::from_secs(2)).await;
    ddb.launch();
    api.wait_until_serving(&customer).await;
    assert_eq!(
        api.send(Method::PUT, &path, Who::Staff, Some(&email(2))).await.status,
        200
    );
    let ids = api.history(&customer, 3).await;
    // Whatever was read again after the restart was recognised.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let ids_later = api.history(&customer, 3).await;
    let unique_ids: BTreeSet<&String> = ids_later.iter().collect();
    assert_eq!((ids_later.len(), unique_ids.len()), (3, 3), "{ids_later:?}");
    assert_eq!(ids, ids_later);
    let (_, receiver) = api.changes.as_ref().expect("the changes function runs");
    // An entry is written before its event is published: wait for the third event.
    let mut events = String::new();
    for _ in 0..100 {
        events = std::fs::read_to_string(&receiver.events_file).unwrap_or_default();
        if events.lines().count() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for id in &ids {
        assert_eq!(events.matches(id.as_str()).count(), 1, "{id} published once: {events}");
    }
    println!("faults [history]: 3 writes around a restart of DynamoDB Local, 3 entries and 3 events");
}

/// The bound through what ships, under the load the issue measured: 200 creates with an
/// `Idempotency-Key`, about 16 a second from 8 clients, while DynamoDB is frozen for 8 s. A request
/// that needs a new function instance pays its init's connection too, so every answer, 201 or 503,
/// must come within the contract's bound (plus a second of scheduling); retrying each 503 with its
/// key then leaves exactly 200 customers.
// contract: C-ERR-7
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_keyed_creates_through_a_frozen_dynamodb_is_answered_within_the_bound() {
    const CREATES: usize = 200;
    const CLIENTS: usize = 8;
    let _port = lock_port();
    let mut ddb = DynamoDbLocal::start(None);
    let api = Arc::new(Api::start().await);
    let body = |i: usize| json!({"bank_id": BANK, "legal_name": format!("Burst {i}")});
    let create = |i: usize| {
        let api = api.clone();
        async move {
            let started = Instant::now();
            let response = api
                .http
                .post(format!("{}/v1/customers", api.base))
                .header("Authorization", format!("Bearer {}", api.staff))
                .header("Idempotency-Key", format!("burst-{i}"))
                .body(body(i).to_string())
                .send()
                .await
                .expect("an answer");
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            (i, status, started.elapsed(), text)
        }
    };
    // 8 clients, each sending every half second whether or not its last answer came: about 16
    // creates a second, so that requests pile up during the outage and new instances start (cold
    // starts whose init meets the frozen DynamoDB).
    let sent = (0..CREATES).map(|i| {
        let create = &create;
        async move {
            tokio::time::sleep(Duration::from_millis(1000 * i as u64 / (2 * CLIENTS as u64))).await;
            create(i).await
        }
    });
    let outage = async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        ddb.freeze();
        tokio::time::sleep(Duration::from_secs(8)).await;
        ddb.thaw();
    };
    let (answers, ()) = tokio::join!(join_all(sent), outage);
    let limit = shared::config::UNAVAILABLE_BOUND + Duration::from_secs(1);
    let slowest = answers.iter().map(|a| a.2).max().expect("answers");
    let unavailable = answers.iter().filter(|a| a.1 == 503).count();
    println!(
        "faults [burst, {}]: {} creates, {unavailable} answered 503, slowest answer {slowest:?} (limit {limit:?})",
        if lambda_mode() { "built functions" } else { "in-process" },
        answers.len()
    );
    assert!(unavailable > 0, "the outage was seen");
    for (i, status, latency, text) in &answers {
        assert!(matches!(status, 201 | 503), "create {i}: {status} {text}");
        assert!(
            *latency <= limit,
            "create {i}: {status} after {latency:?}, beyond {limit:?}"
        );
    }
    // Nothing lost, nothing twice: each 503 retried with its key.
    let started = Instant::now();
    let firehose = format!("/v1/banks/{BANK}/firehose/customers");
    while api.send(Method::GET, &firehose, Who::Staff, None).await.status != 200 {
        assert!(started.elapsed() < RECOVERY_LIMIT, "the API did not recover");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (i, status, _, _) in &answers {
        if *status == 503 {
            let (_, again, _, text) = create(*i).await;
            assert_eq!(again, 201, "create {i} retried: {text}");
        }
    }
    let table = settled_scan(&api.state).await;
    let found = census(&table);
    let burst = found
        .customers
        .values()
        .filter(|(_, n)| n.starts_with("Burst "))
        .count();
    assert_eq!(burst, CREATES, "one customer per key");
}
