//! The per-user event log stays bounded without changing what a reconnecting client receives.

use crate::chat_support::*;
use officebox::platform::realtime::{self, trim, ws::MAX_BACKLOG, USER_EVENTS};
use serde_json::{json, Value};
use std::time::Duration;

/// Record `n` events for `user`; their seqs in order.
fn events_for(w: &World, user: u64, n: usize) -> Vec<u64> {
    w.s.platform
        .store
        .write_blocking(move |tx| {
            (0..n).map(|i| realtime::notify_users(tx, &[user], json!({"type": "probe", "i": i}))).collect()
        })
        .expect("events")
}

fn logged(w: &World, user: u64) -> usize {
    let txn = w.s.platform.store.begin_read().expect("snapshot");
    let t = USER_EVENTS.read(&txn).expect("table").expect("exists");
    t.keys(&(user, 0), &(user, u64::MAX)).expect("keys").count()
}

/// What a socket reconnecting with `since` gets before `hello`: probe indexes, or `None` when
/// it is told to resync.
fn replay(w: &World, token: &str, since: u64) -> Option<Vec<u64>> {
    let mut ws = Ws::connect(&w.s.base, token, Some(since));
    let mut probes = Vec::new();
    loop {
        let f: Value = ws.next(Duration::from_secs(5)).expect("a frame before hello");
        match f["type"].as_str() {
            Some("resync") => return None,
            Some("hello") => return Some(probes),
            Some("probe") => probes.push(f["i"].as_u64().expect("index")),
            _ => {}
        }
    }
}

#[test]
fn trimming_old_events_never_changes_what_a_reconnect_receives() {
    let w = world();
    let (a, b) = (w.person("ta", "裁剪甲"), w.person("tb", "裁剪乙"));
    let extra = 50;
    let seqs = events_for(&w, b.id, trim::KEEP_PER_USER + extra);
    events_for(&w, a.id, 10);
    let (before_a, before_b) = (logged(&w, a.id), logged(&w, b.id));
    assert!(before_b >= trim::KEEP_PER_USER + extra);

    // The boundary, before trimming: MAX_BACKLOG missed events are replayed, one more is a resync.
    let last = seqs.len() as u64 - 1;
    let exact = seqs[seqs.len() - 1 - MAX_BACKLOG];
    let want: Vec<u64> = (last + 1 - MAX_BACKLOG as u64..=last).collect();
    assert_eq!(replay(&w, &b.token, exact).as_deref(), Some(&want[..]));
    assert_eq!(replay(&w, &b.token, exact - 1), None);
    assert_eq!(replay(&w, &b.token, seqs[0] - 1), None);

    // Trim in small transactions (the budget path), then check nothing else changed.
    let (mut removed, mut from) = (0, 0);
    loop {
        let (n, next) = w.s.platform.store.write_blocking(move |tx| trim::trim_some(tx, from, 7)).expect("trim");
        assert!(n <= 7, "the budget holds: {n}");
        removed += n;
        match next {
            Some(u) => from = u,
            None => break,
        }
    }
    assert_eq!(removed, before_b - trim::KEEP_PER_USER, "only b's oldest go");
    assert_eq!(logged(&w, b.id), trim::KEEP_PER_USER);
    assert_eq!(logged(&w, a.id), before_a, "a short log is kept whole");
    assert_eq!(replay(&w, &b.token, exact).as_deref(), Some(&want[..]), "the same replay after trimming");
    assert_eq!(replay(&w, &b.token, exact - 1), None, "still a resync, not a replay with a hole");
    assert_eq!(replay(&w, &b.token, seqs[0] - 1), None);

    // The job's entry point finds nothing more to do; live events still arrive.
    let again = actix_web::rt::System::new().block_on(trim::trim_user_events(&w.s.platform)).expect("trim");
    assert_eq!(again, 0);
    let mut ws = Ws::connect(&w.s.base, &b.token, None);
    ws.expect("hello");
    events_for(&w, b.id, 1);
    assert_eq!(ws.expect("probe")["i"], 0);
}
