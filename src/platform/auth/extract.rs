//! The `Auth` extractor: resolves the session cookie, enforces expiry and the CSRF header on
//! unsafe methods, and records activity. Handlers that take `Auth` are signed-in only.

use super::roles::{role_of, AdminRole, Permission};
use super::session::{self, SecuritySettings, SessionCache, SessionRecord, COOKIE};
use crate::error::{AppError, AppResult};
use crate::platform::audit::Actor;
use crate::platform::http::client_ip;
use crate::platform::settings::SettingsDoc;
use crate::platform::Platform;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{web, FromRequest, HttpRequest};
use std::future::Future;
use std::pin::Pin;

pub const CSRF_HEADER: &str = "x-csrf-token";

/// How often activity is written back (keeps idle expiry accurate without a write per request).
const TOUCH_EVERY_MS: i64 = 60_000;

#[derive(Debug, Clone)]
pub struct Auth {
    pub user_id: u64,
    pub session: SessionRecord,
    pub token_hash: String,
    pub ip: String,
}

pub fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl Auth {
    /// Actor for audit entries; the display name is filled by the caller's feature if wanted.
    pub fn actor(&self, name: &str) -> Actor {
        Actor { id: self.user_id, name: name.to_owned(), ip: self.ip.clone() }
    }

    /// The caller's admin role, or 403.
    pub fn admin(&self, p: &Platform) -> AppResult<AdminRole> {
        role_of(&p.store.begin_read()?, self.user_id)?.ok_or_else(|| AppError::forbidden("Administrators only"))
    }

    pub fn require_super(&self, p: &Platform) -> AppResult<AdminRole> {
        let role = self.admin(p)?;
        if !role.is_super() {
            return Err(AppError::forbidden("Only super administrators may do this"));
        }
        Ok(role)
    }

    pub fn require(&self, p: &Platform, perm: Permission) -> AppResult<AdminRole> {
        let role = self.admin(p)?;
        if !role.has(perm) {
            return Err(AppError::forbidden("Your administrator role does not include this permission"));
        }
        Ok(role)
    }
}

fn resolve(req: &HttpRequest) -> AppResult<Auth> {
    let p = req.app_data::<web::Data<Platform>>().ok_or_else(|| AppError::internal("platform missing"))?;
    let token =
        req.cookie(COOKIE).map(|c| c.value().to_owned()).ok_or_else(|| AppError::unauthorized("Please sign in"))?;
    let hash = session::token_hash(&token);
    let rec = stored_session(p, &hash)?
        .ok_or_else(|| AppError::unauthorized("Your session has ended, please sign in again"))?;
    let settings = SecuritySettings::cached(&p.store)?;
    let now = p.now_ms();
    if !session::is_live(&rec, &settings, now) {
        return Err(AppError::unauthorized("Your session has expired, please sign in again"));
    }
    if is_unsafe(req.method()) {
        let sent = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !constant_time_eq(sent.as_bytes(), rec.csrf.as_bytes()) {
            return Err(AppError::new(
                actix_web::http::StatusCode::FORBIDDEN,
                "csrf_failed",
                "Missing or wrong CSRF token",
            ));
        }
    }
    if now - rec.last_seen_at > TOUCH_EVERY_MS {
        let store = p.store.clone();
        let h = hash.clone();
        actix_web::rt::spawn(async move {
            let _ = store.write(move |tx| session::touch(tx, &h)).await;
        });
    }
    let ip = client_ip(req, p.config.trust_proxy);
    Ok(Auth { user_id: rec.user_id, session: rec, token_hash: hash, ip })
}

/// The stored session for a token hash, through the [`SessionCache`] when the store has one.
fn stored_session(p: &Platform, hash: &str) -> AppResult<Option<SessionRecord>> {
    let cache = p.store.service::<SessionCache>();
    let generation = match cache.as_deref().map(|c| c.get(hash)) {
        Some(Ok(rec)) => return Ok(Some(rec)),
        Some(Err(generation)) => Some(generation),
        None => None,
    };
    let rec = session::SESSIONS.get_in(&p.store.begin_read()?, &hash.to_owned())?;
    if let (Some(cache), Some(generation), Some(rec)) = (&cache, generation, &rec) {
        cache.fill(generation, hash, rec);
    }
    Ok(rec)
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl FromRequest for Auth {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let r = resolve(req);
        Box::pin(async move { r })
    }
}

/// The session cookie: HttpOnly, SameSite=Lax, Secure when the browser came over https.
pub fn session_cookie(token: &str, secure: bool) -> Cookie<'static> {
    Cookie::build(COOKIE, token.to_owned()).path("/").http_only(true).same_site(SameSite::Lax).secure(secure).finish()
}

pub fn clear_cookie(secure: bool) -> Cookie<'static> {
    let mut c = session_cookie("", secure);
    c.make_removal();
    c
}
