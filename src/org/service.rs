//! What other features may call in the organisation feature.

pub use super::directory::{view_one, MemberView};
pub use super::members::{get as get_member, AdminCtx};
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

/// An admin context after checking the role has `perm` (`None` = super admins only).
pub fn admin_ctx(p: &Platform, auth: &Auth, perm: Option<Permission>) -> AppResult<AdminCtx> {
    let role = match perm {
        Some(perm) => auth.require(p, perm)?,
        None => auth.require_super(p)?,
    };
    Ok(AdminCtx { actor: actor(p, auth)?, role })
}
