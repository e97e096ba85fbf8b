//! The seed's `Timestamp`: `{"seconds": <int64>, "nanos": <int32>}` on the wire and in storage.
//! On input it also accepts seconds as a numeric string, an RFC 3339 string or a `YYYY-MM-DD` date.

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, UtcOffset};

/// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the range RFC 3339 can spell.
const MIN_SECONDS: i64 = -62_135_596_800;
const MAX_SECONDS: i64 = 253_402_300_799;
const MAX_NANOS: i64 = 999_999_999;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timestamp {
    pub seconds: i64,
    pub nanos: i32,
}

impl Timestamp {
    pub fn now() -> Self {
        Self::from_datetime(OffsetDateTime::now_utc())
    }

    pub fn from_datetime(dt: OffsetDateTime) -> Self {
        Self {
            seconds: dt.unix_timestamp(),
            nanos: dt.nanosecond() as i32,
        }
    }

    fn checked(seconds: i64, nanos: i64) -> Result<Self, String> {
        if !(MIN_SECONDS..=MAX_SECONDS).contains(&seconds) {
            return Err("seconds must be between 0001-01-01 and 9999-12-31".into());
        }
        if !(0..=MAX_NANOS).contains(&nanos) {
            return Err("nanos must be between 0 and 999999999".into());
        }
        Ok(Self {
            seconds,
            nanos: nanos as i32,
        })
    }

    /// An RFC 3339 date-time or a `YYYY-MM-DD` date (midnight UTC).
    pub fn parse(s: &str) -> Result<Self, String> {
        const RULE: &str = "must be an RFC 3339 date-time like 1990-05-17T00:00:00Z or a date like 1990-05-17";
        if let Ok(dt) = OffsetDateTime::parse(s, &Rfc3339) {
            // An offset can move 0000-01-01 or 9999-12-31 out of the range that round-trips.
            let t = Self::from_datetime(dt);
            return Self::checked(t.seconds, i64::from(t.nanos));
        }
        let format = time::macros::format_description!("[year]-[month]-[day]");
        match Date::parse(s, &format) {
            // The same range as every other form: `0000-01-01` is a valid `Date` but not in range.
            Ok(date) => {
                let t = Self::from_datetime(date.midnight().assume_utc());
                Self::checked(t.seconds, 0)
            }
            Err(_) => Err(RULE.into()),
        }
    }

    pub fn to_datetime(self) -> OffsetDateTime {
        // In range by construction (checked or from a real clock).
        OffsetDateTime::from_unix_timestamp_nanos(self.seconds as i128 * 1_000_000_000 + self.nanos as i128)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// As RFC 3339, for messages (the seconds since the epoch should it not format).
    pub fn rfc3339(self) -> String {
        self.to_datetime()
            .format(&Rfc3339)
            .unwrap_or_else(|_| self.seconds.to_string())
    }

    /// Fixed-width UTC form (`2026-11-24T03:33:09.123456789Z`) whose byte order is time order:
    /// used in sort keys.
    pub fn sortable(self) -> String {
        let dt = self.to_datetime().to_offset(UtcOffset::UTC);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z",
            dt.year(),
            dt.month() as u8,
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second(),
            dt.nanosecond()
        )
    }
}

/// A timestamp as a client may send it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimestampInput(pub Timestamp);

impl<'de> Deserialize<'de> for TimestampInput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TimestampVisitor)
    }
}

struct TimestampVisitor;

impl<'de> Visitor<'de> for TimestampVisitor {
    type Value = TimestampInput;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(r#"a timestamp: {"seconds": <int64>, "nanos": <int32>} or an RFC 3339 string"#)
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Timestamp::parse(s).map(TimestampInput).map_err(E::custom)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut seconds = None;
        let mut nanos = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                // A repeated member is refused, as duplicate keys are everywhere else.
                "seconds" if seconds.is_some() => return Err(de::Error::custom("duplicate field `seconds`")),
                "nanos" if nanos.is_some() => return Err(de::Error::custom("duplicate field `nanos`")),
                "seconds" => seconds = Some(map.next_value::<Integer>()?.0),
                "nanos" => nanos = Some(map.next_value::<Integer>()?.0),
                other => {
                    return Err(de::Error::custom(format!(
                        "unknown field `{other}`, expected `seconds` or `nanos`"
                    )));
                }
            }
        }
        let seconds = seconds.ok_or_else(|| de::Error::custom("missing field `seconds`"))?;
        Timestamp::checked(seconds, nanos.unwrap_or(0))
            .map(TimestampInput)
            .map_err(de::Error::custom)
    }
}

