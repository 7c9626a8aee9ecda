//! The drive's Rust API for other modules (tus uploads in `platform::uploads`, WebDAV in
//! `drive::dav`, the HTTP handlers here). Every function runs inside the caller's transaction,
//! checks permissions itself and answers 404 for anything the user may not see.
//!
//! Upload protocol, the same for every transport:
//! 1. [`check_upload`] before any byte is accepted (permission, name, quota from the declared
//!    length, `drive.max_file_size`);
//! 2. store the bytes with `Blobs::put_stream`/`put_reader` (limit: the declared length);
//! 3. [`commit_file`] in one transaction: re-checks everything (the tree may have changed),
//!    then creates the file or adds a version, adds the blob reference, updates `used`, logs
//!    the activity and queues the search document.
//!
//! Folder operations (mkdir, rename, move, copy, delete to the bin, listing) are in
//! [`super::nodes`]; versions in [`super::versions`]; the bin in [`super::bin`].

use super::model::{Node, NodeKind, OnConflict, Role, Space, SpaceKind};
use super::names;
use super::perm::{self, Access, Principals};
use super::settings::DriveSettings;
use super::store::{self, Rd};
use crate::error::{AppError, AppResult};
use crate::platform::blobs::BlobRef;
use crate::platform::settings::SettingsDoc;
use crate::platform::store::Tx;
use actix_web::http::StatusCode;
use serde_json::json;

pub use super::nodes::{copy, delete, list_page, mkdir, move_node, rename, stat, Sort};

/// The display name of a new personal space.
pub const PERSONAL_NAME: &str = "我的空间";

/// The user's personal space, created on first use (with its root folder).
pub fn personal_space(tx: &Tx, user: u64) -> AppResult<Space> {
    if let Some(id) = tx.get(&store::PERSONAL, &user)? {
        return store::space(tx, id);
    }
    let settings = DriveSettings::load_in(tx)?;
    let space = new_space(tx, SpaceKind::Personal, PERSONAL_NAME, user, settings.default_user_quota)?;
    store::PERSONAL.open(tx.txn)?.put(&user, &space.id)?;
    Ok(space)
}

/// A space and its root folder (the root's name is the space's name).
pub fn new_space(tx: &Tx, kind: SpaceKind, name: &str, owner: u64, quota: Option<u64>) -> AppResult<Space> {
    let id = tx.next_seq()?;
    let root_id = tx.next_seq()?;
    let space = Space { id, kind, name: name.into(), owner_id: owner, root_id, quota, used: 0, created_at: tx.now };
    let root = Node {
        id: root_id,
        space_id: id,
        parent_id: None,
        kind: NodeKind::Folder,
        name: name.into(),
        created_by: owner,
        created_at: tx.now,
        updated_by: owner,
        updated_at: tx.now,
        ..Node::default()
    };
    store::put_space(tx, &space)?;
    store::put_node(tx, &root)?;
    Ok(space)
}

/// The user's effective role on a node (see [`perm`]), or 404.
pub fn resolve_role(r: &impl Rd, user: u64, node: u64) -> AppResult<Access> {
    perm::resolve(r, &Principals::of(r, user)?, node)
}

/// The file at `parent/name` a write would replace, or `None` for a new file.
pub enum Target {
    New(String),
    Version(Node),
}

/// Where a new item named `name` goes in `parent`, per `on_conflict` (see docs/drive.md):
/// the free name, or the existing file for `version` (files only).
pub fn place(r: &impl Rd, parent: u64, name: &str, on_conflict: OnConflict, is_file: bool) -> AppResult<Target> {
    let name = names::validate(name)?;
    let Some(existing) = store::child_named(r, parent, &name)? else { return Ok(Target::New(name)) };
    match on_conflict {
        OnConflict::Version if is_file => {
            let n = store::node(r, existing)?;
            if n.kind == NodeKind::File {
                return Ok(Target::Version(n));
            }
            Err(conflict(r, parent, &name, existing, !is_file)?)
        }
        OnConflict::Rename => Ok(Target::New(suggest(r, parent, &name, !is_file)?)),
        _ => Err(conflict(r, parent, &name, existing, !is_file)?),
    }
}

/// The free name for a new (non-versioning) item: mkdir, rename, move, copy, restore. A
/// `version` request is treated as `error` there (only file writes can version).
pub fn place_new(r: &impl Rd, parent: u64, name: &str, on_conflict: OnConflict, is_folder: bool) -> AppResult<String> {
    let name = names::validate(name)?;
    let Some(existing) = store::child_named(r, parent, &name)? else { return Ok(name) };
    match on_conflict {
        OnConflict::Rename => suggest(r, parent, &name, is_folder),
        _ => Err(conflict(r, parent, &name, existing, is_folder)?),
    }
}

/// The first free "name (n)" in the folder.
pub fn suggest(r: &impl Rd, parent: u64, name: &str, is_folder: bool) -> AppResult<String> {
    for n in 1..10_000 {
        let candidate = names::numbered(name, n, is_folder);
        if store::child_named(r, parent, &candidate)?.is_none() {
            return Ok(candidate);
        }
    }
    Err(AppError::conflict("name_conflict", "No free name left for this item"))
}

