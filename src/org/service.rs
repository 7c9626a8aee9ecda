//! What other features may call in the organisation feature.

pub use super::directory::{view_one, MemberView};
pub use super::members::{get as get_member, managed_in_snapshot, AdminCtx};
pub use super::model::{Member, MemberStatus};
pub use super::store::{find_by_login, put_member};

use crate::error::AppResult;
use crate::platform::audit::Actor;
use crate::platform::auth::{Auth, Permission};
use crate::platform::Platform;

/// The signed-in member as an audit actor (with their display name).
pub fn actor(p: &Platform, auth: &Auth) -> AppResult<Actor> {
    let name = super::store::MEMBERS.get_in(&p.store.begin_read()?, &auth.user_id)?.map(|m| m.name).unwrap_or_default();
    Ok(auth.actor(&name))
}

/// The departments a branch admin manages (`None` for super admins: everything).
pub fn scope_departments(
    p: &Platform,
    role: &crate::platform::auth::AdminRole,
) -> AppResult<Option<std::collections::HashSet<u64>>> {
    match super::tree::Scope::of(role, &super::store::tree(&p.store.begin_read()?)?) {
        super::tree::Scope::All => Ok(None),
        super::tree::Scope::Departments(set) => Ok(Some(set)),
    }
}

/// An admin context after checking the role has `perm` (`None` = super admins only).
pub fn admin_ctx(p: &Platform, auth: &Auth, perm: Option<Permission>) -> AppResult<AdminCtx> {
    let role = match perm {
        Some(perm) => auth.require(p, perm)?,
        None => auth.require_super(p)?,
    };
    Ok(AdminCtx { actor: actor(p, auth)?, role })
}

// ---- reading the organisation from other features (announcements address members by
// department and tag) ----

pub use super::model::{Department, Tag};
pub use super::tree::{Scope, Tree};

/// The department tree of a snapshot.
pub fn department_tree(txn: &redb::ReadTransaction) -> AppResult<Tree> {
    super::store::tree(txn)
}

/// The department tree inside a write.
pub fn department_tree_in(tx: &crate::platform::store::Tx) -> AppResult<Tree> {
    super::store::tree_in(tx)
}

pub fn member(txn: &redb::ReadTransaction, id: u64) -> AppResult<Option<Member>> {
    super::store::MEMBERS.get_in(txn, &id)
}

pub fn member_in(tx: &crate::platform::store::Tx, id: u64) -> AppResult<Option<Member>> {
    super::store::member_in(tx, id)
}

pub fn tag_in(tx: &crate::platform::store::Tx, id: u64) -> AppResult<Option<Tag>> {
    super::store::TAGS.open(tx.txn)?.get(&id)
}

/// Members listed in exactly this department (not below it), any status but `left`.
pub fn department_member_ids_in(tx: &crate::platform::store::Tx, department: u64) -> AppResult<Vec<u64>> {
    let t = super::store::DEPARTMENT_MEMBERS.open(tx.txn)?;
    let ids = t.range(&(department, 0), &(department, u64::MAX))?.map(|r| r.map(|((_, m), ())| m)).collect();
    ids
}

/// Every member, any status.
pub fn members_in(tx: &crate::platform::store::Tx) -> AppResult<Vec<Member>> {
    let t = super::store::MEMBERS.open(tx.txn)?;
    let members = t.iter()?.map(|r| r.map(|(_, m)| m)).collect();
    members
}
