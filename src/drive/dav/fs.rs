//! The drive as a `dav-server` file system. Every operation resolves the path for the calling
//! member ([`super::paths`]) and calls the drive service, which checks roles and quotas in its
//! own transaction; nothing here touches the disk except through the blob store.

use super::file::{Entry, Meta, ReadFile, WriteFile};
use super::paths::{self, fs_err, Loc};
use super::props;
use super::DavCtx;
use crate::drive::model::{NodeKind, OnConflict, Role};
use crate::drive::nodes::{Cursor, Sort};
use crate::drive::service;
use crate::platform::blobs::BlobRef;
use dav_server::davpath::DavPath;
use dav_server::fs::{
    DavDirEntry, DavFile, DavMetaData, DavProp, FsError, FsFuture, FsResult, FsStream, GuardedFileSystem, OpenOptions,
    ReadDirMeta,
};
use futures_util::FutureExt;

#[derive(Clone, Copy, Default)]
pub struct DriveFs;

fn read(ctx: &DavCtx) -> FsResult<redb::ReadTransaction> {
    ctx.p.store.begin_read().map_err(fs_err)
}

fn access(ctx: &DavCtx, path: &DavPath) -> FsResult<Loc> {
    paths::resolve(&read(ctx)?, ctx.user, path)
}

/// A node that is not a space root (those cannot be deleted, renamed or moved here).
fn movable(ctx: &DavCtx, path: &DavPath) -> FsResult<crate::drive::perm::Access> {
    match access(ctx, path)? {
        Loc::Node(a) if a.node.parent_id.is_some() => Ok(*a),
        _ => Err(FsError::Forbidden),
    }
}

fn metadata(ctx: &DavCtx, path: &DavPath) -> FsResult<Box<dyn DavMetaData>> {
    Ok(match access(ctx, path)? {
        Loc::Root => Box::new(Meta::root()),
        Loc::Node(a) => Box::new(Meta::of(&a.node)),
    })
}

fn read_dir(ctx: &DavCtx, path: &DavPath) -> FsResult<Vec<Box<dyn DavDirEntry>>> {
    let txn = read(ctx)?;
    let folder = match paths::resolve(&txn, ctx.user, path)? {
        Loc::Root => {
            let spaces = paths::top_level(&txn, ctx.user).map_err(fs_err)?;
            let mut out: Vec<Box<dyn DavDirEntry>> = Vec::new();
            for (name, s) in spaces {
                let root = crate::drive::store::node(&txn, s.root_id).map_err(fs_err)?;
                out.push(Box::new(Entry { name, meta: Meta::of(&root) }));
            }
            return Ok(out);
        }
        Loc::Node(a) => a,
    };
    if !folder.node.is_folder() {
        return Err(FsError::Forbidden);
    }
    // A DELETE trashes the folder as one item (one bin entry), not file by file.
    if ctx.deleting {
        return Ok(Vec::new());
    }
    // The whole folder in name order (WebDAV has no paging).
    let listing = service::list_page(&txn, ctx.user, folder.node.id, Sort::Name, false, usize::MAX, &Cursor::START)
        .map_err(fs_err)?;
    Ok(listing
        .items
        .into_iter()
        .map(|(n, _)| Box::new(Entry { meta: Meta::of(&n), name: n.name }) as Box<dyn DavDirEntry>)
        .collect())
}

fn open_read(ctx: &DavCtx, path: &DavPath) -> FsResult<ReadFile> {
    let Loc::Node(a) = access(ctx, path)? else { return Err(FsError::Forbidden) };
    if a.node.kind != NodeKind::File {
        return Err(FsError::Forbidden);
    }
    // Preview-only roles never get the bytes (same as the API's download).
    a.require(Role::Viewer).map_err(fs_err)?;
    let sha = a.node.sha.as_deref().ok_or(FsError::NotFound)?;
    let file = ctx.p.blobs.open_file(sha).map_err(fs_err)?;
    Ok(ReadFile { file: tokio::fs::File::from_std(file), meta: Meta::of(&a.node) })
}

