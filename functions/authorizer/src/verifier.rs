//! Bearer-token verification against a JWKS.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;
use shared::domain::ids::{BankId, UserId};

use crate::config::{Config, ENV_JWKS_JSON, JwksSource};
use crate::jwks::{JwksFetcher, KeySet, MAX_KID_LEN, VerificationKey, parse_jwks};
use crate::{AuthContext, InitError, Unauthorized};

/// Clock skew tolerated on `exp` and `nbf`, in seconds: the functions check `exp` with the same.
pub const LEEWAY_SECS: u64 = shared::http::caller::LEEWAY_SECS as u64;
/// Longest bearer token accepted.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// The claims of a verified token, validated and normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedClaims {
    /// `sub`: the user id (≤ 255 printable ASCII characters, no spaces).
    pub sub: String,
    /// `scope`, its ASCII-space-separated words joined by single spaces; empty when absent.
    pub scope: String,
    /// `bank_ids`, each matching `^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`; empty when absent.
    pub bank_ids: Vec<String>,
    /// `exp`, in seconds since the epoch: handed on so that the functions refuse the token once it
    /// expired, even when API Gateway answers from a cached Allow.
    pub exp: i64,
}

impl VerifiedClaims {
    /// The authorizer context handed on to the API's functions.
    pub fn context(&self) -> AuthContext {
        AuthContext::from_claims(self)
    }

    /// The individual scopes.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split(' ').filter(|s| !s.is_empty())
    }
}

#[derive(Deserialize)]
struct RawClaims {
    #[serde(default)]
    sub: Option<String>,
    // Forces `iss` to be a single string (the library alone would accept an array).
    #[serde(default, rename = "iss")]
    _iss: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    bank_ids: Option<Vec<String>>,
    // Validated by the library (required, a number): read here only to hand it on.
    #[serde(default)]
    exp: Option<serde_json::Number>,
}

/// RFC 7515 4.1.11: a token whose `crit` names extensions the recipient does not understand must
/// be refused; this verifier understands none, so any `crit` is refused.
fn has_critical_header(token: &str) -> bool {
    use base64::Engine;
    let header = token.split('.').next().unwrap_or_default();
    let Ok(json) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header) else {
        return false;
    };
    // Any `crit` member, even `null` or repeated, is refused. Not a JSON object: `decode_header`
    // refuses it with its own reason.
    serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&json).is_ok_and(|h| h.contains_key("crit"))
}

/// The token of an `Authorization` header value `Bearer <jwt>` (scheme case-insensitive).
/// `None` when the value is not of that form.
pub fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.trim().split_once(' ')?;
    let token = token.trim_start();
    let is_jwt_charset = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'=');
    (scheme.eq_ignore_ascii_case("Bearer")
        && !token.is_empty()
        && token.len() <= MAX_TOKEN_LEN
        && token.bytes().all(is_jwt_charset))
    .then_some(token)
}

struct RemoteKeys {
    fetcher: JwksFetcher,
    refetch_interval: Duration,
    /// When the last unknown-`kid` refetch started; also serialises refetches.
    last_refetch: tokio::sync::Mutex<Option<Instant>>,
}

/// Verifies bearer tokens. Cheap to share (`Send + Sync`); build once per process.
pub struct Verifier {
    keys: RwLock<Arc<KeySet>>,
    remote: Option<RemoteKeys>,
    validation_rs256: Validation,
    validation_es256: Validation,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("keys", &self.current_keys().len())
            .field("jwks_url", &self.remote.as_ref().map(|r| r.fetcher.url()))
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// Builds the verifier: parses the inline JWKS, or fetches the JWKS URL once.
    /// Fails (with a message fit for an init log) on any configuration or JWKS problem.
    pub async fn new(config: Config) -> Result<Self, InitError> {
        if config.issuer.trim().is_empty() {
            return Err(InitError::EmptyIssuer);
        }
        if config.audience.trim().is_empty() {
            return Err(InitError::EmptyAudience);
        }
        let (keys, remote) = match &config.jwks {
            JwksSource::Inline(json) => {
                let keys = parse_jwks(json.as_bytes()).map_err(|reason| InitError::InvalidJwks {
                    origin: ENV_JWKS_JSON.to_owned(),
                    reason,
                })?;
                (keys, None)
            }
            JwksSource::Url(url) => {
                let fetcher = JwksFetcher::new(url).map_err(|reason| InitError::JwksUrl {
                    url: url.clone(),
                    reason,
                })?;
                let keys = fetcher.fetch().await.map_err(|reason| InitError::JwksFetch {
                    url: url.clone(),
                    reason,
                })?;
                let remote = RemoteKeys {
                    fetcher,
                    refetch_interval: config.jwks_refetch_interval,
                    last_refetch: tokio::sync::Mutex::new(None),
                };
                (keys, Some(remote))
            }
        };
        tracing::info!(keys = keys.len(), "JWKS loaded");
        Ok(Self {
            keys: RwLock::new(Arc::new(keys)),
            remote,
            validation_rs256: validation(Algorithm::RS256, &config),
            validation_es256: validation(Algorithm::ES256, &config),
        })
    }

