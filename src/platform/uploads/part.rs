//! An upload's temp file ("part") and the pipeline that appends a PATCH body to it.
//!
//! Three stages run at once: the request task copies the body into 1 MiB batches while, on the
//! blocking pool, one thread writes earlier batches and another hashes them (SHA-256 does not
//! need the write done). Up to [`DEPTH`] batches are in flight beside the one filling, so each
//! stage runs at its own pace; memory stays constant whatever the size.
//!
//! Writes bypass the page cache (`O_DIRECT`) where the file system allows it. Measured on the
//! development VM, copying into the page cache was the largest cost of an upload (3× the hash:
//! the kernel's copy into freshly allocated cache pages), and the file is not read back soon
//! anyway. A direct write needs its address, length and file offset aligned to [`ALIGN`], so a
//! batch keeps its bytes at addresses congruent to their file offsets; the unaligned head and
//! tail of a PATCH (at most one block each) go through the page cache, and everything goes
//! there when the file system refuses `O_DIRECT`. `fdatasync` covers both kinds of write.

use crate::error::{AppError, AppResult};
use parking_lot::Mutex;
use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
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
struct Batch {
    raw: Vec<u8>,
    /// Index in `raw` of the first byte: an aligned address plus the offset's remainder.
    start: usize,
    len: usize,
    /// Room for this batch: up to the next aligned offset `BATCH` bytes on at most.
    room: usize,
}

impl Batch {
    /// No buffer (what a [`Flight`] leaves behind when it hands its buffer back).
    fn empty() -> Batch {
        Batch { raw: Vec::new(), start: 0, len: 0, room: 0 }
    }

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
    fn fill(&mut self, src: &[u8]) -> usize {
        let n = src.len().min(self.room - self.len);
        let at = self.start + self.len;
        self.raw[at..at + n].copy_from_slice(&src[..n]);
        self.len += n;
        n
    }

    fn is_full(&self) -> bool {
        self.len == self.room
    }

    fn data(&self) -> &[u8] {
        &self.raw[self.start..self.start + self.len]
    }
}

/// Batches of a PATCH that may be in flight (queued for, or inside, the write and the hash) beside
/// the one filling. With one, the stages ran in lockstep and each waited for the slowest at every
/// batch (a quarter of the two cores idle during a 4 GiB upload); a few let each stage run at its
/// own pace. Memory: at most `DEPTH + 1` batches per PATCH.
const DEPTH: usize = 4;

/// A filled batch on its way through both stages. Whichever stage is done with it last drops it:
/// the buffer goes back to the PATCH's free list, then its permit frees a place in flight.
struct Flight {
    batch: Batch,
    free: Arc<Mutex<Vec<Batch>>>,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Flight {
    fn drop(&mut self) {
        let batch = std::mem::replace(&mut self.batch, Batch::empty());
        self.free.lock().push(batch);
    }
}

/// One stage (the write or the hash) on its own blocking thread, taking batches in order. A step
/// that fails ends the thread, which closes its queue: the next send finds it closed.
struct Worker<S> {
    queue: Option<std::sync::mpsc::SyncSender<Arc<Flight>>>,
    task: JoinHandle<AppResult<S>>,
}

impl<S: Send + 'static> Worker<S> {
    fn start(mut state: S, work: fn(&mut S, &Batch) -> AppResult<()>) -> Worker<S> {
        let (queue, batches) = std::sync::mpsc::sync_channel::<Arc<Flight>>(DEPTH);
        let task = tokio::task::spawn_blocking(move || {
            for flight in batches {
                work(&mut state, &flight.batch)?;
            }
            Ok(state)
        });
        Worker { queue: Some(queue), task }
    }

    /// Never waits: the permit taken for `flight` keeps the queue below its bound. Fails when
    /// the stage stopped.
    fn send(&self, flight: Arc<Flight>) -> AppResult<()> {
        match self.queue.as_ref().map(|q| q.try_send(flight)) {
            Some(Ok(())) => Ok(()),
            _ => Err(AppError::internal("upload pipeline stage stopped")),
        }
    }

    /// Close the queue and wait for everything in it.
    async fn finish(mut self) -> AppResult<S> {
        drop(self.queue.take());
        (&mut self.task).await.map_err(AppError::internal)?
    }
}

