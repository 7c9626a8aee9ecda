//! redb storage: typed tables ([`table`]), the registry ([`registry`]), the global sequence and
//! migrations ([`meta`]), and the group-commit writer ([`writer`]).
//!
//! Owns `data.redb` and the data directory lock. Reads run on the caller's thread against an
//! MVCC snapshot; every write goes through the writer thread.

pub mod meta;
pub mod registry;
pub mod table;
pub mod writer;

pub use meta::{Migration, SchemaState};
pub use table::{KeyKind, Table, TableKey, TableSpec};
pub use writer::{Services, Tx, WriterStats};

use crate::error::{AppError, AppResult};
use crate::platform::clock::SharedClock;
use redb::ReadableDatabase;
use std::any::Any;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// What the application tells the store about its schema.
pub struct Schema {
    pub tables: &'static [TableSpec],
    pub version: u32,
    pub migrations: &'static [Migration],
    /// Tables whose rows are not brought back by a restore (live sessions: a session revoked
    /// after the backup was made must not come back to life).
    pub cleared_on_restore: &'static [&'static str],
}

const QUEUE_CAPACITY: usize = 16_384;

/// redb's page cache (reads and the write buffer). redb defaults to 1 GiB, which a growing
/// database fills: RSS followed the file (704 MB after writing 1,000,000 messages). Pages
/// beyond this are read back through the OS page cache, which the kernel can reclaim.
const CACHE_BYTES: usize = 64 * 1024 * 1024;

#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    db: Arc<redb::Database>,
    queue: mpsc::Sender<writer::Request>,
    pub(crate) stats: Arc<WriterStats>,
    clock: SharedClock,
    path: PathBuf,
    schema: &'static Schema,
    writer: parking_lot::Mutex<Option<std::thread::JoinHandle<()>>>,
    services: Arc<Services>,
    _lock: File,
}

impl Drop for Inner {
    /// Close the queue and wait for the writer to finish its last batch and release the
    /// database, so the directory can be reopened at once (restart, restore, tests).
    fn drop(&mut self) {
        let (closed, _) = mpsc::channel(1);
        drop(std::mem::replace(&mut self.queue, closed));
        if let Some(handle) = self.writer.lock().take() {
            if handle.thread().id() != std::thread::current().id() {
                let _ = handle.join();
            }
        }
    }
}

/// Holds the data directory's lock file; a second process gets a clear refusal.
pub fn lock_data_dir(dir: &Path) -> AppResult<File> {
    use fs4::fs_std::FileExt;
    std::fs::create_dir_all(dir)?;
    let path = dir.join(".lock");
    let file = std::fs::OpenOptions::new().create(true).truncate(false).read(true).write(true).open(&path)?;
    match FileExt::try_lock_exclusive(&file) {
        Ok(true) => Ok(file),
        Ok(false) | Err(_) => Err(AppError::unavailable(format!(
            "the data directory {} is already in use by another officebox process; stop it first \
             (or use `officebox backup` which talks to the running server)",
            dir.display()
        ))),
    }
}

impl Store {
    /// Open (or create) `dir/data.redb`, bring its schema up to date, start the writer.
    /// `before_migrate` runs (with the opened store) before any migration, for the automatic backup.
    pub fn open(
        dir: &Path,
        schema: &'static Schema,
        clock: SharedClock,
        before_migrate: &dyn Fn(&Store) -> AppResult<()>,
    ) -> AppResult<(Store, SchemaState)> {
        let lock = lock_data_dir(dir)?;
        let path = dir.join("data.redb");
        let db = match redb::Builder::new().set_cache_size(CACHE_BYTES).create(&path) {
            Ok(db) => db,
            Err(redb::DatabaseError::DatabaseAlreadyOpen) => {
                return Err(AppError::unavailable(format!("{} is already open in another process", path.display())))
            }
            Err(e) => return Err(AppError::unavailable(format!("cannot open {}: {e}", path.display()))),
        };
        registry::remember(schema.tables);
        let db = Arc::new(db);
        let stats = Arc::new(WriterStats::default());
        let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
        let services = Arc::new(Services::default());
        let handle = writer::spawn(db.clone(), clock.clone(), rx, stats.clone(), services.clone())?;
        let writer = parking_lot::Mutex::new(Some(handle));
        let inner = Inner { db, queue: tx, stats, clock, path, schema, writer, services, _lock: lock };
        let store = Store { inner: Arc::new(inner) };
        let state = store.prepare_schema(before_migrate)?;
        Ok((store, state))
    }

