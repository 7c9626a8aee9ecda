//! How a feature offers a kind of object to the global search (`GET /api/v1/search`).
//!
//! A feature describes its kind with a [`SearchKind`]: how results are ordered, which query
//! parameters it understands, how to turn the searcher into a [`Filter`] (e.g. "only the
//! conversations I am in") and how to re-check hits against redb. `app.rs` lists the kinds
//! (`Search::set_kinds`); the endpoint (`crate::search`) runs them without knowing any feature.
//! Adding a kind (announcements, files, ...) is one `SearchKind` constant and one line in
//! `app.rs`.

use super::query::{Filter, Hit, Order};
use crate::error::{AppError, AppResult};
use serde_json::Value;
use std::collections::BTreeMap;

/// The query parameters of a search request, by name (the endpoint's own `q`, `kinds`,
/// `limit` and `cursor` included); kinds read the ones they understand.
#[derive(Debug, Clone, Default)]
pub struct Params(pub BTreeMap<String, String>);

impl Params {
    /// A non-empty, trimmed value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    /// An unsigned integer parameter; anything else is a 400 naming the parameter.
    pub fn u64(&self, name: &str) -> AppResult<Option<u64>> {
        self.get(name).map(|v| v.parse::<u64>().map_err(|_| bad_param(name))).transpose()
    }

    /// A signed integer parameter (times in UTC ms).
    pub fn i64(&self, name: &str) -> AppResult<Option<i64>> {
        self.get(name).map(|v| v.parse::<i64>().map_err(|_| bad_param(name))).transpose()
    }

    /// A comma-separated list (empty entries dropped).
    pub fn list(&self, name: &str) -> Vec<&str> {
        self.get(name).map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).collect()).unwrap_or_default()
    }
}

/// 400 naming the query parameter (`details.field`).
pub fn bad_param(name: &str) -> AppError {
    AppError::bad_request("invalid_parameter", format!("`{name}` has an invalid value"))
        .with_details(serde_json::json!({ "field": name }))
}

/// Who searches for what.
pub struct Asker<'a> {
    pub user: u64,
    /// The query text, trimmed (may be empty: newest-first kinds then list by filter).
    pub text: &'a str,
    pub params: &'a Params,
}

/// The result of re-checking one hit: the JSON item to return, or `None` to drop it.
pub type Checked = Option<Value>;

/// One kind of search result, supplied by a feature.
pub struct SearchKind {
    /// The `kind` of its documents and of the returned items ("person", "message").
    pub kind: &'static str,
    pub order: Order,
    /// Query parameters only this kind understands (besides q/kinds/limit/cursor). When a
    /// request names one of them and no `kinds`, only the kinds that understand it run.
    pub params: &'static [&'static str],
    /// What `asker` may find, as a filter for the index; `None` when nothing can match (no
    /// text for a relevance kind, no conversations). An error (a foreign `conversation_id`:
    /// 404) fails the request.
    pub scope: fn(&redb::ReadTransaction, &Asker) -> AppResult<Option<Filter>>,
    /// Re-read every hit from redb (existence, permission now); one answer per hit, in order.
    /// The JSON item must carry at least `kind`, `key`, `id`, `title`, `snippet`, `at`.
    pub recheck: fn(&redb::ReadTransaction, &Asker, Vec<Hit>) -> AppResult<Vec<Checked>>,
    /// Every document of this kind, streamed from one snapshot (index rebuilds).
    pub documents: fn(&redb::ReadTransaction, &mut super::Sink) -> AppResult<()>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_parse_or_name_the_culprit() {
        let p = Params(
            [("a", " 12 "), ("b", "x"), ("c", ""), ("t", "file, image,,")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        );
        assert_eq!(p.u64("a").ok().flatten(), Some(12));
        assert_eq!(p.u64("c").ok().flatten(), None);
        assert_eq!(p.u64("missing").ok().flatten(), None);
        let e = p.u64("b").err().map(|e| e.code);
        assert_eq!(e, Some("invalid_parameter"));
        assert_eq!(p.list("t"), ["file", "image"]);
    }
}
