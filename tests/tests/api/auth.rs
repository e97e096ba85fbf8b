//! Tokens on every route of the template: 401 for every way a credential can be bad, 403 for a good
//! token without the scope or the bank, and who may do what. The routes come from `template.yaml`, so a
//! new route cannot be forgotten: it gets a real path (and, if it takes one, a body must be added to
//! `World::body`) or the tests fail.
//!
//! `World` (a customer with one child of every kind, and a request that would succeed on each route) is
//! shared with the hostile-input suite.

use crate::common::{ALL_SCOPES, Api, Reply};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as B64};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use local_api::keys::{LOCAL_AUDIENCE, LOCAL_ISSUER, PRIVATE_KEY_FILE, TokenRequest};
use local_api::template::{Route, Template};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The bank of the world's customer.
pub const BANK: &str = "b1";
/// The world's customer's number.
pub const NUMBER: &str = "AUTH-1";
/// The user linked (read-only by nature) to the world's customer.
pub const LINKED_USER: &str = "linked";

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Every route of the project's template.
pub fn template_routes() -> Vec<Route> {
    let routes = Template::load(&local_api::template_path().expect("the checkout"))
        .expect("template.yaml loads")
        .routes;
    assert!(routes.len() >= 29, "the template lost routes: {}", routes.len());
    routes
}

pub fn route_name(route: &Route) -> String {
    format!("{} {}", route.method, route.path)
}

/// Where a route stands in the permission rules of docs/contract.md (C-AUTH).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `GET /v1/users/current/customers`, `GET /v1/banks/{BankID}/customers`: the caller's linked customers.
    OwnList,
    /// A GET of a customer or its sub-resources: staff, or a user linked to the customer.
    CustomerRead,
    /// A GET only staff may make (CRM events, a customer's history).
    StaffRead,
    /// The firehose: `customer.firehose` and staff.
    Firehose,
    /// `POST /v1/customers`: the bank is in the body.
    CreateCustomer,
    /// A POST without a bank in the path: a customer the caller may not write is 404.
    BanklessWrite,
    /// Any other POST, PUT or DELETE under `/v1/banks/{BankID}`.
    BankWrite,
    /// `customer.approve` and staff: a credit limit order's approval or rejection (not by the
    /// order's maker), a customer's legal hold.
    Approve,
}

pub fn kind(route: &Route) -> Kind {
    let p = route.path.as_str();
    match route.method.as_str() {
        "GET" if p == "/v1/users/current/customers" || p == "/v1/banks/{BankID}/customers" => Kind::OwnList,
        "GET" if route.group == "firehose" => Kind::Firehose,
        // Who changed what is for the bank, not for a linked user.
        "GET" if p.ends_with("/history") || p.ends_with("/export") => Kind::StaffRead,
        "GET" if p.contains("{CustomerID}") => Kind::CustomerRead,
        "GET" => Kind::StaffRead,
        "POST" if p == "/v1/customers" => Kind::CreateCustomer,
        "POST" if p.ends_with("/approval") || p.ends_with("/rejection") => Kind::Approve,
        _ if p.ends_with("/legal-hold") => Kind::Approve,
        _ if !p.starts_with("/v1/banks/") => Kind::BanklessWrite,
        _ => Kind::BankWrite,
    }
}

/// A response, whatever its body (a non-JSON body becomes a JSON string starting with `<non-JSON>`).
pub async fn reply_of(res: reqwest::Response) -> Reply {
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap_or_default();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| Value::String(format!("<non-JSON> {text}")))
    };
    Reply { status, headers, body }
}

/// Why `r` is not the problem+json error `status`, if it is not.
pub fn not_problem(r: &Reply, status: u16) -> Option<String> {
    let ct = r
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if r.status != status {
        Some(format!("{} (want {status}) {ct} {}", r.status, r.body))
    } else if ct != "application/problem+json" {
        Some(format!("{status} but Content-Type {ct:?}: {}", r.body))
    } else if r.body["status"] != json!(status) || !r.body["title"].is_string() {
        Some(format!("{status} but not a problem body: {}", r.body))
    } else {
        None
    }
}

/// A customer of `BANK` with one child of every kind, linked to `LINKED_USER`, and the means to
/// send each template route a request that would succeed for staff of `BANK`.
pub struct World {
    pub api: Api,
    pub routes: Vec<Route>,
    pub customer: String,
    pub params: BTreeMap<&'static str, String>,
    serial: AtomicUsize,
}

