//! Realtime delivery: the hub of open sockets ([`hub`]), the `/ws` endpoint ([`ws`]) and the
//! per-user change log `user_events`.
//!
//! Rules (docs/messaging.md):
//! - Publish only after commit: use cases call [`publish`] / [`notify_users`] inside their
//!   write job (the store provides the [`Realtime`] service to it); frames leave through an after-commit hook, in commit order, via one
//!   dispatcher thread (so the writer never does fan-out work and the order is the seq order).
//! - Every persisted event carries the `seq` of the change. A socket that reconnects with
//!   `?since=` gets the backlog from redb (the per-user log here plus every registered [`Feed`]),
//!   merged in seq order, then live frames with seq above what it was sent.
//!
//! Table: `user_events: (user_id, seq) -> event JSON` (the event as sent, `seq` included).
//! Written in the same transaction as the change it announces. A client that was away long gets
//! `resync` once its backlog passes [`ws::MAX_BACKLOG`]; so each user keeps only the newest
//! [`trim::KEEP_PER_USER`] events (an hourly job), which never changes what a client gets.

pub mod hub;
pub mod trim;
pub mod ws;

pub use hub::{Frame, Hub};

use crate::error::AppResult;
use crate::platform::store::{Table, Tx};
use parking_lot::RwLock;
use serde_json::Value;
use std::sync::Arc;

pub const USER_EVENTS: Table<(u64, u64), Value> = Table::new("user_events");

/// A feature's persisted events, for the backlog of a reconnecting socket.
pub trait Feed: Send + Sync {
    /// Events for `user` with seq > `since` visible in `txn`, as `(seq, json)`, any order. May
    /// stop after `max + 1` (the caller then sends `resync`).
    fn backlog(&self, txn: &redb::ReadTransaction, user: u64, since: u64, max: usize) -> AppResult<Vec<(u64, String)>>;

    /// A client frame the platform does not handle itself (e.g. typing): recipients and the
    /// JSON to send them (not persisted), or `None` to ignore it.
    fn client_frame(
        &self,
        _txn: &redb::ReadTransaction,
        _user: u64,
        _frame: &Value,
    ) -> AppResult<Option<(Vec<u64>, String)>> {
        Ok(None)
    }
}

type Dispatch = (Arc<[u64]>, Frame);

/// Held by the platform; cheap to clone into write jobs.
#[derive(Clone)]
pub struct Realtime {
    pub hub: Arc<Hub>,
    dispatch: std::sync::mpsc::Sender<Dispatch>,
    feeds: Arc<RwLock<Vec<Arc<dyn Feed>>>>,
}

impl Default for Realtime {
    fn default() -> Self {
        Self::new()
    }
}

impl Realtime {
    pub fn new() -> Realtime {
        let hub = Arc::new(Hub::default());
        let (tx, rx) = std::sync::mpsc::channel::<Dispatch>();
        let h = hub.clone();
        // Exits when the last sender (the last clone of this Realtime) is gone.
        let spawned = std::thread::Builder::new().name("officebox-fanout".into()).spawn(move || {
            while let Ok((users, frame)) = rx.recv() {
                h.deliver(&users, &frame);
            }
        });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the realtime dispatcher");
        }
        Realtime { hub, dispatch: tx, feeds: Arc::new(RwLock::new(Vec::new())) }
    }

    /// Features register their backlog sources at start (app.rs).
    pub fn add_feed(&self, feed: Arc<dyn Feed>) {
        self.feeds.write().push(feed);
    }

    pub(crate) fn feeds(&self) -> Vec<Arc<dyn Feed>> {
        self.feeds.read().clone()
    }

    /// Prometheus gauges: open sockets, users online, sockets dropped for being slow.
    pub fn gauges(&self) -> Vec<(&'static str, &'static str, f64)> {
        let dropped = self.hub.dropped_slow.load(std::sync::atomic::Ordering::Relaxed);
        vec![
            ("officebox_ws_connections", "Open WebSocket connections.", self.hub.socket_count() as f64),
            ("officebox_ws_users_online", "Users with at least one open WebSocket.", self.hub.online_users() as f64),
            ("officebox_ws_dropped_slow_total", "WebSockets closed for not reading fast enough.", dropped as f64),
        ]
    }

    /// Send an ephemeral frame now (typing, presence): nothing to commit.
    pub fn send_now(&self, users: impl Into<Arc<[u64]>>, json: String) {
        let _ = self.dispatch.send((users.into(), Frame { seq: None, json: json.into() }));
    }
}

/// Send `json` (an event with `seq`, or none for ephemeral ones) to `users` once this
/// transaction is durable. The caller stores the event itself (its own log or table). Without
/// a realtime service (CLI tools) nothing is sent.
pub fn publish(tx: &Tx, users: impl Into<Arc<[u64]>>, seq: Option<u64>, json: String) {
    let Some(rt) = tx.service::<Realtime>() else { return };
    let users = users.into();
    tx.after_commit(move || {
        let _ = rt.dispatch.send((users, Frame { seq, json: json.into() }));
    });
}

/// Close the sockets of session `hash` once this transaction is durable.
pub fn close_session_after_commit(tx: &Tx, hash: &str) {
    let Some(rt) = tx.service::<Realtime>() else { return };
    let hash = hash.to_owned();
    tx.after_commit(move || rt.hub.close_session(&hash));
}

/// Record `event` (a JSON object) in the per-user log of each of `users` under one new seq,
/// and publish it after commit. Returns the seq. `event` gets `"seq"` set.
pub fn notify_users(tx: &Tx, users: &[u64], mut event: Value) -> AppResult<u64> {
    let seq = tx.next_seq()?;
    if let Some(obj) = event.as_object_mut() {
        obj.insert("seq".into(), Value::from(seq));
    }
    let mut table = USER_EVENTS.open(tx.txn)?;
    for u in users {
        table.put(&(*u, seq), &event)?;
    }
    drop(table);
    publish(tx, users.to_vec(), Some(seq), event.to_string());
    Ok(seq)
}

/// The per-user log as a backlog source.
pub(crate) fn user_backlog(
    txn: &redb::ReadTransaction,
    user: u64,
    since: u64,
    max: usize,
) -> AppResult<Vec<(u64, String)>> {
    let Some(t) = USER_EVENTS.read(txn)? else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for row in t.range(&(user, since.saturating_add(1)), &(user, u64::MAX))? {
        let ((_, seq), v) = row?;
        out.push((seq, v.to_string()));
        if out.len() > max {
            break;
        }
    }
    Ok(out)
}
