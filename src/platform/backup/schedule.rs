//! Scheduled backups in `<data>/backups/`: `officebox-YYYYMMDD-HHMMSS.zip` (UTC), pruned to the
//! newest `keep`. Only names of exactly that pattern are listed, served or pruned; any other file
//! an admin puts there is left alone.

use super::backup_to_file;
use crate::error::{AppError, AppResult};
use crate::platform::blobs::Blobs;
use crate::platform::store::Store;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

const PREFIX: &str = "officebox-";
const SUFFIX: &str = ".zip";
/// A `.part` file this old is what a killed backup left behind.
const STALE_PART: Duration = Duration::from_secs(6 * 3600);

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupFile {
    pub name: String,
    pub size: u64,
    /// From the name (UTC ms).
    pub created_at: i64,
}

/// The file name of a backup made at `ms`.
pub fn backup_name(ms: i64) -> String {
    let t = chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default();
    format!("{PREFIX}{}{SUFFIX}", t.format("%Y%m%d-%H%M%S"))
}

fn name_time(name: &str) -> Option<i64> {
    let stamp = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    let b = stamp.as_bytes();
    if b.len() != 15 || b[8] != b'-' || !b.iter().enumerate().all(|(i, c)| i == 8 || c.is_ascii_digit()) {
        return None;
    }
    let t = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%d-%H%M%S").ok()?;
    Some(t.and_utc().timestamp_millis())
}

/// Whether `name` is exactly `officebox-YYYYMMDD-HHMMSS.zip` with a real date and time.
pub fn is_backup_name(name: &str) -> bool {
    name_time(name).is_some()
}

/// The path of a stored backup for download; `not_found` for any other name (no traversal, no
/// symlinks, no other files of the directory).
pub fn backup_path(dir: &Path, name: &str) -> AppResult<PathBuf> {
    if !is_backup_name(name) {
        return Err(AppError::not_found("backup"));
    }
    let path = dir.join(name);
    match std::fs::symlink_metadata(&path) {
        Ok(m) if m.file_type().is_file() => Ok(path),
        _ => Err(AppError::not_found("backup")),
    }
}

/// Stored backups, newest first.
pub fn list_backups(dir: &Path) -> AppResult<Vec<BackupFile>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::new();
    for e in entries {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(created_at) = name_time(&name) else { continue };
        let meta = std::fs::symlink_metadata(e.path())?;
        if meta.file_type().is_file() {
            out.push(BackupFile { name, size: meta.len(), created_at });
        }
    }
    out.sort_by(|a, b| b.name.cmp(&a.name));
    Ok(out)
}

/// Make a backup into `backups_dir` named after the store's clock, then delete the oldest
/// beyond `keep` (at least 1 is kept). Blocking: run on a blocking thread.
pub fn run_scheduled(store: &Store, blobs: &Blobs, backups_dir: &Path, keep: usize) -> AppResult<PathBuf> {
    create_private_dir(backups_dir)?;
    remove_stale_parts(backups_dir);
    let path = backups_dir.join(backup_name(store.now_ms()));
    backup_to_file(store, blobs, &path)?;
    for old in list_backups(backups_dir)?.iter().skip(keep.max(1)) {
        let p = backups_dir.join(&old.name);
        match std::fs::remove_file(&p) {
            Ok(()) => tracing::info!(file = %old.name, "old backup deleted"),
            Err(e) => tracing::warn!(error = %e, file = %old.name, "cannot delete an old backup"),
        }
    }
    tracing::info!(file = %path.display(), "scheduled backup written");
    Ok(path)
}

fn create_private_dir(dir: &Path) -> AppResult<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    Ok(b.create(dir)?)
}

/// `.part` files of backups killed mid-way (never a recent one: it may be in progress).
fn remove_stale_parts(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !(name.starts_with(".officebox-backup-") && name.ends_with(".part")) {
            continue;
        }
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age > STALE_PART);
        if old {
            let _ = std::fs::remove_file(e.path());
        }
    }
}
