//! `GET /drive/nodes/{id}/preview` (any role that sees the file): what the SPA needs to show a
//! file without downloading it. Text, Markdown and code come back as text (the first 1 MiB,
//! decoded leniently); PDF, images, audio and video are shown from `content?disposition=inline`.
//! Office documents: the text comes from `platform::extract` once that module lands; until then
//! only the kind is returned.

use super::model::preview_kind;
use super::nodes;
use crate::error::{AppError, AppResult};
use crate::platform::auth::extract::Auth;
use crate::platform::Platform;
use actix_web::{web, HttpResponse};
use serde_json::json;
use std::io::Read;

/// Most text returned.
const MAX_TEXT: u64 = 1024 * 1024;

/// The highlighting language the SPA should use, from the extension.
fn language(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "md" => "markdown",
        "rs" => "rust",
        "py" => "python",
        "js" => "javascript",
        "ts" => "typescript",
        "go" => "go",
        "java" => "java",
        "c" | "h" => "c",
        "sql" => "sql",
        "json" => "json",
        "yaml" | "yml" => "yaml",
        "toml" => "toml",
        "csv" => "csv",
        _ => return None,
    })
}

pub async fn preview(p: web::Data<Platform>, auth: Auth, id: web::Path<u64>) -> AppResult<HttpResponse> {
    let n = nodes::stat(&p.store.begin_read()?, auth.user_id, *id)?.node;
    if n.is_folder() {
        return Err(AppError::invalid("id", "not_a_file", "Folders have no preview"));
    }
    let kind = preview_kind(n.mime.as_deref().unwrap_or(""), &n.name);
    if kind != Some("text") {
        return Ok(HttpResponse::Ok().json(json!({ "kind": kind })));
    }
    let sha = n.sha.clone().unwrap_or_default();
    let p2 = p.clone();
    let bytes = web::block(move || -> AppResult<Vec<u8>> {
        let mut buf = Vec::new();
        p2.blobs.open_file(&sha)?.take(MAX_TEXT).read_to_end(&mut buf)?;
        Ok(buf)
    })
    .await
    .map_err(AppError::internal)??;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Ok(HttpResponse::Ok().json(json!({
        "kind": "text", "text": text, "truncated": n.size > MAX_TEXT, "language": language(&n.name),
    })))
}
