//! WebDAV metadata, directory entries and open files over the drive.
//!
//! Reads stream from the stored blob (seekable, so Range requests work). Writes stream into
//! the blob store as they arrive (one pass, no second copy) and become a file — or a new
//! version of the existing one — only in [`DavFile::flush`], through the drive's
//! `commit_file`, which re-checks permission, name and quota in its transaction. A write that
//! is interrupted, or whose length differs from what the client announced, commits nothing;
//! its bytes are unreferenced and go with the next blob collection.

use super::paths::fs_err;
use super::DavCtx;
use crate::drive::model::{Node, OnConflict};
use crate::drive::service;
use crate::error::AppResult;
use crate::platform::blobs::BlobRef;
use bytes::{Buf, Bytes};
use dav_server::fs::{DavDirEntry, DavFile, DavMetaData, FsError, FsFuture, FsResult};
use std::io::SeekFrom;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

#[derive(Debug, Clone)]
pub struct Meta {
    pub len: u64,
    pub dir: bool,
    pub modified_ms: i64,
    pub created_ms: i64,
    pub etag: String,
}

fn time(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64)
}

impl Meta {
    pub fn of(n: &Node) -> Meta {
        Meta {
            len: if n.is_folder() { 0 } else { n.size },
            dir: n.is_folder(),
            modified_ms: n.updated_at,
            created_ms: n.created_at,
            // Changes with every version and every rename/move (updated_at).
            etag: format!("{:x}-{:x}-{:x}", n.id, n.version, n.updated_at),
        }
    }

    pub fn root() -> Meta {
        Meta { len: 0, dir: true, modified_ms: 0, created_ms: 0, etag: "root".into() }
    }
}

impl DavMetaData for Meta {
    fn len(&self) -> u64 {
        self.len
    }
    fn modified(&self) -> FsResult<SystemTime> {
        Ok(time(self.modified_ms))
    }
    fn created(&self) -> FsResult<SystemTime> {
        Ok(time(self.created_ms))
    }
    fn is_dir(&self) -> bool {
        self.dir
    }
    fn etag(&self) -> Option<String> {
        Some(self.etag.clone())
    }
}

pub struct Entry {
    pub name: String,
    pub meta: Meta,
}

impl DavDirEntry for Entry {
    fn name(&self) -> Vec<u8> {
        self.name.as_bytes().to_vec()
    }
    fn metadata(&self) -> FsFuture<'_, Box<dyn DavMetaData>> {
        let m: Box<dyn DavMetaData> = Box::new(self.meta.clone());
        Box::pin(std::future::ready(Ok(m)))
    }
}

/// A file opened for reading: its current version's blob.
#[derive(Debug)]
pub struct ReadFile {
    pub file: tokio::fs::File,
    pub meta: Meta,
}

impl DavFile for ReadFile {
    fn metadata(&mut self) -> FsFuture<'_, Box<dyn DavMetaData>> {
        let m: Box<dyn DavMetaData> = Box::new(self.meta.clone());
        Box::pin(std::future::ready(Ok(m)))
    }
    fn write_buf(&mut self, _: Box<dyn Buf + Send>) -> FsFuture<'_, ()> {
        Box::pin(std::future::ready(Err(FsError::Forbidden)))
    }
    fn write_bytes(&mut self, _: Bytes) -> FsFuture<'_, ()> {
        Box::pin(std::future::ready(Err(FsError::Forbidden)))
    }
    fn read_bytes(&mut self, count: usize) -> FsFuture<'_, Bytes> {
        Box::pin(async move {
            let mut buf = vec![0u8; count.min(1024 * 1024)];
            let n = self.file.read(&mut buf).await.map_err(|_| FsError::GeneralFailure)?;
            buf.truncate(n);
            Ok(Bytes::from(buf))
        })
    }
    fn seek(&mut self, pos: SeekFrom) -> FsFuture<'_, u64> {
        Box::pin(async move { self.file.seek(pos).await.map_err(|_| FsError::GeneralFailure) })
    }
    fn flush(&mut self) -> FsFuture<'_, ()> {
        Box::pin(std::future::ready(Ok(())))
    }
}

