//! Queries. A [`Request`] is text, kinds, a [`Filter`] and an [`Order`]:
//!
//! - **Relevance** (people, groups): one BooleanQuery of SHOULD clauses over the jieba words of
//!   the query (title ×3, body), the ngram field (every word's bigrams must all occur, or the
//!   single character), and pinyin (exact ×4, prefix ×2: `zhangs` finds zhangsan); BM25 order.
//! - **Newest** (messages): every word of the query must match (its bigrams in the ngram field,
//!   or all its jieba words in title or body); newest first by the `sort` fast field, without
//!   scoring, so a cursor (`sort < before`) pages stably while new documents arrive. Empty text
//!   lists everything the filter admits.
//!
//! The filter is part of the tantivy query, not applied afterwards: required tag sets (e.g. the
//! conversations of the searcher), hidden ranges (`tag` with `sort < n`), an `at` range. Filter
//! clauses score 0 so they never change the relevance order.

use super::indexer::ti;
use super::schema::{self, Fields};
use super::snippet::{Snippets, SNIPPET_BYTES};
use super::Live;
use crate::error::AppResult;
use std::ops::Bound;
use tantivy::collector::TopDocs;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, RangeQuery, RegexQuery, TermQuery, TermSetQuery,
};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{DocAddress, TantivyDocument, Term};

/// Largest `limit` the HTTP API accepts per kind.
pub const MAX_LIMIT: usize = 50;
/// Largest page one [`Request`] fetches (callers over-fetch to make up for re-check drops).
pub const MAX_FETCH: usize = 500;
const MAX_QUERY_CHARS: usize = 100;
const MAX_TERMS: usize = 16;
const MAX_WORDS: usize = 8;
const MAX_PINYIN: usize = 32;
/// Tags per required set: more than this is a caller bug (a user in 10,000 conversations).
const MAX_SET: usize = 20_000;

#[derive(Debug, Clone, serde::Serialize)]
pub struct Hit {
    pub key: String,
    pub kind: String,
    pub title: String,
    /// HTML: escaped text, matches in `<b>…</b>`, nothing else.
    pub snippet_html: String,
    pub score: f32,
    pub at: i64,
    pub sort: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// Best match first (BM25 with field boosts); needs text.
    #[default]
    Relevance,
    /// Highest `sort` first, every query word required; pages with [`Filter::sort_before`].
    Newest,
}

/// Restrictions evaluated inside the index.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Each set must be met by at least one tag of the document. An empty set matches nothing.
    pub any_of: Vec<Vec<String>>,
    /// Documents carrying `tag` whose `sort` is below the number are excluded (e.g. messages
    /// of a conversation from before the searcher joined with history hidden).
    pub hide_below: Vec<(String, u64)>,
    /// `at` from (inclusive).
    pub at_from: Option<i64>,
    /// `at` to (exclusive).
    pub at_to: Option<i64>,
    /// Only `sort < before` (the cursor of a newest-first listing).
    pub sort_before: Option<u64>,
}

#[derive(Debug, Clone, Default)]
pub struct Request {
    pub text: String,
    /// Any of these kinds; all kinds when empty.
    pub kinds: Vec<String>,
    pub filter: Filter,
    pub order: Order,
    pub limit: usize,
}

/// One query word as the newest-first mode needs it.
#[derive(Debug, Default)]
struct Word {
    grams: Vec<String>,
    jieba: Vec<String>,
}

/// What a query string turns into.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    /// jieba words of the whole query (relevance, snippets).
    words: Vec<String>,
    /// Alphanumeric runs of the query, each with its grams and jieba words.
    parts: Vec<Word>,
    pinyin: Option<String>,
}

fn jieba_words(text: &str, max: usize) -> Vec<String> {
    let mut jieba = schema::jieba_analyzer();
    let mut ts = jieba.token_stream(text);
    let mut out: Vec<String> = Vec::new();
    while let Some(t) = ts.next() {
        if !out.contains(&t.text) && out.len() < max {
            out.push(t.text.clone());
        }
    }
    out
}

