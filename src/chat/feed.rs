//! The chat's part of a reconnecting socket's backlog, and typing indicators.
//!
//! Backlog for a user and `since`: for each conversation they are in now, the messages with
//! seq > since that they may see, and the conversation events since they joined. Conversations
//! they left are announced through their own event log (platform::realtime).

use super::events::message_frame;
use super::store;
use super::view::{Names, Receipts};
use crate::error::AppResult;
use crate::platform::realtime::Feed;
use serde_json::{json, Value};

pub struct ChatFeed;

impl Feed for ChatFeed {
    fn backlog(&self, txn: &redb::ReadTransaction, user: u64, since: u64, max: usize) -> AppResult<Vec<(u64, String)>> {
        let mut out = Vec::new();
        let mut names = Names::read(txn);
        let events = store::CONV_EVENTS.read(txn)?;
        for (conv_id, _) in store::user_conversations(txn, user)? {
            let Ok((conv, member)) = store::conversation_for_read(txn, conv_id, user) else { continue };
            let from = since.saturating_add(1);
            if conv.last_seq >= from {
                let msg_from = from.max(member.visible_from);
                let room = max + 1 - out.len().min(max);
                let missed = store::messages_between(txn, conv_id, msg_from, u64::MAX, room, false)?;
                // The sender's own messages carry their real "N 人未读" as of this snapshot.
                let receipts = match missed.iter().any(|m| m.sender_id == user) {
                    true => Some(Receipts::load(txn, conv_id)?),
                    false => None,
                };
                for m in missed {
                    let unread = receipts.as_ref().filter(|_| m.sender_id == user).map(|r| r.unread_of(&m));
                    out.push((m.seq, message_frame(&mut names, &m, unread)?));
                }
            }
            if let Some(t) = &events {
                for row in t.range(&(conv_id, from.max(member.joined_seq)), &(conv_id, u64::MAX))? {
                    let ((_, seq), v) = row?;
                    out.push((seq, v.to_string()));
                    if out.len() > max {
                        break;
                    }
                }
            }
            if out.len() > max {
                break;
            }
        }
        Ok(out)
    }

    /// `{"type":"typing","conversation_id":N}` from a member goes to the other members' sockets.
    fn client_frame(
        &self,
        txn: &redb::ReadTransaction,
        user: u64,
        frame: &Value,
    ) -> AppResult<Option<(Vec<u64>, String)>> {
        if frame.get("type").and_then(Value::as_str) != Some("typing") {
            return Ok(None);
        }
        let Some(conv) = frame.get("conversation_id").and_then(Value::as_u64) else { return Ok(None) };
        let Ok((c, _)) = store::conversation_for_read(txn, conv, user) else { return Ok(None) };
        if c.dissolved || c.member_count > 200 {
            return Ok(None); // typing in big groups is noise
        }
        let others: Vec<u64> =
            store::member_rows_read(txn, conv)?.into_iter().map(|(u, _)| u).filter(|u| *u != user).collect();
        Ok(Some((others, json!({"type": "typing", "conversation_id": conv, "user_id": user}).to_string())))
    }
}