impl World {
    pub async fn new() -> World {
        let api = Api::start().await;
        let customer = api.create_customer(BANK, json!({"customer_number": NUMBER})).await;
        let mut world = World {
            api,
            routes: template_routes(),
            customer: customer.clone(),
            params: BTreeMap::from([
                ("BankID", BANK.to_owned()),
                ("CustomerID", customer.clone()),
                ("CustomerNumber", NUMBER.to_owned()),
            ]),
            serial: AtomicUsize::new(0),
        };
        for param in ["CustomerAddressID", "TaxResidenceID", "RequestID"] {
            let id = world.create_child(param).await;
            world.params.insert(param, id);
        }
        // Children that no path names, so that every list has something in it.
        let staff = world.api.staff(BANK);
        world
            .api
            .post(
                &format!("/v1/customers/{customer}/social_media_handles"),
                &staff,
                &json!({"type": "twitter", "handle": "@world"}),
            )
            .await
            .expect(201);
        world
            .api
            .post(
                &format!("/v1/banks/{BANK}/crm-events"),
                &staff,
                &json!({"customer_id": customer, "category": "call"}),
            )
            .await
            .expect(201);
        world.link(LINKED_USER, &customer).await;
        world
    }

    pub fn staff(&self) -> String {
        self.api.staff(BANK)
    }

    fn next(&self) -> usize {
        self.serial.fetch_add(1, Ordering::Relaxed)
    }

    pub async fn link(&self, user: &str, customer: &str) {
        self.api
            .post(
                &format!("/v1/banks/{BANK}/user_customer_links"),
                &self.staff(),
                &json!({"user_id": user, "customer_id": customer}),
            )
            .await
            .expect(201);
    }

    /// Creates a child of the world's customer of the kind a path parameter names; returns its id.
    pub async fn create_child(&self, param: &str) -> String {
        self.create_child_of(&self.customer, param).await
    }

    pub async fn create_child_of(&self, customer: &str, param: &str) -> String {
        let staff = self.staff();
        let under = format!("/v1/banks/{BANK}/customers/{customer}");
        let (path, body, id) = match param {
            "CustomerAddressID" => (
                format!("/v1/customers/{customer}/address"),
                json!({"line_1": "1 Main St", "city": "Berlin", "country_code": "DE"}),
                "customer_address_id",
            ),
            "TaxResidenceID" => (
                format!("{under}/tax-residences"),
                json!({"domain": "DE", "tax_number": format!("T-{}", self.next())}),
                "tax_residence_id",
            ),
            "RequestID" => (
                format!("{under}/credit_limit/requests"),
                json!({"requested_current_rate_amount1": "100"}),
                "credit_limit_order_id",
            ),
            other => panic!("path parameter {{{other}}} is new: teach auth.rs's World to create one"),
        };
        // An order's maker is someone else: staff may decide the world's order (four eyes), so
        // its decisions' bodies are judged.
        let maker = self.api.token("maker", &[BANK], ALL_SCOPES);
        let token = if param == "RequestID" { &maker } else { &staff };
        let r = self.api.post(&path, token, &body).await;
        r.expect(201);
        r.body[id].as_str().expect("child id").to_owned()
    }

