//! Partner credentials at rest: AES-256-GCM (ring) with a key from the environment or a file.
//! Ciphertexts are loaded at start; a credential is decrypted only when the adapter that
//! references it is built, and it is never logged: [`Recording`] notes every resolved value
//! so that logs, stored errors and API answers mask it wherever it turns up.

use sqlx::PgPool;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use switchyard_core::adapter::{ConfigError, SecretResolver};
use switchyard_core::ids::OrgId;
use switchyard_core::redact::SecretValues;
use switchyard_store::sealing::{Keyring, SealError, Sealing, SealingKey};
use switchyard_store::secrets::{self as store, SealedSecret};

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("secret key: {0}")]
    Key(String),
    #[error("cannot decrypt secret `{0}`: wrong key or tampered ciphertext")]
    Decrypt(String),
    #[error("database: {0}")]
    Database(#[from] switchyard_store::StoreError),
}

/// The AES-256-GCM key (the store's [`SealingKey`]: the same cipher as webhook secrets; a
/// partner credential's nonce and ciphertext are stored apart, its name as associated data).
pub struct SecretBox {
    key: SealingKey,
}

impl SecretBox {
    /// From base64 (32 bytes once decoded).
    pub fn from_base64(text: &str) -> Result<Self, SecretError> {
        SealingKey::from_base64(text)
            .map(|key| Self { key })
            .map_err(|e| match e {
                SealError::Key(m) => SecretError::Key(m),
                other => SecretError::Key(other.to_string()),
            })
    }

    /// From the configured environment variable or file; None when neither is set.
    pub fn from_config(cfg: &crate::config::SecretsConfig) -> Result<Option<Self>, SecretError> {
        key_text(cfg)?
            .map(|text| Self::from_base64(&text))
            .transpose()
    }

    pub fn generate_key_base64() -> String {
        switchyard_store::sealing::generate_key_base64()
    }

    /// Encrypt with a fresh random nonce; the secret's name is bound as associated data so a
    /// ciphertext cannot be moved to another name.
    pub fn seal(&self, name: &str, plaintext: &str) -> (Vec<u8>, Vec<u8>) {
        let (nonce, data) = self.key.seal_detached(name.as_bytes(), plaintext);
        (nonce.to_vec(), data)
    }

    pub fn open(&self, name: &str, nonce: &[u8], ciphertext: &[u8]) -> Result<String, SecretError> {
        self.key
            .open_detached(name.as_bytes(), nonce, ciphertext)
            .ok_or_else(|| SecretError::Decrypt(name.into()))
    }
}

/// The current key's text: the environment variable, else the file; None when neither is set.
fn key_text(cfg: &crate::config::SecretsConfig) -> Result<Option<String>, SecretError> {
    if let Ok(v) = std::env::var(&cfg.key_env) {
        return Ok(Some(v));
    }
    cfg.key_file.as_deref().map(read_key_file).transpose()
}

fn read_key_file(path: &std::path::Path) -> Result<String, SecretError> {
    std::fs::read_to_string(path)
        .map_err(|e| SecretError::Key(format!("cannot read {}: {e}", path.display())))
}

/// The keyring outbound webhook endpoints' secrets are sealed with: the current key (as for
/// partner credentials) and the previous ones (`previous_key_env`, `previous_key_files`);
/// none without a current key. A key that does not parse is an error naming where it came
/// from.
pub fn webhook_sealing(cfg: &crate::config::SecretsConfig) -> Result<Sealing, SecretError> {
    let Some(current) = key_text(cfg)? else {
        return Ok(Sealing::default());
    };
    let parse = |text: &str, from: &str| {
        SealingKey::from_base64(text).map_err(|e| SecretError::Key(format!("{from}: {e}")))
    };
    let current = parse(&current, "the current key")?;
    let mut previous = Vec::new();
    if let Ok(list) = std::env::var(&cfg.previous_key_env) {
        for text in list.split(',').filter(|t| !t.trim().is_empty()) {
            previous.push(parse(text, &cfg.previous_key_env)?);
        }
    }
    for path in &cfg.previous_key_files {
        previous.push(parse(&read_key_file(path)?, &path.display().to_string())?);
    }
    Ok(Sealing(Some(Arc::new(Keyring::new(current, previous)))))
}

