//! `GET /drive/nodes/{id}/preview` (any role that sees the file) and the share-link preview:
//! what the SPA needs to show a file without downloading it.
//!
//! - text, Markdown, code: `{"kind": "text", "text", "truncated", "language"}` (the first MiB,
//!   decoded as UTF-8/UTF-16/GB18030 by `platform::extract`);
//! - docx, xlsx (one section per sheet, titled), pptx (one per slide) and PDF:
//!   `{"kind": "office"|"pdf", "sections": [{"title"?, "text"}], "truncated", "text"}` where
//!   `text` is all sections as plain text (what older clients showed);
//! - images, audio, video: `{"kind"}` (shown from `content?disposition=inline`).
//!
//! Office and PDF text comes from the stored extraction (`drive::extraction`) when the
//! background worker has been through the blob, else from the [`Extractor`] now (not stored:
//! the worker stays the only writer). Extraction errors keep the extractor's codes: 422
//! `preview_unsupported` / `preview_failed` / `preview_timeout`, 413 `preview_too_large`.
//!
//! [`Extractor`]: crate::platform::extract::Extractor

use super::extraction;
use super::model::Node;
use super::nodes;
use crate::error::{AppError, AppResult};
use crate::platform::auth::extract::Auth;
use crate::platform::extract::{extract_text_reader, language_of, preview_kind, ExtractError, Extracted};
use crate::platform::Platform;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

pub async fn preview(p: web::Data<Platform>, auth: Auth, id: web::Path<u64>) -> AppResult<HttpResponse> {
    let n = nodes::stat(&p.store.begin_read()?, auth.user_id, *id)?.node;
    if n.is_folder() {
        return Err(AppError::invalid("id", "not_a_file", "Folders have no preview"));
    }
    let Some(kind) = kind_of(&n) else { return Ok(HttpResponse::Ok().json(json!({ "kind": null }))) };
    Ok(HttpResponse::Ok().json(of_file(&p, &n, kind).await?))
}

/// The preview kind of a file (`None`: the browser cannot show it).
pub fn kind_of(n: &Node) -> Option<&'static str> {
    preview_kind(&n.name, n.mime.as_deref())
}

/// The preview body of a file whose access was checked, for a known `kind`.
pub async fn of_file(p: &web::Data<Platform>, n: &Node, kind: &'static str) -> AppResult<Value> {
    let sha = n.sha.clone().ok_or_else(|| AppError::internal(format!("drive file {} without content", n.id)))?;
    match kind {
        "text" => {
            let x = text(p, sha).await?;
            let text = x.sections.first().map(|s| s.text.as_str()).unwrap_or("");
            Ok(json!({"kind": "text", "text": text, "truncated": x.truncated, "language": language(&n.name)}))
        }
        "office" | "pdf" => {
            let x = document(p, n, sha).await?;
            Ok(json!({"kind": kind, "sections": x.sections, "truncated": x.truncated, "text": x.plain()}))
        }
        _ => Ok(json!({ "kind": kind })),
    }
}

/// The highlighting language: the names this endpoint always answered (highlight.js names),
/// else `platform::extract`'s short hint for the extensions added since.
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
        _ => return language_of(name),
    })
}

/// The stored extraction of a blob, if any (its error when extraction failed).
fn cached(p: &Platform, sha: &str) -> AppResult<Option<Result<Extracted, ExtractError>>> {
    let stored = extraction::stored(&p.store.begin_read()?, sha)?;
    Ok(stored.map(|s| match s.error {
        Some(e) => Err(e),
        None => Ok(s.extracted),
    }))
}

/// Text files: decoded in-process from their first bytes (cheap, so no cache is needed).
async fn text(p: &web::Data<Platform>, sha: String) -> AppResult<Extracted> {
    let p2 = p.clone();
    web::block(move || -> AppResult<Extracted> {
        let file = p2.blobs.open_file(&sha)?;
        extract_text_reader(std::io::BufReader::new(file), &p2.extract.limits).map_err(error)
    })
    .await
    .map_err(AppError::internal)?
}

/// Office and PDF: the stored extraction, else the extractor.
async fn document(p: &Platform, n: &Node, sha: String) -> AppResult<Extracted> {
    if let Some(r) = cached(p, &sha)? {
        return r.map_err(error);
    }
    let path = p.blobs.path_of(&sha)?;
    p.extract.extract(path, &n.name, n.mime.as_deref()).await.map_err(error)
}

/// An extraction error as an API error with the extractor's stable code. A timeout is 422 (a
/// property of this file under our limits, retrying will not help), not a gateway's 504.
pub fn error(e: ExtractError) -> AppError {
    let status = match e {
        ExtractError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    AppError::new(status, e.code(), e.to_string())
}
