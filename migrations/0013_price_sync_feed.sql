-- The price sync pushes per-group and per-customer prices, price rows can be deleted, and a
-- location's change reaches the inventory sync (issue #11).
--
-- 1. SET-BASED FEED RECORDS. A change that reaches many SKUs (a tier's percentage, a customer's
--    tier, an all-products discount: every product of the organization) used to record them one
--    `catalog_feed_record` call per SKU, per row: deleting a tier with 1,000 customers on it
--    (their assignments cascade) in a 10,000-product catalog made ten million calls.
--    `catalog_feed_record_set` records any number of SKUs in two statements: the head moves by
--    their number once, and each SKU gets its own number in SKU order (readers page by number,
--    so two SKUs never share one).
--
-- 2. PRICE TRIGGERS PER STATEMENT. 0011's row triggers are replaced by statement triggers
--    with transition tables: the rows a statement changed are reduced to what they reach
--    (a SKU, a price list, a category, or the whole catalog), each reach once, then expanded to
--    SKUs once, then recorded in one set. An upload of 500 tiers touches each product once, not
--    500 times. Postgres allows transition tables on one event per trigger, hence three
--    triggers per table. An UPDATE that changed nothing but `updated_at` records nothing: such
--    a row is the same in the old and the new transition table, and only rows that differ count
--    (both sides of a changed row do: a discount moved from one product to another reaches both).
--
-- 3. CUSTOMERS' ACTIVE FLAG. The price sync pushes the prices of active customers only; a
--    customer deactivated or reactivated who has price terms moves the prices of the whole
--    catalog (its tier or discounts can reach every product), in one set.
--
-- 4. LOCATIONS. The inventory sync's item carries each location's name and the regions it ships
--    to (inventory::stock); a change to a location records an inventory change for every SKU
--    stocked there, so the sync re-examines them and the content hash decides what to push.

-- Record a change of each of `p_skus` (duplicates ignored), never a tombstone: what the price
-- and location triggers record. The caller holds, or this takes, the organization's head.
CREATE FUNCTION catalog_feed_record_set(p_org uuid, p_entity text, p_skus text[])
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_skus text[] := ARRAY(SELECT DISTINCT s FROM unnest(p_skus) s WHERE s IS NOT NULL ORDER BY s);
    v_n    integer := cardinality(v_skus);
    v_top  bigint;
BEGIN
    IF v_n = 0 THEN
        RETURN;
    END IF;
    INSERT INTO catalog_feed_heads AS h (org_id, seq) VALUES (p_org, v_n)
        ON CONFLICT (org_id) DO UPDATE SET seq = h.seq + v_n
        RETURNING seq INTO v_top;
    INSERT INTO catalog_changes AS c (org_id, entity, sku, seq, deleted, changed_at)
        SELECT p_org, p_entity, s.sku, v_top - v_n + s.i, false, now()
        FROM unnest(v_skus) WITH ORDINALITY AS s(sku, i)
        ON CONFLICT (org_id, entity, sku) DO UPDATE
        SET seq = EXCLUDED.seq, deleted = EXCLUDED.deleted, changed_at = EXCLUDED.changed_at;
END $$;

-- What a price row reaches, as (kind, argument): ('sku', SKU), ('list', price list id),
-- ('category', category), ('all', NULL). The same rules as 0011's price_feed_skus.
CREATE FUNCTION price_feed_reach(p_table text, p_row jsonb, OUT kind text, OUT arg text)
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p_table = 'price_lists' THEN 'list'
        WHEN p_table = 'customer_discounts' AND p_row->>'scope' = 'product' THEN 'sku'
        WHEN p_table = 'customer_discounts' AND p_row->>'scope' = 'category' THEN 'category'
        WHEN p_table IN ('customer_discounts', 'price_tiers', 'customer_tiers') THEN 'all'
        ELSE 'sku' END,
      CASE
        WHEN p_table = 'price_lists' THEN p_row->>'price_list_id'
        WHEN p_table = 'customer_discounts' AND p_row->>'scope' = 'category' THEN p_row->>'category'
        WHEN p_table IN ('customer_discounts', 'price_tiers', 'customer_tiers')
             AND COALESCE(p_row->>'scope', '') <> 'product' THEN NULL
        ELSE p_row->>'sku' END
$$;

-- The SKUs of `p_org` one reach covers.
CREATE FUNCTION price_feed_reach_skus(p_org uuid, p_kind text, p_arg text) RETURNS SETOF text
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_kind = 'sku' THEN
        RETURN NEXT p_arg;
    ELSIF p_kind = 'list' THEN
        RETURN QUERY SELECT DISTINCT lp.sku FROM list_prices lp
            WHERE lp.org_id = p_org AND lp.price_list_id = p_arg;
    ELSIF p_kind = 'category' THEN
        -- As 0011: the category and its sub-categories, level by level.
        RETURN QUERY SELECT p.sku FROM products p
            WHERE p.org_id = p_org
              AND (category_path(p.category) = category_path(p_arg)
                   OR category_path(p.category) LIKE category_path(p_arg) || '>%');
    ELSE
        RETURN QUERY SELECT p.sku FROM products p WHERE p.org_id = p_org;
    END IF;
