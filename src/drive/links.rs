//! Share links, the manager's side (docs/drive.md "Sharing"): create, list, revoke, access
//! log. The public side is in [`super::public_api`], the tables in [`super::links_store`].
//!
//! Only managers of the node create and see links; anyone else who can see the node gets 403,
//! people who cannot see it 404. The token is shown once, in the creation answer (it is stored
//! hashed, so later listings carry `url: null`).

use super::links_store::{self as ls, Link};
use super::model::Role;
use super::perm::{self, Principals};
use super::store::{self, Rd};
use super::view::person;
use crate::error::{AppError, AppResult};
use crate::platform::audit::{self, Actor};
use crate::platform::auth::password::{self, MAX_PASSWORD_CHARS};
use crate::platform::auth::Auth;
use crate::platform::http::base_url;
use crate::platform::Platform;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

type P = web::Data<Platform>;

/// Shortest link password (extraction codes are often 4 characters).
const MIN_PASSWORD_CHARS: usize = 4;
/// Access-log page size.
const LOG_PAGE: usize = 200;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/drive/nodes/{id}/links", web::get().to(list))
        .route("/drive/nodes/{id}/links", web::post().to(create))
        .route("/drive/nodes/{id}/from-chat", web::post().to(super::chat_bridge::save_handler))
        .route("/drive/links/{id}", web::delete().to(revoke))
        .route("/drive/links/{id}/log", web::get().to(access_log));
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct LinkInput {
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub expires_at: Option<i64>,
    #[serde(default)]
    pub max_downloads: Option<u64>,
    #[serde(default)]
    pub preview_only: bool,
}

/// The link as its managers see it; `url` only when the token is at hand (creation).
pub fn link_json(r: &impl Rd, l: &Link, url: Option<String>) -> AppResult<Value> {
    Ok(json!({
        "id": l.id, "node_id": l.node_id, "url": url, "has_password": l.password_hash.is_some(),
        "expires_at": l.expires_at, "max_downloads": l.max_downloads, "downloads": l.downloads,
        "preview_only": l.preview_only, "created_by": person(r, l.created_by)?, "created_at": l.created_at,
        "revoked": l.revoked,
    }))
}

/// The node (or, with `trashed_ok`, a node in the bin) if the caller manages it.
fn managed(r: &impl Rd, user: u64, node: u64, trashed_ok: bool) -> AppResult<perm::Access> {
    let who = Principals::of(r, user)?;
    let a = if trashed_ok { perm::resolve_trashed(r, &who, node)? } else { perm::resolve(r, &who, node)? };
    if a.role < Role::Manager {
        return Err(AppError::forbidden("Only the managers of this item may manage its share links"));
    }
    Ok(a)
}

fn validate(input: &LinkInput, now: i64) -> AppResult<Option<String>> {
    if let Some(t) = input.expires_at {
        if t <= now {
            return Err(AppError::invalid("expires_at", "invalid_expires_at", "The expiry must be in the future"));
        }
    }
    if input.max_downloads == Some(0) {
        return Err(AppError::invalid("max_downloads", "invalid_max_downloads", "Allow at least one download"));
    }
    let pw = input.password.clone().filter(|p| !p.is_empty());
    if let Some(p) = &pw {
        let n = p.chars().count();
        if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n) {
            return Err(AppError::invalid(
                "password",
                "invalid_password",
                format!("A link password has {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"),
            ));
        }
    }
    Ok(pw)
}

