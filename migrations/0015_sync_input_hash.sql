-- Change detection without mapping (docs/ARCHITECTURE.md, "The sync engine"): next to the hash
-- of the mapped payload a partner confirmed, the hash of what that payload was mapped FROM —
-- the item's canonical JSON text as loaded, the mapping's content hash (file and lookups) and
-- the mapping engine's version. Equal input, equal mapped payload: a sync that finds the same
-- input hash skips the item without decoding or mapping it. NULL (rows confirmed before this
-- migration, tombstones, replays): the item is mapped and compared as before, and its input
-- hash is recorded then.
ALTER TABLE sync_items
    ADD COLUMN input_hash bytea CHECK (input_hash IS NULL OR octet_length(input_hash) = 32);
