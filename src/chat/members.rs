//! Group membership: list, invite (with the approval rule), remove and leave, join requests,
//! admins, ownership transfer, muting, dissolving.

use super::conversations::{
    group_full, managed_group, not_allowed, require_group, require_manager, require_open, require_person,
};
use super::events;
use super::model::{ChatSettings, Conversation, JoinRequest, MemberRow, HARD_MAX_GROUP_MEMBERS};
use super::store;
use super::view::Names;
use crate::error::{AppError, AppResult};
use crate::platform::settings::SettingsDoc;
use crate::platform::store::Tx;
use crate::platform::Platform;
use serde_json::{json, Value};

pub fn list(p: &Platform, user: u64, id: u64) -> AppResult<Value> {
    let txn = p.store.begin_read()?;
    let (conv, _) = store::conversation_for_read(&txn, id, user)?;
    let mut names = Names::read(&txn);
    let mut out = Vec::new();
    for (u, row) in store::member_rows_read(&txn, id)? {
        let (name, avatar) = names.get(u)?;
        out.push(json!({
            "user_id": u, "name": name, "avatar": avatar, "role": conv.role_of(u),
            "joined_at": row.joined_at, "muted": conv.muted_member_ids.contains(&u),
        }));
    }
    Ok(json!({"items": out}))
}

fn max_members(tx: &Tx, conv: &Conversation) -> AppResult<u32> {
    Ok(if conv.department_id.is_some() { HARD_MAX_GROUP_MEMBERS } else { ChatSettings::load_in(tx)?.max_group_members })
}

/// Add people now (membership row, system line, events). Returns who was added.
pub fn add_people(tx: &Tx, conv: &mut Conversation, actor: u64, people: &[u64]) -> AppResult<Vec<u64>> {
    let max = max_members(tx, conv)?;
    let seq = tx.next_seq()?;
    let visible_from = if conv.rules.history_visible { 0 } else { seq };
    let mut added = Vec::new();
    let mut names = Vec::new();
    for u in people {
        let name = require_person(tx, *u)?;
        let row = MemberRow { joined_at: tx.now, joined_seq: seq, visible_from, read_seq: seq };
        if store::add_member(tx, conv, *u, row)? {
            added.push(*u);
            names.push(name);
        }
    }
    if added.is_empty() {
        return Ok(added);
    }
    if conv.member_count > max {
        return Err(group_full(max));
    }
    let who = require_person(tx, actor).unwrap_or_default();
    let members = store::member_ids(tx, conv.id)?;
    let text = if added == [actor] {
        format!("{who} 加入了群聊")
    } else {
        format!("{who} 邀请 {} 加入了群聊", names.join("、"))
    };
    events::system_message(tx, conv, actor, text, &members)?;
    store::put_conversation(tx, conv)?;
    events::members_changed(tx, conv.id, &members)?;
    for u in &added {
        events::to_user(tx, *u, json!({"type": "conversation", "conversation_id": conv.id}))?;
    }
    Ok(added)
}

/// Invite members. Owner/admins add at once; others add at once unless the group needs
/// approval (then join requests wait) or only admins may invite (403).
pub async fn invite(p: &Platform, user: u64, id: u64, mut user_ids: Vec<u64>) -> AppResult<Value> {
    user_ids.sort_unstable();
    user_ids.dedup();
    if user_ids.is_empty() || user_ids.len() > HARD_MAX_GROUP_MEMBERS as usize {
        return Err(AppError::invalid("user_ids", "validation_failed", "Pick the members to invite"));
    }
    p.store
        .write(move |tx| {
            let (mut conv, _) = store::conversation_for(tx, id, user)?;
            require_group(&conv)?;
            require_open(&conv)?;
            if conv.department_id.is_some() {
                return Err(not_allowed("A department group follows its department; change the department instead"));
            }
            let manager = conv.is_manager(user);
            if !manager && conv.rules.invite == super::model::Who::Admins {
                return Err(not_allowed("Only the group owner or admins may invite members"));
            }
            if !manager && conv.rules.approval {
                let mut pending = 0;
                let mut t = store::JOIN_REQUESTS.open(tx.txn)?;
                let existing: Vec<u64> =
                    t.range(&(id, 0), &(id, u64::MAX))?.filter_map(|r| r.ok().map(|(_, v)| v.user_id)).collect();
                for u in &user_ids {
                    require_person(tx, *u)?;
                    if existing.contains(u) || store::MEMBERS.open(tx.txn)?.contains(&(id, *u))? {
                        continue;
                    }
                    let rid = tx.next_seq()?;
                    t.put(&(id, rid), &JoinRequest { id: rid, user_id: *u, inviter_id: user, at: tx.now })?;
                    pending += 1;
                }
                drop(t);
                let managers: Vec<u64> = std::iter::once(conv.owner_id).chain(conv.admin_ids.iter().copied()).collect();
                events::conv_event(tx, id, &managers, json!({"type": "join_requests"}))?;
                return Ok(json!({"pending": pending, "added": []}));
            }
            let added = add_people(tx, &mut conv, user, &user_ids)?;
            Ok(json!({"pending": 0, "added": added}))
        })
        .await
}

