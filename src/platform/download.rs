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
    let path = p.blobs.path_of(sha)?;
    let mime_type: mime_guess::mime::Mime = mime.parse().unwrap_or(mime_guess::mime::APPLICATION_OCTET_STREAM);
    let disposition = if is_active_content(mime) { Disposition::Attachment } else { disposition };
    let named = NamedFile::from_file(file, path)?
        .set_content_type(mime_type)
        .set_content_disposition(content_disposition(name, disposition))
        .use_last_modified(true)
        .use_etag(true);
    let mut res = named.respond_to(req).map_into_boxed_body();
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

#[cfg(test)]
mod tests {
    use super::*;

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
