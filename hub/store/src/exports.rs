//! Exports (`migrations/0017_exports.sql`): the `exports` rows (an export's state, progress,
//! file and expiry) and the queries that read each exportable entity as a stream of JSON rows.
//!
//! Each entity is one `SELECT json_build_object(...)`: Postgres builds the nested document of
//! a row (an order with its lines, a product with its variants), `json` rather than `jsonb` so
//! the keys keep the order written here (the CSV columns and the XSD follow it), and the rows
//! come back one at a time through sqlx's `fetch` stream, so memory does not grow with the row
//! count. [`count`] and [`rows`] are meant to run in one `REPEATABLE READ` transaction
//! ([`snapshot`]), so the rows streamed are exactly the rows counted.
//!
//! Every query is bound the same way ([`Bound`]): `$1` org, `$2` from, `$3` to, `$4` status,
//! `$5` product, `$6` location, `$7` include archived; a query ignores what does not apply to
//! its entity ([`Filters::check`] refuses such a filter before it gets here).

use crate::db::Result;
use chrono::{DateTime, Duration, Utc};
use futures::stream::BoxStream;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use switchyard_core::ids::{ExportId, JobId, OrgId};

text_enum!(
    /// What can be exported: the hub's tables that exist today. Work orders have no table yet
    /// (docs/ARCHITECTURE.md, "Exports").
    Entity {
        /// Products with their variants and their bills of materials (every version) nested.
        Products => "products",
        /// Sales orders (customers' purchase orders) with their lines nested.
        Orders => "orders",
        /// One row per order line with its order and product flattened in: the grain a
        /// spreadsheet wants.
        OrderLines => "order_lines",
        /// Current stock per SKU and location.
        Inventory => "inventory",
        /// Customers with their EDI identifiers nested.
        Customers => "customers",
        /// Purchase orders: our orders as forwarded to a supplier (`supplier_orders`), with the
        /// supplier's id and status and the order's lines nested.
        PurchaseOrders => "purchase_orders",
        /// The suppliers the organization's database knows: every partner it has forwarded an
        /// order to or polled for statuses, with their order figures.
        Suppliers => "suppliers",
        /// Shipments with their order and lines nested.
        Shipments => "shipments",
        /// Invoices with their lines nested.
        Invoices => "invoices",
    }
);

text_enum!(
    /// The file formats.
    Format {
        Csv => "csv",
        Json => "json",
        Xml => "xml",
    }
);

text_enum!(
    /// Where an export stands.
    ExportState {
        Pending => "pending",
        Running => "running",
        Succeeded => "succeeded",
        Failed => "failed",
        /// The file was deleted after `expires_at`; the row stays so a download says 410.
        Expired => "expired",
    }
);

text_enum!(
    /// A preset date window, counted back from the time the export starts.
    Period {
        Last30Days => "last_30_days",
        Last90Days => "last_90_days",
        Last365Days => "last_365_days",
    }
);

impl Period {
    pub fn days(self) -> i64 {
        match self {
            Period::Last30Days => 30,
            Period::Last90Days => 90,
            Period::Last365Days => 365,
        }
    }
}

/// What to leave out of an export. Unknown fields are refused (a misspelt filter must not
/// silently export everything).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filters {
    /// A preset window; exclusive with `from`/`to`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<Period>,
    /// Custom window start (inclusive). Orders and order lines: created; the rest: updated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<DateTime<Utc>>,
    /// Custom window end (exclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<DateTime<Utc>>,
    /// Orders, order lines (the order's status) and purchase orders (the supplier's status).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// A SKU: that product (and its variants); orders and purchase orders holding a line of it;
    /// its lines; its stock; the suppliers sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// Inventory only: a location code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Archived rows too: deleted or inactive products and variants, inactive customers,
    /// cancelled orders, rejected or cancelled purchase orders. Default no.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub include_archived: bool,
}