impl Plan {
    pub fn new(q: &str) -> Plan {
        let q: String = q.trim().chars().take(MAX_QUERY_CHARS).collect::<String>().to_lowercase();
        let mut plan = Plan::default();
        if q.is_empty() {
            return plan;
        }
        plan.words = jieba_words(&q, MAX_TERMS);
        plan.parts = schema::words(&q)
            .take(MAX_WORDS)
            .map(|(_, w)| Word { grams: schema::query_grams(w), jieba: jieba_words(w, MAX_TERMS) })
            .collect();
        if q.chars().all(|c| c.is_ascii() && !c.is_ascii_control()) {
            let compact: String = q.chars().filter(char::is_ascii_alphanumeric).take(MAX_PINYIN).collect();
            plan.pinyin = (!compact.is_empty()).then_some(compact);
        }
        plan
    }

    fn is_empty(&self) -> bool {
        self.words.is_empty() && self.parts.is_empty() && self.pinyin.is_none()
    }

    /// Any word in title, body, grams or pinyin, scored.
    fn relevance(&self, f: &Fields) -> Option<Box<dyn Query>> {
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for w in &self.words {
            should.push((Occur::Should, boost(term(f.title, w), 3.0)));
            should.push((Occur::Should, term(f.body, w)));
        }
        for part in self.parts.iter().filter(|p| !p.grams.is_empty()) {
            should.push((Occur::Should, boost(all_of(f.ngram, &part.grams), 1.5)));
        }
        if let Some(p) = &self.pinyin {
            should.push((Occur::Should, boost(term(f.pinyin, p), 4.0)));
            // `p` is [a-z0-9]+, so it needs no regex escaping.
            if p.len() >= 2 {
                if let Ok(prefix) = RegexQuery::from_pattern(&format!("{p}.*"), f.pinyin) {
                    should.push((Occur::Should, boost(Box::new(prefix), 2.0)));
                }
            }
        }
        (!should.is_empty()).then(|| Box::new(BooleanQuery::new(should)) as Box<dyn Query>)
    }

    /// Every query word somewhere: its grams in the ngram field (which covers the head of long
    /// texts), or all its jieba words in the title or the body (the rest of long texts).
    fn every_word(&self, f: &Fields) -> Option<Box<dyn Query>> {
        let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for part in &self.parts {
            let mut either: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            if !part.grams.is_empty() {
                either.push((Occur::Should, all_of(f.ngram, &part.grams)));
            }
            if !part.jieba.is_empty() {
                either.push((Occur::Should, all_of(f.title, &part.jieba)));
                either.push((Occur::Should, all_of(f.body, &part.jieba)));
            }
            if !either.is_empty() {
                must.push((Occur::Must, Box::new(BooleanQuery::new(either))));
            }
        }
        (!must.is_empty()).then(|| Box::new(BooleanQuery::new(must)) as Box<dyn Query>)
    }

    fn snippets(&self, f: &Fields) -> Snippets {
        let grams: Vec<String> =
            self.parts.iter().filter(|p| p.grams.iter().any(|s| !s.is_ascii())).flat_map(|p| p.grams.clone()).collect();
        Snippets::new(&self.words, &grams, f.title, f.ngram)
    }
}

fn term(field: tantivy::schema::Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, text), IndexRecordOption::WithFreqs))
}

fn boost(q: Box<dyn Query>, b: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(q, b))
}

fn all_of(field: tantivy::schema::Field, texts: &[String]) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(texts.iter().map(|t| (Occur::Must, term(field, t))).collect()))
}

/// A clause that restricts without scoring.
fn restrict(q: Box<dyn Query>) -> (Occur, Box<dyn Query>) {
    (Occur::Must, Box::new(ConstScoreQuery::new(q, 0.0)))
}

/// One term: a posting list the intersection can skip through lazily. Several: a term set,
/// which reads their postings into a bitset once per segment (cheaper than seeking in a union
/// of dozens of lists for every candidate).
fn any_term(field: tantivy::schema::Field, texts: &[String]) -> Box<dyn Query> {
    match texts {
        [one] => term(field, one),
        many => Box::new(TermSetQuery::new(many.iter().map(|t| Term::from_field_text(field, t)))),
    }
}

