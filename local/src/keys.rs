//! Development signing keys for the local API: an ES256 (P-256) key pair kept under `.local/`
//! (git-ignored) so that minted tokens survive restarts, its public JWKS, and a token minter.
//!
//! Files under the directory given to [`load_or_create`]:
//! - `dev-signing-key.pem`: the private key, PKCS#8 PEM, mode 0600;
//! - `jwks.json`: `{"keys":[{"kty":"EC","crv":"P-256","x":…,"y":…,"kid":…,"alg":"ES256","use":"sig"}]}`.
//!   The `kid` is random, chosen when the key is created, and read back from this file.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::fill as random_fill;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};

/// `iss` of locally minted tokens (configure the local verifier with it).
pub const LOCAL_ISSUER: &str = "https://auth.local.customer-api";
/// `aud` of locally minted tokens (configure the local verifier with it).
pub const LOCAL_AUDIENCE: &str = "customer-api";
/// Default token lifetime, in seconds.
pub const DEFAULT_TTL_SECONDS: u64 = 3600;
/// File name of the private key under the keys directory.
pub const PRIVATE_KEY_FILE: &str = "dev-signing-key.pem";
/// File name of the public JWKS under the keys directory.
pub const JWKS_FILE: &str = "jwks.json";

const PEM_LABEL: &str = "PRIVATE KEY";

/// Errors of the dev key store and minter.
#[derive(Debug, thiserror::Error)]
pub enum DevKeysError {
    /// Reading or writing a key file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// An existing private key file is unreadable (delete it to get a new key).
    #[error("{}: {reason} (delete the file to generate a new dev key)", path.display())]
    InvalidKeyFile {
        /// The key file.
        path: PathBuf,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Key generation or export failed.
    #[error("dev key crypto failure: {0}")]
    Crypto(&'static str),
    /// The system clock is before 1970.
    #[error("system clock is before the Unix epoch")]
    Clock,
    /// Serialising the JWKS failed.
    #[error("cannot serialise the JWKS: {0}")]
    Json(#[from] serde_json::Error),
    /// Signing the token failed.
    #[error("cannot sign the token: {0}")]
    Jwt(#[from] jsonwebtoken::errors::Error),
}

/// What to put in a minted token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRequest {
    /// `sub`: the user id.
    pub sub: String,
    /// `bank_ids` claim (always emitted, possibly empty).
    #[serde(default)]
    pub bank_ids: Vec<String>,
    /// `scope` claim, space-separated (omitted when empty).
    #[serde(default)]
    pub scope: String,
    /// Lifetime: `exp` = now + `ttl_seconds`.
    #[serde(default = "default_ttl")]
    pub ttl_seconds: u64,
    /// `iss` claim.
    #[serde(default = "default_issuer")]
    pub issuer: String,
    /// `aud` claim.
    #[serde(default = "default_audience")]
    pub audience: String,
}

fn default_ttl() -> u64 {
    DEFAULT_TTL_SECONDS
}

fn default_issuer() -> String {
    LOCAL_ISSUER.to_owned()
}

fn default_audience() -> String {
    LOCAL_AUDIENCE.to_owned()
}

impl TokenRequest {
    /// A request for `sub` with the local issuer and audience, the default TTL, no scope and
    /// no bank ids.
    pub fn new(sub: impl Into<String>) -> Self {
        Self {
            sub: sub.into(),
            bank_ids: Vec::new(),
            scope: String::new(),
            ttl_seconds: DEFAULT_TTL_SECONDS,
            issuer: default_issuer(),
            audience: default_audience(),
        }
    }
}

/// The local dev signing key.
#[derive(Clone)]
pub struct DevKeys {
    kid: String,
    encoding_key: EncodingKey,
    jwks_json: String,
}

impl std::fmt::Debug for DevKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevKeys")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct PublicJwk {
    kty: String,
    crv: String,
    x: String,
    y: String,
    kid: String,
    alg: String,
    #[serde(rename = "use")]
    use_: String,
}

#[derive(Serialize, Deserialize)]
struct Jwks {
    keys: Vec<PublicJwk>,
}

/// Loads the dev key from `dir`, or creates it (and `dir`) when absent. `jwks.json` is
/// (re)written when missing or not matching the private key; the `kid` it holds is kept.
pub fn load_or_create(dir: &Path) -> Result<DevKeys, DevKeysError> {
    create_private_dir(dir)?;
    let key_path = dir.join(PRIVATE_KEY_FILE);
    let jwks_path = dir.join(JWKS_FILE);

    let pkcs8 = match fs::read_to_string(&key_path) {
        Ok(pem) => pem_decode(&pem).ok_or_else(|| DevKeysError::InvalidKeyFile {
            path: key_path.clone(),
            reason: "not a PKCS#8 PEM private key",
        })?,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            let generated = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                .and_then(|pair| pair.to_pkcs8v1())
                .map_err(|_| DevKeysError::Crypto("cannot generate a P-256 key"))?;
            let der = generated.as_ref().to_vec();
            match write_new_private_file(&key_path, pem_encode(&der).as_bytes()) {
                Ok(()) => der,
                // Another process created it meanwhile: use theirs.
                Err(DevKeysError::Io { source, .. }) if source.kind() == io::ErrorKind::AlreadyExists => {
                    let pem = fs::read_to_string(&key_path).map_err(|source| DevKeysError::Io {
                        path: key_path.clone(),
                        source,
                    })?;
                    pem_decode(&pem).ok_or_else(|| DevKeysError::InvalidKeyFile {
                        path: key_path.clone(),
                        reason: "not a PKCS#8 PEM private key",
                    })?
                }
                Err(error) => return Err(error),
            }
        }
        Err(source) => {
            return Err(DevKeysError::Io { path: key_path, source });
        }
    };

    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8).map_err(|_| {
        DevKeysError::InvalidKeyFile {
            path: key_path.clone(),
            reason: "not a P-256 PKCS#8 private key",
        }
    })?;
    let (x, y) = match pair.public_key().as_ref() {
        [0x04, xy @ ..] if xy.len() == 64 => {
            let (x, y) = xy.split_at(32);
            (URL_SAFE_NO_PAD.encode(x), URL_SAFE_NO_PAD.encode(y))
        }
        _ => return Err(DevKeysError::Crypto("unexpected P-256 public key encoding")),
    };