/// An integer sent as a JSON number or a numeric string (protobuf's JSON form of int64).
struct Integer(i64);

impl<'de> Deserialize<'de> for Integer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Integer;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer (a number or a numeric string)")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Integer, E> {
                Ok(Integer(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Integer, E> {
                i64::try_from(v)
                    .map(Integer)
                    .map_err(|_| E::custom("integer out of range"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Integer, E> {
                v.parse::<i64>()
                    .map(Integer)
                    .map_err(|_| E::custom(format!("expected an integer, found the string {:?}", truncate(v))))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// Echo at most a few characters of client input in messages.
pub(crate) fn truncate(s: &str) -> String {
    s.chars().take(32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Timestamp, String> {
        serde_json::from_str::<TimestampInput>(json)
            .map(|t| t.0)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn accepts_both_forms() {
        let t = Timestamp {
            seconds: 643_593_600,
            nanos: 0,
        };
        assert_eq!(parse(r#"{"seconds": 643593600, "nanos": 0}"#), Ok(t));
        assert_eq!(parse(r#"{"seconds": "643593600"}"#), Ok(t));
        assert_eq!(parse(r#""1990-05-25T00:00:00Z""#), Ok(t));
        assert_eq!(parse(r#""1990-05-25""#), Ok(t));
        assert_eq!(parse(r#""1990-05-25T02:00:00+02:00""#), Ok(t));
        // Both ends of the one range, in every form.
        let first = Timestamp {
            seconds: MIN_SECONDS,
            nanos: 0,
        };
        assert_eq!(parse(r#""0001-01-01""#), Ok(first));
        assert_eq!(parse(r#""0001-01-01T00:00:00Z""#), Ok(first));
        assert_eq!(parse(&format!(r#"{{"seconds": {MIN_SECONDS}}}"#)), Ok(first));
        let last = Timestamp {
            seconds: MAX_SECONDS,
            nanos: 0,
        };
        assert_eq!(parse(r#""9999-12-31T23:59:59Z""#), Ok(last));
        assert_eq!(parse(&format!(r#"{{"seconds": {MAX_SECONDS}}}"#)), Ok(last));
        assert_eq!(
            parse(r#"{"seconds": 1, "nanos": 999999999}"#),
            Ok(Timestamp {
                seconds: 1,
                nanos: 999_999_999
            })
        );
    }

    // contract: C-TIME-1, C-TIME-2
    #[test]
    fn rejects_bad_values() {
        for bad in [
            r#"{"seconds": "int64", "nanos": "int32"}"#,
            r#"{"seconds": 1, "nanos": -1}"#,
            r#"{"seconds": 1, "nanos": 1000000000}"#,
            r#"{"seconds": 1.5}"#,
            r#"{"nanos": 1}"#,
            r#"{"seconds": 1, "extra": 1}"#,
            r#"{"seconds": 99999999999999999999}"#,
            r#"{"seconds": 253402300800}"#,
            r#""yesterday""#,
            r#""1990-13-01""#,
            r#""9999-12-31T23:59:59-23:59""#,
            r#""0000-01-01T00:00:00+23:59""#,
            r#""0000-01-01T00:00:00Z""#,
            r#""0000-01-01""#,
            r#""10000-01-01""#,
            r#"{"seconds": 1, "seconds": 2}"#,
            r#"{"seconds": 1, "nanos": 0, "nanos": 0}"#,
            "true",
            "[]",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sortable_is_fixed_width_and_ordered() {
        let a = Timestamp { seconds: 0, nanos: 5 }.sortable();
        let b = Timestamp {
            seconds: 1_800_000_000,
            nanos: 0,
        }
        .sortable();
        assert_eq!(a, "1970-01-01T00:00:00.000000005Z");
        assert_eq!(a.len(), b.len());
        assert!(a < b);
    }
}
