//! An upload's temp file ("part") and the pipeline that appends a PATCH body to it.
//!
//! Three stages run at once: the request task copies the body into 1 MiB batches while, on the
//! blocking pool, one thread writes the previous batch and another hashes it (SHA-256 does not
//! need the write done). Two batch buffers per PATCH: one filling, one in flight; memory stays
//! constant whatever the size.
//!
//! Writes bypass the page cache (`O_DIRECT`) where the file system allows it. Measured on the
//! development VM, copying into the page cache was the largest cost of an upload (3× the hash:
//! the kernel's copy into freshly allocated cache pages), and the file is not read back soon
//! anyway. A direct write needs its address, length and file offset aligned to [`ALIGN`], so a
//! batch keeps its bytes at addresses congruent to their file offsets; the unaligned head and
//! tail of a PATCH (at most one block each) go through the page cache, and everything goes
//! there when the file system refuses `O_DIRECT`. `fdatasync` covers both kinds of write.

use crate::error::{AppError, AppResult};
use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// Bytes per batch: one write and one hash step each. Larger batches cost fewer trips to the
/// blocking pool; 1 MiB keeps the two buffers of a PATCH small.
const BATCH: usize = 1 << 20;

/// Alignment of a direct write (the largest logical block size in practice; ext4 needs the file
/// system block, 4 KiB).
const ALIGN: usize = 4096;

fn lost() -> AppError {
    AppError::new(
        actix_web::http::StatusCode::GONE,
        "upload_lost",
        "The part of this upload already received is gone; start again",
    )
}

/// The temp file, the hash of everything in it and its length.
pub(super) struct Part {
    sink: Sink,
    pub hash: Sha256,
}

impl Part {
    /// Open at the persisted `offset`. Bytes past it were never acknowledged (a crash between the
    /// write and the commit) and are cut off. The hash is this process's if it has it, else it is
    /// recomputed from the file once (after a restart).
    pub fn open(path: &Path, offset: u64, hash: Option<Sha256>) -> AppResult<Part> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(offset == 0)
            .truncate(false)
            .open(path)
            .map_err(|e| if e.kind() == std::io::ErrorKind::NotFound { lost() } else { AppError::internal(e) })?;
        let on_disk = file.metadata()?.len();
        if on_disk < offset {
            return Err(lost());
        }
        if on_disk > offset {
            file.set_len(offset)?;
        }
        let hash = match hash {
            Some(h) => h,
            None => rehash(&mut file, offset)?,
        };
        Ok(Part { sink: Sink { direct: open_direct(path), file, len: offset }, hash })
    }

    pub fn len(&self) -> u64 {
        self.sink.len
    }

    /// Durable: data and length on the device.
    pub fn sync(&self) -> AppResult<()> {
        Ok(self.sink.file.sync_data()?)
    }

    /// Close the file (before it is moved into the blob store); the hash of its content.
    pub fn close(self) -> Sha256 {
        self.hash
    }
}

fn rehash(file: &mut File, len: u64) -> AppResult<Sha256> {
    let mut hash = Sha256::new();
    let mut reader = (&*file).take(len);
    let mut buf = vec![0u8; BATCH];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            return Ok(hash);
        }
        hash.update(&buf[..n]);
    }
}

/// A second descriptor that bypasses the page cache, when the platform and file system have one.
#[cfg(target_os = "linux")]
fn open_direct(path: &Path) -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new().write(true).custom_flags(libc::O_DIRECT).open(path).ok()
}

#[cfg(not(target_os = "linux"))]
fn open_direct(_path: &Path) -> Option<File> {
    None
}

/// Where the bytes go: `file` (through the page cache) and, when available, `direct`.
struct Sink {
    file: File,
    direct: Option<File>,
    len: u64,
}

