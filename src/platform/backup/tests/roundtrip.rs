use super::*;
use crate::platform::backup::restore::{restore_with, stage_with, StagingGuard, FAIL_AT};
use crate::platform::backup::verify::verify_with;
use crate::platform::backup::{apply_pending_restore, backup_to_file, create_backup, Limits, FORMAT, FORMAT_VERSION};

fn restore(archive: &Path, dir: &Path) -> crate::error::AppResult<super::super::Manifest> {
    restore_with(archive, dir, &Limits::default(), test_schema())
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".restore"))
        .collect()
}

#[test]
fn round_trip_restores_every_row_and_blob() {
    let f = fixture();
    std::fs::remove_file(f.live.join("data.redb")).expect("wipe db");
    std::fs::remove_dir_all(f.live.join("blobs")).expect("wipe blobs");
    let m = restore(&f.archive, &f.live).expect("restore");
    assert_eq!(m.blobs.len(), 4);
    assert_same_data(&f.live, &f.dump, &f.blobs);
    assert!(!f.live.join("index").exists(), "the search index is dropped so it is rebuilt");
    assert!(leftovers(&f.live).is_empty(), "{:?}", leftovers(&f.live));
}

#[test]
fn restore_replaces_newer_live_data() {
    let f = fixture();
    let (store, blobs) = open(&f.live, test_schema());
    put_row(&store, T_U64, json!(77), json!("written after the backup"));
    put_blob(&store, &blobs, b"a blob made after the backup");
    close(store, &f.live);
    restore(&f.archive, &f.live).expect("restore");
    assert_same_data(&f.live, &f.dump, &f.blobs);
}

#[test]
fn manifest_describes_the_archive() {
    let f = fixture();
    let m = verify_with(&f.archive, &Limits::default(), test_schema()).expect("verify");
    assert_eq!((m.format.as_str(), m.format_version), (FORMAT, FORMAT_VERSION));
    assert_eq!(m.app_version, env!("CARGO_PKG_VERSION"));
    assert_eq!(m.schema_version, test_schema().version);
    assert_eq!(m.created_at, T0);
    // one seq per populate write: 5 + 4 + 3 + 12 rows, 5 blob references
    assert_eq!(m.seq, 24);
    let names: Vec<&str> = m.tables.iter().map(|t| t.name.as_str()).collect();
    let expected: Vec<&str> = test_schema().tables.iter().map(|t| t.name).collect();
    assert_eq!(names, expected, "every registered table, in registry order");
    for t in &m.tables {
        assert_eq!(t.rows as usize, f.dump[&t.name].len(), "rows of {}", t.name);
        assert_eq!(t.entry, format!("tables/{}.jsonl", t.name));
    }
    let mut shas: Vec<&String> = f.blobs.keys().collect();
    shas.sort();
    assert_eq!(m.blobs.iter().map(|b| &b.sha256).collect::<Vec<_>>(), shas);
    assert!(m.blobs.iter().all(|b| b.size == f.blobs[&b.sha256].len() as u64));
    // The lines are exactly {"k":KEY,"v":VALUE} with the stored bytes.
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&f.archive).expect("open")).expect("zip");
    let mut text = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("tables/backup_test_pair.jsonl").expect("entry"), &mut text)
        .expect("read");
    assert_eq!(text.lines().next(), Some("{\"k\":[1,2],\"v\":[1,2,null,true]}"));
    assert_eq!(
        zip.by_name(&format!("blobs/{}", m.blobs[0].sha256)).expect("blob").compression(),
        zip::CompressionMethod::Stored
    );
}

#[test]
fn backup_during_concurrent_writes_is_consistent() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("data");
    let (store, blobs) = open(&dir, test_schema());
    // Every write takes the next seq and stores a row under it: a consistent snapshot at seq S
    // holds exactly the rows 1..=S.
    let writers: Vec<_> = (0..2)
        .map(|_| {
            let store = store.clone();
            std::thread::spawn(move || {
                for _ in 0..400 {
                    store
                        .write_blocking(|tx| {
                            let s = tx.next_seq()?;
                            registry::import(tx.txn, &T_U64, &json!(s), format!("{{\"seq\":{s}}}").as_bytes())
                        })
                        .expect("write");
                }
            })
        })
        .collect();
    let mut seqs = Vec::new();
    for i in 0..4 {
        let path = tmp.path().join(format!("b{i}.zip"));
        let m = backup_to_file(&store, &blobs, &path).expect("backup");
        let verified = verify_with(&path, &Limits::default(), test_schema()).expect("verify");
        assert_eq!(verified, m);
        let rows = m.tables.iter().find(|t| t.name == T_U64.name).expect("table").rows;
        assert_eq!(rows, m.seq, "rows in the snapshot = its seq");
        let restored = tmp.path().join(format!("r{i}"));
        restore_with(&path, &restored, &Limits::default(), test_schema()).expect("restore");
        let (rs, _) = open(&restored, test_schema());
        let keys: Vec<u64> =
            dump(&rs, test_schema())[T_U64.name].iter().map(|(k, _)| k.as_u64().expect("u64")).collect();
        assert_eq!(keys, (1..=m.seq).collect::<Vec<_>>());
        assert_eq!(crate::platform::store::meta::current_seq(&rs.begin_read().expect("read")).expect("seq"), m.seq);
        close(rs, &restored);
        seqs.push(m.seq);
    }
    for w in writers {
        w.join().expect("writer");
    }
    eprintln!("snapshot seqs while writing: {seqs:?}");
    close(store, &dir);
}

