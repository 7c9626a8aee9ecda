//! Reading an uploaded workbook: the first sheet's header row and data rows, each cell as text,
//! number or date. The sheet XML is streamed (calamine's cell reader) and reading stops at the
//! row limit, so an oversized sheet is refused without being held in memory. Blocking: call on
//! the blocking pool.

use crate::error::{AppError, AppResult};
use calamine::{DataRef, Reader, Xlsx};
use chrono::NaiveDate;
use std::io::Read;
use std::path::Path;

/// Data rows accepted in one import.
pub const MAX_ROWS: usize = 50_000;
/// Columns read; anything to the right is ignored.
const MAX_COLUMNS: usize = 256;

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Date(NaiveDate),
}

impl Cell {
    /// The cell as trimmed text: integral numbers without `.0` (a mobile typed as a number),
    /// dates as `YYYY-MM-DD`.
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.trim().to_owned(),
            Cell::Number(n) => number_text(*n),
            Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
        }
    }

    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }
}

fn number_text(n: f64) -> String {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 1e17 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// Excel's serial day number (1900 system) to a date; the fictional 1900-02-29 is skipped the
/// way Excel does.
pub fn excel_serial_date(serial: f64) -> Option<NaiveDate> {
    if !serial.is_finite() || !(0.0..=2_958_465.0).contains(&serial) {
        return None;
    }
    let days = if serial >= 60.0 { serial } else { serial + 1.0 };
    NaiveDate::from_ymd_opt(1899, 12, 30)?.checked_add_days(chrono::Days::new(days.floor() as u64))
}

#[derive(Debug, Clone)]
pub struct HeaderCell {
    /// Index into [`Row::cells`].
    pub col: usize,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct Row {
    /// The Excel row number (1-based, as the user sees it).
    pub row: u32,
    pub cells: Vec<Cell>,
}

impl Row {
    pub fn cell(&self, col: usize) -> &Cell {
        self.cells.get(col).unwrap_or(&Cell::Empty)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Sheet {
    /// Non-empty header cells, left to right.
    pub header: Vec<HeaderCell>,
    /// The header's Excel row number.
    pub header_row: u32,
    /// Data rows that are not entirely empty, top to bottom.
    pub rows: Vec<Row>,
}

pub fn invalid_file(why: impl Into<String>) -> AppError {
    AppError::invalid("file", "invalid_file", why)
}

fn convert(v: &DataRef<'_>) -> Cell {
    match v {
        DataRef::Empty => Cell::Empty,
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) if s.trim().is_empty() => Cell::Empty,
        DataRef::String(s) => Cell::Text(s.clone()),
        DataRef::SharedString(s) if s.trim().is_empty() => Cell::Empty,
        DataRef::SharedString(s) => Cell::Text((*s).to_owned()),
        DataRef::Int(i) => Cell::Number(*i as f64),
        DataRef::Float(f) => Cell::Number(*f),
        DataRef::Bool(b) => Cell::Text(if *b { "TRUE" } else { "FALSE" }.to_owned()),
        DataRef::DateTime(d) => match excel_serial_date(d.as_f64()) {
            Some(date) => Cell::Date(date),
            None => Cell::Number(d.as_f64()),
        },
        DataRef::DateTimeIso(s) => match s.get(..10).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()) {
            Some(date) => Cell::Date(date),
            None => Cell::Text(s.clone()),
        },
        DataRef::DurationIso(s) => Cell::Text(s.clone()),
        DataRef::Error(e) => Cell::Text(format!("#{e:?}")),
    }
}

/// Read the first sheet of the .xlsx at `path`.
pub fn read_xlsx(path: &Path) -> AppResult<Sheet> {
    let mut head = [0u8; 8];
    let n = std::fs::File::open(path)?.read(&mut head)?;
    if head[..n].starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(invalid_file("This is an old .xls workbook; save it as .xlsx (Excel Workbook) and upload again"));
    }
    if !head[..n].starts_with(b"PK\x03\x04") {
        return Err(invalid_file("The file is not an Excel .xlsx workbook"));
    }
    let file = std::io::BufReader::new(std::fs::File::open(path)?);
    let mut wb: Xlsx<_> = Xlsx::new(file).map_err(|e| invalid_file(format!("The workbook cannot be read: {e}")))?;
    let first = wb.sheet_names().first().cloned().ok_or_else(|| invalid_file("The workbook has no sheets"))?;
    let mut reader =
        wb.worksheet_cells_reader(&first).map_err(|e| invalid_file(format!("The first sheet cannot be read: {e}")))?;

    let mut sheet = Sheet::default();
    let mut width = MAX_COLUMNS;
    let mut have_header = false;
    let mut cur: Option<(u32, Vec<Cell>)> = None;
    loop {
        let next = reader.next_cell().map_err(|e| invalid_file(format!("The first sheet cannot be read: {e}")))?;
        let pos = next.as_ref().map(|c| c.get_position());
        // A new row (or the end): finish the one being collected.
        if cur.as_ref().is_some_and(|(r, _)| Some(*r) != pos.map(|p| p.0)) {
            if let Some((r, cells)) = cur.take() {
                if cells.iter().any(|c| !c.is_empty()) {
                    if !have_header {
                        sheet.header = cells
                            .iter()
                            .enumerate()
                            .filter(|(_, c)| !c.is_empty())
                            .map(|(i, c)| HeaderCell { col: i, text: c.text() })
                            .collect();
                        sheet.header_row = r + 1;
                        width = sheet.header.last().map_or(0, |h| h.col + 1);
                        have_header = true;
                    } else {
                        if sheet.rows.len() >= MAX_ROWS {
                            return Err(AppError::invalid(
                                "file",
                                "too_many_rows",
                                format!("The sheet has more than {MAX_ROWS} member rows; split it into several files"),
                            ));
                        }
                        let mut cells = cells;
                        cells.truncate(width);
                        sheet.rows.push(Row { row: r + 1, cells });
                    }
                }
            }
        }
        let Some(cell) = next else { break };
        let (r, c) = cell.get_position();
        let c = c as usize;
        if c >= width.min(MAX_COLUMNS) {
            continue;
        }
        let value = convert(cell.get_value());
        let (_, cells) = cur.get_or_insert_with(|| (r, Vec::new()));
        if cells.len() <= c {
            cells.resize(c + 1, Cell::Empty);
        }
        cells[c] = value;
    }
    if !have_header {
        return Err(invalid_file("The first sheet is empty; put the header in row 1 and one member per row below it"));
    }
    Ok(sheet)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_become_plain_text() {
        assert_eq!(Cell::Number(13800000000.0).text(), "13800000000");
        assert_eq!(Cell::Number(1.5).text(), "1.5");
        assert_eq!(Cell::Text("  a ".into()).text(), "a");
    }

    #[test]
    fn excel_serial_dates() {
        assert_eq!(excel_serial_date(45352.0), NaiveDate::from_ymd_opt(2024, 3, 1));
        assert_eq!(excel_serial_date(1.0), NaiveDate::from_ymd_opt(1900, 1, 1));
        assert_eq!(excel_serial_date(61.0), NaiveDate::from_ymd_opt(1900, 3, 1));
        assert_eq!(excel_serial_date(-1.0), None);
    }
}
