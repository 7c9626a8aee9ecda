//! Restore: verify, build the new data in `<data>/.restore-new/`, then swap inside the data dir.
//!
//! The steps and what a crash at each one leaves:
//!
//! 1. verify the whole archive (nothing written yet);
//! 2. build `.restore-new/{data.redb,blobs/}`: rows imported in one write transaction, blobs
//!    re-hashed, then migrations if the archive's schema is older (a crash leaves a stale
//!    `.restore-new/`, removed at the next start; the live data is untouched);
//! 3. write the marker `.restore-pending` (atomically): from here on the restore WILL happen;
//! 4. at start-up, before the store opens, [`apply_pending_restore`] moves the live `data.redb`,
//!    `blobs/` and `index/` into `.restore-old-<ts>/` and the new ones in, one item at a time
//!    and idempotently, fsyncs, removes the marker, then deletes the old directory. A crash in
//!    the middle is finished by the next start, so the old and new data never mix.
//!
//! Everything happens INSIDE the data directory: it may be a mount point (Docker) or sit in a
//! read-only parent (systemd `ProtectSystem=strict`).

use super::jsonl::KeyVal;
use super::verify::{check_digest, open_checked, read_table, spec_of, verify_with, HashRead};
use super::{blob_entry_name, invalid_archive, sync_dir, Limits, Manifest};
use crate::error::{AppError, AppResult};
use crate::platform::blobs::Blobs;
use crate::platform::clock::SystemClock;
use crate::platform::store::{lock_data_dir, meta, KeyKind, Schema, Store, TableSpec};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const NEW_DIR: &str = ".restore-new";
const PENDING: &str = ".restore-pending";
const OLD_PREFIX: &str = ".restore-old-";
/// What a restore replaces, in swap order. `index/` is derived and simply dropped.
const SWAPPED: [&str; 2] = ["data.redb", "blobs"];
const INDEX_DIR: &str = "index";

/// Data directories being staged by this process (the running server): one staging at a time
/// per directory. A CLI restore holds the data directory lock instead, which a server excludes.
static STAGING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

pub(crate) struct StagingGuard(PathBuf);

impl StagingGuard {
    pub(crate) fn take(data_dir: &Path) -> AppResult<StagingGuard> {
        let key = data_dir.canonicalize()?;
        let mut busy = STAGING.lock().unwrap_or_else(|p| p.into_inner());
        if busy.contains(&key) {
            return Err(AppError::conflict("restore_in_progress", "another restore is being prepared"));
        }
        busy.push(key.clone());
        Ok(StagingGuard(key))
    }
}

impl Drop for StagingGuard {
    fn drop(&mut self) {
        STAGING.lock().unwrap_or_else(|p| p.into_inner()).retain(|p| *p != self.0);
    }
}

/// Verify `archive` and prepare it in `<data_dir>/.restore-new/` for the next start
/// ([`apply_pending_restore`]). Safe while the server runs: the live data is not touched.
pub fn stage_restore(archive: &Path, data_dir: &Path) -> AppResult<Manifest> {
    stage_with(archive, data_dir, &Limits::default(), &crate::schema::SCHEMA)
}

/// Restore now. The caller guarantees that no store is open on `data_dir` (the CLI uses
/// [`restore_offline`], which takes the lock).
pub fn restore_into(archive: &Path, data_dir: &Path) -> AppResult<Manifest> {
    restore_with(archive, data_dir, &Limits::default(), &crate::schema::SCHEMA)
}

/// `officebox restore FILE`: takes the data directory lock (refused while the server runs),
/// then stages and applies.
pub fn restore_offline(archive: &Path, data_dir: &Path) -> AppResult<Manifest> {
    let _lock = lock_data_dir(data_dir)?;
    restore_into(archive, data_dir)
}

/// Call at start-up before the store is opened: finishes a staged (or interrupted) restore.
/// Returns whether one was applied. Also removes what an interrupted restore left behind.
pub fn apply_pending_restore(data_dir: &Path) -> AppResult<bool> {
    if !data_dir.exists() {
        return Ok(false);
    }
    // After an in-process restart the previous store may need a moment to let go of the lock.
    let patience = if data_dir.join(PENDING).exists() { Duration::from_secs(10) } else { Duration::ZERO };
    let start = Instant::now();
    let _lock = loop {
        match lock_data_dir(data_dir) {
            Ok(lock) => break lock,
            Err(_) if start.elapsed() < patience => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(e),
        }
    };
    apply_locked(data_dir)
}

pub(crate) fn restore_with(
    archive: &Path,
    data_dir: &Path,
    limits: &Limits,
    schema: &'static Schema,
) -> AppResult<Manifest> {
    let manifest = stage_with(archive, data_dir, limits, schema)?;
    failpoint("before_swap")?;
    apply_locked(data_dir).map_err(|e| {
        AppError::unavailable(format!(
            "the archive is verified and staged, but swapping it in failed ({}); it is applied at the next start",
            e.message
        ))
    })?;
    Ok(manifest)
}

