//! HTTP handlers for announcements (docs/messaging.md, "Announcements").

use super::model::{NoticeInput, NoticePatch};
use super::service::{Caller, Publisher};
use super::{centre, files, manage, publish};
use crate::error::{AppError, AppResult};
use crate::org::service::admin_ctx;
use crate::platform::auth::Auth;
use crate::platform::http::{xlsx_response, PageQuery};
use crate::platform::Platform;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

type P = web::Data<Platform>;

pub fn routes(cfg: &mut web::ServiceConfig) {
    // Literal segments first: `/notices/{id}` would match them too.
    cfg.route("/notices/manage", web::get().to(manage_list))
        .route("/notices/uploads", web::post().to(upload))
        .route("/notices/uploads/{sha}", web::get().to(own_upload))
        .route("/notices", web::get().to(centre_list))
        .route("/notices", web::post().to(create))
        .route("/notices/{id}", web::get().to(open))
        .route("/notices/{id}", web::patch().to(update))
        .route("/notices/{id}", web::delete().to(withdraw))
        .route("/notices/{id}/confirm", web::post().to(confirm))
        .route("/notices/{id}/stats", web::get().to(stats))
        .route("/notices/{id}/stats.xlsx", web::get().to(stats_xlsx))
        .route("/notices/{id}/remind", web::post().to(remind))
        .route("/notices/{id}/files/{sha}", web::get().to(download))
        .route("/admin/notices/publishers", web::get().to(get_publishers))
        .route("/admin/notices/publishers", web::put().to(put_publishers));
}

/// Run a blocking read (lists, statistics) off the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> AppResult<T> + Send + 'static) -> AppResult<T> {
    web::block(f).await.map_err(AppError::internal)?
}

async fn centre_list(p: P, auth: Auth, q: web::Query<PageQuery>) -> AppResult<HttpResponse> {
    let page = blocking(move || {
        centre::list(&p.store.begin_read()?, auth.user_id, q.cursor.as_deref(), q.limit(), p.now_ms())
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

async fn create(p: P, auth: Auth, body: web::Json<NoticeInput>) -> AppResult<HttpResponse> {
    let who = Publisher::of(&p, &auth)?;
    let n = publish::create(&p, &who, body.into_inner()).await?;
    let view = centre::view(&p.store.begin_read()?, &who.caller, n.id, p.now_ms())?;
    Ok(HttpResponse::Created().json(view))
}

async fn update(p: P, auth: Auth, id: web::Path<u64>, body: web::Json<NoticePatch>) -> AppResult<HttpResponse> {
    let who = Publisher::of(&p, &auth)?;
    let n = publish::update(&p, &who, *id, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(centre::view(&p.store.begin_read()?, &who.caller, n.id, p.now_ms())?))
}

async fn open(p: P, auth: Auth, id: web::Path<u64>) -> AppResult<HttpResponse> {
    let caller = Caller::of(&p, &auth)?;
    Ok(HttpResponse::Ok().json(centre::open(&p, &caller, *id).await?))
}

async fn confirm(p: P, auth: Auth, id: web::Path<u64>) -> AppResult<HttpResponse> {
    let caller = Caller::of(&p, &auth)?;
    Ok(HttpResponse::Ok().json(centre::confirm(&p, &caller, *id).await?))
}

async fn withdraw(p: P, auth: Auth, id: web::Path<u64>) -> AppResult<HttpResponse> {
    let caller = Caller::of(&p, &auth)?;
    let actor = crate::org::service::actor(&p, &auth)?;
    manage::withdraw(&p, &caller, &actor, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn remind(p: P, auth: Auth, id: web::Path<u64>) -> AppResult<HttpResponse> {
    let caller = Caller::of(&p, &auth)?;
    let actor = crate::org::service::actor(&p, &auth)?;
    let n = manage::remind(&p, &caller, &actor, *id).await?;
    Ok(HttpResponse::Ok().json(json!({ "reminded": n })))
}

async fn manage_list(p: P, auth: Auth, q: web::Query<PageQuery>) -> AppResult<HttpResponse> {
    let caller = Caller::of(&p, &auth)?;
    let page = blocking(move || manage::list(&p.store.begin_read()?, &caller, q.cursor_u64()?, q.limit())).await?;
    Ok(HttpResponse::Ok().json(page))
}

async fn stats(p: P, auth: Auth, id: web::Path<u64>) -> AppResult<HttpResponse> {
    let caller = Caller::of(&p, &auth)?;
    let id = *id;
    let s = blocking(move || manage::stats(&p.store.begin_read()?, &caller, id, p.now_ms())).await?;
    Ok(HttpResponse::Ok().json(s))
}

async fn stats_xlsx(p: P, auth: Auth, id: web::Path<u64>) -> AppResult<HttpResponse> {
    let caller = Caller::of(&p, &auth)?;
    let id = *id;
    let bytes = blocking(move || {
        let txn = p.store.begin_read()?;
        let s = manage::stats(&txn, &caller, id, p.now_ms())?;
        let tz = crate::setup::service::enterprise(&txn)?.time_zone;
        manage::stats_xlsx(&manage::all_rows(&s), &tz)
    })
    .await?;
    Ok(xlsx_response(bytes, &format!("notice-{id}-reads.xlsx")))
}

async fn upload(p: P, auth: Auth, mp: actix_multipart::Multipart) -> AppResult<HttpResponse> {
    let who = Publisher::of(&p, &auth)?;
    let f = files::upload(&p, &who, mp).await?;
    Ok(HttpResponse::Created().json(f))
}

async fn own_upload(req: HttpRequest, p: P, auth: Auth, sha: web::Path<String>) -> AppResult<HttpResponse> {
    files::own_upload(&req, &p, auth.user_id, &sha)
}

async fn download(req: HttpRequest, p: P, auth: Auth, path: web::Path<(u64, String)>) -> AppResult<HttpResponse> {
    let caller = Caller::of(&p, &auth)?;
    let (id, sha) = path.into_inner();
    files::download(&req, &p, &caller, id, &sha)
}

async fn get_publishers(p: P, auth: Auth) -> AppResult<HttpResponse> {
    auth.admin(&p)?;
    Ok(HttpResponse::Ok().json(manage::publishers(&p.store.begin_read()?)?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishersInput {
    user_ids: Vec<u64>,
}

async fn put_publishers(p: P, auth: Auth, body: web::Json<PublishersInput>) -> AppResult<HttpResponse> {
    let ctx = admin_ctx(&p, &auth, None)?;
    manage::set_publishers(&p, &ctx, body.into_inner().user_ids).await?;
    Ok(HttpResponse::Ok().json(manage::publishers(&p.store.begin_read()?)?))
}
