//! The tantivy schema, the tokenizers and the version file of the search index.
//!
//! Fields: `key` (raw, stored: "person:123"), `kind` (raw, stored), `title` and `body` (jieba
//! words, lower-cased, stored), `ngram` (1- and 2-grams of every word of title + body, for
//! partial words and short names: 张三 is found by 张 and by 三), `pinyin` (whitespace tokens,
//! lower-cased: full pinyin and initials supplied by the feature), `at` (i64, fast + stored: date
//! ranges), `tags` (raw, multi-valued, indexed only: filters such as "conv:12", chosen by the
//! feature) and `sort` (u64, fast + stored: the order of newest-first listings and their cursor).
//!
//! Bump [`INDEX_SCHEMA`] whenever fields, options or tokenizers change: an index written with
//! another number is deleted and rebuilt from redb at the next start.

use super::jieba::JiebaWords;
use super::SearchDoc;
use crate::error::{AppError, AppResult};
use std::path::Path;
use tantivy::schema::{Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, STORED, STRING};
use tantivy::tokenizer::{
    LowerCaser, RemoveLongFilter, TextAnalyzer, Token, TokenStream, Tokenizer, WhitespaceTokenizer,
};
use tantivy::{Index, TantivyDocument};

/// Version of the fields and tokenizers below (stored in `index/officebox-index.json`).
/// 2: `tags` and `sort` (filters and newest-first listings for messages).
pub const INDEX_SCHEMA: u32 = 2;
pub const VERSION_FILE: &str = "officebox-index.json";

pub const JIEBA: &str = "jieba";
pub const NGRAM: &str = "ob_ngram";
pub const PINYIN: &str = "ob_pinyin";

/// Longest token kept (bytes); longer ones are noise (hashes, base64) and bloat the dictionary.
pub(super) const MAX_TOKEN_BYTES: usize = 64;
/// Text limits per document: titles and bodies are cut (at a char boundary) before indexing, and
/// only the head of the body feeds the ngram field, which costs two terms per character.
pub const MAX_TITLE_BYTES: usize = 1024;
pub const MAX_BODY_BYTES: usize = 64 * 1024;
const MAX_NGRAM_BYTES: usize = 4096;
/// Tags per document; a feature needs a handful (conversation, sender, type).
const MAX_TAGS: usize = 32;

#[derive(Clone, Copy, Debug)]
pub struct Fields {
    pub key: Field,
    pub kind: Field,
    pub title: Field,
    pub body: Field,
    pub ngram: Field,
    pub pinyin: Field,
    pub at: Field,
    pub tags: Field,
    pub sort: Field,
}

fn text(tokenizer: &str, positions: bool, stored: bool) -> TextOptions {
    let option = if positions { IndexRecordOption::WithFreqsAndPositions } else { IndexRecordOption::WithFreqs };
    let opts = TextOptions::default()
        .set_indexing_options(TextFieldIndexing::default().set_tokenizer(tokenizer).set_index_option(option));
    if stored {
        opts.set_stored()
    } else {
        opts
    }
}

pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let fields = Fields {
        key: b.add_text_field("key", STRING | STORED),
        kind: b.add_text_field("kind", STRING | STORED),
        title: b.add_text_field("title", text(JIEBA, true, true)),
        body: b.add_text_field("body", text(JIEBA, true, true)),
        ngram: b.add_text_field("ngram", text(NGRAM, false, false)),
        pinyin: b.add_text_field("pinyin", text(PINYIN, false, false)),
        at: b.add_i64_field("at", FAST | STORED),
        tags: b.add_text_field("tags", STRING),
        sort: b.add_u64_field("sort", FAST | STORED),
    };
    (b.build(), fields)
}

/// Find the fields of an opened index by name (the schema has been compared with [`build`]).
pub fn fields_of(schema: &Schema) -> AppResult<Fields> {
    let f = |name: &str| schema.get_field(name).map_err(|e| AppError::internal(format!("search schema: {e}")));
    Ok(Fields {
        key: f("key")?,
        kind: f("kind")?,
        title: f("title")?,
        body: f("body")?,
        ngram: f("ngram")?,
        pinyin: f("pinyin")?,
        at: f("at")?,
        tags: f("tags")?,
        sort: f("sort")?,
    })
}

pub fn jieba_analyzer() -> TextAnalyzer {
    TextAnalyzer::from(JiebaWords)
}

pub fn ngram_analyzer() -> TextAnalyzer {
    TextAnalyzer::from(WordNgrams)
}

pub fn pinyin_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(WhitespaceTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .build()
}

/// Load jieba's dictionary now (it loads lazily, on the first text, which takes a moment).
pub fn warm_up() {
    super::jieba::load();
}

/// Every index we open or create gets our tokenizers before any reader or writer exists.
pub fn register_tokenizers(index: &Index) {
    let m = index.tokenizers();
    m.register(JIEBA, jieba_analyzer());
    m.register(NGRAM, ngram_analyzer());
    m.register(PINYIN, pinyin_analyzer());
}

/// `s` cut to at most `max` bytes at a char boundary.
pub fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

pub fn to_document(f: &Fields, d: &SearchDoc) -> TantivyDocument {
    let title = cut(&d.title, MAX_TITLE_BYTES);
    let body = cut(&d.body, MAX_BODY_BYTES);
    let mut doc = TantivyDocument::new();
    doc.add_text(f.key, &d.key);
    doc.add_text(f.kind, &d.kind);
    doc.add_text(f.title, title);
    doc.add_text(f.body, body);
    doc.add_text(f.ngram, title);
    doc.add_text(f.ngram, cut(body, MAX_NGRAM_BYTES));
    for p in d.pinyin.iter().filter(|p| !p.trim().is_empty()).take(16) {
        doc.add_text(f.pinyin, p);
    }
    doc.add_i64(f.at, d.at);
    for t in d.tags.iter().filter(|t| !t.is_empty() && t.len() <= MAX_TOKEN_BYTES).take(MAX_TAGS) {
        doc.add_text(f.tags, t);
    }
    doc.add_u64(f.sort, d.sort);
    doc
}

