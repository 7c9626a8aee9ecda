//! Organisation types: departments, members (with the WeCom contact fields, see
//! shared/reference/wecom-api.md §4.2–4.4) and tags, plus validation of every input field.

use crate::error::{AppError, AppResult};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const MAX_DEPTH: usize = 15;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Department {
    pub id: u64,
    /// 0 for the root department.
    pub parent_id: u64,
    pub name: String,
    /// Siblings are shown by `order` ascending, then id.
    #[serde(default)]
    pub order: i64,
    #[serde(default)]
    pub leader_ids: Vec<u64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum MemberStatus {
    #[default]
    Active,
    Disabled,
    /// Not activated yet (invited, never signed in).
    Inactive,
    /// Offboarded (离职).
    Left,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default)]
pub struct Member {
    pub id: u64,
    pub userid: String,
    pub name: String,
    pub alias: String,
    pub position: String,
    pub mobile: String,
    pub email: String,
    /// 0 unknown, 1 male, 2 female (WeCom's values).
    pub gender: u8,
    pub telephone: String,
    /// sha256 of the avatar image in the blob store.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    pub status: MemberStatus,
    pub department_ids: Vec<u64>,
    pub main_department_id: u64,
    pub supervisor_ids: Vec<u64>,
    pub employee_no: String,
    /// `YYYY-MM-DD`.
    pub hire_date: Option<String>,
    pub custom: BTreeMap<String, String>,
    /// Who took over this member's chats, files and customers when they left.
    pub handover_to: Option<u64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Tag {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub member_ids: Vec<u64>,
    #[serde(default)]
    pub department_ids: Vec<u64>,
}

/// Admin-defined extra member fields (`settings["custom_fields"]`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct CustomFields {
    pub items: Vec<CustomField>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CustomField {
    pub key: String,
    pub label: String,
    #[serde(default = "text_kind")]
    pub kind: String,
}

fn text_kind() -> String {
    "text".into()
}

impl crate::platform::settings::SettingsDoc for CustomFields {
    const KEY: &'static str = "custom_fields";
}

impl CustomFields {
    pub fn validate(&mut self) -> AppResult<()> {
        let mut seen = std::collections::HashSet::new();
        for f in &mut self.items {
            f.key = f.key.trim().to_owned();
            f.label = f.label.trim().to_owned();
            f.kind = "text".into();
            let key_ok =
                !f.key.is_empty() && f.key.len() <= 32 && f.key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !key_ok {
                return Err(AppError::invalid(
                    "key",
                    "validation_failed",
                    format!("Field key `{}` must be 1–32 letters, digits or _", f.key),
                ));
            }
            if f.label.is_empty() || f.label.chars().count() > 32 {
                return Err(AppError::invalid("label", "validation_failed", "Field labels must be 1–32 characters"));
            }
            if !seen.insert(f.key.clone()) {
                return Err(AppError::invalid(
                    "key",
                    "validation_failed",
                    format!("Field key `{}` is used twice", f.key),
                ));
            }
        }
        Ok(())
    }
}

/// Fields an admin may set on a member; `None` = unchanged (PATCH) or default (create).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct MemberInput {
    pub userid: Option<String>,
    pub name: Option<String>,
    pub alias: Option<String>,
    pub position: Option<String>,
    pub mobile: Option<String>,
    pub email: Option<String>,
    pub gender: Option<u8>,
    pub telephone: Option<String>,
    pub department_ids: Option<Vec<u64>>,
    pub main_department_id: Option<u64>,
    pub supervisor_ids: Option<Vec<u64>>,
    /// Departments this member leads (must be among `department_ids`).
    pub leader_of: Option<Vec<u64>>,
    pub employee_no: Option<String>,
    pub hire_date: Option<Option<String>>,
    pub custom: Option<BTreeMap<String, String>>,
    /// Create only: an initial password (member must change it at first sign-in).
    pub initial_password: Option<String>,
    /// Create only: email an invitation.
    pub send_invite: Option<bool>,
}

fn too_long(field: &str, max: usize) -> AppError {
    AppError::invalid(field, "too_long", format!("`{field}` must be at most {max} characters"))
}

pub fn check_len(field: &str, v: &str, max: usize) -> AppResult<()> {
    if v.chars().count() > max {
        return Err(too_long(field, max));
    }
    Ok(())
}

/// WeCom userid rules: 1–64 chars of letters, digits, `_ - . @`, starting with a letter or digit.
pub fn validate_userid(v: &str) -> AppResult<String> {
    let v = v.trim();
    let ok = !v.is_empty()
        && v.len() <= 64
        && v.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'));
    if !ok {
        return Err(AppError::invalid(
            "userid",
            "invalid_userid",
            "Account ids are 1–64 letters, digits, _ - . or @, starting with a letter or digit",
        ));
    }
    Ok(v.to_owned())
}

