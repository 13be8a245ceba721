-- The spine: tenants, the job queue, dead letters, integration logs, API keys,
-- schedules, secrets. Switchyard owns this schema and its SQL (docs/ARCHITECTURE.md
-- explains why apalis-postgres could not hold the queue).

CREATE TABLE organizations (
    id          uuid PRIMARY KEY,
    slug        text NOT NULL UNIQUE,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per job. A job is never deleted while it or its dead letter is retained, which is
-- what keeps its idempotency key reserved.
CREATE TABLE jobs (
    id              uuid PRIMARY KEY,
    org_id          uuid NOT NULL REFERENCES organizations(id),
    kind            text NOT NULL,
    partner         text,
    payload         jsonb NOT NULL,
    idempotency_key text,
    state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'running', 'succeeded', 'retrying', 'dead')),
    attempts        integer NOT NULL DEFAULT 0,
    max_attempts    integer NOT NULL CHECK (max_attempts >= 1),
    retry_policy    text NOT NULL CHECK (retry_policy IN ('immediate', 'exponential', 'manual')),
    -- When the job may run next. NULL means "held": a manual-policy job waiting for an admin.
    run_at          timestamptz,
    -- The claiming worker's lease; another worker may take the job once it has passed.
    lease_until     timestamptz,
    worker_id       uuid,
    last_error      text,
    -- Every failed attempt: [{attempt, at, class, message, status}]
    errors          jsonb NOT NULL DEFAULT '[]'::jsonb,
    -- The dead letter this job replays, if any.
    replay_of       uuid,
    correlation_id  text,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    finished_at     timestamptz
);

CREATE UNIQUE INDEX jobs_idempotency_key ON jobs (org_id, kind, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
-- The claim query walks this small partial index only.
CREATE INDEX jobs_ready ON jobs (run_at) WHERE state IN ('pending', 'retrying');
CREATE INDEX jobs_leased ON jobs (lease_until) WHERE state = 'running';
CREATE INDEX jobs_org_state ON jobs (org_id, state, id);
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE state = 'succeeded';

-- One NOTIFY per INSERT statement (not per row) wakes idle workers; bulk enqueues stay cheap.
CREATE FUNCTION switchyard_notify_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('switchyard_jobs', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER jobs_notify AFTER INSERT ON jobs
    FOR EACH STATEMENT EXECUTE FUNCTION switchyard_notify_jobs();

CREATE TABLE dead_letters (
    id                  uuid PRIMARY KEY,
    job_id              uuid NOT NULL UNIQUE REFERENCES jobs(id) ON DELETE CASCADE,
    org_id              uuid NOT NULL REFERENCES organizations(id),
    kind                text NOT NULL,
    partner             text,
    -- The original payload, untouched, so a replay can start from it.
    payload             jsonb NOT NULL,
    reason              text NOT NULL,
    error_class         text NOT NULL,
    errors              jsonb NOT NULL,
    attempts            integer NOT NULL,
    state               text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'replayed', 'deleted')),
    admin_note          text,
    replay_count        integer NOT NULL DEFAULT 0,
    last_replay_job_id  uuid,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);

CREATE INDEX dead_letters_org ON dead_letters (org_id, state, created_at DESC);
CREATE INDEX dead_letters_created ON dead_letters (created_at);

-- Every exchange with a partner, every API call, every webhook: one row.
CREATE TABLE integration_logs (
    id                uuid PRIMARY KEY,
    org_id            uuid REFERENCES organizations(id),
    at                timestamptz NOT NULL,
    integration_type  text NOT NULL
                      CHECK (integration_type IN ('api', 'webhook', 'edi', 'adapter', 'import', 'export')),
    event_type        text NOT NULL,
    direction         text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    status            text NOT NULL CHECK (status IN ('success', 'warning', 'error')),
    http_status       integer,
    request_body      jsonb,
    response_body     jsonb,
    error_message     text,
    partner           text,
    job_id            uuid,
    retry_count       integer,
    correlation_id    text,
    duration_ms       integer,
    search            tsvector GENERATED ALWAYS AS (
                          to_tsvector('simple',
                              coalesce(request_body::text, '') || ' ' ||
                              coalesce(response_body::text, '') || ' ' ||
                              coalesce(error_message, ''))
                      ) STORED
);

CREATE INDEX integration_logs_org_at ON integration_logs (org_id, at DESC, id DESC);
CREATE INDEX integration_logs_partner_at ON integration_logs (partner, at DESC);
CREATE INDEX integration_logs_job ON integration_logs (job_id);
CREATE INDEX integration_logs_search ON integration_logs USING gin (search);

-- API keys: only a SHA-256 of the key is stored (a 256-bit random key needs no slow hash).
CREATE TABLE api_keys (
    id            uuid PRIMARY KEY,
    org_id        uuid NOT NULL REFERENCES organizations(id),
    name          text NOT NULL,
    -- The first characters of the key, shown in listings so a user can tell keys apart.
    prefix        text NOT NULL,
    key_hash      bytea NOT NULL UNIQUE,
    scopes        text[] NOT NULL,
    tier          text NOT NULL DEFAULT 'standard' CHECK (tier IN ('basic', 'standard', 'premium')),
    state         text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'suspended', 'revoked')),
    expires_at    timestamptz,
    last_used_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX api_keys_org ON api_keys (org_id, created_at);

-- The last tick each schedule fired, for the missed-tick policy after downtime. Ticks
-- themselves are deduplicated across processes by the job's idempotency key.
CREATE TABLE schedule_state (
    name        text PRIMARY KEY,
    last_tick   timestamptz NOT NULL
);

-- Partner credentials, encrypted with AES-256-GCM (key from SWITCHYARD_SECRET_KEY or a file).
CREATE TABLE secrets (
    org_id      uuid NOT NULL REFERENCES organizations(id),
    name        text NOT NULL,
    nonce       bytea NOT NULL,
    ciphertext  bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, name)
);
