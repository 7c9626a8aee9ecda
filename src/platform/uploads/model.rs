//! tus 1.0 values: the stored upload row, `Upload-Metadata` parsing and encoding, the numeric
//! headers and the RFC 7231 date of `Upload-Expires`.

use crate::error::{AppError, AppResult};
use actix_web::http::StatusCode;
use base64::engine::{general_purpose, DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const TUS_VERSION: &str = "1.0.0";
pub const TUS_EXTENSIONS: &str = "creation,termination,expiration";
/// The only body type a PATCH may carry.
pub const OFFSET_CONTENT_TYPE: &str = "application/offset+octet-stream";

/// One unfinished upload (`uploads` table, key `(user, id)`). The bytes received so far are
/// in `blobs/tmp/uploads/{id}.part`; `offset` never exceeds what is durable in that file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    pub id: u64,
    pub user: u64,
    pub purpose: String,
    pub metadata: Metadata,
    pub length: u64,
    pub offset: u64,
    pub created_at: i64,
    /// Moves forward with every PATCH: an upload expires a day after it last made progress.
    pub expires_at: i64,
}

/// `Upload-Metadata`: keys with optional values, decoded from base64 to UTF-8 text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata(pub BTreeMap<String, String>);

/// Standard base64, padding optional (clients differ).
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn metadata_invalid(why: impl Into<String>) -> AppError {
    AppError::bad_request("metadata_invalid", format!("Upload-Metadata is invalid: {}", why.into()))
}

impl Metadata {
    /// Parse the header: comma-separated `key base64value` pairs, the value optional. Keys are
    /// non-empty printable ASCII without spaces or commas and unique.
    pub fn parse(header: &str) -> AppResult<Metadata> {
        let mut map = BTreeMap::new();
        if header.trim().is_empty() {
            return Ok(Metadata(map));
        }
        for pair in header.split(',') {
            let pair = pair.trim();
            let (key, value) = match pair.split_once(' ') {
                Some((k, v)) => (k, v.trim()),
                None => (pair, ""),
            };
            if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(metadata_invalid("a key is empty or not printable ASCII"));
            }
            if value.contains(' ') {
                return Err(metadata_invalid(format!("the value of `{key}` contains a space")));
            }
            let bytes = LENIENT.decode(value).map_err(|_| metadata_invalid(format!("`{key}` is not base64")))?;
            let text = String::from_utf8(bytes).map_err(|_| metadata_invalid(format!("`{key}` is not UTF-8 text")))?;
            if map.insert(key.to_owned(), text).is_some() {
                return Err(metadata_invalid(format!("`{key}` appears twice")));
            }
        }
        Ok(Metadata(map))
    }

    /// The header form, for `HEAD` responses.
    pub fn encode(&self) -> String {
        let pairs: Vec<String> = self
            .0
            .iter()
            .map(|(k, v)| if v.is_empty() { k.clone() } else { format!("{k} {}", general_purpose::STANDARD.encode(v)) })
            .collect();
        pairs.join(",")
    }

    /// A value, trimmed; `None` when absent or empty.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|v| v.trim()).filter(|v| !v.is_empty())
    }
}

/// A non-negative integer header (`Upload-Length`, `Upload-Offset`): digits only.
pub fn parse_u64(name: &'static str, code: &'static str, value: Option<&str>) -> AppResult<Option<u64>> {
    let Some(v) = value else { return Ok(None) };
    let v = v.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::bad_request(code, format!("{name} must be a non-negative integer")));
    }
    v.parse::<u64>().map(Some).map_err(|_| AppError::bad_request(code, format!("{name} is too large")))
}

/// `Upload-Expires` format (RFC 7231 IMF-fixdate).
pub fn http_date(ms: i64) -> String {
    let t = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms).unwrap_or_default();
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Whether a `Content-Type` is the tus body type (parameters and case ignored).
pub fn is_offset_stream(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case(OFFSET_CONTENT_TYPE))
}

pub fn gone() -> AppError {
    AppError::new(StatusCode::GONE, "upload_expired", "This upload has expired; start it again")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_parses_values_and_bare_keys() {
        // "报价.xlsx" and "12" in base64; `is_confidential` has no value.
        let m = Metadata::parse("filename 5oql5Lu3Lnhsc3g=,parent_id MTI=, is_confidential").unwrap();
        assert_eq!(m.get("filename"), Some("报价.xlsx"));
        assert_eq!(m.get("parent_id"), Some("12"));
        assert_eq!(m.0.get("is_confidential").map(String::as_str), Some(""));
        assert_eq!(Metadata::parse(&m.encode()).unwrap(), m);
        assert_eq!(Metadata::parse("  ").unwrap(), Metadata::default());
        // Padding is optional.
        assert_eq!(Metadata::parse("parent_id MTI").unwrap().get("parent_id"), Some("12"));
    }

    #[test]
    fn metadata_garbage_is_refused() {
        for bad in [
            "filename !!!notbase64",
            "filename a b",
            ",",
            "filename MTI=,",
            "filename MTI=,filename MTI=",
            "fïle MTI=",
            "filename /w==", // 0xff: not UTF-8
        ] {
            let e = Metadata::parse(bad).unwrap_err();
            assert_eq!((e.status.as_u16(), e.code), (400, "metadata_invalid"), "{bad}");
        }
    }

    #[test]
    fn numeric_headers_are_digits_only() {
        assert_eq!(parse_u64("Upload-Length", "x", Some("42")).unwrap(), Some(42));
        assert_eq!(parse_u64("Upload-Length", "x", None).unwrap(), None);
        for bad in ["", "-1", "+1", "1.5", "0x10", "99999999999999999999999"] {
            assert!(parse_u64("Upload-Length", "x", Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn expiry_dates_and_content_types() {
        assert_eq!(http_date(784_111_777_000), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert!(is_offset_stream(Some("application/offset+octet-stream")));
        assert!(is_offset_stream(Some("Application/Offset+Octet-Stream; charset=binary")));
        assert!(!is_offset_stream(Some("application/octet-stream")));
        assert!(!is_offset_stream(None));
    }
}
