//! The storefront stage's data: a small steel service center's catalog as the REST API takes it
//! (`PUT /api/v1/catalog/products`, `/inventory/...`, `/pricing/...`). Fifty products in
//! twelve families across steel, stainless and aluminium, each priced in the unit the trade
//! quotes it in (plate by the pound, bar and beams by the foot, sheet by the piece) with a
//! conversion to pounds where the metal's weight makes one; three sold in cut lengths
//! (variants); one service that is quote only. Weights are the handbook's (a 1 in plate is
//! 40.84 lb/sq ft, a round bar 2.67·d² lb/ft), so the prices the cart converts are believable.

use serde_json::{json, Value};

/// One family of products: SKUs `PREFIX-SIZE`, priced per `uom`, converted to pounds from
/// `per` (the unit a buyer may ask in) by each size's weight.
struct Family {
    prefix: &'static str,
    name: &'static str,
    category: &'static str,
    uom: &'static str,
    /// The unit the size's weight is given per: 1 `per` = `lb` LB.
    per: &'static str,
    grade: &'static str,
    specification: &'static str,
    finish: &'static str,
    /// (size code, size label, list price per `uom`, LB per `per`).
    sizes: &'static [(&'static str, &'static str, &'static str, &'static str)],
}

const FAMILIES: &[Family] = &[
    Family {
        prefix: "PL-A36",
        name: "A36 Plate",
        category: "Steel > Flat > Plate",
        uom: "LB",
        per: "SF",
        grade: "A36",
        specification: "ASTM A36",
        finish: "Hot Rolled",
        sizes: &[
            ("025", "1/4 in", "0.68", "10.21"),
            ("038", "3/8 in", "0.68", "15.32"),
            ("050", "1/2 in", "0.66", "20.42"),
            ("063", "5/8 in", "0.66", "25.53"),
            ("075", "3/4 in", "0.65", "30.63"),
            ("100", "1 in", "0.65", "40.84"),
        ],
    },
    Family {
        prefix: "SH-HR",
        name: "Hot Rolled Sheet 48 x 96",
        category: "Steel > Flat > Sheet",
        uom: "EA",
        per: "EA",
        grade: "CS Type B",
        specification: "ASTM A1011",
        finish: "Hot Rolled P&O",
        sizes: &[
            ("10GA", "10 ga", "142.00", "180"),
            ("11GA", "11 ga", "128.00", "160"),
            ("12GA", "12 ga", "112.00", "140"),
            ("14GA", "14 ga", "82.00", "100"),
            ("16GA", "16 ga", "66.00", "80"),
        ],
    },
    Family {
        prefix: "SS-304",
        name: "304 Stainless Sheet #4 48 x 96",
        category: "Stainless > Flat > Sheet",
        uom: "EA",
        per: "EA",
        grade: "304",
        specification: "ASTM A240",
        finish: "#4 Brushed",
        sizes: &[
            ("11GA", "11 ga", "845.00", "161.3"),
            ("14GA", "14 ga", "520.00", "100.8"),
            ("16GA", "16 ga", "418.00", "80.6"),
            ("18GA", "18 ga", "342.00", "64.5"),
            ("20GA", "20 ga", "268.00", "48.4"),
        ],
    },
    Family {
        prefix: "RB-1018",
        name: "1018 Cold Drawn Round Bar",
        category: "Steel > Long > Round Bar",
        uom: "FT",
        per: "FT",
        grade: "1018",
        specification: "ASTM A108",
        finish: "Cold Drawn",
        sizes: &[
            ("050", "1/2 in", "1.45", "0.668"),
            ("075", "3/4 in", "2.95", "1.502"),
            ("100", "1 in", "4.90", "2.67"),
            ("125", "1-1/4 in", "7.60", "4.172"),
            ("150", "1-1/2 in", "10.80", "6.008"),
            ("200", "2 in", "18.90", "10.68"),
        ],
    },
    Family {
        prefix: "FB-A36",
        name: "A36 Flat Bar",
        category: "Steel > Long > Flat Bar",
        uom: "FT",
        per: "FT",
        grade: "A36",
        specification: "ASTM A36",
        finish: "Hot Rolled",
        sizes: &[
            ("025X100", "1/4 x 1 in", "1.10", "0.85"),
            ("025X200", "1/4 x 2 in", "2.05", "1.70"),
            ("038X200", "3/8 x 2 in", "3.10", "2.55"),
            ("050X300", "1/2 x 3 in", "6.05", "5.10"),
        ],
    },
    Family {
        prefix: "ANG-A36",
        name: "A36 Equal Angle",
        category: "Steel > Structural > Angle",
        uom: "FT",
        per: "FT",
        grade: "A36",
        specification: "ASTM A36",
        finish: "Hot Rolled",
        sizes: &[
            ("1X1X125", "1 x 1 x 1/8 in", "1.05", "0.80"),
            ("2X2X250", "2 x 2 x 1/4 in", "3.70", "3.19"),
            ("3X3X250", "3 x 3 x 1/4 in", "5.60", "4.90"),
            ("4X4X375", "4 x 4 x 3/8 in", "11.20", "9.80"),
        ],
    },
    Family {
        prefix: "WB-A992",
        name: "A992 Wide Flange Beam",
        category: "Steel > Structural > Beam",
        uom: "FT",
        per: "FT",
        grade: "A992",
        specification: "ASTM A992",
        finish: "Hot Rolled",
        sizes: &[
            ("W8X10", "W8 x 10", "12.40", "10"),
            ("W8X18", "W8 x 18", "22.30", "18"),
            ("W10X22", "W10 x 22", "27.20", "22"),
            ("W12X26", "W12 x 26", "32.10", "26"),
            ("W14X30", "W14 x 30", "37.00", "30"),
        ],
    },
    Family {
        prefix: "PIPE-A53",
        name: "A53 Schedule 40 Pipe",
        category: "Steel > Tubular > Pipe",
        uom: "FT",
        per: "FT",
        grade: "A53 B",
        specification: "ASTM A53",
        finish: "Black",
        sizes: &[
            ("050", "1/2 in NPS", "1.95", "0.85"),
            ("100", "1 in NPS", "3.40", "1.68"),
            ("200", "2 in NPS", "6.90", "3.66"),
            ("300", "3 in NPS", "13.80", "7.58"),
            ("400", "4 in NPS", "19.60", "10.79"),
        ],
    },
    Family {
        prefix: "TS-A500",
        name: "A500 Square Tube",
        category: "Steel > Tubular > Tube",
        uom: "FT",
        per: "FT",
        grade: "A500 B",
        specification: "ASTM A500",
        finish: "Mill",
        sizes: &[
            ("1X1X14GA", "1 x 1 in 14 ga", "1.60", "0.68"),
            ("2X2X11GA", "2 x 2 in 11 ga", "3.90", "2.27"),
            ("3X3X188", "3 x 3 x 3/16 in", "9.80", "6.87"),
            ("4X4X250", "4 x 4 x 1/4 in", "16.90", "12.21"),
        ],
    },
    Family {
        prefix: "AL-6061",
        name: "6061-T6 Aluminum Plate",
        category: "Aluminum > Flat > Plate",
        uom: "LB",
        per: "SF",
        grade: "6061-T6",
        specification: "ASTM B209",
        finish: "Mill",
        sizes: &[
            ("025", "1/4 in", "4.85", "3.53"),
            ("050", "1/2 in", "4.70", "7.06"),
            ("100", "1 in", "4.60", "14.11"),
        ],
    },
    Family {
        prefix: "EXM-A1011",
        name: "Flattened Expanded Metal 48 x 96",
        category: "Steel > Flat > Expanded Metal",
        uom: "EA",
        per: "EA",
        grade: "CS",
        specification: "ASTM A1011",
        finish: "Flattened",
        sizes: &[
            ("075-9", "3/4 in #9", "96.00", "86"),
            ("150-9", "1-1/2 in #9", "74.00", "54"),
        ],
    },
];

