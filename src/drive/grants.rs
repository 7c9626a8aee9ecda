//! Node-level grants (share to people, departments, tags; folder overrides). A grant replaces
//! the space role for the named principals on that node and below (see [`super::perm`]).

use super::model::{Entry, Node, PrincipalKind, Role};
use super::perm::{self, Principals};
use super::spaces::principal_name;
use super::store::{self, Rd};
use crate::error::{AppError, AppResult};
use crate::platform::store::Tx;
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn managed_node(r: &impl Rd, user: u64, id: u64) -> AppResult<Node> {
    let a = perm::resolve(r, &Principals::of(r, user)?, id)?;
    if a.role < Role::Manager {
        return Err(AppError::forbidden("Only the space's managers may share"));
    }
    Ok(a.node)
}

/// `GET /drive/nodes/{id}/grants`.
pub fn list(r: &impl Rd, user: u64, id: u64) -> AppResult<Vec<Value>> {
    managed_node(r, user, id)?;
    let mut out = Vec::new();
    for (p, e) in store::grants(r, id)? {
        let name = principal_name(r, e.kind, p).unwrap_or_default();
        out.push(json!({"kind": e.kind, "id": p, "name": name, "role": e.role}));
    }
    Ok(out)
}

/// `PUT /drive/nodes/{id}/grants`. Returns the users to notify (the person, or nobody for
/// departments and tags: they see it in 共享给我).
pub fn put(tx: &Tx, user: u64, id: u64, kind: PrincipalKind, pid: u64, role: Role) -> AppResult<Node> {
    let mut n = managed_node(tx, user, id)?;
    principal_name(tx, kind, pid)?;
    store::put_grant(tx, id, pid, Entry { kind, role })?;
    if !n.shared {
        n.shared = true;
        store::put_node(tx, &n)?;
    }
    store::log(tx, n.space_id, user, "share", &n, json!({"kind": kind, "id": pid, "role": role}))?;
    Ok(n)
}

/// `DELETE /drive/nodes/{id}/grants/{kind}/{pid}`.
pub fn remove(tx: &Tx, user: u64, id: u64, pid: u64) -> AppResult<()> {
    let mut n = managed_node(tx, user, id)?;
    if !store::remove_grant(tx, id, pid)? {
        return Err(AppError::not_found("grant"));
    }
    // `shared` also marks live share links (the list's icon): keep it while one remains.
    if store::grants(tx, id)?.is_empty() && !super::links_store::has_live(tx, id, tx.now)? {
        n.shared = false;
        store::put_node(tx, &n)?;
    }
    Ok(())
}

/// `GET /drive/shared`: live nodes granted to the user (or their departments/tags) in spaces
/// where they have no role of their own.
pub fn shared_with_me(r: &impl Rd, user: u64) -> AppResult<Vec<(Node, Role)>> {
    let who = Principals::of(r, user)?;
    let mut ids = BTreeSet::new();
    for p in &who.ids {
        for ((_, n), ()) in r.range(&store::PRINCIPAL_GRANTS, &(*p, 0), &(*p, u64::MAX), usize::MAX)? {
            ids.insert(n);
        }
    }
    let mut out = Vec::new();
    for id in ids {
        let Ok(a) = perm::resolve(r, &who, id) else { continue };
        if perm::space_role(r, &who, &a.space)?.is_some() {
            continue;
        }
        out.push((a.node, a.role));
    }
    Ok(out)
}
