//! Source paths: `a.b`, `lines[0].sku`, `lines[].sku` (every element), `$.x` (from the record
//! root while inside a loop) and `["odd.key"]` for keys that contain dots.

use serde_json::Value;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
    /// `[]`: every element of an array.
    Each,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    /// `$.x`: from the record, even inside a loop.
    pub root: bool,
    /// `$doc.x`: from the whole input document (e.g. a price-list header around the records).
    pub doc: bool,
    pub segs: Vec<Seg>,
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.doc {
            write!(f, "$doc")?;
        } else if self.root {
            write!(f, "$")?;
        }
        for (i, s) in self.segs.iter().enumerate() {
            match s {
                Seg::Key(k) if k.contains('.') || k.contains('[') => write!(f, "[{k:?}]")?,
                Seg::Key(k) => {
                    if i > 0 || self.root || self.doc {
                        write!(f, ".")?;
                    }
                    write!(f, "{k}")?
                }
                Seg::Index(n) => write!(f, "[{n}]")?,
                Seg::Each => write!(f, "[]")?,
            }
        }
        Ok(())
    }
}

impl Path {
    /// Parses a path; the error says what is wrong and at which character.
    pub fn parse(s: &str) -> Result<Path, String> {
        let mut segs = Vec::new();
        let mut rest = s.trim();
        let (mut root, mut doc) = (false, false);
        if rest == "$" {
            return Ok(Path {
                root: true,
                doc,
                segs,
            });
        }
        if rest == "$doc" {
            return Ok(Path {
                root,
                doc: true,
                segs,
            });
        }
        if let Some(r) = rest.strip_prefix("$doc.") {
            doc = true;
            rest = r;
        } else if let Some(r) = rest.strip_prefix("$.") {
            root = true;
            rest = r;
        }
        if rest.is_empty() {
            return Err("empty path".into());
        }
        let bytes = rest.as_bytes();
        let mut i = 0;
        let mut expect_key = true;
        while i < bytes.len() {
            match bytes[i] {
                b'.' => {
                    if expect_key {
                        return Err(format!("empty segment at character {}", i + 1));
                    }
                    expect_key = true;
                    i += 1;
                }
                b'[' => {
                    let close = rest[i..]
                        .find(']')
                        .ok_or_else(|| format!("unclosed '[' at character {}", i + 1))?
                        + i;
                    let inner = rest[i + 1..close].trim();
                    if inner.is_empty() {
                        segs.push(Seg::Each);
                    } else if let Some(q) =
                        inner.strip_prefix('"').and_then(|q| q.strip_suffix('"'))
                    {
                        segs.push(Seg::Key(q.to_string()));
                    } else {
                        let n: usize = inner.parse().map_err(|_| {
                            format!("'{inner}' is not an array index or quoted key")
                        })?;
                        segs.push(Seg::Index(n));
                    }
                    expect_key = false;
                    i = close + 1;
                }
                _ => {
                    if !expect_key {
                        return Err(format!("expected '.' or '[' at character {}", i + 1));
                    }
                    let end = rest[i..]
                        .find(['.', '['])
                        .map(|e| e + i)
                        .unwrap_or(rest.len());
                    let key = rest[i..end].trim();
                    if key.is_empty() {
                        return Err(format!("empty segment at character {}", i + 1));
                    }
                    segs.push(Seg::Key(key.to_string()));
                    expect_key = false;
                    i = end;
                }
            }
        }
        if expect_key {
            return Err("path ends with '.'".into());
        }
        Ok(Path { root, doc, segs })
    }

    /// Relative to the current record or loop item.
    pub fn is_relative(&self) -> bool {
        !self.root && !self.doc
    }

    pub fn has_each(&self) -> bool {
        self.segs.contains(&Seg::Each)
    }

    /// The single value at this path (paths with `[]` use [`Path::collect`]).
    pub fn get<'v>(&self, mut v: &'v Value) -> Option<&'v Value> {
        for s in &self.segs {
            v = match (s, v) {
                (Seg::Key(k), Value::Object(m)) => field(m, k)?,
                (Seg::Index(n), Value::Array(a)) => a.get(*n)?,
                // XML text-only elements are plain strings; `#text` still reaches them.
                (Seg::Key(k), Value::String(_)) if k == "#text" => v,
                _ => return None,
            };
        }
        Some(v)
    }

    /// Every value this path reaches, expanding `[]`.
    pub fn collect<'v>(&self, v: &'v Value, out: &mut Vec<&'v Value>) {
        collect_from(&self.segs, v, out)
    }
}

/// The value of key `k` of an object. Records are small objects, where comparing the keys in
/// turn is cheaper than hashing `k` (serde_json's map is an `IndexMap` with SipHash here, as
/// the mapping crate keeps key order): path lookups were a tenth of a sync's CPU.
fn field<'v>(m: &'v serde_json::Map<String, Value>, k: &str) -> Option<&'v Value> {
    const SCAN_UP_TO: usize = 16;
    if m.len() <= SCAN_UP_TO {
        m.iter().find_map(|(key, v)| (key == k).then_some(v))
    } else {
        m.get(k)
    }
}

fn collect_from<'v>(segs: &[Seg], v: &'v Value, out: &mut Vec<&'v Value>) {
    let Some((first, rest)) = segs.split_first() else {
        out.push(v);
        return;
    };
    match (first, v) {
        (Seg::Key(k), Value::Object(m)) => {
            if let Some(x) = field(m, k) {
                collect_from(rest, x, out)
            }
        }
        (Seg::Index(n), Value::Array(a)) => {
            if let Some(x) = a.get(*n) {
                collect_from(rest, x, out)
            }
        }
        (Seg::Each, Value::Array(a)) => {
            for x in a {
                collect_from(rest, x, out)
            }
        }
        (Seg::Key(k), Value::String(_)) if k == "#text" => collect_from(rest, v, out),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_and_resolves() {
        let p = Path::parse("lines[1].sku").unwrap();
        let v = json!({"lines": [{"sku": "A"}, {"sku": "B"}]});
        assert_eq!(p.get(&v), Some(&json!("B")));
        let p = Path::parse("lines[].sku").unwrap();
        let mut out = Vec::new();
        p.collect(&v, &mut out);
        assert_eq!(out, vec![&json!("A"), &json!("B")]);
        assert!(Path::parse("$.x").unwrap().root);
        let x = json!({"Price": "3", "Qty": {"@unit": "kg", "#text": "5"}});
        assert_eq!(
            Path::parse("Price.#text").unwrap().get(&x),
            Some(&json!("3"))
        );
        assert_eq!(Path::parse("Qty.#text").unwrap().get(&x), Some(&json!("5")));
        assert!(Path::parse("$doc.h.x").unwrap().doc);
        assert_eq!(
            Path::parse("$doc.h[1].x").unwrap().to_string(),
            "$doc.h[1].x"
        );
        assert_eq!(
            Path::parse("[\"a.b\"]").unwrap().segs,
            vec![Seg::Key("a.b".into())]
        );
    }

    #[test]
    fn rejects_bad_paths() {
        assert!(Path::parse("a..b").is_err());
        assert!(Path::parse("a[").is_err());
        assert!(Path::parse("a.").is_err());
        assert!(Path::parse("a[x]").is_err());
        assert!(Path::parse("").is_err());
    }
}
