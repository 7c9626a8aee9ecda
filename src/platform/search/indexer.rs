//! Opening, rebuilding and feeding the index.
//!
//! Start: open `index/`; if it is missing, has no or another version file, does not open, fails
//! its checksums or claims a sequence the database has not reached (a restored database), it is
//! rebuilt from redb ([`rebuild`]). Then the one indexer thread drains the outbox in key order,
//! at most [`CHUNK`] operations per tantivy commit, commits with the last applied sequence in
//! the commit payload, reloads the reader, and trims the applied outbox rows. Whatever is left
//! in the outbox at start (after a crash, or enqueued while stopped) is replayed the same way.

use super::outbox::{self, OutboxOp, WAKE};
use super::schema::{self, Fields};
use super::{Live, SearchDoc, Shared};
use crate::error::{AppError, AppResult};
use crate::platform::store::{meta, Store};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

/// Most outbox rows read (and handed to tantivy) at once.
pub const CHUNK: usize = 500;
/// Most operations in one tantivy commit. Commits are otherwise paced by [`MIN_COMMIT_GAP`]:
/// each one costs a new segment (arenas, files, fsyncs, later merges) whatever its size, so a
/// busy chat must not commit every few hundred messages.
const MAX_UNCOMMITTED: usize = 20_000;
/// Safety-net poll when no nudge arrives.
const POLL: Duration = Duration::from_millis(500);
/// Least time between two commits (each commit makes a segment).
const MIN_COMMIT_GAP: Duration = Duration::from_millis(200);
const RETRY: Duration = Duration::from_secs(5);
/// Writer memory budgets (tantivy needs at least 15 MB per thread; we use one thread).
const WRITER_BUDGET: usize = 32 * 1024 * 1024;
const REBUILD_BUDGET_PER_THREAD: usize = 64 * 1024 * 1024;

pub type SourceFn<'a> = &'a dyn Fn(&redb::ReadTransaction, &mut super::Sink) -> AppResult<()>;

pub(crate) fn ti(e: impl std::fmt::Display) -> AppError {
    AppError::internal(format!("search index: {e}"))
}

fn payload(seq: u64) -> String {
    serde_json::json!({ "seq": seq }).to_string()
}

fn payload_seq(p: Option<&str>) -> Option<u64> {
    serde_json::from_str::<serde_json::Value>(p?).ok()?.get("seq")?.as_u64()
}

#[derive(Debug, Clone)]
pub struct RebuildStats {
    pub docs: u64,
    pub skipped: u64,
    /// The database sequence the new index reflects.
    pub seq: u64,
    pub trimmed: u64,
    pub elapsed: Duration,
}

/// Rebuild the index from redb: the documents of one snapshot stream into a fresh `index.tmp/`,
/// which replaces `index_dir` once committed; then outbox rows up to the snapshot's sequence
/// (already reflected in it) are trimmed. Run by the indexer at start and by `officebox reindex`
/// (server stopped); never while another indexer has `index_dir` open.
pub fn rebuild(store: &Store, index_dir: &Path, source: SourceFn) -> AppResult<RebuildStats> {
    rebuild_until(store, index_dir, source, &|| false)
}

fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "index".into());
    dir.with_file_name(format!("{name}.{suffix}"))
}

pub(crate) fn rebuild_until(
    store: &Store,
    dir: &Path,
    source: SourceFn,
    stop: &dyn Fn() -> bool,
) -> AppResult<RebuildStats> {
    let started = Instant::now();
    let tmp = sibling(dir, "tmp");
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp)?;
    }
    std::fs::create_dir_all(&tmp)?;
    let (schema, fields) = schema::build();
    let index = Index::create_in_dir(&tmp, schema).map_err(ti)?;
    schema::register_tokenizers(&index);
    let threads = rebuild_threads();
    let mut writer: IndexWriter<TantivyDocument> =
        index.writer_with_num_threads(threads, REBUILD_BUDGET_PER_THREAD * threads).map_err(ti)?;
    writer.set_merge_policy(merge_policy());
    let (mut n, mut skipped) = (0u64, 0u64);
    // One snapshot: its sequence is what the new index reflects. Documents stream from redb
    // into the writer, which flushes a segment whenever its budget is used, so memory stays
    // bounded however many documents there are.
    let seq = {
        let txn = store.begin_read()?;
        let seq = meta::current_seq(&txn)?;
        let mut sink = |d: SearchDoc| -> AppResult<()> {
            if (n + skipped) % 1000 == 0 && stop() {
                return Err(AppError::unavailable("search rebuild interrupted by shutdown"));
            }
            match writer.add_document(schema::to_document(&fields, &d)) {
                Ok(_) => n += 1,
                Err(e) => {
                    skipped += 1;
                    tracing::error!(key = %d.key, error = %e, "search: document skipped during rebuild");
                }
            }
            Ok(())
        };
        source(&txn, &mut sink)?;
        seq
    };
    let mut commit = writer.prepare_commit().map_err(ti)?;
    commit.set_payload(&payload(seq));
    commit.commit().map_err(ti)?;
    writer.wait_merging_threads().map_err(ti)?;
    drop(index);
    schema::write_version(&tmp)?;
    swap_in(dir, &tmp)?;
    // The index is in place; rows left untrimmed are skipped by seq and trimmed later.
    let trimmed = store.write_blocking(move |tx| outbox::trim(tx, seq)).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "search outbox trim after rebuild failed");
        0
    });
    Ok(RebuildStats { docs: n, skipped, seq, trimmed, elapsed: started.elapsed() })
}

