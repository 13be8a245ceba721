//! Readers: a document (or stream) → records, each with a human-readable input location.

use super::{Format, SourceSpec};
use crate::path::{Path, Seg};
use quick_xml::events::Event;
use serde_json::{Map, Value};
use std::io::BufRead;
use std::sync::Arc;

/// One input record and where it came from (`record 3, CSV line 4`, `record 2 at /orders/1`).
#[derive(Debug, Clone, PartialEq)]
pub struct InputRecord {
    pub number: usize,
    pub location: String,
    pub value: Value,
    /// The document the record was selected from (for `$doc.` paths), when it is not the record.
    pub doc: Option<Arc<Value>>,
}

/// The input document is unreadable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct InputError {
    pub location: String,
    pub message: String,
}

fn input_err(location: impl Into<String>, message: impl Into<String>) -> InputError {
    InputError {
        location: location.into(),
        message: message.into(),
    }
}

/// Reads a whole document into records.
pub fn read_all(spec: &SourceSpec, input: &[u8]) -> Result<Vec<InputRecord>, InputError> {
    match spec.format {
        f if f.is_lines(spec.lines) => {
            let mut out = Vec::new();
            for r in JsonLines::new(input) {
                out.push(r?);
            }
            Ok(out)
        }
        Format::Json | Format::Canonical(_) => {
            let text = std::str::from_utf8(input)
                .map_err(|e| input_err("input", format!("not UTF-8: {e}")))?;
            let text = text.trim_start_matches('\u{feff}');
            let doc: Value = serde_json::from_str(text).map_err(|e| {
                input_err(
                    format!("line {}:{}", e.line(), e.column()),
                    format!("invalid JSON: {e}"),
                )
            })?;
            select(doc, spec.records.as_ref(), Pointer::Json)
        }
        Format::JsonLines => {
            let mut out = Vec::new();
            for r in JsonLines::new(input) {
                out.push(r?);
            }
            Ok(out)
        }
        Format::Csv => read_csv(input, spec.delimiter),
        Format::Xml => {
            let doc = xml_to_value(input)?;
            select(doc, spec.records.as_ref(), Pointer::Xml)
        }
    }
}

#[derive(Clone, Copy)]
enum Pointer {
    Json,
    Xml,
}

/// Picks the records out of a document: the `records` path, else a top-level array, else the
/// document itself as one record.
fn select(
    doc: Value,
    records: Option<&Path>,
    kind: Pointer,
) -> Result<Vec<InputRecord>, InputError> {
    let mut base = String::new();
    let mut whole = None;
    let target = match records {
        None => doc,
        Some(p) => {
            for s in &p.segs {
                match (s, kind) {
                    (Seg::Key(k), _) => {
                        base.push('/');
                        base.push_str(&k.replace('~', "~0").replace('/', "~1"));
                    }
                    (Seg::Index(i), Pointer::Json) => base.push_str(&format!("/{i}")),
                    (Seg::Index(i), Pointer::Xml) => base.push_str(&format!("[{}]", i + 1)),
                    (Seg::Each, _) => {}
                }
            }
            match p.get(&doc) {
                Some(v) => {
                    let v = v.clone();
                    whole = Some(Arc::new(doc));
                    v
                }
                None => {
                    return Err(input_err(
                        if base.is_empty() {
                            "/".to_string()
                        } else {
                            base
                        },
                        format!("the input has nothing at records path '{p}'"),
                    ))
                }
            }
        }
    };
    Ok(match target {
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, value)| {
                let location = match kind {
                    Pointer::Json => format!("record {} at {base}/{i}", i + 1),
                    Pointer::Xml => format!("record {} at {base}[{}]", i + 1, i + 1),
                };
                InputRecord {
                    number: i + 1,
                    location,
                    value,
                    doc: whole.clone(),
                }
            })
            .collect(),
        value => vec![InputRecord {
            number: 1,
            location: format!("record 1 at {}", if base.is_empty() { "/" } else { &base }),
            value,
            doc: whole,
        }],
    })
}

