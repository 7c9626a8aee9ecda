//! HTTP handlers for the directory (every member) and for organisation admin (scoped admins).

use super::departments::{self, DepartmentPatch, NewDepartment};
use super::directory::{self, MemberQuery};
use super::members;
use super::model::{CustomFields, MemberInput};
use super::service::admin_ctx;
use super::store;
use super::tags::{self, TagInput};
use crate::error::{AppError, AppResult};
use crate::platform::audit;
use crate::platform::auth::{Auth, Permission};
use crate::platform::http::{blob_response, receive_file, sniff_image, Page};
use crate::platform::settings::SettingsDoc;
use crate::platform::{blobs, Platform};
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

type P = web::Data<Platform>;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/departments", web::get().to(list_departments))
        .route("/members", web::get().to(list_members))
        .route("/members/{id}", web::get().to(get_member))
        .route("/members/{id}/avatar", web::get().to(avatar))
        .route("/tags", web::get().to(list_tags))
        .route("/custom-fields", web::get().to(custom_fields))
        .route("/me/profile", web::patch().to(update_profile))
        .route("/me/avatar", web::put().to(upload_avatar))
        .route("/admin/departments", web::post().to(create_department))
        .route("/admin/departments/{id}", web::patch().to(update_department))
        .route("/admin/departments/{id}", web::delete().to(delete_department))
        .route("/admin/members", web::post().to(create_member))
        .route("/admin/members/{id}", web::patch().to(update_member))
        .route("/admin/members/{id}/disable", web::post().to(disable_member))
        .route("/admin/members/{id}/enable", web::post().to(enable_member))
        .route("/admin/members/{id}/offboard", web::post().to(offboard_member))
        .route("/admin/tags", web::post().to(create_tag))
        .route("/admin/tags/{id}", web::patch().to(update_tag))
        .route("/admin/tags/{id}", web::delete().to(delete_tag))
        .route("/admin/custom-fields", web::put().to(put_custom_fields));
}

async fn list_departments(p: P, _auth: Auth) -> AppResult<HttpResponse> {
    let items = directory::departments(&p.store.begin_read()?)?;
    Ok(HttpResponse::Ok().json(json!({ "items": items })))
}

async fn list_members(p: P, _auth: Auth, q: web::Query<MemberQuery>) -> AppResult<HttpResponse> {
    let p2 = p.clone();
    let (items, next) =
        web::block(move || directory::list(&p2.store.begin_read()?, &q)).await.map_err(AppError::internal)??;
    Ok(HttpResponse::Ok().json(Page::new(items, next)))
}

async fn get_member(p: P, _auth: Auth, id: web::Path<u64>) -> AppResult<HttpResponse> {
    let txn = p.store.begin_read()?;
    let m = members::get(&txn, *id)?;
    Ok(HttpResponse::Ok().json(directory::view_one(&txn, m)?))
}

async fn avatar(p: P, _auth: Auth, id: web::Path<u64>) -> AppResult<HttpResponse> {
    let m = members::get(&p.store.begin_read()?, *id)?;
    let sha = m.avatar.ok_or_else(|| AppError::not_found("avatar"))?;
    let ct = sniff_image(&p, &sha)?;
    blob_response(&p, &sha, ct)
}

async fn list_tags(p: P, _auth: Auth) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(json!({ "items": store::all_tags(&p.store.begin_read()?)? })))
}

