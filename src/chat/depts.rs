//! Department groups (部门群): a group tied to a department follows the membership of the
//! department and its sub-departments. The organisation calls [`on_member_changed`] in the same
//! transaction as every member write, so joining, transfers and offboarding move people in and
//! out of these groups atomically with the change itself.

use super::members::{add_people, drop_member};
use super::store;
use crate::error::AppResult;
use crate::org::model::{Member, MemberStatus};
use crate::org::tree::Tree;
use crate::platform::store::Tx;
use std::collections::BTreeSet;

/// Active members of `dept` and everything below it.
pub fn department_people(tx: &Tx, tree: &Tree, dept: u64) -> AppResult<Vec<u64>> {
    let t = crate::org::store::DEPARTMENT_MEMBERS.open(tx.txn)?;
    let mut out = BTreeSet::new();
    for d in tree.subtree(dept) {
        for row in t.range(&(d, 0), &(d, u64::MAX))? {
            let id = row?.0 .1;
            if let Some(m) = crate::org::store::member_in(tx, id)? {
                if in_department_groups(&m) {
                    out.insert(id);
                }
            }
        }
    }
    Ok(out.into_iter().collect())
}

fn in_department_groups(m: &Member) -> bool {
    matches!(m.status, MemberStatus::Active | MemberStatus::Inactive)
}

/// Department groups a member belongs in: those of their departments and every ancestor.
fn groups_for(tx: &Tx, tree: &Tree, m: &Member) -> AppResult<BTreeSet<u64>> {
    let mut out = BTreeSet::new();
    if !in_department_groups(m) {
        return Ok(out);
    }
    for d in &m.department_ids {
        for a in tree.path(*d) {
            out.extend(store::department_groups(tx, a)?);
        }
    }
    Ok(out)
}

/// Member hook (see `org::store::set_member_hooks`).
pub fn on_member_changed(tx: &Tx, old: Option<&Member>, new: &Member) -> AppResult<()> {
    sync_department_groups(tx, old, new)?;
    let left_now = new.status == MemberStatus::Left && old.is_some_and(|o| o.status != MemberStatus::Left);
    if left_now {
        leave_all_groups(tx, new)?;
    }
    Ok(())
}

/// Offboarding (离职): the member leaves every group; groups they owned go to their successor
/// (`handover_to`, added to the group if needed), else to an admin or the longest member.
/// 1:1 chats stay as history.
fn leave_all_groups(tx: &Tx, m: &Member) -> AppResult<()> {
    let convs: Vec<u64> = {
        let t = store::USER_CONVS.open(tx.txn)?;
        let rows: AppResult<Vec<_>> = t.range(&(m.id, 0), &(m.id, u64::MAX))?.collect();
        rows?.into_iter().map(|((_, c), _)| c).collect()
    };
    for id in convs {
        let Some(mut conv) = store::conversation(tx, id)?.filter(|c| c.is_group() && !c.dissolved) else { continue };
        if conv.owner_id == m.id {
            match m.handover_to.filter(|s| *s != m.id) {
                Some(successor) => {
                    add_people(tx, &mut conv, successor, &[successor])?;
                    conv.owner_id = successor;
                    conv.admin_ids.retain(|a| *a != successor);
                }
                None => hand_over_ownership(tx, &mut conv, m.id)?,
            }
        }
        drop_member(tx, &mut conv, m.id, m.id, format!("{} 已离职", m.name))?;
    }
    Ok(())
}

fn sync_department_groups(tx: &Tx, old: Option<&Member>, new: &Member) -> AppResult<()> {
    if let Some(o) = old {
        if o.department_ids == new.department_ids && in_department_groups(o) == in_department_groups(new) {
            return Ok(());
        }
    }
    if store::DEPARTMENT_GROUPS.open(tx.txn)?.is_empty()? {
        return Ok(());
    }
    let tree = crate::org::store::tree_in(tx)?;
    let before = match old {
        Some(o) => groups_for(tx, &tree, o)?,
        None => BTreeSet::new(),
    };
    let after = groups_for(tx, &tree, new)?;
    for id in after.difference(&before) {
        if let Some(mut conv) = store::conversation(tx, *id)?.filter(|c| !c.dissolved) {
            add_people(tx, &mut conv, new.id, &[new.id])?;
        }
    }
    for id in before.difference(&after) {
        if let Some(mut conv) = store::conversation(tx, *id)?.filter(|c| !c.dissolved) {
            if conv.owner_id == new.id {
                hand_over_ownership(tx, &mut conv, new.id)?;
            }
            drop_member(tx, &mut conv, new.id, new.id, format!("{} 已离开部门群", new.name))?;
        }
    }
    Ok(())
}

/// The owner leaves the department: the first admin, else the longest-standing member, owns it.
fn hand_over_ownership(tx: &Tx, conv: &mut super::model::Conversation, leaving: u64) -> AppResult<()> {
    let next = conv
        .admin_ids
        .iter()
        .copied()
        .find(|a| *a != leaving)
        .or_else(|| store::member_ids(tx, conv.id).ok().and_then(|ids| ids.into_iter().find(|u| *u != leaving)));
    if let Some(n) = next {
        conv.owner_id = n;
        conv.admin_ids.retain(|a| *a != n);
    }
    Ok(())
}
