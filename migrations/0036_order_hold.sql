-- Orders on hold (issue #13): an order stopped before it ships (a payment check, a customer's
-- call, the storefront's admin holding it), released to the status it was held from, or
-- cancelled while held. `POST /api/v1/orders/{id}/hold|release|cancel` (hub/store/src/
-- order_status.rs) and a storefront's import of an order held there set it.

ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN ('pending_review',
    'pending', 'confirmed', 'in_production', 'ready', 'partially_shipped', 'shipped',
    'delivered', 'cancelled', 'on_hold'));

-- The status a release returns to; why the order has its status, when the change said (the
-- hold's reason, the cancellation's, the release's note).
ALTER TABLE orders ADD COLUMN held_from text
    CHECK (held_from IN ('pending', 'confirmed', 'in_production', 'ready'));
ALTER TABLE orders ADD COLUMN status_reason text;
ALTER TABLE orders ADD CONSTRAINT orders_held_from_only_on_hold
    CHECK ((status = 'on_hold') = (held_from IS NOT NULL));

-- Kept by the database rather than by each writer: several code paths move an order's status
-- (the API, the storefront imports, the supplier flows, shipments), and a release must find
-- the status the order had however it was held. Entering `on_hold` records the status left
-- (a status that cannot be held from fails `held_from`'s check); leaving it clears it. An
-- order stored already on hold (a storefront's order held there before we first saw it) is
-- released to `confirmed`, the status storefront orders are stored in.
-- `status_reason` is the reason the changing transaction gave in its local setting
-- `switchyard.status_note` (hub/store/src/order_status.rs sets it), NULL when it gave none:
-- a reason stored by one change never outlives it into the next, whichever path made that
-- one, and the triggers after this one (the Magento push, 1303) read it from the row.
CREATE FUNCTION orders_hold_bookkeeping() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.status = OLD.status THEN
        RETURN NEW;
    END IF;
    NEW.status_reason := NULLIF(current_setting('switchyard.status_note', true), '');
    IF NEW.status <> 'on_hold' THEN
        NEW.held_from := NULL;
    ELSIF TG_OP = 'INSERT' THEN
        NEW.held_from := 'confirmed';
    ELSE
        NEW.held_from := OLD.status;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER orders_hold_bookkeeping BEFORE INSERT OR UPDATE OF status ON orders
    FOR EACH ROW EXECUTE FUNCTION orders_hold_bookkeeping();
