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
