//! Token verification through `Authorizer::authorize`, with an inline JWKS.

use authorizer::{Authorizer, Config, Unauthorized};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::common::*;

struct Fixture {
    authorizer: Authorizer,
    es: TestKey,
    rs: TestKey,
}

async fn fixture() -> Fixture {
    let es = TestKey::es256("es-1");
    let rs = TestKey::rs256("rs-1");
    let config = Config::with_inline_jwks(ISSUER, AUDIENCE, jwks(&[&es, &rs]));
    let authorizer = Authorizer::from_config(config).await.expect("authorizer");
    Fixture { authorizer, es, rs }
}

impl Fixture {
    async fn authorize(&self, token: &str) -> Result<Value, Unauthorized> {
        self.authorize_header(Some(&bearer(token))).await
    }

    async fn authorize_header(&self, header: Option<&str>) -> Result<Value, Unauthorized> {
        let response = self.authorizer.authorize(event(header, METHOD_ARN)).await?;
        Ok(serde_json::to_value(response).expect("serialise"))
    }

    async fn denied(&self, token: &str, reason: &str) {
        let denial = self.authorize(token).await.expect_err("must be denied");
        assert_eq!(denial.to_string(), "Unauthorized");
        assert_eq!(denial.reason(), reason);
    }
}

fn assert_allowed(response: &Value, sub: &str, scope: &str, bank_ids: &str) {
    assert_eq!(response["principalId"], sub);
    let policy = &response["policyDocument"];
    assert_eq!(policy["Version"], "2012-10-17");
    let statements = policy["Statement"].as_array().expect("statements");
    assert_eq!(statements.len(), 1);
    assert_eq!(statements[0]["Effect"], "Allow");
    assert_eq!(statements[0]["Action"], json!(["execute-api:Invoke"]));
    assert_eq!(statements[0]["Resource"], json!([WHOLE_API]));
    let mut context = response["context"].clone();
    // `exp` is handed on as a decimal string, for the functions' own expiry check.
    let exp = context["exp"].as_str().expect("exp").parse::<u64>().expect("exp");
    assert!(exp > now() && exp <= now() + 300, "{exp}");
    context.as_object_mut().expect("context").remove("exp");
    assert_eq!(context, json!({ "user_id": sub, "scope": scope, "bank_ids": bank_ids }));
}

// contract: C-AUTH-5
#[tokio::test]
async fn scopes_are_split_on_the_ascii_space_only() {
    let f = fixture().await;
    for (scope, expected) in [
        ("customer.write\u{a0}customer.read", "customer.write\u{a0}customer.read"),
        ("customer.write\tcustomer.read", "customer.write\tcustomer.read"),
        (
            "customer.write\u{3000}customer.read",
            "customer.write\u{3000}customer.read",
        ),
        (" customer.read  customer.write ", "customer.read customer.write"),
    ] {
        let token = f.es.sign(&claims(json!({ "scope": scope, "bank_ids": [] })));
        assert_allowed(&f.authorize(&token).await.expect("allowed"), "user-42", expected, "");
    }
}

// contract: C-AUTH-2
#[tokio::test]
async fn a_critical_header_extension_is_refused() {
    let f = fixture().await;
    for key in [&f.es, &f.rs] {
        let alg = if key.alg == Algorithm::ES256 { "ES256" } else { "RS256" };
        let plain = json!({ "alg": alg, "kid": key.kid, "typ": "JWT" });
        assert!(
            f.authorize(&key.sign_raw_header(&plain, &claims(json!({}))))
                .await
                .is_ok()
        );
        for crit in [json!(["exp"]), json!(["b64"]), json!([]), json!("x"), json!(null)] {
            let header = json!({ "alg": alg, "kid": key.kid, "typ": "JWT", "crit": crit, "b64": true });
            let token = key.sign_raw_header(&header, &claims(json!({})));
            f.denied(&token, "critical header extension not understood").await;
        }
    }
}

