//! Bytes out: file content (Range, ETag, RFC 5987 names, `nosniff` via
//! `platform::download::serve_blob`), thumbnails (generated once, cached as a blob) and the
//! streaming zip of a selection.
//!
//! Preview-only readers get content only inline and only for previewable, non-active types
//! (403 `download_forbidden` otherwise). Active types (HTML, SVG, XML, JS) are always
//! attachments and carry `Content-Security-Policy: sandbox`.

use super::model::{preview_kind, Node, Role};
use super::node_bytes::{self, download_forbidden, is_active};
use super::nodes;
use super::perm::{self, Principals};
use super::store::{self, Rd};
use super::versions;
use crate::error::{AppError, AppResult};
use crate::platform::auth::extract::Auth;
use crate::platform::download::{content_disposition, Disposition};
use crate::platform::Platform;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

type P = web::Data<Platform>;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/drive/nodes/{id}/content", web::get().to(content))
        .route("/drive/nodes/{id}/thumbnail", web::get().to(thumbnail))
        .route("/drive/nodes/{id}/preview", web::get().to(super::preview::preview))
        .route("/drive/zip", web::get().to(super::archive::download));
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
    node_bytes::serve_bytes(&req, &p, &sha, &n.name, &mime, disposition)
}

async fn thumbnail(p: P, auth: Auth, id: web::Path<u64>) -> AppResult<HttpResponse> {
    let n = nodes::stat(&p.store.begin_read()?, auth.user_id, *id)?.node;
    let sha = node_bytes::thumbnail(&p, &n).await?;
    crate::platform::http::blob_response(&p, &sha, "image/jpeg")
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
