//! The public side of share links (no session): `/api/v1/public/links/{token}/...`.
//!
//! Every request resolves the token to a live link (unknown, revoked, expired and exhausted
//! links all answer the same 404), checks the unlock cookie when the link has a password, and
//! confines ids to the shared subtree (anything else, or anything in the bin, is 404). Every
//! access is written to the link's log. Unlocking runs bcrypt off the async threads and is
//! throttled per link and IP like sign-in.

use super::links_store::{self as ls, Link};
use super::listing::{self, Cursor};
use super::model::{is_thumbnailable, preview_kind, Node};
use super::node_bytes;
use super::store::{self, Rd};
use crate::error::{AppError, AppResult};
use crate::platform::auth::password;
use crate::platform::download::Disposition;
use crate::platform::http::{blob_response, client_ip, is_https};
use crate::platform::Platform;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

type P = web::Data<Platform>;

/// The unlock cookie; its path is the link's own prefix, so it goes nowhere else.
pub const COOKIE: &str = "ob_link";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/public/links/{token}")
            .route("", web::get().to(info))
            .route("/unlock", web::post().to(unlock))
            .route("/nodes", web::get().to(list))
            .route("/nodes/{id}/preview", web::get().to(preview))
            .route("/nodes/{id}/thumbnail", web::get().to(thumbnail))
            .route("/nodes/{id}/content", web::get().to(content))
            .route("/zip", web::get().to(zip)),
    );
}

fn password_required() -> AppError {
    AppError::new(StatusCode::UNAUTHORIZED, "password_required", "This link needs its password")
}

fn wrong_password() -> AppError {
    AppError::new(StatusCode::FORBIDDEN, "wrong_password", "The password is not right")
}

fn cookie_path(token: &str) -> String {
    format!("/api/v1/public/links/{token}")
}

/// A live, unlocked link and its shared node, from a snapshot.
fn open(p: &Platform, req: &HttpRequest, token: &str) -> AppResult<(redb::ReadTransaction, Link, Node)> {
    let txn = p.store.begin_read()?;
    let (l, root) = ls::resolve(&txn, token, p.now_ms())?;
    if l.password_hash.is_some() {
        let grant = req.cookie(COOKIE);
        if !ls::unlocked(&txn, &l, grant.as_ref().map(|c| c.value()), p.now_ms())? {
            return Err(password_required());
        }
    }
    Ok((txn, l, root))
}

async fn log(p: &Platform, req: &HttpRequest, link: u64, action: &'static str, node: u64) -> AppResult<()> {
    let ip = client_ip(req, p.config.trust_proxy);
    p.store.write(move |tx| ls::log(tx, link, &ip, action, node)).await
}

/// What the public sees of a node: no space, no people, no ids outside the subtree.
fn public_node(n: &Node, root: u64) -> Value {
    let mime = n.mime.as_deref().unwrap_or("");
    let preview = if n.is_folder() { None } else { preview_kind(mime, &n.name) };
    let parent = if n.id == root { None } else { n.parent_id };
    json!({"id": n.id, "parent_id": parent, "kind": n.kind, "name": n.name, "size": n.size, "mime": n.mime,
           "updated_at": n.updated_at, "preview": preview,
           "thumbnail": !n.is_folder() && is_thumbnailable(mime)})
}

