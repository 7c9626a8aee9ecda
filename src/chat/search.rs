//! Chat in the global search (`platform::search`): messages (kind `message`, newest first)
//! and group names (kind `group`, by relevance, with pinyin like people).
//!
//! - Documents: a message's is built by [`super::events::search_doc`] and queued in the send's
//!   transaction; recall queues its removal in the recall's transaction. A group's is queued by
//!   [`index_group`] when the group is created or renamed. Rebuilds stream both from redb
//!   ([`documents`]): groups, then every message that is neither recalled nor a system line.
//! - Tags: `conv:{id}` (messages and groups), `sender:{id}`, `type:{kind}` (messages).
//! - Scope: the conversations the searcher is in NOW (`chat_user_convs`) become a required tag
//!   set, and each conversation they joined with history hidden hides its messages below their
//!   `visible_from` (the tantivy `sort` of a message is its seq). So the permission filter is
//!   in the query, and results are not starved by hits the re-check would drop.
//! - Re-check: every hit is re-read from redb: still a member, message not recalled, at or
//!   after `visible_from`; a group still a group the searcher is in.

use super::model::{ConvKind, Conversation, MsgKind};
use super::store;
use super::view::Names;
use crate::error::{AppError, AppResult};
use crate::platform::search::kinds::{bad_param, Checked};
use crate::platform::search::{self, Asker, Filter, Hit, Order, SearchDoc, SearchKind, Sink};
use crate::platform::store::Tx;
use serde_json::json;
use std::collections::HashMap;

pub const GROUP_KIND: &str = "group";
const MESSAGE_KIND: &str = super::events::SEARCH_KIND;

/// Message types a search can be restricted to (`type=`).
pub const MESSAGE_TYPES: &[MsgKind] =
    &[MsgKind::Text, MsgKind::Image, MsgKind::File, MsgKind::Voice, MsgKind::Link, MsgKind::Merged];

pub fn conv_tag(conv: u64) -> String {
    format!("conv:{conv}")
}

pub fn sender_tag(user: u64) -> String {
    format!("sender:{user}")
}

pub fn type_tag(kind: &str) -> String {
    format!("type:{kind}")
}

pub fn group_key(conv: u64) -> String {
    format!("{GROUP_KIND}:{conv}")
}

fn group_id_of(key: &str) -> Option<u64> {
    key.strip_prefix(GROUP_KIND)?.strip_prefix(':')?.parse().ok()
}

/// (conversation, seq) of a message key `message:{conv}:{seq}`.
fn message_of(key: &str) -> Option<(u64, u64)> {
    let (conv, seq) = key.strip_prefix(MESSAGE_KIND)?.strip_prefix(':')?.split_once(':')?;
    Some((conv.parse().ok()?, seq.parse().ok()?))
}

/// A group's document: its name, with full pinyin and initials (研发群 → yanfaqun, yfq).
pub fn group_doc(conv: &Conversation) -> SearchDoc {
    let (full, initials) = crate::org::search::pinyin_keys(&conv.name);
    let mut pinyin: Vec<String> =
        full.into_iter().chain(initials).map(|p| p.split_whitespace().collect::<String>()).collect();
    pinyin.retain(|p| !p.is_empty());
    pinyin.sort();
    pinyin.dedup();
    SearchDoc {
        key: group_key(conv.id),
        kind: GROUP_KIND.into(),
        title: conv.name.clone(),
        pinyin,
        at: conv.created_at,
        tags: vec![conv_tag(conv.id)],
        ..SearchDoc::default()
    }
}

/// Queue the group's document (created or renamed) in the caller's transaction.
pub fn index_group(tx: &Tx, conv: &Conversation) -> AppResult<()> {
    if conv.is_group() {
        search::enqueue_upsert(tx, group_doc(conv))?;
    }
    Ok(())
}

/// Every chat document (rebuild source): groups, then messages.
pub fn documents(txn: &redb::ReadTransaction, sink: &mut Sink) -> AppResult<()> {
    group_documents(txn, sink)?;
    message_documents(txn, sink)
}

fn group_documents(txn: &redb::ReadTransaction, sink: &mut Sink) -> AppResult<()> {
    let Some(t) = store::CONVERSATIONS.read(txn)? else { return Ok(()) };
    for row in t.iter()? {
        let (_, conv) = row?;
        if conv.is_group() {
            sink(group_doc(&conv))?;
        }
    }
    Ok(())
}

