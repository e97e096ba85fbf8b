//! What `local-api` takes from `template.yaml`: the routes and the function group serving each,
//! the authorizer's identity rules, the gateway responses, and the table definition. Reading them
//! here means local routes cannot drift from the deployed ones.

use serde_norway::Value;
use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read {0}: {1}")]
    Read(String, std::io::Error),
    #[error("template.yaml is not valid YAML: {0}")]
    Yaml(#[from] serde_norway::Error),
    #[error("template.yaml: {0}")]
    Shape(String),
}

fn shape(msg: impl Into<String>) -> TemplateError {
    TemplateError::Shape(msg.into())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Upper case, like `GET`.
    pub method: String,
    /// As in the template: `/v1/banks/{BankID}/customers`.
    pub path: String,
    /// The function group: the last part of the function's `CodeUri` (`functions/customers`).
    pub group: String,
}

impl Route {
    /// Whether `path` (raw, not decoded) is this route's path; `{X}` matches one non-empty segment.
    pub fn matches_path(&self, path: &str) -> bool {
        let mut want = self.path.trim_matches('/').split('/');
        let mut got = path.trim_matches('/').split('/');
        loop {
            match (want.next(), got.next()) {
                (None, None) => return true,
                (Some(w), Some(g)) if w.starts_with('{') && w.ends_with('}') && !g.is_empty() => {}
                (Some(w), Some(g)) if w == g => {}
                _ => return false,
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct AuthorizerSpec {
    /// The group of the authorizer function (`authorizer`).
    pub group: String,
    pub header: String,
    pub validation_expression: Option<String>,
    /// `ReauthorizeEvery`: how long API Gateway caches a policy per token (0: not at all).
    pub cache_seconds: u64,
}

/// A gateway response: status, headers and body as API Gateway would send them.
#[derive(Debug, Clone)]
pub struct GatewayResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// A function of the template, as the local Lambda service and the IAM check need it.
#[derive(Debug, Clone)]
pub struct FunctionDef {
    /// The logical id (`CustomersFunction`).
    pub logical_id: String,
    /// The group: the last part of `CodeUri`.
    pub group: String,
    /// `Timeout` (the function's, else `Globals`'), in seconds; Lambda's default is 3.
    pub timeout_seconds: u64,
    /// `MemorySize` in MB; Lambda's default is 128.
    pub memory_mb: u32,
    /// `Globals`' variables, then the function's own (which win), unresolved.
    pub environment: Vec<(String, Value)>,
    /// The `Properties` of the `AWS::Lambda::EventSourceMapping` that feeds it a stream, unresolved.
    pub stream: Option<Value>,
    /// `Policies`, unresolved.
    pub policies: Vec<Value>,
}

/// What intrinsic functions resolve to locally: parameter values (the template's defaults, then
/// overrides), pseudo parameters, and the local table for the `Table` resource.
#[derive(Debug, Clone)]
pub struct Symbols {
    pub parameters: HashMap<String, String>,
    pub region: String,
    /// The `AWS::DynamoDB::Table`'s logical id and the name of the table it is locally.
    pub table: (String, String),
}

impl Symbols {
    /// The template's parameter defaults, `overrides` on top.
    pub fn new(template: &Template, overrides: &[(&str, &str)], region: &str, table_name: &str) -> Self {
        let mut parameters = template.parameter_defaults.clone();
        for (k, v) in overrides {
            parameters.insert((*k).to_owned(), (*v).to_owned());
        }
        Self {
            parameters,
            region: region.to_owned(),
            table: (template.table_id.clone(), table_name.to_owned()),
        }
    }

    fn reference(&self, name: &str) -> Option<String> {
        match name {
            "AWS::Region" => Some(self.region.clone()),
            "AWS::AccountId" => Some(crate::iam::LOCAL_ACCOUNT.into()),
            "AWS::Partition" => Some("aws".into()),
            "AWS::StackName" => Some("customer-api-local".into()),
            "AWS::URLSuffix" => Some("amazonaws.com".into()),
            _ if name == self.table.0 => Some(self.table.1.clone()),
            _ => self.parameters.get(name).cloned(),
        }
    }

    fn attribute(&self, resource: &str, attribute: &str) -> Option<String> {
        (resource == self.table.0 && attribute == "Arn").then(|| {
            format!(
                "arn:aws:dynamodb:{}:{}:table/{}",
                self.region,
                crate::iam::LOCAL_ACCOUNT,
                self.table.1
            )
        })
    }
}

/// A template value as a string, with `!Ref`, `!GetAtt` and `!Sub` resolved; `None` when it
/// cannot be (sam local then sets an environment variable to the empty string).
pub fn resolve(value: &Value, symbols: &Symbols) -> Option<String> {
    let Some((name, arg)) = intrinsic(value) else {
        return match value {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        };
    };
    match name.as_str() {
        "Ref" => symbols.reference(arg.as_str()?),
        "GetAtt" => {
            let (resource, attribute) = match arg {
                Value::String(s) => s.split_once('.')?,
                Value::Sequence(seq) => (seq.first()?.as_str()?, seq.get(1)?.as_str()?),
                _ => return None,
            };
            symbols.attribute(resource, attribute)
        }
        "Sub" => {
            let text = arg.as_str()?;
            let mut out = String::new();
            let mut rest = text;
            while let Some(at) = rest.find("${") {
                out.push_str(&rest[..at]);
                let end = rest[at..].find('}')? + at;
                let name = &rest[at + 2..end];
                let value = match name.split_once('.') {
                    Some((r, a)) if !name.starts_with("AWS::") => symbols.attribute(r, a)?,
                    _ => symbols.reference(name)?,
                };
                out.push_str(&value);
                rest = &rest[end + 1..];
            }
            out.push_str(rest);
            Some(out)
        }
        _ => None,
    }
}

/// An intrinsic function's name (`If`, `Sub`, ...) and argument, in either of YAML's forms.
fn intrinsic(value: &Value) -> Option<(String, &Value)> {
    match value {
        Value::Tagged(t) => Some((t.tag.to_string().trim_start_matches('!').to_owned(), &t.value)),
        Value::Mapping(m) if m.len() == 1 => {
            let (k, v) = m.iter().next()?;
            let k = k.as_str()?;
            Some((k.strip_prefix("Fn::").unwrap_or(k).to_owned(), v))
        }
        _ => None,
    }
}

/// A value as the template deploys it with `symbols` (its parameters' defaults): [`resolve`], plus
/// `!If` on one of its `Conditions` (`!Equals`, `!Not`, `!And`, `!Or`); `None` for
/// `!Ref AWS::NoValue` (no value at all) or what it cannot read.
fn deployed_value(value: &Value, symbols: &Symbols, conditions: Option<&Value>) -> Option<String> {
    match intrinsic(value) {
        Some((name, arg)) if name == "If" => {
            let seq = arg.as_sequence()?;
            let holds = condition(seq.first()?.as_str()?, symbols, conditions)?;
            deployed_value(seq.get(if holds { 1 } else { 2 })?, symbols, conditions)
        }
        _ => resolve(value, symbols),
    }
}

/// Whether the template's condition `name` holds with its parameters' defaults.
fn condition(name: &str, symbols: &Symbols, conditions: Option<&Value>) -> Option<bool> {
    fn eval(v: &Value, symbols: &Symbols, conditions: Option<&Value>) -> Option<bool> {
        if let Some(Value::String(name)) = v.get("Condition") {
            return condition(name, symbols, conditions);
        }
        let (op, arg) = intrinsic(v)?;
        let items = arg.as_sequence()?;
        match op.as_str() {
            "Equals" => Some(
                deployed_value(items.first()?, symbols, conditions)?
                    == deployed_value(items.get(1)?, symbols, conditions)?,
            ),
            "Not" => eval(items.first()?, symbols, conditions).map(|b| !b),
            "And" => items
                .iter()
                .map(|i| eval(i, symbols, conditions))
                .collect::<Option<Vec<_>>>()
                .map(|v| v.iter().all(|b| *b)),
            "Or" => items
                .iter()
                .map(|i| eval(i, symbols, conditions))
                .collect::<Option<Vec<_>>>()
                .map(|v| v.iter().any(|b| *b)),
            "Condition" => condition(arg.as_str()?, symbols, conditions),
            _ => None,
        }
    }
    eval(conditions?.get(name)?, symbols, conditions)
}

#[derive(Debug, Clone)]
pub struct Template {
    pub functions: Vec<FunctionDef>,
    /// Parameters that have a `Default`, with it.
    pub parameter_defaults: HashMap<String, String>,
    /// The table's logical id.
    pub table_id: String,
    pub routes: Vec<Route>,
    pub authorizer: AuthorizerSpec,
    pub gateway_responses: HashMap<String, GatewayResponse>,
    /// The `Properties` of the one `AWS::DynamoDB::Table`.
    pub table: Value,
}

impl Template {
    pub fn load(path: &Path) -> Result<Self, TemplateError> {
        let text = std::fs::read_to_string(path).map_err(|e| TemplateError::Read(path.display().to_string(), e))?;
        Self::parse(&text)
    }

    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let doc: Value = serde_norway::from_str(text)?;
        let resources = doc
            .get("Resources")
            .and_then(Value::as_mapping)
            .ok_or_else(|| shape("no Resources"))?;
        let of_type = |t: &'static str| {
            resources
                .iter()
                .filter(move |(_, r)| r.get("Type").and_then(Value::as_str) == Some(t))
                .map(|(name, r)| (name.as_str().unwrap_or_default().to_owned(), r))
        };

        let globals = doc.get("Globals").and_then(|g| g.get("Function"));
        let global = |key: &str| globals.and_then(|g| g.get(key));
        let variables = |v: Option<&Value>| -> Vec<(String, Value)> {
            v.and_then(|e| e.get("Variables"))
                .and_then(Value::as_mapping)
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.clone())))
                .collect()
        };
        let mut groups = HashMap::new();
        let mut routes = Vec::new();
        let mut functions = Vec::new();
        for (name, function) in of_type("AWS::Serverless::Function") {
            let props = function
                .get("Properties")
                .ok_or_else(|| shape(format!("{name} has no Properties")))?;
            let setting = |key: &str| props.get(key).or_else(|| global(key)).and_then(Value::as_u64);
            let code_uri = props
                .get("CodeUri")
                .and_then(Value::as_str)
                .ok_or_else(|| shape(format!("{name} has no CodeUri")))?;
            let group = code_uri
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned();
            groups.insert(name.clone(), group.clone());
            let mut environment = variables(global("Environment"));
            for (k, v) in variables(props.get("Environment")) {
                environment.retain(|(g, _)| *g != k);
                environment.push((k, v));
            }
            functions.push(FunctionDef {
                logical_id: name.clone(),
                group: group.clone(),
                timeout_seconds: setting("Timeout").unwrap_or(3),
                memory_mb: setting("MemorySize").unwrap_or(128) as u32,
                environment,
                policies: props
                    .get("Policies")
                    .and_then(Value::as_sequence)
                    .cloned()
                    .unwrap_or_default(),
                stream: None,
            });
            let Some(events) = props.get("Events").and_then(Value::as_mapping) else {
                continue;
            };
            for (_, event) in events {
                if event.get("Type").and_then(Value::as_str) != Some("Api") {
                    continue;
                }
                let p = event
                    .get("Properties")
                    .ok_or_else(|| shape(format!("{name}: an Api event has no Properties")))?;
                let text = |k: &str| {
                    p.get(k)
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                        .ok_or_else(|| shape(format!("{name}: an Api event has no {k}")))
                };
                routes.push(Route {
                    method: text("Method")?.to_ascii_uppercase(),
                    path: text("Path")?,
                    group: group.clone(),
                });
            }
        }

