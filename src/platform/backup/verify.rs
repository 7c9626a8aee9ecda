//! Verifying an archive without touching anything: structure, manifest, every byte of every entry.

use super::jsonl::{parse_line, KeyVal, LineReader};
use super::{
    archive_too_new, blob_entry_name, invalid_archive, key_kind_name, table_entry_name, zipcheck, Limits, Manifest,
    TableEntry, FORMAT, FORMAT_VERSION, MANIFEST_NAME,
};
use crate::error::AppResult;
use crate::platform::blobs::{is_valid_hash, BLOB_REFS};
use crate::platform::store::{meta, Schema, TableSpec};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

pub(crate) type Zip = zip::ZipArchive<BufReader<File>>;

/// An archive whose structure and manifest passed; entries not read yet.
pub(crate) struct Opened {
    pub manifest: Manifest,
    pub zip: Zip,
    /// entry name -> index in `zip`
    pub index: HashMap<String, usize>,
}

impl Opened {
    pub(crate) fn entry(&mut self, name: &str) -> AppResult<zip::read::ZipFile<'_, BufReader<File>>> {
        let i = *self.index.get(name).ok_or_else(|| invalid_archive(format!("missing entry {name}")))?;
        self.zip.by_index(i).map_err(|e| invalid_archive(format!("entry {name} is damaged: {e}")))
    }
}

/// Check an archive completely (every byte is read and hashed) before anything is touched.
/// Refuses with `invalid_archive` or `archive_too_new` (422) and a message saying what is wrong.
pub fn verify_archive(path: &Path, limits: &Limits) -> AppResult<Manifest> {
    verify_with(path, limits, &crate::schema::SCHEMA)
}

pub(crate) fn verify_with(path: &Path, limits: &Limits, schema: &Schema) -> AppResult<Manifest> {
    let mut o = open_checked(path, limits, schema)?;
    let manifest = o.manifest.clone();
    let mut blob_set: HashSet<&str> = manifest.blobs.iter().map(|b| b.sha256.as_str()).collect();
    for t in &manifest.tables {
        let spec = spec_of(schema, &t.name)?;
        let mut sink = |key: &KeyVal, value: &[u8]| check_row(&manifest, &mut blob_set, spec, key, value);
        read_table(&mut o, t, spec, limits, &mut sink)?;
    }
    if let Some(sha) = blob_set.iter().next() {
        return Err(invalid_archive(format!("the archive contains blob {sha}, which blob_refs does not reference")));
    }
    for b in &manifest.blobs {
        let name = blob_entry_name(&b.sha256);
        let entry = o.entry(&name)?;
        hash_entry(entry, &name, b.size, &b.sha256)?;
    }
    Ok(manifest)
}

/// Cross-table checks done while a row streams past: the meta row agrees with the manifest, and
/// every referenced blob is in the archive (ticked off from `blob_set`).
fn check_row(
    m: &Manifest,
    blob_set: &mut HashSet<&str>,
    spec: &TableSpec,
    key: &KeyVal,
    value: &[u8],
) -> AppResult<()> {
    let KeyVal::Str(key) = key else { return Ok(()) };
    if spec.name == meta::META.name() {
        let v: Json = serde_json::from_slice(value).unwrap_or(Json::Null);
        let disagrees = match key.as_str() {
            "seq" => v.as_u64() != Some(m.seq),
            "schema_version" => v.as_u64() != Some(u64::from(m.schema_version)),
            _ => false,
        };
        if disagrees {
            return Err(invalid_archive(format!("the meta row {key:?} disagrees with the manifest")));
        }
    } else if spec.name == BLOB_REFS.name() {
        let sha = key.as_str();
        let listed = m.blobs.iter().any(|b| b.sha256 == sha);
        if !listed {
            return Err(invalid_archive(format!("blob {sha} is referenced but missing from the archive")));
        }
        blob_set.remove(sha);
    }
    Ok(())
}

pub(crate) fn spec_of<'s>(schema: &'s Schema, name: &str) -> AppResult<&'s TableSpec> {
    schema.tables.iter().find(|s| s.name == name).ok_or_else(|| {
        invalid_archive(format!(
            "the archive has table {name:?}, which this OfficeBox does not know (made by another build?)"
        ))
    })
}

fn open_file(path: &Path) -> AppResult<File> {
    let file = File::open(path).map_err(|e| invalid_archive(format!("cannot open {}: {e}", path.display())))?;
    match file.metadata() {
        Ok(m) if m.is_file() => Ok(file),
        _ => Err(invalid_archive(format!("{} is not a regular file", path.display()))),
    }
}

