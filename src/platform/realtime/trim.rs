//! Keeps `user_events` bounded: each user keeps only the newest [`KEEP_PER_USER`] events.
//!
//! Why a count and not an age: a reconnect replays at most [`ws::MAX_BACKLOG`] events; with
//! more missed, the client gets `resync` and reloads its lists. Keeping one event more than
//! that means trimming never changes what a client gets: if any event after its `since` was
//! trimmed, every kept event (all newer) is after `since` too, so it still sees more than
//! `MAX_BACKLOG` and gets `resync`, exactly as it would have with nothing trimmed.

use super::{ws, USER_EVENTS};
use crate::error::AppResult;
use crate::platform::jobs::{self, First};
use crate::platform::store::table::WriteHandle;
use crate::platform::store::Tx;
use crate::platform::Platform;
use serde_json::Value;

pub const KEEP_PER_USER: usize = ws::MAX_BACKLOG + 1;

/// Rows removed in one write transaction at most, so a first trim of a large log never holds
/// the writer for long.
const BATCH: usize = 5_000;

/// Hourly, and once at start.
pub fn start_job(p: &actix_web::web::Data<Platform>) {
    let hourly = std::time::Duration::from_secs(3600);
    jobs::every(p, "old realtime events", hourly, First::AtStart, |p| async move { trim_user_events(&p).await });
}

/// Trim every user's log; returns how many events went.
pub async fn trim_user_events(p: &Platform) -> AppResult<usize> {
    let (mut total, mut from_user) = (0, 0);
    loop {
        let (removed, next) = p.store.write(move |tx| trim_some(tx, from_user, BATCH)).await?;
        total += removed;
        match next {
            Some(u) => from_user = u,
            None => return Ok(total),
        }
    }
}

/// Trim the logs of users `>= from_user` until about `budget` rows went; returns the rows removed
/// and the user to go on from, `None` when every user was done.
pub fn trim_some(tx: &Tx, from_user: u64, budget: usize) -> AppResult<(usize, Option<u64>)> {
    let mut table = USER_EVENTS.open(tx.txn)?;
    let (mut removed, mut from) = (0, from_user);
    loop {
        // The next user with events: the first key at or after (from, 0).
        let Some((user, _)) = table.keys(&(from, 0), &(u64::MAX, u64::MAX))?.next().transpose()? else {
            return Ok((removed, None));
        };
        removed += trim_user(&mut table, user, budget - removed)?;
        if removed >= budget {
            return Ok((removed, Some(user))); // it may have more
        }
        match user.checked_add(1) {
            Some(next) => from = next,
            None => return Ok((removed, None)),
        }
    }
}

/// Remove up to `max` of `user`'s events older than their newest [`KEEP_PER_USER`].
fn trim_user(table: &mut WriteHandle<'_, (u64, u64), Value>, user: u64, max: usize) -> AppResult<usize> {
    let oldest_kept = table.keys(&(user, 0), &(user, u64::MAX))?.rev().nth(KEEP_PER_USER - 1).transpose()?;
    let Some(last_old) = oldest_kept.and_then(|(_, seq)| seq.checked_sub(1)) else { return Ok(0) };
    let old: Vec<(u64, u64)> = table.keys(&(user, 0), &(user, last_old))?.take(max).collect::<AppResult<_>>()?;
    for k in &old {
        table.remove(k)?;
    }
    Ok(old.len())
}
