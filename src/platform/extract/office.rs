//! docx and pptx: zip containers of XML. Reading is bounded three ways: entries in the archive,
//! total bytes unzipped (counted while inflating, so a zip that lies about its sizes is caught
//! too) and XML nesting depth. quick-xml expands no DTD entities, so "billion laughs" files
//! cannot grow in memory.

use super::sink::Sink;
use super::{ExtractError, Extracted, Limits};
use quick_xml::events::Event;
use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::Path;
use zip::ZipArchive;

pub(super) fn docx(path: &Path, limits: &Limits) -> Result<Extracted, ExtractError> {
    let mut zip = open(File::open(path)?, limits)?;
    let mut budget = Budget::new(limits.max_unzipped);
    let mut sink = Sink::new(limits.max_output);
    sink.section(None);
    read_part(&mut zip, "word/document.xml", &mut budget, limits, &mut sink)?;
    Ok(sink.finish())
}

/// One untitled section per slide, in the numeric order of `ppt/slides/slideN.xml`.
pub(super) fn pptx(path: &Path, limits: &Limits) -> Result<Extracted, ExtractError> {
    let mut zip = open(File::open(path)?, limits)?;
    let mut slides: Vec<(u32, String)> =
        zip.file_names().filter_map(|n| Some((slide_number(n)?, n.to_string()))).collect();
    if slides.is_empty() {
        return Err(ExtractError::Failed("not a PowerPoint presentation (no slides)".into()));
    }
    slides.sort();
    let mut budget = Budget::new(limits.max_unzipped);
    let mut sink = Sink::new(limits.max_output);
    for (_, name) in slides {
        if !sink.section(None) {
            break;
        }
        read_part(&mut zip, &name, &mut budget, limits, &mut sink)?;
    }
    Ok(sink.finish())
}

/// `ppt/slides/slide12.xml` → 12 (not the `_rels` files next to them).
fn slide_number(name: &str) -> Option<u32> {
    name.strip_prefix("ppt/slides/slide")?.strip_suffix(".xml")?.parse().ok()
}

/// Opens a zip container, refusing archives with too many entries.
pub(super) fn open<R: Read + Seek>(reader: R, limits: &Limits) -> Result<ZipArchive<R>, ExtractError> {
    let zip = ZipArchive::new(reader).map_err(|e| ExtractError::Failed(format!("not a valid Office file: {e}")))?;
    if zip.len() > limits.max_entries {
        return Err(ExtractError::TooLarge(format!("{} zip entries, the limit is {}", zip.len(), limits.max_entries)));
    }
    Ok(zip)
}

/// Unzipped bytes still allowed across all parts of one file.
pub(super) struct Budget {
    left: u64,
    limit: u64,
    exceeded: bool,
}

impl Budget {
    pub fn new(limit: u64) -> Budget {
        Budget { left: limit, limit, exceeded: false }
    }
    pub fn exceeded(&self) -> bool {
        self.exceeded
    }
    pub fn error(&self) -> ExtractError {
        ExtractError::TooLarge(format!("unpacks to more than {} bytes", self.limit))
    }
}

/// A reader that fails once the budget is spent, whatever the zip headers claim.
pub(super) struct Capped<'b, R> {
    inner: R,
    budget: &'b mut Budget,
}

impl<'b, R> Capped<'b, R> {
    pub fn new(inner: R, budget: &'b mut Budget) -> Self {
        Capped { inner, budget }
    }
}

impl<R: Read> Read for Capped<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // Ask for one byte beyond the budget so "exactly the budget" is not an error.
        let want = buf.len().min(usize::try_from(self.budget.left.saturating_add(1)).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n as u64 > self.budget.left {
            self.budget.exceeded = true;
            return Err(std::io::Error::other("unzip budget exceeded"));
        }
        self.budget.left -= n as u64;
        Ok(n)
    }
}

/// Streams one XML part of the archive into the sink.
fn read_part<R: Read + Seek>(
    zip: &mut ZipArchive<R>,
    name: &str,
    budget: &mut Budget,
    limits: &Limits,
    sink: &mut Sink,
) -> Result<(), ExtractError> {
    let entry = zip.by_name(name).map_err(|e| ExtractError::Failed(format!("{name}: {e}")))?;
    if entry.size() > budget.left {
        return Err(budget.error());
    }
    let result = ooxml_text(BufReader::new(Capped::new(entry, budget)), limits.max_xml_depth, sink);
    if budget.exceeded {
        return Err(budget.error());
    }
    result.map_err(|e| ExtractError::Failed(format!("{name}: {e}")))
}

/// Text of a WordprocessingML or DrawingML part: the content of `t` elements; a paragraph (`p`)
/// ends with a newline, `br`/`cr` are newlines, `tab` inside a run (`r`) is a tab (outside runs
/// it is a tab stop definition). Local names, so any namespace prefix works. Stops early once
/// the sink is full.
fn ooxml_text(input: impl std::io::BufRead, max_depth: usize, sink: &mut Sink) -> Result<(), String> {
    let mut reader = quick_xml::Reader::from_reader(input);
    let mut buf = Vec::new();
    let (mut depth, mut in_t, mut in_r) = (0usize, 0usize, 0usize);
    loop {
        let room = match reader.read_event_into(&mut buf).map_err(|e| e.to_string())? {
            Event::Start(e) => {
                depth += 1;
                if depth > max_depth {
                    return Err(format!("XML nested deeper than {max_depth} levels"));
                }
                match e.local_name().as_ref() {
                    b"t" => in_t += 1,
                    b"r" => in_r += 1,
                    _ => {}
                }
                on_tag(e.local_name().as_ref(), in_r, sink)
            }
            Event::Empty(e) => on_tag(e.local_name().as_ref(), in_r, sink),
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                match e.local_name().as_ref() {
                    b"t" => {
                        in_t = in_t.saturating_sub(1);
                        true
                    }
                    b"r" => {
                        in_r = in_r.saturating_sub(1);
                        true
                    }
                    b"p" => sink.push_char('\n'),
                    _ => true,
                }
            }
            Event::Text(e) if in_t > 0 => sink.push(&e.unescape().map_err(|e| e.to_string())?),
            Event::CData(e) if in_t > 0 => sink.push(&String::from_utf8_lossy(&e)),
            Event::Eof => return Ok(()),
            _ => true,
        };
        if !room {
            return Ok(());
        }
        buf.clear();
    }
}

/// Line breaks and in-run tabs, from start or empty tags. Returns whether the sink has room.
fn on_tag(name: &[u8], in_r: usize, sink: &mut Sink) -> bool {
    match name {
        b"br" | b"cr" => sink.push_char('\n'),
        b"tab" if in_r > 0 => sink.push_char('\t'),
        _ => !sink.is_full(),
    }
}
