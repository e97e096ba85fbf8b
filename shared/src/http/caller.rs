//! Who is calling: built from the authorizer's context, with the permission rules of docs/contract.md.

use crate::domain::audit::Audit;
use crate::domain::ids::{BankId, UserId};
use crate::http::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use lambda_http::request::RequestContext;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Read,
    Write,
    Firehose,
    /// Decide credit limit orders (the checker of four eyes).
    Approve,
}

impl Scope {
    pub fn name(self) -> &'static str {
        match self {
            Scope::Read => "customer.read",
            Scope::Write => "customer.write",
            Scope::Firehose => "customer.firehose",
            Scope::Approve => "customer.approve",
        }
    }

    /// The short name, or the upstream's URL form of read and write.
    fn parse(s: &str) -> Option<Self> {
        match s {
            "customer.read" | "https://auth.bnk.to/customer.read" => Some(Scope::Read),
            "customer.write" | "https://auth.bnk.to/customer.write" => Some(Scope::Write),
            "customer.firehose" => Some(Scope::Firehose),
            "customer.approve" => Some(Scope::Approve),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: UserId,
    scopes: Vec<Scope>,
    bank_ids: Vec<BankId>,
    /// API Gateway's id of the request, which the caller's writes record.
    request_id: String,
}

/// The authorizer context keys, shared with the authorizer that writes them.
pub const CONTEXT_USER_ID: &str = "user_id";
pub const CONTEXT_SCOPE: &str = "scope";
pub const CONTEXT_BANK_IDS: &str = "bank_ids";
pub const CONTEXT_EXP: &str = "exp";

/// Clock skew tolerated on a token's `exp` (and `nbf`), here and in the authorizer.
pub const LEEWAY_SECS: i64 = 60;

/// The authorizer context's strings, as API Gateway hands them on.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    pub user_id: &'a str,
    /// Scopes separated by ASCII spaces (RFC 6749): no other white space separates them.
    pub scope: &'a str,
    /// Bank ids separated by ASCII spaces.
    pub bank_ids: &'a str,
    /// The token's `exp`, in seconds since the epoch.
    pub exp: &'a str,
}

/// Proof that a permission check passed, and for whom: what a list needs before it reads its
/// `limit` and `page_token`, so that a caller without access learns nothing from their validation
/// (403 before 400 on every list, by construction), and the user its page tokens are bound to.
#[derive(Debug)]
pub struct Granted(UserId);

impl Granted {
    pub(crate) fn new(user: &UserId) -> Self {
        Self(user.clone())
    }

    /// The user the check passed for.
    pub fn user(&self) -> &UserId {
        &self.0
    }
}

/// The words of a context string: ASCII spaces separate them, nothing else does.
fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split(' ').filter(|w| !w.is_empty())
}

impl Caller {
    /// From the authorizer's context at `now` (seconds since the epoch). API Gateway may answer
    /// from a cached Allow for up to `ReauthorizeEvery` seconds: the token's `exp` is checked
    /// here again, so an expired token is refused whatever the cache holds.
    pub fn from_context(context: Context<'_>, now: i64) -> Result<Self, ApiError> {
        let exp = context.exp.parse::<i64>().map_err(|_| ApiError::Unauthorized)?;
        if now > exp.saturating_add(LEEWAY_SECS) {
            return Err(ApiError::Unauthorized);
        }
        let user_id = UserId::parse(context.user_id).map_err(|_| ApiError::Unauthorized)?;
        let scopes = words(context.scope).filter_map(Scope::parse).collect();
        let bank_ids = words(context.bank_ids)
            .map(BankId::parse)
            .collect::<Result<_, _>>()
            .map_err(|_| ApiError::Unauthorized)?;
        Ok(Self {
            user_id,
            scopes,
            bank_ids,
            request_id: String::new(),
        })
    }

