//! Password hashing and policy. bcrypt (cost from config, 12 by default) over a SHA-256
//! pre-hash, so passwords longer than bcrypt's 72 bytes are not silently truncated. Hashing
//! runs on the blocking pool, never on the async threads.

use crate::error::{AppError, AppResult};
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// The longest password we accept (the pre-hash makes any length safe; this bounds CPU).
pub const MAX_PASSWORD_CHARS: usize = 1024;

fn prehash(password: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(password.as_bytes()))
}

pub fn hash_blocking(password: &str, cost: u32) -> AppResult<String> {
    bcrypt::hash(prehash(password), cost).map_err(AppError::internal)
}

pub fn verify_blocking(password: &str, hash: &str) -> bool {
    bcrypt::verify(prehash(password), hash).unwrap_or(false)
}

pub async fn hash(password: String, cost: u32) -> AppResult<String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password, cost)).await.map_err(AppError::internal)?
}

/// Verify against `hash`, or against a dummy hash of the same cost when the account does not
/// exist, so "no such user" and "wrong password" take the same time.
pub async fn verify(password: String, hash: Option<String>, cost: u32) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || match hash {
        Some(h) => Ok(verify_blocking(&password, &h)),
        None => {
            verify_blocking(&password, dummy_hash(cost)?);
            Ok(false)
        }
    })
    .await
    .map_err(AppError::internal)?
}

fn dummy_hash(cost: u32) -> AppResult<&'static str> {
    static DUMMY: OnceLock<(u32, String)> = OnceLock::new();
    let (c, h) = DUMMY.get_or_init(|| (cost, hash_blocking("officebox-timing-equaliser", cost).unwrap_or_default()));
    if *c != cost || h.is_empty() {
        return Err(AppError::internal("dummy hash cost mismatch"));
    }
    Ok(h)
}

/// Set by admins in the security settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct PasswordPolicy {
    pub min_length: usize,
    pub require_upper: bool,
    pub require_lower: bool,
    pub require_digit: bool,
    pub require_symbol: bool,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_length: 8,
            require_upper: false,
            require_lower: true,
            require_digit: true,
            require_symbol: false,
        }
    }
}

impl PasswordPolicy {
    pub fn validate_settings(&self) -> AppResult<()> {
        if !(6..=128).contains(&self.min_length) {
            return Err(AppError::invalid(
                "min_length",
                "validation_failed",
                "Minimum length must be between 6 and 128",
            ));
        }
        Ok(())
    }

    /// Every rule the password breaks, as stable rule names (`min_length`, `upper`, ...).
    pub fn broken_rules(&self, password: &str, userid: &str) -> Vec<&'static str> {
        let mut rules = Vec::new();
        let n = password.chars().count();
        if n < self.min_length {
            rules.push("min_length");
        }
        if n > MAX_PASSWORD_CHARS {
            rules.push("max_length");
        }
        if self.require_upper && !password.chars().any(|c| c.is_uppercase()) {
            rules.push("upper");
        }
        if self.require_lower && !password.chars().any(|c| c.is_lowercase()) {
            rules.push("lower");
        }
        if self.require_digit && !password.chars().any(|c| c.is_ascii_digit()) {
            rules.push("digit");
        }
        if self.require_symbol && !password.chars().any(|c| !c.is_alphanumeric() && !c.is_whitespace()) {
            rules.push("symbol");
        }
        if !userid.is_empty() && password.to_lowercase().contains(&userid.to_lowercase()) {
            rules.push("contains_userid");
        }
        rules
    }

    pub fn check(&self, password: &str, userid: &str) -> AppResult<()> {
        let broken = self.broken_rules(password, userid);
        if broken.is_empty() {
            return Ok(());
        }
        Err(AppError::new(
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            "weak_password",
            format!("The password does not meet the policy: {}", broken.join(", ")),
        )
        .with_details(serde_json::json!({ "field": "password", "rules": broken, "policy": self })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_passwords_are_not_truncated() {
        let a = "x".repeat(100);
        let b = format!("{}y", "x".repeat(99));
        let h = hash_blocking(&a, 4).unwrap();
        assert!(verify_blocking(&a, &h));
        assert!(!verify_blocking(&b, &h), "bytes after 72 must matter");
    }

    #[test]
    fn production_cost_is_encoded_in_the_hash() {
        let h = hash_blocking("pw", 12).unwrap();
        assert!(h.starts_with("$2b$12$"), "{h}");
    }

    #[test]
    fn policy_names_each_broken_rule() {
        let p = PasswordPolicy { min_length: 10, require_upper: true, require_symbol: true, ..Default::default() };
        assert_eq!(p.broken_rules("zhangsan1", "zhangsan"), vec!["min_length", "upper", "symbol", "contains_userid"]);
        assert!(p.broken_rules("Correct-Horse-9", "zhangsan").is_empty());
    }
}
