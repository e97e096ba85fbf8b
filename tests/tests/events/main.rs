//! The sample events of `events/`: each file is an API Gateway REST (v1) proxy event, parsed as the
//! Lambda runtime parses it (`lambda_http`) and handed to its group's router, against a table in
//! DynamoDB Local seeded with the fixture the events name. Each must answer the status that
//! `events/<group>/expected.json` gives it, and look like what API Gateway sends for its template route.
//!
//! Fixture: bank-1 has customers ...001 (number C-0001) and ...002 (C-0002), bank-2 has ...003
//! (C-0003), and `linked-user` is linked to ...001. Events run in file order, so every event must
//! answer the same in any order: the only customer whose number an event changes is ...001, the
//! number lookups use ...002, and the duplicate link duplicates the seeded one.

use axum::Router;
use lambda_http::request::RequestContext;
use serde_json::Value;
use shared::AppState;
use shared::domain::ids::{BankId, CustomerId, UserCustomerLinkId, UserId};
use shared::domain::link::UserCustomerLink;
use shared::domain::timestamp::Timestamp;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use tower::ServiceExt;

/// Seeded customers: bank, id, number, name.
const CUSTOMERS: [(&str, &str, &str, &str); 3] = [
    (
        "bank-1",
        "0190a0b0-0000-7000-8000-000000000001",
        "C-0001",
        "Ada Lovelace",
    ),
    (
        "bank-1",
        "0190a0b0-0000-7000-8000-000000000002",
        "C-0002",
        "Grace Hopper",
    ),
    (
        "bank-2",
        "0190a0b0-0000-7000-8000-000000000003",
        "C-0003",
        "Alan Turing",
    ),
];
/// The seeded link: user, bank, customer.
const LINK: (&str, &str, &str) = ("linked-user", "bank-1", "0190a0b0-0000-7000-8000-000000000001");

/// The template's stage (the `StageName` default), which `requestContext.path` starts with.
const STAGE: &str = "api";
/// The functions whose variables `events/env.json` gives `sam local invoke --env-vars`.
const ENV_FUNCTIONS: [&str; 8] = [
    "CustomersFunction",
    "UserCustomerLinksFunction",
    "FirehoseFunction",
    "AddressesFunction",
    "SocialMediaFunction",
    "TaxResidencesFunction",
    "CreditLimitOrdersFunction",
    "CrmEventsFunction",
];

/// The seed's Customer, as `GET` answers it.
const CUSTOMER_FIELDS: [&str; 17] = [
    "id",
    "bank_id",
    "customer_number",
    "legal_name",
    "phone_number",
    "email",
    "face_image",
    "date_of_birth",
    "relationship_status",
    "credit_rating",
    "credit_limit",
    "highest_educational_attained",
    "employment_status",
    "kyc_status",
    "last_ok_data",
    "title",
    "branch_id",
];
const LINK_FIELDS: [&str; 5] = [
    "user_customer_link_id",
    "customer_id",
    "user_id",
    "date_inserted",
    "is_active",
];

mod seed;

/// What an event must answer: a status, and optionally the top-level keys of its JSON body.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(untagged)]
enum ExpectedEntry {
    Status(u16),
    /// A stream event (of a function with a stream mapping): how many records its answer reports
    /// failed.
    Stream {
        batch_item_failures: usize,
    },
    Full {
        status: u16,
        #[serde(default)]
        body_keys: Vec<String>,
        /// What the `Location` header must start with: the stage on the execute-api endpoint, the
        /// base path on a custom domain.
        #[serde(default)]
        location_prefix: Option<String>,
    },
}

#[derive(Debug, Clone)]
struct Expected {
    status: u16,
    body_keys: Vec<String>,
    location_prefix: Option<String>,
}