/// The order statuses `Filters::status` accepts (the `orders.status` check of 0005, 0027 and
/// 0036).
pub const ORDER_STATUSES: &[&str] = &[
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

/// The purchase order statuses `Filters::status` accepts: `queued` (not answered by the
/// supplier yet) and the supplier-neutral statuses of 0018's `supplier_orders.status` check.
pub const PURCHASE_ORDER_STATUSES: &[&str] = &[
    "queued",
    "pending",
    "accepted",
    "awaiting_shipping_quote",
    "awaiting_payment",
    "fulfillment_started",
    "shipped",
    "rejected",
    "cancelled",
];

/// A filter that does not fit: the field at fault and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("filters.{field}: {message}")]
pub struct FilterError {
    pub field: &'static str,
    pub message: String,
}

impl Filters {
    /// Refuses what does not apply to `entity` or cannot be right, naming the field.
    pub fn check(&self, entity: Entity) -> Result<(), FilterError> {
        let err = |field, message: String| Err(FilterError { field, message });
        if self.period.is_some() && (self.from.is_some() || self.to.is_some()) {
            return err("period", "give either a period or from/to, not both".into());
        }
        if let (Some(from), Some(to)) = (self.from, self.to) {
            if from >= to {
                return err("to", format!("must be after from ({from})"));
            }
        }
        if let Some(status) = &self.status {
            let known = match entity {
                Entity::Orders | Entity::OrderLines => ORDER_STATUSES,
                Entity::PurchaseOrders => PURCHASE_ORDER_STATUSES,
                _ => {
                    return err(
                        "status",
                        format!("applies to orders, order_lines and purchase_orders, not {entity}"),
                    )
                }
            };
            if !known.contains(&status.as_str()) {
                return err(
                    "status",
                    format!("`{status}` is not one of {}", known.join(", ")),
                );
            }
        }
        if self.product.is_some() && entity == Entity::Customers {
            return err("product", "does not apply to customers".into());
        }
        // Nothing about a supplier is archived: asking for archived ones is a mistake worth
        // saying rather than a flag silently ignored.
        if self.include_archived && entity == Entity::Suppliers {
            return err(
                "include_archived",
                "suppliers have nothing archived; leave it out".into(),
            );
        }
        if self.location.is_some() && entity != Entity::Inventory {
            return err("location", format!("applies to inventory, not {entity}"));
        }
        for (field, v) in [
            ("product", &self.product),
            ("location", &self.location),
            ("status", &self.status),
        ] {
            if v.as_deref()
                .is_some_and(|s| s.is_empty() || s.contains('\0'))
            {
                return err(field, "must be a non-empty string without NUL".into());
            }
        }
        Ok(())
    }

    /// The window as timestamps, a period counted back from `now`.
    pub fn window(&self, now: DateTime<Utc>) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        match self.period {
            Some(p) => (Some(now - Duration::days(p.days())), None),
            None => (self.from, self.to),
        }
    }
}

/// The filters resolved once (the window fixed at `now`), bound to every entity's query the
/// same way.
#[derive(Debug, Clone)]
struct Bound {
    org: OrgId,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    status: Option<String>,
    product: Option<String>,
    location: Option<String>,
    archived: bool,
}

impl Bound {
    fn new(org: OrgId, filters: &Filters, now: DateTime<Utc>) -> Self {
        let (from, to) = filters.window(now);
        Self {
            org,
            from,
            to,
            status: filters.status.clone(),
            product: filters.product.clone(),
            location: filters.location.clone(),
            archived: filters.include_archived,
        }
    }

    /// Parameter `n` (1 to 7, as [`Bound::bind`] binds them) as a typed SQL literal.
    fn literal(&self, n: u8) -> Option<String> {
        fn text(v: Option<&str>, ty: &str) -> String {
            // `E'…'` reads backslashes as escapes whatever `standard_conforming_strings` says,
            // so doubling both `\` and `'` is the whole of quoting (the filters hold no NUL:
            // `Filters::check`).
            v.map_or_else(
                || format!("NULL::{ty}"),
                |v| format!("E'{}'::{ty}", v.replace('\\', "\\\\").replace('\'', "''")),
            )
        }
        let time = |t: Option<DateTime<Utc>>| {
            t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        };
        Some(match n {
            1 => text(Some(&self.org.0.to_string()), "uuid"),
            2 => text(time(self.from).as_deref(), "timestamptz"),
            3 => text(time(self.to).as_deref(), "timestamptz"),
            4 => text(self.status.as_deref(), "text"),
            5 => text(self.product.as_deref(), "text"),
            6 => text(self.location.as_deref(), "text"),
            7 => self.archived.to_string(),
            _ => return None,
        })
    }

    /// `sql` with each `$n` replaced by [`Bound::literal`], in one pass over `sql` (a value
    /// holding `$1` is never read again as a parameter).
    fn inline(&self, sql: &str) -> String {
        let mut out = String::with_capacity(sql.len() + 128);
        let mut rest = sql;
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            let digit = rest[at + 1..].chars().next().and_then(|c| c.to_digit(10));
            match digit.and_then(|d| self.literal(d as u8)) {
                Some(literal) => {
                    out.push('(');
                    out.push_str(&literal);
                    out.push(')');
                    rest = &rest[at + 2..];
                }
                None => {
                    out.push('$');
                    rest = &rest[at + 1..];
                }
            }
        }
        out.push_str(rest);
        out
    }

    fn bind<'q, O>(
        &self,
        q: sqlx::query::QueryScalar<'q, Postgres, O, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::QueryScalar<'q, Postgres, O, sqlx::postgres::PgArguments> {
        q.bind(self.org.0)
            .bind(self.from)
            .bind(self.to)
            .bind(self.status.clone())
            .bind(self.product.clone())
            .bind(self.location.clone())
            .bind(self.archived)
    }
}

