//! `runtime-harness`: the measurements of `make bench`, once `scripts/bench.sh` has built the
//! binaries and started DynamoDB Local. Prints the results table and writes `bench/results.md`.
//!
//! Settings (environment; `scripts/bench.sh` sets them):
//! - `BENCH_ROOT` (the repository), `BENCH_FUNCTIONS_DIR` (`.aws-sam/build`: `<Resource>/bootstrap`),
//!   `BENCH_BIN_DIR` (`target/lambda`: `hello/`, `ddb-baseline/`, `local-api/bootstrap`),
//!   `BENCH_WORK` (scratch directory), `BENCH_OUT` (`bench/results.md`), `BENCH_BUILD_INFO`;
//! - ports, all on 127.0.0.1: `BENCH_DDB_PORT` (DynamoDB Local, 8796), `BENCH_PROXY_PORT` (8797),
//!   `BENCH_RUNTIME_PORT` (3797), `BENCH_BASELINE_RUNTIME_PORT` (3798), `BENCH_API_PORT` (local-api, 3796);
//! - sizes: `BENCH_COLD_STARTS` (10), `BENCH_WARM` (1000), `BENCH_SOAK` (10000), `BENCH_LOAD_SECONDS`
//!   (30), `BENCH_CONNECTIONS` (64);
//! - `BENCH_INIT_ENV` (`NAME=value,...`, optional): extra variables for a second cold-start row per
//!   DynamoDB function, e.g. a setting that opens the connection during init.

use bench::cpu;
use bench::fixture::{self, Event, Function};
use bench::proxy::{self, Call, Proxy};
use bench::runtime::{Invoked, Launch, Process, RuntimeApi};
use bench::stats::Summary;
use bytes::Bytes;
use serde_json::Value;
use shared::AppState;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const ALL_SCOPES: &str = "customer.read customer.write customer.firehose";
const MIB: f64 = 1024.0 * 1024.0;
/// Targets of the issue.
const MAX_ZIP_MIB: f64 = 2.5;
const MAX_INIT_RATIO: f64 = 1.5;
const MAX_FIRST_RATIO: f64 = 3.0;
const MAX_WARM_RATIO: f64 = 1.3;
const MAX_PEAK_RSS_MIB: f64 = 24.0;
/// "Flat": RSS after 10,000 invocations at most this much above RSS after 1,000.
const MAX_RSS_GROWTH_KIB: u64 = 1024;
const MIN_THROUGHPUT_RATIO: f64 = 0.8;
/// How long the DynamoDB proxy holds each call (see `bench::proxy`).
const PROXY_DELAY: Duration = Duration::from_millis(20);
/// Untimed invocations of each subject before the cold starts (see `prime`).
const PRIME: u64 = 1000;
/// Invocations per interleaving block in the warm phase.
const BLOCK: usize = 100;

struct Config {
    root: PathBuf,
    functions_dir: PathBuf,
    bin_dir: PathBuf,
    work: PathBuf,
    out: PathBuf,
    build_info: String,
    ddb_port: u16,
    proxy_port: u16,
    runtime_port: u16,
    baseline_port: u16,
    api_port: u16,
    cold_starts: usize,
    warm: usize,
    soak: usize,
    load_seconds: u64,
    connections: usize,
    init_env: Vec<(String, String)>,
    /// Where `scripts/bench-peers.sh` installed the peers.
    peers_dir: PathBuf,
    /// Lines of the bulk import run (0: none).
    import_lines: u64,
}

fn setting<T: FromStr>(name: &str, default: T) -> Result<T, String> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v.trim().parse().map_err(|_| format!("{name}={v} is not valid")),
        _ => Ok(default),
    }
}

impl Config {
    fn from_env() -> Result<Self, String> {
        let root: PathBuf = setting("BENCH_ROOT", PathBuf::from("."))?;
        let work: PathBuf = setting("BENCH_WORK", std::env::temp_dir().join("customer-api-bench"))?;
        let init_env = std::env::var("BENCH_INIT_ENV")
            .unwrap_or_default()
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .map(|p| {
                p.split_once('=')
                    .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                    .ok_or_else(|| format!("BENCH_INIT_ENV: {p:?} is not NAME=value"))
            })
            .collect::<Result<_, _>>()?;
        let config = Self {
            functions_dir: setting("BENCH_FUNCTIONS_DIR", root.join(".aws-sam/build"))?,
            bin_dir: setting("BENCH_BIN_DIR", root.join("target/lambda"))?,
            out: setting("BENCH_OUT", root.join("bench/results.md"))?,
            build_info: setting("BENCH_BUILD_INFO", String::new())?,
            ddb_port: setting("BENCH_DDB_PORT", 8796)?,
            proxy_port: setting("BENCH_PROXY_PORT", 8797)?,
            runtime_port: setting("BENCH_RUNTIME_PORT", 3797)?,
            baseline_port: setting("BENCH_BASELINE_RUNTIME_PORT", 3798)?,
            api_port: setting("BENCH_API_PORT", 3796)?,
            cold_starts: setting("BENCH_COLD_STARTS", 10)?,
            warm: setting("BENCH_WARM", 1000)?,
            soak: setting("BENCH_SOAK", 10_000)?,
            load_seconds: setting("BENCH_LOAD_SECONDS", 30)?,
            connections: setting("BENCH_CONNECTIONS", 64)?,
            init_env,
            peers_dir: setting("BENCH_PEERS_DIR", root.join("bench/peers/.build"))?,
            import_lines: setting("BENCH_IMPORT_LINES", 100_000)?,
            root,
            work,
        };
        if config.warm < BLOCK || !config.warm.is_multiple_of(BLOCK) || config.soak <= config.warm {
            return Err(format!(
                "BENCH_WARM must be a multiple of {BLOCK} and BENCH_SOAK larger than BENCH_WARM"
            ));
        }
        Ok(config)
    }

    fn ddb_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.ddb_port)
    }
}

/// What a subject is sent and how its answer is judged.
#[derive(Clone)]
enum Payload {
    /// An API Gateway event; the `lambda_http` answer must be 2xx.
    Http(Event),
    /// A TOKEN authorizer event; the answer must allow.
    Authorizer(Vec<u8>),
    /// A DynamoDB stream event (file name, event), each invocation with new sequence numbers; the
    /// answer must report no failed record.
    Stream(String, Value),
}

impl Payload {
    fn render(&self, n: u64) -> Bytes {
        match self {
            Payload::Http(event) => Bytes::from(event.render(n)),
            Payload::Authorizer(event) => Bytes::from(event.clone()),
            Payload::Stream(_, event) => Bytes::from(fixture::render_stream(event, n)),
        }
    }

    fn accepts(&self, invoked: &Invoked) -> bool {
        if invoked.error {
            return false;
        }
        match self {
            Payload::Http(_) => fixture::status_of(&invoked.body).is_some_and(|s| (200..300).contains(&s)),
            Payload::Authorizer(_) => {
                let answer: Value = serde_json::from_slice(&invoked.body).unwrap_or_default();
                answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"
            }
            Payload::Stream(..) => {
                let answer: Value = serde_json::from_slice(&invoked.body).unwrap_or_default();
                answer["batchItemFailures"].as_array().is_some_and(Vec::is_empty)
            }
        }
    }