impl From<ExpectedEntry> for Expected {
    fn from(e: ExpectedEntry) -> Self {
        match e {
            // Checked by `stream_problems`, not as a proxy answer.
            ExpectedEntry::Stream { .. } => Expected {
                status: 0,
                body_keys: Vec::new(),
                location_prefix: None,
            },
            ExpectedEntry::Status(status) => Expected {
                status,
                body_keys: Vec::new(),
                location_prefix: None,
            },
            ExpectedEntry::Full {
                status,
                body_keys,
                location_prefix,
            } => Expected {
                status,
                body_keys,
                location_prefix,
            },
        }
    }
}

fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../events")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// Every event file as (`group/name.json`, group), sorted: the `.json` files one folder down, and
/// any stray `.json` file beside `env.json` and `expected.json` (with no group).
fn event_files(dir: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for group in std::fs::read_dir(dir).expect("events/ is readable") {
        let group = group.expect("events/ entry");
        if !group.file_type().expect("file type").is_dir() {
            // Any other file here is reported as an event outside a group folder.
            let name = group.file_name().to_string_lossy().into_owned();
            if name.ends_with(".json") && name != "env.json" && name != "expected.json" {
                files.push((name, String::new()));
            }
            continue;
        }
        let group_name = group.file_name().to_string_lossy().into_owned();
        for file in std::fs::read_dir(group.path()).expect("group folder is readable") {
            let name = file.expect("group entry").file_name().to_string_lossy().into_owned();
            if name.ends_with(".json") && name != "expected.json" {
                files.push((format!("{group_name}/{name}"), group_name.clone()));
            }
        }
    }
    files.sort();
    files
}

