//! `/dav/`: the drive for file managers (Windows, macOS Finder, GNOME Files, rclone, davfs2),
//! served by the `dav-server` crate over the drive service — never over the disk — so WebDAV
//! sees exactly what the API shows, with the same permissions and quotas.
//!
//! Authentication is HTTP Basic with an app password ([`crate::accounts::app_password_auth`]);
//! a session cookie alone is ignored here, so no CSRF check applies (a browser cannot be made to
//! send Basic credentials it does not have). Locks (LOCK/UNLOCK) live in memory, one lock table
//! per member, because top-level names ("我的空间") mean a different space for each member; they
//! do not survive a restart (clients re-lock).

use crate::accounts::app_password_auth::{self, AppUser};
use crate::platform::Platform;
use actix_web::{web, HttpRequest, HttpResponse, Responder};
use dav_server::actix::{DavRequest, DavResponse};
use dav_server::ls::DavLockSystem;
use dav_server::memls::MemLs;
use dav_server::DavHandler;
use std::collections::HashMap;

/// Each member's lock table (see the module docs).
#[derive(Default)]
pub struct DavLocks {
    by_user: parking_lot::Mutex<HashMap<u64, Box<MemLs>>>,
}

impl DavLocks {
    fn for_user(&self, user_id: u64) -> Box<dyn DavLockSystem> {
        self.by_user.lock().entry(user_id).or_insert_with(MemLs::new).clone()
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::scope("/dav").default_service(web::to(handle)));
}

async fn handle(p: web::Data<Platform>, req: HttpRequest, dav: DavRequest) -> HttpResponse {
    let user = match app_password_auth::authenticate(&p, &req).await {
        Ok(u) => u,
        Err(e) => return refuse(e),
    };
    let locks = p.store.service::<DavLocks>().unwrap_or_default();
    let handler = DavHandler::builder()
        .filesystem(backend(&p, &user))
        .locksystem(locks.for_user(user.user_id))
        .strip_prefix("/dav")
        .build_handler();
    let principal = user.userid.clone();
    let resp = handler.handle_guarded(dav.request, principal, ()).await;
    DavResponse::from(resp).respond_to(&req)
}

/// Errors before the WebDAV layer: 401 carries the Basic challenge so clients ask for a password.
fn refuse(e: crate::error::AppError) -> HttpResponse {
    let challenge = e.status == actix_web::http::StatusCode::UNAUTHORIZED;
    let mut resp = actix_web::ResponseError::error_response(&e);
    if challenge {
        resp.headers_mut().insert(
            actix_web::http::header::WWW_AUTHENTICATE,
            actix_web::http::header::HeaderValue::from_static(app_password_auth::REALM),
        );
    }
    resp
}

/// Interim backend until the drive service lands: one in-memory tree per member.
fn backend(p: &Platform, user: &AppUser) -> Box<dyn dav_server::fs::GuardedFileSystem<()>> {
    #[derive(Default)]
    struct Trees(parking_lot::Mutex<HashMap<u64, Box<dav_server::memfs::MemFs>>>);
    let trees = p.store.service::<Trees>().unwrap_or_else(|| {
        let t = std::sync::Arc::new(Trees::default());
        p.store.provide(t.clone());
        t
    });
    let fs = trees.0.lock().entry(user.user_id).or_insert_with(dav_server::memfs::MemFs::new).clone();
    fs
}
