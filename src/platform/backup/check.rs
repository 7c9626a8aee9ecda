//! `officebox check`: logical consistency of a store (online, one snapshot) and redb's own
//! integrity check (offline).

use crate::error::{AppError, AppResult};
use crate::platform::blobs::{is_valid_hash, Blobs, BLOB_REFS};
use crate::platform::store::{registry, Store};
use redb::{MultimapTableHandle, TableHandle};
use serde::de::IgnoredAny;
use serde::Serialize;
use serde_json::Value as Json;
use std::collections::HashSet;
use std::path::Path;

/// At most this many bad rows are listed (all are counted).
const MAX_LISTED: usize = 1000;

#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub tables: Vec<TableCount>,
    /// Rows whose value is not JSON (or, in `blob_refs`, whose key is not a sha256 or whose
    /// value is not a count); the first 1000.
    pub bad_rows: Vec<BadRow>,
    pub bad_row_count: u64,
    /// Tables in the database that the registry (src/schema.rs) does not list: backups miss them.
    pub unregistered_tables: Vec<String>,
    /// Referenced by `blob_refs` but not on disk.
    pub missing_blobs: Vec<String>,
    /// On disk but their content does not match their hash.
    pub damaged_blobs: Vec<String>,
    /// On disk without a reference: garbage, not an error.
    pub orphan_blobs: Vec<String>,
    pub ok: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct TableCount {
    pub name: String,
    pub rows: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BadRow {
    pub table: String,
    pub key: Json,
    pub error: String,
}

/// Check every registered table row by row and every referenced blob, in one snapshot. Reads
/// every blob: blocking and slow on big installations (run it on a blocking thread).
pub fn check(store: &Store, blobs: &Blobs) -> AppResult<CheckReport> {
    let rtxn = store.begin_read()?;
    let schema = store.schema();
    let mut bad_rows = Vec::new();
    let mut bad_row_count = 0u64;
    let mut bad = |table: &str, key: &Json, error: String| {
        bad_row_count += 1;
        if bad_rows.len() < MAX_LISTED {
            bad_rows.push(BadRow { table: table.to_owned(), key: key.clone(), error });
        }
    };
    let mut tables = Vec::with_capacity(schema.tables.len());
    let mut referenced = HashSet::new();
    for spec in schema.tables {
        let is_refs = spec.name == BLOB_REFS.name();
        let rows = registry::export(&rtxn, spec, |key, value| {
            if let Err(e) = serde_json::from_slice::<IgnoredAny>(value) {
                bad(spec.name, &key, format!("the value is not JSON: {e}"));
            } else if is_refs {
                match key.as_str() {
                    Some(sha) if is_valid_hash(sha) => {
                        if serde_json::from_slice::<u64>(value).is_err() {
                            bad(spec.name, &key, "the reference count is not a number".into());
                        }
                        referenced.insert(sha.to_owned());
                    }
                    _ => bad(spec.name, &key, "the key is not a sha256".into()),
                }
            }
            Ok(())
        })?;
        tables.push(TableCount { name: spec.name.to_owned(), rows });
    }
    let known: HashSet<&str> = schema.tables.iter().map(|s| s.name).collect();
    let mut unregistered: Vec<String> = rtxn
        .list_tables()?
        .map(|t| t.name().to_owned())
        .chain(rtxn.list_multimap_tables()?.map(|t| t.name().to_owned()))
        .filter(|n| !known.contains(n.as_str()))
        .collect();
    unregistered.sort();
    drop(rtxn);

    let mut referenced: Vec<String> = referenced.into_iter().collect();
    referenced.sort();
    let (mut missing_blobs, mut damaged_blobs) = (Vec::new(), Vec::new());
    for sha in &referenced {
        if !blobs.exists(sha) {
            missing_blobs.push(sha.clone());
        } else if !blobs.verify(sha) {
            damaged_blobs.push(sha.clone());
        }
    }
    let on_disk = blobs.list()?;
    let orphan_blobs: Vec<String> = on_disk.into_iter().filter(|sha| referenced.binary_search(sha).is_err()).collect();
    let ok = bad_row_count == 0 && unregistered.is_empty() && missing_blobs.is_empty() && damaged_blobs.is_empty();
    Ok(CheckReport {
        tables,
        bad_rows,
        bad_row_count,
        unregistered_tables: unregistered,
        missing_blobs,
        damaged_blobs,
        orphan_blobs,
        ok,
    })
}

/// redb's own integrity check of `data.redb` (repairs what it can). Needs exclusive access:
/// refused while the server runs. `Ok(true)`: the file is sound.
pub fn check_redb_integrity(path: &Path) -> AppResult<bool> {
    let mut db = match redb::Database::open(path) {
        Ok(db) => db,
        Err(redb::DatabaseError::DatabaseAlreadyOpen) => {
            return Err(AppError::unavailable(format!("{} is in use: stop the server first", path.display())))
        }
        Err(e) => return Err(AppError::unavailable(format!("cannot open {}: {e}", path.display()))),
    };
    let ok = db.check_integrity().map_err(|e| AppError::unavailable(format!("integrity check failed: {e}")))?;
    db.close()?;
    Ok(ok)
}
