//! Files and folders in the full-text index: kind `file`, the name as title (jieba + ngram)
//! with its pinyin, and as body the text extracted from the content.
//!
//! The body is the text `drive::extraction` stored for the node's current blob: every
//! (re-)index reads it, so a rename, a move or a rebuild keeps the content searchable, and a
//! file whose text is not stored yet is queued for extraction in the same transaction (the
//! worker re-indexes it once the text is in). Documents are queued in the same transaction as
//! the change; every hit, by name or by content, is re-checked with the caller's effective role.

use super::model::Node;
use super::store::{self, Rd};
use crate::error::AppResult;
use crate::platform::search::kinds::Checked;
use crate::platform::search::{self, Asker, Filter, Hit, Order, SearchDoc, SearchKind, Sink};
use crate::platform::store::Tx;
use pinyin::ToPinyin;
use serde_json::json;

pub const KIND: &str = "file";

pub fn key(id: u64) -> String {
    format!("{KIND}:{id}")
}

pub fn id_of(key: &str) -> Option<u64> {
    key.strip_prefix(KIND)?.strip_prefix(':')?.parse().ok()
}

/// Full pinyin and initials of the Chinese characters in a name ("报价单" -> baojiadan, bjd).
fn pinyin_of(name: &str) -> Vec<String> {
    let (mut full, mut initials) = (String::new(), String::new());
    for c in name.chars() {
        if let Some(p) = c.to_pinyin() {
            full.push_str(p.plain());
            initials.push_str(p.first_letter());
        }
    }
    [full, initials].into_iter().filter(|s| !s.is_empty()).collect()
}

/// The search document of a node; `text` is the extracted content (may be empty).
pub fn doc(n: &Node, text: &str) -> SearchDoc {
    SearchDoc {
        key: key(n.id),
        kind: KIND.into(),
        title: n.name.clone(),
        body: text.to_owned(),
        pinyin: pinyin_of(&n.name),
        at: n.updated_at,
        tags: vec![format!("drive_space:{}", n.space_id)],
        ..SearchDoc::default()
    }
}

/// Queue the node's document with its stored text (roots are not searchable: they are the
/// spaces themselves), and its content for extraction when no text is stored yet.
pub fn index(tx: &Tx, n: &Node) -> AppResult<()> {
    if n.parent_id.is_none() || n.trashed.is_some() {
        return Ok(());
    }
    super::extraction::enqueue(tx, n)?;
    index_with_text(tx, n, &super::extraction::text_of(tx, n)?)
}

/// The node's document with the given text.
pub fn index_with_text(tx: &Tx, n: &Node, text: &str) -> AppResult<()> {
    if n.parent_id.is_none() || n.trashed.is_some() {
        return Ok(());
    }
    search::enqueue_upsert(tx, doc(n, text))
}

pub fn remove_subtree(tx: &Tx, top: &Node) -> AppResult<()> {
    search::enqueue_delete(tx, key(top.id))?;
    for d in store::descendants(tx, top.id)? {
        search::enqueue_delete(tx, key(d.id))?;
    }
    Ok(())
}

pub fn index_subtree(tx: &Tx, top: &Node) -> AppResult<()> {
    index(tx, top)?;
    for d in store::descendants(tx, top.id)? {
        index(tx, &d)?;
    }
    Ok(())
}

/// Every live node (index rebuilds): walked from each space root, so nothing in the bin.
pub fn documents(txn: &redb::ReadTransaction, sink: &mut Sink) -> AppResult<()> {
    for (_, s) in txn.range(&store::SPACES, &0, &u64::MAX, usize::MAX)? {
        for n in store::descendants(txn, s.root_id)? {
            if n.trashed.is_none() {
                sink(doc(&n, &super::extraction::text_of(txn, &n)?))?;
            }
        }
    }
    Ok(())
}

pub const SEARCH_KIND: SearchKind =
    SearchKind { kind: KIND, order: Order::Relevance, params: &["space_id"], scope, recheck, documents };

/// By text only; `space_id` narrows to one space (the caller must have a role in it).
fn scope(_txn: &redb::ReadTransaction, a: &Asker) -> AppResult<Option<Filter>> {
    if a.text.is_empty() {
        return Ok(None);
    }
    let mut f = Filter::default();
    if let Some(space) = a.params.u64("space_id")? {
        f.any_of.push(vec![format!("drive_space:{space}")]);
    }
    Ok(Some(f))
}

fn recheck(txn: &redb::ReadTransaction, a: &Asker, hits: Vec<Hit>) -> AppResult<Vec<Checked>> {
    let who = super::perm::Principals::of(txn, a.user)?;
    let mut people = super::view::People::new(txn);
    let mut out = Vec::with_capacity(hits.len());
    for h in hits {
        let Some(id) = id_of(&h.key) else {
            out.push(None);
            continue;
        };
        let Ok(access) = super::perm::resolve(txn, &who, id) else {
            out.push(None);
            continue;
        };
        let node = people.node_json(&access.node, access.role)?;
        let path = super::view::path_json(&access.path);
        out.push(Some(json!({"kind": KIND, "key": h.key, "id": id, "title": access.node.name,
            "snippet": h.snippet_html, "at": h.at, "node": node, "path": path})));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_pinyin() {
        assert_eq!(id_of(&key(9)), Some(9));
        assert_eq!(id_of("notice:9"), None);
        assert_eq!(pinyin_of("报价单.xlsx"), vec!["baojiadan".to_owned(), "bjd".to_owned()]);
    }
}
