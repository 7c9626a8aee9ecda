//! Content-addressed blob store under `<data>/blobs/ab/cd/<sha256>`.
//!
//! Writes stream into `blobs/tmp/` while hashing, are fsynced, then renamed into place and the
//! directory fsynced: a blob either exists completely under its hash or not at all. Files are
//! never held whole in memory. Blobs are immutable; references are counted by the features
//! that store them (`blob_refs` table) so `check` and backup know which ones matter.

use crate::error::{AppError, AppResult};
use crate::platform::store::{Table, Tx};
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// sha256 (hex) -> number of rows referencing it.
pub const BLOB_REFS: Table<String, u64> = Table::new("blob_refs");

#[derive(Clone)]
pub struct Blobs {
    root: PathBuf,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct BlobRef {
    pub sha256: String,
    pub size: u64,
    #[serde(default)]
    pub content_type: String,
}

pub fn is_valid_hash(h: &str) -> bool {
    h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// Writes into a temp file while hashing; `finish` moves it into place.
struct PendingBlob {
    file: std::fs::File,
    tmp: tempfile::TempPath,
    hasher: Sha256,
    size: u64,
    limit: u64,
}

impl PendingBlob {
    fn write(&mut self, chunk: &[u8]) -> AppResult<()> {
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            return Err(AppError::payload_too_large(self.limit));
        }
        self.hasher.update(chunk);
        self.file.write_all(chunk)?;
        Ok(())
    }
}

impl Blobs {
    pub fn open(root: impl Into<PathBuf>) -> AppResult<Self> {
        let root = root.into();
        std::fs::create_dir_all(root.join("tmp"))?;
        Ok(Blobs { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn path_of(&self, sha: &str) -> AppResult<PathBuf> {
        if !is_valid_hash(sha) {
            return Err(AppError::not_found("file"));
        }
        Ok(self.root.join(&sha[0..2]).join(&sha[2..4]).join(sha))
    }

    fn begin(&self, limit: u64) -> AppResult<PendingBlob> {
        let tmp = tempfile::NamedTempFile::new_in(self.root.join("tmp"))?;
        let (file, tmp) = tmp.into_parts();
        Ok(PendingBlob { file, tmp, hasher: Sha256::new(), size: 0, limit })
    }

    fn finish(&self, p: PendingBlob, content_type: &str) -> AppResult<BlobRef> {
        p.file.sync_all()?;
        drop(p.file);
        let sha = hex::encode(p.hasher.finalize());
        let dest = self.path_of(&sha)?;
        if dest.exists() {
            // Same content already stored; the temp file is removed on drop. Refresh its time so
            // garbage collection's grace period protects it until the new reference commits.
            std::fs::File::options().append(true).open(&dest)?.set_modified(std::time::SystemTime::now())?;
            return Ok(BlobRef { sha256: sha, size: p.size, content_type: content_type.into() });
        }
        let dir = dest.parent().ok_or_else(|| AppError::internal("blob path without parent"))?;
        std::fs::create_dir_all(dir)?;
        p.tmp.persist(&dest).map_err(|e| AppError::internal(e.error))?;
        std::fs::File::open(dir)?.sync_all()?;
        Ok(BlobRef { sha256: sha, size: p.size, content_type: content_type.into() })
    }

    /// Store everything `reader` yields (blocking I/O; call from a blocking thread).
    pub fn put_reader(&self, mut reader: impl Read, limit: u64, content_type: &str) -> AppResult<BlobRef> {
        let mut p = self.begin(limit)?;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = reader.read(&mut buf)?;
            if n == 0 {
                break;
            }
            p.write(&buf[..n])?;
        }
        self.finish(p, content_type)
    }

    /// Store a stream of chunks (an HTTP body or multipart field) without buffering it whole.
    /// File writes happen on the blocking pool, one chunk at a time.
    pub async fn put_stream<S, E>(&self, mut stream: S, limit: u64, content_type: &str) -> AppResult<BlobRef>
    where
        S: Stream<Item = Result<actix_web::web::Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let mut pending = Some(self.begin(limit)?);
        while let Some(chunk) = stream.next().await {
            let chunk =
                chunk.map_err(|e| AppError::bad_request("upload_failed", format!("upload interrupted: {e}")))?;
            let mut p = pending.take().ok_or_else(|| AppError::internal("blob writer lost"))?;
            let p =
                tokio::task::spawn_blocking(move || p.write(&chunk).map(|_| p)).await.map_err(AppError::internal)??;
            pending = Some(p);
        }
        let p = pending.take().ok_or_else(|| AppError::internal("blob writer lost"))?;
        let this = self.clone();
        let ct = content_type.to_owned();
        tokio::task::spawn_blocking(move || this.finish(p, &ct)).await.map_err(AppError::internal)?
    }

    /// Move a finished temp file (under `tmp/`, already fsynced) into the store under `sha`
    /// without copying it: a rename, then the directory fsynced. The caller computed `sha`
    /// while receiving the bytes (resumable uploads). If the content is already stored the temp
    /// file is dropped and the stored file's time refreshed, as in [`Blobs::put_reader`].
    pub fn adopt_file(&self, path: &Path, sha: &str, content_type: &str) -> AppResult<BlobRef> {
        let size = std::fs::metadata(path)?.len();
        let dest = self.path_of(sha)?;
        let blob = BlobRef { sha256: sha.to_owned(), size, content_type: content_type.into() };
        if dest.exists() {
            std::fs::File::options().append(true).open(&dest)?.set_modified(std::time::SystemTime::now())?;
            std::fs::remove_file(path)?;
            return Ok(blob);
        }
        let dir = dest.parent().ok_or_else(|| AppError::internal("blob path without parent"))?;
        std::fs::create_dir_all(dir)?;
        std::fs::rename(path, &dest)?;
        std::fs::File::open(dir)?.sync_all()?;
        Ok(blob)
    }

    pub fn exists(&self, sha: &str) -> bool {
        self.path_of(sha).map(|p| p.is_file()).unwrap_or(false)
    }

    pub fn open_file(&self, sha: &str) -> AppResult<std::fs::File> {
        std::fs::File::open(self.path_of(sha)?).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => AppError::not_found("file"),
            _ => AppError::internal(e),
        })
    }

