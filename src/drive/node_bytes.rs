//! A file's bytes, thumbnail and preview for a reader whose access was already checked (share
//! links today; the signed-in handlers can call the same functions). No permission logic here.

use super::model::{is_thumbnailable, preview_kind, Node};
use super::store;
use crate::error::{AppError, AppResult};
use crate::platform::download::{serve_blob, Disposition};
use crate::platform::Platform;
use actix_web::http::header::{HeaderValue, CONTENT_SECURITY_POLICY, X_FRAME_OPTIONS};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

/// Longest side of a drive thumbnail (the contract says ≤ 320 px).
const THUMB_SIDE: u32 = 320;
/// Decoder limits (as for chat images): a decompression bomb is refused before any pixel.
const MAX_SIDE: u32 = 12_000;
const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;

/// HTML, SVG, XML, JS: never rendered inline from our origin.
pub fn is_active(mime: &str) -> bool {
    let m = mime.to_ascii_lowercase();
    m.contains("html") || m.contains("svg") || m.contains("xml") || m.contains("javascript") || m.contains("ecmascript")
}

/// May a preview-only reader get these bytes inline? (images, pdf, audio, video)
pub fn inline_previewable(n: &Node) -> bool {
    let mime = n.mime.as_deref().unwrap_or("");
    !is_active(mime) && matches!(preview_kind(mime, &n.name), Some("image" | "pdf" | "audio" | "video"))
}

pub fn download_forbidden() -> AppError {
    AppError::new(StatusCode::FORBIDDEN, "download_forbidden", "You may preview this file but not download it")
}

pub fn require_file(n: &Node) -> AppResult<()> {
    if n.is_folder() {
        return Err(AppError::invalid("id", "not_a_file", "This item is a folder"));
    }
    Ok(())
}

/// The current version's bytes (Range, ETag, RFC 5987 name, `nosniff`; active types as
/// sandboxed attachments).
pub fn serve_content(req: &HttpRequest, p: &Platform, n: &Node, disposition: Disposition) -> AppResult<HttpResponse> {
    require_file(n)?;
    let sha = n.sha.as_deref().ok_or_else(|| AppError::internal(format!("drive file {} without content", n.id)))?;
    serve_bytes(req, p, sha, &n.name, n.mime.as_deref().unwrap_or("application/octet-stream"), disposition)
}

/// Any version's bytes, with the headers every drive download carries. Active types are
/// sandboxed (and `serve_blob` makes them attachments); other inline content may be framed by
/// our own pages only, so the preview modal can show a PDF in an `<iframe>` while every other
/// response keeps `frame-ancestors 'none'` / `X-Frame-Options: DENY`.
pub fn serve_bytes(
    req: &HttpRequest,
    p: &Platform,
    sha: &str,
    name: &str,
    mime: &str,
    disposition: Disposition,
) -> AppResult<HttpResponse> {
    let mut res = serve_blob(req, p, sha, name, mime, disposition)?;
    let h = res.headers_mut();
    if is_active(mime) {
        h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox"));
    } else if disposition == Disposition::Inline {
        h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static("frame-ancestors 'self'"));
        h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN"));
    }
    Ok(res)
}

/// The preview body (see [`super::preview`]); 422 `no_preview` for types without one.
pub async fn preview(p: &web::Data<Platform>, n: &Node) -> AppResult<Value> {
    require_file(n)?;
    let Some(kind) = super::preview::kind_of(n) else {
        return Err(AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "no_preview", "This file type has no preview"));
    };
    super::preview::of_file(p, n, kind).await
}

/// The thumbnail blob of an image file, generated once and cached on the node (the node row
/// then holds a reference to it).
pub async fn thumbnail(p: &web::Data<Platform>, n: &Node) -> AppResult<String> {
    let mime = n.mime.clone().unwrap_or_default();
    if n.is_folder() || !is_thumbnailable(&mime) {
        return Err(AppError::not_found("thumbnail"));
    }
    if let Some(t) = n.thumb_sha.as_deref().filter(|t| p.blobs.exists(t)) {
        return Ok(t.to_owned());
    }
    let src = n.sha.clone().unwrap_or_default();
    let p2 = p.clone();
    let thumb = web::block(move || make_thumbnail(&p2, &src)).await.map_err(AppError::internal)??;
    let (id, for_sha, t) = (n.id, n.sha.clone(), thumb.clone());
    p.store
        .write(move |tx| {
            // Cache it only if the file has not changed meanwhile.
            let Ok(mut cur) = store::node(tx, id) else { return Ok(()) };
            if cur.sha == for_sha && cur.thumb_sha.is_none() {
                crate::platform::blobs::add_ref(tx, &t)?;
                cur.thumb_sha = Some(t.clone());
                store::put_node(tx, &cur)?;
            }
            Ok(())
        })
        .await?;
    Ok(thumb)
}

fn make_thumbnail(p: &Platform, sha: &str) -> AppResult<String> {
    let bad = |why: String| AppError::invalid("file", "invalid_image", format!("The image cannot be read: {why}"));
    let file = p.blobs.open_file(sha)?;
    let mut reader =
        image::ImageReader::new(std::io::BufReader::new(file)).with_guessed_format().map_err(|e| bad(e.to_string()))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| bad(e.to_string()))?;
    let thumb = img.thumbnail(THUMB_SIDE, THUMB_SIDE).into_rgb8();
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 80)
        .encode_image(&thumb)
        .map_err(|e| bad(e.to_string()))?;
    Ok(p.blobs.put_reader(&bytes[..], u64::MAX, "image/jpeg")?.sha256)
}
