//! Announcement tables and the functions that keep their indexes in step, always inside the
//! caller's transaction. Table list and invariants: see the module docs in `mod.rs`.

use super::model::{Delivery, Notice, NoticeBody, Upload, MAX_PENDING_UPLOADS};
use crate::error::{AppError, AppResult};
use crate::platform::blobs;
use crate::platform::store::{Table, Tx};

pub const NOTICES: Table<u64, Notice> = Table::new("notices");
pub const NOTICE_BODIES: Table<u64, NoticeBody> = Table::new("notice_bodies");
/// (notice id, member id) -> the member's copy.
pub const NOTICE_DELIVERIES: Table<(u64, u64), Delivery> = Table::new("notice_deliveries");
/// (member id, rank, notice id): the member's centre in display order (see `Notice::rank`).
pub const NOTICE_INBOX: Table<(u64, u64, u64), ()> = Table::new("notice_inbox");
/// (publisher id, notice id): "my announcements".
pub const NOTICE_BY_PUBLISHER: Table<(u64, u64), ()> = Table::new("notice_by_publisher");
/// (publish_at, notice id) of scheduled notices, for the publishing job.
pub const NOTICE_DUE: Table<(u64, u64), ()> = Table::new("notice_due");
/// (member id, upload id) -> a file uploaded for a notice not written yet.
pub const NOTICE_UPLOADS: Table<(u64, u64), Upload> = Table::new("notice_uploads");

fn due_key(n: &Notice) -> Option<(u64, u64)> {
    match (n.published_at, n.publish_at) {
        (None, Some(at)) => Some((at.max(0) as u64, n.id)),
        _ => None,
    }
}

pub fn get_in(tx: &Tx, id: u64) -> AppResult<Option<Notice>> {
    NOTICES.open(tx.txn)?.get(&id)
}

pub fn require_in(tx: &Tx, id: u64) -> AppResult<Notice> {
    get_in(tx, id)?.ok_or_else(|| AppError::not_found("announcement"))
}

pub fn body_in(tx: &Tx, id: u64) -> AppResult<NoticeBody> {
    Ok(NOTICE_BODIES.open(tx.txn)?.get(&id)?.unwrap_or_default())
}

/// Write a notice and keep the publisher and schedule indexes in line with it.
pub fn put_notice(tx: &Tx, old: Option<&Notice>, n: &Notice) -> AppResult<()> {
    let mut due = NOTICE_DUE.open(tx.txn)?;
    if let Some(k) = old.and_then(due_key) {
        due.remove(&k)?;
    }
    if let Some(k) = due_key(n) {
        due.put(&k, &())?;
    }
    NOTICE_BY_PUBLISHER.open(tx.txn)?.put(&(n.publisher_id, n.id), &())?;
    NOTICES.open(tx.txn)?.put(&n.id, n)
}

pub fn put_body(tx: &Tx, id: u64, body: &NoticeBody) -> AppResult<()> {
    NOTICE_BODIES.open(tx.txn)?.put(&id, body)
}

/// Give each of `users` an unread copy of the published notice `n`.
pub fn deliver(tx: &Tx, n: &Notice, users: &[u64]) -> AppResult<()> {
    let mut deliveries = NOTICE_DELIVERIES.open(tx.txn)?;
    let mut inbox = NOTICE_INBOX.open(tx.txn)?;
    let rank = n.rank(true);
    for &u in users {
        deliveries.put(&(n.id, u), &Delivery { delivered_at: tx.now, ..Delivery::default() })?;
        inbox.put(&(u, rank, n.id), &())?;
    }
    Ok(())
}

pub fn delivery_in(tx: &Tx, id: u64, user: u64) -> AppResult<Option<Delivery>> {
    NOTICE_DELIVERIES.open(tx.txn)?.get(&(id, user))
}

/// Store a changed copy; moves the centre entry when it became read.
pub fn put_delivery(tx: &Tx, n: &Notice, user: u64, old: &Delivery, d: &Delivery) -> AppResult<()> {
    if old.read_at.is_none() && d.read_at.is_some() {
        let mut inbox = NOTICE_INBOX.open(tx.txn)?;
        inbox.remove(&(user, n.rank(true), n.id))?;
        inbox.put(&(user, n.rank(false), n.id), &())?;
    }
    NOTICE_DELIVERIES.open(tx.txn)?.put(&(n.id, user), d)
}

/// Every copy of a notice, by member id.
pub fn deliveries_in(tx: &Tx, id: u64) -> AppResult<Vec<(u64, Delivery)>> {
    let t = NOTICE_DELIVERIES.open(tx.txn)?;
    let rows = t.range(&(id, 0), &(id, u64::MAX))?.map(|r| r.map(|((_, u), d)| (u, d))).collect();
    rows
}