    fn prepare_schema(&self, before_migrate: &dyn Fn(&Store) -> AppResult<()>) -> AppResult<SchemaState> {
        let schema = self.inner.schema;
        let found = meta::schema_version(&self.begin_read()?)?;
        let state = match found {
            None => {
                let rtx = self.begin_read()?;
                let empty = rtx.list_tables()?.next().is_none();
                drop(rtx);
                if !empty {
                    return Err(AppError::unavailable("data.redb has tables but no schema version; refusing to guess"));
                }
                self.write_blocking(move |tx| meta::set_schema_version(tx.txn, schema.version))?;
                SchemaState::Fresh
            }
            Some(v) if v == schema.version => SchemaState::Current,
            Some(v) if v > schema.version => return Err(meta::newer_database_error(v, schema.version)),
            Some(v) => {
                before_migrate(self)?;
                for m in schema.migrations.iter().filter(|m| m.version > v && m.version <= schema.version) {
                    tracing::info!(version = m.version, name = m.name, "running migration");
                    let (run, version) = (m.run, m.version);
                    self.write_blocking(move |tx| {
                        run(tx.txn)?;
                        meta::set_schema_version(tx.txn, version)
                    })?;
                }
                SchemaState::Migrated(v)
            }
        };
        // Every registered table exists, so a snapshot can always open it.
        self.write_blocking(move |tx| {
            for spec in schema.tables {
                registry::create(tx.txn, spec)?;
            }
            Ok(())
        })?;
        Ok(state)
    }

    /// Make `service` reachable from write jobs through [`Tx::service`].
    pub fn provide<T: Any + Send + Sync>(&self, service: Arc<T>) {
        self.inner.services.insert(service);
    }

    /// A service registered with [`Store::provide`] (e.g. a cache the write jobs invalidate).
    pub fn service<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.inner.services.get::<T>()
    }

    pub fn schema(&self) -> &'static Schema {
        self.inner.schema
    }

    pub fn clock(&self) -> &SharedClock {
        &self.inner.clock
    }

    pub fn now_ms(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    pub fn stats(&self) -> &WriterStats {
        &self.inner.stats
    }

    pub fn queue_depth(&self) -> usize {
        QUEUE_CAPACITY - self.inner.queue.capacity()
    }

    pub fn is_poisoned(&self) -> bool {
        self.inner.stats.poisoned.load(Ordering::SeqCst)
    }

    pub fn file_size(&self) -> u64 {
        std::fs::metadata(&self.inner.path).map(|m| m.len()).unwrap_or(0)
    }

    /// An MVCC snapshot: never blocks and is never blocked by the writer.
    pub fn begin_read(&self) -> AppResult<redb::ReadTransaction> {
        Ok(self.inner.db.begin_read()?)
    }

    /// Run `f` against a fresh snapshot.
    pub fn read<T>(&self, f: impl FnOnce(&redb::ReadTransaction) -> AppResult<T>) -> AppResult<T> {
        f(&self.begin_read()?)
    }

    fn make_request<T: Send + 'static>(
        mut f: impl FnMut(&mut Tx) -> AppResult<T> + Send + 'static,
    ) -> (writer::Request, oneshot::Receiver<AppResult<Box<dyn Any + Send>>>) {
        let (reply, rx) = oneshot::channel();
        let job: writer::Job = Box::new(move |tx| f(tx).map(|v| Box::new(v) as Box<dyn Any + Send>));
        (writer::Request { job, reply }, rx)
    }

    fn unbox<T: 'static>(r: Result<AppResult<Box<dyn Any + Send>>, oneshot::error::RecvError>) -> AppResult<T> {
        let out = r.map_err(|_| AppError::unavailable("the writer stopped"))??;
        out.downcast::<T>().map(|b| *b).map_err(|_| AppError::internal("writer returned the wrong type"))
    }

    /// Queue a use case for the writer; resolves once its transaction is durable.
    pub async fn write<T: Send + 'static>(
        &self,
        f: impl FnMut(&mut Tx) -> AppResult<T> + Send + 'static,
    ) -> AppResult<T> {
        let (req, rx) = Self::make_request(f);
        self.inner.queue.send(req).await.map_err(|_| AppError::unavailable("the writer stopped"))?;
        Self::unbox(rx.await)
    }

    /// The same from a thread that is not an async task (CLI, start-up, blocking jobs).
    pub fn write_blocking<T: Send + 'static>(
        &self,
        f: impl FnMut(&mut Tx) -> AppResult<T> + Send + 'static,
    ) -> AppResult<T> {
        let (req, rx) = Self::make_request(f);
        self.inner.queue.blocking_send(req).map_err(|_| AppError::unavailable("the writer stopped"))?;
        Self::unbox(rx.blocking_recv())
    }

    /// Run redb's integrity check (used by `officebox check`). Needs exclusive access, so only
    /// the CLI on a stopped server calls it.
    pub fn database(&self) -> &redb::Database {
        &self.inner.db
    }
}

#[cfg(test)]
mod tests;
