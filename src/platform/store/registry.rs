//! The list of every table the application owns. `src/schema.rs` assembles it from the features;
//! the store creates every registered table at start, and backup, restore and `check` iterate it.
//! A table written without being registered trips a debug assertion and fails the registry test.

use super::table::{raw, KeyKind, TableSpec};
use crate::error::AppResult;
use serde_json::Value as Json;
use std::sync::OnceLock;

static REGISTERED: OnceLock<Vec<&'static str>> = OnceLock::new();

pub(crate) fn remember(specs: &[TableSpec]) {
    let _ = REGISTERED.set(specs.iter().map(|s| s.name).collect());
}

pub(crate) fn debug_assert_registered(name: &str) {
    if cfg!(debug_assertions) {
        if let Some(names) = REGISTERED.get() {
            debug_assert!(names.contains(&name), "table `{name}` is not in the registry (src/schema.rs)");
        }
    }
}

/// Create the table if missing.
pub fn create(txn: &redb::WriteTransaction, spec: &TableSpec) -> AppResult<()> {
    match spec.key {
        KeyKind::U64 => raw::create::<u64>(txn, spec.name),
        KeyKind::U64x2 => raw::create::<(u64, u64)>(txn, spec.name),
        KeyKind::U64x3 => raw::create::<(u64, u64, u64)>(txn, spec.name),
        KeyKind::Str => raw::create::<String>(txn, spec.name),
    }
}

/// Stream every row of a table as (key as JSON, value bytes). Returns the row count.
pub fn export(
    txn: &redb::ReadTransaction,
    spec: &TableSpec,
    sink: impl FnMut(Json, &[u8]) -> AppResult<()>,
) -> AppResult<u64> {
    match spec.key {
        KeyKind::U64 => raw::export::<u64>(txn, spec.name, sink),
        KeyKind::U64x2 => raw::export::<(u64, u64)>(txn, spec.name, sink),
        KeyKind::U64x3 => raw::export::<(u64, u64, u64)>(txn, spec.name, sink),
        KeyKind::Str => raw::export::<String>(txn, spec.name, sink),
    }
}

/// Insert one row given as (key as JSON, value bytes).
pub fn import(txn: &redb::WriteTransaction, spec: &TableSpec, key: &Json, value: &[u8]) -> AppResult<()> {
    match spec.key {
        KeyKind::U64 => raw::import::<u64>(txn, spec.name, key, value),
        KeyKind::U64x2 => raw::import::<(u64, u64)>(txn, spec.name, key, value),
        KeyKind::U64x3 => raw::import::<(u64, u64, u64)>(txn, spec.name, key, value),
        KeyKind::Str => raw::import::<String>(txn, spec.name, key, value),
    }
}
