//! HTTP Basic authentication with app passwords (for `/dav/`).
//!
//! WebDAV clients send Basic credentials on every request and bcrypt costs ~250 ms, so a
//! successful verification is remembered for [`CACHE_TTL_MS`] in [`AppPasswordCache`], keyed by
//! (member id, SHA-256 of the presented password). The cache only saves the bcrypt work: every
//! request still checks in a fresh snapshot that the member is active and that the app password
//! row still exists, so a revocation or a disabled account takes effect at once; the cache also
//! forgets a member after such commits. Failures are throttled per account and per IP like
//! sign-in, under their own keys, so a file manager stuck on a revoked password cannot lock its
//! owner out of the web sign-in.
//!
//! Only app passwords are checked here: the login password never opens `/dav/`. The user name is
//! whatever the sign-in form accepts (account id, email or mobile).

use super::app_passwords::{hint_of, normalise, touch, AppPassword};
use crate::error::{AppError, AppResult};
use crate::org::service::{Member, MemberStatus};
use crate::platform::audit::{self, Actor};
use crate::platform::auth::password;
use crate::platform::http::client_ip;
use crate::platform::Platform;
use actix_web::http::StatusCode;
use actix_web::HttpRequest;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// How long a successful verification spares the bcrypt work.
pub const CACHE_TTL_MS: i64 = 10 * 60_000;
/// How often `last_used_at` is written back.
const TOUCH_EVERY_MS: i64 = 5 * 60_000;
const CACHE_MAX: usize = 10_000;

pub const REALM: &str = "Basic realm=\"OfficeBox WebDAV\", charset=\"UTF-8\"";

/// Who a Basic-authenticated request is.
#[derive(Debug, Clone)]
pub struct AppUser {
    pub user_id: u64,
    pub userid: String,
    pub name: String,
    pub app_password_id: u64,
    pub ip: String,
}

impl AppUser {
    pub fn actor(&self) -> Actor {
        Actor { id: self.user_id, name: self.name.clone(), ip: self.ip.clone() }
    }
}

/// (member id, SHA-256 of the presented password) -> (app password id, verified at).
type Verified = HashMap<(u64, [u8; 32]), (u64, i64)>;

#[derive(Default)]
pub struct AppPasswordCache {
    entries: parking_lot::Mutex<Verified>,
}

impl AppPasswordCache {
    /// The app password id verified for this (member, password digest) within the TTL.
    fn get(&self, user_id: u64, digest: [u8; 32], now: i64) -> Option<u64> {
        let e = self.entries.lock();
        e.get(&(user_id, digest)).filter(|(_, at)| now - at < CACHE_TTL_MS).map(|(id, _)| *id)
    }

    fn fill(&self, user_id: u64, digest: [u8; 32], id: u64, now: i64) {
        let mut e = self.entries.lock();
        if e.len() >= CACHE_MAX {
            e.retain(|_, (_, at)| now - *at < CACHE_TTL_MS);
            if e.len() >= CACHE_MAX {
                e.clear();
            }
        }
        e.insert((user_id, digest), (id, now));
    }

    pub fn forget_user(&self, user_id: u64) {
        self.entries.lock().retain(|(u, _), _| *u != user_id);
    }
}

/// 401 with the Basic challenge, so clients prompt for (or send) credentials.
pub fn challenge(message: &str) -> AppError {
    AppError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
}

/// (user name, password) from an `Authorization: Basic ...` header.
pub fn parse_basic(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get("authorization")?.to_str().ok()?;
    let (scheme, rest) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD.decode(rest.trim()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.to_owned(), pass.to_owned()))
}

