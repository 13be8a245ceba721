//! Field schemas of the canonical entities in `switchyard_core::model`, used to check source
//! paths and target fields at load time.
//!
//! Hand-written as a compact table (path, type, `!` when serde requires the field) rather than
//! derived, because the core types carry no reflection; the test `schemas_match_core_types`
//! keeps the table honest by round-tripping a fully populated sample through the real types.

use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    Str,
    Dec,
    Int,
    Bool,
    Date,
    DateTime,
    /// A unit-of-measure code (EA, LB, …).
    Uom,
    /// One of a fixed set of snake_case names.
    Enum(&'static [&'static str]),
    /// Anything (free-form JSON such as `attributes`).
    Any,
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Str => write!(f, "string"),
            Scalar::Dec => write!(f, "decimal"),
            Scalar::Int => write!(f, "integer"),
            Scalar::Bool => write!(f, "boolean"),
            Scalar::Date => write!(f, "date"),
            Scalar::DateTime => write!(f, "datetime"),
            Scalar::Uom => write!(f, "uom"),
            Scalar::Enum(v) => write!(f, "one of {}", v.join(", ")),
            Scalar::Any => write!(f, "any"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    Scalar(Scalar),
    Object(BTreeMap<String, (Shape, bool)>),
    Array(Box<Shape>),
}