/// Every query visits every segment, and the indexer commits a small segment every ~200 ms
/// while messages flow: merge four alike segments (tantivy's default waits for eight), and
/// merge a segment once a fifth of it is deleted documents (recalled messages, replaced people
/// and groups), which also drops their stored text from the index files.
fn merge_policy() -> Box<tantivy::indexer::LogMergePolicy> {
    let mut p = tantivy::indexer::LogMergePolicy::default();
    p.set_min_num_segments(4);
    p.set_del_docs_ratio_before_merge(0.2);
    Box::new(p)
}

/// Indexing threads for a rebuild: tokenizing (jieba) is the cost, so use the cores, but
/// leave the server some and keep the memory budget modest.
fn rebuild_threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 4)
}

/// Replace `dir` by `tmp`. A crash in between leaves no `dir`, which the next start rebuilds.
fn swap_in(dir: &Path, tmp: &Path) -> AppResult<()> {
    let old = sibling(dir, "old");
    if old.exists() {
        std::fs::remove_dir_all(&old)?;
    }
    if std::fs::symlink_metadata(dir).is_ok() {
        std::fs::rename(dir, &old)?;
    }
    std::fs::rename(tmp, dir)?;
    if let Some(parent) = dir.parent() {
        if let Ok(d) = std::fs::File::open(parent) {
            let _ = d.sync_all();
        }
    }
    if old.exists() {
        if let Err(e) = std::fs::remove_dir_all(&old) {
            tracing::warn!(dir = %old.display(), error = %e, "could not remove the previous search index");
        }
    }
    Ok(())
}

/// Open a usable index or say why not.
fn try_open(dir: &Path, db_seq: u64) -> Result<(Index, IndexReader, u64), String> {
    if !dir.is_dir() {
        return Err("missing".into());
    }
    match schema::read_version(dir) {
        None => return Err(format!("no readable {}", schema::VERSION_FILE)),
        Some(v) if v != schema::INDEX_SCHEMA => {
            return Err(format!("index schema {v}, this build uses {}", schema::INDEX_SCHEMA))
        }
        Some(_) => {}
    }
    let index = Index::open_in_dir(dir).map_err(|e| format!("does not open: {e}"))?;
    if index.schema() != schema::build().0 {
        return Err("fields differ from this build".into());
    }
    let damaged = index.validate_checksum().map_err(|e| format!("checksum check failed: {e}"))?;
    if !damaged.is_empty() {
        return Err(format!("damaged files: {damaged:?}"));
    }
    schema::register_tokenizers(&index);
    let metas = index.load_metas().map_err(|e| format!("meta.json: {e}"))?;
    let seq = payload_seq(metas.payload.as_deref()).ok_or("no sequence in the commit payload")?;
    if seq > db_seq {
        return Err(format!("index is at seq {seq} but the database only at {db_seq} (restored?)"));
    }
    let reader =
        index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().map_err(|e| format!("reader: {e}"))?;
    Ok((index, reader, seq))
}

/// Open `dir`, rebuilding it first when it is unusable.
fn open_or_rebuild(shared: &Shared, store: &Store, source: SourceFn) -> AppResult<(Index, IndexReader, u64)> {
    let db_seq = meta::current_seq(&store.begin_read()?)?;
    match try_open(&shared.dir, db_seq) {
        Ok(opened) => return Ok(opened),
        Err(why) if !shared.dir.exists() => {
            tracing::info!(dir = %shared.dir.display(), reason = %why, "no search index yet; building it from the database")
        }
        Err(why) => {
            tracing::warn!(dir = %shared.dir.display(), reason = %why, "search index unusable; rebuilding from the database")
        }
    }
    *shared.status.lock() = "rebuilding";
    let stop = || shared.stop.load(Ordering::SeqCst);
    let s = rebuild_until(store, &shared.dir, source, &stop)?;
    tracing::info!(
        docs = s.docs,
        skipped = s.skipped,
        seq = s.seq,
        ms = s.elapsed.as_millis() as u64,
        "search index rebuilt"
    );
    try_open(&shared.dir, u64::MAX).map_err(|why| ti(format!("the rebuilt index does not open: {why}")))
}

