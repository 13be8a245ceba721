//! A resolved credential (whose `Debug` never shows the value) and how references are shown.

/// A credential value whose `Debug` is redacted: the runtime's, shared by every adapter.
pub use switchyard_runtime::partner_config::Secret;

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
    fn only_known_reference_forms_are_shown() {
        assert_eq!(redact_ref("secret:acme"), "secret:acme");
        assert_eq!(redact_ref("env:ACME_TOKEN"), "env:ACME_TOKEN");
        assert_eq!(redact_ref("sk_live_123"), "<redacted>");
    }
}
