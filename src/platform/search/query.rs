//! Queries: one BooleanQuery of SHOULD clauses over the jieba words of the query (title ×3,
//! body), the ngram field (every word's bigrams must all occur, or the single character), and
//! pinyin (exact ×4, prefix ×2: `zhangs` finds zhangsan). Results carry an HTML snippet in
//! which everything is escaped and only `<b>` marks the matches.

use super::indexer::ti;
use super::schema::{self, Fields};
use super::Live;
use crate::error::AppResult;
use std::collections::BTreeMap;
use std::ops::Range;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, RegexQuery, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::snippet::{Snippet, SnippetGenerator};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{TantivyDocument, Term};

pub const MAX_LIMIT: usize = 50;
const MAX_QUERY_CHARS: usize = 100;
const MAX_TERMS: usize = 16;
const MAX_WORDS: usize = 8;
const MAX_PINYIN: usize = 32;
const SNIPPET_BYTES: usize = 240;

#[derive(Debug, Clone, serde::Serialize)]
pub struct Hit {
    pub key: String,
    pub kind: String,
    pub title: String,
    /// HTML: escaped text, matches in `<b>…</b>`, nothing else.
    pub snippet_html: String,
    pub score: f32,
}

/// What a query string turns into.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    words: Vec<String>,
    grams: Vec<Vec<String>>,
    pinyin: Option<String>,
}

impl Plan {
    pub fn new(q: &str) -> Plan {
        let q: String = q.trim().chars().take(MAX_QUERY_CHARS).collect::<String>().to_lowercase();
        let mut plan = Plan::default();
        if q.is_empty() {
            return plan;
        }
        let mut jieba = schema::jieba_analyzer();
        let mut ts = jieba.token_stream(&q);
        while let Some(t) = ts.next() {
            if !plan.words.contains(&t.text) && plan.words.len() < MAX_TERMS {
                plan.words.push(t.text.clone());
            }
        }
        plan.grams = schema::words(&q).take(MAX_WORDS).map(|(_, w)| schema::query_grams(w)).collect();
        if q.chars().all(|c| c.is_ascii() && !c.is_ascii_control()) {
            let compact: String = q.chars().filter(char::is_ascii_alphanumeric).take(MAX_PINYIN).collect();
            plan.pinyin = (!compact.is_empty()).then_some(compact);
        }
        plan
    }

    pub fn query(&self, f: &Fields, kinds: &[&str]) -> Option<Box<dyn Query>> {
        let term = |field, text: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(Term::from_field_text(field, text), IndexRecordOption::WithFreqs))
        };
        let boost = |q: Box<dyn Query>, b: f32| -> Box<dyn Query> { Box::new(BoostQuery::new(q, b)) };
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for w in &self.words {
            should.push((Occur::Should, boost(term(f.title, w), 3.0)));
            should.push((Occur::Should, term(f.body, w)));
        }
        for grams in self.grams.iter().filter(|g| !g.is_empty()) {
            let all: Vec<(Occur, Box<dyn Query>)> = grams.iter().map(|g| (Occur::Must, term(f.ngram, g))).collect();
            should.push((Occur::Should, boost(Box::new(BooleanQuery::new(all)), 1.5)));
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
        if should.is_empty() {
            return None;
        }
        let text: Box<dyn Query> = Box::new(BooleanQuery::new(should));
        if kinds.is_empty() {
            return Some(text);
        }
        let kinds: Vec<(Occur, Box<dyn Query>)> = kinds.iter().map(|k| (Occur::Should, term(f.kind, k))).collect();
        Some(Box::new(BooleanQuery::new(vec![(Occur::Must, text), (Occur::Must, Box::new(BooleanQuery::new(kinds)))])))
    }

    /// Snippet generators: jieba words, and the grams of words that are not plain ASCII (for
    /// ASCII words, bigram highlights would be noise).
    fn snippets(&self, f: &Fields) -> (SnippetGenerator, SnippetGenerator) {
        let gen = |terms: Vec<&String>, analyzer: TextAnalyzer, field| {
            let terms: BTreeMap<String, f32> = terms.into_iter().map(|t| (t.clone(), 1.0)).collect();
            SnippetGenerator::new(terms, analyzer, field, SNIPPET_BYTES)
        };
        let grams = self.grams.iter().filter(|g| g.iter().any(|s| !s.is_ascii())).flatten().collect();
        (
            gen(self.words.iter().collect(), schema::jieba_analyzer(), f.title),
            gen(grams, schema::ngram_analyzer(), f.ngram),
        )
    }
}

/// Run `q` against the live index. Empty query -> no hits; `limit` is clamped to 1..=50.
pub(crate) fn run(live: &Live, q: &str, kinds: &[&str], limit: usize) -> AppResult<Vec<Hit>> {
    let plan = Plan::new(q);
    let Some(query) = plan.query(&live.fields, kinds) else { return Ok(Vec::new()) };
    let searcher = live.reader.searcher();
    let top = searcher.search(&query, &TopDocs::with_limit(limit.clamp(1, MAX_LIMIT)).order_by_score()).map_err(ti)?;
    let (words, grams) = plan.snippets(&live.fields);
    let f = &live.fields;
    let mut hits = Vec::with_capacity(top.len());
    for (score, addr) in top {
        let doc: TantivyDocument = searcher.doc(addr).map_err(ti)?;
        let get = |field| doc.get_first(field).and_then(|v| v.as_str()).unwrap_or("").to_owned();
        let (title, body) = (get(f.title), get(f.body));
        let text = if body.is_empty() { title.clone() } else { format!("{title} · {body}") };
        hits.push(Hit {
            key: get(f.key),
            kind: get(f.kind),
            snippet_html: snippet_html(&words, &grams, &text),
            title,
            score,
        });
    }
    Ok(hits)
}