impl Sink {
    /// Append one batch (which starts at `len`): its unaligned head and tail through the page
    /// cache, the aligned middle directly.
    fn write(&mut self, b: &Batch) -> AppResult<()> {
        let data = b.data();
        let head = ((ALIGN - self.len as usize % ALIGN) % ALIGN).min(data.len());
        let body = (data.len() - head) / ALIGN * ALIGN;
        let (head, rest) = data.split_at(head);
        let (body, tail) = rest.split_at(body);
        self.file.write_all_at(head, self.len)?;
        let at = self.len + head.len() as u64;
        match self.direct.as_ref().map(|d| d.write_all_at(body, at)) {
            Some(Ok(())) => {}
            // EINVAL: this file system takes the flag but not the write (or a short write left
            // things unaligned). Fall back for good; what was written directly stays valid.
            Some(Err(e)) if e.raw_os_error() == Some(libc::EINVAL) => {
                tracing::info!(error = %e, "direct writes refused; uploads go through the page cache");
                self.direct = None;
                self.file.write_all_at(body, at)?;
            }
            Some(Err(e)) => return Err(e.into()),
            None => self.file.write_all_at(body, at)?,
        }
        self.file.write_all_at(tail, at + body.len() as u64)?;
        self.len += data.len() as u64;
        Ok(())
    }
}

/// Up to [`BATCH`] bytes of the body, kept at addresses congruent to their file offsets modulo
/// [`ALIGN`] so the aligned part can be written directly. A batch ends at an aligned offset
/// (except the last of a PATCH).
pub(super) struct Batch {
    raw: Vec<u8>,
    /// Index in `raw` of the first byte: an aligned address plus the offset's remainder.
    start: usize,
    len: usize,
    /// Room for this batch: up to the next aligned offset `BATCH` bytes on at most.
    room: usize,
}

impl Batch {
    fn new(offset: u64) -> Batch {
        let mut b = Batch { raw: vec![0u8; BATCH + ALIGN], start: 0, len: 0, room: 0 };
        b.reset(offset);
        b
    }

    /// Empty, for bytes that start at file offset `offset`.
    fn reset(&mut self, offset: u64) {
        let skew = offset as usize % ALIGN;
        self.start = self.raw.as_ptr().align_offset(ALIGN) + skew;
        self.len = 0;
        self.room = BATCH - skew;
    }

    /// Take as much of `src` as fits; how much that was.
    pub fn fill(&mut self, src: &[u8]) -> usize {
        let n = src.len().min(self.room - self.len);
        let at = self.start + self.len;
        self.raw[at..at + n].copy_from_slice(&src[..n]);
        self.len += n;
        n
    }

    pub fn is_full(&self) -> bool {
        self.len == self.room
    }

    fn data(&self) -> &[u8] {
        &self.raw[self.start..self.start + self.len]
    }
}

/// One stage's state (the sink or the hash): here, or inside the blocking task that works on a
/// batch and hands it back.
enum Stage<S> {
    Idle(S),
    Busy(JoinHandle<AppResult<S>>),
    /// Its task failed; the error was returned once.
    Broken,
}

impl<S: Send + 'static> Stage<S> {
    /// Wait for the batch in flight, if any.
    async fn take(&mut self) -> AppResult<S> {
        match std::mem::replace(self, Stage::Broken) {
            Stage::Idle(s) => Ok(s),
            Stage::Busy(task) => task.await.map_err(AppError::internal)?,
            Stage::Broken => Err(AppError::internal("upload pipeline used after a failure")),
        }
    }

    fn start(&mut self, mut s: S, batch: Arc<Batch>, work: fn(&mut S, &Batch) -> AppResult<()>) {
        *self = Stage::Busy(tokio::task::spawn_blocking(move || {
            work(&mut s, &batch)?;
            Ok(s)
        }));
    }
}

/// The part while a PATCH appends to it.
pub(super) struct Pipeline {
    sink: Stage<Sink>,
    hash: Stage<Sha256>,
    /// The batch in flight, reused once both stages are done with it.
    last: Option<Arc<Batch>>,
}

