-- The core catalog (issue #11): what a storefront, marketplace or supplier needs of a product
-- beyond what an order line names, its variants, stock per location with soft reservations,
-- and the change feed every outbound sync reads. Prices and UOM conversions are
-- migrations/0008_pricing.sql.
--
-- THE CHANGE FEED
-- Every change to a product, a variant, its inventory or (once attached) its prices advances a
-- per-organization sequence, and the changed item keeps ONE row in `catalog_changes` with the
-- sequence of its latest change. A sync remembers the last sequence it handled (its
-- checkpoint) and reads `seq > checkpoint` in keyset pages, never scanning the catalog.
--
-- Why a head row per organization, locked: a sequence (or a clock) hands out numbers when a
-- transaction writes, not when it commits. With a plain sequence, T1 takes 5, T2 takes 6, T2
-- commits, a reader sees 6 and moves its checkpoint to 6, then T1 commits 5: lost for good.
-- Here the number comes from `UPDATE catalog_feed_heads SET seq = seq + 1`, in the same
-- transaction as the change; the row lock is held to commit, so T2 waits for T1 to end
-- before it gets its number. Within an organization, numbers are handed out in commit order:
-- once a reader sees seq N, every change below N is committed (or rolled back) already.
-- The price is that writers of one organization's catalog commit one after the other.
--
-- Lock order, against deadlocks: the head row first, then inventory rows (sorted by sku,
-- location), then the rest. A transaction that changes more than one row calls
-- `catalog_feed_lock(org)` before its first change (the store does, for every bulk write and
-- every reservation); a one-row write may skip it (its trigger takes the head after its row).
--
-- ATTACHING A TABLE TO THE FEED
-- A table whose rows carry `org_id` and a SKU column attaches with one trigger:
--
--   CREATE TRIGGER price_lists_feed AFTER INSERT OR UPDATE OR DELETE ON price_lists
--       FOR EACH ROW EXECUTE FUNCTION catalog_feed_touch('prices');          -- column `sku`
--   ... EXECUTE FUNCTION catalog_feed_touch('prices', 'product_sku');         -- another column
--
-- An UPDATE that changes nothing but `updated_at` records nothing. A DELETE, or a row whose
-- `deleted_at` is set, is recorded as a tombstone (`deleted`). A change that concerns many
-- SKUs without naming one in its row (a tier's percentage) records each affected SKU with
-- `SELECT catalog_feed_record(org, 'prices', sku, false) FROM ...`. Tables created by an
-- earlier migration (0008) attach in a later one, after this function exists.

-- Per-organization head: the last sequence number handed out.
CREATE TABLE catalog_feed_heads (
    org_id  uuid PRIMARY KEY REFERENCES organizations(id),
    seq     bigint NOT NULL DEFAULT 0
);

-- One row per changed item and entity, with the sequence of its latest change.
CREATE TABLE catalog_changes (
    org_id      uuid NOT NULL REFERENCES organizations(id),
    entity      text NOT NULL CHECK (entity IN ('catalog', 'inventory', 'prices')),
    sku         text NOT NULL,
    seq         bigint NOT NULL,
    -- The item is gone (deleted, or tombstoned with `deleted_at`): partners unpublish it.
    deleted     boolean NOT NULL DEFAULT false,
    changed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, entity, sku)
);
CREATE INDEX catalog_changes_feed ON catalog_changes (org_id, entity, seq);

-- Take the organization's head row (creating it on first use) and hold it to commit.
CREATE FUNCTION catalog_feed_lock(p_org uuid) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_seq bigint;
BEGIN
    INSERT INTO catalog_feed_heads (org_id) VALUES (p_org) ON CONFLICT (org_id) DO NOTHING;
    SELECT seq INTO v_seq FROM catalog_feed_heads WHERE org_id = p_org FOR UPDATE;
    RETURN v_seq;
END $$;

-- Record one change: the next number of the organization's head, on the item's one row.
CREATE FUNCTION catalog_feed_record(p_org uuid, p_entity text, p_sku text, p_deleted boolean)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_seq bigint;
BEGIN
    INSERT INTO catalog_feed_heads AS h (org_id, seq) VALUES (p_org, 1)
        ON CONFLICT (org_id) DO UPDATE SET seq = h.seq + 1
        RETURNING seq INTO v_seq;
    INSERT INTO catalog_changes AS c (org_id, entity, sku, seq, deleted, changed_at)
        VALUES (p_org, p_entity, p_sku, v_seq, p_deleted, now())
        ON CONFLICT (org_id, entity, sku) DO UPDATE
        SET seq = EXCLUDED.seq, deleted = EXCLUDED.deleted, changed_at = EXCLUDED.changed_at;
    RETURN v_seq;
END $$;

-- The generic row trigger: TG_ARGV[0] the entity, TG_ARGV[1] the SKU column (`sku` if absent).
-- Rows are read through jsonb so one function serves every table.
CREATE FUNCTION catalog_feed_touch() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_entity text := TG_ARGV[0];
    v_col    text := COALESCE(TG_ARGV[1], 'sku');
    v_new    jsonb;
    v_old    jsonb;
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        v_new := to_jsonb(NEW);
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        v_old := to_jsonb(OLD);
    END IF;
    IF TG_OP = 'UPDATE' AND (v_new - 'updated_at') = (v_old - 'updated_at') THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        PERFORM catalog_feed_record((v_old->>'org_id')::uuid, v_entity, v_old->>v_col, true);
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND (v_old->>v_col) IS DISTINCT FROM (v_new->>v_col) THEN
        -- A renamed item: the old name is gone.
        PERFORM catalog_feed_record((v_old->>'org_id')::uuid, v_entity, v_old->>v_col, true);
    END IF;
    PERFORM catalog_feed_record((v_new->>'org_id')::uuid, v_entity, v_new->>v_col,
        COALESCE(v_new->>'deleted_at', '') <> '');
    RETURN NULL;
END $$;

-- PRODUCTS: the columns a storefront needs, on the products table of 0005 (one table).
ALTER TABLE products
    ADD COLUMN short_description text,
    ADD COLUMN long_description  text,
    -- [{"name": "Yield Strength", "value": "36,000 PSI min", "unit": null, "display_order": 1}]
    ADD COLUMN specifications    jsonb NOT NULL DEFAULT '[]'::jsonb
        CHECK (jsonb_typeof(specifications) = 'array'),
    -- {"thickness": {"value": 0.25, "unit": "IN", "tolerance": {"min": .., "max": ..}}, ...}
    ADD COLUMN dimensions        jsonb NOT NULL DEFAULT '{}'::jsonb
        CHECK (jsonb_typeof(dimensions) = 'object'),
    ADD COLUMN material_grade         text,   -- A36, 304, 6061-T6
    ADD COLUMN material_specification text,   -- ASTM A36
    ADD COLUMN material_finish        text,   -- Hot Rolled, Mill Finish
    ADD COLUMN price_visibility  text NOT NULL DEFAULT 'public'
        CHECK (price_visibility IN ('public', 'login_required', 'quote_only')),
    ADD COLUMN availability_status text NOT NULL DEFAULT 'in_stock'
        CHECK (availability_status IN ('in_stock', 'low_stock', 'made_to_order', 'discontinued')),
    ADD COLUMN lead_time_days    integer CHECK (lead_time_days >= 0),
    -- Not published to storefronts until someone says so: products that exist only for
    -- order checks (0005) stay off the web.
    ADD COLUMN web_visible       boolean NOT NULL DEFAULT false,
    ADD COLUMN tags              text[] NOT NULL DEFAULT '{}',
    ADD COLUMN seo_slug          text CHECK (seo_slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    ADD COLUMN seo_title         text,
    ADD COLUMN seo_description   text,
    -- A tombstone: a removed product stays, so the feed can tell partners to unpublish it.
    ADD COLUMN deleted_at        timestamptz;
CREATE UNIQUE INDEX products_seo_slug ON products (org_id, seo_slug) WHERE seo_slug IS NOT NULL;
-- The listing's `updated_since` filter (pages go in SKU order, by the primary key).
CREATE INDEX products_updated ON products (org_id, updated_at);

CREATE TRIGGER products_feed AFTER INSERT OR UPDATE OR DELETE ON products
    FOR EACH ROW EXECUTE FUNCTION catalog_feed_touch('catalog');

-- A variant is sold under its own SKU (one per thickness, length, finish ...) and belongs to
-- one product. A SKU names a product or a variant, never both (the store checks it under the
-- head lock).
CREATE TABLE product_variants (
    org_id       uuid NOT NULL REFERENCES organizations(id),
    sku          text NOT NULL CHECK (sku <> ''),
    parent_sku   text NOT NULL,
    name         text,
    -- {"thickness": "1/4 in", "finish": "Hot Rolled"}
    options      jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(options) = 'object'),
    gtin         text,
    deleted_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, sku),
    FOREIGN KEY (org_id, parent_sku) REFERENCES products(org_id, sku) ON DELETE CASCADE
);
CREATE INDEX product_variants_parent ON product_variants (org_id, parent_sku);

