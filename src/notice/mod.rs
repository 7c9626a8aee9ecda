//! Announcements (公告): publishers write a notice (sanitised HTML, cover, attachments) for an
//! audience (everyone, departments with their sub-departments, tags, members), now or on a
//! schedule; each active member in the audience gets a copy in their announcement centre and a
//! `notice` event; publishers follow who read and confirmed it, remind the others, export the
//! list, or withdraw the notice. API: docs/messaging.md, "Announcements".
//!
//! Who may publish: admins of any kind and members in `settings["notice_publishers"]`. Branch
//! admins without that grant target only departments and members inside their scope. A notice
//! is managed (edited before publication, stats, reminders, withdrawal) by its publisher and by
//! super admins. Every `{id}` route answers 404 to members who neither received nor manage it.
//!
//! Tables (`store.rs`):
//! - `notices`: id -> [`model::Notice`] (no body; read/confirmed counters, last reminder)
//! - `notice_bodies`: id -> [`model::NoticeBody`] (sanitised HTML and its text)
//! - `notice_deliveries`: (notice id, member id) -> [`model::Delivery`] (read_at, confirmed_at,
//!   reminded_at): one row per recipient, written when the notice is published
//! - `notice_inbox`: (member id, rank, notice id) -> () the centre in display order; rank =
//!   unread bit, pinned bit, published_at (`Notice::rank`)
//! - `notice_by_publisher`: (publisher id, notice id) -> ()
//! - `notice_due`: (publish_at, notice id) -> () for scheduled notices
//! - `notice_uploads`: (member id, upload id) -> [`model::Upload`]: files uploaded for a notice
//!   not written yet
//!
//! Invariants:
//! - A notice has deliveries and inbox rows only once published; each delivery has exactly one
//!   inbox row, at the rank of its read state; the counters in `notices` equal the deliveries.
//! - A notice is in `notice_due` exactly while it is scheduled (not published, `publish_at` set).
//! - Blob references: an upload row holds one; a notice holds one per distinct file (cover,
//!   attachments, inline images). Using an upload in a notice moves its reference to the notice
//!   (the upload row goes); editing releases files no longer used; withdrawal releases all.
//!   Uploads unused for a day are dropped by the hourly job.
//! - Publishing writes the deliveries, the `notice` events (`platform::realtime::notify_users`),
//!   the search document and the audit entry in one transaction.
//! - Audiences are resolved when the notice is published: members who join later do not get
//!   notices published before (see `audience.rs`).
//! - Withdrawal deletes the notice and everything above, sends `notice_removed` to the
//!   recipients and removes the search document; the audit log keeps the record.

pub mod api;
pub mod audience;
pub mod centre;
pub mod files;
pub mod html;
pub mod manage;
pub mod model;
pub mod publish;
pub mod search;
pub mod service;
pub mod store;

pub use centre::{visible_summary, visible_summary_at};
pub use model::NoticeSummary;
pub use search::documents;
