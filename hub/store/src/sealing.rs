//! Values sealed at rest with AES-256-GCM (ring) under a keyring that can rotate: outbound
//! webhook endpoints' signing secrets (migrations/0030_webhook_secrets_sealed.sql).
//!
//! Each sealed value is `nonce (12 random bytes) || ciphertext || tag`, sealed with a caller's
//! associated data (an endpoint's id: a value copied onto another row does not open) and
//! stored next to the id of the key that sealed it. A key's id is the first 8 bytes of its
//! SHA-256, in hex: derived, so nobody has to name keys consistently across processes, and
//! it says nothing about the key. The [`Keyring`] seals with its current key and opens with
//! any key it holds, so rotating is: configure the new key as current and the old one as a
//! previous key, start the daemon (it re-seals what the old key sealed), then drop the old one.
//!
//! Why here and not in the runtime's `secrets` (partner credentials, the same cipher): the API
//! opens these values too (an endpoint's secret is shown to its owner), and the API may not
//! depend on the runtime. Partner credentials keep their own box, whose key has no id.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("secret key: {0}")]
    Key(String),
    #[error(
        "{what} is sealed with key `{key_id}`, which is not configured (current key `{current}`): \
         configure that key as a previous key ([secrets] previous_key_env / previous_key_files)"
    )]
    UnknownKey {
        what: String,
        key_id: String,
        current: String,
    },
    #[error("{what} is sealed but no secret key is configured (set SWITCHYARD_SECRET_KEY or [secrets] key_file)")]
    NoKey { what: String },
    #[error("{what} does not open with key `{key_id}`: wrong key or tampered ciphertext")]
    Open { what: String, key_id: String },
}

/// One AES-256-GCM key and its id.
pub struct SealingKey {
    id: String,
    key: LessSafeKey,
}

impl SealingKey {
    /// From base64 (32 bytes once decoded), as `switchyard secret keygen` prints it.
    pub fn from_base64(text: &str) -> Result<Self, SealError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|e| SealError::Key(format!("not base64: {e}")))?;
        let unbound = UnboundKey::new(&AES_256_GCM, &bytes)
            .map_err(|_| SealError::Key(format!("must be 32 bytes, got {}", bytes.len())))?;
        let digest = Sha256::digest(&bytes);
        Ok(Self {
            id: digest[..8].iter().map(|b| format!("{b:02x}")).collect(),
            key: LessSafeKey::new(unbound),
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Seal `plain` with a fresh random nonce and `aad` as associated data: `(nonce,
    /// ciphertext || tag)`.
    pub fn seal_detached(&self, aad: &[u8], plain: &str) -> ([u8; NONCE_LEN], Vec<u8>) {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .expect("system random source");
        let mut data = plain.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut data,
            )
            .expect("AES-GCM sealing cannot fail for in-memory data");
        (nonce, data)
    }

    /// Open what [`SealingKey::seal_detached`] sealed; `None`: wrong key, wrong associated
    /// data, or tampered bytes.
    pub fn open_detached(&self, aad: &[u8], nonce: &[u8], ciphertext: &[u8]) -> Option<String> {
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut data = ciphertext.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(aad), &mut data)
            .ok()?;
        String::from_utf8(plain.to_vec()).ok()
    }
}

/// The current key (seals) and previous ones (only open).
pub struct Keyring {
    current: SealingKey,
    previous: Vec<SealingKey>,
}

impl Keyring {
    pub fn new(current: SealingKey, previous: Vec<SealingKey>) -> Self {
        Self { current, previous }
    }

    /// The id of the key new values are sealed with.
    pub fn current_id(&self) -> &str {
        &self.current.id
    }

    /// Seal `plain` under the current key with a fresh random nonce: `(key id, nonce ||
    /// ciphertext || tag)`.
    pub fn seal(&self, aad: &[u8], plain: &str) -> (String, Vec<u8>) {
        let (nonce, data) = self.current.seal_detached(aad, plain);
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        (self.current.id.clone(), out)
    }