pub fn deliveries(txn: &redb::ReadTransaction, id: u64) -> AppResult<Vec<(u64, Delivery)>> {
    let Some(t) = NOTICE_DELIVERIES.read(txn)? else { return Ok(Vec::new()) };
    let rows = t.range(&(id, 0), &(id, u64::MAX))?.map(|r| r.map(|((_, u), d)| (u, d))).collect();
    rows
}

/// Remove a notice with everything that points at it and release its files. Returns the
/// members who had a copy.
pub fn remove_notice(tx: &Tx, n: &Notice) -> AppResult<Vec<u64>> {
    let copies = deliveries_in(tx, n.id)?;
    {
        let mut deliveries = NOTICE_DELIVERIES.open(tx.txn)?;
        let mut inbox = NOTICE_INBOX.open(tx.txn)?;
        for (u, d) in &copies {
            inbox.remove(&(*u, n.rank(d.read_at.is_none()), n.id))?;
            deliveries.remove(&(n.id, *u))?;
        }
    }
    if let Some(k) = due_key(n) {
        NOTICE_DUE.open(tx.txn)?.remove(&k)?;
    }
    NOTICE_BY_PUBLISHER.open(tx.txn)?.remove(&(n.publisher_id, n.id))?;
    NOTICE_BODIES.open(tx.txn)?.remove(&n.id)?;
    NOTICES.open(tx.txn)?.remove(&n.id)?;
    for sha in n.shas() {
        blobs::release_ref(tx, &sha)?;
    }
    Ok(copies.into_iter().map(|(u, _)| u).collect())
}

/// Scheduled notices due at `now`, oldest first (at most `max`).
pub fn due_in(tx: &Tx, now: i64, max: usize) -> AppResult<Vec<u64>> {
    let t = NOTICE_DUE.open(tx.txn)?;
    let ids = t.range(&(0, 0), &(now.max(0) as u64, u64::MAX))?.take(max).map(|r| r.map(|((_, id), ())| id)).collect();
    ids
}

// ---- uploads ----

/// Record an upload (the row holds one blob reference). Refuses past the per-member limit.
pub fn add_upload(tx: &Tx, user: u64, upload: &Upload) -> AppResult<u64> {
    let mut t = NOTICE_UPLOADS.open(tx.txn)?;
    if t.range(&(user, 0), &(user, u64::MAX))?.count() >= MAX_PENDING_UPLOADS {
        return Err(AppError::conflict(
            "too_many_uploads",
            "You have too many unused uploads; publish or wait a day for them to expire",
        ));
    }
    let id = tx.next_seq()?;
    t.put(&(user, id), upload)?;
    drop(t);
    blobs::add_ref(tx, &upload.file.sha)?;
    Ok(id)
}

/// Take `user`'s upload of `sha` out of the pending list; its blob reference passes to the
/// caller (the notice that uses it).
pub fn take_upload(tx: &Tx, user: u64, sha: &str) -> AppResult<Option<Upload>> {
    let mut t = NOTICE_UPLOADS.open(tx.txn)?;
    let mut found = None;
    for row in t.range(&(user, 0), &(user, u64::MAX))? {
        let (key, u) = row?;
        if u.file.sha == sha {
            found = Some((key, u));
            break;
        }
    }
    match found {
        Some((key, u)) => {
            t.remove(&key)?;
            Ok(Some(u))
        }
        None => Ok(None),
    }
}

pub fn find_upload(txn: &redb::ReadTransaction, user: u64, sha: &str) -> AppResult<Option<Upload>> {
    let Some(t) = NOTICE_UPLOADS.read(txn)? else { return Ok(None) };
    for row in t.range(&(user, 0), &(user, u64::MAX))? {
        let (_, u) = row?;
        if u.file.sha == sha {
            return Ok(Some(u));
        }
    }
    Ok(None)
}

/// Drop uploads created before `before` and release their files. Returns how many.
pub fn purge_uploads(tx: &Tx, before: i64) -> AppResult<usize> {
    let mut t = NOTICE_UPLOADS.open(tx.txn)?;
    let mut stale = Vec::new();
    for row in t.iter()? {
        let (key, u) = row?;
        if u.created_at < before {
            stale.push((key, u.file.sha));
        }
    }
    for (key, _) in &stale {
        t.remove(key)?;
    }
    drop(t);
    for (_, sha) in &stale {
        blobs::release_ref(tx, sha)?;
    }
    Ok(stale.len())
}