/// Structure, manifest and entry names; no entry content yet.
pub(crate) fn open_checked(path: &Path, limits: &Limits, schema: &Schema) -> AppResult<Opened> {
    let mut file = open_file(path)?;
    let raw = zipcheck::walk(&mut file, limits)?;
    let mut zip = zip::ZipArchive::new(BufReader::with_capacity(256 * 1024, file))
        .map_err(|e| invalid_archive(format!("not a readable zip archive: {e}")))?;
    if zip.len() != raw.len() {
        return Err(invalid_archive("the zip directory is inconsistent (duplicate entries?)"));
    }
    let by_name: HashMap<&str, &zipcheck::RawEntry> = raw.iter().map(|e| (e.name.as_str(), e)).collect();
    let mut index = HashMap::with_capacity(raw.len());
    for i in 0..zip.len() {
        let f = zip.by_index_raw(i).map_err(|e| invalid_archive(format!("entry #{i} is damaged: {e}")))?;
        let same = by_name.get(f.name()).is_some_and(|r| {
            r.header_start == f.header_start()
                && r.data_start == f.data_start()
                && r.compressed == f.compressed_size()
                && r.size == f.size()
                && r.method == if f.compression() == zip::CompressionMethod::Stored { 0 } else { 8 }
        });
        if !same {
            return Err(invalid_archive(format!("the zip directory is inconsistent at entry {:?}", f.name())));
        }
        index.insert(f.name().to_owned(), i);
    }
    let manifest = read_manifest(&mut zip, &index, limits)?;
    check_manifest(&manifest, schema)?;
    let mut expected: HashSet<String> = HashSet::with_capacity(raw.len());
    expected.insert(MANIFEST_NAME.to_owned());
    expected.extend(manifest.tables.iter().map(|t| t.entry.clone()));
    expected.extend(manifest.blobs.iter().map(|b| blob_entry_name(&b.sha256)));
    if let Some(e) = raw.iter().find(|e| !expected.contains(&e.name)) {
        return Err(invalid_archive(format!("unexpected entry {:?} (not listed in the manifest)", e.name)));
    }
    if let Some(name) = expected.iter().find(|n| !index.contains_key(*n)) {
        return Err(invalid_archive(format!("missing entry {name} (listed in the manifest)")));
    }
    Ok(Opened { manifest, zip, index })
}

fn read_manifest(zip: &mut Zip, index: &HashMap<String, usize>, limits: &Limits) -> AppResult<Manifest> {
    let i = *index
        .get(MANIFEST_NAME)
        .ok_or_else(|| invalid_archive("missing manifest.json: not an OfficeBox backup, or an incomplete one"))?;
    let f = zip.by_index(i).map_err(|e| invalid_archive(format!("manifest.json is damaged: {e}")))?;
    let mut bytes = Vec::new();
    f.take(limits.max_manifest_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| invalid_archive(format!("manifest.json is damaged: {e}")))?;
    if bytes.len() as u64 > limits.max_manifest_bytes {
        return Err(invalid_archive("manifest.json is larger than the limit"));
    }
    let probe: Json =
        serde_json::from_slice(&bytes).map_err(|e| invalid_archive(format!("manifest.json is not JSON: {e}")))?;
    if probe.get("format").and_then(Json::as_str) != Some(FORMAT) {
        return Err(invalid_archive("not an OfficeBox backup (manifest.json has another format)"));
    }
    if let Some(v) = probe.get("format_version").and_then(Json::as_u64).filter(|v| *v > u64::from(FORMAT_VERSION)) {
        return Err(archive_too_new(format!(
            "the archive has format version {v}, this OfficeBox {} reads up to {FORMAT_VERSION}: upgrade OfficeBox to restore it",
            env!("CARGO_PKG_VERSION")
        )));
    }
    serde_json::from_value(probe).map_err(|e| invalid_archive(format!("manifest.json is not valid: {e}")))
}