// contract: C-OUT-4
#[test]
fn every_event_answers_its_expected_status() {
    // lambda_http prefixes the event's `path` with the stage unless this variable is set (it reads
    // it on every request); the template sets it on every function, so the events' stage-less paths
    // reach the routers as API Gateway sends them.
    // SAFETY: set before the tokio runtime, or any other thread of this test, exists; this binary
    // has no other test, so nothing reads the environment concurrently.
    unsafe { std::env::set_var("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH", "true") };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let failures = runtime.block_on(run());
    assert!(
        failures.is_empty(),
        "{} problem(s) with events/:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

async fn run() -> Vec<String> {
    assert!(
        std::env::var_os("DYNAMODB_ENDPOINT").is_some(),
        "DYNAMODB_ENDPOINT is not set: run the tests with `make test`, which starts DynamoDB Local"
    );
    let dir = events_dir();
    let mut failures = Vec::new();

    let files = event_files(&dir);
    let mut expected: BTreeMap<String, ExpectedEntry> = BTreeMap::new();
    for group in files
        .iter()
        .map(|(_, g)| g)
        .filter(|g| !g.is_empty())
        .collect::<BTreeSet<_>>()
    {
        let path = dir.join(group).join("expected.json");
        let listed: BTreeMap<String, ExpectedEntry> = serde_json::from_value(read_json(&path))
            .unwrap_or_else(|e| panic!("events/{group}/expected.json maps event files to statuses: {e}"));
        expected.extend(listed.into_iter().map(|(file, want)| (format!("{group}/{file}"), want)));
    }
    let names: BTreeSet<&String> = files.iter().map(|(name, _)| name).collect();
    for name in names.iter().filter(|n| !expected.contains_key(n.as_str())) {
        failures.push(format!("{name}: not listed in its group's expected.json"));
    }
    for name in expected.keys().filter(|n| !names.contains(n)) {
        failures.push(format!("expected.json lists {name}, which is not an event file"));
    }

    let env = read_json(&dir.join("env.json"));
    failures.extend(env_problems(&env));
    let secret = env["CustomersFunction"]["PAGE_TOKEN_SECRET"]
        .as_str()
        .expect("env.json gives CustomersFunction a PAGE_TOKEN_SECRET")
        .to_owned();

    let template =
        local_api::template::Template::load(&local_api::template_path().expect("the checkout")).expect("template.yaml");
    let authorization = template
        .authorizer
        .validation_expression
        .as_deref()
        .map(|re| regex::Regex::new(re).expect("the authorizer's ValidationExpression"));

    let table = format!("events-{}", CustomerId::new());
    let client = shared::config::dynamodb_client().expect("DynamoDB client");
    local_api::table::ensure_table(&client, &table, &template.table)
        .await
        .expect("create the table from the template");
    let state = AppState::new(client, table.clone(), secret.as_bytes()).expect("app state");
    seed(&state).await;
    seed::seed_groups(&state).await;
    let scratch = local_api::scratch::Scratch::new("events").expect("scratch");
    let receiver = local_api::changes::receiver(scratch.path())
        .await
        .expect("the EventBridge receiver");
    let runner = if lambda_mode() {
        Runner::lambda(&template, &state, &dir.join("env.json"), &receiver).await
    } else {
        Runner::in_process(&template, &state, &receiver).await
    };
    let stream_groups: BTreeSet<String> = template
        .functions
        .iter()
        .filter(|f| f.stream.is_some())
        .map(|f| f.group.clone())
        .collect();

    // (group, method, resource) of every event expected to succeed.
    let mut successes = BTreeSet::new();
    let mut request_ids = HashMap::new();
    for (name, group) in &files {
        if group.is_empty() {
            failures.push(format!(
                "{name}: an event must be in its group's folder, events/<group>/"
            ));
            continue;
        }
        let Some(Expected {
            status: want,
            body_keys,
            location_prefix,
        }) = expected.get(name).cloned().map(Expected::from)
        else {
            continue;
        };
        let text = std::fs::read_to_string(dir.join(name)).expect("event file");
        let event: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{name}: not JSON: {e}"));
                continue;
            }
        };
        if stream_groups.contains(group) {
            let problems = stream_problems(&runner, group, &text, expected.get(name), &state, &receiver).await;
            failures.extend(problems.into_iter().map(|p| format!("{name}: {p}")));
            continue;
        }
        let problems = shape_problems(group, &event, &template, authorization.as_ref());
        let shaped = problems.is_empty();
        failures.extend(problems.into_iter().map(|p| format!("{name}: {p}")));
        let method = event["httpMethod"].as_str().unwrap_or_default().to_owned();
        let resource = event["resource"].as_str().unwrap_or_default().to_owned();
        if let Some(id) = event["requestContext"]["requestId"].as_str()
            && let Some(other) = request_ids.insert(id.to_owned(), name.clone())
        {
            failures.push(format!("{name}: requestContext.requestId is also {other}'s"));
        }
        if (200..300).contains(&want) {
            successes.insert((group.clone(), method.clone(), resource.clone()));
        }
        if !shaped {
            continue;
        }

        let (status, headers, body) = match &runner {
            Runner::InProcess { routers, .. } => {
                let request = match lambda_http::request::from_str(&text) {
                    Ok(r) => r,
                    Err(e) => {
                        failures.push(format!("{name}: lambda_http cannot parse it: {e}"));
                        continue;
                    }
                };
                if !matches!(
                    request.extensions().get::<RequestContext>(),
                    Some(RequestContext::ApiGatewayV1(_))
                ) {
                    failures.push(format!("{name}: not parsed as an API Gateway REST (v1) event"));
                    continue;
                }
                let Some(router) = routers.get(group.as_str()) else {
                    failures.push(format!("{name}: no router for group {group}"));
                    continue;
                };
                dispatch(router, request).await
            }
            Runner::Lambda { functions, .. } => {
                let Some(function) = functions.get(group.as_str()) else {
                    failures.push(format!("{name}: no function for group {group}"));
                    continue;
                };
                match function.invoke(text.clone().into()).await {
                    Ok(local_api::lambda::Answer::Response(answer)) => {
                        match local_api::proxy_event::read_response(&answer) {
                            Some(r) => (r.status.as_u16(), r.headers, r.body.to_vec()),
                            None => {
                                failures.push(format!(
                                    "{name}: not a proxy response: {}",
                                    String::from_utf8_lossy(&answer)
                                ));
                                continue;
                            }
                        }
                    }
                    other => {
                        failures.push(format!("{name}: the bootstrap failed: {other:?}"));
                        continue;
                    }
                }
            }
        };
        let body_text = String::from_utf8_lossy(&body).into_owned();
        if status != want {
            failures.push(format!("{name}: expected {want}, got {status}: {body_text}"));
            continue;
        }
        let answer = ResponseCheck {
            method: &method,
            resource: &resource,
            path_parameters: &event["pathParameters"],
            status,
            headers: &headers,
            body: &body,
        };
        for problem in answer.problems() {
            failures.push(format!("{name}: {status} as expected, but {problem}: {body_text}"));
        }
        let json: Value = serde_json::from_slice(&body).unwrap_or_default();
        for key in body_keys.iter().filter(|k| json.get(k.as_str()).is_none()) {
            failures.push(format!("{name}: the body has no `{key}`: {body_text}"));
        }
        let location = headers.get(axum::http::header::LOCATION).and_then(|v| v.to_str().ok());
        if let Some(prefix) = &location_prefix
            && !location.is_some_and(|l| l.starts_with(prefix.as_str()))
        {
            failures.push(format!("{name}: Location {location:?} does not start with {prefix}"));
        }
    }

    for route in &template.routes {
        if !successes.contains(&(route.group.clone(), route.method.clone(), route.path.clone())) {
            failures.push(format!(
                "no success event for {} {} in events/{}/",
                route.method, route.path, route.group
            ));
        }
    }

    // Every call of every event was within its function's policy.
    let (Runner::InProcess { enforcer, .. } | Runner::Lambda { enforcer, .. }) = &runner;
    for denied in enforcer.decisions().into_iter().filter(|d| !d.allowed) {
        failures.push(format!("the local IAM check denied {denied:?}"));
    }

    // Best effort: the run's DynamoDB Local is in memory and gone after `make test` anyway.
    let _ = state.store.client().delete_table().table_name(&table).send().await;
    failures
}

