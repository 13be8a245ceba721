-- The sync engine (docs/ARCHITECTURE.md, "The sync engine"): what each partner confirmed of
-- each item, and where each sync (partner, entity) stands in the change feed of 0009.

-- One row per item a partner has confirmed: the sha256 of the mapped payload it accepted and
-- its id for it. Written only after the partner confirmed the write, in the same transaction
-- that advances the sync's checkpoint past the item.
CREATE TABLE sync_items (
    org_id          uuid NOT NULL REFERENCES organizations(id),
    partner         text NOT NULL,
    entity          text NOT NULL CHECK (entity IN ('catalog', 'inventory', 'prices')),
    sku             text NOT NULL,
    confirmed_hash  bytea NOT NULL CHECK (octet_length(confirmed_hash) = 32),
    -- Confirmed writes of this item so far. Part of the next write's idempotency key, so a
    -- payload that comes back to an earlier content (A → B → A) is a new write to the partner
    -- while a write retried after a crash (not yet confirmed here) reuses its key.
    generation      bigint NOT NULL CHECK (generation > 0),
    external_id     text,
    -- The confirmed payload was the mapping's tombstone (unpublish or delete).
    tombstone       boolean NOT NULL DEFAULT false,
    confirmed_at    timestamptz NOT NULL,
    PRIMARY KEY (org_id, partner, entity, sku)
);

-- One row per sync: its checkpoint in the feed, a full sync in progress, and its last run.
CREATE TABLE sync_states (
    org_id          uuid NOT NULL REFERENCES organizations(id),
    partner         text NOT NULL,
    entity          text NOT NULL CHECK (entity IN ('catalog', 'inventory', 'prices')),
    -- Every feed entry up to this seq is confirmed by the partner, unchanged, or dead-lettered.
    checkpoint      bigint NOT NULL DEFAULT 0 CHECK (checkpoint >= 0),
    -- A full sync in progress: the last SKU committed ('' before the first page), the feed
    -- head when it began (where the checkpoint lands when it ends) and whether it is forced.
    full_cursor     text,
    full_target     bigint,
    full_force      boolean NOT NULL DEFAULT false,
    -- The last run (a run resumed after a crash keeps counting under the same job).
    run_job_id      uuid,
    run_full        boolean NOT NULL DEFAULT false,
    run_state       text NOT NULL DEFAULT 'never' CHECK (run_state IN ('never', 'running', 'succeeded', 'failed')),
    run_started_at  timestamptz,
    run_finished_at timestamptz,
    examined        bigint NOT NULL DEFAULT 0,
    pushed          bigint NOT NULL DEFAULT 0,
    skipped         bigint NOT NULL DEFAULT 0,
    failed          bigint NOT NULL DEFAULT 0,
    last_error      text,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (org_id, partner, entity)
);
