//! What each kind of import needs to know about its entity: the mapping a template and an
//! upload use unless told otherwise, the sheet an XLSX file is read from, the mapped field
//! that names a row's item, and the template's example row.

use switchyard_mapping::schema::Entity;
use switchyard_mapping::{Format, Mapping};
use switchyard_store::imports::ImportEntity;

/// The entity's side of an import.
pub trait EntityImport {
    /// The mapping of MonoPilot's template for the entity (FR-INT-018 / FR-INT-019).
    fn default_mapping(self) -> &'static str;
    /// The sheet an XLSX upload is read from when the workbook has it (else its first).
    fn sheet_name(self) -> &'static str;
    /// The mapped field that names a row's item: the product's SKU, the BOM's product.
    fn key(self) -> &'static str;
    /// Whether `mapping` makes this entity's rows.
    fn made_by(self, mapping: &Mapping) -> bool;
    /// The example row of the template, by column name.
    fn example(self, column: &str) -> Option<&'static str>;
}

impl EntityImport for ImportEntity {
    fn default_mapping(self) -> &'static str {
        match self {
            ImportEntity::Products => "monopilot/product.import",
            ImportEntity::Boms => "monopilot/bom.import",
        }
    }

    fn sheet_name(self) -> &'static str {
        match self {
            ImportEntity::Products => "Products",
            ImportEntity::Boms => "BOMs",
        }
    }

    fn key(self) -> &'static str {
        match self {
            ImportEntity::Products => "sku",
            ImportEntity::Boms => crate::bom::field::PRODUCT,
        }
    }

    fn made_by(self, mapping: &Mapping) -> bool {
        match self {
            ImportEntity::Products => mapping.target.format == Format::Canonical(Entity::Product),
            // A BOM line is plain JSON of the template's names; the fields it must make are
            // checked on every row (`bom::check_line`).
            ImportEntity::Boms => mapping.target.format == Format::Json,
        }
    }

    fn example(self, column: &str) -> Option<&'static str> {
        let rows: &[(&str, &str)] = match self {
            ImportEntity::Products => &[
                ("product_code", "RM-FLOUR-01"),
                ("name", "Wheat flour type 650"),
                ("type", "raw_material"),
                ("unit", "kg"),
                ("description", "Bakery flour"),
                ("allergens", "gluten"),
                ("shelf_life_days", "365"),
                ("storage_temp", "ambient"),
                ("tax_code", "A"),
            ],
            ImportEntity::Boms => &[
                ("product_code", "FG-BREAD-06"),
                ("version", "1"),
                ("item_product_code", "RM-FLOUR-01"),
                ("item_qty", "0.45"),
                ("item_unit", "kg"),
                ("operation_sequence", "10"),
                ("is_byproduct", "false"),
            ],
        };
        rows.iter().find(|(c, _)| *c == column).map(|(_, v)| *v)
    }
}
