//! The canonical domain model: what every mapping file translates from or to.
//!
//! Kept in one module on purpose (later issues extend it here rather than per adapter).
//! Money, quantities and rates are [`Decimal`]s serialized as strings, so no value ever
//! passes through `f64`.

use crate::ids::{OrgId, PartnerName};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A tenant: one distributor or manufacturer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    pub id: OrgId,
    pub slug: String,
    pub name: String,
}

/// A configured instance of an adapter (`[partners.NAME]` in the config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Partner {
    pub name: PartnerName,
    pub kind: String,
    pub base_url: Option<String>,
    /// Where its credentials come from (`secret:NAME` or `env:VAR`), never the credential itself.
    pub credentials_ref: Option<String>,
}

/// Units of measure the hub converts between (mapping files declare product-specific factors
/// such as LB per FT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Uom {
    Ea,
    Lb,
    Kg,
    Ft,
    M,
    In,
    Mm,
    Sf,
    Cwt,
    Ton,
    /// The litre: liquids (MonoPilot's template lists `L` among its units).
    L,
}

impl Uom {
    pub const ALL: [Uom; 11] = [
        Uom::Ea,
        Uom::Lb,
        Uom::Kg,
        Uom::Ft,
        Uom::M,
        Uom::In,
        Uom::Mm,
        Uom::Sf,
        Uom::Cwt,
        Uom::Ton,
        Uom::L,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Uom::Ea => "EA",
            Uom::Lb => "LB",
            Uom::Kg => "KG",
            Uom::Ft => "FT",
            Uom::M => "M",
            Uom::In => "IN",
            Uom::Mm => "MM",
            Uom::Sf => "SF",
            Uom::Cwt => "CWT",
            Uom::Ton => "TON",
            Uom::L => "L",
        }
    }

    pub fn parse(code: &str) -> Option<Uom> {
        Uom::ALL
            .into_iter()
            .find(|u| u.code().eq_ignore_ascii_case(code.trim()))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Dimensions {
    pub length: Option<Decimal>,
    pub width: Option<Decimal>,
    pub height: Option<Decimal>,
    pub thickness: Option<Decimal>,
    pub weight: Option<Decimal>,
    pub length_uom: Option<Uom>,
    pub weight_uom: Option<Uom>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductVariant {
    pub sku: String,
    pub name: Option<String>,
    #[serde(default)]
    pub options: Vec<(String, String)>,
    pub barcode: Option<String>,
    #[serde(default)]
    pub dimensions: Dimensions,
    /// How many of the product's base unit one piece of the variant is (a 12 ft length of a
    /// bar stocked in FT: 12); `None`: the variant is not a quantity of its product. Stock and
    /// prices stay the product's, in its base unit; a storefront that sells only the variants
    /// derives theirs from these (adapters/shopify/README.md).
    #[serde(default)]
    pub units: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    pub sku: String,
    pub name: String,
    pub description: Option<String>,
    /// e.g. `raw_material`, `finished_good` (validated by the mapping that imports it).
    pub product_type: Option<String>,
    pub base_uom: Uom,
    /// Other units this product is sold in, with how many base units each holds.
    #[serde(default)]
    pub alt_uoms: Vec<UomConversion>,
    #[serde(default)]
    pub variants: Vec<ProductVariant>,
    #[serde(default)]
    pub dimensions: Dimensions,
    /// e.g. `A36`, `304L`.
    pub material_grade: Option<String>,
    pub web_visible: bool,
    pub tax_code: Option<String>,
    #[serde(default)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UomConversion {
    pub uom: Uom,
    /// How many base units one `uom` is.
    pub factor: Decimal,
}

/// Stock of one SKU at one location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InventoryLevel {
    pub sku: String,
    pub location: String,
    pub on_hand: Decimal,
    pub available: Decimal,
    pub allocated: Decimal,
    pub on_order: Decimal,
    pub uom: Uom,
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceKind {
    List,
    Customer,
    Contract,
    Tier,
}

/// Unit price applies from `min_quantity` up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceBreak {
    pub min_quantity: Decimal,
    pub unit_price: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Price {
    pub sku: String,
    pub kind: PriceKind,
    /// ISO 4217.
    pub currency: String,
    pub uom: Uom,
    pub unit_price: Decimal,
    #[serde(default)]
    pub breaks: Vec<PriceBreak>,
    pub customer_id: Option<String>,
    pub contract_id: Option<String>,
    pub tier: Option<String>,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
}

impl Price {
    /// The unit price for `quantity`, taking the highest break that applies.
    pub fn unit_price_for(&self, quantity: Decimal) -> Decimal {
        self.breaks
            .iter()
            .filter(|b| b.min_quantity <= quantity)
            .max_by(|a, b| a.min_quantity.cmp(&b.min_quantity))
            .map(|b| b.unit_price)
            .unwrap_or(self.unit_price)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Address {
    pub name: Option<String>,
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub id: String,
    pub name: String,
    /// Tax id (NIP in Poland, VAT number in the EU).
    pub tax_id: Option<String>,
    pub email: Option<String>,
    pub billing_address: Option<Address>,
    pub shipping_address: Option<Address>,
    pub price_tier: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Received (e.g. an EDI 850/ORDERS) but failed business validation: it waits for an
    /// admin to fix it and reprocess it, and the partner was told it is rejected.
    PendingReview,
    Pending,
    Confirmed,
    InProduction,
    Ready,
    /// Some of its lines (or part of a line) have shipped; the rest is still to ship.
    PartiallyShipped,
    Shipped,
    Delivered,
    Cancelled,
    /// Stopped by someone (a payment check, a customer's call, the storefront's admin): it
    /// cannot ship until released, when it goes back to the status it was held from
    /// (`orders.held_from`), or it is cancelled.
    OnHold,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 10] = [
        OrderStatus::PendingReview,
        OrderStatus::Pending,
        OrderStatus::Confirmed,
        OrderStatus::InProduction,
        OrderStatus::Ready,
        OrderStatus::PartiallyShipped,
        OrderStatus::Shipped,
        OrderStatus::Delivered,
        OrderStatus::Cancelled,
        OrderStatus::OnHold,
    ];

    /// The statuses an order can be put on hold from (and so released back to): before
    /// anything has shipped, once it is past review.
    pub const HOLDABLE: [OrderStatus; 4] = [
        OrderStatus::Pending,
        OrderStatus::Confirmed,
        OrderStatus::InProduction,
        OrderStatus::Ready,
    ];

    /// The snake_case name used in JSON and in the `orders.status` column.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::PendingReview => "pending_review",
            OrderStatus::Pending => "pending",
            OrderStatus::Confirmed => "confirmed",
            OrderStatus::InProduction => "in_production",
            OrderStatus::Ready => "ready",
            OrderStatus::PartiallyShipped => "partially_shipped",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::OnHold => "on_hold",
        }
    }

    pub fn parse(s: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whether moving from `self` to `next` is a legal step (cancel is allowed until shipped).
    /// Leaving `on_hold` for one of [`OrderStatus::HOLDABLE`] is legal here; that it is the
    /// very status the order was held from is the store's check (it keeps `held_from`).
    pub fn can_become(self, next: OrderStatus) -> bool {
        use OrderStatus::*;
        match (self, next) {
            (a, b) if a == b => true,
            // A fixed order passes validation again (and is accepted), or is given up.
            (PendingReview, Pending | Confirmed | Cancelled) => true,
            // A stored order a later check finds faulty (e.g. re-mapped after reference data
            // changed) goes back to review before anything was produced for it.
            (Pending | Confirmed, PendingReview) => true,
            (Pending, Confirmed)
            | (Confirmed, InProduction)
            | (Confirmed, Ready)
            | (InProduction, Ready) => true,
            (Ready, Shipped) | (Shipped, Delivered) => true,
            // Recording shipments (hub/store/src/shipments.rs) moves an order on from any
            // state it can ship from, part by part.
            (Pending | Confirmed | InProduction | Ready, PartiallyShipped)
            | (PartiallyShipped, Shipped | Delivered) => true,
            (Pending | Confirmed | InProduction | Ready, Cancelled) => true,
            (Pending | Confirmed | InProduction | Ready, OnHold) => true,
            (OnHold, Pending | Confirmed | InProduction | Ready | Cancelled) => true,
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderLine {
    /// Ours, a number. The buyer's own line identification is `buyer_line`.
    pub line_number: u32,
    /// The buyer's identification of the line exactly as its PO sent it (850 PO101, an
    /// identifier such as `000100001` or `A1`; ORDERS LIN 1082): what the buyer matches our
    /// answer on, line by line, so it is echoed as sent, never renumbered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_line: Option<String>,
    pub sku: String,
    /// The buyer's part number as its PO sent it (850 PO1 BP/IN, ORDERS PIA IN/BP), echoed
    /// beside our SKU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_part: Option<String>,
    /// The item's GTIN as the PO sent it (850 PO1 UP/EN/UK, ORDERS LIN or PIA EN/SRV).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gtin: Option<String>,
    pub description: Option<String>,
    pub quantity: Decimal,
    pub uom: Uom,
    pub unit_price: Decimal,
    pub requested_date: Option<NaiveDate>,
}

impl OrderLine {
    pub fn net_amount(&self) -> Decimal {
        self.quantity * self.unit_price
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub order_number: String,
    pub customer_id: String,
    pub status: OrderStatus,
    pub currency: String,
    pub ordered_at: Option<DateTime<Utc>>,
    pub requested_delivery: Option<NaiveDate>,
    pub lines: Vec<OrderLine>,
    pub billing_address: Option<Address>,
    pub shipping_address: Option<Address>,
    /// The order number at our supplier, once placed there.
    pub supplier_order_ref: Option<String>,
    /// The customer's PO number.
    pub customer_po: Option<String>,
    pub tracking_numbers: Vec<String>,
    /// The parties as the buyer's PO identified them (850 N1, ORDERS NAD with an id): echoed
    /// on every document we send about the order, because the buyer's system matches a
    /// party on its own identification, never on our customer id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parties: Vec<PartyRef>,
}

/// One party of a purchase order as the buyer identified it, kept exactly as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartyRef {
    /// The party's role in the buyer's standard: X12 98 entity identifier (`BY`, `ST`,
    /// `BT`), EDIFACT 3035 party function (`BY`, `DP`, `IV`).
    pub role: String,
    /// How the id is coded: X12 66 identification code qualifier (N103: `92` assigned by
    /// buyer, `1` DUNS, `UL` GLN) or EDIFACT 3055 code list responsible agency (NAD C082:
    /// `9` GS1, `92` assigned by buyer). Empty when the buyer sent none.
    pub qualifier: String,
    /// X12 N104 / EDIFACT NAD C082 3039.
    pub id: String,
}

impl Order {
    /// The buyer's own identification of the party in `role`, when its PO gave one.
    pub fn party(&self, role: &str) -> Option<&PartyRef> {
        self.parties.iter().find(|p| p.role == role)
    }

    /// The order line an invoice or ship notice line is about: the one with its line number
    /// and SKU, else the first with its SKU.
    pub fn line_for(&self, line_number: u32, sku: &str) -> Option<&OrderLine> {
        self.lines
            .iter()
            .find(|l| l.line_number == line_number && l.sku == sku)
            .or_else(|| self.lines.iter().find(|l| l.sku == sku))
    }

    pub fn net_total(&self) -> Decimal {
        self.lines.iter().map(OrderLine::net_amount).sum()
    }

    /// The date of the buyer's purchase order: an EDI order's `ordered_at` is its BEG05 /
    /// DTM 137.
    pub fn po_date(&self) -> Option<NaiveDate> {
        self.ordered_at.map(|t| t.date_naive())
    }
}

impl Shipment {
    /// Takes the buyer's PO reference from the order shipped, where the shipment has none.
    pub fn fill_po_from(&mut self, order: &Order) {
        if self.customer_po.is_none() {
            self.customer_po = order.customer_po.clone();
            self.customer_po_date = self.customer_po_date.or(order.po_date());
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackingEvent {
    pub at: DateTime<Utc>,
    pub status: String,
    pub location: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackageLine {
    pub sku: String,
    pub quantity: Decimal,
    pub uom: Uom,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Package {
    /// SSCC-18 serial shipping container code, when labelled.
    pub sscc: Option<String>,
    pub tracking_number: Option<String>,
    pub weight: Option<Decimal>,
    pub weight_uom: Option<Uom>,
    pub lines: Vec<PackageLine>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shipment {
    pub shipment_number: String,
    pub order_number: String,
    /// The buyer's purchase order number (850 BEG03 / ORDERS BGM 1004) and its date (BEG05 /
    /// DTM 137): what the buyer's system matches a ship notice on (856 PRF01/PRF04, DESADV
    /// RFF+ON). `order_number` is ours, which the buyer never saw on its PO.
    #[serde(default)]
    pub customer_po: Option<String>,
    #[serde(default)]
    pub customer_po_date: Option<NaiveDate>,
    pub carrier: Option<String>,
    pub service: Option<String>,
    pub shipped_at: Option<DateTime<Utc>>,
    pub packages: Vec<Package>,
    #[serde(default)]
    pub events: Vec<TrackingEvent>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvoiceLine {
    pub line_number: u32,
    /// The buyer's identification of the PO line invoiced (850 PO101, ORDERS LIN 1082) as
    /// sent, which the buyer matches the invoice line on (810 IT101, INVOIC LIN 1082 /
    /// RFF+LI); with its part number and GTIN. Filled from the order invoiced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_line: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_part: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gtin: Option<String>,
    pub sku: String,
    pub description: Option<String>,
    pub quantity: Decimal,
    pub uom: Uom,
    pub unit_price: Decimal,
    /// Percent, e.g. `23` for 23 % VAT.
    pub vat_rate: Decimal,
}

impl InvoiceLine {
    pub fn net_amount(&self) -> Decimal {
        (self.quantity * self.unit_price).round_dp(2)
    }
    pub fn vat_amount(&self) -> Decimal {
        (self.net_amount() * self.vat_rate / Decimal::ONE_HUNDRED).round_dp(2)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invoice {
    pub invoice_number: String,
    /// Our sales order number.
    pub order_number: Option<String>,
    /// The buyer's purchase order number (850 BEG03 / ORDERS BGM 1004) and its date: what the
    /// buyer's system matches an invoice on (810 BIG04/BIG03, INVOIC RFF+ON with DTM 171).
    #[serde(default)]
    pub customer_po: Option<String>,
    #[serde(default)]
    pub customer_po_date: Option<NaiveDate>,
    pub issue_date: NaiveDate,
    pub due_date: Option<NaiveDate>,
    pub currency: String,
    pub seller: Customer,
    pub buyer: Customer,
    pub lines: Vec<InvoiceLine>,
    /// The buyer's own identification of the order's parties (from the order invoiced).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parties: Vec<PartyRef>,
}

impl Invoice {
    /// Takes the buyer's references from the order invoiced where the invoice has none: its
    /// PO number and date, its parties' ids, and per line the PO line's identification, part
    /// number and GTIN.
    pub fn fill_from_order(&mut self, order: &Order) {
        if self.customer_po.is_none() {
            self.customer_po = order.customer_po.clone();
            self.customer_po_date = self.customer_po_date.or(order.po_date());
        }
        if self.parties.is_empty() {
            self.parties = order.parties.clone();
        }
        for l in &mut self.lines {
            if let Some(ol) = order.line_for(l.line_number, &l.sku) {
                l.buyer_line = l.buyer_line.take().or_else(|| ol.buyer_line.clone());
                l.buyer_part = l.buyer_part.take().or_else(|| ol.buyer_part.clone());
                l.gtin = l.gtin.take().or_else(|| ol.gtin.clone());
            }
        }
    }

    pub fn net_total(&self) -> Decimal {
        self.lines.iter().map(InvoiceLine::net_amount).sum()
    }
    pub fn vat_total(&self) -> Decimal {
        self.lines.iter().map(InvoiceLine::vat_amount).sum()
    }
    pub fn gross_total(&self) -> Decimal {
        self.net_total() + self.vat_total()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// Mill test report.
    Mtr,
    /// Bill of lading.
    Bol,
    /// Certificate of conformance.
    Coc,
    InvoicePdf,
    Other,
}

/// Metadata of a file attached to an order, shipment or invoice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    pub kind: DocumentKind,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: u64,
    pub sha256: String,
    pub order_number: Option<String>,
    pub shipment_number: Option<String>,
    pub invoice_number: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn line(q: Decimal, p: Decimal, vat: Decimal) -> InvoiceLine {
        InvoiceLine {
            line_number: 1,
            buyer_line: None,
            buyer_part: None,
            gtin: None,
            sku: "A".into(),
            description: None,
            quantity: q,
            uom: Uom::Ea,
            unit_price: p,
            vat_rate: vat,
        }
    }

    fn customer() -> Customer {
        Customer {
            id: "c".into(),
            name: "n".into(),
            tax_id: None,
            email: None,
            billing_address: None,
            shipping_address: None,
            price_tier: None,
        }
    }

    #[test]
    fn invoice_totals_are_exact() {
        let party = customer();
        let inv = Invoice {
            invoice_number: "FV/1".into(),
            order_number: None,
            customer_po: None,
            customer_po_date: None,
            issue_date: NaiveDate::from_ymd_opt(2026, 1, 2).unwrap(),
            due_date: None,
            currency: "PLN".into(),
            seller: party.clone(),
            buyer: party,
            lines: vec![
                line(dec!(3), dec!(0.10), dec!(23)),
                line(dec!(1), dec!(19.99), dec!(8)),
            ],
            parties: Vec::new(),
        };
        assert_eq!(inv.net_total(), dec!(20.29));
        // 0.30 * 23% = 0.069 -> 0.07 ; 19.99 * 8% = 1.5992 -> 1.60
        assert_eq!(inv.vat_total(), dec!(1.67));
        assert_eq!(inv.gross_total(), dec!(21.96));
    }

    /// An invoice sent with its order takes the buyer's references from it: PO, parties, and
    /// per line (matched by line number and SKU, else SKU) the PO line id, part and GTIN;
    /// what the invoice already says is kept.
    #[test]
    fn an_invoice_takes_the_buyers_references_from_its_order() {
        let party = customer();
        let order_line = |n: u32, sku: &str, buyer: &str| OrderLine {
            line_number: n,
            buyer_line: Some(buyer.into()),
            sku: sku.into(),
            buyer_part: Some(format!("BP-{sku}")),
            gtin: None,
            description: None,
            quantity: dec!(1),
            uom: Uom::Ea,
            unit_price: dec!(1),
            requested_date: None,
        };
        let order = Order {
            order_number: "SO-1".into(),
            customer_id: "c".into(),
            status: OrderStatus::Confirmed,
            currency: "USD".into(),
            ordered_at: None,
            requested_delivery: None,
            lines: vec![order_line(7, "A", "000700001"), order_line(9, "B", "X9")],
            billing_address: None,
            shipping_address: None,
            supplier_order_ref: None,
            customer_po: Some("PO-1".into()),
            tracking_numbers: Vec::new(),
            parties: vec![PartyRef {
                role: "BY".into(),
                qualifier: "92".into(),
                id: "0001".into(),
            }],
        };
        let mut own = line(dec!(1), dec!(1), dec!(23));
        own.sku = "B".into();
        own.buyer_line = Some("OWN".into());
        let mut by_sku = line(dec!(1), dec!(1), dec!(23));
        by_sku.line_number = 2;
        let mut inv = Invoice {
            invoice_number: "FV/1".into(),
            order_number: None,
            customer_po: None,
            customer_po_date: None,
            issue_date: NaiveDate::from_ymd_opt(2026, 1, 2).unwrap(),
            due_date: None,
            currency: "USD".into(),
            seller: party.clone(),
            buyer: party,
            lines: vec![by_sku, own],
            parties: Vec::new(),
        };
        inv.fill_from_order(&order);
        assert_eq!(inv.customer_po.as_deref(), Some("PO-1"));
        assert_eq!(inv.parties, order.parties);
        assert_eq!(inv.lines[0].buyer_line.as_deref(), Some("000700001"));
        assert_eq!(inv.lines[0].buyer_part.as_deref(), Some("BP-A"));
        assert_eq!(inv.lines[1].buyer_line.as_deref(), Some("OWN"));
        assert_eq!(inv.lines[1].buyer_part.as_deref(), Some("BP-B"));
        assert_eq!(order.party("BY").map(|p| p.id.as_str()), Some("0001"));
        assert_eq!(order.party("ST"), None);
    }

    #[test]
    fn decimals_serialize_as_strings() {
        let l = line(dec!(1.5), dec!(0.1), dec!(23));
        let json = serde_json::to_value(&l).unwrap();
        assert_eq!(json["unit_price"], serde_json::json!("0.1"));
        let back: InvoiceLine = serde_json::from_value(json).unwrap();
        assert_eq!(back, l);
    }

    #[test]
    fn price_breaks_pick_the_highest_applicable() {
        let p = Price {
            sku: "X".into(),
            kind: PriceKind::List,
            currency: "USD".into(),
            uom: Uom::Ea,
            unit_price: dec!(10),
            breaks: vec![
                PriceBreak {
                    min_quantity: dec!(10),
                    unit_price: dec!(9),
                },
                PriceBreak {
                    min_quantity: dec!(100),
                    unit_price: dec!(8),
                },
            ],
            customer_id: None,
            contract_id: None,
            tier: None,
            valid_from: None,
            valid_to: None,
        };
        assert_eq!(p.unit_price_for(dec!(5)), dec!(10));
        assert_eq!(p.unit_price_for(dec!(10)), dec!(9));
        assert_eq!(p.unit_price_for(dec!(500)), dec!(8));
    }

    #[test]
    fn order_status_transitions() {
        assert!(OrderStatus::Pending.can_become(OrderStatus::Confirmed));
        assert!(OrderStatus::Ready.can_become(OrderStatus::Shipped));
        assert!(!OrderStatus::Shipped.can_become(OrderStatus::Cancelled));
        assert!(!OrderStatus::Delivered.can_become(OrderStatus::Pending));
        assert!(OrderStatus::PendingReview.can_become(OrderStatus::Confirmed));
        assert!(OrderStatus::PendingReview.can_become(OrderStatus::Cancelled));
        assert!(!OrderStatus::PendingReview.can_become(OrderStatus::Shipped));
        assert!(!OrderStatus::InProduction.can_become(OrderStatus::PendingReview));
        let json = serde_json::to_value(OrderStatus::PendingReview).unwrap();
        assert_eq!(json, serde_json::json!("pending_review"));
    }

    #[test]
    fn an_order_is_held_before_it_ships_and_released_or_cancelled() {
        use OrderStatus::*;
        for s in OrderStatus::HOLDABLE {
            assert!(s.can_become(OnHold), "{s:?} → on_hold");
            assert!(OnHold.can_become(s), "on_hold → {s:?}");
        }
        assert!(OnHold.can_become(Cancelled));
        for s in [
            PendingReview,
            PartiallyShipped,
            Shipped,
            Delivered,
            Cancelled,
        ] {
            assert!(!s.can_become(OnHold), "{s:?} → on_hold");
            if s != Cancelled {
                assert!(!OnHold.can_become(s), "on_hold → {s:?}");
            }
        }
        assert_eq!(OrderStatus::parse("on_hold"), Some(OnHold));
        assert_eq!(
            serde_json::to_value(OnHold).unwrap(),
            serde_json::json!("on_hold")
        );
    }

    #[test]
    fn uom_codes_parse_case_insensitively() {
        assert_eq!(Uom::parse("lb"), Some(Uom::Lb));
        assert_eq!(Uom::parse(" CWT "), Some(Uom::Cwt));
        assert_eq!(Uom::parse("BOX"), None);
        let json = serde_json::to_value(Uom::Ton).unwrap();
        assert_eq!(json, serde_json::json!("TON"));
    }
}
