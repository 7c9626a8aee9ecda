//! Drive tables and the functions that keep their indexes in step, inside the caller's
//! transaction.
//!
//! Tables (ids from the global sequence):
//! - `drive_spaces: space -> Space` (`used` changes in the same transaction as every size change)
//! - `drive_personal: user -> space` (one personal space per member, created lazily)
//! - `drive_space_members: (space, principal) -> Entry` and its mirror
//!   `drive_principal_spaces: (principal, space) -> ()` (spaces a user can reach)
//! - `drive_nodes: node -> Node`
//! - `drive_children: (parent, node) -> ()` (a folder listing is one range scan)
//! - `drive_names: "{parent}/{folded name}" -> node` (unique names per folder)
//! - `drive_listing: "{parent}/{rank}/{folded name}\0{id:020}" -> node` (the default listing
//!   order, folders first: a page is a range read; see [`super::listing`])
//! - `drive_versions: (node, version) -> Version` (every version, the current one included;
//!   each row holds one blob reference)
//! - `drive_acl: (node, principal) -> Entry` and its mirror `drive_principal_grants:
//!   (principal, node) -> ()` (共享给我)
//! - `drive_bin: (space, node) -> BinEntry` (top nodes of deleted subtrees)
//! - `drive_activity: (space, seq) -> Activity`
//! - `drive_totals: 0 -> bytes used by the whole enterprise`
//!
//! Invariants: a live node (not in the bin, no trashed ancestor) has exactly one
//! `drive_children` row under its parent, one `drive_names` row and one `drive_listing` row, all
//! three written only by [`link`] / [`unlink`]; a trashed top node has
//! neither (its name is free again) but its descendants keep theirs, so a restore is one move.
//! Children point at their folder's id, never at a path: moving a folder touches only its row.

use super::model::{Activity, BinEntry, Entry, Node, Space, Version};
use crate::error::{AppError, AppResult};
use crate::platform::store::{Table, TableKey, Tx};
use serde::de::DeserializeOwned;
use serde::Serialize;

pub const SPACES: Table<u64, Space> = Table::new("drive_spaces");
pub const PERSONAL: Table<u64, u64> = Table::new("drive_personal");
pub const SPACE_MEMBERS: Table<(u64, u64), Entry> = Table::new("drive_space_members");
pub const PRINCIPAL_SPACES: Table<(u64, u64), ()> = Table::new("drive_principal_spaces");
pub const NODES: Table<u64, Node> = Table::new("drive_nodes");
pub const CHILDREN: Table<(u64, u64), ()> = Table::new("drive_children");
pub const NAMES: Table<String, u64> = Table::new("drive_names");
pub const LISTING: Table<String, u64> = Table::new("drive_listing");
pub const VERSIONS: Table<(u64, u64), Version> = Table::new("drive_versions");
pub const ACL: Table<(u64, u64), Entry> = Table::new("drive_acl");
pub const PRINCIPAL_GRANTS: Table<(u64, u64), ()> = Table::new("drive_principal_grants");
pub const BIN: Table<(u64, u64), BinEntry> = Table::new("drive_bin");
pub const ACTIVITY: Table<(u64, u64), Activity> = Table::new("drive_activity");
pub const TOTALS: Table<u64, u64> = Table::new("drive_totals");

/// Reads that work the same in a snapshot and inside a write transaction, so permission checks
/// and listings are written once.
pub trait Rd {
    fn get<K: TableKey, V: Serialize + DeserializeOwned>(&self, t: &Table<K, V>, k: &K) -> AppResult<Option<V>>;
    /// Visit rows with `lo <= key <= hi` in key order (reversed when `rev`) until `f` returns
    /// false; nothing is read past that row.
    fn scan<K: TableKey, V: Serialize + DeserializeOwned>(
        &self,
        t: &Table<K, V>,
        lo: &K,
        hi: &K,
        rev: bool,
        f: impl FnMut(K, V) -> AppResult<bool>,
    ) -> AppResult<()>;

