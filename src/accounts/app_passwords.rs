//! App passwords: per-member passwords for WebDAV clients (file managers, rclone, davfs2), which
//! send Basic auth on every request and cannot do the browser's session + CSRF dance. The login
//! password is never accepted there; an app password opens nothing but `/dav/`.
//!
//! Table `app_passwords`: (user id, app password id) -> [`AppPassword`], so one member's list is
//! one range scan. The password itself is shown once, at creation; only a bcrypt hash (same
//! scheme as login passwords) and a 16-bit hint of its SHA-256 are stored. The hint lets a
//! verification try only the one matching hash instead of bcrypt-ing every password the member
//! has (it narrows an ~83-bit secret by 16 bits, which leaves it far beyond guessing).
//!
//! Invariants: a member who is not `active` (disabled, left) has no app passwords — the member
//! hook [`on_member_changed`] deletes them in the same transaction as the status change, and the
//! verification cache ([`super::app_password_auth`]) forgets the member after commit.

use super::app_password_auth::AppPasswordCache;
use crate::error::{AppError, AppResult};
use crate::org::service::{self as org, Member, MemberStatus};
use crate::platform::audit;
use crate::platform::auth::{password, Auth};
use crate::platform::store::{Table, Tx};
use crate::platform::Platform;
use actix_web::{web, HttpResponse};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

pub const APP_PASSWORDS: Table<(u64, u64), AppPassword> = Table::new("app_passwords");

/// More than enough for one person's devices; bounds the list and the table.
pub const MAX_PER_MEMBER: usize = 20;
const MAX_NAME_CHARS: usize = 64;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppPassword {
    pub id: u64,
    pub name: String,
    pub hash: String,
    /// First 4 hex digits of the SHA-256 of the normalised password (see the module docs).
    pub hint: String,
    pub created_at: i64,
    #[serde(default)]
    pub last_used_at: Option<i64>,
}

/// What the owner sees in the list (never the hash).
#[derive(Debug, Serialize)]
pub struct AppPasswordView {
    pub id: u64,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

impl From<&AppPassword> for AppPasswordView {
    fn from(a: &AppPassword) -> Self {
        AppPasswordView { id: a.id, name: a.name.clone(), created_at: a.created_at, last_used_at: a.last_used_at }
    }
}

/// A new password: 4 groups of 4 lowercase letters and digits ("k3f9-x0pq-..."), ~83 bits,
/// easy to type on a phone and unambiguous to read out.
pub fn generate() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    let groups: Vec<String> =
        (0..4).map(|_| (0..4).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()).collect();
    groups.join("-")
}

/// What is hashed: the password without separators or spaces, in lower case, so "ABCD EFGH..."
/// typed by hand matches "abcd-efgh-...".
pub fn normalise(presented: &str) -> String {
    presented.chars().filter(|c| *c != '-' && !c.is_whitespace()).flat_map(char::to_lowercase).collect()
}

pub fn hint_of(normalised: &str) -> String {
    hex::encode(&Sha256::digest(normalised.as_bytes())[..2])
}

fn valid_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "name",
            "name_invalid",
            format!("Give the app password a name of 1 to {MAX_NAME_CHARS} characters (e.g. 办公室电脑)"),
        ));
    }
    Ok(name.to_owned())
}

/// All app passwords of a member, oldest first.
pub fn list_in(txn: &redb::ReadTransaction, user_id: u64) -> AppResult<Vec<AppPassword>> {
    let Some(t) = APP_PASSWORDS.read(txn)? else { return Ok(Vec::new()) };
    let rows: AppResult<Vec<AppPassword>> =
        t.range(&(user_id, 0), &(user_id, u64::MAX))?.map(|row| row.map(|(_, v)| v)).collect();
    rows
}

fn forget_after_commit(tx: &Tx, user_id: u64) {
    if let Some(cache) = tx.service::<AppPasswordCache>() {
        tx.after_commit(move || cache.forget_user(user_id));
    }
}

/// Delete every app password of a member. Returns how many there were.
pub fn remove_all_for_user(tx: &Tx, user_id: u64) -> AppResult<usize> {
    let mut t = APP_PASSWORDS.open(tx.txn)?;
    let keys: Vec<(u64, u64)> = t.keys(&(user_id, 0), &(user_id, u64::MAX))?.collect::<AppResult<_>>()?;
    for k in &keys {
        t.remove(k)?;
    }
    drop(t);
    if !keys.is_empty() {
        forget_after_commit(tx, user_id);
    }
    Ok(keys.len())
}

/// Member hook: disabling or offboarding a member revokes their app passwords with the change.
pub fn on_member_changed(tx: &Tx, _old: Option<&Member>, new: &Member) -> AppResult<()> {
    if new.status != MemberStatus::Active {
        remove_all_for_user(tx, new.id)?;
    }
    Ok(())
}

