//! Resumable uploads: tus 1.0 (core, creation, termination, expiration) at `/api/v1/uploads`,
//! generic over what an upload is *for*. A feature registers an [`UploadPurpose`] (the drive:
//! `drive`); the client names it in `Upload-Metadata`. The purpose checks permission, name and
//! quota when the upload is created (before any byte is stored) and turns the finished file
//! into its own object in one write transaction.
//!
//! Table: `uploads` (`(user, id)` → [`model::Upload`], see [`store`]). Invariants:
//! - the bytes of upload `id` are in `blobs/tmp/uploads/{id}.part`; the row's `offset` never
//!   exceeds what has been fsynced there (each PATCH syncs before it persists the offset), and a
//!   PATCH first truncates the file to `offset`, dropping bytes written but never acknowledged;
//! - at most one request works on an upload at a time (an in-memory lock; the others get 423);
//! - the SHA-256 of the received prefix is kept in memory between PATCHes; after a restart the
//!   first PATCH re-reads the prefix once;
//! - completion moves the file into the blob store and runs the purpose's `complete` and the
//!   row's removal in one transaction; when `complete` fails the upload is removed too (see
//!   `receive.rs` for why), so a row never describes a finished file.
//!
//! Rows are cleared by a restore (their temp files are not in backups); the expiry job removes
//! expired rows, their files, and files no row owns.

pub mod api;
pub mod expiry;
pub mod model;
mod part;
mod receive;
pub mod store;

pub use model::{Metadata, Upload};

