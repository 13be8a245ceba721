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

-- Two changes that moved no feed entry of the entity they change, which a full sync used to
-- find by reading every item and now must be told of, as every other change is:
-- 1. A product's unit, category or price visibility: its prices item is built from them
--    (the base unit prices are asked in, category discounts, quote only).
CREATE FUNCTION product_price_terms_feed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (OLD.uom, OLD.category, OLD.price_visibility)
       IS DISTINCT FROM (NEW.uom, NEW.category, NEW.price_visibility) THEN
        PERFORM catalog_feed_record(NEW.org_id, 'prices', NEW.sku, NEW.deleted_at IS NOT NULL);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER products_price_terms_feed AFTER UPDATE OF uom, category, price_visibility ON products
    FOR EACH ROW EXECUTE FUNCTION product_price_terms_feed();

-- 2. A variant removed or brought back: it has stock of its own under its SKU, and the
--    inventory sync withdraws it (0011 does the same for a product).
CREATE FUNCTION variant_removal_feed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (OLD.deleted_at IS NULL) IS DISTINCT FROM (NEW.deleted_at IS NULL) THEN
        PERFORM catalog_feed_record(NEW.org_id, 'inventory', NEW.sku, NEW.deleted_at IS NOT NULL);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER product_variants_removal_feed AFTER UPDATE OF deleted_at ON product_variants
    FOR EACH ROW EXECUTE FUNCTION variant_removal_feed();
