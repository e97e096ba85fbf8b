//! `JWKS_URL`: fetched at init, refetched (rate limited) on an unknown kid.

use std::time::Duration;

use authorizer::{Config, InitError, Verifier};
use serde_json::json;

use crate::common::*;

fn url_config(url: &str) -> Config {
    Config::with_jwks_url(ISSUER, AUDIENCE, url)
}

#[tokio::test]
async fn fetched_at_init_and_refetched_once_per_interval_on_unknown_kid() {
    let old = TestKey::es256("old");
    let rotated = TestKey::rs256("rotated");
    let later = TestKey::es256("later");
    let server = JwksServer::start(jwks(&[&old])).await;

    let verifier = Verifier::new(url_config(&server.url)).await.expect("init");
    assert_eq!(server.fetches(), 1, "fetched once at init");

    // Known kid: served from the cache.
    let verified = verifier.verify(&old.sign(&claims(json!({})))).await.expect("old key");
    assert_eq!(verified.sub, "user-42");
    assert_eq!(server.fetches(), 1);

    // The issuer rotates: a token with the new kid triggers one refetch, which finds it.
    server.serve(200, jwks(&[&old, &rotated]));
    verifier
        .verify(&rotated.sign(&claims(json!({}))))
        .await
        .expect("rotated key found after refetch");
    assert_eq!(server.fetches(), 2);

    // Another unknown kid within the interval: no refetch, denied.
    server.serve(200, jwks(&[&old, &rotated, &later]));
    let denial = verifier
        .verify(&later.sign(&claims(json!({}))))
        .await
        .expect_err("rate limited");
    assert_eq!(denial.reason(), "unknown kid");
    let denial = verifier
        .verify(&old.sign_with_kid(Some("nope"), &claims(json!({}))))
        .await
        .expect_err("rate limited");
    assert_eq!(denial.reason(), "unknown kid");
    assert_eq!(server.fetches(), 2, "no refetch within the interval");

    // Known kids keep working without fetching.
    verifier.verify(&old.sign(&claims(json!({})))).await.expect("old");
    verifier
        .verify(&rotated.sign(&claims(json!({}))))
        .await
        .expect("rotated");
    assert_eq!(server.fetches(), 2);
}

#[tokio::test]
async fn refetch_interval_is_configurable_and_failed_refetch_keeps_cached_keys() {
    let old = TestKey::es256("old");
    let new = TestKey::es256("new");
    let server = JwksServer::start(jwks(&[&old])).await;
    let mut config = url_config(&server.url);
    config.jwks_refetch_interval = Duration::ZERO;
    let verifier = Verifier::new(config).await.expect("init");
    assert_eq!(server.fetches(), 1);

    // With no interval every unknown kid refetches.
    for expected in 2..=3 {
        let denial = verifier
            .verify(&new.sign(&claims(json!({}))))
            .await
            .expect_err("unknown");
        assert_eq!(denial.reason(), "unknown kid");
        assert_eq!(server.fetches(), expected);
    }

    // A failing endpoint does not wipe the cache.
    server.serve(500, "oops".into());
    assert!(verifier.verify(&new.sign(&claims(json!({})))).await.is_err());
    assert_eq!(server.fetches(), 4);
    verifier
        .verify(&old.sign(&claims(json!({}))))
        .await
        .expect("cached key");

    // Neither does a document without usable keys.
    server.serve(200, json!({ "keys": [] }).to_string());
    assert!(verifier.verify(&new.sign(&claims(json!({})))).await.is_err());
    assert_eq!(server.fetches(), 5);
    verifier
        .verify(&old.sign(&claims(json!({}))))
        .await
        .expect("cached key");

    // Rotation that drops the old key: the old key stops working.
    server.serve(200, jwks(&[&new]));
    verifier.verify(&new.sign(&claims(json!({})))).await.expect("new key");
    assert_eq!(server.fetches(), 6);
    assert!(verifier.verify(&old.sign(&claims(json!({})))).await.is_err());
}

#[tokio::test]
async fn init_fails_clearly_when_the_jwks_cannot_be_loaded() {
    let server = JwksServer::start("{}".into()).await;
    let error = Verifier::new(url_config(&server.url)).await.expect_err("bad jwks");
    assert!(matches!(error, InitError::JwksFetch { .. }), "{error:?}");
    assert!(error.to_string().contains(&server.url), "{error}");

    server.serve(503, "down".into());
    let error = Verifier::new(url_config(&server.url)).await.expect_err("503");
    assert!(error.to_string().contains("503"), "{error}");

    // Only unusable keys (HMAC secret, encryption key, other curve).
    server.serve(
        200,
        json!({ "keys": [
            { "kty": "oct", "kid": "h", "k": "c2VjcmV0" },
            { "kty": "EC", "crv": "P-384", "kid": "p384", "x": "AA", "y": "AA" },
        ]})
        .to_string(),
    );
    let error = Verifier::new(url_config(&server.url)).await.expect_err("no keys");
    assert!(error.to_string().contains("no usable"), "{error}");

    // Nothing listening.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead = format!("http://{}/jwks", listener.local_addr().expect("addr"));
    drop(listener);
    let error = Verifier::new(url_config(&dead)).await.expect_err("refused");
    assert!(matches!(error, InitError::JwksFetch { .. }), "{error:?}");
}

#[tokio::test]
async fn jwks_url_must_be_https_unless_loopback() {
    for url in [
        "http://issuer.example.com/jwks.json",
        "ftp://127.0.0.1/jwks.json",
        "not a url",
    ] {
        let error = Verifier::new(url_config(url)).await.expect_err("rejected");
        assert!(matches!(error, InitError::JwksUrl { .. }), "{url}: {error:?}");
    }
}
