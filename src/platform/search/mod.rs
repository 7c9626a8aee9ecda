//! Full-text search: a tantivy index in `<data>/index/` derived from redb, never the source of
//! truth.
//!
//! - Features describe their objects as [`SearchDoc`]s and queue them with [`enqueue_upsert`] /
//!   [`enqueue_delete`] in the SAME write transaction as the data (`search_outbox`, see
//!   [`outbox`]).
//! - One indexer thread ([`indexer`]) drains the outbox in sequence order, commits tantivy with
//!   the last applied sequence in the commit payload, then trims the outbox. An acknowledged
//!   write is searchable well within 2 s (nudge + commit gap of 200 ms; 500 ms poll as a net).
//! - At start a missing, unreadable, corrupt or outdated index is rebuilt from redb through the
//!   feature-supplied [`Source`], which streams documents into the writer (memory stays bounded
//!   by the writer's budget, whatever the number of messages); `officebox reindex` calls
//!   [`rebuild`] by hand.
//! - [`Search::query`] returns keys, titles and escaped snippets only, restricted by a
//!   [`query::Filter`] of feature-chosen tags, an `at` range and a `sort` cursor. Callers MUST
//!   re-check every hit against redb (existence, permission) before showing it; [`kinds`]
//!   describes how a feature plugs its kind into the global search endpoint to do so.
//!
//! The platform knows no feature: pinyin, tags and the other per-kind values come from the
//! caller.

pub mod indexer;
mod jieba;
pub mod kinds;
pub mod outbox;
pub mod query;
pub mod schema;
pub mod snippet;

pub use indexer::{rebuild, RebuildStats};
pub use kinds::{Asker, Params, SearchKind};
pub use outbox::{enqueue_delete, enqueue_upsert, OutboxOp, SEARCH_OUTBOX};
pub use query::{Filter, Hit, Order, Request};

use crate::error::{AppError, AppResult};
use crate::platform::store::Store;
use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use tantivy::IndexReader;

/// One searchable object. `key` is unique across kinds ("person:123"); `pinyin` holds extra
/// whitespace-free keys (full pinyin, initials) matched exactly and by prefix; `tags` are exact
/// values a query can require ("conv:12", "type:file"); `sort` orders newest-first listings
/// (unique within a kind, e.g. a message's seq; 0 for kinds listed by relevance).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SearchDoc {
    pub key: String,
    pub kind: String,
    pub title: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub pinyin: Vec<String>,
    /// When the object last changed (UTC ms).
    #[serde(default)]
    pub at: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub sort: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Where a rebuild sends documents, one at a time; an error stops the rebuild.
pub type Sink<'a> = dyn FnMut(SearchDoc) -> AppResult<()> + 'a;

/// Every document that should be in the index, streamed from one snapshot into the sink (used
/// to rebuild). Streaming, not a Vec: a million messages must not sit in memory at once.
pub type Source = Arc<dyn Fn(&redb::ReadTransaction, &mut Sink) -> AppResult<()> + Send + Sync>;

/// The index directory inside a data directory.
pub fn index_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("index")
}

/// What queries use: the reader the indexer reloads after each commit.
#[derive(Clone)]
pub(crate) struct Live {
    pub reader: IndexReader,
    pub fields: schema::Fields,
}

pub(crate) struct Shared {
    pub dir: PathBuf,
    pub live: RwLock<Option<Live>>,
    pub stop: AtomicBool,
    /// "stopped" | "starting" | "rebuilding" | "ready" | "failed"
    pub status: Mutex<&'static str>,
}

/// The search service held by the platform. Dropping it stops and joins the indexer thread
/// (which holds a clone of the store, so the data directory lock is released after it).
pub struct Search {
    shared: Arc<Shared>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// The kinds the global search endpoint offers, registered once by the application.
    kinds: OnceLock<&'static [SearchKind]>,
}

impl Search {
    /// A search service for `index_dir`; nothing runs until [`Search::start`].
    pub fn new(index_dir: PathBuf) -> Search {
        let shared = Shared {
            dir: index_dir,
            live: RwLock::new(None),
            stop: AtomicBool::new(false),
            status: Mutex::new("stopped"),
        };
        Search { shared: Arc::new(shared), thread: Mutex::new(None), kinds: OnceLock::new() }
    }

