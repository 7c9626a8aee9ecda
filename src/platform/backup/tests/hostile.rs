//! Damaged and hostile archives: each is refused with a message naming the reason, and the live
//! data directory stays byte-identical.

use super::*;
use crate::platform::backup::restore::restore_with;
use crate::platform::backup::verify::verify_with;
use crate::platform::backup::Limits;
use std::io::Write;
use zip::write::SimpleFileOptions;

type Entries = Vec<(String, Vec<u8>)>;

fn read_entries(path: &Path) -> Entries {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).expect("open")).expect("zip");
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index(i).expect("entry");
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut f, &mut bytes).expect("read");
            (f.name().to_owned(), bytes)
        })
        .collect()
}

fn opts(name: &str) -> SimpleFileOptions {
    let method =
        if name.starts_with("blobs/") { zip::CompressionMethod::Stored } else { zip::CompressionMethod::Deflated };
    SimpleFileOptions::default().compression_method(method).unix_permissions(0o600)
}

fn write_entries(path: &Path, entries: &Entries) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).expect("create"));
    for (name, bytes) in entries {
        zip.start_file(name.as_str(), opts(name)).expect("start");
        zip.write_all(bytes).expect("write");
    }
    zip.finish().expect("finish");
}

fn manifest(entries: &mut Entries) -> &mut Vec<u8> {
    &mut entries.iter_mut().find(|(n, _)| n == "manifest.json").expect("manifest").1
}

fn edit_manifest(entries: &mut Entries, f: impl FnOnce(&mut Json)) {
    let m = manifest(entries);
    let mut v: Json = serde_json::from_slice(m).expect("json");
    f(&mut v);
    *m = serde_json::to_vec(&v).expect("json");
}

/// Replace a table entry's content and make the manifest agree (sha, size, rows).
fn replace_table(entries: &mut Entries, table: &str, content: &[u8], rows: u64) {
    let entry = format!("tables/{table}.jsonl");
    entries.iter_mut().find(|(n, _)| *n == entry).expect("table").1 = content.to_vec();
    let (sha, size) = (hex::encode(Sha256::digest(content)), content.len());
    edit_manifest(entries, |m| {
        let t = m["tables"].as_array_mut().expect("tables").iter_mut().find(|t| t["name"] == table).expect("t");
        t["sha256"] = json!(sha);
        t["size"] = json!(size);
        t["rows"] = json!(rows);
    });
}

/// Restore `bad` over the live data: refused with `code` and a message containing `needle`,
/// and not one byte of the live directory changes.
fn refused(f: &Fixture, bad: &Path, limits: &Limits, schema: &'static Schema, code: &str, needle: &str) {
    let before = hash_tree(&f.live);
    let e = restore_with(bad, &f.live, limits, schema).expect_err(needle);
    assert_eq!(e.code, code, "{}", e.message);
    assert!(e.message.contains(needle), "expected {needle:?} in {:?}", e.message);
    assert_eq!(hash_tree(&f.live), before, "live data changed ({needle})");
}

fn variant(f: &Fixture, name: &str, edit: impl FnOnce(&mut Entries)) -> PathBuf {
    let mut entries = read_entries(&f.archive);
    edit(&mut entries);
    let path = f.tmp.path().join(name);
    write_entries(&path, &entries);
    path
}

fn bytes_variant(f: &Fixture, name: &str, edit: impl FnOnce(&mut Vec<u8>)) -> PathBuf {
    let mut bytes = std::fs::read(&f.archive).expect("read");
    edit(&mut bytes);
    let path = f.tmp.path().join(name);
    std::fs::write(&path, bytes).expect("write");
    path
}

