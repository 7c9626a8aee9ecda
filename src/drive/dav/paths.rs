//! From a WebDAV path to a drive node, for one member.
//!
//! The top level is virtual: "我的空间" (the personal space) and every team space the member
//! has a role in, by name. Team spaces whose names clash (case-insensitively, or with
//! "我的空间") are shown as "名称 (id)" so every path is unambiguous. Below that, a path is
//! resolved name by name through the drive tree and the last node's access is resolved with
//! the drive's own rules, so WebDAV answers exactly like the API: no role → 404.

use crate::drive::model::{Space, SpaceKind};
use crate::drive::names::fold;
use crate::drive::perm::Access;
use crate::drive::service::{self, PERSONAL_NAME};
use crate::drive::store;
use crate::error::{AppError, AppResult};
use dav_server::davpath::DavPath;
use dav_server::fs::{FsError, FsResult};
use std::collections::HashMap;

/// What a path names.
pub enum Loc {
    /// `/dav/`: the list of spaces.
    Root,
    Node(Box<Access>),
}

/// The decoded, non-empty segments of a path.
pub fn segments(path: &DavPath) -> FsResult<Vec<String>> {
    let bytes = path.as_bytes();
    let text = std::str::from_utf8(bytes).map_err(|_| FsError::NotFound)?;
    Ok(text.split('/').filter(|s| !s.is_empty()).map(str::to_owned).collect())
}

/// The member's spaces as (top-level name, space), personal first.
pub fn top_level(r: &redb::ReadTransaction, user: u64) -> AppResult<Vec<(String, Space)>> {
    let spaces = crate::drive::spaces::list(r, user)?;
    let mut counts: HashMap<String, usize> = HashMap::new();
    counts.insert(fold(PERSONAL_NAME), 1);
    for (s, _) in spaces.iter().filter(|(s, _)| s.kind == SpaceKind::Team) {
        *counts.entry(fold(&s.name)).or_default() += 1;
    }
    Ok(spaces
        .into_iter()
        .map(|(s, _)| {
            let name = match s.kind {
                SpaceKind::Personal => PERSONAL_NAME.to_owned(),
                SpaceKind::Team if counts.get(&fold(&s.name)).copied().unwrap_or(0) > 1 => {
                    format!("{} ({})", s.name, s.id)
                }
                SpaceKind::Team => s.name.clone(),
            };
            (name, s)
        })
        .collect())
}

/// Resolve segments to a node id (no permission check yet), or NotFound.
fn node_id(r: &redb::ReadTransaction, user: u64, segs: &[String]) -> AppResult<Option<u64>> {
    let Some((first, rest)) = segs.split_first() else { return Ok(None) };
    let folded = fold(first);
    let space = top_level(r, user)?.into_iter().find(|(n, _)| fold(n) == folded).map(|(_, s)| s);
    let Some(space) = space else { return Err(AppError::not_found("file")) };
    let mut cur = space.root_id;
    for seg in rest {
        cur = store::child_named(r, cur, seg)?.ok_or_else(|| AppError::not_found("file"))?;
    }
    Ok(Some(cur))
}

pub fn resolve(r: &redb::ReadTransaction, user: u64, path: &DavPath) -> FsResult<Loc> {
    let segs = segments(path)?;
    match node_id(r, user, &segs).map_err(fs_err)? {
        None => Ok(Loc::Root),
        Some(id) => Ok(Loc::Node(Box::new(service::resolve_role(r, user, id).map_err(fs_err)?))),
    }
}

/// The folder a new item at `path` goes into, and its name. The top level takes no new items.
pub fn parent_and_name(r: &redb::ReadTransaction, user: u64, path: &DavPath) -> FsResult<(Access, String)> {
    let mut segs = segments(path)?;
    let name = segs.pop().ok_or(FsError::Forbidden)?;
    if segs.is_empty() {
        return Err(FsError::Forbidden);
    }
    let id = node_id(r, user, &segs).map_err(fs_err)?.ok_or(FsError::Forbidden)?;
    let parent = service::resolve_role(r, user, id).map_err(fs_err)?;
    if !parent.node.is_folder() {
        return Err(FsError::NotFound);
    }
    Ok((parent, name))
}

/// Drive errors as WebDAV statuses: 404 stays 404 (also for "no role"), a role too low is 403,
/// a name clash is "exists", quota is 507 Insufficient Storage, a too-large file is 413.
pub fn fs_err(e: AppError) -> FsError {
    match (e.status.as_u16(), e.code) {
        (404, _) => FsError::NotFound,
        (403, _) => FsError::Forbidden,
        (409, "name_conflict") => FsError::Exists,
        (409, _) | (422, _) => FsError::Forbidden,
        (413, "quota_exceeded") => FsError::InsufficientStorage,
        (413, _) => FsError::TooLarge,
        _ => {
            tracing::warn!(error = %e, "webdav operation failed");
            FsError::GeneralFailure
        }
    }
}
