//! Magento's error bodies (`Webapi\Rest\Response::_renderMessages`) made readable, and the
//! answer classes the queue acts on.
//!
//! ```json
//! {"message":"The \"%1\" attribute value is empty. Set the attribute and try again.",
//!  "parameters":["name"], "errors":[{"message":"...%fieldName...","parameters":{"fieldName":"sku"}}]}
//! ```
//!
//! Placeholders are positional (`%1` is the first parameter) or named (`%fieldName`); a named
//! placeholder with a positional list takes the parameter at its place among the message's
//! placeholders (price results come that way, their keys lost in the array).

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// A Magento error body or a per-item price failure.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct MagentoMessage {
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub parameters: Parameters,
    #[serde(default)]
    pub errors: Vec<MagentoMessage>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Parameters {
    #[default]
    None,
    List(Vec<Value>),
    Named(BTreeMap<String, Value>),
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The placeholders of a message in order: `1` for `%1`, `fieldName` for `%fieldName`.
fn placeholders(message: &str) -> Vec<(usize, usize, String)> {
    let bytes = message.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let start = i;
            let mut j = i + 1;
            while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
                j += 1;
            }
            if j > i + 1 {
                out.push((start, j, message[i + 1..j].to_owned()));
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

impl MagentoMessage {
    /// The value a placeholder stands for.
    pub fn parameter(&self, name: &str) -> Option<String> {
        match &self.parameters {
            Parameters::None => None,
            Parameters::Named(map) => map
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| text(v)),
            Parameters::List(list) => {
                if let Ok(n) = name.parse::<usize>() {
                    return n.checked_sub(1).and_then(|i| list.get(i)).map(text);
                }
                let named: Vec<String> = placeholders(&self.message)
                    .into_iter()
                    .map(|(_, _, p)| p)
                    .filter(|p| p.parse::<usize>().is_err())
                    .collect();
                let at = named.iter().position(|p| p.eq_ignore_ascii_case(name))?;
                list.get(at).map(text)
            }
        }
    }

    /// The message with its placeholders filled in; unknown ones are left as written.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(self.message.len());
        let mut last = 0;
        for (start, end, name) in placeholders(&self.message) {
            out.push_str(&self.message[last..start]);
            match self.parameter(&name) {
                Some(v) => out.push_str(&v),
                None => out.push_str(&self.message[start..end]),
            }
            last = end;
        }
        out.push_str(&self.message[last..]);
        out
    }

    /// The message and every aggregated error, rendered.
    pub fn describe(&self) -> String {
        let mut parts = vec![self.render()];
        parts.extend(self.errors.iter().map(MagentoMessage::render));
        parts.retain(|p| !p.is_empty());
        parts.join("; ")
    }

    /// The field a validation error is about, when it names one (`fieldName`, or the
    /// parameter of a `"%1" attribute` message).
    pub fn field(&self) -> Option<String> {
        if let Some(f) = self.parameter("fieldName") {
            return Some(f);
        }
        if self.message.contains("attribute") {
            return self.parameter("1");
        }
        self.errors.iter().find_map(MagentoMessage::field)
    }

    /// The SKU a per-item failure is about (`%SKU`/`%sku`).
    pub fn sku(&self) -> Option<String> {
        self.parameter("SKU")
    }
}

/// Parse a response body as a Magento message; a body that is not one is quoted as text.
pub fn parse_body(body: &[u8]) -> MagentoMessage {
    serde_json::from_slice::<MagentoMessage>(body)
        .ok()
        .filter(|m| !m.message.is_empty())
        .unwrap_or_else(|| MagentoMessage {
            message: String::from_utf8_lossy(&body[..body.len().min(500)]).into_owned(),
            ..MagentoMessage::default()
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn msg(v: Value) -> MagentoMessage {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn positional_and_named_parameters_are_rendered() {
        let m =
            msg(json!({"message": "The \"%1\" attribute value is empty.", "parameters": ["name"]}));
        assert_eq!(m.render(), "The \"name\" attribute value is empty.");
        assert_eq!(m.field().as_deref(), Some("name"));
        let m = msg(
            json!({"message": "No such entity with %fieldName = %fieldValue",
                            "parameters": {"fieldName": "sku", "fieldValue": "A/1"}}),
        );
        assert_eq!(m.render(), "No such entity with sku = A/1");
        assert_eq!(m.field().as_deref(), Some("sku"));
    }

    #[test]
    fn named_placeholders_with_a_list_take_their_place() {
        let m = msg(
            json!({"message": "Invalid attribute %fieldName = %fieldValue. Row ID: SKU = %SKU.",
                            "parameters": ["price", "-5", "P-1"]}),
        );
        assert_eq!(
            m.render(),
            "Invalid attribute price = -5. Row ID: SKU = P-1."
        );
        assert_eq!(m.sku().as_deref(), Some("P-1"));
    }

    #[test]
    fn aggregated_errors_are_joined_and_junk_is_quoted() {
        let m = msg(json!({"message": "Validation failed", "errors": [
            {"message": "%1 is required", "parameters": ["sku"]},
            {"message": "%1 is too long", "parameters": ["name"]}]}));
        assert_eq!(
            m.describe(),
            "Validation failed; sku is required; name is too long"
        );
        let junk = parse_body(b"<html>oops</html>");
        assert_eq!(junk.describe(), "<html>oops</html>");
        assert_eq!(
            msg(json!({"message": "100% sure %"})).render(),
            "100% sure %"
        );
    }
}
