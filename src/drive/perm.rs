//! Who may do what: the caller's principals (themselves, their departments and every ancestor
//! department, their tags), their role on a space, and the effective role on a node.
//!
//! Effective role = the highest role on the space, replaced by the nearest node-level grant on
//! the path from the node up to the root (it can raise or lower). An uploader sees only the
//! anchor (where their role comes from) and what they created below it. No role, or a node an
//! uploader may not see, answers 404 with the same body as a missing id.

use super::model::{Node, Role, Space, SpaceKind};
use super::store::{self, Rd};
use crate::error::{AppError, AppResult};
use crate::org::model::{Department, Member, MemberStatus, Tag};
use std::collections::BTreeSet;

/// Longest parent chain we follow (a guard against a damaged tree looping).
const MAX_DEPTH: usize = 256;

/// A user and every principal id that stands for them.
#[derive(Debug, Clone, Default)]
pub struct Principals {
    pub user: u64,
    pub ids: BTreeSet<u64>,
}

impl Principals {
    /// The user, their departments with ancestors, and the tags naming any of those.
    pub fn of(r: &impl Rd, user: u64) -> AppResult<Principals> {
        let mut ids = BTreeSet::from([user]);
        let member: Option<Member> = r.get(&crate::org::store::MEMBERS, &user)?;
        let Some(m) = member.filter(|m| m.status != MemberStatus::Left) else {
            return Ok(Principals { user, ids });
        };
        let depts: Vec<(u64, Department)> = r.range(&crate::org::store::DEPARTMENTS, &0, &u64::MAX, usize::MAX)?;
        let tree = crate::org::tree::Tree::new(depts.into_iter().map(|(_, d)| d).collect());
        for d in &m.department_ids {
            ids.extend(tree.path(*d));
        }
        let tags: Vec<(u64, Tag)> = r.range(&crate::org::store::TAGS, &0, &u64::MAX, usize::MAX)?;
        for (id, t) in tags {
            if t.member_ids.contains(&user) || t.department_ids.iter().any(|d| ids.contains(d)) {
                ids.insert(id);
            }
        }
        Ok(Principals { user, ids })
    }
}

/// The caller's role on a space as a whole (before node-level grants).
pub fn space_role(r: &impl Rd, who: &Principals, s: &Space) -> AppResult<Option<Role>> {
    if s.kind == SpaceKind::Personal && s.owner_id == who.user {
        return Ok(Some(Role::Manager));
    }
    Ok(store::members(r, s.id)?.into_iter().filter(|(p, _)| who.ids.contains(p)).map(|(_, e)| e.role).max())
}

/// What the caller may do with one node.
#[derive(Debug, Clone)]
pub struct Access {
    pub node: Node,
    pub space: Space,
    pub role: Role,
    /// Root first, the node itself last.
    pub path: Vec<Node>,
    /// False for an uploader looking at the anchor of their role: listings then show only
    /// what they created.
    pub sees_all: bool,
}

impl Access {
    /// 403 when the role is below `min` (the caller can see the node, so 404 would lie).
    pub fn require(&self, min: Role) -> AppResult<&Self> {
        if self.role < min {
            return Err(AppError::forbidden("Your role on this item does not allow this"));
        }
        Ok(self)
    }

    /// Deleting: editors, and uploaders for what they created themselves.
    pub fn may_delete(&self, user: u64) -> bool {
        self.role >= Role::Editor || (self.role == Role::Uploader && self.node.created_by == user)
    }
}

/// The node's ancestors and itself, root first. `trashed_ok` lets bin operations see inside
/// deleted subtrees; otherwise a trashed node or ancestor is 404.
fn chain(r: &impl Rd, id: u64, trashed_ok: bool) -> AppResult<Vec<Node>> {
    let mut out: Vec<Node> = Vec::new();
    let mut next = Some(id);
    while let Some(cur) = next {
        if out.len() >= MAX_DEPTH {
            return Err(AppError::internal(format!("drive node {id}: parent chain too deep")));
        }
        let n = match (store::node(r, cur), out.last()) {
            // A bin item whose old folder was purged hangs off the space root meanwhile.
            (Err(e), Some(child)) if trashed_ok && e.status == actix_web::http::StatusCode::NOT_FOUND => {
                store::node(r, store::space(r, child.space_id)?.root_id)?
            }
            (n, _) => n?,
        };
        if n.trashed.is_some() && !trashed_ok {
            return Err(AppError::not_found("file"));
        }
        next = n.parent_id;
        out.push(n);
    }
    out.reverse();
    Ok(out)
}

/// The caller's effective role on node `id`, or 404.
pub fn resolve(r: &impl Rd, who: &Principals, id: u64) -> AppResult<Access> {
    resolve_with(r, who, id, false)
}

/// The same for nodes in the bin (restore, purge).
pub fn resolve_trashed(r: &impl Rd, who: &Principals, id: u64) -> AppResult<Access> {
    resolve_with(r, who, id, true)
}

fn resolve_with(r: &impl Rd, who: &Principals, id: u64, trashed_ok: bool) -> AppResult<Access> {
    let path = chain(r, id, trashed_ok)?;
    let node = path.last().cloned().ok_or_else(|| AppError::not_found("file"))?;
    let space = store::space(r, node.space_id)?;
    let mut role = space_role(r, who, &space)?;
    let mut anchor = 0; // index in `path` the role comes from (the root for space roles)
    for (i, n) in path.iter().enumerate().rev() {
        if !n.shared {
            continue;
        }
        let here = store::grants(r, n.id)?.into_iter().filter(|(p, _)| who.ids.contains(p)).map(|(_, e)| e.role).max();
        if here.is_some() {
            role = here;
            anchor = i;
            break;
        }
    }
    let role = role.ok_or_else(|| AppError::not_found("file"))?;
    let sees_all = role != Role::Uploader || path[anchor + 1..].iter().any(|n| n.created_by == who.user);
    if role == Role::Uploader && !uploader_sees(&path, anchor, who.user) {
        return Err(AppError::not_found("file"));
    }
    Ok(Access { node, space, role, path, sees_all })
}

/// An uploader sees the anchor itself and whatever lies under something they created.
fn uploader_sees(path: &[Node], anchor: usize, user: u64) -> bool {
    path.len() == anchor + 1 || path[anchor + 1..].iter().any(|n| n.created_by == user)
}

impl Access {
    /// For listings: may the caller see child `n` of this folder?
    pub fn sees_child(&self, n: &Node, user: u64) -> bool {
        self.sees_all || n.created_by == user
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(id: u64, by: u64) -> Node {
        Node { id, created_by: by, ..Node::default() }
    }

    #[test]
    fn uploaders_see_the_anchor_and_their_own_subtrees() {
        let path = vec![n(1, 9), n(2, 5), n(3, 9)];
        assert!(uploader_sees(&path[..1], 0, 5), "the root");
        assert!(uploader_sees(&path, 0, 5), "inside a folder they made");
        assert!(!uploader_sees(&path, 0, 7));
        assert!(!uploader_sees(&[n(1, 9), n(4, 9)], 0, 5));
    }

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Preview < Role::Viewer && Role::Viewer < Role::Uploader);
        assert!(Role::Uploader < Role::Editor && Role::Editor < Role::Manager);
    }
}
