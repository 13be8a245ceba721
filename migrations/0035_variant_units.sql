-- How many of its product's base unit one piece of a variant is (issue #12): a round bar kept
-- in stock and priced per FT is sold as 12 ft and 20 ft lengths, so its variants have units 12
-- and 20. The core keeps stock and prices by the product's SKU in the base unit; a storefront
-- that only knows the variants' SKUs (Shopify) gets each variant's stock (floor of the
-- product's available / units) and price (the product's × units) from the sync items, which
-- carry the variants with units (docs/ARCHITECTURE.md, "The catalog and the change feed").
-- NULL: the variant is not a quantity of the product's unit (a finish, a colour): its stock
-- and prices are its own, under its own SKU, as before.
ALTER TABLE product_variants
    ADD COLUMN units numeric CHECK (units > 0);

-- The inventory and prices items of a product carry its live variants' units, so a variant
-- added, removed, moved to another product or given other units changes those items: record
-- them in the feed (0009's variant triggers record only `catalog`), or a sync that trusts the
-- feed (0023's marks) would never re-send them. Only variants with units (before or after)
-- are in those items; the others change nothing there.
CREATE FUNCTION variant_units_feed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_parents text[];
    v_org uuid;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF (OLD.units, OLD.parent_sku, OLD.deleted_at IS NULL, OLD.sku)
           IS NOT DISTINCT FROM (NEW.units, NEW.parent_sku, NEW.deleted_at IS NULL, NEW.sku)
           OR (OLD.units IS NULL AND NEW.units IS NULL) THEN
            RETURN NULL;
        END IF;
        v_org := NEW.org_id;
        v_parents := ARRAY[OLD.parent_sku, NEW.parent_sku];
    ELSIF TG_OP = 'INSERT' THEN
        IF NEW.units IS NULL OR NEW.deleted_at IS NOT NULL THEN
            RETURN NULL;
        END IF;
        v_org := NEW.org_id;
        v_parents := ARRAY[NEW.parent_sku];
    ELSE
        IF OLD.units IS NULL OR OLD.deleted_at IS NOT NULL THEN
            RETURN NULL;
        END IF;
        v_org := OLD.org_id;
        v_parents := ARRAY[OLD.parent_sku];
    END IF;
    -- The product's items are changed, not gone (unless the product itself is removed).
    PERFORM catalog_feed_record(v_org, e.entity, p.sku, p.deleted_at IS NOT NULL)
    FROM products p, (VALUES ('inventory'), ('prices')) AS e(entity)
    WHERE p.org_id = v_org AND p.sku = ANY(SELECT DISTINCT unnest(v_parents))
    ORDER BY p.sku, e.entity;
    RETURN NULL;
END $$;

CREATE TRIGGER product_variants_units_feed AFTER INSERT OR UPDATE OR DELETE ON product_variants
    FOR EACH ROW EXECUTE FUNCTION variant_units_feed();
