-- Shipments reach the storefront an order came from (issues #12/#13): the push is a
-- `partner.push` job written in the shipment's own transaction (hub/store/src/shipments.rs),
-- and a shipment's tracking can change afterwards.
--
-- `partner_references`: the partner's id for something we pushed to it (a Shopify
-- fulfillment gid, a Magento shipment entity id), recorded by `partner.push` from the push
-- receipt when the job names a `reference` (`shipment:{id}`). A later push of the same
-- reference (a tracking change) is handed that id: Shopify's `fulfillmentTrackingInfoUpdate`
-- and Magento's `POST /V1/shipment/track` address the partner's object, not ours. The first
-- id a partner gave is kept (a later push of the reference answers the same object).
CREATE TABLE partner_references (
    org_id       uuid NOT NULL REFERENCES organizations(id),
    partner      text NOT NULL,
    reference    text NOT NULL CHECK (reference <> ''),
    document     text NOT NULL,
    external_id  text NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, partner, reference)
);

-- Each tracking change bumps the version, which keys its push job: the same change sent
-- twice is one push, and a change back to an earlier number is a new one.
ALTER TABLE shipments ADD COLUMN tracking_version integer NOT NULL DEFAULT 0;

-- SHIPMENTS: shipment.tracking_updated, a recorded shipment's carrier, tracking number or URL
-- changed. Data: shipment.dispatched's and "previous_tracking_number".
CREATE FUNCTION shipments_tracking_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.carrier, NEW.tracking_number, NEW.tracking_url)
       IS NOT DISTINCT FROM (OLD.carrier, OLD.tracking_number, OLD.tracking_url) THEN
        RETURN NULL;
    END IF;
    PERFORM event_record(NEW.org_id, 'shipment.tracking_updated', jsonb_build_object(
        'shipment_id', NEW.id, 'shipment_number', NEW.shipment_number,
        'order_id', NEW.order_id,
        'order_number', (SELECT o.order_number FROM orders o WHERE o.id = NEW.order_id),
        'carrier', NEW.carrier, 'service', NEW.service,
        'tracking_number', NEW.tracking_number, 'tracking_url', NEW.tracking_url,
        'previous_tracking_number', OLD.tracking_number,
        'shipped_at', to_char(NEW.shipped_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')));
    RETURN NULL;
END $$;
CREATE TRIGGER shipments_tracking_events AFTER UPDATE ON shipments
    FOR EACH ROW EXECUTE FUNCTION shipments_tracking_events();