fn open_write(ctx: &DavCtx, path: &DavPath, o: &OpenOptions) -> FsResult<WriteFile> {
    let txn = read(ctx)?;
    let (parent, name) = paths::parent_and_name(&txn, ctx.user, path)?;
    let existing = crate::drive::store::child_named(&txn, parent.node.id, &name).map_err(fs_err)?;
    if let Some(id) = existing {
        let n = crate::drive::store::node(&txn, id).map_err(fs_err)?;
        if n.is_folder() {
            return Err(FsError::Forbidden);
        }
        if o.create_new {
            return Err(FsError::Exists);
        }
    } else if !o.create {
        return Err(FsError::NotFound);
    }
    if !o.truncate || o.append {
        // Partial updates (PATCH ranges, Content-Range) would rewrite a version in place.
        return Err(FsError::NotImplemented);
    }
    // Permission, name and quota from the announced length, before any byte is stored.
    let length = o.size.unwrap_or(0);
    service::check_upload(&txn, ctx.user, parent.node.id, &name, OnConflict::Version, length).map_err(fs_err)?;
    let limit = match o.size {
        Some(n) => n,
        None => service::read_settings(&txn).map_err(fs_err)?.max_file_size,
    };
    Ok(WriteFile::start(ctx.clone(), parent.node.id, name, o.size, limit))
}

/// LOCK on an unmapped URL: the lock creates an empty file (RFC 4918 §7.3).
async fn create_empty(ctx: &DavCtx, path: &DavPath) -> FsResult<Box<dyn DavFile>> {
    let (parent, name) = paths::parent_and_name(&read(ctx)?, ctx.user, path)?;
    let blob = ctx.p.blobs.put_reader(std::io::empty(), 0, "").map_err(fs_err)?;
    let (user, pid) = (ctx.user, parent.node.id);
    let n = write_op(ctx, move |tx| service::commit_file(tx, user, pid, &name, OnConflict::Error, &blob)).await?;
    let file = ctx.p.blobs.open_file(n.sha.as_deref().unwrap_or_default()).map_err(fs_err)?;
    Ok(Box::new(ReadFile { file: tokio::fs::File::from_std(file), meta: Meta::of(&n) }))
}

/// A write open that is not a whole-file PUT and names nothing yet: only LOCK does that.
fn is_lock_create(ctx: &DavCtx, path: &DavPath, o: &OpenOptions) -> bool {
    o.write && o.create && !o.truncate && !o.append && matches!(access(ctx, path), Err(FsError::NotFound))
}

async fn write_op<T: Send + 'static>(
    ctx: &DavCtx,
    f: impl FnMut(&mut crate::platform::store::Tx) -> crate::error::AppResult<T> + Send + 'static,
) -> FsResult<T> {
    ctx.p.store.write(f).await.map_err(fs_err)
}

async fn create_dir(ctx: &DavCtx, path: &DavPath) -> FsResult<()> {
    let (parent, name) = paths::parent_and_name(&read(ctx)?, ctx.user, path)?;
    let (user, pid) = (ctx.user, parent.node.id);
    write_op(ctx, move |tx| service::mkdir(tx, user, pid, &name, OnConflict::Error)).await.map(|_| ())
}

async fn remove(ctx: &DavCtx, path: &DavPath) -> FsResult<()> {
    let a = movable(ctx, path)?;
    let (user, id) = (ctx.user, a.node.id);
    write_op(ctx, move |tx| service::delete(tx, user, id)).await
}

/// MOVE: a rename in place, or a move (across spaces too) followed by a rename, in one
/// transaction. The destination was already cleared (Overwrite: T) or refused (F) by dav-server.
async fn rename(ctx: &DavCtx, from: &DavPath, to: &DavPath) -> FsResult<()> {
    let a = movable(ctx, from)?;
    let (parent, name) = paths::parent_and_name(&read(ctx)?, ctx.user, to)?;
    let (user, id, pid, same) = (ctx.user, a.node.id, parent.node.id, a.node.parent_id == Some(parent.node.id));
    write_op(ctx, move |tx| {
        if !same {
            service::move_node(tx, user, id, pid, OnConflict::Rename)?;
        }
        service::rename(tx, user, id, &name, OnConflict::Error)
    })
    .await
    .map(|_| ())
}

