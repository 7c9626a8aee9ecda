//! The embedded SPA (`assets/web`, built from `web/`), its client-route fallback, and the
//! security headers every response carries.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "assets/web/"]
struct Spa;

/// Prefixes that belong to the server; they never fall back to `index.html`.
const SERVER_PREFIXES: [&str; 5] = ["/api", "/ws", "/dav", "/cgi-bin", "/assets"];

/// No inline script anywhere; Element Plus sets inline styles, so styles may be inline.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; media-src 'self' blob:; \
object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

pub fn security_headers() -> actix_web::middleware::DefaultHeaders {
    actix_web::middleware::DefaultHeaders::new()
        .add((header::CONTENT_SECURITY_POLICY, CSP))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::REFERRER_POLICY, "same-origin"))
        .add(("Permissions-Policy", "camera=(self), microphone=(self), geolocation=(self), payment=()"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
}

fn serve_file(path: &str, immutable: bool) -> Option<HttpResponse> {
    let file = Spa::get(path)?;
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let mut resp = HttpResponse::Ok();
    resp.content_type(mime.as_ref());
    let cache = if immutable { "public, max-age=31536000, immutable" } else { "no-cache" };
    resp.insert_header((header::CACHE_CONTROL, HeaderValue::from_static(cache)));
    // Release builds embed the files: serve the static bytes without copying them per request.
    let body = match file.data {
        std::borrow::Cow::Borrowed(bytes) => actix_web::web::Bytes::from_static(bytes),
        std::borrow::Cow::Owned(bytes) => actix_web::web::Bytes::from(bytes),
    };
    Some(resp.body(body))
}

fn json_not_found() -> HttpResponse {
    HttpResponse::NotFound().json(serde_json::json!({"code": "not_found", "message": "No such endpoint"}))
}

/// Default service: static files, else `index.html` for client routes, else 404.
pub async fn fallback(req: HttpRequest) -> HttpResponse {
    let path = req.path();
    if let Some(rest) = path.strip_prefix("/assets/") {
        return serve_file(&format!("assets/{rest}"), true).unwrap_or_else(json_not_found);
    }
    if SERVER_PREFIXES.iter().any(|p| path == *p || path.starts_with(&format!("{p}/"))) {
        return json_not_found();
    }
    let file = path.trim_start_matches('/');
    if !file.is_empty() && file != "index.html" {
        if let Some(resp) = serve_file(file, false) {
            return resp;
        }
    }
    serve_file("index.html", false).unwrap_or_else(|| {
        HttpResponse::ServiceUnavailable().body("The web app was not built into this binary (assets/web is empty).")
    })
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.default_service(web::to(fallback));
}
