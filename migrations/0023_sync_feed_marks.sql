-- Change detection without reading the item (docs/ARCHITECTURE.md, "The sync engine"): next to
-- the input hash of 0015, where that input was read. An item is built from rows whose every
-- change moves its entry of the change feed (0009, 0011, 0013), so while its feed entry still
-- holds the seq it had when the confirmed input was read, under the same mapping identity, and
-- before the instant the calendar alone could change it, it is the same item: a sync skips it
-- on those three values, read with the confirmation, without Postgres building its canonical
-- JSON (that building was four fifths of the CPU of a full sync with nothing changed).
--
-- input_seq          the item's feed seq read BEFORE its input was loaded (a change
--                    committed in between only makes the mark older, never newer).
-- input_basis        sha256 of the mapping's identity and the code's version (the part of the
--                    input hash that is not the item's text).
-- input_valid_until  from this instant the item may read differently though the feed did not
--                    move: a price's next validity boundary (the day a list price, contract,
--                    discount or break starts or ends), a counted reservation's expiry. NULL:
--                    only a feed change changes it (the catalog).
-- All NULL (rows from before, tombstones, replays): the item is read and compared by its input
-- hash, and its mark recorded then.
ALTER TABLE sync_items
    ADD COLUMN input_seq bigint,
    ADD COLUMN input_basis bytea CHECK (input_basis IS NULL OR octet_length(input_basis) = 32),
    ADD COLUMN input_valid_until timestamptz;

-- A run's figures of how items were decided: skipped on their feed mark alone (not read), and
-- read from the core (their canonical input built). Examined = the two, plus removed items.
ALTER TABLE sync_states
    ADD COLUMN examined_fast bigint NOT NULL DEFAULT 0,
    ADD COLUMN built bigint NOT NULL DEFAULT 0;
