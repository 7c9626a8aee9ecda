//! Backup, restore and integrity check of a data directory.
//!
//! # Archive format (`format_version` 1)
//!
//! One zip file (see also `docs/backup.md`):
//!
//! * `tables/<name>.jsonl` — one entry per registered table, deflated. One line per row, in key
//!   order, exactly `{"k":KEY,"v":VALUE}` followed by `\n`: `KEY` is the key as JSON (a number for
//!   `u64`, an array of numbers for tuples, a string for `str`), `VALUE` the stored JSON value,
//!   byte for byte.
//! * `blobs/<sha256>` — every blob referenced by `blob_refs` in the snapshot, stored uncompressed
//!   (files are mostly compressed already, and a stored entry cannot be a decompression bomb).
//! * `manifest.json` — written last:
//!   `{format: "officebox-backup", format_version: 1, app_version, schema_version, created_at (ms),
//!   seq, tables: [{name, key_kind, rows, entry, sha256, size}], blobs: [{sha256, size}]}`.
//!   `size` is the uncompressed size and `sha256` the hash of the uncompressed bytes of every entry.
//!
//! Every entry is a regular file (unix mode `0100600`); names are exactly the ones above.
//!
//! # Guarantees
//!
//! * [`create_backup`] reads ONE redb snapshot (the writer keeps committing) and streams: tables are
//!   hashed while written, blobs copied through a buffer and re-hashed on the way, so a damaged
//!   blob fails the backup instead of producing an archive that cannot be restored.
//! * [`verify_archive`] reads every byte before anything is touched: the zip structure (local
//!   headers against the central directory, no gaps, no duplicates, no symlinks, safe names),
//!   size limits, the manifest, every entry's size and sha256, every jsonl line.
//! * Restore builds the new database in `<data>/.restore-new/` and swaps `data.redb` and `blobs/`
//!   INSIDE the data directory (which may be a mount point), so a failure before the swap leaves
//!   the live data byte-identical and a crash during the swap is finished at the next start.

mod check;
mod jsonl;
mod restore;
mod schedule;
mod verify;
mod write;
mod zipcheck;

#[cfg(test)]
mod tests;

pub use check::{check, check_redb_integrity, BadRow, CheckReport, TableCount};
pub use restore::{apply_pending_restore, restore_into, restore_offline, stage_restore};
pub use schedule::{backup_name, backup_path, is_backup_name, list_backups, run_scheduled, BackupFile};
pub use verify::verify_archive;
pub use write::{backup_to_file, create_backup};

use crate::error::AppError;
use crate::platform::store::KeyKind;
use actix_web::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicUsize, Ordering};

/// `manifest.json` `format` value.
pub const FORMAT: &str = "officebox-backup";
/// The archive format this build writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;
pub const MANIFEST_NAME: &str = "manifest.json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    pub app_version: String,
    pub schema_version: u32,
    pub created_at: i64,
    pub seq: u64,
    pub tables: Vec<TableEntry>,
    pub blobs: Vec<BlobEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableEntry {
    pub name: String,
    /// `u64`, `u64x2`, `u64x3` or `str`.
    pub key_kind: String,
    pub rows: u64,
    /// `tables/<name>.jsonl`
    pub entry: String,
    pub sha256: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobEntry {
    pub sha256: String,
    pub size: u64,
}

/// What an archive may cost to read. The defaults fit any real installation; an admin upload
/// may pass smaller ones.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Sum of the uncompressed sizes of all entries.
    pub max_total_bytes: u64,
    /// Uncompressed size of one entry.
    pub max_entry_bytes: u64,
    /// Largest uncompressed/compressed ratio of an entry bigger than `ratio_floor_bytes`.
    pub max_ratio: u64,
    pub ratio_floor_bytes: u64,
    /// `manifest.json` is parsed in memory.
    pub max_manifest_bytes: u64,
    /// One jsonl line (one row) is held in memory.
    pub max_line_bytes: u64,
    pub max_entries: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_total_bytes: 64 << 30,
            max_entry_bytes: 32 << 30,
            max_ratio: 200,
            ratio_floor_bytes: 1 << 20,
            max_manifest_bytes: 512 << 20,
            max_line_bytes: 256 << 20,
            max_entries: 20_000_000,
        }
    }
}

pub(crate) fn table_entry_name(table: &str) -> String {
    format!("tables/{table}.jsonl")
}

pub(crate) fn blob_entry_name(sha: &str) -> String {
    format!("blobs/{sha}")
}

pub(crate) fn key_kind_name(k: KeyKind) -> &'static str {
    match k {
        KeyKind::U64 => "u64",
        KeyKind::U64x2 => "u64x2",
        KeyKind::U64x3 => "u64x3",
        KeyKind::Str => "str",
    }
}

/// The archive is damaged, hostile or not a backup (422).
pub fn invalid_archive(message: impl Into<String>) -> AppError {
    AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_archive", message)
}

/// The archive was made by a newer OfficeBox (422).
pub fn archive_too_new(message: impl Into<String>) -> AppError {
    AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "archive_too_new", message)
}

pub(crate) fn backup_failed(message: impl Into<String>) -> AppError {
    let message = message.into();
    tracing::error!(%message, "backup failed");
    AppError::new(StatusCode::INTERNAL_SERVER_ERROR, "backup_failed", message)
}

static RUNNING_BACKUPS: AtomicUsize = AtomicUsize::new(0);

/// True while a backup of this process is reading blobs. Blob garbage collection must not delete
/// files while this is true: a snapshot may still reference a blob the live data has released.
pub fn backup_in_progress() -> bool {
    RUNNING_BACKUPS.load(Ordering::SeqCst) > 0
}

pub(crate) struct RunningGuard;

impl RunningGuard {
    pub(crate) fn new() -> Self {
        RUNNING_BACKUPS.fetch_add(1, Ordering::SeqCst);
        RunningGuard
    }
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        RUNNING_BACKUPS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// fsync a directory so renames inside it are durable.
pub(crate) fn sync_dir(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}
