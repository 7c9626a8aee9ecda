//! Platform-owned tables: `meta` (schema version, the global sequence) and the numbered
//! migrations that move a database from one schema version to the next.

use super::table::Table;
use crate::error::{AppError, AppResult};

/// Small named values owned by the platform: `schema_version` (u32), `seq` (u64).
pub const META: Table<String, serde_json::Value> = Table::new("meta");

const SEQ: &str = "seq";
const SCHEMA_VERSION: &str = "schema_version";

/// The next value of the one global sequence. Called inside the write transaction, so values are
/// gapless and in commit order: ids and change cursors both come from here.
pub fn next_seq(txn: &redb::WriteTransaction) -> AppResult<u64> {
    let mut t = META.open(txn)?;
    let cur = t.get(&SEQ.to_owned())?.and_then(|v| v.as_u64()).unwrap_or(0);
    let next = cur + 1;
    t.put(&SEQ.to_owned(), &serde_json::Value::from(next))?;
    Ok(next)
}

/// Set the sequence (restore only: the archive's value).
pub fn set_seq(txn: &redb::WriteTransaction, v: u64) -> AppResult<()> {
    META.open(txn)?.put(&SEQ.to_owned(), &serde_json::Value::from(v))
}

pub fn current_seq(txn: &redb::ReadTransaction) -> AppResult<u64> {
    Ok(META.get_in(txn, &SEQ.to_owned())?.and_then(|v| v.as_u64()).unwrap_or(0))
}

pub fn schema_version(txn: &redb::ReadTransaction) -> AppResult<Option<u32>> {
    Ok(META.get_in(txn, &SCHEMA_VERSION.to_owned())?.and_then(|v| v.as_u64()).map(|v| v as u32))
}

pub fn set_schema_version(txn: &redb::WriteTransaction, v: u32) -> AppResult<()> {
    META.open(txn)?.put(&SCHEMA_VERSION.to_owned(), &serde_json::Value::from(v))
}

/// One step from `version - 1` to `version`, run in its own transaction.
pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub run: fn(&redb::WriteTransaction) -> AppResult<()>,
}

/// What `open` found and did about the schema.
#[derive(Debug, PartialEq, Eq)]
pub enum SchemaState {
    Fresh,
    Current,
    /// Migrated from the given version.
    Migrated(u32),
}

pub fn newer_database_error(found: u32, supported: u32) -> AppError {
    AppError::unavailable(format!(
        "the database has schema version {found}, but this officebox supports up to {supported}; \
         run a newer officebox or restore a backup made by this version"
    ))
}