#[test]
fn damaged_archives_are_refused() {
    let f = fixture();
    let s = test_schema();
    let d = Limits::default();
    let bad = "invalid_archive";
    // The untouched archive passes (so every refusal below is about the damage).
    verify_with(&f.archive, &d, s).expect("the good archive verifies");
    let p = bytes_variant(&f, "random.zip", |b| *b = (0..5000u32).map(|i| (i * 7919 % 251) as u8).collect());
    refused(&f, &p, &d, s, bad, "not a zip archive");
    let p = bytes_variant(&f, "empty.zip", |b| b.clear());
    refused(&f, &p, &d, s, bad, "too short");
    let len = std::fs::metadata(&f.archive).expect("meta").len() as usize;
    for cut in [len / 2, len - 1, len - 22, 100] {
        let p = bytes_variant(&f, "truncated.zip", |b| b.truncate(cut));
        refused(&f, &p, &d, s, bad, "truncated");
    }
    // A flipped byte inside the big stored blob: the crc (and sha256) no longer match.
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&f.archive).expect("open")).expect("zip");
    let mut at = 0;
    for i in 0..zip.len() {
        let e = zip.by_index_raw(i).expect("entry");
        if e.size() > 100_000 {
            at = (e.data_start() + e.size() / 2) as usize;
        }
    }
    assert!(at > 0, "the big blob");
    let p = bytes_variant(&f, "flipped.zip", |b| b[at] ^= 0x01);
    refused(&f, &p, &d, s, bad, "damaged");
    // Content replaced with a valid zip crc but a different sha256.
    let p = variant(&f, "sha.zip", |e| {
        e.iter_mut().find(|(n, b)| n.starts_with("blobs/") && !b.is_empty()).expect("blob").1[0] ^= 1;
    });
    refused(&f, &p, &d, s, bad, "sha256 does not match");
    let p = variant(&f, "size.zip", |e| {
        e.iter_mut()
            .find(|(n, _)| n == "tables/backup_test_u64.jsonl")
            .expect("t")
            .1
            .extend_from_slice(b"{\"k\":5,\"v\":1}\n");
    });
    refused(&f, &p, &d, s, bad, "more than the");
    let p = variant(&f, "rows.zip", |e| replace_table(e, T_U64.name, b"{\"k\":1,\"v\":1}\n", 2));
    refused(&f, &p, &d, s, bad, "rows");
}

#[test]
fn malformed_rows_are_refused() {
    let f = fixture();
    let (s, d, bad) = (test_schema(), Limits::default(), "invalid_archive");
    let cases: [(&str, &[u8], &str); 7] = [
        ("not_json", b"not json\n", "line 1"),
        ("unterminated", b"{\"k\":1,\"v\":1}", "not terminated"),
        ("order", b"{\"k\":2,\"v\":1}\n{\"k\":1,\"v\":1}\n", "strictly increasing"),
        ("dup_key", b"{\"k\":2,\"v\":1}\n{\"k\":2,\"v\":1}\n", "strictly increasing"),
        ("key_kind", b"{\"k\":\"x\",\"v\":1}\n", "does not fit"),
        ("extra_field", b"{\"k\":1,\"v\":1,\"x\":2}\n", "exactly the fields"),
        ("bad_value", b"{\"k\":1,\"v\":nope}\n", "line 1"),
    ];
    for (name, content, needle) in cases {
        let p = variant(&f, name, |e| replace_table(e, T_U64.name, content, 1));
        refused(&f, &p, &d, s, bad, needle);
    }
    let p = variant(&f, "long.zip", |e| {
        replace_table(e, T_U64.name, format!("{{\"k\":1,\"v\":\"{}\"}}\n", "x".repeat(200)).as_bytes(), 1)
    });
    refused(&f, &p, &Limits { max_line_bytes: 100, ..Limits::default() }, s, bad, "longer than");
    let p = variant(&f, "meta_seq.zip", |e| edit_manifest(e, |m| m["seq"] = json!(999)));
    refused(&f, &p, &d, s, bad, "disagrees with the manifest");
}

