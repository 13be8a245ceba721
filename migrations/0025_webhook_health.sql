-- Outbound webhooks, issue #16 continued: per-endpoint isolation settings, endpoint health,
-- and the PRD's signature option.
--
-- ISOLATION. `max_in_flight` and `rate_limit_per_sec` are enforced by the delivery handler
-- (hub/runtime/src/jobs/webhook_gate.rs) in each worker process: a delivery for an endpoint at
-- its limit is deferred (back to the queue, a later run_at, no attempt counted), so it never
-- holds a worker slot while it waits. They are settings of the endpoint because the receiver
-- is what they protect (and what protects the others from it).
--
-- HEALTH. `failing_since` is the time of the first failed delivery after the last success;
-- a success clears it. Throttling answers (429, 502, 503, 504) neither set nor clear it: the
-- receiver is alive and asking for less. An endpoint whose `failing_since` is older than
-- `[webhooks] disable_after_secs` when another delivery fails is disabled, in the transaction
-- that records a `webhook.endpoint.disabled` event.
ALTER TABLE webhook_endpoints
    ADD COLUMN max_in_flight      integer NOT NULL DEFAULT 4 CHECK (max_in_flight BETWEEN 1 AND 100),
    -- NULL: no rate limit.
    ADD COLUMN rate_limit_per_sec integer CHECK (rate_limit_per_sec BETWEEN 1 AND 10000),
    -- Also send `X-Switchyard-Signature: sha256=<hex>`, `X-Switchyard-Event` and
    -- `X-Switchyard-Delivery-ID` (the MonoPilot PRD's form), besides Standard Webhooks'.
    ADD COLUMN prd_signature      boolean NOT NULL DEFAULT false,
    ADD COLUMN failing_since      timestamptz;

-- Recover and replay look up an endpoint's attempts by event.
CREATE INDEX webhook_attempts_endpoint_event ON webhook_attempts (endpoint_id, event_id);