pub fn requests(p: &Platform, user: u64, id: u64) -> AppResult<Value> {
    let txn = p.store.begin_read()?;
    let (conv, _) = store::conversation_for_read(&txn, id, user)?;
    require_manager(&conv, user)?;
    let mut names = Names::read(&txn);
    let mut out = Vec::new();
    if let Some(t) = store::JOIN_REQUESTS.read(&txn)? {
        for row in t.range(&(id, 0), &(id, u64::MAX))? {
            let r = row?.1;
            out.push(json!({"id": r.id, "user_id": r.user_id, "name": names.name(r.user_id)?,
                            "inviter_id": r.inviter_id, "inviter_name": names.name(r.inviter_id)?, "at": r.at}));
        }
    }
    Ok(json!({"items": out}))
}

pub async fn decide_request(p: &Platform, user: u64, id: u64, rid: u64, approve: bool) -> AppResult<Value> {
    p.store
        .write(move |tx| {
            let (mut conv, _) = store::conversation_for(tx, id, user)?;
            require_manager(&conv, user)?;
            require_open(&conv)?;
            let req =
                store::JOIN_REQUESTS.open(tx.txn)?.get(&(id, rid))?.ok_or_else(|| AppError::not_found("request"))?;
            store::JOIN_REQUESTS.open(tx.txn)?.remove(&(id, rid))?;
            if approve {
                add_people(tx, &mut conv, req.inviter_id, &[req.user_id])?;
            }
            let managers: Vec<u64> = std::iter::once(conv.owner_id).chain(conv.admin_ids.iter().copied()).collect();
            events::conv_event(tx, id, &managers, json!({"type": "join_requests"}))?;
            Ok(json!({"approved": approve}))
        })
        .await
}

/// Remove `target` from the group: yourself (leave) or, as owner/admin, someone else.
pub async fn remove(p: &Platform, user: u64, id: u64, target: u64) -> AppResult<Value> {
    p.store
        .write(move |tx| {
            let (mut conv, _) = store::conversation_for(tx, id, user)?;
            require_group(&conv)?;
            require_open(&conv)?;
            if target == conv.owner_id {
                return Err(not_allowed("The owner must transfer the group before leaving"));
            }
            if target != user {
                require_manager(&conv, user)?;
                if conv.admin_ids.contains(&target) && conv.owner_id != user {
                    return Err(not_allowed("Only the owner may remove an admin"));
                }
                if conv.department_id.is_some() {
                    return Err(not_allowed("A department group follows its department"));
                }
            }
            let actor = require_person(tx, user).unwrap_or_default();
            let text = if target == user {
                format!("{actor} 退出了群聊")
            } else {
                format!("{actor} 将 {} 移出了群聊", require_person(tx, target).unwrap_or_default())
            };
            drop_member(tx, &mut conv, user, target, text)?;
            Ok(json!({"removed": target}))
        })
        .await
}