/// Builds `header.payload.signature` by hand.
fn raw_token(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

#[tokio::test]
async fn valid_es256_and_rs256_tokens_are_allowed_on_the_whole_api() {
    let f = fixture().await;
    for key in [&f.es, &f.rs] {
        let response = f.authorize(&key.sign(&claims(json!({})))).await.expect("allowed");
        assert_allowed(
            &response,
            "user-42",
            "customers:read customers:write",
            "bank-1 bank:2.x_y-z",
        );
    }
}

#[tokio::test]
async fn absent_scope_and_bank_ids_give_empty_context_strings() {
    let f = fixture().await;
    let token = f.es.sign(&claims(json!({ "scope": null, "bank_ids": null })));
    assert_allowed(&f.authorize(&token).await.expect("allowed"), "user-42", "", "");
    // Explicitly empty values, and messy scope whitespace.
    let token = f.es.sign(&claims(json!({ "scope": "  a   b ", "bank_ids": [] })));
    assert_allowed(&f.authorize(&token).await.expect("allowed"), "user-42", "a b", "");
    // A fractional `exp` is handed on in whole seconds.
    let token = f.es.sign(&claims(
        json!({ "scope": "a b", "bank_ids": [], "exp": now() as f64 + 100.5 }),
    ));
    assert_allowed(&f.authorize(&token).await.expect("allowed"), "user-42", "a b", "");
}

#[tokio::test]
async fn audience_array_containing_ours_is_accepted() {
    let f = fixture().await;
    let token = f.es.sign(&claims(json!({ "aud": ["other", AUDIENCE] })));
    assert!(f.authorize(&token).await.is_ok());
}

#[tokio::test]
async fn malformed_authorization_values_are_unauthorized() {
    let f = fixture().await;
    let valid = f.es.sign(&claims(json!({})));
    let cases: Vec<(Option<String>, &str)> = vec![
        (None, "missing authorization"),
        (Some(String::new()), "not a bearer authorization"),
        (Some("Basic x".into()), "not a bearer authorization"),
        (Some(format!("Basic {valid}")), "not a bearer authorization"),
        (Some("Bearer".into()), "not a bearer authorization"),
        (Some("Bearer ".into()), "not a bearer authorization"),
        (Some(valid.clone()), "not a bearer authorization"),
        (Some("Bearer garbage".into()), "malformed token header"),
        (Some("Bearer a.b.c".into()), "malformed token header"),
        (Some("Bearer ...".into()), "malformed token header"),
        (Some(format!("Bearer {valid} extra")), "not a bearer authorization"),
        (
            Some(format!("Bearer {}", "a".repeat(20_000))),
            "not a bearer authorization",
        ),
    ];
    for (header, reason) in cases {
        let denial = f.authorize_header(header.as_deref()).await.expect_err("must be denied");
        assert_eq!(denial.to_string(), "Unauthorized");
        assert_eq!(denial.reason(), reason, "{header:?}");
    }
}

#[tokio::test]
async fn expiry_and_not_before_honour_a_60_second_leeway() {
    let f = fixture().await;
    let now = now();
    f.denied(
        &f.es.sign(&claims(json!({ "iat": now - 7200, "exp": now - 3600 }))),
        "token expired",
    )
    .await;
    f.denied(&f.es.sign(&claims(json!({ "exp": now - 90 }))), "token expired")
        .await;
    f.denied(
        &f.es.sign(&claims(json!({ "nbf": now + 3600, "exp": now + 7200 }))),
        "token not yet valid",
    )
    .await;
    f.denied(&f.es.sign(&claims(json!({ "nbf": now + 90 }))), "token not yet valid")
        .await;
    // Within the leeway.
    assert!(
        f.authorize(&f.es.sign(&claims(json!({ "exp": now - 30 }))))
            .await
            .is_ok()
    );
    assert!(
        f.authorize(&f.rs.sign(&claims(json!({ "nbf": now + 30 }))))
            .await
            .is_ok()
    );
    // exp is required.
    f.denied(&f.es.sign(&claims(json!({ "exp": null }))), "missing required claim")
        .await;
}

#[tokio::test]
async fn bad_signatures_are_unauthorized() {
    let f = fixture().await;
    // Signed by another key under a trusted kid.
    let impostor = TestKey::es256("es-1");
    f.denied(&impostor.sign(&claims(json!({}))), "bad signature").await;
    // Payload swapped after signing.
    let token = f.es.sign(&claims(json!({})));
    let forged_payload = URL_SAFE_NO_PAD.encode(claims(json!({ "sub": "admin" })).to_string());
    let parts: Vec<&str> = token.split('.').collect();
    let tampered = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
    f.denied(&tampered, "bad signature").await;
    // Signature removed.
    f.denied(&format!("{}.{}.", parts[0], parts[1]), "bad signature").await;
    // RS256 token with a corrupted signature.
    let token = f.rs.sign(&claims(json!({})));
    let mut sig = URL_SAFE_NO_PAD
        .decode(token.rsplit('.').next().expect("sig"))
        .expect("b64");
    sig[10] ^= 0x01;
    let (message, _) = token.rsplit_once('.').expect("dot");
    f.denied(&format!("{message}.{}", URL_SAFE_NO_PAD.encode(sig)), "bad signature")
        .await;
}

#[tokio::test]
async fn alg_none_is_unauthorized() {
    let f = fixture().await;
    for alg in ["none", "None", "NONE"] {
        let header = json!({ "alg": alg, "typ": "JWT", "kid": "es-1" });
        f.denied(&raw_token(&header, &claims(json!({})), b""), "malformed token header")
            .await;
        f.denied(
            &raw_token(&header, &claims(json!({})), b"sig"),
            "malformed token header",
        )
        .await;
    }
}

#[tokio::test]
async fn hmac_tokens_keyed_with_the_public_key_are_unauthorized() {
    let f = fixture().await;
    let n = f.rs.jwk["n"].as_str().expect("n").to_owned();
    let secrets: Vec<Vec<u8>> = vec![
        f.rs.public_der.clone(),
        f.rs.jwk.to_string().into_bytes(),
        n.into_bytes(),
        f.es.public_der.clone(),
    ];
    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        for secret in &secrets {
            for kid in ["rs-1", "es-1"] {
                let mut header = Header::new(alg);
                header.kid = Some(kid.to_owned());
                let token =
                    jsonwebtoken::encode(&header, &claims(json!({})), &EncodingKey::from_secret(secret)).expect("sign");
                f.denied(&token, "algorithm not allowed").await;
            }
        }
    }
}

