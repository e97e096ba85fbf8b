//! 401 and 403 exactly as API Gateway and the functions answer them.

use crate::common::{ALL_SCOPES, Api};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::Algorithm;
use reqwest::Method;
use serde_json::json;
use std::time::{SystemTime, UNIX_EPOCH};

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Every route of this issue with a body that would succeed for staff of b1.
fn routes(customer: &str) -> Vec<(Method, String, Option<String>)> {
    let c = format!("/v1/banks/b1/customers/{customer}");
    let put = |r: &str, b: serde_json::Value| (Method::PUT, format!("{c}/{r}"), Some(b.to_string()));
    vec![
        (
            Method::POST,
            "/v1/customers".into(),
            Some(json!({"bank_id": "b1", "legal_name": "X"}).to_string()),
        ),
        (Method::GET, c.clone(), None),
        (Method::GET, format!("{c}/customer-number/AUTH-1"), None),
        (Method::GET, "/v1/users/current/customers".into(), None),
        (Method::GET, "/v1/banks/b1/customers".into(), None),
        put("branch", json!({"branch_id": "x"})),
        put("credit-limit", json!({"credit_limit": {"cur": "EUR", "num": "1"}})),
        put("credit-rating-and-source", json!({"credit_rating": {"rating": "A"}})),
        put("email", json!({"email": "a@b.co"})),
        put("identity", json!({"legal_name": "X"})),
        put("mobile-number", json!({"mobile_phone_number": "+14155550100"})),
        put("number", json!({"customer_number": "AUTH-1"})),
        put("data", json!({"dependants": 1})),
        (
            Method::POST,
            "/v1/banks/b1/user_customer_links".into(),
            Some(json!({"user_id": "someone", "customer_id": customer}).to_string()),
        ),
        (Method::GET, "/v1/banks/b1/firehose/customers".into(), None),
    ]
}

#[tokio::test]
async fn bad_credentials_are_401_on_every_route() {
    let api = Api::start().await;
    let id = api.create_customer("b1", json!({"customer_number": "AUTH-1"})).await;
    let kid = api.keys.kid().to_owned();
    let claims = |iss: &str, aud: &str, exp: i64, nbf: i64| json!({"sub": "u1", "iss": iss, "aud": aud, "exp": exp, "nbf": nbf, "iat": now(), "scope": ALL_SCOPES, "bank_ids": ["b1"]});
    let good = claims(
        local_api::keys::LOCAL_ISSUER,
        local_api::keys::LOCAL_AUDIENCE,
        now() + 600,
        now(),
    );
    let other_key = {
        let dir = std::env::temp_dir().join(format!("other-key-{id}"));
        let other = local_api::keys::load_or_create(&dir).unwrap();
        // Signed by another key but naming ours.
        let pem = std::fs::read(dir.join(local_api::keys::PRIVATE_KEY_FILE)).unwrap();
        let mut header = jsonwebtoken::Header::new(Algorithm::ES256);
        header.kid = Some(kid.clone());
        let forged =
            jsonwebtoken::encode(&header, &good, &jsonwebtoken::EncodingKey::from_ec_pem(&pem).unwrap()).unwrap();
        (forged, other.mint(&local_api::keys::TokenRequest::new("u1")).unwrap())
    };
    let alg_none = format!(
        "{}.{}.",
        B64.encode(json!({"alg": "none", "typ": "JWT", "kid": kid}).to_string()),
        B64.encode(good.to_string())
    );
    let valid = api.signed(Algorithm::ES256, Some(&kid), good.clone());
    let tampered = {
        let parts: Vec<&str> = valid.split('.').collect();
        let mut claims = good.clone();
        claims["bank_ids"] = json!(["b1", "b2"]);
        format!("{}.{}.{}", parts[0], B64.encode(claims.to_string()), parts[2])
    };
    let cases: Vec<(&str, Option<String>)> = vec![
        ("no Authorization header", None),
        ("not Bearer", Some(format!("Basic {}", B64.encode("u:p")))),
        ("Bearer without token", Some("Bearer ".into())),
        ("garbage", Some("Bearer not.a.jwt".into())),
        (
            "expired",
            Some(format!(
                "Bearer {}",
                api.signed(
                    Algorithm::ES256,
                    Some(&kid),
                    claims(
                        local_api::keys::LOCAL_ISSUER,
                        local_api::keys::LOCAL_AUDIENCE,
                        now() - 120,
                        now() - 600
                    )
                )
            )),
        ),
        (
            "not yet valid",
            Some(format!(
                "Bearer {}",
                api.signed(
                    Algorithm::ES256,
                    Some(&kid),
                    claims(
                        local_api::keys::LOCAL_ISSUER,
                        local_api::keys::LOCAL_AUDIENCE,
                        now() + 3600,
                        now() + 600
                    )
                )
            )),
        ),
        (
            "wrong iss",
            Some(format!(
                "Bearer {}",
                api.signed(
                    Algorithm::ES256,
                    Some(&kid),
                    claims(
                        "https://evil.example",
                        local_api::keys::LOCAL_AUDIENCE,
                        now() + 600,
                        now()
                    )
                )
            )),
        ),
        (
            "wrong aud",
            Some(format!(
                "Bearer {}",
                api.signed(
                    Algorithm::ES256,
                    Some(&kid),
                    claims(local_api::keys::LOCAL_ISSUER, "other-api", now() + 600, now())
                )
            )),
        ),
        ("signed by another key", Some(format!("Bearer {}", other_key.0))),
        ("unknown kid", Some(format!("Bearer {}", other_key.1))),
        ("alg none", Some(format!("Bearer {alg_none}"))),
        ("tampered claims", Some(format!("Bearer {tampered}"))),
    ];
    let mut failures = Vec::new();
    for (method, path, body) in routes(&id) {
        for (name, header) in &cases {
            let mut req = api.http.request(method.clone(), format!("{}{path}", api.base));
            if let Some(h) = header {
                req = req.header("Authorization", h);
            }
            if let Some(b) = &body {
                req = req.body(b.clone());
            }
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            let ct = r
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            if status != 401 || ct != "application/problem+json" {
                failures.push(format!("{method} {path} [{name}]: {status} {ct}"));
            }
        }
        // The control: the same request with a valid token is not a 401.
        let mut req = api
            .http
            .request(method.clone(), format!("{}{path}", api.base))
            .header("Authorization", format!("Bearer {valid}"));
        if let Some(b) = &body {
            req = req.body(b.clone());
        }
        let status = req.send().await.unwrap().status().as_u16();
        assert!(status < 400, "{method} {path} with a valid staff token: {status}");
    }
    assert!(failures.is_empty(), "not 401:\n{}", failures.join("\n"));
}

