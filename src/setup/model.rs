//! The enterprise profile (`settings["enterprise"]`), including the verification data shown to
//! external customers later, and the GB 32100-2015 unified social credit code check.

use crate::error::{AppError, AppResult};
use crate::platform::settings::SettingsDoc;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
#[serde(default)]
pub struct Enterprise {
    pub name: String,
    pub time_zone: String,
    pub legal_name: String,
    pub credit_code: String,
    pub address: String,
    pub logo: Option<String>,
    pub licence: Option<String>,
    pub verified: bool,
    pub verified_at: Option<i64>,
    pub created_at: i64,
    /// The address the setup wizard was opened at: the base of links in mails that anonymous
    /// requests trigger (password reset) when `public_url` is not configured, because their own
    /// Host header is attacker-controlled.
    pub base_url: String,
}

impl SettingsDoc for Enterprise {
    const KEY: &'static str = "enterprise";
}

/// The enterprise as the API shows it (blob hashes become flags).
#[derive(Debug, Serialize)]
pub struct EnterpriseView {
    pub name: String,
    pub time_zone: String,
    pub legal_name: String,
    pub credit_code: String,
    pub address: String,
    pub verified: bool,
    pub verified_at: Option<i64>,
    pub has_logo: bool,
    pub has_licence: bool,
}

impl From<&Enterprise> for EnterpriseView {
    fn from(e: &Enterprise) -> Self {
        EnterpriseView {
            name: e.name.clone(),
            time_zone: e.time_zone.clone(),
            legal_name: e.legal_name.clone(),
            credit_code: e.credit_code.clone(),
            address: e.address.clone(),
            verified: e.verified,
            verified_at: e.verified_at,
            has_logo: e.logo.is_some(),
            has_licence: e.licence.is_some(),
        }
    }
}

pub fn validate_enterprise_name(v: &str) -> AppResult<String> {
    let v = v.trim();
    if v.is_empty() || v.chars().count() > 64 || v.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "enterprise_name",
            "invalid_name",
            "The enterprise name must be 1–64 characters",
        ));
    }
    Ok(v.to_owned())
}

pub fn validate_time_zone(v: &str) -> AppResult<String> {
    v.parse::<chrono_tz::Tz>().map(|tz| tz.name().to_owned()).map_err(|_| {
        AppError::invalid(
            "time_zone",
            "invalid_time_zone",
            format!("`{v}` is not a known time zone (e.g. Asia/Shanghai)"),
        )
    })
}

/// Characters allowed in a unified social credit code: digits and capitals without I O S V Z.
const CREDIT_CHARS: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const CREDIT_WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// Validate an 18-character unified social credit code (统一社会信用代码) including its check
/// character (GB 32100-2015). Returns the upper-cased code.
pub fn validate_credit_code(v: &str) -> AppResult<String> {
    let code = v.trim().to_uppercase();
    let bad = |why: &str| {
        AppError::invalid(
            "credit_code",
            "invalid_credit_code",
            format!("The unified social credit code is not valid: {why}"),
        )
    };
    if code.chars().count() != 18 {
        return Err(bad("it must have 18 characters"));
    }
    let values: Vec<u32> =
        code.chars().map(|c| CREDIT_CHARS.find(c).map(|i| i as u32)).collect::<Option<Vec<_>>>().ok_or_else(|| {
            bad("it contains a character that is not allowed (I, O, S, V, Z and symbols are never used)")
        })?;
    let sum: u32 = values[..17].iter().zip(CREDIT_WEIGHTS).map(|(v, w)| v * w).sum();
    let check = (31 - sum % 31) % 31;
    if values[17] != check {
        return Err(bad("the check character (the last one) does not match"));
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_credit_codes_pass() {
        // Published codes of well-known companies.
        for c in ["9144030071526726XG", "91330100799655058B", "91110000802100433B"] {
            assert!(validate_credit_code(c).is_ok(), "{c}");
        }
        assert_eq!(validate_credit_code(" 9144030071526726xg ").unwrap(), "9144030071526726XG");
    }

    #[test]
    fn damaged_codes_fail_with_reason() {
        let e = validate_credit_code("9144030071526726XA").unwrap_err();
        assert_eq!(e.code, "invalid_credit_code");
        assert!(e.message.contains("check character"));
        assert!(validate_credit_code("9144030071526726X").is_err());
        assert!(validate_credit_code("9144030071526726XI").is_err());
    }

    #[test]
    fn time_zones() {
        assert_eq!(validate_time_zone("Asia/Shanghai").unwrap(), "Asia/Shanghai");
        assert!(validate_time_zone("Mars/Base").is_err());
    }
}
