//! Chat (会话): 1:1 and group conversations, messages, receipts, recall, forwarding,
//! favourites, department groups, and the chat's realtime feed. Contract: docs/messaging.md.
//!
//! Tables are listed in [`store`]. Invariants worth knowing:
//! - A message's seq is its id and its event seq; history pages and reconnect backlogs are
//!   range scans over `chat_messages (conv, seq)`.
//! - Read receipts are one cursor per (conversation, member): "N 人未读" is computed from the
//!   cursors, so a message costs no write per member, whatever the group size.
//! - A recalled message keeps only its header; its content, blob references and search
//!   document go in the recall's transaction.
//! - Messages and group names are in the full-text index ([`search`]); every hit is re-checked
//!   against the tables above before it is returned.

pub mod api;
pub mod conversations;
pub mod depts;
pub mod events;
pub mod favorites;
pub mod feed;
pub mod history;
pub mod housekeeping;
pub mod media;
pub mod members;
pub mod model;
pub mod search;
pub mod send;
pub mod store;
pub mod view;