END $$;

-- Record a `prices` change for every SKU the rows `p_rows` of `p_table` reach: each reach
-- expanded once, each organization's SKUs recorded in one set.
CREATE FUNCTION price_feed_record_rows(p_table text, p_rows jsonb[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v record;
BEGIN
    FOR v IN
        WITH reach AS (
            SELECT DISTINCT (r->>'org_id')::uuid AS org, x.kind, x.arg
            FROM unnest(p_rows) r, LATERAL price_feed_reach(p_table, r) x),
        -- The whole catalog covers every other reach of its organization.
        needed AS (
            SELECT * FROM reach r
            WHERE r.kind = 'all'
               OR NOT EXISTS (SELECT 1 FROM reach a WHERE a.org = r.org AND a.kind = 'all'))
        SELECT n.org, array_agg(s.sku) AS skus
        FROM needed n, LATERAL price_feed_reach_skus(n.org, n.kind, n.arg) s(sku)
        GROUP BY n.org ORDER BY n.org
    LOOP
        PERFORM catalog_feed_record_set(v.org, 'prices', v.skus);
    END LOOP;
END $$;

-- The statement trigger of every price table.
CREATE FUNCTION price_feed_touch_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM price_feed_record_rows(TG_TABLE_NAME, ARRAY(SELECT to_jsonb(n) FROM new_rows n));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM price_feed_record_rows(TG_TABLE_NAME, ARRAY(SELECT to_jsonb(o) FROM old_rows o));
    ELSE
        PERFORM price_feed_record_rows(TG_TABLE_NAME, ARRAY(
            (SELECT to_jsonb(n) - 'updated_at' FROM new_rows n
             EXCEPT SELECT to_jsonb(o) - 'updated_at' FROM old_rows o)
            UNION ALL
            (SELECT to_jsonb(o) - 'updated_at' FROM old_rows o
             EXCEPT SELECT to_jsonb(n) - 'updated_at' FROM new_rows n)));
    END IF;
    RETURN NULL;
END $$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['price_lists', 'list_prices', 'price_tiers', 'customer_tiers',
                             'customer_discounts', 'price_contracts', 'volume_breaks',
                             'product_uom_conversions']
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_feed', t);
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION price_feed_touch_rows()',
                       t || '_feed_insert', t);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I
                        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION price_feed_touch_rows()',
                       t || '_feed_update', t);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION price_feed_touch_rows()',
                       t || '_feed_delete', t);
    END LOOP;
END $$;

DROP FUNCTION price_feed_touch();
DROP FUNCTION price_feed_skus(text, jsonb);

-- 3. A customer with price terms (re)activated or deactivated.
CREATE FUNCTION customer_active_price_feed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v record;
BEGIN
    FOR v IN
        SELECT DISTINCT n.org_id FROM new_rows n JOIN old_rows o USING (org_id, customer_id)
        WHERE n.active IS DISTINCT FROM o.active
          AND (EXISTS (SELECT 1 FROM customer_tiers t
                       WHERE t.org_id = n.org_id AND t.customer_id = n.customer_id)
               OR EXISTS (SELECT 1 FROM customer_discounts d
                          WHERE d.org_id = n.org_id AND d.customer_id = n.customer_id)
               OR EXISTS (SELECT 1 FROM price_contracts k
                          WHERE k.org_id = n.org_id AND k.customer_id = n.customer_id))
        ORDER BY 1
    LOOP
        PERFORM catalog_feed_record_set(v.org_id, 'prices',
            ARRAY(SELECT p.sku FROM products p WHERE p.org_id = v.org_id));
    END LOOP;
    RETURN NULL;
END $$;

CREATE TRIGGER customers_active_price_feed AFTER UPDATE ON customers
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION customer_active_price_feed();

-- 4. A location's name, place or regions changed: an inventory change of every SKU stocked
-- there. (A new location has no stock yet; a location with stock cannot be deleted.)
CREATE FUNCTION inventory_location_feed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v record;
BEGIN
    FOR v IN
        SELECT n.org_id, array_agg(l.sku) AS skus
        FROM new_rows n
        JOIN old_rows o USING (org_id, code)
        JOIN inventory_levels l ON l.org_id = n.org_id AND l.location = n.code
        WHERE (n.name, n.city, n.region, n.ships_to)
              IS DISTINCT FROM (o.name, o.city, o.region, o.ships_to)
        GROUP BY n.org_id ORDER BY n.org_id
    LOOP
        PERFORM catalog_feed_record_set(v.org_id, 'inventory', v.skus);
    END LOOP;
    RETURN NULL;
END $$;

CREATE TRIGGER inventory_locations_feed AFTER UPDATE ON inventory_locations
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION inventory_location_feed();
