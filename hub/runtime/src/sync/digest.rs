//! The content hash of a mapped payload and the idempotency key of its write.
//!
//! * The hash is sha256 over the payload's JSON bytes as serialized: the mapping is
//!   deterministic, so the same item through the same mapping gives the same bytes, and an
//!   item whose mapped document did not change is not pushed again, whatever else changed in
//!   the core (a field the partner does not receive, the feed's seq).
//! * The key is derived from (partner, entity, sku, generation, hash): everything a crashed
//!   run that retries the same write knows again, so the partner sees the same key and
//!   applies the item once. The generation (confirmed writes of the item so far) is in it
//!   because content may come back (A → B → A): under a key derived from the hash alone the
//!   third write would be answered from the partner's idempotency store and never applied.
//! * The input hash ([`InputKey`]) is sha256 over what the mapped payload is a function of:
//!   the item's canonical JSON text as loaded, the mapping's content hash (its file and the
//!   lookup files it reads) and the version of the code that maps. The mapping engine is pure
//!   (no clock, no environment; what depends on the date, such as the prices valid today, is
//!   already in the item), so an equal input hash means an equal payload and the sync skips the
//!   item without decoding or mapping it.

use sha2::{Digest, Sha256};
use switchyard_mapping::Mapping;

/// Bumped when the mapping engine or the sync's items change what a payload is made of in a
/// way the item's text and the mapping's file do not show (a release that changes the meaning
/// of a mapping rule): every recorded input hash then misses once and the item is mapped and
/// compared by its payload's hash again. The package version is in the key too.
const INPUT_SCHEME: &str = "switchyard.sync.input/1";

/// The mapping's identity, hashed once per page; each item's input hash continues from it.
#[derive(Clone)]
pub struct InputKey {
    state: Sha256,
    basis: [u8; 32],
}

impl InputKey {
    pub fn new(mapping: &Mapping) -> Self {
        let mut h = Sha256::new();
        for part in [
            INPUT_SCHEME.as_bytes(),
            env!("CARGO_PKG_VERSION").as_bytes(),
            mapping.name.as_bytes(),
            mapping.hash.as_bytes(),
        ] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
        Self {
            basis: h.clone().finalize().into(),
            state: h,
        }
    }

    /// The mapping's identity alone (the input hash without the item): what a feed mark
    /// records, so a changed mapping, lookup file or release reads every item again.
    pub fn basis(&self) -> [u8; 32] {
        self.basis
    }

    /// The input hash of an item whose canonical JSON is `text`.
    pub fn hash(&self, text: &str) -> [u8; 32] {
        let mut h = self.state.clone();
        h.update(text.as_bytes());
        h.finalize().into()
    }
}

/// sha256 of the payload's serialized JSON.
pub fn content_hash(payload: &serde_json::Value) -> [u8; 32] {
    let mut hasher = Sha256::new();
    // Writing straight into the hasher: no intermediate buffer per item.
    let _ = serde_json::to_writer(HashWriter(&mut hasher), payload);
    hasher.finalize().into()
}

struct HashWriter<'a>(&'a mut Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The idempotency key of writing `hash` as the item's write number `generation + 1`.
pub fn write_key(
    partner: &str,
    entity: &str,
    sku: &str,
    generation: i64,
    hash: &[u8; 32],
) -> String {
    let mut h = Sha256::new();
    for part in [partner.as_bytes(), entity.as_bytes(), sku.as_bytes()] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.update(generation.to_be_bytes());
    h.update(hash);
    format!("sync-{}", hex::encode(&h.finalize()[..20]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_hash_is_of_the_serialized_payload() {
        let a = json!({"sku": "A-1", "title": "Plate"});
        let expected: [u8; 32] = Sha256::digest(serde_json::to_vec(&a).unwrap()).into();
        assert_eq!(content_hash(&a), expected);
        assert_ne!(
            content_hash(&a),
            content_hash(&json!({"sku": "A-1", "title": "Plates"}))
        );
    }

    fn mapping(text: &str) -> Mapping {
        switchyard_mapping::compile_str(text, std::path::Path::new("m"), "m").expect("compiles")
    }

    #[test]
    fn the_input_hash_changes_with_the_item_text_and_with_the_mapping_file() {
        const M: &str = "version = 1\nsource = { format = \"json\" }\ntarget = { format = \"json\" }\n[fields]\ntitle = \"name\"\n";
        let a = InputKey::new(&mapping(M));
        let text = r#"{"sku": "A-1", "name": "Plate"}"#;
        assert_eq!(a.hash(text), InputKey::new(&mapping(M)).hash(text));
        assert_ne!(a.hash(text), a.hash(r#"{"sku": "A-1", "name": "Plates"}"#));
        let b = InputKey::new(&mapping(&M.replace("\"name\"", "\"sku\"")));
        assert_ne!(a.hash(text), b.hash(text), "another mapping, another input");
        assert_eq!(a.basis(), InputKey::new(&mapping(M)).basis());
        assert_ne!(a.basis(), b.basis(), "another mapping, another basis");
    }

    #[test]
    fn keys_change_with_every_part_and_only_then() {
        let h = content_hash(&json!({"a": 1}));
        let k = write_key("shop", "catalog", "A-1", 0, &h);
        assert_eq!(k, write_key("shop", "catalog", "A-1", 0, &h));
        assert!(k.starts_with("sync-") && k.len() == 45, "{k}");
        assert_ne!(k, write_key("shop", "catalog", "A-1", 1, &h));
        assert_ne!(k, write_key("shop", "inventory", "A-1", 0, &h));
        assert_ne!(k, write_key("shops", "catalog", "A-1", 0, &h));
        assert_ne!(k, write_key("shop", "catalog", "A-2", 0, &h));
        assert_ne!(
            k,
            write_key("shop", "catalog", "A-1", 0, &content_hash(&json!({"a": 2})))
        );
        // Lengths are framed: ("ab", "c") and ("a", "bc") are different syncs.
        assert_ne!(
            write_key("ab", "c", "x", 0, &h),
            write_key("a", "bc", "x", 0, &h)
        );
    }
}