    /// The route's path with the world's ids, `overrides` (raw, already encoded) winning.
    pub fn fill(&self, route: &Route, overrides: &[(&str, &str)]) -> String {
        route
            .path
            .split('/')
            .map(
                |segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) => overrides
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map(|(_, v)| v.to_string())
                        .or_else(|| self.params.get(name).cloned())
                        .unwrap_or_else(|| panic!("{}: no value for {{{name}}}", route_name(route))),
                    None => segment.to_owned(),
                },
            )
            .collect::<Vec<_>>()
            .join("/")
    }

    /// The path parameters of a route, in order.
    pub fn params_of(route: &Route) -> Vec<String> {
        route
            .path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(str::to_owned)
            .collect()
    }

    /// A body that staff of `BANK` would get a 2xx for (`None` for GET and DELETE). Each call gives a
    /// new user id / tax number where those must be unique.
    pub fn body(&self, route: &Route) -> Option<Value> {
        let c = self.customer.as_str();
        let n = self.next();
        let customer_put = route
            .path
            .strip_prefix("/v1/banks/{BankID}/customers/{CustomerID}/")
            .filter(|_| route.method == "PUT");
        let body = match (route.method.as_str(), route.path.as_str(), customer_put) {
            ("GET" | "DELETE", _, _) => return None,
            ("POST", "/v1/customers", _) => json!({"bank_id": BANK, "legal_name": "World Customer"}),
            ("POST", "/v1/banks/{BankID}/user_customer_links", _) => {
                json!({"user_id": format!("user-{n}"), "customer_id": c})
            }
            ("POST", "/v1/customers/{CustomerID}/address", _) => {
                json!({"line_1": "1 Main St", "city": "Berlin", "country_code": "DE"})
            }
            ("POST", "/v1/customers/{CustomerID}/social_media_handles", _) => {
                json!({"type": "twitter", "handle": "@h"})
            }
            ("POST", "/v1/banks/{BankID}/customers/{CustomerID}/tax-residences", _) => {
                json!({"domain": "DE", "tax_number": format!("T-{n}")})
            }
            ("POST", "/v1/banks/{BankID}/customers/{CustomerID}/credit_limit/requests", _) => {
                json!({"requested_current_rate_amount1": "100"})
            }
            ("POST", "/v1/banks/{BankID}/customers/{CustomerID}/credit_limit/request/{RequestID}/approval", _) => {
                json!({"credit_limit": {"cur": "EUR", "num": format!("{}.00", n % 100)}})
            }
            ("POST", "/v1/banks/{BankID}/customers/{CustomerID}/credit_limit/request/{RequestID}/rejection", _) => {
                json!({"reason": "declined"})
            }
            ("PUT", _, Some("legal-hold")) => json!({"reason": "AML review", "until": "2999-01-01T00:00:00Z"}),
            // Required fields only (the hostile suite nulls each of them).
            ("POST", "/v1/banks/{BankID}/crm-events", _) => json!({"customer_id": c}),
            ("PUT", "/v1/banks/{BankID}/customers/{CustomerID}/addresses/{CustomerAddressID}", _) => {
                json!({"city": "Hamburg"})
            }
            ("PUT", _, Some("branch")) => json!({"branch_id": "branch-1"}),
            // Zero: a raise takes an approved order (four eyes).
            ("PUT", _, Some("credit-limit")) => json!({"credit_limit": {"cur": "EUR", "num": "0"}}),
            ("PUT", _, Some("credit-rating-and-source")) => json!({"credit_rating": {"rating": "A"}}),
            ("PUT", _, Some("email")) => json!({"email": "a@b.co"}),
            ("PUT", _, Some("identity")) => json!({"legal_name": "World Customer"}),
            ("PUT", _, Some("mobile-number")) => json!({"mobile_phone_number": "+14155550100"}),
            // The customer's own number: a 200 no-op.
            ("PUT", _, Some("number")) => json!({"customer_number": NUMBER}),
            ("PUT", _, Some("data")) => json!({"dependants": 1}),
            _ => panic!(
                "{} is new: add a body that would succeed to auth.rs's World::body",
                route_name(route)
            ),
        };
        Some(body)
    }

    /// A request that would succeed for staff, on the world's own ids (a DELETE would delete the
    /// world's child): path and body. Creates nothing.
    pub fn request_in_place(&self, route: &Route) -> (String, Option<String>) {
        (self.fill(route, &[]), self.body(route).map(|b| b.to_string()))
    }

    /// A request that would succeed for staff: path and body. A DELETE gets a child of its own (an
    /// erasure a customer of its own, a hold's lifting a hold); a decision an order of its own,
    /// requested by someone else (four eyes).
    pub async fn request(&self, route: &Route) -> (String, Option<String>) {
        let path = if route.method == "DELETE" && route.path.ends_with("/legal-hold") {
            let path = self.fill(route, &[]);
            let hold = json!({"reason": "AML review", "until": "2999-01-01T00:00:00Z"});
            self.api.put(&path, &self.staff(), &hold).await.expect(200);
            path
        } else if route.method == "DELETE" && route.path.ends_with("{CustomerID}") {
            let customer = self.api.create_customer(BANK, json!({})).await;
            self.fill(route, &[("CustomerID", customer.as_str())])
        } else if route.method == "DELETE" {
            let param = Self::params_of(route).pop().expect("a DELETE names what it deletes");
            let id = self.create_child(&param).await;
            self.fill(route, &[(param.as_str(), id.as_str())])
        } else if route.path.ends_with("/approval") || route.path.ends_with("/rejection") {
            let maker = self.api.token("maker", &[BANK], ALL_SCOPES);
            let r = self
                .api
                .post(
                    &format!("/v1/banks/{BANK}/customers/{}/credit_limit/requests", self.customer),
                    &maker,
                    &json!({"requested_current_rate_amount1": "100"}),
                )
                .await;
            r.expect(201);
            let id = r.body["credit_limit_order_id"].as_str().expect("order id");
            self.fill(route, &[("RequestID", id)])
        } else {
            self.fill(route, &[])
        };
        (path, self.body(route).map(|b| b.to_string()))
    }

    /// Sends with a raw `Authorization` header value (or none).
    pub async fn send_auth(&self, method: &str, path: &str, authorization: Option<&str>, body: Option<&str>) -> Reply {
        let method: Method = method.parse().expect("method");
        let mut req = self.api.http.request(method, format!("{}{path}", self.api.base));
        if let Some(a) = authorization {
            req = req.header("Authorization", a);
        }
        if let Some(b) = body {
            req = req.body(b.to_owned());
        }
        reply_of(req.send().await.expect("request")).await
    }

    /// The world's customer as staff see it: body and ETag.
    pub async fn snapshot(&self) -> (Value, String) {
        let r = self
            .api
            .get(&format!("/v1/banks/{BANK}/customers/{}", self.customer), &self.staff())
            .await;
        r.expect(200);
        let etag = r.headers["etag"].to_str().expect("etag").to_owned();
        (r.body, etag)
    }
}

