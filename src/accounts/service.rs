//! Sign-in, sessions, password changes, invitations and password resets.

use super::tokens::{self, TokenKind};
use crate::error::{AppError, AppResult};
use crate::org::service::{self as org, AdminCtx, Member, MemberStatus};
use crate::platform::audit::{self, Actor};
use crate::platform::auth::extract::{clear_cookie, session_cookie};
use crate::platform::auth::session::{self, SecuritySettings};
use crate::platform::auth::{credentials, password, roles, Auth};
use crate::platform::http::{base_url, client_ip, is_https, user_agent};
use crate::platform::mail::{self, SmtpSettings};
use crate::platform::settings::SettingsDoc;
use crate::platform::Platform;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::json;

/// What the web app needs about the signed-in member.
pub fn me(p: &Platform, user_id: u64, csrf: &str) -> AppResult<serde_json::Value> {
    let txn = p.store.begin_read()?;
    let m = org::get_member(&txn, user_id)?;
    let must_change = credentials::get(&txn, user_id)?.is_some_and(|c| c.must_change);
    let admin = roles::role_of(&txn, user_id)?;
    let e = crate::setup::service::enterprise(&txn)?;
    Ok(json!({
        "user": org::view_one(&txn, m)?,
        "csrf_token": csrf,
        "must_change_password": must_change,
        "admin": admin,
        "enterprise": { "name": e.name, "time_zone": e.time_zone, "has_logo": e.logo.is_some(), "verified": e.verified },
    }))
}

/// Start a fresh session (ending the one the browser had, so ids rotate on every sign-in).
/// Returns the cookie token and the session's CSRF token.
async fn start_session(p: &Platform, req: &HttpRequest, user_id: u64) -> AppResult<(String, String)> {
    let ip = client_ip(req, p.config.trust_proxy);
    let ua = user_agent(req);
    let previous = req.cookie(session::COOKIE).map(|c| session::token_hash(c.value()));
    let (token, rec) = p
        .store
        .write(move |tx| {
            if let Some(h) = &previous {
                session::remove_by_hash(tx, h)?;
            }
            session::create(tx, user_id, &ip, &ua)
        })
        .await?;
    Ok((token, rec.csrf))
}

/// Start a fresh session and answer with `Me` and the cookie.
pub async fn signed_in_response(
    p: &Platform,
    req: &HttpRequest,
    user_id: u64,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let (token, csrf) = start_session(p, req, user_id).await?;
    let body = me(p, user_id, &csrf)?;
    Ok(HttpResponse::build(status).cookie(session_cookie(&token, is_https(req, p))).json(body))
}

fn status_error(s: MemberStatus) -> Option<AppError> {
    let (code, msg) = match s {
        MemberStatus::Active => return None,
        MemberStatus::Disabled => ("account_disabled", "This account has been disabled; contact your administrator"),
        MemberStatus::Left => ("account_left", "This account belongs to a member who has left"),
        MemberStatus::Inactive => {
            ("account_not_activated", "This account is not activated yet; use your invitation link")
        }
    };
    Some(AppError::new(StatusCode::FORBIDDEN, code, msg))
}

fn invalid_credentials() -> AppError {
    AppError::new(StatusCode::UNAUTHORIZED, "invalid_credentials", "The account or password is wrong")
}

