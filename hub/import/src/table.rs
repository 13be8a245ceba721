//! Tabular files that are not CSV, turned into the records a CSV file of the same columns
//! gives (every cell as text, keyed by its header), so one mapping reads a template whether it
//! was filled in as CSV, in Excel, or as JSON: an XLSX workbook (read with calamine) and a
//! JSON array of objects keyed by the template's headers. Each table also keeps its header
//! order, which places an error in its spreadsheet column (`C`).

use serde_json::{Map, Value};
use std::io::Cursor;
use switchyard_mapping::formats::read::InputRecord;

/// A file's records and its columns in order (the header row).
#[derive(Debug, Default)]
pub struct Table {
    pub columns: Vec<String>,
    pub records: Vec<InputRecord>,
}

/// `0` → `A`, `25` → `Z`, `26` → `AA`: the spreadsheet's name for a column.
pub fn column_letter(index: usize) -> String {
    let mut n = index + 1;
    let mut out = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        out.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// The header row of a CSV file (trimmed, as the mapping's reader trims it); empty when the
/// file has none.
pub fn csv_columns(bytes: &[u8], delimiter: u8) -> Vec<String> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .from_reader(bytes)
        .headers()
        .map(|h| h.iter().map(|c| c.trim().to_owned()).collect())
        .unwrap_or_default()
}

/// The sheet to read: the one named `preferred` (any case), else the first.
fn pick_sheet(names: &[String], preferred: &str) -> Option<String> {
    names
        .iter()
        .find(|n| n.trim().eq_ignore_ascii_case(preferred))
        .or_else(|| names.first())
        .cloned()
}

/// Whether `bytes` is an XLSX workbook with a sheet named `name` (any case).
pub fn has_sheet(bytes: &[u8], name: &str) -> bool {
    use calamine::{Reader, Xlsx};
    Xlsx::new(Cursor::new(bytes)).is_ok_and(|book: Xlsx<_>| {
        book.sheet_names()
            .iter()
            .any(|n| n.trim().eq_ignore_ascii_case(name))
    })
}

/// An XLSX workbook's sheet `preferred` (or its first): the first non-empty row is the
/// header, each later row with any cell filled is a record; a record's location names the
/// sheet and the spreadsheet's own row number.
pub fn read_xlsx(bytes: &[u8], preferred: &str) -> Result<Table, String> {
    use calamine::{Data, Reader, Xlsx};
    let mut book = Xlsx::new(Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let sheet = pick_sheet(&book.sheet_names(), preferred)
        .ok_or_else(|| "the workbook has no sheet".to_owned())?;
    let range = book
        .worksheet_range(&sheet)
        .map_err(|e| format!("sheet `{sheet}`: {e}"))?;
    let Some((first_row, first_col)) = range.start() else {
        return Ok(Table::default());
    };
    let text = |cell: &Data| match cell {
        // A formula's error (#DIV/0!) is kept as Excel shows it; the mapping refuses it.
        Data::Empty => String::new(),
        other => other.to_string(),
    };
    let mut rows = range.rows().enumerate();
    let mut columns = Vec::new();
    for (_, row) in rows.by_ref() {
        if row.iter().any(|c| !text(c).trim().is_empty()) {
            columns = row.iter().map(|c| text(c).trim().to_owned()).collect();
            break;
        }
    }
    // Columns left of the used range are empty in every row: keep the letters Excel shows.
    let offset = first_col as usize;
    let mut named: Vec<String> = (0..offset).map(|_| String::new()).collect();
    named.extend(columns.iter().cloned());
    let mut records = Vec::new();
    for (i, row) in rows {
        if row.iter().all(|c| text(c).trim().is_empty()) {
            continue;
        }
        let mut m = Map::with_capacity(columns.len());
        for (h, cell) in columns.iter().zip(row) {
            if !h.is_empty() {
                m.insert(h.clone(), Value::String(text(cell)));
            }
        }
        let number = records.len() + 1;
        records.push(InputRecord {
            number,
            location: format!(
                "record {number}, sheet `{sheet}` row {}",
                first_row as usize + i + 1
            ),
            value: Value::Object(m),
            doc: None,
        });
    }
    Ok(Table {
        columns: named,
        records,
    })
}

/// A JSON array of objects keyed by the template's headers: each scalar becomes the text a
/// CSV cell would hold (`365`, `true`), a list of scalars the comma-separated cell
/// (`["gluten", "milk"]` → `gluten, milk`), null an empty cell. Columns are the keys in the
/// order they first appear.
pub fn read_json_table(bytes: &[u8]) -> Result<Table, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    let doc: Value =
        serde_json::from_str(text.trim_start_matches('\u{feff}')).map_err(|e| e.to_string())?;
    let Value::Array(items) = doc else {
        return Err("expected an array of objects, one per row".to_owned());
    };
    let mut columns: Vec<String> = Vec::new();
    let mut records = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let Value::Object(fields) = item else {
            return Err(format!("/{i}: expected an object (one row), found {item}"));
        };
        let mut m = Map::with_capacity(fields.len());
        for (k, v) in fields {
            if !columns.contains(&k) {
                columns.push(k.clone());
            }
            m.insert(k, Value::String(cell(&v)));
        }
        records.push(InputRecord {
            number: i + 1,
            location: format!("record {}, JSON /{i}", i + 1),
            value: Value::Object(m),
            doc: None,
        });
    }
    Ok(Table { columns, records })
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(", "),
        // Numbers and booleans as JSON writes them; an object as its JSON text, which no
        // template column takes, so the mapping names it.
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters_follow_the_spreadsheet() {
        let got: Vec<String> = [0, 1, 25, 26, 27, 51, 52, 701, 702]
            .into_iter()
            .map(column_letter)
            .collect();
        assert_eq!(got, ["A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"]);
    }

    #[test]
    fn a_json_table_becomes_csv_cells() {
        let t = read_json_table(
            br#"[{"product_code": "A", "shelf_life_days": 365, "allergens": ["gluten", "milk"], "x": null},
                {"tax_code": "B", "product_code": "C"}]"#,
        )
        .unwrap();
        assert_eq!(
            t.columns,
            [
                "product_code",
                "shelf_life_days",
                "allergens",
                "x",
                "tax_code"
            ]
        );
        assert_eq!(t.records[0].value["shelf_life_days"], "365");
        assert_eq!(t.records[0].value["allergens"], "gluten, milk");
        assert_eq!(t.records[0].value["x"], "");
        assert_eq!(t.records[1].location, "record 2, JSON /1");
        assert!(read_json_table(b"{}").unwrap_err().contains("array"));
        assert!(read_json_table(b"[1]").unwrap_err().starts_with("/0:"));
    }

    #[test]
    fn csv_headers_are_read_in_order() {
        assert_eq!(
            csv_columns(b"\xef\xbb\xbfa, b ,c\n1,2,3\n", b','),
            ["a", "b", "c"]
        );
    }
}
