//! File versions: every write adds a row to `drive_versions` (holding one blob reference);
//! only the newest `drive.versions_kept` stay, older rows release their blobs in the same
//! transaction. Restoring an old version makes a new version with that content.

use super::model::{Node, Role, Version};
use super::perm::Principals;
use super::store::{self, Rd};
use crate::error::{AppError, AppResult};
use crate::platform::blobs::{self, BlobRef};
use crate::platform::store::Tx;
use serde_json::json;

/// Make `blob` the current content of file `n` (a new file has version 0 and becomes 1).
/// Updates the node row, the space's `used`, the search document; the caller links new nodes.
pub fn add_version(tx: &Tx, n: &mut Node, blob: &BlobRef, mime: &str, user: u64) -> AppResult<()> {
    let old_size = if n.version == 0 { 0 } else { n.size };
    n.version += 1;
    let row = Version { sha: blob.sha256.clone(), size: blob.size, mime: Some(mime.into()), by: user, at: tx.now };
    blobs::add_ref(tx, &row.sha)?;
    store::VERSIONS.open(tx.txn)?.put(&(n.id, u64::from(n.version)), &row)?;
    if n.sha.as_deref() != Some(blob.sha256.as_str()) {
        if let Some(thumb) = n.thumb_sha.take() {
            blobs::release_ref(tx, &thumb)?;
        }
    }
    n.sha = Some(row.sha);
    n.size = blob.size;
    n.mime = row.mime;
    n.updated_by = user;
    n.updated_at = tx.now;
    store::put_node(tx, n)?;
    store::add_used(tx, n.space_id, blob.size as i64 - old_size as i64)?;
    super::search::index(tx, n)?;
    prune(tx, n.id)
}

/// Keep the newest `versions_kept` rows of a file.
fn prune(tx: &Tx, node: u64) -> AppResult<()> {
    let keep = super::service::read_settings(tx)?.versions_kept.max(1) as usize;
    let all = store::versions(tx, node)?;
    if all.len() <= keep {
        return Ok(());
    }
    for (v, row) in &all[..all.len() - keep] {
        store::VERSIONS.open(tx.txn)?.remove(&(node, *v))?;
        blobs::release_ref(tx, &row.sha)?;
    }
    Ok(())
}

/// Every version row of a file, releasing their references (purge).
pub fn drop_all(tx: &Tx, node: u64) -> AppResult<()> {
    for (v, row) in store::versions(tx, node)? {
        store::VERSIONS.open(tx.txn)?.remove(&(node, v))?;
        blobs::release_ref(tx, &row.sha)?;
    }
    Ok(())
}

/// `GET /drive/nodes/{id}/versions` (viewer): newest first.
pub fn list(r: &impl Rd, user: u64, id: u64) -> AppResult<(Node, Vec<(u64, Version)>)> {
    let a = super::perm::resolve(r, &Principals::of(r, user)?, id)?;
    a.require(Role::Viewer)?;
    if a.node.is_folder() {
        return Err(AppError::not_found("file"));
    }
    let mut rows = store::versions(r, id)?;
    rows.reverse();
    Ok((a.node, rows))
}

/// One version's row (download `?version=`), checked like [`list`].
pub fn one(r: &impl Rd, id: u64, version: u64) -> AppResult<Version> {
    r.get(&store::VERSIONS, &(id, version))?.ok_or_else(|| AppError::not_found("version"))
}

/// `POST /drive/nodes/{id}/versions/{v}/restore` (editor).
pub fn restore(tx: &Tx, user: u64, id: u64, version: u64) -> AppResult<Node> {
    let a = super::perm::resolve(tx, &Principals::of(tx, user)?, id)?;
    a.require(Role::Editor)?;
    let row = one(tx, id, version)?;
    let mut n = a.node;
    let delta = row.size.saturating_sub(n.size);
    super::service::check_quota(tx, &a.space, row.size, delta)?;
    let blob = BlobRef { sha256: row.sha.clone(), size: row.size, content_type: String::new() };
    let mime = row.mime.clone().unwrap_or_else(|| "application/octet-stream".into());
    add_version(tx, &mut n, &blob, &mime, user)?;
    store::log(tx, n.space_id, user, "version_restore", &n, json!({"from": version, "version": n.version}))?;
    Ok(n)
}
