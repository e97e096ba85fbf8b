//! Hostile input on every route of the template, table-driven: malformed, truncated and deeply nested
//! JSON, wrong types, nulls, huge numbers, negative nanos, unicode edge cases, oversized bodies, hostile
//! path ids, bad limits and query parameters, tampered and replayed page tokens. Every case must be a
//! 4xx problem+json (400 from the route's own checks, 413 for size), and the whole suite must leave the
//! table exactly as it found it.
//!
//! Path and query cases go over a raw TCP connection, so that no client normalises `..`, `%2F` or
//! `%ZZ` before the API sees them; body cases go through reqwest.

use crate::auth::{BANK, Kind, World, kind, not_problem, reply_of, route_name};
use crate::common::{ALL_SCOPES, Api, Reply};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use futures::StreamExt;
use local_api::template::Route;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Category {
    MalformedJson,
    TruncatedJson,
    DeepNesting,
    WrongTypes,
    Nulls,
    HugeNumbers,
    NegativeNanos,
    BadDates,
    Unicode,
    Oversized,
    PathIds,
    PathShape,
    Limits,
    QueryParams,
    PageTokens,
}

use Category::*;

/// Body categories every POST and PUT gets.
const BODY_CATEGORIES: [Category; 8] = [
    MalformedJson,
    TruncatedJson,
    DeepNesting,
    WrongTypes,
    Nulls,
    HugeNumbers,
    Unicode,
    Oversized,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Exactly this status, as problem+json.
    Status(u16),
    /// 400 from the route, or 404 when no route matches the mangled path.
    BadOrNotFound,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    /// reqwest: the path is a normal one.
    Client,
    /// Bytes on a TCP connection: the request target goes out exactly as written.
    Raw,
}

struct Case {
    category: Category,
    route: String,
    what: String,
    method: String,
    target: String,
    token: String,
    body: Option<Vec<u8>>,
    transport: Transport,
    expect: Expect,
}

/// Free-text fields, where any printable unicode is fair; every other string field is an id, a code
/// or a number in disguise, where look-alike unicode must be refused.
const FREE_TEXT: [&str; 12] = [
    "legal_name",
    "relationship_status",
    "employment_status",
    "highest_education_attained",
    "line_1",
    "city",
    "type",
    "handle",
    "tax_number",
    "rating",
    "category",
    "reason",
];

/// Optional members of a good body (a rejection has no required one): `null` means absent, so
/// the nulls category does not apply to them.
const OPTIONAL: [&str; 1] = ["reason"];

/// Marks where a hostile value goes in a template body.
const HOLE: &str = "\u{1}HOLE";

fn merged(good: &Value, extra: &Value) -> Value {
    let mut body = good.clone();
    for (k, v) in extra.as_object().expect("object") {
        body[k] = v.clone();
    }
    body
}

/// Every leaf and object member of a body, as paths (`credit_limit.cur`) with their values.
fn members(v: &Value, prefix: &str, out: &mut Vec<(String, Value)>) {
    if let Value::Object(o) = v {
        for (k, child) in o {
            let path = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            out.push((path.clone(), child.clone()));
            members(child, &path, out);
        }
    }
}

fn with_member(body: &Value, path: &str, value: Value) -> Value {
    let mut body = body.clone();
    let mut at = &mut body;
    for key in path.split('.') {
        at = &mut at[key];
    }
    *at = value;
    body
}

/// A member spliced in as raw JSON text (for what serde_json cannot build: lone surrogates, 1e400).
fn with_raw(body: &Value, path: &str, raw: &str) -> Vec<u8> {
    let text = with_member(body, path, json!(HOLE)).to_string();
    text.replacen(&json!(HOLE).to_string(), raw, 1).into_bytes()
}

/// The timestamp fields each body route also takes (a `HOLE` where the timestamp goes).
fn timestamp_slots(route: &Route) -> Vec<Value> {
    let p = route.path.as_str();
    match (route.method.as_str(), p.rsplit('/').next().unwrap_or_default()) {
        ("POST", "customers") => vec![
            json!({"date_of_birth": HOLE}),
            json!({"last_ok_date": HOLE}),
            json!({"face_image": {"url": "https://img.example/a.png", "date": HOLE}}),
            json!({"dob_of_dependents": [HOLE]}),
        ],
        ("PUT", "identity") => vec![json!({"date_of_birth": HOLE})],
        ("PUT", "data") => vec![json!({"face_image": {"date": HOLE}})],
        ("POST", "social_media_handles") => vec![json!({"date_added": HOLE}), json!({"date_activated": HOLE})],
        ("POST", "crm-events") => vec![json!({"scheduled_date": HOLE}), json!({"actual_date": HOLE})],
        _ => Vec::new(),
    }
}

/// Date strings each body route also takes.
fn date_slots(route: &Route) -> Vec<&'static str> {
    if route.method == "POST" && route.path.ends_with("/credit_limit/requests") {
        vec!["requested_current_valid_end_date", "requested_temporary_valid_end_date"]
    } else if route.method == "PUT" && route.path.ends_with("/identity") {
        vec!["date_of_birth"]
    } else {
        Vec::new()
    }
}