fn read_csv(input: &[u8], delimiter: u8) -> Result<Vec<InputRecord>, InputError> {
    let input = input.strip_prefix(b"\xef\xbb\xbf").unwrap_or(input);
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .from_reader(input);
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| input_err("CSV line 1", format!("cannot read header: {e}")))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            input_err(format!("record {}, CSV line {line}", i + 1), e.to_string())
        })?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let mut m = Map::with_capacity(headers.len());
        for (h, v) in headers.iter().zip(rec.iter()) {
            m.insert(h.clone(), Value::String(v.to_string()));
        }
        out.push(InputRecord {
            number: i + 1,
            location: format!("record {}, CSV line {line}", i + 1),
            value: Value::Object(m),
            doc: None,
        });
    }
    Ok(out)
}

/// Streams JSON-lines records one line at a time (blank lines are skipped).
pub struct JsonLines<R> {
    reader: R,
    line: usize,
    number: usize,
    buf: String,
}

impl<R: BufRead> JsonLines<R> {
    pub fn new(reader: R) -> Self {
        JsonLines {
            reader,
            line: 0,
            number: 0,
            buf: String::new(),
        }
    }
}

impl<R: BufRead> Iterator for JsonLines<R> {
    type Item = Result<InputRecord, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.buf.clear();
            self.line += 1;
            match self.reader.read_line(&mut self.buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => {
                    return Some(Err(input_err(
                        format!("line {}", self.line),
                        format!("cannot read: {e}"),
                    )))
                }
            }
            let text = self.buf.trim();
            let text = if self.line == 1 {
                text.trim_start_matches('\u{feff}')
            } else {
                text
            };
            if text.is_empty() {
                continue;
            }
            self.number += 1;
            let location = format!("record {}, line {}", self.number, self.line);
            return Some(match serde_json::from_str(text) {
                Ok(value) => Ok(InputRecord {
                    number: self.number,
                    location,
                    value,
                    doc: None,
                }),
                Err(e) => Err(input_err(
                    format!("{location}:{}", e.column()),
                    format!("invalid JSON: {e}"),
                )),
            });
        }
    }
}