    /// The audit of a write made now by this caller in this request.
    pub fn audit(&self) -> Audit {
        Audit::new(self.user_id.clone(), self.request_id.clone())
    }

    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }

    pub fn require(&self, scope: Scope) -> Result<Granted, ApiError> {
        if self.has(scope) {
            Ok(Granted::new(&self.user_id))
        } else {
            Err(ApiError::Forbidden(match scope {
                Scope::Read => "the token lacks the customer.read scope",
                Scope::Write => "the token lacks the customer.write scope",
                Scope::Firehose => "the token lacks the customer.firehose scope",
                Scope::Approve => "the token lacks the customer.approve scope",
            }))
        }
    }

    /// Staff of a bank may read and write all of its customers.
    pub fn is_staff(&self, bank: &BankId) -> bool {
        self.bank_ids.contains(bank)
    }

    pub fn require_staff(&self, bank: &BankId) -> Result<Granted, ApiError> {
        if self.is_staff(bank) {
            Ok(Granted::new(&self.user_id))
        } else {
            Err(ApiError::Forbidden("the caller is not staff of this bank"))
        }
    }

    /// Scope and staff together: what every write under a bank needs.
    pub fn require_write(&self, bank: &BankId) -> Result<Granted, ApiError> {
        self.require(Scope::Write)?;
        self.require_staff(bank)
    }

    /// Scope and staff for deciding what another member of staff requested.
    pub fn require_approve(&self, bank: &BankId) -> Result<Granted, ApiError> {
        self.require(Scope::Approve)?;
        self.require_staff(bank)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let Some(RequestContext::ApiGatewayV1(ctx)) = parts.extensions.get::<RequestContext>() else {
            return Err(ApiError::Unauthorized);
        };
        let field = |name: &str| {
            ctx.authorizer
                .fields
                .get(name)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
        };
        let context = Context {
            user_id: field(CONTEXT_USER_ID),
            scope: field(CONTEXT_SCOPE),
            bank_ids: field(CONTEXT_BANK_IDS),
            exp: field(CONTEXT_EXP),
        };
        let caller = Caller::from_context(context, time::OffsetDateTime::now_utc().unix_timestamp())?;
        Ok(Caller {
            request_id: ctx.request_id.clone().unwrap_or_default(),
            ..caller
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn caller(user_id: &str, scope: &str, bank_ids: &str, exp: i64) -> Result<Caller, ApiError> {
        let exp = exp.to_string();
        let context = Context {
            user_id,
            scope,
            bank_ids,
            exp: &exp,
        };
        Caller::from_context(context, NOW)
    }

    #[test]
    fn scopes_and_banks() {
        let c = caller(
            "u1",
            "customer.read https://auth.bnk.to/customer.write other",
            "b1 b2",
            NOW,
        )
        .unwrap();
        assert!(c.has(Scope::Read) && c.has(Scope::Write) && !c.has(Scope::Firehose));
        let b1 = BankId::parse("b1").unwrap();
        let b3 = BankId::parse("b3").unwrap();
        assert!(c.is_staff(&b1) && !c.is_staff(&b3));
        assert!(c.require_write(&b1).is_ok());
        assert!(matches!(c.require_write(&b3), Err(ApiError::Forbidden(_))));
        assert!(matches!(c.require(Scope::Firehose), Err(ApiError::Forbidden(_))));
    }

    #[test]
    fn bad_context_is_unauthorized() {
        assert!(matches!(
            caller("", "customer.read", "", NOW),
            Err(ApiError::Unauthorized)
        ));
        assert!(matches!(
            caller("u", "customer.read", "b#1", NOW),
            Err(ApiError::Unauthorized)
        ));
        let no_exp = Context {
            user_id: "u",
            scope: "customer.read",
            ..Context::default()
        };
        assert!(matches!(Caller::from_context(no_exp, NOW), Err(ApiError::Unauthorized)));
    }

    // contract: C-AUTH-3
    #[test]
    fn an_expired_token_is_refused_whatever_the_cache_holds() {
        assert!(caller("u", "customer.read", "", NOW - LEEWAY_SECS).is_ok());
        assert!(matches!(
            caller("u", "customer.read", "", NOW - LEEWAY_SECS - 1),
            Err(ApiError::Unauthorized)
        ));
    }

    // contract: C-AUTH-5
    #[test]
    fn scopes_split_on_the_ascii_space_only() {
        let c = caller("u", "customer.write\u{a0}customer.read", "", NOW).unwrap();
        assert!(!c.has(Scope::Read) && !c.has(Scope::Write));
        let c = caller("u", "customer.write\tcustomer.read", "", NOW).unwrap();
        assert!(!c.has(Scope::Read) && !c.has(Scope::Write));
        assert!(caller("u", "customer.read", "b1\u{a0}b2", NOW).is_err());
    }
}