async fn info(p: P, req: HttpRequest, token: web::Path<String>) -> AppResult<HttpResponse> {
    let (l, root) = ls::resolve(&p.store.begin_read()?, &token, p.now_ms())?;
    log(&p, &req, l.id, "open", root.id).await?;
    Ok(HttpResponse::Ok().json(json!({
        "id": root.id, "name": root.name, "kind": root.kind, "size": root.size, "mime": root.mime,
        "needs_password": l.password_hash.is_some(), "preview_only": l.preview_only, "expires_at": l.expires_at,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnlockInput {
    password: String,
}

async fn unlock(
    p: P,
    req: HttpRequest,
    token: web::Path<String>,
    body: web::Json<UnlockInput>,
) -> AppResult<HttpResponse> {
    let (l, root) = ls::resolve(&p.store.begin_read()?, &token, p.now_ms())?;
    let Some(hash) = l.password_hash.clone() else {
        return Ok(HttpResponse::NoContent().finish()); // nothing to unlock
    };
    let ip = client_ip(&req, p.config.trust_proxy);
    // Per link and IP, counted apart from sign-in so link guessing cannot lock anyone out.
    let (key, ip_key) = (format!("link:{}:{ip}", l.id), format!("link-ip:{ip}"));
    if let Some(wait) = p.throttle.check(&key, &ip_key, p.now_ms()) {
        return Err(AppError::too_many(wait));
    }
    let pw = body.into_inner().password;
    if pw.chars().count() > password::MAX_PASSWORD_CHARS
        || !password::verify(pw, Some(hash), p.config.bcrypt_cost).await?
    {
        p.throttle.failed(&key, &ip_key, p.now_ms());
        log(&p, &req, l.id, "wrong_password", root.id).await?;
        return Err(wrong_password());
    }
    p.throttle.succeeded(&key);
    let grant = crate::platform::auth::session::random_token();
    let (g, link) = (grant.clone(), l.clone());
    let expires = p.store.write(move |tx| ls::add_unlock(tx, &link, &g)).await?;
    let max_age = ((expires - p.now_ms()) / 1000).max(1);
    let cookie = Cookie::build(COOKIE, grant)
        .path(cookie_path(&token))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(is_https(&req, &p))
        .max_age(actix_web::cookie::time::Duration::seconds(max_age))
        .finish();
    Ok(HttpResponse::NoContent().cookie(cookie).finish())
}

#[derive(Deserialize)]
struct ListQuery {
    parent: Option<u64>,
    cursor: Option<String>,
    limit: Option<usize>,
}

async fn list(p: P, req: HttpRequest, token: web::Path<String>, q: web::Query<ListQuery>) -> AppResult<HttpResponse> {
    let (txn, l, root) = open(&p, &req, &token)?;
    let folder = match q.parent {
        Some(id) => ls::inside(&txn, &l, id)?,
        None => root.clone(),
    };
    if !folder.is_folder() {
        // A shared file lists as itself, so one client page shows both cases.
        return Ok(HttpResponse::Ok().json(json!({ "items": [public_node(&folder, root.id)] })));
    }
    // A page in the members' default order (folders first, by name), read from the folder's
    // ordered index: a link to a folder of 10,000 files costs a page, not the folder.
    let cursor = Cursor::parse(q.cursor.as_deref().unwrap_or(""))?;
    let limit = q.limit.unwrap_or(200).clamp(1, 1000);
    let (items, next) = listing::by_name(&txn, folder.id, false, limit, &cursor, |id| {
        Ok(Some(public_node(&store::node(&txn, id)?, root.id)))
    })?;
    let path = path_within(&txn, &l, &folder)?;
    Ok(HttpResponse::Ok().json(json!({ "items": items, "path": path, "next_cursor": next.map(|c| c.to_string()) })))
}

/// `[{id, name}]` from the shared node down to `folder`.
fn path_within(r: &impl Rd, l: &Link, folder: &Node) -> AppResult<Value> {
    let mut out = vec![json!({"id": folder.id, "name": folder.name})];
    let mut cur = folder.clone();
    while cur.id != l.node_id {
        let Some(parent) = cur.parent_id else { break };
        cur = store::node(r, parent)?;
        out.push(json!({"id": cur.id, "name": cur.name}));
    }
    out.reverse();
    Ok(Value::Array(out))
}

async fn preview(p: P, req: HttpRequest, path: web::Path<(String, u64)>) -> AppResult<HttpResponse> {
    let (token, id) = path.into_inner();
    let (txn, l, _) = open(&p, &req, &token)?;
    let n = ls::inside(&txn, &l, id)?;
    drop(txn);
    let body = node_bytes::preview(&p, &n).await?;
    log(&p, &req, l.id, "preview", n.id).await?;
    Ok(HttpResponse::Ok().json(body))
}

async fn thumbnail(p: P, req: HttpRequest, path: web::Path<(String, u64)>) -> AppResult<HttpResponse> {
    let (token, id) = path.into_inner();
    let (txn, l, _) = open(&p, &req, &token)?;
    let n = ls::inside(&txn, &l, id)?;
    drop(txn);
    // Thumbnails are part of showing a listing: not logged one by one.
    let sha = node_bytes::thumbnail(&p, &n).await?;
    blob_response(&p, &sha, "image/jpeg")
}

#[derive(Deserialize)]
struct ContentQuery {
    disposition: Option<String>,
}

/// A continuation of a download already counted (a later byte range), not a new download.
fn is_continuation(req: &HttpRequest) -> bool {
    req.headers()
        .get(actix_web::http::header::RANGE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|r| !r.trim().starts_with("bytes=0-"))
}

async fn content(
    p: P,
    req: HttpRequest,
    path: web::Path<(String, u64)>,
    q: web::Query<ContentQuery>,
) -> AppResult<HttpResponse> {
    let disposition = match q.disposition.as_deref() {
        None | Some("attachment") => Disposition::Attachment,
        Some("inline") => Disposition::Inline,
        Some(_) => return Err(AppError::bad_request("bad_request", "disposition must be attachment or inline")),
    };
    let (token, id) = path.into_inner();
    let (txn, l, _) = open(&p, &req, &token)?;
    let n = ls::inside(&txn, &l, id)?;
    drop(txn);
    node_bytes::require_file(&n)?;
    if l.preview_only {
        if disposition != Disposition::Inline || !node_bytes::inline_previewable(&n) {
            return Err(node_bytes::download_forbidden());
        }
        if !is_continuation(&req) {
            log(&p, &req, l.id, "preview", n.id).await?;
        }
        return node_bytes::serve_content(&req, &p, &n, Disposition::Inline);
    }
    if !is_continuation(&req) {
        count_download(&p, &req, l.id, n.id).await?;
    }
    node_bytes::serve_content(&req, &p, &n, disposition)
}

/// Count one download against `max_downloads`, atomically: the check and the increment are in
/// one write transaction, so two racing requests for the last download cannot both pass.
async fn count_download(p: &Platform, req: &HttpRequest, link: u64, node: u64) -> AppResult<()> {
    let ip = client_ip(req, p.config.trust_proxy);
    p.store
        .write(move |tx| {
            let mut l = ls::link(tx, link).map_err(|_| ls::gone())?;
            if !l.is_live(tx.now) {
                return Err(ls::gone());
            }
            l.downloads += 1;
            ls::put_link(tx, &l)?;
            ls::log(tx, link, &ip, "download", node)
        })
        .await
}

#[derive(Deserialize)]
struct ZipQuery {
    ids: Option<String>,
    name: Option<String>,
}

/// `GET .../zip?ids=1,2` (default: the shared node itself): the chosen items of the link's
/// subtree as one streaming zip, counted as one download. Preview-only links refuse it.
async fn zip(p: P, req: HttpRequest, token: web::Path<String>, q: web::Query<ZipQuery>) -> AppResult<HttpResponse> {
    let (txn, l, root) = open(&p, &req, &token)?;
    if l.preview_only {
        return Err(node_bytes::download_forbidden());
    }
    let ids = match q.ids.as_deref() {
        Some(s) => super::archive::parse_ids(s)?,
        None => vec![root.id],
    };
    let mut entries = Vec::new();
    for id in ids {
        let top = ls::inside(&txn, &l, id)?;
        super::archive::subtree_entries(&txn, &top, &mut entries)?;
    }
    drop(txn);
    count_download(&p, &req, l.id, root.id).await?;
    Ok(super::archive::respond(&p, entries, Some(q.name.as_deref().unwrap_or(&root.name))))
}
