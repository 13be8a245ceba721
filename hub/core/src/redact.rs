//! Credential values masked wherever text is logged or stored.
//!
//! Masking fields by name (`password`, `token`, ...) misses a credential that turns up in
//! free text: a partner that echoes our `Authorization` header in its error message, a token
//! in a URL. So every credential value the daemon resolves is recorded here (with its base64
//! form, and derived forms such as a Basic header that adapters add), and error messages, log
//! bodies and API answers pass through [`SecretValues::redact`] before they leave the process
//! or reach the database.

use aho_corasick::{AhoCorasick, MatchKind};
use base64::Engine;
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock, RwLock};

/// What a masked value is replaced with (the same mask as masked fields).
pub const MASK: &str = "***";

/// Values shorter than this are not masked in free text: replacing every `abc` in a message
/// would destroy it, and so short a credential protects nothing anyway.
pub const MIN_LEN: usize = 6;

/// The credential values known to this process. Cheap to clone (shared); only ever grows.
#[derive(Clone, Default)]
pub struct SecretValues {
    inner: Arc<RwLock<Known>>,
}

#[derive(Default)]
struct Known {
    values: BTreeSet<String>,
    /// One automaton over every value, rebuilt when one is added (rare: at build time).
    matcher: Option<AhoCorasick>,
}

impl std::fmt::Debug for SecretValues {
    // Never print the values themselves.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.inner.read().map(|k| k.values.len()).unwrap_or(0);
        write!(f, "SecretValues({n} values)")
    }
}

impl SecretValues {
    pub fn new() -> Self {
        Self::default()
    }

    /// The values this process knows. Log output is process-wide (any crate may log an error
    /// that quotes a partner's answer), so the daemon's log writer and its secret resolvers
    /// share this one instance.
    pub fn process() -> &'static SecretValues {
        static PROCESS: OnceLock<SecretValues> = OnceLock::new();
        PROCESS.get_or_init(SecretValues::new)
    }

    /// Record a credential value as resolved: the value and its base64 form.
    pub fn add(&self, value: &str) {
        let encoded = base64::engine::general_purpose::STANDARD.encode(value);
        self.add_exact([value, encoded.as_str()]);
    }

    /// Record a value derived from credentials (an encoded header, a signed token) as it is.
    pub fn add_derived(&self, value: &str) {
        self.add_exact([value]);
    }

    fn add_exact<'a>(&self, values: impl IntoIterator<Item = &'a str>) {
        let Ok(mut known) = self.inner.write() else {
            return;
        };
        let mut grew = false;
        for v in values {
            if v.len() >= MIN_LEN {
                grew |= known.values.insert(v.to_owned());
            }
        }
        if grew {
            // Leftmost-longest: a Basic header is masked whole, not around its user name.
            known.matcher = AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&known.values)
                .ok();
        }
    }

    pub fn is_empty(&self) -> bool {
        self.inner
            .read()
            .map(|k| k.values.is_empty())
            .unwrap_or(true)
    }

    /// `text` with every known value replaced by [`MASK`]; borrowed when there was none.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let Ok(known) = self.inner.read() else {
            return Cow::Borrowed(text);
        };
        match &known.matcher {
            Some(m) if m.is_match(text) => {
                Cow::Owned(m.replace_all(text, &vec![MASK; known.values.len()]))
            }
            _ => Cow::Borrowed(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_their_base64_are_masked_in_free_text() {
        let known = SecretValues::new();
        known.add("hunter2-password");
        let basic = base64::engine::general_purpose::STANDARD.encode("probeuser:hunter2-password");
        known.add_derived(&format!("Basic {basic}"));
        let echoed = format!(
            "401: credentials `Basic {basic}` refused; password hunter2-password; token {}",
            base64::engine::general_purpose::STANDARD.encode("hunter2-password")
        );
        let masked = known.redact(&echoed);
        assert_eq!(
            masked,
            "401: credentials `***` refused; password ***; token ***"
        );
        assert!(matches!(known.redact("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn short_values_are_not_masked_and_debug_shows_no_value() {
        let known = SecretValues::new();
        known.add("abc");
        assert!(known.is_empty());
        assert_eq!(known.redact("abc abc"), "abc abc");
        known.add("s3cr3t-token");
        assert_eq!(format!("{known:?}"), "SecretValues(2 values)");
    }
}
