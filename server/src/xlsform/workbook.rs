//! Reads the cells of an uploaded workbook without trusting it. An `.xlsx` is a zip of XML
//! files: a few KiB can inflate to gigabytes, and two cells at A1 and XFD1048576 make a
//! "range" of seventeen billion cells for a reader that fills one in. So every entry is
//! inflated once, streaming, against a budget before calamine opens the archive, and sheets
//! are read cell by cell into a sparse table instead of a dense range.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use calamine::{DataRef, Reader, Xlsx};

use super::ImportError;

/// Real XLSForms are tens of KiB; pyxform's largest example is 200 KiB.
pub const MAX_WORKBOOK_BYTES: usize = 2 << 20;
/// What all entries of the archive may inflate to together.
pub const MAX_INFLATED_BYTES: u64 = 32 << 20;
/// An Excel workbook holds a dozen or two files; thousands of entries are an attack on the
/// archive reader, not a form.
const MAX_ENTRIES: usize = 500;
/// Non-empty cells read over all sheets: a form of 500 questions in 40 columns is 20 000.
pub const MAX_CELLS: usize = 100_000;
/// Shared strings and cell formats, each read into memory whole by calamine: an empty `<si/>`
/// is 5 bytes of XML and a few dozen in memory, so their number is bounded like cells'.
const MAX_ELEMENTS: u64 = 200_000;
/// Longer than any consent text.
const MAX_CELL_CHARS: usize = 10_000;

/// A cell's content as the form reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    /// Something that is no text: a formula, a date, an error value. The reason is reported
    /// only if a column the form reads holds it.
    Unreadable(&'static str),
}

/// One sheet, as rows of cells under their header: column names lowercased and trimmed.
#[derive(Debug, Default)]
pub struct Sheet {
    /// As the workbook spells it, for messages.
    pub name: String,
    /// Header names by column index.
    pub columns: BTreeMap<u32, String>,
    /// The 1-based row the headers are on: the first with anything in it.
    pub header_row: u32,
    pub rows: Vec<Row>,
}

#[derive(Debug)]
pub struct Row {
    /// 1-based, as a spreadsheet shows it.
    pub number: u32,
    /// Cells by column header.
    pub cells: BTreeMap<String, Cell>,
}

impl Row {
    /// The text under `column`, if any; an unreadable cell is an error naming why.
    pub fn text(&self, column: &str) -> Result<Option<&str>, &'static str> {
        match self.cells.get(column) {
            None => Ok(None),
            Some(Cell::Text(text)) => Ok(Some(text)),
            Some(Cell::Unreadable(why)) => Err(why),
        }
    }
}

/// The sheets of a workbook by lowercased name, each read within the limits above.
pub struct Workbook {
    pub sheets: BTreeMap<String, Sheet>,
}

impl Workbook {
    pub fn read(bytes: &[u8], wanted: &[&str]) -> Result<Workbook, ImportError> {
        if bytes.len() > MAX_WORKBOOK_BYTES {
            return Err(ImportError::TooLarge {
                what: "the workbook",
                limit: MAX_WORKBOOK_BYTES as u64,
            });
        }
        check_inflated_size(bytes)?;
        let mut xlsx = Xlsx::new(Cursor::new(bytes)).map_err(|e| not_a_workbook(&e.to_string()))?;
        let mut sheets = BTreeMap::new();
        let mut cells = 0;
        for name in xlsx.sheet_names() {
            let key = name.trim().to_lowercase();
            if !wanted.contains(&key.as_str()) || sheets.contains_key(&key) {
                continue;
            }
            let sheet = read_sheet(&mut xlsx, &name, &mut cells)?;
            sheets.insert(key, sheet);
        }
        Ok(Workbook { sheets })
    }
}

fn not_a_workbook(why: &str) -> ImportError {
    ImportError::NotWorkbook(why.chars().take(200).collect())
}