/// A stream event through the stream's function: its answer reports as many failed records as
/// expected, and each record it did becomes a history entry of its customer and one event.
async fn stream_problems(
    runner: &Runner,
    group: &str,
    text: &str,
    expected: Option<&ExpectedEntry>,
    state: &AppState,
    receiver: &local_api::changes::Receiver,
) -> Vec<String> {
    let Some(ExpectedEntry::Stream { batch_item_failures }) = expected else {
        return vec![format!(
            "expected.json must give {{\"batch_item_failures\": N}} for a stream event"
        )];
    };
    let event: aws_lambda_events::event::dynamodb::Event = match serde_json::from_str(text) {
        Ok(event) => event,
        Err(e) => return vec![format!("not a DynamoDB stream event: {e}")],
    };
    let answer: Value = match runner {
        Runner::InProcess { changes, .. } => {
            serde_json::to_value(changes.handle(event.clone()).await).unwrap_or_default()
        }
        Runner::Lambda { functions, .. } => {
            let Some(function) = functions.get(group) else {
                return vec![format!("no function for group {group}")];
            };
            match function.invoke(text.to_owned().into()).await {
                Ok(local_api::lambda::Answer::Response(body)) => serde_json::from_slice(&body).unwrap_or_default(),
                other => return vec![format!("the bootstrap failed: {other:?}")],
            }
        }
    };
    let failed = answer["batchItemFailures"].as_array().map(Vec::len);
    if failed != Some(*batch_item_failures) {
        return vec![format!("expected {batch_item_failures} failed records, got {answer}")];
    }
    let mut problems = Vec::new();
    let published = std::fs::read_to_string(&receiver.events_file).unwrap_or_default();
    for record in &event.records[..event.records.len() - batch_item_failures] {
        let sequence = record.change.sequence_number.clone().unwrap_or_default();
        let change = shared::domain::ids::ChangeId::of_sequence_number(&sequence).to_string();
        let Some(Value::String(pk)) = serde_dynamo::from_item::<_, Value>(record.change.keys.clone())
            .ok()
            .map(|k| k["pk"].clone())
        else {
            problems.push(format!("record {sequence} has no pk"));
            continue;
        };
        let customer = shared::store::keys::customer_id_of(&pk).expect("a customer's item");
        let query = shared::store::history::HistoryQuery {
            limit: 100,
            ..Default::default()
        };
        let history = state.store.history(&customer, &query).await.expect("history");
        if !history.items.iter().any(|e| e.change.change_id.to_string() == change) {
            problems.push(format!("record {sequence} left no history entry"));
        }
        if published.matches(&change).count() != 1 {
            problems.push(format!("record {sequence} was not published exactly once: {published}"));
        }
    }
    problems
}

