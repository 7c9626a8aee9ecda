//! The department tree in memory (departments are few; members are not kept here) and the
//! admin scope computed from it.

use super::model::Department;
use crate::platform::auth::AdminRole;
use std::collections::{BTreeMap, HashMap, HashSet};

pub struct Tree {
    pub by_id: HashMap<u64, Department>,
    children: BTreeMap<u64, Vec<u64>>,
}

impl Tree {
    pub fn new(depts: Vec<Department>) -> Tree {
        let mut children: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
        for d in &depts {
            children.entry(d.parent_id).or_default().push(d.id);
        }
        let by_id: HashMap<u64, Department> = depts.into_iter().map(|d| (d.id, d)).collect();
        for kids in children.values_mut() {
            kids.sort_by_key(|id| by_id.get(id).map(|d| (d.order, d.id)).unwrap_or((0, *id)));
        }
        Tree { by_id, children }
    }

    pub fn root_id(&self) -> Option<u64> {
        self.children.get(&0).and_then(|c| c.first().copied())
    }

    pub fn get(&self, id: u64) -> Option<&Department> {
        self.by_id.get(&id)
    }

    pub fn children(&self, id: u64) -> &[u64] {
        self.children.get(&id).map(Vec::as_slice).unwrap_or(&[])
    }

    /// `id` and everything below it.
    pub fn subtree(&self, id: u64) -> Vec<u64> {
        let mut out = Vec::new();
        let mut stack = vec![id];
        while let Some(d) = stack.pop() {
            if self.by_id.contains_key(&d) {
                out.push(d);
                stack.extend(self.children(d).iter().rev());
            }
        }
        out
    }

    /// Ancestors from the root down to `id` (inclusive).
    pub fn path(&self, id: u64) -> Vec<u64> {
        let mut out = Vec::new();
        let mut cur = id;
        while let Some(d) = self.by_id.get(&cur) {
            out.push(d.id);
            if out.len() > 64 {
                break; // defensive: a cycle would be a bug elsewhere
            }
            cur = d.parent_id;
        }
        out.reverse();
        out
    }

    pub fn depth(&self, id: u64) -> usize {
        self.path(id).len()
    }

    /// Height of the subtree under `id` (1 for a leaf).
    pub fn height(&self, id: u64) -> usize {
        1 + self.children(id).iter().map(|c| self.height(*c)).max().unwrap_or(0)
    }

    pub fn is_within(&self, id: u64, ancestor: u64) -> bool {
        self.path(id).contains(&ancestor)
    }

    /// Names from the root down, e.g. `总公司/研发部/后端组`.
    pub fn path_name(&self, id: u64) -> String {
        self.path(id).iter().filter_map(|d| self.by_id.get(d)).map(|d| d.name.as_str()).collect::<Vec<_>>().join("/")
    }

    pub fn child_named(&self, parent: u64, name: &str) -> Option<u64> {
        self.children(parent).iter().copied().find(|c| self.by_id.get(c).is_some_and(|d| d.name == name))
    }
}

/// What an admin may touch.
#[derive(Debug, Clone)]
pub enum Scope {
    All,
    Departments(HashSet<u64>),
}

impl Scope {
    pub fn of(role: &AdminRole, tree: &Tree) -> Scope {
        if role.is_super() {
            return Scope::All;
        }
        Scope::Departments(role.department_ids.iter().flat_map(|d| tree.subtree(*d)).collect())
    }

    pub fn contains_department(&self, id: u64) -> bool {
        match self {
            Scope::All => true,
            Scope::Departments(set) => set.contains(&id),
        }
    }

    /// A member is in scope when any of their departments is.
    pub fn contains_member(&self, department_ids: &[u64]) -> bool {
        match self {
            Scope::All => true,
            Scope::Departments(set) => department_ids.iter().any(|d| set.contains(d)),
        }
    }
}