/// Record a use (at most every few minutes per password, by the caller, to keep writes rare).
pub fn touch(tx: &Tx, user_id: u64, id: u64) -> AppResult<()> {
    let mut t = APP_PASSWORDS.open(tx.txn)?;
    if let Some(mut a) = t.get(&(user_id, id))? {
        a.last_used_at = Some(tx.now);
        t.put(&(user_id, id), &a)?;
    }
    Ok(())
}

// ---- use cases ----

#[derive(Debug, Serialize)]
pub struct Created {
    pub id: u64,
    pub name: String,
    /// Shown once; never retrievable again.
    pub password: String,
    /// What to type as the user name in the WebDAV client.
    pub username: String,
    pub created_at: i64,
}

pub async fn create(p: &Platform, auth: &Auth, name: &str) -> AppResult<Created> {
    let name = valid_name(name)?;
    let member = org::get_member(&p.store.begin_read()?, auth.user_id)?;
    let secret = generate();
    let norm = normalise(&secret);
    let hash = password::hash(norm.clone(), p.config.bcrypt_cost).await?;
    let actor = auth.actor(&member.name);
    let user_id = auth.user_id;
    let rec = p
        .store
        .write(move |tx| {
            if APP_PASSWORDS.open(tx.txn)?.keys(&(user_id, 0), &(user_id, u64::MAX))?.count() >= MAX_PER_MEMBER {
                return Err(AppError::conflict(
                    "too_many_app_passwords",
                    format!("You can have at most {MAX_PER_MEMBER} app passwords; revoke one you no longer use"),
                ));
            }
            let id = tx.next_seq()?;
            let rec = AppPassword {
                id,
                name: name.clone(),
                hash: hash.clone(),
                hint: hint_of(&norm),
                created_at: tx.now,
                last_used_at: None,
            };
            APP_PASSWORDS.open(tx.txn)?.put(&(user_id, id), &rec)?;
            audit::record(
                tx,
                &actor,
                "app_password.created",
                format!("app_password:{id}"),
                json!({ "name": rec.name }),
            )?;
            Ok(rec)
        })
        .await?;
    Ok(Created { id: rec.id, name: rec.name, password: secret, username: member.userid, created_at: rec.created_at })
}

pub async fn revoke(p: &Platform, auth: &Auth, id: u64) -> AppResult<()> {
    let actor = org::actor(p, auth)?;
    let user_id = auth.user_id;
    p.store
        .write(move |tx| {
            let rec =
                APP_PASSWORDS.open(tx.txn)?.get(&(user_id, id))?.ok_or_else(|| AppError::not_found("app password"))?;
            APP_PASSWORDS.open(tx.txn)?.remove(&(user_id, id))?;
            forget_after_commit(tx, user_id);
            audit::record(
                tx,
                &actor,
                "app_password.revoked",
                format!("app_password:{id}"),
                json!({ "name": rec.name }),
            )?;
            Ok(())
        })
        .await
}

// ---- HTTP ----

type P = web::Data<Platform>;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/me/app-passwords", web::get().to(list_handler))
        .route("/me/app-passwords", web::post().to(create_handler))
        .route("/me/app-passwords/{id}", web::delete().to(revoke_handler));
}

async fn list_handler(p: P, auth: Auth) -> AppResult<HttpResponse> {
    let items: Vec<AppPasswordView> = list_in(&p.store.begin_read()?, auth.user_id)?.iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(json!({ "items": items })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    name: String,
}

async fn create_handler(p: P, auth: Auth, body: web::Json<CreateBody>) -> AppResult<HttpResponse> {
    let created = create(&p, &auth, &body.name).await?;
    Ok(HttpResponse::Created().insert_header(("Cache-Control", "no-store")).json(created))
}

async fn revoke_handler(p: P, auth: Auth, id: web::Path<String>) -> AppResult<HttpResponse> {
    let id: u64 = id.parse().map_err(|_| AppError::not_found("app password"))?;
    revoke(&p, &auth, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_have_four_groups_of_four() {
        let pw = generate();
        let groups: Vec<&str> = pw.split('-').collect();
        assert_eq!(groups.len(), 4, "{pw}");
        assert!(groups.iter().all(|g| g.len() == 4 && g.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())));
        assert_ne!(generate(), pw);
    }

    #[test]
    fn typing_variants_normalise_to_the_same_secret() {
        assert_eq!(normalise("AbCd-efgh ijkl-mnop"), "abcdefghijklmnop");
        assert_eq!(hint_of(&normalise("abcd-efgh-ijkl-mnop")), hint_of("abcdefghijklmnop"));
        assert_eq!(hint_of("x").len(), 4);
    }
}