/// The body cases of one POST or PUT route.
fn body_cases(world: &World, route: &Route, token: &str) -> Vec<Case> {
    let good = world.body(route).expect("a body route");
    let path = world.fill(route, &[]);
    let mut cases = Vec::new();
    let mut add = |category: Category, what: String, body: Vec<u8>, expect: u16| {
        cases.push(Case {
            category,
            route: route_name(route),
            what,
            method: route.method.clone(),
            target: path.clone(),
            token: token.to_owned(),
            body: Some(body),
            transport: Transport::Client,
            expect: Expect::Status(expect),
        })
    };
    let text = good.to_string();
    let (first, first_value) = good
        .as_object()
        .and_then(|o| o.iter().next())
        .map(|(k, v)| (k.clone(), v.to_string()))
        .expect("a body with a field");
    let f = first.as_str();
    let v = first_value.as_str();

    // Malformed JSON.
    let malformed: Vec<(&str, Vec<u8>)> = vec![
        ("empty", b"".to_vec()),
        ("whitespace", b"  \n\t ".to_vec()),
        ("open brace", b"{".to_vec()),
        ("close brace", b"}".to_vec()),
        ("braces twice", b"{{}}".to_vec()),
        ("key without value", format!(r#"{{"{f}"}}"#).into_bytes()),
        ("key and colon", format!(r#"{{"{f}":}}"#).into_bytes()),
        ("missing colon", format!(r#"{{"{f}" {v}}}"#).into_bytes()),
        ("lone comma", b"{,}".to_vec()),
        ("trailing comma", format!(r#"{{"{f}":{v},}}"#).into_bytes()),
        ("single quotes", format!("{{'{f}':'x'}}").into_bytes()),
        ("bare key", format!("{{{f}:{v}}}").into_bytes()),
        ("trailing garbage", format!("{text}x").into_bytes()),
        ("two documents", format!("{text}{text}").into_bytes()),
        ("object then array", format!("{text} []").into_bytes()),
        ("bad literal", format!(r#"{{"{f}":tru}}"#).into_bytes()),
        ("unterminated string", format!(r#"{{"{f}":"abc}}"#).into_bytes()),
        ("bad escape", format!(r#"{{"{f}":"a\qb"}}"#).into_bytes()),
        ("short unicode escape", format!(r#"{{"{f}":"\u12"}}"#).into_bytes()),
        ("leading zero", format!(r#"{{"{f}":01}}"#).into_bytes()),
        ("NaN", format!(r#"{{"{f}":NaN}}"#).into_bytes()),
        ("Infinity", format!(r#"{{"{f}":-Infinity}}"#).into_bytes()),
        ("lone minus", format!(r#"{{"{f}":-}}"#).into_bytes()),
        ("comment", format!("/* c */ {text}").into_bytes()),
        ("line comment", format!("{text} // c").into_bytes()),
        ("byte order mark", format!("\u{feff}{text}").into_bytes()),
        ("form encoded", format!("{f}=x").into_bytes()),
        ("array", b"[]".to_vec()),
        ("array of the body", format!("[{text}]").into_bytes()),
        ("string", br#""body""#.to_vec()),
        ("number", b"1".to_vec()),
        ("true", b"true".to_vec()),
        ("null", b"null".to_vec()),
        ("duplicate key", format!(r#"{{"{f}":{v},"{f}":{v}}}"#).into_bytes()),
        ("raw NUL byte", format!("{{\"{f}\":{v}\u{0}}}").into_bytes()),
        (
            "raw control character in a string",
            format!("{{\"{f}\":\"a\u{1}b\"}}").into_bytes(),
        ),
        ("raw newline in a string", format!("{{\"{f}\":\"a\nb\"}}").into_bytes()),
        ("invalid UTF-8", [b"{\"", f.as_bytes(), b"\":\"\xff\xfe\"}"].concat()),
        ("invalid UTF-8 outside strings", b"\xff{}".to_vec()),
        ("UTF-16", text.encode_utf16().flat_map(u16::to_le_bytes).collect()),
    ];
    for (what, body) in malformed {
        add(MalformedJson, what.to_owned(), body, 400);
    }

    // Truncated JSON: every prefix of an object is invalid.
    let bytes = text.as_bytes();
    let mut cuts = vec![
        1,
        2,
        bytes.len() / 4,
        bytes.len() / 2,
        bytes.len() * 3 / 4,
        bytes.len() - 1,
    ];
    cuts.sort();
    cuts.dedup();
    for cut in cuts.into_iter().filter(|c| *c > 0 && *c < bytes.len()) {
        add(TruncatedJson, format!("first {cut} bytes"), bytes[..cut].to_vec(), 400);
    }

    // Deep nesting, under 64 KiB so that the parser, not the size limit, answers.
    let deep: Vec<(&str, String)> = vec![
        ("10 000 [", "[".repeat(10_000)),
        ("60 000 [", "[".repeat(60_000)),
        ("10 000 {\"a\":", "{\"a\":".repeat(10_000)),
        (
            "10 000 balanced [] in a field",
            format!(r#"{{"{f}":{}{}}}"#, "[".repeat(10_000), "]".repeat(10_000)),
        ),
        (
            "5 000 balanced {} in a field",
            format!(r#"{{"{f}":{}1{}}}"#, "{\"a\":".repeat(5_000), "}".repeat(5_000)),
        ),
        (
            "30 000 unclosed [ in a field",
            format!(r#"{{"{f}":{}"#, "[".repeat(30_000)),
        ),
        (
            "10 000 [ in an unknown field",
            format!(r#"{{"zz":{}{}}}"#, "[".repeat(10_000), "]".repeat(10_000)),
        ),
    ];
    for (what, body) in deep {
        add(DeepNesting, what.to_owned(), body.into_bytes(), 400);
    }

    // Wrong types, nulls, huge numbers and unicode, member by member.
    let mut all = Vec::new();
    members(&good, "", &mut all);
    let mut text_fields = Vec::new();
    if !all.iter().any(|(_, v)| v.is_string()) {
        // A body without text (`{"dependants": 1}`): its optional text fields get the unicode cases.
        for field in ["relationship_status", "employment_status", "highest_education_attained"] {
            text_fields.push((field.to_owned(), json!("x")));
        }
    }
    for (path, value) in all.iter().chain(&text_fields) {
        let unicode_only = text_fields.iter().any(|(p, _)| p == path);
        let good = if unicode_only {
            merged(&good, &json!({path.as_str(): value}))
        } else {
            good.clone()
        };
        let leaf = path.rsplit('.').next().unwrap_or_default();
        let wrong: Vec<Value> = match value {
            _ if unicode_only => Vec::new(),
            Value::String(s) => vec![json!(true), json!(123), json!(1.5), json!([]), json!({}), json!([s])],
            Value::Number(n) => vec![
                json!(true),
                json!(n.to_string()),
                json!(1.5),
                json!([]),
                json!({}),
                json!([n]),
            ],
            Value::Object(_) => vec![json!("x"), json!(1), json!(true), json!([]), json!([value])],
            Value::Bool(_) => vec![json!("true"), json!(1), json!([])],
            _ => Vec::new(),
        };
        for w in wrong {
            add(
                WrongTypes,
                format!("{path} = {w}"),
                with_member(&good, path, w).to_string().into_bytes(),
                400,
            );
        }
        if !unicode_only && !OPTIONAL.contains(&leaf) {
            add(
                Nulls,
                format!("{path} = null"),
                with_member(&good, path, Value::Null).to_string().into_bytes(),
                400,
            );
        }
        let mut huge = vec![
            "1e400",
            "-1e400",
            "18446744073709551616",
            "-9223372036854775809",
            "1e19",
            "123456789012345678901234567890",
        ];
        if value.is_number() {
            huge.extend(["2147483648", "-2147483649", "-1", "1e2", "0.0000001"]);
        }
        if unicode_only {
            huge.clear();
        }
        for raw in huge {
            add(HugeNumbers, format!("{path} = {raw}"), with_raw(&good, path, raw), 400);
        }
        if let Value::String(s) = value {
            let mut unicode: Vec<(&str, String)> = vec![
                ("lone high surrogate", r#""\ud800""#.into()),
                ("lone low surrogate", r#""\udfff""#.into()),
                ("lone surrogate inside", format!(r#""{}\ud800x""#, s)),
                ("reversed surrogate pair", r#""\ude00\ud83d""#.into()),
                ("escaped NUL", r#""\u0000""#.into()),
                ("escaped NUL inside", format!(r#""{}\u0000x""#, s)),
                ("escaped escape character", format!(r#""{}\u001b[31m""#, s)),
                ("escaped C1 control", format!(r#""{}\u0085""#, s)),
                // A raw NUL, replaced below by the bytes of U+D800 in UTF-8's form, which UTF-8 forbids.
                ("surrogate encoded as UTF-8 (CESU)", "\"\u{0}\"".into()),
            ];
            if !FREE_TEXT.contains(&leaf) {
                unicode.extend([
                    ("RTL override", format!("\"\u{202e}{s}\"")),
                    ("RTL override inside", format!("\"{s}\u{202e}1\"")),
                    ("4-byte emoji", format!("\"{s}\u{1f600}\"")),
                    ("only an emoji", "\"\u{1f4a9}\"".into()),
                    ("combining acute", format!("\"{s}e\u{301}\"")),
                    ("zero-width joiner", format!("\"{s}\u{200d}\"")),
                    ("zero-width space", format!("\"\u{200b}{s}\"")),
                    ("byte order mark", format!("\"\u{feff}{s}\"")),
                    ("no-break space", format!("\"{s}\u{a0}\"")),
                    (
                        "fullwidth look-alike",
                        format!(
                            "\"{}\"",
                            s.chars()
                                .map(|c| if c.is_ascii_alphanumeric() {
                                    char::from_u32(c as u32 + 0xfee0).unwrap_or(c)
                                } else {
                                    c
                                })
                                .collect::<String>()
                        ),
                    ),
                ]);
            }
            for (what, raw) in unicode {
                let mut body = with_raw(&good, path, &raw);
                if let Some(at) = body.iter().position(|b| *b == 0) {
                    body.splice(at..=at, [0xed, 0xa0, 0x80]);
                }
                add(Unicode, format!("{path}: {what}"), body, 400);
            }
        }
    }

    // Timestamps: out of range, overflowing, fractional, negative nanos.
    let huge_timestamps = [
        r#"{"seconds": 1e400}"#,
        r#"{"seconds": -1e400}"#,
        r#"{"seconds": 18446744073709551616}"#,
        r#"{"seconds": -18446744073709551616}"#,
        r#"{"seconds": 9223372036854775807}"#,
        r#"{"seconds": -9223372036854775808}"#,
        r#"{"seconds": 253402300800}"#,
        r#"{"seconds": -62135596801}"#,
        r#"{"seconds": "99999999999999999999"}"#,
        r#"{"seconds": "9223372036854775807"}"#,
        r#"{"seconds": "1e400"}"#,
        r#"{"seconds": 1.5}"#,
        r#"{"seconds": 1e3}"#,
        r#"{"seconds": 1, "nanos": 1e400}"#,
        r#"{"seconds": 1, "nanos": 1000000000}"#,
        r#"{"seconds": 1, "nanos": 4294967296}"#,
        r#"{"seconds": 1, "nanos": 2147483648}"#,
        r#"{"seconds": 1, "nanos": 0.5}"#,
        r#"{"nanos": 1}"#,
        r#"{"seconds": 1, "nanos": 0, "extra": 1}"#,
        "1e400",
        "18446744073709551616",
        "1700000000",
        "[1700000000, 0]",
        "true",
    ];
    let negative_nanos = [
        r#"{"seconds": 1, "nanos": -1}"#,
        r#"{"seconds": 0, "nanos": -999999999}"#,
        r#"{"seconds": -1, "nanos": -1}"#,
        r#"{"seconds": 1, "nanos": -2147483648}"#,
        r#"{"seconds": 1, "nanos": -2147483649}"#,
        r#"{"seconds": 1, "nanos": -1e400}"#,
        r#"{"seconds": 1, "nanos": "-1"}"#,
        r#"{"seconds": 1, "nanos": -0.5}"#,
    ];
    let bad_dates = [
        "\"\"",
        "\"yesterday\"",
        "\"2025-13-01\"",
        "\"2025-02-30\"",
        "\"0000-00-00\"",
        "\"10000-01-01\"",
        "\"+10000-01-01T00:00:00Z\"",
        "\"1990-05-17T00:00:00\"",
        "\"1990-05-17T25:00:00Z\"",
        "\"1990-05-17T00:00:00+24:00\"",
        "\"1990-05-17T00:00:00Z\\u0000\"",
        "\"\\ud800\"",
    ];
    for slot in timestamp_slots(route) {
        let template = merged(&good, &slot);
        for (category, raws) in [
            (HugeNumbers, &huge_timestamps[..]),
            (NegativeNanos, &negative_nanos[..]),
            (BadDates, &bad_dates[..]),
        ] {
            for raw in raws {
                let body = template.to_string().replacen(&json!(HOLE).to_string(), raw, 1);
                add(category, format!("{slot} <- {raw}"), body.into_bytes(), 400);
            }
        }
    }
    for field in date_slots(route) {
        // An empty optional string is the same as leaving the field out.
        for raw in bad_dates.iter().filter(|d| **d != "\"\"") {
            add(
                BadDates,
                format!("{field} = {raw}"),
                with_raw(&merged(&good, &json!({field: HOLE})), field, raw),
                400,
            );
        }
    }

    // Oversized: 413 however the bytes are spent.
    let over = 64 * 1024 + 1;
    let padded = format!("{text}{}", " ".repeat(over - text.len()));
    add(
        Oversized,
        "64 KiB + 1 byte (whitespace)".into(),
        padded.into_bytes(),
        413,
    );
    add(
        Oversized,
        "70 KiB unknown field".into(),
        merged(&good, &json!({"zz": "x".repeat(70 * 1024)}))
            .to_string()
            .into_bytes(),
        413,
    );
    add(
        Oversized,
        format!("{f} of 70 KiB"),
        with_member(&good, f, json!("x".repeat(70 * 1024)))
            .to_string()
            .into_bytes(),
        413,
    );
    add(Oversized, "1 MiB of x".into(), vec![b'x'; 1024 * 1024], 413);
    add(Oversized, "70 KiB of [".into(), "[".repeat(70 * 1024).into_bytes(), 413);
    cases
}

/// Path parameter values no route may take, and what they must get.
fn hostile_ids(real: &str) -> Vec<(String, String, Expect)> {
    let mut ids: Vec<(&str, String)> = vec![
        ("#", "a%23b".into()),
        ("# alone", "%23".into()),
        ("# after the real id", format!("{real}%23")),
        ("key prefix smuggling", format!("CUSTOMER%23{real}")),
        ("encoded /", "a%2Fb".into()),
        ("encoded / alone", "%2F".into()),
        ("encoded / after the real id", format!("{real}%2F")),
        ("encoded \\", "a%5Cb".into()),
        ("encoded ../..", "..%2F..%2Fetc%2Fpasswd".into()),
        ("%00", "%00".into()),
        ("%00 after the real id", format!("{real}%00")),
        ("%ZZ", "%ZZ".into()),
        ("lone %", "a%".into()),
        ("%4", "%4".into()),
        ("invalid UTF-8", "%FF%FE".into()),
        ("UTF-8 surrogate (CESU)", "%ED%A0%80".into()),
        ("overlong /", "%C0%AF".into()),
        ("1 KiB", "a".repeat(1024)),
        ("1 KiB of real ids", real.repeat(1024 / real.len().max(1) + 1)),
        ("65 characters", "a".repeat(65)),
        ("4-byte emoji", format!("{real}%F0%9F%98%80")),
        ("only an emoji", "%F0%9F%92%A9".into()),
        ("RTL override", format!("%E2%80%AE{real}")),
        ("combining acute", format!("{real}e%CC%81")),
        ("zero-width space", format!("%E2%80%8B{real}")),
        ("space", "a%20b".into()),
        ("leading space", format!("%20{real}")),
        ("plus", "a+b".into()),
        ("quote", "%27%20OR%20%271%27%3D%271".into()),
        ("angle brackets", "%3Cscript%3E".into()),
        ("asterisk", "*".into()),
        ("tab", "a%09b".into()),
        ("newline", "a%0Ab".into()),
        ("CRLF injection", "a%0D%0AX-Injected:%201".into()),
        ("dash first", "-abc".into()),
        ("dot first", ".abc".into()),
    ];
    // Other spellings of a UUID: only the canonical one names the item.
    if real.len() == 36 {
        ids.push(("UUID without dashes", real.replace('-', "")));
        ids.push(("UUID in braces", format!("%7B{real}%7D")));
        ids.push(("UUID with a urn prefix", format!("urn:uuid:{real}")));
        ids.push(("UUID one character short", real[..35].to_owned()));
    }
    let mut ids: Vec<(String, String, Expect)> = ids
        .into_iter()
        .map(|(w, v)| (w.to_owned(), v, Expect::Status(400)))
        .collect();
    // Dot segments: the Lambda runtime resolves them as URLs are resolved (WHATWG, `%2E` too), so
    // the path names another resource, which no route serves: 404, as good as 400.
    for (what, value) in [("..", ".."), (".", "."), ("encoded ..", "%2E%2E")] {
        ids.push((what.into(), value.into(), Expect::BadOrNotFound));
    }
    if real.len() == 36 {
        // Well-formed, just not an id anybody was given: 404 is as good as 400.
        ids.push((
            "nil UUID".into(),
            "00000000-0000-0000-0000-000000000000".into(),
            Expect::BadOrNotFound,
        ));
    }
    ids
}

/// Path cases of one route: every parameter, every hostile value; and mangled path shapes.
fn path_cases(world: &World, route: &Route, token: &str) -> Vec<Case> {
    let body = world.body(route).map(|b| b.to_string().into_bytes());
    let mut cases = Vec::new();
    let mut add = |category: Category, what: String, target: String, expect: Expect| {
        cases.push(Case {
            category,
            route: route_name(route),
            what,
            method: route.method.clone(),
            target,
            token: token.to_owned(),
            body: body.clone(),
            transport: Transport::Raw,
            expect,
        })
    };
    for param in World::params_of(route) {
        let real = world.params[param.as_str()].clone();
        for (what, value, expect) in hostile_ids(&real) {
            let target = world.fill(route, &[(param.as_str(), value.as_str())]);
            add(PathIds, format!("{{{param}}} {what}: {value:.80}"), target, expect);
        }
    }
    let path = world.fill(route, &[]);
    let shapes = [
        ("trailing slash", format!("{path}/")),
        ("double slash inside", path.replacen("/v1/", "/v1//", 1)),
        ("leading double slash", format!("/{path}")),
        ("dot segment", path.replacen("/v1/", "/v1/./", 1)),
        ("dot-dot segment", path.replacen("/v1/", "/v1/x/../", 1)),
        ("encoded slash between segments", path.replacen("/v1/", "/v1%2F", 1)),
        ("upper case", path.to_uppercase()),
        ("matrix parameter", format!("{path};x=1")),
        ("extra segment", format!("{path}/extra")),
        ("fragment-looking #", format!("{path}%23")),
    ];
    for (what, target) in shapes {
        add(PathShape, what.into(), target, Expect::BadOrNotFound);
    }
    cases
}

/// Whether a route is a list (a GET ending in a literal segment).
fn is_list(route: &Route) -> bool {
    route.method == "GET" && !route.path.ends_with('}')
}

/// `limit`, query parameter and page token cases of one list route.
fn query_cases(world: &World, route: &Route, token: &str, tokens: &Tokens) -> Vec<Case> {
    let path = world.fill(route, &[]);
    let firehose = kind(route) == Kind::Firehose;
    let mut cases = Vec::new();
    let mut add = |category: Category, what: String, target: String, token: &str| {
        cases.push(Case {
            category,
            route: route_name(route),
            what,
            method: "GET".into(),
            target,
            token: token.to_owned(),
            body: None,
            transport: Transport::Raw,
            expect: Expect::Status(400),
        })
    };
    let over = if firehose || route.path.ends_with("/export") {
        "501"
    } else {
        "101"
    };
    let limits = [
        "0",
        over,
        "-1",
        "-0",
        "abc",
        "1.5",
        "1e2",
        "",
        "99999999999999999999",
        "9223372036854775808",
        "0x10",
        "%201",
        "1%00",
        "%00",
        "%ZZ",
        "%F0%9F%98%80",
        "1&limit=2",
        "true",
        "[1]",
    ];
    for l in limits {
        add(Limits, format!("limit={l}"), format!("{path}?limit={l}"), token);
    }
    if firehose {
        for q in [
            "sort_direction=SIDEWAYS",
            "sort_direction=",
            "sort_direction=ASC%00",
            "sort_direction=ASC&sort_direction=DESC",
            "from_date=garbage",
            "from_date=2025-13-01T00:00:00Z",
            "from_date=1700000000",
            "to_date=yesterday",
            "to_date=%00",
            "offset=-1",
            "offset=10001",
            "offset=abc",
            "offset=1e3",
            "offset=99999999999999999999",
            "from_date=2025-01-02T00:00:00Z&to_date=2025-01-01T00:00:00Z",
        ] {
            add(QueryParams, q.into(), format!("{path}?{q}"), token);
        }
    }

    // Page tokens: edited, forged, truncated and garbage ones on this list.
    let own = &tokens.by_route[&route_name(route)];
    let (payload, tag) = own.split_once('.').expect("a token is payload.tag");
    let flip = |s: &str, at: usize| {
        let mut chars: Vec<char> = s.chars().collect();
        chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
        chars.into_iter().collect::<String>()
    };
    let dot = payload.len();
    let mut edited: Vec<(String, String)> = vec![
        ("first character flipped".into(), flip(own, 0)),
        ("payload character flipped".into(), flip(own, dot / 2)),
        ("last payload character flipped".into(), flip(own, dot - 1)),
        ("first tag character flipped".into(), flip(own, dot + 1)),
        ("last character flipped".into(), flip(own, own.len() - 1)),
        ("dot removed".into(), own.replacen('.', "", 1)),
        ("payload and tag swapped".into(), format!("{tag}.{payload}")),
        ("tag removed".into(), format!("{payload}.")),
        ("payload removed".into(), format!(".{tag}")),
        ("payload only".into(), payload.to_owned()),
        ("truncated".into(), own[..own.len() / 2].to_owned()),
        ("one character appended".into(), format!("{own}A")),
        ("padding appended".into(), format!("{own}%3D")),
        ("doubled".into(), format!("{own}{own}")),
        ("upper case".into(), own.to_uppercase()),
        ("empty".into(), String::new()),
        ("garbage".into(), "garbage".into()),
        ("a dot".into(), ".".into()),
        ("a.b".into(), "a.b".into()),
        ("%00".into(), "%00".into()),
        ("%ZZ".into(), "%ZZ".into()),
        ("1 KiB".into(), "A".repeat(1024)),
        ("8 KiB".into(), format!("{}.{}", "A".repeat(4096), "B".repeat(4096))),
    ];
    // The payload is JSON: edit it and keep the tag.
    if let Some(json) = B64
        .decode(payload)
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
    {
        let text = json.to_string();
        let other = tokens.other_customer.as_str();
        let reencoded = |t: &str| format!("{}.{tag}", B64.encode(t));
        edited.push(("payload re-serialised".into(), reencoded(&format!(" {text}"))));
        edited.push((
            "payload scope moved to the other customer".into(),
            reencoded(&text.replace(&world.customer, other)),
        ));
        edited.push((
            "payload scope moved to bank b2".into(),
            reencoded(
                &text
                    .replace(&format!("{BANK}/"), "b2/")
                    .replace(&format!("/{BANK}"), "/b2"),
            ),
        ));
        edited.push((
            "payload keys emptied".into(),
            reencoded(&json!({"s": json["s"], "k": {}}).to_string()),
        ));
    }
    // Tags of other lists on this list's payload.
    for (name, other) in &tokens.by_route {
        if *name != route_name(route) {
            let other_tag = other.split_once('.').unwrap().1;
            edited.push((format!("tag of {name}"), format!("{payload}.{other_tag}")));
            break;
        }
    }
    for (what, t) in edited {
        add(
            PageTokens,
            format!("page_token {what}"),
            format!("{path}?page_token={t}"),
            token,
        );
    }

    // Replays: the token of every other list on this one.
    for (name, other) in &tokens.by_route {
        if *name != route_name(route) {
            add(
                PageTokens,
                format!("page_token of {name}"),
                format!("{path}?page_token={other}"),
                token,
            );
        }
    }
    // This list's token on another customer, another bank, another user.
    let params = World::params_of(route);
    if params.iter().any(|p| p == "CustomerID") {
        let target = world.fill(route, &[("CustomerID", tokens.other_customer.as_str())]);
        add(
            PageTokens,
            "page_token replayed on another customer".into(),
            format!("{target}?page_token={own}"),
            token,
        );
    }
    if params.iter().any(|p| p == "BankID") {
        let target = world.fill(route, &[("BankID", "b2"), ("CustomerID", tokens.b2_customer.as_str())]);
        add(
            PageTokens,
            "page_token replayed on bank b2".into(),
            format!("{target}?page_token={own}"),
            &tokens.both_banks,
        );
    }
    if kind(route) == Kind::OwnList {
        add(
            PageTokens,
            "page_token replayed by another user".into(),
            format!("{path}?page_token={own}"),
            &tokens.other_user,
        );
    }
    if firehose {
        add(
            PageTokens,
            "DESC page_token replayed in ASC".into(),
            format!("{path}?sort_direction=ASC&page_token={own}"),
            token,
        );
        add(
            PageTokens,
            "page_token replayed with a from_date".into(),
            format!("{path}?from_date=2000-01-01T00:00:00Z&page_token={own}"),
            token,
        );
        add(
            PageTokens,
            "page_token replayed with an offset".into(),
            format!("{path}?offset=1&page_token={own}"),
            token,
        );
    }
    cases
}

/// Real page tokens, one per list route, and where to replay them.
struct Tokens {
    by_route: BTreeMap<String, String>,
    other_customer: String,
    b2_customer: String,
    both_banks: String,
    other_user: String,
}

/// Gives every list at least two items and takes the first page token of each.
async fn real_tokens(world: &World) -> Tokens {
    let api = &world.api;
    let staff = world.staff();
    let sibling = api.create_customer(BANK, json!({})).await;
    let b2_customer = api.create_customer("b2", json!({})).await;
    for param in ["CustomerAddressID", "TaxResidenceID", "RequestID"] {
        world.create_child(param).await;
        world.create_child_of(&sibling, param).await;
    }
    for customer in [&world.customer, &sibling] {
        api.post(
            &format!("/v1/customers/{customer}/social_media_handles"),
            &staff,
            &json!({"type": "twitter", "handle": "@more"}),
        )
        .await
        .expect(201);
        api.post(
            &format!("/v1/banks/{BANK}/crm-events"),
            &staff,
            &json!({"customer_id": customer}),
        )
        .await
        .expect(201);
        // The staff user's own lists.
        world.link(&format!("staff-of-{BANK}"), customer).await;
    }
    let mut by_route = BTreeMap::new();
    for route in world.routes.iter().filter(|r| is_list(r)) {
        let r = api.get(&format!("{}?limit=1", world.fill(route, &[])), &staff).await;
        r.expect(200);
        let token = r.body["next_page_token"]
            .as_str()
            .unwrap_or_else(|| panic!("{}: no next_page_token with limit=1: {}", route_name(route), r.body))
            .to_owned();
        by_route.insert(route_name(route), token);
    }
    Tokens {
        by_route,
        other_customer: sibling,
        b2_customer,
        both_banks: api.token("both", &[BANK, "b2"], ALL_SCOPES),
        other_user: api.token("someone-else", &[BANK], ALL_SCOPES),
    }
}

/// A request written byte for byte on its own connection.
async fn raw_request(api: &Api, case: &Case) -> Reply {
    let host = api.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.expect("connect");
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n",
        case.method, case.target, case.token
    );
    if let Some(b) = &case.body {
        head.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(case.body.as_deref().unwrap_or_default());
    let _ = stream.write_all(&bytes).await;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    parse_response(&response)
}

fn parse_response(bytes: &[u8]) -> Reply {
    let broken = |why: &str| Reply {
        status: 0,
        headers: HeaderMap::new(),
        body: Value::String(format!("<no HTTP response: {why}> {}", String::from_utf8_lossy(bytes))),
    };
    let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
        return broken("no end of headers");
    };
    let head = String::from_utf8_lossy(&bytes[..end]);
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut headers = HeaderMap::new();
    for line in lines {
        if let Some((k, v)) = line.split_once(':')
            && let (Ok(k), Ok(v)) = (
                HeaderName::from_bytes(k.trim().as_bytes()),
                HeaderValue::from_str(v.trim()),
            )
        {
            headers.append(k, v);
        }
    }
    let mut body = bytes[end + 4..].to_vec();
    let chunked = headers
        .get("transfer-encoding")
        .is_some_and(|v| v.to_str().unwrap_or_default().contains("chunked"));
    if chunked {
        let mut out = Vec::new();
        let mut rest = &body[..];
        while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(String::from_utf8_lossy(&rest[..eol]).trim(), 16).unwrap_or(0);
            if size == 0 || rest.len() < eol + 2 + size {
                break;
            }
            out.extend_from_slice(&rest[eol + 2..eol + 2 + size]);
            rest = &rest[(eol + 4 + size).min(rest.len())..];
        }
        body = out;
    }
    let text = String::from_utf8_lossy(&body);
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| Value::String(format!("<non-JSON> {text}")))
    };
    Reply { status, headers, body }
}

async fn run(api: &Api, case: &Case) -> Reply {
    match case.transport {
        Transport::Raw => raw_request(api, case).await,
        Transport::Client => {
            let mut req = api
                .http
                .request(
                    case.method.parse().expect("method"),
                    format!("{}{}", api.base, case.target),
                )
                .header("Authorization", format!("Bearer {}", case.token));
            if let Some(b) = &case.body {
                req = req.body(b.clone());
            }
            match req.send().await {
                Ok(res) => reply_of(res).await,
                Err(e) => Reply {
                    status: 0,
                    headers: HeaderMap::new(),
                    body: Value::String(format!("<request failed: {e}>")),
                },
            }
        }
    }
}

fn judge(case: &Case, r: &Reply) -> Option<String> {
    let wrong = match case.expect {
        Expect::Status(s) => not_problem(r, s),
        Expect::BadOrNotFound => match r.status {
            400 | 404 => not_problem(r, r.status),
            _ => Some(format!("{} (want 400 or 404) {}", r.status, r.body)),
        },
    };
    // docs/contract.md (C-ERR-2): every rejected field is named in `errors`.
    let named = r.body["errors"]
        .as_array()
        .is_some_and(|e| !e.is_empty() && e.iter().all(|x| x["field"].as_str().is_some_and(|f| !f.is_empty())));
    wrong.or_else(|| (r.status == 400 && !named).then(|| format!("a 400 naming no field: {}", r.body)))
}

/// What staff see of the world: the customer (with its ETag) and every read of it.
async fn everything_readable(world: &World) -> Vec<(String, Value, Option<String>)> {
    let staff = world.staff();
    let mut seen = Vec::new();
    for route in world.routes.iter().filter(|r| r.method == "GET") {
        let path = world.fill(route, &[]);
        // An export says when it was read: the rest must not change.
        let read = || async {
            let mut r = world.api.get(&path, &staff).await;
            if let Some(export) = r.body.as_object_mut() {
                export.remove("exported_at");
            }
            r
        };
        let mut r = read().await;
        // A history (also in the export) follows the writes through the table's stream: read it
        // once it has caught up with the writes before, the same answer three times over 900 ms
        // (a loaded machine can pause the stream's reader for longer than one interval).
        if route.path.ends_with("/history") || route.path.ends_with("/export") {
            let mut same = 0;
            for _ in 0..60 {
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                let again = read().await;
                same = if again.body == r.body { same + 1 } else { 0 };
                r = again;
                if same == 3 {
                    break;
                }
            }
        }
        let etag = r.headers.get("etag").map(|v| v.to_str().unwrap_or_default().to_owned());
        seen.push((format!("{} {}", r.status, path), r.body, etag));
    }
    seen
}

// contract: C-BODY-2, C-BODY-3, C-ERR-1, C-ERR-2, C-ERR-4, C-ID-2, C-TIME-4, C-TEXT-2, C-PAGE-1, C-PAGE-2
#[tokio::test]
async fn hostile_input_on_every_route_is_a_4xx_problem_and_changes_nothing() {
    let world = World::new().await;
    let api = &world.api;
    let staff = world.staff();
    let tokens = real_tokens(&world).await;

    let mut cases = Vec::new();
    for route in &world.routes {
        if matches!(route.method.as_str(), "POST" | "PUT") {
            cases.extend(body_cases(&world, route, &staff));
        }
        cases.extend(path_cases(&world, route, &staff));
        if is_list(route) {
            cases.extend(query_cases(&world, route, &staff, &tokens));
        }
    }

    // Every route got cases, and every category that applies to it.
    let mut per_route: BTreeMap<String, BTreeMap<Category, usize>> = BTreeMap::new();
    for c in &cases {
        *per_route
            .entry(c.route.clone())
            .or_default()
            .entry(c.category)
            .or_default() += 1;
    }
    for route in &world.routes {
        let got = per_route.get(&route_name(route)).cloned().unwrap_or_default();
        let mut due = vec![PathShape];
        if matches!(route.method.as_str(), "POST" | "PUT") {
            let body = world.body(route).unwrap_or_default();
            let only_optional = body
                .as_object()
                .is_some_and(|o| o.keys().all(|k| OPTIONAL.contains(&k.as_str())));
            due.extend(BODY_CATEGORIES.into_iter().filter(|c| !(only_optional && *c == Nulls)));
        }
        if !World::params_of(route).is_empty() {
            due.push(PathIds);
        }
        if is_list(route) {
            due.extend([Limits, PageTokens]);
        }
        for category in due {
            assert!(
                got.get(&category).copied().unwrap_or(0) > 0,
                "{}: no {category:?} cases",
                route_name(route)
            );
        }
    }

    let before = api.item_count().await;
    let seen_before = everything_readable(&world).await;
    let replies: Vec<Reply> = futures::stream::iter(cases.iter().map(|c| run(api, c)))
        .buffered(8)
        .collect()
        .await;
    let after = api.item_count().await;
    let seen_after = everything_readable(&world).await;

    let mut per_category: BTreeMap<Category, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for (case, reply) in cases.iter().zip(&replies) {
        let entry = per_category.entry(case.category).or_default();
        entry.0 += 1;
        if let Some(why) = judge(case, reply) {
            entry.1 += 1;
            let mut why = why;
            why.truncate(400);
            failures.push(format!(
                "[{:?}] {} — {} — {} {:.200}: {why}",
                case.category, case.route, case.what, case.method, case.target
            ));
        }
    }
    println!("hostile: {} cases on {} routes", cases.len(), world.routes.len());
    for (category, (n, failed)) in &per_category {
        println!("hostile: {category:?}: {n} cases, {failed} failed");
    }
    for (route, categories) in &per_route {
        println!("hostile: {route}: {} cases", categories.values().sum::<usize>());
    }
    let mut problems = Vec::new();
    if !failures.is_empty() {
        problems.push(format!(
            "{} cases were not the expected 4xx problem:\n{}",
            failures.len(),
            failures.join("\n")
        ));
    }
    if after != before {
        problems.push(format!("the table changed: {before} items before, {after} after"));
    }
    for (b, a) in seen_before.iter().zip(&seen_after) {
        if b != a {
            problems.push(format!(
                "{} changed:\n  before {:?} {}\n  after  {:?} {}",
                b.0, b.2, b.1, a.2, a.1
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
