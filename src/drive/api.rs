//! (in progress)
pub fn routes(_cfg: &mut actix_web::web::ServiceConfig) {}
