//! Conversations: open a 1:1 chat, create groups, read the list, change a group's name, rules,
//! notice and avatar, the user's own settings, read position and the pinned message.

use super::events;
use super::model::{
    validate_group_name, ChatSettings, ConvKind, Conversation, GroupNotice, MemberRow, Rules, UserConv,
    HARD_MAX_GROUP_MEMBERS,
};
use super::store;
use super::view::{conversation_json, Names};
use crate::error::{AppError, AppResult};
use crate::org::model::MemberStatus;
use crate::platform::settings::SettingsDoc;
use crate::platform::store::Tx;
use crate::platform::Platform;
use serde::Deserialize;
use serde_json::{json, Value};

pub fn not_allowed(msg: &str) -> AppError {
    AppError::new(actix_web::http::StatusCode::FORBIDDEN, "not_allowed", msg.to_owned())
}

pub fn require_group(c: &Conversation) -> AppResult<()> {
    if !c.is_group() {
        return Err(AppError::bad_request("not_a_group", "This only applies to group chats"));
    }
    Ok(())
}

pub fn require_open(c: &Conversation) -> AppResult<()> {
    if c.dissolved {
        return Err(AppError::conflict("dissolved", "This group has been dissolved"));
    }
    Ok(())
}

pub fn require_manager(c: &Conversation, user: u64) -> AppResult<()> {
    if !c.is_manager(user) {
        return Err(not_allowed("Only the group owner or an admin may do this"));
    }
    Ok(())
}

/// A group `user` manages (owner or admin) that is still open: the preamble of every change
/// an owner or admin makes.
pub fn managed_group(tx: &Tx, id: u64, user: u64) -> AppResult<Conversation> {
    let (conv, _) = store::conversation_for(tx, id, user)?;
    require_group(&conv)?;
    require_open(&conv)?;
    require_manager(&conv, user)?;
    Ok(conv)
}

/// An active (or not yet activated) member of the organisation; else 400.
pub fn require_person(tx: &Tx, id: u64) -> AppResult<String> {
    match crate::org::store::member_in(tx, id)? {
        Some(m) if matches!(m.status, MemberStatus::Active | MemberStatus::Inactive) => Ok(m.name),
        _ => Err(AppError::invalid("user_ids", "unknown_member", format!("Member {id} does not exist or has left"))),
    }
}

/// The conversation as `user` sees it, from a fresh snapshot.
pub fn view(p: &Platform, user: u64, id: u64) -> AppResult<Value> {
    let txn = p.store.begin_read()?;
    let (conv, member) = store::conversation_for_read(&txn, id, user)?;
    let uc = store::USER_CONVS.get_in(&txn, &(user, id))?.unwrap_or_default();
    conversation_json(&txn, &mut Names::read(&txn), &conv, user, &member, &uc)
}

/// The caller's conversation list: pinned first, then by activity; hidden ones only on request.
pub fn list(p: &Platform, user: u64, include_hidden: bool) -> AppResult<Value> {
    let txn = p.store.begin_read()?;
    let seq = crate::platform::store::meta::current_seq(&txn)?;
    let mut names = Names::read(&txn);
    let mut rows = Vec::new();
    for (id, uc) in store::user_conversations(&txn, user)? {
        let Ok((conv, member)) = store::conversation_for_read(&txn, id, user) else { continue };
        if uc.is_hidden(&conv) && !include_hidden {
            continue;
        }
        rows.push((uc.pinned, conv.last_seq, conversation_json(&txn, &mut names, &conv, user, &member, &uc)?));
    }
    rows.sort_by_key(|r| std::cmp::Reverse((r.0, r.1)));
    Ok(json!({"items": rows.into_iter().map(|r| r.2).collect::<Vec<_>>(), "seq": seq}))
}

fn new_conversation(tx: &Tx, kind: ConvKind, name: String, owner: u64) -> AppResult<Conversation> {
    let id = tx.next_seq()?;
    Ok(Conversation { id, kind, name, owner_id: owner, last_seq: id, created_at: tx.now, ..Conversation::default() })
}

fn join_row(tx: &Tx, seq: u64) -> MemberRow {
    MemberRow { joined_at: tx.now, joined_seq: seq, visible_from: 0, read_seq: seq }
}

