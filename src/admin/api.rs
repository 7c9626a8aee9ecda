//! HTTP handlers for the admin console's super-admin areas and the audit log.

use super::service::{self, SmtpInput};
use crate::error::{AppError, AppResult};
use crate::org::service::admin_ctx;
use crate::platform::audit::{self, AuditFilter};
use crate::platform::auth::session::SecuritySettings;
use crate::platform::auth::{AdminRole, Auth, Permission};
use crate::platform::http::{xlsx_response, Page, PageQuery};
use crate::platform::mail::SmtpSettings;
use crate::platform::settings::SettingsDoc;
use crate::platform::Platform;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

type P = web::Data<Platform>;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/admins", web::get().to(list_admins))
        .route("/admin/admins/{id}", web::put().to(grant))
        .route("/admin/admins/{id}", web::delete().to(revoke))
        .route("/admin/security", web::get().to(get_security))
        .route("/admin/security", web::put().to(put_security))
        .route("/admin/smtp", web::get().to(get_smtp))
        .route("/admin/smtp", web::put().to(put_smtp))
        .route("/admin/smtp/test", web::post().to(test_smtp))
        .route("/admin/audit", web::get().to(audit_list))
        .route("/admin/audit/export", web::get().to(audit_export));
}

async fn list_admins(p: P, auth: Auth) -> AppResult<HttpResponse> {
    auth.require_super(&p)?;
    Ok(HttpResponse::Ok().json(json!({ "items": service::list_admins(&p)? })))
}

async fn grant(p: P, auth: Auth, id: web::Path<u64>, body: web::Json<AdminRole>) -> AppResult<HttpResponse> {
    let ctx = admin_ctx(&p, &auth, None)?;
    Ok(HttpResponse::Ok().json(service::grant(&p, &ctx, *id, body.into_inner()).await?))
}

async fn revoke(p: P, auth: Auth, id: web::Path<u64>) -> AppResult<HttpResponse> {
    let ctx = admin_ctx(&p, &auth, None)?;
    service::revoke(&p, &ctx, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn get_security(p: P, auth: Auth) -> AppResult<HttpResponse> {
    auth.require_super(&p)?;
    Ok(HttpResponse::Ok().json(SecuritySettings::load(&p.store.begin_read()?)?))
}

async fn put_security(p: P, auth: Auth, body: web::Json<SecuritySettings>) -> AppResult<HttpResponse> {
    let ctx = admin_ctx(&p, &auth, None)?;
    Ok(HttpResponse::Ok().json(service::put_security(&p, &ctx, body.into_inner()).await?))
}

async fn get_smtp(p: P, auth: Auth) -> AppResult<HttpResponse> {
    auth.require_super(&p)?;
    Ok(HttpResponse::Ok().json(service::smtp_view(&SmtpSettings::load(&p.store.begin_read()?)?)))
}

async fn put_smtp(p: P, auth: Auth, body: web::Json<SmtpInput>) -> AppResult<HttpResponse> {
    let ctx = admin_ctx(&p, &auth, None)?;
    let s = service::put_smtp(&p, &ctx, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(service::smtp_view(&s)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TestMail {
    to: String,
}

async fn test_smtp(p: P, auth: Auth, body: web::Json<TestMail>) -> AppResult<HttpResponse> {
    let ctx = admin_ctx(&p, &auth, None)?;
    service::test_smtp(&p, &ctx, &body.to).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The filter fields spelled out: `#[serde(flatten)]` would make the query decoder hand numbers
/// over as strings, so `actor_id=5` or `from=...` were refused as "invalid type".
#[derive(Deserialize)]
struct AuditQuery {
    actor_id: Option<u64>,
    action: Option<String>,
    from: Option<i64>,
    to: Option<i64>,
    q: Option<String>,
    cursor: Option<String>,
    limit: Option<usize>,
}

async fn audit_list(p: P, auth: Auth, q: web::Query<AuditQuery>) -> AppResult<HttpResponse> {
    let role = auth.require(&p, Permission::Audit)?;
    let q = q.into_inner();
    let scope = crate::org::service::scope_departments(&p, &role)?;
    let filter = AuditFilter { actor_id: q.actor_id, action: q.action, from: q.from, to: q.to, q: q.q, scope };
    let page = PageQuery { cursor: q.cursor, limit: q.limit };
    let (items, next) = audit::query(&p.store.begin_read()?, &filter, page.cursor_u64()?, page.limit())?;
    Ok(HttpResponse::Ok().json(Page::new(items, next)))
}

async fn audit_export(p: P, auth: Auth, q: web::Query<AuditFilter>) -> AppResult<HttpResponse> {
    let role = auth.require(&p, Permission::Audit)?;
    let mut q = q.into_inner();
    q.scope = crate::org::service::scope_departments(&p, &role)?;
    let tz = crate::setup::service::enterprise(&p.store.begin_read()?)?.time_zone;
    let p2 = p.clone();
    let bytes = web::block(move || service::audit_xlsx(&service::audit_all(&p2, &q)?, &tz))
        .await
        .map_err(AppError::internal)??;
    Ok(xlsx_response(bytes, "audit-log.xlsx"))
}
