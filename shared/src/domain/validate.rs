//! Validation where a standard exists, and sane limits where none does. Each check returns the
//! normalised value or a message; callers attach the field name.

use serde::Serialize;

/// Longest free-text value we store (names, titles, statuses...).
pub const MAX_TEXT: usize = 256;
/// Longest URL we store.
pub const MAX_URL: usize = 2048;

/// Free text on one line (names, address lines, titles, statuses, handles): stored in Unicode NFC,
/// at most `max` characters, no control characters, no bidi controls (they can make a name or an
/// address read differently from what is stored), and not only invisible characters.
pub fn text(value: &str, max: usize) -> Result<String, String> {
    let value = nfc(value);
    if value.chars().any(|c| c.is_control()) {
        return Err("must not contain control characters".into());
    }
    if value.chars().any(is_bidi_control) {
        return Err(
            "must not contain bidirectional control characters (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C)"
                .into(),
        );
    }
    visible(value, max)
}

/// Free text that may span lines (notes, documentation): like `text`, but tabs and line breaks are
/// allowed, and so are bidi controls, which mixed-direction prose may need.
pub fn multiline_text(value: &str, max: usize) -> Result<String, String> {
    let value = nfc(value);
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err("must not contain control characters other than tabs and line breaks".into());
    }
    visible(value, max)
}

/// Text that must say something: not empty, and not only white space or invisible characters.
pub fn required_text(value: &str, max: usize) -> Result<String, String> {
    if value.is_empty() {
        return Err("must not be empty".into());
    }
    text(value, max)
}

/// Canonical composition: one spelling for what reads the same (`e` + U+0301 is stored as `é`).
fn nfc(value: &str) -> String {
    icu_normalizer::ComposingNormalizerBorrowed::new_nfc()
        .normalize(value)
        .into_owned()
}

fn is_bidi_control(c: char) -> bool {
    icu_properties::CodePointSetData::new::<icu_properties::props::BidiControl>().contains(c)
}

/// Whether `c` shows nothing by itself: white space, control and format characters (U+200B,
/// U+FEFF, ...) and the Hangul fillers, which render as blanks.
fn is_invisible(c: char) -> bool {
    use icu_properties::props::{GeneralCategory, WhiteSpace};
    use icu_properties::{CodePointMapData, CodePointSetData};
    c.is_control()
        || CodePointSetData::new::<WhiteSpace>().contains(c)
        || CodePointMapData::<GeneralCategory>::new().get(c) == GeneralCategory::Format
        || matches!(c, '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}')
}

/// The length limit, and something visible in a non-empty value (`""` is "absent" to callers).
fn visible(value: String, max: usize) -> Result<String, String> {
    if value.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if !value.is_empty() && value.chars().all(is_invisible) {
        return Err("must contain visible characters, not only white space or invisible ones".into());
    }
    Ok(value)
}

/// An email address: one `@`, a dot-atom local part, a domain of LDH labels; at most 254 characters.
pub fn email(value: &str) -> Result<String, String> {
    const RULE: &str = "must be an email address like name@example.com";
    if value.len() > 254 {
        return Err("must be at most 254 characters".into());
    }
    let Some((local, domain)) = value.split_once('@') else {
        return Err(RULE.into());
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&b));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if local_ok && domain_ok {
        Ok(value.to_owned())
    } else {
        Err(RULE.into())
    }
}

/// A phone number in E.164 after removing spaces and dashes: `+` then 7 to 15 digits.
pub fn phone(value: &str) -> Result<String, String> {
    let compact: String = value.chars().filter(|c| *c != ' ' && *c != '-').collect();
    let digits = compact.strip_prefix('+').unwrap_or("");
    let ok = (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0');
    if ok {
        Ok(compact)
    } else {
        Err("must be an E.164 phone number like +14155550100".into())
    }
}

/// A decimal amount as a string: optional `-`, up to 20 integer digits, up to 10 decimals.
pub fn decimal(value: &str, allow_negative: bool) -> Result<String, String> {
    let unsigned = match value.strip_prefix('-') {
        Some(rest) if allow_negative => rest,
        Some(_) => return Err("must not be negative".into()),
        None => value,
    };
    let (int, frac) = match unsigned.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (unsigned, None),
    };
    let digits = |s: &str, max: usize| !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit());
    if digits(int, 20) && frac.is_none_or(|f| digits(f, 10)) {
        Ok(value.to_owned())
    } else {
        Err("must be a decimal number as a string, like \"1500.00\"".into())
    }
}