/// Streams the table row by row: a million messages never sit in memory together.
fn message_documents(txn: &redb::ReadTransaction, sink: &mut Sink) -> AppResult<()> {
    let Some(t) = store::MESSAGES.read(txn)? else { return Ok(()) };
    for row in t.iter()? {
        if let Some(doc) = super::events::search_doc(&row?.1) {
            sink(doc)?;
        }
    }
    Ok(())
}

pub const MESSAGES: SearchKind = SearchKind {
    kind: MESSAGE_KIND,
    order: Order::Newest,
    params: &["conversation_id", "sender_id", "type", "from", "to"],
    scope: message_scope,
    recheck: recheck_messages,
    documents: message_documents,
};

pub const GROUPS: SearchKind = SearchKind {
    kind: GROUP_KIND,
    order: Order::Relevance,
    params: &[],
    scope: group_scope,
    recheck: recheck_groups,
    documents: group_documents,
};

/// `conversation_id` (a conversation the asker is in, else 404), `sender_id`, `type` (a
/// comma-separated list), `from` (inclusive) and `to` (exclusive) in UTC ms. Without text,
/// at least one of them must be given (listing, e.g. the files of a chat).
fn message_scope(txn: &redb::ReadTransaction, a: &Asker) -> AppResult<Option<Filter>> {
    let p = a.params;
    let conversation = p.u64("conversation_id")?;
    let sender = p.u64("sender_id")?;
    let mut types = Vec::new();
    for t in p.list("type") {
        let kind = MESSAGE_TYPES.iter().find(|k| k.as_str() == t).ok_or_else(|| bad_param("type"))?;
        types.push(type_tag(kind.as_str()));
    }
    let (at_from, at_to) = (p.i64("from")?, p.i64("to")?);
    let narrowed =
        conversation.is_some() || sender.is_some() || !types.is_empty() || at_from.is_some() || at_to.is_some();
    if a.text.is_empty() && !narrowed {
        return Ok(None);
    }
    let convs: Vec<u64> = match conversation {
        Some(c) => vec![c],
        None => store::user_conversations(txn, a.user)?.into_iter().map(|(c, _)| c).collect(),
    };
    let Some(members) = store::MEMBERS.read(txn)? else {
        return if conversation.is_some() { Err(AppError::not_found("conversation")) } else { Ok(None) };
    };
    let mut tags = Vec::with_capacity(convs.len());
    let mut hide_below = Vec::new();
    for c in convs {
        let Some(row) = members.get(&(c, a.user))? else {
            if conversation.is_some() {
                // Not a member of the conversation they named: 404, never 403 (ids do not leak).
                return Err(AppError::not_found("conversation"));
            }
            continue;
        };
        if row.visible_from > 0 {
            hide_below.push((conv_tag(c), row.visible_from));
        }
        tags.push(conv_tag(c));
    }
    if tags.is_empty() {
        return Ok(None);
    }
    let mut any_of = vec![tags];
    if let Some(s) = sender {
        any_of.push(vec![sender_tag(s)]);
    }
    if !types.is_empty() {
        any_of.push(types);
    }
    Ok(Some(Filter { any_of, hide_below, at_from, at_to, sort_before: None }))
}

/// What a message hit needs to know about its conversation, per asker.
struct ConvView {
    visible_from: u64,
    title: String,
    kind: ConvKind,
}

/// The conversation as `user` sees it, or `None` when they are not (or no longer) a member.
fn conv_view(txn: &redb::ReadTransaction, names: &mut Names, conv: u64, user: u64) -> AppResult<Option<ConvView>> {
    let (Some(member), Some(c)) =
        (store::MEMBERS.get_in(txn, &(conv, user))?, store::CONVERSATIONS.get_in(txn, &conv)?)
    else {
        return Ok(None);
    };
    let title = match c.kind {
        ConvKind::Group => c.name.clone(),
        ConvKind::Direct => {
            let peer = store::member_rows_read(txn, conv)?.into_iter().map(|(u, _)| u).find(|u| *u != user);
            names.name(peer.unwrap_or(user))?
        }
    };
    Ok(Some(ConvView { visible_from: member.visible_from, title, kind: c.kind }))
}

