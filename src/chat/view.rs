//! What the API and the sockets send: messages with sender names, conversations as one user
//! sees them (unread count, @me marker, their settings).

use super::model::{ConvKind, Conversation, MemberRow, Message, MsgKind, UserConv};
use super::store;
use crate::error::AppResult;
use crate::org::store::MEMBERS as ORG_MEMBERS;
use crate::platform::store::Tx;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Unread counts stop here (the UI shows "99+").
pub const UNREAD_CAP: usize = 100;

enum Source<'a> {
    Read(&'a redb::ReadTransaction),
    Write(&'a Tx<'a>),
}

/// Member names and avatars, looked up once per response, from a snapshot or from inside a
/// write transaction.
pub struct Names<'a> {
    source: Source<'a>,
    cache: HashMap<u64, (String, Option<String>)>,
}

impl<'a> Names<'a> {
    pub fn read(txn: &'a redb::ReadTransaction) -> Self {
        Names { source: Source::Read(txn), cache: HashMap::new() }
    }
    pub fn write(tx: &'a Tx<'a>) -> Self {
        Names { source: Source::Write(tx), cache: HashMap::new() }
    }

    pub fn get(&mut self, id: u64) -> AppResult<(String, Option<String>)> {
        if let Some(v) = self.cache.get(&id) {
            return Ok(v.clone());
        }
        let member = match &self.source {
            Source::Read(txn) => ORG_MEMBERS.get_in(txn, &id)?,
            Source::Write(tx) => crate::org::store::member_in(tx, id)?,
        };
        let entry = match member {
            Some(m) => (m.name, m.avatar.map(|_| format!("/api/v1/members/{id}/avatar"))),
            None => (String::new(), None),
        };
        self.cache.insert(id, entry.clone());
        Ok(entry)
    }

    pub fn name(&mut self, id: u64) -> AppResult<String> {
        Ok(self.get(id)?.0)
    }
}

/// A message as clients see it. `unread` is set for group messages the viewer sent.
pub fn message_json(names: &mut Names, m: &Message, unread: Option<usize>) -> AppResult<Value> {
    let mut v = serde_json::to_value(m)?;
    let sender_name = names.name(m.sender_id)?;
    if let Some(obj) = v.as_object_mut() {
        obj.insert("sender_name".into(), Value::from(sender_name));
        if let Some(r) = &m.recalled {
            obj.insert("recalled".into(), json!({"by": r.by, "by_name": names.name(r.by)?, "at": r.at}));
        }
        if let Some(q) = &m.quote {
            obj.insert(
                "quote".into(),
                json!({"seq": q.seq, "sender_id": q.sender_id, "sender_name": names.name(q.sender_id)?, "preview": q.preview}),
            );
        }
        if let Some(n) = unread {
            obj.insert("unread_count".into(), Value::from(n));
        }
    }
    Ok(v)
}

/// Read cursors of a conversation's members, for "N 人未读" over a page of messages.
pub struct Receipts {
    /// (user, read_seq, joined_seq)
    members: Vec<(u64, u64, u64)>,
}

impl Receipts {
    pub fn load(txn: &redb::ReadTransaction, conv: u64) -> AppResult<Receipts> {
        let members =
            store::member_rows_read(txn, conv)?.into_iter().map(|(u, r)| (u, r.read_seq, r.joined_seq)).collect();
        Ok(Receipts { members })
    }

    /// Members (other than the sender) who were there when `m` was sent and have not read it.
    pub fn unread_of(&self, m: &Message) -> usize {
        self.members.iter().filter(|(u, read, joined)| *u != m.sender_id && *joined < m.seq && *read < m.seq).count()
    }

    /// (read, unread) user ids for `m`.
    pub fn split(&self, m: &Message) -> (Vec<u64>, Vec<u64>) {
        let mut read = Vec::new();
        let mut unread = Vec::new();
        for (u, r, joined) in &self.members {
            if *u == m.sender_id || *joined >= m.seq {
                continue;
            }
            if *r >= m.seq {
                read.push(*u);
            } else {
                unread.push(*u);
            }
        }
        (read, unread)
    }
}

