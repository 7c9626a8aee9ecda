//! PDF through `pdf-extract` (lopdf underneath). Both panic on some malformed files and can
//! spin on crafted ones, which is why the server only calls this inside the child process.

use super::sink::Sink;
use super::{ExtractError, Extracted, Limits};
use std::path::Path;

pub(super) fn extract(path: &Path, limits: &Limits) -> Result<Extracted, ExtractError> {
    let bytes = std::fs::read(path)?;
    // The header may follow some junk, but only within the first KiB.
    if !contains(&bytes[..bytes.len().min(1024)], b"%PDF-") {
        return Err(ExtractError::Failed("not a PDF file".into()));
    }
    let text = pdf_extract::extract_text_from_mem(&bytes).map_err(|e| ExtractError::Failed(format!("PDF: {e}")))?;
    let mut sink = Sink::new(limits.max_output);
    sink.push(tidy(&text).as_str());
    Ok(sink.finish())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// pdf-extract separates pages with form feeds and leaves runs of blank lines; keep at most one
/// empty line in a row.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.split(['\n', '\x0c']) {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 || out.is_empty() {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}
