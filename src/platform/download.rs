//! Serving stored files to browsers: HTTP Range (resume, media seeking), ETag and
//! If-None-Match / If-Modified-Since (by actix-files), `nosniff`, and a Content-Disposition
//! whose file name survives in every browser (RFC 6266 `filename` in ASCII plus RFC 5987
//! `filename*` in UTF-8, so Chinese names arrive intact).
//!
//! Types a browser would run (HTML, SVG, XML, JavaScript) are always sent as attachments.

use crate::error::AppResult;
use crate::platform::Platform;
use actix_files::NamedFile;
use actix_web::http::header::{Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue};
use actix_web::{HttpRequest, HttpResponse, Responder};

/// Whether the browser should show the file or save it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Disposition {
    Inline,
    Attachment,
}

/// Longest file name kept (characters).
pub const MAX_FILE_NAME_CHARS: usize = 200;

/// A safe display name from what a client sent: no directory part, no control characters,
/// at most [`MAX_FILE_NAME_CHARS`]; empty, `.` and `..` become `file`.
pub fn clean_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String =
        base.chars().filter(|c| !c.is_control()).take(MAX_FILE_NAME_CHARS).collect::<String>().trim().to_owned();
    if clean.is_empty() || clean == "." || clean == ".." {
        "file".into()
    } else {
        clean
    }
}

/// MIME types that must never render inline on our origin.
fn is_active_content(mime: &str) -> bool {
    let m = mime.to_ascii_lowercase();
    m.contains("html") || m.contains("svg") || m.contains("xml") || m.contains("javascript") || m.contains("ecmascript")
}

/// An ASCII stand-in for the file name (for old clients): non-ASCII and quotes become `_`.
fn ascii_fallback(name: &str) -> String {
    let s: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    if s.trim().is_empty() {
        "download".into()
    } else {
        s
    }
}

pub fn content_disposition(name: &str, disposition: Disposition) -> ContentDisposition {
    let clean: String = name.chars().filter(|c| !c.is_control()).collect();
    ContentDisposition {
        disposition: match disposition {
            Disposition::Inline => DispositionType::Inline,
            Disposition::Attachment => DispositionType::Attachment,
        },
        parameters: vec![
            DispositionParam::Filename(ascii_fallback(&clean)),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: clean.into_bytes(),
            }),
        ],
    }
}

/// Serve blob `sha` as `name` with type `mime`.
pub fn serve_blob(
    req: &HttpRequest,
    p: &Platform,
    sha: &str,
    name: &str,
    mime: &str,
    disposition: Disposition,
) -> AppResult<HttpResponse> {
    let file = p.blobs.open_file(sha)?;
    let body_file = file.try_clone()?;
    let path = p.blobs.path_of(sha)?;
    let mime_type: mime_guess::mime::Mime = mime.parse().unwrap_or(mime_guess::mime::APPLICATION_OCTET_STREAM);
    let disposition = if is_active_content(mime) { Disposition::Attachment } else { disposition };
    let named = NamedFile::from_file(file, path)?
        .set_content_type(mime_type)
        .set_content_disposition(content_disposition(name, disposition))
        .use_last_modified(true)
        .use_etag(true);
    let mut res = larger_chunks(named.respond_to(req).map_into_boxed_body(), body_file);
    let h = res.headers_mut();
    h.insert(
        actix_web::http::header::X_CONTENT_TYPE_OPTIONS,
        actix_web::http::header::HeaderValue::from_static("nosniff"),
    );
    h.insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("private, max-age=3600"),
    );
    Ok(res)
}

/// Bytes read per trip to the blocking pool when streaming a file out.
const CHUNK: u64 = 512 * 1024;

/// actix-files decides the status and headers (Range, ETag, preconditions) but streams the body
/// 64 KiB at a time, each a seek, a read and a blocking-pool round trip: a 1 GiB download cost
/// ~2 s of server CPU and ran at half the disk's read speed (benches/drive.rs). The same bytes
/// (the whole file for 200, the `Content-Range` span for 206) are sent here in 512 KiB
/// positioned reads instead, the next one running while the last is sent. Any other answer
/// (304, 412, 416) keeps its own (empty) body.
fn larger_chunks(res: HttpResponse, file: std::fs::File) -> HttpResponse {
    use actix_web::body::{BoxBody, SizedStream};
    use actix_web::http::StatusCode;
    let span = match res.status() {
        StatusCode::OK => file.metadata().ok().map(|m| (0, m.len())),
        StatusCode::PARTIAL_CONTENT => content_range(res.headers()),
        _ => None,
    };
    let Some((start, len)) = span else { return res };
    use futures_util::StreamExt;
    let file = std::sync::Arc::new(file);
    let end = start + len;
    // Two reads in flight: the next chunk comes off the disk while this one is being sent.
    let chunks = futures_util::stream::iter((start..end).step_by(CHUNK as usize))
        .map(move |at| {
            let file = file.clone();
            let n = CHUNK.min(end - at) as usize;
            async move {
                tokio::task::spawn_blocking(move || {
                    use std::os::unix::fs::FileExt;
                    let mut buf = vec![0u8; n];
                    file.read_exact_at(&mut buf, at).map(|_| actix_web::web::Bytes::from(buf))
                })
                .await
                .unwrap_or_else(|e| Err(std::io::Error::other(e)))
            }
        })
        .buffered(2);
    res.set_body(BoxBody::new(SizedStream::new(len, Box::pin(chunks))))
}

/// `(start, length)` from a 206's `Content-Range: bytes a-b/total`.
fn content_range(h: &actix_web::http::header::HeaderMap) -> Option<(u64, u64)> {
    let v = h.get(actix_web::http::header::CONTENT_RANGE)?.to_str().ok()?;
    let (a, b) = v.strip_prefix("bytes ")?.split_once('/')?.0.split_once('-')?;
    let (a, b): (u64, u64) = (a.parse().ok()?, b.parse().ok()?);
    (b >= a).then_some((a, b - a + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_spans() {
        let mut h = actix_web::http::header::HeaderMap::new();
        let v = actix_web::http::header::HeaderValue::from_static("bytes 100-199/1000");
        h.insert(actix_web::http::header::CONTENT_RANGE, v);
        assert_eq!(content_range(&h), Some((100, 100)));
        let v = actix_web::http::header::HeaderValue::from_static("bytes */1000");
        h.insert(actix_web::http::header::CONTENT_RANGE, v);
        assert_eq!(content_range(&h), None);
    }

    #[test]
    fn chinese_names_get_an_ascii_fallback_and_utf8() {
        let cd = content_disposition("季度报告 \"终版\".pdf", Disposition::Attachment).to_string();
        assert!(cd.starts_with("attachment"), "{cd}");
        assert!(cd.contains("filename*=UTF-8''%E5%AD%A3"), "{cd}");
        assert!(!cd.contains('\r') && !cd.contains('\n'));
    }

    #[test]
    fn crlf_in_a_name_cannot_split_headers() {
        let cd = content_disposition("a\r\nSet-Cookie: x=1.txt", Disposition::Inline).to_string();
        assert!(!cd.contains('\r') && !cd.contains('\n'), "{cd}");
    }

    #[test]
    fn file_names_lose_paths_and_controls() {
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("C:\\tmp\\报价单\r\n.xlsx"), "报价单.xlsx");
        assert_eq!(clean_file_name(".."), "file");
        assert_eq!(clean_file_name("   "), "file");
    }

    #[test]
    fn active_types_are_never_inline() {
        assert!(is_active_content("text/html; charset=utf-8"));
        assert!(is_active_content("image/svg+xml"));
        assert!(!is_active_content("image/png"));
    }
}
