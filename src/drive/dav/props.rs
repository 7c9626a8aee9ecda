//! WebDAV dead properties (PROPPATCH): what clients store on files and folders (Windows and
//! macOS keep timestamps and attributes there).
//!
//! Table `dav_properties`: node id -> every dead property of that node, in one row. Keyed by
//! node id, so properties follow renames and moves. Bounded per node ([`MAX_PROPS`],
//! [`MAX_BYTES`]). Writing needs the editor role, like renaming. Rows of nodes purged from
//! the bin stay until the node id is reused (never: ids come from the global sequence), which
//! is small and harmless; `officebox check` does not look at them.

use super::paths::{self, fs_err, Loc};
use super::DavCtx;
use crate::drive::model::Role;
use crate::error::AppResult;
use crate::platform::store::Table;
use dav_server::davpath::DavPath;
use dav_server::fs::{DavProp, FsError, FsResult};
use http::StatusCode;
use serde::{Deserialize, Serialize};

pub const DAV_PROPERTIES: Table<u64, Vec<StoredProp>> = Table::new("dav_properties");

const MAX_PROPS: usize = 100;
const MAX_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredProp {
    pub name: String,
    #[serde(default)]
    pub prefix: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub xml: Option<Vec<u8>>,
}

impl StoredProp {
    fn of(p: &DavProp) -> Self {
        StoredProp {
            name: p.name.clone(),
            prefix: p.prefix.clone(),
            namespace: p.namespace.clone(),
            xml: p.xml.clone(),
        }
    }
    fn same(&self, p: &DavProp) -> bool {
        self.name == p.name && self.namespace == p.namespace
    }
    fn to_dav(&self, content: bool) -> DavProp {
        DavProp {
            name: self.name.clone(),
            prefix: self.prefix.clone(),
            namespace: self.namespace.clone(),
            xml: if content { self.xml.clone() } else { None },
        }
    }
}

fn node_id(ctx: &DavCtx, path: &DavPath, min: Role) -> FsResult<u64> {
    let txn = ctx.p.store.begin_read().map_err(fs_err)?;
    match paths::resolve(&txn, ctx.user, path)? {
        Loc::Root => Err(FsError::Forbidden),
        Loc::Node(a) => {
            a.require(min).map_err(fs_err)?;
            Ok(a.node.id)
        }
    }
}

fn stored(ctx: &DavCtx, id: u64) -> FsResult<Vec<StoredProp>> {
    let txn = ctx.p.store.begin_read().map_err(fs_err)?;
    Ok(DAV_PROPERTIES.get_in(&txn, &id).map_err(fs_err)?.unwrap_or_default())
}

pub async fn patch(ctx: &DavCtx, path: &DavPath, patch: Vec<(bool, DavProp)>) -> FsResult<Vec<(StatusCode, DavProp)>> {
    let id = node_id(ctx, path, Role::Editor)?;
    let changes: Vec<(bool, StoredProp)> = patch.iter().map(|(set, p)| (*set, StoredProp::of(p))).collect();
    let applied = ctx
        .p
        .store
        .write(move |tx| -> AppResult<bool> {
            let mut t = DAV_PROPERTIES.open(tx.txn)?;
            let mut props = t.get(&id)?.unwrap_or_default();
            for (set, p) in &changes {
                props.retain(|q| !(q.name == p.name && q.namespace == p.namespace));
                if *set {
                    props.push(p.clone());
                }
            }
            let bytes: usize = props.iter().map(|p| p.name.len() + p.xml.as_ref().map_or(0, Vec::len)).sum();
            if props.len() > MAX_PROPS || bytes > MAX_BYTES {
                return Ok(false);
            }
            if props.is_empty() {
                t.remove(&id)?;
            } else {
                t.put(&id, &props)?;
            }
            Ok(true)
        })
        .await
        .map_err(fs_err)?;
    let status = if applied { StatusCode::OK } else { StatusCode::INSUFFICIENT_STORAGE };
    Ok(patch.into_iter().map(|(_, p)| (status, DavProp { xml: None, ..p })).collect())
}

pub fn list(ctx: &DavCtx, path: &DavPath, content: bool) -> FsResult<Vec<DavProp>> {
    let id = node_id(ctx, path, Role::Preview)?;
    Ok(stored(ctx, id)?.iter().map(|p| p.to_dav(content)).collect())
}

pub fn one(ctx: &DavCtx, path: &DavPath, prop: &DavProp) -> FsResult<Vec<u8>> {
    let id = node_id(ctx, path, Role::Preview)?;
    stored(ctx, id)?.into_iter().find(|p| p.same(prop)).and_then(|p| p.xml).ok_or(FsError::NotFound)
}
