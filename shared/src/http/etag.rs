//! ETags and `If-Match`: an item's version as a strong validator, and the versions a conditional
//! write accepts.

use crate::http::error::ApiError;
use crate::store::Versions;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};

/// `"<version>"`: a strong validator of a versioned item.
pub fn etag_text(version: u64) -> String {
    format!("\"{version}\"")
}

pub fn etag(version: u64) -> (HeaderName, HeaderValue) {
    // Digits and quotes are always a valid header value.
    let value = HeaderValue::try_from(etag_text(version)).unwrap_or(HeaderValue::from_static("\"0\""));
    (header::ETAG, value)
}

/// Most entity tags one `If-Match` may list.
const MAX_IF_MATCH_TAGS: usize = 20;

/// The versions an `If-Match` header accepts (RFC 9110, 13.1.1): `None` without the header or for
/// `*` (every write needs an existing item anyway). Comparison is strong: a weak tag (`W/"3"`) or
/// one this API never issued matches nothing, so the write is refused with 412. Several header
/// lines are one list; a value that is not an entity-tag list is 400.
pub fn if_match(headers: &HeaderMap) -> Result<Option<Versions>, ApiError> {
    let invalid = |why: &str| ApiError::field("If-Match", format!("{why}: send \"*\" or ETags such as \"3\""));
    let mut lines = headers.get_all(header::IF_MATCH).iter().peekable();
    if lines.peek().is_none() {
        return Ok(None);
    }
    let mut list = String::new();
    for line in lines {
        let line = line.to_str().map_err(|_| invalid("must be visible ASCII"))?;
        list.push_str(line);
        list.push(',');
    }
    let members: Vec<&str> = list
        .split(',')
        .map(|m| m.trim_matches([' ', '\t']))
        .filter(|m| !m.is_empty())
        .collect();
    if members == ["*"] {
        return Ok(None);
    }
    if members.is_empty() {
        return Err(invalid("is empty"));
    }
    if members.len() > MAX_IF_MATCH_TAGS {
        return Err(invalid(&format!("lists more than {MAX_IF_MATCH_TAGS} entity tags")));
    }
    let mut versions = Vec::new();
    for member in members {
        let (weak, tag) = match member.strip_prefix("W/") {
            Some(tag) => (true, tag),
            None => (false, member),
        };
        let opaque = tag
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .filter(|t| t.bytes().all(|b| b == 0x21 || (0x23..=0x7e).contains(&b)))
            .ok_or_else(|| invalid("must be \"*\" or a list of quoted entity tags"))?;
        // A tag with a comma inside its quotes was split above and fails the quote check: this
        // API's tags never contain one.
        // Strong comparison is character by character: "03" or "+3" is not the ETag "3".
        if !weak
            && let Ok(version) = opaque.parse::<u64>()
            && version.to_string() == opaque
        {
            versions.push(version);
        }
    }
    Ok(Some(Versions::new(versions)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(lines: &[&'static str]) -> Result<Option<Versions>, ApiError> {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append(header::IF_MATCH, HeaderValue::from_static(line));
        }
        if_match(&headers)
    }

    fn versions(v: &[u64]) -> Option<Option<Versions>> {
        Some(Some(Versions::new(v.to_vec())))
    }

    // contract: C-LOCK-3, C-LOCK-4
    #[test]
    fn if_match_follows_rfc_9110() {
        let (_, value) = etag(7);
        assert_eq!(value, "\"7\"");
        assert_eq!(parse(&[]).ok(), Some(None));
        assert_eq!(parse(&["\"7\""]).ok(), versions(&[7]));
        assert_eq!(parse(&["*"]).ok(), Some(None));
        assert_eq!(parse(&[" * "]).ok(), Some(None));
        // Lists, across lines too, with empty members and optional white space.
        assert_eq!(parse(&["\"3\", \"7\""]).ok(), versions(&[3, 7]));
        assert_eq!(parse(&["\"3\"", "\"7\""]).ok(), versions(&[3, 7]));
        assert_eq!(parse(&[" , \"3\" ,\t,\"7\""]).ok(), versions(&[3, 7]));
        // Strong comparison: weak and foreign tags are valid but match nothing.
        assert_eq!(parse(&["W/\"3\""]).ok(), versions(&[]));
        assert_eq!(parse(&["W/\"3\", \"4\""]).ok(), versions(&[4]));
        assert_eq!(parse(&["\"x\""]).ok(), versions(&[]));
        assert_eq!(parse(&["\"\""]).ok(), versions(&[]));
        assert_eq!(
            parse(&["\"03\", \"+3\""]).ok(),
            versions(&[]),
            "compared as text, not as numbers"
        );
        for bad in [
            &["3"][..],
            &["\"3"],
            &["'3'"],
            &["*, \"3\""],
            &["w/\"3\""],
            &["\"a b\""],
            &[""],
            &[","],
        ] {
            assert!(matches!(parse(bad), Err(ApiError::Invalid(_))), "{bad:?}");
        }
        let many = ["\"1\""; 21].join(",");
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_MATCH, HeaderValue::try_from(many).unwrap());
        assert!(if_match(&headers).is_err());
    }
}
