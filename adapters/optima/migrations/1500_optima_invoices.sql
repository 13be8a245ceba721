-- The Optima adapter's invoice ledger (adapters/optima/src/invoices.rs). Versions 1500-1599
-- are the Optima adapter's range.
--
-- WHY A LEDGER OF ITS OWN: the hub keeps no invoices (there is no invoices table and no
-- `invoice.created` event), so an invoice bound for Optima is recorded here when the core
-- system hands it over (`POST /api/v1/integrations/comarch/invoices`). The row is the
-- invoice's sync status: `new` (recorded, not asked for), `pending` (a push is queued or being
-- retried; `error` holds the last transient failure), `synced` (Optima took it:
-- `optima_number`), `error` (refused, or given up on: `error` says why). With `auto_sync` the
-- push job is inserted in the transaction that records the invoice, so it exists exactly when
-- the invoice does: no dispatcher can miss one.
CREATE TABLE optima_invoices (
    id              uuid PRIMARY KEY,
    org_id          uuid NOT NULL REFERENCES organizations(id),
    partner         text NOT NULL,
    invoice_number  text NOT NULL,
    -- The canonical invoice, mapped through `optima/invoice.out` at each push.
    document        jsonb NOT NULL CHECK (jsonb_typeof(document) = 'object'),
    -- Bumped when the document is recorded again with other content: part of the effect key,
    -- so a corrected invoice is a new document to Optima and an unchanged one never is.
    revision        integer NOT NULL DEFAULT 1,
    status          text NOT NULL DEFAULT 'new'
                    CHECK (status IN ('new', 'pending', 'synced', 'error')),
    optima_number   text,
    error           text,
    -- The latest push job; pushes so far (each manual push is a job of its own).
    job_id          uuid,
    pushes          integer NOT NULL DEFAULT 0,
    attempts        integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    synced_at       timestamptz,
    UNIQUE (org_id, partner, invoice_number)
);
CREATE INDEX optima_invoices_status ON optima_invoices (org_id, partner, status, id);
