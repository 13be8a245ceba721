-- The bulk mutation a Shopify connection has in flight (adapters/shopify/src/bulk_store.rs).
-- Shopify runs one bulk mutation per app and shop at a time, hence one row per connection.
-- The row is written before the operation is submitted (operation_id still NULL), gets the
-- operation's gid once Shopify accepted it, and is deleted once its result was read. A process
-- that finds a row (it crashed, or gave up waiting) follows that operation and reads its result
-- instead of submitting the same lines again. `lines` is the uploaded file's order:
-- [[sku, identity, digest], ...], the digest being SHA-256 of the line's variables, so a
-- result line confirms a write only for the same content.
CREATE TABLE shopify_bulk_operations (
    org_id        uuid NOT NULL REFERENCES organizations(id),
    partner       text NOT NULL,
    operation_id  text,
    lines         jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, partner)
);