/// A PUT in progress: bytes go to a blob writer task through a small channel (backpressure),
/// the file is created or versioned at `flush`.
pub struct WriteFile {
    pub ctx: DavCtx,
    pub parent_id: u64,
    pub name: String,
    /// The length the client announced (Content-Length), checked before committing.
    pub expected: Option<u64>,
    pub written: u64,
    pub sender: Option<tokio::sync::mpsc::Sender<Bytes>>,
    pub task: Option<tokio::task::JoinHandle<AppResult<BlobRef>>>,
    pub done: Option<Meta>,
}

impl std::fmt::Debug for WriteFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteFile").field("parent_id", &self.parent_id).field("name", &self.name).finish()
    }
}

impl WriteFile {
    /// Start the blob writer for up to `limit` bytes.
    pub fn start(ctx: DavCtx, parent_id: u64, name: String, expected: Option<u64>, limit: u64) -> WriteFile {
        let (sender, rx) = tokio::sync::mpsc::channel::<Bytes>(8);
        let blobs = ctx.p.blobs.clone();
        let chunks = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|b| (Ok::<_, std::io::Error>(b), rx))
        });
        let task =
            actix_web::rt::spawn(
                async move { blobs.put_stream(Box::pin(chunks), limit, "application/octet-stream").await },
            );
        WriteFile { ctx, parent_id, name, expected, written: 0, sender: Some(sender), task: Some(task), done: None }
    }

    async fn send(&mut self, b: Bytes) -> FsResult<()> {
        self.written += b.len() as u64;
        let sender = self.sender.as_ref().ok_or(FsError::GeneralFailure)?;
        if sender.send(b).await.is_err() {
            // The writer stopped (too large, disk error): report why.
            return Err(self.finish_blob().await.err().unwrap_or(FsError::GeneralFailure));
        }
        Ok(())
    }

    async fn finish_blob(&mut self) -> FsResult<BlobRef> {
        self.sender = None;
        let task = self.task.take().ok_or(FsError::GeneralFailure)?;
        task.await.map_err(|_| FsError::GeneralFailure)?.map_err(fs_err)
    }

    async fn commit(&mut self) -> FsResult<Meta> {
        let blob = self.finish_blob().await?;
        if self.expected.is_some_and(|n| n != blob.size) {
            // Premature end of the body: never store a truncated file.
            return Err(FsError::GeneralFailure);
        }
        let (user, parent, name) = (self.ctx.user, self.parent_id, self.name.clone());
        let node = self
            .ctx
            .p
            .store
            .write(move |tx| service::commit_file(tx, user, parent, &name, OnConflict::Version, &blob))
            .await
            .map_err(fs_err)?;
        Ok(Meta::of(&node))
    }
}

impl DavFile for WriteFile {
    fn metadata(&mut self) -> FsFuture<'_, Box<dyn DavMetaData>> {
        let m = self.done.clone().unwrap_or(Meta {
            len: self.written,
            dir: false,
            modified_ms: 0,
            created_ms: 0,
            etag: String::new(),
        });
        let m: Box<dyn DavMetaData> = Box::new(m);
        Box::pin(std::future::ready(Ok(m)))
    }
    fn write_buf(&mut self, mut buf: Box<dyn Buf + Send>) -> FsFuture<'_, ()> {
        let b = buf.copy_to_bytes(buf.remaining());
        Box::pin(self.send(b))
    }
    fn write_bytes(&mut self, buf: Bytes) -> FsFuture<'_, ()> {
        Box::pin(self.send(buf))
    }
    fn read_bytes(&mut self, _: usize) -> FsFuture<'_, Bytes> {
        Box::pin(std::future::ready(Err(FsError::Forbidden)))
    }
    fn seek(&mut self, pos: SeekFrom) -> FsFuture<'_, u64> {
        // Only "where am I" is meaningful for a stream; partial writes are refused at open.
        let at = match pos {
            SeekFrom::Current(0) => Ok(self.written),
            SeekFrom::Start(n) if n == self.written => Ok(n),
            _ => Err(FsError::NotImplemented),
        };
        Box::pin(std::future::ready(at))
    }
    fn flush(&mut self) -> FsFuture<'_, ()> {
        Box::pin(async move {
            if self.done.is_none() {
                self.done = Some(self.commit().await?);
            }
            Ok(())
        })
    }
}
