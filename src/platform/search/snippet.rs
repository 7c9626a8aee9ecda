//! Highlighted snippets: HTML in which everything is escaped and only `<b>…</b>` marks the
//! matches. We render them ourselves (tantivy's `Snippet::to_html` would do, but owning the
//! escaping keeps the "nothing but <b>" promise in one visible place).

use super::schema;
use std::collections::BTreeMap;
use std::ops::Range;
use tantivy::schema::Field;
use tantivy::snippet::{Snippet, SnippetGenerator};
use tantivy::tokenizer::TextAnalyzer;

/// Longest snippet fragment (bytes).
pub const SNIPPET_BYTES: usize = 240;

/// Two generators for one query: its jieba words, and the grams of its non-ASCII words (for
/// ASCII words, bigram highlights would be noise). The better of the two wins per text.
pub struct Snippets {
    words: SnippetGenerator,
    grams: SnippetGenerator,
}

impl Snippets {
    pub fn new(words: &[String], grams: &[String], title: Field, ngram: Field) -> Snippets {
        let gen = |terms: &[String], analyzer: TextAnalyzer, field| {
            let terms: BTreeMap<String, f32> = terms.iter().map(|t| (t.clone(), 1.0)).collect();
            SnippetGenerator::new(terms, analyzer, field, SNIPPET_BYTES)
        };
        Snippets {
            words: gen(words, schema::jieba_analyzer(), title),
            grams: gen(grams, schema::ngram_analyzer(), ngram),
        }
    }

    /// The better of the two snippets (more highlighted bytes), rendered; plain escaped text
    /// when nothing is highlighted.
    pub fn html(&self, text: &str) -> String {
        let weight = |s: &Snippet| s.highlighted().iter().map(|r| r.len()).sum::<usize>();
        let (a, b) = (self.words.snippet(text), self.grams.snippet(text));
        let best = if weight(&b) > weight(&a) { b } else { a };
        if best.highlighted().is_empty() {
            return escape(schema::cut(text, SNIPPET_BYTES));
        }
        // A fragment ends at its last token; show a short text whole (ranges are relative to
        // the fragment, which then starts at 0).
        if text.len() <= SNIPPET_BYTES && text.starts_with(best.fragment()) {
            return render(text, best.highlighted());
        }
        render(best.fragment(), best.highlighted())
    }
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
    use super::*;

    #[test]
    fn render_merges_and_ignores_bad_ranges() {
        assert_eq!(render("a<b>c", &[0..1, 1..2, 9..12]), "<b>a&lt;</b>b&gt;c");
        assert_eq!(render("张三", &[1..2, 3..6]), "张<b>三</b>");
        assert_eq!(render("", &[]), "");
    }
}
