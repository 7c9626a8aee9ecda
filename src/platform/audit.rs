//! The audit log: every admin and security event (who, what, target, when, from which IP).
//! Entries are written in the same transaction as the change they describe and are append-only:
//! no API edits or deletes them.
//!
//! Table `audit`: seq id -> [`AuditEntry`].

use crate::error::AppResult;
use crate::platform::store::{Table, Tx};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const AUDIT: Table<u64, AuditEntry> = Table::new("audit");

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AuditEntry {
    pub id: u64,
    pub at: i64,
    /// 0 when there is no signed-in actor (failed login, setup).
    pub actor_id: u64,
    pub actor_name: String,
    pub action: String,
    pub target: String,
    pub ip: String,
    #[serde(default)]
    pub details: Value,
    /// Departments the event concerns; branch admins see only entries touching their scope.
    /// Empty = organisation-wide (super admins only).
    #[serde(default)]
    pub departments: Vec<u64>,
}

/// Who is acting and from where; carried from the HTTP layer into use cases.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub id: u64,
    pub name: String,
    pub ip: String,
}

impl Actor {
    pub fn anonymous(ip: &str) -> Self {
        Actor { id: 0, name: String::new(), ip: ip.to_owned() }
    }
}

pub fn record(tx: &Tx, actor: &Actor, action: &str, target: impl Into<String>, details: Value) -> AppResult<u64> {
    record_for(tx, actor, action, target, details, &[])
}

/// An entry about something inside the given departments (a member's, a department's).
pub fn record_for(
    tx: &Tx,
    actor: &Actor,
    action: &str,
    target: impl Into<String>,
    details: Value,
    departments: &[u64],
) -> AppResult<u64> {
    let mut departments = departments.to_vec();
    departments.sort_unstable();
    departments.dedup();
    let id = tx.next_seq()?;
    let entry = AuditEntry {
        id,
        at: tx.now,
        actor_id: actor.id,
        actor_name: actor.name.clone(),
        action: action.to_owned(),
        target: target.into(),
        ip: actor.ip.clone(),
        details,
        departments,
    };
    AUDIT.open(tx.txn)?.put(&id, &entry)?;
    Ok(id)
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct AuditFilter {
    pub actor_id: Option<u64>,
    /// Exact action or a prefix ending in `.` (e.g. `member.`).
    pub action: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// Free text matched against target, actor name and details.
    pub q: Option<String>,
    /// Set by the server for branch admins: only entries touching these departments.
    #[serde(skip)]
    pub scope: Option<std::collections::HashSet<u64>>,
}

impl AuditFilter {
    pub fn matches(&self, e: &AuditEntry) -> bool {
        if self.scope.as_ref().is_some_and(|s| !e.departments.iter().any(|d| s.contains(d))) {
            return false;
        }
        if self.actor_id.is_some_and(|a| a != e.actor_id) {
            return false;
        }
        if let Some(a) = self.action.as_deref().filter(|a| !a.is_empty()) {
            let ok = if a.ends_with('.') { e.action.starts_with(a) } else { e.action == a };
            if !ok {
                return false;
            }
        }
        if self.from.is_some_and(|f| e.at < f) || self.to.is_some_and(|t| e.at > t) {
            return false;
        }
        if let Some(q) = self.q.as_deref().filter(|q| !q.is_empty()) {
            let q = q.to_lowercase();
            let hay = format!("{} {} {}", e.target, e.actor_name, e.details).to_lowercase();
            if !hay.contains(&q) {
                return false;
            }
        }
        true
    }
}

/// Newest first, starting below `before` (a cursor: the last id of the previous page).
pub fn query(
    txn: &redb::ReadTransaction,
    filter: &AuditFilter,
    before: Option<u64>,
    limit: usize,
) -> AppResult<(Vec<AuditEntry>, Option<u64>)> {
    let Some(t) = AUDIT.read(txn)? else { return Ok((Vec::new(), None)) };
    let hi = before.map(|b| b.saturating_sub(1)).unwrap_or(u64::MAX);
    let mut items = Vec::new();
    for row in t.range(&0, &hi)?.rev() {
        let (_, e) = row?;
        if filter.matches(&e) {
            if items.len() == limit {
                let next = items.last().map(|l: &AuditEntry| l.id);
                return Ok((items, next));
            }
            items.push(e);
        }
    }
    Ok((items, None))
}