/// Whether the events run through the release bootstraps (`API_TESTS_MODE=lambda`, as `make test`
/// runs this test a second time) rather than the groups' routers.
fn lambda_mode() -> bool {
    std::env::var("API_TESTS_MODE").as_deref() == Ok("lambda")
}

/// Who answers the events: the routers in-process, or the bootstraps of `make build` through the
/// local Lambda service with `events/env.json` as `--env-vars` (the stack's table and the IAM
/// check's endpoint on top).
enum Runner {
    InProcess {
        routers: HashMap<&'static str, axum::Router>,
        /// The stream's function.
        changes: local_api::changes::Changes,
        enforcer: local_api::iam::Enforcer,
    },
    Lambda {
        functions: HashMap<String, local_api::lambda::Function>,
        enforcer: local_api::iam::Enforcer,
    },
}

impl Runner {
    /// The IAM check in front of DynamoDB Local, for the table `state` uses.
    async fn enforcer(template: &local_api::template::Template, state: &AppState) -> local_api::iam::Enforcer {
        let endpoint = std::env::var("DYNAMODB_ENDPOINT").expect("DYNAMODB_ENDPOINT");
        let symbols = local_api::template::Symbols::new(template, &[], &local_api::region(), state.store.table());
        local_api::iam::Enforcer::start(template, &symbols, &endpoint)
            .await
            .expect("IAM enforcer")
    }

    async fn in_process(
        template: &local_api::template::Template,
        state: &AppState,
        receiver: &local_api::changes::Receiver,
    ) -> Self {
        let enforcer = Self::enforcer(template, state).await;
        let routers = local_api::gateway::checked_group_routers(template, state, &enforcer);
        let changes = local_api::changes::in_process(&enforcer, state, receiver).expect("the changes function");
        Runner::InProcess {
            routers,
            changes,
            enforcer,
        }
    }

    async fn lambda(
        template: &local_api::template::Template,
        state: &AppState,
        env_file: &Path,
        receiver: &local_api::changes::Receiver,
    ) -> Self {
        let symbols = local_api::template::Symbols::new(template, &[], &local_api::region(), state.store.table());
        let enforcer = Self::enforcer(template, state).await;
        let env_vars = local_api::lambda::EnvVars::load(env_file)
            .expect("events/env.json")
            .with_settings(&[
                ("TABLE_NAME", state.store.table()),
                ("DYNAMODB_ENDPOINT", &enforcer.endpoint),
                ("EVENTBRIDGE_ENDPOINT", &receiver.url),
            ]);
        let log_dir = std::env::temp_dir().join("events-lambda-logs");
        let functions = template
            .functions
            .iter()
            .map(|f| {
                let launch = local_api::lambda::launch(
                    f,
                    &symbols,
                    &env_vars,
                    &[],
                    &local_api::build_dir().expect("the checkout"),
                    &log_dir,
                )
                .expect("a built bootstrap (make build)");
                (f.group.clone(), local_api::lambda::Function::new(launch))
            })
            .collect();
        Runner::Lambda { functions, enforcer }
    }
}

