//! The tus 1.0 endpoints. Every response carries `Tus-Resumable`; a request without the right
//! `Tus-Resumable` gets 412 (OPTIONS excepted). Errors keep the usual JSON body.

use super::model::{self, http_date, is_offset_stream, parse_u64, Metadata, Upload, TUS_EXTENSIONS, TUS_VERSION};
use super::receive::{self, Outcome};
use super::{service, store, Uploader, Uploads};
use crate::error::{AppError, AppResult};
use crate::platform::auth::extract::Auth;
use crate::platform::Platform;
use actix_web::http::{Method, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use base64::Engine;
use std::sync::Arc;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/uploads").route(web::method(Method::OPTIONS).to(options)).route(web::post().to(create)),
    )
    .service(
        web::resource("/uploads/{id}")
            .route(web::method(Method::OPTIONS).to(options))
            .route(web::head().to(head))
            .route(web::patch().to(patch))
            .route(web::delete().to(terminate)),
    );
}

/// Add the tus headers every response carries (errors included).
fn tus(result: AppResult<HttpResponse>) -> HttpResponse {
    let mut res = result.unwrap_or_else(|e| e.error_response());
    let h = res.headers_mut();
    h.insert(header("tus-resumable"), value(TUS_VERSION));
    if res.status() == StatusCode::PRECONDITION_FAILED {
        res.headers_mut().insert(header("tus-version"), value(TUS_VERSION));
    }
    res
}

fn header(name: &'static str) -> actix_web::http::header::HeaderName {
    actix_web::http::header::HeaderName::from_static(name)
}

fn value(v: &str) -> actix_web::http::header::HeaderValue {
    actix_web::http::header::HeaderValue::from_str(v).unwrap_or(actix_web::http::header::HeaderValue::from_static(""))
}

fn header_str<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The protocol version check, then the session (cookie + CSRF on unsafe methods).
async fn caller(req: &HttpRequest) -> AppResult<Auth> {
    if header_str(req, "tus-resumable").map(str::trim) != Some(TUS_VERSION) {
        return Err(AppError::new(
            StatusCode::PRECONDITION_FAILED,
            "tus_version_unsupported",
            format!("Send Tus-Resumable: {TUS_VERSION}"),
        ));
    }
    Auth::extract(req).await
}

fn platform_uploads(p: &Platform) -> AppResult<Arc<Uploads>> {
    service(&p.store)
}

/// `{id}` as a number; anything else is a missing upload.
fn upload_id(req: &HttpRequest) -> AppResult<u64> {
    req.match_info().get("id").and_then(|s| s.parse().ok()).ok_or_else(|| AppError::not_found("upload"))
}

/// The caller's upload, still within its expiry.
fn visible(p: &Platform, user: u64, id: u64) -> AppResult<Upload> {
    let up = store::get(&p.store.begin_read()?, user, id)?.ok_or_else(|| AppError::not_found("upload"))?;
    if up.expires_at <= p.now_ms() {
        return Err(model::gone());
    }
    Ok(up)
}

async fn options(p: web::Data<Platform>) -> HttpResponse {
    tus((|| {
        let max = platform_uploads(&p)?.max_size(&p.store.begin_read()?)?;
        Ok(HttpResponse::NoContent()
            .insert_header(("Tus-Version", TUS_VERSION))
            .insert_header(("Tus-Extension", TUS_EXTENSIONS))
            .insert_header(("Tus-Max-Size", max.to_string()))
            .finish())
    })())
}

async fn create(req: HttpRequest, p: web::Data<Platform>) -> HttpResponse {
    tus(create_inner(&req, &p).await)
}

async fn create_inner(req: &HttpRequest, p: &web::Data<Platform>) -> AppResult<HttpResponse> {
    let auth = caller(req).await?;
    let svc = platform_uploads(p)?;
    let limits = svc.limits();
    if req.headers().contains_key("upload-defer-length") {
        return Err(AppError::bad_request(
            "defer_length_unsupported",
            "Send Upload-Length; deferring it is not supported",
        ));
    }
    let length = parse_u64("Upload-Length", "upload_length_invalid", header_str(req, "upload-length"))?
        .ok_or_else(|| AppError::bad_request("upload_length_required", "Send Upload-Length"))?;
    let raw = header_str(req, "upload-metadata").unwrap_or("");
    if raw.len() > limits.max_metadata {
        return Err(AppError::bad_request(
            "metadata_too_large",
            format!("Upload-Metadata is longer than {} bytes", limits.max_metadata),
        ));
    }
    let metadata = Metadata::parse(raw)?;
    let name = metadata
        .get("purpose")
        .ok_or_else(|| AppError::bad_request("purpose_required", "Upload-Metadata must name the upload's purpose"))?;
    let purpose = svc
        .purpose(name)
        .ok_or_else(|| AppError::bad_request("purpose_unknown", format!("Uploads for `{name}` are not accepted")))?;
    let who = Uploader { user_id: auth.user_id, ip: auth.ip.clone() };
    {
        let txn = p.store.begin_read()?;
        let max = (purpose.max_size)(&txn)?.min(limits.max_size);
        if length > max {
            return Err(AppError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "file_too_large",
                format!("The file is larger than the limit of {} MiB", max / (1024 * 1024)),
            )
            .with_details(serde_json::json!({ "limit": max })));
        }
        (purpose.begin)(&txn, &who, &metadata, length)?;
    }
    if length == 0 {
        return create_empty(p, purpose, who, metadata).await;
    }
    let up = Upload {
        id: 0,
        user: auth.user_id,
        purpose: purpose.name.to_owned(),
        metadata,
        length,
        offset: 0,
        created_at: 0,
        expires_at: 0,
    };
    let (ttl, max_pending) = (limits.ttl_ms, limits.max_pending);
    let up = p
        .store
        .write(move |tx| {
            let up = Upload { created_at: tx.now, expires_at: tx.now + ttl, ..up.clone() };
            store::create(tx, up, max_pending)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/uploads/{}", up.id)))
        .insert_header(("Upload-Expires", http_date(up.expires_at)))
        .insert_header(("Upload-Offset", "0"))
        .finish())
}

