//! A resolved credential. Its `Debug` never shows the value, so a stray `{:?}` in a log line
//! or a panic message cannot leak it.

use std::fmt;

/// A credential value resolved from a `*_ref` at build time.
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

/// How a credential reference is shown in debug output: `secret:` and `env:` references name
/// where a credential lives (useful when debugging config), anything else might be a pasted
/// credential and is hidden.
pub(crate) fn redact_ref(reference: &str) -> &str {
    if reference.starts_with("secret:") || reference.starts_with("env:") {
        reference
    } else {
        "<redacted>"
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

    #[test]
    fn only_known_reference_forms_are_shown() {
        assert_eq!(redact_ref("secret:acme"), "secret:acme");
        assert_eq!(redact_ref("env:ACME_TOKEN"), "env:ACME_TOKEN");
        assert_eq!(redact_ref("sk_live_123"), "<redacted>");
    }
}