#[test]
fn failure_before_the_swap_leaves_live_data_identical() {
    for point in ["before_commit", "after_blobs", "before_marker"] {
        let f = fixture();
        let before = hash_tree(&f.live);
        FAIL_AT.with(|c| c.set(Some(point)));
        let r = restore(&f.archive, &f.live);
        FAIL_AT.with(|c| c.set(None));
        assert!(r.is_err(), "{point}");
        assert_eq!(hash_tree(&f.live), before, "live data changed after a failure at {point}");
        assert!(!apply_pending_restore(&f.live).expect("apply"), "nothing pending after {point}");
    }
}

#[test]
fn an_interrupted_swap_is_finished_at_the_next_start() {
    for point in ["before_swap", "mid_swap"] {
        let f = fixture();
        FAIL_AT.with(|c| c.set(Some(point)));
        let r = restore(&f.archive, &f.live);
        FAIL_AT.with(|c| c.set(None));
        assert!(r.is_err(), "{point}");
        assert!(f.live.join(".restore-pending").exists());
        assert!(apply_pending_restore(&f.live).expect("apply"), "{point}");
        assert_same_data(&f.live, &f.dump, &f.blobs);
        assert!(leftovers(&f.live).is_empty(), "{point}: {:?}", leftovers(&f.live));
        assert!(!apply_pending_restore(&f.live).expect("apply again"));
    }
}

#[test]
fn staged_restore_while_the_server_runs_applies_at_start_up() {
    let f = fixture();
    let (store, blobs) = open(&f.live, test_schema());
    put_row(&store, T_STR, json!("after"), json!("changed after the backup"));
    stage_with(&f.archive, &f.live, &Limits::default(), test_schema()).expect("stage");
    // The running server still sees its own data.
    assert!(dump(&store, test_schema())[T_STR.name].iter().any(|(k, _)| k == "after"));
    assert!(crate::platform::store::lock_data_dir(&f.live).is_err(), "the server holds the lock");
    drop(blobs);
    close(store, &f.live);
    assert!(apply_pending_restore(&f.live).expect("apply"));
    assert_same_data(&f.live, &f.dump, &f.blobs);
}

#[test]
fn older_schema_archive_is_migrated_on_restore() {
    let (v1, v2) = versioned_schemas();
    let tmp = tempfile::tempdir().expect("tempdir");
    let (old_dir, new_dir, archive) = (tmp.path().join("old"), tmp.path().join("new"), tmp.path().join("v1.zip"));
    let (store, blobs) = open(&old_dir, v1);
    populate(&store, &blobs);
    let m = backup_to_file(&store, &blobs, &archive).expect("backup");
    assert_eq!(m.schema_version, 1);
    close(store, &old_dir);
    restore_with(&archive, &new_dir, &Limits::default(), v2).expect("restore");
    let (store, _) = open(&new_dir, v2);
    let rtxn = store.begin_read().expect("read");
    assert_eq!(crate::platform::store::meta::schema_version(&rtxn).expect("version"), Some(2));
    assert!(dump(&store, v2)[T_STR.name].iter().any(|(k, v)| k == "migrated" && v == b"true"));
    drop(rtxn);
    close(store, &new_dir);
}

#[test]
fn backup_refuses_missing_or_damaged_blobs_and_leaves_no_part_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("data");
    let (store, blobs) = open(&dir, test_schema());
    let sha = put_blob(&store, &blobs, b"soon damaged");
    std::fs::write(blobs.path_of(&sha).expect("path"), b"damaged!").expect("damage");
    let out = tmp.path().join("out");
    std::fs::create_dir(&out).expect("mkdir");
    let e = backup_to_file(&store, &blobs, &out.join("b.zip")).expect_err("damaged blob");
    assert_eq!(e.code, "backup_failed");
    assert!(e.message.contains("damaged"), "{}", e.message);
    std::fs::remove_file(blobs.path_of(&sha).expect("path")).expect("remove");
    let e = backup_to_file(&store, &blobs, &out.join("b.zip")).expect_err("missing blob");
    assert!(e.message.contains("cannot be opened"), "{}", e.message);
    assert_eq!(std::fs::read_dir(&out).expect("ls").count(), 0, "no partial archive is left");
    // An existing file is never replaced.
    let mut w = std::io::Cursor::new(Vec::new());
    assert!(create_backup(&store, &blobs, &mut w).is_err());
    std::fs::write(out.join("exists.zip"), b"keep me").expect("write");
    store.write_blocking(move |tx| blobs::release_ref(tx, &sha)).expect("release");
    let e = backup_to_file(&store, &blobs, &out.join("exists.zip")).expect_err("exists");
    assert_eq!(e.code, "file_exists");
    assert_eq!(std::fs::read(out.join("exists.zip")).expect("read"), b"keep me");
    close(store, &dir);
}

#[test]
fn one_staging_at_a_time_per_data_dir() {
    let f = fixture();
    let before = hash_tree(&f.live);
    let busy = StagingGuard::take(&f.live).expect("first");
    let e = stage_with(&f.archive, &f.live, &Limits::default(), test_schema()).expect_err("busy");
    assert_eq!(e.code, "restore_in_progress");
    assert_eq!(hash_tree(&f.live), before);
    drop(busy);
    stage_with(&f.archive, &f.live, &Limits::default(), test_schema()).expect("free again");
    assert!(apply_pending_restore(&f.live).expect("apply"));
    assert_same_data(&f.live, &f.dump, &f.blobs);
}
