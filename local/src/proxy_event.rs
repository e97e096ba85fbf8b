//! API Gateway's side of the Lambda proxy integration of a REST API: the event it hands a function
//! (the "1.0" format), the TOKEN authorizer's event, and the function's response read back.

use crate::template::Route;
use axum::body::Bytes;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use base64::Engine as _;
use serde_json::{Map, Value, json};
use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

/// Where the request came from and how API Gateway names it.
pub struct Origin<'a> {
    pub stage: &'a str,
    pub request_id: &'a str,
    pub domain_name: &'a str,
    pub source: Option<SocketAddr>,
}

/// The REST API proxy event for a request to `route`. `authorizer` is the authorizer's answer as
/// API Gateway passes it: `principalId` and the context values, all strings.
pub fn request_event(
    route: &Route,
    request: &Parts,
    body: &Bytes,
    authorizer: &Map<String, Value>,
    origin: &Origin<'_>,
) -> Value {
    let (method, path, query, headers) = (
        &request.method,
        request.uri.path(),
        request.uri.query(),
        &request.headers,
    );
    let source_ip = origin
        .source
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "127.0.0.1".into());
    let user_agent = headers.get("user-agent").and_then(|v| v.to_str().ok());
    let mut multi_headers: Map<String, Value> = Map::new();
    let mut add = |name: &str, value: &str| {
        let entry = multi_headers.entry(name.to_owned()).or_insert_with(|| json!([]));
        if let Some(list) = entry.as_array_mut() {
            list.push(Value::String(value.to_owned()));
        }
    };
    // What API Gateway sets on the way in replaces what the client sent: its own domain as Host,
    // the forwarding headers; the client's X-Forwarded-For gets the source address appended.
    let set_here = [
        "host",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-port",
        "x-amzn-trace-id",
    ];
    for (name, value) in headers {
        if !set_here.contains(&name.as_str()) {
            add(name.as_str(), &String::from_utf8_lossy(value.as_bytes()));
        }
    }
    add("Host", origin.domain_name);
    let forwarded_for = match headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
        Some(chain) => format!("{chain}, {source_ip}"),
        None => source_ip.clone(),
    };
    add("X-Forwarded-For", &forwarded_for);
    add("X-Forwarded-Proto", "http");
    let port = origin.domain_name.rsplit_once(':').map_or("80", |(_, port)| port);
    add("X-Forwarded-Port", port);
    add(
        "X-Amzn-Trace-Id",
        &format!("Root=1-{}", origin.request_id.replace('-', "")),
    );
    let single_headers = last_values(&multi_headers);

    let mut multi_query: Map<String, Value> = Map::new();
    for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let entry = multi_query.entry(k.into_owned()).or_insert_with(|| json!([]));
        if let Some(list) = entry.as_array_mut() {
            list.push(Value::String(v.into_owned()));
        }
    }
    let single_query = last_values(&multi_query);
    let path_parameters = path_parameters(route, path);

    let (body, base64) = match (body.is_empty(), std::str::from_utf8(body)) {
        (true, _) => (Value::Null, false),
        (false, Ok(text)) => (Value::String(text.to_owned()), false),
        // Bytes that are not UTF-8 reach the function base64-encoded, not mangled.
        (false, Err(_)) => (
            Value::String(base64::engine::general_purpose::STANDARD.encode(body)),
            true,
        ),
    };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let null_if_empty = |m: Map<String, Value>| if m.is_empty() { Value::Null } else { Value::Object(m) };
    let api_id = "local";
    json!({
        "resource": route.path,
        "path": path,
        "httpMethod": method.as_str(),
        "headers": null_if_empty(single_headers),
        "multiValueHeaders": null_if_empty(multi_headers),
        "queryStringParameters": null_if_empty(single_query),
        "multiValueQueryStringParameters": null_if_empty(multi_query),
        "pathParameters": null_if_empty(path_parameters),
        "stageVariables": null,
        "requestContext": {
            "accountId": crate::iam::LOCAL_ACCOUNT,
            "apiId": api_id,
            "authorizer": authorizer,
            "domainName": origin.domain_name,
            "domainPrefix": origin.domain_name.split(['.', ':']).next().unwrap_or(api_id),
            "extendedRequestId": origin.request_id.replace('-', "").get(..16).unwrap_or(origin.request_id),
            "httpMethod": method.as_str(),
            "identity": {
                "accessKey": null,
                "accountId": null,
                "caller": null,
                "cognitoAuthenticationProvider": null,
                "cognitoAuthenticationType": null,
                "cognitoIdentityId": null,
                "cognitoIdentityPoolId": null,
                "principalOrgId": null,
                "sourceIp": source_ip,
                "user": null,
                "userAgent": user_agent,
                "userArn": null
            },
            "path": format!("/{}{path}", origin.stage),
            "protocol": "HTTP/1.1",
            "requestId": origin.request_id,
            "requestTime": clf_time(now.as_secs()),
            "requestTimeEpoch": now.as_millis() as u64,
            "resourceId": "local",
            "resourcePath": route.path,
            "stage": origin.stage
        },
        "body": body,
        "isBase64Encoded": base64
    })
}

