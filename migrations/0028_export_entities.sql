-- Exports, second part (issue #17; docs/ARCHITECTURE.md "Exports"): more entities, and the
-- mapping file an export may be reshaped through.

-- New entities: purchase orders (our orders forwarded to suppliers, 0018's `supplier_orders`)
-- and suppliers (the partners an organization forwards to or polls, as its database knows
-- them). `shipments` and `invoices` are admitted too: they are the entities of the shipments
-- and invoices work done beside this one (its own migration), and whichever of the two
-- migrations runs last must not take the other's entities away.
ALTER TABLE exports
    DROP CONSTRAINT exports_entity_check,
    ADD CONSTRAINT exports_entity_check CHECK (entity IN ('products', 'orders', 'order_lines',
        'inventory', 'customers', 'purchase_orders', 'suppliers', 'shipments', 'invoices'));

-- The mapping each row went through (a name under the mappings directory), or NULL for the
-- entity's own columns; and the version (content hash) the job used, so a file can be traced
-- to the exact mapping text that shaped it.
ALTER TABLE exports
    ADD COLUMN mapping text CHECK (mapping <> ''),
    ADD COLUMN mapping_hash text;