struct Feeder<'a> {
    store: &'a Store,
    writer: IndexWriter<TantivyDocument>,
    reader: IndexReader,
    fields: Fields,
    /// Seq in the last durable commit.
    committed: u64,
    /// Seq of the last op handed to the writer.
    added: u64,
    uncommitted: usize,
    last_commit: Instant,
}

impl Feeder<'_> {
    /// Apply up to CHUNK committed outbox rows after `added`. Returns how many. An outbox row
    /// that does not decode is skipped; a writer error is returned (the caller reopens).
    fn drain_chunk(&mut self) -> AppResult<usize> {
        let rows = outbox::read_after(&self.store.begin_read()?, self.added, CHUNK)?;
        for (seq, op) in &rows {
            match op {
                Some(OutboxOp::Upsert(doc)) => {
                    self.writer.delete_term(Term::from_field_text(self.fields.key, &doc.key));
                    self.writer.add_document(schema::to_document(&self.fields, doc)).map_err(ti)?;
                }
                Some(OutboxOp::Delete { key }) => {
                    self.writer.delete_term(Term::from_field_text(self.fields.key, key));
                }
                None => {}
            }
            self.added = *seq;
            self.uncommitted += 1;
        }
        Ok(rows.len())
    }

    /// Commit with the last applied seq as payload, publish to readers, trim the outbox.
    fn commit(&mut self) -> AppResult<()> {
        let mut prepared = self.writer.prepare_commit().map_err(ti)?;
        prepared.set_payload(&payload(self.added));
        prepared.commit().map_err(ti)?;
        self.committed = self.added;
        self.uncommitted = 0;
        self.last_commit = Instant::now();
        self.reader.reload().map_err(ti)?;
        let through = self.committed;
        if let Err(e) = self.store.write_blocking(move |tx| outbox::trim(tx, through)) {
            tracing::warn!(error = %e, "search outbox trim failed; will retry after the next commit");
        }
        Ok(())
    }
}

/// The indexer thread: open (or rebuild) and feed; on any index or outbox error, drop the
/// writer (uncommitted work is lost, the outbox still has it), wait, and start over.
pub(crate) fn run(shared: Arc<Shared>, store: Store, source: super::Source) {
    let stop = || shared.stop.load(Ordering::SeqCst);
    let mut seen = WAKE.generation();
    schema::warm_up();
    while !stop() {
        if let Err(e) = open_and_feed(&shared, &store, &*source, &mut seen) {
            tracing::error!(error = %e, "search indexer failed; reopening the index shortly");
            *shared.status.lock() = "failed";
            WAKE.wait(&mut seen, RETRY, &stop);
        }
    }
    *shared.live.write() = None;
}

/// Returns Ok once asked to stop.
fn open_and_feed(shared: &Shared, store: &Store, source: SourceFn, seen: &mut u64) -> AppResult<()> {
    let stop = || shared.stop.load(Ordering::SeqCst);
    let (index, reader, seq) = open_or_rebuild(shared, store, source)?;
    let fields = schema::fields_of(&index.schema())?;
    let writer: IndexWriter<TantivyDocument> = index.writer_with_num_threads(1, WRITER_BUDGET).map_err(ti)?;
    writer.set_merge_policy(merge_policy());
    *shared.live.write() = Some(Live { reader: reader.clone(), fields });
    *shared.status.lock() = "ready";
    tracing::info!(seq, "search indexer running");
    let mut f = Feeder {
        store,
        writer,
        reader,
        fields,
        committed: seq,
        added: seq,
        uncommitted: 0,
        last_commit: Instant::now(),
    };
    while !stop() {
        let n = f.drain_chunk()?;
        if f.uncommitted > 0 && (f.uncommitted >= MAX_UNCOMMITTED || f.last_commit.elapsed() >= MIN_COMMIT_GAP) {
            f.commit()?;
            continue;
        }
        if n > 0 {
            continue;
        }
        if f.uncommitted > 0 {
            // Sleep out the gap (nudges would wake us for every write commit); what is
            // enqueued meanwhile is read in chunks and goes into this commit.
            std::thread::sleep(MIN_COMMIT_GAP.saturating_sub(f.last_commit.elapsed()));
            continue;
        }
        // Enqueues nudge after their transaction commits, so what a nudge announces is readable.
        WAKE.wait(seen, POLL, &stop);
    }
    if f.uncommitted > 0 {
        f.commit()?;
    }
    Ok(())
}