    fn describe(&self) -> String {
        match self {
            Payload::Http(event) => format!("events/{}/{}", event.group, event.name),
            Payload::Authorizer(_) => "TOKEN event, valid ES256 token".into(),
            Payload::Stream(name, _) => format!("events/changes/{name}, a new change per invocation"),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Hello,
    GetItemLambda,
    Function,
    /// The same GET customer in another language (`bench::peers`).
    Peer,
}

/// A binary under test and what was measured of it.
struct Subject {
    label: String,
    kind: Kind,
    /// Only cold starts (a variant of another subject's settings).
    cold_only: bool,
    function: Option<Function>,
    launch: Launch,
    payload: Payload,
    m: Measured,
}

#[derive(Default)]
struct Measured {
    zip_bytes: Option<u64>,
    /// Milliseconds.
    inits: Vec<f64>,
    firsts: Vec<f64>,
    /// Microseconds.
    warm: Vec<f64>,
    raw: Vec<f64>,
    getitem_lambda: Vec<f64>,
    rss_warm_kib: Option<u64>,
    rss_soak_kib: Option<u64>,
    /// CPU (user + system) per warm invocation, microseconds.
    cpu_us: Option<f64>,
    peak_kib: Option<u64>,
    invocations: u64,
    rejected: u64,
    errors: Vec<String>,
}

/// One row of the DynamoDB cost table.
struct RouteCost {
    group: String,
    method: String,
    resource: String,
    event: String,
    canonical: bool,
    expected: u16,
    status: Option<u16>,
    calls: Vec<Call>,
}

impl RouteCost {
    fn rcu(&self) -> f64 {
        self.calls.iter().filter(|c| c.is_read()).map(|c| c.capacity).sum()
    }

    fn wcu(&self) -> f64 {
        self.calls.iter().filter(|c| c.is_write()).map(|c| c.capacity).sum()
    }

    fn trips(&self) -> usize {
        proxy::sequential_round_trips(&self.calls)
    }

    /// A read or write of one item: a GET of a resource ending in an id, or a PUT or DELETE that
    /// writes without a transaction (a transaction writes several items, e.g. a customer and its
    /// number's uniqueness item).
    fn single_item(&self) -> bool {
        let transaction = self.calls.iter().any(|c| c.operation == "TransactWriteItems");
        (matches!(self.method.as_str(), "PUT" | "DELETE") && !transaction)
            || (self.method == "GET" && self.resource.ends_with('}'))
    }

    fn ok(&self) -> bool {
        self.status == Some(self.expected)
    }
}

struct Throughput {
    requests: u64,
    errors: u64,
    seconds: f64,
    p50_us: f64,
    p99_us: f64,
    detail: String,
    /// Requests per second of each round, when this sums several.
    rounds: Vec<f64>,
    /// CPU spent during the run(s).
    cpu: cpu::Spent,
}

impl Throughput {
    /// The rounds as one run: their requests, errors and time summed, the median round's p50 and
    /// the worst p99.
    fn of_rounds(rounds: Vec<Result<Throughput, String>>) -> Result<Throughput, String> {
        let rounds: Vec<Throughput> = rounds.into_iter().collect::<Result<_, _>>()?;
        let mut p50s: Vec<f64> = rounds.iter().map(|r| r.p50_us).collect();
        p50s.sort_by(f64::total_cmp);
        Ok(Throughput {
            requests: rounds.iter().map(|r| r.requests).sum(),
            errors: rounds.iter().map(|r| r.errors).sum(),
            seconds: rounds.iter().map(|r| r.seconds).sum(),
            p50_us: p50s.get(p50s.len() / 2).copied().unwrap_or_default(),
            p99_us: rounds.iter().map(|r| r.p99_us).fold(0.0, f64::max),
            detail: rounds
                .iter()
                .map(|r| r.detail.as_str())
                .filter(|d| !d.is_empty())
                .collect::<Vec<_>>()
                .join("; "),
            rounds: rounds.iter().map(Throughput::rps).collect(),
            cpu: rounds.iter().fold(cpu::Spent::ZERO, |sum, r| sum.add(&r.cpu)),
        })
    }

    fn rps(&self) -> f64 {
        if self.seconds > 0.0 {
            (self.requests - self.errors.min(self.requests)) as f64 / self.seconds
        } else {
            0.0
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("bench: some measurements failed (see the errors above and in the results)");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn progress(message: impl AsRef<str>) {
    eprintln!("bench: {}", message.as_ref());
}

async fn run() -> Result<bool, String> {
    let config = Config::from_env()?;
    std::fs::create_dir_all(config.work.join("logs")).map_err(|e| format!("{}: {e}", config.work.display()))?;
    let machine_start = machine();
    let started = Instant::now();

    // ----- the table, its fixture, a token
    let table = format!(
        "bench-{}",
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default()
    );
    let template = config.root.join("template.yaml");
    let env_json: Value = serde_json::from_str(
        &std::fs::read_to_string(config.root.join("events/env.json")).map_err(|e| format!("events/env.json: {e}"))?,
    )
    .map_err(|e| format!("events/env.json: {e}"))?;
    let page_secret = env_json["CustomersFunction"]["PAGE_TOKEN_SECRET"]
        .as_str()
        .ok_or("events/env.json has no CustomersFunction.PAGE_TOKEN_SECRET")?
        .to_owned();
    let client = shared::config::dynamodb_client_for(Some(&config.ddb_endpoint())).map_err(|e| e.to_string())?;
    let state = AppState::new(client.clone(), table.clone(), page_secret.as_bytes()).map_err(|e| e.to_string())?;
    progress(format!(
        "creating and seeding table {table} in DynamoDB Local on port {}",
        config.ddb_port
    ));
    fixture::create_and_seed(&state, &template).await?;
    let keys_dir = config.work.join("keys");
    let keys = local_api::keys::load_or_create(&keys_dir).map_err(|e| e.to_string())?;
    let mut token_request = local_api::keys::TokenRequest::new("staff-bank-1");
    token_request.scope = ALL_SCOPES.into();
    token_request.bank_ids = vec![fixture::BANK_ID.into()];
    token_request.ttl_seconds = 7200;
    let token = keys.mint(&token_request).map_err(|e| e.to_string())?;

    // ----- what is measured
    let functions = fixture::functions(&template)?;
    // The changes function publishes to local-api's EventBridge receiver, through the real client.
    let events_receiver = local_api::changes::receiver(&config.work.join("events"))
        .await
        .map_err(|e| e.to_string())?;
    let mut subjects = subjects(
        &config,
        &functions,
        &env_json,
        &table,
        &keys.jwks_json(),
        &token,
        &events_receiver.url,
    )?;
    let (peers, missing_peers) = bench::peers::find(&config.peers_dir);
    for (label, why) in &missing_peers {
        progress(format!("{label}: not measured: {why}"));
    }
    subjects.extend(peer_subjects(&config, &subjects, peers, &table)?);

    // ----- 1. package size
    progress("package sizes (zip -9 of each bootstrap)");
    let zips = config.work.join("zips");
    std::fs::create_dir_all(&zips).map_err(|e| e.to_string())?;
    for subject in subjects.iter_mut().filter(|s| !s.cold_only) {
        let zip = zips.join(format!("{}.zip", subject.launch.function_name));
        // A peer's package is its directory: handler, dependencies and bootstrap.
        let package = match subject.kind {
            Kind::Peer => subject
                .launch
                .bootstrap
                .parent()
                .unwrap_or(Path::new("."))
                .to_path_buf(),
            _ => subject.launch.bootstrap.clone(),
        };
        subject.m.zip_bytes = Some(zipped_size(&package, &zip)?);
    }

    // DynamoDB Local is a JVM: its first few hundred calls of an operation run interpreted. A first
    // invocation timed against a cold path measures the emulator, not the function (with it, the
    // one function whose request is a TransactWriteItems looked 3.3x its warm self), so every
    // request that is timed is sent PRIME times through a running copy of its binary first.
    let mut api = RuntimeApi::start(config.runtime_port).await?;
    progress(format!(
        "warming DynamoDB Local up: {PRIME} of each timed request, and {PRIME} raw GetItems"
    ));
    for _ in 0..PRIME {
        raw_get_item(&client, &table).await?;
    }
    let mut n = 0u64;
    for subject in subjects.iter_mut().filter(|s| !s.cold_only) {
        if let Err(e) = prime(&mut api, subject, &mut n).await {
            subject.m.errors.push(format!("warm-up: {e}"));
        }
    }

    // ----- 2. cold starts, round robin so that the machine's load is shared fairly
    progress(format!(
        "cold starts: {} rounds over {} binaries",
        config.cold_starts,
        subjects.len()
    ));
    for _round in 0..config.cold_starts {
        for subject in subjects.iter_mut() {
            n += 1;
            if let Err(e) = cold_start(&mut api, subject, n).await {
                subject.m.errors.push(format!("cold start: {e}"));
            }
        }
    }

    // ----- 3. warm latency and memory, interleaved with the raw GetItem and the GetItem Lambda
    let mut baseline_api = RuntimeApi::start(config.baseline_port).await?;
    let baseline_index = subjects
        .iter()
        .position(|s| s.kind == Kind::GetItemLambda && !s.cold_only)
        .ok_or("no GetItem baseline")?;
    let baseline_launch = subjects[baseline_index].launch.clone();
    let baseline_payload = subjects[baseline_index].payload.clone();
    let mut baseline = baseline_api.spawn(&baseline_launch)?;
    let (_, poll) = baseline_api.init(&mut baseline).await?;
    baseline_api
        .invoke(&mut baseline, Some(poll), baseline_payload.render(0))
        .await?;
    let mut baseline_samples = Vec::new();
    let mut baseline_rss_warm = None;
    for (index, subject) in subjects.iter_mut().enumerate() {
        if subject.cold_only || index == baseline_index {
            continue;
        }
        progress(format!(
            "warm: {} ({} timed invocations interleaved with raw GetItem and the GetItem Lambda, then up to {})",
            subject.label, config.warm, config.soak
        ));
        let result = warm(
            &config,
            &mut api,
            subject,
            &mut n,
            &client,
            &table,
            (&mut baseline_api, &mut baseline, &baseline_payload),
        )
        .await;
        match result {
            Ok(samples) => baseline_samples.extend(samples),
            Err(e) => subject.m.errors.push(format!("warm: {e}")),
        }
        if baseline_rss_warm.is_none() && baseline_samples.len() >= config.warm {
            baseline_rss_warm = baseline.memory_kib().ok().map(|(rss, _)| rss);
        }
    }
    {
        let b = &mut subjects[baseline_index];
        b.m.invocations = baseline_samples.len() as u64 + 1;
        b.m.warm = baseline_samples;
        b.m.rss_warm_kib = baseline_rss_warm;
        if let Ok((rss, peak)) = baseline.memory_kib() {
            b.m.rss_soak_kib = Some(rss);
            b.m.peak_kib = Some(peak);
        }
    }
    drop(baseline);
    drop(baseline_api);

    // ----- 4. DynamoDB cost of every route, through the counting proxy
    progress("DynamoDB cost per route (through the counting proxy)");
    let proxy = Proxy::start(config.proxy_port, &config.ddb_endpoint(), PROXY_DELAY).await?;
    let template_routes = local_api::template::Template::load(&template)
        .map_err(|e| e.to_string())?
        .routes;
    let mut costs = Vec::new();
    let mut cost_errors = Vec::new();
    // The keyed variants run against a fixture of their own, seeded as the first: a POST that can
    // happen once (a decision of an order) would otherwise find it decided by its canonical run.
    let keyed_table = format!("{table}-keyed");
    let keyed_state =
        AppState::new(client.clone(), keyed_table.clone(), page_secret.as_bytes()).map_err(|e| e.to_string())?;
    fixture::create_and_seed(&keyed_state, &template).await?;
    for subject in subjects.iter().filter(|s| s.kind == Kind::Function && !s.cold_only) {
        let Some(function) = &subject.function else { continue };
        if let Payload::Stream(..) = &subject.payload {
            if let Err(e) = stream_cost(&mut api, &proxy, subject, &mut n, &mut costs).await {
                cost_errors.push(format!("{}: {e}", subject.label));
            }
            continue;
        }
        let routes: Vec<_> = template_routes.iter().filter(|r| r.group == function.group).collect();
        if routes.is_empty() {
            continue;
        }
        let events = fixture::events(&config.root, &function.group)?;
        let mut plan: Vec<(Event, bool)> = Vec::new();
        let mut keyed: Vec<(Event, bool)> = Vec::new();
        for route in &routes {
            let mut candidates: Vec<&Event> = events
                .iter()
                .filter(|e| e.is_success() && e.method == route.method && e.resource == route.path)
                .collect();
            candidates.sort_by_key(|e| (e.name.len(), e.name.clone()));
            let Some(canonical) = candidates.first() else {
                cost_errors.push(format!(
                    "{} {}: no successful event in events/{}/",
                    route.method, route.path, route.group
                ));
                continue;
            };
            plan.push(((*canonical).clone(), true));
            if route.method == "POST" {
                keyed.push((
                    canonical.with_idempotency_key(&format!("bench-{n}-{}", plan.len())),
                    false,
                ));
            }
            for linked in candidates.iter().skip(1).filter(|e| e.name.contains("linked-user")) {
                plan.push(((*linked).clone(), false));
            }
        }
        // Reads first, so that every event sees the fixture as seeded.
        plan.sort_by_key(|(e, _)| (e.method != "GET", e.method == "DELETE"));
        let first = costs.len();
        for (plan, table) in [(plan, &table), (keyed, &keyed_table)] {
            if plan.is_empty() {
                continue;
            }
            if let Err(e) = route_costs(
                &mut api,
                &proxy,
                subject,
                table,
                plan,
                &mut n,
                &mut costs,
                &mut cost_errors,
            )
            .await
            {
                cost_errors.push(format!("{}: {e}", subject.label));
            }
        }
        // Each variant beside its route, in the order the routes were measured.
        let routes: Vec<(String, String)> = costs[first..]
            .iter()
            .map(|c| (c.method.clone(), c.resource.clone()))
            .collect();
        costs[first..].sort_by_key(|c| routes.iter().position(|r| r.0 == c.method && r.1 == c.resource));
    }
    drop(proxy);
    drop(api);
    // What `make model` needs: each route's measured capacity, and the size of each kind of item
    // the events left in the table.
    let capacity = bench::capacity::Capacity {
        written: machine_start["date"].clone(),
        item_bytes: bench::capacity::item_sizes(&client, &table).await?,
        routes: costs
            .iter()
            .filter(|c| c.canonical && c.ok())
            .map(|c| bench::capacity::RouteCapacity {
                route: format!("{} {}", c.method, c.resource),
                rcu: c.rcu() + 0.0,
                wcu: c.wcu() + 0.0,
                trips: c.trips(),
            })
            .collect(),
    };
    let capacity_file = config.out.with_file_name("capacity.json");
    std::fs::write(
        &capacity_file,
        serde_json::to_string_pretty(&capacity).map_err(|e| e.to_string())? + "\n",
    )
    .map_err(|e| format!("{}: {e}", capacity_file.display()))?;

    // ----- 5. throughput: the local API under wrk, in turns with DynamoDB Local's own GetItem
    progress("throughput: warming local-api and the GetItem baseline up (5 s each)");
    let (api_load, ddb_load) = throughput(&config, &table, &page_secret, &keys_dir, &token).await;

    // ----- 6. bulk onboarding through `local-api import`, killed part-way and resumed
    let import = if config.import_lines > 0 {
        progress(format!(
            "bulk import: {} customers through local-api import, killed at a third and resumed",
            config.import_lines
        ));
        let definition = local_api::template::Template::load(&template)
            .map_err(|e| e.to_string())?
            .table;
        Some(
            bench::import::run(
                &config.bin_dir.join("local-api/bootstrap"),
                &config.work,
                &client,
                &config.ddb_endpoint(),
                &definition,
                config.import_lines,
                32,
            )
            .await,
        )
    } else {
        None
    };

    // ----- report
    let machine_end = machine();
    let report = Report {
        config: &config,
        subjects: &subjects,
        costs: &costs,
        cost_errors: &cost_errors,
        api_load: &api_load,
        ddb_load: &ddb_load,
        machine_start: &machine_start,
        machine_end: &machine_end,
        elapsed: started.elapsed(),
        missing_peers: &missing_peers,
        import: &import,
    };
    let (printed, document) = report.render();
    println!("{printed}");
    if let Some(dir) = config.out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    std::fs::write(&config.out, document).map_err(|e| format!("{}: {e}", config.out.display()))?;
    progress(format!("written to {}", config.out.display()));

    let _ = client.delete_table().table_name(&table).send().await;
    let ok = subjects.iter().all(|s| s.m.errors.is_empty() && s.m.rejected == 0)
        && cost_errors.is_empty()
        && api_load.is_ok()
        && ddb_load.is_ok()
        && import
            .as_ref()
            .is_none_or(|i| i.as_ref().is_ok_and(|i| i.customers == i.lines));
    Ok(ok)
}

/// Runs each planned event once through `subject` pointed at the proxy, recording its calls.
#[allow(clippy::too_many_arguments)]
async fn route_costs(
    api: &mut RuntimeApi,
    proxy: &Proxy,
    subject: &Subject,
    table: &str,
    plan: Vec<(Event, bool)>,
    n: &mut u64,
    costs: &mut Vec<RouteCost>,
    errors: &mut Vec<String>,
) -> Result<(), String> {
    let mut launch = subject.launch.clone();
    set_env(&mut launch.env, "DYNAMODB_ENDPOINT", &proxy.endpoint());
    set_env(&mut launch.env, "TABLE_NAME", table);
    let mut process = api.spawn(&launch)?;
    let (_, poll) = api.init(&mut process).await?;
    let mut poll = Some(poll);
    for (event, canonical) in plan {
        *n += 1;
        proxy.take();
        let answer = api
            .invoke(&mut process, poll.take(), Bytes::from(event.render(*n)))
            .await;
        let calls = proxy.take();
        let status = match &answer {
            Ok(invoked) => fixture::status_of(&invoked.body),
            Err(e) => {
                errors.push(format!("events/{}/{}: {e}", event.group, event.name));
                None
            }
        };
        if answer.is_ok() && status != Some(event.expected) {
            errors.push(format!(
                "events/{}/{}: expected {}, got {status:?}",
                event.group, event.name, event.expected
            ));
        }
        costs.push(RouteCost {
            group: event.group.clone(),
            method: event.method.clone(),
            resource: event.resource.clone(),
            event: event.name.clone(),
            canonical,
            expected: event.expected,
            status,
            calls,
        });
        if answer.is_err() {
            // The process may be gone: the remaining events of this function need a new one.
            return Err("stopped after a failed invocation".into());
        }
    }
    Ok(())
}

/// One new change (one stream record) through the stream's function pointed at the proxy: what a
/// write costs once more in DynamoDB to become a history entry and an event.
async fn stream_cost(
    api: &mut RuntimeApi,
    proxy: &Proxy,
    subject: &Subject,
    n: &mut u64,
    costs: &mut Vec<RouteCost>,
) -> Result<(), String> {
    let mut launch = subject.launch.clone();
    set_env(&mut launch.env, "DYNAMODB_ENDPOINT", &proxy.endpoint());
    let mut process = api.spawn(&launch)?;
    let (_, poll) = api.init(&mut process).await?;
    *n += 1;
    proxy.take();
    let invoked = api.invoke(&mut process, Some(poll), subject.payload.render(*n)).await?;
    let calls = proxy.take();
    let name = match &subject.payload {
        Payload::Stream(name, _) => name.clone(),
        _ => String::new(),
    };
    costs.push(RouteCost {
        group: subject.label.clone(),
        method: "STREAM".into(),
        resource: "one new change (a stream record)".into(),
        event: name,
        canonical: true,
        expected: 200,
        status: subject.payload.accepts(&invoked).then_some(200),
        calls,
    });
    Ok(())
}

fn set_env(env: &mut Vec<(String, String)>, name: &str, value: &str) {
    env.retain(|(k, _)| k != name);
    env.push((name.to_owned(), value.to_owned()));
}

/// hello, the GetItem Lambda (and its connect-at-init variant), then every function of the
/// template (and its `BENCH_INIT_ENV` variant).
fn subjects(
    config: &Config,
    functions: &[Function],
    env_json: &Value,
    table: &str,
    jwks: &str,
    token: &str,
    events_endpoint: &str,
) -> Result<Vec<Subject>, String> {
    let log = |name: &str| config.work.join("logs").join(format!("{name}.log"));
    let need = |path: PathBuf| {
        if path.is_file() {
            Ok(path)
        } else {
            Err(format!("{} is missing: build first (make bench does)", path.display()))
        }
    };
    let customers_events = fixture::events(&config.root, "customers")?;
    let get_customer = customers_events
        .iter()
        .find(|e| e.name == "get-customer.json")
        .cloned()
        .ok_or("events/customers/get-customer.json is missing")?;
    let page_secret = env_json["CustomersFunction"]["PAGE_TOKEN_SECRET"]
        .as_str()
        .unwrap_or_default();
    let ddb = config.ddb_endpoint();
    let mut subjects = Vec::new();

    let hello = need(config.bin_dir.join("hello/bootstrap"))?;
    subjects.push(Subject {
        label: "hello (lambda_http baseline)".into(),
        kind: Kind::Hello,
        cold_only: false,
        function: None,
        launch: Launch {
            label: "hello".into(),
            function_name: "hello".into(),
            bootstrap: hello,
            env: vec![("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH".into(), "true".into())],
            log: Some(log("hello")),
            timeout: bench::runtime::TIMEOUT,
            memory_mb: 128,
            access_key_id: "local".into(),
        },
        payload: Payload::Http(get_customer.clone()),
        m: Measured::default(),
    });

    let getitem = need(config.bin_dir.join("ddb-baseline/bootstrap"))?;
    let getitem_env = vec![
        ("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH".to_owned(), "true".to_owned()),
        ("TABLE_NAME".into(), table.into()),
        ("BENCH_CUSTOMER_ID".into(), fixture::CUSTOMER_ID.into()),
        ("DYNAMODB_ENDPOINT".into(), ddb.clone()),
    ];
    for connect_at_init in [false, true] {
        let mut env = getitem_env.clone();
        let mut label = "GetItem λ (ddb-baseline: raw SDK GetItem)".to_owned();
        if connect_at_init {
            env.push(("DDB_BASELINE_CONNECT_AT_INIT".into(), "true".into()));
            label = "GetItem λ, connection opened during init".into();
        }
        subjects.push(Subject {
            label,
            kind: Kind::GetItemLambda,
            cold_only: connect_at_init,
            function: None,
            launch: Launch {
                label: "ddb-baseline".into(),
                function_name: "ddb-baseline".into(),
                bootstrap: getitem.clone(),
                env,
                log: Some(log("ddb-baseline")),
                timeout: bench::runtime::TIMEOUT,
                memory_mb: 128,
                access_key_id: "local".into(),
            },
            payload: Payload::Http(get_customer.clone()),
            m: Measured::default(),
        });
    }

    for function in functions {
        let bootstrap = need(config.functions_dir.join(&function.resource).join("bootstrap"))?;
        let mut env = vec![
            ("METRICS_NAMESPACE".to_owned(), "CustomerApi".to_owned()),
            ("CORS_ALLOWED_ORIGINS".into(), String::new()),
            ("RUST_LOG".into(), "info".into()),
        ];
        let payload = if function.group == "authorizer" {
            env.push(("JWT_ISSUER".into(), local_api::keys::LOCAL_ISSUER.into()));
            env.push(("JWT_AUDIENCE".into(), local_api::keys::LOCAL_AUDIENCE.into()));
            env.push(("JWKS_JSON".into(), jwks.into()));
            let arn = format!(
                "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/api/GET/v1/banks/{}/customers/{}",
                fixture::BANK_ID,
                fixture::CUSTOMER_ID
            );
            let event = serde_json::json!({
                "type": "TOKEN",
                "authorizationToken": format!("Bearer {token}"),
                "methodArn": arn,
            });
            Payload::Authorizer(serde_json::to_vec(&event).unwrap_or_default())
        } else {
            match env_json[&function.resource].as_object() {
                Some(vars) => env.extend(
                    vars.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())),
                ),
                None => {
                    env.push(("PAGE_TOKEN_SECRET".into(), page_secret.into()));
                    env.push(("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH".into(), "true".into()));
                }
            }
            set_env(&mut env, "TABLE_NAME", table);
            set_env(&mut env, "DYNAMODB_ENDPOINT", &ddb);
            match fixture::stream_event(&config.root, &function.group)? {
                Some((name, event)) => {
                    set_env(&mut env, "EVENTBRIDGE_ENDPOINT", events_endpoint);
                    Payload::Stream(name, event)
                }
                None => {
                    let events = fixture::events(&config.root, &function.group)?;
                    let event = fixture::timing_event(&events)
                        .cloned()
                        .ok_or_else(|| format!("events/{}/ has no successful event", function.group))?;
                    Payload::Http(event)
                }
            }
        };
        let launch = Launch {
            label: function.group.clone(),
            function_name: function.resource.clone(),
            bootstrap,
            env,
            log: Some(log(&function.group)),
            timeout: bench::runtime::TIMEOUT,
            memory_mb: 128,
            access_key_id: "local".into(),
        };
        let variant = (!config.init_env.is_empty() && function.group != "authorizer").then(|| {
            let mut launch = launch.clone();
            for (k, v) in &config.init_env {
                set_env(&mut launch.env, k, v);
            }
            let settings: Vec<String> = config.init_env.iter().map(|(k, v)| format!("{k}={v}")).collect();
            Subject {
                label: format!("{}, {}", function.group, settings.join(" ")),
                kind: Kind::Function,
                cold_only: true,
                function: Some(function.clone()),
                launch,
                payload: payload.clone(),
                m: Measured::default(),
            }
        });
        subjects.push(Subject {
            label: function.group.clone(),
            kind: Kind::Function,
            cold_only: false,
            function: Some(function.clone()),
            launch,
            payload,
            m: Measured::default(),
        });
        subjects.extend(variant);
    }
    Ok(subjects)
}

/// The peers, timed with the Rust customers function's event against the same table.
fn peer_subjects(
    config: &Config,
    subjects: &[Subject],
    peers: Vec<bench::peers::Peer>,
    table: &str,
) -> Result<Vec<Subject>, String> {
    let rust = subjects
        .iter()
        .find(|s| s.kind == Kind::Function && !s.cold_only && s.label == "customers")
        .ok_or("no customers function to compare the peers with")?;
    Ok(peers
        .into_iter()
        .map(|peer| Subject {
            label: peer.label.into(),
            kind: Kind::Peer,
            cold_only: false,
            function: None,
            launch: Launch {
                label: peer.name.into(),
                function_name: format!("peer-{}", peer.name),
                bootstrap: peer.dir.join("bootstrap"),
                env: vec![
                    ("TABLE_NAME".into(), table.into()),
                    ("DYNAMODB_ENDPOINT".into(), config.ddb_endpoint()),
                ],
                log: Some(config.work.join("logs").join(format!("peer-{}.log", peer.name))),
                timeout: bench::runtime::TIMEOUT,
                memory_mb: 128,
                access_key_id: "local".into(),
            },
            payload: rust.payload.clone(),
            m: Measured::default(),
        })
        .collect())
}

/// Runs the subject for `PRIME` untimed invocations, so that DynamoDB Local has compiled the paths
/// of its request.
async fn prime(api: &mut RuntimeApi, subject: &Subject, n: &mut u64) -> Result<(), String> {
    let mut process = api.spawn(&subject.launch)?;
    let (_, poll) = api.init(&mut process).await?;
    let mut poll = Some(poll);
    for _ in 0..PRIME {
        *n += 1;
        let invoked = api
            .invoke(&mut process, poll.take(), subject.payload.render(*n))
            .await?;
        if !subject.payload.accepts(&invoked) {
            return Err(format!(
                "an invocation answered {}",
                String::from_utf8_lossy(&invoked.body)
            ));
        }
    }
    Ok(())
}

/// Starts the subject, times its init and first invocation, and kills it.
async fn cold_start(api: &mut RuntimeApi, subject: &mut Subject, n: u64) -> Result<(), String> {
    let mut process = api.spawn(&subject.launch)?;
    let (init, poll) = api.init(&mut process).await?;
    let first = api.invoke(&mut process, Some(poll), subject.payload.render(n)).await?;
    if !subject.payload.accepts(&first) {
        return Err(format!(
            "the first invocation answered {}",
            String::from_utf8_lossy(&first.body)
        ));
    }
    subject.m.inits.push(init.as_secs_f64() * 1e3);
    subject.m.firsts.push(first.duration.as_secs_f64() * 1e3);
    Ok(())
}

async fn raw_get_item(client: &aws_sdk_dynamodb::Client, table: &str) -> Result<Duration, String> {
    use aws_sdk_dynamodb::types::AttributeValue;
    let start = Instant::now();
    let out = client
        .get_item()
        .table_name(table)
        .key("pk", AttributeValue::S(format!("CUSTOMER#{}", fixture::CUSTOMER_ID)))
        .key("sk", AttributeValue::S("CUSTOMER".into()))
        .send()
        .await
        .map_err(|e| format!("GetItem: {e:?}"))?;
    let elapsed = start.elapsed();
    out.item.ok_or("GetItem: the fixture customer is missing")?;
    Ok(elapsed)
}

/// One subject's warm phase: `BENCH_WARM` timed invocations in blocks, each block followed by as
/// many raw GetItems and GetItem Lambda invocations; then more invocations up to `BENCH_SOAK`,
/// with RSS read at both points. Returns the GetItem Lambda's samples.
async fn warm(
    config: &Config,
    api: &mut RuntimeApi,
    subject: &mut Subject,
    n: &mut u64,
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    (baseline_api, baseline, baseline_payload): (&mut RuntimeApi, &mut Process, &Payload),
) -> Result<Vec<f64>, String> {
    let mut process = api.spawn(&subject.launch)?;
    let (_, poll) = api.init(&mut process).await?;
    *n += 1;
    api.invoke(&mut process, Some(poll), subject.payload.render(*n)).await?;
    subject.m.invocations = 1;
    let cpu_start = cpu::process_seconds(process.pid());
    let mut baseline_samples = Vec::with_capacity(config.warm);
    for _block in 0..config.warm / BLOCK {
        for _ in 0..BLOCK {
            *n += 1;
            let invoked = api.invoke(&mut process, None, subject.payload.render(*n)).await?;
            subject.m.invocations += 1;
            if !subject.payload.accepts(&invoked) {
                reject(subject, &invoked);
            }
            subject.m.warm.push(invoked.duration.as_secs_f64() * 1e6);
        }
        for _ in 0..BLOCK {
            subject
                .m
                .raw
                .push(raw_get_item(client, table).await?.as_secs_f64() * 1e6);
        }
        for _ in 0..BLOCK {
            let invoked = baseline_api.invoke(baseline, None, baseline_payload.render(0)).await?;
            if !baseline_payload.accepts(&invoked) {
                return Err(format!(
                    "the GetItem Lambda answered {}",
                    String::from_utf8_lossy(&invoked.body)
                ));
            }
            let micros = invoked.duration.as_secs_f64() * 1e6;
            subject.m.getitem_lambda.push(micros);
            baseline_samples.push(micros);
        }
    }
    subject.m.rss_warm_kib = Some(process.memory_kib()?.0);
    while subject.m.invocations < config.soak as u64 {
        *n += 1;
        let invoked = api.invoke(&mut process, None, subject.payload.render(*n)).await?;
        subject.m.invocations += 1;
        if !subject.payload.accepts(&invoked) {
            reject(subject, &invoked);
        }
    }
    let (rss, peak) = process.memory_kib()?;
    subject.m.rss_soak_kib = Some(rss);
    subject.m.peak_kib = Some(peak);
    if let (Some(a), Some(b)) = (cpu_start, cpu::process_seconds(process.pid())) {
        subject.m.cpu_us = Some((b - a) * 1e6 / (subject.m.invocations - 1) as f64);
    }
    Ok(baseline_samples)
}

fn reject(subject: &mut Subject, invoked: &Invoked) {
    subject.m.rejected += 1;
    if subject.m.rejected == 1 {
        subject.m.errors.push(format!(
            "an invocation answered {}",
            String::from_utf8_lossy(&invoked.body)
                .chars()
                .take(300)
                .collect::<String>()
        ));
    }
}

/// `zip -9` of the bootstrap alone, as `sam package` uploads it (Python's zipfile when `zip` is
/// not installed).
fn zipped_size(bootstrap: &Path, zip: &Path) -> Result<u64, String> {
    let _ = std::fs::remove_file(zip);
    if bootstrap.is_dir() {
        // A peer's package: every file under the directory, with its relative path.
        let script = "import os, sys, zipfile\n\
             with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED, compresslevel=9) as z:\n    \
             for root, _, files in os.walk(sys.argv[2]):\n        \
             for f in files:\n            \
             p = os.path.join(root, f)\n            \
             z.write(p, os.path.relpath(p, sys.argv[2]))";
        let status = Command::new("python3")
            .args(["-c", script])
            .arg(zip)
            .arg(bootstrap)
            .status()
            .map_err(|e| format!("python3 cannot zip {}: {e}", bootstrap.display()))?;
        if !status.success() {
            return Err(format!("cannot zip {}", bootstrap.display()));
        }
        return std::fs::metadata(zip)
            .map(|m| m.len())
            .map_err(|e| format!("{}: {e}", zip.display()));
    }
    let zipped = Command::new("zip")
        .args(["-9", "-q", "-j", "-X"])
        .arg(zip)
        .arg(bootstrap)
        .status()
        .is_ok_and(|s| s.success());
    if !zipped {
        let script = "import sys, zipfile\n\
             with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED, compresslevel=9) as z:\n    \
             z.write(sys.argv[2], 'bootstrap')";
        let status = Command::new("python3")
            .args(["-c", script])
            .arg(zip)
            .arg(bootstrap)
            .status()
            .map_err(|e| format!("neither zip nor python3 can zip {}: {e}", bootstrap.display()))?;
        if !status.success() {
            return Err(format!("cannot zip {}", bootstrap.display()));
        }
    }
    std::fs::metadata(zip)
        .map(|m| m.len())
        .map_err(|e| format!("{}: {e}", zip.display()))
}

/// A process killed when dropped.
struct Guard(std::process::Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sdk_env(config: &Config) -> Vec<(&'static str, String)> {
    vec![
        ("PATH", std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into())),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "local".into()),
        ("AWS_SECRET_ACCESS_KEY", "local".into()),
        ("DYNAMODB_ENDPOINT", config.ddb_endpoint()),
    ]
}

/// Rounds of the throughput run: local-api and the GetItem baseline take turns, so that both see the
/// same machine (on 2 shared cores a 30 s run of one and then of the other drifted by 10-15%).
const LOAD_ROUNDS: u64 = 3;

/// The local API under wrk and DynamoDB Local's own GetItem, in `LOAD_ROUNDS` alternating rounds
/// that share `BENCH_LOAD_SECONDS`, after a 5 s warm-up of each.
async fn throughput(
    config: &Config,
    table: &str,
    page_secret: &str,
    keys_dir: &Path,
    token: &str,
) -> (Result<Throughput, String>, Result<Throughput, String>) {
    let dynamodb = cpu::dynamodb_local_pid(&config.root, config.ddb_port);
    let api = match LocalApi::start(config, table, page_secret, keys_dir, token, dynamodb).await {
        Ok(api) => api,
        Err(e) => return (Err(e), Err("not measured: local-api did not start".into())),
    };
    let (mut api_rounds, mut ddb_rounds) = (Vec::new(), Vec::new());
    let seconds = (config.load_seconds / LOAD_ROUNDS).max(1);
    let warm_up = async {
        api.wrk(5).await?;
        ddb_load(config, table, 5, dynamodb).await
    };
    if let Err(e) = warm_up.await {
        return (Err(format!("warm-up: {e}")), Err(format!("warm-up: {e}")));
    }
    for round in 1..=LOAD_ROUNDS {
        progress(format!(
            "throughput round {round}/{LOAD_ROUNDS}: local-api GET customer (wrk, {} connections), then \
             DynamoDB Local GetItem through the SDK ({} tasks), {seconds} s each",
            config.connections, config.connections
        ));
        api_rounds.push(api.wrk(seconds).await);
        ddb_rounds.push(ddb_load(config, table, seconds, dynamodb).await);
    }
    (Throughput::of_rounds(api_rounds), Throughput::of_rounds(ddb_rounds))
}

/// local-api serving the fixture table, and the wrk script that calls GET customer with a token.
struct LocalApi {
    server: Guard,
    dynamodb: Option<u32>,
    url: String,
    script: PathBuf,
    connections: usize,
}

impl LocalApi {
    async fn start(
        config: &Config,
        table: &str,
        page_secret: &str,
        keys_dir: &Path,
        token: &str,
        dynamodb: Option<u32>,
    ) -> Result<Self, String> {
        let binary = config.bin_dir.join("local-api/bootstrap");
        let log = std::fs::File::create(config.work.join("logs/local-api.log")).map_err(|e| e.to_string())?;
        let mut command = Command::new(&binary);
        command
            .arg("serve")
            .env_clear()
            .envs(sdk_env(config))
            .env("PORT", config.api_port.to_string())
            .env("TABLE_NAME", table)
            .env("LOCAL_DIR", keys_dir)
            .env("PAGE_TOKEN_SECRET", page_secret)
            .env("LOCAL_TEMPLATE", config.root.join("template.yaml"))
            .env("RUST_LOG", "info")
            .current_dir(&config.root)
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log);
        let server = Guard(
            command
                .spawn()
                .map_err(|e| format!("cannot start {}: {e}", binary.display()))?,
        );
        let url = format!(
            "http://127.0.0.1:{}/v1/banks/{}/customers/{}",
            config.api_port,
            fixture::BANK_ID,
            fixture::CUSTOMER_ID
        );
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| e.to_string())?;
        let mut ready = false;
        for _ in 0..300 {
            if let Ok(r) = http.get(&url).bearer_auth(token).send().await {
                if r.status() == 200 {
                    ready = true;
                    break;
                }
                return Err(format!("local-api answered {} to GET customer", r.status()));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if !ready {
            return Err("local-api did not answer within 30 s".into());
        }
        let script = config.work.join("wrk.lua");
        std::fs::write(
            &script,
            format!(
                "wrk.headers[\"Authorization\"] = \"Bearer {token}\"\n\
                 done = function(summary, latency, requests)\n  \
                   local e = summary.errors\n  \
                   io.write(string.format('BENCH_JSON {{\"requests\":%d,\"duration_us\":%d,\"connect\":%d,\"read\":%d,\
                 \"write\":%d,\"status\":%d,\"timeout\":%d,\"p50_us\":%d,\"p99_us\":%d}}\\n', summary.requests, \
                 summary.duration, e.connect, e.read, e.write, e.status, e.timeout, latency:percentile(50), \
                 latency:percentile(99)))\n\
                 end\n"
            ),
        )
        .map_err(|e| e.to_string())?;
        Ok(Self {
            server,
            dynamodb,
            url,
            script,
            connections: config.connections,
        })
    }

    /// One wrk run of `seconds`.
    async fn wrk(&self, seconds: u64) -> Result<Throughput, String> {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
        let mut command = Command::new("timeout");
        command
            .arg((seconds + 60).to_string())
            .arg("wrk")
            .arg(format!("-t{threads}"))
            .arg(format!("-c{}", self.connections))
            .arg(format!("-d{seconds}s"))
            .args(["--timeout", "5s", "-s"])
            .arg(&self.script)
            .arg(&self.url);
        let meter = cpu::Meter::start(Some(self.server.0.id()), self.dynamodb);
        let out = run_json(command).await?;
        let cpu = meter.spent();
        const ERRORS: [&str; 5] = ["connect", "read", "write", "status", "timeout"];
        let errors = ERRORS.iter().map(|k| out[k].as_u64().unwrap_or_default()).sum();
        let detail = ERRORS
            .iter()
            .filter(|k| out[**k].as_u64().unwrap_or_default() > 0)
            .map(|k| format!("{k} {}", out[*k]))
            .collect::<Vec<_>>()
            .join(", ");
        Ok(Throughput {
            requests: out["requests"].as_u64().unwrap_or_default(),
            errors,
            seconds: out["duration_us"].as_f64().unwrap_or_default() / 1e6,
            p50_us: out["p50_us"].as_f64().unwrap_or_default(),
            p99_us: out["p99_us"].as_f64().unwrap_or_default(),
            detail,
            rounds: Vec::new(),
            cpu,
        })
    }
}

/// One run of `ddb-baseline load`: as many tasks as wrk has connections, for `seconds`.
async fn ddb_load(config: &Config, table: &str, seconds: u64, dynamodb: Option<u32>) -> Result<Throughput, String> {
    let binary = config.bin_dir.join("ddb-baseline/bootstrap");
    let mut command = Command::new("timeout");
    command
        .arg((seconds + 60).to_string())
        .arg(&binary)
        .args(["load", &config.connections.to_string(), &seconds.to_string()])
        .env_clear()
        .envs(sdk_env(config))
        .env("TABLE_NAME", table)
        .env("BENCH_CUSTOMER_ID", fixture::CUSTOMER_ID);
    let meter = cpu::Meter::start(None, dynamodb);
    let out = run_json(command).await?;
    let cpu = meter.spent();
    Ok(Throughput {
        requests: out["requests"].as_u64().unwrap_or_default(),
        errors: out["errors"].as_u64().unwrap_or_default(),
        seconds: out["seconds"].as_f64().unwrap_or_default(),
        p50_us: out["p50_us"].as_f64().unwrap_or_default(),
        p99_us: out["p99_us"].as_f64().unwrap_or_default(),
        detail: String::new(),
        rounds: Vec::new(),
        cpu,
    })
}

/// Where the CPU went, per request, in both runs: `; CPU per request: …`, or nothing without
/// readings.
fn cpu_per_request(api: &Throughput, ddb: &Throughput) -> String {
    let per = |seconds: Option<f64>, t: &Throughput| {
        seconds
            .filter(|_| t.requests > 0)
            .map_or("?".to_owned(), |s| format!("{:.0} µs", s * 1e6 / t.requests as f64))
    };
    let busy = |t: &Throughput| {
        t.cpu
            .machine
            .filter(|(_, total)| *total > 0.0)
            .map_or("?".to_owned(), |(b, total)| format!("{:.0}%", b / total * 100.0))
    };
    format!(
        ". CPU per request: local-api {} + wrk {} + DynamoDB Local {}; the GetItem baseline {} + \
         DynamoDB Local {}. The machine was busy {} and {} of the time",
        per(api.cpu.server, api),
        per(api.cpu.generator, api),
        per(api.cpu.dynamodb, api),
        per(ddb.cpu.generator, ddb),
        per(ddb.cpu.dynamodb, ddb),
        busy(api),
        busy(ddb)
    )
}

/// Runs `command` and parses the JSON on its last line (after `BENCH_JSON ` for wrk).
async fn run_json(mut command: Command) -> Result<Value, String> {
    let shown = format!("{command:?}");
    let output = tokio::task::spawn_blocking(move || command.stdin(Stdio::null()).output())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("{shown}: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "{shown} failed ({}): {}{}",
            output.status,
            stdout,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l.strip_prefix("BENCH_JSON ").unwrap_or(l)).ok())
        .ok_or_else(|| format!("{shown} printed no JSON: {stdout}"))
}

// ----- the machine

fn machine() -> BTreeMap<&'static str, String> {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let command = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let cpuinfo = read("/proc/cpuinfo");
    let cpu = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .and_then(|r| r.split_once(':'))
                .map(|(_, v)| v.trim())
        })
        .unwrap_or("unknown")
        .to_owned();
    let mem_kib: u64 = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_default();
    BTreeMap::from([
        (
            "nproc",
            std::thread::available_parallelism().map_or("?".into(), |n| n.to_string()),
        ),
        ("cpu", cpu),
        ("memory", format!("{:.1} GiB", mem_kib as f64 / 1024.0 / 1024.0)),
        (
            "kernel",
            format!(
                "Linux {} {}",
                read("/proc/sys/kernel/osrelease").trim(),
                std::env::consts::ARCH
            ),
        ),
        ("rustc", command("rustc", &["--version"])),
        ("date", command("date", &["-u", "+%Y-%m-%d %H:%M:%S UTC"])),
        (
            "load",
            read("/proc/loadavg")
                .split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" "),
        ),
    ])
}