/// The part while a PATCH appends to it.
pub(super) struct Pipeline {
    /// Both stages; taken out once they are stopped and waited for.
    stages: Option<(Worker<Sink>, Worker<Sha256>)>,
    permits: Arc<Semaphore>,
    free: Arc<Mutex<Vec<Batch>>>,
    /// The batch the body is copied into, at the end of everything pushed so far.
    filling: Batch,
    /// File offset after the last batch pushed.
    next: u64,
}

impl Pipeline {
    /// Start appending to `part`.
    pub fn new(part: Part) -> Pipeline {
        let next = part.sink.len;
        let hash = Worker::start(part.hash, |h, b| {
            h.update(b.data());
            Ok(())
        });
        Pipeline {
            stages: Some((Worker::start(part.sink, Sink::write), hash)),
            permits: Arc::new(Semaphore::new(DEPTH)),
            free: Arc::new(Mutex::new(Vec::new())),
            filling: Batch::new(next),
            next,
        }
    }

    /// Append `bytes`, handing each full batch to both stages (waiting while `DEPTH` batches are
    /// in flight). When a stage failed, everything in flight is waited for and its error
    /// returned.
    pub async fn append(&mut self, mut bytes: &[u8]) -> AppResult<()> {
        while !bytes.is_empty() {
            bytes = &bytes[self.filling.fill(bytes)..];
            if self.filling.is_full() {
                self.push().await?;
            }
        }
        Ok(())
    }

    /// Send the filling batch on and start an empty one after it (a buffer back from the
    /// stages once one is free, so a PATCH holds at most `DEPTH + 1`).
    async fn push(&mut self) -> AppResult<()> {
        let batch = std::mem::replace(&mut self.filling, Batch::empty());
        if let Err(e) = self.send(batch).await {
            return Err(self.settle().await.err().unwrap_or(e));
        }
        let mut empty = self.free.lock().pop().unwrap_or_else(|| Batch::new(self.next));
        empty.reset(self.next);
        self.filling = empty;
        Ok(())
    }

    async fn send(&mut self, batch: Batch) -> AppResult<()> {
        let (sink, hash) = self.stages.as_ref().ok_or_else(|| AppError::internal("upload pipeline stopped"))?;
        let permit = self.permits.clone().acquire_owned().await.map_err(AppError::internal)?;
        self.next += batch.len as u64;
        let flight = Arc::new(Flight { batch, free: self.free.clone(), _permit: permit });
        sink.send(flight.clone())?;
        hash.send(flight)
    }

    /// Append what is left in the filling batch and wait for everything: the part again.
    pub async fn finish(mut self) -> AppResult<Part> {
        if self.filling.len > 0 {
            self.push().await?;
        }
        let (sink, hash) = self.settle().await?;
        Ok(Part { sink, hash })
    }

    /// Stop both stages and wait for every batch in flight (the upload's lock must outlive
    /// every write).
    async fn settle(&mut self) -> AppResult<(Sink, Sha256)> {
        let (sink, hash) = self.stages.take().ok_or_else(|| AppError::internal("upload pipeline stopped"))?;
        let (sink, hash) = tokio::join!(sink.finish(), hash.finish());
        Ok((sink?, hash?))
    }

    /// Give up: wait for the batches in flight, drop the rest.
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
            let mut pipe = Pipeline::new(part);
            // Pieces of odd sizes, as a socket delivers them.
            for piece in body[w[0]..w[1]].chunks(70_001) {
                pipe.append(piece).await.unwrap();
            }
            let part = pipe.finish().await.unwrap();
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

    /// A write that fails (here: a read-only descriptor) stops the PATCH with that error, and
    /// nothing is still in flight once the error is returned.
    #[tokio::test]
    async fn a_failed_write_ends_the_patch_with_its_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("1.part");
        let mut part = Part::open(&path, 0, None).unwrap();
        part.sink.file = File::open(&path).unwrap();
        part.sink.direct = None;
        let mut pipe = Pipeline::new(part);
        let body = noise(2 * DEPTH * BATCH, 3);
        let error = async {
            for piece in body.chunks(65_536) {
                pipe.append(piece).await?;
            }
            pipe.finish().await.map(|_| ())
        }
        .await
        .expect_err("the write error");
        assert_eq!(error.status, actix_web::http::StatusCode::INTERNAL_SERVER_ERROR, "{error:?}");
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 0, "nothing was written");
    }
}