/// XML → JSON tree: an element becomes an object of its attributes (`@name`) and children
/// (repeated children become arrays); text-only elements become strings; mixed text goes
/// under `#text`.
pub fn xml_to_value(input: &[u8]) -> Result<Value, InputError> {
    let mut reader = quick_xml::Reader::from_reader(input);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<(String, Map<String, Value>, String)> =
        vec![(String::new(), Map::new(), String::new())];
    let mut buf = Vec::new();
    let loc = |pos: u64| {
        let pos = (pos as usize).min(input.len());
        let line = input[..pos].iter().filter(|b| **b == b'\n').count() + 1;
        format!("XML line {line}")
    };
    loop {
        let pos = reader.buffer_position();
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                let attrs = attributes(&e).map_err(|m| input_err(loc(pos), m))?;
                stack.push((name, attrs, String::new()));
            }
            Ok(Event::Empty(e)) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                let attrs = attributes(&e).map_err(|m| input_err(loc(pos), m))?;
                let v = if attrs.is_empty() {
                    Value::String(String::new())
                } else {
                    Value::Object(attrs)
                };
                if let Some(parent) = stack.last_mut() {
                    push_child(&mut parent.1, name, v);
                }
            }
            Ok(Event::Text(t)) => {
                let s = t
                    .unescape()
                    .map_err(|e| input_err(loc(pos), format!("bad text: {e}")))?;
                if let Some(top) = stack.last_mut() {
                    top.2.push_str(&s);
                }
            }
            Ok(Event::CData(t)) => {
                if let Some(top) = stack.last_mut() {
                    top.2.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Ok(Event::End(_)) => {
                let (name, mut attrs, text) = match stack.pop() {
                    Some(x) if !stack.is_empty() => x,
                    _ => return Err(input_err(loc(pos), "unexpected closing tag")),
                };
                let v = if attrs.is_empty() {
                    Value::String(text)
                } else {
                    if !text.is_empty() {
                        attrs.insert("#text".into(), Value::String(text));
                    }
                    Value::Object(attrs)
                };
                if let Some(parent) = stack.last_mut() {
                    push_child(&mut parent.1, name, v);
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => {
                return Err(input_err(
                    loc(reader.error_position()),
                    format!("invalid XML: {e}"),
                ))
            }
        }
        buf.clear();
    }
    if stack.len() != 1 {
        return Err(input_err(
            loc(input.len() as u64),
            format!(
                "unclosed element <{}>",
                stack.last().map(|s| s.0.as_str()).unwrap_or("")
            ),
        ));
    }
    let (_, root, _) = stack.pop().unwrap_or_default();
    if root.is_empty() {
        return Err(input_err("XML line 1", "no root element"));
    }
    Ok(Value::Object(root))
}

fn attributes(e: &quick_xml::events::BytesStart<'_>) -> Result<Map<String, Value>, String> {
    let mut m = Map::new();
    for a in e.attributes() {
        let a = a.map_err(|e| format!("bad attribute: {e}"))?;
        let k = format!("@{}", String::from_utf8_lossy(a.key.as_ref()));
        let v = a
            .unescape_value()
            .map_err(|e| format!("bad attribute value: {e}"))?;
        m.insert(k, Value::String(v.into_owned()));
    }
    Ok(m)
}

fn push_child(m: &mut Map<String, Value>, name: String, v: Value) {
    match m.get_mut(&name) {
        Some(Value::Array(a)) => a.push(v),
        Some(existing) => {
            let prev = existing.take();
            *existing = Value::Array(vec![prev, v]);
        }
        None => {
            m.insert(name, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(format: Format, records: Option<&str>) -> SourceSpec {
        SourceSpec {
            format,
            records: records.map(|r| Path::parse(r).unwrap()),
            delimiter: b',',
            lines: false,
        }
    }

    #[test]
    fn csv_records_know_their_lines() {
        let recs = read_all(
            &spec(Format::Csv, None),
            "\u{feff}a,b\n1,2\n\"x\ny\",3\n4,5\n".as_bytes(),
        )
        .unwrap();
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[0].value, json!({"a": "1", "b": "2"}));
        assert_eq!(recs[2].location, "record 3, CSV line 5");
        let err = read_all(&spec(Format::Csv, None), b"a,b\n1,2\n3\n").unwrap_err();
        assert!(err.location.contains("CSV line 3"), "{err}");
    }

    #[test]
    fn json_records_are_pointed_at() {
        let recs = read_all(
            &spec(Format::Json, Some("data.orders")),
            br#"{"data":{"orders":[{"a":1},{"a":2}]}}"#,
        )
        .unwrap();
        assert_eq!(recs[1].location, "record 2 at /data/orders/1");
        let err = read_all(&spec(Format::Json, None), b"{\n\"a\": }").unwrap_err();
        assert_eq!(err.location, "line 2:6");
    }

    #[test]
    fn xml_becomes_a_tree() {
        let x = br#"<Orders><Order id="1"><Line>a</Line><Line>b</Line></Order><Order id="2"><Line>c</Line><Note/></Order></Orders>"#;
        let recs = read_all(&spec(Format::Xml, Some("Orders.Order")), x).unwrap();
        assert_eq!(recs[0].value, json!({"@id": "1", "Line": ["a", "b"]}));
        assert_eq!(recs[1].value, json!({"@id": "2", "Line": "c", "Note": ""}));
        assert_eq!(recs[1].location, "record 2 at /Orders/Order[2]");
        assert!(xml_to_value(b"<a><b></a>").is_err());
        assert!(xml_to_value(b"<a>").is_err());
    }

    #[test]
    fn json_lines_stream_and_locate_errors() {
        let mut it = JsonLines::new(&b"{\"a\":1}\n\n{\"a\":\n"[..]);
        assert_eq!(it.next().unwrap().unwrap().value, json!({"a": 1}));
        let err = it.next().unwrap().unwrap_err();
        assert!(err.location.starts_with("record 2, line 3"), "{err}");
    }
}