/// An empty file has no PATCH (tus-js-client reports success right after creation), so it is
/// completed here; the `Location` names an upload that is already finished (its HEAD is 404).
async fn create_empty(
    p: &web::Data<Platform>,
    purpose: super::UploadPurpose,
    who: Uploader,
    metadata: Metadata,
) -> AppResult<HttpResponse> {
    let blobs = p.blobs.clone();
    let content_type = metadata.get("filetype").unwrap_or_default().to_owned();
    let blob = web::block(move || blobs.put_reader(std::io::empty(), 0, &content_type))
        .await
        .map_err(AppError::internal)??;
    let (id, result) = p
        .store
        .write(move |tx| {
            let result = (purpose.complete)(tx, &who, &metadata, &blob)?;
            Ok((tx.next_seq()?, result))
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/uploads/{id}")))
        .insert_header(("Upload-Offset", "0"))
        .insert_header(("X-Officebox-Result", encode_result(&result)))
        .finish())
}

/// The purpose's result as the `X-Officebox-Result` header: JSON, base64url without padding.
pub fn encode_result(result: &serde_json::Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(result.to_string())
}

async fn head(req: HttpRequest, p: web::Data<Platform>) -> HttpResponse {
    tus(async {
        let auth = caller(&req).await?;
        let up = visible(&p, auth.user_id, upload_id(&req)?)?;
        let mut res = HttpResponse::Ok();
        res.insert_header(("Upload-Offset", up.offset.to_string()))
            .insert_header(("Upload-Length", up.length.to_string()))
            .insert_header(("Upload-Expires", http_date(up.expires_at)))
            .insert_header(("Cache-Control", "no-store"));
        let meta = up.metadata.encode();
        if !meta.is_empty() {
            res.insert_header(("Upload-Metadata", meta));
        }
        Ok(res.finish())
    }
    .await)
}

async fn patch(req: HttpRequest, body: web::Payload, p: web::Data<Platform>) -> HttpResponse {
    tus(patch_inner(&req, body, &p).await)
}

async fn patch_inner(req: &HttpRequest, body: web::Payload, p: &web::Data<Platform>) -> AppResult<HttpResponse> {
    let auth = caller(req).await?;
    let svc = platform_uploads(p)?;
    let id = upload_id(req)?;
    visible(p, auth.user_id, id)?;
    if !is_offset_stream(header_str(req, "content-type")) {
        return Err(AppError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content_type_unsupported",
            format!("Send the bytes as {}", model::OFFSET_CONTENT_TYPE),
        ));
    }
    let offset = parse_u64("Upload-Offset", "upload_offset_invalid", header_str(req, "upload-offset"))?
        .ok_or_else(|| AppError::bad_request("upload_offset_invalid", "Send Upload-Offset"))?;
    let busy = svc.lock(id)?;
    // Read again under the lock: the offset only moves while it is held.
    let up = visible(p, auth.user_id, id)?;
    if offset != up.offset {
        return Err(AppError::conflict("offset_mismatch", format!("The upload is at offset {}", up.offset))
            .with_details(serde_json::json!({ "offset": up.offset })));
    }
    let declared = parse_u64("Content-Length", "bad_request", header_str(req, "content-length"))?;
    if declared.is_some_and(|n| n > up.length - up.offset) {
        return Err(AppError::bad_request("upload_overflow", "The body goes past Upload-Length"));
    }
    let who = Uploader { user_id: auth.user_id, ip: auth.ip.clone() };
    let task = actix_web::rt::spawn(receive::run(p.clone(), svc, busy, up, who, body));
    match task.await.map_err(AppError::internal)?? {
        Outcome::Completed { length, result } => Ok(HttpResponse::NoContent()
            .insert_header(("Upload-Offset", length.to_string()))
            .insert_header(("X-Officebox-Result", encode_result(&result)))
            .finish()),
        Outcome::Progress { interrupted: Some(e), .. } => Err(e),
        Outcome::Progress { upload, interrupted: None } => Ok(HttpResponse::NoContent()
            .insert_header(("Upload-Offset", upload.offset.to_string()))
            .insert_header(("Upload-Expires", http_date(upload.expires_at)))
            .finish()),
    }
}

async fn terminate(req: HttpRequest, p: web::Data<Platform>) -> HttpResponse {
    tus(async {
        let auth = caller(&req).await?;
        let svc = platform_uploads(&p)?;
        let id = upload_id(&req)?;
        // Expired but not yet swept still counts as the caller's: terminating it is fine.
        store::get(&p.store.begin_read()?, auth.user_id, id)?.ok_or_else(|| AppError::not_found("upload"))?;
        let _busy = svc.lock(id)?;
        if !receive::discard(&p, &svc, auth.user_id, id).await? {
            return Err(AppError::not_found("upload"));
        }
        Ok(HttpResponse::NoContent().finish())
    }
    .await)
}
