-- The test integration's own tables (tests/src/probe.rs): greetings its job writes, webhook
-- events its processor records. Versions 9000+ are the probe's range.
CREATE TABLE probe_greetings (
    id          uuid PRIMARY KEY,
    org_id      uuid NOT NULL REFERENCES organizations(id),
    name        text NOT NULL,
    greeting    text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE probe_webhook_events (
    delivery_id uuid PRIMARY KEY,
    event_id    text NOT NULL,
    topic       text NOT NULL,
    processed   integer NOT NULL DEFAULT 1
);
