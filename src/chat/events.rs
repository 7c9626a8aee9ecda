//! Persisting and publishing chat events. Every function here runs inside the use case's write
//! transaction; frames leave after commit (platform::realtime).

use super::model::{Conversation, Message, MsgKind};
use super::store;
use super::view::{message_json, Names};
use crate::error::AppResult;
use crate::platform::realtime;
use crate::platform::search::{self, SearchDoc};
use crate::platform::store::Tx;
use serde_json::{json, Value};

/// Tell every member about a conversation-wide event (recall, receipt, group change) and keep
/// it for reconnect backlogs. Returns its seq.
pub fn conv_event(tx: &Tx, conv: u64, members: &[u64], mut event: Value) -> AppResult<u64> {
    let seq = tx.next_seq()?;
    if let Some(obj) = event.as_object_mut() {
        obj.insert("seq".into(), Value::from(seq));
        obj.insert("conversation_id".into(), Value::from(conv));
    }
    store::put_conv_event(tx, conv, seq, &event)?;
    realtime::publish(tx, members.to_vec(), Some(seq), event.to_string());
    Ok(seq)
}

/// "The conversation changed: refetch it" to every member.
pub fn conversation_changed(tx: &Tx, conv: u64, members: &[u64]) -> AppResult<u64> {
    conv_event(tx, conv, members, json!({"type": "conversation"}))
}

/// "Membership changed: refetch the members" to every member.
pub fn members_changed(tx: &Tx, conv: u64, members: &[u64]) -> AppResult<u64> {
    conv_event(tx, conv, members, json!({"type": "members"}))
}

/// Per-user events (the user's own settings, joining, leaving) go to that user's log.
pub fn to_user(tx: &Tx, user: u64, event: Value) -> AppResult<u64> {
    realtime::notify_users(tx, &[user], event)
}

/// The `message` frame for a stored message.
pub fn message_frame(names: &mut Names, m: &Message, unread: Option<usize>) -> AppResult<String> {
    Ok(frame_around(m, &message_json(names, m, unread)?.to_string()))
}

/// The `message` frame around an already serialised message.
fn frame_around(m: &Message, message: &str) -> String {
    format!(r#"{{"type":"message","seq":{},"conversation_id":{},"message":{message}}}"#, m.seq, m.conversation_id)
}

/// Store a new message (seq already assigned), move the conversation's activity, index it, and
/// publish it to `members` after commit. Returns the message as its sender sees it (JSON text,
/// the same bytes the frame carries: `unread_count` is every other member).
pub fn append_message(tx: &Tx, conv: &mut Conversation, m: &Message, members: &[u64]) -> AppResult<String> {
    store::insert_message(tx, m)?;
    conv.last_seq = m.seq;
    if m.at_all {
        conv.at_all_seq = m.seq;
    }
    store::put_conversation(tx, conv)?;
    if let Some(doc) = search_doc(m) {
        search::enqueue_upsert(tx, doc)?;
    }
    let unread = Some(members.len().saturating_sub(1));
    let message = message_json(&mut Names::write(tx), m, unread)?.to_string();
    realtime::publish(tx, members.to_vec(), Some(m.seq), frame_around(m, &message));
    Ok(message)
}

/// A system line in the history ("张三 邀请 李四 加入了群聊").
pub fn system_message(
    tx: &Tx,
    conv: &mut Conversation,
    actor: u64,
    text: String,
    members: &[u64],
) -> AppResult<Message> {
    let m = Message {
        seq: tx.next_seq()?,
        conversation_id: conv.id,
        sender_id: actor,
        at: tx.now,
        kind: MsgKind::System,
        text,
        ..Message::default()
    };
    append_message(tx, conv, &m, members)?;
    Ok(m)
}

pub const SEARCH_KIND: &str = "message";

pub fn search_key(conv: u64, seq: u64) -> String {
    format!("{SEARCH_KIND}:{conv}:{seq}")
}

/// What the search index holds for a message (None: nothing searchable, e.g. system lines).
/// Tags make it filterable inside the index (`super::search` builds the filters): its
/// conversation, sender and type. `sort` is the seq: newest first, and the cursor.
pub fn search_doc(m: &Message) -> Option<SearchDoc> {
    if m.recalled.is_some() || m.kind == MsgKind::System {
        return None;
    }
    let mut body = m.text.clone();
    if let Some(f) = &m.file {
        body.push(' ');
        body.push_str(&f.name);
    }
    if let Some(l) = &m.link {
        body = format!("{body} {} {} {}", l.title, l.description, l.url);
    }
    if let Some(mg) = &m.merged {
        body.push(' ');
        body.push_str(&mg.title);
        for it in &mg.items {
            body.push(' ');
            body.push_str(&it.text);
            if let Some(f) = &it.file {
                body.push(' ');
                body.push_str(&f.name);
            }
        }
    }
    Some(SearchDoc {
        key: search_key(m.conversation_id, m.seq),
        kind: SEARCH_KIND.into(),
        title: String::new(),
        body: body.trim().to_owned(),
        pinyin: Vec::new(),
        at: m.at,
        tags: vec![
            super::search::conv_tag(m.conversation_id),
            super::search::sender_tag(m.sender_id),
            super::search::type_tag(m.kind.as_str()),
        ],
        sort: m.seq,
    })
}
