//! Announcements in the full-text index (`platform::search`): kind `notice`, title plus the
//! text of the HTML. Indexed when published, removed when withdrawn, both in the same
//! transaction. Hits must be re-checked with [`super::centre::visible_summary`].

use super::model::{Notice, NoticeBody};
use super::store::{NOTICES, NOTICE_BODIES};
use crate::error::AppResult;
use crate::platform::search::kinds::Checked;
use crate::platform::search::{self, Asker, Filter, Hit, Order, SearchDoc, SearchKind, Sink};
use crate::platform::store::Tx;
use serde_json::json;

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
        at: n.published_at.unwrap_or(n.created_at),
        ..SearchDoc::default()
    }
}

pub fn index(tx: &Tx, n: &Notice, body: &NoticeBody) -> AppResult<()> {
    search::enqueue_upsert(tx, doc(n, body))
}

pub fn remove(tx: &Tx, id: u64) -> AppResult<()> {
    search::enqueue_delete(tx, key(id))
}

/// Every published notice (index rebuilds), streamed.
pub fn documents(txn: &redb::ReadTransaction, sink: &mut Sink) -> AppResult<()> {
    let Some(t) = NOTICES.read(txn)? else { return Ok(()) };
    for row in t.iter()? {
        let (id, n) = row?;
        if n.is_published() {
            let body = NOTICE_BODIES.get_in(txn, &id)?.unwrap_or_default();
            sink(doc(&n, &body))?;
        }
    }
    Ok(())
}

/// Announcements in the global search: by relevance; the index holds no audience (a company-
/// wide notice would need a tag per member), so every hit is re-checked against the member's
/// own copy ([`super::centre::visible_summary`]) and the search over-fetches.
pub const SEARCH_KIND: SearchKind =
    SearchKind { kind: KIND, order: Order::Relevance, params: &[], scope, recheck, documents };

fn scope(_txn: &redb::ReadTransaction, a: &Asker) -> AppResult<Option<Filter>> {
    Ok((!a.text.is_empty()).then(Filter::default))
}

fn recheck(txn: &redb::ReadTransaction, a: &Asker, hits: Vec<Hit>) -> AppResult<Vec<Checked>> {
    let mut out = Vec::with_capacity(hits.len());
    for h in hits {
        let Some(id) = id_of(&h.key) else {
            out.push(None);
            continue;
        };
        out.push(super::centre::visible_summary(txn, a.user, id)?.map(|summary| {
            json!({"kind": KIND, "key": h.key, "id": id, "title": summary.title, "snippet": h.snippet_html,
                   "at": h.at, "notice": summary})
        }));
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
