//! HTTP handlers for spaces, members, usage, activity, grants, the bin and the drive settings.
//! Node handlers are in [`super::api_nodes`], downloads in [`super::content`].

use super::model::{OnConflict, PrincipalKind, Role};
use super::settings::DriveSettings;
use super::store::{self, Rd};
use super::view::{space_json, People};
use super::{bin, grants, service, spaces};
use crate::error::{AppError, AppResult};
use crate::platform::audit;
use crate::platform::auth::extract::Auth;
use crate::platform::settings::SettingsDoc;
use crate::platform::Platform;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

type P = web::Data<Platform>;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/drive/spaces", web::get().to(list_spaces))
        .route("/drive/spaces", web::post().to(create_space))
        .route("/drive/spaces/{id}", web::get().to(get_space))
        .route("/drive/spaces/{id}", web::patch().to(patch_space))
        .route("/drive/spaces/{id}", web::delete().to(delete_space))
        .route("/drive/spaces/{id}/members", web::put().to(put_member))
        .route("/drive/spaces/{id}/members/{kind}/{pid}", web::delete().to(delete_member))
        .route("/drive/spaces/{id}/activity", web::get().to(activity))
        .route("/drive/spaces/{id}/bin", web::get().to(list_bin))
        .route("/drive/spaces/{id}/bin", web::delete().to(empty_bin))
        .route("/drive/bin/{id}/restore", web::post().to(restore_bin))
        .route("/drive/bin/{id}", web::delete().to(purge_bin))
        .route("/drive/usage", web::get().to(usage))
        .route("/drive/shared", web::get().to(shared))
        .route("/drive/nodes/{id}/grants", web::get().to(list_grants))
        .route("/drive/nodes/{id}/grants", web::put().to(put_grant))
        .route("/drive/nodes/{id}/grants/{kind}/{pid}", web::delete().to(delete_grant))
        .route("/admin/settings/drive", web::get().to(get_settings))
        .route("/admin/settings/drive", web::put().to(put_settings))
        .configure(super::api_nodes::routes);
}

/// The caller's name for audit entries.
pub fn actor(p: &Platform, auth: &Auth) -> AppResult<audit::Actor> {
    let m: Option<crate::org::model::Member> = p.store.begin_read()?.get(&crate::org::store::MEMBERS, &auth.user_id)?;
    Ok(auth.actor(&m.map(|m| m.name).unwrap_or_default()))
}

/// Super administrators set quotas and the drive settings (the admin roles have no separate
/// `drive` permission yet).
fn is_admin(p: &Platform, auth: &Auth) -> AppResult<bool> {
    Ok(crate::platform::auth::roles::role_of(&p.store.begin_read()?, auth.user_id)?.is_some_and(|r| r.is_super()))
}

/// Make sure the caller's personal space exists (a write only the first time).
pub async fn ensure_personal(p: &Platform, user: u64) -> AppResult<()> {
    if p.store.begin_read()?.get(&store::PERSONAL, &user)?.is_none() {
        p.store.write(move |tx| service::personal_space(tx, user).map(|_| ())).await?;
    }
    Ok(())
}

