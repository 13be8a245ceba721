-- Core domain: customers, products and orders (quotes and pricing come later). Orders enter
-- through EDI (850 / ORDERS) first; the API's domain routes read and fix them.

-- Our customers. `customer_id` is the id the business uses (the ERP's account number).
CREATE TABLE customers (
    org_id       uuid NOT NULL REFERENCES organizations(id),
    customer_id  text NOT NULL CHECK (customer_id <> ''),
    name         text NOT NULL,
    active       boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, customer_id)
);

-- How a customer names itself in EDI: a qualifier and an id, e.g. `92`/`0001` (X12 N1*BY*92,
-- assigned by buyer), `12`/`5551234567` (ISA05/06 sender), `9`/`5412345000013` (EDIFACT NAD+BY
-- GLN) or `14`/GLN (UNB sender). One identifier names one customer per organization.
CREATE TABLE customer_edi_ids (
    org_id       uuid NOT NULL,
    qualifier    text NOT NULL,
    party_id     text NOT NULL CHECK (party_id <> ''),
    customer_id  text NOT NULL,
    PRIMARY KEY (org_id, qualifier, party_id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers(org_id, customer_id) ON DELETE CASCADE
);
CREATE INDEX customer_edi_ids_customer ON customer_edi_ids (org_id, customer_id);

-- What we sell. A line of a purchase order names it by our SKU (vendor part), the buyer's own
-- part number, or a GTIN / UPC.
CREATE TABLE products (
    org_id        uuid NOT NULL REFERENCES organizations(id),
    sku           text NOT NULL CHECK (sku <> ''),
    name          text NOT NULL,
    -- GTIN-8/12/13/14 as digits (a UPC-A is a GTIN-12).
    gtin          text,
    uom           text NOT NULL DEFAULT 'EA',
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, sku)
);
CREATE UNIQUE INDEX products_gtin ON products (org_id, gtin) WHERE gtin IS NOT NULL;

-- A buyer's part number for one of our products (X12 PO1 `BP`, EDIFACT PIA `IN`).
CREATE TABLE product_buyer_parts (
    org_id       uuid NOT NULL,
    customer_id  text NOT NULL,
    buyer_part   text NOT NULL,
    sku          text NOT NULL,
    PRIMARY KEY (org_id, customer_id, buyer_part),
    FOREIGN KEY (org_id, sku) REFERENCES products(org_id, sku) ON DELETE CASCADE,
    FOREIGN KEY (org_id, customer_id) REFERENCES customers(org_id, customer_id) ON DELETE CASCADE
);

CREATE TABLE orders (
    id              uuid PRIMARY KEY,
    org_id          uuid NOT NULL REFERENCES organizations(id),
    order_number    text NOT NULL,
    -- NULL while the buyer is not (yet) known: a pending_review order whose customer the admin
    -- has to pick.
    customer_id     text,
    customer_po     text NOT NULL,
    status          text NOT NULL CHECK (status IN ('pending_review', 'pending', 'confirmed',
                        'in_production', 'ready', 'shipped', 'delivered', 'cancelled')),
    -- The canonical switchyard_core::model::Order.
    canonical       jsonb NOT NULL,
    source          text NOT NULL CHECK (source IN ('edi', 'api')),
    source_message_id uuid REFERENCES edi_messages(id),
    -- The EDI partner (config name) the order came from and is answered to.
    partner         text,
    -- Which set of the source interchange (ST02 / UNH 0062).
    source_set      text,
    -- What the mapping file produced from the EDI tree, kept for a re-map after a fix.
    mapped          jsonb,
    mapping_hash    text,
    -- [{"code", "message", "location": {...}}]; empty unless pending_review.
    review_errors   jsonb NOT NULL DEFAULT '[]'::jsonb,
    -- Where the partner's answer goes: `{"partner": NAME}`, the edi.send payload's partner
    -- reference (a reprocess, days later, answers to the same place).
    reply_to        jsonb,
    -- The edi.send job that answered the partner last (855 / ORDRSP), and with what.
    response_job_id uuid,
    response        text CHECK (response IN ('accepted', 'rejected')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers(org_id, customer_id)
);
-- A re-sent PO is the same order, not a second one. Orders whose buyer is unknown are keyed
-- by their source message and set instead (below).
CREATE UNIQUE INDEX orders_customer_po ON orders (org_id, customer_id, customer_po)
    WHERE customer_id IS NOT NULL;
-- One order per set of an inbound interchange: a redelivered import job finds it.
CREATE UNIQUE INDEX orders_source_set ON orders (org_id, source_message_id, source_set)
    WHERE source_message_id IS NOT NULL;
CREATE UNIQUE INDEX orders_number ON orders (org_id, order_number);
CREATE INDEX orders_list ON orders (org_id, created_at DESC, id DESC);
CREATE INDEX orders_status ON orders (org_id, status, created_at DESC, id DESC);
