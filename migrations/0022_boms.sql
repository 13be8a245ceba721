-- Bills of materials and the import half of issue #17 (docs/ARCHITECTURE.md, "Product
-- imports"): BOM imports go through the same import tables as product imports (one upload,
-- report, preview and confirmation flow), and land in `boms` / `bom_items`.
--
-- The products table needs nothing new: 0012 gave it `product_type`, `tax_code` and the
-- `attributes` object that holds allergens, shelf life and storage temperature.

-- What an import brings in, and XLSX files (read with calamine, then through the same mapping
-- as a CSV file of the template's columns).
ALTER TABLE product_imports
    ADD COLUMN entity text NOT NULL DEFAULT 'products' CHECK (entity IN ('products', 'boms')),
    DROP CONSTRAINT product_imports_format_check,
    ADD CONSTRAINT product_imports_format_check
        CHECK (format IN ('csv', 'json', 'jsonl', 'xml', 'xlsx'));

-- One version of one product's bill of materials. A version is kept as it was applied; a new
-- version is a new row, and an import with the conflict policy `update` replaces the items of
-- a version that exists (`updated_at` moves, `bom.updated` is recorded).
CREATE TABLE boms (
    id          uuid PRIMARY KEY,
    org_id      uuid NOT NULL REFERENCES organizations(id),
    product_sku text NOT NULL,
    version     integer NOT NULL CHECK (version > 0),
    -- The import that last wrote it.
    import_id   uuid REFERENCES product_imports(id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    FOREIGN KEY (org_id, product_sku) REFERENCES products (org_id, sku),
    UNIQUE (org_id, product_sku, version)
);

-- The lines of a BOM version, in file order. Each carries its organization, so a component
-- can only ever be a product of the BOM's own organization (the foreign key says so).
CREATE TABLE bom_items (
    bom_id             uuid NOT NULL REFERENCES boms(id) ON DELETE CASCADE,
    org_id             uuid NOT NULL REFERENCES organizations(id),
    line               integer NOT NULL CHECK (line > 0),
    component_sku      text NOT NULL,
    qty                numeric NOT NULL CHECK (qty > 0),
    -- The component's unit (the import checks it is the component product's own).
    unit               text NOT NULL,
    operation_sequence integer CHECK (operation_sequence > 0),
    is_byproduct       boolean NOT NULL DEFAULT false,
    PRIMARY KEY (bom_id, line),
    FOREIGN KEY (org_id, component_sku) REFERENCES products (org_id, sku)
);
CREATE INDEX bom_items_component ON bom_items (org_id, component_sku);

-- BOMS: bom.created (a version inserted), bom.updated (a version's items replaced, which
-- moves its `updated_at`). Data: {"product_sku", "version", "items"}. Recorded by a trigger
-- for the reason 0016 gives: no write path can forget it, and a rolled-back import leaves none.
-- The item count is read when the statement on `boms` runs: the import writes the items first.
CREATE FUNCTION boms_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.updated_at IS NOT DISTINCT FROM NEW.updated_at THEN
        RETURN NULL;
    END IF;
    PERFORM event_record(NEW.org_id,
        CASE WHEN TG_OP = 'INSERT' THEN 'bom.created' ELSE 'bom.updated' END,
        jsonb_build_object('product_sku', NEW.product_sku, 'version', NEW.version,
            'items', (SELECT count(*) FROM bom_items i WHERE i.bom_id = NEW.id)));
    RETURN NULL;
END $$;
CREATE TRIGGER boms_events AFTER INSERT OR UPDATE ON boms
    FOR EACH ROW EXECUTE FUNCTION boms_events();

-- EXPORTS: export.completed when an export's file is finished (state becomes `succeeded`), for
-- webhooks and the e-mail link the PRD mentions. Data: {"export_id", "entity", "format",
-- "rows", "bytes", "expires_at", "download"}.
CREATE FUNCTION exports_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state = 'succeeded' AND OLD.state IS DISTINCT FROM 'succeeded' THEN
        PERFORM event_record(NEW.org_id, 'export.completed', jsonb_build_object(
            'export_id', NEW.id, 'entity', NEW.entity, 'format', NEW.format,
            'rows', NEW.rows_done, 'bytes', NEW.bytes,
            'expires_at', to_char(NEW.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
            'download', '/api/v1/exports/' || NEW.id || '/download'));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER exports_events AFTER UPDATE ON exports
    FOR EACH ROW EXECUTE FUNCTION exports_events();
