//! Registry coverage, scheduled backups, `check`, and the jsonl line codec.

use super::*;
use crate::platform::backup::jsonl::{parse_line, write_line, KeyVal};
use crate::platform::backup::{
    backup_name, backup_path, check, check_redb_integrity, create_backup, is_backup_name, list_backups, run_scheduled,
};
use crate::platform::clock::Clock;
use redb::TableHandle;

/// Every table that exists in a database is in the registry, so backups cannot silently miss
/// one. Features extend this test by writing to their tables before listing.
#[test]
fn registry_covers_every_table() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (store, blobs) = {
        let (s, _) = Store::open(tmp.path(), &SCHEMA, ManualClock::new(T0), &|_| Ok(())).expect("open");
        (s, Blobs::open(tmp.path().join("blobs")).expect("blobs"))
    };
    put_blob(&store, &blobs, b"x");
    let rtxn = store.begin_read().expect("read");
    let registered: Vec<&str> = SCHEMA.tables.iter().map(|t| t.name).collect();
    let mut existing = Vec::new();
    for t in rtxn.list_tables().expect("list") {
        existing.push(t.name().to_owned());
    }
    for name in &existing {
        assert!(registered.contains(&name.as_str()), "table {name} exists but is not in src/schema.rs");
    }
    assert_eq!(rtxn.list_multimap_tables().expect("list").count(), 0, "no multimap tables are backed up");
    for name in &registered {
        assert!(existing.iter().any(|e| e == name), "registered table {name} was not created");
    }
    let mut names = std::collections::HashSet::new();
    assert!(registered.iter().all(|n| names.insert(*n)), "table names are unique");
    drop(rtxn);
    let m = create_backup(&store, &blobs, std::io::Cursor::new(Vec::new())).expect("backup");
    assert_eq!(m.tables.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), registered);
    close(store, tmp.path());
}

#[test]
fn scheduled_backups_are_named_pruned_and_listed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("data");
    let clock = ManualClock::new(T0);
    let (store, _) = Store::open(&dir, test_schema(), clock.clone(), &|_| Ok(())).expect("open");
    let blobs = Blobs::open(dir.join("blobs")).expect("blobs");
    populate(&store, &blobs);
    let backups = dir.join("backups");
    std::fs::create_dir_all(&backups).expect("mkdir");
    std::fs::write(backups.join("manual.zip"), b"an admin's own file").expect("write");
    let mut made = Vec::new();
    for _ in 0..3 {
        let path = run_scheduled(&store, &blobs, &backups, 2).expect("scheduled");
        made.push(path.file_name().expect("name").to_string_lossy().into_owned());
        clock.advance_ms(86_400_000);
    }
    assert_eq!(made[0], "officebox-20250102-030405.zip");
    assert_eq!(made[2], "officebox-20250104-030405.zip");
    let listed = list_backups(&backups).expect("list");
    let names: Vec<&str> = listed.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, [made[2].as_str(), made[1].as_str()], "newest first, oldest pruned");
    assert_eq!(listed[0].created_at, T0 + 2 * 86_400_000);
    assert!(listed.iter().all(|b| b.size > 0 && b.size == std::fs::metadata(backups.join(&b.name)).expect("m").len()));
    assert!(backups.join("manual.zip").exists(), "other files are never pruned");
    assert_eq!(backup_path(&backups, &made[2]).expect("path"), backups.join(&made[2]));
    for name in [
        made[0].as_str(),
        "manual.zip",
        "../data.redb",
        "officebox-20250102-030405.zip/",
        "officebox-20251302-030405.zip",
        "officebox-2025010-0030405.zip",
        "officebox-20250102-030405.zip.part",
        "/etc/passwd",
    ] {
        let e = backup_path(&backups, name).expect_err(name);
        assert_eq!(e.code, "not_found", "{name}");
    }
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("/etc/passwd", backups.join("officebox-20200101-000000.zip")).expect("symlink");
        assert!(backup_path(&backups, "officebox-20200101-000000.zip").is_err(), "symlinks are not served");
        assert_eq!(list_backups(&backups).expect("list").len(), 2);
    }
    assert!(is_backup_name("officebox-20250102-030405.zip"));
    assert_eq!(backup_name(clock.now_ms()), "officebox-20250105-030405.zip");
    assert!(list_backups(&tmp.path().join("nope")).expect("missing dir").is_empty());
    close(store, &dir);
}

