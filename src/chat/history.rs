//! Reading: history pages (backwards, forwards, around a message), receipts, attachments;
//! and recall, which turns a message into a tombstone everywhere.

use super::conversations::{not_allowed, require_person};
use super::events;
use super::model::{ChatSettings, FileRef, MemberRow, Message};
use super::store;
use super::view::{message_json, Names, Receipts};
use crate::error::{AppError, AppResult};
use crate::platform::search;
use crate::platform::settings::SettingsDoc;
use crate::platform::Platform;
use serde::Deserialize;
use serde_json::{json, Value};

pub const MAX_PAGE: usize = 200;

#[derive(Debug, Deserialize, Default)]
pub struct HistoryQuery {
    pub before: Option<u64>,
    pub after: Option<u64>,
    pub around: Option<u64>,
    pub limit: Option<usize>,
}

/// A page of history the caller may see, ascending, with "more before/after" flags.
pub fn page(p: &Platform, user: u64, id: u64, q: &HistoryQuery) -> AppResult<Value> {
    let txn = p.store.begin_read()?;
    let (conv, member) = store::conversation_for_read(&txn, id, user)?;
    let limit = q.limit.unwrap_or(50).clamp(1, MAX_PAGE);
    let floor = member.visible_from.max(1);
    let items = match (q.before, q.after, q.around) {
        (_, _, Some(mid)) => {
            let mut older = store::messages_between(&txn, id, floor, mid.saturating_sub(1), limit / 2, true)?;
            let newer = store::messages_between(&txn, id, mid.max(floor), u64::MAX, limit - older.len(), false)?;
            older.extend(newer);
            older
        }
        (_, Some(after), None) => {
            store::messages_between(&txn, id, after.saturating_add(1).max(floor), u64::MAX, limit, false)?
        }
        (Some(before), None, None) => store::messages_between(&txn, id, floor, before.saturating_sub(1), limit, true)?,
        (None, None, None) => store::messages_between(&txn, id, floor, u64::MAX, limit, true)?,
    };
    let has_more_before = match items.first() {
        Some(m) => !store::messages_between(&txn, id, floor, m.seq - 1, 1, true)?.is_empty(),
        None => false,
    };
    let has_more_after = match items.last() {
        Some(m) => {
            m.seq < conv.last_seq && !store::messages_between(&txn, id, m.seq + 1, u64::MAX, 1, false)?.is_empty()
        }
        None => false,
    };
    let receipts = Receipts::load(&txn, id)?;
    let mut names = Names::read(&txn);
    let mut out = Vec::with_capacity(items.len());
    for m in &items {
        let unread = (m.sender_id == user).then(|| receipts.unread_of(m));
        out.push(message_json(&mut names, m, unread)?);
    }
    Ok(json!({"items": out, "has_more_before": has_more_before, "has_more_after": has_more_after}))
}

/// A message the caller may see (member, within their visible history), else 404.
fn visible_message(txn: &redb::ReadTransaction, user: u64, id: u64, seq: u64) -> AppResult<(MemberRow, Message)> {
    let (_, member) = store::conversation_for_read(txn, id, user)?;
    let m = store::MESSAGES
        .get_in(txn, &(id, seq))?
        .filter(|m| m.seq >= member.visible_from)
        .ok_or_else(|| AppError::not_found("message"))?;
    Ok((member, m))
}

/// Who has and has not read a message (its sender, or the group's owner/admins).
pub fn receipts(p: &Platform, user: u64, id: u64, seq: u64) -> AppResult<Value> {
    let txn = p.store.begin_read()?;
    let (_, m) = visible_message(&txn, user, id, seq)?;
    let (conv, _) = store::conversation_for_read(&txn, id, user)?;
    if m.sender_id != user && !conv.is_manager(user) {
        return Err(not_allowed("Only the sender sees who has read a message"));
    }
    let (read, unread) = Receipts::load(&txn, id)?.split(&m);
    let mut names = Names::read(&txn);
    let mut list = |ids: Vec<u64>| -> AppResult<Vec<Value>> {
        ids.into_iter().map(|u| Ok(json!({"user_id": u, "name": names.name(u)?}))).collect()
    };
    Ok(json!({"read": list(read)?, "unread": list(unread)?}))
}

/// The attachment of a message, or of item `index` of a merged record.
pub fn attachment(p: &Platform, user: u64, id: u64, seq: u64, index: Option<usize>) -> AppResult<FileRef> {
    let txn = p.store.begin_read()?;
    let (_, m) = visible_message(&txn, user, id, seq)?;
    let file = match index {
        None => m.file,
        Some(i) => m.merged.and_then(|mg| mg.items.into_iter().nth(i)).and_then(|it| it.file),
    };
    file.ok_or_else(|| AppError::not_found("file"))
}

/// Recall: the sender within the window, or the group's owner/admins for members' messages.
/// The content leaves storage and the index in the same transaction; every device gets a
/// `recall` event and shows the tombstone.
pub async fn recall(p: &Platform, user: u64, id: u64, seq: u64) -> AppResult<Value> {
    let m = p
        .store
        .write(move |tx| {
            let (mut conv, member) = store::conversation_for(tx, id, user)?;
            let m = store::message(tx, id, seq)?
                .filter(|m| m.seq >= member.visible_from && m.kind != super::model::MsgKind::System)
                .ok_or_else(|| AppError::not_found("message"))?;
            if m.recalled.is_some() {
                return Ok(m);
            }
            let own = m.sender_id == user;
            let as_manager = conv.is_group() && conv.is_manager(user) && m.sender_id != conv.owner_id;
            if !own && !as_manager {
                return Err(not_allowed("You may only recall your own messages"));
            }
            let window = i64::from(ChatSettings::load_in(tx)?.recall_window_minutes) * 60_000;
            if own && !as_manager && tx.now - m.at > window {
                return Err(AppError::new(
                    actix_web::http::StatusCode::FORBIDDEN,
                    "recall_window_passed",
                    "This message is too old to be recalled",
                ));
            }
            let t = store::tombstone_message(tx, m, user)?;
            search::enqueue_delete(tx, events::search_key(id, seq))?;
            if conv.pinned_seq == Some(seq) {
                conv.pinned_seq = None;
                store::put_conversation(tx, &conv)?;
            }
            let by_name = require_person(tx, user).unwrap_or_default();
            let members = store::member_ids(tx, id)?;
            events::conv_event(
                tx,
                id,
                &members,
                json!({"type": "recall", "message_seq": seq, "by": user, "by_name": by_name}),
            )?;
            Ok(t)
        })
        .await?;
    let txn = p.store.begin_read()?;
    message_json(&mut Names::read(&txn), &m, None)
}
