//! Periodic background jobs (bin purges, expiries, trims, garbage collection): each is a loop
//! on the server's runtime with the same timing, logging and failure handling, so a feature
//! states only what its job does and how often.
//!
//! A job returns how many things it did (rows removed, notices published...); a round that did
//! nothing is not logged, one that failed is logged and retried at the next round. Jobs that
//! walk files or hold the CPU for long run on the blocking pool ([`every_blocking`]); jobs that
//! write go through the store's writer in bounded transactions.

use crate::error::{AppError, AppResult};
use crate::platform::Platform;
use actix_web::web;
use std::future::Future;
use std::time::Duration;

/// When a job first runs after the server starts.
#[derive(Debug, Clone, Copy)]
pub enum First {
    /// At start (work left over from before a restart is done now).
    AtStart,
    /// One period after start (nothing is urgent; keep start-up quiet).
    AfterPeriod,
}

/// Run `job` every `period` for the life of the server. `name` says what it does in the log
/// ("drive bin purge").
pub fn every<F, Fut>(p: &web::Data<Platform>, name: &'static str, period: Duration, first: First, job: F)
where
    F: Fn(web::Data<Platform>) -> Fut + 'static,
    Fut: Future<Output = AppResult<usize>> + 'static,
{
    let p = p.clone();
    actix_web::rt::spawn(async move {
        if let First::AfterPeriod = first {
            actix_web::rt::time::sleep(period).await;
        }
        loop {
            match job(p.clone()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(job = name, count = n, "{name}: {n} done"),
                Err(e) => tracing::error!(job = name, error = %e, "{name} failed; retrying at the next round"),
            }
            actix_web::rt::time::sleep(period).await;
        }
    });
}

/// [`every`] for a blocking job (file system walks), run on the blocking pool.
pub fn every_blocking<F>(p: &web::Data<Platform>, name: &'static str, period: Duration, first: First, job: F)
where
    F: Fn(&Platform) -> AppResult<usize> + Send + Sync + Clone + 'static,
{
    every(p, name, period, first, move |p| {
        let job = job.clone();
        async move { web::block(move || job(&p)).await.map_err(AppError::internal)? }
    });
}
