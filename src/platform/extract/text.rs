//! Text files: only the first bytes are read (enough for the output cap), then decoded as the
//! BOM says, else as UTF-8 when valid, else as GB18030 (a superset of GBK/GB2312, what Chinese
//! Windows editors save as "ANSI"), else as UTF-8 with replacement characters.

use super::sink::Sink;
use super::{ExtractError, Extracted, Limits};
use encoding_rs::{CoderResult, DecoderResult, Encoding, GB18030, UTF_8};
use std::io::Read;
use std::path::Path;

pub(super) fn extract_file(path: &Path, limits: &Limits) -> Result<Extracted, ExtractError> {
    extract_reader(std::fs::File::open(path)?, limits)
}

pub(super) fn extract_reader(reader: impl Read, limits: &Limits) -> Result<Extracted, ExtractError> {
    // Twice the output cap in input bytes fills the cap in every encoding (UTF-16 ASCII halves
    // in UTF-8); one more byte tells whether there was more.
    let want = limits.max_output.saturating_mul(2).min(usize::try_from(limits.max_input).unwrap_or(usize::MAX));
    let mut bytes = Vec::with_capacity(want.min(64 << 10) + 1);
    reader.take(want as u64 + 1).read_to_end(&mut bytes)?;
    let more = bytes.len() > want;
    bytes.truncate(want);
    let mut sink = Sink::new(limits.max_output);
    sink.push(&decode(&bytes, !more));
    if more {
        sink.set_truncated();
    }
    Ok(sink.finish())
}

/// Decodes `bytes`; `complete` is false when they are a prefix of the file, so a character cut
/// at the end is not a reason to reject an encoding.
pub(super) fn decode(bytes: &[u8], complete: bool) -> String {
    if let Some((enc, bom)) = Encoding::for_bom(bytes) {
        return decode_with(enc, &bytes[bom..], complete).unwrap_or_else(|| lossy(enc, &bytes[bom..]));
    }
    decode_with(UTF_8, bytes, complete)
        .or_else(|| decode_with(GB18030, bytes, complete))
        .unwrap_or_else(|| lossy(UTF_8, bytes))
}

/// Strict decoding: None at the first malformed sequence.
fn decode_with(enc: &'static Encoding, bytes: &[u8], complete: bool) -> Option<String> {
    let mut decoder = enc.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(decoder.max_utf8_buffer_length_without_replacement(bytes.len())?);
    let (result, _read) = decoder.decode_to_string_without_replacement(bytes, &mut out, complete);
    match result {
        DecoderResult::InputEmpty => Some(out),
        DecoderResult::OutputFull | DecoderResult::Malformed(..) => None,
    }
}

fn lossy(enc: &'static Encoding, bytes: &[u8]) -> String {
    let mut decoder = enc.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(decoder.max_utf8_buffer_length(bytes.len()).unwrap_or(bytes.len() * 3));
    let (result, _, _) = decoder.decode_to_string(bytes, &mut out, true);
    debug_assert_eq!(result, CoderResult::InputEmpty);
    out
}
