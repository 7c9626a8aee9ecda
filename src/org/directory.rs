//! Directory reads for every signed-in member: the department tree with member counts, member
//! lists (by department, recursive, searched by name / pinyin / account / mobile / email), a
//! member card. Reads use one snapshot and never block writers.

use super::model::{Department, Member, MemberStatus};
use super::search;
use super::store::{self, DEPARTMENT_MEMBERS, MEMBERS, MEMBER_SEARCH};
use crate::error::{AppError, AppResult};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

#[derive(Debug, Serialize)]
pub struct DepartmentView {
    #[serde(flatten)]
    pub department: Department,
    /// Members directly in this department.
    pub member_count: u64,
    /// Distinct members in this department and everything below it.
    pub total_count: u64,
}

/// A member as the API shows it: the stored record plus derived fields.
#[derive(Debug, Serialize)]
pub struct MemberView {
    #[serde(flatten)]
    pub member: Member,
    pub has_avatar: bool,
    pub leader_of: Vec<u64>,
    pub tag_ids: Vec<u64>,
}

pub struct Views {
    leaders: HashMap<u64, Vec<u64>>,
    tags: HashMap<u64, Vec<u64>>,
}

impl Views {
    pub fn load(txn: &redb::ReadTransaction) -> AppResult<Views> {
        let mut leaders: HashMap<u64, Vec<u64>> = HashMap::new();
        for (_, d) in store::DEPARTMENTS.all_in(txn)? {
            for l in d.leader_ids {
                leaders.entry(l).or_default().push(d.id);
            }
        }
        let mut tags: HashMap<u64, Vec<u64>> = HashMap::new();
        for t in store::all_tags(txn)? {
            for m in t.member_ids {
                tags.entry(m).or_default().push(t.id);
            }
        }
        Ok(Views { leaders, tags })
    }

    pub fn view(&self, mut m: Member) -> MemberView {
        let has_avatar = m.avatar.is_some();
        m.avatar = None;
        MemberView {
            leader_of: self.leaders.get(&m.id).cloned().unwrap_or_default(),
            tag_ids: self.tags.get(&m.id).cloned().unwrap_or_default(),
            has_avatar,
            member: m,
        }
    }
}

pub fn view_one(txn: &redb::ReadTransaction, m: Member) -> AppResult<MemberView> {
    Ok(Views::load(txn)?.view(m))
}

pub fn departments(txn: &redb::ReadTransaction) -> AppResult<Vec<DepartmentView>> {
    let tree = store::tree(txn)?;
    let mut direct: BTreeMap<u64, u64> = BTreeMap::new();
    let mut by_member: HashMap<u64, Vec<u64>> = HashMap::new();
    if let Some(t) = DEPARTMENT_MEMBERS.read(txn)? {
        for row in t.iter()? {
            let ((d, m), ()) = row?;
            *direct.entry(d).or_default() += 1;
            by_member.entry(m).or_default().push(d);
        }
    }
    // A member in two departments of one branch counts once for the branch.
    let paths: HashMap<u64, Vec<u64>> = tree.by_id.keys().map(|d| (*d, tree.path(*d))).collect();
    let mut total: HashMap<u64, u64> = HashMap::new();
    for depts in by_member.values() {
        let above: HashSet<u64> = depts.iter().filter_map(|d| paths.get(d)).flatten().copied().collect();
        for d in above {
            *total.entry(d).or_default() += 1;
        }
    }
    let mut out: Vec<DepartmentView> = tree
        .by_id
        .values()
        .map(|d| DepartmentView {
            member_count: direct.get(&d.id).copied().unwrap_or(0),
            total_count: total.get(&d.id).copied().unwrap_or(0),
            department: d.clone(),
        })
        .collect();
    out.sort_by_key(|v| (tree.depth(v.department.id), v.department.parent_id, v.department.order, v.department.id));
    Ok(out)
}

#[derive(Debug, Deserialize, Default)]
pub struct MemberQuery {
    pub department_id: Option<u64>,
    #[serde(default)]
    pub recursive: Option<bool>,
    pub q: Option<String>,
    pub status: Option<MemberStatus>,
    pub cursor: Option<String>,
    pub limit: Option<usize>,
}

/// Matching members in pinyin order, one page (the cursor is an offset).
pub fn list(txn: &redb::ReadTransaction, q: &MemberQuery) -> AppResult<(Vec<MemberView>, Option<u64>)> {
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let offset: usize = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => c.parse().map_err(|_| AppError::bad_request("invalid_cursor", "The cursor is not valid"))?,
        None => 0,
    };
    let candidates: Option<HashSet<u64>> = match q.department_id {
        Some(d) => {
            let tree = store::tree(txn)?;
            if tree.get(d).is_none() {
                return Err(AppError::not_found("department"));
            }
            let depts = if q.recursive.unwrap_or(true) { tree.subtree(d) } else { vec![d] };
            let mut ids = HashSet::new();
            for d in depts {
                ids.extend(store::department_member_ids(txn, d)?);
            }
            Some(ids)
        }
        None => None,
    };
    let mut ids: Vec<u64> = Vec::new();
    let query = q.q.as_deref().unwrap_or("").trim();
    if let Some(t) = MEMBER_SEARCH.read(txn)? {
        for row in t.iter()? {
            let (id, hay) = row?;
            if candidates.as_ref().is_some_and(|c| !c.contains(&id)) {
                continue;
            }
            if search::matches(&hay, query) {
                ids.push(id);
            }
        }
    }
    let members = MEMBERS.read(txn)?.ok_or_else(|| AppError::internal("members table missing"))?;
    let mut found: Vec<(String, Member)> = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(m) = members.get(&id)? else { continue };
        let wanted = match q.status {
            Some(s) => m.status == s,
            None => m.status != MemberStatus::Left,
        };
        if wanted {
            found.push((search::sort_key(&m.name), m));
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.id.cmp(&b.1.id)));
    let total = found.len();
    let views = Views::load(txn)?;
    let page: Vec<MemberView> = found.into_iter().skip(offset).take(limit).map(|(_, m)| views.view(m)).collect();
    let next = (offset + limit < total).then_some((offset + limit) as u64);
    Ok((page, next))
}
