//! `/dav/`: the drive for file managers (Windows, macOS Finder, GNOME Files, rclone, davfs2),
//! served by the `dav-server` crate over the drive service — never over the disk — so WebDAV
//! sees exactly what the API shows, with the same permissions and quotas.
//!
//! Authentication is HTTP Basic with an app password ([`crate::accounts::app_password_auth`]);
//! a session cookie alone is ignored here, so no CSRF check applies (a browser cannot be made to
//! send Basic credentials it does not have). Locks (LOCK/UNLOCK) live in memory in one table for
//! all members ([`locks`]); they do not survive a restart (clients re-lock). Dead properties (PROPPATCH) are stored: see
//! [`props`].

mod file;
mod fs;
mod locks;
mod paths;
pub mod props;

/// Percent-encoding of a path segment as RFC 3986 "unreserved" allows (what clients send):
/// everything but ALPHA / DIGIT / "-" / "." / "_" / "~" is escaped.
pub const UNRESERVED: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

use crate::accounts::app_password_auth::{self, AppUser};
use crate::platform::Platform;
use actix_web::{web, HttpRequest, HttpResponse, Responder};
use dav_server::actix::{DavRequest, DavResponse};
use dav_server::DavHandler;
pub use locks::DavLocks;

/// Who is asking, passed to every file-system call.
#[derive(Clone)]
pub struct DavCtx {
    pub p: web::Data<Platform>,
    pub user: u64,
    /// The request is a DELETE: folders are trashed whole (see `fs::read_dir`).
    pub deleting: bool,
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::scope("/dav").default_service(web::to(handle)));
}

async fn handle(p: web::Data<Platform>, req: HttpRequest, dav: DavRequest) -> HttpResponse {
    let user = match app_password_auth::authenticate(&p, &req).await {
        Ok(u) => u,
        Err(e) => return refuse(e),
    };
    if let Err(e) = ensure_personal_space(&p, &user).await {
        return refuse(e);
    }
    let spaces = match p.store.begin_read().and_then(|txn| paths::top_level(&txn, user.user_id)) {
        Ok(s) => s.into_iter().map(|(name, s)| (name, s.id)).collect::<Vec<_>>(),
        Err(e) => return refuse(e),
    };
    let locks = p.store.service::<DavLocks>().unwrap_or_default();
    let handler = DavHandler::builder()
        .filesystem(Box::new(fs::DriveFs))
        .locksystem(locks.view(user.user_id, &spaces))
        .strip_prefix("/dav")
        .build_handler();
    let ctx = DavCtx { p: p.clone(), user: user.user_id, deleting: req.method() == actix_web::http::Method::DELETE };
    let resp = handler.handle_guarded(dav.request, user.userid.clone(), ctx).await;
    DavResponse::from(resp).respond_to(&req)
}

/// "我的空间" is listed from the first request on (the drive creates it lazily).
async fn ensure_personal_space(p: &Platform, user: &AppUser) -> crate::error::AppResult<()> {
    let uid = user.user_id;
    if crate::drive::store::PERSONAL.get_in(&p.store.begin_read()?, &uid)?.is_some() {
        return Ok(());
    }
    p.store.write(move |tx| crate::drive::service::personal_space(tx, uid).map(|_| ())).await
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
