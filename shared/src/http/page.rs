//! Pagination: `limit` and opaque, tamper-proof `page_token`s.
//!
//! A token is `base64url(payload) "." base64url(HMAC-SHA256(payload))`. The payload holds the list's
//! scope (which bank, customer and ordering it belongs to, and the user it was given to) and DynamoDB's
//! LastEvaluatedKey, so a token that is edited, forged, replayed against another list or by another
//! user is a 400, never another tenant's data.

use crate::domain::ids::UserId;
use crate::http::body::QueryParams;
use crate::http::caller::Granted;
use crate::http::error::ApiError;
use crate::store::page::Key;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ring::hmac;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Shortest accepted secret: 256 bits.
pub const MIN_SECRET_BYTES: usize = 32;

/// The keys of page tokens: the current one signs; it and, during a rotation, the previous one
/// verify, so that a token issued just before the rotation still continues its list.
#[derive(Clone)]
pub struct PageTokens {
    key: hmac::Key,
    previous: Option<hmac::Key>,
}

#[derive(Serialize, Deserialize)]
struct Payload {
    /// The list this token continues.
    s: String,
    /// LastEvaluatedKey: every key attribute of the table and its indexes is a string.
    k: BTreeMap<String, String>,
}

impl PageTokens {
    pub fn new(secret: &[u8]) -> Result<Self, String> {
        Self::rotating(secret, None)
    }

    /// The current secret, and the previous one while a rotation is under way.
    pub fn rotating(current: &[u8], previous: Option<&[u8]>) -> Result<Self, String> {
        let key = |secret: &[u8]| {
            if secret.len() < MIN_SECRET_BYTES {
                Err(format!(
                    "the page token secret must be at least {MIN_SECRET_BYTES} bytes"
                ))
            } else {
                Ok(hmac::Key::new(hmac::HMAC_SHA256, secret))
            }
        };
        Ok(Self {
            key: key(current)?,
            previous: previous.map(key).transpose()?,
        })
    }

    pub fn encode(&self, scope: &str, last_key: &Key) -> Result<String, ApiError> {
        let k = last_key
            .iter()
            .map(|(name, value)| match value {
                AttributeValue::S(s) => Ok((name.clone(), s.clone())),
                _ => Err(ApiError::Internal(format!("non-string key attribute {name}"))),
            })
            .collect::<Result<_, _>>()?;
        let payload =
            serde_json::to_vec(&Payload { s: scope.to_owned(), k }).map_err(|e| ApiError::Internal(e.to_string()))?;
        let tag = hmac::sign(&self.key, &payload);
        Ok(format!("{}.{}", B64.encode(&payload), B64.encode(tag.as_ref())))
    }

    pub fn decode(&self, scope: &str, token: &str) -> Result<Key, ApiError> {
        let invalid = || ApiError::field("page_token", "is not a valid page token for this list");
        let (payload, tag) = token.split_once('.').ok_or_else(invalid)?;
        let payload = B64.decode(payload).map_err(|_| invalid())?;
        let tag = B64.decode(tag).map_err(|_| invalid())?;
        let signed = |key: &hmac::Key| hmac::verify(key, &payload, &tag).is_ok();
        if !signed(&self.key) && !self.previous.as_ref().is_some_and(signed) {
            return Err(invalid());
        }
        let payload: Payload = serde_json::from_slice(&payload).map_err(|_| invalid())?;
        if payload.s != scope {
            return Err(invalid());
        }
        Ok(payload
            .k
            .into_iter()
            .map(|(name, value)| (name, AttributeValue::S(value)))
            .collect())
    }
}

/// What a list request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub default: i64,
    pub max: i64,
}

/// The API's lists: 20 by default, 100 at most.
pub const LIST_LIMITS: Limits = Limits { default: 20, max: 100 };

/// The page a list request asks for: its size and where it starts.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub limit: i32,
    pub start: Option<Key>,
}

impl PageTokens {
    /// A list request, read only once a permission check has passed (see [`ListQuery::request`]).
    pub fn list<'a>(&'a self, query: &'a QueryParams, scope: String, limits: Limits) -> ListQuery<'a> {
        ListQuery {
            tokens: self,
            query,
            scope,
            limits,
            bound: OnceLock::new(),
        }
    }
}

/// A list's `limit` and `page_token`, not yet read, and the scope its tokens are bound to.
pub struct ListQuery<'a> {
    tokens: &'a PageTokens,
    query: &'a QueryParams,
    scope: String,
    limits: Limits,
    /// The scope and the user the list was granted to, set by [`ListQuery::request`]: the binding
    /// to the user comes with the permission check itself, so no route can leave it out.
    bound: OnceLock<String>,
}

/// The scope of a list as given to `user`. A user id never holds `#` (C-ID-7), so what follows the
/// last `#` is the user and no other pair of scope and user gives the same string.
fn bound_scope(scope: &str, user: &UserId) -> String {
    format!("{scope}#{user}")
}