#[test]
fn hostile_entries_are_refused() {
    let f = fixture();
    let (s, d, bad) = (test_schema(), Limits::default(), "invalid_archive");
    let add = |name: &'static str| move |e: &mut Entries| e.insert(0, (name.to_owned(), b"evil".to_vec()));
    for (name, needle) in [
        ("../evil", "\"..\""),
        ("blobs/../../evil", "\"..\""),
        ("/etc/evil", "absolute path"),
        ("C:/evil", "absolute path"),
        ("blobs\\evil", "backslash"),
        ("blobs//evil", "empty or \".\""),
        ("unexpected.txt", "unexpected entry"),
    ] {
        let p = variant(&f, "slip.zip", add(name));
        refused(&f, &p, &d, s, bad, needle);
    }
    let p = f.tmp.path().join("symlink.zip");
    {
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&p).expect("create"));
        for (name, bytes) in read_entries(&f.archive) {
            zip.start_file(name.as_str(), opts(&name)).expect("start");
            zip.write_all(&bytes).expect("write");
        }
        zip.add_symlink("blobs/evil", "/etc/passwd", SimpleFileOptions::default()).expect("symlink");
        zip.finish().expect("finish");
    }
    refused(&f, &p, &d, s, bad, "symbolic link");
    let p = f.tmp.path().join("dir.zip");
    {
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&p).expect("create"));
        zip.add_directory("tables/sub", SimpleFileOptions::default()).expect("dir");
        zip.finish().expect("finish");
    }
    refused(&f, &p, &d, s, bad, "directory");
    // Two entries with one name: written under different names, then patched to the same one.
    let p = variant(&f, "dup.zip", |e| {
        let m = manifest(e).clone();
        e.push(("manifest.jsoX".into(), m));
    });
    let mut bytes = std::fs::read(&p).expect("read");
    let mut at = 0;
    while let Some(i) = bytes[at..].windows(13).position(|w| w == b"manifest.jsoX") {
        bytes[at + i + 12] = b'n';
        at += i + 13;
    }
    std::fs::write(&p, bytes).expect("write");
    refused(&f, &p, &d, s, bad, "duplicate entry");
}

#[test]
fn oversized_archives_and_bombs_are_refused() {
    let f = fixture();
    let (s, bad) = (test_schema(), "invalid_archive");
    refused(&f, &f.archive, &Limits { max_entry_bytes: 100_000, ..Limits::default() }, s, bad, "over the limit");
    refused(&f, &f.archive, &Limits { max_total_bytes: 300_000, ..Limits::default() }, s, bad, "expands to more than");
    refused(&f, &f.archive, &Limits { max_entries: 3, ..Limits::default() }, s, bad, "claims");
    let p = f.tmp.path().join("bomb.zip");
    {
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&p).expect("create"));
        let o =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated).unix_permissions(0o600);
        zip.start_file(format!("blobs/{}", "0".repeat(64)), o).expect("start");
        zip.write_all(&vec![0u8; 8 << 20]).expect("write");
        zip.finish().expect("finish");
    }
    refused(&f, &p, &Limits::default(), s, bad, "zip bomb");
}

#[test]
fn wrong_versions_and_manifests_are_refused() {
    let f = fixture();
    let (s, d, bad) = (test_schema(), Limits::default(), "invalid_archive");
    let p = variant(&f, "fv.zip", |e| edit_manifest(e, |m| m["format_version"] = json!(2)));
    refused(&f, &p, &d, s, "archive_too_new", "format version 2");
    let p = variant(&f, "sv.zip", |e| edit_manifest(e, |m| m["schema_version"] = json!(s.version + 1)));
    refused(&f, &p, &d, s, "archive_too_new", "schema version");
    let p = variant(&f, "format.zip", |e| edit_manifest(e, |m| m["format"] = json!("something-else")));
    refused(&f, &p, &d, s, bad, "not an OfficeBox backup");
    let p = variant(&f, "garbage.zip", |e| *manifest(e) = b"{oops".to_vec());
    refused(&f, &p, &d, s, bad, "manifest.json is not JSON");
    let p = variant(&f, "nomanifest.zip", |e| e.retain(|(n, _)| n != "manifest.json"));
    refused(&f, &p, &d, s, bad, "missing manifest.json");
    let p = variant(&f, "kind.zip", |e| edit_manifest(e, |m| m["tables"][0]["key_kind"] = json!("u64x3")));
    refused(&f, &p, &d, s, bad, "key kind");
    // Made with test tables, restored by a build that does not know them.
    refused(&f, &f.archive, &d, &crate::schema::SCHEMA, bad, "does not know");
}