/// COPY of one file (dav-server recreates folders itself): a new file sharing the source's
/// blob, counted toward the destination's quota. Needs download rights on the source.
async fn copy(ctx: &DavCtx, from: &DavPath, to: &DavPath) -> FsResult<()> {
    let Loc::Node(a) = access(ctx, from)? else { return Err(FsError::Forbidden) };
    a.require(Role::Viewer).map_err(fs_err)?;
    let sha = a.node.sha.clone().ok_or(FsError::Forbidden)?;
    let blob = BlobRef { sha256: sha, size: a.node.size, content_type: a.node.mime.clone().unwrap_or_default() };
    let (parent, name) = paths::parent_and_name(&read(ctx)?, ctx.user, to)?;
    let (user, pid) = (ctx.user, parent.node.id);
    write_op(ctx, move |tx| service::commit_file(tx, user, pid, &name, OnConflict::Error, &blob)).await.map(|_| ())
}

impl GuardedFileSystem<DavCtx> for DriveFs {
    fn open<'a>(&'a self, path: &'a DavPath, o: OpenOptions, ctx: &'a DavCtx) -> FsFuture<'a, Box<dyn DavFile>> {
        if is_lock_create(ctx, path, &o) {
            return create_empty(ctx, path).boxed();
        }
        let r: FsResult<Box<dyn DavFile>> = if o.write {
            open_write(ctx, path, &o).map(|f| Box::new(f) as Box<dyn DavFile>)
        } else {
            open_read(ctx, path).map(|f| Box::new(f) as Box<dyn DavFile>)
        };
        Box::pin(std::future::ready(r))
    }

    fn read_dir<'a>(
        &'a self,
        path: &'a DavPath,
        _meta: ReadDirMeta,
        ctx: &'a DavCtx,
    ) -> FsFuture<'a, FsStream<Box<dyn DavDirEntry>>> {
        let r = read_dir(ctx, path)
            .map(|v| Box::pin(futures_util::stream::iter(v.into_iter().map(Ok))) as FsStream<Box<dyn DavDirEntry>>);
        Box::pin(std::future::ready(r))
    }

    fn metadata<'a>(&'a self, path: &'a DavPath, ctx: &'a DavCtx) -> FsFuture<'a, Box<dyn DavMetaData>> {
        Box::pin(std::future::ready(metadata(ctx, path)))
    }

    fn create_dir<'a>(&'a self, path: &'a DavPath, ctx: &'a DavCtx) -> FsFuture<'a, ()> {
        create_dir(ctx, path).boxed()
    }

    fn remove_dir<'a>(&'a self, path: &'a DavPath, ctx: &'a DavCtx) -> FsFuture<'a, ()> {
        remove(ctx, path).boxed()
    }

    fn remove_file<'a>(&'a self, path: &'a DavPath, ctx: &'a DavCtx) -> FsFuture<'a, ()> {
        remove(ctx, path).boxed()
    }

    fn rename<'a>(&'a self, from: &'a DavPath, to: &'a DavPath, ctx: &'a DavCtx) -> FsFuture<'a, ()> {
        rename(ctx, from, to).boxed()
    }

    fn copy<'a>(&'a self, from: &'a DavPath, to: &'a DavPath, ctx: &'a DavCtx) -> FsFuture<'a, ()> {
        copy(ctx, from, to).boxed()
    }

    fn have_props<'a>(
        &'a self,
        path: &'a DavPath,
        _ctx: &'a DavCtx,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send + 'a>> {
        let top = paths::segments(path).map(|s| s.is_empty()).unwrap_or(true);
        Box::pin(std::future::ready(!top))
    }

    fn patch_props<'a>(
        &'a self,
        path: &'a DavPath,
        patch: Vec<(bool, DavProp)>,
        ctx: &'a DavCtx,
    ) -> FsFuture<'a, Vec<(http::StatusCode, DavProp)>> {
        props::patch(ctx, path, patch).boxed()
    }

    fn get_props<'a>(&'a self, path: &'a DavPath, do_content: bool, ctx: &'a DavCtx) -> FsFuture<'a, Vec<DavProp>> {
        Box::pin(std::future::ready(props::list(ctx, path, do_content)))
    }

    fn get_prop<'a>(&'a self, path: &'a DavPath, prop: DavProp, ctx: &'a DavCtx) -> FsFuture<'a, Vec<u8>> {
        Box::pin(std::future::ready(props::one(ctx, path, &prop)))
    }
}
