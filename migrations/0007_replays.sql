-- Replays the partner can recognise, and replay requests a client can safely retry.

-- The key the partner sees for the job's effect when it is not the job's own idempotency key:
-- a replay carries the original document's key, so a partner that applied the original (and
-- whose answer was lost) answers the replay from its idempotency store instead of applying the
-- document twice. NULL for every job that is not a replay.
ALTER TABLE jobs ADD COLUMN effect_key text;

-- One row per replay request made with an `Idempotency-Key`: the same key again returns the
-- jobs of the first request instead of replaying once more.
CREATE TABLE replay_requests (
    org_id        uuid NOT NULL REFERENCES organizations(id),
    request_key   text NOT NULL,
    -- SHA-256 of the request (dead letters, payload, force): the same key with a different
    -- request is refused.
    fingerprint   bytea NOT NULL,
    job_ids       uuid[] NOT NULL,
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (org_id, request_key)
);

CREATE INDEX replay_requests_created ON replay_requests (created_at);
