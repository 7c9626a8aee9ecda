//! PATCH: append a request body to an upload's temp file in constant memory, make it durable,
//! then persist the new offset or, at `Upload-Length`, complete the upload.
//!
//! Completion failure (the purpose refuses: a name taken meanwhile, quota, ...) removes the
//! upload. Keeping it would not help the client: tus-js-client, resuming an upload whose
//! `HEAD` says every byte is there, reports success without another PATCH, so completion would
//! never run again. Removed, its `HEAD` is 404 and a retry starts a new upload. The received file
//! is already in the blob store by then, so sending the same content again costs no extra disk
//! (unreferenced, it is collected after a day like any orphan blob).

use super::model::Upload;
use super::part::{Part, Pipeline};
use super::{store, Busy, Uploader, Uploads};
use crate::error::{AppError, AppResult};
use crate::platform::Platform;
use actix_web::http::StatusCode;
use actix_web::web;
use futures_util::StreamExt;
use sha2::Digest;
use std::path::PathBuf;
use std::sync::Arc;

/// What a PATCH achieved.
pub(super) enum Outcome {
    /// Appended and persisted up to `upload.offset`; `interrupted` when the body ended early
    /// (what arrived before is kept).
    Progress { upload: Upload, interrupted: Option<AppError> },
    /// The last byte arrived and the purpose created its object.
    Completed { length: u64, result: serde_json::Value },
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> AppResult<T> + Send + 'static) -> AppResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(AppError::internal)?
}

/// Receive one PATCH body for `up` (locked by `busy`, offset already checked). Runs as its own
/// task, so a client that disconnects cannot cancel it between the sync and the commit.
pub(super) async fn run(
    p: web::Data<Platform>,
    svc: Arc<Uploads>,
    busy: Busy,
    up: Upload,
    who: Uploader,
    mut body: web::Payload,
) -> AppResult<Outcome> {
    let _busy = busy;
    let path = svc.part_path(up.id);
    let cached = svc.take_hash(up.id, up.offset);
    let (at, offset) = (path.clone(), up.offset);
    let part = blocking(move || Part::open(&at, offset, cached)).await?;
    let idle = svc.limits().idle_timeout;
    let room = up.length - up.offset;
    let (mut received, mut interrupted) = (0u64, None);
    // While the body is copied into batches, earlier batches are written and hashed (part.rs).
    let mut pipe = Pipeline::new(part);
    loop {
        let chunk = match tokio::time::timeout(idle, body.next()).await {
            Ok(Some(Ok(chunk))) => chunk,
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                interrupted = Some(AppError::bad_request("upload_interrupted", format!("The body ended early: {e}")));
                break;
            }
            Err(_) => {
                interrupted =
                    Some(AppError::new(StatusCode::REQUEST_TIMEOUT, "upload_stalled", "No data arrived for too long"));
                break;
            }
        };
        received += chunk.len() as u64;
        if received > room {
            // Nothing of this PATCH is persisted; the next one truncates what was written. Wait
            // for the batches in flight first: the upload's lock must outlive every write.
            pipe.abandon().await;
            return Err(AppError::bad_request("upload_overflow", "The body goes past Upload-Length"));
        }
        pipe.append(&chunk).await?;
    }
    let part = pipe.finish().await?;
    // Durable before the offset that promises it is committed.
    let part = blocking(move || part.sync().map(|()| part)).await?;
    if part.len() == up.length {
        let length = up.length;
        return complete(&p, &svc, up, who, part, path).await.map(|result| Outcome::Completed { length, result });
    }
    let upload = if part.len() > up.offset {
        let (user, id, offset, ttl) = (up.user, up.id, part.len(), svc.limits().ttl_ms);
        p.store.write(move |tx| store::advance(tx, user, id, offset, tx.now + ttl)).await?
    } else {
        up
    };
    svc.put_hash(upload.id, upload.offset, part.hash);
    Ok(Outcome::Progress { upload, interrupted })
}

/// Every byte is there: move the file into the blob store, then let the purpose create its
/// object and remove the upload in one transaction. Any failure removes the upload.
async fn complete(
    p: &web::Data<Platform>,
    svc: &Arc<Uploads>,
    up: Upload,
    who: Uploader,
    part: Part,
    path: PathBuf,
) -> AppResult<serde_json::Value> {
    let sha = hex::encode(part.close().finalize());
    let result = finish(p, svc, &up, who, sha, path).await;
    if result.is_err() {
        if let Err(e) = discard(p, svc, up.user, up.id).await {
            tracing::error!(error = %e, upload = up.id, "cannot remove an upload whose completion failed");
        }
    }
    svc.forget(up.id);
    result
}

async fn finish(
    p: &web::Data<Platform>,
    svc: &Arc<Uploads>,
    up: &Upload,
    who: Uploader,
    sha: String,
    path: PathBuf,
) -> AppResult<serde_json::Value> {
    let purpose = svc.purpose(&up.purpose).ok_or_else(|| {
        AppError::new(StatusCode::GONE, "upload_purpose_gone", "This kind of upload is no longer accepted")
    })?;
    let blobs = p.blobs.clone();
    let content_type = up.metadata.get("filetype").unwrap_or_default().to_owned();
    let blob = blocking(move || blobs.adopt_file(&path, &sha, &content_type)).await?;
    let (user, id, metadata) = (up.user, up.id, up.metadata.clone());
    p.store
        .write(move |tx| {
            store::remove(tx, user, id)?.ok_or_else(|| AppError::not_found("upload"))?;
            (purpose.complete)(tx, &who, &metadata, &blob)
        })
        .await
}

/// Remove an upload: its row, then its temp file (if any) and its state in memory.
pub(super) async fn discard(p: &Platform, svc: &Uploads, user: u64, id: u64) -> AppResult<bool> {
    let existed = p.store.write(move |tx| store::remove(tx, user, id)).await?.is_some();
    remove_part(svc, id);
    Ok(existed)
}

pub(super) fn remove_part(svc: &Uploads, id: u64) {
    match std::fs::remove_file(svc.part_path(id)) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        // The expiry job's sweep retries files no row owns.
        Err(e) => tracing::warn!(error = %e, upload = id, "cannot remove an upload's temp file"),
    }
    svc.forget(id);
}