/// The fixture, through the real store: what a create would write, with fixed ids.
async fn seed(state: &AppState) {
    for (bank, id, number, name) in CUSTOMERS {
        seed::customer(state, bank, id, number, name).await;
    }
    let (user, bank, customer) = LINK;
    let link = UserCustomerLink {
        user_customer_link_id: UserCustomerLinkId::new(),
        customer_id: CustomerId::parse(customer).expect("fixture id"),
        user_id: UserId::parse(user).expect("fixture user"),
        date_inserted: Timestamp::now(),
        is_active: true,
    };
    state
        .store
        .create_link(&BankId::parse(bank).expect("fixture bank"), &link, None, &seed::audit())
        .await
        .expect("seed the link");
}

async fn dispatch(router: &Router, request: lambda_http::Request) -> (u16, axum::http::HeaderMap, Vec<u8>) {
    let response = match router.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("response body");
    (status, headers, body.to_vec())
}

/// What `sam local invoke --env-vars` needs for each function.
fn env_problems(env: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    for function in ENV_FUNCTIONS {
        let vars = &env[function];
        let var = |name: &str| vars[name].as_str().unwrap_or_default();
        // SAM applies only variables the template declares: region and credentials come from the
        // caller's AWS configuration (DynamoDB Local accepts any).
        for name in ["TABLE_NAME", "DYNAMODB_ENDPOINT"] {
            if var(name).is_empty() {
                problems.push(format!("env.json: {function} has no {name}"));
            }
        }
        if var("PAGE_TOKEN_SECRET").len() < shared::http::page::MIN_SECRET_BYTES {
            problems.push(format!(
                "env.json: {function}'s PAGE_TOKEN_SECRET must have at least {} bytes",
                shared::http::page::MIN_SECRET_BYTES
            ));
        }
        if var("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH") != "true" {
            problems.push(format!(
                "env.json: {function} must set AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH to \"true\""
            ));
        }
    }
    problems
}

/// A header of an event, by case-insensitive name.
fn header<'a>(map: &'a Value, name: &str) -> Option<&'a Value> {
    map.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// How the event differs from what API Gateway would send for its route (empty when it does not).
