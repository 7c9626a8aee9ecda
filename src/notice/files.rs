//! Files of announcements: uploads for a notice being written, and downloads of a notice's
//! cover, attachments and inline images (recipients and managers only).
//!
//! Served files never run on our origin: images (sniffed at upload) are shown inline with their
//! sniffed type, everything else is `application/octet-stream` as an attachment; every answer
//! has `nosniff` and an RFC 5987 file name (platform::download).

use super::model::{clean_file_name, FileRef, Upload, MAX_UPLOAD_BYTES};
use super::service::{seen, Caller, Publisher};
use super::store;
use crate::error::{AppError, AppResult};
use crate::platform::download::{serve_blob, Disposition};
use crate::platform::http::{receive_file, sniff_image};
use crate::platform::Platform;
use actix_web::{HttpRequest, HttpResponse};

/// Store an upload for `who`'s next notice (≤ 20 MB; 413 beyond).
pub async fn upload(p: &Platform, who: &Publisher, mp: actix_multipart::Multipart) -> AppResult<FileRef> {
    let up = receive_file(p, mp, MAX_UPLOAD_BYTES).await?;
    let sha = up.blob.sha256.clone();
    let name = clean_file_name(&up.filename);
    let (image, mime) = match sniff_image(p, &sha) {
        Ok(t) => (true, t.to_owned()),
        Err(_) => (false, mime_guess::from_path(&name).first_or_octet_stream().essence_str().to_owned()),
    };
    let file = FileRef { sha, name, size: up.blob.size, mime, image };
    let user = who.caller.user_id;
    let f = file.clone();
    p.store.write(move |tx| store::add_upload(tx, user, &Upload { file: f.clone(), created_at: tx.now })).await?;
    Ok(file)
}

/// `GET /notices/uploads/{sha}`: the caller's own pending upload (the editor's preview).
pub fn own_upload(req: &HttpRequest, p: &Platform, user: u64, sha: &str) -> AppResult<HttpResponse> {
    let u = store::find_upload(&p.store.begin_read()?, user, sha)?.ok_or_else(|| AppError::not_found("file"))?;
    serve(req, p, &u.file)
}

/// `GET /notices/{id}/files/{sha}`.
pub fn download(req: &HttpRequest, p: &Platform, caller: &Caller, id: u64, sha: &str) -> AppResult<HttpResponse> {
    let s = seen(&p.store.begin_read()?, caller, id, p.now_ms())?;
    let f = s.notice.file(sha).ok_or_else(|| AppError::not_found("file"))?;
    serve(req, p, f)
}

fn serve(req: &HttpRequest, p: &Platform, f: &FileRef) -> AppResult<HttpResponse> {
    let (mime, disposition) = if f.image {
        (f.mime.as_str(), Disposition::Inline)
    } else {
        ("application/octet-stream", Disposition::Attachment)
    };
    serve_blob(req, p, &f.sha, &f.name, mime, disposition)
}