/// Sold by the drawing: no list price, the storefront asks for a quote.
pub(super) const QUOTE_ONLY: &str = "SVC-PLASMA-CUT";
pub(super) const PRICE_LIST: &str = "WEB-USD";
pub(super) const GOLD_CUSTOMER: &str = "C-GULF-FAB";
pub(super) const CONTRACT: &str = "K-2026-017";
/// The contract's product and price (USD per FT). It runs to 2099 so that the demo never
/// outlives it.
pub(super) const CONTRACT_SKU: &str = "WB-A992-W8X18";
pub(super) const CONTRACT_PRICE: &str = "20.95";

/// Products sold in cut lengths: their variants, one per length in ft, each with `units` =
/// its length (these products are stocked and priced per FT), so a storefront that sells only
/// the lengths gets each one's stock and price from the product's.
pub(super) const CUT_LENGTHS: &[(&str, &[&str])] = &[
    ("RB-1018-100", &["12", "20"]),
    ("PIPE-A53-200", &["21", "42"]),
    ("WB-A992-W8X10", &["20", "40"]),
];

/// Where the deliberately bad item goes in the upsert, and what is wrong with it.
pub(super) const BAD_INDEX: usize = 7;

/// Every product as `PUT /api/v1/catalog/products` takes it, in family order.
pub(super) fn products() -> Vec<Value> {
    let mut items = Vec::new();
    for f in FAMILIES {
        for (code, label, _, _) in f.sizes {
            let sku = format!("{}-{code}", f.prefix);
            let mut item = json!({
                "sku": sku,
                "name": format!("{} {label}", f.name),
                "uom": f.uom,
                "category": f.category,
                "short_description": format!("{} {label}, {} {}", f.name, f.specification, f.finish),
                "material": {"grade": f.grade, "specification": f.specification, "finish": f.finish},
                "web_visible": true,
                "lead_time_days": 2,
                "tags": [f.grade, f.category.rsplit('>').next().unwrap_or("").trim()],
                "seo": {"slug": slug(&sku)},
            });
            if let Some((_, lengths)) = CUT_LENGTHS.iter().find(|(s, _)| *s == sku) {
                item["variants"] = lengths
                    .iter()
                    .map(|l| json!({"sku": format!("{sku}-{l}FT"), "name": format!("{} {label}, {l} ft", f.name), "options": {"length": format!("{l} ft")}, "units": l}))
                    .collect();
            }
            items.push(item);
        }
    }
    items.push(json!({
        "sku": QUOTE_ONLY,
        "name": "Plasma Cutting to Drawing",
        "uom": "EA",
        "category": "Services > Processing",
        "short_description": "CNC plasma cut parts from your DXF, up to 1 in plate",
        "price_visibility": "quote_only",
        "availability_status": "made_to_order",
        "lead_time_days": 5,
        "web_visible": true,
        "tags": ["service"],
        "seo": {"slug": slug(QUOTE_ONLY)},
    }));
    items
}

