//! The drive (微盘): personal and team spaces, folders and files with versions, a recycle bin,
//! roles and node-level grants, quotas. Contract: docs/drive.md; design: docs/architecture.md ("The drive").
//!
//! For other modules (tus uploads, WebDAV, chat): [`service`] — `personal_space`,
//! `resolve_role`, `check_upload` (before any byte), `commit_file` (in the completing
//! transaction), and the folder operations re-exported from [`nodes`]. Tables and their
//! invariants: [`store`]. Permission rules: [`perm`]. Names: [`names`]. WebDAV: [`dav`].

pub mod api;
pub mod api_nodes;
pub mod archive;
pub mod bin;
pub mod chat_bridge;
pub mod content;
pub mod dav;
pub mod extraction;
pub mod grants;
pub mod hooks;
pub mod links;
pub mod links_store;
pub mod listing;
pub mod model;
pub mod names;
pub mod node_bytes;
pub mod nodes;
pub mod perm;
pub mod preview;
pub mod public_api;
pub mod search;
pub mod service;
pub mod settings;
pub mod spaces;
pub mod store;
pub mod uploads_purpose;
pub mod versions;
pub mod view;
