//! Folder operations: stat, mkdir, rename, move, copy and delete (to the bin); listing is in
//! [`super::listing`] (re-exported here).
//!
//! A move changes only the moved node's row and its `drive_children` / `drive_names` /
//! `drive_listing` entries (children point at folder ids), so moving a folder of 10,000 files is
//! a handful of row writes.
//! Across spaces the subtree's `space_id` is rewritten and its bytes move between quotas.

use super::model::{Node, NodeKind, OnConflict, Role};
use super::perm::{self, Access, Principals};
use super::service::{check_quota, place_new, touch_folder};
use super::store::{self, Rd};
use crate::error::{AppError, AppResult};
use crate::platform::blobs;
use crate::platform::store::Tx;
use serde_json::json;

pub use super::listing::{list_page, Cursor, Listing, Sort};

/// `GET /drive/nodes/{id}` (preview).
pub fn stat(r: &impl Rd, user: u64, id: u64) -> AppResult<Access> {
    perm::resolve(r, &Principals::of(r, user)?, id)
}

/// `POST /drive/nodes/{parent}/folders` (uploader).
pub fn mkdir(tx: &Tx, user: u64, parent: u64, name: &str, on_conflict: OnConflict) -> AppResult<Node> {
    let folder = writable_folder(tx, user, parent)?;
    let name = place_new(tx, parent, name, on_conflict, true)?;
    let n = Node {
        id: tx.next_seq()?,
        space_id: folder.space.id,
        parent_id: Some(parent),
        kind: NodeKind::Folder,
        name,
        created_by: user,
        created_at: tx.now,
        updated_by: user,
        updated_at: tx.now,
        ..Node::default()
    };
    store::put_node(tx, &n)?;
    store::link(tx, &n)?;
    super::search::index(tx, &n)?;
    touch_folder(tx, parent, user)?;
    Ok(n)
}

/// A folder the caller may add to (uploader), or 404/403/422.
fn writable_folder(r: &impl Rd, user: u64, id: u64) -> AppResult<Access> {
    let a = perm::resolve(r, &Principals::of(r, user)?, id)?;
    if !a.node.is_folder() {
        return Err(AppError::invalid("parent_id", "not_a_folder", "Items can only be put into folders"));
    }
    a.require(Role::Uploader)?;
    Ok(a)
}

/// `PATCH /drive/nodes/{id}` (editor).
pub fn rename(tx: &Tx, user: u64, id: u64, name: &str, on_conflict: OnConflict) -> AppResult<Node> {
    let a = perm::resolve(tx, &Principals::of(tx, user)?, id)?;
    a.require(Role::Editor)?;
    let mut n = a.node;
    let Some(parent) = n.parent_id else {
        return Err(AppError::forbidden("Rename the space instead of its root folder"));
    };
    let valid = super::names::validate(name)?;
    if valid == n.name {
        return Ok(n);
    }
    // Only the case changes: the name key is the same, no conflict with itself.
    let new_name = if super::names::fold(&valid) == super::names::fold(&n.name) {
        valid
    } else {
        place_new(tx, parent, &valid, on_conflict, n.is_folder())?
    };
    store::unlink(tx, &n)?;
    let old = std::mem::replace(&mut n.name, new_name);
    n.updated_at = tx.now;
    n.updated_by = user;
    store::put_node(tx, &n)?;
    store::link(tx, &n)?;
    super::search::index(tx, &n)?;
    store::log(tx, n.space_id, user, "rename", &n, json!({"from": old}))?;
    Ok(n)
}

/// Bytes of the files in a subtree (the node included).
fn subtree_bytes(r: &impl Rd, n: &Node) -> AppResult<(u64, Vec<Node>)> {
    let below = if n.is_folder() { store::descendants(r, n.id)? } else { Vec::new() };
    let bytes = n.size + below.iter().map(|d| d.size).sum::<u64>();
    Ok((bytes, below))
}

