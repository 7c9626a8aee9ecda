//! Resolving an [`Audience`] to member ids, at publish time, through the organisation's
//! department tree and tags.
//!
//! - `all`: every member.
//! - a department: its members and those of every department below it.
//! - a tag: its members, and the members of its departments (with sub-departments).
//! - `user_ids`: those members.
//!
//! Only active members receive a notice (not disabled, not yet activated, not left). Members
//! who join later do not receive notices published before they joined.
//!
//! When a notice is created or edited the audience is checked strictly (unknown departments,
//! tags or members are errors; branch admins must stay inside their scope; nobody active in it
//! is an error). A scheduled notice is resolved again when it is published, leniently: what was
//! deleted in between is skipped.

use super::model::Audience;
use crate::error::{AppError, AppResult};
use crate::org::service::{self as org, Member, MemberStatus, Scope, Tag, Tree};
use crate::platform::store::Tx;
use std::collections::BTreeSet;

/// What resolution needs from the organisation (a trait so the rules are tested without a
/// database).
pub trait Org {
    fn tree(&self) -> &Tree;
    /// Members listed directly in `department`.
    fn department_members(&self, department: u64) -> AppResult<Vec<u64>>;
    fn tag(&self, id: u64) -> AppResult<Option<Tag>>;
    fn member(&self, id: u64) -> AppResult<Option<Member>>;
    fn all_members(&self) -> AppResult<Vec<Member>>;
}

/// The organisation as seen inside a write transaction.
pub struct TxOrg<'t, 'a> {
    tx: &'t Tx<'a>,
    tree: Tree,
}

impl<'t, 'a> TxOrg<'t, 'a> {
    pub fn new(tx: &'t Tx<'a>) -> AppResult<Self> {
        Ok(TxOrg { tree: org::department_tree_in(tx)?, tx })
    }
}

impl Org for TxOrg<'_, '_> {
    fn tree(&self) -> &Tree {
        &self.tree
    }
    fn department_members(&self, department: u64) -> AppResult<Vec<u64>> {
        org::department_member_ids_in(self.tx, department)
    }
    fn tag(&self, id: u64) -> AppResult<Option<Tag>> {
        org::tag_in(self.tx, id)
    }
    fn member(&self, id: u64) -> AppResult<Option<Member>> {
        org::member_in(self.tx, id)
    }
    fn all_members(&self) -> AppResult<Vec<Member>> {
        org::members_in(self.tx)
    }
}

fn out_of_scope(what: &str) -> AppError {
    AppError::new(
        actix_web::http::StatusCode::FORBIDDEN,
        "out_of_scope",
        format!("{what} is outside the departments you manage"),
    )
}

fn empty() -> AppError {
    AppError::invalid(
        "audience",
        "empty_audience",
        "Choose who receives the announcement; nobody active is in this audience",
    )
}

/// Strict: validate and check `scope` (for create and edit). Lenient: skip what no longer
/// exists (for a scheduled publication).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Strict,
    Lenient,
}

