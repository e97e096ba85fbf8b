//! The local IAM check: a DynamoDB endpoint in front of DynamoDB Local that allows each call only
//! if the calling function's policies in `template.yaml` would allow it on AWS. DynamoDB Local
//! ignores IAM, so without this a missing permission shows only after a deploy.
//!
//! A function is known by the access key of its credentials (each gets its own, see
//! [`Enforcer::access_key`]). Every call is authorized as DynamoDB authorizes it: one action per
//! item of a transaction (`PutItem`, `UpdateItem`, `DeleteItem`, `ConditionCheckItem`, `GetItem`),
//! the table's or the index's ARN, and `dynamodb:LeadingKeys` from the partition keys the call
//! touches. What it does not model: resource policies, SCPs, permission boundaries, session
//! policies, condition keys other than `dynamodb:LeadingKeys` in DynamoDB statements (a template
//! using one is refused at start, not ignored), and statements for other services (Secrets Manager,
//! KMS), which it leaves to AWS.

use crate::template::{FunctionDef, Symbols, Template, resolve};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

/// The account locally created ARNs carry.
pub const LOCAL_ACCOUNT: &str = "000000000000";

#[derive(Debug, thiserror::Error)]
pub enum IamError {
    #[error("{function}: {detail}")]
    Policy { function: String, detail: String },
    #[error("IAM enforcer: cannot listen: {0}")]
    Listen(std::io::Error),
    #[error("IAM enforcer: no HTTP client: {0}")]
    Client(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Effect {
    Allow,
    Deny,
}

/// A condition of a statement: `ForAllValues:StringEquals: {dynamodb:LeadingKeys: [...]}`.
#[derive(Debug, Clone)]
struct Condition {
    set: SetOperator,
    operator: Operator,
    values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetOperator {
    /// A single-valued use of the key: the request must have exactly one value.
    Single,
    ForAllValues,
    ForAnyValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    Equals,
    NotEquals,
    Like,
    NotLike,
}

#[derive(Debug, Clone)]
struct Statement {
    effect: Effect,
    actions: Vec<String>,
    resources: Vec<String>,
    leading_keys: Vec<Condition>,
}

/// A function's identity-based policy, resolved for the local table.
#[derive(Debug, Clone)]
pub struct Policy {
    pub function: String,
    statements: Vec<Statement>,
}

/// One authorization DynamoDB makes for a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub action: String,
    pub resource: String,
    pub leading_keys: BTreeSet<String>,
}

impl Policy {
    /// The policies of `function` (its `Policies` of inline statements), resolved with `symbols`.
    pub fn of(function: &FunctionDef, symbols: &Symbols) -> Result<Self, IamError> {
        let err = |detail: String| IamError::Policy {
            function: function.logical_id.clone(),
            detail,
        };
        let mut statements = Vec::new();
        for policy in &function.policies {
            let list = policy
                .get("Statement")
                .and_then(serde_norway::Value::as_sequence)
                .ok_or_else(|| {
                    err(format!(
                        "only inline Statement policies are understood locally, not {policy:?}"
                    ))
                })?;
            for s in list {
                // The local check guards DynamoDB (the only service with a local emulator behind
                // it): statements for other services (Secrets Manager, KMS) are AWS's to enforce.
                let actions = s.get("Action");
                let names: Vec<&str> = match actions.and_then(serde_norway::Value::as_sequence) {
                    Some(seq) => seq.iter().filter_map(serde_norway::Value::as_str).collect(),
                    None => actions.and_then(serde_norway::Value::as_str).into_iter().collect(),
                };
                // Only actions that name another service outright: `*` or `d*` may cover DynamoDB.
                let other_service = |a: &&str| {
                    a.split_once(':').is_some_and(|(service, _)| {
                        !service.contains(['*', '?']) && !service.eq_ignore_ascii_case("dynamodb")
                    })
                };
                if !names.is_empty() && names.iter().all(other_service) {
                    continue;
                }
                let effect = match s.get("Effect").and_then(serde_norway::Value::as_str) {
                    Some("Allow") => Effect::Allow,
                    Some("Deny") => Effect::Deny,
                    other => return Err(err(format!("a statement's Effect is {other:?}"))),
                };
                let strings = |key: &str| -> Result<Vec<String>, IamError> {
                    let v = s.get(key).ok_or_else(|| err(format!("a statement has no {key}")))?;
                    let items = match v.as_sequence() {
                        Some(seq) => seq.iter().collect(),
                        None => vec![v],
                    };
                    items
                        .into_iter()
                        .map(|i| resolve(i, symbols).ok_or_else(|| err(format!("cannot resolve {key} {i:?}"))))
                        .collect()
                };
                let mut leading_keys = Vec::new();
                if let Some(conditions) = s.get("Condition").and_then(serde_norway::Value::as_mapping) {
                    for (op, keys) in conditions {
                        let op = op.as_str().unwrap_or_default();
                        let (set, name) = match op.split_once(':') {
                            Some(("ForAllValues", name)) => (SetOperator::ForAllValues, name),
                            Some(("ForAnyValue", name)) => (SetOperator::ForAnyValue, name),
                            _ => (SetOperator::Single, op),
                        };
                        let operator = match name {
                            "StringEquals" => Operator::Equals,
                            "StringNotEquals" => Operator::NotEquals,
                            "StringLike" => Operator::Like,
                            "StringNotLike" => Operator::NotLike,
                            other => return Err(err(format!("condition operator {other} is not modelled locally"))),
                        };
                        for (key, values) in keys.as_mapping().into_iter().flatten() {
                            if key.as_str() != Some("dynamodb:LeadingKeys") {
                                return Err(err(format!("condition key {key:?} is not modelled locally")));
                            }
                            let values = match values.as_sequence() {
                                Some(seq) => seq.iter().collect(),
                                None => vec![values],
                            };
                            let values = values
                                .into_iter()
                                .map(|v| resolve(v, symbols).ok_or_else(|| err(format!("cannot resolve {v:?}"))))
                                .collect::<Result<_, _>>()?;
                            leading_keys.push(Condition { set, operator, values });
                        }
                    }
                }
                statements.push(Statement {
                    effect,
                    actions: strings("Action")?,
                    resources: strings("Resource")?,
                    leading_keys,
                });
            }
        }
        Ok(Self {
            function: function.logical_id.clone(),
            statements,
        })
    }

    /// IAM's evaluation: an explicit Deny wins, then any Allow; otherwise the implicit deny.
    pub fn allows(&self, check: &Check) -> bool {
        let applies = |s: &&Statement| {
            s.actions.iter().any(|a| glob_ignoring_case(a, &check.action))
                && s.resources.iter().any(|r| glob(r, &check.resource))
                && s.leading_keys.iter().all(|c| c.holds(&check.leading_keys))
        };
        let applying: Vec<&Statement> = self.statements.iter().filter(applies).collect();
        applying.iter().any(|s| s.effect == Effect::Allow) && !applying.iter().any(|s| s.effect == Effect::Deny)
    }

    /// The actions the policy allows (wildcards kept), for the report of unused ones.
    pub fn granted_actions(&self) -> BTreeSet<&str> {
        self.statements
            .iter()
            .filter(|s| s.effect == Effect::Allow)
            .flat_map(|s| s.actions.iter().map(String::as_str))
            .collect()
    }
}

impl Condition {
    fn holds(&self, keys: &BTreeSet<String>) -> bool {
        let matches = |k: &String| {
            let hit = self.values.iter().any(|v| match self.operator {
                Operator::Equals | Operator::NotEquals => v == k,
                Operator::Like | Operator::NotLike => glob(v, k),
            });
            match self.operator {
                Operator::Equals | Operator::Like => hit,
                Operator::NotEquals | Operator::NotLike => !hit,
            }
        };
        match self.set {
            // IAM: true when the request has no value for the key at all.
            SetOperator::ForAllValues => keys.iter().all(matches),
            SetOperator::ForAnyValue => keys.iter().any(matches),
            // A single-valued negation holds when the key is absent, as in IAM.
            SetOperator::Single if keys.is_empty() => {
                matches!(self.operator, Operator::NotEquals | Operator::NotLike)
            }
            SetOperator::Single => keys.len() == 1 && keys.iter().all(matches),
        }
    }
}

/// IAM's wildcard match: `*` any run of characters, `?` any one.
fn glob(pattern: &str, text: &str) -> bool {
    glob_with(pattern, text, |a, b| a == b)
}

/// [`glob`] for action names, which IAM matches without regard to case.
fn glob_ignoring_case(pattern: &str, text: &str) -> bool {
    glob_with(pattern, text, |a, b| a.eq_ignore_ascii_case(&b))
}

fn glob_with(pattern: &str, text: &str, same: fn(char, char) -> bool) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || same(p[pi], t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            pi += 1;
            mark = ti;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The partition key attribute of the table and of each index, from the template's table.
#[derive(Debug, Clone, Default)]
pub struct KeySchema {
    table: String,
    indexes: HashMap<String, String>,
}

impl KeySchema {
    pub fn of(table: &serde_norway::Value) -> Self {
        let hash = |schema: Option<&serde_norway::Value>| {
            schema
                .and_then(serde_norway::Value::as_sequence)
                .into_iter()
                .flatten()
                .find(|k| k.get("KeyType").and_then(serde_norway::Value::as_str) == Some("HASH"))
                .and_then(|k| k.get("AttributeName")?.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        let indexes = table
            .get("GlobalSecondaryIndexes")
            .and_then(serde_norway::Value::as_sequence)
            .into_iter()
            .flatten()
            .filter_map(|i| Some((i.get("IndexName")?.as_str()?.to_owned(), hash(i.get("KeySchema")))))
            .collect();
        Self {
            table: hash(table.get("KeySchema")),
            indexes,
        }
    }
}

/// The authorizations DynamoDB makes for one call (`operation` from `X-Amz-Target`).
pub fn checks(operation: &str, request: &Map<String, Value>, schema: &KeySchema, region: &str) -> Vec<Check> {
    let arn = |table: &str| format!("arn:aws:dynamodb:{region}:{LOCAL_ACCOUNT}:table/{table}");
    let pk = |item: Option<&Value>, attribute: &str| -> BTreeSet<String> {
        item.and_then(|i| i.get(attribute))
            .and_then(|v| v.get("S").or_else(|| v.get("N")).or_else(|| v.get("B")))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .into_iter()
            .collect()
    };
    let table = request.get("TableName").and_then(Value::as_str).unwrap_or_default();
    let check = |action: &str, resource: String, leading_keys: BTreeSet<String>| Check {
        action: format!("dynamodb:{action}"),
        resource,
        leading_keys,
    };
    match operation {
        "GetItem" | "UpdateItem" | "DeleteItem" => {
            vec![check(
                operation,
                arn(table),
                known(pk(request.get("Key"), &schema.table)),
            )]
        }
        "PutItem" => vec![check(
            operation,
            arn(table),
            known(pk(request.get("Item"), &schema.table)),
        )],
        "Query" | "Scan" => {
            let index = request.get("IndexName").and_then(Value::as_str);
            let (resource, attribute) = match index {
                Some(i) => (
                    format!("{}/index/{i}", arn(table)),
                    schema.indexes.get(i).cloned().unwrap_or_default(),
                ),
                None => (arn(table), schema.table.clone()),
            };
            let keys = if operation == "Query" {
                known(query_partition(request, &attribute))
            } else {
                BTreeSet::new()
            };
            vec![check(operation, resource, keys)]
        }
        "BatchGetItem" | "BatchWriteItem" => request
            .get("RequestItems")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(table, items)| {
                let keys = match items {
                    Value::Object(get) => get
                        .get("Keys")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .flat_map(|k| pk(Some(k), &schema.table))
                        .collect(),
                    Value::Array(writes) => writes
                        .iter()
                        .flat_map(|w| {
                            let put = w.get("PutRequest").and_then(|p| p.get("Item"));
                            let delete = w.get("DeleteRequest").and_then(|d| d.get("Key"));
                            pk(put.or(delete), &schema.table)
                        })
                        .collect(),
                    _ => BTreeSet::new(),
                };
                check(operation, arn(table), keys)
            })
            .collect(),
        "TransactWriteItems" | "TransactGetItems" => request
            .get("TransactItems")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|item| {
                let (kind, body) = item.as_object()?.iter().next()?;
                let action = match kind.as_str() {
                    "Put" => "PutItem",
                    "Update" => "UpdateItem",
                    "Delete" => "DeleteItem",
                    "ConditionCheck" => "ConditionCheckItem",
                    "Get" => "GetItem",
                    _ => return None,
                };
                let table = body.get("TableName").and_then(Value::as_str).unwrap_or_default();
                let key = if action == "PutItem" {
                    body.get("Item")
                } else {
                    body.get("Key")
                };
                Some(check(action, arn(table), known(pk(key, &schema.table))))
            })
            .collect(),
        other => vec![check(other, arn(table), BTreeSet::new())],
    }
}

/// A call that names an item or a partition always has a partition key: when it cannot be read,
/// the check fails closed with a value no policy names.
fn known(keys: BTreeSet<String>) -> BTreeSet<String> {
    if keys.is_empty() {
        BTreeSet::from([UNREADABLE_KEY.to_owned()])
    } else {
        keys
    }
}

/// The partition key of a call whose key the local check could not read.
const UNREADABLE_KEY: &str = "<unreadable partition key>";

/// The partition key value of a Query: from `KeyConditionExpression` (`#pk = :pk AND ...`, keywords
/// in any case) or the legacy `KeyConditions`.
fn query_partition(request: &Map<String, Value>, attribute: &str) -> BTreeSet<String> {
    let scalar = |v: Option<&Value>| {
        v.and_then(|v| v.get("S").or_else(|| v.get("N")).or_else(|| v.get("B")))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    if let Some(conditions) = request.get("KeyConditions").and_then(Value::as_object) {
        let value = conditions
            .get(attribute)
            .filter(|c| c.get("ComparisonOperator").and_then(Value::as_str) == Some("EQ"))
            .and_then(|c| c.get("AttributeValueList")?.as_array()?.first());
        return scalar(value).into_iter().collect();
    }
    let expression = request
        .get("KeyConditionExpression")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let names = request.get("ExpressionAttributeNames").and_then(Value::as_object);
    let values = request.get("ExpressionAttributeValues").and_then(Value::as_object);
    // Words, with `=` and parentheses as words of their own: `name = :value` is three in a row.
    let spaced = expression.replace('=', " = ").replace(['(', ')'], " ");
    let words: Vec<&str> = spaced.split_whitespace().collect();
    for w in words.windows(3) {
        if w[1] != "=" {
            continue;
        }
        let name = match w[0].strip_prefix('#') {
            Some(_) => names
                .and_then(|n| n.get(w[0]))
                .and_then(Value::as_str)
                .unwrap_or_default(),
            None => w[0],
        };
        if name == attribute
            && let Some(value) = scalar(values.and_then(|v| v.get(w[2])))
        {
            return BTreeSet::from([value]);
        }
    }
    BTreeSet::new()
}

/// The report of `make test`: per function, the actions it used, the ones it was denied, and the
/// ones its policy grants that no call used, from the decisions logged to `LOCAL_IAM_USAGE_LOG`.
pub fn usage_report(template: &Template, log: &str) -> Result<String, IamError> {
    let symbols = Symbols::new(template, &[], "us-east-1", "table");
    let mut out = String::new();
    for f in &template.functions {
        let policy = Policy::of(f, &symbols)?;
        let lines = log.lines().filter_map(|l| match l.split(' ').collect::<Vec<_>>()[..] {
            [function, action, verdict @ ("allow" | "deny")] if function == f.logical_id => {
                Some((action.to_owned(), verdict == "allow"))
            }
            _ => None,
        });
        let (mut used, mut denied) = (BTreeSet::new(), BTreeSet::new());
        for (action, allowed) in lines {
            if allowed {
                used.insert(action)
            } else {
                denied.insert(action)
            };
        }
        let unused: Vec<&str> = policy
            .granted_actions()
            .into_iter()
            .filter(|g| !used.iter().any(|u| glob_ignoring_case(g, u)))
            .collect();
        let list = |set: Vec<&str>| if set.is_empty() { "-".to_owned() } else { set.join(" ") };
        out.push_str(&format!(
            "iam: {}: used {}; denied {}; granted but unused {}\n",
            f.logical_id,
            list(used.iter().map(String::as_str).collect()),
            list(denied.iter().map(String::as_str).collect()),
            list(unused),
        ));
    }
    Ok(out)
}

/// A decision the enforcer made, for the log and the report of used permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub function: String,
    pub check: Check,
    pub allowed: bool,
}

struct Shared {
    upstream: String,
    region: String,
    schema: KeySchema,
    /// Access key -> policy.
    policies: HashMap<String, Policy>,
    http: reqwest::Client,
    decisions: Mutex<Vec<Decision>>,
    usage_log: Option<std::path::PathBuf>,
}

/// The running enforcer: its endpoint, and what it decided.
pub struct Enforcer {
    pub endpoint: String,
    shared: Arc<Shared>,
    _server: crate::Background,
}

impl Enforcer {
    /// The access key a function's credentials carry locally (its logical id).
    pub fn access_key(function: &str) -> String {
        function.to_owned()
    }

    /// Starts the enforcer on a free loopback port, forwarding allowed calls to `upstream`, with
    /// every function's policy resolved for `symbols` (the local table). Every decision is also
    /// appended to the file `LOCAL_IAM_USAGE_LOG` names, when set (the report of `make test`).
    pub async fn start(template: &Template, symbols: &Symbols, upstream: &str) -> Result<Self, IamError> {
        let mut policies = HashMap::new();
        for f in &template.functions {
            policies.insert(Self::access_key(&f.logical_id), Policy::of(f, symbols)?);
        }
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            region: symbols.region.clone(),
            schema: KeySchema::of(&template.table),
            policies,
            http: loopback_client().map_err(IamError::Client)?,
            decisions: Mutex::default(),
            usage_log: std::env::var_os("LOCAL_IAM_USAGE_LOG").map(Into::into),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(IamError::Listen)?;
        let endpoint = format!("http://{}", listener.local_addr().map_err(IamError::Listen)?);
        let app = Router::new().fallback(forward).with_state(shared.clone());
        Ok(Self {
            endpoint,
            shared,
            _server: crate::Background::serve(listener, app),
        })
    }

    /// `state` for `function`: its DynamoDB calls through this check, with the function's
    /// credentials, so that the check knows whose policy applies.
    pub fn state_for(&self, state: &shared::AppState, function: &str) -> shared::AppState {
        let config = state
            .store
            .client()
            .config()
            .to_builder()
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                Self::access_key(function),
                "local",
                None,
                None,
                "local-iam",
            ))
            .build();
        shared::AppState {
            store: shared::store::Store::new(aws_sdk_dynamodb::Client::from_conf(config), state.store.table())
                .with_shards(state.store.shards()),
            pages: state.pages.clone(),
        }
    }

    /// The decisions so far, oldest first.
    pub fn decisions(&self) -> Vec<Decision> {
        self.shared.decisions.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

async fn forward(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let access_key = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split("Credential=").nth(1))
        .and_then(|v| v.split('/').next())
        .unwrap_or_default();
    let Some(policy) = shared.policies.get(access_key) else {
        return aws_error(
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        );
    };
    let operation = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.split_once('.'))
        .map(|(_, op)| op.to_owned())
        .unwrap_or_default();
    let request: Map<String, Value> = serde_json::from_slice(&body).unwrap_or_default();
    for check in checks(&operation, &request, &shared.schema, &shared.region) {
        let allowed = policy.allows(&check);
        record(&shared, &policy.function, &check, allowed);
        if !allowed {
            // The kind of key only (`USER`, `BANK`): its value may carry a user id or a number.
            let kinds: BTreeSet<&str> = check
                .leading_keys
                .iter()
                .map(|k| k.split('#').next().unwrap_or_default())
                .collect();
            tracing::warn!(
                function = %policy.function,
                action = %check.action,
                resource = %check.resource,
                key = %kinds.into_iter().collect::<Vec<_>>().join(","),
                "local IAM: access denied"
            );
            let role = format!("arn:aws:sts::{LOCAL_ACCOUNT}:assumed-role/{0}Role/{0}", policy.function);
            return aws_error(
                "AccessDeniedException",
                &format!(
                    "User: {role} is not authorized to perform: {} on resource: {} because no identity-based policy allows the {} action",
                    check.action, check.resource, check.action
                ),
            );
        }
    }
    match pass_on(&shared.http, &shared.upstream, &headers, body).await {
        Ok(answer) => answer.into_response(),
        Err(_) => unavailable(),
    }
}

/// A client for DynamoDB Local on loopback: no HTTP proxy from the environment, no Nagle delay.
pub fn loopback_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .build()
        .map_err(|e| e.to_string())
}