    /// Open a value sealed by the key `key_id`; `what` names it in errors.
    pub fn open(
        &self,
        what: &str,
        key_id: &str,
        aad: &[u8],
        sealed: &[u8],
    ) -> Result<String, SealError> {
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == key_id)
            .ok_or_else(|| SealError::UnknownKey {
                what: what.to_owned(),
                key_id: key_id.to_owned(),
                current: self.current.id.clone(),
            })?;
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN.min(sealed.len()));
        key.open_detached(aad, nonce, ciphertext)
            .ok_or_else(|| SealError::Open {
                what: what.to_owned(),
                key_id: key_id.to_owned(),
            })
    }
}

/// The keyring values are sealed with, or none (no secret key configured: values are stored
/// in the clear, and the daemon warns at start). Compared and printed by key ids only.
#[derive(Clone, Default)]
pub struct Sealing(pub Option<Arc<Keyring>>);

impl Sealing {
    /// A keyring from base64 keys: the current one and previous ones.
    pub fn from_base64(current: &str, previous: &[&str]) -> Result<Self, SealError> {
        Ok(Self(Some(Arc::new(Keyring::new(
            SealingKey::from_base64(current)?,
            previous
                .iter()
                .map(|p| SealingKey::from_base64(p))
                .collect::<Result<_, _>>()?,
        )))))
    }

    pub fn keyring(&self) -> Option<&Keyring> {
        self.0.as_deref()
    }
}

impl std::fmt::Debug for Sealing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            None => f.write_str("Sealing(none)"),
            Some(k) => write!(
                f,
                "Sealing(current {}, previous [{}])",
                k.current.id,
                k.previous
                    .iter()
                    .map(|p| p.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

impl PartialEq for Sealing {
    fn eq(&self, other: &Self) -> bool {
        format!("{self:?}") == format!("{other:?}")
    }
}

/// A value as stored: in the clear (written before sealing, or with no key configured) or
/// sealed. Its `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub enum Stored {
    Plain(String),
    Sealed { key_id: String, bytes: Vec<u8> },
}

impl std::fmt::Debug for Stored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Plain(_) => f.write_str("Plain(***)"),
            Self::Sealed { key_id, .. } => write!(f, "Sealed(key {key_id})"),
        }
    }
}

impl Stored {
    /// `plain` sealed when there is a keyring, in the clear otherwise.
    pub fn new(sealing: &Sealing, aad: &[u8], plain: &str) -> Self {
        match sealing.keyring() {
            Some(k) => {
                let (key_id, bytes) = k.seal(aad, plain);
                Self::Sealed { key_id, bytes }
            }
            None => Self::Plain(plain.to_owned()),
        }
    }

    /// From the columns `(plain, sealed, key id)`; `None` when no form is present.
    pub fn from_columns(
        plain: Option<String>,
        sealed: Option<Vec<u8>>,
        key_id: Option<String>,
    ) -> Option<Self> {
        match (plain, sealed, key_id) {
            (_, Some(bytes), Some(key_id)) => Some(Self::Sealed { key_id, bytes }),
            (Some(p), _, _) => Some(Self::Plain(p)),
            _ => None,
        }
    }

    /// The columns `(plain, sealed, key id)` of this value.
    pub fn columns(&self) -> (Option<&str>, Option<&[u8]>, Option<&str>) {
        match self {
            Self::Plain(p) => (Some(p), None, None),
            Self::Sealed { key_id, bytes } => (None, Some(bytes), Some(key_id)),
        }
    }

    /// The value in the clear.
    pub fn open(&self, sealing: &Sealing, what: &str, aad: &[u8]) -> Result<String, SealError> {
        match self {
            Self::Plain(p) => Ok(p.clone()),
            Self::Sealed { key_id, bytes } => sealing
                .keyring()
                .ok_or_else(|| SealError::NoKey {
                    what: what.to_owned(),
                })?
                .open(what, key_id, aad, bytes),
        }
    }

