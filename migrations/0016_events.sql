-- Outbound webhooks (issue #16): domain events recorded in a transactional outbox, the
-- endpoints that subscribe to them, and every delivery attempt. (0006_webhooks.sql is the
-- INBOUND side: deliveries partners send us.)
--
-- WHY TRIGGERS RECORD THE EVENTS
-- An event must exist exactly when its change was committed. The catalog is written by the
-- REST bulk upserts (1,000 rows in one statement), product imports, scheduled pulls, the price
-- uploads and hand-written SQL; the change feed (0009) already learned that only a trigger sees
-- every one of those paths. So events are written by triggers in the writing transaction: a
-- rolled-back change leaves no event, and no write path can forget one. The store's code does
-- not change, and a bulk statement gets its events from the same statement.
--
-- WHY THE FAN-OUT IS IN THE SAME TRANSACTION
-- Each event becomes one `webhook.deliver` job per subscribed active endpoint, inserted by the
-- trigger on `events`: there is no relay process to lag behind, crash between reading and
-- enqueueing, or keep a cursor (which, like a sequence, would be handed out at write time, not
-- commit time: see 0009). The cost is proportional to the subscribers of the organization;
-- an organization without endpoints pays one index probe per statement. A job's idempotency
-- key `EVENT:ENDPOINT` makes the fan-out safe to repeat. The test action's samples
-- (`sample_for`) are never fanned out; they go to the one endpoint that asked.

-- Time-sortable ids in SQL (Postgres 15 has no uuidv7()): a v4 whose first 48 bits are the
-- Unix time in milliseconds and whose version nibble says 7 (RFC 9562 §5.7).
CREATE FUNCTION switchyard_uuid_v7() RETURNS uuid
LANGUAGE sql VOLATILE AS $$
    SELECT encode(
        set_bit(set_bit(
            overlay(uuid_send(gen_random_uuid())
                    PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                    FROM 1 FOR 6),
            52, 1), 53, 1),
        'hex')::uuid
$$;

CREATE TABLE events (
    id           uuid PRIMARY KEY,
    org_id       uuid NOT NULL REFERENCES organizations(id),
    type         text NOT NULL CHECK (type ~ '^[a-z_]+(\.[a-z_]+)+$'),
    occurred_at  timestamptz NOT NULL,
    -- The payload; its schema per type is in the OpenAPI document (`EventData`).
    data         jsonb NOT NULL CHECK (jsonb_typeof(data) = 'object'),
    -- A sample sent by an endpoint's test action: delivered to that endpoint only, never
    -- fanned out nor listed.
    sample_for   uuid
);
CREATE INDEX events_org ON events (org_id, occurred_at DESC, id DESC);
CREATE INDEX events_org_type ON events (org_id, type, occurred_at DESC, id DESC);
CREATE INDEX events_occurred ON events (occurred_at);

CREATE TABLE webhook_endpoints (
    id                    uuid PRIMARY KEY,
    org_id                uuid NOT NULL REFERENCES organizations(id),
    name                  text NOT NULL CHECK (name ~ '\S'),
    url                   text NOT NULL,
    -- Explicit types (`order.created`), a family (`order.*`) or everything (`*`).
    events                text[] NOT NULL CHECK (cardinality(events) > 0),
    status                text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'disabled')),
    -- Why it is disabled (a 410 Gone, an admin), shown with the endpoint.
    status_reason         text,
    -- `whsec_` + base64 of 32 random bytes (Standard Webhooks).
    secret                text NOT NULL,
    -- The secret before the last rotation, still signed with until `previous_secret_until`.
    previous_secret       text,
    previous_secret_until timestamptz,
    retry_policy          text NOT NULL CHECK (retry_policy IN ('immediate', 'exponential', 'manual')),
    -- Retries after the first attempt.
    max_retries           integer NOT NULL CHECK (max_retries BETWEEN 0 AND 20),
    -- Custom request headers: {"X-Tenant": "acme"}.
    headers               jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(headers) = 'object'),
    last_triggered_at     timestamptz,
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints (org_id, created_at, id);