/// `POST /drive/nodes/{id}/move` (editor on the node, uploader on the target).
pub fn move_node(tx: &Tx, user: u64, id: u64, parent: u64, on_conflict: OnConflict) -> AppResult<Node> {
    let who = Principals::of(tx, user)?;
    let a = perm::resolve(tx, &who, id)?;
    a.require(Role::Editor)?;
    let target = writable_folder(tx, user, parent)?;
    if a.node.parent_id.is_none() {
        return Err(AppError::forbidden("A space's root folder cannot be moved"));
    }
    if target.path.iter().any(|p| p.id == id) {
        return Err(AppError::conflict("move_into_self", "A folder cannot be moved into itself or its subfolders"));
    }
    let mut n = a.node.clone();
    if n.parent_id == Some(parent) {
        return Ok(n);
    }
    let name = place_new(tx, parent, &n.name, on_conflict, n.is_folder())?;
    let old_parent = n.parent_id;
    store::unlink(tx, &n)?;
    if target.space.id != n.space_id {
        let (bytes, below) = subtree_bytes(tx, &n)?;
        check_quota(tx, &target.space, 0, bytes)?;
        store::add_used(tx, n.space_id, -(bytes as i64))?;
        store::add_used(tx, target.space.id, bytes as i64)?;
        for mut d in below {
            d.space_id = target.space.id;
            store::put_node(tx, &d)?;
        }
        n.space_id = target.space.id;
    }
    n.name = name;
    n.parent_id = Some(parent);
    n.updated_at = tx.now;
    n.updated_by = user;
    store::put_node(tx, &n)?;
    store::link(tx, &n)?;
    super::search::index(tx, &n)?;
    store::log(tx, n.space_id, user, "move", &n, json!({"from": old_parent, "to": parent}))?;
    Ok(n)
}

/// `POST /drive/nodes/{id}/copy` (viewer on the node, uploader on the target): a deep copy
/// whose files share the original's blobs (one more reference each, no byte copied).
pub fn copy(tx: &Tx, user: u64, id: u64, parent: u64, on_conflict: OnConflict) -> AppResult<Node> {
    let a = perm::resolve(tx, &Principals::of(tx, user)?, id)?;
    a.require(Role::Viewer)?;
    let target = writable_folder(tx, user, parent)?;
    if a.node.is_folder() && target.path.iter().any(|p| p.id == id) {
        return Err(AppError::conflict("move_into_self", "A folder cannot be copied into itself or its subfolders"));
    }
    let name = place_new(tx, parent, &a.node.name, on_conflict, a.node.is_folder())?;
    let (bytes, _) = subtree_bytes(tx, &a.node)?;
    check_quota(tx, &target.space, a.node.size, bytes)?;
    let top = copy_one(tx, user, &a.node, parent, name, target.space.id)?;
    let mut stack = vec![(a.node.id, top.id)];
    while let Some((from, to)) = stack.pop() {
        for c in store::child_ids(tx, from)? {
            let child = store::node(tx, c)?;
            let made = copy_one(tx, user, &child, to, child.name.clone(), target.space.id)?;
            if child.is_folder() {
                stack.push((child.id, made.id));
            }
        }
    }
    store::add_used(tx, target.space.id, bytes as i64)?;
    touch_folder(tx, parent, user)?;
    store::log(tx, target.space.id, user, "copy", &top, json!({"from": id}))?;
    Ok(top)
}

fn copy_one(tx: &Tx, user: u64, src: &Node, parent: u64, name: String, space: u64) -> AppResult<Node> {
    let n = Node {
        id: tx.next_seq()?,
        space_id: space,
        parent_id: Some(parent),
        kind: src.kind,
        name,
        size: src.size,
        sha: src.sha.clone(),
        mime: src.mime.clone(),
        version: if src.is_folder() { 0 } else { 1 },
        created_by: user,
        created_at: tx.now,
        updated_by: user,
        updated_at: tx.now,
        ..Node::default()
    };
    if let Some(sha) = &n.sha {
        blobs::add_ref(tx, sha)?;
        let row = super::model::Version { sha: sha.clone(), size: n.size, mime: n.mime.clone(), by: user, at: tx.now };
        store::VERSIONS.open(tx.txn)?.put(&(n.id, 1), &row)?;
    }
    store::put_node(tx, &n)?;
    store::link(tx, &n)?;
    super::search::index(tx, &n)?;
    Ok(n)
}

/// `DELETE /drive/nodes/{id}` (editor; uploader for their own items): the subtree goes to the
/// space's bin in one step (only the top node changes).
pub fn delete(tx: &Tx, user: u64, id: u64) -> AppResult<()> {
    let a = perm::resolve(tx, &Principals::of(tx, user)?, id)?;
    if !a.may_delete(user) {
        return Err(AppError::forbidden("Your role on this item does not allow deleting it"));
    }
    super::bin::trash(tx, user, a.node)
}