    let existing: Option<Jwks> = fs::read(&jwks_path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    // Keep the kid only if the file describes this very key; a new key gets a new kid.
    let existing_jwk = existing
        .as_ref()
        .and_then(|jwks| jwks.keys.first())
        .filter(|jwk| jwk.x == x && jwk.y == y && !jwk.kid.is_empty());
    let up_to_date = existing.as_ref().is_some_and(|jwks| jwks.keys.len() == 1)
        && existing_jwk
            .is_some_and(|jwk| jwk.kty == "EC" && jwk.crv == "P-256" && jwk.alg == "ES256" && jwk.use_ == "sig");
    let kid = match existing_jwk {
        Some(jwk) => jwk.kid.clone(),
        None => new_kid()?,
    };
    let jwks = Jwks {
        keys: vec![PublicJwk {
            kty: "EC".to_owned(),
            crv: "P-256".to_owned(),
            x,
            y,
            kid: kid.clone(),
            alg: "ES256".to_owned(),
            use_: "sig".to_owned(),
        }],
    };
    let jwks_json = serde_json::to_string_pretty(&jwks)?;
    if !up_to_date {
        fs::write(&jwks_path, format!("{jwks_json}\n")).map_err(|source| DevKeysError::Io {
            path: jwks_path.clone(),
            source,
        })?;
    }

    Ok(DevKeys {
        kid,
        encoding_key: EncodingKey::from_ec_der(&pkcs8),
        jwks_json,
    })
}

impl DevKeys {
    /// The public JWKS document (what `JWKS_JSON` should hold for the local verifier).
    pub fn jwks_json(&self) -> String {
        self.jwks_json.clone()
    }

    /// The key id put in minted tokens' headers.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Mints an ES256 token with `iss`, `aud`, `sub`, `iat`, `nbf` (= now), `exp`
    /// (= now + ttl), `bank_ids` and, when non-empty, `scope`.
    pub fn mint(&self, request: &TokenRequest) -> Result<String, DevKeysError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|_| DevKeysError::Clock)?
            .as_secs();
        let mut claims = serde_json::json!({
            "iss": request.issuer,
            "aud": request.audience,
            "sub": request.sub,
            "iat": now,
            "nbf": now,
            "exp": now.saturating_add(request.ttl_seconds),
            "bank_ids": request.bank_ids,
        });
        if !request.scope.is_empty()
            && let Some(object) = claims.as_object_mut()
        {
            object.insert("scope".to_owned(), request.scope.clone().into());
        }
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(&header, &claims, &self.encoding_key)?)
    }
}

fn new_kid() -> Result<String, DevKeysError> {
    let mut bytes = [0u8; 16];
    random_fill(&mut bytes).map_err(|_| DevKeysError::Crypto("no randomness for the kid"))?;
    Ok(format!("local-{}", URL_SAFE_NO_PAD.encode(bytes)))
}

fn create_private_dir(dir: &Path) -> Result<(), DevKeysError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|source| DevKeysError::Io {
        path: dir.to_path_buf(),
        source,
    })
}