/// Sign in by account id, mobile or email. Unknown accounts and wrong passwords give the same
/// answer after the same bcrypt work; both are throttled per account and per IP.
pub async fn login(p: &Platform, req: &HttpRequest, login: &str, pw: &str) -> AppResult<HttpResponse> {
    let ip = client_ip(req, p.config.trust_proxy);
    let (member, hash) = {
        let txn = p.store.begin_read()?;
        match org::find_by_login(&txn, login)? {
            Some(m) => {
                let h = credentials::get(&txn, m.id)?.map(|c| c.hash);
                (Some(m), h)
            }
            None => (None, None),
        }
    };
    // Throttle per account, whichever of its logins (id, mobile in any notation, email) is used.
    let key = match &member {
        Some(m) => format!("member:{}", m.id),
        None => format!("login:{}", login.trim().to_lowercase()),
    };
    if let Some(wait) = p.throttle.check(&key, &ip, p.now_ms()) {
        return Err(AppError::too_many(wait));
    }
    let ok = password::verify(pw.to_owned(), hash, p.config.bcrypt_cost).await?;
    let member = match (ok, member) {
        (true, Some(m)) => m,
        (_, m) => {
            p.throttle.failed(&key, &ip, p.now_ms());
            let actor = Actor { id: 0, name: String::new(), ip: ip.clone() };
            let target = m.as_ref().map(|m| format!("member:{}", m.userid)).unwrap_or_else(|| "unknown".into());
            let depts = m.map(|m| m.department_ids).unwrap_or_default();
            let login_shown: String = login.chars().take(64).collect();
            p.store
                .write(move |tx| {
                    let details = json!({ "login": login_shown });
                    audit::record_for(tx, &actor, "auth.login_failed", target.clone(), details, &depts)
                })
                .await?;
            return Err(invalid_credentials());
        }
    };
    p.throttle.succeeded(&key);
    if let Some(e) = status_error(member.status) {
        return Err(e);
    }
    let actor = Actor { id: member.id, name: member.name.clone(), ip };
    let (target, depts) = (format!("member:{}", member.userid), member.department_ids.clone());
    p.store.write(move |tx| audit::record_for(tx, &actor, "auth.login", target.clone(), json!({}), &depts)).await?;
    signed_in_response(p, req, member.id, StatusCode::OK).await
}

pub async fn logout(p: &Platform, req: &HttpRequest, auth: &Auth) -> AppResult<HttpResponse> {
    let hash = auth.token_hash.clone();
    let actor = org::actor(p, auth)?;
    p.store
        .write(move |tx| {
            session::remove_by_hash(tx, &hash)?;
            audit::record(tx, &actor, "auth.logout", format!("member:{}", actor.id), json!({}))
        })
        .await?;
    Ok(HttpResponse::NoContent().cookie(clear_cookie(is_https(req, p))).finish())
}

pub async fn change_password(
    p: &Platform,
    req: &HttpRequest,
    auth: &Auth,
    old: &str,
    new: &str,
) -> AppResult<HttpResponse> {
    let (m, cred, policy) = {
        let txn = p.store.begin_read()?;
        (
            org::get_member(&txn, auth.user_id)?,
            credentials::get(&txn, auth.user_id)?,
            SecuritySettings::load(&txn)?.password,
        )
    };
    let ok = password::verify(old.to_owned(), cred.map(|c| c.hash), p.config.bcrypt_cost).await?;
    if !ok {
        return Err(AppError::new(StatusCode::UNAUTHORIZED, "invalid_credentials", "The current password is wrong")
            .with_details(json!({ "field": "old_password" })));
    }
    if old == new {
        return Err(AppError::invalid(
            "new_password",
            "password_unchanged",
            "Choose a password different from the current one",
        ));
    }
    policy.check(new, &m.userid)?;
    let hash = password::hash(new.to_owned(), p.config.bcrypt_cost).await?;
    let actor = org::actor(p, auth)?;
    let user_id = auth.user_id;
    p.store
        .write(move |tx| {
            credentials::set(tx, user_id, &hash, false)?;
            // Every other device is signed out; this session continues under a new id.
            session::remove_all_for_user(tx, user_id, None)?;
            audit::record(tx, &actor, "auth.password_changed", format!("member:{user_id}"), json!({}))
        })
        .await?;
    // 204 as documented: the new cookie comes with it, the new CSRF token from `/auth/me`.
    let (token, _) = start_session(p, req, auth.user_id).await?;
    Ok(HttpResponse::NoContent().cookie(session_cookie(&token, is_https(req, p))).finish())
}

#[derive(Serialize)]
pub struct SessionView {
    id: String,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
    ip: String,
    user_agent: String,
    current: bool,
}