fn shape_problems(
    group: &str,
    event: &Value,
    template: &local_api::template::Template,
    authorization: Option<&regex::Regex>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let (Some(resource), Some(path), Some(method)) = (
        text(&event["resource"]),
        text(&event["path"]),
        text(&event["httpMethod"]),
    ) else {
        return vec!["resource, path and httpMethod must be strings".into()];
    };
    let Some(route) = template
        .routes
        .iter()
        .find(|r| r.method == method && r.path == resource)
    else {
        return vec![format!("{method} {resource} is not a route of template.yaml")];
    };
    if route.group != group {
        problems.push(format!(
            "{method} {resource} is served by {}, so the event belongs in events/{}/",
            route.group, route.group
        ));
    }
    if path.starts_with(&format!("/{STAGE}/")) {
        problems.push(format!("path must not include the stage: {path}"));
    }
    // On a custom domain with a base path mapping, API Gateway puts the base path in front of the
    // route's path, in `path` and in `requestContext.path` (which then has no stage).
    let custom_domain = event["requestContext"]["domainName"]
        .as_str()
        .is_some_and(|d| !d.contains(".execute-api."));
    let extra = path.split('/').count().saturating_sub(resource.split('/').count());
    let (base_path, route_path) = if custom_domain {
        let cut = path.match_indices('/').nth(extra).map_or(path.len(), |(i, _)| i);
        (path[..cut].to_owned(), path[cut..].to_owned())
    } else {
        (String::new(), path.clone())
    };
    let path = route_path;
    if !route.matches_path(&path) {
        problems.push(format!("path {path} does not match the resource {resource}"));
    }

    // pathParameters: exactly the resource's parameters, with the path's values; null when none.
    let mut params = serde_json::Map::new();
    for (want, got) in resource.split('/').zip(path.split('/')) {
        if let Some(name) = want.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
            params.insert(name.to_owned(), Value::String(got.to_owned()));
        }
    }
    let params = if params.is_empty() {
        Value::Null
    } else {
        Value::Object(params)
    };
    if event["pathParameters"] != params {
        problems.push(format!("pathParameters must be {params}"));
    }

    let context = &event["requestContext"];
    let want_context = [
        ("resourcePath", resource.clone()),
        ("httpMethod", method.clone()),
        ("stage", STAGE.to_owned()),
        (
            "path",
            if custom_domain {
                format!("{base_path}{path}")
            } else {
                format!("/{STAGE}{path}")
            },
        ),
    ];
    for (key, want) in want_context {
        if context[key].as_str() != Some(want.as_str()) {
            problems.push(format!("requestContext.{key} must be {want:?}"));
        }
    }
    for key in ["requestId", "accountId", "apiId"] {
        if !context[key].is_string() {
            problems.push(format!("requestContext.{key} must be a string"));
        }
    }
    if context["identity"]["sourceIp"].as_str().is_none() {
        problems.push("requestContext.identity.sourceIp must be a string".into());
    }
    let authorizer = &context["authorizer"];
    for key in ["principalId", "user_id", "scope", "bank_ids"] {
        if !authorizer[key].is_string() {
            problems.push(format!(
                "requestContext.authorizer.{key} must be a string, as the authorizer's context is"
            ));
        }
    }
    if authorizer["principalId"] != authorizer["user_id"] {
        problems.push("requestContext.authorizer: principalId and user_id are both the token's sub".into());
    }

    // Headers: what API Gateway's authorizer let through, and the same in both forms.
    let headers = &event["headers"];
    match header(headers, &template.authorizer.header).and_then(Value::as_str) {
        Some(token) if authorization.is_none_or(|re| re.is_match(token)) => {}
        _ => problems.push(format!(
            "headers.{} must pass the authorizer's ValidationExpression",
            template.authorizer.header
        )),
    }
    let multi = &event["multiValueHeaders"];
    for (name, value) in headers.as_object().into_iter().flatten() {
        if multi[name] != Value::Array(vec![value.clone()]) {
            problems.push(format!("multiValueHeaders.{name} must be [headers.{name}]"));
        }
    }
    if multi.as_object().map(|m| m.len()) != headers.as_object().map(|h| h.len()) {
        problems.push("multiValueHeaders must have the same names as headers".into());
    }

    let query = &event["queryStringParameters"];
    let multi_query = &event["multiValueQueryStringParameters"];
    let want_multi_query = match query.as_object() {
        Some(q) => Value::Object(
            q.iter()
                .map(|(k, v)| (k.clone(), Value::Array(vec![v.clone()])))
                .collect(),
        ),
        None => Value::Null,
    };
    if *multi_query != want_multi_query || !(query.is_null() || query.is_object()) {
        problems.push("queryStringParameters and multiValueQueryStringParameters must agree".into());
    }

    match &event["body"] {
        Value::Null => {}
        Value::String(_) => {
            if header(headers, "Content-Type").and_then(Value::as_str) != Some("application/json") {
                problems.push("an event with a body must have Content-Type: application/json".into());
            }
        }
        _ => problems.push("body must be a string or null".into()),
    }
    if !event["stageVariables"].is_null() {
        problems.push("stageVariables must be null".into());
    }
    if event["isBase64Encoded"] != Value::Bool(false) {
        problems.push("isBase64Encoded must be false".into());
    }
    problems
}

