//! A canonical product (what a product mapping makes) as the catalog stores it: a new product,
//! or an existing one with the file's fields laid over it.
//!
//! An update changes only what the row gives: the template has nine columns and a product
//! kept through the REST API has many more (GTIN, category, specifications, SEO), which an
//! import must not wipe; an empty cell leaves the stored value; `attributes` are merged key
//! by key. `web_visible` is set only when the product is created: an import of MonoPilot's
//! template (which says nothing about storefronts) must not unpublish a product.

use serde_json::{Map, Value};
use switchyard_store::catalog::{
    AvailabilityStatus, PriceVisibility, ProductRecord, StoredProduct,
};
use switchyard_store::imports::RowError;

fn text(p: &Value, key: &str) -> Option<String> {
    p.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn attributes(p: &Value) -> Map<String, Value> {
    p.get("attributes")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// The allergen codes a product may list: the 14 of EU Regulation 1169/2011 Annex II, as
/// MonoPilot's template spells them. A typo (`glutten`) must not pass as a new allergen: a
/// label printed from it would leave the real one out. `none` alone says the product has none
/// of them (what a filled-in template holds rather than an empty cell).
pub const ALLERGENS: [&str; 14] = [
    "celery",
    "crustaceans",
    "eggs",
    "fish",
    "gluten",
    "lupin",
    "milk",
    "molluscs",
    "mustard",
    "nuts",
    "peanuts",
    "sesame",
    "soybeans",
    "sulphites",
];

/// What the REST upsert also refuses (a blank SKU or name: a mapping's `required` lets a
/// value of spaces through when it does not trim), and what a template's columns must hold
/// beyond what the mapping checks: allergens from [`ALLERGENS`], a shelf life of 0 days or
/// more. Every problem of the row, each at its canonical field.
pub fn check(p: &Value) -> Result<(), Vec<RowError>> {
    let mut errors = Vec::new();
    for key in ["sku", "name"] {
        if text(p, key).is_none() {
            errors.push(RowError::at(key, Some(key), "must not be empty"));
        }
    }
    let attrs = attributes(p);
    if let Some(list) = attrs.get("allergens").and_then(Value::as_array) {
        let unknown: Vec<String> = list
            .iter()
            .filter_map(Value::as_str)
            .map(str::trim)
            .filter(|a| !a.is_empty() && !ALLERGENS.contains(a))
            .filter(|a| !(*a == "none" && list.len() == 1))
            .map(|a| format!("'{a}'"))
            .collect();
        if !unknown.is_empty() {
            errors.push(RowError::at(
                "attributes.allergens",
                Some("attributes.allergens"),
                format!(
                    "{} not a known allergen; expected a comma-separated list of: {}",
                    unknown.join(", "),
                    ALLERGENS.join(", ")
                ),
            ));
        }
    }
    if let Some(days) = attrs.get("shelf_life_days").and_then(Value::as_i64) {
        if days < 0 {
            errors.push(RowError::at(
                "attributes.shelf_life_days",
                Some("attributes.shelf_life_days"),
                format!("{days} days: expected a whole number of days, 0 or more"),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// A new product from a checked canonical product.
pub fn new_record(p: &Value) -> ProductRecord {
    ProductRecord {
        sku: text(p, "sku").unwrap_or_default(),
        name: text(p, "name").unwrap_or_default(),
        gtin: None,
        uom: text(p, "base_uom").unwrap_or_else(|| "EA".to_owned()),
        active: true,
        short_description: None,
        long_description: text(p, "description"),
        category: None,
        specifications: Value::Array(Vec::new()),
        dimensions: Value::Object(Map::new()),
        material_grade: text(p, "material_grade"),
        material_specification: None,
        material_finish: None,
        price_visibility: PriceVisibility::default(),
        availability_status: AvailabilityStatus::default(),
        lead_time_days: None,
        web_visible: p
            .get("web_visible")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        tags: Vec::new(),
        seo_slug: None,
        seo_title: None,
        seo_description: None,
        product_type: text(p, "product_type"),
        tax_code: text(p, "tax_code"),
        attributes: Value::Object(attributes(p)),
        variants: None,
    }
}

/// `stored` with what the row gives laid over it.
pub fn update_record(stored: StoredProduct, p: &Value) -> ProductRecord {
    let mut r = ProductRecord::from(stored);
    if let Some(name) = text(p, "name") {
        r.name = name;
    }
    if let Some(uom) = text(p, "base_uom") {
        r.uom = uom;
    }
    let overlay = |field: &mut Option<String>, key: &str| {
        if let Some(v) = text(p, key) {
            *field = Some(v);
        }
    };
    overlay(&mut r.long_description, "description");
    overlay(&mut r.material_grade, "material_grade");
    overlay(&mut r.product_type, "product_type");
    overlay(&mut r.tax_code, "tax_code");
    let mut merged = r.attributes.as_object().cloned().unwrap_or_default();
    merged.extend(attributes(p));
    r.attributes = Value::Object(merged);
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_blank_sku_or_name_is_refused_by_field() {
        let e = check(&json!({"sku": " ", "name": "x"})).unwrap_err();
        assert_eq!(
            (e[0].field.as_str(), e[0].message.as_str()),
            ("sku", "must not be empty")
        );
        assert_eq!(
            check(&json!({"sku": "A", "name": ""})).unwrap_err()[0].field,
            "name"
        );
        check(&json!({"sku": "A", "name": "n"})).unwrap();
    }

    #[test]
    fn allergens_must_be_known_and_shelf_life_not_negative() {
        check(&json!({"sku": "A", "name": "n", "attributes": {"allergens": ["gluten", "milk"]}}))
            .unwrap();
        check(&json!({"sku": "A", "name": "n", "attributes": {"allergens": ["none"]}})).unwrap();
        check(&json!({"sku": "A", "name": "n", "attributes": {"allergens": ["none", "milk"]}}))
            .unwrap_err();
        let e = check(&json!({"sku": "A", "name": "n",
            "attributes": {"allergens": ["gluten", "glutten"], "shelf_life_days": -1}}))
        .unwrap_err();
        assert_eq!(e.len(), 2, "{e:?}");
        assert_eq!(e[0].field, "attributes.allergens");
        assert!(e[0]
            .message
            .starts_with("'glutten' not a known allergen; expected"));
        assert_eq!(e[1].field, "attributes.shelf_life_days");
    }

    #[test]
    fn a_new_product_takes_the_canonical_fields() {
        let r = new_record(&json!({
            "sku": "RM-1", "name": "Flour", "description": "Bakery", "product_type": "raw_material",
            "base_uom": "KG", "web_visible": false, "tax_code": "A",
            "attributes": {"allergens": ["gluten"], "shelf_life_days": 365}
        }));
        assert_eq!(r.sku, "RM-1");
        assert_eq!(r.uom, "KG");
        assert_eq!(r.long_description.as_deref(), Some("Bakery"));
        assert_eq!(r.product_type.as_deref(), Some("raw_material"));
        assert_eq!(r.tax_code.as_deref(), Some("A"));
        assert_eq!(
            r.attributes,
            json!({"allergens": ["gluten"], "shelf_life_days": 365})
        );
        assert!(r.active && !r.web_visible && r.variants.is_none());
    }
}
