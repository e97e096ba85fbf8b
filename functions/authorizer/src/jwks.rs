//! JWKS parsing (only RS256 / ES256 signing keys are kept) and fetching.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, ParsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

/// Largest JWKS document accepted (inline or fetched).
const MAX_JWKS_BYTES: usize = 1024 * 1024;
/// Longest `kid` accepted, in a JWKS or in a token header.
pub(crate) const MAX_KID_LEN: usize = 256;
const FETCH_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// One usable verification key. `alg` is the only algorithm a token verified with it may use.
pub(crate) struct VerificationKey {
    pub(crate) alg: Algorithm,
    pub(crate) key: DecodingKey,
}

/// Keys by `kid`.
pub(crate) type KeySet = HashMap<String, Arc<VerificationKey>>;

#[derive(Deserialize)]
struct JwksDocument {
    keys: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawJwk {
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default, rename = "use")]
    use_: Option<String>,
    #[serde(default)]
    key_ops: Option<Vec<String>>,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
}

/// Parses a JWKS document, keeping every RS256 / ES256 (P-256) signature key that has a `kid`.
/// Other keys (encryption keys, HMAC `oct` keys, other curves or algorithms) are skipped.
/// Fails when the document is malformed or holds no usable key.
pub(crate) fn parse_jwks(json: &[u8]) -> Result<KeySet, String> {
    if json.len() > MAX_JWKS_BYTES {
        return Err(format!("document larger than {MAX_JWKS_BYTES} bytes"));
    }
    let doc: JwksDocument = serde_json::from_slice(json)
        .map_err(|e| format!("not a JWKS document (an object with a \"keys\" array): {e}"))?;
    let total = doc.keys.len();
    let mut keys = KeySet::new();
    for value in doc.keys {
        let parsed = serde_json::from_value::<RawJwk>(value)
            .map_err(|_| "malformed JWK")
            .and_then(|raw| verification_key(&raw));
        match parsed {
            Ok((kid, key)) => {
                if let Entry::Vacant(slot) = keys.entry(kid) {
                    slot.insert(Arc::new(key));
                } else {
                    tracing::warn!("JWKS lists a kid twice; keeping the first key");
                }
            }
            Err(reason) => tracing::debug!(reason, "skipping JWK"),
        }
    }
    if keys.is_empty() {
        return Err(format!(
            "no usable RS256/ES256 signing key with a kid among its {total} key(s)"
        ));
    }
    Ok(keys)
}

fn b64(value: Option<&String>, what: &'static str) -> Result<Vec<u8>, &'static str> {
    let value = value.ok_or(what)?;
    URL_SAFE_NO_PAD.decode(value.trim_end_matches('=')).map_err(|_| what)
}

fn verification_key(jwk: &RawJwk) -> Result<(String, VerificationKey), &'static str> {
    let kid = jwk
        .kid
        .as_deref()
        .filter(|kid| !kid.is_empty() && kid.len() <= MAX_KID_LEN)
        .ok_or("missing or oversized kid")?;
    if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
        return Err("not a signature key (use)");
    }
    if jwk
        .key_ops
        .as_ref()
        .is_some_and(|ops| !ops.iter().any(|op| op == "verify"))
    {
        return Err("not a verification key (key_ops)");
    }
    let key = match jwk.kty.as_str() {
        "RSA" => {
            if jwk.alg.as_deref().is_some_and(|alg| alg != "RS256") {
                return Err("unsupported alg for an RSA key");
            }
            let n = b64(jwk.n.as_ref(), "bad RSA modulus")?;
            let e = b64(jwk.e.as_ref(), "bad RSA exponent")?;
            let modulus_len = n.iter().skip_while(|b| **b == 0).count();
            if !(256..=1024).contains(&modulus_len) {
                return Err("RSA modulus must be 2048 to 8192 bits");
            }
            let exponent_len = e.iter().skip_while(|b| **b == 0).count();
            if !(1..=8).contains(&exponent_len) {
                return Err("bad RSA exponent");
            }
            VerificationKey {
                alg: Algorithm::RS256,
                key: DecodingKey::from_rsa_raw_components(&n, &e),
            }
        }
        "EC" => {
            if jwk.crv.as_deref() != Some("P-256") {
                return Err("unsupported EC curve");
            }
            if jwk.alg.as_deref().is_some_and(|alg| alg != "ES256") {
                return Err("unsupported alg for a P-256 key");
            }
            let x = b64(jwk.x.as_ref(), "bad EC x coordinate")?;
            let y = b64(jwk.y.as_ref(), "bad EC y coordinate")?;
            if x.len() != 32 || y.len() != 32 {
                return Err("bad P-256 coordinate length");
            }
            let mut point = Vec::with_capacity(65);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            // Rejects points that are not on the curve.
            ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point).map_err(|_| "invalid P-256 public key")?;
            VerificationKey {
                alg: Algorithm::ES256,
                key: DecodingKey::from_ec_der(&point),
            }
        }
        _ => return Err("unsupported kty"),
    };
    Ok((kid.to_owned(), key))
}

/// Fetches a JWKS document over HTTP(S).
pub(crate) struct JwksFetcher {
    client: reqwest::Client,
    url: reqwest::Url,
}

impl JwksFetcher {
    /// Validates the URL (`https://`, or `http://` to a loopback host) and builds the client.
    pub(crate) fn new(url: &str) -> Result<Self, String> {
        let parsed = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
        let https = match parsed.scheme() {
            "https" => true,
            "http" if is_loopback(&parsed) => false,
            "http" => return Err("must use https (http is only allowed to a loopback host)".into()),
            other => return Err(format!("unsupported scheme {other:?}")),
        };
        let client = reqwest::Client::builder()
            .connect_timeout(FETCH_CONNECT_TIMEOUT)
            .timeout(FETCH_TIMEOUT)
            .https_only(https)
            .user_agent(concat!("customer-api-authorizer/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build HTTP client: {}", error_chain(&e)))?;
        Ok(Self { client, url: parsed })
    }

    pub(crate) fn url(&self) -> &str {
        self.url.as_str()
    }

    /// Fetches and parses the document.
    pub(crate) async fn fetch(&self) -> Result<KeySet, String> {
        let mut response = self
            .client
            .get(self.url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| error_chain(&e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("HTTP status {status}"));
        }
        if response.content_length().is_some_and(|len| len > MAX_JWKS_BYTES as u64) {
            return Err(format!("document larger than {MAX_JWKS_BYTES} bytes"));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| error_chain(&e))? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(format!("document larger than {MAX_JWKS_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        parse_jwks(&body)
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `error: cause: cause...` (reqwest's own message alone is terse).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
