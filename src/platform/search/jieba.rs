//! The Chinese word tokenizer: jieba's search mode over one process-wide dictionary.
//!
//! Why not `tantivy-jieba`: its global instance loads jieba-rs's embedded dictionary, which is
//! decompressed into a string that is never freed (~5 MB resident for the life of the process,
//! on top of the parsed dictionary), and its custom-instance mode clones the whole dictionary
//! with every tokenizer clone (tantivy clones tokenizers per segment writer and per query). Here
//! the dictionary (`assets/jieba/dict.txt.zst`) is parsed from a zstd stream once, and every
//! tokenizer borrows that one instance.

use super::schema::{token, VecTokens, MAX_TOKEN_BYTES};
use jieba_rs::{Jieba, TokenizeMode};
use std::io::BufReader;
use std::sync::LazyLock;
use tantivy::tokenizer::Tokenizer;

static DICT_ZSTD: &[u8] = include_bytes!("../../../assets/jieba/dict.txt.zst");

static JIEBA: LazyLock<Jieba> = LazyLock::new(|| {
    // The dictionary is compiled in and checked by a unit test, so failing here is a build
    // defect, not something input can cause.
    let decoder = zstd::stream::read::Decoder::with_buffer(BufReader::new(DICT_ZSTD))
        .expect("the embedded jieba dictionary is valid zstd");
    Jieba::with_dict(&mut BufReader::new(decoder)).expect("the embedded jieba dictionary parses")
});

/// Parse the dictionary now rather than on the first text (it takes a moment).
pub fn load() {
    LazyLock::force(&JIEBA);
}

/// jieba (search mode) words, lower-cased, without whitespace and punctuation tokens, with
/// sequential positions (jieba's search mode emits overlapping words).
#[derive(Clone, Copy, Default)]
pub struct JiebaWords;

impl Tokenizer for JiebaWords {
    type TokenStream<'a> = VecTokens;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokens {
        let mut out = Vec::new();
        for t in JIEBA.tokenize(text, TokenizeMode::Search, true) {
            if t.word.len() <= MAX_TOKEN_BYTES && t.word.chars().any(char::is_alphanumeric) {
                // jieba's words are slices of `text`, so the offset is the distance between them.
                let from = t.word.as_ptr() as usize - text.as_ptr() as usize;
                let n = out.len();
                out.push(token(t.word.to_lowercase(), from, from + t.word.len(), n));
            }
        }
        VecTokens::new(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_dictionary_loads_and_segments_chinese() {
        assert!(JIEBA.has_word("我们"));
        let words: Vec<String> = JIEBA
            .tokenize("我们中出了一个叛徒", TokenizeMode::Default, false)
            .iter()
            .map(|t| t.word.to_owned())
            .collect();
        assert_eq!(words, ["我们", "中", "出", "了", "一个", "叛徒"]);
    }
}
