-- The Shopify adapter's own table (adapters/shopify/src/order_pull.rs): where each shop's
-- incremental order pull stands. `checkpoint` is the newest updatedAt committed plus the
-- (id, updatedAt) pairs within the overlap (orders::Checkpoint as JSON). It moves in the
-- transaction that enqueues the pulled orders' imports, so a crash re-pulls, never skips.
-- Versions 1200-1299 are the Shopify adapter's range.
CREATE TABLE shopify_order_pulls (
    org_id      uuid NOT NULL REFERENCES organizations(id),
    partner     text NOT NULL,
    checkpoint  jsonb NOT NULL,
    pulled      bigint NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, partner)
);
