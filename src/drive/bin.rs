//! The recycle bin (回收站). Deleting marks only the top node of the subtree (`trashed`) and
//! takes it out of its folder; its files keep their blob references and still count toward
//! the quota until purged. Purging removes every row of the subtree and releases every blob
//! reference in one transaction; the files go later with blob garbage collection. A daily job
//! purges what has been in the bin longer than `drive.bin_days`.

use super::model::{BinEntry, Node, OnConflict, Role, Trashed};
use super::perm::{self, Principals};
use super::service::place_new;
use super::store::{self, Rd};
use crate::error::{AppError, AppResult};
use crate::platform::blobs;
use crate::platform::store::Tx;
use serde_json::json;

const DAY_MS: i64 = 24 * 3600 * 1000;

/// Move a (visible, live) node and its subtree to the bin.
pub fn trash(tx: &Tx, user: u64, mut n: Node) -> AppResult<()> {
    let Some(parent) = n.parent_id else {
        return Err(AppError::forbidden("A space's root folder cannot be deleted; delete the space"));
    };
    store::unlink(tx, &n)?;
    n.trashed = Some(Trashed { at: tx.now, by: user });
    store::put_node(tx, &n)?;
    store::BIN
        .open(tx.txn)?
        .put(&(n.space_id, n.id), &BinEntry { deleted_at: tx.now, deleted_by: user, old_parent: parent })?;
    super::search::remove_subtree(tx, &n)?;
    super::service::touch_folder(tx, parent, user)?;
    store::log(tx, n.space_id, user, "delete", &n, json!({}))
}

/// One bin item as shown: the node (as it was), when, by whom, when it will be purged.
pub struct BinItem {
    pub node: Node,
    pub entry: BinEntry,
    pub purge_at: i64,
}

/// `GET /drive/spaces/{id}/bin`: editors see everything, uploaders what they deleted of their own.
pub fn list(r: &impl Rd, user: u64, space_id: u64) -> AppResult<(Role, Vec<BinItem>)> {
    let s = store::space(r, space_id)?;
    let role = perm::space_role(r, &Principals::of(r, user)?, &s)?.ok_or_else(|| AppError::not_found("space"))?;
    if role < Role::Uploader {
        return Err(AppError::forbidden("Only editors can see the bin"));
    }
    let days = i64::from(super::service::read_settings(r)?.bin_days);
    let mut out = Vec::new();
    for ((_, id), entry) in r.range(&store::BIN, &(space_id, 0), &(space_id, u64::MAX), usize::MAX)? {
        let node = store::node(r, id)?;
        if role == Role::Uploader && node.created_by != user {
            continue;
        }
        out.push(BinItem { purge_at: entry.deleted_at + days * DAY_MS, node, entry });
    }
    out.sort_by_key(|b| std::cmp::Reverse(b.entry.deleted_at));
    Ok((role, out))
}

/// The bin entry of `id`, if the caller (editor on the space or on the node) may handle it.
fn entry_for(tx: &Tx, user: u64, id: u64) -> AppResult<(Node, BinEntry)> {
    let n = store::node(tx, id)?;
    let entry = tx.get(&store::BIN, &(n.space_id, id))?.ok_or_else(|| AppError::not_found("file"))?;
    let a = perm::resolve_trashed(tx, &Principals::of(tx, user)?, id)?;
    a.require(Role::Editor)?;
    Ok((n, entry))
}

/// `POST /drive/bin/{node}/restore`: back to the old folder, or the root when it is gone.
pub fn restore(tx: &Tx, user: u64, id: u64, on_conflict: OnConflict) -> AppResult<Node> {
    let (mut n, entry) = entry_for(tx, user, id)?;
    let space = store::space(tx, n.space_id)?;
    let parent = match perm::resolve(tx, &Principals::of(tx, user)?, entry.old_parent) {
        Ok(a) if a.node.is_folder() && a.space.id == n.space_id => entry.old_parent,
        _ => space.root_id,
    };
    let name = place_new(tx, parent, &n.name, on_conflict, n.is_folder())?;
    n.name = name;
    n.parent_id = Some(parent);
    n.trashed = None;
    store::put_node(tx, &n)?;
    store::link(tx, &n)?;
    store::BIN.open(tx.txn)?.remove(&(n.space_id, id))?;
    super::search::index_subtree(tx, &n)?;
    store::log(tx, n.space_id, user, "restore", &n, json!({"to": parent}))?;
    Ok(n)
}

/// `DELETE /drive/bin/{node}`.
pub fn purge(tx: &Tx, user: u64, id: u64) -> AppResult<()> {
    let (n, _) = entry_for(tx, user, id)?;
    store::log(tx, n.space_id, user, "purge", &n, json!({}))?;
    purge_subtree(tx, &n)
}

/// `DELETE /drive/spaces/{id}/bin` (manager).
pub fn empty(tx: &Tx, user: u64, space_id: u64) -> AppResult<()> {
    let s = store::space(tx, space_id)?;
    let role = perm::space_role(tx, &Principals::of(tx, user)?, &s)?.ok_or_else(|| AppError::not_found("space"))?;
    if role < Role::Manager {
        return Err(AppError::forbidden("Only managers can empty the bin"));
    }
    for ((_, id), _) in tx.range(&store::BIN, &(space_id, 0), &(space_id, u64::MAX), usize::MAX)? {
        purge_subtree(tx, &store::node(tx, id)?)?;
    }
    Ok(())
}

/// Remove every row of a trashed subtree and release its blob references.
pub fn purge_subtree(tx: &Tx, top: &Node) -> AppResult<()> {
    let mut all = store::descendants(tx, top.id)?;
    all.push(top.clone());
    let mut bytes = 0u64;
    for n in &all {
        bytes += n.size;
        super::versions::drop_all(tx, n.id)?;
        if let Some(t) = &n.thumb_sha {
            blobs::release_ref(tx, t)?;
        }
        for (p, _) in store::grants(tx, n.id)? {
            store::remove_grant(tx, n.id, p)?;
        }
        if n.id != top.id {
            store::unlink(tx, n)?;
        }
        store::NODES.open(tx.txn)?.remove(&n.id)?;
    }
    store::BIN.open(tx.txn)?.remove(&(top.space_id, top.id))?;
    store::add_used(tx, top.space_id, -(bytes as i64))
}

/// The daily job: purge bin entries older than `bin_days`. Returns how many went.
pub fn purge_expired(tx: &Tx) -> AppResult<usize> {
    let cutoff = tx.now - i64::from(super::service::read_settings(tx)?.bin_days) * DAY_MS;
    let due: Vec<u64> = {
        let t = store::BIN.open(tx.txn)?;
        let rows: AppResult<Vec<_>> = t.iter()?.collect();
        rows?.into_iter().filter(|(_, e)| e.deleted_at < cutoff).map(|((_, id), _)| id).collect()
    };
    for id in &due {
        purge_subtree(tx, &store::node(tx, *id)?)?;
    }
    Ok(due.len())
}