    /// Whether [`Stored::reseal`] would change it: in the clear, or sealed by another key
    /// than the current one (false without a keyring: nothing to seal with).
    pub fn needs_resealing(&self, sealing: &Sealing) -> bool {
        match (self, sealing.keyring()) {
            (_, None) => false,
            (Self::Plain(_), Some(_)) => true,
            (Self::Sealed { key_id, .. }, Some(k)) => key_id != k.current_id(),
        }
    }

    /// Sealed again with the current key.
    pub fn reseal(&self, sealing: &Sealing, what: &str, aad: &[u8]) -> Result<Self, SealError> {
        Ok(Self::new(sealing, aad, &self.open(sealing, what, aad)?))
    }
}

/// A new random key, base64 (what [`SealingKey::from_base64`] reads).
pub fn generate_key_base64() -> String {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("system random source");
    STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(current: &str, previous: &[&str]) -> Sealing {
        Sealing::from_base64(current, previous).unwrap()
    }

    #[test]
    fn seals_with_a_fresh_nonce_and_opens_only_with_its_key_and_row() {
        let (a, b) = (generate_key_base64(), generate_key_base64());
        let s = ring(&a, &[]);
        let one = Stored::new(&s, b"row-1", "whsec_abc");
        let two = Stored::new(&s, b"row-1", "whsec_abc");
        assert_ne!(one, two, "a fresh nonce per value");
        let Stored::Sealed { bytes, key_id } = &one else {
            panic!("sealed")
        };
        assert_eq!(key_id, s.keyring().unwrap().current_id());
        assert!(!bytes.windows(9).any(|w| w == b"whsec_abc"));
        assert_eq!(one.open(&s, "x", b"row-1").unwrap(), "whsec_abc");
        // Another row's id as associated data: refused.
        assert!(matches!(
            one.open(&s, "x", b"row-2"),
            Err(SealError::Open { .. })
        ));
        // A key with another id is not tried; a previous key opens; no key names the value.
        let other = ring(&b, &[]);
        let e = one.open(&other, "endpoint E", b"row-1").unwrap_err();
        assert!(matches!(e, SealError::UnknownKey { .. }), "{e}");
        assert!(e.to_string().contains("endpoint E"), "{e}");
        assert_eq!(
            one.open(&ring(&b, &[&a]), "x", b"row-1").unwrap(),
            "whsec_abc"
        );
        assert!(matches!(
            one.open(&Sealing::default(), "x", b"row-1"),
            Err(SealError::NoKey { .. })
        ));
    }

    #[test]
    fn resealing_moves_values_to_the_current_key() {
        let (a, b) = (generate_key_base64(), generate_key_base64());
        let old = ring(&a, &[]);
        let new = ring(&b, &[&a]);
        let plain = Stored::Plain("whsec_p".into());
        let sealed = Stored::new(&old, b"r", "whsec_s");
        assert!(!plain.needs_resealing(&Sealing::default()));
        assert!(plain.needs_resealing(&old));
        assert!(!sealed.needs_resealing(&old));
        assert!(sealed.needs_resealing(&new));
        let moved = sealed.reseal(&new, "x", b"r").unwrap();
        assert!(!moved.needs_resealing(&new));
        assert_eq!(moved.open(&ring(&b, &[]), "x", b"r").unwrap(), "whsec_s");
        assert_eq!(format!("{plain:?}"), "Plain(***)");
    }

    #[test]
    fn bad_keys_are_refused_with_a_reason() {
        assert!(SealingKey::from_base64("not base64!").is_err());
        let e = SealingKey::from_base64(&STANDARD.encode([0u8; 16]))
            .err()
            .unwrap();
        assert!(e.to_string().contains("32 bytes"), "{e}");
    }
}