/// The query of `entity`: one `json` column, the row's document, in a stable order.
fn select(entity: Entity) -> &'static str {
    match entity {
        Entity::Products => PRODUCTS,
        Entity::Orders => ORDERS,
        Entity::OrderLines => ORDER_LINES,
        Entity::Inventory => INVENTORY,
        Entity::Customers => CUSTOMERS,
        Entity::Shipments => SHIPMENTS,
        Entity::Invoices => INVOICES,
        Entity::PurchaseOrders => PURCHASE_ORDERS,
        Entity::Suppliers => SUPPLIERS,
    }
}

/// An order's lines as a JSON list, with the product's name and amounts: the same nesting in
/// `orders` and `purchase_orders` (`o` is the order row). A macro, so both queries stay
/// `&'static str` constants.
macro_rules! order_lines_json {
    () => {
        "COALESCE((
        SELECT json_agg(json_build_object(
            'line_number', (l->>'line_number')::integer, 'sku', l->>'sku',
            'product', json_build_object('name', p.name),
            'description', l->>'description',
            'quantity', (l->>'quantity')::numeric, 'uom', l->>'uom',
            'unit_price', (l->>'unit_price')::numeric,
            'amount', (l->>'quantity')::numeric * (l->>'unit_price')::numeric,
            'requested_date', (l->>'requested_date')::date)
            ORDER BY ord)
        FROM jsonb_array_elements(o.canonical->'lines') WITH ORDINALITY AS x(l, ord)
        LEFT JOIN products p ON p.org_id = o.org_id AND p.sku = l->>'sku'
    ), '[]'::json)"
    };
}

/// An order's total: the sum of its lines' amounts.
macro_rules! order_total {
    () => {
        "COALESCE((SELECT sum((l->>'quantity')::numeric * (l->>'unit_price')::numeric)
                       FROM jsonb_array_elements(o.canonical->'lines') l), 0)"
    };
}

// `json_build_object` keeps the key order written here: the CSV columns
// (switchyard_export::columns) and the XSD (hub/export/schemas/export.xsd) follow it.
const PRODUCTS: &str = "
SELECT json_build_object(
    'sku', p.sku, 'name', p.name, 'gtin', p.gtin, 'uom', p.uom, 'type', p.product_type,
    'tax_code', p.tax_code, 'active', p.active, 'availability', p.availability_status,
    'lead_time_days', p.lead_time_days, 'archived', p.deleted_at IS NOT NULL,
    'created_at', p.created_at, 'updated_at', p.updated_at,
    'variants', COALESCE((
        SELECT json_agg(json_build_object(
            'sku', v.sku, 'name', v.name, 'gtin', v.gtin,
            'options', COALESCE((SELECT json_agg(json_build_object('name', o.key, 'value', o.value)
                                                 ORDER BY o.key)
                                 FROM jsonb_each_text(v.options) o), '[]'::json),
            'units', v.units)
            ORDER BY v.sku)
        FROM product_variants v
        WHERE v.org_id = p.org_id AND v.parent_sku = p.sku AND ($7 OR v.deleted_at IS NULL)
    ), '[]'::json),
    'boms', COALESCE((
        SELECT json_agg(json_build_object(
            'version', b.version, 'created_at', b.created_at, 'updated_at', b.updated_at,
            'items', COALESCE((
                SELECT json_agg(json_build_object(
                    'line', i.line, 'component_sku', i.component_sku,
                    'component_name', cp.name, 'qty', i.qty, 'unit', i.unit,
                    'operation_sequence', i.operation_sequence, 'is_byproduct', i.is_byproduct)
                    ORDER BY i.line)
                FROM bom_items i
                LEFT JOIN products cp ON cp.org_id = i.org_id AND cp.sku = i.component_sku
                WHERE i.bom_id = b.id), '[]'::json))
            ORDER BY b.version)
        FROM boms b
        WHERE b.org_id = p.org_id AND b.product_sku = p.sku
    ), '[]'::json))
FROM products p
WHERE p.org_id = $1
  AND ($2::timestamptz IS NULL OR p.updated_at >= $2)
  AND ($3::timestamptz IS NULL OR p.updated_at < $3)
  AND ($5::text IS NULL OR p.sku = $5)
  AND ($7 OR (p.deleted_at IS NULL AND p.active))
  AND ($4::text IS NULL OR true) AND ($6::text IS NULL OR true) -- every query names all seven
ORDER BY p.sku";

