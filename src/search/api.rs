//! `GET /api/v1/search?q=&kinds=&limit=&cursor=&...` (docs/messaging.md, "Search"). The legacy
//! `?kind=person` of the directory search is the same request with one kind.

use super::service;
use crate::error::{AppError, AppResult};
use crate::platform::auth::Auth;
use crate::platform::search::Params;
use crate::platform::Platform;
use actix_web::{web, HttpResponse};
use std::collections::BTreeMap;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/search", web::get().to(search));
}

/// Query strings are capped so a request cannot smuggle thousands of parameters through.
const MAX_PARAMS: usize = 32;

async fn search(
    p: web::Data<Platform>,
    auth: Auth,
    q: web::Query<BTreeMap<String, String>>,
) -> AppResult<HttpResponse> {
    let params = q.into_inner();
    if params.len() > MAX_PARAMS {
        return Err(AppError::bad_request("bad_request", "Too many query parameters"));
    }
    let user = auth.user_id;
    let answer = web::block(move || service::run(&p, user, &Params(params))).await.map_err(AppError::internal)??;
    Ok(HttpResponse::Ok().json(answer))
}