use crate::error::{AppError, AppResult};
use crate::platform::blobs::{BlobRef, Blobs};
use crate::platform::store::{Store, Tx};
use parking_lot::{Mutex, RwLock};
use sha2::Sha256;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Who uploads (for the purpose's permission checks and audit entries).
#[derive(Debug, Clone)]
pub struct Uploader {
    pub user_id: u64,
    pub ip: String,
}

/// What a kind of upload does at its two ends. Functions, not closures, so the registry is a
/// plain static list in `app.rs` (tests register their own).
#[derive(Clone, Copy)]
pub struct UploadPurpose {
    /// The `purpose` value in `Upload-Metadata`.
    pub name: &'static str,
    /// The largest file this purpose takes now (the drive: its `max_file_size` setting).
    pub max_size: fn(&redb::ReadTransaction) -> AppResult<u64>,
    /// At creation, before any byte: permission, name and quota for `length` bytes.
    pub begin: fn(&redb::ReadTransaction, &Uploader, &Metadata, u64) -> AppResult<()>,
    /// At the end, inside the write transaction that also removes the upload: check again and
    /// create the object (taking its own blob reference). Returns the JSON the client receives
    /// in `X-Officebox-Result`. Runs in the group-commit writer: deterministic, no I/O.
    pub complete: fn(&Tx, &Uploader, &Metadata, &BlobRef) -> AppResult<serde_json::Value>,
}

/// Platform-wide limits (the purpose may lower the size).
#[derive(Debug, Clone)]
pub struct UploadLimits {
    /// Ceiling of `Tus-Max-Size` whatever the purposes allow.
    pub max_size: u64,
    /// Longest `Upload-Metadata` header, in bytes.
    pub max_metadata: usize,
    /// Unfinished uploads per user; one more gets 429.
    pub max_pending: usize,
    /// An upload expires this long after its creation or last PATCH.
    pub ttl_ms: i64,
    /// A PATCH whose body stalls this long is ended (what arrived is kept).
    pub idle_timeout: Duration,
}

impl Default for UploadLimits {
    fn default() -> Self {
        UploadLimits {
            max_size: 4 << 30,
            max_metadata: 4096,
            max_pending: 100,
            ttl_ms: 24 * 3600 * 1000,
            idle_timeout: Duration::from_secs(60),
        }
    }
}

/// The upload service, registered on the store (`Store::service::<Uploads>()`): purposes,
/// limits, and the per-upload in-memory state (lock and hash).
pub struct Uploads {
    dir: PathBuf,
    purposes: RwLock<Vec<UploadPurpose>>,
    limits: RwLock<UploadLimits>,
    live: Mutex<HashMap<u64, Live>>,
}

#[derive(Default)]
struct Live {
    busy: bool,
    /// SHA-256 of the first `.0` bytes of the file.
    hash: Option<(u64, Sha256)>,
}

/// Create the service with `purposes` and make it reachable from the store.
pub fn install(store: &Store, blobs: &Blobs, purposes: &[UploadPurpose]) -> AppResult<Arc<Uploads>> {
    let dir = blobs.root().join("tmp").join("uploads");
    std::fs::create_dir_all(&dir)?;
    let svc = Arc::new(Uploads {
        dir,
        purposes: RwLock::new(purposes.to_vec()),
        limits: RwLock::new(UploadLimits::default()),
        live: Mutex::new(HashMap::new()),
    });
    store.provide(svc.clone());
    Ok(svc)
}

/// The service of a store (internal error if `install` was not called).
pub fn service(store: &Store) -> AppResult<Arc<Uploads>> {
    store.service::<Uploads>().ok_or_else(|| AppError::internal("upload service not installed"))
}

impl Uploads {
    /// Add a purpose, or replace the one with the same name.
    pub fn register(&self, purpose: UploadPurpose) {
        let mut list = self.purposes.write();
        list.retain(|p| p.name != purpose.name);
        list.push(purpose);
    }

    pub fn purpose(&self, name: &str) -> Option<UploadPurpose> {
        self.purposes.read().iter().find(|p| p.name == name).copied()
    }

    pub fn limits(&self) -> UploadLimits {
        self.limits.read().clone()
    }

    pub fn set_limits(&self, limits: UploadLimits) {
        *self.limits.write() = limits;
    }

    /// `Tus-Max-Size`: the largest any purpose takes now, within the platform ceiling.
    pub fn max_size(&self, txn: &redb::ReadTransaction) -> AppResult<u64> {
        let mut best = 0;
        for p in self.purposes.read().iter() {
            best = best.max((p.max_size)(txn)?);
        }
        Ok(best.min(self.limits().max_size))
    }

    /// Where upload `id`'s bytes are.
    pub fn part_path(&self, id: u64) -> PathBuf {
        self.dir.join(format!("{id}.part"))
    }

    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// Take the per-upload lock, or 423 if another request holds it.
    pub fn lock(self: &Arc<Self>, id: u64) -> AppResult<Busy> {
        let mut live = self.live.lock();
        let entry = live.entry(id).or_default();
        if entry.busy {
            return Err(AppError::new(
                actix_web::http::StatusCode::LOCKED,
                "upload_busy",
                "Another request is writing to this upload; try again when it ends",
            ));
        }
        entry.busy = true;
        Ok(Busy { svc: self.clone(), id })
    }

    /// The hash of the first `offset` bytes, if this process has it.
    fn take_hash(&self, id: u64, offset: u64) -> Option<Sha256> {
        let mut live = self.live.lock();
        match live.get_mut(&id)?.hash.take() {
            Some((at, h)) if at == offset => Some(h),
            _ => None,
        }
    }

    fn put_hash(&self, id: u64, offset: u64, hash: Sha256) {
        self.live.lock().entry(id).or_default().hash = Some((offset, hash));
    }

    /// Drop everything kept in memory for an upload that no longer exists.
    fn forget(&self, id: u64) {
        if let Some(l) = self.live.lock().get_mut(&id) {
            l.hash = None;
        }
    }

    /// Uploads with state in memory (tests: nothing leaks after completion or termination).
    pub fn live_count(&self) -> usize {
        self.live.lock().len()
    }
}

/// The per-upload lock; released when dropped.
pub struct Busy {
    svc: Arc<Uploads>,
    id: u64,
}

impl Drop for Busy {
    fn drop(&mut self) {
        let mut live = self.svc.live.lock();
        if let Some(l) = live.get_mut(&self.id) {
            l.busy = false;
            if l.hash.is_none() {
                live.remove(&self.id);
            }
        }
    }
}
