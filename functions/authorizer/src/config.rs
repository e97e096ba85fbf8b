//! Authorizer configuration: issuer, audience and where the signing keys come from.

use std::time::Duration;

/// Environment variable holding the required `iss` value.
pub const ENV_ISSUER: &str = "JWT_ISSUER";
/// Environment variable holding the required `aud` value.
pub const ENV_AUDIENCE: &str = "JWT_AUDIENCE";
/// Environment variable holding the URL of the JWKS document (fetched at init, cached).
pub const ENV_JWKS_URL: &str = "JWKS_URL";
/// Environment variable holding the JWKS document itself.
pub const ENV_JWKS_JSON: &str = "JWKS_JSON";

/// Minimum time between two JWKS refetches triggered by tokens naming an unknown `kid`.
pub const DEFAULT_JWKS_REFETCH_INTERVAL: Duration = Duration::from_secs(60);

/// Where the verification keys come from.
#[derive(Clone, PartialEq, Eq)]
pub enum JwksSource {
    /// A JWKS endpoint, fetched at init and refetched (rate limited) when a token names an
    /// unknown `kid`. Must be `https://`, except `http://` to a loopback host (tests, local).
    Url(String),
    /// The JWKS document itself (JSON text). Never refetched.
    Inline(String),
}

impl std::fmt::Debug for JwksSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Url(url) => f.debug_tuple("Url").field(url).finish(),
            Self::Inline(json) => f
                .debug_tuple("Inline")
                .field(&format_args!("<{} bytes>", json.len()))
                .finish(),
        }
    }
}

/// Everything the verifier needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Exact value the `iss` claim must have.
    pub issuer: String,
    /// Value the `aud` claim must have (or contain, when it is an array).
    pub audience: String,
    /// Source of the signing keys.
    pub jwks: JwksSource,
    /// Minimum time between two unknown-`kid` refetches of a [`JwksSource::Url`].
    pub jwks_refetch_interval: Duration,
}

/// Why the configuration could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is unset or blank.
    #[error("missing required environment variable {0}")]
    Missing(&'static str),
    /// Neither key source is configured.
    #[error("no JWKS source configured: set exactly one of {ENV_JWKS_URL} or {ENV_JWKS_JSON}")]
    NoJwksSource,
    /// Both key sources are configured.
    #[error("both {ENV_JWKS_URL} and {ENV_JWKS_JSON} are set: set exactly one of them")]
    BothJwksSources,
}

impl Config {
    /// A configuration with an inline JWKS document (used by the local API server and tests).
    pub fn with_inline_jwks(
        issuer: impl Into<String>,
        audience: impl Into<String>,
        jwks_json: impl Into<String>,
    ) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            jwks: JwksSource::Inline(jwks_json.into()),
            jwks_refetch_interval: DEFAULT_JWKS_REFETCH_INTERVAL,
        }
    }

    /// A configuration fetching its keys from a JWKS endpoint.
    pub fn with_jwks_url(issuer: impl Into<String>, audience: impl Into<String>, jwks_url: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            jwks: JwksSource::Url(jwks_url.into()),
            jwks_refetch_interval: DEFAULT_JWKS_REFETCH_INTERVAL,
        }
    }

    /// Reads `JWT_ISSUER`, `JWT_AUDIENCE` and exactly one of `JWKS_URL` / `JWKS_JSON` from the
    /// process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Same as [`Config::from_env`], reading variables through `lookup` (testable without
    /// touching the process environment). Blank values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let issuer = get(ENV_ISSUER).ok_or(ConfigError::Missing(ENV_ISSUER))?;
        let audience = get(ENV_AUDIENCE).ok_or(ConfigError::Missing(ENV_AUDIENCE))?;
        let jwks = match (get(ENV_JWKS_URL), get(ENV_JWKS_JSON)) {
            (Some(url), None) => JwksSource::Url(url),
            (None, Some(json)) => JwksSource::Inline(json),
            (Some(_), Some(_)) => return Err(ConfigError::BothJwksSources),
            (None, None) => return Err(ConfigError::NoJwksSource),
        };
        Ok(Self {
            issuer,
            audience,
            jwks,
            jwks_refetch_interval: DEFAULT_JWKS_REFETCH_INTERVAL,
        })
    }
}
