-- Product imports (docs/ARCHITECTURE.md, "Product imports"): files read through mapping files
-- (MonoPilot's product template, FR-INT-018), validated, previewed, then confirmed into the
-- same products table the REST bulk upsert writes.

-- What the canonical product carries and the products table did not: its type
-- (raw_material / semi_finished / finished_good for MonoPilot), its tax code, and the rest of a
-- template's columns (allergens, shelf life, storage temperature) as one JSON object, so a new
-- template column needs no migration. One products table: an import and the REST API write
-- the same rows, and the change feed's trigger sees these columns like any other.
ALTER TABLE products
    ADD COLUMN product_type text,
    ADD COLUMN tax_code     text,
    ADD COLUMN attributes   jsonb NOT NULL DEFAULT '{}'::jsonb
        CHECK (jsonb_typeof(attributes) = 'object');

-- One uploaded file. A file that could not be read at all is kept too (state `failed`, with
-- its error): nothing a client sent is lost.
CREATE TABLE product_imports (
    id            uuid PRIMARY KEY,
    org_id        uuid NOT NULL REFERENCES organizations(id),
    mapping       text NOT NULL,
    -- The mapping's content hash when the file was read (the version that validated it).
    mapping_hash  text NOT NULL,
    file_name     text NOT NULL,
    format        text NOT NULL CHECK (format IN ('csv', 'json', 'jsonl', 'xml')),
    state         text NOT NULL CHECK (state IN ('validated', 'confirmed', 'applied', 'failed')),
    row_count     integer NOT NULL CHECK (row_count >= 0),
    valid_count   integer NOT NULL CHECK (valid_count >= 0 AND valid_count <= row_count),
    error         text,
    -- The policy the import was confirmed with.
    on_conflict   text CHECK (on_conflict IN ('skip', 'update')),
    created_at    timestamptz NOT NULL,
    confirmed_at  timestamptz,
    applied_at    timestamptz
);
CREATE INDEX product_imports_org ON product_imports (org_id, created_at DESC);

-- One record of the file: where it was, what it said, what the mapping made of it (or why it
-- could not), and after confirmation what became of it. A row's outcome is written in the
-- transaction that writes its product, so an interrupted confirmation resumes where it was.
CREATE TABLE product_import_rows (
    import_id     uuid NOT NULL REFERENCES product_imports(id) ON DELETE CASCADE,
    -- 1-based record number (a CSV's first data row is 1).
    row_number    integer NOT NULL CHECK (row_number > 0),
    -- `CSV line 3`, a JSON pointer, an XML path.
    location      text NOT NULL,
    sku           text,
    source        jsonb NOT NULL,
    -- The canonical product; NULL when the row is invalid.
    product       jsonb,
    -- [{"field": "product_code", "target": "sku", "message": "..."}]; empty when valid.
    errors        jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(errors) = 'array'),
    CHECK ((product IS NULL) = (errors <> '[]'::jsonb)),
    -- Set at confirmation for each valid row: the import's policy or the row's override.
    decision      text CHECK (decision IN ('skip', 'update')),
    outcome       text CHECK (outcome IN ('created', 'updated', 'unchanged', 'skipped', 'failed')),
    outcome_error text,
    PRIMARY KEY (import_id, row_number)
);
