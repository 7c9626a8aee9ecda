//! Bytes out: file content (Range, ETag, RFC 5987 names, `nosniff` via
//! `platform::download::serve_blob`), thumbnails (generated once, cached as a blob) and the
//! streaming zip of a selection.
//!
//! Preview-only readers get content only inline and only for previewable, non-active types
//! (403 `download_forbidden` otherwise). Active types (HTML, SVG, XML, JS) are always
//! attachments and carry `Content-Security-Policy: sandbox`.

use super::model::{is_thumbnailable, preview_kind, Node, Role};
use super::nodes;
use super::perm::{self, Principals};
use super::store::{self, Rd};
use super::versions;
use crate::error::{AppError, AppResult};
use crate::platform::auth::extract::Auth;
use crate::platform::download::{content_disposition, serve_blob, Disposition};
use crate::platform::Platform;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

type P = web::Data<Platform>;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/drive/nodes/{id}/content", web::get().to(content))
        .route("/drive/nodes/{id}/thumbnail", web::get().to(thumbnail))
        .route("/drive/zip", web::get().to(super::archive::download));
}

fn is_active(mime: &str) -> bool {
    let m = mime.to_ascii_lowercase();
    m.contains("html") || m.contains("svg") || m.contains("xml") || m.contains("javascript") || m.contains("ecmascript")
}

fn download_forbidden() -> AppError {
    AppError::new(StatusCode::FORBIDDEN, "download_forbidden", "You may preview this file but not download it")
}

#[derive(Deserialize)]
struct ContentQuery {
    disposition: Option<String>,
    version: Option<u64>,
}

async fn content(
    p: P,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<u64>,
    q: web::Query<ContentQuery>,
) -> AppResult<HttpResponse> {
    let disposition = match q.disposition.as_deref() {
        None | Some("attachment") => Disposition::Attachment,
        Some("inline") => Disposition::Inline,
        Some(_) => return Err(AppError::bad_request("bad_request", "disposition must be attachment or inline")),
    };
    let txn = p.store.begin_read()?;
    let a = nodes::stat(&txn, auth.user_id, *id)?;
    let n = &a.node;
    if n.is_folder() {
        return Err(AppError::invalid("id", "not_a_file", "Folders are downloaded as a zip (/drive/zip)"));
    }
    let (sha, mime) = match q.version {
        Some(v) => {
            a.require(Role::Viewer)?;
            let row = versions::one(&txn, n.id, v)?;
            (row.sha, row.mime.unwrap_or_default())
        }
        None => (n.sha.clone().unwrap_or_default(), n.mime.clone().unwrap_or_default()),
    };
    if a.role < Role::Viewer
        && (disposition == Disposition::Attachment || is_active(&mime) || preview_kind(&mime, &n.name).is_none())
    {
        return Err(download_forbidden());
    }
    drop(txn);
    if disposition == Disposition::Attachment && req.headers().get("range").is_none() {
        let (user, node) = (auth.user_id, n.clone());
        p.store.write(move |tx| store::log(tx, node.space_id, user, "download", &node, serde_json::json!({}))).await?;
    }
    let mut res = serve_blob(&req, &p, &sha, &n.name, &mime, disposition)?;
    if is_active(&mime) {
        res.headers_mut().insert(
            actix_web::http::header::CONTENT_SECURITY_POLICY,
            actix_web::http::header::HeaderValue::from_static("sandbox"),
        );
    }
    Ok(res)
}

/// Longest side of a drive thumbnail (the contract says ≤ 320 px).
const THUMB_SIDE: u32 = 320;
/// The same decoding limits as chat images (`chat::media`): no side above 12,000 px, at most
/// 256 MiB of decoder memory, so a decompression bomb is refused before any pixel is decoded.
const MAX_SIDE: u32 = 12_000;
const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;

async fn thumbnail(p: P, auth: Auth, id: web::Path<u64>) -> AppResult<HttpResponse> {
    let user = auth.user_id;
    let n = nodes::stat(&p.store.begin_read()?, user, *id)?.node;
    let mime = n.mime.clone().unwrap_or_default();
    if n.is_folder() || !is_thumbnailable(&mime) {
        return Err(AppError::not_found("thumbnail"));
    }
    if let Some(t) = n.thumb_sha.as_deref().filter(|t| p.blobs.exists(t)) {
        return crate::platform::http::blob_response(&p, t, "image/jpeg");
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
    crate::platform::http::blob_response(&p, &thumb, "image/jpeg")
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

/// The files of a selection with their paths inside the zip ("资料/报价.xlsx"), checked: viewer
/// on each selected node, and what an uploader may see below.
pub fn zip_entries(r: &impl Rd, user: u64, ids: &[u64]) -> AppResult<Vec<(String, Option<Node>)>> {
    let who = Principals::of(r, user)?;
    let mut out = Vec::new();
    for id in ids {
        let a = perm::resolve(r, &who, *id)?;
        a.require(Role::Viewer)?;
        if !a.node.is_folder() {
            out.push((a.node.name.clone(), Some(a.node)));
            continue;
        }
        // (path prefix, folder id, whether the caller sees everything in it)
        let mut stack = vec![(a.node.name.clone(), a.node.id, a.sees_all)];
        out.push((format!("{}/", a.node.name), None));
        while let Some((prefix, folder, sees_all)) = stack.pop() {
            for c in store::child_ids(r, folder)? {
                let n = store::node(r, c)?;
                let own = n.created_by == user;
                if !(sees_all || own)
                    || (n.shared && perm::resolve(r, &who, n.id).map(|x| x.role < Role::Viewer).unwrap_or(true))
                {
                    continue;
                }
                let path = format!("{prefix}/{}", n.name);
                if n.is_folder() {
                    out.push((format!("{path}/"), None));
                    stack.push((path, n.id, sees_all || own));
                } else {
                    out.push((path, Some(n)));
                }
            }
        }
    }
    Ok(out)
}

/// `Content-Disposition` for a generated download.
pub fn attachment(name: &str) -> String {
    content_disposition(name, Disposition::Attachment).to_string()
}