/// Store (or replace) a secret for an org, sealed.
pub async fn put(
    pool: &PgPool,
    sbox: &SecretBox,
    org: OrgId,
    name: &str,
    value: &str,
) -> Result<(), SecretError> {
    let (nonce, ciphertext) = sbox.seal(name, value);
    store::put(
        pool,
        org,
        &SealedSecret {
            name: name.to_owned(),
            nonce,
            ciphertext,
        },
    )
    .await?;
    Ok(())
}

/// Resolves `secret:NAME` (encrypted in Postgres) and `env:VAR` references.
pub struct Resolver {
    sbox: Option<SecretBox>,
    /// name → (nonce, ciphertext), still encrypted.
    sealed: HashMap<String, (Vec<u8>, Vec<u8>)>,
}

impl Resolver {
    pub async fn load(
        pool: &PgPool,
        org: OrgId,
        sbox: Option<SecretBox>,
    ) -> Result<Self, SecretError> {
        let rows = store::all_of(pool, org).await?;
        Ok(Self {
            sbox,
            sealed: rows
                .into_iter()
                .map(|s| (s.name, (s.nonce, s.ciphertext)))
                .collect(),
        })
    }

    pub fn empty() -> Self {
        Self {
            sbox: None,
            sealed: HashMap::new(),
        }
    }
}

impl SecretResolver for Resolver {
    fn resolve(&self, reference: &str) -> Result<String, ConfigError> {
        let err = |message: String| ConfigError::new(String::new(), message);
        if let Some(var) = reference.strip_prefix("env:") {
            return std::env::var(var)
                .map_err(|_| err(format!("environment variable `{var}` is not set")));
        }
        if let Some(name) = reference.strip_prefix("secret:") {
            let (nonce, ciphertext) = self.sealed.get(name).ok_or_else(|| {
                err(format!(
                    "no stored secret `{name}` (store it with `switchyard secret set`)"
                ))
            })?;
            let sbox = self.sbox.as_ref().ok_or_else(|| {
                err("secret key not configured (set SWITCHYARD_SECRET_KEY)".into())
            })?;
            return sbox
                .open(name, nonce, ciphertext)
                .map_err(|e| err(e.to_string()));
        }
        Err(err(
            "a credential reference must start with `secret:` or `env:`".into(),
        ))
    }
}

/// Which resolver a partner's `secret:` references go to: its organization's.
pub trait OrgSecrets: Send + Sync {
    fn for_org(&self, org: &str) -> &dyn SecretResolver;
}

/// Stored secrets per organization slug; an organization with none resolves only `env:`.
pub struct SecretsByOrg {
    pub by_org: BTreeMap<String, Resolver>,
    pub fallback: Resolver,
}

impl SecretsByOrg {
    /// The stored secrets of every organization in `orgs` (created when missing).
    pub async fn load(
        pool: &PgPool,
        config: &crate::config::SecretsConfig,
        orgs: impl IntoIterator<Item = String>,
    ) -> anyhow::Result<Self> {
        let mut by_org = BTreeMap::new();
        for org in orgs {
            if by_org.contains_key(&org) {
                continue;
            }
            let id = switchyard_store::orgs::ensure(pool, &org).await?.id;
            let sbox = SecretBox::from_config(config)?;
            by_org.insert(org, Resolver::load(pool, id, sbox).await?);
        }
        Ok(Self {
            by_org,
            fallback: Resolver::empty(),
        })
    }
}

impl OrgSecrets for SecretsByOrg {
    fn for_org(&self, org: &str) -> &dyn SecretResolver {
        self.by_org
            .get(org)
            .map(|r| r as &dyn SecretResolver)
            .unwrap_or(&self.fallback)
    }
}

/// Records every credential value the wrapped resolvers hand out (and the values adapters
/// derive from them) into [`SecretValues`], so logs, stored errors and API answers mask them
/// wherever they appear. The daemon wraps whatever resolves its secrets in this.
pub struct Recording {
    by_org: BTreeMap<String, Recorder>,
    fallback: Recorder,
}

struct Recorder {
    inner: Arc<dyn OrgSecrets>,
    org: String,
    values: SecretValues,
}