/// The claims of a good token for staff of `BANK` with every scope.
fn good_claims() -> Value {
    json!({
        "sub": "u1", "iss": LOCAL_ISSUER, "aud": LOCAL_AUDIENCE, "exp": now() + 600, "nbf": now() - 1,
        "iat": now(), "scope": ALL_SCOPES, "bank_ids": [BANK]
    })
}

fn with(claims: &Value, changes: Value) -> Value {
    let mut c = claims.clone();
    for (k, v) in changes.as_object().expect("object") {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    c
}

/// A JWT from raw header and claims JSON and a signature (already base64url).
fn assemble(header: &Value, claims: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{signature}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    )
}

/// The DER SubjectPublicKeyInfo of a P-256 key given its uncompressed point.
fn p256_spki(point: &[u8]) -> Vec<u8> {
    let mut der = vec![
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
        0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ];
    der.extend_from_slice(point);
    der
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
}

/// Every `Authorization` value that must be a 401, by name.
fn bad_credentials(api: &Api) -> Vec<(String, Option<String>)> {
    let kid = api.keys.kid().to_owned();
    let good = good_claims();
    let es256 = |claims: &Value| api.signed(Algorithm::ES256, Some(&kid), claims.clone());
    let valid = es256(&good);
    let parts: Vec<String> = valid.split('.').map(str::to_owned).collect();
    let bearer = |t: &str| Some(format!("Bearer {t}"));
    let mut cases: Vec<(String, Option<String>)> = vec![
        ("no Authorization header".into(), None),
        ("empty Authorization header".into(), Some(String::new())),
        ("Basic credentials".into(), Some(format!("Basic {}", B64.encode("u:p")))),
        ("Bearer alone".into(), Some("Bearer".into())),
        ("Bearer and a space".into(), Some("Bearer ".into())),
        ("a valid token without a scheme".into(), Some(valid.clone())),
        (
            "a valid token under another scheme".into(),
            Some(format!("Token {valid}")),
        ),
        (
            "a valid token and trailing junk".into(),
            Some(format!("Bearer {valid} x")),
        ),
        ("Bearer garbage: not.a.jwt".into(), bearer("not.a.jwt")),
        ("Bearer garbage: one word".into(), bearer("garbage")),
        ("Bearer garbage: dots".into(), bearer("..")),
        (
            "Bearer garbage: base64 segments".into(),
            bearer(&format!(
                "{}.{}.{}",
                B64.encode("{}"),
                B64.encode("{}"),
                B64.encode("x")
            )),
        ),
        (
            "Bearer garbage: header JSON not an object".into(),
            bearer(&format!("{}.{}.{}", B64.encode("[]"), parts[1], parts[2])),
        ),
        ("Bearer garbage: 20 KiB".into(), bearer(&"A".repeat(20 * 1024))),
        ("two segments".into(), bearer(&format!("{}.{}", parts[0], parts[1]))),
        ("four segments".into(), bearer(&format!("{valid}.{}", parts[2]))),
        (
            "signature removed".into(),
            bearer(&format!("{}.{}.", parts[0], parts[1])),
        ),
        (
            "signature altered".into(),
            bearer(&format!(
                "{}.{}.{}{}",
                parts[0],
                parts[1],
                if parts[2].starts_with('A') { "B" } else { "A" },
                &parts[2][1..]
            )),
        ),
        (
            "signature truncated".into(),
            bearer(&format!(
                "{}.{}.{}",
                parts[0],
                parts[1],
                &parts[2][..parts[2].len() / 2]
            )),
        ),
        (
            "claims tampered (another bank)".into(),
            bearer(&format!(
                "{}.{}.{}",
                parts[0],
                B64.encode(with(&good, json!({"bank_ids": [BANK, "b2"]})).to_string()),
                parts[2]
            )),
        ),
        (
            "expired 2 minutes ago".into(),
            bearer(&es256(&with(&good, json!({"exp": now() - 120, "nbf": now() - 600})))),
        ),
        (
            "expired an hour ago".into(),
            bearer(&es256(&with(&good, json!({"exp": now() - 3600, "nbf": now() - 7200})))),
        ),
        (
            "not valid for 2 more minutes".into(),
            bearer(&es256(&with(&good, json!({"nbf": now() + 120, "exp": now() + 3600})))),
        ),
        (
            "not valid for an hour".into(),
            bearer(&es256(&with(&good, json!({"nbf": now() + 3600, "exp": now() + 7200})))),
        ),
        (
            "wrong iss".into(),
            bearer(&es256(&with(&good, json!({"iss": "https://evil.example"})))),
        ),
        (
            "iss with a trailing slash".into(),
            bearer(&es256(&with(&good, json!({"iss": format!("{LOCAL_ISSUER}/")})))),
        ),
        (
            "iss as an array".into(),
            bearer(&es256(&with(&good, json!({"iss": [LOCAL_ISSUER]})))),
        ),
        (
            "wrong aud".into(),
            bearer(&es256(&with(&good, json!({"aud": "other-api"})))),
        ),
        (
            "aud an array of others".into(),
            bearer(&es256(&with(&good, json!({"aud": ["other-api", "x"]})))),
        ),
        ("no exp".into(), bearer(&es256(&with(&good, json!({"exp": null}))))),
        ("no iss".into(), bearer(&es256(&with(&good, json!({"iss": null}))))),
        ("no aud".into(), bearer(&es256(&with(&good, json!({"aud": null}))))),
        ("no sub".into(), bearer(&es256(&with(&good, json!({"sub": null}))))),
        (
            "exp a string".into(),
            bearer(&es256(&with(&good, json!({"exp": "99999999999"})))),
        ),
        (
            "sub with a #".into(),
            bearer(&es256(&with(&good, json!({"sub": "USER#x"})))),
        ),
        (
            "bank_ids with a #".into(),
            bearer(&es256(&with(&good, json!({"bank_ids": ["b1#CUSTOMER"]})))),
        ),
        (
            "bank_ids a string".into(),
            bearer(&es256(&with(&good, json!({"bank_ids": BANK})))),
        ),
        (
            "scope an array".into(),
            bearer(&es256(&with(&good, json!({"scope": ["customer.read"]})))),
        ),
    ];

    // alg none, in several spellings, with and without a signature.
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = json!({"alg": alg, "typ": "JWT", "kid": kid});
        cases.push((
            format!("alg {alg}, no signature"),
            bearer(&assemble(&header, &good, "")),
        ));
        cases.push((
            format!("alg {alg}, the valid token's signature"),
            bearer(&assemble(&header, &good, &parts[2])),
        ));
    }
    cases.push((
        "no alg".into(),
        bearer(&assemble(&json!({"typ": "JWT", "kid": kid}), &good, &parts[2])),
    ));
    // The header names another algorithm for our key, the signature staying ES256.
    for alg in ["RS256", "ES384", "PS256", "EdDSA", "HS256"] {
        let header = json!({"alg": alg, "typ": "JWT", "kid": kid});
        cases.push((
            format!("alg {alg} on the ES256 key, ES256 signature"),
            bearer(&assemble(&header, &good, &parts[2])),
        ));
    }

    // HS* signed with the public key, in every form a confused verifier might use as the secret.
    let jwks: Value = serde_json::from_str(&api.keys.jwks_json()).expect("jwks");
    let jwk = &jwks["keys"][0];
    let x = B64.decode(jwk["x"].as_str().unwrap()).unwrap();
    let y = B64.decode(jwk["y"].as_str().unwrap()).unwrap();
    let point: Vec<u8> = [&[4u8][..], &x, &y].concat();
    let compressed: Vec<u8> = [&[2 + (y[31] & 1)][..], &x].concat();
    let spki = p256_spki(&point);
    let secrets: Vec<(&str, Vec<u8>)> = vec![
        ("x||y", [x.clone(), y.clone()].concat()),
        ("SEC1 uncompressed point", point.clone()),
        ("SEC1 compressed point", compressed),
        ("SPKI DER", spki.clone()),
        ("SPKI PEM", pem("PUBLIC KEY", &spki).into_bytes()),
        (
            "SPKI PEM without newline",
            pem("PUBLIC KEY", &spki).trim_end().as_bytes().to_vec(),
        ),
        ("the JWKS document", api.keys.jwks_json().into_bytes()),
        ("the JWK", jwk.to_string().into_bytes()),
        ("x in base64url", jwk["x"].as_str().unwrap().as_bytes().to_vec()),
        ("the kid", kid.as_bytes().to_vec()),
        ("empty", Vec::new()),
    ];
    for (name, secret) in &secrets {
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            let mut header = Header::new(alg);
            header.kid = Some(kid.clone());
            // A library refusing to sign with an empty key is fine: nobody else can either.
            if let Ok(token) = jsonwebtoken::encode(&header, &good, &EncodingKey::from_secret(secret)) {
                cases.push((format!("{alg:?} keyed with {name}"), bearer(&token)));
            }
        }
    }

    // Other keys.
    let dir = local_api::scratch::Scratch::new("other-key").expect("scratch");
    let other = local_api::keys::load_or_create(dir.path()).expect("other key");
    let other_pem = std::fs::read(dir.path().join(PRIVATE_KEY_FILE)).expect("other key file");
    let other_key = EncodingKey::from_ec_pem(&other_pem).expect("pem");
    let forge = |header: Header| jsonwebtoken::encode(&header, &good, &other_key).expect("encode");
    let mut ours = Header::new(Algorithm::ES256);
    ours.kid = Some(kid.clone());
    cases.push((
        "signed by another key with our kid".into(),
        bearer(&forge(ours.clone())),
    ));
    let other_jwks: Value = serde_json::from_str(&other.jwks_json()).expect("jwks");
    let mut embedded = ours.clone();
    embedded.jwk = Some(serde_json::from_value(other_jwks["keys"][0].clone()).expect("jwk"));
    cases.push((
        "signed by another key, our kid, the other key embedded as jwk".into(),
        bearer(&forge(embedded)),
    ));
    let mut jku = ours.clone();
    jku.jku = Some("https://evil.example/jwks.json".into());
    cases.push(("signed by another key, our kid, a jku".into(), bearer(&forge(jku))));
    cases.push((
        "unknown kid (another key's own token)".into(),
        bearer(&other.mint(&TokenRequest::new("u1")).expect("mint")),
    ));
    cases.push((
        "no kid".into(),
        bearer(&api.signed(Algorithm::ES256, None, good.clone())),
    ));
    cases.push((
        "empty kid".into(),
        bearer(&api.signed(Algorithm::ES256, Some(""), good.clone())),
    ));
    cases.push((
        "kid of 1000 characters".into(),
        bearer(&api.signed(Algorithm::ES256, Some(&"k".repeat(1000)), good.clone())),
    ));
    cases.push((
        "our kid with a suffix".into(),
        bearer(&api.signed(Algorithm::ES256, Some(&format!("{kid}x")), good.clone())),
    ));
    // RFC 7515: a `crit` header names extensions the recipient must understand; we know none.
    let pem = std::fs::read(api.key_dir.join(PRIVATE_KEY_FILE)).expect("key file");
    let ours = EncodingKey::from_ec_pem(&pem).expect("pem");
    for crit in [json!(["exp"]), json!([])] {
        let header = json!({"alg": "ES256", "typ": "JWT", "kid": kid, "crit": crit});
        let message = format!("{}.{}", B64.encode(header.to_string()), B64.encode(good.to_string()));
        let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &ours, Algorithm::ES256).expect("sign");
        cases.push((
            format!("a crit header {crit}"),
            bearer(&format!("{message}.{signature}")),
        ));
    }
    cases
}