/// The better of the two snippets (more highlighted bytes), rendered; plain escaped text when
/// nothing is highlighted.
pub(crate) fn snippet_html(words: &SnippetGenerator, grams: &SnippetGenerator, text: &str) -> String {
    let weight = |s: &Snippet| s.highlighted().iter().map(|r| r.len()).sum::<usize>();
    let (a, b) = (words.snippet(text), grams.snippet(text));
    let best = if weight(&b) > weight(&a) { b } else { a };
    if best.highlighted().is_empty() {
        return escape(schema::cut(text, SNIPPET_BYTES));
    }
    // A fragment ends at its last token; show a short text whole (ranges are relative to the
    // fragment, which then starts at 0).
    if text.len() <= SNIPPET_BYTES && text.starts_with(best.fragment()) {
        return render(text, best.highlighted());
    }
    render(best.fragment(), best.highlighted())
}

/// Escaped `text` with the `ranges` (byte offsets) wrapped in `<b>`; overlapping and adjacent
/// ranges merge; ranges that are out of bounds or not on char boundaries are ignored.
pub fn render(text: &str, ranges: &[Range<usize>]) -> String {
    let mut rs: Vec<Range<usize>> =
        ranges.iter().filter(|r| r.start < r.end && text.get(r.start..r.end).is_some()).cloned().collect();
    rs.sort_by_key(|r| (r.start, r.end));
    let mut merged: Vec<Range<usize>> = Vec::new();
    for r in rs {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut at = 0;
    for r in merged {
        out.push_str(&escape(&text[at..r.start]));
        out.push_str("<b>");
        out.push_str(&escape(&text[r.clone()]));
        out.push_str("</b>");
        at = r.end;
    }
    out.push_str(&escape(&text[at..]));
    out
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::SearchDoc;
    use super::*;
    use tantivy::{Index, IndexWriter, ReloadPolicy};

    fn live(docs: &[SearchDoc]) -> Live {
        let (schema, fields) = schema::build();
        let index = Index::create_in_ram(schema);
        schema::register_tokenizers(&index);
        let mut w: IndexWriter<TantivyDocument> = index.writer_with_num_threads(1, 15_000_000).unwrap();
        for d in docs {
            w.add_document(schema::to_document(&fields, d)).unwrap();
        }
        w.commit().unwrap();
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().unwrap();
        Live { reader, fields }
    }

    fn person(id: u64, name: &str, body: &str, pinyin: &[&str]) -> SearchDoc {
        SearchDoc {
            key: format!("person:{id}"),
            kind: "person".into(),
            title: name.into(),
            body: body.into(),
            pinyin: pinyin.iter().map(|s| s.to_string()).collect(),
            at: 0,
        }
    }

    fn keys(l: &Live, q: &str) -> Vec<String> {
        run(l, q, &["person"], 10).unwrap().into_iter().map(|h| h.key).collect()
    }

    #[test]
    fn names_pinyin_initials_and_parts() {
        let l = live(&[
            person(1, "张三", "工程师 zhangsan", &["zhangsan", "zs"]),
            person(2, "李四", "经理 lisi", &["lisi", "ls"]),
        ]);
        for q in ["张三", "zhangsan", "zs", "张", "三", "zhangs", "ZhangSan", "工程师"] {
            assert_eq!(keys(&l, q).first().map(String::as_str), Some("person:1"), "{q}");
        }
        assert_eq!(keys(&l, "李").first().map(String::as_str), Some("person:2"));
        assert!(keys(&l, "王五").is_empty());
        assert!(keys(&l, "   ").is_empty());
        assert!(run(&l, "张三", &["message"], 10).unwrap().is_empty());
    }

    #[test]
    fn snippets_escape_everything_but_b() {
        let l = live(&[person(1, "<script>x</script>张", "a&b \"q\" 'r'", &[])]);
        let hits = run(&l, "张", &[], 10).unwrap();
        assert_eq!(hits.len(), 1);
        let html = &hits[0].snippet_html;
        assert_eq!(html, "&lt;script&gt;x&lt;/script&gt;<b>张</b> · a&amp;b &quot;q&quot; &#39;r&#39;");
        let bare = html.replace("<b>", "").replace("</b>", "");
        assert!(!bare.contains(['<', '>', '"', '\'']), "{html}");
        let hits = run(&l, "script", &[], 10).unwrap();
        assert!(hits[0].snippet_html.starts_with("&lt;<b>script</b>&gt;"), "{}", hits[0].snippet_html);
    }

    #[test]
    fn render_merges_and_ignores_bad_ranges() {
        assert_eq!(render("a<b>c", &[0..1, 1..2, 9..12]), "<b>a&lt;</b>b&gt;c");
        assert_eq!(render("张三", &[1..2, 3..6]), "张<b>三</b>");
        assert_eq!(render("", &[]), "");
    }
}
