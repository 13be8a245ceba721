-- The row of `shopify_bulk_operations` (migration 1202) becomes the connection's lease, so two
-- processes pushing the same (org, partner) never submit two bulk mutations at once
-- (adapters/shopify/src/bulk_lease.rs). A push claims the row atomically (INSERT … ON CONFLICT
-- DO UPDATE … WHERE the lease is free, expired or already its own), renews `lease_until` while
-- it stages, runs and follows its operation, and gives the lease up when done: the row is
-- deleted when nothing is left in flight, else kept with `owner` NULL for the next push to
-- follow. Another process waits while the lease is live and never adopts the operation of a
-- live owner; a crashed owner's lease expires and its operation is adopted as before.
-- A row holding only a lease (no operation yet) has `lines` = '[]'.
ALTER TABLE shopify_bulk_operations
    ADD COLUMN owner       text,
    ADD COLUMN lease_until timestamptz;
