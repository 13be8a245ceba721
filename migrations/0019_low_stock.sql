-- Low stock alerts (issue #14): `inventory.low` once when a SKU's available stock at a
-- location falls to or below the level's `low_stock_threshold` (0009), not again until it
-- has recovered above it. Written by triggers in the writing transaction, like 0016's
-- inventory events, so every write path (REST upserts, imports, the supplier stock pull,
-- reservations) is covered and a rolled-back write leaves no alert.
--
-- Available = on_hand − allocated − the quantities of unreleased reservations held AT that
-- location. Per location only: a reservation without a location counts against the SKU's
-- total, which belongs to no location, and an aggregate alert across locations is left for
-- when someone needs it (a threshold per product would need a column of its own).
-- A threshold of 0 (the default) means "no alert".

-- Which levels are low right now: the row is the "already told" memory between crossings.
CREATE TABLE inventory_low_state (
    org_id    uuid NOT NULL,
    sku       text NOT NULL,
    location  text NOT NULL,
    since     timestamptz NOT NULL,
    PRIMARY KEY (org_id, sku, location)
);

CREATE FUNCTION inventory_low_check(p_org uuid, p_sku text, p_location text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_level     inventory_levels;
    v_reserved  numeric;
    v_available numeric;
BEGIN
    SELECT * INTO v_level FROM inventory_levels
    WHERE org_id = p_org AND sku = p_sku AND location = p_location;
    IF NOT FOUND OR v_level.low_stock_threshold <= 0 THEN
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
    IF v_available <= v_level.low_stock_threshold THEN
        INSERT INTO inventory_low_state (org_id, sku, location, since)
        VALUES (p_org, p_sku, p_location, clock_timestamp())
        ON CONFLICT DO NOTHING;
        IF FOUND THEN
            PERFORM event_record(p_org, 'inventory.low', jsonb_build_object(
                'sku', p_sku, 'location', p_location,
                'available', v_available::text, 'threshold', v_level.low_stock_threshold::text));
        END IF;
    ELSE
        DELETE FROM inventory_low_state
        WHERE org_id = p_org AND sku = p_sku AND location = p_location;
    END IF;
END $$;

CREATE FUNCTION inventory_levels_low() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM inventory_low_check(OLD.org_id, OLD.sku, OLD.location);
    ELSE
        PERFORM inventory_low_check(NEW.org_id, NEW.sku, NEW.location);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER inventory_levels_low AFTER INSERT OR UPDATE OR DELETE ON inventory_levels
    FOR EACH ROW EXECUTE FUNCTION inventory_levels_low();

CREATE FUNCTION inventory_reservation_lines_low() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    r inventory_reservation_lines;
BEGIN
    IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
    IF r.location IS NOT NULL THEN
        PERFORM inventory_low_check(r.org_id, r.sku, r.location);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER inventory_reservation_lines_low AFTER INSERT OR DELETE ON inventory_reservation_lines
    FOR EACH ROW EXECUTE FUNCTION inventory_reservation_lines_low();

-- A released or expired reservation gives its stock back.
CREATE FUNCTION inventory_reservations_low() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.released_at IS NULL AND NEW.released_at IS NOT NULL THEN
        PERFORM inventory_low_check(NEW.org_id, l.sku, l.location)
        FROM (SELECT DISTINCT sku, location FROM inventory_reservation_lines
              WHERE reservation_id = NEW.id AND location IS NOT NULL ORDER BY sku, location) l;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER inventory_reservations_low AFTER UPDATE ON inventory_reservations
    FOR EACH ROW EXECUTE FUNCTION inventory_reservations_low();