-- Every delivery attempt (the endpoint's delivery log shows the last 100).
CREATE TABLE webhook_attempts (
    id               uuid PRIMARY KEY,
    org_id           uuid NOT NULL REFERENCES organizations(id),
    endpoint_id      uuid NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    event_id         uuid NOT NULL,
    event_type       text NOT NULL,
    job_id           uuid,
    attempt          integer NOT NULL,
    at               timestamptz NOT NULL,
    -- The request's headers, the signature masked.
    request_headers  jsonb NOT NULL,
    outcome          text NOT NULL CHECK (outcome IN ('succeeded', 'failed', 'skipped')),
    http_status      integer,
    -- The first KiB of the answer's body.
    response_excerpt text,
    error            text,
    duration_ms      integer NOT NULL
);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, at DESC, id DESC);
CREATE INDEX webhook_attempts_at ON webhook_attempts (at);

-- Whether an endpoint subscribed with `patterns` wants events of `p_type`.
CREATE FUNCTION webhook_subscribes(patterns text[], p_type text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT EXISTS (
        SELECT 1 FROM unnest(patterns) p
        WHERE p = '*' OR p = p_type
           OR (right(p, 2) = '.*' AND left(p_type, length(p) - 1) = left(p, length(p) - 1)))
$$;

-- The fan-out: one `webhook.deliver` job per (event, subscribed active endpoint), in the
-- transaction that recorded the events. Retry policy and attempts come from the endpoint.
CREATE FUNCTION events_fan_out() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO jobs (id, org_id, kind, payload, idempotency_key, state, attempts, max_attempts,
                      retry_policy, run_at, created_at, updated_at)
    SELECT switchyard_uuid_v7(), e.org_id, 'webhook.deliver',
           jsonb_build_object('endpoint', w.id, 'event', e.id),
           e.id::text || ':' || w.id::text, 'pending', 0,
           CASE WHEN w.retry_policy = 'manual' THEN 1 ELSE w.max_retries + 1 END,
           w.retry_policy, now(), now(), now()
    FROM new_events e
    JOIN webhook_endpoints w ON w.org_id = e.org_id AND w.status = 'active'
    WHERE e.sample_for IS NULL AND webhook_subscribes(w.events, e.type)
    ORDER BY e.id, w.id
    ON CONFLICT (org_id, kind, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER events_fan_out AFTER INSERT ON events REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION events_fan_out();

-- Record one event (the triggers below all go through here).
CREATE FUNCTION event_record(p_org uuid, p_type text, p_data jsonb) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO events (id, org_id, type, occurred_at, data)
    VALUES (switchyard_uuid_v7(), p_org, p_type, clock_timestamp(), p_data)
$$;

-- The columns whose values differ between two rows (as jsonb), `updated_at` left out.
CREATE FUNCTION event_changed_fields(p_old jsonb, p_new jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT COALESCE(array_agg(k ORDER BY k), '{}')
    FROM jsonb_object_keys(p_new) k
    WHERE k <> 'updated_at' AND (p_old -> k) IS DISTINCT FROM (p_new -> k)
$$;

-- PRODUCTS: product.created (an insert, or a tombstone brought back), product.deleted (a
-- tombstone set, or a row deleted), product.updated (anything else that changed, naming the
-- fields). Data: {"sku", "name", "changed"?}.
CREATE FUNCTION products_events() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_changed text[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM event_record(NEW.org_id, 'product.created',
            jsonb_build_object('sku', NEW.sku, 'name', NEW.name));
    ELSIF TG_OP = 'DELETE' THEN
        IF OLD.deleted_at IS NULL THEN
            PERFORM event_record(OLD.org_id, 'product.deleted',
                jsonb_build_object('sku', OLD.sku, 'name', OLD.name));
        END IF;
    ELSE
        v_changed := event_changed_fields(to_jsonb(OLD), to_jsonb(NEW));
        IF cardinality(v_changed) = 0 THEN
            RETURN NULL;
        ELSIF OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL THEN
            PERFORM event_record(NEW.org_id, 'product.deleted',
                jsonb_build_object('sku', NEW.sku, 'name', NEW.name));
        ELSIF OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL THEN
            PERFORM event_record(NEW.org_id, 'product.created',
                jsonb_build_object('sku', NEW.sku, 'name', NEW.name));
        ELSIF NEW.deleted_at IS NULL THEN
            PERFORM event_record(NEW.org_id, 'product.updated',
                jsonb_build_object('sku', NEW.sku, 'name', NEW.name, 'changed', to_jsonb(v_changed)));
        END IF;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER products_events AFTER INSERT OR UPDATE OR DELETE ON products
    FOR EACH ROW EXECUTE FUNCTION products_events();

-- INVENTORY: inventory.updated for a level inserted, changed or removed, with its quantities
-- as exact decimal strings. Data: {"sku", "location", "on_hand", "allocated", "on_order"}.
CREATE FUNCTION inventory_levels_events() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    r inventory_levels;
BEGIN
    IF TG_OP = 'DELETE' THEN
        r := OLD;
        r.on_hand := 0; r.allocated := 0; r.on_order := 0;
    ELSE
        r := NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND (OLD.on_hand, OLD.allocated, OLD.on_order, OLD.low_stock_threshold)
        IS NOT DISTINCT FROM (NEW.on_hand, NEW.allocated, NEW.on_order, NEW.low_stock_threshold) THEN
        RETURN NULL;
    END IF;
    PERFORM event_record(r.org_id, 'inventory.updated', jsonb_build_object(
        'sku', r.sku, 'location', r.location, 'on_hand', r.on_hand::text,
        'allocated', r.allocated::text, 'on_order', r.on_order::text));
    RETURN NULL;
END $$;
CREATE TRIGGER inventory_levels_events AFTER INSERT OR UPDATE OR DELETE ON inventory_levels
    FOR EACH ROW EXECUTE FUNCTION inventory_levels_events();

-- PRICES: a price row can move the price of one SKU, a price list's, a category's or every
-- SKU (0013 works out which and records each in the change feed). Rather than repeat that,
-- price.updated follows the feed: one event per SKU whose `prices` change row was written.
-- Data: {"sku"}. Statement triggers with transition tables keep a bulk upload to one INSERT.
CREATE FUNCTION catalog_changes_price_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO events (id, org_id, type, occurred_at, data)
    SELECT switchyard_uuid_v7(), c.org_id, 'price.updated', clock_timestamp(),
           jsonb_build_object('sku', c.sku)
    FROM changed c WHERE c.entity = 'prices'
    ORDER BY c.org_id, c.seq;
    RETURN NULL;
END $$;
CREATE TRIGGER catalog_changes_price_events_ins AFTER INSERT ON catalog_changes
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_changes_price_events();
CREATE TRIGGER catalog_changes_price_events_upd AFTER UPDATE ON catalog_changes
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_changes_price_events();

-- ORDERS: order.created, order.cancelled (status became cancelled), order.updated (anything
-- else that changed, naming the fields). Data: {"order_id", "order_number", "customer_id",
-- "customer_po", "status", "previous_status"?, "changed"?}.
CREATE FUNCTION orders_events() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_changed text[];
    v_data    jsonb;
BEGIN
    v_data := jsonb_build_object('order_id', NEW.id, 'order_number', NEW.order_number,
        'customer_id', NEW.customer_id, 'customer_po', NEW.customer_po, 'status', NEW.status);
    IF TG_OP = 'INSERT' THEN
        PERFORM event_record(NEW.org_id, 'order.created', v_data);
        RETURN NULL;
    END IF;
    v_changed := event_changed_fields(to_jsonb(OLD), to_jsonb(NEW));
    IF cardinality(v_changed) = 0 THEN
        RETURN NULL;
    END IF;
    v_data := v_data || jsonb_build_object('previous_status', OLD.status, 'changed', to_jsonb(v_changed));
    IF NEW.status = 'cancelled' AND OLD.status <> 'cancelled' THEN
        PERFORM event_record(NEW.org_id, 'order.cancelled', v_data);
    ELSE
        PERFORM event_record(NEW.org_id, 'order.updated', v_data);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER orders_events AFTER INSERT OR UPDATE ON orders
    FOR EACH ROW EXECUTE FUNCTION orders_events();

-- DEAD LETTERS: dead_letter.created. Not for a failed webhook delivery: its dead letter
-- would be an event delivered to the same failing endpoint, whose failure would be another
-- dead letter, without end. Data: {"dead_letter_id", "job_id", "kind", "partner", "reason",
-- "error_class"}.
CREATE FUNCTION dead_letters_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind = 'webhook.deliver' THEN
        RETURN NULL;
    END IF;
    PERFORM event_record(NEW.org_id, 'dead_letter.created', jsonb_build_object(
        'dead_letter_id', NEW.id, 'job_id', NEW.job_id, 'kind', NEW.kind,
        'partner', NEW.partner, 'reason', NEW.reason, 'error_class', NEW.error_class));
    RETURN NULL;
END $$;
CREATE TRIGGER dead_letters_events AFTER INSERT ON dead_letters
    FOR EACH ROW EXECUTE FUNCTION dead_letters_events();
