//! File and folder names: a strict validator (refuse, never clean: a name the user typed must
//! be stored exactly or not at all) and the per-folder uniqueness key (NFC, then lower-cased),
//! so "Report.txt" and "report.txt", or composed and decomposed "é", cannot sit side by side
//! (they would collide on Windows/macOS clients and over WebDAV).

use crate::error::{AppError, AppResult};
use unicode_normalization::UnicodeNormalization;

pub const MAX_NAME_BYTES: usize = 255;

const FORBIDDEN: &[char] = &['/', '\\', ':', '*', '?', '"', '<', '>', '|'];

fn invalid(message: &str) -> AppError {
    AppError::invalid("name", "name_invalid", message.to_owned())
}

/// Check a name as given; returns it NFC-normalised (the stored form).
pub fn validate(name: &str) -> AppResult<String> {
    if name.is_empty() {
        return Err(invalid("A name is required"));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(invalid("The name is longer than 255 bytes"));
    }
    if let Some(c) = name.chars().find(|c| FORBIDDEN.contains(c)) {
        return Err(invalid(&format!("The name may not contain {c}")));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid("The name may not contain control characters (line breaks, tabs)"));
    }
    if name == "." || name == ".." {
        return Err(invalid("The name may not be . or .."));
    }
    if name.starts_with(char::is_whitespace) || name.ends_with(char::is_whitespace) {
        return Err(invalid("The name may not start or end with a space"));
    }
    if name.ends_with('.') {
        return Err(invalid("The name may not end with a dot"));
    }
    let nfc: String = name.nfc().collect();
    if nfc.len() > MAX_NAME_BYTES {
        return Err(invalid("The name is longer than 255 bytes"));
    }
    Ok(nfc)
}

/// The uniqueness key of a name inside its folder.
pub fn fold(name: &str) -> String {
    name.nfc().collect::<String>().to_lowercase()
}

/// `drive_names` key: the folder id and the folded name.
pub fn key(parent: u64, name: &str) -> String {
    format!("{parent}/{}", fold(name))
}

/// The n-th alternative for a taken name: "报价.xlsx" -> "报价 (1).xlsx"; folders and names
/// without an extension get the suffix at the end.
pub fn numbered(name: &str, n: u32, is_folder: bool) -> String {
    let (stem, ext) = match name.rfind('.') {
        Some(i) if !is_folder && i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    };
    let suffix = format!(" ({n})");
    // Keep within the byte limit by shortening the stem at a character boundary.
    let mut stem = stem.to_owned();
    while stem.len() + suffix.len() + ext.len() > MAX_NAME_BYTES && !stem.is_empty() {
        stem.pop();
    }
    format!("{}{suffix}{ext}", stem.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_clients_cannot_store() {
        for bad in ["", "../", "a/b", "a\\b", "a\r\nb", "a\u{7}", ".", "..", " a", "a ", "a.", "a:b", "a|b", "a?"] {
            assert_eq!(validate(bad).unwrap_err().code, "name_invalid", "{bad:?}");
        }
        assert!(validate(&"a".repeat(256)).is_err());
        assert!(validate(&"a".repeat(255)).is_ok());
        assert!(validate(&"报".repeat(86)).is_err(), "258 bytes");
    }

    #[test]
    fn chinese_and_dotfiles_are_fine() {
        assert_eq!(validate("季度报价.xlsx").unwrap(), "季度报价.xlsx");
        assert_eq!(validate(".gitignore").unwrap(), ".gitignore");
    }

    #[test]
    fn keys_fold_case_and_normalisation() {
        assert_eq!(fold("Cafe\u{301}.TXT"), fold("café.txt"));
        assert_eq!(key(7, "A"), "7/a");
    }

    #[test]
    fn numbered_names_keep_the_extension() {
        assert_eq!(numbered("报价.xlsx", 1, false), "报价 (1).xlsx");
        assert_eq!(numbered("资料.v2", 2, true), "资料.v2 (2)");
        assert_eq!(numbered(".env", 1, false), ".env (1)");
        assert!(numbered(&"a".repeat(255), 3, false).len() <= 255);
    }
}
