-- Outbound webhook endpoints' signing secrets sealed at rest (issue #16).
--
-- A `whsec_` secret is what a receiver checks our signatures with: whoever reads it can sign
-- deliveries in our name. So it is stored as AES-256-GCM ciphertext (hub/store/src/sealing.rs):
-- `*_sealed` holds the 12-byte random nonce followed by the ciphertext and its tag, sealed
-- with the endpoint's id as associated data (a value copied onto another endpoint's row does
-- not open), and `*_key_id` names the key that sealed it (the first 8 bytes of the key's
-- SHA-256, hex), so the key can be rotated: the daemon re-seals every value under an older
-- key with the current one when it starts.
--
-- The plain `secret` / `previous_secret` columns stay, for exactly two cases: rows written
-- before this migration (the daemon seals them on its first start with a key configured), and
-- a daemon run with no secret key configured at all (development; it warns at start). A value
-- is in one form or the other, never both.
ALTER TABLE webhook_endpoints
    ALTER COLUMN secret DROP NOT NULL,
    ADD COLUMN secret_sealed          bytea,
    ADD COLUMN secret_key_id          text,
    ADD COLUMN previous_secret_sealed bytea,
    ADD COLUMN previous_secret_key_id text,
    ADD CONSTRAINT webhook_endpoints_secret_one_form
        CHECK ((secret IS NULL) <> (secret_sealed IS NULL)),
    ADD CONSTRAINT webhook_endpoints_secret_key_named
        CHECK ((secret_sealed IS NULL) = (secret_key_id IS NULL)),
    ADD CONSTRAINT webhook_endpoints_previous_secret_one_form
        CHECK (previous_secret IS NULL OR previous_secret_sealed IS NULL),
    ADD CONSTRAINT webhook_endpoints_previous_secret_key_named
        CHECK ((previous_secret_sealed IS NULL) = (previous_secret_key_id IS NULL));
