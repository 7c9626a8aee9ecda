//! Writing an archive from one snapshot.

use super::{
    backup_failed, blob_entry_name, jsonl, key_kind_name, table_entry_name, BlobEntry, Manifest, RunningGuard,
    TableEntry, FORMAT, FORMAT_VERSION, MANIFEST_NAME,
};
use crate::error::{AppError, AppResult};
use crate::platform::blobs::{is_valid_hash, Blobs, BLOB_REFS};
use crate::platform::store::{meta, registry, Store};
use sha2::{Digest, Sha256};
use std::io::{BufWriter, Read, Seek, Write};
use std::path::Path;
use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

/// Every entry is a plain file readable by its owner only.
const ENTRY_MODE: u32 = 0o600;
const COPY_BUF: usize = 256 * 1024;

/// Counts and hashes what passes through to the zip entry.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn zip_err(e: zip::result::ZipError) -> AppError {
    match e {
        zip::result::ZipError::Io(e) => AppError::from(e),
        e => AppError::internal(format!("zip: {e}")),
    }
}

fn options(method: CompressionMethod, large: bool) -> SimpleFileOptions {
    SimpleFileOptions::default().compression_method(method).large_file(large).unix_permissions(ENTRY_MODE)
}

/// Write a complete archive of the store's current snapshot into `out` (blocking: run it on a
/// blocking thread). The writer keeps committing meanwhile; the archive is the state at the
/// snapshot's `seq`.
pub fn create_backup<W: Write + Seek>(store: &Store, blobs: &Blobs, out: W) -> AppResult<Manifest> {
    let _running = RunningGuard::new();
    let rtxn = store.begin_read()?;
    let schema = store.schema();
    let schema_version = meta::schema_version(&rtxn)?.unwrap_or(schema.version);
    let seq = meta::current_seq(&rtxn)?;
    let mut zip = zip::ZipWriter::new(out);
    let mut tables = Vec::with_capacity(schema.tables.len());
    for spec in schema.tables {
        let entry = table_entry_name(spec.name);
        // Tables have no size known in advance: always allow zip64.
        zip.start_file(entry.as_str(), options(CompressionMethod::Deflated, true)).map_err(zip_err)?;
        let mut sink = BufWriter::with_capacity(COPY_BUF, Hashing { inner: &mut zip, hasher: Sha256::new(), size: 0 });
        let rows = registry::export(&rtxn, spec, |key, value| {
            jsonl::write_line(&mut sink, &key, value)
                .map_err(|e| backup_failed(format!("table {} row {key}: {e}", spec.name)))
        })?;
        let hashing = sink.into_inner().map_err(|e| AppError::from(e.into_error()))?;
        tables.push(TableEntry {
            name: spec.name.to_owned(),
            key_kind: key_kind_name(spec.key).to_owned(),
            rows,
            entry,
            sha256: hex::encode(hashing.hasher.finalize()),
            size: hashing.size,
        });
    }
    // Keys only (the counts do not matter here), in key order.
    let mut blob_list = Vec::new();
    let mut buf = vec![0u8; COPY_BUF];
    registry::export(&rtxn, &BLOB_REFS.spec(), |key, _count| {
        let sha = key.as_str().unwrap_or_default();
        blob_list.push(copy_blob(&mut zip, blobs, sha, &mut buf)?);
        Ok(())
    })?;
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        format_version: FORMAT_VERSION,
        app_version: env!("CARGO_PKG_VERSION").to_owned(),
        schema_version,
        created_at: store.now_ms(),
        seq,
        tables,
        blobs: blob_list,
    };
    zip.start_file(MANIFEST_NAME, options(CompressionMethod::Deflated, false)).map_err(zip_err)?;
    serde_json::to_writer_pretty(&mut zip, &manifest)?;
    let mut out = zip.finish().map_err(zip_err)?;
    out.flush()?;
    Ok(manifest)
}

fn copy_blob<W: Write + Seek>(
    zip: &mut zip::ZipWriter<W>,
    blobs: &Blobs,
    sha: &str,
    buf: &mut [u8],
) -> AppResult<BlobEntry> {
    if !is_valid_hash(sha) {
        return Err(backup_failed(format!("blob_refs holds {sha:?}, which is not a sha256; run `officebox check`")));
    }
    let mut file = blobs.open_file(sha).map_err(|e| {
        backup_failed(format!("blob {sha} is referenced but cannot be opened ({}); run `officebox check`", e.message))
    })?;
    let len = file.metadata()?.len();
    let entry = blob_entry_name(sha);
    zip.start_file(entry.as_str(), options(CompressionMethod::Stored, len >= u64::from(u32::MAX))).map_err(zip_err)?;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    loop {
        let n = file.read(buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        zip.write_all(&buf[..n])?;
        size += n as u64;
    }
    if hex::encode(hasher.finalize()) != sha {
        return Err(backup_failed(format!(
            "blob {sha} is damaged (its content does not match its hash); run `officebox check`"
        )));
    }
    Ok(BlobEntry { sha256: sha.to_owned(), size })
}

/// Write a backup to `path` atomically: a `.part` temp file in the same directory, fsync, rename
/// (refusing to replace an existing file), fsync the directory. A crash leaves no partial archive
/// under the final name.
pub fn backup_to_file(store: &Store, blobs: &Blobs, path: &Path) -> AppResult<Manifest> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    if path.exists() {
        return Err(AppError::conflict("file_exists", format!("{} already exists", path.display())));
    }
    let tmp = tempfile::Builder::new().prefix(".officebox-backup-").suffix(".part").tempfile_in(&dir)?;
    let manifest = {
        let mut w = BufWriter::with_capacity(1 << 20, tmp.as_file());
        let m = create_backup(store, blobs, &mut w)?;
        w.flush()?;
        m
    };
    tmp.as_file().sync_all()?;
    tmp.persist_noclobber(path).map_err(|e| match e.error.kind() {
        std::io::ErrorKind::AlreadyExists => {
            AppError::conflict("file_exists", format!("{} already exists", path.display()))
        }
        _ => AppError::from(e.error),
    })?;
    super::sync_dir(&dir)?;
    Ok(manifest)
}
