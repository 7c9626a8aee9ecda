//! Spaces: the personal space of each member (created on first use) and team spaces with
//! members (users, departments, tags) and their roles, usage and the activity log.

use super::model::{Activity, Entry, PrincipalKind, Role, Space, SpaceKind};
use super::perm::{self, Principals};
use super::settings::Creators;
use super::store::{self, Rd};
use crate::error::{AppError, AppResult};
use crate::platform::store::Tx;
use std::collections::BTreeSet;

/// Spaces the user has a role in: their personal space first, then team spaces by name.
pub fn list(r: &impl Rd, user: u64) -> AppResult<Vec<(Space, Role)>> {
    let who = Principals::of(r, user)?;
    let mut ids = BTreeSet::new();
    for p in &who.ids {
        for ((_, s), ()) in r.range(&store::PRINCIPAL_SPACES, &(*p, 0), &(*p, u64::MAX), usize::MAX)? {
            ids.insert(s);
        }
    }
    let mut out = Vec::new();
    if let Some(mine) = r.get(&store::PERSONAL, &user)? {
        ids.remove(&mine);
        out.push((store::space(r, mine)?, Role::Manager));
    }
    let mut team = Vec::new();
    for id in ids {
        let s = store::space(r, id)?;
        if let Some(role) = perm::space_role(r, &who, &s)? {
            team.push((s, role));
        }
    }
    team.sort_by(|a, b| a.0.name.cmp(&b.0.name).then(a.0.id.cmp(&b.0.id)));
    out.extend(team);
    Ok(out)
}

fn validate_space_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(AppError::invalid("name", "name_invalid", "A space name needs 1 to 64 characters"));
    }
    super::names::validate(name)
}

/// `POST /drive/spaces`: the creator becomes the manager.
pub fn create_team(tx: &Tx, user: u64, name: &str, quota: Option<u64>, is_admin: bool) -> AppResult<Space> {
    let settings = super::service::read_settings(tx)?;
    if settings.team_space_creators == Creators::Admins && !is_admin {
        return Err(AppError::forbidden("Only administrators may create team spaces"));
    }
    if quota.is_some() && !is_admin {
        return Err(AppError::forbidden("Only administrators may set a quota"));
    }
    let name = validate_space_name(name)?;
    let s = super::service::new_space(tx, SpaceKind::Team, &name, user, quota)?;
    store::put_member(tx, s.id, user, Entry { kind: PrincipalKind::User, role: Role::Manager })?;
    Ok(s)
}

/// The space and the caller's role, or 404.
pub fn get(r: &impl Rd, user: u64, id: u64) -> AppResult<(Space, Role)> {
    let s = store::space(r, id)?;
    let role = perm::space_role(r, &Principals::of(r, user)?, &s)?.ok_or_else(|| AppError::not_found("space"))?;
    Ok((s, role))
}

fn managed(r: &impl Rd, user: u64, id: u64) -> AppResult<Space> {
    let (s, role) = get(r, user, id)?;
    if role < Role::Manager {
        return Err(AppError::forbidden("Only the space's managers may do this"));
    }
    Ok(s)
}

/// `PATCH /drive/spaces/{id}`; `quota`: `Some(None)` = unlimited.
pub fn patch(
    tx: &Tx,
    user: u64,
    id: u64,
    name: Option<&str>,
    quota: Option<Option<u64>>,
    is_admin: bool,
) -> AppResult<Space> {
    let mut s = managed(tx, user, id)?;
    if let Some(name) = name {
        if s.kind == SpaceKind::Personal {
            return Err(AppError::forbidden("A personal space cannot be renamed"));
        }
        s.name = validate_space_name(name)?;
        let mut root = store::node(tx, s.root_id)?;
        root.name = s.name.clone();
        store::put_node(tx, &root)?;
    }
    if let Some(q) = quota {
        if !is_admin {
            return Err(AppError::forbidden("Only administrators may change a quota"));
        }
        s.quota = q;
    }
    store::put_space(tx, &s)?;
    Ok(s)
}

