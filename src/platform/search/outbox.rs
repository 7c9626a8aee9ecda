//! The search outbox: `search_outbox: u64 (global seq) -> OutboxOp`, written in the SAME
//! transaction as the data it describes, drained in key order by the indexer and trimmed once
//! the tantivy commit that applied it is durable.
//!
//! Keys come from the global sequence, so they are gapless and in commit order: a snapshot that
//! sees key K sees every key below K that will ever exist.

use super::SearchDoc;
use crate::error::AppResult;
use crate::platform::store::{Table, Tx};
use parking_lot::{Condvar, Mutex};
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxOp {
    /// Add the document, replacing any with the same key.
    Upsert(SearchDoc),
    /// Remove the document with this key (no-op when absent).
    Delete { key: String },
}

pub const SEARCH_OUTBOX: Table<u64, OutboxOp> = Table::new("search_outbox");
/// The same table read untyped, so a row that does not decode is skipped by key, not fatal.
const RAW_OUTBOX: Table<u64, serde_json::Value> = Table::new("search_outbox");

/// Queue `doc` for indexing, inside the caller's transaction.
pub fn enqueue_upsert(tx: &Tx, doc: SearchDoc) -> AppResult<()> {
    enqueue(tx, &OutboxOp::Upsert(doc))
}

/// Queue the removal of the document `key`, inside the caller's transaction.
///
/// Upserts of the same key still waiting in the outbox are dropped first: deleted content
/// (a recalled message) must not linger in the database or in backups until the indexer runs.
/// This reads the pending rows, which the indexer keeps few (it drains every ~200 ms).
pub fn enqueue_delete(tx: &Tx, key: impl Into<String>) -> AppResult<()> {
    let key = key.into();
    let mut t = RAW_OUTBOX.open(tx.txn)?;
    let mut superseded = Vec::new();
    for row in t.iter()? {
        let (seq, value) = row?;
        if let Ok(OutboxOp::Upsert(doc)) = serde_json::from_value::<OutboxOp>(value) {
            if doc.key == key {
                superseded.push(seq);
            }
        }
    }
    for seq in superseded {
        t.remove(&seq)?;
    }
    drop(t);
    enqueue(tx, &OutboxOp::Delete { key })
}

fn enqueue(tx: &Tx, op: &OutboxOp) -> AppResult<()> {
    let seq = tx.next_seq()?;
    SEARCH_OUTBOX.open(tx.txn)?.put(&seq, op)?;
    // Wake the indexer once the row is committed (never for a transaction that fails): woken
    // before, it would find nothing readable yet.
    tx.after_commit(|| WAKE.nudge());
    Ok(())
}

/// Rows waiting for the indexer.
pub fn depth(txn: &redb::ReadTransaction) -> AppResult<u64> {
    match RAW_OUTBOX.read(txn)? {
        Some(t) => t.len(),
        None => Ok(0),
    }
}

/// One row as the indexer sees it: the op, or `None` when the row does not decode.
pub type Row = (u64, Option<OutboxOp>);

/// Up to `max` rows with key > `after`, in key order.
pub fn read_after(txn: &redb::ReadTransaction, after: u64, max: usize) -> AppResult<Vec<Row>> {
    let Some(t) = RAW_OUTBOX.read(txn)? else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    if after == u64::MAX {
        return Ok(out);
    }
    for row in t.range(&(after + 1), &u64::MAX)?.take(max) {
        let (seq, value) = row?;
        match serde_json::from_value::<OutboxOp>(value) {
            Ok(op) => out.push((seq, Some(op))),
            Err(e) => {
                tracing::error!(seq, error = %e, "search outbox row does not decode; skipping it");
                out.push((seq, None));
            }
        }
    }
    Ok(out)
}

/// Delete every row with key <= `through` (they are in a durable tantivy commit). Returns how
/// many were removed.
pub fn trim(tx: &Tx, through: u64) -> AppResult<u64> {
    let mut t = RAW_OUTBOX.open(tx.txn)?;
    let keys: Vec<u64> = t.range(&0, &through)?.map(|r| r.map(|(k, _)| k)).collect::<AppResult<_>>()?;
    for k in &keys {
        t.remove(k)?;
    }
    Ok(keys.len() as u64)
}

/// Wakes indexers after an enqueue. Process-wide (tests run several servers in one process; a
/// spurious wake-up only costs one empty outbox read).
pub(crate) struct Wake {
    generation: Mutex<u64>,
    cv: Condvar,
}

pub(crate) static WAKE: Wake = Wake { generation: Mutex::new(0), cv: Condvar::new() };

impl Wake {
    pub fn nudge(&self) {
        *self.generation.lock() += 1;
        self.cv.notify_all();
    }

    pub fn generation(&self) -> u64 {
        *self.generation.lock()
    }

    /// Wait until the generation differs from `*seen`, `stop()` holds, or `timeout` passes.
    /// Returns whether a nudge arrived (and updates `*seen`).
    pub fn wait(&self, seen: &mut u64, timeout: Duration, stop: &dyn Fn() -> bool) -> bool {
        let mut g = self.generation.lock();
        if *g == *seen && !stop() {
            self.cv.wait_for(&mut g, timeout);
        }
        let nudged = *g != *seen;
        *seen = *g;
        nudged
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_round_trip_as_json() {
        let op = OutboxOp::Upsert(SearchDoc { key: "person:1".into(), kind: "person".into(), ..Default::default() });
        let v = serde_json::to_value(&op).unwrap();
        assert_eq!(serde_json::from_value::<OutboxOp>(v).unwrap(), op);
        let del = serde_json::to_string(&OutboxOp::Delete { key: "person:2".into() }).unwrap();
        assert_eq!(del, r#"{"delete":{"key":"person:2"}}"#);
    }
}