    /// Rows with `lo <= key <= hi` in key order, at most `limit`.
    fn range<K: TableKey, V: Serialize + DeserializeOwned>(
        &self,
        t: &Table<K, V>,
        lo: &K,
        hi: &K,
        limit: usize,
    ) -> AppResult<Vec<(K, V)>> {
        let mut rows = Vec::new();
        if limit > 0 {
            self.scan(t, lo, hi, false, |k, v| {
                rows.push((k, v));
                Ok(rows.len() < limit)
            })?;
        }
        Ok(rows)
    }
}

/// Feed rows to `f` until it says stop.
fn visit<K, V>(
    rows: impl DoubleEndedIterator<Item = AppResult<(K, V)>>,
    rev: bool,
    mut f: impl FnMut(K, V) -> AppResult<bool>,
) -> AppResult<()> {
    let rows: Box<dyn Iterator<Item = AppResult<(K, V)>>> = if rev { Box::new(rows.rev()) } else { Box::new(rows) };
    for row in rows {
        let (k, v) = row?;
        if !f(k, v)? {
            break;
        }
    }
    Ok(())
}

impl Rd for redb::ReadTransaction {
    fn get<K: TableKey, V: Serialize + DeserializeOwned>(&self, t: &Table<K, V>, k: &K) -> AppResult<Option<V>> {
        t.get_in(self, k)
    }
    fn scan<K: TableKey, V: Serialize + DeserializeOwned>(
        &self,
        t: &Table<K, V>,
        lo: &K,
        hi: &K,
        rev: bool,
        f: impl FnMut(K, V) -> AppResult<bool>,
    ) -> AppResult<()> {
        let Some(h) = t.read(self)? else { return Ok(()) };
        let done = visit(h.range(lo, hi)?, rev, f);
        done
    }
}

impl Rd for Tx<'_> {
    fn get<K: TableKey, V: Serialize + DeserializeOwned>(&self, t: &Table<K, V>, k: &K) -> AppResult<Option<V>> {
        t.open(self.txn)?.get(k)
    }
    /// `f` must not open `t` (a write transaction opens a table once at a time).
    fn scan<K: TableKey, V: Serialize + DeserializeOwned>(
        &self,
        t: &Table<K, V>,
        lo: &K,
        hi: &K,
        rev: bool,
        f: impl FnMut(K, V) -> AppResult<bool>,
    ) -> AppResult<()> {
        let h = t.open(self.txn)?;
        let done = visit(h.range(lo, hi)?, rev, f);
        done
    }
}

pub fn space(r: &impl Rd, id: u64) -> AppResult<Space> {
    r.get(&SPACES, &id)?.ok_or_else(|| AppError::not_found("space"))
}

pub fn put_space(tx: &Tx, s: &Space) -> AppResult<()> {
    SPACES.open(tx.txn)?.put(&s.id, s)
}

pub fn node(r: &impl Rd, id: u64) -> AppResult<Node> {
    r.get(&NODES, &id)?.ok_or_else(|| AppError::not_found("file"))
}

/// Rewrite a node's row (no index changes: use [`link`] / [`unlink`] for those).
pub fn put_node(tx: &Tx, n: &Node) -> AppResult<()> {
    NODES.open(tx.txn)?.put(&n.id, n)
}

/// The node holding `name` in `parent`, if any.
pub fn child_named(r: &impl Rd, parent: u64, name: &str) -> AppResult<Option<u64>> {
    r.get(&NAMES, &super::names::key(parent, name))
}

/// Enter a node under its parent (children, name and listing indexes). The name must be free.
/// The only writer of the three, so they cannot drift apart.
pub fn link(tx: &Tx, n: &Node) -> AppResult<()> {
    let Some(parent) = n.parent_id else { return Ok(()) };
    CHILDREN.open(tx.txn)?.put(&(parent, n.id), &())?;
    NAMES.open(tx.txn)?.put(&super::names::key(parent, &n.name), &n.id)?;
    LISTING.open(tx.txn)?.put(&super::listing::key(parent, n), &n.id)
}

/// Take a node out of its parent's children, name and listing indexes. `n` is the row as stored
/// (its current parent and name), so call it before changing either.
pub fn unlink(tx: &Tx, n: &Node) -> AppResult<()> {
    let Some(parent) = n.parent_id else { return Ok(()) };
    CHILDREN.open(tx.txn)?.remove(&(parent, n.id))?;
    LISTING.open(tx.txn)?.remove(&super::listing::key(parent, n))?;
    let key = super::names::key(parent, &n.name);
    let mut names = NAMES.open(tx.txn)?;
    if names.get(&key)? == Some(n.id) {
        names.remove(&key)?;
    }
    Ok(())
}

