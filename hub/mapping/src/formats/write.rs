//! Writers: records → JSON, JSON-lines, CSV (flattened `a.b` columns, optional BOM) or XML.

use super::{Format, TargetSpec};
use crate::plan::{ItemPlan, Node, ObjectPlan};
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde_json::Value;
use std::io::Write;

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot write output: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot write CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("cannot write JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// CSV columns in rule order: nested targets flattened as `product.name`.
pub fn csv_columns(plan: &ObjectPlan) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(plan: &ObjectPlan, prefix: &str, out: &mut Vec<String>) {
        for (k, node) in &plan.entries {
            let name = format!("{prefix}{k}");
            match node {
                Node::Object(o) => walk(o, &format!("{name}."), out),
                Node::Each(e) => match &e.item {
                    ItemPlan::Object(_) | ItemPlan::Value(_) => out.push(name),
                },
                Node::Field(_) => out.push(name),
            }
        }
    }
    walk(plan, "", &mut out);
    out
}

fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(other) => other.to_string(),
    }
}

/// One record's CSV cells for `columns` ([`csv_columns`]): what [`write_records`] writes per
/// record, for writers that stream records one at a time (exports).
pub fn csv_cells(columns: &[String], record: &Value) -> Vec<String> {
    columns.iter().map(|c| cell(flat_get(record, c))).collect()
}

/// One record as the XML element `name`, as [`write_records`] writes it inside its root
/// (unindented): for writers that stream records one at a time (exports).
pub fn xml_record(out: &mut Vec<u8>, name: &str, record: &Value) -> Result<(), WriteError> {
    element(&mut quick_xml::Writer::new(out), name, record)?;
    Ok(())
}

fn flat_get<'v>(v: &'v Value, dotted: &str) -> Option<&'v Value> {
    dotted
        .split('.')
        .try_fold(v, |cur, k| cur.as_object()?.get(k))
}

/// Writes all records in the target format. `single` means the input was one JSON object,
/// so a JSON target writes one object rather than an array.
pub fn write_records(
    out: &mut dyn Write,
    spec: &TargetSpec,
    plan: &ObjectPlan,
    records: &[Value],
    format: Format,
    single: bool,
) -> Result<(), WriteError> {
    match format {
        f if f.is_lines(spec.lines && f == spec.format) => {
            for r in records {
                serde_json::to_writer(&mut *out, r)?;
                out.write_all(b"\n")?;
            }
        }
        Format::Json | Format::Canonical(_) => {
            if single && records.len() == 1 && !spec.always_array {
                serde_json::to_writer_pretty(&mut *out, &records[0])?;
            } else {
                serde_json::to_writer_pretty(&mut *out, records)?;
            }
            out.write_all(b"\n")?;
        }
        Format::JsonLines => {
            for r in records {
                serde_json::to_writer(&mut *out, r)?;
                out.write_all(b"\n")?;
            }
        }
        Format::Csv => {
            if spec.bom {
                out.write_all(b"\xef\xbb\xbf")?;
            }
            let cols = csv_columns(plan);
            let mut w = csv::WriterBuilder::new()
                .delimiter(spec.delimiter)
                .terminator(csv::Terminator::CRLF)
                .from_writer(&mut *out);
            w.write_record(&cols)?;
            for r in records {
                w.write_record(csv_cells(&cols, r))?;
            }
            w.flush()?;
        }
        Format::Xml => write_xml(out, spec, records)?,
    }
    Ok(())
}

fn write_xml(out: &mut dyn Write, spec: &TargetSpec, records: &[Value]) -> Result<(), WriteError> {
    let mut w = quick_xml::Writer::new_with_indent(&mut *out, b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.write_event(Event::Start(BytesStart::new(spec.xml_root.as_str())))?;
    for r in records {
        element(&mut w, &spec.xml_record, r)?;
    }
    w.write_event(Event::End(BytesEnd::new(spec.xml_root.as_str())))?;
    drop(w);
    out.write_all(b"\n")?;
    Ok(())
}

/// Keys that are not valid element names are written as `<field name="...">`.
fn element<W: Write>(w: &mut quick_xml::Writer<W>, name: &str, v: &Value) -> std::io::Result<()> {
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
    let mut start = if valid {
        BytesStart::new(name)
    } else {
        BytesStart::new("field")
    };
    if !valid {
        start.push_attribute(("name", name));
    }
    let tag = if valid { name } else { "field" };
    match v {
        Value::Array(items) => {
            for it in items {
                element(w, name, it)?;
            }
            Ok(())
        }
        Value::Object(m) => {
            for (k, a) in m.iter().filter(|(k, _)| k.starts_with('@')) {
                start.push_attribute((&k[1..], cell(Some(a)).as_str()));
            }
            w.write_event(Event::Start(start))?;
            for (k, c) in m.iter().filter(|(k, _)| !k.starts_with('@')) {
                if k == "#text" {
                    w.write_event(Event::Text(BytesText::new(&cell(Some(c)))))?;
                } else {
                    element(w, k, c)?;
                }
            }
            w.write_event(Event::End(BytesEnd::new(tag)))
        }
        Value::Null => w.write_event(Event::Empty(start)),
        scalar => {
            w.write_event(Event::Start(start))?;
            w.write_event(Event::Text(BytesText::new(&cell(Some(scalar)))))?;
            w.write_event(Event::End(BytesEnd::new(tag)))
        }
    }
}