async fn custom_fields(p: P, _auth: Auth) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(CustomFields::load(&p.store.begin_read()?)?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfilePatch {
    alias: Option<String>,
    telephone: Option<String>,
}

async fn update_profile(p: P, auth: Auth, body: web::Json<ProfilePatch>) -> AppResult<HttpResponse> {
    let body = body.into_inner();
    let actor = super::service::actor(&p, &auth)?;
    let id = auth.user_id;
    let m = p
        .store
        .write(move |tx| {
            let old = store::member_in(tx, id)?.ok_or_else(|| AppError::not_found("member"))?;
            let mut m = old.clone();
            if let Some(a) = &body.alias {
                super::model::check_len("alias", a.trim(), 64)?;
                m.alias = a.trim().to_owned();
            }
            if let Some(t) = &body.telephone {
                m.telephone = super::model::validate_telephone(t)?;
            }
            m.updated_at = tx.now;
            store::put_member(tx, Some(&old), &m)?;
            audit::record_for(tx, &actor, "member.profile_updated", members::target(&m), json!({}), &m.department_ids)?;
            Ok(m)
        })
        .await?;
    Ok(HttpResponse::Ok().json(directory::view_one(&p.store.begin_read()?, m)?))
}

const AVATAR_LIMIT: u64 = 2 * 1024 * 1024;

async fn upload_avatar(p: P, auth: Auth, mp: actix_multipart::Multipart) -> AppResult<HttpResponse> {
    let upload = receive_file(&p, mp, AVATAR_LIMIT).await?;
    sniff_image(&p, &upload.blob.sha256)?;
    let id = auth.user_id;
    let sha = upload.blob.sha256;
    let m = p
        .store
        .write(move |tx| {
            let old = store::member_in(tx, id)?.ok_or_else(|| AppError::not_found("member"))?;
            let mut m = old.clone();
            if let Some(prev) = &old.avatar {
                blobs::release_ref(tx, prev)?;
            }
            blobs::add_ref(tx, &sha)?;
            m.avatar = Some(sha.clone());
            m.updated_at = tx.now;
            store::put_member(tx, Some(&old), &m)?;
            Ok(m)
        })
        .await?;
    Ok(HttpResponse::Ok().json(directory::view_one(&p.store.begin_read()?, m)?))
}

async fn create_department(p: P, auth: Auth, body: web::Json<NewDepartment>) -> AppResult<HttpResponse> {
    let ctx = admin_ctx(&p, &auth, Some(Permission::Departments))?;
    let d = departments::create(&p, &ctx, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(d))
}

async fn update_department(
    p: P,
    auth: Auth,
    id: web::Path<u64>,
    body: web::Json<DepartmentPatch>,
) -> AppResult<HttpResponse> {
    let ctx = admin_ctx(&p, &auth, Some(Permission::Departments))?;
    Ok(HttpResponse::Ok().json(departments::update(&p, &ctx, *id, body.into_inner()).await?))
}

async fn delete_department(p: P, auth: Auth, id: web::Path<u64>) -> AppResult<HttpResponse> {
    let ctx = admin_ctx(&p, &auth, Some(Permission::Departments))?;
    departments::delete(&p, &ctx, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn create_member(
    p: P,
    auth: Auth,
    req: actix_web::HttpRequest,
    body: web::Json<MemberInput>,
) -> AppResult<HttpResponse> {
    let ctx = admin_ctx(&p, &auth, Some(Permission::Members))?;
    let input = body.into_inner();
    let send_invite = input.send_invite.unwrap_or(false);
    let m = members::create(&p, &ctx, input).await?;
    let invite =
        if send_invite { Some(crate::accounts::service::invite(&p, &req, &ctx, m.id, true).await?) } else { None };
    let view = directory::view_one(&p.store.begin_read()?, m)?;
    Ok(HttpResponse::Created().json(json!({ "member": view, "invite": invite })))
}

async fn update_member(p: P, auth: Auth, id: web::Path<u64>, body: web::Json<MemberInput>) -> AppResult<HttpResponse> {
    let ctx = admin_ctx(&p, &auth, Some(Permission::Members))?;
    let m = members::update(&p, &ctx, *id, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(directory::view_one(&p.store.begin_read()?, m)?))
}

async fn set_enabled(p: P, auth: Auth, id: u64, enabled: bool) -> AppResult<HttpResponse> {
    let ctx = admin_ctx(&p, &auth, Some(Permission::Members))?;
    let m = members::set_enabled(&p, &ctx, id, enabled).await?;
    Ok(HttpResponse::Ok().json(directory::view_one(&p.store.begin_read()?, m)?))
}

async fn disable_member(p: P, auth: Auth, id: web::Path<u64>) -> AppResult<HttpResponse> {
    set_enabled(p, auth, *id, false).await
}

async fn enable_member(p: P, auth: Auth, id: web::Path<u64>) -> AppResult<HttpResponse> {
    set_enabled(p, auth, *id, true).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Offboard {
    handover_to: u64,
}

async fn offboard_member(p: P, auth: Auth, id: web::Path<u64>, body: web::Json<Offboard>) -> AppResult<HttpResponse> {
    let ctx = admin_ctx(&p, &auth, Some(Permission::Members))?;
    let m = members::offboard(&p, &ctx, *id, body.handover_to).await?;
    Ok(HttpResponse::Ok().json(directory::view_one(&p.store.begin_read()?, m)?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTag {
    name: String,
}

async fn create_tag(p: P, auth: Auth, body: web::Json<NewTag>) -> AppResult<HttpResponse> {
    let ctx = admin_ctx(&p, &auth, Some(Permission::Tags))?;
    Ok(HttpResponse::Created().json(tags::create(&p, &ctx, body.into_inner().name).await?))
}

async fn update_tag(p: P, auth: Auth, id: web::Path<u64>, body: web::Json<TagInput>) -> AppResult<HttpResponse> {
    let ctx = admin_ctx(&p, &auth, Some(Permission::Tags))?;
    Ok(HttpResponse::Ok().json(tags::update(&p, &ctx, *id, body.into_inner()).await?))
}

async fn delete_tag(p: P, auth: Auth, id: web::Path<u64>) -> AppResult<HttpResponse> {
    let ctx = admin_ctx(&p, &auth, Some(Permission::Tags))?;
    tags::delete(&p, &ctx, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn put_custom_fields(p: P, auth: Auth, body: web::Json<CustomFields>) -> AppResult<HttpResponse> {
    let ctx = admin_ctx(&p, &auth, None)?;
    let mut fields = body.into_inner();
    fields.validate()?;
    let saved = p
        .store
        .write(move |tx| {
            fields.save(tx)?;
            audit::record(
                tx,
                &ctx.actor,
                "custom_fields.updated",
                "custom_fields",
                json!({ "count": fields.items.len() }),
            )?;
            Ok(fields.clone())
        })
        .await?;
    Ok(HttpResponse::Ok().json(saved))
}