/// Child ids of a folder (keys only).
pub fn child_ids(r: &impl Rd, parent: u64) -> AppResult<Vec<u64>> {
    Ok(r.range(&CHILDREN, &(parent, 0), &(parent, u64::MAX), usize::MAX)?.into_iter().map(|((_, c), ())| c).collect())
}

/// Every node below `id` (not `id` itself), depth first.
pub fn descendants(r: &impl Rd, id: u64) -> AppResult<Vec<Node>> {
    let mut out = Vec::new();
    let mut stack = vec![id];
    while let Some(folder) = stack.pop() {
        for c in child_ids(r, folder)? {
            let n = node(r, c)?;
            if n.is_folder() {
                stack.push(n.id);
            }
            out.push(n);
        }
    }
    Ok(out)
}

pub fn versions(r: &impl Rd, node: u64) -> AppResult<Vec<(u64, Version)>> {
    Ok(r.range(&VERSIONS, &(node, 0), &(node, u64::MAX), usize::MAX)?
        .into_iter()
        .map(|((_, v), row)| (v, row))
        .collect())
}

pub fn enterprise_used(r: &impl Rd) -> AppResult<u64> {
    Ok(r.get(&TOTALS, &0)?.unwrap_or(0))
}

/// Add (or with a negative delta, remove) bytes from a space and the enterprise total.
pub fn add_used(tx: &Tx, space_id: u64, delta: i64) -> AppResult<()> {
    if delta == 0 {
        return Ok(());
    }
    let mut s = space(tx, space_id)?;
    s.used = s.used.saturating_add_signed(delta);
    put_space(tx, &s)?;
    let total = enterprise_used(tx)?.saturating_add_signed(delta);
    TOTALS.open(tx.txn)?.put(&0, &total)
}

/// Append to the space's activity log.
pub fn log(tx: &Tx, space_id: u64, actor: u64, action: &str, n: &Node, details: serde_json::Value) -> AppResult<()> {
    let seq = tx.next_seq()?;
    let a = Activity { at: tx.now, actor, action: action.into(), node_id: n.id, name: n.name.clone(), details };
    ACTIVITY.open(tx.txn)?.put(&(space_id, seq), &a)
}

pub fn put_member(tx: &Tx, space: u64, principal: u64, e: Entry) -> AppResult<()> {
    SPACE_MEMBERS.open(tx.txn)?.put(&(space, principal), &e)?;
    PRINCIPAL_SPACES.open(tx.txn)?.put(&(principal, space), &())
}

pub fn remove_member(tx: &Tx, space: u64, principal: u64) -> AppResult<bool> {
    PRINCIPAL_SPACES.open(tx.txn)?.remove(&(principal, space))?;
    SPACE_MEMBERS.open(tx.txn)?.remove(&(space, principal))
}

pub fn members(r: &impl Rd, space: u64) -> AppResult<Vec<(u64, Entry)>> {
    Ok(r.range(&SPACE_MEMBERS, &(space, 0), &(space, u64::MAX), usize::MAX)?
        .into_iter()
        .map(|((_, p), e)| (p, e))
        .collect())
}

pub fn grants(r: &impl Rd, node: u64) -> AppResult<Vec<(u64, Entry)>> {
    Ok(r.range(&ACL, &(node, 0), &(node, u64::MAX), usize::MAX)?.into_iter().map(|((_, p), e)| (p, e)).collect())
}

pub fn put_grant(tx: &Tx, node: u64, principal: u64, e: Entry) -> AppResult<()> {
    ACL.open(tx.txn)?.put(&(node, principal), &e)?;
    PRINCIPAL_GRANTS.open(tx.txn)?.put(&(principal, node), &())
}

pub fn remove_grant(tx: &Tx, node: u64, principal: u64) -> AppResult<bool> {
    PRINCIPAL_GRANTS.open(tx.txn)?.remove(&(principal, node))?;
    ACL.open(tx.txn)?.remove(&(node, principal))
}