impl Shape {
    pub fn field(&self, name: &str) -> Option<&(Shape, bool)> {
        match self {
            Shape::Object(m) => m.get(name),
            _ => None,
        }
    }
    pub fn field_names(&self) -> Vec<&str> {
        match self {
            Shape::Object(m) => m.keys().map(|k| k.as_str()).collect(),
            _ => Vec::new(),
        }
    }
    pub fn required_fields(&self) -> Vec<&str> {
        match self {
            Shape::Object(m) => m
                .iter()
                .filter(|(_, (_, r))| *r)
                .map(|(k, _)| k.as_str())
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// The canonical entities a mapping may read or write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Product,
    InventoryLevel,
    Price,
    Customer,
    Order,
    Shipment,
    Invoice,
    Document,
}

impl Entity {
    pub const ALL: [Entity; 8] = [
        Entity::Product,
        Entity::InventoryLevel,
        Entity::Price,
        Entity::Customer,
        Entity::Order,
        Entity::Shipment,
        Entity::Invoice,
        Entity::Document,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Entity::Product => "product",
            Entity::InventoryLevel => "inventory_level",
            Entity::Price => "price",
            Entity::Customer => "customer",
            Entity::Order => "order",
            Entity::Shipment => "shipment",
            Entity::Invoice => "invoice",
            Entity::Document => "document",
        }
    }

    pub fn parse(s: &str) -> Option<Entity> {
        Entity::ALL.into_iter().find(|e| e.name() == s)
    }

    pub fn shape(self) -> Shape {
        build(match self {
            Entity::Product => PRODUCT,
            Entity::InventoryLevel => INVENTORY,
            Entity::Price => PRICE,
            Entity::Customer => CUSTOMER,
            Entity::Order => ORDER,
            Entity::Shipment => SHIPMENT,
            Entity::Invoice => INVOICE,
            Entity::Document => DOCUMENT,
        })
    }

    /// Validates a mapped record by deserializing it into the real core type.
    pub fn validate(self, v: &serde_json::Value) -> Result<(), String> {
        use switchyard_core::model as m;
        fn check<T: serde::de::DeserializeOwned>(v: &serde_json::Value) -> Result<(), String> {
            T::deserialize(v).map(|_| ()).map_err(|e| e.to_string())
        }
        match self {
            Entity::Product => check::<m::Product>(v),
            Entity::InventoryLevel => check::<m::InventoryLevel>(v),
            Entity::Price => check::<m::Price>(v),
            Entity::Customer => check::<m::Customer>(v),
            Entity::Order => check::<m::Order>(v),
            Entity::Shipment => check::<m::Shipment>(v),
            Entity::Invoice => check::<m::Invoice>(v),
            Entity::Document => check::<m::Document>(v),
        }
    }
}

const ORDER_STATUS: &[&str] = &[
    "pending_review",
    "pending",
    "confirmed",
    "in_production",
    "ready",
    "partially_shipped",
    "shipped",
    "delivered",
    "cancelled",
    "on_hold",
];
const PRICE_KIND: &[&str] = &["list", "customer", "contract", "tier"];
const DOC_KIND: &[&str] = &["mtr", "bol", "coc", "invoice_pdf", "other"];

const DIMENSIONS: &str =
    "length dec|width dec|height dec|thickness dec|weight dec|length_uom uom|weight_uom uom";
const ADDRESS: &str = "name str|line1 str|line2 str|city str|region str|postal_code str|country str|phone str|email str";

const PRODUCT: &str = "sku str!|name str!|description str|product_type str|base_uom uom!|alt_uoms[].uom uom!|alt_uoms[].factor dec!|\
variants[].sku str!|variants[].name str|variants[].options any|variants[].barcode str|variants[].units dec|variants[].dimensions.{DIM}|\
dimensions.{DIM}|material_grade str|web_visible bool!|tax_code str|attributes any|updated_at datetime";
const INVENTORY: &str = "sku str!|location str!|on_hand dec!|available dec!|allocated dec!|on_order dec!|uom uom!|updated_at datetime";
const PRICE: &str = "sku str!|kind price_kind!|currency str!|uom uom!|unit_price dec!|breaks[].min_quantity dec!|breaks[].unit_price dec!|\
customer_id str|contract_id str|tier str|valid_from date|valid_to date";
const CUSTOMER: &str = "id str!|name str!|tax_id str|email str|billing_address.{ADDR}|shipping_address.{ADDR}|price_tier str";
const ORDER: &str = "order_number str!|customer_id str!|status order_status!|currency str!|ordered_at datetime|requested_delivery date|\
lines[]!|lines[].line_number int!|lines[].buyer_line str|lines[].sku str!|lines[].buyer_part str|lines[].gtin str|lines[].description str|\
lines[].quantity dec!|lines[].uom uom!|lines[].unit_price dec!|lines[].requested_date date|billing_address.{ADDR}|shipping_address.{ADDR}|supplier_order_ref str|customer_po str|tracking_numbers[] str!";
const SHIPMENT: &str = "shipment_number str!|order_number str!|customer_po str|customer_po_date date|carrier str|service str|shipped_at datetime|packages[]!|packages[].sscc str|\
packages[].tracking_number str|packages[].weight dec|packages[].weight_uom uom|packages[].lines[]!|packages[].lines[].sku str!|\
packages[].lines[].quantity dec!|packages[].lines[].uom uom!|events[].at datetime!|events[].status str!|events[].location str";
const INVOICE: &str = "invoice_number str!|order_number str|customer_po str|customer_po_date date|issue_date date!|due_date date|currency str!|seller.{CUST}!|buyer.{CUST}!|\
lines[]!|lines[].line_number int!|lines[].sku str!|lines[].description str|lines[].quantity dec!|lines[].uom uom!|lines[].unit_price dec!|\
lines[].vat_rate dec!";
const DOCUMENT: &str = "kind doc_kind!|file_name str!|content_type str!|size_bytes int!|sha256 str!|order_number str|shipment_number str|\
invoice_number str|created_at datetime!";

fn scalar(t: &str) -> Scalar {
    match t {
        "str" => Scalar::Str,
        "dec" => Scalar::Dec,
        "int" => Scalar::Int,
        "bool" => Scalar::Bool,
        "date" => Scalar::Date,
        "datetime" => Scalar::DateTime,
        "uom" => Scalar::Uom,
        "order_status" => Scalar::Enum(ORDER_STATUS),
        "price_kind" => Scalar::Enum(PRICE_KIND),
        "doc_kind" => Scalar::Enum(DOC_KIND),
        _ => Scalar::Any,
    }
}

/// Expands `{DIM}`, `{ADDR}` and `{CUST}` groups, then builds the tree.
fn build(spec: &str) -> Shape {
    let mut lines: Vec<(String, String)> = Vec::new();
    for entry in spec.split('|') {
        let (path, ty) = entry.split_once(' ').unwrap_or((entry, ""));
        let (prefix, group) = match path.split_once('{') {
            Some((p, g)) => (p, Some(g.trim_end_matches(['}', '!']))),
            None => (path, None),
        };
        match group {
            Some(g) => {
                let required = path.ends_with('!');
                let prefix = prefix.trim_end_matches('.');
                let body = match g {
                    "DIM}" | "DIM" => DIMENSIONS,
                    "ADDR}" | "ADDR" => ADDRESS,
                    _ => CUSTOMER,
                };
                // The group object itself (required when marked).
                lines.push((
                    format!("{prefix}{}", if required { "!" } else { "" }),
                    "object".into(),
                ));
                for sub in body.split('|') {
                    let (p, t) = sub.split_once(' ').unwrap_or((sub, ""));
                    if let Some((pp, gg)) = p.split_once('{') {
                        let b2 = if gg.starts_with("ADDR") {
                            ADDRESS
                        } else {
                            DIMENSIONS
                        };
                        let pp = pp.trim_end_matches('.');
                        lines.push((format!("{prefix}.{pp}"), "object".into()));
                        for s2 in b2.split('|') {
                            let (p2, t2) = s2.split_once(' ').unwrap_or((s2, ""));
                            lines.push((format!("{prefix}.{pp}.{p2}"), t2.to_string()));
                        }
                    } else {
                        lines.push((format!("{prefix}.{p}"), t.to_string()));
                    }
                }
            }
            None => lines.push((path.to_string(), ty.to_string())),
        }
    }
    let mut root = Shape::Object(BTreeMap::new());
    for (path, ty) in lines {
        let (ty, req_t) = match ty.strip_suffix('!') {
            Some(t) => (t.to_string(), true),
            None => (ty, false),
        };
        let (path, req_p) = match path.strip_suffix('!') {
            Some(p) => (p.to_string(), true),
            None => (path, false),
        };
        insert(&mut root, &path, &ty, req_t || req_p);
    }
    root
}

fn insert(node: &mut Shape, path: &str, ty: &str, required: bool) {
    let (head, rest) = match path.split_once('.') {
        Some((h, r)) => (h, Some(r)),
        None => (path, None),
    };
    let (name, is_array) = match head.strip_suffix("[]") {
        Some(n) => (n, true),
        None => (head, false),
    };
    let Shape::Object(map) = node else { return };
    let leaf = || {
        if ty == "object" || ty.is_empty() {
            Shape::Object(BTreeMap::new())
        } else {
            Shape::Scalar(scalar(ty))
        }
    };
    let entry = map.entry(name.to_string()).or_insert_with(|| {
        let inner = if rest.is_some() {
            Shape::Object(BTreeMap::new())
        } else {
            leaf()
        };
        (
            if is_array {
                Shape::Array(Box::new(inner))
            } else {
                inner
            },
            false,
        )
    });
    if rest.is_none() && required {
        entry.1 = true;
    }
    if let Some(rest) = rest {
        let target = match &mut entry.0 {
            Shape::Array(inner) => inner.as_mut(),
            other => other,
        };
        insert(target, rest, ty, required);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn product_shape_has_nested_fields() {
        let s = Entity::Product.shape();
        assert_eq!(s.field("sku"), Some(&(Shape::Scalar(Scalar::Str), true)));
        let dims = &s.field("dimensions").unwrap().0;
        assert_eq!(dims.field("weight").unwrap().0, Shape::Scalar(Scalar::Dec));
        let Shape::Array(alt) = &s.field("alt_uoms").unwrap().0 else {
            panic!("alt_uoms is an array")
        };
        assert!(alt.field("factor").unwrap().1);
        let mut req = s.required_fields();
        req.sort();
        assert_eq!(req, vec!["base_uom", "name", "sku", "web_visible"]);
    }

    #[test]
    fn invoice_parties_are_customers() {
        let s = Entity::Invoice.shape();
        let buyer = s.field("buyer").unwrap();
        assert!(buyer.1);
        assert_eq!(
            buyer.0.field("tax_id").unwrap().0,
            Shape::Scalar(Scalar::Str)
        );
        assert!(buyer
            .0
            .field("billing_address")
            .unwrap()
            .0
            .field("city")
            .is_some());
    }

    /// Every required field in the table is required by serde too, and a record holding just
    /// the required fields deserializes into the core type.
    #[test]
    fn schemas_match_core_types() {
        let product = json!({"sku": "A", "name": "n", "base_uom": "EA", "web_visible": true});
        Entity::Product.validate(&product).unwrap();
        for req in Entity::Product.shape().required_fields() {
            let mut p = product.clone();
            p.as_object_mut().unwrap().shift_remove(req);
            assert!(
                Entity::Product.validate(&p).is_err(),
                "{req} should be required"
            );
        }
        let inv = json!({"sku":"A","location":"L","on_hand":"1","available":"1","allocated":"0","on_order":"0","uom":"EA"});
        Entity::InventoryLevel.validate(&inv).unwrap();
        for req in Entity::InventoryLevel.shape().required_fields() {
            let mut p = inv.clone();
            p.as_object_mut().unwrap().shift_remove(req);
            assert!(
                Entity::InventoryLevel.validate(&p).is_err(),
                "{req} should be required"
            );
        }
        let order = json!({"order_number":"1","customer_id":"c","status":"pending","currency":"USD","lines":[],
            "billing_address":null,"shipping_address":null,"supplier_order_ref":null,"customer_po":null,"tracking_numbers":[],
            "ordered_at":null,"requested_delivery":null});
        Entity::Order.validate(&order).unwrap();
        for req in Entity::Order.shape().required_fields() {
            let mut p = order.clone();
            p.as_object_mut().unwrap().shift_remove(req);
            assert!(
                Entity::Order.validate(&p).is_err(),
                "{req} should be required"
            );
        }
    }
}
