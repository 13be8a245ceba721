-- Email notifications (issue #14, part 4): who gets which mail, how, and what was sent.
--
-- WHY A TRIGGER ON `events` ENQUEUES THE MAILS
-- Domain events are a transactional outbox (0016). Each notifiable event becomes one
-- `notify.email` job per recipient in the transaction that recorded the event, as the webhook
-- fan-out does: a relay reading "events after a cursor" would have to trust ids (UUIDv7, made at
-- write time) to be in commit order, which they are not, so a late commit could be skipped; a
-- trigger cannot lose an event or see a rolled-back one. The job's idempotency key
-- `EVENT:RECIPIENT` makes a second insert a no-op. Whether the mail is sent now, kept for the
-- digest or not at all is decided when the job runs (the customer's preference at that time),
-- so an unsubscribe clicked before the job runs is honoured.

-- A customer's address for notifications (NULL: the customer gets none).
ALTER TABLE customers ADD COLUMN email text
    CHECK (email IS NULL OR email ~ '^[^@[:space:]]+@[^@[:space:]]+$');

-- Per customer and notice: immediate (the default when no row exists), digest or off.
-- An unsubscribe link sets `off` and stamps `unsubscribed_at`.
CREATE TABLE notification_preferences (
    org_id          uuid NOT NULL,
    customer_id     text NOT NULL,
    notice          text NOT NULL CHECK (notice IN ('order_placed', 'order_accepted',
                        'order_rejected', 'order_fulfillment_started', 'order_shipped',
                        'order_status_changed')),
    mode            text NOT NULL CHECK (mode IN ('immediate', 'digest', 'off')),
    unsubscribed_at timestamptz,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (org_id, customer_id, notice),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers(org_id, customer_id) ON DELETE CASCADE
);

-- The HMAC key of each organization's unsubscribe tokens: made on first use, 32 random bytes.
-- In the database rather than the config so every process (the worker that signs, the API
-- that verifies) shares it without another secret to distribute.
CREATE TABLE notification_keys (
    org_id     uuid PRIMARY KEY REFERENCES organizations(id),
    key        bytea NOT NULL CHECK (length(key) = 32),
    created_at timestamptz NOT NULL
);

-- Events a customer chose to get in the daily digest, until a digest mail carries them.
CREATE TABLE notification_digest_items (
    org_id      uuid NOT NULL,
    customer_id text NOT NULL,
    event_id    uuid NOT NULL,
    notice      text NOT NULL,
    queued_at   timestamptz NOT NULL,
    -- The digest mail (its `email_messages.key`) that carried it.
    digest_key  text,
    PRIMARY KEY (org_id, customer_id, event_id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers(org_id, customer_id) ON DELETE CASCADE
);
CREATE INDEX notification_digest_pending ON notification_digest_items (org_id, customer_id)
    WHERE digest_key IS NULL;

-- Every email: one row per mail (its job's idempotency key), updated on each attempt.
CREATE TABLE email_messages (
    id          uuid PRIMARY KEY,
    org_id      uuid NOT NULL REFERENCES organizations(id),
    key         text NOT NULL,
    job_id      uuid,
    event_id    uuid,
    -- The notice (`order_shipped`, `low_stock`, `digest`).
    notice      text NOT NULL,
    customer_id text,
    recipient   text NOT NULL,
    subject     text NOT NULL,
    message_id  text NOT NULL,
    status      text NOT NULL CHECK (status IN ('sent', 'failed')),
    error       text,
    attempts    integer NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    sent_at     timestamptz,
    UNIQUE (org_id, key)
);
CREATE INDEX email_messages_org ON email_messages (org_id, created_at DESC);
CREATE INDEX email_messages_created ON email_messages (created_at);

-- The fan-out to `notify.email`: the customer of an order event (when it has an address) and
-- the organization's purchaser for low stock (its address is configuration, read by the job).
CREATE FUNCTION events_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO jobs (id, org_id, kind, payload, idempotency_key, state, attempts, max_attempts,
                      retry_policy, run_at, created_at, updated_at)
    SELECT switchyard_uuid_v7(), r.org_id, 'notify.email', r.payload, r.key, 'pending', 0, 6,
           'exponential', now(), now(), now()
    FROM (
        SELECT e.id, e.org_id,
               jsonb_build_object('mail', 'event', 'event', e.id,
                                  'recipient', jsonb_build_object('customer', c.customer_id)) AS payload,
               e.id::text || ':customer:' || c.customer_id AS key
        FROM new_events e
        JOIN customers c ON c.org_id = e.org_id AND c.customer_id = e.data ->> 'customer_id'
        WHERE e.sample_for IS NULL
          AND e.type IN ('order.created', 'order.supplier_status_changed')
          AND c.email IS NOT NULL
        UNION ALL
        SELECT e.id, e.org_id,
               jsonb_build_object('mail', 'event', 'event', e.id, 'recipient', 'purchaser'),
               e.id::text || ':purchaser'
        FROM new_events e
        WHERE e.sample_for IS NULL AND e.type = 'inventory.low'
    ) r
    ORDER BY r.id
    ON CONFLICT (org_id, kind, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER events_notify AFTER INSERT ON events REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION events_notify();