#[tokio::test]
async fn permission_matrix() {
    let api = Api::start().await;
    let id = api.create_customer("b1", json!({"customer_number": "AUTH-1"})).await;
    // A linked user: reads their customer, writes nothing.
    api.post(
        "/v1/banks/b1/user_customer_links",
        &api.staff("b1"),
        &json!({"user_id": "linked", "customer_id": id}),
    )
    .await
    .expect(201);
    let linked = api.token("linked", &[], "customer.read customer.write customer.firehose");
    let stranger = api.token("stranger", &[], ALL_SCOPES);
    let other_staff = api.token("other-staff", &["b2"], ALL_SCOPES);
    let read_only_staff = api.token("ro", &["b1"], "customer.read");
    let no_scope_staff = api.token("ns", &["b1"], "");
    let upstream_scopes = api.token(
        "up",
        &["b1"],
        "https://auth.bnk.to/customer.read https://auth.bnk.to/customer.write",
    );

    let customer = format!("/v1/banks/b1/customers/{id}");
    for (method, path, body) in routes(&id) {
        let is_read = method == Method::GET;
        let is_firehose = path.contains("firehose");
        let is_own_list = path == "/v1/users/current/customers" || path == "/v1/banks/b1/customers";
        let expectations = [
            (
                "linked user",
                &linked,
                if is_own_list || (is_read && !is_firehose) {
                    200
                } else {
                    403
                },
            ),
            ("stranger", &stranger, if is_own_list { 200 } else { 403 }),
            (
                "staff of another bank",
                &other_staff,
                if is_own_list { 200 } else { 403 },
            ),
            (
                "read-only staff",
                &read_only_staff,
                if is_read && !is_firehose { 200 } else { 403 },
            ),
            ("staff without scopes", &no_scope_staff, 403),
            (
                "upstream scope names",
                &upstream_scopes,
                if is_firehose { 403 } else { 0 },
            ),
        ];
        for (who, token, expected) in expectations {
            let r = api.send(method.clone(), &path, Some(token), body.as_deref()).await;
            if expected == 0 {
                assert!(r.status < 300, "{who} {method} {path}: {} {}", r.status, r.body);
            } else {
                assert_eq!(r.status, expected, "{who} {method} {path}: {}", r.body);
            }
        }
    }
    // What a linked user sees of their customer, and of one they are not linked to.
    let unlinked = api.create_customer("b1", json!({})).await;
    api.get(&customer, &linked).await.expect(200);
    api.get(&format!("/v1/banks/b1/customers/{unlinked}"), &linked)
        .await
        .expect(403);
    // A POST /v1/customers for a bank the caller is not staff of.
    api.post(
        "/v1/customers",
        &other_staff,
        &json!({"bank_id": "b1", "legal_name": "X"}),
    )
    .await
    .expect(403);
}