/// The active members `a` reaches, sorted. Errors only in [`Mode::Strict`].
pub fn resolve(o: &impl Org, a: &Audience, scope: &Scope, mode: Mode) -> AppResult<Vec<u64>> {
    let strict = mode == Mode::Strict;
    if strict && a.is_empty() {
        return Err(empty());
    }
    if a.all && strict && !matches!(scope, Scope::All) {
        return Err(out_of_scope("The whole organisation"));
    }
    let tree = o.tree();
    let mut candidates: BTreeSet<u64> = BTreeSet::new();
    let add_department = |d: u64, candidates: &mut BTreeSet<u64>| -> AppResult<()> {
        for sub in tree.subtree(d) {
            candidates.extend(o.department_members(sub)?);
        }
        Ok(())
    };
    for &d in &a.department_ids {
        if tree.get(d).is_none() {
            if strict {
                return Err(AppError::invalid(
                    "department_ids",
                    "unknown_department",
                    format!("Department {d} does not exist"),
                ));
            }
            continue;
        }
        if strict && !scope.contains_department(d) {
            return Err(out_of_scope("A department"));
        }
        add_department(d, &mut candidates)?;
    }
    for &t in &a.tag_ids {
        let Some(tag) = o.tag(t)? else {
            if strict {
                return Err(AppError::invalid("tag_ids", "unknown_tag", format!("Tag {t} does not exist")));
            }
            continue;
        };
        for &d in tag.department_ids.iter().filter(|d| tree.get(**d).is_some()) {
            if strict && !scope.contains_department(d) {
                return Err(out_of_scope("A department of this tag"));
            }
            add_department(d, &mut candidates)?;
        }
        for &m in &tag.member_ids {
            if strict && !o.member(m)?.is_some_and(|m| scope.contains_member(&m.department_ids)) {
                return Err(out_of_scope("A member of this tag"));
            }
            candidates.insert(m);
        }
    }
    for &u in &a.user_ids {
        match o.member(u)? {
            Some(m) if m.status != MemberStatus::Left => {
                if strict && !scope.contains_member(&m.department_ids) {
                    return Err(out_of_scope("A member"));
                }
                candidates.insert(u);
            }
            _ if strict => {
                return Err(AppError::invalid("user_ids", "unknown_member", format!("Member {u} does not exist")))
            }
            _ => {}
        }
    }
    let users: Vec<u64> = if a.all {
        o.all_members()?.into_iter().filter(|m| m.status == MemberStatus::Active).map(|m| m.id).collect()
    } else {
        let mut out = Vec::with_capacity(candidates.len());
        for id in candidates {
            if o.member(id)?.is_some_and(|m| m.status == MemberStatus::Active) {
                out.push(id);
            }
        }
        out
    };
    if strict && users.is_empty() {
        return Err(empty());
    }
    Ok(users)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::service::Department;
    use std::collections::{HashMap, HashSet};

    struct Fake {
        tree: Tree,
        members: HashMap<u64, Member>,
        tags: HashMap<u64, Tag>,
    }

    impl Org for Fake {
        fn tree(&self) -> &Tree {
            &self.tree
        }
        fn department_members(&self, d: u64) -> AppResult<Vec<u64>> {
            let mut ids: Vec<u64> =
                self.members.values().filter(|m| m.department_ids.contains(&d)).map(|m| m.id).collect();
            ids.sort_unstable();
            Ok(ids)
        }
        fn tag(&self, id: u64) -> AppResult<Option<Tag>> {
            Ok(self.tags.get(&id).cloned())
        }
        fn member(&self, id: u64) -> AppResult<Option<Member>> {
            Ok(self.members.get(&id).cloned())
        }
        fn all_members(&self) -> AppResult<Vec<Member>> {
            Ok(self.members.values().cloned().collect())
        }
    }

    fn dept(id: u64, parent_id: u64) -> Department {
        Department { id, parent_id, name: format!("d{id}"), order: 0, leader_ids: vec![], created_at: 0, updated_at: 0 }
    }

    fn member(id: u64, dept: u64, status: MemberStatus) -> (u64, Member) {
        (id, Member { id, status, department_ids: vec![dept], ..Default::default() })
    }

    /// 1 root > 2 研发 > 3 后端; 1 > 4 市场. Members: 10 (root), 20 (2), 30 (3), 31 (3,
    /// disabled), 40 (4), 41 (4, inactive). Tag 7: member 40 and department 3.
    fn org() -> Fake {
        let tree = Tree::new(vec![dept(1, 0), dept(2, 1), dept(3, 2), dept(4, 1)]);
        let members = HashMap::from([
            member(10, 1, MemberStatus::Active),
            member(20, 2, MemberStatus::Active),
            member(30, 3, MemberStatus::Active),
            member(31, 3, MemberStatus::Disabled),
            member(40, 4, MemberStatus::Active),
            member(41, 4, MemberStatus::Inactive),
        ]);
        let tags = HashMap::from([(7, Tag { id: 7, name: "t".into(), member_ids: vec![40], department_ids: vec![3] })]);
        Fake { tree, members, tags }
    }

    fn a(all: bool, d: &[u64], t: &[u64], u: &[u64]) -> Audience {
        Audience { all, department_ids: d.to_vec(), tag_ids: t.to_vec(), user_ids: u.to_vec() }
    }

    #[test]
    fn departments_include_sub_departments_and_only_active_members() {
        let o = org();
        assert_eq!(resolve(&o, &a(false, &[2], &[], &[]), &Scope::All, Mode::Strict).unwrap(), vec![20, 30]);
        assert_eq!(resolve(&o, &a(false, &[], &[7], &[]), &Scope::All, Mode::Strict).unwrap(), vec![30, 40]);
        assert_eq!(resolve(&o, &a(false, &[3], &[], &[10, 41]), &Scope::All, Mode::Strict).unwrap(), vec![10, 30]);
        assert_eq!(resolve(&o, &a(true, &[], &[], &[]), &Scope::All, Mode::Strict).unwrap().len(), 4);
    }

    #[test]
    fn bad_audiences_are_refused_when_strict_and_skipped_when_lenient() {
        let o = org();
        let code = |aud: Audience| resolve(&o, &aud, &Scope::All, Mode::Strict).unwrap_err().code;
        assert_eq!(code(a(false, &[], &[], &[])), "empty_audience");
        assert_eq!(code(a(false, &[99], &[], &[])), "unknown_department");
        assert_eq!(code(a(false, &[], &[99], &[])), "unknown_tag");
        assert_eq!(code(a(false, &[], &[], &[99])), "unknown_member");
        assert_eq!(code(a(false, &[], &[], &[41])), "empty_audience", "only an inactive member");
        let lenient = resolve(&o, &a(false, &[99, 4], &[99], &[99]), &Scope::All, Mode::Lenient).unwrap();
        assert_eq!(lenient, vec![40]);
    }

    #[test]
    fn a_branch_scope_limits_what_may_be_targeted() {
        let o = org();
        let scope = Scope::Departments(HashSet::from([2, 3]));
        let code = |aud: Audience| resolve(&o, &aud, &scope, Mode::Strict).unwrap_err().code;
        assert_eq!(resolve(&o, &a(false, &[2], &[], &[30]), &scope, Mode::Strict).unwrap(), vec![20, 30]);
        assert_eq!(code(a(true, &[], &[], &[])), "out_of_scope");
        assert_eq!(code(a(false, &[4], &[], &[])), "out_of_scope");
        assert_eq!(code(a(false, &[], &[], &[40])), "out_of_scope");
        assert_eq!(code(a(false, &[], &[7], &[])), "out_of_scope", "the tag holds member 40 of 市场");
    }
}
