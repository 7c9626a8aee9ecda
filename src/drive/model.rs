//! Drive types: what is stored in the drive tables and what the API returns.

use crate::error::{AppError, AppResult};
use serde::{Deserialize, Serialize};

/// Roles, lowest to highest (the derived order is the privilege order).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Preview,
    Viewer,
    Uploader,
    Editor,
    Manager,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum SpaceKind {
    #[default]
    Personal,
    Team,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default)]
pub struct Space {
    pub id: u64,
    pub kind: SpaceKind,
    pub name: String,
    /// Personal: the member; team: the creator.
    pub owner_id: u64,
    pub root_id: u64,
    /// Bytes; `None` = unlimited.
    pub quota: Option<u64>,
    /// Bytes of every file in the tree and the bin (current versions), kept in the same
    /// transaction as every size change.
    pub used: u64,
    pub created_at: i64,
}

/// Who a space membership or a node grant names. Ids are global-sequence ids, so one id names
/// exactly one principal whatever its kind.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    #[default]
    User,
    Department,
    Tag,
}

impl PrincipalKind {
    pub fn parse(s: &str) -> AppResult<Self> {
        match s {
            "user" => Ok(Self::User),
            "department" => Ok(Self::Department),
            "tag" => Ok(Self::Tag),
            _ => Err(AppError::invalid("kind", "invalid_kind", "kind must be user, department or tag")),
        }
    }
}

/// A row of `drive_space_members` or `drive_acl`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    pub kind: PrincipalKind,
    pub role: Role,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    #[default]
    Folder,
    File,
}

/// Set on the top node of a deleted subtree (its descendants keep their rows unchanged).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Trashed {
    pub at: i64,
    pub by: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default)]
pub struct Node {
    pub id: u64,
    pub space_id: u64,
    /// `None` for the space root.
    pub parent_id: Option<u64>,
    pub kind: NodeKind,
    pub name: String,
    pub size: u64,
    /// Files: sha256 of the current version.
    pub sha: Option<String>,
    pub mime: Option<String>,
    /// Files: the current version number (1 for a new file).
    pub version: u32,
    pub created_by: u64,
    pub created_at: i64,
    pub updated_by: u64,
    pub updated_at: i64,
    pub trashed: Option<Trashed>,
    /// A cached thumbnail (holds its own blob reference).
    pub thumb_sha: Option<String>,
    /// Has node-level grants (the list shows a share icon).
    pub shared: bool,
}

impl Node {
    pub fn is_folder(&self) -> bool {
        self.kind == NodeKind::Folder
    }
}

/// One version of a file (`drive_versions`); every row holds one blob reference.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default)]
pub struct Version {
    pub sha: String,
    pub size: u64,
    pub mime: Option<String>,
    pub by: u64,
    pub at: i64,
}

/// One deleted subtree in a space's bin (`drive_bin`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default)]
pub struct BinEntry {
    pub deleted_at: i64,
    pub deleted_by: u64,
    /// Where it was; restore goes back there, or to the root if that folder is gone.
    pub old_parent: u64,
}

/// One line of a space's activity log (`drive_activity`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default)]
pub struct Activity {
    pub at: i64,
    pub actor: u64,
    pub action: String,
    pub node_id: u64,
    pub name: String,
    pub details: serde_json::Value,
}

/// What to do when a name is taken in the target folder.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum OnConflict {
    #[default]
    Error,
    Rename,
    /// File writes only: the write becomes a new version of the existing file.
    Version,
}

impl OnConflict {
    pub fn parse(s: Option<&str>) -> AppResult<Self> {
        match s.unwrap_or("error") {
            "" | "error" => Ok(Self::Error),
            "rename" => Ok(Self::Rename),
            "version" => Ok(Self::Version),
            _ => Err(AppError::invalid(
                "on_conflict",
                "invalid_on_conflict",
                "on_conflict must be error, rename or version",
            )),
        }
    }
}

/// What a preview-only reader may see inline.
pub fn preview_kind(mime: &str, name: &str) -> Option<&'static str> {
    // One mapping for the Node JSON, the preview endpoints and extraction.
    crate::platform::extract::preview_kind(name, Some(mime).filter(|m| !m.is_empty()))
}

/// Raster images we make thumbnails of.
pub fn is_thumbnailable(mime: &str) -> bool {
    matches!(mime, "image/png" | "image/jpeg" | "image/gif" | "image/webp")
}
