-- A BOM workbook may carry its products (issue #17): an XLSX upload of BOMs with a `Products`
-- sheet stores that sheet as a product import of its own (its rows, errors and outcomes are
-- a product import's, shown and confirmable like any) and links the BOM import to it, so
-- confirming the BOMs applies the products first and the components the sheet creates exist
-- when the BOMs are written.
ALTER TABLE product_imports
    ADD COLUMN products_import_id uuid REFERENCES product_imports(id);
