-- Suppliers (issue #14): our orders forwarded to a wholesaler (PhoneX, WesellCellular) and the
-- status changes that come back. The flows are in hub/runtime/src/supplier/, the SQL in
-- hub/store/src/suppliers.rs; docs/ARCHITECTURE.md "Suppliers" explains them.

-- One row per order handed to a supplier. Created when the forward is queued (so the
-- dispatcher never queues an order twice), completed when the supplier answers.
CREATE TABLE supplier_orders (
    org_id              uuid NOT NULL REFERENCES organizations(id),
    order_id            uuid NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    -- The partner (config name) the order went to; switching the organization's supplier
    -- later does not move orders already forwarded.
    partner             text NOT NULL,
    -- The supplier's id of the order; NULL until it answered the forward.
    supplier_order_id   text,
    -- Ids the supplier used for this order before it reassigned it (WesellCellular does):
    -- a late update naming an old id still finds the order.
    previous_supplier_order_ids text[] NOT NULL DEFAULT '{}',
    -- switchyard_core::supplier::SupplierStatus, and the supplier's own word for it.
    status              text CHECK (status IN ('pending', 'accepted', 'awaiting_shipping_quote',
                            'awaiting_payment', 'fulfillment_started', 'shipped', 'rejected', 'cancelled')),
    supplier_status     text,
    tracking_number     text,
    carrier             text,
    -- When the supplier made the change applied last: with the status's rank it decides
    -- whether a late delivery is stale.
    supplier_updated_at timestamptz,
    queued_at           timestamptz NOT NULL,
    forwarded_at        timestamptz,
    updated_at          timestamptz NOT NULL,
    PRIMARY KEY (org_id, order_id)
);
CREATE UNIQUE INDEX supplier_orders_supplier_id ON supplier_orders (org_id, partner, supplier_order_id)
    WHERE supplier_order_id IS NOT NULL;
CREATE INDEX supplier_orders_previous ON supplier_orders USING gin (previous_supplier_order_ids);

-- Every status change applied to a supplier order (stale and duplicate deliveries are not
-- changes and leave no row).
CREATE TABLE supplier_order_history (
    id                  uuid PRIMARY KEY,
    org_id              uuid NOT NULL,
    order_id            uuid NOT NULL,
    partner             text NOT NULL,
    supplier_order_id   text NOT NULL,
    status              text NOT NULL,
    previous_status     text,
    supplier_status     text NOT NULL,
    tracking_number     text,
    carrier             text,
    supplier_updated_at timestamptz NOT NULL,
    -- How it arrived: `forward` (the supplier's answer to the order), `webhook`, `poll`,
    -- `retry` (an update held for an order not known yet).
    source              text NOT NULL CHECK (source IN ('forward', 'webhook', 'poll', 'retry', 'job')),
    recorded_at         timestamptz NOT NULL,
    FOREIGN KEY (org_id, order_id) REFERENCES supplier_orders(org_id, order_id) ON DELETE CASCADE
);
CREATE INDEX supplier_order_history_order ON supplier_order_history (org_id, order_id, recorded_at);

-- Status updates naming an order we do not know (yet): the webhook may beat the forward's
-- answer. Kept here and retried by a `supplier.status.retry` job; applied as soon as the
-- order's forward records the supplier id; after the job's last attempt, a dead letter.
CREATE TABLE supplier_unmatched_updates (
    id                  uuid PRIMARY KEY,
    org_id              uuid NOT NULL REFERENCES organizations(id),
    partner             text NOT NULL,
    supplier_order_id   text NOT NULL,
    order_number        text,
    status              text NOT NULL,
    supplier_updated_at timestamptz NOT NULL,
    -- The switchyard_core::supplier::StatusUpdate as received.
    update              jsonb NOT NULL,
    state               text NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'applied', 'dead')),
    attempts            integer NOT NULL DEFAULT 0,
    last_error          text,
    received_at         timestamptz NOT NULL,
    resolved_at         timestamptz
);
-- A redelivered update is the same row (and the same retry job).
CREATE UNIQUE INDEX supplier_unmatched_once ON supplier_unmatched_updates
    (org_id, partner, supplier_order_id, status, supplier_updated_at);
CREATE INDEX supplier_unmatched_waiting ON supplier_unmatched_updates (org_id, partner, supplier_order_id)
    WHERE state = 'waiting';

-- A polled supplier's cursor (`supplier.status.poll`).
CREATE TABLE supplier_poll_state (
    org_id      uuid NOT NULL REFERENCES organizations(id),
    partner     text NOT NULL,
    cursor      text,
    polled_at   timestamptz NOT NULL,
    PRIMARY KEY (org_id, partner)
);

-- Since when an organization forwards new orders automatically (`forward = "on_create"`):
-- set by the first dispatch, so turning forwarding on does not send every historical order.
CREATE TABLE supplier_forwarding (
    org_id  uuid PRIMARY KEY REFERENCES organizations(id),
    since   timestamptz NOT NULL
);