    /// Recompute a blob's hash; false if it is missing or damaged.
    pub fn verify(&self, sha: &str) -> bool {
        let Ok(mut f) = self.open_file(sha) else { return false };
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            match f.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => h.update(&buf[..n]),
                Err(_) => return false,
            }
        }
        hex::encode(h.finalize()) == sha
    }

    /// Every stored blob hash (for check and garbage collection).
    pub fn list(&self) -> AppResult<Vec<String>> {
        let mut out = Vec::new();
        for a in std::fs::read_dir(&self.root)? {
            let a = a?;
            if a.file_name() == "tmp" || !a.file_type()?.is_dir() {
                continue;
            }
            for b in std::fs::read_dir(a.path())? {
                let b = b?;
                if !b.file_type()?.is_dir() {
                    continue;
                }
                for f in std::fs::read_dir(b.path())? {
                    let name = f?.file_name().to_string_lossy().into_owned();
                    if is_valid_hash(&name) {
                        out.push(name);
                    }
                }
            }
        }
        out.sort();
        Ok(out)
    }
}

/// What one garbage collection did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GcReport {
    pub removed: usize,
    pub bytes: u64,
}

impl Blobs {
    /// Delete stored files that no row references and that were not written or re-uploaded
    /// within `grace` (an upload stores its file before the row that references it commits),
    /// plus temp files a crashed upload left behind. The caller passes the referenced set from
    /// one snapshot and must not run this while a backup is reading blobs.
    pub fn collect_garbage(
        &self,
        referenced: &std::collections::HashSet<String>,
        grace: std::time::Duration,
    ) -> AppResult<GcReport> {
        let cutoff = std::time::SystemTime::now().checked_sub(grace).unwrap_or(std::time::UNIX_EPOCH);
        let old = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).is_ok_and(|t| t < cutoff);
        let mut report = GcReport::default();
        for sha in self.list()? {
            let path = self.path_of(&sha)?;
            if referenced.contains(&sha) || !old(&path) {
                continue;
            }
            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            std::fs::remove_file(&path)?;
            report.removed += 1;
            report.bytes += size;
        }
        for entry in std::fs::read_dir(self.root.join("tmp"))? {
            let path = entry?.path();
            if path.is_file() && old(&path) {
                std::fs::remove_file(&path)?;
            }
        }
        Ok(report)
    }
}

