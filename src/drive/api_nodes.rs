//! HTTP handlers for files and folders: stat, children, mkdir, multipart upload, rename, move,
//! copy, delete, versions.

use super::api::ConflictBody;
use super::model::OnConflict;
use super::nodes::{self, Sort};
use super::service;
use super::versions;
use super::view::{node_json, path_json, People};
use crate::error::{AppError, AppResult};
use crate::platform::auth::extract::Auth;
use crate::platform::Platform;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

type P = web::Data<Platform>;

/// Largest multipart upload; bigger files go through tus (`/api/v1/uploads`).
pub const MAX_MULTIPART: u64 = 64 * 1024 * 1024;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/drive/nodes/{id}", web::get().to(get_node))
        .route("/drive/nodes/{id}", web::patch().to(rename))
        .route("/drive/nodes/{id}", web::delete().to(delete))
        .route("/drive/nodes/{id}/children", web::get().to(children))
        .route("/drive/nodes/{id}/folders", web::post().to(mkdir))
        .route("/drive/nodes/{id}/files", web::post().to(upload))
        .route("/drive/nodes/{id}/move", web::post().to(move_node))
        .route("/drive/nodes/{id}/copy", web::post().to(copy))
        .route("/drive/nodes/{id}/versions", web::get().to(list_versions))
        .route("/drive/nodes/{id}/versions/{v}/restore", web::post().to(restore_version))
        .configure(super::content::routes);
}

/// The Node JSON as the caller sees it now (after a write), optionally with its path.
pub fn node_response(p: &Platform, user: u64, id: u64, created: bool) -> AppResult<HttpResponse> {
    let txn = p.store.begin_read()?;
    let a = nodes::stat(&txn, user, id)?;
    let mut v = node_json(&txn, &a.node, a.role)?;
    v["path"] = path_json(&a.path);
    Ok(if created { HttpResponse::Created() } else { HttpResponse::Ok() }.json(v))
}

async fn get_node(p: P, auth: Auth, id: web::Path<u64>) -> AppResult<HttpResponse> {
    node_response(&p, auth.user_id, *id, false)
}

