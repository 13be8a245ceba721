//! The CSV columns of each entity: a path into the row's document (`customer.name` is the
//! `name` of the nested `customer` object, the PRD's "nested data flattened") and how its value
//! is written. Listed rather than taken from the first row so an empty export still has its
//! header row and every file of an entity has the same columns; a test holds the list to the
//! keys the store's queries build (`every_key_is_a_column`).

use switchyard_store::exports::Entity;

/// How a cell is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// Written as Postgres wrote it: digits with `.` as the decimal separator, never an
    /// exponent, exact (serde_json keeps the literal: `arbitrary_precision`).
    Number,
    Bool,
    /// `YYYY-MM-DD`.
    Date,
    /// `YYYY-MM-DD HH:MM:SS` in UTC: the date as the PRD writes dates, and a form Excel and
    /// LibreOffice read as a date-time (ISO 8601's `T` and offset they keep as text).
    Timestamp,
    /// A nested list (an order's lines, a product's variants) as one cell of JSON text: a
    /// row per element is what the flat entity beside it is for (`order_lines`).
    List,
}

/// One column: header (the path) and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub path: &'static str,
    pub kind: Kind,
}

const fn c(path: &'static str, kind: Kind) -> Column {
    Column { path, kind }
}

use Kind::*;

const PRODUCTS: &[Column] = &[
    c("sku", Text),
    c("name", Text),
    c("gtin", Text),
    c("uom", Text),
    c("type", Text),
    c("tax_code", Text),
    c("active", Bool),
    c("availability", Text),
    c("lead_time_days", Number),
    c("archived", Bool),
    c("created_at", Timestamp),
    c("updated_at", Timestamp),
    c("variants", List),
    c("boms", List),
];

const ORDERS: &[Column] = &[
    c("order_number", Text),
    c("customer.id", Text),
    c("customer.name", Text),
    c("customer_po", Text),
    c("status", Text),
    c("source", Text),
    c("currency", Text),
    c("ordered_at", Timestamp),
    c("requested_delivery", Date),
    c("created_at", Timestamp),
    c("updated_at", Timestamp),
    c("total", Number),
    c("lines", List),
];

const ORDER_LINES: &[Column] = &[
    c("order.number", Text),
    c("order.status", Text),
    c("order.customer_id", Text),
    c("order.customer_po", Text),
    c("order.created_at", Timestamp),
    c("line_number", Number),
    c("sku", Text),
    c("product.name", Text),
    c("description", Text),
    c("quantity", Number),
    c("uom", Text),
    c("unit_price", Number),
    c("amount", Number),
    c("currency", Text),
    c("requested_date", Date),
];

const INVENTORY: &[Column] = &[
    c("sku", Text),
    c("product.sku", Text),
    c("product.name", Text),
    c("location.code", Text),
    c("location.name", Text),
    c("on_hand", Number),
    // `on_hand` (and `available`) is a floor: the source capped it ("100+").
    c("on_hand_at_least", Bool),
    c("allocated", Number),
    c("on_order", Number),
    c("reserved", Number),
    c("available", Number),
    c("low_stock_threshold", Number),
    c("updated_at", Timestamp),
];

const CUSTOMERS: &[Column] = &[
    c("customer_id", Text),
    c("name", Text),
    c("active", Bool),
    c("created_at", Timestamp),
    c("updated_at", Timestamp),
    c("edi_ids", List),
];

const SHIPMENTS: &[Column] = &[
    c("shipment_number", Text),
    c("order.number", Text),
    c("order.customer_id", Text),
    c("order.customer_po", Text),
    c("carrier", Text),
    c("service", Text),
    c("tracking_number", Text),
    c("tracking_url", Text),
    c("shipped_at", Timestamp),
    c("created_at", Timestamp),
    c("lines", List),
];

const INVOICES: &[Column] = &[
    c("invoice_number", Text),
    c("order.number", Text),
    c("order.customer_po", Text),
    c("customer.id", Text),
    c("customer.name", Text),
    c("issue_date", Date),
    c("due_date", Date),
    c("currency", Text),
    c("net_total", Number),
    c("vat_total", Number),
    c("gross_total", Number),
    c("created_at", Timestamp),
    c("lines", List),
];

const PURCHASE_ORDERS: &[Column] = &[
    c("order_number", Text),
    c("partner", Text),
    c("supplier_order_id", Text),
    c("previous_supplier_order_ids", List),
    c("status", Text),
    c("supplier_status", Text),
    c("tracking_number", Text),
    c("carrier", Text),
    c("customer.id", Text),
    c("customer.name", Text),
    c("order_status", Text),
    c("currency", Text),
    c("queued_at", Timestamp),
    c("forwarded_at", Timestamp),
    c("supplier_updated_at", Timestamp),
    c("updated_at", Timestamp),
    c("total", Number),
    c("lines", List),
];

const SUPPLIERS: &[Column] = &[
    c("partner", Text),
    c("orders", Number),
    c("open_orders", Number),
    c("first_order_at", Timestamp),
    c("last_order_at", Timestamp),
    c("last_status_at", Timestamp),
    c("polled_at", Timestamp),
    c("last_activity_at", Timestamp),
];

/// The CSV columns of `entity`, in the order of its query's keys.
pub fn columns(entity: Entity) -> &'static [Column] {
    match entity {
        Entity::Products => PRODUCTS,
        Entity::Orders => ORDERS,
        Entity::OrderLines => ORDER_LINES,
        Entity::Inventory => INVENTORY,
        Entity::Customers => CUSTOMERS,
        Entity::PurchaseOrders => PURCHASE_ORDERS,
        Entity::Suppliers => SUPPLIERS,
        Entity::Shipments => SHIPMENTS,
        Entity::Invoices => INVOICES,
    }
}

/// The XML element of one record of `entity` (the root element is the entity's name).
pub fn record_element(entity: Entity) -> &'static str {
    match entity {
        Entity::Products => "product",
        Entity::Orders => "order",
        Entity::OrderLines => "order_line",
        Entity::PurchaseOrders => "purchase_order",
        Entity::Suppliers => "supplier",
        Entity::Inventory => "level",
        Entity::Customers => "customer",
        Entity::Shipments => "shipment",
        Entity::Invoices => "invoice",
    }
}

/// The XML element of one item of a nested list, by the list's key.
pub fn item_element(list: &str) -> &'static str {
    match list {
        "variants" => "variant",
        "options" => "option",
        "lines" => "line",
        "edi_ids" => "edi_id",
        "boms" => "bom",
        "previous_supplier_order_ids" => "id",
        _ => "item",
    }
}
