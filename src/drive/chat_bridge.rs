//! Between the drive and chat, without copying bytes:
//! - a drive file sent into a chat becomes a snapshot: the message gets the file's current
//!   blob, name, size and type and holds its own blob reference (taken by chat's
//!   `insert_message`), so later edits or deletes in the drive do not change the message;
//! - a chat file saved into the drive goes through the core's `commit_file` with the
//!   message's blob (the new version row takes its own reference).
//!
//! Both run inside the caller's write transaction and answer 404 for anything the caller may
//! not see (a node without a role, a conversation they are not in, a message before they
//! joined or recalled).

use super::model::{Node, OnConflict, Role};
use super::service;
use crate::chat::model::FileRef;
use crate::error::{AppError, AppResult};
use crate::platform::auth::Auth;
use crate::platform::blobs::BlobRef;
use crate::platform::store::Tx;
use crate::platform::Platform;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

/// The attachment for a chat message sending drive file `node_id` (viewer needed: sending is
/// handing out a copy).
pub fn file_for_message(tx: &Tx, user: u64, node_id: u64) -> AppResult<FileRef> {
    let a = service::resolve_role(tx, user, node_id)?;
    a.require(Role::Viewer)?;
    let n = &a.node;
    if n.is_folder() {
        return Err(AppError::invalid("drive_node_id", "not_a_file", "Only files can be sent; folders cannot"));
    }
    let sha = n.sha.clone().ok_or_else(|| AppError::internal(format!("drive file {} without content", n.id)))?;
    Ok(FileRef {
        sha,
        name: n.name.clone(),
        size: n.size,
        mime: n.mime.clone().unwrap_or_else(|| "application/octet-stream".into()),
        ..FileRef::default()
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FromChat {
    pub conversation_id: u64,
    pub seq: u64,
    /// Item of a merged chat record.
    #[serde(default)]
    pub index: Option<usize>,
    #[serde(default)]
    pub on_conflict: Option<String>,
}

/// Save the file of a message the caller can see into folder `parent` (uploader there).
pub fn save_from_chat(tx: &Tx, user: u64, parent: u64, input: &FromChat, on_conflict: OnConflict) -> AppResult<Node> {
    let (_, member) = crate::chat::store::conversation_for(tx, input.conversation_id, user)?;
    let m = crate::chat::store::message(tx, input.conversation_id, input.seq)?
        .filter(|m| m.seq >= member.visible_from && m.recalled.is_none())
        .ok_or_else(|| AppError::not_found("message"))?;
    let file = match input.index {
        None => m.file,
        Some(i) => m.merged.and_then(|mg| mg.items.into_iter().nth(i)).and_then(|it| it.file),
    };
    let f = file.ok_or_else(|| AppError::not_found("file"))?;
    let blob = BlobRef { sha256: f.sha, size: f.size, content_type: f.mime };
    service::commit_file(tx, user, parent, &f.name, on_conflict, &blob)
}

/// `POST /drive/nodes/{parent}/from-chat` → the new Node (201).
pub async fn save_handler(
    p: web::Data<Platform>,
    auth: Auth,
    parent: web::Path<u64>,
    body: web::Json<FromChat>,
) -> AppResult<HttpResponse> {
    let (user, parent, input) = (auth.user_id, *parent, body.into_inner());
    let on_conflict = OnConflict::parse(input.on_conflict.as_deref())?;
    let (n, role) = p
        .store
        .write(move |tx| {
            let n = save_from_chat(tx, user, parent, &input, on_conflict)?;
            let role = service::resolve_role(tx, user, n.id)?.role;
            Ok((n, role))
        })
        .await?;
    let body = super::view::node_json(&p.store.begin_read()?, &n, role)?;
    Ok(HttpResponse::Created().json(body))
}
