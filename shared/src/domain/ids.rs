//! Identifiers. Ids the caller names (bank, user, branch, customer number) are restricted to a safe
//! alphabet so that no separator (`#`) can ever reach a DynamoDB key; ids the server creates are UUIDv7.

use serde::{Deserialize, Serialize};
use std::fmt;

/// `^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`
pub fn is_named_id(s: &str) -> bool {
    let bytes = s.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 64
        && bytes[0].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

const NAMED_ID_RULE: &str = "must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$";

macro_rules! named_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn parse(s: &str) -> Result<Self, &'static str> {
                if is_named_id(s) { Ok(Self(s.to_owned())) } else { Err(NAMED_ID_RULE) }
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

named_id!(
    /// A bank, as named by the caller and the token's `bank_ids`.
    BankId
);
named_id!(
    /// A customer number, unique within a bank.
    CustomerNumber
);
/// Fills `bytes` from the system's secure random source; false if it failed.
pub fn random(bytes: &mut [u8]) -> bool {
    use ring::rand::{SecureRandom, SystemRandom};
    SystemRandom::new().fill(bytes).is_ok()
}

impl CustomerNumber {
    /// Whether two spellings are one number: numbers are unique per bank without regard to case
    /// (the number item's key is case-folded the same way, in `keys::customer_number`).
    pub fn is_same(&self, other: &str) -> bool {
        self.0.eq_ignore_ascii_case(other)
    }

    /// A random 12-digit number for a customer created without one.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 8];
        // The system RNG does not fail on supported platforms; the clock is a fallback.
        if !random(&mut bytes) {
            bytes = uuid::Uuid::now_v7().as_bytes()[8..].try_into().unwrap_or_default();
        }
        Self(format!("{:012}", u64::from_le_bytes(bytes) % 1_000_000_000_000))
    }
}

named_id!(
    /// A branch of a bank.
    BranchId
);

/// A user: the token's `sub`. Wider than a named id (identity providers use `|`, `@`...), but
/// printable ASCII without spaces and never `#`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(String);

impl UserId {
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        let ok = !s.is_empty() && s.len() <= 255 && s.bytes().all(|b| b.is_ascii_graphic() && b != b'#');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err("must be 1 to 255 printable ASCII characters without spaces or '#'")
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! server_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(uuid::Uuid);

        impl $name {
            /// A new, time-ordered id: lists sorted by id are in creation order.
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7())
            }
            pub fn parse(s: &str) -> Result<Self, &'static str> {
                // Only the canonical hyphenated form, so one id has one spelling in keys.
                match uuid::Uuid::try_parse(s) {
                    Ok(id) if s.len() == 36 && id.hyphenated().to_string() == s.to_ascii_lowercase() => {
                        Ok(Self(id))
                    }
                    _ => Err("must be a UUID (8-4-4-4-12 hexadecimal digits)"),
                }
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }
    };
}

server_id!(CustomerId);
server_id!(UserCustomerLinkId);

impl CustomerId {
    /// The id of a customer that must be created at most once for `seed` (a bulk import's line):
    /// every attempt at that line names the same customer.
    pub fn derived(seed: &[u8]) -> Self {
        Self(derived(seed))
    }
}

/// A UUIDv8 of the seed's SHA-256: the same seed always gives the same id.
fn derived(seed: &[u8]) -> uuid::Uuid {
    let digest = ring::digest::digest(&ring::digest::SHA256, seed);
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest.as_ref()[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

server_id!(
    /// A change of the history, named by the table's stream record it was made from.
    ChangeId
);

impl ChangeId {
    /// The change made from the stream record with this sequence number: a redelivered record
    /// names the same change.
    pub fn of_sequence_number(sequence: &str) -> Self {
        Self(derived(format!("change\n{sequence}").as_bytes()))
    }
}
server_id!(CustomerAddressId);
server_id!(SocialMediaHandleId);
server_id!(TaxResidenceId);
server_id!(CreditLimitOrderId);
server_id!(CrmEventId);

#[cfg(test)]
mod tests {
    use super::*;

    // contract: C-ID-4
    #[test]
    fn named_ids() {
        for ok in ["b", "bank-1", "B.2:x_y", &"a".repeat(64)] {
            assert!(BankId::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", "a#b", "a/b", "a b", "ä", "..", &"a".repeat(65)] {
            assert!(BankId::parse(bad).is_err(), "{bad}");
        }
    }

    // contract: C-ID-7
    #[test]
    fn user_ids() {
        assert!(UserId::parse("auth0|abc@x").is_ok());
        for bad in ["", "a b", "a#b", &"u".repeat(256)] {
            assert!(UserId::parse(bad).is_err(), "{bad}");
        }
    }

    // contract: C-ID-2
    #[test]
    fn server_ids_are_canonical_uuids() {
        let id = CustomerId::new();
        assert_eq!(CustomerId::parse(&id.to_string()), Ok(id));
        assert_eq!(CustomerId::parse(&id.to_string().to_uppercase()), Ok(id));
        for bad in [
            "",
            "x",
            "abc#",
            "0190f0f0f0f0f0f0f0f0f0f0f0f0f0f0",
            "{0190f0f0-f0f0-7f0f-8f0f-f0f0f0f0f0f0}",
        ] {
            assert!(CustomerId::parse(bad).is_err(), "{bad}");
        }
    }

    // contract: C-ID-1
    #[test]
    fn server_ids_sort_by_creation() {
        let ids: Vec<CustomerId> = (0..100).map(|_| CustomerId::new()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }
}