impl ListQuery<'_> {
    /// Reads `limit` (within the limits) and `page_token` (bound to the scope and to the user the
    /// list was granted to). It takes the proof of a passed permission check, so no route can
    /// answer 400 before 403.
    pub fn request(&self, granted: &Granted) -> Result<PageRequest, ApiError> {
        let scope = self.bound.get_or_init(|| bound_scope(&self.scope, granted.user()));
        let limit = self
            .query
            .int("limit", 1..=self.limits.max)?
            .unwrap_or(self.limits.default) as i32;
        let start = self
            .query
            .get("page_token")
            .map(|t| self.tokens.decode(scope, t))
            .transpose()?;
        Ok(PageRequest { limit, start })
    }

    /// The `next_page_token` of a page, if there is a next one: bound as the request was (a page
    /// is only ever read after [`ListQuery::request`]).
    pub fn next_token(&self, next: Option<&Key>) -> Result<Option<String>, ApiError> {
        let Some(next) = next else {
            return Ok(None);
        };
        let scope = self
            .bound
            .get()
            .ok_or_else(|| ApiError::Internal("a page token asked for before the list's request".into()))?;
        self.tokens.encode(scope, next).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn key() -> Key {
        HashMap::from([
            ("pk".to_owned(), AttributeValue::S("CUSTOMER#1".into())),
            ("sk".to_owned(), AttributeValue::S("CUSTOMER".into())),
        ])
    }

    #[test]
    fn round_trip() {
        let t = PageTokens::new(&[7; 32]).unwrap();
        let token = t.encode("firehose/b1", &key()).unwrap();
        assert_eq!(t.decode("firehose/b1", &token).unwrap(), key());
    }

    #[test]
    fn rejects_tampering_replay_and_forgery() {
        let t = PageTokens::new(&[7; 32]).unwrap();
        let token = t.encode("firehose/b1", &key()).unwrap();
        assert!(
            t.decode("firehose/b2", &token).is_err(),
            "replayed against another bank"
        );
        let (payload, tag) = token.split_once('.').unwrap();
        let mut bytes = B64.decode(payload).unwrap();
        let i = bytes.iter().position(|b| *b == b'1').unwrap();
        bytes[i] = b'2';
        let edited = format!("{}.{tag}", B64.encode(&bytes));
        assert!(t.decode("firehose/b1", &edited).is_err(), "edited");
        let other = PageTokens::new(&[8; 32])
            .unwrap()
            .encode("firehose/b1", &key())
            .unwrap();
        assert!(t.decode("firehose/b1", &other).is_err(), "signed with another secret");
        for junk in ["", ".", "abc", "a.b", "%%%.%%%"] {
            assert!(t.decode("firehose/b1", junk).is_err(), "{junk}");
        }
    }

    /// The query of a list request.
    async fn query(uri: &str) -> QueryParams {
        use axum::extract::FromRequestParts;
        let (mut parts, ()) = axum::http::Request::builder().uri(uri).body(()).unwrap().into_parts();
        QueryParams::from_request_parts(&mut parts, &()).await.unwrap()
    }

    fn user(id: &str) -> UserId {
        UserId::parse(id).unwrap()
    }

    // contract: C-PAGE-2
    #[tokio::test]
    async fn a_list_token_continues_the_list_only_for_the_user_it_was_given_to() {
        let t = PageTokens::new(&[7; 32]).unwrap();
        let first = query("/list").await;
        let list = t.list(&first, "history/b1/c1".into(), LIST_LIMITS);
        list.request(&Granted::new(&user("ada"))).unwrap();
        let token = list.next_token(Some(&key())).unwrap().expect("a token");

        let next = query(&format!("/list?page_token={token}")).await;
        let again = |who: &str| {
            t.list(&next, "history/b1/c1".into(), LIST_LIMITS)
                .request(&Granted::new(&user(who)))
                .map(|r| r.start)
        };
        assert_eq!(again("ada").unwrap(), Some(key()));
        match again("bob") {
            Err(ApiError::Invalid(errors)) => assert_eq!(errors[0].field, "page_token"),
            other => panic!("another user's replay: {other:?}"),
        }
    }

    #[tokio::test]
    async fn no_token_is_issued_for_a_list_not_yet_granted() {
        let t = PageTokens::new(&[7; 32]).unwrap();
        let q = query("/list").await;
        let list = t.list(&q, "s".into(), LIST_LIMITS);
        assert_eq!(list.next_token(None).unwrap(), None, "a last page needs no binding");
        assert!(matches!(list.next_token(Some(&key())), Err(ApiError::Internal(_))));
    }

    #[test]
    fn short_secret_is_refused() {
        assert!(PageTokens::new(&[1; 31]).is_err());
        assert!(PageTokens::rotating(&[1; 32], Some(&[2; 31])).is_err());
    }

    #[test]
    fn during_a_rotation_both_keys_verify_and_the_current_one_signs() {
        let (old, new) = ([1u8; 32], [2u8; 32]);
        let before = PageTokens::new(&old).unwrap();
        let during = PageTokens::rotating(&new, Some(&old)).unwrap();
        let after = PageTokens::new(&new).unwrap();
        let issued_before = before.encode("s", &key()).unwrap();
        assert_eq!(during.decode("s", &issued_before).unwrap(), key());
        let issued_during = during.encode("s", &key()).unwrap();
        assert_eq!(after.decode("s", &issued_during).unwrap(), key());
        assert!(
            after.decode("s", &issued_before).is_err(),
            "the retired key no longer verifies"
        );
    }
}