pub fn sessions(p: &Platform, auth: &Auth) -> AppResult<Vec<SessionView>> {
    let list = session::list_for_user(&p.store.begin_read()?, auth.user_id)?;
    let mut out: Vec<SessionView> = list
        .into_iter()
        .map(|(hash, r)| SessionView {
            id: r.id.to_string(),
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            expires_at: r.expires_at,
            ip: r.ip,
            user_agent: r.user_agent,
            current: hash == auth.token_hash,
        })
        .collect();
    out.sort_by_key(|s| std::cmp::Reverse(s.last_seen_at));
    Ok(out)
}

pub async fn revoke_session(p: &Platform, auth: &Auth, id: &str) -> AppResult<()> {
    let sid: u64 = id.parse().map_err(|_| AppError::not_found("session"))?;
    let actor = org::actor(p, auth)?;
    let user_id = auth.user_id;
    p.store
        .write(move |tx| {
            let hash = session::USER_SESSIONS
                .open(tx.txn)?
                .get(&(user_id, sid))?
                .ok_or_else(|| AppError::not_found("session"))?;
            session::remove_by_hash(tx, &hash)?;
            audit::record(tx, &actor, "session.revoked", format!("session:{sid}"), json!({}))?;
            Ok(())
        })
        .await
}

pub async fn logout_all(p: &Platform, req: &HttpRequest, auth: &Auth) -> AppResult<HttpResponse> {
    let actor = org::actor(p, auth)?;
    let user_id = auth.user_id;
    p.store
        .write(move |tx| {
            let n = session::remove_all_for_user(tx, user_id, None)?;
            audit::record(tx, &actor, "auth.logout_all", format!("member:{user_id}"), json!({ "sessions": n }))
        })
        .await?;
    Ok(HttpResponse::NoContent().cookie(clear_cookie(is_https(req, p))).finish())
}

/// The base of links that go out in mails: `public_url`, else the address the setup wizard was
/// opened at. Never a request's Host / X-Forwarded-Host header: anyone can forge those on an
/// anonymous request and would then receive a victim's token through the link.
fn trusted_link_base(p: &Platform) -> AppResult<Option<String>> {
    if !p.config.public_url.is_empty() {
        return Ok(Some(p.config.public_url.clone()));
    }
    let stored = crate::setup::service::enterprise(&p.store.begin_read()?)?.base_url;
    Ok(Some(stored).filter(|b| !b.is_empty()))
}

/// An invitation or reset link as shown to the admin.
#[derive(Debug, Serialize)]
pub struct LinkOut {
    pub link: String,
    pub qr_svg: String,
    pub expires_at: i64,
    pub emailed: bool,
    /// Why the mail could not be sent, when one was asked for (the link works regardless).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mail_error: Option<String>,
}

fn qr_svg(link: &str) -> AppResult<String> {
    let code = qrcode::QrCode::new(link.as_bytes()).map_err(AppError::internal)?;
    Ok(code.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).build())
}

fn managed_member(p: &Platform, ctx: &AdminCtx, id: u64) -> AppResult<Member> {
    org::managed_in_snapshot(&p.store.begin_read()?, &ctx.role, id)
}