/// DynamoDB's answer to a call passed on.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        (self.status, self.headers, self.body).into_response()
    }
}

/// Passes a DynamoDB call on to `upstream` as it came (its signature headers included; DynamoDB
/// Local does not check signatures, so a changed body is fine) and reads the answer. The one
/// forwarding of the project's local DynamoDB endpoints (this check, `make bench`'s counter).
pub async fn pass_on(
    http: &reqwest::Client,
    upstream: &str,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Answer, reqwest::Error> {
    let mut request = http.post(upstream).body(body);
    for (name, value) in headers {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    let answer = request.send().await?;
    let status = answer.status();
    let mut out = HeaderMap::new();
    for (name, value) in answer.headers() {
        if name != "content-length" && name != "transfer-encoding" && name != "connection" {
            out.insert(name.clone(), value.clone());
        }
    }
    Ok(Answer {
        status,
        headers: out,
        body: answer.bytes().await?,
    })
}

fn record(shared: &Shared, function: &str, check: &Check, allowed: bool) {
    let decision = Decision {
        function: function.to_owned(),
        check: check.clone(),
        allowed,
    };
    if let Some(path) = &shared.usage_log {
        use std::io::Write as _;
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let verdict = if allowed { "allow" } else { "deny" };
            // One write per line: processes append to the same file concurrently.
            let _ = f.write_all(format!("{function} {} {verdict}\n", check.action).as_bytes());
        }
    }
    let mut decisions = shared.decisions.lock().unwrap_or_else(|e| e.into_inner());
    // Bounded: a long `make run-lambda` session keeps the last decisions only.
    if decisions.len() >= 10_000 {
        decisions.drain(..5_000);
    }
    decisions.push(decision);
}

/// DynamoDB's JSON error document, as the SDK parses it.
fn aws_error(error_type: &str, message: &str) -> Response {
    let body = serde_json::json!({
        "__type": format!("com.amazon.coral.service#{error_type}"),
        "Message": message,
    });
    let mut response = (StatusCode::BAD_REQUEST, body.to_string()).into_response();
    let h = response.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/x-amz-json-1.0"));
    if let Ok(v) = HeaderValue::from_str(error_type) {
        h.insert("x-amzn-errortype", v);
    }
    response
}

/// An unreachable DynamoDB Local is an internal error of the service, which the SDK retries and
/// the functions answer 503, as when they reach it directly.
fn unavailable() -> Response {
    let body = r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"upstream unreachable"}"#;
    let mut response = (StatusCode::INTERNAL_SERVER_ERROR, body).into_response();
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/x-amz-json-1.0"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> KeySchema {
        KeySchema {
            table: "pk".into(),
            indexes: HashMap::from([("gsi1".into(), "gsi1pk".into())]),
        }
    }

    #[test]
    fn the_usage_report_reads_whole_lines_only() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
        let template = Template::load(&path).expect("template");
        let log = "CrmEventsFunction dynamodb:GetItem allow\n\
                   CrmEventsFunction dynamodb:Query allow\n\
                   CrmEventsFunction dynamodb:PutItem deny\n\
                   CrmEventsFunctiondynamodb:Query deny\n\
                   CrmEventsFunction dynamodb:Query allowCrmEventsFunction\n";
        let report = usage_report(&template, log).expect("report");
        let line = report
            .lines()
            .find(|l| l.starts_with("iam: CrmEventsFunction:"))
            .expect("line");
        assert_eq!(
            line,
            "iam: CrmEventsFunction: used dynamodb:GetItem dynamodb:Query; denied dynamodb:PutItem; \
             granted but unused dynamodb:ConditionCheckItem dynamodb:PutItem"
        );
    }

    #[test]
    fn wildcards() {
        assert!(glob("dynamodb:*", "dynamodb:GetItem"));
        assert!(glob("arn:*:table/t", "arn:aws:dynamodb:r:1:table/t"));
        assert!(!glob("arn:*:table/t", "arn:aws:dynamodb:r:1:table/t/index/gsi1"));
        assert!(glob("a?c", "abc"));
        assert!(!glob("abc", "abcd"));
        assert!(!glob("a", "A"), "resources and keys match case-sensitively");
        assert!(
            glob_ignoring_case("dynamodb:getitem", "dynamodb:GetItem"),
            "actions do not"
        );
    }

    #[test]
    fn a_transaction_is_one_check_per_item() {
        let request = json!({"TransactItems": [
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "A"}, "sk": {"S": "x"}}}},
            {"ConditionCheck": {"TableName": "t", "Key": {"pk": {"S": "B"}, "sk": {"S": "y"}}}}
        ]});
        let got = checks(
            "TransactWriteItems",
            request.as_object().unwrap(),
            &schema(),
            "us-east-1",
        );
        let actions: Vec<&str> = got.iter().map(|c| c.action.as_str()).collect();
        assert_eq!(actions, ["dynamodb:PutItem", "dynamodb:ConditionCheckItem"]);
        assert_eq!(got[1].leading_keys, BTreeSet::from(["B".to_owned()]));
        assert_eq!(got[0].resource, "arn:aws:dynamodb:us-east-1:000000000000:table/t");
    }

    #[test]
    fn a_query_on_an_index_checks_the_index_and_its_partition() {
        let request = json!({"TableName": "t", "IndexName": "gsi1",
            "KeyConditionExpression": "#p = :p AND #s > :s",
            "ExpressionAttributeNames": {"#p": "gsi1pk", "#s": "gsi1sk"},
            "ExpressionAttributeValues": {":p": {"S": "BANK#b"}, ":s": {"S": "0"}}});
        let got = checks("Query", request.as_object().unwrap(), &schema(), "us-east-1");
        assert_eq!(
            got[0].resource,
            "arn:aws:dynamodb:us-east-1:000000000000:table/t/index/gsi1"
        );
        assert_eq!(got[0].leading_keys, BTreeSet::from(["BANK#b".to_owned()]));
    }

    #[test]
    fn key_conditions_in_any_case_and_the_legacy_form_are_read_and_an_unreadable_one_fails_closed() {
        let read = |request: Value| {
            checks("Query", request.as_object().unwrap(), &schema(), "us-east-1")[0]
                .leading_keys
                .clone()
        };
        let values = json!({":pk": {"S": "A"}, ":p": {"S": "x"}});
        let want = BTreeSet::from(["A".to_owned()]);
        for expression in [
            "pk = :pk and begins_with(sk, :p)",
            "(pk=:pk)\nAND sk > :p",
            "sk > :p AND pk = :pk",
        ] {
            let request =
                json!({"TableName": "t", "KeyConditionExpression": expression, "ExpressionAttributeValues": values});
            assert_eq!(read(request), want, "{expression}");
        }
        let legacy = json!({"TableName": "t", "KeyConditions": {"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "A"}]}}});
        assert_eq!(read(legacy), want);
        let unreadable = json!({"TableName": "t", "KeyConditionExpression": "pk = :missing"});
        let keys = read(unreadable);
        let only_connect = Condition {
            set: SetOperator::ForAllValues,
            operator: Operator::Equals,
            values: vec!["CONNECT".into()],
        };
        assert!(
            !only_connect.holds(&keys),
            "an unreadable partition key is denied: {keys:?}"
        );
        let get = json!({"TableName": "t", "Key": {"sk": {"S": "no pk"}}});
        let keys = checks("GetItem", get.as_object().unwrap(), &schema(), "us-east-1")[0]
            .leading_keys
            .clone();
        assert!(!only_connect.holds(&keys));
    }

    #[test]
    fn leading_keys_conditions() {
        let keys = |k: &[&str]| k.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        let all = Condition {
            set: SetOperator::ForAllValues,
            operator: Operator::Equals,
            values: vec!["CONNECT".into()],
        };
        assert!(all.holds(&keys(&["CONNECT"])));
        assert!(!all.holds(&keys(&["CONNECT", "BANK#b"])));
        assert!(
            all.holds(&keys(&[])),
            "IAM: ForAllValues holds for a request without the key"
        );
        let like = Condition {
            set: SetOperator::Single,
            operator: Operator::Like,
            values: vec!["BANK#*".into()],
        };
        assert!(like.holds(&keys(&["BANK#b"])));
        assert!(!like.holds(&keys(&["USER#u"])));
        let not = Condition {
            set: SetOperator::Single,
            operator: Operator::NotEquals,
            values: vec!["X".into()],
        };
        assert!(not.holds(&keys(&[])), "IAM: a negation holds when the key is absent");
    }
}
