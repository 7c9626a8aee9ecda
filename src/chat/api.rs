//! HTTP routes of the chat (docs/messaging.md). Handlers parse, call one use case, answer.

use super::conversations::{self, GroupPatch, NewGroup, SettingsPatch};
use super::history::{self, HistoryQuery};
use super::model::{ChatSettings, MsgKind};
use super::send::{self, ForwardInput, SendInput};
use super::{favorites, media, members, store};
use crate::error::{AppError, AppResult};
use crate::platform::auth::Auth;
use crate::platform::download::{serve_blob, Disposition};
use crate::platform::http::{blob_response, receive_file, sniff_image};
use crate::platform::settings::SettingsDoc;
use crate::platform::Platform;
use actix_web::http::header::ContentType;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

type P = web::Data<Platform>;

const AVATAR_LIMIT: u64 = 5 * 1024 * 1024;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/chat/conversations", web::get().to(list))
        .route("/chat/direct", web::post().to(open_direct))
        .route("/chat/groups", web::post().to(create_group))
        .route("/chat/forward", web::post().to(forward))
        .route("/chat/favorites", web::get().to(list_favorites))
        .route("/chat/favorites", web::post().to(add_favorite))
        .route("/chat/favorites/{fid}", web::delete().to(remove_favorite))
        .route("/admin/chat/settings", web::get().to(get_settings))
        .route("/admin/chat/settings", web::put().to(put_settings))
        .service(
            web::scope("/chat/conversations/{id}")
                .route("", web::get().to(get_one))
                .route("", web::patch().to(update))
                .route("/avatar", web::get().to(avatar))
                .route("/avatar", web::post().to(upload_avatar))
                .route("/members", web::get().to(list_members))
                .route("/members", web::post().to(invite))
                .route("/members/{uid}", web::delete().to(remove_member))
                .route("/requests", web::get().to(requests))
                .route("/requests/{rid}", web::post().to(decide))
                .route("/admins", web::post().to(set_admin))
                .route("/transfer", web::post().to(transfer))
                .route("/mute", web::post().to(mute))
                .route("/dissolve", web::post().to(dissolve))
                .route("/settings", web::put().to(settings))
                .route("/read", web::post().to(read))
                .route("/pin", web::post().to(pin))
                .route("/messages", web::get().to(history_page))
                .route("/messages", web::post().to(send_message))
                .route("/files", web::post().to(send_file))
                .route("/messages/{seq}/file", web::get().to(file))
                .route("/messages/{seq}/merged/{index}/file", web::get().to(merged_file))
                .route("/messages/{seq}/recall", web::post().to(recall))
                .route("/messages/{seq}/receipts", web::get().to(receipts)),
        );
}

fn ok(v: Value) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(v))
}

#[derive(Deserialize)]
struct ListQuery {
    include_hidden: Option<u8>,
}

async fn list(p: P, auth: Auth, q: web::Query<ListQuery>) -> AppResult<HttpResponse> {
    let include_hidden = q.include_hidden.unwrap_or(0) == 1;
    ok(web::block(move || conversations::list(&p, auth.user_id, include_hidden))
        .await
        .map_err(AppError::internal)??)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserRef {
    user_id: u64,
}

async fn open_direct(p: P, auth: Auth, body: web::Json<UserRef>) -> AppResult<HttpResponse> {
    ok(conversations::open_direct(&p, auth.user_id, body.user_id).await?)
}

async fn create_group(p: P, auth: Auth, body: web::Json<NewGroup>) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Created().json(conversations::create_group(&p, auth.user_id, body.into_inner()).await?))
}

async fn get_one(p: P, auth: Auth, id: web::Path<u64>) -> AppResult<HttpResponse> {
    ok(conversations::view(&p, auth.user_id, *id)?)
}

async fn update(p: P, auth: Auth, id: web::Path<u64>, body: web::Json<GroupPatch>) -> AppResult<HttpResponse> {
    ok(conversations::update_group(&p, auth.user_id, *id, body.into_inner()).await?)
}

async fn avatar(p: P, auth: Auth, id: web::Path<u64>) -> AppResult<HttpResponse> {
    let txn = p.store.begin_read()?;
    let (conv, _) = store::conversation_for_read(&txn, *id, auth.user_id)?;
    let sha = conv.avatar.ok_or_else(|| AppError::not_found("avatar"))?;
    let ct = sniff_image(&p, &sha)?;
    blob_response(&p, &sha, ct)
}