/// Inflates every entry into nothing, counting, so calamine later opens an archive whose real
/// size is known: declared sizes in a zip are whatever its author wrote.
fn check_inflated_size(bytes: &[u8]) -> Result<(), ImportError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| not_a_workbook(&format!("not a zip archive: {e}")))?;
    if archive.len() > MAX_ENTRIES {
        return Err(ImportError::TooLarge {
            what: "the number of files in the workbook",
            limit: MAX_ENTRIES as u64,
        });
    }
    let mut budget = MAX_INFLATED_BYTES;
    for index in 0..archive.len() {
        let entry = archive
            .by_index(index)
            .map_err(|e| not_a_workbook(&format!("unreadable zip entry: {e}")))?;
        let mut counter = ElementCounter::default();
        let read = std::io::copy(&mut entry.take(budget + 1), &mut counter)
            .map_err(|e| not_a_workbook(&format!("unreadable zip entry: {e}")))?;
        if counter.elements > MAX_ELEMENTS {
            return Err(ImportError::TooLarge {
                what: "the number of shared strings or cell formats",
                limit: MAX_ELEMENTS,
            });
        }
        budget = budget.checked_sub(read).ok_or(ImportError::TooLarge {
            what: "the workbook, inflated",
            limit: MAX_INFLATED_BYTES,
        })?;
    }
    Ok(())
}

/// Counts the `<si` (shared string) and `<xf` (cell format) tags going through it, which
/// calamine keeps in memory one by one, across the boundaries of the chunks it is given.
#[derive(Default)]
struct ElementCounter {
    elements: u64,
    tail: [u8; 2],
}

impl std::io::Write for ElementCounter {
    fn write(&mut self, chunk: &[u8]) -> std::io::Result<usize> {
        let mut joined = Vec::with_capacity(chunk.len() + 2);
        joined.extend_from_slice(&self.tail);
        joined.extend_from_slice(chunk);
        self.elements += joined
            .windows(3)
            .filter(|w| w[0] == b'<' && ((w[1] == b's' && w[2] == b'i') || (w[1] == b'x' && w[2] == b'f')))
            .count() as u64;
        if let [.., a, b] = joined.as_slice() {
            self.tail = [*a, *b];
        }
        Ok(chunk.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn read_sheet(xlsx: &mut Xlsx<Cursor<&[u8]>>, name: &str, cells: &mut usize) -> Result<Sheet, ImportError> {
    let mut reader = xlsx
        .worksheet_cells_reader(name)
        .map_err(|e| not_a_workbook(&e.to_string()))?;
    let mut sheet = Sheet {
        name: name.to_owned(),
        ..Sheet::default()
    };
    let mut header_row = None;
    while let Some(record) = reader
        .next_cell_with_formula_metadata()
        .map_err(|e| not_a_workbook(&e.to_string()))?
    {
        let (row, column) = record.pos;
        let cell = if record.formula.is_some() {
            Cell::Unreadable("holds a formula; paste its value instead")
        } else {
            match cell_text(&record.value) {
                Some(cell) => cell,
                None => continue,
            }
        };
        *cells += 1;
        if *cells > MAX_CELLS {
            return Err(ImportError::TooLarge {
                what: "the number of filled cells",
                limit: MAX_CELLS as u64,
            });
        }
        // The first row with anything in it names the columns.
        if header_row.is_none_or(|header| header == row) {
            header_row = Some(row);
            sheet.header_row = row.saturating_add(1);
            if let Cell::Text(header) = cell {
                sheet.columns.insert(column, header.to_lowercase());
            }
            continue;
        }
        let Some(header) = sheet.columns.get(&column) else {
            continue;
        };
        let number = row.saturating_add(1);
        if sheet.rows.last().is_none_or(|last| last.number != number) {
            sheet.rows.push(Row {
                number,
                cells: BTreeMap::new(),
            });
        }
        if let Some(last) = sheet.rows.last_mut() {
            last.cells.entry(header.clone()).or_insert(cell);
        }
    }
    Ok(sheet)
}

/// A cell as text: numbers as a person typed them ("1", not "1.0"), so choice names and
/// versions typed as numbers read as they look. `None` for a blank cell.
fn cell_text(value: &DataRef<'_>) -> Option<Cell> {
    let text = match value {
        DataRef::Empty => return None,
        DataRef::String(text) => text.trim().to_owned(),
        DataRef::SharedString(text) => text.trim().to_owned(),
        DataRef::Int(n) => n.to_string(),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        DataRef::Float(f) => f.to_string(),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(_) | DataRef::DateTimeIso(_) | DataRef::DurationIso(_) => {
            return Some(Cell::Unreadable("holds a date or time where text belongs"));
        }
        DataRef::Error(_) => return Some(Cell::Unreadable("holds an error value")),
    };
    if text.is_empty() {
        None
    } else if text.chars().count() > MAX_CELL_CHARS {
        Some(Cell::Unreadable("holds more than 10 000 characters"))
    } else {
        Some(Cell::Text(text))
    }
}