impl Recording {
    /// Record for the organizations in `orgs` (others resolve through the inner fallback).
    pub fn new(
        inner: Arc<dyn OrgSecrets>,
        orgs: impl IntoIterator<Item = String>,
        values: SecretValues,
    ) -> Self {
        let recorder = |org: String| Recorder {
            inner: inner.clone(),
            org,
            values: values.clone(),
        };
        Self {
            by_org: orgs
                .into_iter()
                .map(|org| (org.clone(), recorder(org)))
                .collect(),
            fallback: recorder(String::new()),
        }
    }
}

impl OrgSecrets for Recording {
    fn for_org(&self, org: &str) -> &dyn SecretResolver {
        self.by_org.get(org).unwrap_or(&self.fallback)
    }
}

impl SecretResolver for Recorder {
    fn resolve(&self, reference: &str) -> Result<String, ConfigError> {
        let value = self.inner.for_org(&self.org).resolve(reference)?;
        self.values.add(&value);
        Ok(value)
    }

    fn mask_also(&self, derived: &str) {
        self.values.add_derived(derived);
    }
}

/// Accepts any well-formed reference without resolving it, so `switchyard check` validates
/// the structure of every partner without a database or the secret key.
pub struct FormOnly;

impl OrgSecrets for FormOnly {
    fn for_org(&self, _org: &str) -> &dyn SecretResolver {
        self
    }
}

impl SecretResolver for FormOnly {
    fn resolve(&self, reference: &str) -> Result<String, ConfigError> {
        if reference.starts_with("secret:") || reference.starts_with("env:") {
            Ok("placeholder-for-check".into())
        } else {
            Err(ConfigError::new(
                String::new(),
                "a credential reference must start with `secret:` or `env:`",
            ))
        }
    }
}

/// One resolver for every organization (tests and the demo, whose partners' credentials come
/// from a map rather than the store).
pub struct SameForAll<R: SecretResolver>(pub R);

impl<R: SecretResolver> OrgSecrets for SameForAll<R> {
    fn for_org(&self, _org: &str) -> &dyn SecretResolver {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;

    #[test]
    fn seal_and_open_round_trip_and_bind_the_name() {
        let sbox = SecretBox::from_base64(&SecretBox::generate_key_base64()).unwrap();
        let (nonce, ct) = sbox.seal("shop-token", "s3cr3t");
        assert!(
            !ct.windows(6).any(|w| w == b"s3cr3t"),
            "ciphertext must not contain the plaintext"
        );
        assert_eq!(sbox.open("shop-token", &nonce, &ct).unwrap(), "s3cr3t");
        assert!(
            sbox.open("other-name", &nonce, &ct).is_err(),
            "moving a ciphertext to another name fails"
        );
        let other = SecretBox::from_base64(&SecretBox::generate_key_base64()).unwrap();
        assert!(
            other.open("shop-token", &nonce, &ct).is_err(),
            "the wrong key fails"
        );
    }

    #[test]
    fn bad_keys_are_rejected_with_a_reason() {
        assert!(SecretBox::from_base64("not base64!").is_err());
        let short = STANDARD.encode([0u8; 16]);
        let e = SecretBox::from_base64(&short).err().unwrap().to_string();
        assert!(e.contains("32 bytes"), "{e}");
    }

    #[test]
    fn resolver_handles_env_and_rejects_unknown_schemes() {
        let r = Resolver::empty();
        std::env::set_var("SWITCHYARD_TEST_RESOLVER_VAR", "v1");
        assert_eq!(r.resolve("env:SWITCHYARD_TEST_RESOLVER_VAR").unwrap(), "v1");
        assert!(r.resolve("env:SWITCHYARD_TEST_UNSET_VAR_XYZ").is_err());
        assert!(r
            .resolve("secret:nope")
            .unwrap_err()
            .message
            .contains("no stored secret"));
        assert!(r.resolve("plaintext-token").is_err());
    }

    #[test]
    fn form_only_checks_the_form_of_references() {
        assert!(FormOnly.resolve("secret:x").is_ok());
        assert!(FormOnly.resolve("env:X").is_ok());
        assert!(FormOnly.for_org("any").resolve("hunter2").is_err());
    }
}
