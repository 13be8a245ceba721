-- Low-stock thresholds per product, per location and per organization (issue #14: "a
-- configurable threshold per product or location"), beside the one each level already has,
-- and `inventory.updated` for a change of `on_hand_at_least` alone.
--
-- PRECEDENCE, most specific first; the first that is set is the level's threshold:
--   1. product + location: the level's own `inventory_levels.low_stock_threshold`;
--   2. product:            a rule naming the SKU (a product's or a variant's, exactly; a
--                          variant does not inherit its parent product's rule);
--   3. location:           a rule naming the location;
--   4. default:            the organization's rule naming neither;
--   otherwise 0, which means "no alert". A threshold of 0 that is SET is also "no alert" and
--   stops the search: a level set to 0 is silent even when its product has a threshold.
-- "Not set" at the level is NULL, so the level's column loses its NOT NULL and its default:
-- before this migration 0 meant both "never set" and "off", which came to the same thing while
-- nothing was inherited. Existing zeros become NULL (inherit), which with no rules is still
-- "off"; the level triggers are disabled for that rewrite so it records no events and moves
-- no change feed (nothing a partner sees changed).

ALTER TABLE inventory_levels ALTER COLUMN low_stock_threshold DROP NOT NULL,
    ALTER COLUMN low_stock_threshold DROP DEFAULT;
ALTER TABLE inventory_levels DISABLE TRIGGER USER;
UPDATE inventory_levels SET low_stock_threshold = NULL WHERE low_stock_threshold = 0;
ALTER TABLE inventory_levels ENABLE TRIGGER USER;

-- The rules of scopes 2-4. The product + location scope stays on the level row, where the
-- REST levels upsert and the pull mappings (`reorderPoint`) already write it.
CREATE TABLE low_stock_thresholds (
    org_id      uuid NOT NULL REFERENCES organizations(id),
    sku         text CHECK (sku <> ''),
    location    text,
    threshold   numeric NOT NULL CHECK (threshold >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (sku IS NULL OR location IS NULL),
    FOREIGN KEY (org_id, location) REFERENCES inventory_locations(org_id, code)
);
-- One rule per scope; NULLS NOT DISTINCT (Postgres 15) so the default rule is one row too.
CREATE UNIQUE INDEX low_stock_thresholds_scope ON low_stock_thresholds (org_id, sku, location)
    NULLS NOT DISTINCT;

-- The threshold that applies to a level whose own is `p_own` (NULL: not set there).
CREATE FUNCTION inventory_low_threshold(p_org uuid, p_sku text, p_location text, p_own numeric)
RETURNS numeric LANGUAGE sql STABLE AS $$
    SELECT COALESCE(
        p_own,
        (SELECT threshold FROM low_stock_thresholds
         WHERE org_id = p_org AND sku = p_sku AND location IS NULL),
        (SELECT threshold FROM low_stock_thresholds
         WHERE org_id = p_org AND sku IS NULL AND location = p_location),
        (SELECT threshold FROM low_stock_thresholds
         WHERE org_id = p_org AND sku IS NULL AND location IS NULL),
        0)
$$;

-- 0019's check with the threshold found by precedence; otherwise the same: one event per
-- downward crossing, remembered in inventory_low_state until the level recovers above it.
CREATE OR REPLACE FUNCTION inventory_low_check(p_org uuid, p_sku text, p_location text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_level     inventory_levels;
    v_threshold numeric;
    v_reserved  numeric;
    v_available numeric;
BEGIN
    SELECT * INTO v_level FROM inventory_levels
    WHERE org_id = p_org AND sku = p_sku AND location = p_location;
    IF FOUND THEN
        v_threshold := inventory_low_threshold(p_org, p_sku, p_location, v_level.low_stock_threshold);
    END IF;
    IF NOT FOUND OR v_threshold <= 0 THEN
        DELETE FROM inventory_low_state
        WHERE org_id = p_org AND sku = p_sku AND location = p_location;
        RETURN;
    END IF;
    SELECT COALESCE(sum(l.quantity), 0) INTO v_reserved
    FROM inventory_reservation_lines l
    JOIN inventory_reservations r ON r.id = l.reservation_id
    WHERE l.org_id = p_org AND l.sku = p_sku AND l.location = p_location
      AND r.released_at IS NULL;
    v_available := v_level.on_hand - v_level.allocated - v_reserved;
    IF v_available <= v_threshold THEN
        INSERT INTO inventory_low_state (org_id, sku, location, since)
        VALUES (p_org, p_sku, p_location, clock_timestamp())
        ON CONFLICT DO NOTHING;
        IF FOUND THEN
            PERFORM event_record(p_org, 'inventory.low', jsonb_build_object(
                'sku', p_sku, 'location', p_location,
                'available', v_available::text, 'threshold', v_threshold::text));
        END IF;
    ELSE
        DELETE FROM inventory_low_state
        WHERE org_id = p_org AND sku = p_sku AND location = p_location;
    END IF;
END $$;

-- A rule set, changed or removed: every level in its scope is checked again (a lowered or new
-- threshold can be a crossing; a raised one a recovery), in (sku, location) order.
CREATE FUNCTION low_stock_thresholds_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    r low_stock_thresholds;
BEGIN
    FOREACH r IN ARRAY CASE TG_OP WHEN 'INSERT' THEN ARRAY[NEW] WHEN 'DELETE' THEN ARRAY[OLD]
                                  ELSE ARRAY[OLD, NEW] END LOOP
        PERFORM inventory_low_check(r.org_id, l.sku, l.location)
        FROM (SELECT sku, location FROM inventory_levels
              WHERE org_id = r.org_id
                AND (r.sku IS NULL OR sku = r.sku)
                AND (r.location IS NULL OR location = r.location)
              ORDER BY sku, location) l;
    END LOOP;
    RETURN NULL;
END $$;
CREATE TRIGGER low_stock_thresholds_check AFTER INSERT OR UPDATE OR DELETE ON low_stock_thresholds
    FOR EACH ROW EXECUTE FUNCTION low_stock_thresholds_check();

-- inventory.updated (0016) also when only `on_hand_at_least` changed: a "100+" that became an
-- exact 100 (or the reverse) is a change of what may be promised, and the data says which.
CREATE OR REPLACE FUNCTION inventory_levels_events() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    r inventory_levels;
BEGIN
    IF TG_OP = 'DELETE' THEN
        r := OLD;
        r.on_hand := 0; r.allocated := 0; r.on_order := 0; r.on_hand_at_least := false;
    ELSE
        r := NEW;
    END IF;
    IF TG_OP = 'UPDATE'
        AND (OLD.on_hand, OLD.allocated, OLD.on_order, OLD.low_stock_threshold, OLD.on_hand_at_least)
        IS NOT DISTINCT FROM
            (NEW.on_hand, NEW.allocated, NEW.on_order, NEW.low_stock_threshold, NEW.on_hand_at_least)
    THEN
        RETURN NULL;
    END IF;
    PERFORM event_record(r.org_id, 'inventory.updated', jsonb_build_object(
        'sku', r.sku, 'location', r.location, 'on_hand', r.on_hand::text,
        'allocated', r.allocated::text, 'on_order', r.on_order::text,
        'on_hand_at_least', r.on_hand_at_least));
    RETURN NULL;
END $$;
