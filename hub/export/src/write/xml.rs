//! XML per `schemas/export.xsd` (namespace [`NAMESPACE`]): the root element is the entity
//! (`<orders generated_at="...">`), one element per record (`<order>`), one child element per
//! key in the order of the query, nested objects as nested elements, lists as an element of
//! items (`<lines><line>…</line></lines>`), nulls left out. Text is escaped by quick-xml;
//! characters XML 1.0 cannot carry at all (most C0 controls) become U+FFFD, so a stray control
//! character in a product name cannot make the whole file unreadable.

use super::RowWriter;
use crate::columns::{item_element, record_element};
use crate::ExportError;
use chrono::{DateTime, SecondsFormat, Utc};
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;
use serde_json::Value;
use std::borrow::Cow;
use switchyard_store::exports::Entity;

/// The export schema's target namespace.
pub const NAMESPACE: &str = "urn:switchyard:export:1";

/// The schema, shipped in the repository and in the binary.
pub const XSD: &str = include_str!("../../schemas/export.xsd");

pub struct XmlRows {
    entity: Entity,
    generated_at: DateTime<Utc>,
    xml: Writer<Vec<u8>>,
}

impl XmlRows {
    pub fn new(entity: Entity, generated_at: DateTime<Utc>) -> Self {
        Self {
            entity,
            generated_at,
            xml: Writer::new(Vec::new()),
        }
    }

    fn event(&mut self, e: Event<'_>) -> Result<(), ExportError> {
        self.xml
            .write_event(e)
            .map_err(|e| ExportError::Write(e.to_string()))
    }

    fn element(&mut self, name: &str, value: &Value) -> Result<(), ExportError> {
        match value {
            Value::Null => Ok(()),
            Value::Object(fields) => {
                self.event(Event::Start(BytesStart::new(name)))?;
                for (key, v) in fields {
                    self.element(key, v)?;
                }
                self.event(Event::End(BytesEnd::new(name)))
            }
            Value::Array(items) => {
                self.event(Event::Start(BytesStart::new(name)))?;
                let item = item_element(name);
                for v in items {
                    self.element(item, v)?;
                }
                self.event(Event::End(BytesEnd::new(name)))
            }
            scalar => {
                let text = match scalar {
                    Value::String(s) => xml_chars(s),
                    other => Cow::Owned(other.to_string()),
                };
                self.event(Event::Start(BytesStart::new(name)))?;
                self.event(Event::Text(BytesText::new(&text)))?;
                self.event(Event::End(BytesEnd::new(name)))
            }
        }
    }
}

/// `s` with the characters XML 1.0 forbids replaced by U+FFFD.
pub(crate) fn xml_chars(s: &str) -> Cow<'_, str> {
    let allowed = |c: char| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..);
    if s.chars().all(allowed) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(
            s.chars()
                .map(|c| if allowed(c) { c } else { '\u{FFFD}' })
                .collect(),
        )
    }
}

impl RowWriter for XmlRows {
    fn begin(&mut self, out: &mut Vec<u8>) -> Result<(), ExportError> {
        self.event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        self.event(Event::Text(BytesText::new("\n")))?;
        let at = self.generated_at.to_rfc3339_opts(SecondsFormat::Secs, true);
        let root = BytesStart::new(self.entity.as_str())
            .with_attributes([("xmlns", NAMESPACE), ("generated_at", at.as_str())]);
        self.event(Event::Start(root))?;
        out.append(self.xml.get_mut());
        Ok(())
    }

    fn row(&mut self, _: u64, row: &Value, out: &mut Vec<u8>) -> Result<(), ExportError> {
        self.event(Event::Text(BytesText::new("\n")))?;
        self.element(record_element(self.entity), row)?;
        out.append(self.xml.get_mut());
        Ok(())
    }

    fn end(&mut self, out: &mut Vec<u8>) -> Result<(), ExportError> {
        self.event(Event::Text(BytesText::new("\n")))?;
        self.event(Event::End(BytesEnd::new(self.entity.as_str())))?;
        self.event(Event::Text(BytesText::new("\n")))?;
        out.append(self.xml.get_mut());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nesting_lists_nulls_and_escaping() {
        let t = DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
            .unwrap()
            .to_utc();
        let mut w = XmlRows::new(Entity::Customers, t);
        let mut out = Vec::new();
        w.begin(&mut out).unwrap();
        let row = json!({"customer_id": "C<1>", "name": "A & B\u{1}", "active": true,
            "created_at": null, "edi_ids": [{"qualifier": "92", "id": "7"}]});
        w.row(1, &row, &mut out).unwrap();
        w.end(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <customers xmlns=\"urn:switchyard:export:1\" generated_at=\"2026-01-02T03:04:05Z\">\n\
             <customer><customer_id>C&lt;1&gt;</customer_id><name>A &amp; B\u{FFFD}</name>\
             <active>true</active><edi_ids><edi_id><qualifier>92</qualifier><id>7</id></edi_id>\
             </edi_ids></customer>\n</customers>\n"
        );
    }
}
