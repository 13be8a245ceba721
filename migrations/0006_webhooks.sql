-- Inbound webhook deliveries (POST /webhooks/{partner}): stored raw before they are answered,
-- deduplicated by the partner's event id, processed by a `webhook.process` job.
CREATE TABLE webhook_deliveries (
    id            uuid PRIMARY KEY,
    org_id        uuid NOT NULL REFERENCES organizations(id),
    partner       text NOT NULL,
    -- The partner's id of the event: a redelivery carries the same one.
    event_id      text NOT NULL,
    topic         text NOT NULL,
    -- Request headers with credentials and signatures masked.
    headers       jsonb NOT NULL,
    -- The body exactly as received (bytes: the signature was computed over them).
    body          bytea NOT NULL,
    -- The documents the adapter decoded from it.
    documents     jsonb NOT NULL,
    status        text NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'processed', 'failed')),
    job_id        uuid NOT NULL,
    -- Redeliveries of the same event answered 200 and not processed again.
    duplicates    integer NOT NULL DEFAULT 0,
    error         text,
    received_at   timestamptz NOT NULL,
    processed_at  timestamptz,
    UNIQUE (partner, event_id)
);

CREATE INDEX webhook_deliveries_org ON webhook_deliveries (org_id, received_at DESC, id DESC);
CREATE INDEX webhook_deliveries_received ON webhook_deliveries (received_at);
