//! The group-commit writer. One thread owns all write transactions: it takes every use case that
//! is queued, runs them in ONE transaction with one durable commit, and only then answers each
//! caller. Many concurrent writes thus share one fsync.
//!
//! A use case that fails (error or panic) must not disturb the others in its batch: the
//! transaction is aborted and rebuilt without it, re-running the good ones. Use cases are
//! therefore `FnMut` and must be deterministic functions of the transaction state and their
//! captured input (they clone what they consume).

use crate::error::{AppError, AppResult};
use crate::platform::clock::SharedClock;
use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// What a use case sees: the transaction, the clock reading for the whole batch, and hooks to
/// run after the commit is durable (publishing events, refreshing caches).
pub struct Tx<'a> {
    pub txn: &'a redb::WriteTransaction,
    pub now: i64,
    after_commit: RefCell<Vec<Hook>>,
    services: &'a Services,
}

type Hook = Box<dyn FnOnce() + Send>;

impl Tx<'_> {
    pub fn next_seq(&self) -> AppResult<u64> {
        super::meta::next_seq(self.txn)
    }
    /// Run `f` once this transaction is durable (never if it fails).
    pub fn after_commit(&self, f: impl FnOnce() + Send + 'static) {
        self.after_commit.borrow_mut().push(Box::new(f));
    }
    /// A service registered with [`Store::provide`](super::Store::provide) (e.g. realtime
    /// delivery), for code deep inside a use case that has only the transaction.
    pub fn service<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.services.get::<T>()
    }
}

/// Shared services that write jobs may reach through [`Tx::service`], one per type.
#[derive(Default)]
pub struct Services {
    map: parking_lot::RwLock<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl Services {
    pub fn insert<T: Any + Send + Sync>(&self, v: Arc<T>) {
        self.map.write().insert(TypeId::of::<T>(), v);
    }
    pub fn get<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.map.read().get(&TypeId::of::<T>()).cloned().and_then(|a| a.downcast::<T>().ok())
    }
}

type Output = Box<dyn Any + Send>;
pub(crate) type Job = Box<dyn FnMut(&mut Tx) -> AppResult<Output> + Send>;

pub(crate) struct Request {
    pub job: Job,
    pub reply: oneshot::Sender<AppResult<Output>>,
}

const MAX_BATCH: usize = 512;

#[derive(Default)]
pub struct WriterStats {
    pub commits: AtomicU64,
    pub jobs: AtomicU64,
    pub failed_jobs: AtomicU64,
    /// Time spent running use cases (including re-runs after a failed job), in microseconds.
    pub run_micros: AtomicU64,
    /// Time spent in durable commits (writing pages and fsync), in microseconds.
    pub commit_micros: AtomicU64,
    /// Set after a commit failed with an I/O error: redb refuses writes until reopened, so we
    /// report unhealthy and let the supervisor restart us.
    pub poisoned: AtomicBool,
}

pub(crate) fn spawn(
    db: Arc<redb::Database>,
    clock: SharedClock,
    mut rx: mpsc::Receiver<Request>,
    stats: Arc<WriterStats>,
    services: Arc<Services>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new().name("officebox-writer".into()).spawn(move || {
        while let Some(first) = rx.blocking_recv() {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(r) => batch.push(r),
                    Err(_) => break,
                }
            }
            run_batch(&db, &clock, batch, &stats, &services);
        }
    })
}

struct Slot {
    req: Request,
    outcome: Option<AppResult<Output>>,
}

fn run_batch(db: &redb::Database, clock: &SharedClock, batch: Vec<Request>, stats: &WriterStats, services: &Services) {
    let mut slots: Vec<Slot> = batch.into_iter().map(|req| Slot { req, outcome: None }).collect();
    let now = clock.now_ms();
    let hooks = loop {
        match attempt(db, now, &mut slots, services, stats) {
            Attempt::Committed(hooks) => break hooks,
            Attempt::Retry => continue,
            Attempt::Fatal(e) => {
                for s in slots.iter_mut().filter(|s| !matches!(s.outcome, Some(Err(_)))) {
                    s.outcome = Some(Err(e.clone()));
                }
                break Vec::new();
            }
        }
    };
    stats.commits.fetch_add(1, Ordering::Relaxed);
    if slots.iter().any(|s| matches!(s.outcome, Some(Err(ref e)) if e.code == "storage_failed")) {
        stats.poisoned.store(true, Ordering::SeqCst);
    }
    for hook in hooks {
        hook();
    }
    for s in slots {
        stats.jobs.fetch_add(1, Ordering::Relaxed);
        let outcome = s.outcome.unwrap_or_else(|| Err(AppError::internal("job without outcome")));
        if outcome.is_err() {
            stats.failed_jobs.fetch_add(1, Ordering::Relaxed);
        }
        let _ = s.req.reply.send(outcome);
    }
}

enum Attempt {
    Committed(Vec<Hook>),
    /// A job failed; it has its outcome and the others run again in a fresh transaction.
    Retry,
    Fatal(AppError),
}

fn storage_failed(e: impl std::fmt::Display) -> AppError {
    tracing::error!(error = %e, "storage failure");
    AppError::new(
        actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
        "storage_failed",
        "The storage is unavailable; the change was not saved",
    )
}

fn attempt(db: &redb::Database, now: i64, slots: &mut [Slot], services: &Services, stats: &WriterStats) -> Attempt {
    let started = std::time::Instant::now();
    let mut txn = match db.begin_write() {
        Ok(t) => t,
        Err(e) => return Attempt::Fatal(storage_failed(e)),
    };
    if let Err(e) = txn.set_durability(redb::Durability::Immediate) {
        return Attempt::Fatal(storage_failed(e));
    }
    // A chat server stores attacker-controlled bytes: two-phase commit closes the checksum
    // collision window described in redb's design notes (see docs/storage.md).
    txn.set_two_phase_commit(true);
    let mut hooks = Vec::new();
    for slot in slots.iter_mut() {
        if matches!(slot.outcome, Some(Err(_))) {
            continue; // failed in an earlier attempt: left out
        }
        let mut tx = Tx { txn: &txn, now, after_commit: RefCell::new(Vec::new()), services };
        let result = catch_unwind(AssertUnwindSafe(|| (slot.req.job)(&mut tx)));
        let result = result.unwrap_or_else(|_| Err(AppError::internal("a write use case panicked")));
        match result {
            Ok(v) => {
                hooks.append(tx.after_commit.get_mut());
                slot.outcome = Some(Ok(v));
            }
            Err(e) => {
                slot.outcome = Some(Err(e));
                drop(tx);
                // Abort everything this transaction did; the remaining jobs run again.
                let _ = txn.abort();
                stats.run_micros.fetch_add(micros(started.elapsed()), Ordering::Relaxed);
                for s in slots.iter_mut() {
                    if matches!(s.outcome, Some(Ok(_))) {
                        s.outcome = None;
                    }
                }
                return Attempt::Retry;
            }
        }
    }
    let committing = std::time::Instant::now();
    stats.run_micros.fetch_add(micros(committing - started), Ordering::Relaxed);
    let committed = txn.commit();
    stats.commit_micros.fetch_add(micros(committing.elapsed()), Ordering::Relaxed);
    match committed {
        Ok(()) => Attempt::Committed(hooks),
        Err(e) => Attempt::Fatal(storage_failed(e)),
    }
}

fn micros(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}
