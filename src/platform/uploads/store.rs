//! The `uploads` table: `(user, id)` → [`Upload`]. Keyed by the owner so another user's id is
//! simply not found, and a user's unfinished uploads are one range (the per-user cap).

use super::model::Upload;
use crate::error::{AppError, AppResult};
use crate::platform::store::{Table, Tx};

pub const UPLOADS: Table<(u64, u64), Upload> = Table::new("uploads");

/// The caller's upload as of a snapshot.
pub fn get(txn: &redb::ReadTransaction, user: u64, id: u64) -> AppResult<Option<Upload>> {
    UPLOADS.get_in(txn, &(user, id))
}

/// Record a new upload under a fresh id, unless the user already has `max_pending`.
pub fn create(tx: &Tx, mut up: Upload, max_pending: usize) -> AppResult<Upload> {
    let mut t = UPLOADS.open(tx.txn)?;
    if t.range(&(up.user, 0), &(up.user, u64::MAX))?.count() >= max_pending {
        return Err(AppError::new(
            actix_web::http::StatusCode::TOO_MANY_REQUESTS,
            "too_many_uploads",
            format!("You have {max_pending} unfinished uploads; finish or cancel some first"),
        ));
    }
    up.id = tx.next_seq()?;
    t.put(&(up.user, up.id), &up)?;
    Ok(up)
}

/// Persist progress: the new durable offset and the renewed expiry. 404 if the upload was
/// removed meanwhile (terminated, expired).
pub fn advance(tx: &Tx, user: u64, id: u64, offset: u64, expires_at: i64) -> AppResult<Upload> {
    let mut t = UPLOADS.open(tx.txn)?;
    let mut up = t.get(&(user, id))?.ok_or_else(|| AppError::not_found("upload"))?;
    up.offset = offset;
    up.expires_at = expires_at;
    t.put(&(user, id), &up)?;
    Ok(up)
}

/// Remove the row; returns it if it existed.
pub fn remove(tx: &Tx, user: u64, id: u64) -> AppResult<Option<Upload>> {
    let mut t = UPLOADS.open(tx.txn)?;
    let up = t.get(&(user, id))?;
    if up.is_some() {
        t.remove(&(user, id))?;
    }
    Ok(up)
}

/// Every upload whose expiry has passed at `now`, from a snapshot.
pub fn expired(txn: &redb::ReadTransaction, now: i64) -> AppResult<Vec<Upload>> {
    Ok(UPLOADS.all_in(txn)?.into_iter().map(|(_, u)| u).filter(|u| u.expires_at <= now).collect())
}

/// Ids of every upload (the temp-file sweep keeps their files).
pub fn all_ids(txn: &redb::ReadTransaction) -> AppResult<std::collections::HashSet<u64>> {
    let Some(t) = UPLOADS.read(txn)? else { return Ok(Default::default()) };
    let mut ids = std::collections::HashSet::new();
    for key in t.keys(&(0, 0), &(u64::MAX, u64::MAX))? {
        ids.insert(key?.1);
    }
    Ok(ids)
}
