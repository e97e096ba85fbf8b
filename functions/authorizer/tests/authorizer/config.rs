//! Configuration from the environment (through `Config::from_lookup`, which `from_env` uses).

use std::collections::HashMap;

use authorizer::{Authorizer, Config, ConfigError, DEFAULT_JWKS_REFETCH_INTERVAL, InitError, JwksSource};

fn parse(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let vars: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    Config::from_lookup(|name| vars.get(name).cloned())
}

const ISS: (&str, &str) = ("JWT_ISSUER", "https://issuer.test");
const AUD: (&str, &str) = ("JWT_AUDIENCE", "customer-api");
const URL: (&str, &str) = ("JWKS_URL", "https://issuer.test/jwks.json");
const JSON: (&str, &str) = ("JWKS_JSON", r#"{"keys":[]}"#);

#[test]
fn valid_configurations() {
    let config = parse(&[ISS, AUD, URL]).expect("url config");
    assert_eq!(config.issuer, "https://issuer.test");
    assert_eq!(config.audience, "customer-api");
    assert_eq!(config.jwks, JwksSource::Url(URL.1.into()));
    assert_eq!(config.jwks_refetch_interval, DEFAULT_JWKS_REFETCH_INTERVAL);
    let config = parse(&[ISS, AUD, JSON]).expect("inline config");
    assert_eq!(config.jwks, JwksSource::Inline(JSON.1.into()));
    // A blank source counts as unset.
    let config = parse(&[ISS, AUD, JSON, ("JWKS_URL", "  ")]).expect("blank url");
    assert!(matches!(config.jwks, JwksSource::Inline(_)));
}

#[test]
fn missing_issuer_or_audience_fails_clearly() {
    let error = parse(&[AUD, URL]).expect_err("no issuer");
    assert_eq!(error, ConfigError::Missing("JWT_ISSUER"));
    assert!(error.to_string().contains("JWT_ISSUER"), "{error}");
    let error = parse(&[("JWT_ISSUER", " "), AUD, URL]).expect_err("blank issuer");
    assert_eq!(error, ConfigError::Missing("JWT_ISSUER"));
    let error = parse(&[ISS, URL]).expect_err("no audience");
    assert_eq!(error, ConfigError::Missing("JWT_AUDIENCE"));
    assert!(error.to_string().contains("JWT_AUDIENCE"), "{error}");
}

#[test]
fn exactly_one_jwks_source_is_required() {
    let error = parse(&[ISS, AUD, URL, JSON]).expect_err("both");
    assert_eq!(error, ConfigError::BothJwksSources);
    let message = error.to_string();
    assert!(
        message.contains("JWKS_URL") && message.contains("JWKS_JSON"),
        "{message}"
    );

    let error = parse(&[ISS, AUD]).expect_err("neither");
    assert_eq!(error, ConfigError::NoJwksSource);
    let message = error.to_string();
    assert!(
        message.contains("JWKS_URL") && message.contains("JWKS_JSON"),
        "{message}"
    );
}

#[tokio::test]
async fn unusable_inline_jwks_fails_at_init() {
    for (json, expected) in [
        ("not json", "JWKS_JSON"),
        (r#"{"keys":[]}"#, "no usable"),
        (r#"{"keys":[{"kty":"oct","kid":"h","k":"c2VjcmV0"}]}"#, "no usable"),
        (r#"[1,2]"#, "JWKS_JSON"),
    ] {
        let config = Config::with_inline_jwks("https://issuer.test", "customer-api", json);
        let error = Authorizer::from_config(config).await.expect_err(json);
        assert!(matches!(error, InitError::InvalidJwks { .. }), "{error:?}");
        assert!(error.to_string().contains(expected), "{error}");
    }
}

#[tokio::test]
async fn blank_issuer_or_audience_fails_at_init() {
    let key = crate::common::TestKey::es256("k");
    let jwks = crate::common::jwks(&[&key]);
    let error = Authorizer::from_config(Config::with_inline_jwks("", "aud", jwks.clone()))
        .await
        .expect_err("blank issuer");
    assert!(matches!(error, InitError::EmptyIssuer));
    let error = Authorizer::from_config(Config::with_inline_jwks("iss", " ", jwks))
        .await
        .expect_err("blank audience");
    assert!(matches!(error, InitError::EmptyAudience));
}

#[tokio::test]
async fn unusable_keys_are_skipped_next_to_usable_ones() {
    let key = crate::common::TestKey::es256("good");
    let mut bad_curve = key.jwk.clone();
    bad_curve["kid"] = "off-curve".into();
    bad_curve["y"] = bad_curve["x"].clone(); // (x, x) is not on P-256
    let mut enc = key.jwk.clone();
    enc["kid"] = "enc".into();
    enc["use"] = "enc".into();
    let mut wrong_alg = key.jwk.clone();
    wrong_alg["kid"] = "wrong-alg".into();
    wrong_alg["alg"] = "RS256".into();
    let mut no_kid = key.jwk.clone();
    no_kid.as_object_mut().expect("object").remove("kid");
    let document = serde_json::json!({ "keys": [
        { "kty": "oct", "kid": "hmac", "k": "c2VjcmV0" },
        { "kty": "RSA", "kid": "short-rsa", "n": "AQAB", "e": "AQAB" },
        { "kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": "AA" },
        bad_curve, enc, wrong_alg, no_kid, key.jwk.clone(), 42
    ]});
    let authorizer = Authorizer::from_config(Config::with_inline_jwks(
        crate::common::ISSUER,
        crate::common::AUDIENCE,
        document.to_string(),
    ))
    .await
    .expect("usable key present");
    let verifier = authorizer.verifier();
    let claims = crate::common::claims(serde_json::json!({}));
    verifier.verify(&key.sign(&claims)).await.expect("good key");
    for kid in ["hmac", "short-rsa", "ed", "off-curve", "enc", "wrong-alg"] {
        let denial = verifier
            .verify(&key.sign_with_kid(Some(kid), &claims))
            .await
            .expect_err(kid);
        assert_eq!(denial.reason(), "unknown kid", "{kid}");
    }
}