// ----- the report

struct Report<'a> {
    config: &'a Config,
    subjects: &'a [Subject],
    costs: &'a [RouteCost],
    cost_errors: &'a [String],
    api_load: &'a Result<Throughput, String>,
    ddb_load: &'a Result<Throughput, String>,
    machine_start: &'a BTreeMap<&'static str, String>,
    machine_end: &'a BTreeMap<&'static str, String>,
    elapsed: Duration,
    /// Peers that could not be installed: (label, why).
    missing_peers: &'a [(&'static str, String)],
    import: &'a Option<Result<bench::import::ImportRun, String>>,
}

fn ms(micros: f64) -> String {
    let millis = micros / 1e3;
    if millis >= 100.0 {
        format!("{millis:.0} ms")
    } else if millis >= 10.0 {
        format!("{millis:.1} ms")
    } else {
        format!("{millis:.2} ms")
    }
}

fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.2}×", a / b)
    } else {
        "–".into()
    }
}

fn mib(bytes: f64) -> String {
    format!("{:.2} MiB", bytes / MIB)
}

fn units(u: f64) -> String {
    // `+ 0.0` turns the -0.0 of an empty sum into 0.
    let s = format!("{:.1}", u + 0.0);
    s.strip_suffix(".0").map(str::to_owned).unwrap_or(s)
}

