//! Excel bulk import and export of members (批量导入 / 导出).
//!
//! The flow is two-step, so an admin sees every problem before anything changes:
//!
//! 1. `POST /admin/import/dry-run`: the upload is streamed into the blob store, the first sheet
//!    is read ([`parse`]) and checked against a snapshot of the org ([`snapshot`], [`plan`],
//!    [`paths`]). The parsed rows stay in memory ([`cache`]) for an hour under a random
//!    `import_id`, bound to the uploader.
//! 2. `POST /admin/import/commit`: inside ONE write transaction the same rows are checked again
//!    against the org as it is now and applied all-or-nothing ([`apply`]): missing departments
//!    are created, members are created (status inactive) or updated by account id, supervisors
//!    are resolved once every member exists, and one `import.committed` audit entry is written.
//!
//! The column layout ([`template`]) is shared by the template, the import and the export
//! ([`export`]), so an export can be imported again unchanged. Field rules are the org's own
//! (`org::model::validate_*`, `org::members::apply_input`); nothing here re-defines them.
//!
//! Owns no tables: it writes through `org::store` and `org::departments`.

pub mod api;
pub mod apply;
pub mod cache;
pub mod export;
pub mod parse;
pub mod paths;
pub mod plan;
pub mod snapshot;
pub mod template;