/// Creates `path` (failing if it exists) with mode 0600 and writes `contents`.
fn write_new_private_file(path: &Path, contents: &[u8]) -> Result<(), DevKeysError> {
    let io_error = |source| DevKeysError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(io_error)?;
    file.write_all(contents).map_err(io_error)?;
    file.sync_all().map_err(io_error)
}

fn pem_encode(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {PEM_LABEL}-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {PEM_LABEL}-----\n"));
    pem
}

fn pem_decode(pem: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {PEM_LABEL}-----");
    let end = format!("-----END {PEM_LABEL}-----");
    let start = pem.find(&begin)? + begin.len();
    let stop = start + pem[start..].find(&end)?;
    let body: String = pem[start..stop].chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD.decode(body).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch_dir(name: &str) -> PathBuf {
        let mut suffix = [0u8; 8];
        let _ = random_fill(&mut suffix);
        std::env::temp_dir().join(format!("dev-keys-{name}-{}", URL_SAFE_NO_PAD.encode(suffix)))
    }

    #[test]
    fn creates_then_reuses_the_key_and_kid() {
        let dir = scratch_dir("reuse").join(".local");
        let first = load_or_create(&dir).expect("create");
        let second = load_or_create(&dir).expect("reload");
        assert_eq!(first.kid(), second.kid());
        assert_eq!(first.jwks_json(), second.jwks_json());
        assert!(first.kid().starts_with("local-"));

        let jwks: serde_json::Value = serde_json::from_str(&first.jwks_json()).expect("json");
        let jwk = &jwks["keys"][0];
        assert_eq!(jwk["kty"], "EC");
        assert_eq!(jwk["crv"], "P-256");
        assert_eq!(jwk["alg"], "ES256");
        assert_eq!(jwk["use"], "sig");
        assert_eq!(jwk["kid"], first.kid());
        assert_eq!(
            URL_SAFE_NO_PAD
                .decode(jwk["x"].as_str().expect("x"))
                .expect("b64")
                .len(),
            32
        );
        let on_disk = fs::read_to_string(dir.join(JWKS_FILE)).expect("jwks file");
        assert_eq!(on_disk.trim_end(), first.jwks_json());

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(dir.join(PRIVATE_KEY_FILE))
                .expect("key file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }

        // A lost jwks.json is rebuilt from the private key (same public key, new kid).
        fs::remove_file(dir.join(JWKS_FILE)).expect("rm");
        let third = load_or_create(&dir).expect("rebuild");
        let jwks3: serde_json::Value = serde_json::from_str(&third.jwks_json()).expect("json");
        assert_eq!(jwks3["keys"][0]["x"], jwk["x"]);
        assert_eq!(jwks3["keys"][0]["y"], jwk["y"]);
        assert_ne!(third.kid(), first.kid());
        assert!(dir.join(JWKS_FILE).exists());

        // A new private key invalidates the old kid.
        fs::remove_file(dir.join(PRIVATE_KEY_FILE)).expect("rm key");
        let fourth = load_or_create(&dir).expect("regenerate");
        assert_ne!(fourth.kid(), third.kid());

        let _ = fs::remove_dir_all(dir.parent().unwrap_or(&dir));
    }

    #[test]
    fn corrupt_key_file_is_an_error() {
        let dir = scratch_dir("corrupt");
        fs::create_dir_all(&dir).expect("mkdir");
        fs::write(dir.join(PRIVATE_KEY_FILE), "garbage").expect("write");
        let error = load_or_create(&dir).expect_err("must fail");
        assert!(error.to_string().contains(PRIVATE_KEY_FILE), "{error}");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn minted_token_has_the_requested_claims() {
        let dir = scratch_dir("mint");
        let keys = load_or_create(&dir).expect("create");
        let mut request = TokenRequest::new("user-1");
        request.bank_ids = vec!["bank-a".into()];
        request.scope = "customers:read".into();
        request.ttl_seconds = 120;
        let token = keys.mint(&request).expect("mint");
        let header = jsonwebtoken::decode_header(&token).expect("header");
        assert_eq!(header.alg, Algorithm::ES256);
        assert_eq!(header.kid.as_deref(), Some(keys.kid()));
        let claims: serde_json::Value = jsonwebtoken::dangerous::insecure_decode_claims(&token).expect("claims");
        assert_eq!(claims["iss"], LOCAL_ISSUER);
        assert_eq!(claims["aud"], LOCAL_AUDIENCE);
        assert_eq!(claims["sub"], "user-1");
        assert_eq!(claims["scope"], "customers:read");
        assert_eq!(claims["bank_ids"], serde_json::json!(["bank-a"]));
        let iat = claims["iat"].as_u64().expect("iat");
        assert_eq!(claims["nbf"].as_u64(), Some(iat));
        assert_eq!(claims["exp"].as_u64(), Some(iat + 120));
        let _ = fs::remove_dir_all(&dir);
    }
}
