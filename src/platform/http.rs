//! Small HTTP helpers shared by all features: client IP, TLS detection, pagination, uploads.

use crate::error::{AppError, AppResult};
use crate::platform::Platform;
use actix_web::HttpRequest;
use serde::{Deserialize, Serialize};

/// The client's IP: the socket peer, or the first `X-Forwarded-For` hop when `trust_proxy` is on.
pub fn client_ip(req: &HttpRequest, trust_proxy: bool) -> String {
    if trust_proxy {
        if let Some(ip) = req.connection_info().realip_remote_addr() {
            return ip.to_owned();
        }
    }
    req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default()
}

/// True when the browser reached us over https (directly, via a trusted proxy or by config).
pub fn is_https(req: &HttpRequest, p: &Platform) -> bool {
    if p.config.public_url.starts_with("https://") {
        return true;
    }
    if p.config.trust_proxy {
        return req.connection_info().scheme() == "https";
    }
    req.app_config().secure()
}

/// The external base URL for links in mails and QR codes.
pub fn base_url(req: &HttpRequest, p: &Platform) -> String {
    if !p.config.public_url.is_empty() {
        return p.config.public_url.clone();
    }
    let info = req.connection_info();
    let scheme = if p.config.trust_proxy {
        info.scheme()
    } else if req.app_config().secure() {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{}", info.host())
}

pub fn user_agent(req: &HttpRequest) -> String {
    req.headers().get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
}

#[derive(Debug, Deserialize, Default)]
pub struct PageQuery {
    pub cursor: Option<String>,
    pub limit: Option<usize>,
}

impl PageQuery {
    pub fn limit(&self) -> usize {
        self.limit.unwrap_or(50).clamp(1, 200)
    }
    /// Cursors are opaque to clients; ours are decimal ids.
    pub fn cursor_u64(&self) -> AppResult<Option<u64>> {
        match self.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => Ok(None),
            Some(c) => {
                c.parse().map(Some).map_err(|_| AppError::bad_request("invalid_cursor", "The cursor is not valid"))
            }
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    pub fn new(items: Vec<T>, next: Option<u64>) -> Self {
        Page { items, next_cursor: next.map(|n| n.to_string()) }
    }
}

/// A file taken from a multipart upload's `file` part, stored in the blob store.
pub struct Upload {
    pub blob: crate::platform::blobs::BlobRef,
    pub filename: String,
}

/// Stream the multipart part named `file` into the blob store (never whole in memory).
pub async fn receive_file(p: &Platform, mut mp: actix_multipart::Multipart, limit: u64) -> AppResult<Upload> {
    use futures_util::StreamExt;
    while let Some(field) = mp.next().await {
        let field = field.map_err(|e| AppError::bad_request("bad_multipart", format!("Malformed upload: {e}")))?;
        let cd = field.content_disposition().cloned();
        if cd.as_ref().and_then(|c| c.get_name()) != Some("file") {
            continue;
        }
        let filename = cd.as_ref().and_then(|c| c.get_filename()).unwrap_or("upload").to_owned();
        let ct = field.content_type().map(|m| m.to_string()).unwrap_or_default();
        let blob = p.blobs.put_stream(field, limit, &ct).await?;
        return Ok(Upload { blob, filename });
    }
    Err(AppError::bad_request("file_missing", "The upload has no part named `file`"))
}

/// Sniff an uploaded image by its magic bytes (never trust the declared type).
pub fn sniff_image(p: &Platform, sha: &str) -> AppResult<&'static str> {
    use std::io::Read;
    let mut head = [0u8; 12];
    let mut f = p.blobs.open_file(sha)?;
    let n = f.read(&mut head)?;
    let head = &head[..n];
    let t = if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if head.starts_with(&[0xff, 0xd8, 0xff]) {
        "image/jpeg"
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        "image/gif"
    } else if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        "image/webp"
    } else {
        return Err(AppError::invalid("file", "invalid_image", "The file is not a PNG, JPEG, GIF or WebP image"));
    };
    Ok(t)
}

/// Serve a stored blob with a safe type and no sniffing.
pub fn blob_response(p: &Platform, sha: &str, content_type: &str) -> AppResult<actix_web::HttpResponse> {
    let file = p.blobs.open_file(sha)?;
    let len = file.metadata()?.len();
    let body = actix_web::body::SizedStream::new(len, file_stream(file));
    Ok(actix_web::HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Cache-Control", "private, max-age=300"))
        .insert_header(("ETag", format!("\"{sha}\"")))
        .body(body))
}

/// Read a file in 64 KiB chunks on tokio's blocking pool.
pub fn file_stream(
    file: std::fs::File,
) -> impl futures_util::Stream<Item = Result<actix_web::web::Bytes, std::io::Error>> {
    use tokio::io::AsyncReadExt;
    futures_util::stream::unfold(Some(tokio::fs::File::from_std(file)), |state| async move {
        let mut f = state?;
        let mut buf = vec![0u8; 64 * 1024];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(actix_web::web::Bytes::from(buf)), Some(f)))
            }
            Err(e) => Some((Err(e), None)),
        }
    })
}

/// An .xlsx download (exports, templates).
pub fn xlsx_response(bytes: Vec<u8>, filename: &str) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{filename}\"")))
        .insert_header(("Cache-Control", "no-store"))
        .body(bytes)
}