#[tokio::test]
async fn algorithm_must_match_the_key() {
    let f = fixture().await;
    // An ES256 token claiming the RSA key's kid (and vice versa).
    f.denied(
        &f.es.sign_with_kid(Some("rs-1"), &claims(json!({}))),
        "algorithm does not match the key",
    )
    .await;
    f.denied(
        &f.rs.sign_with_kid(Some("es-1"), &claims(json!({}))),
        "algorithm does not match the key",
    )
    .await;
    // Other RSA / EC algorithms are not on the allow-list, even with the right key.
    let mut header = Header::new(Algorithm::RS512);
    header.kid = Some("rs-1".into());
    let token = jsonwebtoken::encode(&header, &claims(json!({})), &f.rs.encoding).expect("sign");
    f.denied(&token, "algorithm not allowed").await;
    let mut header = Header::new(Algorithm::PS256);
    header.kid = Some("rs-1".into());
    let token = jsonwebtoken::encode(&header, &claims(json!({})), &f.rs.encoding).expect("sign");
    f.denied(&token, "algorithm not allowed").await;
}

#[tokio::test]
async fn issuer_and_audience_must_match() {
    let f = fixture().await;
    f.denied(
        &f.es.sign(&claims(json!({ "iss": "https://evil.test" }))),
        "wrong issuer",
    )
    .await;
    f.denied(
        &f.es.sign(&claims(json!({ "iss": format!("{ISSUER}/") }))),
        "wrong issuer",
    )
    .await;
    f.denied(&f.es.sign(&claims(json!({ "iss": [ISSUER] }))), "malformed token")
        .await;
    f.denied(&f.es.sign(&claims(json!({ "iss": null }))), "missing required claim")
        .await;
    f.denied(&f.es.sign(&claims(json!({ "aud": "other-api" }))), "wrong audience")
        .await;
    f.denied(&f.es.sign(&claims(json!({ "aud": ["other-api"] }))), "wrong audience")
        .await;
    f.denied(&f.es.sign(&claims(json!({ "aud": null }))), "missing required claim")
        .await;
}

