//! The hub: which sockets are open for which user, and delivery to them.
//!
//! Every socket has a bounded queue ([`QUEUE_FRAMES`]). Delivery never waits: a socket whose
//! queue is full is dropped from the hub (its task sees the queue close and ends the connection
//! with close code 1013, try again later), and the client reconnects with its last seq. Memory per socket is thus
//! bounded whatever the client does.
//!
//! Presence is derived from the hub: a user is online while they have at least one socket.
//! Sockets may watch up to [`MAX_WATCHED`] users and get a presence frame on every change.

use parking_lot::RwLock;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Frames queued per socket before it counts as too slow.
pub const QUEUE_FRAMES: usize = 512;
/// Users one socket may watch for presence.
pub const MAX_WATCHED: usize = 500;

/// One frame for a socket: the JSON text and, for persisted events, its sequence number.
#[derive(Clone, Debug)]
pub struct Frame {
    pub seq: Option<u64>,
    pub json: Arc<str>,
}

struct Client {
    user: u64,
    /// Hash of the session the socket was opened with (closed when the session ends).
    session: String,
    tx: mpsc::Sender<Frame>,
    watching: Vec<u64>,
}

#[derive(Default)]
struct State {
    clients: HashMap<u64, Client>,
    by_user: HashMap<u64, Vec<u64>>,
    watchers: HashMap<u64, HashSet<u64>>,
}

#[derive(Default)]
pub struct Hub {
    state: RwLock<State>,
    next_id: AtomicU64,
    pub dropped_slow: AtomicU64,
}

/// What a registered socket holds: its id and the receiving end of its queue.
pub struct Registration {
    pub client_id: u64,
    pub rx: mpsc::Receiver<Frame>,
}

impl Hub {
    /// Add a socket for `user`. Announces the user online to watchers if this is their first.
    pub fn register(&self, user: u64, session: &str) -> Registration {
        let (tx, rx) = mpsc::channel(QUEUE_FRAMES);
        let client_id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let first = {
            let mut s = self.state.write();
            s.clients.insert(client_id, Client { user, session: session.to_owned(), tx, watching: Vec::new() });
            let list = s.by_user.entry(user).or_default();
            list.push(client_id);
            list.len() == 1
        };
        if first {
            self.announce_presence(user, true);
        }
        Registration { client_id, rx }
    }

    /// Remove a socket (idempotent). Announces the user offline when it was their last.
    pub fn unregister(&self, client_id: u64) {
        let gone_user = {
            let mut s = self.state.write();
            remove_client(&mut s, client_id)
        };
        if let Some(user) = gone_user {
            self.announce_presence(user, false);
        }
    }

    pub fn is_online(&self, user: u64) -> bool {
        self.state.read().by_user.get(&user).is_some_and(|l| !l.is_empty())
    }

    pub fn socket_count(&self) -> usize {
        self.state.read().clients.len()
    }

    pub fn sockets_of(&self, user: u64) -> usize {
        self.state.read().by_user.get(&user).map_or(0, Vec::len)
    }

    pub fn online_users(&self) -> usize {
        self.state.read().by_user.len()
    }

    /// Queue `frame` on every socket of every user in `users`. Slow sockets are dropped.
    pub fn deliver(&self, users: &[u64], frame: &Frame) {
        let mut slow = Vec::new();
        {
            let s = self.state.read();
            for user in users {
                for id in s.by_user.get(user).map(Vec::as_slice).unwrap_or(&[]) {
                    if let Some(c) = s.clients.get(id) {
                        if c.tx.try_send(frame.clone()).is_err() {
                            slow.push(*id);
                        }
                    }
                }
            }
        }
        self.drop_slow(slow);
    }

    /// Queue `frame` on one socket.
    pub fn deliver_to_client(&self, client_id: u64, frame: &Frame) {
        let full = {
            let s = self.state.read();
            s.clients.get(&client_id).is_some_and(|c| c.tx.try_send(frame.clone()).is_err())
        };
        if full {
            self.drop_slow(vec![client_id]);
        }
    }

    fn drop_slow(&self, ids: Vec<u64>) {
        for id in ids {
            tracing::info!(client = id, "dropping a websocket that does not keep up");
            self.dropped_slow.fetch_add(1, Ordering::Relaxed);
            self.unregister(id);
        }
    }