// ---- tokenizers ----

/// A token stream over tokens computed up front.
pub struct VecTokens {
    tokens: Vec<Token>,
    next: usize,
    none: Token,
}

impl VecTokens {
    pub(super) fn new(tokens: Vec<Token>) -> Self {
        VecTokens { tokens, next: 0, none: Token::default() }
    }
}

impl TokenStream for VecTokens {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }
    fn token(&self) -> &Token {
        self.next.checked_sub(1).and_then(|i| self.tokens.get(i)).unwrap_or(&self.none)
    }
    fn token_mut(&mut self) -> &mut Token {
        match self.next.checked_sub(1) {
            Some(i) if i < self.tokens.len() => &mut self.tokens[i],
            _ => &mut self.none,
        }
    }
}

pub(super) fn token(text: String, from: usize, to: usize, position: usize) -> Token {
    Token { offset_from: from, offset_to: to, position, text, position_length: 1 }
}

/// 1- and 2-grams of the characters of every word (a run of alphanumeric characters),
/// lower-cased. Never spans two words.
#[derive(Clone, Copy, Default)]
pub struct WordNgrams;

impl Tokenizer for WordNgrams {
    type TokenStream<'a> = VecTokens;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokens {
        let mut out = Vec::new();
        for (start, word) in words(text) {
            let chars: Vec<(usize, char)> = word.char_indices().collect();
            for (i, &(at, c)) in chars.iter().enumerate() {
                let end = at + c.len_utf8();
                let n = out.len();
                out.push(token(c.to_lowercase().collect(), start + at, start + end, n));
                if let Some(&(_, c2)) = chars.get(i + 1) {
                    let end2 = end + c2.len_utf8();
                    let text: String = c.to_lowercase().chain(c2.to_lowercase()).collect();
                    out.push(token(text, start + at, start + end2, n + 1));
                }
            }
        }
        VecTokens::new(out)
    }
}

/// The words of `text` (runs of alphanumeric characters) with their byte offsets.
pub fn words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut rest = text.char_indices().peekable();
    std::iter::from_fn(move || {
        while rest.peek().is_some_and(|(_, c)| !c.is_alphanumeric()) {
            rest.next();
        }
        let (start, _) = *rest.peek()?;
        let mut end = start;
        while let Some(&(i, c)) = rest.peek() {
            if !c.is_alphanumeric() {
                break;
            }
            end = i + c.len_utf8();
            rest.next();
        }
        Some((start, &text[start..end]))
    })
}

/// The grams a query word must all match in the ngram field: its bigrams, or itself when it is
/// a single character.
pub fn query_grams(word: &str) -> Vec<String> {
    let chars: Vec<String> = word.chars().map(|c| c.to_lowercase().collect()).collect();
    if chars.len() <= 1 {
        return chars;
    }
    let mut grams: Vec<String> = chars.windows(2).map(|w| w.concat()).collect();
    grams.sort();
    grams.dedup();
    grams
}

// ---- version file ----

#[derive(serde::Serialize, serde::Deserialize)]
struct Version {
    schema: u32,
}

/// The schema number written next to the index, if the file exists and parses.
pub fn read_version(dir: &Path) -> Option<u32> {
    let bytes = std::fs::read(dir.join(VERSION_FILE)).ok()?;
    serde_json::from_slice::<Version>(&bytes).ok().map(|v| v.schema)
}

pub fn write_version(dir: &Path) -> AppResult<()> {
    use std::io::Write;
    let tmp = dir.join(format!("{VERSION_FILE}.tmp"));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(&serde_json::to_vec(&Version { schema: INDEX_SCHEMA })?)?;
    f.sync_all()?;
    std::fs::rename(&tmp, dir.join(VERSION_FILE))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(mut a: TextAnalyzer, s: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut ts = a.token_stream(s);
        while let Some(t) = ts.next() {
            assert_eq!(&s[t.offset_from..t.offset_to].to_lowercase(), &t.text, "offsets of {t:?}");
            out.push(t.text.clone());
        }
        out
    }

    #[test]
    fn ngrams_stay_inside_words() {
        assert_eq!(texts(ngram_analyzer(), "张三 Li"), ["张", "张三", "三", "l", "li", "i"]);
        assert!(texts(ngram_analyzer(), " ,. ").is_empty());
        assert_eq!(query_grams("张三丰"), ["三丰", "张三"]);
        assert_eq!(query_grams("张"), ["张"]);
    }

    #[test]
    fn jieba_words_drop_punctuation_and_lowercase() {
        let t = texts(jieba_analyzer(), "<script>研发部 Manager</script>");
        assert!(t.contains(&"研发部".to_owned()) || t.contains(&"研发".to_owned()), "{t:?}");
        assert!(t.contains(&"manager".to_owned()), "{t:?}");
        assert!(t.iter().all(|w| w.chars().any(char::is_alphanumeric)), "{t:?}");
    }

    #[test]
    fn pinyin_is_lowercased_whitespace_tokens() {
        assert_eq!(texts(pinyin_analyzer(), "ZhangSan zs"), ["zhangsan", "zs"]);
    }

    #[test]
    fn cut_respects_char_boundaries() {
        assert_eq!(cut("张三", 4), "张");
        assert_eq!(cut("ab", 4), "ab");
    }
}