    /// Verifies the value of an `Authorization` header (`Bearer <jwt>`).
    pub async fn verify_authorization(&self, authorization: Option<&str>) -> Result<VerifiedClaims, Unauthorized> {
        let authorization = authorization.ok_or(Unauthorized::new("missing authorization"))?;
        let token = bearer_token(authorization).ok_or(Unauthorized::new("not a bearer authorization"))?;
        self.verify(token).await
    }

    /// Verifies a JWT (signature, algorithm, `kid`, `iss`, `aud`, `exp`, `nbf`, `sub`,
    /// `bank_ids`) and returns its validated claims.
    pub async fn verify(&self, token: &str) -> Result<VerifiedClaims, Unauthorized> {
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Err(Unauthorized::new("empty or oversized token"));
        }
        // Parses `alg` into the library's enum: `none` and unknown names fail here.
        if has_critical_header(token) {
            return Err(Unauthorized::new("critical header extension not understood"));
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| Unauthorized::new("malformed token header"))?;
        let validation = match header.alg {
            Algorithm::RS256 => &self.validation_rs256,
            Algorithm::ES256 => &self.validation_es256,
            _ => return Err(Unauthorized::new("algorithm not allowed")),
        };
        let kid = header
            .kid
            .as_deref()
            .filter(|kid| !kid.is_empty() && kid.len() <= MAX_KID_LEN)
            .ok_or(Unauthorized::new("missing kid"))?;
        let key = self.key_for(kid).await.ok_or(Unauthorized::new("unknown kid"))?;
        // The key decides the algorithm: a token may not pick a different one for it.
        if key.alg != header.alg {
            return Err(Unauthorized::new("algorithm does not match the key"));
        }
        let data = jsonwebtoken::decode::<RawClaims>(token, &key.key, validation)
            .map_err(|e| Unauthorized::new(denial_reason(e.kind())))?;
        let claims = data.claims;

        let sub = claims.sub.unwrap_or_default();
        if UserId::parse(&sub).is_err() {
            return Err(Unauthorized::new("invalid sub"));
        }
        let bank_ids = claims.bank_ids.unwrap_or_default();
        if !bank_ids.iter().all(|id| BankId::parse(id).is_ok()) {
            return Err(Unauthorized::new("invalid bank id"));
        }
        // RFC 6749 3.3: scopes are separated by the ASCII space, and by nothing else.
        let scope = claims
            .scope
            .as_deref()
            .unwrap_or_default()
            .split(' ')
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let exp = claims
            .exp
            .and_then(|e| e.as_i64().or_else(|| e.as_f64().map(|e| e.floor() as i64)))
            .ok_or(Unauthorized::new("missing required claim"))?;
        Ok(VerifiedClaims {
            sub,
            scope,
            bank_ids,
            exp,
        })
    }

    fn current_keys(&self) -> Arc<KeySet> {
        Arc::clone(&self.keys.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn lookup(&self, kid: &str) -> Option<Arc<VerificationKey>> {
        self.current_keys().get(kid).cloned()
    }

    /// The key for `kid`; for a JWKS URL, an unknown `kid` triggers a refetch (at most one per
    /// refetch interval; concurrent misses wait for the same refetch).
    async fn key_for(&self, kid: &str) -> Option<Arc<VerificationKey>> {
        if let Some(key) = self.lookup(kid) {
            return Some(key);
        }
        let remote = self.remote.as_ref()?;
        let mut last_refetch = remote.last_refetch.lock().await;
        if let Some(key) = self.lookup(kid) {
            return Some(key);
        }
        if last_refetch.is_some_and(|at| at.elapsed() < remote.refetch_interval) {
            return None;
        }
        *last_refetch = Some(Instant::now());
        match remote.fetcher.fetch().await {
            Ok(keys) => {
                tracing::info!(keys = keys.len(), "JWKS refetched for an unknown kid");
                *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
            }
            Err(reason) => tracing::warn!(%reason, "JWKS refetch failed; keeping cached keys"),
        }
        self.lookup(kid)
    }
}

fn validation(alg: Algorithm, config: &Config) -> Validation {
    let mut validation = Validation::new(alg);
    validation.leeway = LEEWAY_SECS;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.validate_aud = true;
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.set_issuer(&[config.issuer.as_str()]);
    validation.set_audience(&[config.audience.as_str()]);
    validation
}

fn denial_reason(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidSignature => "bad signature",
        ErrorKind::ExpiredSignature => "token expired",
        ErrorKind::ImmatureSignature => "token not yet valid",
        ErrorKind::InvalidIssuer => "wrong issuer",
        ErrorKind::InvalidAudience => "wrong audience",
        ErrorKind::MissingRequiredClaim(_) => "missing required claim",
        ErrorKind::InvalidAlgorithm => "algorithm not allowed",
        ErrorKind::Json(_) | ErrorKind::Base64(_) | ErrorKind::Utf8(_) => "malformed token",
        _ => "invalid token",
    }
}
