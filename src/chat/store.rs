//! Chat tables and the functions that read and write them inside a transaction.
//!
//! Tables (all keyed by integer tuples; conversation and message ids come from the global seq):
//! - `chat_conversations: conv -> Conversation` (header; rewritten on every message).
//! - `chat_members: (conv, user) -> MemberRow` (membership, read cursor). Invariant: exactly the
//!   keys of `chat_user_convs` with the tuple swapped; `Conversation::member_count` is their count.
//! - `chat_user_convs: (user, conv) -> UserConv` (the user's settings for the conversation).
//! - `chat_messages: (conv, seq) -> Message`.
//! - `chat_conv_events: (conv, seq) -> event JSON` (recalls, receipts, group changes: what every
//!   member's sockets were sent, for reconnect backlogs).
//! - `chat_direct: (low user, high user) -> conv` (one 1:1 chat per pair).
//! - `chat_send_ids: "day|client_id|conv|sender" -> seq` (idempotent sends, kept 1–2 days; see
//!   [`send_id_keys`]).
//! - `chat_favorites: (user, id) -> Favorite`.
//! - `chat_join_requests: (conv, id) -> JoinRequest`.
//! - `chat_department_groups: (department, conv) -> ()` (department groups to keep in sync).

use super::model::{Conversation, Favorite, JoinRequest, MemberRow, Message, UserConv};
use crate::error::{AppError, AppResult};
use crate::platform::blobs;
use crate::platform::store::{Table, Tx};
use serde_json::Value;

pub const CONVERSATIONS: Table<u64, Conversation> = Table::new("chat_conversations");
pub const MEMBERS: Table<(u64, u64), MemberRow> = Table::new("chat_members");
pub const USER_CONVS: Table<(u64, u64), UserConv> = Table::new("chat_user_convs");
pub const MESSAGES: Table<(u64, u64), Message> = Table::new("chat_messages");
pub const CONV_EVENTS: Table<(u64, u64), Value> = Table::new("chat_conv_events");
pub const DIRECT: Table<(u64, u64), u64> = Table::new("chat_direct");
pub const SEND_IDS: Table<String, u64> = Table::new("chat_send_ids");
pub const FAVORITES: Table<(u64, u64), Favorite> = Table::new("chat_favorites");
pub const JOIN_REQUESTS: Table<(u64, u64), JoinRequest> = Table::new("chat_join_requests");
pub const DEPARTMENT_GROUPS: Table<(u64, u64), ()> = Table::new("chat_department_groups");

pub fn conversation(tx: &Tx, id: u64) -> AppResult<Option<Conversation>> {
    CONVERSATIONS.open(tx.txn)?.get(&id)
}

pub fn put_conversation(tx: &Tx, c: &Conversation) -> AppResult<()> {
    CONVERSATIONS.open(tx.txn)?.put(&c.id, c)
}

/// The conversation if `user` is a member, else 404 (never 403: ids must not leak).
pub fn conversation_for(tx: &Tx, id: u64, user: u64) -> AppResult<(Conversation, MemberRow)> {
    let member = MEMBERS.open(tx.txn)?.get(&(id, user))?.ok_or_else(|| AppError::not_found("conversation"))?;
    let conv = conversation(tx, id)?.ok_or_else(|| AppError::not_found("conversation"))?;
    Ok((conv, member))
}

/// The same check against a snapshot.
pub fn conversation_for_read(txn: &redb::ReadTransaction, id: u64, user: u64) -> AppResult<(Conversation, MemberRow)> {
    let member = MEMBERS.get_in(txn, &(id, user))?.ok_or_else(|| AppError::not_found("conversation"))?;
    let conv = CONVERSATIONS.get_in(txn, &id)?.ok_or_else(|| AppError::not_found("conversation"))?;
    Ok((conv, member))
}

/// The member ids of a conversation (keys only: the rows are not decoded).
pub fn member_ids(tx: &Tx, conv: u64) -> AppResult<Vec<u64>> {
    let t = MEMBERS.open(tx.txn)?;
    let mut out = Vec::new();
    for key in t.keys(&(conv, 0), &(conv, u64::MAX))? {
        out.push(key?.1);
    }
    Ok(out)
}

