//! Text of drive files for search and previews, extracted once per blob in the background.
//!
//! Tables:
//! - `drive_texts: sha -> Stored` (the sections of one blob, ≤ `Limits::max_output` of text, or
//!   the error that stopped extraction, so a hostile file is tried once and never again)
//! - `drive_extract_queue: seq -> Job {sha, node}` (written in the transaction that makes the
//!   blob a node's current content, see [`enqueue`])
//!
//! One worker task drains the queue in `seq` order, one file at a time (the [`Extractor`] runs
//! office and PDF parsers in a child process with limits). For each job it extracts the blob
//! unless its text is stored already, then in one write transaction stores the text, re-indexes
//! the node if the blob is still its current content and the node is live, and deletes the job.
//! The queue is in redb, so a restart resumes it.
//!
//! [`Extractor`]: crate::platform::extract::Extractor

use super::model::Node;
use super::store::{self, Rd};
use crate::error::AppResult;
use crate::platform::extract::{format_of, ExtractError, Extracted};
use crate::platform::jobs::{self, First};
use crate::platform::store::{Table, Tx};
use crate::platform::Platform;
use actix_web::web;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

pub const TEXTS: Table<String, Stored> = Table::new("drive_texts");
pub const QUEUE: Table<u64, Job> = Table::new("drive_extract_queue");

/// Longest parent chain followed when checking that a node is live (as `perm`).
const MAX_DEPTH: usize = 256;
/// The worker also looks at the queue this often, in case a wake-up was missed.
const POLL: Duration = Duration::from_secs(60);
/// How often texts of blobs no longer referenced anywhere are dropped.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// Pause after a failed round (e.g. the store refusing writes), so errors do not spin.
const BACKOFF: Duration = Duration::from_secs(5);

/// What extraction made of one blob.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Stored {
    pub extracted: Extracted,
    /// Set when extraction failed; `extracted` is then empty.
    pub error: Option<ExtractError>,
}