fn range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

fn median(values: &[f64]) -> Summary {
    Summary::of(&mut values.to_vec())
}

impl Report<'_> {
    fn hello(&self) -> Option<&Subject> {
        self.subjects.iter().find(|s| s.kind == Kind::Hello)
    }

    /// The warm p50 a subject's first invocation is compared with: its own, or for a cold-start
    /// variant that of the subject it varies.
    fn reference_warm_p50(&self, subject: &Subject) -> Option<f64> {
        let group = |s: &Subject| s.function.as_ref().map(|f| f.group.clone());
        self.subjects
            .iter()
            .find(|s| {
                !s.cold_only
                    && s.kind == subject.kind
                    && group(s) == group(subject)
                    && (s.kind != Kind::Peer || s.label == subject.label)
            })
            .map(|s| median(&s.m.warm))
            .filter(|w| w.n > 0)
            .map(|w| w.p50)
    }

    fn raw_samples(&self) -> Vec<f64> {
        self.subjects.iter().flat_map(|s| s.m.raw.iter().copied()).collect()
    }

    fn main_table(&self) -> String {
        let hello = self.hello();
        let hello_zip = hello.and_then(|h| h.m.zip_bytes).unwrap_or_default() as f64;
        let hello_init = hello.map(|h| median(&h.m.inits).p50).unwrap_or_default();
        let hello_peak = hello.and_then(|h| h.m.peak_kib).unwrap_or_default() as f64;
        let mut t = format!(
            "| binary | zipped package (× hello) | init: median [min–max] (× hello) | first invocation: median (÷ warm p50) \
             | warm p50 / p99 (× raw GetItem p50 / p99) | peak RSS (× hello) | RSS after {} → {} invocations \
             | DynamoDB per request: max sequential round trips · RCU · WCU | throughput (× GetItem) · errors |\n\
             |---|---|---|---|---|---|---|---|---|\n",
            self.config.warm, self.config.soak
        );
        for s in self.subjects {
            let m = &s.m;
            let zip = m
                .zip_bytes
                .map(|z| format!("{} ({})", mib(z as f64), ratio(z as f64, hello_zip)))
                .unwrap_or_else(|| "(same binary)".into());
            let init = median(&m.inits);
            let init_cell = if init.n > 0 {
                format!(
                    "{} [{}–{}] ({})",
                    ms(init.p50 * 1e3),
                    ms(init.min * 1e3),
                    ms(init.max * 1e3),
                    ratio(init.p50, hello_init)
                )
            } else {
                "failed".into()
            };
            let warm = median(&m.warm);
            let first = median(&m.firsts);
            let first_cell = match (first.n, self.reference_warm_p50(s)) {
                (0, _) => "failed".into(),
                (_, Some(warm_p50)) => format!("{} ({})", ms(first.p50 * 1e3), ratio(first.p50 * 1e3, warm_p50)),
                _ => ms(first.p50 * 1e3),
            };
            let warm_cell = if warm.n == 0 {
                "–".into()
            } else {
                let raw = if s.kind == Kind::GetItemLambda {
                    Summary::of(&mut self.raw_samples())
                } else {
                    median(&m.raw)
                };
                let uses_dynamodb = matches!(s.kind, Kind::GetItemLambda | Kind::Peer)
                    || s.function.as_ref().is_some_and(|f| f.group != "authorizer");
                if uses_dynamodb && raw.n > 0 {
                    format!(
                        "{} / {} ({} / {})",
                        ms(warm.p50),
                        ms(warm.p99),
                        ratio(warm.p50, raw.p50),
                        ratio(warm.p99, raw.p99)
                    )
                } else {
                    format!("{} / {}", ms(warm.p50), ms(warm.p99))
                }
            };
            let peak_cell = m
                .peak_kib
                .map(|p| format!("{} ({})", mib(p as f64 * 1024.0), ratio(p as f64, hello_peak)))
                .unwrap_or_else(|| "–".into());
            let rss_cell = match (m.rss_warm_kib, m.rss_soak_kib) {
                (Some(a), Some(b)) => format!(
                    "{} → {} ({:+} KiB)",
                    mib(a as f64 * 1024.0),
                    mib(b as f64 * 1024.0),
                    b as i64 - a as i64
                ),
                _ => "–".into(),
            };
            let ddb_cell = match &s.function {
                Some(f) if !s.cold_only => self.ddb_summary(&f.group),
                _ => String::new(),
            };
            let errors = if m.errors.is_empty() && m.rejected == 0 {
                String::new()
            } else {
                format!("errors: {}", m.errors.len() as u64 + m.rejected.saturating_sub(1))
            };
            let _ = writeln!(
                t,
                "| {} | {zip} | {init_cell} | {first_cell} | {warm_cell} | {peak_cell} | {rss_cell} | {ddb_cell} | {errors} |",
                s.label
            );
        }
        let raw = Summary::of(&mut self.raw_samples());
        let _ = writeln!(
            t,
            "| raw SDK GetItem (in-process loop, interleaved with the warm runs; n = {}) | | | | {} / {} | | | 1 · 1 RCU (strongly consistent, as GET customer) | |",
            raw.n,
            ms(raw.p50),
            ms(raw.p99)
        );
        let ddb_rps = self.ddb_load.as_ref().map(Throughput::rps).unwrap_or_default();
        for (label, load) in [
            (
                format!(
                    "local-api GET customer (wrk, {} connections, {} s in {LOAD_ROUNDS} rounds)",
                    self.config.connections, self.config.load_seconds
                ),
                self.api_load,
            ),
            (
                format!(
                    "DynamoDB Local GetItem through the SDK ({} tasks, {} s in {LOAD_ROUNDS} rounds, between local-api's)",
                    self.config.connections, self.config.load_seconds
                ),
                self.ddb_load,
            ),
        ] {
            match load {
                Ok(l) => {
                    let detail = if l.detail.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", l.detail)
                    };
                    let _ = writeln!(
                        t,
                        "| {label} | | | | {} / {} | | | | {:.0} req/s ({}) · {} errors{detail} |",
                        ms(l.p50_us),
                        ms(l.p99_us),
                        l.rps(),
                        ratio(l.rps(), ddb_rps),
                        l.errors
                    );
                }
                Err(e) => {
                    let _ = writeln!(t, "| {label} | | | | | | | | failed: {} |", e.replace('|', "/"));
                }
            }
        }
        t
    }

    fn canonical_costs(&self, group: &str) -> impl Iterator<Item = &RouteCost> {
        self.costs.iter().filter(move |c| c.group == group && c.canonical)
    }

    fn ddb_summary(&self, group: &str) -> String {
        let costs: Vec<&RouteCost> = self.canonical_costs(group).collect();
        if costs.is_empty() {
            return "no DynamoDB".into();
        }
        let trips = costs.iter().map(|c| c.trips()).max().unwrap_or_default();
        let show = |r: Option<(f64, f64)>, unit: &str| match r {
            Some((lo, hi)) if lo == hi => format!("{} {unit}", units(lo)),
            Some((lo, hi)) => format!("{}–{} {unit}", units(lo), units(hi)),
            None => format!("0 {unit}"),
        };
        let reads = range(costs.iter().filter(|c| c.rcu() > 0.0).map(|c| c.rcu()));
        let writes = range(costs.iter().filter(|c| c.wcu() > 0.0).map(|c| c.wcu()));
        format!(
            "{trips} · {} · {} ({} routes)",
            show(reads, "RCU"),
            show(writes, "WCU"),
            costs.len()
        )
    }

    fn cost_table(&self) -> String {
        let mut t = String::from(
            "| route | event | status | DynamoDB calls (→ sequential, ∥ parallel) | sequential round trips | RCU | WCU \
             | strongly consistent reads | transactions |\n|---|---|---|---|---|---|---|---|---|\n",
        );
        for c in self.costs {
            let status = match c.status {
                Some(s) if s == c.expected => s.to_string(),
                Some(s) => format!("{s} (expected {})", c.expected),
                None => format!("failed (expected {})", c.expected),
            };
            let consistent = c.calls.iter().filter(|x| x.consistent_read).count();
            let transactions = c.calls.iter().filter(|x| x.operation.starts_with("Transact")).count();
            let _ = writeln!(
                t,
                "| {}`{} {}` | {} | {status} | {} | {} | {} | {} | {} | {} |",
                if c.canonical { "" } else { "↳ " },
                c.method,
                c.resource,
                c.event,
                proxy::describe(&c.calls),
                c.trips(),
                units(c.rcu()),
                units(c.wcu()),
                consistent,
                transactions
            );
        }
        for e in self.cost_errors {
            let _ = writeln!(t, "\nerror: {e}");
        }
        t
    }

    fn functions(&self) -> impl Iterator<Item = &Subject> {
        self.subjects
            .iter()
            .filter(|s| s.kind == Kind::Function && !s.cold_only)
    }

    fn targets(&self) -> String {
        let mut rows: Vec<(String, String, &'static str)> = Vec::new();
        let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
        let hello = self.hello();
        let hello_init = hello.map(|h| median(&h.m.inits).p50).unwrap_or_default();

        // Package size.
        let zips: Vec<(&str, f64)> = self
            .functions()
            .filter_map(|s| s.m.zip_bytes.map(|z| (s.label.as_str(), z as f64 / MIB)))
            .collect();
        if let Some((name, worst)) = zips.iter().copied().max_by(|a, b| a.1.total_cmp(&b.1)) {
            let over: Vec<String> = zips
                .iter()
                .filter(|(_, z)| *z > MAX_ZIP_MIB)
                .map(|(n, z)| format!("{n} {z:.2}"))
                .collect();
            rows.push((
                format!("each function's zipped package ≤ {MAX_ZIP_MIB} MiB"),
                format!(
                    "largest {name} {worst:.2} MiB; over: {}",
                    if over.is_empty() {
                        "none".into()
                    } else {
                        over.join(", ")
                    }
                ),
                verdict(over.is_empty()),
            ));
        }

        // Init, as the functions start without a BENCH_INIT_ENV setting: opening the DynamoDB
        // connection during init moves a round trip into it by design (those rows are shown, and
        // judged by the first-invocation target).
        let inits: Vec<(&str, f64)> = self
            .subjects
            .iter()
            .filter(|s| s.kind == Kind::Function && !s.cold_only && !s.m.inits.is_empty())
            .map(|s| (s.label.as_str(), median(&s.m.inits).p50))
            .collect();
        if let Some((name, worst)) = inits.iter().copied().max_by(|a, b| a.1.total_cmp(&b.1)) {
            let over: Vec<String> = inits
                .iter()
                .filter(|(_, i)| *i > hello_init * MAX_INIT_RATIO)
                .map(|(n, i)| format!("{n} {}", ratio(*i, hello_init)))
                .collect();
            rows.push((
                format!("init ≤ {MAX_INIT_RATIO}× hello's (median), without a BENCH_INIT_ENV setting"),
                format!(
                    "hello {}; slowest {name} {} = {}; over: {}",
                    ms(hello_init * 1e3),
                    ms(worst * 1e3),
                    ratio(worst, hello_init),
                    if over.is_empty() {
                        "none".into()
                    } else {
                        over.join(", ")
                    }
                ),
                verdict(over.is_empty() && hello_init > 0.0),
            ));
        }

        // First invocation vs warm: with the BENCH_INIT_ENV setting when there is one (the target
        // asks for the connection opened during init), else as the functions start.
        let with_setting = !self.config.init_env.is_empty();
        let firsts: Vec<(&str, f64)> = self
            .subjects
            .iter()
            .filter(|s| s.kind == Kind::Function && !s.m.firsts.is_empty())
            .filter(|s| !with_setting || s.cold_only || s.label == "authorizer")
            .filter_map(|s| {
                Some((
                    s.label.as_str(),
                    median(&s.m.firsts).p50 * 1e3 / self.reference_warm_p50(s)?,
                ))
            })
            .collect();
        if !firsts.is_empty() {
            let over: Vec<String> = firsts
                .iter()
                .filter(|(_, r)| *r > MAX_FIRST_RATIO)
                .map(|(n, r)| format!("{n} {r:.1}×"))
                .collect();
            let worst = firsts.iter().map(|(_, r)| *r).fold(0.0, f64::max);
            let getitem = self
                .subjects
                .iter()
                .filter(|s| s.kind == Kind::GetItemLambda && !s.m.firsts.is_empty())
                .map(|s| {
                    let first = median(&s.m.firsts).p50 * 1e3;
                    let warm = self.reference_warm_p50(s).unwrap_or_default();
                    format!(
                        "{}: init {}, first invocation {} = {} warm",
                        s.label,
                        ms(median(&s.m.inits).p50 * 1e3),
                        ms(first),
                        ratio(first, warm)
                    )
                })
                .collect::<Vec<_>>()
                .join("; ");
            rows.push((
                format!("first invocation ≤ {MAX_FIRST_RATIO}× a warm one (medians); connection opened during init, both ways"),
                format!(
                    "worst {worst:.1}×; over: {}. {} The GetItem baseline both ways: {getitem}",
                    if over.is_empty() { "none".into() } else { over.join(", ") },
                    if with_setting {
                        "Judged on the rows named after the BENCH_INIT_ENV setting (and the authorizer, which has no \
                         DynamoDB); the rows without it are in the table."
                    } else {
                        "No setting opened the DynamoDB connection during init (BENCH_INIT_ENV adds a cold-start row \
                         per function with such a setting)."
                    }
                ),
                verdict(over.is_empty()),
            ));
        }

        // Warm GET customer vs raw GetItem.
        if let Some(customers) = self.functions().find(|s| s.label == "customers") {
            let warm = median(&customers.m.warm);
            let raw = median(&customers.m.raw);
            let lambda = median(&customers.m.getitem_lambda);
            if warm.n > 0 && raw.n > 0 {
                let r = warm.p50 / raw.p50;
                rows.push((
                    format!("warm GET customer ≤ {MAX_WARM_RATIO}× the raw GetItem latency"),
                    format!(
                        "p50 {} vs {} = {r:.2}× (p99 {}); vs the GetItem λ through the same runtime API: {} (p99 {})",
                        ms(warm.p50),
                        ms(raw.p50),
                        ratio(warm.p99, raw.p99),
                        ratio(warm.p50, lambda.p50),
                        ratio(warm.p99, lambda.p99)
                    ),
                    verdict(r <= MAX_WARM_RATIO),
                ));
            }
        }

        // Memory.
        let peaks: Vec<(&str, f64, i64)> = self
            .functions()
            .filter_map(|s| {
                let peak = s.m.peak_kib? as f64 / 1024.0;
                let growth = s.m.rss_soak_kib? as i64 - s.m.rss_warm_kib? as i64;
                Some((s.label.as_str(), peak, growth))
            })
            .collect();
        if let Some((name, worst, _)) = peaks.iter().copied().max_by(|a, b| a.1.total_cmp(&b.1)) {
            rows.push((
                format!("every function's peak RSS ≤ {MAX_PEAK_RSS_MIB} MiB"),
                format!("largest {name} {worst:.1} MiB"),
                verdict(worst <= MAX_PEAK_RSS_MIB),
            ));
            let (gname, _, growth) = peaks.iter().copied().max_by_key(|p| p.2).unwrap_or((name, 0.0, 0));
            rows.push((
                format!(
                    "RSS flat over {} invocations (≤ {MAX_RSS_GROWTH_KIB} KiB growth from invocation {} to {})",
                    self.config.soak, self.config.warm, self.config.soak
                ),
                format!("largest growth {gname} {growth:+} KiB"),
                verdict(growth <= MAX_RSS_GROWTH_KIB as i64),
            ));
        }

        // DynamoDB.
        let canonical: Vec<&RouteCost> = self.costs.iter().filter(|c| c.canonical && c.ok()).collect();
        if !canonical.is_empty() {
            let route = |c: &RouteCost| format!("{} {}", c.method, c.resource);
            let single: Vec<String> = canonical
                .iter()
                .filter(|c| c.single_item() && c.trips() != 1)
                .map(|c| format!("{} ({})", route(c), c.trips()))
                .collect();
            let multi: Vec<String> = canonical
                .iter()
                .filter(|c| matches!(c.method.as_str(), "PUT" | "DELETE") && !c.single_item())
                .map(|c| format!("{} ({}: {})", route(c), c.trips(), proxy::describe(&c.calls)))
                .collect();
            rows.push((
                "single-item reads and writes (GET of one resource, PUT, DELETE without a transaction) are one \
                 round trip"
                    .into(),
                format!(
                    "{}; multi-item PUT/DELETE (a transaction): {}",
                    if single.is_empty() {
                        "all one".into()
                    } else {
                        format!("more than one: {}", single.join(", "))
                    },
                    if multi.is_empty() {
                        "none".into()
                    } else {
                        multi.join(", ")
                    }
                ),
                verdict(single.is_empty()),
            ));
            let worst = canonical.iter().map(|c| c.trips()).max().unwrap_or_default();
            let over: Vec<String> = self
                .costs
                .iter()
                .filter(|c| c.ok() && c.trips() > 2)
                .map(|c| format!("{} [{}] ({})", route(c), c.event, c.trips()))
                .collect();
            rows.push((
                "no route needs more than two sequential round trips".into(),
                format!(
                    "most: {worst}; over two: {}",
                    if over.is_empty() {
                        "none".into()
                    } else {
                        over.join(", ")
                    }
                ),
                verdict(over.is_empty()),
            ));
            let consistent: Vec<String> = canonical
                .iter()
                .filter(|c| c.calls.iter().any(|x| x.consistent_read))
                .map(|c| route(c))
                .collect();
            rows.push((
                "reads eventually consistent except where read-after-write is required".into(),
                format!(
                    "routes with strongly consistent reads (2× the RCU of an eventually consistent read): {}",
                    if consistent.is_empty() {
                        "none".into()
                    } else {
                        consistent.join(", ")
                    }
                ),
                "review",
            ));
            let transactions: Vec<String> = canonical
                .iter()
                .filter(|c| c.calls.iter().any(|x| x.operation.starts_with("Transact")))
                .map(|c| route(c))
                .collect();
            rows.push((
                "transactions only where atomicity needs them".into(),
                format!(
                    "routes using a transaction (2× the WCU of a plain write): {}",
                    if transactions.is_empty() {
                        "none".into()
                    } else {
                        transactions.join(", ")
                    }
                ),
                "review",
            ));
        }

        // Throughput.
        match (self.api_load, self.ddb_load) {
            (Ok(api), Ok(ddb)) => {
                let r = api.rps() / ddb.rps();
                rows.push((
                    format!(
                        "local API ≥ {:.0}% of DynamoDB Local's own GetItem throughput, zero errors",
                        MIN_THROUGHPUT_RATIO * 100.0
                    ),
                    format!(
                        "{:.0} vs {:.0} req/s = {:.0}% (rounds: {}); {} errors",
                        api.rps(),
                        ddb.rps(),
                        r * 100.0,
                        api.rounds
                            .iter()
                            .zip(&ddb.rounds)
                            .map(|(a, d)| format!("{:.0}%", a / d * 100.0))
                            .collect::<Vec<_>>()
                            .join(", "),
                        api.errors
                    ) + &cpu_per_request(api, ddb),
                    verdict(r >= MIN_THROUGHPUT_RATIO && api.errors == 0),
                ));
            }
            (a, b) => rows.push((
                "local API throughput".into(),
                format!(
                    "not measured: {}",
                    [a.as_ref().err(), b.as_ref().err()]
                        .into_iter()
                        .flatten()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                "MISSED",
            )),
        }

        let mut t = String::from("| target | measured | verdict |\n|---|---|---|\n");
        for (target, measured, verdict) in rows {
            let _ = writeln!(t, "| {target} | {measured} | {verdict} |");
        }
        t
    }

    fn errors(&self) -> String {
        let mut t = String::new();
        for s in self.subjects {
            for e in &s.m.errors {
                let _ = writeln!(t, "- {}: {}", s.label, e.replace('\n', " "));
            }
        }
        t
    }

    /// (what is printed, the whole `results.md`).
    /// The Rust customers function beside its peers, with Rust ÷ peer ratios.
    fn peers_table(&self) -> String {
        let Some(rust) = self
            .subjects
            .iter()
            .find(|s| s.kind == Kind::Function && !s.cold_only && s.label == "customers")
        else {
            return String::new();
        };
        let mut t = String::from(
            "| GET customer | zipped package | init: median | first invocation: median | warm p50 / p99 | CPU per warm invocation | peak RSS | Rust ÷ peer: package · init · first · warm p50 · CPU · peak RSS |\n\
             |---|---|---|---|---|---|---|---|\n",
        );
        let row = |s: &Subject| {
            let m = &s.m;
            let (init, first, warm) = (median(&m.inits), median(&m.firsts), median(&m.warm));
            (
                m.zip_bytes.map(|z| z as f64),
                (init.n > 0).then_some(init.p50 * 1e3),
                (first.n > 0).then_some(first.p50 * 1e3),
                (warm.n > 0).then_some((warm.p50, warm.p99)),
                m.cpu_us,
                m.peak_kib.map(|p| p as f64 * 1024.0),
            )
        };
        let r = row(rust);
        let cell = |v: Option<String>| v.unwrap_or_else(|| "–".into());
        for s in std::iter::once(rust).chain(self.subjects.iter().filter(|s| s.kind == Kind::Peer)) {
            let p = row(s);
            let ratios = if s.kind == Kind::Peer {
                let q = |a: Option<f64>, b: Option<f64>| match (a, b) {
                    (Some(a), Some(b)) => ratio(a, b),
                    _ => "–".into(),
                };
                format!(
                    "{} · {} · {} · {} · {} · {}",
                    q(r.0, p.0),
                    q(r.1, p.1),
                    q(r.2, p.2),
                    q(r.3.map(|w| w.0), p.3.map(|w| w.0)),
                    q(r.4, p.4),
                    q(r.5, p.5)
                )
            } else {
                String::new()
            };
            let label = if s.kind == Kind::Peer {
                s.label.clone()
            } else {
                "Rust (customers function)".into()
            };
            let _ = writeln!(
                t,
                "| {label} | {} | {} | {} | {} | {} | {} | {ratios} |",
                cell(p.0.map(mib)),
                cell(p.1.map(ms)),
                cell(p.2.map(ms)),
                cell(p.3.map(|(a, b)| format!("{} / {}", ms(a), ms(b)))),
                cell(p.4.map(ms)),
                cell(p.5.map(mib)),
            );
        }
        for (label, why) in self.missing_peers {
            let _ = writeln!(t, "| {label} | not measured: {why} | | | | | | |");
        }
        t
    }

    fn import_section(&self) -> String {
        match self.import {
            None => "Not run (BENCH_IMPORT_LINES=0).\n".into(),
            Some(Err(e)) => format!("Failed: {e}\n"),
            Some(Ok(i)) => format!(
                "{} generated customers (every field of the create route filled) imported by `local-api import` (release, \
                 {} creates in flight) into a table of their own in DynamoDB Local: killed (SIGKILL) when the lines \
                 below {} were done, then run again to the end. {:.1} s in all, **{:.0} customers/s**; the table then \
                 holds {} customers ({}).\n",
                i.lines,
                i.parallel,
                i.killed_at,
                i.seconds,
                i.rate(),
                i.customers,
                if i.customers == i.lines {
                    "exactly one per line"
                } else {
                    "NOT one per line"
                }
            ),
        }
    }

    fn render(&self) -> (String, String) {
        let main = self.main_table();
        let costs = self.cost_table();
        let targets = self.targets();
        let errors = self.errors();
        let errors_section = if errors.is_empty() {
            String::new()
        } else {
            format!("\n### Errors\n\n{errors}")
        };
        let peers = self.peers_table();
        let import = self.import_section();
        let printed = format!(
            "{main}\nPeers:\n\n{peers}\nBulk import:\n\n{import}\nDynamoDB cost per route (one request each; ↳ = variant):\n\n{costs}\nTargets:\n\n{targets}{errors_section}"
        );

        let m = self.machine_start;
        let c = self.config;
        let mut doc = String::new();
        let _ = writeln!(doc, "# Benchmark results\n");
        let _ = writeln!(
            doc,
            "Written by `make bench` ({}; took {:.0} s). Rerun with `make bench`; `scripts/bench.sh` explains the settings.\n",
            m["date"],
            self.elapsed.as_secs_f64()
        );
        let _ = writeln!(doc, "## Machine\n");
        let _ = writeln!(doc, "- CPU: {}, nproc {}", m["cpu"], m["nproc"]);
        let _ = writeln!(doc, "- memory: {}", m["memory"]);
        let _ = writeln!(doc, "- kernel: {}", m["kernel"]);
        let _ = writeln!(doc, "- {}", m["rustc"]);
        let _ = writeln!(
            doc,
            "- load average (1, 5, 15 min) at the start: {}; at the end: {}",
            m["load"], self.machine_end["load"]
        );
        if !c.build_info.is_empty() {
            let _ = writeln!(doc, "- build: {}", c.build_info);
        }
        let _ = writeln!(doc, "\n## Results\n\n{main}");
        let timed: Vec<String> = self
            .subjects
            .iter()
            .filter(|s| !s.cold_only)
            .map(|s| format!("{}: {}", s.label, s.payload.describe()))
            .collect();
        let _ = writeln!(doc, "Timed with: {}.\n", timed.join("; "));
        let _ = writeln!(
            doc,
            "## Peers: the same GET customer in Python and Node.js\n\nThe Rust customers function beside the same route \
             written in Python 3.11 with boto3 and in Node.js 20 with the AWS SDK v3 (`bench/peers/`: the same checks of the \
             authorizer's context, the same strongly consistent GetItem, clients created at init), each started by its \
             official runtime interface client (`awslambdaric`, `aws-lambda-ric`) as its `bootstrap`, timed in the same \
             rounds as every row above with the same event and table. A peer's package is its directory zipped: handler, \
             runtime interface client and SDK (on Lambda's managed runtimes the client and, for Python, boto3 come with \
             the runtime). CPU is user + system time of the process per warm invocation.\n\n{peers}"
        );
        let _ = writeln!(doc, "## Bulk import\n\n{import}");
        let _ = writeln!(
            doc,
            "## DynamoDB cost per route\n\nOne request per route, with its event from `events/<group>/` (the \
             shortest-named one that succeeds; ↳ rows are variants: the same POST with an `Idempotency-Key`, and \
             reads as a linked user rather than staff). RCU/WCU are DynamoDB Local's `ConsumedCapacity` \
             (`ReturnConsumedCapacity: TOTAL` added by the proxy), reads and writes told apart by operation.\n\n{costs}"
        );
        let _ = writeln!(doc, "## Targets\n\n{targets}{errors_section}");
        let opt_level = release_opt_level(&self.config.root);
        let _ = writeln!(
            doc,
            "## Method\n\n\
             - Every binary is the release build (`opt-level = {opt_level}`, fat LTO, one codegen unit, `panic = abort`, \
             stripped) with a single-threaded Tokio runtime, as the functions run: \
             the functions from `sam build` (`.aws-sam/build/<Function>/bootstrap`), the baselines and local-api from \
             `cargo lambda build --release`.\n\
             - Package: `zip -9` of `bootstrap` alone.\n\
             - Runtime: `runtime-harness` serves the Lambda Runtime API on 127.0.0.1:{rt} and starts each bootstrap \
             with Lambda's environment (`AWS_LAMBDA_RUNTIME_API`, function name, 128 MB, version, log group and \
             stream, region, credentials) plus the function's own (`events/env.json`; the authorizer gets \
             `JWKS_JSON` of the dev key that signed its token). Init = spawn → first `GET /invocation/next`; an \
             invocation = event handed to that poll → `POST /invocation/{{id}}/response`. Cold starts: {cold} rounds, \
             round robin over the binaries; each start is killed after its first invocation.\n\
             - Warm: each binary gets one untimed invocation, then {warm} timed ones in blocks of {block}, each block \
             followed by {block} raw SDK GetItems (in the harness, the functions' own client settings) and {block} \
             invocations of the GetItem λ (on 127.0.0.1:{brt}), so every ratio compares samples taken at the same \
             time; then invocations up to {soak}. RSS is `VmRSS` of `/proc/<pid>/status` after {warm} and {soak} \
             invocations, peak is `VmHWM`. The user-customer-links event is a POST: each invocation links a new user.\n\
             - DynamoDB: the function runs against a proxy on 127.0.0.1:{proxy} in front of DynamoDB Local \
             (127.0.0.1:{ddb}, in memory) that records each call's operation and timing (calls that overlap count as \
             one round trip) and its `ConsumedCapacity`. The proxy holds every call for {delay} ms, as a real \
             DynamoDB would take a few: otherwise DynamoDB Local answers a call before the SDK has opened a second \
             connection for a call made beside it, which then follows on the first connection and looks sequential.\n\
             - Throughput: local-api (release) on 127.0.0.1:{api}, `wrk -c{conns}` on GET customer with a staff \
             token, and `ddb-baseline load {conns}`: {conns} tasks sharing one SDK client (the functions' settings) \
             looping on GetItem of the same customer. After 5 s of warm-up each, they take turns for {rounds} rounds \
             of {round_secs} s, so that both see the same machine; the ratio is of the totals, and each round's is \
             shown. Everything, load generators included, shares the machine's {nproc} CPUs with DynamoDB Local's \
             JVM (and, here, whatever else runs). CPU per request is user + system time from `/proc` (local-api's \
             and DynamoDB Local's process, the load generator as a waited-for child) over the requests served; \
             \"busy\" is the machine's non-idle share in `/proc/stat` during the runs.\n\
             - On Lambda a 128 MB function gets a fraction of one vCPU, so absolute init and latency there are \
             several times these; the ratios to the baselines are what carry over.",
            rt = c.runtime_port,
            brt = c.baseline_port,
            cold = c.cold_starts,
            warm = c.warm,
            soak = c.soak,
            block = BLOCK,
            proxy = c.proxy_port,
            delay = PROXY_DELAY.as_millis(),
            ddb = c.ddb_port,
            api = c.api_port,
            conns = c.connections,
            rounds = LOAD_ROUNDS,
            round_secs = (c.load_seconds / LOAD_ROUNDS).max(1),
            nproc = m["nproc"],
        );
        (printed, doc)
    }
}

/// The workspace's `[profile.release]` `opt-level`, as Cargo.toml spells it.
fn release_opt_level(root: &Path) -> String {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap_or_default();
    manifest
        .lines()
        .skip_while(|l| l.trim() != "[profile.release]")
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with('['))
        .find_map(|l| {
            l.trim()
                .strip_prefix("opt-level")?
                .trim()
                .strip_prefix('=')
                .map(str::trim)
        })
        .unwrap_or("?")
        .to_owned()
}
