-- Shipments and invoices in the core (issues #16, #17, #14): what left the warehouse for an
-- order and what the customer was billed, per organization, with their lines; the events
-- `shipment.dispatched` and `invoice.created` recorded in the writing transaction; orders
-- created through the API, idempotent by an `Idempotency-Key`.

-- An order some of whose lines have left (the rest are still to ship).
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN ('pending_review',
    'pending', 'confirmed', 'in_production', 'ready', 'partially_shipped', 'shipped',
    'delivered', 'cancelled'));

-- `POST /api/v1/orders` with an `Idempotency-Key`: the same key again finds the order made
-- by the first request (a client's retry after a lost answer makes no second order).
ALTER TABLE orders ADD COLUMN idempotency_key text;
CREATE UNIQUE INDEX orders_idempotency_key ON orders (org_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

CREATE TABLE shipments (
    id               uuid PRIMARY KEY,
    org_id           uuid NOT NULL REFERENCES organizations(id),
    order_id         uuid NOT NULL REFERENCES orders(id),
    -- The warehouse's number for the shipment: unique per organization, so a re-sent
    -- shipment is found, not recorded twice.
    shipment_number  text NOT NULL CHECK (shipment_number <> ''),
    carrier          text,
    service          text,
    tracking_number  text,
    tracking_url     text,
    shipped_at       timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, shipment_number)
);
CREATE INDEX shipments_order ON shipments (org_id, order_id, created_at, id);
CREATE INDEX shipments_list ON shipments (org_id, created_at, id);

-- What one shipment carried of one order line (the order's canonical line number).
CREATE TABLE shipment_lines (
    shipment_id  uuid NOT NULL REFERENCES shipments(id) ON DELETE CASCADE,
    org_id       uuid NOT NULL,
    line_number  integer NOT NULL,
    sku          text NOT NULL,
    quantity     numeric NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (shipment_id, line_number)
);

CREATE TABLE invoices (
    id              uuid PRIMARY KEY,
    org_id          uuid NOT NULL REFERENCES organizations(id),
    invoice_number  text NOT NULL CHECK (invoice_number <> ''),
    -- The sales order invoiced, when there is one.
    order_id        uuid REFERENCES orders(id),
    customer_id     text NOT NULL,
    issue_date      date NOT NULL,
    due_date        date CHECK (due_date IS NULL OR due_date >= issue_date),
    currency        text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    -- Sums of the lines' rounded amounts (switchyard_core::model::Invoice's rule), kept so
    -- an export or a list need not add them up again.
    net_total       numeric NOT NULL,
    vat_total       numeric NOT NULL,
    gross_total     numeric NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, invoice_number),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers(org_id, customer_id)
);
CREATE INDEX invoices_list ON invoices (org_id, created_at, id);
CREATE INDEX invoices_order ON invoices (org_id, order_id) WHERE order_id IS NOT NULL;

CREATE TABLE invoice_lines (
    invoice_id   uuid NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,
    org_id       uuid NOT NULL,
    line_number  integer NOT NULL,
    sku          text NOT NULL,
    description  text,
    quantity     numeric NOT NULL CHECK (quantity > 0),
    uom          text NOT NULL,
    unit_price   numeric NOT NULL CHECK (unit_price >= 0),
    -- Percent: 23 for 23 % VAT.
    vat_rate     numeric NOT NULL CHECK (vat_rate >= 0),
    net_amount   numeric NOT NULL,
    vat_amount   numeric NOT NULL,
    PRIMARY KEY (invoice_id, line_number)
);

-- Shipments and invoices can be exported (hub/store/src/exports.rs).
ALTER TABLE exports DROP CONSTRAINT exports_entity_check;
ALTER TABLE exports ADD CONSTRAINT exports_entity_check CHECK (entity IN ('products', 'orders',
    'order_lines', 'inventory', 'customers', 'shipments', 'invoices'));

-- SHIPMENTS: shipment.dispatched, with the tracking a storefront passes on to its customer.
-- Data: {"shipment_id", "shipment_number", "order_id", "order_number", "carrier", "service",
-- "tracking_number", "tracking_url", "shipped_at"}.
CREATE FUNCTION shipments_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM event_record(NEW.org_id, 'shipment.dispatched', jsonb_build_object(
        'shipment_id', NEW.id, 'shipment_number', NEW.shipment_number,
        'order_id', NEW.order_id,
        'order_number', (SELECT o.order_number FROM orders o WHERE o.id = NEW.order_id),
        'carrier', NEW.carrier, 'service', NEW.service,
        'tracking_number', NEW.tracking_number, 'tracking_url', NEW.tracking_url,
        'shipped_at', to_char(NEW.shipped_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')));
    RETURN NULL;
END $$;
CREATE TRIGGER shipments_events AFTER INSERT ON shipments
    FOR EACH ROW EXECUTE FUNCTION shipments_events();

-- INVOICES: invoice.created. Amounts are exact decimal strings. Data: {"invoice_id",
-- "invoice_number", "order_id", "order_number", "customer_id", "currency", "issue_date",
-- "due_date", "net_total", "vat_total", "gross_total"}.
CREATE FUNCTION invoices_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM event_record(NEW.org_id, 'invoice.created', jsonb_build_object(
        'invoice_id', NEW.id, 'invoice_number', NEW.invoice_number,
        'order_id', NEW.order_id,
        'order_number', (SELECT o.order_number FROM orders o WHERE o.id = NEW.order_id),
        'customer_id', NEW.customer_id, 'currency', NEW.currency,
        'issue_date', NEW.issue_date, 'due_date', NEW.due_date,
        'net_total', NEW.net_total::text, 'vat_total', NEW.vat_total::text,
        'gross_total', NEW.gross_total::text));
    RETURN NULL;
END $$;
CREATE TRIGGER invoices_events AFTER INSERT ON invoices
    FOR EACH ROW EXECUTE FUNCTION invoices_events();
