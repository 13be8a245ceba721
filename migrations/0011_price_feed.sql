-- Prices join the change feed (issue #11). The price tables (0008) came before the feed (0009),
-- so they attach here.
--
-- A price row is not an item: deleting a list price does not delete the product, so these
-- triggers never record a tombstone. They record a `prices` change, not deleted, for every SKU
-- whose price the row can move — before and after the change — and the sync reads the SKU's
-- prices as they are now. Rows that name a SKU touch that SKU; rows that do not (a price
-- list's currency or dates, a tier's percentage, a customer's tier, a category or
-- all-products discount) touch every SKU they price, which can be the whole catalog: that is
-- what such a change is.
--
-- An UPDATE that changes nothing but `updated_at` records nothing, as in catalog_feed_touch, so
-- an idempotent re-upload of the same prices moves no sync.

-- `Steel > Flat > Sheet` as `steel>flat>sheet`: the levels trimmed, case-folded, empty ones dropped.
CREATE FUNCTION category_path(p text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT btrim(regexp_replace(lower(p), '\s*>[\s>]*', '>', 'g'), ' >')
$$;

CREATE FUNCTION price_feed_skus(p_table text, p_row jsonb) RETURNS SETOF text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_org uuid := (p_row->>'org_id')::uuid;
BEGIN
    IF p_table = 'price_lists' THEN
        RETURN QUERY SELECT DISTINCT lp.sku FROM list_prices lp
            WHERE lp.org_id = v_org AND lp.price_list_id = p_row->>'price_list_id';
    ELSIF p_table = 'customer_discounts' AND p_row->>'scope' = 'product' THEN
        RETURN NEXT p_row->>'sku';
    ELSIF p_table = 'customer_discounts' AND p_row->>'scope' = 'category' THEN
        -- A category discount covers the category and its sub-categories, compared level by
        -- level as the resolver does (catalog::pricing: trimmed, case-folded, `steel>flat` is
        -- `Steel > Flat`). A `%` or `_` in a name can only touch more SKUs, never fewer.
        RETURN QUERY SELECT p.sku FROM products p
            WHERE p.org_id = v_org
              AND (category_path(p.category) = category_path(p_row->>'category')
                   OR category_path(p.category) LIKE category_path(p_row->>'category') || '>%');
    ELSIF p_table IN ('customer_discounts', 'price_tiers', 'customer_tiers') THEN
        RETURN QUERY SELECT p.sku FROM products p WHERE p.org_id = v_org;
    ELSE
        RETURN NEXT p_row->>'sku';
    END IF;
END $$;

CREATE FUNCTION price_feed_touch() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_new jsonb;
    v_old jsonb;
    v_org uuid;
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
    v_org := COALESCE(v_new->>'org_id', v_old->>'org_id')::uuid;
    PERFORM catalog_feed_record(v_org, 'prices', s.sku, false)
    FROM (SELECT price_feed_skus(TG_TABLE_NAME, v_old) AS sku WHERE v_old IS NOT NULL
          UNION
          SELECT price_feed_skus(TG_TABLE_NAME, v_new) WHERE v_new IS NOT NULL) s
    WHERE s.sku IS NOT NULL
    ORDER BY s.sku;
    RETURN NULL;
END $$;

CREATE TRIGGER price_lists_feed AFTER INSERT OR UPDATE OR DELETE ON price_lists
    FOR EACH ROW EXECUTE FUNCTION price_feed_touch();
CREATE TRIGGER list_prices_feed AFTER INSERT OR UPDATE OR DELETE ON list_prices
    FOR EACH ROW EXECUTE FUNCTION price_feed_touch();
CREATE TRIGGER price_tiers_feed AFTER INSERT OR UPDATE OR DELETE ON price_tiers
    FOR EACH ROW EXECUTE FUNCTION price_feed_touch();
CREATE TRIGGER customer_tiers_feed AFTER INSERT OR UPDATE OR DELETE ON customer_tiers
    FOR EACH ROW EXECUTE FUNCTION price_feed_touch();
CREATE TRIGGER customer_discounts_feed AFTER INSERT OR UPDATE OR DELETE ON customer_discounts
    FOR EACH ROW EXECUTE FUNCTION price_feed_touch();
CREATE TRIGGER price_contracts_feed AFTER INSERT OR UPDATE OR DELETE ON price_contracts
    FOR EACH ROW EXECUTE FUNCTION price_feed_touch();
CREATE TRIGGER volume_breaks_feed AFTER INSERT OR UPDATE OR DELETE ON volume_breaks
    FOR EACH ROW EXECUTE FUNCTION price_feed_touch();
-- A unit conversion moves the price asked in another unit, and it is product data too.
CREATE TRIGGER product_uom_conversions_feed AFTER INSERT OR UPDATE OR DELETE ON product_uom_conversions
    FOR EACH ROW EXECUTE FUNCTION price_feed_touch();
CREATE TRIGGER product_uom_conversions_catalog_feed AFTER INSERT OR UPDATE OR DELETE ON product_uom_conversions
    FOR EACH ROW EXECUTE FUNCTION catalog_feed_touch('catalog');

-- A product removed (or brought back) changes its prices and its stock for every partner too:
-- the prices and inventory syncs read the feed of their own entity, so the tombstone is
-- recorded there as well, and each sync pushes its own tombstone form (no price, none
-- available).
CREATE FUNCTION product_removal_feed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (OLD.deleted_at IS NULL) IS DISTINCT FROM (NEW.deleted_at IS NULL) THEN
        PERFORM catalog_feed_record(NEW.org_id, 'inventory', NEW.sku, NEW.deleted_at IS NOT NULL);
        PERFORM catalog_feed_record(NEW.org_id, 'prices', NEW.sku, NEW.deleted_at IS NOT NULL);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER products_removal_feed AFTER UPDATE OF deleted_at ON products
    FOR EACH ROW EXECUTE FUNCTION product_removal_feed();
