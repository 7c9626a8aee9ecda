//! Shared machinery that knows no feature. [`Platform`] bundles what every feature needs and is
//! registered as actix app data.

pub mod audit;
pub mod auth;
pub mod backup;
pub mod blobs;
pub mod clock;
pub mod download;
pub mod extract;
pub mod http;
pub mod jobs;
pub mod mail;
pub mod metrics;
pub mod realtime;
pub mod search;
pub mod settings;
pub mod store;
pub mod uploads;
pub mod web;

use crate::config::Config;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub struct Platform {
    pub config: Config,
    pub store: store::Store,
    pub blobs: blobs::Blobs,
    pub throttle: auth::throttle::Throttle,
    pub metrics: Arc<metrics::Metrics>,
    /// Cached "the setup wizard has completed"; flipped once after the setup commit.
    pub setup_done: AtomicBool,
    /// Secret for the local control API used by the CLI (`officebox backup` against a running
    /// server); written to `<data>/run.json` with mode 0600.
    pub control_token: String,
    /// Sends a graceful-shutdown request (e.g. after a staged restore) to the serve loop.
    pub shutdown: tokio::sync::watch::Sender<Option<Shutdown>>,
    /// Full-text search (`index/`); its indexer thread starts with the background jobs.
    pub search: search::Search,
    /// Open WebSockets and after-commit delivery to them.
    pub realtime: realtime::Realtime,
    /// Text out of uploaded files (drive previews and search), parsers in a child process.
    pub extract: extract::Extractor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    /// Stop and start again (applies a staged restore on the way).
    Restart,
}

impl Platform {
    pub fn is_setup_done(&self) -> bool {
        self.setup_done.load(Ordering::Acquire)
    }
    pub fn now_ms(&self) -> i64 {
        self.store.now_ms()
    }
}