// contract: C-ERR-1, C-AUTH-1, C-AUTH-2
#[tokio::test]
async fn bad_credentials_are_401_on_every_route() {
    let world = World::new().await;
    let api = &world.api;
    let cases = bad_credentials(api);
    let before = api.item_count().await;
    let snapshot = world.snapshot().await;
    let mut failures = Vec::new();
    let mut tried = 0;
    for route in &world.routes {
        let (path, body) = world.request_in_place(route);
        for (name, header) in &cases {
            tried += 1;
            let r = world
                .send_auth(&route.method, &path, header.as_deref(), body.as_deref())
                .await;
            if let Some(why) = not_problem(&r, 401) {
                failures.push(format!("{} [{name}]: {why}", route_name(route)));
            }
        }
    }
    let after = api.item_count().await;
    println!(
        "auth: {tried} bad-credential requests ({} credentials x {} routes)",
        cases.len(),
        world.routes.len()
    );
    assert!(failures.is_empty(), "not a 401 problem:\n{}", failures.join("\n"));
    assert_eq!(after, before, "a 401 wrote to the table");
    assert_eq!(world.snapshot().await, snapshot, "a 401 changed the customer");

    // The controls: a valid staff token, and tokens within the 60 s leeway, are not 401s. DELETEs go last.
    let kid = api.keys.kid().to_owned();
    let good = good_claims();
    let controls = [
        ("minted staff token", world.staff()),
        (
            "expired 20 s ago (within the leeway)",
            api.signed(
                Algorithm::ES256,
                Some(&kid),
                with(&good, json!({"exp": now() - 20, "nbf": now() - 600})),
            ),
        ),
        (
            "valid in 20 s (within the leeway)",
            api.signed(Algorithm::ES256, Some(&kid), with(&good, json!({"nbf": now() + 20}))),
        ),
        (
            "upstream scope names",
            api.token(
                "up",
                &[BANK],
                "https://auth.bnk.to/customer.read https://auth.bnk.to/customer.write customer.firehose customer.approve",
            ),
        ),
    ];
    let mut routes: Vec<&Route> = world.routes.iter().collect();
    routes.sort_by_key(|r| r.method == "DELETE");
    for (name, token) in &controls {
        for route in &routes {
            let (path, body) = world.request(route).await;
            let r = world
                .send_auth(&route.method, &path, Some(&format!("Bearer {token}")), body.as_deref())
                .await;
            if !(200..300).contains(&r.status) {
                failures.push(format!("{} [{name}]: {} {}", route_name(route), r.status, r.body));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "a valid token did not get a 2xx:\n{}",
        failures.join("\n")
    );
}

/// What a caller gets on a route: a 2xx, or this error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Ok,
    Err(u16),
}

struct Caller {
    who: &'static str,
    token: String,
    want: fn(Kind) -> Want,
}

fn callers(api: &Api) -> Vec<Caller> {
    use Kind::*;
    use Want::{Err, Ok};
    vec![
        Caller {
            who: "staff",
            token: api.staff(BANK),
            want: |_| Ok,
        },
        Caller {
            who: "staff with the upstream scope names",
            token: api.token(
                "up",
                &[BANK],
                "https://auth.bnk.to/customer.read https://auth.bnk.to/customer.write",
            ),
            want: |k| if k == Firehose || k == Approve { Err(403) } else { Ok },
        },
        Caller {
            who: "read-only staff",
            token: api.token("reader", &[BANK], "customer.read"),
            want: |k| match k {
                OwnList | CustomerRead | StaffRead => Ok,
                _ => Err(403),
            },
        },
        Caller {
            who: "write-only staff",
            token: api.token("writer", &[BANK], "customer.write"),
            want: |k| match k {
                CreateCustomer | BanklessWrite | BankWrite => Ok,
                _ => Err(403),
            },
        },
        Caller {
            who: "firehose-only staff",
            token: api.token("hose", &[BANK], "customer.firehose"),
            want: |k| if k == Firehose { Ok } else { Err(403) },
        },
        Caller {
            who: "staff without scopes",
            token: api.token("nobody", &[BANK], ""),
            want: |_| Err(403),
        },
        Caller {
            who: "linked user",
            token: api.token(LINKED_USER, &[], ALL_SCOPES),
            want: |k| match k {
                OwnList | CustomerRead => Ok,
                BanklessWrite => Err(404),
                _ => Err(403),
            },
        },
        Caller {
            who: "linked user, read only",
            token: api.token(LINKED_USER, &[], "customer.read"),
            want: |k| match k {
                OwnList | CustomerRead => Ok,
                _ => Err(403),
            },
        },
        Caller {
            who: "stranger (no bank, not linked)",
            token: api.token("stranger", &[], ALL_SCOPES),
            want: |k| match k {
                OwnList => Ok,
                BanklessWrite => Err(404),
                _ => Err(403),
            },
        },
        Caller {
            who: "staff of another bank",
            token: api.token("other-staff", &["b2"], ALL_SCOPES),
            want: |k| match k {
                OwnList => Ok,
                BanklessWrite => Err(404),
                _ => Err(403),
            },
        },
    ]
}

/// A good token without the scope is 403 on every route; a good token without the bank (not staff,
/// not linked) is 403 on the bank's routes and 404 on the bank-less POSTs. Nothing is written.
// contract: C-AUTH-4, C-AUTH-6, C-AUTH-10
#[tokio::test]
async fn good_tokens_without_scope_or_bank_are_403() {
    let world = World::new().await;
    let api = &world.api;
    let before = api.item_count().await;
    let snapshot = world.snapshot().await;
    let no_scope = [
        ("staff, no scope claim", api.token("ns", &[BANK], "")),
        (
            "staff, unknown scopes",
            api.token("ns", &[BANK], "openid profile customer"),
        ),
        (
            "staff, scopes in the wrong case",
            api.token("ns", &[BANK], "Customer.Read CUSTOMER.WRITE Customer.Firehose"),
        ),
        (
            "staff, scopes of another API",
            api.token(
                "ns",
                &[BANK],
                "https://auth.bnk.to/account.read https://evil/customer.write",
            ),
        ),
    ];
    let no_bank = [
        ("no bank, not linked", api.token("stranger", &[], ALL_SCOPES)),
        ("staff of another bank", api.token("other", &["b2"], ALL_SCOPES)),
        (
            "staff of a bank whose id extends ours",
            api.token("other", &["b10", "b1.x"], ALL_SCOPES),
        ),
    ];
    let mut failures = Vec::new();
    let mut tried = 0;
    for route in &world.routes {
        let (path, body) = world.request_in_place(route);
        for (who, token) in &no_scope {
            tried += 1;
            let r = api
                .send(route.method.parse().unwrap(), &path, Some(token), body.as_deref())
                .await;
            if let Some(why) = not_problem(&r, 403) {
                failures.push(format!("{} [{who}]: {why}", route_name(route)));
            }
        }
        let want = match kind(route) {
            Kind::OwnList => 200,
            Kind::BanklessWrite => 404,
            _ => 403,
        };
        for (who, token) in &no_bank {
            tried += 1;
            let r = api
                .send(route.method.parse().unwrap(), &path, Some(token), body.as_deref())
                .await;
            let why = if want == 200 {
                let empty = r
                    .body
                    .as_object()
                    .is_some_and(|o| o.values().filter_map(Value::as_array).all(|a| a.is_empty()));
                (r.status != 200 || !empty).then(|| format!("{} (want 200, no customers) {}", r.status, r.body))
            } else {
                not_problem(&r, want)
            };
            if let Some(why) = why {
                failures.push(format!("{} [{who}]: {why}", route_name(route)));
            }
        }
    }
    println!(
        "auth: {tried} requests with good tokens lacking the scope or the bank on {} routes",
        world.routes.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(api.item_count().await, before, "a refused request wrote to the table");
    assert_eq!(
        world.snapshot().await,
        snapshot,
        "a refused request changed the customer"
    );
}

/// Who may do what, on every route: the refused requests first (and nothing written), then the
/// allowed ones.
// contract: C-ERR-4, C-AUTH-4, C-AUTH-6, C-AUTH-7, C-AUTH-8, C-AUTH-9
#[tokio::test]
async fn permission_matrix() {
    let world = World::new().await;
    let api = &world.api;
    let callers = callers(api);
    let before = api.item_count().await;
    let snapshot = world.snapshot().await;
    let mut failures = Vec::new();
    let mut tried = 0;
    for route in &world.routes {
        let (path, body) = world.request_in_place(route);
        for caller in &callers {
            let Want::Err(status) = (caller.want)(kind(route)) else {
                continue;
            };
            tried += 1;
            let r = api
                .send(
                    route.method.parse().unwrap(),
                    &path,
                    Some(&caller.token),
                    body.as_deref(),
                )
                .await;
            if let Some(why) = not_problem(&r, status) {
                failures.push(format!("{} [{}]: {why}", route_name(route), caller.who));
            }
        }
    }
    assert_eq!(api.item_count().await, before, "a refused request wrote to the table");
    assert_eq!(
        world.snapshot().await,
        snapshot,
        "a refused request changed the customer"
    );
    let mut routes: Vec<&Route> = world.routes.iter().collect();
    routes.sort_by_key(|r| r.method == "DELETE");
    for route in routes {
        for caller in &callers {
            if (caller.want)(kind(route)) != Want::Ok {
                continue;
            }
            tried += 1;
            let (path, body) = world.request(route).await;
            let r = api
                .send(
                    route.method.parse().unwrap(),
                    &path,
                    Some(&caller.token),
                    body.as_deref(),
                )
                .await;
            if !(200..300).contains(&r.status) {
                failures.push(format!(
                    "{} [{}]: {} (want 2xx) {}",
                    route_name(route),
                    caller.who,
                    r.status,
                    r.body
                ));
            }
        }
    }
    println!(
        "auth: permission matrix, {tried} requests ({} callers x {} routes)",
        callers.len(),
        world.routes.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // A linked user sees their customer only, and only the linked customers in their lists.
    let linked = api.token(LINKED_USER, &[], ALL_SCOPES);
    let unlinked = api.create_customer(BANK, json!({})).await;
    api.get(&format!("/v1/banks/{BANK}/customers/{unlinked}"), &linked)
        .await
        .expect(403);
    for list in [
        "/v1/users/current/customers".to_owned(),
        format!("/v1/banks/{BANK}/customers"),
    ] {
        let r = api.get(&list, &linked).await;
        r.expect(200);
        let ids: Vec<&str> = r.body["customers"]
            .as_array()
            .expect("customers")
            .iter()
            .filter_map(|c| c["id"].as_str())
            .collect();
        assert_eq!(ids, [world.customer.as_str()], "{list}");
    }
    // POST /v1/customers for a bank the caller is not staff of.
    api.post(
        "/v1/customers",
        &api.token("other-staff", &["b2"], ALL_SCOPES),
        &json!({"bank_id": BANK, "legal_name": "X"}),
    )
    .await
    .expect(403);
}