/// Orders two non-negative decimals as `decimal` accepts them (`""` is zero) by value: `"1500"`
/// equals `"01500.00"`. Digit strings, so no float rounds a limit.
pub fn decimal_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn parts(v: &str) -> (&str, &str) {
        let (int, frac) = v.split_once('.').unwrap_or((v, ""));
        (int.trim_start_matches('0'), frac.trim_end_matches('0'))
    }
    let ((ai, af), (bi, bf)) = (parts(a), parts(b));
    ai.len()
        .cmp(&bi.len())
        .then_with(|| ai.cmp(bi))
        .then_with(|| af.cmp(bf))
}

/// An ISO 4217 currency code (upper case).
pub fn currency(value: &str) -> Result<String, String> {
    if CURRENCIES.contains(&value) {
        Ok(value.to_owned())
    } else {
        Err("must be an ISO 4217 currency code like EUR".into())
    }
}

/// An ISO 3166-1 alpha-2 country code (upper case).
pub fn country(value: &str) -> Result<String, String> {
    if COUNTRIES.contains(&value) {
        Ok(value.to_owned())
    } else {
        Err("must be an ISO 3166-1 alpha-2 country code like DE".into())
    }
}

/// ISO 4217 active codes, plus the precious metals and special codes in use (X..).
const CURRENCIES: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BHD", "BIF",
    "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHE", "CHF", "CHW", "CLF",
    "CLP", "CNY", "COP", "COU", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR",
    "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS",
    "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT",
    "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
    "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP",
    "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE",
    "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS",
    "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VED", "VES", "VND", "VUV", "WST", "XAF", "XAG", "XAU",
    "XCD", "XCG", "XDR", "XOF", "XPD", "XPF", "XPT", "XSU", "XUA", "YER", "ZAR", "ZMW", "ZWG",
];

