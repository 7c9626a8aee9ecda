//! Tests with real stores, real zip files and temp dirs. Helpers live here.
//!
//! The test schema is the application's `SCHEMA.tables` plus four test tables (one per key
//! shape), so the tests exercise every key kind and keep working as features add tables.

mod hostile;
mod ops;
mod roundtrip;

use crate::platform::blobs::{self, Blobs};
use crate::platform::clock::ManualClock;
use crate::platform::store::{registry, KeyKind, Migration, Schema, Store, TableSpec};
use crate::schema::SCHEMA;
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub(super) const T_U64: TableSpec = TableSpec { name: "backup_test_u64", key: KeyKind::U64 };
pub(super) const T_PAIR: TableSpec = TableSpec { name: "backup_test_pair", key: KeyKind::U64x2 };
pub(super) const T_TRIPLE: TableSpec = TableSpec { name: "backup_test_triple", key: KeyKind::U64x3 };
pub(super) const T_STR: TableSpec = TableSpec { name: "backup_test_str", key: KeyKind::Str };

/// 2025-01-02T03:04:05Z
pub(super) const T0: i64 = 1_735_787_045_000;

fn leak_schema(version: u32, migrations: &'static [Migration]) -> &'static Schema {
    let mut tables: Vec<TableSpec> = SCHEMA.tables.to_vec();
    tables.extend([T_U64, T_PAIR, T_TRIPLE, T_STR]);
    Box::leak(Box::new(Schema {
        tables: Box::leak(tables.into_boxed_slice()),
        version,
        migrations,
        cleared_on_restore: &[],
    }))
}

/// SCHEMA + the test tables, at SCHEMA's version.
pub(super) fn test_schema() -> &'static Schema {
    static S: OnceLock<&'static Schema> = OnceLock::new();
    S.get_or_init(|| leak_schema(SCHEMA.version, SCHEMA.migrations))
}

/// The same tables at version 1 and version 2 (with one migration), for the migration path.
pub(super) fn versioned_schemas() -> (&'static Schema, &'static Schema) {
    static S: OnceLock<(&'static Schema, &'static Schema)> = OnceLock::new();
    *S.get_or_init(|| {
        static MIGRATIONS: &[Migration] = &[Migration { version: 2, name: "backup_test", run: mark_migrated }];
        (leak_schema(1, &[]), leak_schema(2, MIGRATIONS))
    })
}

fn mark_migrated(txn: &redb::WriteTransaction) -> crate::error::AppResult<()> {
    registry::import(txn, &T_STR, &json!("migrated"), b"true")
}

pub(super) fn open(dir: &Path, schema: &'static Schema) -> (Store, Blobs) {
    let (store, _) = Store::open(dir, schema, ManualClock::new(T0), &|_| Ok(())).expect("open store");
    let blobs = Blobs::open(dir.join("blobs")).expect("open blobs");
    (store, blobs)
}

/// Drop the store and wait until its writer thread has closed the file.
pub(super) fn close(store: Store, dir: &Path) {
    drop(store);
    super::restore::wait_closed(&dir.join("data.redb")).expect("store closes");
}

pub(super) fn put_row(store: &Store, spec: TableSpec, key: Json, value: Json) {
    store
        .write_blocking(move |tx| {
            tx.next_seq()?;
            registry::import(tx.txn, &spec, &key, &serde_json::to_vec(&value)?)
        })
        .expect("write row");
}

pub(super) fn put_blob(store: &Store, blobs: &Blobs, data: &[u8]) -> String {
    let r = blobs.put_reader(data, u64::MAX, "application/octet-stream").expect("put blob");
    let sha = r.sha256.clone();
    store.write_blocking(move |tx| blobs::add_ref(tx, &sha)).expect("add ref");
    r.sha256
}