const ORDERS: &str = concat!(
    "
SELECT json_build_object(
    'order_number', o.order_number,
    'customer', json_build_object('id', o.customer_id, 'name', c.name),
    'customer_po', o.customer_po, 'status', o.status, 'source', o.source,
    'currency', o.canonical->>'currency',
    'ordered_at', (o.canonical->>'ordered_at')::timestamptz,
    'requested_delivery', (o.canonical->>'requested_delivery')::date,
    'created_at', o.created_at, 'updated_at', o.updated_at,
    'total', ",
    order_total!(),
    ",
    'lines', ",
    order_lines_json!(),
    ")
FROM orders o
LEFT JOIN customers c ON c.org_id = o.org_id AND c.customer_id = o.customer_id
WHERE o.org_id = $1
  AND ($2::timestamptz IS NULL OR o.created_at >= $2)
  AND ($3::timestamptz IS NULL OR o.created_at < $3)
  AND ($4::text IS NULL OR o.status = $4)
  AND ($5::text IS NULL OR EXISTS (SELECT 1 FROM jsonb_array_elements(o.canonical->'lines') l
                                   WHERE l->>'sku' = $5))
  AND ($7 OR o.status <> 'cancelled' OR o.status = $4)
  AND ($6::text IS NULL OR true)
ORDER BY o.created_at, o.id"
);

/// What an order line row is read from, filtered and ordered by: shared by the JSON query and
/// the flat one, so the two cannot select different rows.
macro_rules! order_lines_from {
    () => {
        "
FROM orders o
CROSS JOIN LATERAL jsonb_array_elements(o.canonical->'lines') WITH ORDINALITY AS x(l, ord)
LEFT JOIN products p ON p.org_id = o.org_id AND p.sku = l->>'sku'
WHERE o.org_id = $1
  AND ($2::timestamptz IS NULL OR o.created_at >= $2)
  AND ($3::timestamptz IS NULL OR o.created_at < $3)
  AND ($4::text IS NULL OR o.status = $4)
  AND ($5::text IS NULL OR l->>'sku' = $5)
  AND ($7 OR o.status <> 'cancelled' OR o.status = $4)
  AND ($6::text IS NULL OR true)
ORDER BY o.created_at, o.id, x.ord"
    };
}

const ORDER_LINES: &str = concat!(
    "
SELECT json_build_object(
    'order', json_build_object('number', o.order_number, 'status', o.status,
                               'customer_id', o.customer_id, 'customer_po', o.customer_po,
                               'created_at', o.created_at),
    'line_number', (l->>'line_number')::integer, 'sku', l->>'sku',
    'product', json_build_object('name', p.name),
    'description', l->>'description',
    'quantity', (l->>'quantity')::numeric, 'uom', l->>'uom',
    'unit_price', (l->>'unit_price')::numeric,
    'amount', (l->>'quantity')::numeric * (l->>'unit_price')::numeric,
    'currency', o.canonical->>'currency',
    'requested_date', (l->>'requested_date')::date)",
    order_lines_from!()
);

// The CSV's cells of an order line, in `switchyard_export::columns`' order, each already the
// text the CSV writes (see [`flat_select`]).
const ORDER_LINES_FLAT: &str = concat!(
    "
SELECT o.order_number, o.status, o.customer_id, o.customer_po,
    to_char(o.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),
    (l->>'line_number')::integer, l->>'sku', p.name, l->>'description',
    (l->>'quantity')::numeric, l->>'uom', (l->>'unit_price')::numeric,
    (l->>'quantity')::numeric * (l->>'unit_price')::numeric,
    o.canonical->>'currency', to_char((l->>'requested_date')::date, 'YYYY-MM-DD')",
    order_lines_from!()
);

// Reserved counts the active reservations held at the location (a reservation without a
// location counts against the SKU's total only, which a per-location row cannot show).
const INVENTORY: &str = "
SELECT json_build_object(
    'sku', l.sku,
    'product', json_build_object('sku', COALESCE(v.parent_sku, l.sku),
                                 'name', COALESCE(v.name, p.name, vp.name)),
    'location', json_build_object('code', loc.code, 'name', loc.name),
    'on_hand', l.on_hand, 'on_hand_at_least', l.on_hand_at_least,
    'allocated', l.allocated, 'on_order', l.on_order,
    'reserved', r.reserved,
    'available', GREATEST(l.on_hand - l.allocated - r.reserved, 0),
    'low_stock_threshold',
        inventory_low_threshold(l.org_id, l.sku, l.location, l.low_stock_threshold),
    'updated_at', l.updated_at)
FROM inventory_levels l
JOIN inventory_locations loc ON loc.org_id = l.org_id AND loc.code = l.location
LEFT JOIN products p ON p.org_id = l.org_id AND p.sku = l.sku
LEFT JOIN product_variants v ON v.org_id = l.org_id AND v.sku = l.sku
LEFT JOIN products vp ON vp.org_id = v.org_id AND vp.sku = v.parent_sku
CROSS JOIN LATERAL (
    SELECT COALESCE(sum(rl.quantity), 0) AS reserved
    FROM inventory_reservation_lines rl
    JOIN inventory_reservations rr ON rr.id = rl.reservation_id
    WHERE rl.org_id = l.org_id AND rl.sku = l.sku AND rl.location = l.location
      AND rr.released_at IS NULL AND rr.expires_at > now()) r
WHERE l.org_id = $1
  AND ($2::timestamptz IS NULL OR l.updated_at >= $2)
  AND ($3::timestamptz IS NULL OR l.updated_at < $3)
  AND ($5::text IS NULL OR l.sku = $5 OR v.parent_sku = $5)
  AND ($6::text IS NULL OR l.location = $6)
  AND ($7 OR (COALESCE(p.deleted_at, v.deleted_at, vp.deleted_at) IS NULL))
  AND ($4::text IS NULL OR true)
ORDER BY l.sku, l.location";

const CUSTOMERS: &str = "
SELECT json_build_object(
    'customer_id', c.customer_id, 'name', c.name, 'active', c.active,
    'created_at', c.created_at, 'updated_at', c.updated_at,
    'edi_ids', COALESCE((
        SELECT json_agg(json_build_object('qualifier', e.qualifier, 'id', e.party_id)
                        ORDER BY e.qualifier, e.party_id)
        FROM customer_edi_ids e
        WHERE e.org_id = c.org_id AND e.customer_id = c.customer_id), '[]'::json))
FROM customers c
WHERE c.org_id = $1
  AND ($2::timestamptz IS NULL OR c.updated_at >= $2)
  AND ($3::timestamptz IS NULL OR c.updated_at < $3)
  AND ($7 OR c.active)
  AND ($4::text IS NULL OR true) AND ($5::text IS NULL OR true) AND ($6::text IS NULL OR true)
ORDER BY c.customer_id";

// Window: when shipped. Product: shipments carrying a line of the SKU.
const SHIPMENTS: &str = "
SELECT json_build_object(
    'shipment_number', s.shipment_number,
    'order', json_build_object('number', o.order_number, 'customer_id', o.customer_id,
                               'customer_po', o.customer_po),
    'carrier', s.carrier, 'service', s.service,
    'tracking_number', s.tracking_number, 'tracking_url', s.tracking_url,
    'shipped_at', s.shipped_at, 'created_at', s.created_at,
    'lines', COALESCE((
        SELECT json_agg(json_build_object(
            'line_number', l.line_number, 'sku', l.sku,
            'product', json_build_object('name', p.name), 'quantity', l.quantity)
            ORDER BY l.line_number)
        FROM shipment_lines l
        LEFT JOIN products p ON p.org_id = l.org_id AND p.sku = l.sku
        WHERE l.shipment_id = s.id), '[]'::json))
FROM shipments s
JOIN orders o ON o.id = s.order_id
WHERE s.org_id = $1
  AND ($2::timestamptz IS NULL OR s.shipped_at >= $2)
  AND ($3::timestamptz IS NULL OR s.shipped_at < $3)
  AND ($5::text IS NULL OR EXISTS (SELECT 1 FROM shipment_lines l
                                   WHERE l.shipment_id = s.id AND l.sku = $5))
  AND ($4::text IS NULL OR true) AND ($6::text IS NULL OR true) AND ($7 OR true)
ORDER BY s.shipped_at, s.id";

// Window: the issue date (a date, compared from the window's start day in UTC). Product:
// invoices with a line of the SKU.
const INVOICES: &str = "
SELECT json_build_object(
    'invoice_number', i.invoice_number,
    'order', json_build_object('number', o.order_number, 'customer_po', o.customer_po),
    'customer', json_build_object('id', i.customer_id, 'name', c.name),
    'issue_date', i.issue_date, 'due_date', i.due_date, 'currency', i.currency,
    'net_total', i.net_total, 'vat_total', i.vat_total, 'gross_total', i.gross_total,
    'created_at', i.created_at,
    'lines', COALESCE((
        SELECT json_agg(json_build_object(
            'line_number', l.line_number, 'sku', l.sku,
            'product', json_build_object('name', p.name), 'description', l.description,
            'quantity', l.quantity, 'uom', l.uom, 'unit_price', l.unit_price,
            'vat_rate', l.vat_rate, 'net_amount', l.net_amount, 'vat_amount', l.vat_amount)
            ORDER BY l.line_number)
        FROM invoice_lines l
        LEFT JOIN products p ON p.org_id = l.org_id AND p.sku = l.sku
        WHERE l.invoice_id = i.id), '[]'::json))
FROM invoices i
LEFT JOIN orders o ON o.id = i.order_id
LEFT JOIN customers c ON c.org_id = i.org_id AND c.customer_id = i.customer_id
WHERE i.org_id = $1
  AND ($2::timestamptz IS NULL OR i.issue_date >= ($2 AT TIME ZONE 'UTC')::date)
  AND ($3::timestamptz IS NULL OR i.issue_date < ($3 AT TIME ZONE 'UTC')::date)
  AND ($5::text IS NULL OR EXISTS (SELECT 1 FROM invoice_lines l
                                   WHERE l.invoice_id = i.id AND l.sku = $5))
  AND ($4::text IS NULL OR true) AND ($6::text IS NULL OR true) AND ($7 OR true)
ORDER BY i.issue_date, i.invoice_number";

// A purchase order is dated by when it was queued for the supplier (its creation); `status` is
// the supplier-neutral status, `queued` until the supplier answered. Rejected and cancelled
// ones are archived.
const PURCHASE_ORDERS: &str = concat!(
    "
SELECT json_build_object(
    'order_number', o.order_number, 'partner', so.partner,
    'supplier_order_id', so.supplier_order_id,
    'previous_supplier_order_ids', to_json(so.previous_supplier_order_ids),
    'status', COALESCE(so.status, 'queued'), 'supplier_status', so.supplier_status,
    'tracking_number', so.tracking_number, 'carrier', so.carrier,
    'customer', json_build_object('id', o.customer_id, 'name', c.name),
    'order_status', o.status, 'currency', o.canonical->>'currency',
    'queued_at', so.queued_at, 'forwarded_at', so.forwarded_at,
    'supplier_updated_at', so.supplier_updated_at, 'updated_at', so.updated_at,
    'total', ",
    order_total!(),
    ",
    'lines', ",
    order_lines_json!(),
    ")
FROM supplier_orders so
JOIN orders o ON o.org_id = so.org_id AND o.id = so.order_id
LEFT JOIN customers c ON c.org_id = o.org_id AND c.customer_id = o.customer_id
WHERE so.org_id = $1
  AND ($2::timestamptz IS NULL OR so.queued_at >= $2)
  AND ($3::timestamptz IS NULL OR so.queued_at < $3)
  AND ($4::text IS NULL OR COALESCE(so.status, 'queued') = $4)
  AND ($5::text IS NULL OR EXISTS (SELECT 1 FROM jsonb_array_elements(o.canonical->'lines') l
                                   WHERE l->>'sku' = $5))
  AND ($7 OR so.status IS NULL OR so.status NOT IN ('rejected', 'cancelled')
       OR so.status = $4)
  AND ($6::text IS NULL OR true)
ORDER BY so.queued_at, so.order_id"
);

// Suppliers as the database knows them: the partners the organization has forwarded orders to
// or polled for statuses. The `[suppliers]` configuration is not in Postgres, so a supplier
// configured but never used is not here yet. Dated by its last activity (an order queued, a
// status applied, a poll).
const SUPPLIERS: &str = "
WITH partners AS (
    SELECT partner FROM supplier_orders WHERE org_id = $1
    UNION
    SELECT partner FROM supplier_poll_state WHERE org_id = $1),
figures AS (
    SELECT p.partner, s.orders, s.open_orders, s.first_order_at, s.last_order_at,
           s.last_status_at, ps.polled_at,
           GREATEST(s.last_order_at, s.last_status_at, ps.polled_at) AS last_activity_at
    FROM partners p
    CROSS JOIN LATERAL (
        SELECT count(*) AS orders,
               count(*) FILTER (WHERE so.status IS NULL OR so.status NOT IN
                                ('shipped', 'rejected', 'cancelled')) AS open_orders,
               min(so.queued_at) AS first_order_at, max(so.queued_at) AS last_order_at,
               max(so.supplier_updated_at) AS last_status_at
        FROM supplier_orders so WHERE so.org_id = $1 AND so.partner = p.partner) s
    LEFT JOIN supplier_poll_state ps ON ps.org_id = $1 AND ps.partner = p.partner)
SELECT json_build_object(
    'partner', f.partner, 'orders', f.orders, 'open_orders', f.open_orders,
    'first_order_at', f.first_order_at, 'last_order_at', f.last_order_at,
    'last_status_at', f.last_status_at, 'polled_at', f.polled_at,
    'last_activity_at', f.last_activity_at)
FROM figures f
WHERE ($2::timestamptz IS NULL OR f.last_activity_at >= $2)
  AND ($3::timestamptz IS NULL OR f.last_activity_at < $3)
  AND ($5::text IS NULL OR EXISTS (
        SELECT 1 FROM supplier_orders so JOIN orders o ON o.org_id = so.org_id AND o.id = so.order_id
        WHERE so.org_id = $1 AND so.partner = f.partner
          AND EXISTS (SELECT 1 FROM jsonb_array_elements(o.canonical->'lines') l
                      WHERE l->>'sku' = $5)))
  AND ($4::text IS NULL OR true) AND ($6::text IS NULL OR true) AND ($7 OR true)
ORDER BY f.partner";

/// A read-only `REPEATABLE READ` transaction: [`count`] and [`rows`] in it see one snapshot.
pub async fn snapshot(pool: &PgPool) -> Result<Transaction<'static, Postgres>> {
    let mut tx = crate::begin(pool).await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// How many rows an export of `entity` with `filters` holds. The query without its final
/// `ORDER BY`: a subquery that sorts is not flattened by the planner, so counting it would
/// sort every row only to count them (most of a flat export's time for a million lines).
pub async fn count(
    db: &mut PgConnection,
    org: OrgId,
    entity: Entity,
    filters: &Filters,
    now: DateTime<Utc>,
) -> Result<u64> {
    // The line break ends a trailing `--` comment the query may have before its ORDER BY.
    let sql = format!("SELECT count(*) FROM ({}\n) q", unordered(select(entity)));
    let n: i64 = Bound::new(org, filters, now)
        .bind(sqlx::query_scalar(&sql))
        .fetch_one(db)
        .await?;
    Ok(n.max(0) as u64)
}

/// The rows of `entity`, each its JSON document, streamed as Postgres sends them.
pub fn rows<'c>(
    db: &'c mut PgConnection,
    org: OrgId,
    entity: Entity,
    filters: &Filters,
    now: DateTime<Utc>,
) -> BoxStream<'c, Result<Value>> {
    let bound = Bound::new(org, filters, now);
    bound
        .bind(sqlx::query_scalar::<_, sqlx::types::Json<Value>>(select(
            entity,
        )))
        .fetch(db)
        .map(|r| r.map(|j| j.0).map_err(Into::into))
        .boxed()
}