/// ISO 3166-1 alpha-2 officially assigned codes.
const COUNTRIES: &[&str] = &[
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ", "BA", "BB", "BD",
    "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA",
    "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE",
    "DJ", "DK", "DM", "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA",
    "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK",
    "HM", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP",
    "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT",
    "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS",
    "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ",
    "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS",
    "RU", "RW", "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST",
    "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW",
    "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI", "VN", "VU", "WF", "WS", "YE", "YT", "ZA",
    "ZM", "ZW",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for ok in ["a@b.co", "first.last+tag@sub.example.com", "x_y@ex-ample.org"] {
            assert_eq!(email(ok).as_deref(), Ok(ok), "{ok}");
        }
        for bad in [
            "", "a", "a@b", "@b.co", "a@.co", "a@b..co", "a b@c.de", "a@-b.co", ".a@b.co", "a@b.co ", "string",
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
        let long = format!(
            "{}@{}.com",
            "a".repeat(64),
            "b".repeat(63) + "." + &"c".repeat(63) + "." + &"d".repeat(63)
        );
        assert!(long.len() > 254 && email(&long).is_err());
    }

    #[test]
    fn phones() {
        assert_eq!(phone("+49 170 123-4567").as_deref(), Ok("+491701234567"));
        for bad in [
            "",
            "string",
            "0170123456",
            "+0123456789",
            "+1234",
            "+1234567890123456",
            "+49(170)1234567",
        ] {
            assert!(phone(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn decimals() {
        assert!(decimal("0", false).is_ok());
        assert!(decimal("1500.25", false).is_ok());
        assert!(decimal("-3.5", true).is_ok());
        for bad in ["", "1e5", "1.", ".5", "1,5", "abc", "NaN", "-1", " 1", &"9".repeat(21)] {
            assert!(decimal(bad, false).is_err(), "{bad}");
        }
    }

    #[test]
    fn codes() {
        assert!(currency("EUR").is_ok() && currency("eur").is_err() && currency("EURO").is_err());
        assert!(country("DE").is_ok() && country("XX").is_err() && country("de").is_err());
        assert!(CURRENCIES.windows(2).all(|w| w[0] < w[1]));
        assert!(COUNTRIES.windows(2).all(|w| w[0] < w[1]) && COUNTRIES.len() == 249);
    }

    // contract: C-TEXT-3, C-TEXT-4, C-TEXT-5
    #[test]
    fn texts() {
        assert!(text(&"é".repeat(MAX_TEXT), MAX_TEXT).is_ok());
        assert!(text(&"é".repeat(MAX_TEXT + 1), MAX_TEXT).is_err());
        // The limit counts what is stored: five decomposed `é` are five characters once composed.
        assert_eq!(text(&"e\u{301}".repeat(5), 5).as_deref(), Ok("é".repeat(5).as_str()));
        assert_eq!(text("Ana\u{300}", MAX_TEXT).as_deref(), Ok("Anà"));
        assert!(text("a\u{0}b", MAX_TEXT).is_err());
        assert!(required_text("", MAX_TEXT).is_err());
        assert_eq!(text("", MAX_TEXT).as_deref(), Ok(""));
        for invisible in [
            "  ",
            "\u{200b}",
            "\u{feff}",
            "\u{200b}\u{200d} \u{2060}",
            "\u{3164}",
            "\u{a0}\u{3000}",
            "\u{ad}",
        ] {
            assert!(required_text(invisible, MAX_TEXT).is_err(), "{invisible:?}");
            assert!(text(invisible, MAX_TEXT).is_err(), "{invisible:?}");
            assert!(multiline_text(invisible, MAX_TEXT).is_err(), "{invisible:?}");
        }
        // Invisible characters inside visible text are content (ZWJ in emoji, ZWNJ in Persian).
        assert!(text("\u{645}\u{200c}\u{6cc}", MAX_TEXT).is_ok());
        for bidi in ["\u{202e}evil", "a\u{202a}b", "a\u{2066}b", "x\u{200f}", "\u{61c}1"] {
            assert!(text(bidi, MAX_TEXT).is_err(), "{bidi:?}");
        }
        assert!(multiline_text("line 1\nline 2\ttab", MAX_TEXT).is_ok());
        assert!(multiline_text("\u{5e9}\u{200f} note", MAX_TEXT).is_ok());
        assert!(multiline_text("bell\u{7}", MAX_TEXT).is_err());
    }
}

/// A field that failed validation, named by its JSON path (`date_of_birth.seconds`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// What is wrong with a request's content: every rejected field (the edge answers 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid request")]
pub struct Invalid(pub Vec<FieldError>);

impl Invalid {
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self(vec![FieldError::new(field, message)])
    }
}

/// `#[serde(default, deserialize_with = "optional_object")]` for a nested object: serde would
/// also fill a struct from a JSON array, positionally, which no client means.
pub fn optional_object<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    struct V<T>(std::marker::PhantomData<T>);
    impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for V<T> {
        type Value = Option<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            T::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Some)
        }
    }
    deserializer.deserialize_any(V(std::marker::PhantomData))
}

/// Collects every rejected field of one request, so a client learns all of them at once.
#[derive(Default)]
pub struct Check {
    errors: Vec<FieldError>,
}

impl Check {
    pub fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// An optional value: absent (or `""` for strings) is `None`, otherwise it must pass `parse`.
    pub fn optional<T, E: Into<String>>(
        &mut self,
        field: &str,
        value: Option<&str>,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        match value {
            None | Some("") => None,
            Some(v) => self.parse(field, v, parse),
        }
    }

    /// A required value.
    pub fn required<T, E: Into<String>>(
        &mut self,
        field: &str,
        value: Option<&str>,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        match value {
            None => {
                self.fail(field, "is required");
                None
            }
            Some(v) => self.parse(field, v, parse),
        }
    }

    fn parse<T, E: Into<String>>(
        &mut self,
        field: &str,
        value: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        match parse(value) {
            Ok(v) => Some(v),
            Err(e) => {
                self.fail(field, e);
                None
            }
        }
    }

    /// A body may repeat an id of the path, but only the same one: compared as ids (parsed as the
    /// path's are), so a UUID in upper case is the same id in a body as in a path.
    pub fn same_as_path<T: PartialEq, E>(
        &mut self,
        field: &str,
        body: Option<&str>,
        path: &T,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) {
        if body.is_some_and(|b| parse(b).ok().as_ref() != Some(path)) {
            self.fail(field, "must match the path when given");
        }
    }

    pub fn finish(self) -> Result<(), Invalid> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Invalid(self.errors))
        }
    }
}
