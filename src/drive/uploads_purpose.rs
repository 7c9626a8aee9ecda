//! The drive's resumable-upload purpose (`purpose: drive` in tus `Upload-Metadata`, see
//! docs/drive.md "Resumable uploads"). Metadata: `filename`, `parent_id` (a folder id),
//! `on_conflict` (`error` default, `rename`, `version`), optional `filetype` (ignored for the
//! stored type, which follows the name). Creation runs [`service::check_upload`] (permission,
//! name, quota for `Upload-Length`, `max_file_size`) before any byte; completion runs
//! [`service::commit_file`], which checks all of it again in the completing transaction, and
//! answers the created Node (with its `path`) as the upload's result.

use super::model::OnConflict;
use super::settings::DriveSettings;
use super::{nodes, service, view};
use crate::error::{AppError, AppResult};
use crate::platform::blobs::BlobRef;
use crate::platform::settings::SettingsDoc;
use crate::platform::store::Tx;
use crate::platform::uploads::{Metadata, UploadPurpose, Uploader};
use serde_json::Value;

pub const PURPOSE: UploadPurpose = UploadPurpose { name: "drive", max_size, begin, complete };

fn max_size(txn: &redb::ReadTransaction) -> AppResult<u64> {
    Ok(DriveSettings::load(txn)?.max_file_size)
}

/// Where the file goes, from the metadata.
struct Target {
    parent: u64,
    name: String,
    on_conflict: OnConflict,
}

fn target(meta: &Metadata) -> AppResult<Target> {
    let parent = meta.get("parent_id").and_then(|v| v.parse::<u64>().ok()).ok_or_else(|| {
        AppError::invalid("parent_id", "parent_invalid", "Upload-Metadata needs the folder's parent_id")
    })?;
    // An absent name is validated (and refused) like an empty one.
    let name = meta.get("filename").unwrap_or_default().to_owned();
    Ok(Target { parent, name, on_conflict: OnConflict::parse(meta.get("on_conflict"))? })
}

fn begin(txn: &redb::ReadTransaction, who: &Uploader, meta: &Metadata, length: u64) -> AppResult<()> {
    let t = target(meta)?;
    service::check_upload(txn, who.user_id, t.parent, &t.name, t.on_conflict, length)
}

fn complete(tx: &Tx, who: &Uploader, meta: &Metadata, blob: &BlobRef) -> AppResult<Value> {
    let t = target(meta)?;
    let node = service::commit_file(tx, who.user_id, t.parent, &t.name, t.on_conflict, blob)?;
    let access = nodes::stat(tx, who.user_id, node.id)?;
    let mut v = view::node_json(tx, &access.node, access.role)?;
    v["path"] = view::path_json(&access.path);
    Ok(v)
}