/// `sql` without its last, top-level `ORDER BY` (each query ends with one, unindented on
/// its own line; the `ORDER BY`s inside aggregates are indented).
fn unordered(sql: &str) -> &str {
    sql.rsplit_once("\nORDER BY ").map_or(sql, |(head, _)| head)
}

/// The flat query of `entity`, when it has one: the CSV's columns in their order, each cell
/// already the text the CSV writes (timestamps `YYYY-MM-DD HH:MM:SS` in UTC, dates
/// `YYYY-MM-DD`, numbers as Postgres writes them, booleans `true`/`false`, NULL an empty
/// cell), over the same `FROM`/`WHERE`/`ORDER BY` as its JSON query. Only for entities whose
/// every column is a single value: a nested list is one cell of JSON text, which the tree path
/// already writes.
pub fn flat_select(entity: Entity) -> Option<&'static str> {
    match entity {
        Entity::OrderLines => Some(ORDER_LINES_FLAT),
        _ => None,
    }
}

/// `COPY (flat query) TO STDOUT` of `entity` (`None` without a [`flat_select`]): Postgres's
/// text format, one line per row, tab between cells, `\N` for NULL, backslash escapes. COPY
/// takes no bind parameters, so the filters are written into the statement as literals
/// ([`Bound::literal`]).
pub async fn copy_flat<'c>(
    db: &'c mut PgConnection,
    org: OrgId,
    entity: Entity,
    filters: &Filters,
    now: DateTime<Utc>,
) -> Result<Option<BoxStream<'c, Result<bytes::Bytes>>>> {
    let Some(select) = flat_select(entity) else {
        return Ok(None);
    };
    let statement = format!(
        "COPY ({}) TO STDOUT",
        Bound::new(org, filters, now).inline(select)
    );
    let stream = db.copy_out_raw(&statement).await?;
    Ok(Some(stream.map(|r| r.map_err(Into::into)).boxed()))
}

