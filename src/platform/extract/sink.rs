//! Collects sections under the output cap. Parsers push text and stop as soon as `push` says the
//! sink is full, so a huge document costs no more than the cap.

use super::{Extracted, Section};

/// Bytes charged for each further section on top of its text, so a file of many empty slides or
/// sheets also runs into the cap.
const SECTION_COST: usize = 16;

pub(super) struct Sink {
    sections: Vec<Section>,
    used: usize,
    max: usize,
    truncated: bool,
}

impl Sink {
    pub fn new(max: usize) -> Sink {
        Sink { sections: Vec::new(), used: 0, max, truncated: false }
    }

    /// Starts a section; false when the cap is reached (nothing was added).
    pub fn section(&mut self, title: Option<String>) -> bool {
        let overhead = if self.sections.is_empty() { 0 } else { SECTION_COST };
        let cost = overhead + title.as_ref().map_or(0, String::len);
        if self.is_full() || self.used + cost > self.max {
            self.truncated = true;
            return false;
        }
        self.used += cost;
        self.sections.push(Section { title: title.map(|t| clean(&t)), text: String::new() });
        true
    }

    /// Appends to the current section (starting an untitled one if needed), dropping control
    /// characters other than newline and tab. Returns false once the cap is reached.
    pub fn push(&mut self, text: &str) -> bool {
        if self.sections.is_empty() && !self.section(None) {
            return false;
        }
        if self.is_full() {
            return false;
        }
        let Some(current) = self.sections.last_mut() else { return false };
        for c in text.chars() {
            if c.is_control() && c != '\n' && c != '\t' {
                continue;
            }
            if self.used + c.len_utf8() > self.max {
                self.truncated = true;
                break;
            }
            current.text.push(c);
            self.used += c.len_utf8();
        }
        !self.is_full()
    }

    pub fn push_char(&mut self, c: char) -> bool {
        self.push(c.encode_utf8(&mut [0; 4]))
    }

    /// Marks the result as cut short for reasons outside the sink (e.g. unread input).
    pub fn set_truncated(&mut self) {
        self.truncated = true;
    }

    pub fn is_full(&self) -> bool {
        self.truncated
    }

    pub fn finish(self) -> Extracted {
        Extracted { sections: self.sections, truncated: self.truncated }
    }
}

fn clean(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}
