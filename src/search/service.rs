//! Running a global search: which kinds, each kind's scope and query, the re-check against
//! redb, over-fetching so dropped hits do not starve a page, and the cursor.
//!
//! Answer: `{items, next_cursor}`. Items come kind by kind in registration order (people,
//! groups, ..., messages), at most `limit` per kind. Relevance kinds answer on the first page
//! only; newest-first kinds (messages) page with `next_cursor`, which names the kinds that may
//! have more and where they stopped. A request with a cursor returns only those kinds.

use crate::error::AppError;
use crate::error::AppResult;
use crate::platform::search::kinds::{bad_param, Checked};
use crate::platform::search::query::{MAX_FETCH, MAX_LIMIT};
use crate::platform::search::{Asker, Filter, Order, Params, Request, SearchKind};
use crate::platform::Platform;
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub const DEFAULT_LIMIT: usize = 20;
/// Extra hits fetched for relevance kinds, so a few re-check drops still fill the page.
const SLACK: usize = 10;
/// Newest-first rounds per request before handing the client a cursor instead: bounds the work
/// of one request even when most hits are dropped.
const MAX_ROUNDS: usize = 4;

/// Positions of newest-first kinds: `kind` -> continue below this `sort`. Encoded as
/// `kind:sort` pairs joined by commas (opaque to clients).
type Cursor = BTreeMap<String, u64>;

fn parse_cursor(raw: Option<&str>) -> AppResult<Cursor> {
    let mut out = Cursor::new();
    for part in raw.unwrap_or("").split(',').filter(|s| !s.is_empty()) {
        let (kind, sort) = part.split_once(':').ok_or_else(|| bad_param("cursor"))?;
        out.insert(kind.to_owned(), sort.parse().map_err(|_| bad_param("cursor"))?);
    }
    Ok(out)
}

fn encode_cursor(c: &Cursor) -> Option<String> {
    (!c.is_empty()).then(|| c.iter().map(|(k, s)| format!("{k}:{s}")).collect::<Vec<_>>().join(","))
}

/// The kinds to run: those of the cursor; else those named by `kinds` (or the legacy `kind`);
/// else, when a kind-specific parameter is given (`conversation_id`), the kinds that
/// understand one; else all.
fn select<'k>(all: &'k [SearchKind], params: &Params, cursor: &Cursor) -> AppResult<Vec<&'k SearchKind>> {
    let find = |name: &str| {
        all.iter().find(|k| k.kind == name).ok_or_else(|| {
            AppError::bad_request("invalid_kind", format!("`{name}` is not a kind that can be searched"))
                .with_details(json!({ "field": "kinds" }))
        })
    };
    if !cursor.is_empty() {
        // Only newest-first kinds page; anything else in a cursor was not made by us.
        let pages =
            |k: &String| find(k).ok().filter(|kind| kind.order == Order::Newest).ok_or_else(|| bad_param("cursor"));
        let named = cursor.keys().map(pages).collect::<AppResult<Vec<_>>>()?;
        return Ok(all.iter().filter(|k| named.iter().any(|n| n.kind == k.kind)).collect());
    }
    let mut named = params.list("kinds");
    named.extend(params.list("kind"));
    if !named.is_empty() {
        for n in &named {
            find(n)?;
        }
        return Ok(all.iter().filter(|k| named.contains(&k.kind)).collect());
    }
    let specific: Vec<&SearchKind> = all.iter().filter(|k| k.params.iter().any(|p| params.get(p).is_some())).collect();
    Ok(if specific.is_empty() { all.iter().collect() } else { specific })
}

pub fn run(p: &Platform, user: u64, params: &Params) -> AppResult<Value> {
    let text = params.get("q").unwrap_or("").to_owned();
    let limit = params.u64("limit")?.map_or(DEFAULT_LIMIT, |l| l.min(MAX_LIMIT as u64) as usize).max(1);
    let cursor = parse_cursor(params.get("cursor"))?;
    let kinds = select(p.search.kinds(), params, &cursor)?;
    let txn = p.store.begin_read()?;
    let asker = Asker { user, text: &text, params };
    let mut items = Vec::new();
    let mut next = Cursor::new();
    for kind in kinds {
        let Some(filter) = (kind.scope)(&txn, &asker)? else { continue };
        let ctx = Ctx { p, txn: &txn, asker: &asker, kind };
        match kind.order {
            Order::Relevance => items.extend(ctx.relevance(filter, limit)?),
            Order::Newest => {
                let (found, more) = ctx.newest(filter, cursor.get(kind.kind).copied(), limit)?;
                items.extend(found);
                if let Some(sort) = more {
                    next.insert(kind.kind.to_owned(), sort);
                }
            }
        }
    }
    Ok(json!({ "items": items, "next_cursor": encode_cursor(&next) }))
}

struct Ctx<'a> {
    p: &'a Platform,
    txn: &'a redb::ReadTransaction,
    asker: &'a Asker<'a>,
    kind: &'a SearchKind,
}

impl Ctx<'_> {
    fn request(&self, filter: Filter, order: Order, limit: usize) -> Request {
        Request { text: self.asker.text.to_owned(), kinds: vec![self.kind.kind.to_owned()], filter, order, limit }
    }

    fn relevance(&self, filter: Filter, limit: usize) -> AppResult<Vec<Value>> {
        let hits = self.p.search.query(&self.request(filter, Order::Relevance, limit + SLACK))?;
        let checked: Vec<Checked> = (self.kind.recheck)(self.txn, self.asker, hits)?;
        Ok(checked.into_iter().flatten().take(limit).collect())
    }

    /// Newest first from `before` on. Fetches twice what is missing (plus a margin), keeps
    /// what the re-check admits, and goes on below the last hit until the page is full or
    /// the index has no more. Returns the items and where to continue (None: the end).
    fn newest(&self, filter: Filter, mut before: Option<u64>, limit: usize) -> AppResult<(Vec<Value>, Option<u64>)> {
        let mut out = Vec::with_capacity(limit);
        for _ in 0..MAX_ROUNDS {
            let fetch = ((limit - out.len()) * 2 + 10).min(MAX_FETCH);
            let req = self.request(Filter { sort_before: before, ..filter.clone() }, Order::Newest, fetch);
            let hits = self.p.search.query(&req)?;
            let full = hits.len() == fetch;
            let sorts: Vec<u64> = hits.iter().map(|h| h.sort).collect();
            let checked = (self.kind.recheck)(self.txn, self.asker, hits)?;
            let n = sorts.len();
            for (i, (sort, item)) in sorts.into_iter().zip(checked).enumerate() {
                before = Some(sort);
                if let Some(v) = item {
                    out.push(v);
                    if out.len() == limit {
                        let more = i + 1 < n || full;
                        return Ok((out, more.then_some(sort)));
                    }
                }
            }
            if !full {
                return Ok((out, None));
            }
        }
        // Many hits were dropped: give what we have and let the client continue.
        Ok((out, before))
    }
}
