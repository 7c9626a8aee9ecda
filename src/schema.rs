//! The application's schema: every redb table of every feature, the schema version and the
//! numbered migrations. Backup, restore and `officebox check` iterate [`SCHEMA`]; a table that
//! exists in a database but is missing here fails the registry test.

use crate::platform::store::{Migration, Schema, TableSpec};

/// Bump when a migration is added below.
pub const SCHEMA_VERSION: u32 = 3;

pub static TABLES: &[TableSpec] = &[
    // platform
    crate::platform::store::meta::META.spec(),
    crate::platform::blobs::BLOB_REFS.spec(),
    crate::platform::settings::SETTINGS.spec(),
    crate::platform::audit::AUDIT.spec(),
    crate::platform::auth::session::SESSIONS.spec(),
    crate::platform::auth::session::USER_SESSIONS.spec(),
    crate::platform::auth::credentials::CREDENTIALS.spec(),
    crate::platform::auth::roles::ADMINS.spec(),
    crate::platform::search::SEARCH_OUTBOX.spec(),
    crate::platform::realtime::USER_EVENTS.spec(),
    crate::platform::uploads::store::UPLOADS.spec(),
    // accounts
    crate::accounts::tokens::ACCOUNT_TOKENS.spec(),
    crate::accounts::app_passwords::APP_PASSWORDS.spec(),
    // org
    crate::org::store::DEPARTMENTS.spec(),
    crate::org::store::MEMBERS.spec(),
    crate::org::store::MEMBER_USERIDS.spec(),
    crate::org::store::MEMBER_MOBILES.spec(),
    crate::org::store::MEMBER_EMAILS.spec(),
    crate::org::store::DEPARTMENT_MEMBERS.spec(),
    crate::org::store::MEMBER_SEARCH.spec(),
    crate::org::store::TAGS.spec(),
    crate::org::store::TAG_NAMES.spec(),
    // chat
    crate::chat::store::CONVERSATIONS.spec(),
    crate::chat::store::MEMBERS.spec(),
    crate::chat::store::USER_CONVS.spec(),
    crate::chat::store::MESSAGES.spec(),
    crate::chat::store::CONV_EVENTS.spec(),
    crate::chat::store::DIRECT.spec(),
    crate::chat::store::SEND_IDS.spec(),
    crate::chat::store::FAVORITES.spec(),
    crate::chat::store::JOIN_REQUESTS.spec(),
    crate::chat::store::DEPARTMENT_GROUPS.spec(),
    // notice
    crate::notice::store::NOTICES.spec(),
    crate::notice::store::NOTICE_BODIES.spec(),
    crate::notice::store::NOTICE_DELIVERIES.spec(),
    crate::notice::store::NOTICE_INBOX.spec(),
    crate::notice::store::NOTICE_BY_PUBLISHER.spec(),
    crate::notice::store::NOTICE_DUE.spec(),
    crate::notice::store::NOTICE_UPLOADS.spec(),
    // drive
    crate::drive::store::SPACES.spec(),
    crate::drive::dav::props::DAV_PROPERTIES.spec(),
    crate::drive::store::PERSONAL.spec(),
    crate::drive::store::SPACE_MEMBERS.spec(),
    crate::drive::store::PRINCIPAL_SPACES.spec(),
    crate::drive::store::NODES.spec(),
    crate::drive::store::CHILDREN.spec(),
    crate::drive::store::NAMES.spec(),
    crate::drive::store::LISTING.spec(),
    crate::drive::store::VERSIONS.spec(),
    crate::drive::store::ACL.spec(),
    crate::drive::store::PRINCIPAL_GRANTS.spec(),
    crate::drive::store::BIN.spec(),
    crate::drive::store::ACTIVITY.spec(),
    crate::drive::store::TOTALS.spec(),
    crate::drive::links_store::LINKS.spec(),
    crate::drive::links_store::LINK_TOKENS.spec(),
    crate::drive::links_store::NODE_LINKS.spec(),
    crate::drive::links_store::LINK_LOG.spec(),
    crate::drive::links_store::LINK_UNLOCKS.spec(),
    crate::drive::links_store::LINK_UNLOCK_INDEX.spec(),
    crate::drive::extraction::TEXTS.spec(),
    crate::drive::extraction::QUEUE.spec(),
];

pub static MIGRATIONS: &[Migration] = &[
    Migration {
        version: 2,
        name: "chat: idempotent sends keyed by day and client id (chat_send_ids)",
        run: crate::chat::store::drop_old_client_ids,
    },
    Migration {
        version: 3,
        name: "drive: the folder listing order (drive_listing) built from drive_children",
        run: crate::drive::listing::build_index,
    },
];

/// Signed-in sessions belong to the moment, not to the data: a restore signs everybody out.
/// Unfinished uploads too: their temp files are not in the backup.
pub static CLEARED_ON_RESTORE: &[&str] = &["sessions", "user_sessions", "uploads"];

pub static SCHEMA: Schema =
    Schema { tables: TABLES, version: SCHEMA_VERSION, migrations: MIGRATIONS, cleared_on_restore: CLEARED_ON_RESTORE };