#[test]
fn blob_mismatches_are_refused() {
    let f = fixture();
    let (s, d, bad) = (test_schema(), Limits::default(), "invalid_archive");
    let p = variant(&f, "noblob.zip", |e| {
        let i = e.iter().position(|(n, _)| n.starts_with("blobs/")).expect("blob");
        e.remove(i);
    });
    refused(&f, &p, &d, s, bad, "missing entry blobs/");
    let extra = hex::encode(Sha256::digest(b"extra"));
    let p = variant(&f, "extrablob.zip", |e| e.push((format!("blobs/{extra}"), b"extra".to_vec())));
    refused(&f, &p, &d, s, bad, "unexpected entry");
    let p = variant(&f, "unrefblob.zip", |e| {
        e.push((format!("blobs/{extra}"), b"extra".to_vec()));
        edit_manifest(e, |m| m["blobs"].as_array_mut().expect("blobs").push(json!({"sha256": extra, "size": 5})));
    });
    refused(&f, &p, &d, s, bad, "does not reference");
    let p = variant(&f, "unlisted.zip", |e| {
        let i = e.iter().position(|(n, _)| n.starts_with("blobs/")).expect("blob");
        e.remove(i);
        edit_manifest(e, |m| {
            m["blobs"].as_array_mut().expect("blobs").remove(0);
        });
    });
    refused(&f, &p, &d, s, bad, "referenced but missing");
}

/// Flip every byte of a small archive, one at a time: every damaged copy is refused, except
/// in the few header bytes that no reader uses for the content (listed and checked below).
#[test]
fn every_flipped_byte_is_noticed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("data");
    let (store, blobs) = open(&dir, test_schema());
    put_row(&store, T_PAIR, json!([1, 2]), json!({"a": "b"}));
    put_blob(&store, &blobs, b"small blob");
    let archive = tmp.path().join("small.zip");
    super::super::backup_to_file(&store, &blobs, &archive).expect("backup");
    close(store, &dir);
    let good = std::fs::read(&archive).expect("read");
    let probe = tmp.path().join("probe.zip");
    let mut unnoticed = Vec::new();
    for at in 0..good.len() {
        for mask in [0x01u8, 0xff] {
            let mut b = good.clone();
            b[at] ^= mask;
            std::fs::write(&probe, &b).expect("write");
            if verify_with(&probe, &Limits::default(), test_schema()).is_ok() {
                unnoticed.push((at, mask));
            }
        }
    }
    eprintln!("{} bytes, unnoticed flips: {unnoticed:?}", good.len());
    assert!(unnoticed.is_empty());
}

/// More than 65535 entries need the zip64 end records: the strict walk reads them, and
/// truncating or damaging them is refused.
#[test]
fn zip64_directories_are_walked() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("many.zip");
    {
        let file = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
        let mut zip = zip::ZipWriter::new(file);
        let o = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored).unix_permissions(0o600);
        for i in 0..65_540u32 {
            zip.start_file(format!("blobs/{i:064x}"), o).expect("start");
        }
        zip.start_file("tables/t.jsonl", o.large_file(true)).expect("start");
        zip.write_all(b"{\"k\":1,\"v\":1}\n").expect("write");
        zip.finish().expect("finish");
    }
    let walk = |p: &Path| {
        let mut f = std::fs::File::open(p).expect("open");
        crate::platform::backup::zipcheck::walk(&mut f, &Limits::default())
    };
    let entries = walk(&path).expect("zip64 walk");
    assert_eq!(entries.len(), 65_541);
    assert_eq!(entries.last().map(|e| (e.name.as_str(), e.size)), Some(("tables/t.jsonl", 14)));
    let good = std::fs::read(&path).expect("read");
    let probe = tmp.path().join("probe.zip");
    // The zip64 end record, its locator and the classic end record are the last 98 bytes.
    for back in 1..=98 {
        let mut b = good.clone();
        let at = b.len() - back;
        b[at] ^= 0x01;
        std::fs::write(&probe, &b).expect("write");
        assert!(walk(&probe).is_err(), "flip {back} bytes from the end");
    }
    std::fs::write(&probe, &good[..good.len() - 30]).expect("write");
    assert!(walk(&probe).is_err());
}