pub fn member_rows_read(txn: &redb::ReadTransaction, conv: u64) -> AppResult<Vec<(u64, MemberRow)>> {
    let Some(t) = MEMBERS.read(txn)? else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for row in t.range(&(conv, 0), &(conv, u64::MAX))? {
        let ((_, user), m) = row?;
        out.push((user, m));
    }
    Ok(out)
}

/// Add `user` to the conversation (no-op when already a member). Keeps both membership tables
/// and the member count in step. Returns true when added.
pub fn add_member(tx: &Tx, conv: &mut Conversation, user: u64, row: MemberRow) -> AppResult<bool> {
    let mut members = MEMBERS.open(tx.txn)?;
    if members.contains(&(conv.id, user))? {
        return Ok(false);
    }
    members.put(&(conv.id, user), &row)?;
    drop(members);
    let mut uc = USER_CONVS.open(tx.txn)?;
    let prev = uc.get(&(user, conv.id))?.unwrap_or_default();
    uc.put(&(user, conv.id), &UserConv { hidden: false, ..prev })?;
    conv.member_count += 1;
    Ok(true)
}

/// Remove `user` (no-op when not a member). Returns true when removed.
pub fn remove_member(tx: &Tx, conv: &mut Conversation, user: u64) -> AppResult<bool> {
    if !MEMBERS.open(tx.txn)?.remove(&(conv.id, user))? {
        return Ok(false);
    }
    USER_CONVS.open(tx.txn)?.remove(&(user, conv.id))?;
    conv.member_count = conv.member_count.saturating_sub(1);
    conv.admin_ids.retain(|a| *a != user);
    conv.muted_member_ids.retain(|a| *a != user);
    Ok(true)
}

pub fn put_member_row(tx: &Tx, conv: u64, user: u64, row: &MemberRow) -> AppResult<()> {
    MEMBERS.open(tx.txn)?.put(&(conv, user), row)
}

pub fn user_conv(tx: &Tx, user: u64, conv: u64) -> AppResult<UserConv> {
    Ok(USER_CONVS.open(tx.txn)?.get(&(user, conv))?.unwrap_or_default())
}

pub fn put_user_conv(tx: &Tx, user: u64, conv: u64, uc: &UserConv) -> AppResult<()> {
    USER_CONVS.open(tx.txn)?.put(&(user, conv), uc)
}

/// Store a new message and keep the blobs it references alive.
pub fn insert_message(tx: &Tx, m: &Message) -> AppResult<()> {
    for sha in m.blobs() {
        blobs::add_ref(tx, &sha)?;
    }
    MESSAGES.open(tx.txn)?.put(&(m.conversation_id, m.seq), m)
}

pub fn message(tx: &Tx, conv: u64, seq: u64) -> AppResult<Option<Message>> {
    MESSAGES.open(tx.txn)?.get(&(conv, seq))
}

/// Replace a message by its tombstone: the content and the blob references go.
pub fn tombstone_message(tx: &Tx, m: Message, by: u64) -> AppResult<Message> {
    for sha in m.blobs() {
        blobs::release_ref(tx, &sha)?;
    }
    let t = m.into_tombstone(by, tx.now);
    MESSAGES.open(tx.txn)?.put(&(t.conversation_id, t.seq), &t)?;
    Ok(t)
}

/// Record an event every member was sent (for reconnect backlogs).
pub fn put_conv_event(tx: &Tx, conv: u64, seq: u64, event: &Value) -> AppResult<()> {
    CONV_EVENTS.open(tx.txn)?.put(&(conv, seq), event)
}

pub fn direct_key(a: u64, b: u64) -> (u64, u64) {
    (a.min(b), a.max(b))
}

const DAY_MS: i64 = 86_400_000;

/// A retried send is recognised for 24 to 48 hours (today's and yesterday's bucket).
pub const SEND_ID_DAYS: i64 = 2;

