//! Hourly chat housekeeping: idempotency entries older than [`store::SEND_ID_DAYS`] go, in
//! bounded transactions so a large backlog never holds the writer for long.

use super::store;
use crate::platform::jobs::{self, First};
use crate::platform::Platform;
use actix_web::web;

const BATCH: usize = 5_000;

pub fn start_jobs(p: &web::Data<Platform>) {
    let hourly = std::time::Duration::from_secs(3600);
    jobs::every(p, "old chat idempotency keys", hourly, First::AtStart, |p| async move { trim_send_ids(&p).await });
}

/// Trim until nothing old is left; returns how many entries went.
pub async fn trim_send_ids(p: &Platform) -> crate::error::AppResult<usize> {
    let mut total = 0;
    loop {
        let n = p.store.write(|tx| store::trim_send_ids(tx, BATCH)).await?;
        total += n;
        if n < BATCH {
            return Ok(total);
        }
    }
}
