//! Config sections owned by integrations: a `[partners.NAME]` table of a kind the integration
//! owns, or a top-level table it declares. Each is parsed strictly into the integration's own
//! type, and every problem is located at the offending key through [`TomlSource`].

use crate::config::PartnerConfig;
use crate::toml_source::TomlSource;
use serde::de::DeserializeOwned;
use switchyard_core::diag::{Diagnostic, Loc};

/// One `[partners.NAME]` table.
#[derive(Clone, Copy)]
pub struct PartnerSection<'a> {
    pub name: &'a str,
    pub config: &'a PartnerConfig,
    source: &'a TomlSource,
}

impl<'a> PartnerSection<'a> {
    pub fn new(name: &'a str, config: &'a PartnerConfig, source: &'a TomlSource) -> Self {
        Self {
            name,
            config,
            source,
        }
    }

    pub fn kind(&self) -> &'a str {
        &self.config.kind
    }

    /// The organization whose secrets the partner's `secret:` references name.
    pub fn org(&self) -> &'a str {
        &self.config.org
    }

    fn keys<'k>(&'k self, keys: &[&'k str]) -> Vec<&'k str> {
        let mut path = vec!["partners", self.name];
        path.extend_from_slice(keys);
        path
    }

    pub fn locate(&self, keys: &[&str]) -> Loc {
        self.source.locate(&self.keys(keys))
    }

    /// The partner's settings (everything but `kind`, `org` and `retry`) as `T`. Strict when
    /// `T` denies unknown fields; a problem names the key and sits at it:
    /// ``partner `acme`: unknown field `hots`, expected one of …``.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, Diagnostic> {
        parse_located(
            self.config.settings_toml(),
            &self.keys(&[]),
            self.source,
            &format!("partner `{}`", self.name),
        )
    }

    /// A problem with the value at `keys` inside this table:
    /// ``partner `acme`: mailbox.host: an SFTP mailbox needs `host` ``.
    pub fn problem(&self, keys: &[&str], message: impl std::fmt::Display) -> Diagnostic {
        let prefix = if keys.is_empty() {
            format!("partner `{}`", self.name)
        } else {
            format!("partner `{}`: {}", self.name, keys.join("."))
        };
        Diagnostic::new(self.locate(keys), format!("{prefix}: {message}"))
    }
}

/// A top-level table an integration declares (`[probe]`), absent when the file has none.
#[derive(Clone, Copy)]
pub struct Section<'a> {
    pub name: &'a str,
    pub value: Option<&'a toml::Value>,
    source: &'a TomlSource,
}

impl<'a> Section<'a> {
    pub fn new(name: &'a str, value: Option<&'a toml::Value>, source: &'a TomlSource) -> Self {
        Self {
            name,
            value,
            source,
        }
    }

    /// The section as `T`, or `T::default()` when the file has no such table.
    pub fn parse<T: DeserializeOwned + Default>(&self) -> Result<T, Diagnostic> {
        match self.value {
            None => Ok(T::default()),
            Some(v) => parse_located(
                v.clone(),
                &[self.name],
                self.source,
                &format!("[{}]", self.name),
            ),
        }
    }

    pub fn problem(&self, keys: &[&str], message: impl std::fmt::Display) -> Diagnostic {
        let mut path = vec![self.name];
        path.extend_from_slice(keys);
        Diagnostic::new(
            self.source.locate(&path),
            format!("[{}] {}: {message}", self.name, keys.join(".")),
        )
    }
}

/// Deserialize `value` (found at `base` in the file) as `T`; a failure is located at the key
/// serde stopped on. For an unknown field that is the field itself, which serde names only in
/// its message (`unknown field `hots``), so it is read from there.
fn parse_located<T: DeserializeOwned>(
    value: toml::Value,
    base: &[&str],
    source: &TomlSource,
    prefix: &str,
) -> Result<T, Diagnostic> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let mut keys: Vec<String> = base.iter().map(|k| k.to_string()).collect();
        for segment in e.path().iter() {
            match segment {
                serde_path_to_error::Segment::Map { key } => keys.push(key.clone()),
                serde_path_to_error::Segment::Seq { index } => keys.push(index.to_string()),
                _ => {}
            }
        }
        // Where serde stopped, said in words too (`acks.window_hours: invalid type ...`); toml
        // appends its own `in `acks.window_hours`` on a second line, which is dropped.
        let text = e.inner().to_string();
        let text = text.split("\nin `").next().unwrap_or_default().trim();
        let mut within = &keys[base.len()..];
        // An unknown field's name is already in the message.
        if let (Some(last), true) = (within.last(), text.starts_with("unknown field `")) {
            if text.starts_with(&format!("unknown field `{last}`")) {
                within = &within[..within.len() - 1];
            }
        }
        let path = within.join(".");
        let message = if path.is_empty() {
            text.to_owned()
        } else {
            format!("{path}: {text}")
        };
        if let Some(field) = text
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split('`').next())
        {
            keys.push(field.to_owned());
        }
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        Diagnostic::new(source.locate(&keys), format!("{prefix}: {message}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_str;
    use serde::Deserialize;
    use std::path::Path;
    use switchyard_core::diag::SourceFile;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Settings {
        url: String,
        mailbox: Mailbox,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Mailbox {
        path: String,
        #[serde(default)]
        port: u16,
    }

    fn partner(text: &str) -> Result<Settings, Diagnostic> {
        let path = Path::new("s.toml");
        let config = parse_str(&SourceFile::new(path, text)).expect("config");
        let source = TomlSource::from_text(path, text);
        let section = PartnerSection::new("acme", &config.partners["acme"], &source);
        section.parse::<Settings>()
    }

    #[test]
    fn a_good_section_parses() {
        let s = partner("[partners.acme]\nkind = \"x\"\nurl = \"u\"\nmailbox = { path = \"p\" }\n")
            .unwrap();
        assert_eq!(s.mailbox.path, "p");
    }

    #[test]
    fn an_unknown_key_is_located_at_itself() {
        let e = partner(
            "[partners.acme]\nkind = \"x\"\nurl = \"u\"\n\n[partners.acme.mailbox]\npath = \"p\"\nhots = 1\n",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("s.toml:7:1: partner `acme`: mailbox: unknown field `hots`"),
            "{e}"
        );
    }

    #[test]
    fn a_wrong_type_in_the_partner_table_is_located_at_its_key_not_the_header() {
        let e = partner("[partners.acme]\nkind = \"x\"\nurl = 5\nmailbox = { path = \"p\" }\n")
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "s.toml:3:1: partner `acme`: url: invalid type: integer `5`, expected a string"
        );
        let e = partner(
            "[partners.acme]\nkind = \"x\"\nurl = \"u\"\nmailbox = { path = \"p\", port = \"22\" }\n",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "s.toml:4:25: partner `acme`: mailbox.port: invalid type: string \"22\", expected u16"
        );
    }

    #[test]
    fn a_wrong_type_is_located_at_its_key() {
        let e = partner(
            "[partners.acme]\nkind = \"x\"\nurl = \"u\"\nmailbox = { path = \"p\", port = \"22\" }\n",
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("s.toml:4:"), "{e}");
        assert!(
            e.to_string().contains("port") || e.to_string().contains("u16"),
            "{e}"
        );
    }

    #[test]
    fn a_missing_key_is_located_at_its_table() {
        let e = partner("[partners.acme]\nkind = \"x\"\nmailbox = { path = \"p\" }\n").unwrap_err();
        assert!(e.to_string().starts_with("s.toml:1:"), "{e}");
        assert!(e.to_string().contains("missing field `url`"), "{e}");
    }
}
