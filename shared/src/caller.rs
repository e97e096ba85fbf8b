//! Who is calling: built from the authorizer's context, with API.md's permission rules.

use crate::error::ApiError;
use crate::ids::{BankId, UserId};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use lambda_http::request::RequestContext;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Read,
    Write,
    Firehose,
}

impl Scope {
    pub fn name(self) -> &'static str {
        match self {
            Scope::Read => "customer.read",
            Scope::Write => "customer.write",
            Scope::Firehose => "customer.firehose",
        }
    }

    /// The short name, or the upstream's URL form of read and write.
    fn parse(s: &str) -> Option<Self> {
        match s {
            "customer.read" | "https://auth.bnk.to/customer.read" => Some(Scope::Read),
            "customer.write" | "https://auth.bnk.to/customer.write" => Some(Scope::Write),
            "customer.firehose" => Some(Scope::Firehose),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: UserId,
    scopes: Vec<Scope>,
    bank_ids: Vec<BankId>,
}

/// The authorizer context keys, shared with the authorizer that writes them.
pub const CONTEXT_USER_ID: &str = "user_id";
pub const CONTEXT_SCOPE: &str = "scope";
pub const CONTEXT_BANK_IDS: &str = "bank_ids";

impl Caller {
    /// From the context strings: `scope` and `bank_ids` are space-separated.
    pub fn from_context(user_id: &str, scope: &str, bank_ids: &str) -> Result<Self, ApiError> {
        let user_id = UserId::parse(user_id).map_err(|_| ApiError::Unauthorized)?;
        let scopes = scope.split_whitespace().filter_map(Scope::parse).collect();
        let bank_ids = bank_ids
            .split_whitespace()
            .map(BankId::parse)
            .collect::<Result<_, _>>()
            .map_err(|_| ApiError::Unauthorized)?;
        Ok(Self {
            user_id,
            scopes,
            bank_ids,
        })
    }

    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }

    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.has(scope) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(match scope {
                Scope::Read => "the token lacks the customer.read scope",
                Scope::Write => "the token lacks the customer.write scope",
                Scope::Firehose => "the token lacks the customer.firehose scope",
            }))
        }
    }

    /// Staff of a bank may read and write all of its customers.
    pub fn is_staff(&self, bank: &BankId) -> bool {
        self.bank_ids.contains(bank)
    }

    pub fn require_staff(&self, bank: &BankId) -> Result<(), ApiError> {
        if self.is_staff(bank) {
            Ok(())
        } else {
            Err(ApiError::Forbidden("the caller is not staff of this bank"))
        }
    }

    /// Scope and staff together: what every write under a bank needs.
    pub fn require_write(&self, bank: &BankId) -> Result<(), ApiError> {
        self.require(Scope::Write)?;
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
        Caller::from_context(field(CONTEXT_USER_ID), field(CONTEXT_SCOPE), field(CONTEXT_BANK_IDS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_and_banks() {
        let c = Caller::from_context("u1", "customer.read https://auth.bnk.to/customer.write other", "b1 b2").unwrap();
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
            Caller::from_context("", "customer.read", ""),
            Err(ApiError::Unauthorized)
        ));
        assert!(matches!(
            Caller::from_context("u", "customer.read", "b#1"),
            Err(ApiError::Unauthorized)
        ));
    }
}