/// The upsert's body: every product, and at `BAD_INDEX` one whose GTIN is a typo.
pub(super) fn upsert_with_a_bad_item(products: &[Value]) -> Vec<Value> {
    let mut items = products.to_vec();
    items.insert(
        BAD_INDEX,
        json!({"sku": "PL-A36-125", "name": "A36 Plate 1-1/4 in", "uom": "LB", "gtin": "0074470"}),
    );
    items
}

/// `PL-A36-025` → `pl-a36-025`: the product's slug, and the storefront handle the mapping
/// (`mappings/storefront/product.out.toml`) derives from its SKU.
pub(super) fn slug(sku: &str) -> String {
    let lower = sku.to_lowercase();
    lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

pub(super) fn locations() -> [(&'static str, Value); 2] {
    [
        (
            "CHI",
            json!({"name": "Chicago service center", "city": "Chicago", "region": "IL", "ships_to": ["IL", "IN", "WI", "MI"]}),
        ),
        (
            "HOU",
            json!({"name": "Houston service center", "city": "Houston", "region": "TX", "ships_to": ["TX", "LA", "OK"]}),
        ),
    ]
}

/// Stock of every priced product at Chicago, and of every other one at Houston too, in the
/// product's own unit (whole numbers, so the storefront's rounding does not blur the checks).
pub(super) fn levels() -> Vec<Value> {
    let mut items = Vec::new();
    for (i, (sku, _, _, _)) in sizes().enumerate() {
        let on_hand = 300 + (i * 137) % 900;
        items.push(json!({"sku": sku, "location": "CHI", "on_hand": on_hand.to_string(),
                          "allocated": (i % 4 * 10).to_string(), "on_order": (i % 3 * 100).to_string(),
                          "low_stock_threshold": "50"}));
        if i % 2 == 0 {
            items.push(
                json!({"sku": sku, "location": "HOU", "on_hand": (on_hand / 2).to_string(),
                              "allocated": "0", "on_order": "0"}),
            );
        }
    }
    items
}

/// (SKU, its family, list price per the family's `uom`, LB per the family's `per`) of every
/// priced product.
fn sizes() -> impl Iterator<Item = (String, &'static Family, &'static str, &'static str)> {
    FAMILIES.iter().flat_map(|f| {
        f.sizes
            .iter()
            .map(move |(code, _, price, lb)| (format!("{}-{code}", f.prefix), f, *price, *lb))
    })
}

/// Every `PUT /api/v1/pricing/...` call of the price book, in an order that satisfies their
/// references (a list price names its list, a customer tier its tier).
pub(super) fn price_book() -> Vec<(&'static str, Value)> {
    let list_prices: Vec<Value> = sizes()
        .map(|(sku, f, price, _)| json!({"priceListId": PRICE_LIST, "sku": sku, "uom": f.uom, "amount": price}))
        .collect();
    // Each product's weight as a conversion to pounds (1 `per` = lb LB): a square foot of
    // plate priced by the pound, a foot of bar, a whole sheet.
    let conversions: Vec<Value> = sizes()
        .map(|(sku, f, _, lb)| json!({"sku": sku, "fromUom": f.per, "toUom": "LB", "factor": lb}))
        .collect();
    vec![
        (
            "/api/v1/pricing/price-lists",
            json!({"items": [{"priceListId": PRICE_LIST, "name": "Web list price", "currency": "USD"}]}),
        ),
        (
            "/api/v1/pricing/list-prices",
            json!({ "items": list_prices }),
        ),
        (
            "/api/v1/pricing/uom-conversions",
            json!({ "items": conversions }),
        ),
        (
            "/api/v1/pricing/volume-breaks",
            json!({"items": [{"breakId": "VB-RB1018-100-100FT", "sku": "RB-1018-100", "minQuantity": "100", "uom": "FT", "price": "4.40", "currency": "USD"}]}),
        ),
        (
            "/api/v1/pricing/tiers",
            json!({"items": [{"tierCode": "GOLD", "name": "Gold accounts", "percent": "8"},
                             {"tierCode": "SILVER", "name": "Silver accounts", "percent": "4"}]}),
        ),
        (
            "/api/v1/pricing/customer-tiers",
            json!({"items": [{"customerId": GOLD_CUSTOMER, "tierCode": "GOLD"}]}),
        ),
        (
            "/api/v1/pricing/contracts",
            json!({"items": [{"contractId": CONTRACT, "sku": CONTRACT_SKU, "customerId": GOLD_CUSTOMER,
                              "price": CONTRACT_PRICE, "uom": "FT", "currency": "USD",
                              "validFrom": "2026-01-01", "validTo": "2099-12-31"}]}),
        ),
    ]
}

/// The GOLD customer's cart: a contract line, a plate asked by the square foot (priced by the
/// pound), a bar over its volume break, a sheet, and the quote-only service.
pub(super) fn cart() -> Value {
    json!({"customerId": GOLD_CUSTOMER, "currency": "USD", "items": [
        {"sku": CONTRACT_SKU, "quantity": "40", "uom": "FT"},
        {"sku": "PL-A36-050", "quantity": "24", "uom": "SF"},
        {"sku": "RB-1018-100", "quantity": "120", "uom": "FT"},
        {"sku": "SH-HR-14GA", "quantity": "10"},
        {"sku": QUOTE_ONLY, "quantity": "1"},
    ]})
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn fifty_products_with_distinct_skus_and_slugs() {
        let products = products();
        assert_eq!(products.len(), 50);
        let skus: BTreeSet<&str> = products.iter().filter_map(|p| p["sku"].as_str()).collect();
        assert_eq!(skus.len(), 50);
        let slugs: BTreeSet<String> = skus.iter().map(|s| slug(s)).collect();
        assert_eq!(slugs.len(), 50);
        assert!(!skus.contains("PL-A36-125"), "the bad item is extra");
    }

    #[test]
    fn every_priced_product_has_a_list_price_and_stock() {
        let priced = products().len() - 1;
        let book = price_book();
        let list = &book[1].1["items"];
        assert_eq!(list.as_array().map(Vec::len), Some(priced));
        let stocked: BTreeSet<String> = levels()
            .iter()
            .filter_map(|l| l["sku"].as_str().map(str::to_owned))
            .collect();
        assert_eq!(stocked.len(), priced);
        assert!(!stocked.contains(QUOTE_ONLY));
    }

    #[test]
    fn slugs_are_the_handles_the_storefront_mapping_makes_of_skus() {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../mappings/storefront/product.out.toml");
        let mapping = switchyard_mapping::compile_file(&file, "storefront/product.out")
            .expect("the storefront product mapping compiles");
        for p in products() {
            let doc = mapping
                .map_record(&p, &mut switchyard_mapping::RunState::default())
                .expect("every demo product maps");
            let sku = p["sku"].as_str().unwrap_or_default();
            assert_eq!(doc["handle"], slug(sku).as_str(), "{sku}");
        }
    }
}
