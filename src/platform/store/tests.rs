//! Storage platform tests against a real redb file in a temp dir, using the app schema.

use super::*;
use crate::platform::clock::ManualClock;
use crate::platform::settings::SETTINGS;
use crate::schema::SCHEMA;
use std::sync::Arc;

fn open(dir: &std::path::Path) -> Store {
    Store::open(dir, &SCHEMA, ManualClock::new(1_000), &|_| Ok(())).expect("open").0
}

fn key(i: u64) -> String {
    format!("k{i}")
}

#[test]
fn concurrent_writes_share_commits_and_all_persist() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let before = store.stats().commits.load(Ordering::Relaxed);
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let s = store.clone();
            std::thread::spawn(move || {
                for i in 0..50u64 {
                    let k = key(t * 1000 + i);
                    s.write_blocking(move |tx| SETTINGS.open(tx.txn)?.put(&k, &serde_json::json!(i))).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let commits = store.stats().commits.load(Ordering::Relaxed) - before;
    let txn = store.begin_read().unwrap();
    for t in 0..16 {
        for i in 0..50 {
            assert_eq!(SETTINGS.get_in(&txn, &key(t * 1000 + i)).unwrap(), Some(serde_json::json!(i)));
        }
    }
    assert!(commits <= 800, "800 writes must not need more commits than writes ({commits})");
}

#[test]
fn a_failing_or_panicking_use_case_does_not_disturb_its_batch() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    // The first job holds the writer so the next ones queue up and run as one batch.
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let release_rx = Arc::new(parking_lot::Mutex::new(release_rx));
    let s = store.clone();
    let blocker = std::thread::spawn(move || {
        s.write_blocking(move |_tx| {
            let _ = release_rx.lock().recv_timeout(std::time::Duration::from_secs(5));
            Ok(())
        })
    });
    std::thread::sleep(std::time::Duration::from_millis(50));
    let spawn = |name: &'static str, outcome: u8| {
        let s = store.clone();
        std::thread::spawn(move || {
            s.write_blocking(move |tx| {
                SETTINGS.open(tx.txn)?.put(&name.to_owned(), &serde_json::json!(true))?;
                match outcome {
                    0 => Ok(tx.next_seq()?),
                    1 => Err(crate::error::AppError::conflict("nope", "refused")),
                    _ => panic!("use case bug"),
                }
            })
        })
    };
    let good1 = spawn("good1", 0);
    let bad = spawn("bad", 1);
    let boom = spawn("boom", 2);
    let good2 = spawn("good2", 0);
    std::thread::sleep(std::time::Duration::from_millis(50));
    release_tx.send(()).unwrap();
    blocker.join().unwrap().unwrap();
    let (s1, s2) = (good1.join().unwrap().unwrap(), good2.join().unwrap().unwrap());
    assert_eq!(bad.join().unwrap().unwrap_err().code, "nope");
    assert_eq!(boom.join().unwrap().unwrap_err().code, "internal");
    let txn = store.begin_read().unwrap();
    assert!(SETTINGS.get_in(&txn, &"good1".into()).unwrap().is_some());
    assert!(SETTINGS.get_in(&txn, &"good2".into()).unwrap().is_some());
    assert!(SETTINGS.get_in(&txn, &"bad".into()).unwrap().is_none(), "a failed use case leaves nothing behind");
    assert!(SETTINGS.get_in(&txn, &"boom".into()).unwrap().is_none());
    assert_eq!(s1.abs_diff(s2), 1, "the sequence stays gapless: {s1} {s2}");
    assert_eq!(meta::current_seq(&txn).unwrap(), s1.max(s2));
}

#[test]
fn the_data_directory_cannot_be_opened_twice() {
    let dir = tempfile::tempdir().unwrap();
    let _store = open(dir.path());
    let err = Store::open(dir.path(), &SCHEMA, ManualClock::new(0), &|_| Ok(())).err().expect("second open refused");
    assert!(err.message.contains("already in use"), "{}", err.message);
}

#[test]
fn a_newer_database_is_refused_and_an_older_one_migrates() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open(dir.path());
        store.write_blocking(|tx| meta::set_schema_version(tx.txn, SCHEMA.version + 1)).unwrap();
    }
    let err = Store::open(dir.path(), &SCHEMA, ManualClock::new(0), &|_| Ok(())).err().expect("refused");
    assert!(err.message.contains("newer officebox"), "{}", err.message);

    static MIGRATIONS: &[Migration] = &[Migration {
        version: 2,
        name: "mark",
        run: |txn| SETTINGS.open(txn)?.put(&"migrated".to_owned(), &serde_json::json!(true)),
    }];
    static V2: Schema =
        Schema { tables: crate::schema::TABLES, version: 2, migrations: MIGRATIONS, cleared_on_restore: &[] };
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open(dir.path());
        store.write_blocking(|tx| meta::set_schema_version(tx.txn, 1)).unwrap();
    } // dropping the store joins the writer and closes the file: reopening needs no wait
    let backed_up = std::sync::atomic::AtomicBool::new(false);
    let (store, state) = Store::open(dir.path(), &V2, ManualClock::new(0), &|_| {
        backed_up.store(true, Ordering::SeqCst);
        Ok(())
    })
    .unwrap();
    assert_eq!(state, SchemaState::Migrated(1));
    assert!(backed_up.load(Ordering::SeqCst), "a backup is taken before migrating");
    let txn = store.begin_read().unwrap();
    assert_eq!(meta::schema_version(&txn).unwrap(), Some(2));
    assert!(SETTINGS.get_in(&txn, &"migrated".into()).unwrap().is_some());
}
