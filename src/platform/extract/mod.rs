//! Plain text out of uploaded files, for drive previews and file search.
//!
//! Text files (txt/md/csv/code; UTF-8, UTF-16 with BOM, GB18030/GBK) are decoded in-process:
//! that is a bounded loop over bytes. PDF and the Office formats go through parsers that a hostile
//! file can drive into panics, runaway memory or endless loops, so the server runs them in a
//! child process (the same binary, hidden `__extract` subcommand, see [`isolate`]) with a wall
//! clock timeout and rlimits. Every path caps input size, output size and, for zip containers,
//! entries, unzipped bytes and XML depth.

mod kinds;
mod office;
mod pdf;
mod sink;
mod text;
mod xlsx;

pub mod isolate;

pub use isolate::{extract_isolated, Extractor, Isolation};
pub use kinds::{format_of, language_of, preview_kind};

use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;

/// What came out of a file: one section for text/docx/pdf, one per slide (pptx, untitled, in
/// slide order) or per sheet (xlsx, titled with the sheet name).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extracted {
    pub sections: Vec<Section>,
    /// The output cap cut the text short (or the text file was longer than what was read).
    pub truncated: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    pub title: Option<String>,
    pub text: String,
}

impl Extracted {
    /// All sections as one text (for the search index): titled sections start with their title
    /// line, sections are separated by a blank line.
    pub fn plain(&self) -> String {
        let mut out = String::new();
        for s in &self.sections {
            if !out.is_empty() {
                out.push_str("\n\n");
            }
            if let Some(t) = &s.title {
                out.push_str(t);
                out.push('\n');
            }
            out.push_str(s.text.trim_end());
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum ExtractError {
    #[error("this file type has no text to extract")]
    Unsupported,
    /// Input too big, or a zip container that unpacks to more than allowed (zip bomb).
    #[error("the file is too large to extract ({0})")]
    TooLarge(String),
    #[error("text extraction took too long and was stopped")]
    Timeout,
    #[error("the file could not be read: {0}")]
    Failed(String),
}

impl ExtractError {
    /// Stable snake_case code for API errors.
    pub fn code(&self) -> &'static str {
        match self {
            ExtractError::Unsupported => "preview_unsupported",
            ExtractError::TooLarge(_) => "preview_too_large",
            ExtractError::Timeout => "preview_timeout",
            ExtractError::Failed(_) => "preview_failed",
        }
    }
}

impl From<std::io::Error> for ExtractError {
    fn from(e: std::io::Error) -> Self {
        ExtractError::Failed(e.to_string())
    }
}

/// The formats with an extractor. Chosen from the name first, the MIME type second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Text,
    Pdf,
    Docx,
    Pptx,
    Xlsx,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Pdf => "pdf",
            Format::Docx => "docx",
            Format::Pptx => "pptx",
            Format::Xlsx => "xlsx",
        }
    }
    pub fn parse(s: &str) -> Option<Format> {
        [Format::Text, Format::Pdf, Format::Docx, Format::Pptx, Format::Xlsx].into_iter().find(|f| f.as_str() == s)
    }
    /// Formats whose parsers must run in the child process.
    pub fn needs_isolation(self) -> bool {
        self != Format::Text
    }
}

/// Caps for one extraction. The defaults suit a 2-core box with a few GiB of memory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Larger input files are refused (`TooLarge`) without being read.
    pub max_input: u64,
    /// Text beyond this many bytes is dropped and `truncated` set.
    pub max_output: usize,
    /// Total bytes unzipped from a docx/pptx/xlsx (zip bomb guard).
    pub max_unzipped: u64,
    /// Entries in a zip container.
    pub max_entries: usize,
    /// Element nesting in an XML part.
    pub max_xml_depth: usize,
    /// Wall time for the child process before it is killed.
    pub timeout_ms: u64,
    /// Address-space limit of the child process (RLIMIT_AS).
    pub max_memory: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input: 64 << 20,
            max_output: 1 << 20,
            max_unzipped: 128 << 20,
            max_entries: 10_000,
            max_xml_depth: 256,
            timeout_ms: 20_000,
            max_memory: 1 << 30,
        }
    }
}

impl Limits {
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
}

/// Extract in this process, whatever the format. Used by the child process, by tests, and for
/// text files; panics in a parser are caught and become `Failed`.
pub fn extract_in_process(path: &Path, format: Format, limits: &Limits) -> Result<Extracted, ExtractError> {
    check_size(path, format, limits)?;
    let run = || match format {
        Format::Text => text::extract_file(path, limits),
        Format::Pdf => pdf::extract(path, limits),
        Format::Docx => office::docx(path, limits),
        Format::Pptx => office::pptx(path, limits),
        Format::Xlsx => xlsx::extract(path, limits),
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(r) => r,
        Err(p) => Err(ExtractError::Failed(format!("the {} parser failed: {}", format.as_str(), panic_text(&p)))),
    }
}

/// Refuses inputs over `max_input`, except text files: those are only read up to what the
/// output cap needs, so a huge log file still gets a preview of its beginning.
pub(crate) fn check_size(path: &Path, format: Format, limits: &Limits) -> Result<(), ExtractError> {
    let len = std::fs::metadata(path)?.len();
    if format != Format::Text && len > limits.max_input {
        return Err(ExtractError::TooLarge(format!("{len} bytes, the limit is {}", limits.max_input)));
    }
    Ok(())
}

/// Decode text from any reader (e.g. the first bytes of a blob) in-process.
pub fn extract_text_reader(reader: impl std::io::Read, limits: &Limits) -> Result<Extracted, ExtractError> {
    text::extract_reader(reader, limits)
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_string()
    }
}

#[cfg(test)]
mod tests;