/// The viewer's unread count (capped) and whether an unread message mentions them.
fn unread_state(
    txn: &redb::ReadTransaction,
    conv: &Conversation,
    member: &MemberRow,
    uc: &UserConv,
    viewer: u64,
) -> AppResult<(usize, bool)> {
    let from = member.read_seq.max(member.visible_from.saturating_sub(1)) + 1;
    if conv.last_seq < from {
        return Ok((0, false));
    }
    let mut unread = 0;
    for m in store::messages_between(txn, conv.id, from, u64::MAX, UNREAD_CAP * 2, false)? {
        if m.sender_id != viewer && m.recalled.is_none() && m.kind != MsgKind::System {
            unread += 1;
            if unread >= UNREAD_CAP {
                break;
            }
        }
    }
    let mentioned = uc.mention_seq > member.read_seq || (conv.at_all_seq > member.read_seq && conv.at_all_seq >= from);
    Ok((unread, mentioned && unread > 0))
}

/// A conversation as `viewer` sees it.
pub fn conversation_json(
    txn: &redb::ReadTransaction,
    names: &mut Names,
    conv: &Conversation,
    viewer: u64,
    member: &MemberRow,
    uc: &UserConv,
) -> AppResult<Value> {
    let (unread, mentioned) = unread_state(txn, conv, member, uc, viewer)?;
    let mut peer = Value::Null;
    let mut name = conv.name.clone();
    let mut avatar = conv.avatar.as_ref().map(|_| format!("/api/v1/chat/conversations/{}/avatar", conv.id));
    if conv.kind == ConvKind::Direct {
        let other = store::member_rows_read(txn, conv.id)?.into_iter().map(|(u, _)| u).find(|u| *u != viewer);
        let other = other.unwrap_or(viewer);
        let (n, a) = names.get(other)?;
        peer = json!({"id": other, "name": n, "avatar": a});
        name = n;
        avatar = a;
    }
    let last = last_visible(txn, conv, member)?;
    let last_message = match &last {
        Some(m) => message_json(names, m, None)?,
        None => Value::Null,
    };
    let pinned = match conv.pinned_seq {
        Some(seq) if seq >= member.visible_from => {
            match store::messages_between(txn, conv.id, seq, seq, 1, false)?.pop() {
                Some(m) if m.recalled.is_none() => message_json(names, &m, None)?,
                _ => Value::Null,
            }
        }
        _ => Value::Null,
    };
    Ok(json!({
        "id": conv.id,
        "kind": conv.kind,
        "name": name,
        "avatar": avatar,
        "peer": peer,
        "department_id": conv.department_id,
        "owner_id": conv.owner_id,
        "admin_ids": conv.admin_ids,
        "member_count": conv.member_count,
        "rules": conv.rules,
        "muted_member_ids": conv.muted_member_ids,
        "notice": conv.notice,
        "pinned_message": pinned,
        "last_message": last_message,
        "last_seq": conv.last_seq,
        "created_at": conv.created_at,
        "dissolved": conv.dissolved,
        "me": {
            "role": conv.role_of(viewer),
            "pinned": uc.pinned, "muted": uc.muted, "hidden": uc.is_hidden(conv),
            "marked_unread": uc.marked_unread,
            "read_seq": member.read_seq,
            "unread": unread,
            "mentioned": mentioned,
        },
    }))
}

fn last_visible(txn: &redb::ReadTransaction, conv: &Conversation, member: &MemberRow) -> AppResult<Option<Message>> {
    if conv.last_seq == 0 || conv.last_seq < member.visible_from {
        return Ok(None);
    }
    Ok(store::messages_between(txn, conv.id, member.visible_from, conv.last_seq, 1, true)?.pop())
}