pub fn conflict(r: &impl Rd, parent: u64, name: &str, existing: u64, is_folder: bool) -> AppResult<AppError> {
    let suggested = suggest(r, parent, name, is_folder)?;
    Ok(AppError::conflict("name_conflict", format!("“{name}” already exists in this folder"))
        .with_details(json!({"field": "name", "existing_id": existing, "suggested": suggested})))
}

/// Refuse a write that would add `extra` bytes to `space` beyond any quota (413
/// `quota_exceeded`), or a single file above `drive.max_file_size` (413 `file_too_large`).
pub fn check_quota(r: &impl Rd, space: &Space, file_size: u64, extra: u64) -> AppResult<()> {
    let settings = read_settings(r)?;
    if file_size > settings.max_file_size {
        return Err(AppError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "file_too_large",
            format!("A single file may be at most {} MiB", settings.max_file_size / (1024 * 1024)),
        )
        .with_details(json!({"limit": settings.max_file_size})));
    }
    if extra == 0 {
        return Ok(());
    }
    if let Some(limit) = space.quota {
        if space.used.saturating_add(extra) > limit {
            let scope = if space.kind == SpaceKind::Personal { "user" } else { "space" };
            return Err(quota_error(scope, limit, space.used));
        }
    }
    if let Some(limit) = settings.enterprise_quota {
        let used = store::enterprise_used(r)?;
        if used.saturating_add(extra) > limit {
            return Err(quota_error("enterprise", limit, used));
        }
    }
    Ok(())
}

fn quota_error(scope: &str, limit: u64, used: u64) -> AppError {
    AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "quota_exceeded", "There is not enough space left for this")
        .with_details(json!({"scope": scope, "limit": limit, "used": used}))
}

/// Settings from whichever transaction we are in.
pub fn read_settings(r: &impl Rd) -> AppResult<DriveSettings> {
    let v = r.get(&crate::platform::settings::SETTINGS, &DriveSettings::KEY.to_owned())?;
    Ok(v.and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default())
}

/// The folder a write goes into, with the caller's access to it (uploader at least; editor
/// when the write replaces an existing file).
fn upload_target(
    r: &impl Rd,
    user: u64,
    parent_id: u64,
    name: &str,
    on_conflict: OnConflict,
) -> AppResult<(Access, Target)> {
    let who = Principals::of(r, user)?;
    let folder = perm::resolve(r, &who, parent_id)?;
    if !folder.node.is_folder() {
        return Err(AppError::invalid("parent_id", "not_a_folder", "Files can only be put into folders"));
    }
    folder.require(Role::Uploader)?;
    let target = place(r, parent_id, name, on_conflict, true)?;
    if let Target::Version(existing) = &target {
        perm::resolve(r, &who, existing.id)?.require(Role::Editor)?;
    }
    Ok((folder, target))
}

/// Everything about a file write that can be checked before its bytes arrive.
pub fn check_upload(
    r: &impl Rd,
    user: u64,
    parent_id: u64,
    name: &str,
    on_conflict: OnConflict,
    length: u64,
) -> AppResult<()> {
    let (folder, target) = upload_target(r, user, parent_id, name, on_conflict)?;
    let extra = match &target {
        Target::New(_) => length,
        Target::Version(old) => length.saturating_sub(old.size),
    };
    check_quota(r, &folder.space, length, extra)
}

/// Create the file (or a new version of the one in the way, for `on_conflict: version`) from a
/// stored blob. Runs every check of [`check_upload`] again inside this transaction.
pub fn commit_file(
    tx: &Tx,
    user: u64,
    parent_id: u64,
    name: &str,
    on_conflict: OnConflict,
    blob: &BlobRef,
) -> AppResult<Node> {
    let (folder, target) = upload_target(tx, user, parent_id, name, on_conflict)?;
    let mime = mime_for(name, &blob.content_type);
    match target {
        Target::Version(mut old) => {
            check_quota(tx, &folder.space, blob.size, blob.size.saturating_sub(old.size))?;
            super::versions::add_version(tx, &mut old, blob, &mime, user)?;
            store::log(tx, old.space_id, user, "new_version", &old, json!({"version": old.version}))?;
            Ok(old)
        }
        Target::New(name) => {
            check_quota(tx, &folder.space, blob.size, blob.size)?;
            let mut n = Node {
                id: tx.next_seq()?,
                space_id: folder.space.id,
                parent_id: Some(parent_id),
                kind: NodeKind::File,
                name,
                created_by: user,
                created_at: tx.now,
                updated_by: user,
                updated_at: tx.now,
                ..Node::default()
            };
            super::versions::add_version(tx, &mut n, blob, &mime, user)?;
            store::link(tx, &n)?;
            touch_folder(tx, parent_id, user)?;
            store::log(tx, n.space_id, user, "upload", &n, json!({"size": n.size}))?;
            Ok(n)
        }
    }
}

/// A stored type from the file name (uploads' declared types are not trusted for serving).
pub fn mime_for(name: &str, _declared: &str) -> String {
    mime_guess::from_path(name).first_or_octet_stream().essence_str().to_owned()
}

/// A folder's `updated_at` follows changes to its direct children.
pub fn touch_folder(tx: &Tx, id: u64, user: u64) -> AppResult<()> {
    let mut f = store::node(tx, id)?;
    f.updated_at = tx.now;
    f.updated_by = user;
    store::put_node(tx, &f)
}