impl Stored {
    /// The text for the search index (empty after a failure).
    pub fn plain(&self) -> String {
        self.extracted.plain()
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Job {
    pub sha: String,
    pub node: u64,
}

/// Wakes the worker after a commit that queued a job (registered with `Store::provide`).
#[derive(Default)]
pub struct Wake(tokio::sync::Notify);

/// The stored extraction of a blob, if the worker has been through it.
pub fn stored(r: &impl Rd, sha: &str) -> AppResult<Option<Stored>> {
    r.get(&TEXTS, &sha.to_owned())
}

/// The searchable text of a file's current content ("" for folders, pending or failed files).
pub fn text_of(r: &impl Rd, n: &Node) -> AppResult<String> {
    let Some(sha) = n.sha.as_deref() else { return Ok(String::new()) };
    Ok(stored(r, sha)?.map(|s| s.plain()).unwrap_or_default())
}

/// Does this file type have text to extract?
pub fn extractable(n: &Node) -> bool {
    !n.is_folder() && n.sha.is_some() && format_of(&n.name, n.mime.as_deref()).is_some()
}

/// Queue the file's current content for extraction unless its text is stored already. Called
/// from every search (re-)index of a node inside the changing transaction, so new files,
/// versions, restores and copies are all covered; a duplicate job costs one lookup.
pub fn enqueue(tx: &Tx, n: &Node) -> AppResult<()> {
    let Some(sha) = n.sha.clone().filter(|_| extractable(n)) else { return Ok(()) };
    if stored(tx, &sha)?.is_some() {
        return Ok(());
    }
    let seq = tx.next_seq()?;
    QUEUE.open(tx.txn)?.put(&seq, &Job { sha, node: n.id })?;
    if let Some(wake) = tx.service::<Wake>() {
        tx.after_commit(move || wake.0.notify_one());
    }
    Ok(())
}

/// Jobs waiting (metrics, tests).
pub fn pending(txn: &redb::ReadTransaction) -> AppResult<u64> {
    Ok(QUEUE.read(txn)?.map(|h| h.len()).transpose()?.unwrap_or(0))
}

/// Start the worker; it resumes whatever the queue holds.
pub fn start(p: &web::Data<Platform>) {
    let wake = Arc::new(Wake::default());
    p.store.provide(wake.clone());
    start_pruning(p);
    let p = p.clone();
    actix_web::rt::spawn(async move {
        loop {
            match run_one(&p).await {
                Ok(true) => {}
                Ok(false) => {
                    tokio::select! {
                        _ = wake.0.notified() => {}
                        _ = actix_web::rt::time::sleep(POLL) => {}
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "drive text extraction failed");
                    actix_web::rt::time::sleep(BACKOFF).await;
                }
            }
        }
    });
}

/// Hourly: drop the texts of blobs nothing references any more (every live file version holds
/// a reference, so such a text can never be shown or indexed again).
fn start_pruning(p: &web::Data<Platform>) {
    jobs::every(p, "texts of deleted drive files", PRUNE_EVERY, First::AfterPeriod, |p| async move {
        p.store.write(prune_orphans).await
    });
}

/// Removes `drive_texts` rows whose blob has no reference; returns how many.
pub fn prune_orphans(tx: &mut Tx) -> AppResult<usize> {
    // Keys only: the values are up to a MiB each. (Blob names are lower-case hex.)
    let shas: Vec<String> = TEXTS.open(tx.txn)?.keys(&String::new(), &"~".to_owned())?.collect::<AppResult<_>>()?;
    let refs = crate::platform::blobs::BLOB_REFS.open(tx.txn)?;
    let mut orphans = Vec::new();
    for sha in shas {
        if refs.get(&sha)?.is_none() {
            orphans.push(sha);
        }
    }
    drop(refs);
    let mut texts = TEXTS.open(tx.txn)?;
    for sha in &orphans {
        texts.remove(sha)?;
    }
    Ok(orphans.len())
}

/// What the worker found for one job.
#[derive(Clone)]
enum Outcome {
    /// The text is stored already (a copy, a re-upload, a duplicate job).
    Known,
    /// The blob is gone (the node was purged meanwhile): nothing to store.
    Gone,
    Done(Result<Extracted, ExtractError>),
}

/// Handle the oldest job; false when the queue is empty.
async fn run_one(p: &web::Data<Platform>) -> AppResult<bool> {
    let (seq, job, node) = {
        let txn = p.store.begin_read()?;
        let Some((seq, job)) = txn.range(&QUEUE, &0, &u64::MAX, 1)?.into_iter().next() else { return Ok(false) };
        let node = txn.get(&store::NODES, &job.node)?;
        let known = stored(&txn, &job.sha)?.is_some();
        (seq, job, if known { Err(Outcome::Known) } else { Ok(node) })
    };
    let outcome = match node {
        Err(known) => known,
        Ok(node) => extract(p, &job, node).await,
    };
    p.store.write(move |tx| finish(tx, seq, &job, outcome.clone())).await?;
    Ok(true)
}

async fn extract(p: &Platform, job: &Job, node: Option<Node>) -> Outcome {
    let Ok(path) = p.blobs.path_of(&job.sha) else { return Outcome::Gone };
    if !path.exists() {
        return Outcome::Gone;
    }
    // The name decides the format; a purged node leaves nothing to search, so skip it.
    let Some(n) = node else { return Outcome::Gone };
    let result = p.extract.extract(path, &n.name, n.mime.as_deref()).await;
    if let Err(e) = &result {
        tracing::info!(node = n.id, sha = %job.sha, error = %e, "drive file has no extractable text");
    }
    Outcome::Done(result)
}

fn finish(tx: &Tx, seq: u64, job: &Job, outcome: Outcome) -> AppResult<()> {
    QUEUE.open(tx.txn)?.remove(&seq)?;
    match outcome {
        Outcome::Gone => return Ok(()),
        Outcome::Known => {}
        Outcome::Done(result) => {
            if stored(tx, &job.sha)?.is_none() {
                let row = match result {
                    Ok(extracted) => Stored { extracted, error: None },
                    Err(e) => Stored { extracted: Extracted::default(), error: Some(e) },
                };
                TEXTS.open(tx.txn)?.put(&job.sha, &row)?;
            }
        }
    }
    let Some(n) = tx.get(&store::NODES, &job.node)? else { return Ok(()) };
    if n.sha.as_deref() == Some(job.sha.as_str()) && is_live(tx, &n)? {
        super::search::index(tx, &n)?;
    }
    Ok(())
}

/// Neither the node nor an ancestor is in the bin (bin entries keep their search documents
/// deleted until restored; a restore re-indexes them with the stored text).
fn is_live(r: &impl Rd, n: &Node) -> AppResult<bool> {
    let mut cur = n.clone();
    for _ in 0..MAX_DEPTH {
        if cur.trashed.is_some() {
            return Ok(false);
        }
        let Some(parent) = cur.parent_id else { return Ok(true) };
        let Some(next) = r.get(&store::NODES, &parent)? else { return Ok(false) };
        cur = next;
    }
    Ok(false)
}
