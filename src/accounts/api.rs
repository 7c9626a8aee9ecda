//! HTTP handlers for sign-in, sessions, passwords, invitations and resets.

use super::service;
use super::tokens::TokenKind;
use crate::error::AppResult;
use crate::org::service::admin_ctx;
use crate::platform::auth::session::SecuritySettings;
use crate::platform::auth::{Auth, Permission};
use crate::platform::settings::SettingsDoc;
use crate::platform::Platform;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

type P = web::Data<Platform>;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/auth/login", web::post().to(login))
        .route("/auth/logout", web::post().to(logout))
        .route("/auth/me", web::get().to(me))
        .route("/auth/password", web::post().to(change_password))
        .route("/auth/password-policy", web::get().to(policy))
        .route("/auth/sessions", web::get().to(sessions))
        .route("/auth/sessions/{id}", web::delete().to(revoke))
        .route("/auth/logout-all", web::post().to(logout_all))
        .route("/auth/token/{token}", web::get().to(describe_token))
        .route("/auth/activate", web::post().to(activate))
        .route("/auth/forgot", web::post().to(forgot))
        .route("/auth/reset", web::post().to(reset))
        .route("/admin/members/{id}/invite", web::post().to(invite))
        .route("/admin/members/{id}/reset-password", web::post().to(admin_reset));
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    login: String,
    password: String,
}

async fn login(p: P, req: HttpRequest, body: web::Json<Login>) -> AppResult<HttpResponse> {
    service::login(&p, &req, &body.login, &body.password).await
}

async fn logout(p: P, req: HttpRequest, auth: Auth) -> AppResult<HttpResponse> {
    service::logout(&p, &req, &auth).await
}

async fn me(p: P, auth: Auth) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(service::me(
        &p,
        auth.user_id,
        &auth.session.csrf,
    )?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordChange {
    old_password: String,
    new_password: String,
}

async fn change_password(
    p: P,
    req: HttpRequest,
    auth: Auth,
    body: web::Json<PasswordChange>,
) -> AppResult<HttpResponse> {
    service::change_password(&p, &req, &auth, &body.old_password, &body.new_password).await
}

async fn policy(p: P) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(SecuritySettings::load(&p.store.begin_read()?)?.password))
}

async fn sessions(p: P, auth: Auth) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(json!({ "items": service::sessions(&p, &auth)? })))
}

async fn revoke(p: P, auth: Auth, id: web::Path<String>) -> AppResult<HttpResponse> {
    service::revoke_session(&p, &auth, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn logout_all(p: P, req: HttpRequest, auth: Auth) -> AppResult<HttpResponse> {
    service::logout_all(&p, &req, &auth).await
}

async fn describe_token(p: P, token: web::Path<String>) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(service::describe_token(&p, &token)?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Activate {
    token: String,
    password: String,
}

async fn activate(p: P, req: HttpRequest, body: web::Json<Activate>) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    service::use_token(&p, &req, b.token, b.password, TokenKind::Invite).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reset {
    token: String,
    new_password: String,
}

async fn reset(p: P, req: HttpRequest, body: web::Json<Reset>) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    service::use_token(&p, &req, b.token, b.new_password, TokenKind::Reset).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Forgot {
    login: String,
}

async fn forgot(p: P, req: HttpRequest, body: web::Json<Forgot>) -> AppResult<HttpResponse> {
    service::forgot(&p, &req, &body.login).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct InviteBody {
    send_email: Option<bool>,
}

async fn invite(
    p: P,
    req: HttpRequest,
    auth: Auth,
    id: web::Path<u64>,
    body: Option<web::Json<InviteBody>>,
) -> AppResult<HttpResponse> {
    let ctx = admin_ctx(&p, &auth, Some(Permission::Members))?;
    let send = body.map(|b| b.into_inner()).unwrap_or_default().send_email.unwrap_or(false);
    Ok(HttpResponse::Ok().json(service::invite(&p, &req, &ctx, *id, send).await?))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct AdminReset {
    password: Option<String>,
}

async fn admin_reset(
    p: P,
    req: HttpRequest,
    auth: Auth,
    id: web::Path<u64>,
    body: Option<web::Json<AdminReset>>,
) -> AppResult<HttpResponse> {
    let ctx = admin_ctx(&p, &auth, Some(Permission::Members))?;
    let pw = body.map(|b| b.into_inner()).unwrap_or_default().password;
    Ok(HttpResponse::Ok().json(service::admin_reset(&p, &req, &ctx, *id, pw).await?))
}