        // Stream event source mappings, on the function each names (`FunctionName: !Ref <function>`).
        for (name, mapping) in of_type("AWS::Lambda::EventSourceMapping") {
            let props = mapping
                .get("Properties")
                .ok_or_else(|| shape(format!("{name} has no Properties")))?;
            let target = props
                .get("FunctionName")
                .and_then(intrinsic)
                .filter(|(f, _)| f == "Ref")
                .and_then(|(_, arg)| arg.as_str().map(str::to_owned))
                .ok_or_else(|| shape(format!("{name}: FunctionName is not a !Ref of a function")))?;
            let function = functions.iter_mut().find(|f| f.logical_id == target).ok_or_else(|| {
                shape(format!(
                    "{name} feeds {target}, which is not a function of the template"
                ))
            })?;
            function.stream = Some(props.clone());
        }

        let (_, api) = of_type("AWS::Serverless::Api")
            .next()
            .ok_or_else(|| shape("no AWS::Serverless::Api"))?;
        let props = api
            .get("Properties")
            .ok_or_else(|| shape("the Api has no Properties"))?;
        let auth = props.get("Auth").ok_or_else(|| shape("the Api has no Auth"))?;
        let default = auth
            .get("DefaultAuthorizer")
            .and_then(Value::as_str)
            .ok_or_else(|| shape("the Api has no DefaultAuthorizer"))?;
        let spec = auth
            .get("Authorizers")
            .and_then(|a| a.get(default))
            .ok_or_else(|| shape(format!("authorizer {default} is not defined")))?;
        if spec.get("FunctionPayloadType").and_then(Value::as_str) != Some("TOKEN") {
            return Err(shape("the default authorizer must be a TOKEN authorizer"));
        }
        let function = get_att_resource(spec.get("FunctionArn"))
            .ok_or_else(|| shape("the authorizer's FunctionArn must be !GetAtt <Function>.Arn"))?;
        let group = groups.get(&function).cloned().ok_or_else(|| {
            shape(format!(
                "the authorizer function {function} is not a function of the template"
            ))
        })?;
        let identity = spec.get("Identity");
        let authorizer = AuthorizerSpec {
            group,
            header: identity
                .and_then(|i| i.get("Header"))
                .and_then(Value::as_str)
                .unwrap_or("Authorization")
                .to_owned(),
            validation_expression: identity
                .and_then(|i| i.get("ValidationExpression"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            // SAM's default, like API Gateway's.
            cache_seconds: identity
                .and_then(|i| i.get("ReauthorizeEvery"))
                .and_then(Value::as_u64)
                .unwrap_or(300),
        };

        let parameter_defaults: HashMap<String, String> = doc
            .get("Parameters")
            .and_then(Value::as_mapping)
            .into_iter()
            .flatten()
            .filter_map(|(k, p)| {
                let default = p.get("Default")?;
                let default = match default {
                    Value::Number(n) => n.to_string(),
                    other => other.as_str()?.to_owned(),
                };
                Some((k.as_str()?.to_owned(), default))
            })
            .collect();

        // The gateway's answers are static: resolved once, with the parameters' defaults.
        let defaults = Symbols {
            parameters: parameter_defaults.clone(),
            region: crate::region(),
            table: (String::new(), String::new()),
        };
        let mut gateway_responses = HashMap::new();
        if let Some(responses) = props.get("GatewayResponses").and_then(Value::as_mapping) {
            for (kind, r) in responses {
                let Some(kind) = kind.as_str() else { continue };
                let headers = r
                    .get("ResponseParameters")
                    .and_then(|p| p.get("Headers"))
                    .and_then(Value::as_mapping)
                    .map(|h| {
                        h.iter()
                            .filter_map(|(k, v)| {
                                let value = deployed_value(v, &defaults, doc.get("Conditions"))?;
                                Some((k.as_str()?.to_owned(), value.trim_matches('\'').to_owned()))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let body = r
                    .get("ResponseTemplates")
                    .and_then(|t| t.get("application/json"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let status = r.get("StatusCode").and_then(Value::as_u64).unwrap_or(0) as u16;
                gateway_responses.insert(kind.to_owned(), GatewayResponse { status, headers, body });
            }
        }

        let mut tables = of_type("AWS::DynamoDB::Table");
        let (table_id, table) = tables.next().ok_or_else(|| shape("no AWS::DynamoDB::Table"))?;
        if tables.next().is_some() {
            return Err(shape("the single-table design allows one AWS::DynamoDB::Table"));
        }
        let table = table
            .get("Properties")
            .cloned()
            .ok_or_else(|| shape("the table has no Properties"))?;

        Ok(Self {
            functions,
            parameter_defaults,
            table_id,
            routes,
            authorizer,
            gateway_responses,
            table,
        })
    }

    /// The function with this logical id.
    pub fn function(&self, logical_id: &str) -> Option<&FunctionDef> {
        self.functions.iter().find(|f| f.logical_id == logical_id)
    }

    /// The function serving a group.
    /// The `Properties` of `function`'s stream event source mapping.
    pub fn stream_mapping(&self, function: &str) -> Option<&Value> {
        self.functions
            .iter()
            .find(|f| f.logical_id == function)?
            .stream
            .as_ref()
    }

    pub fn function_of_group(&self, group: &str) -> Option<&FunctionDef> {
        self.functions.iter().find(|f| f.group == group)
    }

    /// The route for a method and raw path, or whether the path exists under another method.
    pub fn route(&self, method: &str, path: &str) -> Option<&Route> {
        self.routes.iter().find(|r| r.method == method && r.matches_path(path))
    }
}

/// `!GetAtt Name.Arn` (a tagged scalar) or `{"Fn::GetAtt": [Name, Arn]}`.
fn get_att_resource(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Tagged(tagged) if tagged.tag == "GetAtt" => {
            tagged.value.as_str()?.strip_suffix(".Arn").map(str::to_owned)
        }
        Value::Mapping(m) => {
            let list = m.get("Fn::GetAtt")?.as_sequence()?;
            Some(list.first()?.as_str()?.to_owned())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> Template {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
        Template::load(&path).expect("the project's template loads")
    }

    #[test]
    fn reads_the_projects_template() {
        let t = template();
        assert_eq!(t.authorizer.group, "authorizer");
        assert_eq!(t.authorizer.header, "Authorization");
        assert!(t.authorizer.validation_expression.is_some());
        assert_eq!(t.authorizer.cache_seconds, 300);
        let r = t.route("GET", "/v1/banks/b1/customers/c1").expect("route");
        assert_eq!(
            (r.group.as_str(), r.path.as_str()),
            ("customers", "/v1/banks/{BankID}/customers/{CustomerID}")
        );
        assert_eq!(
            t.route("POST", "/v1/banks/b1/user_customer_links")
                .map(|r| r.group.as_str()),
            Some("user-customer-links")
        );
        assert_eq!(
            t.route("DELETE", "/v1/banks/b1/customers/c1").map(|r| r.group.as_str()),
            Some("customers")
        );
        assert!(t.route("PATCH", "/v1/banks/b1/customers/c1").is_none());
        assert!(t.route("GET", "/v1/banks//customers/c1").is_none());
        assert_eq!(t.gateway_responses["UNAUTHORIZED"].status, 401);
        assert!(t.table.get("KeySchema").is_some());
    }

    /// The template with `CorsAllowedOrigins` defaulting to `origin`.
    fn with_cors(origin: &str) -> Template {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
        let text = std::fs::read_to_string(path).expect("template");
        let at = text.find("  CorsAllowedOrigins:").expect("the parameter");
        let default = at + text[at..].find("Default: \"\"").expect("its default");
        let changed = format!("{}Default: \"{origin}\"{}", &text[..default], &text[default + 11..]);
        Template::parse(&changed).expect("the changed template")
    }

    #[test]
    fn gateway_responses_carry_the_cors_origin_only_when_cors_is_on() {
        let allow = |t: &Template, kind: &str| {
            t.gateway_responses[kind]
                .headers
                .iter()
                .find(|(k, _)| k == "Access-Control-Allow-Origin")
                .map(|(_, v)| v.clone())
        };
        let off = template();
        let on = with_cors("https://app.bank.example");
        for kind in [
            "UNAUTHORIZED",
            "ACCESS_DENIED",
            "THROTTLED",
            "DEFAULT_4XX",
            "DEFAULT_5XX",
            "INTEGRATION_TIMEOUT",
        ] {
            assert_eq!(allow(&off, kind), None, "{kind}");
            assert_eq!(allow(&on, kind).as_deref(), Some("https://app.bank.example"), "{kind}");
        }
        // The other headers stay as they were.
        assert!(
            on.gateway_responses["UNAUTHORIZED"]
                .headers
                .contains(&("WWW-Authenticate".into(), "Bearer".into()))
        );
    }

    #[test]
    fn every_route_is_unique() {
        let t = template();
        let mut seen = std::collections::HashSet::new();
        for r in &t.routes {
            assert!(seen.insert((r.method.clone(), r.path.clone())), "duplicate route {r:?}");
        }
    }
}