/// One export as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExportRow {
    pub id: uuid::Uuid,
    pub org_id: uuid::Uuid,
    pub entity: String,
    pub format: String,
    pub filters: sqlx::types::Json<Filters>,
    pub state: String,
    pub rows_done: i64,
    pub rows_total: Option<i64>,
    pub bytes: Option<i64>,
    pub file_path: Option<String>,
    pub job_id: Option<uuid::Uuid>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// The mapping file each row went through, if any.
    pub mapping: Option<String>,
    /// The version (content hash) of that mapping the job used.
    pub mapping_hash: Option<String>,
}

impl ExportRow {
    pub fn entity(&self) -> Entity {
        Entity::parse(&self.entity).expect("the exports.entity check admits only known entities")
    }
    pub fn format(&self) -> Format {
        Format::parse(&self.format).expect("the exports.format check admits only known formats")
    }
    pub fn state(&self) -> ExportState {
        ExportState::parse(&self.state).expect("the exports.state check admits only known states")
    }
}

const COLUMNS: &str = "id, org_id, entity, format, filters, state, rows_done, rows_total, bytes,
    file_path, job_id, error, created_at, started_at, finished_at, expires_at, mapping,
    mapping_hash";

/// What an export is asked to write.
#[derive(Debug, Clone, Copy)]
pub struct NewExport<'a> {
    pub id: ExportId,
    pub org: OrgId,
    pub entity: Entity,
    pub format: Format,
    pub filters: &'a Filters,
    /// A mapping file to reshape each row through.
    pub mapping: Option<&'a str>,
}