/// Count a new reference to a blob, in the same transaction as the row that holds it.
pub fn add_ref(tx: &Tx, sha: &str) -> AppResult<()> {
    let mut t = BLOB_REFS.open(tx.txn)?;
    let n = t.get(&sha.to_owned())?.unwrap_or(0);
    t.put(&sha.to_owned(), &(n + 1))
}

/// Drop a reference. The file itself is removed later by garbage collection, never here, so a
/// backup that is reading it keeps working.
pub fn release_ref(tx: &Tx, sha: &str) -> AppResult<()> {
    let mut t = BLOB_REFS.open(tx.txn)?;
    match t.get(&sha.to_owned())? {
        Some(n) if n > 1 => t.put(&sha.to_owned(), &(n - 1)),
        Some(_) => t.remove(&sha.to_owned()).map(|_| ()),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::time::{Duration, SystemTime};

    fn age(b: &Blobs, sha: &str, by: Duration) {
        let f = std::fs::File::options().append(true).open(b.path_of(sha).unwrap()).unwrap();
        f.set_modified(SystemTime::now() - by).unwrap();
    }

    #[test]
    fn garbage_collection_keeps_referenced_and_recent_files() {
        let dir = tempfile::tempdir().unwrap();
        let b = Blobs::open(dir.path()).unwrap();
        let kept = b.put_reader(&b"referenced"[..], 1 << 20, "").unwrap().sha256;
        let orphan = b.put_reader(&b"orphan"[..], 1 << 20, "").unwrap().sha256;
        let fresh = b.put_reader(&b"just uploaded"[..], 1 << 20, "").unwrap().sha256;
        let day = Duration::from_secs(24 * 3600);
        age(&b, &kept, 2 * day);
        age(&b, &orphan, 2 * day);
        let referenced: HashSet<String> = [kept.clone()].into();
        let report = b.collect_garbage(&referenced, day).unwrap();
        assert_eq!(report, GcReport { removed: 1, bytes: 6 });
        assert!(b.exists(&kept) && b.exists(&fresh) && !b.exists(&orphan));
    }

    #[test]
    fn adopting_a_temp_file_moves_it_under_its_hash() {
        let dir = tempfile::tempdir().unwrap();
        let b = Blobs::open(dir.path()).unwrap();
        let sha = hex::encode(Sha256::digest(b"resumed bytes"));
        let tmp = b.root().join("tmp").join("1.part");
        std::fs::write(&tmp, b"resumed bytes").unwrap();
        let blob = b.adopt_file(&tmp, &sha, "text/plain").unwrap();
        assert_eq!((blob.size, blob.sha256.as_str()), (13, sha.as_str()));
        assert!(!tmp.exists() && b.verify(&sha));
        // The same content again: the stored file stays, the temp file goes.
        std::fs::write(&tmp, b"resumed bytes").unwrap();
        assert_eq!(b.adopt_file(&tmp, &sha, "").unwrap().sha256, sha);
        assert!(!tmp.exists() && b.verify(&sha));
    }

    #[test]
    fn re_uploading_old_content_renews_its_grace_period() {
        let dir = tempfile::tempdir().unwrap();
        let b = Blobs::open(dir.path()).unwrap();
        let sha = b.put_reader(&b"same bytes"[..], 1 << 20, "").unwrap().sha256;
        let day = Duration::from_secs(24 * 3600);
        age(&b, &sha, 2 * day);
        // The same file is uploaded again; its reference is about to be committed.
        assert_eq!(b.put_reader(&b"same bytes"[..], 1 << 20, "").unwrap().sha256, sha);
        assert_eq!(b.collect_garbage(&HashSet::new(), day).unwrap().removed, 0);
        assert!(b.exists(&sha));
    }
}
