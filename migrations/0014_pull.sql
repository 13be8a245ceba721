-- The scheduled pull from the distributor's core system (issue #11, the third way the core
-- catalog is fed): where each pull (partner, entity) stands and how its last run went.
--
-- A pull is a pass over the partner's records, page by page. `cursor` is the partner's cursor
-- of the next page of the pass in progress (NULL: the next run starts a new pass). It moves in
-- the statement that adds a page's figures, after the page's records were stored (upserts
-- that are idempotent by key), so a run that dies re-reads at most the page it was on and
-- re-storing it changes nothing. A full pull on demand forgets the cursor first.
CREATE TABLE pull_states (
    org_id          uuid NOT NULL REFERENCES organizations(id),
    partner         text NOT NULL,
    entity          text NOT NULL CHECK (entity IN ('products', 'inventory', 'prices')),
    cursor          text,
    -- Pages read in the pass in progress (or the last one).
    pages           bigint NOT NULL DEFAULT 0,
    -- The last run (a run resumed after a crash keeps counting under the same job).
    run_job_id      uuid,
    run_full        boolean NOT NULL DEFAULT false,
    run_state       text NOT NULL DEFAULT 'never'
        CHECK (run_state IN ('never', 'running', 'succeeded', 'failed')),
    run_started_at  timestamptz,
    run_finished_at timestamptz,
    -- Records read; stored new; stored changed; equal to what was stored (nothing written,
    -- the change feed did not move); dead-lettered (mapping or validation).
    seen            bigint NOT NULL DEFAULT 0,
    created         bigint NOT NULL DEFAULT 0,
    updated         bigint NOT NULL DEFAULT 0,
    unchanged       bigint NOT NULL DEFAULT 0,
    failed          bigint NOT NULL DEFAULT 0,
    last_error      text,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (org_id, partner, entity)
);