#[tokio::test]
async fn unknown_or_missing_kid_is_unauthorized() {
    let f = fixture().await;
    f.denied(&f.es.sign_with_kid(Some("es-2"), &claims(json!({}))), "unknown kid")
        .await;
    f.denied(&f.es.sign_with_kid(None, &claims(json!({}))), "missing kid")
        .await;
    f.denied(&f.es.sign_with_kid(Some(""), &claims(json!({}))), "missing kid")
        .await;
}

#[tokio::test]
async fn sub_must_be_present_and_well_formed() {
    let f = fixture().await;
    f.denied(&f.es.sign(&claims(json!({ "sub": null }))), "missing required claim")
        .await;
    for bad in [json!(""), json!("a b"), json!("x".repeat(256)), json!("caf\u{e9}")] {
        f.denied(&f.es.sign(&claims(json!({ "sub": bad }))), "invalid sub")
            .await;
    }
    f.denied(&f.es.sign(&claims(json!({ "sub": 42 }))), "malformed token")
        .await;
    let longest = "u".repeat(255);
    let response = f
        .authorize(
            &f.es
                .sign(&claims(json!({ "sub": longest, "scope": null, "bank_ids": null }))),
        )
        .await
        .expect("allowed");
    assert_allowed(&response, &longest, "", "");
}

#[tokio::test]
async fn invalid_bank_ids_are_unauthorized() {
    let f = fixture().await;
    for bad in [
        json!(["bank-1", "bad bank"]),
        json!([""]),
        json!(["-leading-dash"]),
        json!(["b".repeat(65)]),
        json!(["bank/1"]),
    ] {
        f.denied(&f.es.sign(&claims(json!({ "bank_ids": bad }))), "invalid bank id")
            .await;
    }
    for malformed in [json!("bank-1"), json!([1]), json!({ "a": "b" })] {
        f.denied(&f.es.sign(&claims(json!({ "bank_ids": malformed }))), "malformed token")
            .await;
    }
    let longest = format!("A{}", "z".repeat(63));
    let token = f.es.sign(&claims(json!({ "bank_ids": [longest, "b"] })));
    let response = f.authorize(&token).await.expect("allowed");
    assert_eq!(response["context"]["bank_ids"], format!("{longest} b"));
}

#[tokio::test]
async fn malformed_method_arn_is_unauthorized() {
    let f = fixture().await;
    let token = bearer(&f.es.sign(&claims(json!({}))));
    for arn in ["", "arn:aws:execute-api:eu-west-1:123456789012:api", "not-an-arn"] {
        let denial = f
            .authorizer
            .authorize(event(Some(&token), arn))
            .await
            .expect_err("denied");
        assert_eq!(denial.reason(), "malformed methodArn");
    }
}

#[tokio::test]
async fn verifier_is_usable_directly() {
    let f = fixture().await;
    let token = f.rs.sign(&claims(json!({})));
    let claims = f
        .authorizer
        .verifier()
        .verify_authorization(Some(&bearer(&token)))
        .await
        .expect("verified");
    assert_eq!(claims.sub, "user-42");
    assert_eq!(claims.bank_ids, ["bank-1", "bank:2.x_y-z"]);
    assert_eq!(
        claims.scopes().collect::<Vec<_>>(),
        ["customers:read", "customers:write"]
    );
    let context = claims.context();
    assert_eq!(context.user_id, "user-42");
    assert_eq!(context.bank_ids, "bank-1 bank:2.x_y-z");
    assert_eq!(context.bank_id_list().collect::<Vec<_>>(), ["bank-1", "bank:2.x_y-z"]);
    assert_eq!(f.authorizer.verifier().verify(&token).await, Ok(claims));
}