/// Authenticate a request by Basic auth over app passwords.
pub async fn authenticate(p: &Platform, req: &HttpRequest) -> AppResult<AppUser> {
    let (login, presented) =
        parse_basic(req).ok_or_else(|| challenge("Sign in with your account and an app password"))?;
    let ip = client_ip(req, p.config.trust_proxy);
    if presented.chars().count() > password::MAX_PASSWORD_CHARS {
        return Err(challenge("The account or app password is wrong"));
    }
    let member = crate::org::store::find_by_login(&p.store.begin_read()?, &login)?;
    let key = match &member {
        Some(m) => format!("app-password:member:{}", m.id),
        None => format!("app-password:login:{}", login.trim().to_lowercase()),
    };
    let ip_key = format!("app-password:{ip}");
    if let Some(wait) = p.throttle.check(&key, &ip_key, p.now_ms()) {
        return Err(AppError::too_many(wait));
    }
    let norm = normalise(&presented);
    let found = match member.filter(|m| m.status == MemberStatus::Active) {
        Some(m) => verify_member(p, &m, &norm).await?.map(|a| (m, a)),
        None => {
            // Same bcrypt work as a real check, so the answer time does not reveal accounts.
            password::verify(norm, None, p.config.bcrypt_cost).await?;
            None
        }
    };
    let Some((m, app)) = found else {
        p.throttle.failed(&key, &ip_key, p.now_ms());
        record_failure(p, &login, &ip).await?;
        return Err(challenge("The account or app password is wrong"));
    };
    p.throttle.succeeded(&key);
    if app.last_used_at.is_none_or(|t| p.now_ms() - t > TOUCH_EVERY_MS) {
        let (store, uid, id) = (p.store.clone(), m.id, app.id);
        actix_web::rt::spawn(async move {
            let _ = store.write(move |tx| touch(tx, uid, id)).await;
        });
    }
    Ok(AppUser { user_id: m.id, userid: m.userid, name: m.name, app_password_id: app.id, ip })
}

/// The member's app password matching `norm`: from the cache (re-checked against the current
/// rows), else by bcrypt over the hashes whose hint matches.
async fn verify_member(p: &Platform, m: &Member, norm: &str) -> AppResult<Option<AppPassword>> {
    let digest: [u8; 32] = Sha256::digest(norm.as_bytes()).into();
    let cache = p.store.service::<AppPasswordCache>();
    let now = p.now_ms();
    let rows = super::app_passwords::list_in(&p.store.begin_read()?, m.id)?;
    if let Some(id) = cache.as_deref().and_then(|c| c.get(m.id, digest, now)) {
        if let Some(a) = rows.iter().find(|a| a.id == id) {
            return Ok(Some(a.clone()));
        }
    }
    let hint = hint_of(norm);
    let candidates: Vec<AppPassword> = rows.into_iter().filter(|a| a.hint == hint).collect();
    let norm = norm.to_owned();
    if candidates.is_empty() {
        // No hint matched: still spend one bcrypt, so timing does not tell.
        password::verify(norm, None, p.config.bcrypt_cost).await?;
        return Ok(None);
    }
    let matched =
        tokio::task::spawn_blocking(move || candidates.into_iter().find(|a| password::verify_blocking(&norm, &a.hash)))
            .await
            .map_err(AppError::internal)?;
    if let (Some(a), Some(c)) = (&matched, &cache) {
        c.fill(m.id, digest, a.id, now);
    }
    Ok(matched)
}

async fn record_failure(p: &Platform, login: &str, ip: &str) -> AppResult<()> {
    let actor = Actor::anonymous(ip);
    let login: String = login.chars().take(64).collect();
    p.store
        .write(move |tx| {
            audit::record(tx, &actor, "auth.app_password_failed", format!("login:{login}"), serde_json::json!({}))
        })
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_expires_and_forgets_members() {
        let c = AppPasswordCache::default();
        let d = [7u8; 32];
        c.fill(1, d, 10, 0);
        c.fill(2, d, 20, 0);
        assert_eq!(c.get(1, d, CACHE_TTL_MS - 1), Some(10));
        assert_eq!(c.get(1, d, CACHE_TTL_MS), None, "expired");
        assert_eq!(c.get(1, [8u8; 32], 0), None, "another password");
        c.forget_user(1);
        assert_eq!(c.get(1, d, 0), None);
        assert_eq!(c.get(2, d, 0), Some(20));
    }
}