/// Take `target` out (no permission checks: callers decide), with a system line and events.
pub fn drop_member(tx: &Tx, conv: &mut Conversation, actor: u64, target: u64, text: String) -> AppResult<bool> {
    if !store::remove_member(tx, conv, target)? {
        return Ok(false);
    }
    let members = store::member_ids(tx, conv.id)?;
    events::system_message(tx, conv, actor, text, &members)?;
    store::put_conversation(tx, conv)?;
    events::members_changed(tx, conv.id, &members)?;
    events::to_user(tx, target, json!({"type": "conversation_removed", "conversation_id": conv.id}))?;
    Ok(true)
}

pub async fn set_admin(p: &Platform, user: u64, id: u64, target: u64, admin: bool) -> AppResult<Value> {
    owner_change(p, user, id, move |tx, conv| {
        if !store::MEMBERS.open(tx.txn)?.contains(&(conv.id, target))? || target == conv.owner_id {
            return Err(AppError::invalid("user_id", "not_a_member", "Pick a member of this group"));
        }
        conv.admin_ids.retain(|a| *a != target);
        if admin {
            if conv.admin_ids.len() >= 10 {
                return Err(AppError::bad_request("too_many_admins", "A group has at most 10 admins"));
            }
            conv.admin_ids.push(target);
        }
        Ok(None)
    })
    .await
}

pub async fn transfer(p: &Platform, user: u64, id: u64, target: u64) -> AppResult<Value> {
    owner_change(p, user, id, move |tx, conv| {
        if !store::MEMBERS.open(tx.txn)?.contains(&(conv.id, target))? || target == user {
            return Err(AppError::invalid("user_id", "not_a_member", "Pick another member of this group"));
        }
        conv.owner_id = target;
        conv.admin_ids.retain(|a| *a != target);
        let (from, to) = (require_person(tx, user)?, require_person(tx, target)?);
        Ok(Some(format!("{from} 已将群主转让给 {to}")))
    })
    .await
}

pub async fn dissolve(p: &Platform, user: u64, id: u64) -> AppResult<Value> {
    owner_change(p, user, id, move |tx, conv| {
        conv.dissolved = true;
        store::DEPARTMENT_GROUPS.open(tx.txn)?.remove(&(conv.department_id.unwrap_or(0), conv.id))?;
        Ok(Some(format!("{} 解散了群聊", require_person(tx, user)?)))
    })
    .await
}

/// An owner-only change to the group header, with an optional system line.
async fn owner_change(
    p: &Platform,
    user: u64,
    id: u64,
    change: impl Fn(&Tx, &mut Conversation) -> AppResult<Option<String>> + Send + 'static,
) -> AppResult<Value> {
    p.store
        .write(move |tx| {
            let (mut conv, _) = store::conversation_for(tx, id, user)?;
            require_group(&conv)?;
            require_open(&conv)?;
            if conv.owner_id != user {
                return Err(not_allowed("Only the group owner may do this"));
            }
            let line = change(tx, &mut conv)?;
            let members = store::member_ids(tx, id)?;
            if let Some(text) = line {
                events::system_message(tx, &mut conv, user, text, &members)?;
            }
            store::put_conversation(tx, &conv)?;
            events::conversation_changed(tx, id, &members)?;
            Ok(())
        })
        .await?;
    super::conversations::view(p, user, id)
}

pub async fn mute_member(p: &Platform, user: u64, id: u64, target: u64, muted: bool) -> AppResult<Value> {
    p.store
        .write(move |tx| {
            let mut conv = managed_group(tx, id, user)?;
            if conv.is_manager(target) {
                return Err(not_allowed("The owner and admins cannot be muted"));
            }
            if !store::MEMBERS.open(tx.txn)?.contains(&(id, target))? {
                return Err(AppError::invalid("user_id", "not_a_member", "Pick a member of this group"));
            }
            conv.muted_member_ids.retain(|m| *m != target);
            if muted {
                conv.muted_member_ids.push(target);
            }
            store::put_conversation(tx, &conv)?;
            events::conversation_changed(tx, id, &store::member_ids(tx, id)?)?;
            Ok(())
        })
        .await?;
    super::conversations::view(p, user, id)
}
