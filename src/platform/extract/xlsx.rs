//! xlsx through calamine: one section per sheet (titled with its name), cells separated by tabs,
//! rows by newlines. Cells are streamed (`worksheet_cells_reader`) rather than loaded as a
//! `Range`, which would allocate rows x columns for a sheet whose only cells are A1 and XFD1048576.

use super::office::{open, Budget, Capped};
use super::sink::Sink;
use super::{ExtractError, Extracted, Limits};
use calamine::{DataRef, Reader, Xlsx};
use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::Path;

/// Empty columns between two cells become at most this many tabs.
const MAX_GAP: u32 = 32;

pub(super) fn extract(path: &Path, limits: &Limits) -> Result<Extracted, ExtractError> {
    let mut file = BufReader::new(File::open(path)?);
    preflight(&mut file, limits)?;
    file.rewind()?;
    let mut book = Xlsx::new(file).map_err(|e| ExtractError::Failed(format!("not a valid Excel file: {e}")))?;
    let mut sink = Sink::new(limits.max_output);
    for name in book.sheet_names() {
        if !sink.section(Some(name.clone())) {
            break;
        }
        let mut cells = book.worksheet_cells_reader(&name).map_err(|e| ExtractError::Failed(format!("{name}: {e}")))?;
        let mut last: Option<(u32, u32)> = None;
        while let Some(cell) = cells.next_cell().map_err(|e| ExtractError::Failed(format!("{name}: {e}")))? {
            let text = cell_text(cell.get_value());
            if text.is_empty() {
                continue;
            }
            let (row, col) = cell.get_position();
            if !sink.push(&separator(last, row, col)) || !sink.push(&text) {
                break;
            }
            last = Some((row, col));
        }
        if sink.is_full() {
            break;
        }
    }
    Ok(sink.finish())
}

/// calamine inflates parts itself, with no limits; inflate every entry once against the budget
/// first, so a zip bomb (or a zip lying about its sizes) is refused before calamine sees it.
fn preflight<R: Read + Seek>(reader: R, limits: &Limits) -> Result<(), ExtractError> {
    let mut zip = open(reader, limits)?;
    let mut budget = Budget::new(limits.max_unzipped);
    for i in 0..zip.len() {
        let entry = zip.by_index(i).map_err(|e| ExtractError::Failed(format!("not a valid Excel file: {e}")))?;
        let copied = std::io::copy(&mut Capped::new(entry, &mut budget), &mut std::io::sink());
        if budget.exceeded() {
            return Err(budget.error());
        }
        copied.map_err(|e| ExtractError::Failed(format!("not a valid Excel file: {e}")))?;
    }
    Ok(())
}

/// What goes before a cell: a newline when the row changes, tabs for the columns in between.
fn separator(last: Option<(u32, u32)>, row: u32, col: u32) -> String {
    let (newline, from) = match last {
        Some((r, c)) if r == row => (false, c + 1),
        Some(_) => (true, 0),
        None => (false, 0),
    };
    let tabs = col.saturating_sub(from).min(MAX_GAP) + u32::from(last.is_some_and(|(r, _)| r == row));
    let mut s = String::new();
    if newline {
        s.push('\n');
    }
    s.extend(std::iter::repeat_n('\t', tabs as usize));
    s
}

fn cell_text(value: &DataRef<'_>) -> String {
    match value {
        DataRef::SharedString(s) => (*s).to_string(),
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::DateTime(d) => excel_date(d.as_f64()),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => f.to_string(),
        DataRef::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        DataRef::Error(e) => e.to_string(),
        DataRef::Empty => String::new(),
    }
}

/// Excel's 1900 date system: day 0 is 1899-12-30 (after its 1900 leap-year bug). A date without
/// a time of day prints as a date only.
fn excel_date(serial: f64) -> String {
    let base = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).and_then(|d| d.and_hms_opt(0, 0, 0));
    let secs = (serial * 86_400.0).round();
    let at = base.and_then(|b| b.checked_add_signed(chrono::Duration::try_seconds(secs as i64)?));
    match at {
        Some(t) if secs % 86_400.0 == 0.0 => t.format("%Y-%m-%d").to_string(),
        Some(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
        None => serial.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_fill_gaps_with_tabs() {
        assert_eq!(separator(None, 0, 0), "");
        assert_eq!(separator(None, 0, 2), "\t\t");
        assert_eq!(separator(Some((0, 0)), 0, 1), "\t");
        assert_eq!(separator(Some((0, 0)), 0, 3), "\t\t\t");
        assert_eq!(separator(Some((0, 3)), 1, 0), "\n");
        assert_eq!(separator(Some((0, 3)), 5, 1), "\n\t");
        assert_eq!(separator(Some((0, 0)), 0, 16_000).len(), MAX_GAP as usize + 1);
    }

    #[test]
    fn dates_print_like_a_person_wrote_them() {
        assert_eq!(excel_date(45_413.0), "2024-05-01");
        assert_eq!(excel_date(45_413.5), "2024-05-01 12:00:00");
    }
}