#[test]
fn check_reports_bad_rows_and_blob_problems() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("data");
    let (store, blobs) = open(&dir, test_schema());
    let shas = populate(&store, &blobs);
    let r = check(&store, &blobs).expect("check");
    assert!(r.ok, "{r:?}");
    assert_eq!(r.tables.len(), test_schema().tables.len());
    assert_eq!(r.tables.iter().find(|t| t.name == T_STR.name).expect("t").rows, 12);
    assert!(r.missing_blobs.is_empty() && r.damaged_blobs.is_empty() && r.orphan_blobs.is_empty());

    // An orphan is reported but is not an error.
    let orphan = blobs.put_reader(&b"nobody refers to me"[..], u64::MAX, "").expect("put").sha256;
    let r = check(&store, &blobs).expect("check");
    assert!(r.ok);
    assert_eq!(r.orphan_blobs, [orphan]);

    let missing = "f".repeat(64);
    let m = missing.clone();
    store.write_blocking(move |tx| blobs::add_ref(tx, &m)).expect("ref");
    std::fs::write(blobs.path_of(&shas[1]).expect("path"), b"tampered").expect("damage");
    store
        .write_blocking(|tx| {
            registry::import(tx.txn, &T_U64, &json!(424242), b"{not json")?;
            let stray: redb::TableDefinition<u64, u64> = redb::TableDefinition::new("stray_unregistered");
            tx.txn.open_table(stray)?.insert(1, 1)?;
            Ok(())
        })
        .expect("bad row");
    let r = check(&store, &blobs).expect("check");
    assert!(!r.ok);
    assert_eq!(r.missing_blobs, [missing]);
    assert_eq!(r.damaged_blobs, [shas[1].clone()]);
    assert_eq!(r.bad_row_count, 1);
    assert_eq!((r.bad_rows[0].table.as_str(), &r.bad_rows[0].key), (T_U64.name, &json!(424242)));
    assert_eq!(r.unregistered_tables, ["stray_unregistered"]);

    let db = dir.join("data.redb");
    assert_eq!(check_redb_integrity(&db).expect_err("in use").code, "unavailable");
    close(store, &dir);
    assert!(check_redb_integrity(&db).expect("integrity"));
}

#[test]
fn jsonl_lines_keep_values_byte_for_byte() {
    let mut out = Vec::new();
    write_line(&mut out, &json!([1, 2]), br#"{"b":1,"a":[1.50,"x"]}"#).expect("write");
    assert_eq!(out, b"{\"k\":[1,2],\"v\":{\"b\":1,\"a\":[1.50,\"x\"]}}\n");
    let (k, v) = parse_line(&out[..out.len() - 1]).expect("parse");
    assert_eq!((k, &*v), (json!([1, 2]), &br#"{"b":1,"a":[1.50,"x"]}"#[..]));
    for value in [&b"12"[..], b"-0.5", b"true", b"null", b"\"s\"", b"[]"] {
        let mut out = Vec::new();
        write_line(&mut out, &json!("key"), value).expect("write");
        let (_, v) = parse_line(&out[..out.len() - 1]).expect("parse");
        assert_eq!(&*v, value);
    }
    // Whitespace and line breaks in a stored value are re-encoded compactly.
    let mut out = Vec::new();
    write_line(&mut out, &json!(1), b" {\"a\":\n 1} ").expect("write");
    assert_eq!(out, b"{\"k\":1,\"v\":{\"a\":1}}\n");
    assert!(write_line(&mut Vec::new(), &json!(1), b"{nope").is_err());
    // Other spellings of the same object are accepted.
    let (k, v) = parse_line(br#"{ "v" : [1] , "k" : 3 }"#).expect("loose");
    assert_eq!((k, &*v), (json!(3), &b"[1]"[..]));
    assert!(parse_line(br#"{"k":1}"#).is_err());
    assert!(parse_line(br#"{"k":1,"v":2} x"#).is_err());
    assert!(KeyVal::Str("a".into()) < KeyVal::Str("b".into()));
    assert!(KeyVal::U64x2(1, u64::MAX) < KeyVal::U64x2(2, 0));
    assert_eq!(KeyVal::from_json(KeyKind::U64x3, &json!([1, 2])), None);
    assert_eq!(KeyVal::from_json(KeyKind::U64, &json!(-1)), None);
}
