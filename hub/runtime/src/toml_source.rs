//! A TOML file (the config, a schedule) with its spans, so any key can be turned into a
//! `file:line:col` for a diagnostic. The spans are toml_edit's own; nothing searches the text.

use std::path::Path;
use switchyard_core::diag::{Diagnostic, Loc, SourceFile};
use toml_edit::{Item, TableLike};

/// A TOML file as written.
#[derive(Debug)]
pub struct TomlSource {
    file: SourceFile,
    doc: Option<toml_edit::Document<String>>,
}

impl TomlSource {
    /// Read `path`; a missing or unreadable file gives a source that locates every key at the
    /// file itself (the config then comes from defaults and the environment).
    pub fn read(path: &Path) -> Self {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        Self::from_text(path, text)
    }

    pub fn from_text(path: &Path, text: impl Into<String>) -> Self {
        let text = text.into();
        let doc = toml_edit::Document::parse(text.clone()).ok();
        Self {
            file: SourceFile::new(path, text),
            doc,
        }
    }

    pub fn path(&self) -> &Path {
        &self.file.path
    }

    /// Where `keys` (a path of table keys, array indexes as numbers) is written: the deepest of
    /// them the file has. A key the file does not have (a default, or set from the
    /// environment) points at its nearest enclosing table instead.
    pub fn locate(&self, keys: &[&str]) -> Loc {
        let Some(doc) = &self.doc else {
            return Loc::file(self.path());
        };
        let mut found: Option<usize> = None;
        let mut table: &dyn TableLike = doc.as_table();
        let mut pending: Option<&Item> = None;
        for key in keys {
            if let Some(item) = pending.take() {
                // The previous key held an array: this key is the index.
                let Ok(i) = key.parse::<usize>() else { break };
                match item {
                    Item::ArrayOfTables(a) => match a.get(i) {
                        Some(t) => {
                            found = t.span().map(|s| s.start).or(found);
                            table = t;
                            continue;
                        }
                        None => break,
                    },
                    Item::Value(toml_edit::Value::Array(a)) => {
                        match a.get(i) {
                            Some(v) => {
                                found = v.span().map(|s| s.start).or(found);
                                match v.as_inline_table() {
                                    Some(t) => table = t,
                                    None => break,
                                }
                            }
                            None => break,
                        }
                        continue;
                    }
                    _ => break,
                }
            }
            let Some((k, item)) = table.get_key_value(key) else {
                break;
            };
            found = k.span().map(|s| s.start).or(found);
            match item.as_table_like() {
                Some(t) => table = t,
                None if item.is_array() || item.is_array_of_tables() => pending = Some(item),
                None => break,
            }
        }
        self.file.loc(found)
    }

    /// A problem at `keys`.
    pub fn problem(&self, keys: &[&str], message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(self.locate(keys), message)
    }

    /// Byte `offset` into the string value at `keys` (a path of table keys), e.g. the field
    /// of a cron expression at fault. A string written with escapes, whose text does not map
    /// byte for byte onto its value, is located at the value's opening quote; a missing value
    /// falls back to [`TomlSource::locate`].
    pub fn locate_in_string(&self, keys: &[&str], offset: usize) -> Loc {
        let value = self.doc.as_ref().and_then(|doc| {
            let (last, tables) = keys.split_last()?;
            let mut table: &dyn TableLike = doc.as_table();
            for key in tables {
                table = table.get(key)?.as_table_like()?;
            }
            table.get(last)?.as_value()
        });
        let Some((value, span)) = value.and_then(|v| Some((v, v.span()?))) else {
            return self.locate(keys);
        };
        let written = self.file.text.get(span.clone()).unwrap_or_default();
        let plain = value
            .as_str()
            .is_some_and(|s| written.len() == s.len() + 2 && &written[1..written.len() - 1] == s);
        if plain && offset <= written.len() - 2 {
            self.file.loc(Some(span.start + 1 + offset))
        } else {
            self.file.loc(Some(span.start))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"[queue]
concurrency = 4

[partners.acme]
kind = "edi"
us = { qualifier = "ZZ", id = "US" }

[partners.acme.mailbox]
path = "var/edi"

[[items]]
name = "a"
[[items]]
name = "b"
"#;

    fn at(keys: &[&str]) -> String {
        TomlSource::from_text(Path::new("s.toml"), TEXT)
            .locate(keys)
            .to_string()
    }

    #[test]
    fn keys_are_located_by_their_spans() {
        assert_eq!(at(&["queue", "concurrency"]), "s.toml:2:1");
        assert_eq!(at(&["partners", "acme", "kind"]), "s.toml:5:1");
        // Inside an inline table.
        assert_eq!(at(&["partners", "acme", "us", "id"]), "s.toml:6:26");
        // A sub-table's key, and a key in it.
        assert_eq!(at(&["partners", "acme", "mailbox", "path"]), "s.toml:9:1");
        // An array of tables by index.
        assert_eq!(at(&["items", "1", "name"]), "s.toml:14:1");
    }

    #[test]
    fn offsets_inside_a_string_value_are_located() {
        let src = TomlSource::from_text(
            Path::new("s.toml"),
            "cron = \"0 */5 * 32 * *\"\n[t]\nv = 'abc'\nw = \"a\\tb\"\n",
        );
        assert_eq!(
            src.locate_in_string(&["cron"], 8).to_string(),
            "s.toml:1:17"
        );
        assert_eq!(
            src.locate_in_string(&["t", "v"], 2).to_string(),
            "s.toml:3:8"
        );
        // Escapes: the value's opening quote.
        assert_eq!(
            src.locate_in_string(&["t", "w"], 2).to_string(),
            "s.toml:4:5"
        );
        assert_eq!(src.locate_in_string(&["nope"], 2).to_string(), "s.toml");
    }

    #[test]
    fn a_missing_key_points_at_its_nearest_table() {
        // `mailbox.host` is not written: the mailbox table's key is the nearest place.
        assert_eq!(at(&["partners", "acme", "mailbox", "host"]), "s.toml:8:16");
        assert_eq!(at(&["nowhere"]), "s.toml");
        let missing = TomlSource::read(Path::new("/definitely/not/here.toml"));
        assert_eq!(
            missing.locate(&["queue"]).to_string(),
            "/definitely/not/here.toml"
        );
    }
}