pub(crate) fn stage_with(
    archive: &Path,
    data_dir: &Path,
    limits: &Limits,
    schema: &'static Schema,
) -> AppResult<Manifest> {
    let manifest = verify_with(archive, limits, schema)?;
    std::fs::create_dir_all(data_dir)?;
    let _guard = StagingGuard::take(data_dir)?;
    let staging = data_dir.join(NEW_DIR);
    // A new stage replaces an earlier pending or unfinished one.
    remove_if_exists(&data_dir.join(PENDING))?;
    remove_if_exists(&staging)?;
    let built = build(archive, &staging, limits, schema, &manifest)
        .and_then(|_| failpoint("before_marker"))
        .and_then(|_| write_marker(data_dir, &manifest));
    if let Err(e) = built {
        let _ = std::fs::remove_file(data_dir.join(PENDING));
        if let Err(rm) = std::fs::remove_dir_all(&staging) {
            tracing::warn!(error = %rm, "cannot remove {}", staging.display());
        }
        return Err(e);
    }
    tracing::info!(seq = manifest.seq, created_at = manifest.created_at, "restore staged");
    Ok(manifest)
}

fn remove_if_exists(path: &Path) -> AppResult<()> {
    let r = match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(_) => return Ok(()),
    };
    r.map_err(AppError::from)
}

/// An open table of any registered key shape, for inserting many rows.
enum Sink<'t> {
    U64(redb::Table<'t, u64, &'static [u8]>),
    U64x2(redb::Table<'t, (u64, u64), &'static [u8]>),
    U64x3(redb::Table<'t, (u64, u64, u64), &'static [u8]>),
    Str(redb::Table<'t, String, &'static [u8]>),
}