async fn upload_avatar(
    p: P,
    auth: Auth,
    id: web::Path<u64>,
    mp: actix_multipart::Multipart,
) -> AppResult<HttpResponse> {
    // Membership and role first, so an outsider's bytes are never stored.
    let (conv, _) = store::conversation_for_read(&p.store.begin_read()?, *id, auth.user_id)?;
    conversations::require_manager(&conv, auth.user_id)?;
    let upload = receive_file(&p, mp, AVATAR_LIMIT).await?;
    sniff_image(&p, &upload.blob.sha256)?;
    ok(conversations::set_avatar(&p, auth.user_id, *id, upload.blob.sha256).await?)
}

async fn list_members(p: P, auth: Auth, id: web::Path<u64>) -> AppResult<HttpResponse> {
    ok(members::list(&p, auth.user_id, *id)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserIds {
    user_ids: Vec<u64>,
}

async fn invite(p: P, auth: Auth, id: web::Path<u64>, body: web::Json<UserIds>) -> AppResult<HttpResponse> {
    let out = members::invite(&p, auth.user_id, *id, body.into_inner().user_ids).await?;
    let pending = out.get("pending").and_then(Value::as_u64).unwrap_or(0);
    Ok(if pending > 0 { HttpResponse::Accepted().json(out) } else { HttpResponse::Ok().json(out) })
}

async fn remove_member(p: P, auth: Auth, path: web::Path<(u64, u64)>) -> AppResult<HttpResponse> {
    let (id, uid) = path.into_inner();
    ok(members::remove(&p, auth.user_id, id, uid).await?)
}

async fn requests(p: P, auth: Auth, id: web::Path<u64>) -> AppResult<HttpResponse> {
    ok(members::requests(&p, auth.user_id, *id)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Decision {
    approve: bool,
}

async fn decide(p: P, auth: Auth, path: web::Path<(u64, u64)>, body: web::Json<Decision>) -> AppResult<HttpResponse> {
    let (id, rid) = path.into_inner();
    ok(members::decide_request(&p, auth.user_id, id, rid, body.approve).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdminChange {
    user_id: u64,
    admin: bool,
}

async fn set_admin(p: P, auth: Auth, id: web::Path<u64>, body: web::Json<AdminChange>) -> AppResult<HttpResponse> {
    ok(members::set_admin(&p, auth.user_id, *id, body.user_id, body.admin).await?)
}

async fn transfer(p: P, auth: Auth, id: web::Path<u64>, body: web::Json<UserRef>) -> AppResult<HttpResponse> {
    ok(members::transfer(&p, auth.user_id, *id, body.user_id).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MuteChange {
    user_id: u64,
    muted: bool,
}

async fn mute(p: P, auth: Auth, id: web::Path<u64>, body: web::Json<MuteChange>) -> AppResult<HttpResponse> {
    ok(members::mute_member(&p, auth.user_id, *id, body.user_id, body.muted).await?)
}

async fn dissolve(p: P, auth: Auth, id: web::Path<u64>) -> AppResult<HttpResponse> {
    ok(members::dissolve(&p, auth.user_id, *id).await?)
}

async fn settings(p: P, auth: Auth, id: web::Path<u64>, body: web::Json<SettingsPatch>) -> AppResult<HttpResponse> {
    ok(conversations::update_settings(&p, auth.user_id, *id, body.into_inner()).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadInput {
    seq: u64,
}

async fn read(p: P, auth: Auth, id: web::Path<u64>, body: web::Json<ReadInput>) -> AppResult<HttpResponse> {
    ok(conversations::mark_read(&p, auth.user_id, *id, body.seq).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PinInput {
    seq: Option<u64>,
}

async fn pin(p: P, auth: Auth, id: web::Path<u64>, body: web::Json<PinInput>) -> AppResult<HttpResponse> {
    ok(conversations::pin_message(&p, auth.user_id, *id, body.seq).await?)
}

async fn history_page(p: P, auth: Auth, id: web::Path<u64>, q: web::Query<HistoryQuery>) -> AppResult<HttpResponse> {
    let id = *id;
    ok(web::block(move || history::page(&p, auth.user_id, id, &q)).await.map_err(AppError::internal)??)
}

async fn send_message(p: P, auth: Auth, id: web::Path<u64>, body: web::Json<SendInput>) -> AppResult<HttpResponse> {
    let message = send::send(&p, auth.user_id, *id, body.into_inner()).await?;
    Ok(HttpResponse::Created().content_type(ContentType::json()).body(message))
}

#[derive(Deserialize)]
struct FileQuery {
    kind: Option<MsgKind>,
    duration_ms: Option<u32>,
}

async fn send_file(
    p: P,
    auth: Auth,
    id: web::Path<u64>,
    q: web::Query<FileQuery>,
    mp: actix_multipart::Multipart,
) -> AppResult<HttpResponse> {
    let kind = q.kind.unwrap_or(MsgKind::File);
    if !kind.has_file() {
        return Err(AppError::invalid("kind", "validation_failed", "kind is image, file or voice"));
    }
    let txn = p.store.begin_read()?;
    let (conv, _) = store::conversation_for_read(&txn, *id, auth.user_id)?;
    send::check_may_speak(&conv, auth.user_id)?;
    let limit = u64::from(ChatSettings::load(&txn)?.max_attachment_mb) * 1024 * 1024;
    drop(txn);
    let upload = receive_file(&p, mp, limit).await?;
    let (p2, duration) = (p.clone(), q.duration_ms);
    let file = web::block(move || media::describe(&p2, kind, &upload.blob, &upload.filename, duration))
        .await
        .map_err(AppError::internal)??;
    let message = send::send_file(&p, auth.user_id, *id, kind, file).await?;
    Ok(HttpResponse::Created().content_type(ContentType::json()).body(message))
}

#[derive(Deserialize)]
struct DownloadQuery {
    thumb: Option<u8>,
    download: Option<u8>,
}

fn serve(req: &HttpRequest, p: &Platform, f: super::model::FileRef, q: &DownloadQuery) -> AppResult<HttpResponse> {
    let disposition = if q.download == Some(1) { Disposition::Attachment } else { Disposition::Inline };
    match (&f.thumb_sha, q.thumb) {
        (Some(t), Some(1)) => {
            serve_blob(req, p, t, &format!("thumb-{}.jpg", f.name), "image/jpeg", Disposition::Inline)
        }
        _ => serve_blob(req, p, &f.sha, &f.name, &f.mime, disposition),
    }
}

async fn file(
    req: HttpRequest,
    p: P,
    auth: Auth,
    path: web::Path<(u64, u64)>,
    q: web::Query<DownloadQuery>,
) -> AppResult<HttpResponse> {
    let (id, seq) = path.into_inner();
    let f = history::attachment(&p, auth.user_id, id, seq, None)?;
    serve(&req, &p, f, &q)
}

async fn merged_file(
    req: HttpRequest,
    p: P,
    auth: Auth,
    path: web::Path<(u64, u64, usize)>,
    q: web::Query<DownloadQuery>,
) -> AppResult<HttpResponse> {
    let (id, seq, index) = path.into_inner();
    let f = history::attachment(&p, auth.user_id, id, seq, Some(index))?;
    serve(&req, &p, f, &q)
}

async fn recall(p: P, auth: Auth, path: web::Path<(u64, u64)>) -> AppResult<HttpResponse> {
    let (id, seq) = path.into_inner();
    ok(history::recall(&p, auth.user_id, id, seq).await?)
}

async fn receipts(p: P, auth: Auth, path: web::Path<(u64, u64)>) -> AppResult<HttpResponse> {
    let (id, seq) = path.into_inner();
    ok(history::receipts(&p, auth.user_id, id, seq)?)
}

async fn forward(p: P, auth: Auth, body: web::Json<ForwardInput>) -> AppResult<HttpResponse> {
    ok(send::forward(&p, auth.user_id, body.into_inner()).await?)
}

#[derive(Deserialize)]
struct FavQuery {
    q: Option<String>,
    cursor: Option<u64>,
    limit: Option<usize>,
}

async fn list_favorites(p: P, auth: Auth, q: web::Query<FavQuery>) -> AppResult<HttpResponse> {
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    ok(favorites::list(&p, auth.user_id, q.q.as_deref().unwrap_or(""), q.cursor, limit)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FavInput {
    conversation_id: u64,
    seq: u64,
}

async fn add_favorite(p: P, auth: Auth, body: web::Json<FavInput>) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Created().json(favorites::add(&p, auth.user_id, body.conversation_id, body.seq).await?))
}

async fn remove_favorite(p: P, auth: Auth, id: web::Path<u64>) -> AppResult<HttpResponse> {
    favorites::remove(&p, auth.user_id, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn get_settings(p: P, auth: Auth) -> AppResult<HttpResponse> {
    auth.require_super(&p)?;
    Ok(HttpResponse::Ok().json(ChatSettings::load(&p.store.begin_read()?)?))
}

async fn put_settings(p: P, auth: Auth, body: web::Json<ChatSettings>) -> AppResult<HttpResponse> {
    auth.require_super(&p)?;
    let s = body.into_inner();
    s.validate()?;
    let actor = crate::org::service::actor(&p, &auth)?;
    let saved = s.clone();
    p.store
        .write(move |tx| {
            saved.save(tx)?;
            crate::platform::audit::record(tx, &actor, "chat.settings_changed", "chat", serde_json::to_value(&saved)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!(s)))
}
