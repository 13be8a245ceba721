//! A uniform view of a parsed TOML document with byte spans, so the compiler can treat
//! `[tables]`, inline tables and dotted keys alike and report every problem with a position.

use toml_edit::{Item, Value as TValue};

#[derive(Debug, Clone)]
pub enum Tv {
    Str(String),
    Int(i64),
    /// A float kept as written, so `1.23` stays an exact decimal.
    Float(String),
    Bool(bool),
    Arr(Vec<Tn>),
    Table(Vec<Entry>),
    /// TOML date-times: kept as text.
    DateTime(String),
}

#[derive(Debug, Clone)]
pub struct Tn {
    pub v: Tv,
    /// Byte offset of the value (or of its key when the value has no span of its own).
    pub at: usize,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub key: String,
    pub key_at: usize,
    pub node: Tn,
}

impl Tn {
    pub fn kind(&self) -> &'static str {
        match self.v {
            Tv::Str(_) => "a string",
            Tv::Int(_) => "an integer",
            Tv::Float(_) => "a float",
            Tv::Bool(_) => "a boolean",
            Tv::Arr(_) => "an array",
            Tv::Table(_) => "a table",
            Tv::DateTime(_) => "a date-time",
        }
    }

    pub fn as_table(&self) -> Option<&[Entry]> {
        match &self.v {
            Tv::Table(e) => Some(e),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.v {
            Tv::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Tn> {
        self.as_table()?
            .iter()
            .find(|e| e.key == key)
            .map(|e| &e.node)
    }

    /// As JSON (constants and defaults).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.v {
            Tv::Str(s) | Tv::DateTime(s) => Value::String(s.clone()),
            Tv::Int(i) => Value::from(*i),
            Tv::Float(f) => f
                .parse::<serde_json::Number>()
                .map(Value::Number)
                .unwrap_or_else(|_| Value::String(f.clone())),
            Tv::Bool(b) => Value::Bool(*b),
            Tv::Arr(a) => Value::Array(a.iter().map(Tn::to_json).collect()),
            Tv::Table(t) => Value::Object(
                t.iter()
                    .map(|e| (e.key.clone(), e.node.to_json()))
                    .collect(),
            ),
        }
    }
}

pub fn from_item(item: &Item, fallback: usize, text: &str) -> Option<Tn> {
    let at = item.span().map(|s| s.start).unwrap_or(fallback);
    match item {
        Item::None => None,
        Item::Value(v) => Some(from_value(v, fallback, text)),
        Item::Table(t) => {
            let at = t.span().map(|s| s.start).unwrap_or(at);
            let entries = t
                .iter()
                .filter_map(|(k, it)| {
                    let key_at = t
                        .key(k)
                        .and_then(|key| key.span())
                        .map(|s| s.start)
                        .unwrap_or(at);
                    from_item(it, key_at, text).map(|node| Entry {
                        key: k.to_string(),
                        key_at,
                        node,
                    })
                })
                .collect();
            Some(Tn {
                v: Tv::Table(entries),
                at,
            })
        }
        Item::ArrayOfTables(a) => {
            let nodes = a
                .iter()
                .filter_map(|t| from_item(&Item::Table(t.clone()), at, text))
                .collect();
            Some(Tn {
                v: Tv::Arr(nodes),
                at,
            })
        }
    }
}

fn from_value(v: &TValue, fallback: usize, text: &str) -> Tn {
    let at = v.span().map(|s| s.start).unwrap_or(fallback);
    let tv = match v {
        TValue::String(s) => Tv::Str(s.value().clone()),
        TValue::Integer(i) => Tv::Int(*i.value()),
        TValue::Float(f) => Tv::Float(
            f.span()
                .and_then(|s| text.get(s))
                .map(|s| s.trim().replace('_', ""))
                .unwrap_or_else(|| f.value().to_string()),
        ),
        TValue::Boolean(b) => Tv::Bool(*b.value()),
        TValue::Datetime(d) => Tv::DateTime(d.value().to_string()),
        TValue::Array(a) => Tv::Arr(a.iter().map(|x| from_value(x, at, text)).collect()),
        TValue::InlineTable(t) => Tv::Table(
            t.iter()
                .map(|(k, x)| {
                    let key_at = t
                        .key(k)
                        .and_then(|key| key.span())
                        .map(|s| s.start)
                        .unwrap_or(at);
                    Entry {
                        key: k.to_string(),
                        key_at,
                        node: from_value(x, key_at, text),
                    }
                })
                .collect(),
        ),
    };
    Tn { v: tv, at }
}
