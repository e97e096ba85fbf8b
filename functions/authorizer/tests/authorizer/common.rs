//! Test helpers: real keys (aws-lc-rs), real signed tokens (jsonwebtoken), a tiny JWKS server.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use authorizer::ApiGatewayCustomAuthorizerRequest;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

pub const ISSUER: &str = "https://issuer.test";
pub const AUDIENCE: &str = "customer-api";
pub const METHOD_ARN: &str = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/GET/banks/bank-1/customers";
pub const WHOLE_API: &str = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/*/*";

pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs()
}

/// A signing key and its public JWK.
pub struct TestKey {
    pub kid: String,
    pub alg: Algorithm,
    pub encoding: EncodingKey,
    pub jwk: Value,
    /// DER SubjectPublicKeyInfo of the public key.
    pub public_der: Vec<u8>,
}

impl TestKey {
    pub fn es256(kid: &str) -> Self {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("generate");
        let pkcs8 = pair.to_pkcs8v1().expect("pkcs8");
        let point = pair.public_key().as_ref();
        assert_eq!(point.len(), 65);
        assert_eq!(point[0], 4);
        let public_der = pair.public_key().as_der().expect("spki").as_ref().to_vec();
        Self {
            kid: kid.to_owned(),
            alg: Algorithm::ES256,
            encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwk: json!({
                "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": kid,
                "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
                "y": URL_SAFE_NO_PAD.encode(&point[33..]),
            }),
            public_der,
        }
    }

    /// RS256 with a 2048-bit key (generated once per test process: it is slow-ish).
    pub fn rs256(kid: &str) -> Self {
        static PAIR: OnceLock<RsaKeyPair> = OnceLock::new();
        let pair = PAIR.get_or_init(|| RsaKeyPair::generate(KeySize::Rsa2048).expect("rsa"));
        let pkcs8 = pair.as_der().expect("pkcs8");
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            STANDARD.encode(pkcs8.as_ref())
        );
        let public = pair.public_key();
        let components = PublicKeyComponents::<Vec<u8>>::from(public);
        let public_der = public.as_der().expect("spki").as_ref().to_vec();
        Self {
            kid: kid.to_owned(),
            alg: Algorithm::RS256,
            encoding: EncodingKey::from_rsa_pem(pem.as_bytes()).expect("rsa pem"),
            jwk: json!({
                "kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid,
                "n": URL_SAFE_NO_PAD.encode(&components.n),
                "e": URL_SAFE_NO_PAD.encode(&components.e),
            }),
            public_der,
        }
    }

    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with_kid(Some(&self.kid), claims)
    }

    /// Signs a header given as JSON (for members `jsonwebtoken::Header` does not model).
    pub fn sign_raw_header(&self, header: &Value, claims: &Value) -> String {
        use base64::Engine as _;
        let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        let message = format!("{}.{}", b64(header), b64(claims));
        let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &self.encoding, self.alg).expect("sign");
        format!("{message}.{signature}")
    }

    pub fn sign_with_kid(&self, kid: Option<&str>, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("sign")
    }
}

pub fn jwks(keys: &[&TestKey]) -> String {
    json!({ "keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>() }).to_string()
}

/// Valid claims; `changes` is merged on top (a `null` value removes the claim).
pub fn claims(changes: Value) -> Value {
    let now = now();
    let mut claims = json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-42",
        "iat": now,
        "nbf": now - 5,
        "exp": now + 300,
        "scope": "customers:read customers:write",
        "bank_ids": ["bank-1", "bank:2.x_y-z"],
    });
    if let (Some(target), Some(changes)) = (claims.as_object_mut(), changes.as_object()) {
        for (name, value) in changes {
            if value.is_null() {
                target.remove(name);
            } else {
                target.insert(name.clone(), value.clone());
            }
        }
    }
    claims
}

pub fn event(authorization: Option<&str>, method_arn: &str) -> ApiGatewayCustomAuthorizerRequest {
    serde_json::from_value(json!({
        "type": "TOKEN",
        "authorizationToken": authorization,
        "methodArn": method_arn,
    }))
    .expect("event")
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// A raw HTTP/1.1 server on 127.0.0.1 answering every request with the current body.
pub struct JwksServer {
    pub url: String,
    pub fetches: Arc<AtomicUsize>,
    body: Arc<Mutex<(u16, String)>>,
}

impl JwksServer {
    pub async fn start(jwks: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/.well-known/jwks.json", listener.local_addr().expect("addr"));
        let fetches = Arc::new(AtomicUsize::new(0));
        let body = Arc::new(Mutex::new((200, jwks)));
        let (counter, current) = (Arc::clone(&fetches), Arc::clone(&body));
        tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let (counter, current) = (Arc::clone(&counter), Arc::clone(&current));
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    counter.fetch_add(1, Ordering::SeqCst);
                    let (status, body) = current.lock().expect("lock").clone();
                    let response = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n\
                         content-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(response.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Self { url, fetches, body }
    }

    pub fn serve(&self, status: u16, body: String) {
        *self.body.lock().expect("lock") = (status, body);
    }

    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}