#[derive(Deserialize)]
struct ChildrenQuery {
    sort: Option<Sort>,
    order: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

async fn children(p: P, auth: Auth, id: web::Path<u64>, q: web::Query<ChildrenQuery>) -> AppResult<HttpResponse> {
    let desc = match q.order.as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(_) => return Err(AppError::bad_request("bad_request", "order must be asc or desc")),
    };
    let cursor = nodes::Cursor::parse(q.cursor.as_deref().unwrap_or(""))?;
    let limit = q.limit.unwrap_or(200).clamp(1, 1000);
    let txn = p.store.begin_read()?;
    let nodes::Listing { items: page, next, .. } =
        nodes::list_page(&txn, auth.user_id, *id, q.sort.unwrap_or_default(), desc, limit, &cursor)?;
    let mut people = People::new(&txn);
    let mut items = Vec::with_capacity(page.len());
    for (n, role) in page {
        items.push(people.node_json(&n, role)?);
    }
    Ok(HttpResponse::Ok().json(json!({"items": items, "next_cursor": next.map(|n| n.to_string())})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NameBody {
    name: String,
    #[serde(default)]
    on_conflict: Option<String>,
}

async fn mkdir(p: P, auth: Auth, id: web::Path<u64>, body: web::Json<NameBody>) -> AppResult<HttpResponse> {
    let (user, parent) = (auth.user_id, *id);
    let b = body.into_inner();
    let oc = OnConflict::parse(b.on_conflict.as_deref())?;
    if oc == OnConflict::Version {
        return Err(AppError::invalid("on_conflict", "invalid_on_conflict", "Folders cannot be versioned"));
    }
    let n = p.store.write(move |tx| nodes::mkdir(tx, user, parent, &b.name, oc)).await?;
    node_response(&p, user, n.id, true)
}

async fn rename(p: P, auth: Auth, id: web::Path<u64>, body: web::Json<NameBody>) -> AppResult<HttpResponse> {
    let (user, id) = (auth.user_id, *id);
    let b = body.into_inner();
    let oc = OnConflict::parse(b.on_conflict.as_deref())?;
    p.store.write(move |tx| nodes::rename(tx, user, id, &b.name, oc)).await?;
    node_response(&p, user, id, false)
}

async fn delete(p: P, auth: Auth, id: web::Path<u64>) -> AppResult<HttpResponse> {
    let (user, id) = (auth.user_id, *id);
    p.store.write(move |tx| nodes::delete(tx, user, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetBody {
    parent_id: u64,
    #[serde(default)]
    on_conflict: Option<String>,
}

fn target_conflict(b: &TargetBody) -> AppResult<OnConflict> {
    match OnConflict::parse(b.on_conflict.as_deref())? {
        OnConflict::Version => Err(AppError::invalid("on_conflict", "invalid_on_conflict", "Use error or rename")),
        oc => Ok(oc),
    }
}

async fn move_node(p: P, auth: Auth, id: web::Path<u64>, body: web::Json<TargetBody>) -> AppResult<HttpResponse> {
    let (user, id) = (auth.user_id, *id);
    let oc = target_conflict(&body)?;
    let parent = body.parent_id;
    p.store.write(move |tx| nodes::move_node(tx, user, id, parent, oc)).await?;
    node_response(&p, user, id, false)
}

async fn copy(p: P, auth: Auth, id: web::Path<u64>, body: web::Json<TargetBody>) -> AppResult<HttpResponse> {
    let (user, id) = (auth.user_id, *id);
    let oc = target_conflict(&body)?;
    let parent = body.parent_id;
    let n = p.store.write(move |tx| nodes::copy(tx, user, id, parent, oc)).await?;
    node_response(&p, user, n.id, true)
}

#[derive(Deserialize)]
struct UploadQuery {
    on_conflict: Option<String>,
    /// The file's exact size, when the client knows it (the SPA does): quota is checked
    /// against it and the stored file may not exceed it. Else `Content-Length` bounds it.
    size: Option<u64>,
}

/// `POST /drive/nodes/{parent}/files`: permission, name and quota are checked from the part's
/// headers and the declared size before any byte is stored; the bytes then stream to the blob
/// store, and the file is committed in one transaction (which checks everything again).
async fn upload(
    p: P,
    auth: Auth,
    id: web::Path<u64>,
    q: web::Query<UploadQuery>,
    req: HttpRequest,
    mut mp: actix_multipart::Multipart,
) -> AppResult<HttpResponse> {
    use futures_util::StreamExt;
    let (user, parent) = (auth.user_id, *id);
    let oc = OnConflict::parse(q.on_conflict.as_deref())?;
    let content_length = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let declared = q.size.or(content_length).ok_or_else(|| {
        AppError::new(actix_web::http::StatusCode::LENGTH_REQUIRED, "length_required", "Send Content-Length or ?size=")
    })?;
    if declared > MAX_MULTIPART {
        return Err(AppError::new(
            actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
            "file_too_large",
            "Files above 64 MiB are uploaded with resumable uploads (/api/v1/uploads)",
        ));
    }
    while let Some(field) = mp.next().await {
        let field = field.map_err(|e| AppError::bad_request("bad_multipart", format!("Malformed upload: {e}")))?;
        let cd = field.content_disposition().cloned();
        if cd.as_ref().and_then(|c| c.get_name()) != Some("file") {
            continue;
        }
        let name = cd.as_ref().and_then(|c| c.get_filename()).unwrap_or("").to_owned();
        service::check_upload(&p.store.begin_read()?, user, parent, &name, oc, declared)?;
        let ct = field.content_type().map(|m| m.to_string()).unwrap_or_default();
        let blob = p.blobs.put_stream(field, declared, &ct).await?;
        let n = p.store.write(move |tx| service::commit_file(tx, user, parent, &name, oc, &blob)).await?;
        return node_response(&p, user, n.id, true);
    }
    Err(AppError::bad_request("file_missing", "The upload has no part named `file`"))
}

async fn list_versions(p: P, auth: Auth, id: web::Path<u64>) -> AppResult<HttpResponse> {
    let txn = p.store.begin_read()?;
    let (node, rows) = versions::list(&txn, auth.user_id, *id)?;
    let mut people = People::new(&txn);
    let mut items: Vec<Value> = Vec::with_capacity(rows.len());
    for (v, row) in rows {
        items.push(json!({"version": v, "size": row.size, "sha256": row.sha, "by": people.person(row.by)?,
                          "at": row.at, "current": v == u64::from(node.version)}));
    }
    Ok(HttpResponse::Ok().json(json!({ "items": items })))
}

async fn restore_version(
    p: P,
    auth: Auth,
    path: web::Path<(u64, u64)>,
    _body: Option<web::Json<ConflictBody>>,
) -> AppResult<HttpResponse> {
    let (id, v) = path.into_inner();
    let user = auth.user_id;
    p.store.write(move |tx| versions::restore(tx, user, id, v)).await?;
    node_response(&p, user, id, false)
}