fn check_manifest(m: &Manifest, schema: &Schema) -> AppResult<()> {
    if m.format_version == 0 || m.schema_version == 0 {
        return Err(invalid_archive("manifest.json has a zero version"));
    }
    if m.schema_version > schema.version {
        return Err(archive_too_new(format!(
            "the archive has database schema version {}, this OfficeBox {} supports up to {}: upgrade OfficeBox to restore it",
            m.schema_version,
            env!("CARGO_PKG_VERSION"),
            schema.version
        )));
    }
    let mut seen = HashSet::new();
    for t in &m.tables {
        let spec = spec_of(schema, &t.name)?;
        if !seen.insert(t.name.as_str()) {
            return Err(invalid_archive(format!("table {} is listed twice", t.name)));
        }
        if t.key_kind != key_kind_name(spec.key) {
            return Err(invalid_archive(format!(
                "table {} has key kind {} in the archive but {} here",
                t.name,
                t.key_kind,
                key_kind_name(spec.key)
            )));
        }
        if t.entry != table_entry_name(&t.name) || !is_valid_hash(&t.sha256) {
            return Err(invalid_archive(format!("the manifest entry of table {} is malformed", t.name)));
        }
    }
    let mut seen = HashSet::new();
    for b in &m.blobs {
        if !is_valid_hash(&b.sha256) {
            return Err(invalid_archive(format!("the manifest lists a blob with a malformed hash {:?}", b.sha256)));
        }
        if !seen.insert(b.sha256.as_str()) {
            return Err(invalid_archive(format!("blob {} is listed twice", b.sha256)));
        }
    }
    Ok(())
}

/// Hashes and counts what is read through it.
pub(crate) struct HashRead<R> {
    inner: R,
    hasher: Sha256,
    pub size: u64,
}

impl<R> HashRead<R> {
    pub(crate) fn new(inner: R) -> Self {
        HashRead { inner, hasher: Sha256::new(), size: 0 }
    }
    pub(crate) fn finish(self) -> (String, u64) {
        (hex::encode(self.hasher.finalize()), self.size)
    }
}

impl<R: Read> Read for HashRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
}

/// Compare what was read with the manifest.
pub(crate) fn check_digest(name: &str, got: (String, u64), size: u64, sha: &str) -> AppResult<()> {
    if got.1 != size {
        return Err(invalid_archive(format!("entry {name} is damaged: {} bytes instead of {size}", got.1)));
    }
    if got.0 != sha {
        return Err(invalid_archive(format!("entry {name} is damaged: its sha256 does not match the manifest")));
    }
    Ok(())
}

fn hash_entry(entry: impl Read, name: &str, size: u64, sha: &str) -> AppResult<()> {
    let mut r = HashRead::new(entry.take(size.saturating_add(1)));
    std::io::copy(&mut r, &mut std::io::sink())
        .map_err(|e| invalid_archive(format!("entry {name} is damaged: {e}")))?;
    check_digest(name, r.finish(), size, sha)
}

/// Stream a table entry: every line parsed, keys checked for kind and strict order, the row
/// count, size and sha256 compared with the manifest. `sink` sees each row before the final
/// hash check, so it must only write to what is thrown away on error.
pub(crate) fn read_table(
    o: &mut Opened,
    t: &TableEntry,
    spec: &TableSpec,
    limits: &Limits,
    sink: &mut dyn FnMut(&KeyVal, &[u8]) -> AppResult<()>,
) -> AppResult<()> {
    let entry = o.entry(&t.entry)?;
    let hashing = HashRead::new(entry.take(t.size.saturating_add(1)));
    let mut lines = LineReader::new(BufReader::with_capacity(256 * 1024, hashing), limits.max_line_bytes);
    let mut prev: Option<KeyVal> = None;
    let mut rows = 0u64;
    loop {
        let line = match lines.next_line() {
            Ok(Some(l)) => l,
            Ok(None) => break,
            Err(e) => {
                let why = if lines.get_ref().get_ref().size > t.size {
                    format!("more than the {} bytes the manifest says", t.size)
                } else {
                    format!("line {}: {e}", rows + 1)
                };
                return Err(invalid_archive(format!("entry {} is damaged: {why}", t.entry)));
            }
        };
        let bad = |why: String| invalid_archive(format!("entry {} line {}: {why}", t.entry, rows + 1));
        let (key, value) = parse_line(line).map_err(bad)?;
        let k =
            KeyVal::from_json(spec.key, &key).ok_or_else(|| bad(format!("the key {key} does not fit the table")))?;
        if prev.as_ref().is_some_and(|p| *p >= k) {
            return Err(bad("keys are not in strictly increasing order".into()));
        }
        sink(&k, &value)?;
        prev = Some(k);
        rows += 1;
    }
    check_digest(&t.entry, lines.into_inner().into_inner().finish(), t.size, &t.sha256)?;
    if rows != t.rows {
        return Err(invalid_archive(format!("entry {} has {rows} rows, the manifest says {}", t.entry, t.rows)));
    }
    Ok(())
}