async fn list_spaces(p: P, auth: Auth) -> AppResult<HttpResponse> {
    ensure_personal(&p, auth.user_id).await?;
    let txn = p.store.begin_read()?;
    let items: Vec<Value> = spaces::list(&txn, auth.user_id)?.iter().map(|(s, r)| space_json(s, *r)).collect();
    Ok(HttpResponse::Ok().json(json!({ "items": items })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSpace {
    name: String,
    #[serde(default)]
    quota: Option<u64>,
}

async fn create_space(p: P, auth: Auth, body: web::Json<NewSpace>) -> AppResult<HttpResponse> {
    let (user, admin, a) = (auth.user_id, is_admin(&p, &auth)?, actor(&p, &auth)?);
    let b = body.into_inner();
    let s = p
        .store
        .write(move |tx| {
            let s = spaces::create_team(tx, user, &b.name, b.quota, admin)?;
            audit::record(tx, &a, "drive.space_create", s.id.to_string(), json!({"name": s.name}))?;
            Ok(s)
        })
        .await?;
    Ok(HttpResponse::Created().json(space_json(&s, Role::Manager)))
}

async fn get_space(p: P, auth: Auth, id: web::Path<u64>) -> AppResult<HttpResponse> {
    let txn = p.store.begin_read()?;
    let (s, role) = spaces::get(&txn, auth.user_id, *id)?;
    let mut v = space_json(&s, role);
    v["members"] = Value::Array(spaces::member_list(&txn, s.id)?);
    Ok(HttpResponse::Ok().json(v))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchSpace {
    name: Option<String>,
    /// Present with `null` = unlimited.
    #[serde(default, deserialize_with = "present")]
    quota: Option<Option<u64>>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<u64>>, D::Error> {
    Option::<u64>::deserialize(d).map(Some)
}

async fn patch_space(p: P, auth: Auth, id: web::Path<u64>, body: web::Json<PatchSpace>) -> AppResult<HttpResponse> {
    let (user, id, admin) = (auth.user_id, *id, is_admin(&p, &auth)?);
    let b = body.into_inner();
    let s = p.store.write(move |tx| spaces::patch(tx, user, id, b.name.as_deref(), b.quota, admin)).await?;
    let role = spaces::get(&p.store.begin_read()?, user, id)?.1;
    Ok(HttpResponse::Ok().json(space_json(&s, role)))
}

async fn delete_space(p: P, auth: Auth, id: web::Path<u64>) -> AppResult<HttpResponse> {
    let (user, id, a) = (auth.user_id, *id, actor(&p, &auth)?);
    p.store
        .write(move |tx| {
            spaces::delete(tx, user, id)?;
            audit::record(tx, &a, "drive.space_delete", id.to_string(), json!({}))
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PrincipalRole {
    kind: String,
    id: u64,
    role: Role,
}

async fn put_member(p: P, auth: Auth, id: web::Path<u64>, body: web::Json<PrincipalRole>) -> AppResult<HttpResponse> {
    let (user, id, a) = (auth.user_id, *id, actor(&p, &auth)?);
    let b = body.into_inner();
    let kind = PrincipalKind::parse(&b.kind)?;
    p.store
        .write(move |tx| {
            spaces::put_member(tx, user, id, kind, b.id, b.role)?;
            audit::record(tx, &a, "drive.member_put", id.to_string(), json!({"kind": kind, "id": b.id, "role": b.role}))
        })
        .await?;
    let members = spaces::member_list(&p.store.begin_read()?, id)?;
    Ok(HttpResponse::Ok().json(json!({ "members": members })))
}

async fn delete_member(p: P, auth: Auth, path: web::Path<(u64, String, u64)>) -> AppResult<HttpResponse> {
    let (id, kind, pid) = path.into_inner();
    PrincipalKind::parse(&kind)?;
    let (user, a) = (auth.user_id, actor(&p, &auth)?);
    p.store
        .write(move |tx| {
            spaces::remove_member(tx, user, id, pid)?;
            audit::record(tx, &a, "drive.member_remove", id.to_string(), json!({"id": pid}))
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
struct ActivityQuery {
    before: Option<u64>,
    limit: Option<usize>,
}

async fn activity(p: P, auth: Auth, id: web::Path<u64>, q: web::Query<ActivityQuery>) -> AppResult<HttpResponse> {
    let txn = p.store.begin_read()?;
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let (rows, next) = spaces::activity(&txn, auth.user_id, *id, q.before, limit)?;
    let mut people = People::new(&txn);
    let mut items = Vec::with_capacity(rows.len());
    for (seq, a) in rows {
        items.push(json!({"id": seq, "at": a.at, "actor": people.person(a.actor)?, "action": a.action,
                          "node_id": a.node_id, "name": a.name, "details": a.details}));
    }
    Ok(HttpResponse::Ok().json(json!({ "items": items, "next": next })))
}

async fn list_bin(p: P, auth: Auth, id: web::Path<u64>) -> AppResult<HttpResponse> {
    let txn = p.store.begin_read()?;
    let (role, rows) = bin::list(&txn, auth.user_id, *id)?;
    let mut people = People::new(&txn);
    let mut items = Vec::with_capacity(rows.len());
    for b in rows {
        items.push(json!({"node": people.node_json(&b.node, role)?, "deleted_at": b.entry.deleted_at,
                          "deleted_by": people.person(b.entry.deleted_by)?, "purge_at": b.purge_at}));
    }
    Ok(HttpResponse::Ok().json(json!({ "items": items })))
}

async fn empty_bin(p: P, auth: Auth, id: web::Path<u64>) -> AppResult<HttpResponse> {
    let (user, id) = (auth.user_id, *id);
    p.store.write(move |tx| bin::empty(tx, user, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ConflictBody {
    #[serde(default)]
    pub on_conflict: Option<String>,
}

async fn restore_bin(
    p: P,
    auth: Auth,
    id: web::Path<u64>,
    body: Option<web::Json<ConflictBody>>,
) -> AppResult<HttpResponse> {
    let (user, id) = (auth.user_id, *id);
    let oc = OnConflict::parse(body.and_then(|b| b.into_inner().on_conflict).as_deref())?;
    let n = p.store.write(move |tx| bin::restore(tx, user, id, oc)).await?;
    super::api_nodes::node_response(&p, user, n.id, false)
}

async fn purge_bin(p: P, auth: Auth, id: web::Path<u64>) -> AppResult<HttpResponse> {
    let (user, id) = (auth.user_id, *id);
    p.store.write(move |tx| bin::purge(tx, user, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn usage(p: P, auth: Auth) -> AppResult<HttpResponse> {
    ensure_personal(&p, auth.user_id).await?;
    let txn = p.store.begin_read()?;
    let id = txn.get(&store::PERSONAL, &auth.user_id)?.ok_or_else(|| AppError::internal("personal space missing"))?;
    let s = store::space(&txn, id)?;
    let settings = service::read_settings(&txn)?;
    Ok(HttpResponse::Ok().json(json!({
        "user": {"used": s.used, "quota": s.quota},
        "enterprise": {"used": store::enterprise_used(&txn)?, "quota": settings.enterprise_quota},
    })))
}

async fn shared(p: P, auth: Auth) -> AppResult<HttpResponse> {
    let txn = p.store.begin_read()?;
    let mut people = People::new(&txn);
    let mut items = Vec::new();
    for (n, role) in grants::shared_with_me(&txn, auth.user_id)? {
        items.push(people.node_json(&n, role)?);
    }
    Ok(HttpResponse::Ok().json(json!({ "items": items })))
}

async fn list_grants(p: P, auth: Auth, id: web::Path<u64>) -> AppResult<HttpResponse> {
    let items = grants::list(&p.store.begin_read()?, auth.user_id, *id)?;
    Ok(HttpResponse::Ok().json(json!({ "items": items })))
}

async fn put_grant(p: P, auth: Auth, id: web::Path<u64>, body: web::Json<PrincipalRole>) -> AppResult<HttpResponse> {
    let (user, id, a) = (auth.user_id, *id, actor(&p, &auth)?);
    let b = body.into_inner();
    let kind = PrincipalKind::parse(&b.kind)?;
    p.store
        .write(move |tx| {
            let n = grants::put(tx, user, id, kind, b.id, b.role)?;
            audit::record(tx, &a, "drive.share", id.to_string(), json!({"kind": kind, "id": b.id, "role": b.role}))?;
            if kind == PrincipalKind::User {
                let event = json!({"type": "drive.shared", "node_id": n.id, "name": n.name});
                crate::platform::realtime::notify_users(tx, &[b.id], event)?;
            }
            Ok(())
        })
        .await?;
    let items = grants::list(&p.store.begin_read()?, user, id)?;
    Ok(HttpResponse::Ok().json(json!({ "items": items })))
}

async fn delete_grant(p: P, auth: Auth, path: web::Path<(u64, String, u64)>) -> AppResult<HttpResponse> {
    let (id, kind, pid) = path.into_inner();
    PrincipalKind::parse(&kind)?;
    let (user, a) = (auth.user_id, actor(&p, &auth)?);
    p.store
        .write(move |tx| {
            grants::remove(tx, user, id, pid)?;
            audit::record(tx, &a, "drive.unshare", id.to_string(), json!({"id": pid}))
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn get_settings(p: P, auth: Auth) -> AppResult<HttpResponse> {
    auth.require_super(&p)?;
    Ok(HttpResponse::Ok().json(DriveSettings::load(&p.store.begin_read()?)?))
}

async fn put_settings(p: P, auth: Auth, body: web::Json<DriveSettings>) -> AppResult<HttpResponse> {
    auth.require_super(&p)?;
    let a = actor(&p, &auth)?;
    let s = body.into_inner();
    s.validate()?;
    let saved = s.clone();
    p.store
        .write(move |tx| {
            s.save(tx)?;
            audit::record(tx, &a, "drive.settings", "drive", serde_json::to_value(&s)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(saved))
}
