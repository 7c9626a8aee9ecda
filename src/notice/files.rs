//! Files of announcements: uploads for a notice being written, and downloads of a notice's
//! cover, attachments and inline images (recipients and managers only).
//!
//! Served files never run on our origin: images (sniffed at upload) are shown inline with their
//! sniffed type, everything else is `application/octet-stream` as an attachment; every answer
//! has `nosniff` and an RFC 5987 file name.

use super::model::{clean_file_name, FileRef, Upload, MAX_UPLOAD_BYTES};
use super::service::{seen, Caller, Publisher};
use super::store;
use crate::error::{AppError, AppResult};
use crate::platform::http::{blob_response, receive_file, sniff_image};
use crate::platform::Platform;
use actix_web::http::header::{self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue};
use actix_web::HttpResponse;

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
pub fn own_upload(p: &Platform, user: u64, sha: &str) -> AppResult<HttpResponse> {
    let u = store::find_upload(&p.store.begin_read()?, user, sha)?.ok_or_else(|| AppError::not_found("file"))?;
    serve(p, &u.file)
}

/// `GET /notices/{id}/files/{sha}`.
pub fn download(p: &Platform, caller: &Caller, id: u64, sha: &str) -> AppResult<HttpResponse> {
    let s = seen(&p.store.begin_read()?, caller, id, p.now_ms())?;
    let f = s.notice.file(sha).ok_or_else(|| AppError::not_found("file"))?;
    serve(p, f)
}

fn serve(p: &Platform, f: &FileRef) -> AppResult<HttpResponse> {
    let (mime, disposition) = if f.image {
        (f.mime.as_str(), DispositionType::Inline)
    } else {
        ("application/octet-stream", DispositionType::Attachment)
    };
    let mut res = blob_response(p, &f.sha, mime)?;
    let cd = content_disposition(&f.name, disposition).to_string();
    let h = res.headers_mut();
    if let Ok(v) = header::HeaderValue::from_str(&cd) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, header::HeaderValue::from_static("nosniff"));
    Ok(res)
}

/// An ASCII stand-in for old clients (RFC 6266 `filename`) plus the UTF-8 name (RFC 5987
/// `filename*`), so Chinese names arrive intact.
pub fn content_disposition(name: &str, disposition: DispositionType) -> ContentDisposition {
    let clean: String = name.chars().filter(|c| !c.is_control()).collect();
    let ascii: String = clean
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    ContentDisposition {
        disposition,
        parameters: vec![
            DispositionParam::Filename(if ascii.trim().is_empty() { "download".into() } else { ascii }),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: clean.into_bytes(),
            }),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_survive_in_utf8_and_cannot_split_headers() {
        let cd = content_disposition("通知 \"终版\".pdf", DispositionType::Attachment).to_string();
        assert!(cd.starts_with("attachment"), "{cd}");
        assert!(cd.contains("filename*=UTF-8''%E9%80%9A"), "{cd}");
        let cd = content_disposition("a\r\nSet-Cookie: x=1", DispositionType::Inline).to_string();
        assert!(!cd.contains('\r') && !cd.contains('\n'), "{cd}");
    }
}