fn send_id_day(now: i64) -> i64 {
    now.div_euclid(DAY_MS)
}

/// Keys under which a send with this `client_id` may have been recorded: today's bucket first
/// (where a new send is recorded), then yesterday's.
///
/// Why the day and the client id lead the key: every send writes one entry, and with
/// `conv:sender:client_id` each sender's entries lived on their own B-tree leaf, so a group
/// commit of 16 senders dirtied 16 leaves (about half the pages of a commit). Clients send
/// time-ordered ids (the SPA: base-36 milliseconds first), so new entries append to the right
/// edge of today's bucket, and whole days are trimmed with one range walk from the left.
pub fn send_id_keys(now: i64, conv: u64, sender: u64, client_id: &str) -> [String; 2] {
    let day = send_id_day(now);
    [day, day - 1].map(|d| format!("{d:06}|{client_id}|{conv}|{sender}"))
}

/// Migration 2: `chat_client_ids` ("conv:sender:client_id", never trimmed) gives way to
/// `chat_send_ids`. Its entries only guard retries in flight at the upgrade, so they are dropped.
pub fn drop_old_client_ids(txn: &redb::WriteTransaction) -> AppResult<()> {
    let old: redb::TableDefinition<String, &[u8]> = redb::TableDefinition::new("chat_client_ids");
    match txn.delete_table(old) {
        Ok(_) => Ok(()),
        Err(e) => Err(AppError::internal(e)),
    }
}

/// Drop idempotency entries older than [`SEND_ID_DAYS`]; returns how many went.
pub fn trim_send_ids(tx: &Tx, limit: usize) -> AppResult<usize> {
    let first_kept = format!("{:06}|", send_id_day(tx.now) - (SEND_ID_DAYS - 1));
    let mut table = SEND_IDS.open(tx.txn)?;
    let old: Vec<String> = table.keys(&String::new(), &first_kept)?.take(limit).collect::<AppResult<_>>()?;
    for k in &old {
        table.remove(k)?;
    }
    Ok(old.len())
}

/// Messages of a conversation in `[from, to]`, ascending, at most `limit`, skipping nothing.
pub fn messages_between(
    txn: &redb::ReadTransaction,
    conv: u64,
    from: u64,
    to: u64,
    limit: usize,
    newest_first: bool,
) -> AppResult<Vec<Message>> {
    let Some(t) = MESSAGES.read(txn)? else { return Ok(Vec::new()) };
    if from > to {
        return Ok(Vec::new());
    }
    let range = t.range(&(conv, from), &(conv, to))?;
    let mut out = Vec::with_capacity(limit.min(256));
    if newest_first {
        for row in range.rev() {
            out.push(row?.1);
            if out.len() >= limit {
                break;
            }
        }
        out.reverse();
    } else {
        for row in range {
            out.push(row?.1);
            if out.len() >= limit {
                break;
            }
        }
    }
    Ok(out)
}

/// Every conversation of `user` with their settings.
pub fn user_conversations(txn: &redb::ReadTransaction, user: u64) -> AppResult<Vec<(u64, UserConv)>> {
    let Some(t) = USER_CONVS.read(txn)? else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for row in t.range(&(user, 0), &(user, u64::MAX))? {
        let ((_, conv), uc) = row?;
        out.push((conv, uc));
    }
    Ok(out)
}

pub fn department_groups(tx: &Tx, dept: u64) -> AppResult<Vec<u64>> {
    let t = DEPARTMENT_GROUPS.open(tx.txn)?;
    let mut out = Vec::new();
    for row in t.range(&(dept, 0), &(dept, u64::MAX))? {
        out.push(row?.0 .1);
    }
    Ok(out)
}

pub fn all_department_groups(tx: &Tx) -> AppResult<Vec<(u64, u64)>> {
    let t = DEPARTMENT_GROUPS.open(tx.txn)?;
    let mut out = Vec::new();
    for row in t.iter()? {
        out.push(row?.0);
    }
    Ok(out)
}