/// Records a requested export (`pending`).
pub async fn create(pool: &PgPool, new: NewExport<'_>, now: DateTime<Utc>) -> Result<ExportRow> {
    Ok(sqlx::query_as(&format!(
        "INSERT INTO exports (id, org_id, entity, format, filters, mapping, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLUMNS}"
    ))
    .bind(new.id.0)
    .bind(new.org.0)
    .bind(new.entity.as_str())
    .bind(new.format.as_str())
    .bind(sqlx::types::Json(new.filters))
    .bind(new.mapping)
    .bind(now)
    .fetch_one(pool)
    .await?)
}

/// Notes the job that writes it.
pub async fn set_job(pool: &PgPool, id: ExportId, job: JobId) -> Result<()> {
    sqlx::query("UPDATE exports SET job_id = $2 WHERE id = $1")
        .bind(id.0)
        .bind(job.0)
        .execute(pool)
        .await?;
    Ok(())
}

/// One export of `org` (another organization's is `None`, like a missing one).
pub async fn get(pool: &PgPool, org: OrgId, id: ExportId) -> Result<Option<ExportRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM exports WHERE id = $1 AND org_id = $2"
    ))
    .bind(id.0)
    .bind(org.0)
    .fetch_optional(pool)
    .await?)
}

/// The job starts (again, after a crash: progress restarts from zero), with the version of
/// its mapping it uses.
pub async fn start(
    pool: &PgPool,
    id: ExportId,
    total: u64,
    mapping_hash: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "UPDATE exports SET state = 'running', rows_total = $2, rows_done = 0, started_at = $3,
             mapping_hash = $4
         WHERE id = $1",
    )
    .bind(id.0)
    .bind(total as i64)
    .bind(now)
    .bind(mapping_hash)
    .execute(pool)
    .await?;
    Ok(())
}