/// Rows of every key shape, awkward values, and a few blobs (one empty, one of 300 KiB).
pub(super) fn populate(store: &Store, blobs: &Blobs) -> Vec<String> {
    for i in [0u64, 1, 2, 1000, u64::MAX] {
        put_row(store, T_U64, json!(i), json!({"i": i, "text": format!("行 {i}"), "f": 1.5e300, "neg": -7}));
    }
    for (a, b) in [(1u64, 2u64), (1, 3), (2, 0), (u64::MAX, u64::MAX)] {
        put_row(store, T_PAIR, json!([a, b]), json!([a, b, null, true]));
    }
    for (a, b, c) in [(1u64, 1u64, 1u64), (1, 1, 2), (9, 0, 0)] {
        put_row(store, T_TRIPLE, json!([a, b, c]), json!("plain string with \"quotes\" and \\ and \n newline"));
    }
    for k in ["", "a", "ab", "b", "z", "Ä", "中文", "emoji 😀", "quote\"key", "line\nbreak"] {
        put_row(store, T_STR, json!(k), json!({"k": k, "nested": {"z": 1, "a": [1, 2, {"b": null}]}}));
    }
    put_row(store, T_STR, json!("number"), json!(12));
    put_row(store, T_STR, json!("zero"), json!(0));
    let big: Vec<u8> = (0..300 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let shas = vec![
        put_blob(store, blobs, b""),
        put_blob(store, blobs, b"hello blob"),
        put_blob(store, blobs, &big),
        put_blob(store, blobs, "一些中文内容".as_bytes()),
    ];
    // A second reference to the same blob.
    put_blob(store, blobs, b"hello blob");
    shas
}

pub(super) type Dump = BTreeMap<String, Vec<(Json, Vec<u8>)>>;

/// Every row of every table of `schema`, raw.
pub(super) fn dump(store: &Store, schema: &Schema) -> Dump {
    let rtxn = store.begin_read().expect("read");
    let mut out = BTreeMap::new();
    for spec in schema.tables {
        let mut rows = Vec::new();
        registry::export(&rtxn, spec, |k, v| {
            rows.push((k, v.to_vec()));
            Ok(())
        })
        .expect("export");
        out.insert(spec.name.to_owned(), rows);
    }
    out
}

pub(super) fn blob_contents(blobs: &Blobs) -> BTreeMap<String, Vec<u8>> {
    blobs
        .list()
        .expect("list")
        .into_iter()
        .map(|sha| {
            let bytes = std::fs::read(blobs.path_of(&sha).expect("path")).expect("read blob");
            (sha, bytes)
        })
        .collect()
}

/// Every file and directory below `dir` with the sha256 of files.
pub(super) fn hash_tree(dir: &Path) -> BTreeMap<PathBuf, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, String>) {
        for e in std::fs::read_dir(dir).expect("read_dir") {
            let e = e.expect("entry");
            let p = e.path();
            let rel = p.strip_prefix(root).expect("prefix").to_path_buf();
            if e.file_type().expect("type").is_dir() {
                out.insert(rel, "dir".into());
                walk(root, &p, out);
            } else {
                let bytes = std::fs::read(&p).expect("read");
                out.insert(rel, hex::encode(Sha256::digest(&bytes)));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// A populated, closed data directory and a good archive of it.
pub(super) struct Fixture {
    pub tmp: tempfile::TempDir,
    pub live: PathBuf,
    pub archive: PathBuf,
    pub dump: Dump,
    pub blobs: BTreeMap<String, Vec<u8>>,
}

pub(super) fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().expect("tempdir");
    let live = tmp.path().join("data");
    let archive = tmp.path().join("good.zip");
    let (store, blobs) = open(&live, test_schema());
    populate(&store, &blobs);
    super::backup_to_file(&store, &blobs, &archive).expect("backup");
    let dump = dump(&store, test_schema());
    let contents = blob_contents(&blobs);
    close(store, &live);
    std::fs::create_dir_all(live.join("index")).expect("index dir");
    std::fs::write(live.join("index").join("meta.json"), b"{}").expect("index file");
    Fixture { tmp, live, archive, dump, blobs: contents }
}

/// Reopen `dir` and compare with the fixture's data.
pub(super) fn assert_same_data(dir: &Path, dump_expected: &Dump, blobs_expected: &BTreeMap<String, Vec<u8>>) {
    let (store, blobs) = open(dir, test_schema());
    assert_eq!(&dump(&store, test_schema()), dump_expected, "every row of every table");
    assert_eq!(&blob_contents(&blobs), blobs_expected, "every blob");
    close(store, dir);
}
