//! Announcements in the full-text index (`platform::search`): kind `notice`, title plus the
//! text of the HTML. Indexed when published, removed when withdrawn, both in the same
//! transaction. Hits must be re-checked with [`super::centre::visible_summary`].

use super::model::{Notice, NoticeBody};
use super::store::{NOTICES, NOTICE_BODIES};
use crate::error::AppResult;
use crate::platform::search::{self, SearchDoc};
use crate::platform::store::Tx;

pub const KIND: &str = "notice";

pub fn key(id: u64) -> String {
    format!("{KIND}:{id}")
}

/// The notice id of a search key of this kind.
pub fn id_of(key: &str) -> Option<u64> {
    key.strip_prefix(KIND)?.strip_prefix(':')?.parse().ok()
}

pub fn doc(n: &Notice, body: &NoticeBody) -> SearchDoc {
    SearchDoc {
        key: key(n.id),
        kind: KIND.into(),
        title: n.title.clone(),
        body: body.text.clone(),
        pinyin: Vec::new(),
        at: n.published_at.unwrap_or(n.created_at),
    }
}

pub fn index(tx: &Tx, n: &Notice, body: &NoticeBody) -> AppResult<()> {
    search::enqueue_upsert(tx, doc(n, body))
}

pub fn remove(tx: &Tx, id: u64) -> AppResult<()> {
    search::enqueue_delete(tx, key(id))
}

/// Every published notice (index rebuilds).
pub fn documents(txn: &redb::ReadTransaction) -> AppResult<Vec<SearchDoc>> {
    let mut out = Vec::new();
    for (id, n) in NOTICES.all_in(txn)? {
        if n.is_published() {
            let body = NOTICE_BODIES.get_in(txn, &id)?.unwrap_or_default();
            out.push(doc(&n, &body));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        assert_eq!(id_of(&key(42)), Some(42));
        assert_eq!(id_of("person:42"), None);
        assert_eq!(id_of("notice:x"), None);
    }
}
