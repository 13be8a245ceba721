-- Exports (issue #17, FR-INT-008 / FR-INT-024): one row per requested export file. The file
-- itself is written by the `export.run` job under `[paths] exports` and streamed by
-- `GET /api/v1/exports/{id}/download`; `export.expire` (schedules/export-expiry.toml) deletes it
-- once `expires_at` has passed and marks the row `expired`, which is kept so a late download
-- answers 410 rather than 404.
CREATE TABLE exports (
    id            uuid PRIMARY KEY,
    org_id        uuid NOT NULL REFERENCES organizations(id),
    -- What is exported: the entities of switchyard_export::Entity::ALL.
    entity        text NOT NULL CHECK (entity IN ('products', 'orders', 'order_lines',
                      'inventory', 'customers')),
    format        text NOT NULL CHECK (format IN ('csv', 'json', 'xml')),
    -- switchyard_export::Filters as JSON (date range, status, product, location, archived).
    filters       jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(filters) = 'object'),
    state         text NOT NULL DEFAULT 'pending'
                      CHECK (state IN ('pending', 'running', 'succeeded', 'failed', 'expired')),
    -- Progress: rows written so far of the rows counted when the job started (the count is
    -- taken in the same snapshot as the rows, so done reaches total exactly).
    rows_done     bigint NOT NULL DEFAULT 0 CHECK (rows_done >= 0),
    rows_total    bigint CHECK (rows_total >= 0),
    bytes         bigint CHECK (bytes >= 0),
    -- Where the finished file is, on the disk of the process that wrote it.
    file_path     text,
    -- The job that writes it.
    job_id        uuid,
    error         text,
    created_at    timestamptz NOT NULL,
    started_at    timestamptz,
    finished_at   timestamptz,
    -- Set when the file is finished: finished_at + 24 h.
    expires_at    timestamptz,
    CHECK ((state = 'succeeded') <= (file_path IS NOT NULL AND expires_at IS NOT NULL)),
    CHECK ((state = 'failed') <= (error IS NOT NULL))
);
CREATE INDEX exports_org ON exports (org_id, created_at DESC);
-- The expiry job's scan: only finished files still on disk.
CREATE INDEX exports_due ON exports (expires_at) WHERE state = 'succeeded';