    /// Replace the users `client_id` watches; answers with their current presence.
    pub fn watch(&self, client_id: u64, mut users: Vec<u64>) {
        users.sort_unstable();
        users.dedup();
        users.truncate(MAX_WATCHED);
        {
            let mut s = self.state.write();
            let Some(c) = s.clients.get_mut(&client_id) else { return };
            let old = std::mem::replace(&mut c.watching, users.clone());
            for u in old {
                if let Some(w) = s.watchers.get_mut(&u) {
                    w.remove(&client_id);
                    if w.is_empty() {
                        s.watchers.remove(&u);
                    }
                }
            }
            for u in &users {
                s.watchers.entry(*u).or_default().insert(client_id);
            }
        }
        for u in users {
            self.deliver_to_client(client_id, &presence_frame(u, self.is_online(u)));
        }
    }

    fn announce_presence(&self, user: u64, online: bool) {
        let watchers: Vec<u64> =
            self.state.read().watchers.get(&user).map(|w| w.iter().copied().collect()).unwrap_or_default();
        let frame = presence_frame(user, online);
        for id in watchers {
            self.deliver_to_client(id, &frame);
        }
    }

    /// Close every socket opened with session `hash` (signed out, revoked, password changed):
    /// each gets a `session_ended` frame, then its queue closes.
    pub fn close_session(&self, hash: &str) {
        let ids: Vec<u64> =
            self.state.read().clients.iter().filter(|(_, c)| c.session == hash).map(|(id, _)| *id).collect();
        let frame = Frame { seq: None, json: Arc::from(super::ws::SESSION_ENDED) };
        for id in ids {
            self.deliver_to_client(id, &frame);
            self.unregister(id);
        }
    }

    /// The user a socket belongs to.
    pub fn user_of(&self, client_id: u64) -> Option<u64> {
        self.state.read().clients.get(&client_id).map(|c| c.user)
    }
}

fn remove_client(s: &mut State, client_id: u64) -> Option<u64> {
    let c = s.clients.remove(&client_id)?;
    for u in &c.watching {
        if let Some(w) = s.watchers.get_mut(u) {
            w.remove(&client_id);
            if w.is_empty() {
                s.watchers.remove(u);
            }
        }
    }
    let list = s.by_user.get_mut(&c.user)?;
    list.retain(|id| *id != client_id);
    if list.is_empty() {
        s.by_user.remove(&c.user);
        return Some(c.user);
    }
    None
}

fn presence_frame(user: u64, online: bool) -> Frame {
    let json = serde_json::json!({"type": "presence", "user_id": user, "online": online}).to_string();
    Frame { seq: None, json: json.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(seq: u64) -> Frame {
        Frame { seq: Some(seq), json: Arc::from("{}") }
    }

    #[test]
    fn delivers_to_every_socket_of_a_user() {
        let hub = Hub::default();
        let mut a = hub.register(1, "s");
        let mut b = hub.register(1, "s");
        let mut c = hub.register(2, "s");
        hub.deliver(&[1], &frame(5));
        assert_eq!(a.rx.try_recv().ok().and_then(|f| f.seq), Some(5));
        assert_eq!(b.rx.try_recv().ok().and_then(|f| f.seq), Some(5));
        assert!(c.rx.try_recv().is_err());
    }

    #[test]
    fn a_slow_socket_is_dropped_not_buffered() {
        let hub = Hub::default();
        let mut slow = hub.register(1, "s");
        for i in 0..(QUEUE_FRAMES as u64 + 10) {
            hub.deliver(&[1], &frame(i));
        }
        assert_eq!(hub.socket_count(), 0);
        assert_eq!(hub.dropped_slow.load(Ordering::Relaxed), 1);
        // The queue holds what was accepted, then reports closed.
        let mut n = 0;
        while slow.rx.try_recv().is_ok() {
            n += 1;
        }
        assert_eq!(n, QUEUE_FRAMES);
    }

    #[test]
    fn presence_follows_the_first_and_last_socket() {
        let hub = Hub::default();
        let mut watcher = hub.register(9, "s");
        hub.watch(watcher.client_id, vec![1]);
        let f = watcher.rx.try_recv().map(|f| f.json.to_string()).unwrap_or_default();
        assert!(f.contains("\"online\":false"), "{f}");
        let a = hub.register(1, "s");
        let b = hub.register(1, "s");
        assert!(watcher.rx.try_recv().map(|f| f.json.contains("\"online\":true")).unwrap_or(false));
        hub.unregister(a.client_id);
        assert!(watcher.rx.try_recv().is_err(), "still online on the other socket");
        hub.unregister(b.client_id);
        assert!(watcher.rx.try_recv().map(|f| f.json.contains("\"online\":false")).unwrap_or(false));
    }
}
