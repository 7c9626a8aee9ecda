//! People in the full-text index (`platform::search`): the `person` document of a member, the
//! rebuild source, and the `person` kind of the global search ([`PEOPLE`], served by
//! `crate::search` at `GET /api/v1/search`).
//!
//! `store::put_member` calls [`index_member`] in its transaction, so the outbox row commits with
//! the member. Members who left are removed from the index. Every hit is re-read from redb
//! before it is returned: unknown or departed members are dropped.

use super::model::{Member, MemberStatus};
use super::search::pinyin_keys;
use super::store::MEMBERS;
use crate::error::AppResult;
use crate::platform::search::kinds::Checked;
use crate::platform::search::{self, Asker, Filter, Hit, Order, SearchDoc, SearchKind, Sink};
use crate::platform::store::Tx;
use serde_json::json;

pub const KIND: &str = "person";

pub fn key(id: u64) -> String {
    format!("{KIND}:{id}")
}

fn id_of(key: &str) -> Option<u64> {
    key.strip_prefix(KIND)?.strip_prefix(':')?.parse().ok()
}

/// The search document of a member: name as title; alias, position, account id, email and
/// employee number as body; pinyin (full and initials) of name and alias.
pub fn person_doc(m: &Member) -> SearchDoc {
    let mut pinyin = Vec::new();
    for name in [&m.name, &m.alias] {
        let (full, initials) = pinyin_keys(name);
        pinyin.extend(full.into_iter().chain(initials).map(|p| p.split_whitespace().collect::<String>()));
    }
    pinyin.retain(|p| !p.is_empty());
    pinyin.sort();
    pinyin.dedup();
    let body = [&m.alias, &m.position, &m.userid, &m.email, &m.employee_no]
        .into_iter()
        .filter(|s| !s.is_empty())
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(" ");
    SearchDoc {
        key: key(m.id),
        kind: KIND.into(),
        title: m.name.clone(),
        body,
        pinyin,
        at: m.updated_at,
        ..SearchDoc::default()
    }
}

/// Queue the member's index update in the caller's transaction.
pub fn index_member(tx: &Tx, m: &Member) -> AppResult<()> {
    if m.status == MemberStatus::Left {
        search::enqueue_delete(tx, key(m.id))
    } else {
        search::enqueue_upsert(tx, person_doc(m))
    }
}

/// Every member who should be in the index, streamed (rebuild source).
pub fn documents(txn: &redb::ReadTransaction, sink: &mut Sink) -> AppResult<()> {
    let Some(t) = MEMBERS.read(txn)? else { return Ok(()) };
    for row in t.iter()? {
        let (_, m) = row?;
        if m.status != MemberStatus::Left {
            sink(person_doc(&m))?;
        }
    }
    Ok(())
}

/// People in the global search: any signed-in member finds any current member (the directory
/// is visible to all), by relevance.
pub const PEOPLE: SearchKind = SearchKind {
    kind: KIND,
    order: Order::Relevance,
    params: &[],
    scope: people_scope,
    recheck: recheck_people,
    documents,
};

fn people_scope(_txn: &redb::ReadTransaction, a: &Asker) -> AppResult<Option<Filter>> {
    Ok((!a.text.is_empty()).then(Filter::default))
}

/// Unknown or departed members are dropped. The fields `name`, `position`, `department_ids`
/// are what the directory search has always answered (`?kind=person`); keep them.
fn recheck_people(txn: &redb::ReadTransaction, _a: &Asker, hits: Vec<Hit>) -> AppResult<Vec<Checked>> {
    let mut out = Vec::with_capacity(hits.len());
    for h in hits {
        let m = id_of(&h.key).map(|id| MEMBERS.get_in(txn, &id)).transpose()?.flatten();
        out.push(m.filter(|m| m.status != MemberStatus::Left).map(|m| {
            let avatar = m.avatar.as_ref().map(|_| format!("/api/v1/members/{}/avatar", m.id));
            json!({
                "kind": KIND, "key": h.key, "id": m.id, "title": m.name, "snippet": h.snippet_html,
                "at": m.updated_at, "name": m.name, "position": m.position,
                "department_ids": m.department_ids, "avatar": avatar,
            })
        }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_documents() {
        let m =
            Member {
                id: 7, name: "张三".into(), position: "工程师".into(), userid: "zs".into(), ..Default::default()
            };
        let d = person_doc(&m);
        assert_eq!(d.key, "person:7");
        assert_eq!(id_of(&d.key), Some(7));
        assert_eq!(id_of("message:7"), None);
        assert!(d.pinyin.contains(&"zhangsan".to_owned()) && d.pinyin.contains(&"zs".to_owned()), "{:?}", d.pinyin);
        assert_eq!(d.body, "工程师 zs");
    }
}
