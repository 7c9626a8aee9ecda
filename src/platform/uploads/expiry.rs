//! Expiration: a job removes uploads whose `Upload-Expires` has passed, their temp files, and
//! temp files that no upload owns (a crash between a row's removal and its file's).

use super::{receive, service, store};
use crate::error::AppResult;
use crate::platform::jobs::{self, First};
use crate::platform::Platform;
use actix_web::web;
use std::time::{Duration, SystemTime};

/// How often the job runs.
const EVERY: Duration = Duration::from_secs(600);
/// A temp file without a row is left alone this long (its row may be committing right now).
const ORPHAN_GRACE: Duration = Duration::from_secs(3600);

pub fn start_job(p: &web::Data<Platform>) {
    jobs::every_blocking(p, "expired uploads", EVERY, First::AfterPeriod, remove_expired);
}

/// Remove every expired upload nobody is writing to right now, then sweep orphan temp files.
/// Blocking (call from a blocking thread). Returns how many uploads were removed.
pub fn remove_expired(p: &Platform) -> AppResult<usize> {
    let svc = service(&p.store)?;
    let expired = store::expired(&p.store.begin_read()?, p.now_ms())?;
    let mut removed = 0;
    for up in expired {
        // A PATCH in progress renews the expiry when it ends; skip it this round.
        let Ok(_busy) = svc.lock(up.id) else { continue };
        let (user, id) = (up.user, up.id);
        let gone = p.store.write_blocking(move |tx| {
            let t = store::UPLOADS.open(tx.txn)?;
            let still_expired = t.get(&(user, id))?.is_some_and(|u| u.expires_at <= tx.now);
            drop(t);
            if still_expired {
                store::remove(tx, user, id)?;
            }
            Ok(still_expired)
        })?;
        if gone {
            receive::remove_part(&svc, id);
            removed += 1;
        }
    }
    sweep_orphans(p)?;
    Ok(removed)
}

fn sweep_orphans(p: &Platform) -> AppResult<()> {
    let svc = service(&p.store)?;
    // The snapshot comes first: a file created after it belongs to a row the grace protects.
    let live = store::all_ids(&p.store.begin_read()?)?;
    let cutoff = SystemTime::now().checked_sub(ORPHAN_GRACE).unwrap_or(SystemTime::UNIX_EPOCH);
    for entry in std::fs::read_dir(svc.dir())? {
        let path = entry?.path();
        let id = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".part")?.parse::<u64>().ok());
        let owned = id.is_some_and(|id| live.contains(&id));
        let old = std::fs::metadata(&path).and_then(|m| m.modified()).is_ok_and(|t| t < cutoff);
        if !owned && old && path.is_file() {
            std::fs::remove_file(&path)?;
        }
    }
    Ok(())
}
