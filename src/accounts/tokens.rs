//! One-time tokens for invitations (activate the account by choosing a password) and password
//! resets. Stored by SHA-256 like sessions; single use; a reset token dies when the password
//! changes after it was issued.
//!
//! Table `account_tokens`: token hash -> [`TokenRecord`].

use crate::error::{AppError, AppResult};
use crate::platform::auth::credentials;
use crate::platform::auth::session::{random_token, token_hash};
use crate::platform::store::{Table, Tx};
use serde::{Deserialize, Serialize};

pub const ACCOUNT_TOKENS: Table<String, TokenRecord> = Table::new("account_tokens");

pub const INVITE_TTL_MS: i64 = 7 * 24 * 3_600_000;
pub const RESET_TTL_MS: i64 = 3_600_000;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    Invite,
    Reset,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenRecord {
    pub kind: TokenKind,
    pub user_id: u64,
    pub created_at: i64,
    pub expires_at: i64,
    /// Global sequence value at issue; a password change after it (higher seq) kills a reset token.
    #[serde(default)]
    pub issued_seq: u64,
}

pub fn issue(tx: &Tx, kind: TokenKind, user_id: u64) -> AppResult<(String, TokenRecord)> {
    let token = random_token();
    let ttl = match kind {
        TokenKind::Invite => INVITE_TTL_MS,
        TokenKind::Reset => RESET_TTL_MS,
    };
    let rec = TokenRecord { kind, user_id, created_at: tx.now, expires_at: tx.now + ttl, issued_seq: tx.next_seq()? };
    ACCOUNT_TOKENS.open(tx.txn)?.put(&token_hash(&token), &rec)?;
    Ok((token, rec))
}

fn invalid() -> AppError {
    AppError::new(
        actix_web::http::StatusCode::NOT_FOUND,
        "invalid_token",
        "This link is invalid or has expired; ask for a new one",
    )
}

fn still_valid(rec: &TokenRecord, changed_seq: Option<u64>, now: i64) -> bool {
    now < rec.expires_at && (rec.kind == TokenKind::Invite || changed_seq.is_none_or(|c| rec.issued_seq > c))
}

/// Look a token up without using it.
pub fn peek(txn: &redb::ReadTransaction, token: &str, now: i64) -> AppResult<TokenRecord> {
    let rec = ACCOUNT_TOKENS.get_in(txn, &token_hash(token))?.ok_or_else(invalid)?;
    let changed = credentials::get(txn, rec.user_id)?.map(|c| c.changed_seq);
    if !still_valid(&rec, changed, now) {
        return Err(invalid());
    }
    Ok(rec)
}

/// Use a token up (inside the transaction that acts on it).
pub fn consume(tx: &Tx, token: &str, kind: TokenKind) -> AppResult<TokenRecord> {
    let hash = token_hash(token);
    let mut t = ACCOUNT_TOKENS.open(tx.txn)?;
    let rec = t.get(&hash)?.filter(|r| r.kind == kind).ok_or_else(invalid)?;
    t.remove(&hash)?;
    drop(t);
    let changed = credentials::get_in(tx, rec.user_id)?.map(|c| c.changed_seq);
    if !still_valid(&rec, changed, tx.now) {
        return Err(invalid());
    }
    Ok(rec)
}