impl Pipeline {
    /// Start appending to `part`; the first batch to fill.
    pub fn new(part: Part) -> (Pipeline, Batch) {
        let first = Batch::new(part.sink.len);
        (Pipeline { sink: Stage::Idle(part.sink), hash: Stage::Idle(part.hash), last: None }, first)
    }

    /// Both stages are done with the previous batch; start them on `batch`. Returns an empty
    /// batch for the bytes after it. On an error nothing is left in flight.
    pub async fn push(&mut self, batch: Batch) -> AppResult<Batch> {
        let (sink, hash) = self.settle().await?;
        let next = sink.len + batch.len as u64;
        let batch = Arc::new(batch);
        self.sink.start(sink, batch.clone(), Sink::write);
        self.hash.start(hash, batch.clone(), |h, b| {
            h.update(b.data());
            Ok(())
        });
        let mut free = match self.last.replace(batch).map(Arc::try_unwrap) {
            Some(Ok(b)) => b,
            _ => Batch::new(next),
        };
        free.reset(next);
        Ok(free)
    }

    /// Append `tail` (the last, partial batch) and wait for everything: the part again.
    pub async fn finish(mut self, tail: Batch) -> AppResult<Part> {
        if tail.len > 0 {
            self.push(tail).await?;
        }
        let (sink, hash) = self.settle().await?;
        Ok(Part { sink, hash })
    }

    /// Wait for the batch in flight (the upload's lock must outlive every write).
    async fn settle(&mut self) -> AppResult<(Sink, Sha256)> {
        let (sink, hash) = tokio::join!(self.sink.take(), self.hash.take());
        let (sink, hash) = (sink?, hash?);
        Ok((sink, hash))
    }

    /// Give up: wait for the batch in flight, drop the rest.
    pub async fn abandon(mut self) {
        let _ = self.settle().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    /// Appends in uneven pieces across PATCHes that start and end at unaligned offsets, with and
    /// without direct writes: the file holds exactly the bytes and the hash is theirs.
    async fn append_pieces(direct: bool) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("1.part");
        let body = noise(3 * BATCH + 12_345, 7);
        let cuts = [0, 1, 4095, 4096 + 17, BATCH + 5, 2 * BATCH, 3 * BATCH + 1, body.len()];
        let mut hash = None;
        for w in cuts.windows(2) {
            let mut part = Part::open(&path, w[0] as u64, hash.take()).unwrap();
            if !direct {
                part.sink.direct = None;
            }
            let had_direct = part.sink.direct.is_some();
            let (mut pipe, mut batch) = Pipeline::new(part);
            // Pieces of odd sizes, as a socket delivers them.
            for piece in body[w[0]..w[1]].chunks(70_001) {
                let mut rest = piece;
                while !rest.is_empty() {
                    rest = &rest[batch.fill(rest)..];
                    if batch.is_full() {
                        batch = pipe.push(batch).await.unwrap();
                    }
                }
            }
            let part = pipe.finish(batch).await.unwrap();
            part.sync().unwrap();
            assert_eq!(part.len(), w[1] as u64);
            // No silent fall-back to the page cache (where the file system takes O_DIRECT).
            assert_eq!(part.sink.direct.is_some(), had_direct);
            hash = Some(part.close());
        }
        assert_eq!(std::fs::read(&path).unwrap(), body);
        assert_eq!(hash.unwrap().finalize().as_slice(), Sha256::digest(&body).as_slice());
        // After a restart the hash is recomputed from the file.
        let again = Part::open(&path, body.len() as u64, None).unwrap();
        assert_eq!(again.close().finalize().as_slice(), Sha256::digest(&body).as_slice());
    }

    #[tokio::test]
    async fn direct_writes_keep_every_byte() {
        append_pieces(true).await;
    }

    #[tokio::test]
    async fn page_cache_writes_keep_every_byte() {
        append_pieces(false).await;
    }
}