async fn create(
    p: P,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<u64>,
    body: web::Json<LinkInput>,
) -> AppResult<HttpResponse> {
    let (user, node_id, input) = (auth.user_id, *id, body.into_inner());
    // Refuse early (before the bcrypt work) when the caller may not do this at all.
    managed(&p.store.begin_read()?, user, node_id, false)?;
    let pw = validate(&input, p.now_ms())?;
    let password_hash = match pw {
        Some(pw) => Some(password::hash(pw, p.config.bcrypt_cost).await?),
        None => None,
    };
    let actor = crate::org::service::actor(&p, &auth)?;
    let (token, token_hash) = ls::new_token();
    let l = p
        .store
        .write(move |tx| {
            let a = managed(tx, user, node_id, false)?;
            let l = Link {
                id: tx.next_seq()?,
                node_id,
                space_id: a.space.id,
                token_hash: token_hash.clone(),
                password_hash: password_hash.clone(),
                expires_at: input.expires_at,
                max_downloads: input.max_downloads,
                downloads: 0,
                preview_only: input.preview_only,
                created_by: user,
                created_at: tx.now,
                revoked: false,
            };
            ls::insert(tx, &l)?;
            let mut n = a.node;
            if !n.shared {
                n.shared = true;
                store::put_node(tx, &n)?;
            }
            let details = json!({"link_id": l.id, "op": "create", "has_password": l.password_hash.is_some(),
                                 "expires_at": l.expires_at, "max_downloads": l.max_downloads,
                                 "preview_only": l.preview_only});
            store::log(tx, n.space_id, user, "link", &n, details.clone())?;
            audit::record(tx, &actor, "drive.link_create", format!("drive_node:{node_id}"), details)?;
            Ok(l)
        })
        .await?;
    let url = format!("{}/s/{token}", base_url(&req, &p).trim_end_matches('/'));
    let body = link_json(&p.store.begin_read()?, &l, Some(url))?;
    Ok(HttpResponse::Created().json(body))
}

async fn list(p: P, auth: Auth, id: web::Path<u64>) -> AppResult<HttpResponse> {
    let txn = p.store.begin_read()?;
    managed(&txn, auth.user_id, *id, false)?;
    let mut items = Vec::new();
    for l in ls::of_node(&txn, *id)?.iter().rev() {
        items.push(link_json(&txn, l, None)?);
    }
    Ok(HttpResponse::Ok().json(json!({ "items": items })))
}

/// The link if the caller manages its node (the node may be in the bin: a dead link can still
/// be revoked and its log read).
fn managed_link(r: &impl Rd, user: u64, id: u64) -> AppResult<Link> {
    let l = ls::link(r, id)?;
    managed(r, user, l.node_id, true).map_err(|e| match e.status.as_u16() {
        404 => AppError::not_found("link"),
        _ => e,
    })?;
    Ok(l)
}

async fn revoke(p: P, auth: Auth, id: web::Path<u64>) -> AppResult<HttpResponse> {
    let (user, id) = (auth.user_id, *id);
    let actor: Actor = crate::org::service::actor(&p, &auth)?;
    p.store
        .write(move |tx| {
            let mut l = managed_link(tx, user, id)?;
            if l.revoked {
                return Ok(());
            }
            l.revoked = true;
            ls::put_link(tx, &l)?;
            ls::drop_unlocks(tx, l.id)?;
            let mut n = store::node(tx, l.node_id)?;
            if n.shared && store::grants(tx, n.id)?.is_empty() && !ls::has_live(tx, n.id, tx.now)? {
                n.shared = false;
                store::put_node(tx, &n)?;
            }
            let details = json!({"link_id": l.id, "op": "revoke"});
            store::log(tx, n.space_id, user, "link", &n, details.clone())?;
            audit::record(tx, &actor, "drive.link_revoke", format!("drive_node:{}", n.id), details)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
struct LogQuery {
    before: Option<u64>,
}

async fn access_log(p: P, auth: Auth, id: web::Path<u64>, q: web::Query<LogQuery>) -> AppResult<HttpResponse> {
    let txn = p.store.begin_read()?;
    let l = managed_link(&txn, auth.user_id, *id)?;
    let rows = ls::events(&txn, l.id, q.before, LOG_PAGE)?;
    let next = (rows.len() == LOG_PAGE).then(|| rows.last().map(|(s, _)| *s)).flatten();
    let items: Vec<Value> = rows
        .into_iter()
        .map(|(seq, e)| json!({"id": seq, "at": e.at, "ip": e.ip, "action": e.action, "node_id": e.node_id}))
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "items": items, "next": next })))
}
