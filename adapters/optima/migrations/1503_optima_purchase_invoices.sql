-- Purchase invoices in the Optima ledger (adapters/optima/src/invoices.rs), for JPK_V7M's
-- purchase register (ZakupWiersz). The hub keeps no invoices of its own, purchases included;
-- the core system hands a received invoice over like a sale, with `"direction": "purchase"`.
-- A purchase is never pushed to Optima (the offline XML and the REST layer carry the sales
-- register only): it stays `new` and is read when a month's VAT file is written.
--
-- Two suppliers may number their invoices alike, so a purchase is identified by its supplier's
-- NIP and its number; a sale by its number alone (supplier_nip '').
ALTER TABLE optima_invoices
    ADD COLUMN direction text NOT NULL DEFAULT 'sale' CHECK (direction IN ('sale', 'purchase')),
    ADD COLUMN supplier_nip text NOT NULL DEFAULT '';
ALTER TABLE optima_invoices DROP CONSTRAINT optima_invoices_org_id_partner_invoice_number_key;
ALTER TABLE optima_invoices
    ADD CONSTRAINT optima_invoices_identity
    UNIQUE (org_id, partner, direction, supplier_nip, invoice_number);
