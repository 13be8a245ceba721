-- Order status back, widened (issue #13; 1302 pushed cancellations only). When our copy of a
-- Magento order (`MAGENTO-{increment_id}` with a partner) changes status, the change goes to
-- the store as a `magento.order.status` job written in the transaction that made it, whichever
-- code path did (the outbox pattern of 1302):
--   * to `cancelled`: `cancel` (the job unholds a held store order first: Magento's
--     `canCancel()` is false on hold), with a note naming what it was and the reason;
--   * to `on_hold`: `hold`, with the reason as a note;
--   * from `on_hold` to anything but `cancelled`: `unhold`, with a note;
--   * to `confirmed`, `in_production` or `ready` otherwise: a `comment` (a status note), which
--     the job sends only when the connection's `status_notes = true`.
-- A change that came from the store pushes nothing back: the import writes the store's new
-- version (`mapped`) in the very statement that changes the status, so a changed `mapped` is
-- the store speaking (1302's test, `mapped.state = canceled`, is kept for a cancellation).
-- The reason is the change's `status_reason` (migration 0036). Keyed by action, order and
-- transaction time: one push per change.
CREATE OR REPLACE FUNCTION magento_order_status_push() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_action  text;
    v_comment text;
    v_why     text := COALESCE(': ' || NEW.status_reason, '');
BEGIN
    IF NEW.status = OLD.status
       OR NEW.partner IS NULL
       OR NEW.order_number NOT LIKE 'MAGENTO-%'
       OR NEW.mapped IS DISTINCT FROM OLD.mapped
       OR (NEW.status = 'cancelled' AND (NEW.mapped ->> 'state') = 'canceled') THEN
        RETURN NULL;
    END IF;
    IF NEW.status = 'cancelled' THEN
        v_action := 'cancel';
        v_comment := 'Cancelled in Switchyard (the order was ' || OLD.status || ')' || v_why || '.';
    ELSIF NEW.status = 'on_hold' THEN
        v_action := 'hold';
        v_comment := 'Put on hold in Switchyard' || v_why || '.';
    ELSIF OLD.status = 'on_hold' THEN
        v_action := 'unhold';
        v_comment := 'Released in Switchyard (back to ' || NEW.status || ')' || v_why || '.';
    ELSIF NEW.status IN ('confirmed', 'in_production', 'ready') THEN
        v_action := 'comment';
        v_comment := 'Switchyard: the order is ' || replace(NEW.status, '_', ' ') || v_why || '.';
    ELSE
        RETURN NULL;
    END IF;
    INSERT INTO jobs (id, org_id, kind, partner, payload, idempotency_key, state, attempts,
                      max_attempts, retry_policy, run_at, created_at, updated_at)
    VALUES (switchyard_uuid_v7(), NEW.org_id, 'magento.order.status', NEW.partner,
            jsonb_build_object(
                'partner', NEW.partner,
                'order_id', NEW.id,
                'change', jsonb_build_object(
                    'order_number', NEW.order_number,
                    'action', v_action,
                    'comment', v_comment)),
            v_action || ':' || NEW.id || '@' || now()::text, 'pending', 0, 8, 'exponential',
            now(), now(), now())
    ON CONFLICT (org_id, kind, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING;
    RETURN NULL;
END $$;
