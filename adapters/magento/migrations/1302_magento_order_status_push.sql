-- Order status back (adapters/magento/src/status_job.rs): when our copy of a Magento order
-- (order number `MAGENTO-{increment_id}`, its `partner` the store it came from) becomes
-- cancelled, a `magento.order.status` job that cancels it in the store (and adds a note to its
-- history) is enqueued by this trigger, so in the very transaction that changed the status,
-- whichever code path did it (the supplier flows, an admin, a future API): the same outbox
-- pattern as `order.cancelled` (migration 0016). A cancellation that came from the store itself
-- (the import of a version whose `state` is `canceled`, kept in `mapped`) pushes nothing back.
-- Keyed by order and transaction time: one push per cancellation.
CREATE FUNCTION magento_order_status_push() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'cancelled' AND OLD.status <> 'cancelled'
       AND NEW.partner IS NOT NULL
       AND NEW.order_number LIKE 'MAGENTO-%'
       AND (NEW.mapped ->> 'state') IS DISTINCT FROM 'canceled' THEN
        INSERT INTO jobs (id, org_id, kind, partner, payload, idempotency_key, state, attempts,
                          max_attempts, retry_policy, run_at, created_at, updated_at)
        VALUES (switchyard_uuid_v7(), NEW.org_id, 'magento.order.status', NEW.partner,
                jsonb_build_object(
                    'partner', NEW.partner,
                    'order_id', NEW.id,
                    'change', jsonb_build_object(
                        'order_number', NEW.order_number,
                        'action', 'cancel',
                        'comment', 'Cancelled in Switchyard (the order was ' || OLD.status || ').')),
                'cancel:' || NEW.id || '@' || now()::text, 'pending', 0, 8, 'exponential',
                now(), now(), now())
        ON CONFLICT (org_id, kind, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER magento_order_status_push AFTER UPDATE OF status ON orders
    FOR EACH ROW EXECUTE FUNCTION magento_order_status_push();