async fn issue_link(
    p: &Platform,
    req: &HttpRequest,
    ctx: &AdminCtx,
    m: Member,
    kind: TokenKind,
    send_email: bool,
) -> AppResult<LinkOut> {
    let (action, path) = match kind {
        TokenKind::Invite => ("member.invited", "activate"),
        TokenKind::Reset => ("member.password_reset_link", "reset"),
    };
    let actor = ctx.actor.clone();
    let (user_id, target, depts) = (m.id, format!("member:{} ({})", m.userid, m.name), m.department_ids.clone());
    let (token, rec) = p
        .store
        .write(move |tx| {
            let out = tokens::issue(tx, kind, user_id)?;
            audit::record_for(tx, &actor, action, target.clone(), json!({ "email": send_email }), &depts)?;
            Ok(out)
        })
        .await?;
    // A signed-in admin's own request may supply the address when nothing is configured.
    let base = trusted_link_base(p)?.unwrap_or_else(|| base_url(req, p));
    let link = format!("{base}/{path}/{token}");
    let smtp = SmtpSettings::load(&p.store.begin_read()?)?;
    let mut mail_error = None;
    let emailed = if send_email && smtp.is_usable() && !m.email.is_empty() {
        let ent = crate::setup::service::enterprise(&p.store.begin_read()?)?.name;
        let (subject, body) = match kind {
            TokenKind::Invite => (
                format!("{ent} 邀请你加入 OfficeBox / You are invited to {ent}"),
                format!("{}，你好：\n\n{ent} 邀请你加入 OfficeBox。请在 7 天内打开下面的链接设置密码：\n{link}\n\nHello {},\n{ent} invites you to OfficeBox. Open the link above within 7 days to choose your password.\n", m.name, m.name),
            ),
            TokenKind::Reset => (
                format!("{ent}：重置密码 / Reset your password"),
                format!("{}，你好：\n\n请在 1 小时内打开下面的链接重置密码：\n{link}\n\nIf you did not ask for this, ignore this mail.\n", m.name),
            ),
        };
        // The token exists already (and a new member may have just been created): a mail
        // failure must not hide the link from the admin, who can pass it on by hand.
        match mail::send(&smtp, &m.email, &subject, &body).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, member = m.id, "invitation / reset mail not sent");
                mail_error = Some(e.message);
                false
            }
        }
    } else {
        false
    };
    Ok(LinkOut { qr_svg: qr_svg(&link)?, link, expires_at: rec.expires_at, emailed, mail_error })
}

pub async fn invite(
    p: &Platform,
    req: &HttpRequest,
    ctx: &AdminCtx,
    member_id: u64,
    send_email: bool,
) -> AppResult<LinkOut> {
    let m = managed_member(p, ctx, member_id)?;
    if matches!(m.status, MemberStatus::Left | MemberStatus::Disabled) {
        return Err(AppError::conflict("member_not_active", "Enable the member before inviting them"));
    }
    issue_link(p, req, ctx, m, TokenKind::Invite, send_email).await
}

/// Admin reset: with a password, set it (member must change it at next sign-in); without,
/// issue a reset link (mailed when possible).
pub async fn admin_reset(
    p: &Platform,
    req: &HttpRequest,
    ctx: &AdminCtx,
    member_id: u64,
    pw: Option<String>,
) -> AppResult<serde_json::Value> {
    let m = managed_member(p, ctx, member_id)?;
    let Some(pw) = pw.filter(|s| !s.is_empty()) else {
        let out = issue_link(p, req, ctx, m, TokenKind::Reset, true).await?;
        return Ok(serde_json::to_value(out)?);
    };
    let policy = SecuritySettings::load(&p.store.begin_read()?)?.password;
    policy.check(&pw, &m.userid)?;
    let hash = password::hash(pw, p.config.bcrypt_cost).await?;
    let actor = ctx.actor.clone();
    p.store
        .write(move |tx| {
            credentials::set(tx, m.id, &hash, true)?;
            session::remove_all_for_user(tx, m.id, None)?;
            if m.status == MemberStatus::Inactive {
                let mut updated = m.clone();
                updated.status = MemberStatus::Active;
                org::put_member(tx, Some(&m), &updated)?;
            }
            let target = format!("member:{} ({})", m.userid, m.name);
            audit::record_for(tx, &actor, "member.password_set", target, json!({}), &m.department_ids)
        })
        .await?;
    Ok(json!({ "emailed": false }))
}

pub fn describe_token(p: &Platform, token: &str) -> AppResult<serde_json::Value> {
    let txn = p.store.begin_read()?;
    let rec = tokens::peek(&txn, token, p.now_ms())?;
    let m = org::get_member(&txn, rec.user_id)?;
    Ok(json!({ "kind": rec.kind, "name": m.name, "userid": m.userid }))
}