/// The TOKEN authorizer's event.
pub fn token_event(token: &str, method_arn: &str) -> Value {
    json!({"type": "TOKEN", "authorizationToken": token, "methodArn": method_arn})
}

fn last_values(multi: &Map<String, Value>) -> Map<String, Value> {
    multi
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.as_array()?.last()?.clone())))
        .collect()
}

/// `{BankID}` etc. of the route, from the raw path (decoded, as API Gateway passes them).
fn path_parameters(route: &Route, path: &str) -> Map<String, Value> {
    route
        .path
        .trim_matches('/')
        .split('/')
        .zip(path.trim_matches('/').split('/'))
        .filter_map(|(want, got)| {
            let name = want.strip_prefix('{')?.strip_suffix('}')?;
            let decoded: String = form_urlencoded::parse(format!("x={}", got.replace('+', "%2B")).as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_else(|| got.to_owned());
            Some((name.to_owned(), Value::String(decoded)))
        })
        .collect()
}

/// `dd/MMM/yyyy:HH:mm:ss +0000`, API Gateway's `requestTime`.
fn clf_time(epoch: u64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = epoch / 86_400;
    let secs = epoch % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{day:02}/{}/{year}:{:02}:{:02}:{:02} +0000",
        MONTHS[(month - 1) as usize],
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// A function's answer read as API Gateway reads it; `None` is a malformed answer (502).
pub struct ProxyResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

pub fn read_response(answer: &[u8]) -> Option<ProxyResponse> {
    let value: Map<String, Value> = serde_json::from_slice(answer).ok()?;
    let allowed = [
        "statusCode",
        "headers",
        "multiValueHeaders",
        "body",
        "isBase64Encoded",
        "cookies",
    ];
    if value.keys().any(|k| !allowed.contains(&k.as_str())) {
        return None;
    }
    let status = match value.get("statusCode") {
        Some(Value::Number(n)) => n.as_u64()?,
        Some(Value::String(s)) => s.parse().ok()?,
        _ => return None,
    };
    let status = StatusCode::from_u16(u16::try_from(status).ok()?).ok()?;
    let mut headers = HeaderMap::new();
    let set = |headers: &mut HeaderMap, name: &str, value: &Value, append: bool| -> Option<()> {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return None,
        };
        let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
        let value = HeaderValue::from_str(&text).ok()?;
        if append {
            headers.append(name, value);
        } else {
            headers.insert(name, value);
        }
        Some(())
    };
    match value.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(h)) => {
            for (k, v) in h {
                set(&mut headers, k, v, false)?;
            }
        }
        _ => return None,
    }
    match value.get("multiValueHeaders") {
        None | Some(Value::Null) => {}
        Some(Value::Object(h)) => {
            for (k, list) in h {
                // multiValueHeaders replace a header of the same name in `headers`.
                headers.remove(k.as_str());
                for v in list.as_array()? {
                    set(&mut headers, k, v, true)?;
                }
            }
        }
        _ => return None,
    }
    let base64 = match value.get("isBase64Encoded") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        _ => return None,
    };
    let body = match value.get("body") {
        None | Some(Value::Null) => Bytes::new(),
        Some(Value::String(s)) if base64 => Bytes::from(base64::engine::general_purpose::STANDARD.decode(s).ok()?),
        Some(Value::String(s)) => Bytes::from(s.clone()),
        _ => return None,
    };
    Some(ProxyResponse { status, headers, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_time_is_common_log_format() {
        assert_eq!(clf_time(1_583_349_317), "04/Mar/2020:19:15:17 +0000");
        assert_eq!(clf_time(0), "01/Jan/1970:00:00:00 +0000");
    }

    #[test]
    fn malformed_answers_are_refused() {
        assert!(read_response(br#"{"statusCode":200,"body":"ok"}"#).is_some());
        assert!(read_response(br#"{"statusCode":"201"}"#).is_some());
        assert!(read_response(b"not json").is_none());
        assert!(read_response(br#"{"body":"no status"}"#).is_none());
        assert!(read_response(br#"{"statusCode":200,"extra":1}"#).is_none());
        assert!(read_response(br#"{"statusCode":200,"headers":{"x":{"nested":1}}}"#).is_none());
        assert!(read_response(br#"{"statusCode":200,"isBase64Encoded":true,"body":"%%%"}"#).is_none());
    }
}
