//! Department paths in the sheet (`总公司/研发部/后端组`, root name optional): resolved against
//! the tree, with the departments they lack planned once (parents first), the depth limit and
//! the admin's scope checked.

use crate::org::model::{validate_department_name, MAX_DEPTH};
use crate::org::tree::{Scope, Tree};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeptRef {
    Existing(u64),
    /// Index into the planned new departments ([`super::plan::Plan::new_departments`]).
    New(usize),
}

#[derive(Debug, Clone)]
pub struct NewDept {
    pub parent: DeptRef,
    pub name: String,
    /// Full path from the root, e.g. `总公司/研发部/后端组`.
    pub path: String,
    /// Depth in the tree (the root is 1).
    pub level: usize,
    /// The first row that needs it.
    pub row: u32,
}

pub struct Depts<'a> {
    tree: &'a Tree,
    root: Option<u64>,
    root_name: String,
    pub new: Vec<NewDept>,
    by_key: HashMap<(DeptRef, String), usize>,
}

pub type Problem = (&'static str, String);

impl<'a> Depts<'a> {
    pub fn new(tree: &'a Tree) -> Self {
        let root = tree.root_id();
        let root_name = root.and_then(|r| tree.get(r)).map(|d| d.name.trim().to_owned()).unwrap_or_default();
        Depts { tree, root, root_name, new: Vec::new(), by_key: HashMap::new() }
    }

    fn child(&self, parent: DeptRef, name: &str) -> Option<DeptRef> {
        let planned = || self.by_key.get(&(parent, name.to_owned())).map(|i| DeptRef::New(*i));
        match parent {
            DeptRef::Existing(id) => self.tree.child_named(id, name).map(DeptRef::Existing).or_else(planned),
            DeptRef::New(_) => planned(),
        }
    }

    fn level(&self, d: DeptRef) -> usize {
        match d {
            DeptRef::Existing(id) => self.tree.depth(id),
            DeptRef::New(i) => self.new.get(i).map_or(MAX_DEPTH, |n| n.level),
        }
    }

    fn path_name(&self, d: DeptRef) -> String {
        match d {
            DeptRef::Existing(id) => self.tree.path_name(id),
            DeptRef::New(i) => self.new.get(i).map(|n| n.path.clone()).unwrap_or_default(),
        }
    }

    /// Resolve one `a/b/c` path, planning the departments it lacks. A department is in scope
    /// when the admin manages it, the member already belongs to it, or it is created under a
    /// department the admin manages.
    pub fn resolve(&mut self, row: u32, path: &str, scope: &Scope, member_depts: &[u64]) -> Result<DeptRef, Problem> {
        let root = self.root.ok_or(("invalid_department", "The organisation has no root department".to_owned()))?;
        let parts: Vec<&str> = path.trim().trim_matches('/').split('/').map(str::trim).collect();
        if parts.iter().any(|p| p.is_empty()) {
            return Err(("invalid_department", format!("`{path}` has an empty level")));
        }
        for p in &parts {
            validate_department_name(p).map_err(|e| ("invalid_department", format!("`{p}`: {}", e.message)))?;
        }
        let parts = match parts.split_first() {
            Some((first, rest)) if *first == self.root_name => rest,
            _ => &parts[..],
        };
        let mut cur = DeptRef::Existing(root);
        let mut found = 0;
        while let Some(next) = parts.get(found).and_then(|p| self.child(cur, p)) {
            cur = next;
            found += 1;
        }
        let missing = &parts[found..];
        if missing.is_empty() {
            if let DeptRef::Existing(id) = cur {
                if !scope.contains_department(id) && !member_depts.contains(&id) {
                    return Err((
                        "out_of_scope",
                        format!("`{}` is outside the departments you manage", self.tree.path_name(id)),
                    ));
                }
            }
            return Ok(cur);
        }
        if self.level(cur) + missing.len() > MAX_DEPTH {
            return Err(("invalid_department", format!("`{path}` would be deeper than {MAX_DEPTH} levels")));
        }
        if let DeptRef::Existing(id) = cur {
            if !scope.contains_department(id) {
                return Err((
                    "out_of_scope",
                    format!(
                        "New departments can only be created inside the departments you manage (`{}`)",
                        self.tree.path_name(id)
                    ),
                ));
            }
        }
        for name in missing {
            let level = self.level(cur) + 1;
            let path = format!("{}/{}", self.path_name(cur), name);
            self.new.push(NewDept { parent: cur, name: (*name).to_owned(), path, level, row });
            let idx = self.new.len() - 1;
            self.by_key.insert((cur, (*name).to_owned()), idx);
            cur = DeptRef::New(idx);
        }
        Ok(cur)
    }
}
