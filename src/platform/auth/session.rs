//! Server-side sessions. The cookie holds a random token; the table is keyed by its SHA-256, so
//! a copy of the database does not hand out live sessions. Each session has its own CSRF token,
//! an idle and an absolute expiry (from the security settings), and a public id for listing and
//! revoking.
//!
//! Tables: `sessions` (token hash -> [`SessionRecord`]), `user_sessions` ((user id, session id) ->
//! token hash) so all sessions of one user are found without scanning.

use crate::error::AppResult;
use crate::platform::settings::SettingsDoc;
use crate::platform::store::{Table, Tx};
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::password::PasswordPolicy;

pub const SESSIONS: Table<String, SessionRecord> = Table::new("sessions");
pub const USER_SESSIONS: Table<(u64, u64), String> = Table::new("user_sessions");

pub const COOKIE: &str = "ob_session";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionRecord {
    pub id: u64,
    pub user_id: u64,
    pub csrf: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub ip: String,
    pub user_agent: String,
}

/// Admin-set security settings (`settings["security"]`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct SecuritySettings {
    pub password: PasswordPolicy,
    pub session_idle_minutes: i64,
    pub session_absolute_hours: i64,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        SecuritySettings {
            password: PasswordPolicy::default(),
            session_idle_minutes: 3 * 24 * 60,
            session_absolute_hours: 30 * 24,
        }
    }
}

impl SettingsDoc for SecuritySettings {
    const KEY: &'static str = "security";
}

impl SecuritySettings {
    pub fn validate(&self) -> AppResult<()> {
        use crate::error::AppError;
        self.password.validate_settings()?;
        if !(5..=60 * 24 * 90).contains(&self.session_idle_minutes) {
            return Err(AppError::invalid(
                "session_idle_minutes",
                "validation_failed",
                "Idle timeout must be between 5 minutes and 90 days",
            ));
        }
        if !(1..=24 * 365).contains(&self.session_absolute_hours) {
            return Err(AppError::invalid(
                "session_absolute_hours",
                "validation_failed",
                "Session lifetime must be between 1 hour and 365 days",
            ));
        }
        if self.session_idle_minutes > self.session_absolute_hours * 60 {
            return Err(AppError::invalid(
                "session_idle_minutes",
                "validation_failed",
                "The idle timeout cannot exceed the session lifetime",
            ));
        }
        Ok(())
    }

    pub fn idle_ms(&self) -> i64 {
        self.session_idle_minutes * 60_000
    }
}

pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Create a session; returns (cookie token, record).
pub fn create(tx: &Tx, user_id: u64, ip: &str, user_agent: &str) -> AppResult<(String, SessionRecord)> {
    let settings = SecuritySettings::load_in(tx)?;
    let token = random_token();
    let id = tx.next_seq()?;
    let rec = SessionRecord {
        id,
        user_id,
        csrf: random_token(),
        created_at: tx.now,
        last_seen_at: tx.now,
        expires_at: tx.now + settings.session_absolute_hours * 3_600_000,
        ip: ip.to_owned(),
        user_agent: user_agent.chars().take(256).collect(),
    };
    let hash = token_hash(&token);
    SESSIONS.open(tx.txn)?.put(&hash, &rec)?;
    USER_SESSIONS.open(tx.txn)?.put(&(user_id, id), &hash)?;
    Ok((token, rec))
}

pub fn remove_by_hash(tx: &Tx, hash: &str) -> AppResult<Option<SessionRecord>> {
    let mut sessions = SESSIONS.open(tx.txn)?;
    let Some(rec) = sessions.get(&hash.to_owned())? else { return Ok(None) };
    sessions.remove(&hash.to_owned())?;
    USER_SESSIONS.open(tx.txn)?.remove(&(rec.user_id, rec.id))?;
    forget_after_commit(tx, hash);
    // Live connections opened with this session end with it.
    crate::platform::realtime::close_session_after_commit(tx, hash);
    Ok(Some(rec))
}

/// All sessions of a user as (token hash, record).
pub fn list_for_user(txn: &redb::ReadTransaction, user_id: u64) -> AppResult<Vec<(String, SessionRecord)>> {
    let Some(index) = USER_SESSIONS.read(txn)? else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for row in index.range(&(user_id, 0), &(user_id, u64::MAX))? {
        let (_, hash) = row?;
        if let Some(rec) = SESSIONS.get_in(txn, &hash)? {
            out.push((hash, rec));
        }
    }
    Ok(out)
}

/// End every session of a user except `keep` (a token hash). Returns how many ended.
pub fn remove_all_for_user(tx: &Tx, user_id: u64, keep: Option<&str>) -> AppResult<usize> {
    let hashes: Vec<String> = {
        let index = USER_SESSIONS.open(tx.txn)?;
        let rows: AppResult<Vec<_>> = index.range(&(user_id, 0), &(user_id, u64::MAX))?.collect();
        rows?.into_iter().map(|(_, h)| h).filter(|h| Some(h.as_str()) != keep).collect()
    };
    for h in &hashes {
        remove_by_hash(tx, h)?;
    }
    Ok(hashes.len())
}

/// Whether a stored session is still valid at `now`.
pub fn is_live(rec: &SessionRecord, settings: &SecuritySettings, now: i64) -> bool {
    now < rec.expires_at && now - rec.last_seen_at < settings.idle_ms()
}

/// Record activity (called at most once a minute per session to keep writes rare).
pub fn touch(tx: &Tx, hash: &str) -> AppResult<()> {
    let mut sessions = SESSIONS.open(tx.txn)?;
    if let Some(mut rec) = sessions.get(&hash.to_owned())? {
        rec.last_seen_at = tx.now;
        sessions.put(&hash.to_owned(), &rec)?;
        forget_after_commit(tx, hash);
    }
    Ok(())
}

/// Sessions the `Auth` extractor resolved recently (token hash -> record), so a request does
/// not open a snapshot and decode its session. Every change of a stored session ([`touch`],
/// [`remove_by_hash`]) drops the entry in an after-commit hook, which runs before the changing
/// request is answered; a reader that missed puts a record back only if nothing was dropped
/// since its miss (the generation), so a record read from a snapshot older than a sign-out
/// never outlives it. Expiry is still judged on every request.
#[derive(Default)]
pub struct SessionCache {
    state: parking_lot::RwLock<CacheState>,
}

#[derive(Default)]
struct CacheState {
    generation: u64,
    records: std::collections::HashMap<String, SessionRecord>,
}

/// Entries kept at most; the cache starts over when full.
const CACHE_MAX: usize = 20_000;

impl SessionCache {
    /// The cached record, or the generation to pass to [`SessionCache::fill`].
    pub fn get(&self, hash: &str) -> Result<SessionRecord, u64> {
        let s = self.state.read();
        s.records.get(hash).cloned().ok_or(s.generation)
    }

    pub fn fill(&self, generation: u64, hash: &str, rec: &SessionRecord) {
        let mut s = self.state.write();
        if s.generation != generation {
            return;
        }
        if s.records.len() >= CACHE_MAX {
            s.records.clear();
        }
        s.records.insert(hash.to_owned(), rec.clone());
    }

    pub fn forget(&self, hash: &str) {
        let mut s = self.state.write();
        s.generation += 1;
        s.records.remove(hash);
    }
}

fn forget_after_commit(tx: &Tx, hash: &str) {
    if let Some(cache) = tx.service::<SessionCache>() {
        let hash = hash.to_owned();
        tx.after_commit(move || cache.forget(&hash));
    }
}
