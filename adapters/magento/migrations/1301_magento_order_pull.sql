-- The Magento adapter's own table (adapters/magento/src/order_pull.rs): where each store's
-- incremental order pull stands. `checkpoint` is the newest updated_at committed plus the
-- (entity_id, updated_at) pairs within the overlap (orders::Checkpoint as JSON). It moves in
-- the transaction that enqueues the pulled orders' imports, so a crash re-pulls, never skips.
-- Versions 1300-1399 are the Magento adapter's range.
CREATE TABLE magento_order_pulls (
    org_id      uuid NOT NULL REFERENCES organizations(id),
    partner     text NOT NULL,
    checkpoint  jsonb NOT NULL,
    pulled      bigint NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, partner)
);