-- A variant's change is its own (under its SKU) and its product's: a storefront that pushes
-- a product with its variants (Shopify) re-sends the product.
CREATE TRIGGER product_variants_feed AFTER INSERT OR UPDATE OR DELETE ON product_variants
    FOR EACH ROW EXECUTE FUNCTION catalog_feed_touch('catalog');
CREATE FUNCTION product_variant_parent_feed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_row product_variants;
BEGIN
    IF TG_OP = 'DELETE' THEN v_row := OLD; ELSE v_row := NEW; END IF;
    IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - 'updated_at') = (to_jsonb(OLD) - 'updated_at') THEN
        RETURN NULL;
    END IF;
    -- The product is changed, not gone (unless it is itself tombstoned or being deleted).
    PERFORM catalog_feed_record(v_row.org_id, 'catalog', p.sku, p.deleted_at IS NOT NULL)
    FROM products p WHERE p.org_id = v_row.org_id AND p.sku = v_row.parent_sku;
    RETURN NULL;
END $$;

CREATE TRIGGER product_variants_parent_feed AFTER INSERT OR UPDATE OR DELETE ON product_variants
    FOR EACH ROW EXECUTE FUNCTION product_variant_parent_feed();

-- Warehouses, with the states / regions each ships to.
CREATE TABLE inventory_locations (
    org_id      uuid NOT NULL REFERENCES organizations(id),
    code        text NOT NULL CHECK (code <> ''),
    name        text NOT NULL,
    city        text,
    region      text,
    ships_to    text[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, code)
);