impl<'t> Sink<'t> {
    fn open(txn: &'t redb::WriteTransaction, spec: &TableSpec) -> AppResult<Sink<'t>> {
        Ok(match spec.key {
            KeyKind::U64 => Sink::U64(txn.open_table(redb::TableDefinition::new(spec.name))?),
            KeyKind::U64x2 => Sink::U64x2(txn.open_table(redb::TableDefinition::new(spec.name))?),
            KeyKind::U64x3 => Sink::U64x3(txn.open_table(redb::TableDefinition::new(spec.name))?),
            KeyKind::Str => Sink::Str(txn.open_table(redb::TableDefinition::new(spec.name))?),
        })
    }

    fn insert(&mut self, key: &KeyVal, value: &[u8]) -> AppResult<()> {
        match (self, key) {
            (Sink::U64(t), KeyVal::U64(a)) => t.insert(*a, value).map(drop),
            (Sink::U64x2(t), KeyVal::U64x2(a, b)) => t.insert((*a, *b), value).map(drop),
            (Sink::U64x3(t), KeyVal::U64x3(a, b, c)) => t.insert((*a, *b, *c), value).map(drop),
            (Sink::Str(t), KeyVal::Str(s)) => t.insert(s.clone(), value).map(drop),
            _ => return Err(AppError::internal("restore: key kind mismatch")),
        }
        .map_err(AppError::from)
    }
}

/// Build the complete new data directory content in `staging`.
fn build(
    archive: &Path,
    staging: &Path,
    limits: &Limits,
    schema: &'static Schema,
    manifest: &Manifest,
) -> AppResult<()> {
    std::fs::create_dir(staging)?;
    // Second pass: the archive is read (and hashed) again, so a file changed since the
    // verification fails here, before the swap.
    let mut o = open_checked(archive, limits, schema)?;
    if o.manifest != *manifest {
        return Err(invalid_archive("the archive changed while it was being restored"));
    }
    let db_path = staging.join("data.redb");
    let db = redb::Database::create(&db_path)?;
    let mut txn = db.begin_write()?;
    txn.set_durability(redb::Durability::Immediate).map_err(AppError::internal)?;
    txn.set_two_phase_commit(true);
    for spec in schema.tables {
        crate::platform::store::registry::create(&txn, spec)?;
    }
    for t in &manifest.tables {
        let spec = spec_of(schema, &t.name)?;
        let mut sink = Sink::open(&txn, spec)?;
        // Every entry is still read and checked; cleared tables just keep no rows.
        let keep = !schema.cleared_on_restore.contains(&spec.name);
        read_table(&mut o, t, spec, limits, &mut |k, v| if keep { sink.insert(k, v) } else { Ok(()) })?;
    }
    // The archive's own meta rows were imported; these make the manifest authoritative.
    meta::set_schema_version(&txn, manifest.schema_version)?;
    meta::set_seq(&txn, manifest.seq)?;
    failpoint("before_commit")?;
    txn.commit()?;
    db.close()?;

    let blobs = Blobs::open(staging.join("blobs"))?;
    for b in &manifest.blobs {
        let name = blob_entry_name(&b.sha256);
        let mut r = HashRead::new(o.entry(&name)?.take(b.size.saturating_add(1)));
        let stored = blobs.put_reader(&mut r, u64::MAX, "").map_err(|e| {
            invalid_archive(format!("entry {name} could not be restored ({}); the archive may be damaged", e.message))
        })?;
        check_digest(&name, r.finish(), b.size, &b.sha256)?;
        if stored.sha256 != b.sha256 {
            return Err(invalid_archive(format!("entry {name} is damaged: its sha256 does not match the manifest")));
        }
    }
    failpoint("after_blobs")?;
    if manifest.schema_version < schema.version {
        migrate(staging, schema)?;
    }
    sync_tree(staging)
}

/// Open the staged database with the store, which runs the numbered migrations from the
/// archive's schema version (the archive itself is the pre-migration backup), then close it.
fn migrate(staging: &Path, schema: &'static Schema) -> AppResult<()> {
    let (store, state) = Store::open(staging, schema, Arc::new(SystemClock), &|_| Ok(()))?;
    tracing::info!(?state, "restored database migrated");
    drop(store);
    wait_closed(&staging.join("data.redb"))
}

/// The store's writer thread closes the database shortly after the last handle is dropped.
pub(crate) fn wait_closed(path: &Path) -> AppResult<()> {
    let start = Instant::now();
    loop {
        match redb::Database::open(path) {
            Ok(db) => return Ok(db.close()?),
            Err(redb::DatabaseError::DatabaseAlreadyOpen) if start.elapsed() < Duration::from_secs(30) => {
                std::thread::sleep(Duration::from_millis(10))
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// fsync every directory below `root` (files were synced when written).
fn sync_tree(root: &Path) -> AppResult<()> {
    for entry in std::fs::read_dir(root)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            sync_tree(&entry.path())?;
        }
    }
    Ok(sync_dir(root)?)
}

fn write_marker(data_dir: &Path, manifest: &Manifest) -> AppResult<()> {
    let body = serde_json::json!({
        "seq": manifest.seq,
        "created_at": manifest.created_at,
        "app_version": manifest.app_version,
        "schema_version": manifest.schema_version,
    });
    let mut tmp = tempfile::Builder::new().prefix(".restore-pending-").tempfile_in(data_dir)?;
    serde_json::to_writer(&mut tmp, &body)?;
    tmp.as_file().sync_all()?;
    tmp.persist(data_dir.join(PENDING)).map_err(|e| AppError::from(e.error))?;
    Ok(sync_dir(data_dir)?)
}

/// The swap. Idempotent: an item already moved in by an interrupted run is left alone.
fn apply_locked(data_dir: &Path) -> AppResult<bool> {
    let marker = data_dir.join(PENDING);
    if !marker.exists() {
        cleanup(data_dir);
        return Ok(false);
    }
    let staging = data_dir.join(NEW_DIR);
    let live_db_missing = !data_dir.join("data.redb").exists();
    if live_db_missing && !staging.join("data.redb").exists() {
        return Err(AppError::unavailable(format!(
            "a restore is pending in {} but its data is missing; remove {} to start with no data",
            data_dir.display(),
            marker.display()
        )));
    }
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let old = data_dir.join(format!("{OLD_PREFIX}{stamp}"));
    std::fs::create_dir_all(&old)?;
    for item in SWAPPED {
        let new = staging.join(item);
        if std::fs::symlink_metadata(&new).is_err() {
            continue; // moved in by an interrupted run
        }
        let live = data_dir.join(item);
        if std::fs::symlink_metadata(&live).is_ok() {
            std::fs::rename(&live, old.join(item))?;
        }
        failpoint("mid_swap")?;
        std::fs::rename(&new, &live)?;
    }
    let index = data_dir.join(INDEX_DIR);
    if std::fs::symlink_metadata(&index).is_ok() {
        std::fs::rename(&index, old.join(INDEX_DIR))?;
    }
    sync_dir(&old)?;
    sync_dir(data_dir)?;
    std::fs::remove_file(&marker)?;
    sync_dir(data_dir)?;
    tracing::info!(data_dir = %data_dir.display(), "restore applied");
    cleanup(data_dir);
    Ok(true)
}

/// Remove what earlier restores left: old data, a stale staging (only called when no restore is
/// pending) and temp markers.
fn cleanup(data_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(data_dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with(OLD_PREFIX) || name == NEW_DIR || name.starts_with(".restore-pending-") {
            if let Err(err) = remove_if_exists(&e.path()) {
                tracing::warn!(error = %err, "cannot remove {}", e.path().display());
            }
        }
    }
}

#[cfg(test)]
thread_local! {
    pub(crate) static FAIL_AT: std::cell::Cell<Option<&'static str>> = const { std::cell::Cell::new(None) };
}

/// Tests make a named step fail to show that the live data survives.
fn failpoint(name: &'static str) -> AppResult<()> {
    #[cfg(test)]
    if FAIL_AT.with(|f| f.get()) == Some(name) {
        return Err(AppError::internal(format!("failpoint {name}")));
    }
    let _ = name;
    Ok(())
}