/// Rows written so far.
pub async fn progress(pool: &PgPool, id: ExportId, done: u64) -> Result<()> {
    sqlx::query("UPDATE exports SET rows_done = $2 WHERE id = $1 AND state = 'running'")
        .bind(id.0)
        .bind(done as i64)
        .execute(pool)
        .await?;
    Ok(())
}

/// The file is complete at `path`; it is kept for `ttl`.
pub async fn succeed(
    pool: &PgPool,
    id: ExportId,
    done: u64,
    bytes: u64,
    path: &str,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Result<()> {
    sqlx::query(
        "UPDATE exports SET state = 'succeeded', rows_done = $2, bytes = $3, file_path = $4,
             finished_at = $5, expires_at = $6, error = NULL
         WHERE id = $1",
    )
    .bind(id.0)
    .bind(done as i64)
    .bind(bytes as i64)
    .bind(path)
    .bind(now)
    .bind(now + ttl)
    .execute(pool)
    .await?;
    Ok(())
}

/// The export failed for good, with why.
pub async fn fail(pool: &PgPool, id: ExportId, error: &str, now: DateTime<Utc>) -> Result<()> {
    sqlx::query("UPDATE exports SET state = 'failed', error = $2, finished_at = $3 WHERE id = $1")
        .bind(id.0)
        .bind(error)
        .bind(now)
        .execute(pool)
        .await?;
    Ok(())
}

/// Finished exports whose time is up, in every organization: (id, file path), oldest first.
pub async fn due(pool: &PgPool, now: DateTime<Utc>, limit: i64) -> Result<Vec<(ExportId, String)>> {
    let rows: Vec<(uuid::Uuid, String)> = sqlx::query_as(
        "SELECT id, file_path FROM exports
         WHERE state = 'succeeded' AND expires_at <= $1 ORDER BY expires_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(id, p)| (ExportId(id), p)).collect())
}

/// The file of `id` is gone: the row says `expired` (its path is kept for the record).
pub async fn mark_expired(pool: &PgPool, id: ExportId) -> Result<()> {
    sqlx::query("UPDATE exports SET state = 'expired' WHERE id = $1 AND state = 'succeeded'")
        .bind(id.0)
        .execute(pool)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_order_status_filter_knows_every_order_status() {
        let all: Vec<&str> = switchyard_core::model::OrderStatus::ALL
            .map(|s| s.as_str())
            .to_vec();
        assert_eq!(super::ORDER_STATUSES, all.as_slice());
    }
}