pub fn validate_name(v: &str) -> AppResult<String> {
    let v = v.trim();
    if v.is_empty() || v.chars().count() > 64 || v.chars().any(char::is_control) {
        return Err(AppError::invalid("name", "invalid_name", "Names must be 1–64 characters"));
    }
    Ok(v.to_owned())
}

/// Mobile numbers: digits, `+`, `-` and spaces, 5–32 chars; stored as typed, indexed normalised.
pub fn validate_mobile(v: &str) -> AppResult<String> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(String::new());
    }
    let digits = v.chars().filter(char::is_ascii_digit).count();
    let ok = v.len() <= 32
        && digits >= 5
        && v.chars().all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' '))
        && !v[1..].contains('+');
    if !ok {
        return Err(AppError::invalid(
            "mobile",
            "invalid_mobile",
            "Mobile numbers are 5–32 digits, optionally with +, - or spaces",
        ));
    }
    Ok(v.to_owned())
}

/// The form used for uniqueness and login: `+86 138-0000-0000` and `13800000000` are the same.
pub fn normalise_mobile(v: &str) -> String {
    let digits: String = v.chars().filter(char::is_ascii_digit).collect();
    match digits.strip_prefix("86") {
        Some(rest) if v.trim_start().starts_with('+') && rest.len() == 11 => rest.to_owned(),
        _ if v.trim_start().starts_with('+') => format!("+{digits}"),
        _ => digits,
    }
}

pub fn validate_email(v: &str) -> AppResult<String> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(String::new());
    }
    let bad = || AppError::invalid("email", "invalid_email", "This is not a valid email address");
    if v.len() > 254 || v.contains(char::is_whitespace) {
        return Err(bad());
    }
    let (local, domain) = v.rsplit_once('@').ok_or_else(bad)?;
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
        return Err(bad());
    }
    Ok(v.to_owned())
}

pub fn validate_telephone(v: &str) -> AppResult<String> {
    let v = v.trim();
    if v.len() > 32 || !v.chars().all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')')) {
        return Err(AppError::invalid(
            "telephone",
            "invalid_telephone",
            "Telephone numbers are up to 32 digits, + - ( ) or spaces",
        ));
    }
    Ok(v.to_owned())
}

pub fn validate_gender(v: u8) -> AppResult<u8> {
    if v > 2 {
        return Err(AppError::invalid("gender", "invalid_gender", "Gender is 0 (unknown), 1 (male) or 2 (female)"));
    }
    Ok(v)
}

pub fn validate_date(field: &str, v: &str) -> AppResult<String> {
    chrono::NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
        .map(|d| d.format("%Y-%m-%d").to_string())
        .map_err(|_| AppError::invalid(field, "invalid_date", "Dates are written YYYY-MM-DD"))
}

/// Department names: 1–64 chars without `\ : * ? " < > |` (WeCom 60009).
pub fn validate_department_name(v: &str) -> AppResult<String> {
    let v = v.trim();
    if v.is_empty() || v.chars().count() > 64 {
        return Err(AppError::invalid("name", "invalid_department_name", "Department names must be 1–64 characters"));
    }
    if v.chars().any(|c| matches!(c, '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' | '/') || c.is_control()) {
        return Err(AppError::invalid(
            "name",
            "invalid_department_name",
            "Department names cannot contain \\ / : * ? \" < > |",
        ));
    }
    Ok(v.to_owned())
}

pub fn validate_tag_name(v: &str) -> AppResult<String> {
    let v = v.trim();
    if v.is_empty() || v.chars().count() > 32 {
        return Err(AppError::invalid("name", "invalid_tag_name", "Tag names must be 1–32 characters"));
    }
    Ok(v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userid_rules() {
        assert!(validate_userid("zhangsan").is_ok());
        assert!(validate_userid("li.si@corp-1").is_ok());
        assert!(validate_userid("_x").is_err());
        assert!(validate_userid("张三").is_err());
        assert!(validate_userid(&"a".repeat(65)).is_err());
    }

    #[test]
    fn mobiles_normalise_to_one_form() {
        assert_eq!(normalise_mobile("+86 138-0000-0000"), "13800000000");
        assert_eq!(normalise_mobile("13800000000"), "13800000000");
        assert_eq!(normalise_mobile("+1-555-0100"), "+15550100");
        assert!(validate_mobile("138abc").is_err());
        assert!(validate_mobile("12+34567").is_err());
    }

    #[test]
    fn emails_and_dates() {
        assert!(validate_email("a@b.cn").is_ok());
        assert!(validate_email("a@b").is_err());
        assert!(validate_email("a b@c.cn").is_err());
        assert_eq!(validate_date("d", "2024-1-5").unwrap(), "2024-01-05");
        assert!(validate_date("d", "2024-02-30").is_err());
        assert!(validate_department_name("研发部").is_ok());
        assert!(validate_department_name("a/b").is_err());
    }
}