/// Open the 1:1 chat with `peer`, creating it the first time. Idempotent.
pub async fn open_direct(p: &Platform, user: u64, peer: u64) -> AppResult<Value> {
    let id = p
        .store
        .write(move |tx| {
            require_person(tx, peer)?;
            let key = store::direct_key(user, peer);
            if let Some(id) = store::DIRECT.open(tx.txn)?.get(&key)? {
                let mut uc = store::user_conv(tx, user, id)?;
                if uc.hidden {
                    uc.hidden = false;
                    store::put_user_conv(tx, user, id, &uc)?;
                    events::to_user(tx, user, json!({"type": "conversation", "conversation_id": id}))?;
                }
                return Ok(id);
            }
            let mut conv = new_conversation(tx, ConvKind::Direct, String::new(), user)?;
            store::DIRECT.open(tx.txn)?.put(&key, &conv.id)?;
            let row = join_row(tx, conv.id);
            for u in if user == peer { vec![user] } else { vec![user, peer] } {
                store::add_member(tx, &mut conv, u, row.clone())?;
            }
            store::put_conversation(tx, &conv)?;
            let members = store::member_ids(tx, conv.id)?;
            events::conversation_changed(tx, conv.id, &members)?;
            Ok(conv.id)
        })
        .await?;
    view(p, user, id)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewGroup {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub member_ids: Vec<u64>,
    #[serde(default)]
    pub department_id: Option<u64>,
}

/// Create a group from picked members, or a department group that follows the department.
pub async fn create_group(p: &Platform, user: u64, input: NewGroup) -> AppResult<Value> {
    let is_admin = crate::platform::auth::roles::role_of(&p.store.begin_read()?, user)?;
    let id = p
        .store
        .write(move |tx| {
            let limits = ChatSettings::load_in(tx)?;
            let creator = require_person(tx, user)?;
            let (mut people, dept_name, max) = match input.department_id {
                Some(d) => {
                    let tree = crate::org::store::tree_in(tx)?;
                    let dept = tree.get(d).ok_or_else(|| {
                        AppError::invalid("department_id", "unknown_department", "This department does not exist")
                    })?;
                    let scoped =
                        is_admin.as_ref().is_some_and(|r| crate::org::tree::Scope::of(r, &tree).contains_department(d));
                    if !scoped && !dept.leader_ids.contains(&user) {
                        return Err(not_allowed(
                            "Only administrators and the department's leaders may create its group",
                        ));
                    }
                    if !store::department_groups(tx, d)?.is_empty() {
                        return Err(AppError::conflict(
                            "department_group_exists",
                            "This department already has a group",
                        ));
                    }
                    (super::depts::department_people(tx, &tree, d)?, Some(dept.name.clone()), HARD_MAX_GROUP_MEMBERS)
                }
                None => (input.member_ids.clone(), None, limits.max_group_members),
            };
            people.push(user);
            people.sort_unstable();
            people.dedup();
            if people.len() < 2 && input.department_id.is_none() {
                return Err(AppError::invalid("member_ids", "too_few_members", "Pick at least one other member"));
            }
            if people.len() > max as usize {
                return Err(group_full(max));
            }
            let mut names = Vec::new();
            for u in &people {
                names.push(require_person(tx, *u)?);
            }
            let name = match (&input.name, &dept_name) {
                (Some(n), _) if !n.trim().is_empty() => validate_group_name(n)?,
                (_, Some(d)) => validate_group_name(d)?,
                _ => validate_group_name(&names.iter().take(4).cloned().collect::<Vec<_>>().join("、"))?,
            };
            let mut conv = new_conversation(tx, ConvKind::Group, name, user)?;
            conv.department_id = input.department_id;
            let row = join_row(tx, conv.id);
            for u in &people {
                store::add_member(tx, &mut conv, *u, row.clone())?;
            }
            if let Some(d) = input.department_id {
                store::DEPARTMENT_GROUPS.open(tx.txn)?.put(&(d, conv.id), &())?;
            }
            events::system_message(tx, &mut conv, user, format!("{creator} 创建了群聊"), &people)?;
            super::search::index_group(tx, &conv)?;
            events::conversation_changed(tx, conv.id, &people)?;
            Ok(conv.id)
        })
        .await?;
    view(p, user, id)
}

pub fn group_full(max: u32) -> AppError {
    AppError::bad_request("group_full", format!("A group has at most {max} members"))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupPatch {
    pub name: Option<String>,
    pub rules: Option<Rules>,
    /// Empty text removes the notice.
    pub notice: Option<String>,
}

pub async fn update_group(p: &Platform, user: u64, id: u64, patch: GroupPatch) -> AppResult<Value> {
    p.store
        .write(move |tx| {
            let mut conv = managed_group(tx, id, user)?;
            let actor = require_person(tx, user)?;
            let members = store::member_ids(tx, id)?;
            let mut lines = Vec::new();
            if let Some(n) = &patch.name {
                let n = validate_group_name(n)?;
                if n != conv.name {
                    lines.push(format!("{actor} 修改群名为“{n}”"));
                    conv.name = n;
                    super::search::index_group(tx, &conv)?;
                }
            }
            if let Some(r) = &patch.rules {
                if conv.owner_id != user {
                    return Err(not_allowed("Only the group owner may change the group rules"));
                }
                conv.rules = r.clone();
            }
            if let Some(text) = &patch.notice {
                let text = text.trim();
                if text.chars().count() > 2000 {
                    return Err(AppError::invalid(
                        "notice",
                        "notice_too_long",
                        "A group notice has at most 2000 characters",
                    ));
                }
                conv.notice = if text.is_empty() {
                    None
                } else {
                    lines.push(format!("{actor} 更新了群公告"));
                    Some(GroupNotice { text: text.to_owned(), by: user, at: tx.now })
                };
            }
            for line in lines {
                events::system_message(tx, &mut conv, user, line, &members)?;
            }
            store::put_conversation(tx, &conv)?;
            events::conversation_changed(tx, id, &members)?;
            Ok(())
        })
        .await?;
    view(p, user, id)
}

pub async fn set_avatar(p: &Platform, user: u64, id: u64, sha: String) -> AppResult<Value> {
    p.store
        .write(move |tx| {
            let mut conv = managed_group(tx, id, user)?;
            crate::platform::blobs::add_ref(tx, &sha)?;
            if let Some(old) = conv.avatar.replace(sha.clone()) {
                crate::platform::blobs::release_ref(tx, &old)?;
            }
            store::put_conversation(tx, &conv)?;
            events::conversation_changed(tx, id, &store::member_ids(tx, id)?)?;
            Ok(())
        })
        .await?;
    view(p, user, id)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    pub pinned: Option<bool>,
    pub muted: Option<bool>,
    pub hidden: Option<bool>,
    pub marked_unread: Option<bool>,
}

/// The user's own settings for a conversation; every device of theirs hears of it.
pub async fn update_settings(p: &Platform, user: u64, id: u64, patch: SettingsPatch) -> AppResult<Value> {
    p.store
        .write(move |tx| {
            let (conv, _) = store::conversation_for(tx, id, user)?;
            let old = store::user_conv(tx, user, id)?;
            let uc = UserConv {
                pinned: patch.pinned.unwrap_or(old.pinned),
                muted: patch.muted.unwrap_or(old.muted),
                hidden: patch.hidden.unwrap_or(old.hidden),
                hidden_seq: conv.last_seq,
                marked_unread: patch.marked_unread.unwrap_or(old.marked_unread),
                ..old
            };
            store::put_user_conv(tx, user, id, &uc)?;
            let kind = if uc.hidden { "conversation_removed" } else { "conversation" };
            events::to_user(tx, user, json!({"type": kind, "conversation_id": id}))?;
            Ok(())
        })
        .await?;
    view(p, user, id)
}

/// Mark read up to `seq` (never backwards). Other members see the receipt; the user's other
/// devices clear their unread count. One row write, whatever the group size.
pub async fn mark_read(p: &Platform, user: u64, id: u64, seq: u64) -> AppResult<Value> {
    p.store
        .write(move |tx| {
            let (conv, mut member) = store::conversation_for(tx, id, user)?;
            let seq = seq.min(conv.last_seq);
            let mut uc = store::user_conv(tx, user, id)?;
            let moved = seq > member.read_seq;
            if !moved && !uc.marked_unread {
                return Ok(member.read_seq);
            }
            if uc.marked_unread {
                uc.marked_unread = false;
                store::put_user_conv(tx, user, id, &uc)?;
            }
            member.read_seq = member.read_seq.max(seq);
            store::put_member_row(tx, id, user, &member)?;
            let members = store::member_ids(tx, id)?;
            events::conv_event(
                tx,
                id,
                &members,
                json!({"type": "read", "user_id": user, "read_seq": member.read_seq}),
            )?;
            Ok(member.read_seq)
        })
        .await
        .map(|read_seq| json!({"read_seq": read_seq}))
}

/// Pin (or unpin with `None`) a message at the top of the chat.
pub async fn pin_message(p: &Platform, user: u64, id: u64, seq: Option<u64>) -> AppResult<Value> {
    p.store
        .write(move |tx| {
            let (mut conv, member) = store::conversation_for(tx, id, user)?;
            require_open(&conv)?;
            if conv.is_group() {
                require_manager(&conv, user)?;
            }
            if let Some(seq) = seq {
                let m = store::message(tx, id, seq)?
                    .filter(|m| m.seq >= member.visible_from && m.recalled.is_none())
                    .ok_or_else(|| AppError::not_found("message"))?;
                let actor = require_person(tx, user)?;
                let members = store::member_ids(tx, id)?;
                conv.pinned_seq = Some(m.seq);
                events::system_message(tx, &mut conv, user, format!("{actor} 置顶了一条消息"), &members)?;
            } else {
                conv.pinned_seq = None;
            }
            store::put_conversation(tx, &conv)?;
            events::conversation_changed(tx, id, &store::member_ids(tx, id)?)?;
            Ok(())
        })
        .await?;
    view(p, user, id)
}