fn recheck_messages(txn: &redb::ReadTransaction, a: &Asker, hits: Vec<Hit>) -> AppResult<Vec<Checked>> {
    let Some(messages) = store::MESSAGES.read(txn)? else { return Ok(vec![None; hits.len()]) };
    let mut names = Names::read(txn);
    let mut convs: HashMap<u64, Option<ConvView>> = HashMap::new();
    let mut out = Vec::with_capacity(hits.len());
    for h in hits {
        let Some((conv, seq)) = message_of(&h.key) else {
            out.push(None);
            continue;
        };
        if let std::collections::hash_map::Entry::Vacant(e) = convs.entry(conv) {
            e.insert(conv_view(txn, &mut names, conv, a.user)?);
        }
        let Some(Some(view)) = convs.get(&conv) else {
            out.push(None);
            continue;
        };
        let visible =
            |m: &super::model::Message| m.recalled.is_none() && m.kind != MsgKind::System && m.seq >= view.visible_from;
        let Some(m) = messages.get(&(conv, seq))?.filter(visible) else {
            out.push(None);
            continue;
        };
        out.push(Some(json!({
            "kind": MESSAGE_KIND, "key": h.key, "id": m.seq, "title": view.title, "snippet": h.snippet_html,
            "at": m.at, "conversation_id": conv, "conversation_kind": view.kind, "seq": m.seq,
            "sender_id": m.sender_id, "sender_name": names.name(m.sender_id)?, "type": m.kind.as_str(),
        })));
    }
    Ok(out)
}

/// Group names among the asker's conversations.
fn group_scope(txn: &redb::ReadTransaction, a: &Asker) -> AppResult<Option<Filter>> {
    if a.text.is_empty() {
        return Ok(None);
    }
    let tags: Vec<String> = store::user_conversations(txn, a.user)?.into_iter().map(|(c, _)| conv_tag(c)).collect();
    Ok((!tags.is_empty()).then(|| Filter { any_of: vec![tags], ..Filter::default() }))
}

fn recheck_groups(txn: &redb::ReadTransaction, a: &Asker, hits: Vec<Hit>) -> AppResult<Vec<Checked>> {
    let mut out = Vec::with_capacity(hits.len());
    for h in hits {
        let Some(id) = group_id_of(&h.key) else {
            out.push(None);
            continue;
        };
        let member = store::MEMBERS.get_in(txn, &(id, a.user))?.is_some();
        let conv = if member { store::CONVERSATIONS.get_in(txn, &id)? } else { None };
        out.push(conv.filter(Conversation::is_group).map(|c| {
            let avatar = c.avatar.as_ref().map(|_| format!("/api/v1/chat/conversations/{}/avatar", c.id));
            json!({
                "kind": GROUP_KIND, "key": h.key, "id": c.id, "title": c.name, "snippet": h.snippet_html,
                "at": c.created_at, "conversation_id": c.id, "member_count": c.member_count,
                "avatar": avatar, "dissolved": c.dissolved,
            })
        }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::model::Message;

    #[test]
    fn keys_round_trip() {
        assert_eq!(message_of(&super::super::events::search_key(12, 345)), Some((12, 345)));
        assert_eq!(message_of("message:12"), None);
        assert_eq!(message_of("group:12:3"), None);
        assert_eq!(group_id_of(&group_key(9)), Some(9));
        assert_eq!(group_id_of("message:9:1"), None);
    }

    #[test]
    fn documents_carry_tags_and_pinyin() {
        let m = Message { seq: 7, conversation_id: 3, sender_id: 5, kind: MsgKind::File, ..Message::default() };
        let d = super::super::events::search_doc(&m).expect("doc");
        assert_eq!(d.tags, ["conv:3", "sender:5", "type:file"]);
        assert_eq!(d.sort, 7);
        let system = Message { kind: MsgKind::System, ..m };
        assert!(super::super::events::search_doc(&system).is_none());
        let g = Conversation { id: 4, name: "研发群".into(), ..Conversation::default() };
        let d = group_doc(&g);
        assert!(d.pinyin.contains(&"yanfaqun".to_owned()) && d.pinyin.contains(&"yfq".to_owned()), "{:?}", d.pinyin);
        assert_eq!(d.tags, ["conv:4"]);
    }
}