-- Stock of one SKU (product or variant) at one location. Quantities are in the product's
-- base unit, exact decimals (steel is sold by the pound and the foot).
CREATE TABLE inventory_levels (
    org_id               uuid NOT NULL REFERENCES organizations(id),
    sku                  text NOT NULL CHECK (sku <> ''),
    location             text NOT NULL,
    on_hand              numeric NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
    allocated            numeric NOT NULL DEFAULT 0 CHECK (allocated >= 0),
    on_order             numeric NOT NULL DEFAULT 0 CHECK (on_order >= 0),
    low_stock_threshold  numeric NOT NULL DEFAULT 0 CHECK (low_stock_threshold >= 0),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, sku, location),
    FOREIGN KEY (org_id, location) REFERENCES inventory_locations(org_id, code)
);

CREATE TRIGGER inventory_levels_feed AFTER INSERT OR UPDATE OR DELETE ON inventory_levels
    FOR EACH ROW EXECUTE FUNCTION catalog_feed_touch('inventory');

-- A soft reservation (a cart before checkout): it lowers what is available until it expires
-- or is released. Released rows are kept (released_at, why) for the record.
CREATE TABLE inventory_reservations (
    id              uuid PRIMARY KEY,
    org_id          uuid NOT NULL REFERENCES organizations(id),
    -- The cart, session or customer the reservation is for.
    reference       text NOT NULL CHECK (reference <> ''),
    expires_at      timestamptz NOT NULL,
    released_at     timestamptz,
    release_reason  text CHECK (release_reason IN ('released', 'expired')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((released_at IS NULL) = (release_reason IS NULL))
);
-- The expiry job's scan: only what is still held.
CREATE INDEX inventory_reservations_active ON inventory_reservations (expires_at)
    WHERE released_at IS NULL;
CREATE INDEX inventory_reservations_org ON inventory_reservations (org_id, created_at);

-- What one reservation holds: a quantity of a SKU at a location, or anywhere (location NULL:
-- it counts against the SKU's total across locations).
CREATE TABLE inventory_reservation_lines (
    reservation_id  uuid NOT NULL REFERENCES inventory_reservations(id) ON DELETE CASCADE,
    line            integer NOT NULL,
    org_id          uuid NOT NULL REFERENCES organizations(id),
    sku             text NOT NULL,
    location        text,
    quantity        numeric NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (reservation_id, line),
    FOREIGN KEY (org_id, location) REFERENCES inventory_locations(org_id, code)
);
CREATE INDEX inventory_reservation_lines_sku ON inventory_reservation_lines (org_id, sku);

-- A new reservation's lines lower availability: an inventory change of their SKUs.
CREATE TRIGGER inventory_reservation_lines_feed AFTER INSERT OR DELETE ON inventory_reservation_lines
    FOR EACH ROW EXECUTE FUNCTION catalog_feed_touch('inventory');

-- A reservation released or expired raises availability again: an inventory change of each
-- SKU it held.
CREATE FUNCTION inventory_reservation_feed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.released_at IS NULL AND NEW.released_at IS NOT NULL THEN
        PERFORM catalog_feed_record(NEW.org_id, 'inventory', l.sku, false)
        FROM (SELECT DISTINCT sku FROM inventory_reservation_lines
              WHERE reservation_id = NEW.id ORDER BY sku) l;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER inventory_reservations_feed AFTER UPDATE ON inventory_reservations
    FOR EACH ROW EXECUTE FUNCTION inventory_reservation_feed();