/// The whole tantivy query, or `None` when nothing can match (no usable text, an empty set).
fn build(plan: &Plan, f: &Fields, req: &Request) -> Option<Box<dyn Query>> {
    let text = match (req.order, plan.is_empty()) {
        (Order::Relevance, true) => return None,
        (Order::Relevance, false) => plan.relevance(f)?,
        (Order::Newest, true) if !req.text.trim().is_empty() => return None,
        (Order::Newest, true) => Box::new(AllQuery),
        (Order::Newest, false) => plan.every_word(f)?,
    };
    let filter = &req.filter;
    if filter.any_of.iter().any(|set| set.is_empty() || set.len() > MAX_SET) {
        return None;
    }
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, text)];
    if !req.kinds.is_empty() {
        clauses.push(restrict(any_term(f.kind, &req.kinds)));
    }
    for set in &filter.any_of {
        clauses.push(restrict(any_term(f.tags, set)));
    }
    if filter.at_from.is_some() || filter.at_to.is_some() {
        let lo = filter.at_from.map_or(Bound::Unbounded, |v| Bound::Included(Term::from_field_i64(f.at, v)));
        let hi = filter.at_to.map_or(Bound::Unbounded, |v| Bound::Excluded(Term::from_field_i64(f.at, v)));
        clauses.push(restrict(Box::new(RangeQuery::new(lo, hi))));
    }
    if let Some(before) = filter.sort_before {
        let hi = Bound::Excluded(Term::from_field_u64(f.sort, before));
        clauses.push(restrict(Box::new(RangeQuery::new(Bound::Unbounded, hi))));
    }
    for (tag, below) in &filter.hide_below {
        let hidden: Vec<(Occur, Box<dyn Query>)> = vec![
            (Occur::Must, term(f.tags, tag)),
            (
                Occur::Must,
                Box::new(RangeQuery::new(Bound::Unbounded, Bound::Excluded(Term::from_field_u64(f.sort, *below)))),
            ),
        ];
        clauses.push((Occur::MustNot, Box::new(BooleanQuery::new(hidden))));
    }
    Some(Box::new(BooleanQuery::new(clauses)))
}

/// Run `req` against the live index.
pub(crate) fn run(live: &Live, req: &Request) -> AppResult<Vec<Hit>> {
    let plan = Plan::new(&req.text);
    let f = &live.fields;
    let Some(query) = build(&plan, f, req) else { return Ok(Vec::new()) };
    let limit = req.limit.clamp(1, MAX_FETCH);
    let searcher = live.reader.searcher();
    let top: Vec<(f32, DocAddress)> = match req.order {
        Order::Relevance => searcher.search(&query, &TopDocs::with_limit(limit).order_by_score()).map_err(ti)?,
        Order::Newest => searcher
            .search(&query, &TopDocs::with_limit(limit).order_by_fast_field::<u64>("sort", tantivy::Order::Desc))
            .map_err(ti)?
            .into_iter()
            .map(|(_, addr)| (0.0, addr))
            .collect(),
    };
    let snippets = plan.snippets(f);
    let mut hits = Vec::with_capacity(top.len());
    for (score, addr) in top {
        let doc: TantivyDocument = searcher.doc(addr).map_err(ti)?;
        let get = |field| doc.get_first(field).and_then(|v| v.as_str()).unwrap_or("").to_owned();
        let (title, body) = (get(f.title), get(f.body));
        let text = match (title.is_empty(), body.is_empty()) {
            (_, true) => title.clone(),
            (true, false) => body,
            (false, false) => format!("{title} · {body}"),
        };
        let snippet_html = if plan.is_empty() {
            super::snippet::escape(schema::cut(&text, SNIPPET_BYTES))
        } else {
            snippets.html(&text)
        };
        hits.push(Hit {
            key: get(f.key),
            kind: get(f.kind),
            snippet_html,
            title,
            score,
            at: doc.get_first(f.at).and_then(|v| v.as_i64()).unwrap_or(0),
            sort: doc.get_first(f.sort).and_then(|v| v.as_u64()).unwrap_or(0),
        });
    }
    Ok(hits)
}

#[cfg(test)]
mod tests;
