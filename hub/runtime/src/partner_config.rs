//! What every partner adapter's settings need, in one place: strict parsing that names the
//! offending key, a resolved credential whose `Debug` is redacted, and one adapter built per
//! `[partners.NAME]` section of a kind with each failure located at its key.

use crate::integration::BuildContext;
use serde::de::DeserializeOwned;
use std::fmt;
use std::sync::Arc;
use switchyard_core::adapter::{Adapter, ConfigError, SecretResolver};
use switchyard_core::diag::Diagnostic;
use switchyard_core::ids::PartnerName;

/// Parse a partner's section strictly: an unknown or ill-typed key is an error naming the key
/// (`auth.token_ref`), which the daemon turns into its line and column. `label` starts the
/// message (`http adapter config`).
pub fn parse_strict<T: DeserializeOwned>(
    partner: &PartnerName,
    label: &str,
    value: &serde_json::Value,
) -> Result<T, ConfigError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        // The key to blame: serde's path, plus the field itself for an unknown field (which
        // serde names only in its message, and the path names only in a plain nested table,
        // not in a tagged one such as `auth`).
        let mut key: Vec<String> = if path == "." {
            Vec::new()
        } else {
            vec![path.clone()]
        };
        if let Some(field) = message
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split('`').next())
        {
            if path.rsplit('.').next() != Some(field) {
                key.push(field.to_owned());
            }
        }
        let message = if path == "." {
            message
        } else {
            format!("{path}: {message}")
        };
        let error = ConfigError::new(partner.to_string(), format!("{label}: {message}"));
        if key.is_empty() {
            error
        } else {
            error.at_key(key.join("."))
        }
    })
}

/// One adapter per `[partners.NAME]` section of `kind`, built by `build` from the section's
/// settings and its organization's secrets; a section that does not build is a problem located
/// at the key its error names.
pub fn build_adapters<F>(
    cx: &BuildContext<'_>,
    kind: &str,
    problems: &mut Vec<Diagnostic>,
    build: F,
) -> Vec<(String, Arc<dyn Adapter>)>
where
    F: Fn(
        &PartnerName,
        &serde_json::Value,
        &dyn SecretResolver,
    ) -> Result<Arc<dyn Adapter>, ConfigError>,
{
    let mut adapters = Vec::new();
    for section in cx.partners(&[kind]) {
        let name = PartnerName(section.name.to_owned());
        match build(
            &name,
            &section.config.settings_json(),
            cx.secrets_for(&section),
        ) {
            Ok(adapter) => adapters.push((section.name.to_owned(), adapter)),
            Err(e) => {
                let keys: Vec<&str> = e
                    .key
                    .as_deref()
                    .map(|k| k.split('.').collect())
                    .unwrap_or_default();
                problems.push(Diagnostic::new(
                    section.locate(&keys),
                    format!("partner `{}`: {}", section.name, e.message),
                ));
            }
        }
    }
    adapters
}

/// A credential value resolved from a `*_ref` at build time. Its `Debug` never shows the
/// value, so a stray `{:?}` in a log line or a panic message cannot leak it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself; only the code that puts it on the wire should call this.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
        assert_eq!(s.expose(), "hunter2");
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Settings {
        url: String,
        #[serde(default)]
        auth: Option<Auth>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(tag = "mode", deny_unknown_fields)]
    #[allow(dead_code)]
    enum Auth {
        #[serde(rename = "token")]
        Token { token_ref: String },
    }

    #[test]
    fn strict_parsing_names_the_key() {
        let p = PartnerName::from("acme");
        let e = parse_strict::<Settings>(
            &p,
            "x config",
            &serde_json::json!({"url": "u", "colour": 1}),
        )
        .unwrap_err();
        assert_eq!(e.key.as_deref(), Some("colour"));
        assert!(
            e.message
                .starts_with("x config: colour: unknown field `colour`"),
            "{}",
            e.message
        );
        let e = parse_strict::<Settings>(
            &p,
            "x config",
            &serde_json::json!({"url": "u", "auth": {"mode": "token", "token_ref": "r", "extra": 1}}),
        )
        .unwrap_err();
        assert_eq!(e.key.as_deref(), Some("auth.extra"), "{}", e.message);
    }
}