    /// Register the searchable kinds (once, at start; later calls are ignored).
    pub fn set_kinds(&self, kinds: &'static [SearchKind]) {
        let _ = self.kinds.set(kinds);
    }

    /// The registered kinds, in the order results are listed.
    pub fn kinds(&self) -> &'static [SearchKind] {
        self.kinds.get().copied().unwrap_or(&[])
    }

    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// Start the indexer thread (opens or rebuilds the index, then follows the outbox). Calling
    /// it again does nothing.
    pub fn start(&self, store: Store, source: Source) -> AppResult<()> {
        let mut slot = self.thread.lock();
        if slot.is_some() {
            return Ok(());
        }
        *self.shared.status.lock() = "starting";
        let shared = self.shared.clone();
        let handle = std::thread::Builder::new()
            .name("officebox-indexer".into())
            .spawn(move || {
                let run = std::panic::AssertUnwindSafe(|| indexer::run(shared.clone(), store, source));
                if std::panic::catch_unwind(run).is_err() {
                    tracing::error!("the search indexer panicked; search stays on the last committed index");
                    *shared.status.lock() = "failed";
                }
            })
            .map_err(AppError::internal)?;
        *slot = Some(handle);
        Ok(())
    }

    /// "stopped", "starting", "rebuilding", "ready" or "failed".
    pub fn status(&self) -> &'static str {
        *self.shared.status.lock()
    }

    /// Best hits for `q` among `kinds` (all kinds when empty), by relevance, unfiltered.
    /// Empty query -> no hits; `limit` is clamped to 1..=50. While the index is being
    /// (re)built: `search_indexing` (503). Blocking (CPU): call from `web::block` in handlers.
    pub fn search(&self, q: &str, kinds: &[&str], limit: usize) -> AppResult<Vec<Hit>> {
        if q.trim().is_empty() {
            return Ok(Vec::new());
        }
        let kinds = kinds.iter().map(|k| k.to_string()).collect();
        let limit = limit.clamp(1, query::MAX_LIMIT);
        self.query(&Request { text: q.to_owned(), kinds, limit, ..Request::default() })
    }

    /// Run a [`Request`]: relevance order needs text; newest-first with empty text lists
    /// everything the filter admits. `limit` is clamped to 1..=[`query::MAX_FETCH`].
    /// While the index is being (re)built: `search_indexing` (503). Blocking (CPU).
    pub fn query(&self, req: &Request) -> AppResult<Vec<Hit>> {
        let live = self.shared.live.read().clone();
        match live {
            Some(live) => query::run(&live, req),
            None => Err(AppError::new(
                actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
                "search_indexing",
                "The search index is being built; try again in a moment",
            )),
        }
    }

    /// Segments in the live index (diagnostics: each one costs every query a little).
    pub fn segments(&self) -> usize {
        self.shared.live.read().as_ref().map_or(0, |l| l.reader.searcher().segment_readers().len())
    }

    /// Prometheus gauges: outbox depth, documents in the index, whether the index is ready.
    pub fn gauges(&self, store: &Store) -> Vec<(&'static str, &'static str, f64)> {
        let depth = store.read(outbox::depth).unwrap_or(0);
        let docs = self.shared.live.read().as_ref().map(|l| l.reader.searcher().num_docs()).unwrap_or(0);
        vec![
            ("officebox_search_outbox_depth", "Search index changes waiting for the indexer.", depth as f64),
            ("officebox_search_documents", "Documents in the search index.", docs as f64),
            (
                "officebox_search_ready",
                "1 when the search index is open and followed.",
                f64::from(u8::from(self.status() == "ready")),
            ),
        ]
    }

    /// Stop the indexer (it commits what it has applied) and wait for it.
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        outbox::WAKE.nudge();
        if let Some(t) = self.thread.lock().take() {
            if t.join().is_err() {
                tracing::error!("the search indexer panicked");
            }
        }
        *self.shared.status.lock() = "stopped";
    }
}

impl Drop for Search {
    fn drop(&mut self) {
        self.stop();
    }
}