/// Activate (invitation) or reset (forgot password) with a token; activation signs in.
pub async fn use_token(
    p: &Platform,
    req: &HttpRequest,
    token: String,
    pw: String,
    kind: TokenKind,
) -> AppResult<HttpResponse> {
    let rec = tokens::peek(&p.store.begin_read()?, &token, p.now_ms())?;
    let (m, policy) = {
        let txn = p.store.begin_read()?;
        (org::get_member(&txn, rec.user_id)?, SecuritySettings::load(&txn)?.password)
    };
    if matches!(m.status, MemberStatus::Left | MemberStatus::Disabled) {
        return Err(status_error(m.status).unwrap_or_else(|| AppError::forbidden("Account unavailable")));
    }
    policy.check(&pw, &m.userid)?;
    let hash = password::hash(pw, p.config.bcrypt_cost).await?;
    let ip = client_ip(req, p.config.trust_proxy);
    let user_id = p
        .store
        .write(move |tx| {
            let rec = tokens::consume(tx, &token, kind)?;
            let m = crate::org::store::member_in(tx, rec.user_id)?.ok_or_else(|| AppError::not_found("member"))?;
            credentials::set(tx, m.id, &hash, false)?;
            session::remove_all_for_user(tx, m.id, None)?;
            if m.status == MemberStatus::Inactive {
                let mut updated = m.clone();
                updated.status = MemberStatus::Active;
                org::put_member(tx, Some(&m), &updated)?;
            }
            let actor = Actor { id: m.id, name: m.name.clone(), ip: ip.clone() };
            let action = if kind == TokenKind::Invite { "auth.activated" } else { "auth.password_reset" };
            audit::record(tx, &actor, action, format!("member:{}", m.userid), json!({}))?;
            Ok(m.id)
        })
        .await?;
    match kind {
        TokenKind::Invite => signed_in_response(p, req, user_id, StatusCode::OK).await,
        TokenKind::Reset => Ok(HttpResponse::NoContent().finish()),
    }
}

/// "Forgot password": always answers the same; mails a reset link in the background when the
/// account exists, has an email and SMTP is set up.
pub async fn forgot(p: &actix_web::web::Data<Platform>, req: &HttpRequest, login: &str) -> AppResult<()> {
    let ip = client_ip(req, p.config.trust_proxy);
    let key = format!("forgot:{}", login.trim().to_lowercase());
    // Counted apart from sign-in failures: many reset requests from one office address must not
    // lock everyone there out of signing in.
    let ip_key = format!("forgot:{ip}");
    if let Some(wait) = p.throttle.check(&key, &ip_key, p.now_ms()) {
        return Err(AppError::too_many(wait));
    }
    p.throttle.failed(&key, &ip_key, p.now_ms());
    let member = org::find_by_login(&p.store.begin_read()?, login)?
        .filter(|m| m.status == MemberStatus::Active && !m.email.is_empty());
    let Some(m) = member else { return Ok(()) };
    // Anonymous request: no fallback to its Host header (see `trusted_link_base`).
    let Some(base) = trusted_link_base(p)? else {
        tracing::warn!("password reset mail not sent: set `public_url` so links in mails can be trusted");
        return Ok(());
    };
    let p = p.clone();
    actix_web::rt::spawn(async move {
        let user_id = m.id;
        let issued = p.store.write(move |tx| tokens::issue(tx, TokenKind::Reset, user_id)).await;
        let (Ok((token, _)), Ok(smtp)) = (issued, p.store.read(SmtpSettings::load)) else { return };
        let link = format!("{base}/reset/{token}");
        let body = format!("{}，你好：\n\n请在 1 小时内打开下面的链接重置密码：\n{link}\n\nHello {}, open the link above within one hour to reset your password. If you did not ask for this, ignore this mail.\n", m.name, m.name);
        if let Err(e) = mail::send(&smtp, &m.email, "重置密码 / Reset your password", &body).await {
            tracing::warn!(error = %e, "password reset mail not sent");
        }
    });
    Ok(())
}
