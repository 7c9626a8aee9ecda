//! HTTP handlers: system status, the setup wizard, the enterprise profile.

use super::model::EnterpriseView;
use super::service::{self, EnterpriseInput, Image, SetupInput};
use crate::error::{AppError, AppResult};
use crate::org::service::admin_ctx;
use crate::platform::auth::Auth;
use crate::platform::http::{blob_response, client_ip, receive_file, sniff_image};
use crate::platform::Platform;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

type P = web::Data<Platform>;

const IMAGE_LIMIT: u64 = 5 * 1024 * 1024;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/system/status", web::get().to(status))
        .route("/setup", web::post().to(setup))
        .route("/time-zones", web::get().to(time_zones))
        .route("/enterprise", web::get().to(public_enterprise))
        .route("/enterprise/logo", web::get().to(logo))
        .route("/admin/enterprise", web::get().to(admin_enterprise))
        .route("/admin/enterprise", web::put().to(update_enterprise))
        .route("/admin/enterprise/logo", web::put().to(upload_logo))
        .route("/admin/enterprise/licence", web::put().to(upload_licence))
        .route("/admin/enterprise/licence", web::get().to(licence))
        .route("/admin/enterprise/verify", web::post().to(verify));
}

async fn status(p: P) -> AppResult<HttpResponse> {
    let e = service::enterprise(&p.store.begin_read()?)?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(json!({
        "setup_done": p.is_setup_done(),
        "enterprise_name": e.name,
        "has_logo": e.logo.is_some(),
        "time_zone": e.time_zone,
        "version": env!("CARGO_PKG_VERSION"),
    })))
}

async fn setup(p: P, req: HttpRequest, body: web::Json<SetupInput>) -> AppResult<HttpResponse> {
    if p.is_setup_done() {
        return Err(AppError::conflict("already_set_up", "OfficeBox has already been set up"));
    }
    let ip = client_ip(&req, p.config.trust_proxy);
    let base = crate::platform::http::base_url(&req, &p);
    let user_id = service::run_setup(&p, body.into_inner(), &ip, base).await?;
    crate::accounts::service::signed_in_response(&p, &req, user_id, actix_web::http::StatusCode::CREATED).await
}

async fn time_zones() -> HttpResponse {
    let names: Vec<&str> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| tz.name())
        .filter(|n| n.contains('/') && !n.starts_with("Etc/"))
        .collect();
    HttpResponse::Ok().insert_header(("Cache-Control", "public, max-age=86400")).json(names)
}

async fn public_enterprise(p: P, _auth: Auth) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(EnterpriseView::from(&service::enterprise(&p.store.begin_read()?)?)))
}

/// The logo is public: the login page shows it.
async fn logo(p: P) -> AppResult<HttpResponse> {
    let sha = service::enterprise(&p.store.begin_read()?)?.logo.ok_or_else(|| AppError::not_found("logo"))?;
    blob_response(&p, &sha, sniff_image(&p, &sha)?)
}

async fn admin_enterprise(p: P, auth: Auth) -> AppResult<HttpResponse> {
    auth.require_super(&p)?;
    Ok(HttpResponse::Ok().json(EnterpriseView::from(&service::enterprise(&p.store.begin_read()?)?)))
}

async fn update_enterprise(p: P, auth: Auth, body: web::Json<EnterpriseInput>) -> AppResult<HttpResponse> {
    let ctx = admin_ctx(&p, &auth, None)?;
    let e = service::update(&p, &ctx, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(EnterpriseView::from(&e)))
}

async fn upload_image(p: P, auth: Auth, mp: actix_multipart::Multipart, which: Image) -> AppResult<HttpResponse> {
    let ctx = admin_ctx(&p, &auth, None)?;
    let upload = receive_file(&p, mp, IMAGE_LIMIT).await?;
    sniff_image(&p, &upload.blob.sha256)?;
    let e = service::set_image(&p, &ctx, which, upload.blob.sha256).await?;
    Ok(HttpResponse::Ok().json(EnterpriseView::from(&e)))
}

async fn upload_logo(p: P, auth: Auth, mp: actix_multipart::Multipart) -> AppResult<HttpResponse> {
    upload_image(p, auth, mp, Image::Logo).await
}

async fn upload_licence(p: P, auth: Auth, mp: actix_multipart::Multipart) -> AppResult<HttpResponse> {
    upload_image(p, auth, mp, Image::Licence).await
}

async fn licence(p: P, auth: Auth) -> AppResult<HttpResponse> {
    auth.require_super(&p)?;
    let sha = service::enterprise(&p.store.begin_read()?)?.licence.ok_or_else(|| AppError::not_found("licence"))?;
    blob_response(&p, &sha, sniff_image(&p, &sha)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Verify {
    verified: bool,
}

async fn verify(p: P, auth: Auth, body: web::Json<Verify>) -> AppResult<HttpResponse> {
    let ctx = admin_ctx(&p, &auth, None)?;
    let e = service::set_verified(&p, &ctx, body.verified).await?;
    Ok(HttpResponse::Ok().json(EnterpriseView::from(&e)))
}