const CUSTOMER_RESOURCE: &str = "/v1/banks/{BankID}/customers/{CustomerID}";

/// The customer reads: by id and by number.
fn is_customer_read(resource: &str) -> bool {
    resource == CUSTOMER_RESOURCE || resource.starts_with(&format!("{CUSTOMER_RESOURCE}/customer-number/"))
}

/// A response with the expected status, checked for what its route answers.
struct ResponseCheck<'a> {
    method: &'a str,
    resource: &'a str,
    path_parameters: &'a Value,
    status: u16,
    headers: &'a axum::http::HeaderMap,
    body: &'a [u8],
}

impl ResponseCheck<'_> {
    fn problems(&self) -> Vec<String> {
        let content_type = self
            .headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if self.status == 204 {
            return if self.body.is_empty() {
                Vec::new()
            } else {
                vec!["a 204 has a body".into()]
            };
        }
        let body: Value = match serde_json::from_slice(self.body) {
            Ok(v) => v,
            Err(_) => return vec!["the body is not JSON".into()],
        };
        if self.status >= 400 {
            let mut problems = Vec::new();
            if content_type != "application/problem+json" {
                problems.push(format!(
                    "Content-Type is {content_type:?}, not application/problem+json"
                ));
            }
            if body["status"] != self.status {
                problems.push("the problem's status is not the HTTP status".into());
            }
            return problems;
        }

        let mut problems = Vec::new();
        if content_type != "application/json" {
            problems.push(format!("Content-Type is {content_type:?}, not application/json"));
        }
        let customer_id = &self.path_parameters["CustomerID"];
        let has_keys = |value: &Value, keys: &[&str], what: &str| -> Vec<String> {
            keys.iter()
                .filter(|k| value.get(**k).is_none())
                .map(|k| format!("{what} has no `{k}`"))
                .collect()
        };
        let customer = |value: &Value, what: &str| -> Vec<String> {
            let mut p = has_keys(value, &CUSTOMER_FIELDS, what);
            if value["id"] != *customer_id {
                p.push(format!("{what}'s id is not the path's CustomerID"));
            }
            p
        };
        let etag = || -> Vec<String> {
            match self.headers.get(axum::http::header::ETAG) {
                Some(_) => Vec::new(),
                None => vec!["there is no ETag".into()],
            }
        };
        match (self.method, self.resource) {
            ("POST", "/v1/customers") => {
                problems.extend(has_keys(&body, &["customer_id", "bank_id"], "the body"));
                if self.headers.get(axum::http::header::LOCATION).is_none() {
                    problems.push("there is no Location".into());
                }
            }
            ("POST", "/v1/banks/{BankID}/user_customer_links") => {
                problems.extend(has_keys(&body, &LINK_FIELDS, "the body"));
            }
            (
                "GET",
                "/v1/users/current/customers"
                | "/v1/banks/{BankID}/customers"
                | "/v1/banks/{BankID}/firehose/customers",
            ) => match body["customers"].as_array() {
                Some(list) => {
                    for (i, c) in list.iter().enumerate() {
                        problems.extend(has_keys(c, &CUSTOMER_FIELDS, &format!("customers[{i}]")));
                    }
                }
                None => problems.push("the body has no `customers` list".into()),
            },
            ("GET", r) if is_customer_read(r) => {
                problems.extend(customer(&body, "the customer"));
                problems.extend(etag());
            }
            // The customer PUTs answer the customer (a legal hold answers the hold: `body_keys`).
            ("PUT", r)
                if r.starts_with(CUSTOMER_RESOURCE) && !r.contains("/addresses/") && !r.ends_with("/legal-hold") =>
            {
                problems.extend(customer(&body["customer"], "the body's `customer`"));
                problems.extend(etag());
            }
            // The other groups' answers are checked by `body_keys` in their expected.json.
            _ => {}
        }
        problems
    }
}