/// `DELETE /drive/spaces/{id}`: team spaces whose tree and bin are empty.
pub fn delete(tx: &Tx, user: u64, id: u64) -> AppResult<()> {
    let s = managed(tx, user, id)?;
    if s.kind == SpaceKind::Personal {
        return Err(AppError::forbidden("A personal space cannot be deleted"));
    }
    let bin = tx.range(&store::BIN, &(id, 0), &(id, u64::MAX), 1)?;
    if !store::child_ids(tx, s.root_id)?.is_empty() || !bin.is_empty() {
        return Err(AppError::conflict("space_not_empty", "Empty the space and its bin first"));
    }
    for (p, _) in store::members(tx, id)? {
        store::remove_member(tx, id, p)?;
    }
    for (p, _) in store::grants(tx, s.root_id)? {
        store::remove_grant(tx, s.root_id, p)?;
    }
    store::NODES.open(tx.txn)?.remove(&s.root_id)?;
    store::SPACES.open(tx.txn)?.remove(&id)?;
    Ok(())
}

/// The display name of a principal, or 422 when it does not exist.
pub fn principal_name(r: &impl Rd, kind: PrincipalKind, id: u64) -> AppResult<String> {
    let name = match kind {
        PrincipalKind::User => r.get(&crate::org::store::MEMBERS, &id)?.map(|m| m.name),
        PrincipalKind::Department => r.get(&crate::org::store::DEPARTMENTS, &id)?.map(|d| d.name),
        PrincipalKind::Tag => r.get(&crate::org::store::TAGS, &id)?.map(|t| t.name),
    };
    name.ok_or_else(|| AppError::invalid("id", "principal_not_found", "No such member, department or tag"))
}

/// `PUT /drive/spaces/{id}/members`.
pub fn put_member(tx: &Tx, user: u64, id: u64, kind: PrincipalKind, pid: u64, role: Role) -> AppResult<()> {
    let s = managed(tx, user, id)?;
    if s.kind == SpaceKind::Personal {
        return Err(AppError::forbidden("Share items of a personal space instead of adding members"));
    }
    principal_name(tx, kind, pid)?;
    let before = store::members(tx, id)?;
    store::put_member(tx, id, pid, Entry { kind, role })?;
    if before.iter().any(|(p, e)| *p == pid && e.role == Role::Manager) && role != Role::Manager {
        ensure_manager(tx, id)?;
    }
    Ok(())
}

/// `DELETE /drive/spaces/{id}/members/{kind}/{pid}`.
pub fn remove_member(tx: &Tx, user: u64, id: u64, pid: u64) -> AppResult<()> {
    managed(tx, user, id)?;
    if !store::remove_member(tx, id, pid)? {
        return Err(AppError::not_found("member"));
    }
    ensure_manager(tx, id)
}

fn ensure_manager(tx: &Tx, id: u64) -> AppResult<()> {
    if store::members(tx, id)?.iter().any(|(_, e)| e.role == Role::Manager) {
        return Ok(());
    }
    Err(AppError::conflict("last_manager", "A space needs at least one manager"))
}

/// Members with names (for `GET /drive/spaces/{id}`).
pub fn member_list(r: &impl Rd, id: u64) -> AppResult<Vec<serde_json::Value>> {
    let mut out = Vec::new();
    for (p, e) in store::members(r, id)? {
        let name = principal_name(r, e.kind, p).unwrap_or_default();
        out.push(serde_json::json!({"kind": e.kind, "id": p, "name": name, "role": e.role}));
    }
    Ok(out)
}

/// Activity rows `(seq, row)` newest first and the `before` cursor of the next page.
pub type ActivityPage = (Vec<(u64, Activity)>, Option<u64>);

/// `GET /drive/spaces/{id}/activity` (managers): newest first, before the `before` seq.
pub fn activity(r: &impl Rd, user: u64, id: u64, before: Option<u64>, limit: usize) -> AppResult<ActivityPage> {
    managed(r, user, id)?;
    let hi = before.map(|b| b.saturating_sub(1)).unwrap_or(u64::MAX);
    let mut rows = r.range(&store::ACTIVITY, &(id, 0), &(id, hi), usize::MAX)?;
    rows.reverse();
    rows.truncate(limit + 1);
    let next = if rows.len() > limit {
        rows.pop();
        rows.last().map(|((_, s), _)| *s)
    } else {
        None
    };
    Ok((rows.into_iter().map(|((_, s), a)| (s, a)).collect(), next))
}
