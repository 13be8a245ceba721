//! Pricing over HTTP: price data written by bulk upserts (per-item errors, idempotent), the
//! price one customer sees for one product and for a cart, and tenancy (another
//! organization's product or customer is 404). The resolver's every rule, tie and boundary is
//! tested in the core (`catalog::pricing` tests); here each rule is reached once through the
//! tables and the query that loads them.

use crate::common::{code, json, spawn, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

async fn put(app: &TestApp, path: &str, key: &str, body: Value) -> (u16, Value) {
    json(app.call(Method::PUT, path, Some(key), Some(body)).await).await
}

/// PUT `items` to `/api/v1/pricing/{kind}`; every item must be stored.
async fn upsert(app: &TestApp, key: &str, kind: &str, items: Value) {
    let n = items.as_array().unwrap().len();
    let (s, b) = put(
        app,
        &format!("/api/v1/pricing/{kind}"),
        key,
        json!({ "items": items }),
    )
    .await;
    assert_eq!(s, 200, "{kind}: {b}");
    assert_eq!(b["errors"], json!([]), "{kind}: {b}");
    assert_eq!(b["stored"], n, "{kind}: {b}");
}

/// Org `a`: an A36 bar of 3.4 LB/FT in `Steel > Flat > Bar` listed at $0.50/LB, a quote-only
/// plate, a login-required sheet; customers ABC (GOLD, with a contract through 2026-06-30)
/// and XYZ (12 % off `Steel > Flat`); a 5 % break from 500 LB. Returns the writer's key.
async fn seed(app: &TestApp) -> String {
    app.org("a").await;
    let key = app.key("a", &["write:orders", "write:catalog"]).await;
    for c in ["ABC", "XYZ"] {
        let (s, b) = put(
            app,
            &format!("/api/v1/customers/{c}"),
            &key,
            json!({"name": c}),
        )
        .await;
        assert_eq!(s, 200, "{b}");
    }
    // The products, with the category and visibility pricing reads, through the catalog's
    // bulk upsert.
    let (s, b) = put(
        app,
        "/api/v1/catalog/products",
        &key,
        json!({"items": [
            {"sku": "A36-BAR", "name": "A36-BAR", "uom": "LB", "category": " Steel > Flat > Bar "},
            {"sku": "PLATE-1", "name": "PLATE-1", "uom": "LB", "price_visibility": "quote_only"},
            {"sku": "SHEET-16", "name": "SHEET-16", "uom": "SF",
             "price_visibility": "login_required", "category": "Steel > Flat > Sheet"}
        ]}),
    )
    .await;
    assert_eq!((s, b["rejected"].as_u64()), (200, Some(0)), "{b}");
    upsert(app, &key, "price-lists", json!([
        {"priceListId": "PL-2026", "currency": "USD", "validFrom": "2026-01-01", "validTo": "2026-12-31"}
    ])).await;
    upsert(
        app,
        &key,
        "list-prices",
        json!([
            {"priceListId": "PL-2026", "sku": "A36-BAR", "uom": "LB", "amount": "0.50"},
            {"priceListId": "PL-2026", "sku": "PLATE-1", "uom": "LB", "amount": "0.70"},
            {"priceListId": "PL-2026", "sku": "SHEET-16", "uom": "SF", "amount": "4.00"}
        ]),
    )
    .await;
    upsert(
        app,
        &key,
        "uom-conversions",
        json!([
            {"sku": "A36-BAR", "fromUom": "FT", "toUom": "LB", "factor": "3.4"},
            {"sku": "A36-BAR", "fromUom": "EA", "toUom": "FT", "factor": "20"}
        ]),
    )
    .await;
    upsert(
        app,
        &key,
        "tiers",
        json!([{"tierCode": "GOLD", "percent": "8"}]),
    )
    .await;
    upsert(
        app,
        &key,
        "customer-tiers",
        json!([{"customerId": "ABC", "tierCode": "GOLD"}]),
    )
    .await;
    upsert(
        app,
        &key,
        "contracts",
        json!([
            {"contractId": "K-1", "sku": "A36-BAR", "customerId": "ABC", "price": "0.42",
             "uom": "LB", "currency": "USD", "validTo": "2026-06-30"}
        ]),
    )
    .await;
    upsert(app, &key, "discounts", json!([
        {"discountId": "D-1", "customerId": "XYZ", "scope": "category", "category": "Steel > Flat", "percent": "12"}
    ])).await;
    upsert(app, &key, "volume-breaks", json!([
        {"breakId": "B-500", "sku": "A36-BAR", "minQuantity": "500", "uom": "LB", "percent": "5"}
    ])).await;
    key
}

async fn price(app: &TestApp, key: &str, sku: &str, query: &str) -> (u16, Value) {
    json(
        app.get(&format!("/api/v1/pricing/products/{sku}?{query}"), key)
            .await,
    )
    .await
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn each_rule_is_reached_through_the_tables(pool: sqlx::PgPool) {
    let app = spawn(pool).await;
    seed(&app).await;
    let key = app.key("a", &["read:pricing"]).await;
    // (query, source, customer price, list price, per)
    let table = [
        ("on=2026-06-30&uom=FT", "NONE", "1.7000", "1.7000", "FT"),
        (
            "on=2026-06-30&quantity=2&uom=EA",
            "NONE",
            "34.0000",
            "34.0000",
            "EA",
        ),
        // 500 LB exactly reaches the break; 147.05 FT (499.97 LB) does not.
        (
            "on=2026-06-30&quantity=500&uom=LB",
            "VOLUME",
            "0.4750",
            "0.5000",
            "LB",
        ),
        (
            "on=2026-06-30&quantity=147.05&uom=FT",
            "NONE",
            "1.7000",
            "1.7000",
            "FT",
        ),
        // The contract through 2026-06-30 applies that day, not the next; the tier then does.
        (
            "on=2026-06-30&customerId=ABC",
            "CONTRACT",
            "0.4200",
            "0.5000",
            "LB",
        ),
        (
            "on=2026-06-30&customerId=ABC&uom=FT",
            "CONTRACT",
            "1.4280",
            "1.7000",
            "FT",
        ),
        (
            "on=2026-07-01&customerId=ABC",
            "TIER",
            "0.4600",
            "0.5000",
            "LB",
        ),
        // The tier does not stack with the break.
        (
            "on=2026-07-01&customerId=ABC&quantity=1000",
            "TIER",
            "0.4600",
            "0.5000",
            "LB",
        ),
        (
            "on=2026-06-30&customerId=XYZ",
            "CUSTOMER",
            "0.4400",
            "0.5000",
            "LB",
        ),
    ];
    for (query, source, customer, list, per) in table {
        let (s, b) = price(&app, &key, "A36-BAR", query).await;
        assert_eq!(s, 200, "{query}: {b}");
        let p = &b["pricing"];
        assert_eq!(p["discountSource"], source, "{query}: {b}");
        assert_eq!(p["customerPrice"]["amount"], customer, "{query}: {b}");
        assert_eq!(p["listPrice"]["amount"], list, "{query}: {b}");
        assert_eq!(p["customerPrice"]["per"], per, "{query}: {b}");
        assert_eq!(p["customerPrice"]["currency"], "USD", "{query}: {b}");
        assert_eq!(b["priceListId"], "PL-2026", "{query}: {b}");
        assert_eq!(b["requiresQuote"], false, "{query}: {b}");
    }
    // The breakdown in full for the tier.
    let (_, b) = price(
        &app,
        &key,
        "A36-BAR",
        "on=2026-07-01&customerId=ABC&quantity=200&uom=FT",
    )
    .await;
    // 200 FT is 680 LB: the break is reached but the tier, first, sets the price.
    assert_eq!(b["pricing"]["discountAmount"]["amount"], "0.1360", "{b}");
    assert_eq!(b["pricing"]["discountPercent"], "8.0000", "{b}");
    assert_eq!(b["pricing"]["sourceId"], "GOLD", "{b}");
    assert_eq!(b["validFrom"], "2026-01-01", "{b}");
    assert_eq!(b["validUntil"], "2026-12-31", "{b}");
    assert_eq!(b["volumeBreaks"][0]["breakId"], "B-500", "{b}");
    assert_eq!(b["volumeBreaks"][0]["reached"], true, "{b}");
    assert_eq!(b["volumeBreaks"][0]["price"]["amount"], "1.6150", "{b}");
    // Outside the price list's validity there is no list price, so no price at all.
    let (s, b) = price(&app, &key, "A36-BAR", "on=2027-01-01").await;
    assert_eq!((s, code(&b)), (422, "validation_failed"), "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no price on 2027-01-01"),
        "{b}"
    );
    // A unit the bar cannot be converted to: 422 naming both.
    let (s, b) = price(&app, &key, "A36-BAR", "on=2026-06-30&uom=SF").await;
    assert_eq!((s, code(&b)), (422, "validation_failed"), "{b}");
    assert_eq!(
        b["error"]["message"], "uom: A36-BAR: no conversion from SF to LB for this product",
        "{b}"
    );
    assert_eq!(b["error"]["details"]["field"], "uom", "{b}");
    // Quote only: no price for anyone.
    for q in ["on=2026-06-30", "on=2026-06-30&customerId=ABC"] {
        let (s, b) = price(&app, &key, "PLATE-1", q).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(
            (b["requiresQuote"].clone(), b["pricing"].clone()),
            (json!(true), Value::Null),
            "{b}"
        );
    }
    // Login required: nothing without a customer; XYZ's category discount covers the sheet.
    let (_, b) = price(&app, &key, "SHEET-16", "on=2026-06-30").await;
    assert_eq!(
        (b["loginRequired"].clone(), b["pricing"].clone()),
        (json!(true), Value::Null),
        "{b}"
    );
    let (_, b) = price(&app, &key, "SHEET-16", "on=2026-06-30&customerId=XYZ").await;
    assert_eq!(b["pricing"]["discountSource"], "CUSTOMER", "{b}");
    assert_eq!(b["pricing"]["customerPrice"]["amount"], "3.5200", "{b}");
    // A bad parameter.
    let (s, b) = price(&app, &key, "A36-BAR", "quantity=0").await;
    assert_eq!((s, code(&b)), (422, "validation_failed"), "{b}");
    assert_eq!(b["error"]["details"]["field"], "quantity", "{b}");
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn a_cart_is_priced_line_by_line_and_bad_lines_are_named(pool: sqlx::PgPool) {
    let app = spawn(pool).await;
    seed(&app).await;
    let key = app.key("a", &["read:pricing"]).await;
    let cart = |items: Value| json!({"customerId": "ABC", "on": "2026-06-30", "items": items});
    let (s, b) = json(
        app.post(
            "/api/v1/pricing/cart",
            &key,
            cart(json!([
                {"sku": "A36-BAR", "quantity": "100", "uom": "FT"},
                {"sku": "SHEET-16", "quantity": "10"},
                {"sku": "PLATE-1", "quantity": "3", "uom": "LB"}
            ])),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    // 100 FT at the contract's $1.428/FT; 10 SF of sheet at GOLD ($3.68); the plate is quote only.
    let items = b["items"].as_array().unwrap();
    assert_eq!(items[0]["unitPrice"]["amount"], "1.4280", "{b}");
    assert_eq!(items[0]["extendedPrice"]["amount"], "142.80", "{b}");
    assert_eq!(
        items[1]["price"]["pricing"]["discountSource"], "TIER",
        "{b}"
    );
    assert_eq!(items[1]["extendedPrice"]["amount"], "36.80", "{b}");
    assert_eq!(items[2]["unitPrice"], Value::Null, "{b}");
    assert_eq!(items[2]["price"]["requiresQuote"], true, "{b}");
    assert_eq!(
        b["subtotals"],
        json!([{"amount": "179.60", "currency": "USD"}]),
        "{b}"
    );
    assert_eq!(b["requiresQuote"], true, "{b}");
    assert_eq!(b["validUntil"], "2026-06-30", "{b}");

    // Bad lines, every one named by index and field; the good line does not hide them.
    let (s, b) = json(
        app.post(
            "/api/v1/pricing/cart",
            &key,
            cart(json!([
                {"sku": "A36-BAR", "quantity": "1"},
                {"sku": "A36-BAR", "quantity": "0"},
                {"sku": "A36-BAR", "quantity": "1", "uom": "SF"},
                {"sku": "A36-BAR", "quantity": "1,5"},
                {"sku": "A36-BAR", "quantity": "1", "colour": "red"}
            ])),
        )
        .await,
    )
    .await;
    assert_eq!((s, code(&b)), (422, "validation_failed"), "{b}");
    let errors: Vec<(u64, String)> = b["error"]["details"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["index"].as_u64().unwrap(),
                e["field"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        vec![
            (1, "items[1].quantity".to_owned()),
            (2, "items[2].uom".to_owned()),
            (3, "items[3].quantity".to_owned()),
            // An unknown field is named itself.
            (4, "items[4].colour".to_owned()),
        ],
        "{b}"
    );
    // A product of no organization's: 404 with its index.
    let (s, b) = json(
        app.post(
            "/api/v1/pricing/cart",
            &key,
            cart(json!([{"sku": "NOPE", "quantity": "1"}])),
        )
        .await,
    )
    .await;
    assert_eq!((s, code(&b)), (404, "not_found"), "{b}");
    assert_eq!(
        b["error"]["details"]["errors"][0]["field"], "items[0].sku",
        "{b}"
    );
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn bulk_upserts_store_the_good_items_and_name_the_bad(pool: sqlx::PgPool) {
    let app = spawn(pool).await;
    let key = seed(&app).await;
    let items = json!([
        {"priceListId": "PL-2026", "sku": "A36-BAR", "uom": "FT", "amount": "1.65"},
        {"priceListId": "PL-2026", "sku": "NOPE", "uom": "LB", "amount": "1"},
        {"priceListId": "PL-2026", "sku": "A36-BAR", "uom": "EA", "amount": true},
        {"priceListId": "PL-9", "sku": "A36-BAR", "uom": "LB", "amount": "1"},
        {"priceListId": "PL-2026", "sku": "A36-BAR", "uom": "ft", "amount": "1.66"},
        {"priceListId": "PL-2026", "sku": "A36-BAR", "uom": "CWT", "amount": "0.1234567"},
        {"priceListId": "PL-2026", "sku": "A36-BAR", "uom": "LB", "amount": "0.50", "validFrom": "2026-02-01", "validTo": "2026-01-01"}
    ]);
    for round in 0..2 {
        let (s, b) = put(
            &app,
            "/api/v1/pricing/list-prices",
            &key,
            json!({ "items": items }),
        )
        .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["stored"], 1, "round {round}: {b}");
        let errors: Vec<(u64, &str)> = b["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["index"].as_u64().unwrap(), e["field"].as_str().unwrap()))
            .collect();
        assert_eq!(
            errors,
            vec![
                (1, "items[1].sku"),
                (2, "items[2].amount"),
                (3, "items[3].priceListId"),
                (4, "items[4]"),
                (5, "items[5].amount"),
                (6, "items[6].validTo"),
            ],
            "{b}"
        );
        assert!(
            b["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("unknown product `NOPE`"),
            "{b}"
        );
        assert!(
            b["errors"][3]["message"]
                .as_str()
                .unwrap()
                .contains("items[0]"),
            "{b}"
        );
        // Idempotent: the second round stores the same row, not a second one.
        assert_eq!(
            app.count("SELECT count(*) FROM list_prices WHERE sku = 'A36-BAR'")
                .await,
            2,
            "round {round}"
        );
    }
    // The price per FT set directly now beats the converted one.
    let read = app.key("a", &["read:pricing"]).await;
    let (_, b) = price(&app, &read, "A36-BAR", "on=2026-06-30&uom=FT").await;
    assert_eq!(b["pricing"]["listPrice"]["amount"], "1.6500", "{b}");

    // Scope rules of the item kinds.
    let (_, b) = put(&app, "/api/v1/pricing/discounts", &key, json!({"items": [
        {"discountId": "D-2", "customerId": "ABC", "scope": "product", "category": "Steel", "percent": "5"},
        {"discountId": "D-3", "customerId": "ABC", "scope": "all", "percent": "101"},
        {"discountId": "D-4", "customerId": "NOBODY", "scope": "all", "percent": "1"}
    ]})).await;
    assert_eq!(b["stored"], 0, "{b}");
    let fields: Vec<&str> = b["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["items[0].sku", "items[1].percent", "items[2].customerId"],
        "{b}"
    );
    let (_, b) = put(
        &app,
        "/api/v1/pricing/uom-conversions",
        &key,
        json!({"items": [
            {"sku": "A36-BAR", "fromUom": "CWT", "toUom": "LB", "factor": "90"},
            {"sku": "A36-BAR", "fromUom": "LB", "toUom": "FT", "factor": "0.25"}
        ]}),
    )
    .await;
    assert_eq!(b["stored"], 1, "{b}");
    assert_eq!(b["errors"][0]["field"], "items[0].factor", "{b}");
    // The reverse pair replaced the stored FT → LB: one row for the pair.
    assert_eq!(
        app.count("SELECT count(*) FROM product_uom_conversions WHERE sku = 'A36-BAR' AND 'LB' IN (from_uom, to_uom)").await,
        1
    );
    let (_, b) = put(&app, "/api/v1/pricing/volume-breaks", &key, json!({"items": [
        {"breakId": "B-X", "sku": "A36-BAR", "minQuantity": "10", "uom": "LB", "price": "0.4"},
        {"breakId": "B-Y", "sku": "A36-BAR", "minQuantity": "10", "uom": "LB", "price": "0.4", "currency": "USD", "percent": "3"}
    ]})).await;
    let fields: Vec<&str> = b["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["items[0].currency", "items[1].price"], "{b}");

    // At most 1,000 items per call.
    let many: Vec<Value> = (0..1001)
        .map(|i| json!({"tierCode": format!("T{i}"), "percent": "1"}))
        .collect();
    let (s, b) = put(
        &app,
        "/api/v1/pricing/tiers",
        &key,
        json!({ "items": many }),
    )
    .await;
    assert_eq!((s, code(&b)), (422, "validation_failed"), "{b}");
    let many: Vec<Value> = (0..1000)
        .map(|i| json!({"tierCode": format!("T{i}"), "percent": "1"}))
        .collect();
    let (s, b) = put(
        &app,
        "/api/v1/pricing/tiers",
        &key,
        json!({ "items": many }),
    )
    .await;
    assert_eq!((s, b["stored"].clone()), (200, json!(1000)), "{b}");
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn another_organizations_products_and_customers_are_404(pool: sqlx::PgPool) {
    let app = spawn(pool).await;
    seed(&app).await;
    app.org("b").await;
    let b_key = app
        .key("b", &["read:pricing", "write:orders", "write:catalog"])
        .await;
    let (s, b) = price(&app, &b_key, "A36-BAR", "").await;
    assert_eq!((s, code(&b)), (404, "not_found"), "{b}");
    let (s, _) = put(&app, "/api/v1/products/B-BAR", &b_key, json!({"name": "b"})).await;
    assert_eq!(s, 204);
    // Org a's customer, asked about from org b.
    let (s, b) = price(&app, &b_key, "B-BAR", "customerId=ABC").await;
    assert_eq!((s, code(&b)), (404, "not_found"), "{b}");
    assert_eq!(b["error"]["message"], "customer not found", "{b}");
    // Writing against org a's product or customer from org b: unknown, by index.
    let (_, b) = put(&app, "/api/v1/pricing/contracts", &b_key, json!({"items": [
        {"contractId": "K", "sku": "A36-BAR", "customerId": "ABC", "price": "1", "uom": "LB", "currency": "USD"}
    ]})).await;
    assert_eq!(b["errors"][0]["field"], "items[0].sku", "{b}");
    assert_eq!(
        app.count("SELECT count(*) FROM price_contracts WHERE contract_id = 'K'")
            .await,
        0
    );

    // Scopes: reading needs read:pricing, writing write:catalog.
    let orders_only = app.key("a", &["read:orders", "write:orders"]).await;
    let (s, _) = price(&app, &orders_only, "A36-BAR", "").await;
    assert_eq!(s, 403);
    let (s, _) = put(
        &app,
        "/api/v1/pricing/tiers",
        &orders_only,
        json!({"items": []}),
    )
    .await;
    assert_eq!(s, 403);
    let read = app.key("a", &["read:pricing"]).await;
    let (s, _) = put(&app, "/api/v1/pricing/tiers", &read, json!({"items": []})).await;
    assert_eq!(s, 403);
}

async fn delete(app: &TestApp, kind: &str, key: &str, items: Value) -> (u16, Value) {
    json(
        app.call(
            Method::DELETE,
            &format!("/api/v1/pricing/{kind}"),
            Some(key),
            Some(json!({ "items": items })),
        )
        .await,
    )
    .await
}

/// `DELETE /pricing/{kind}` by the PUTs' keys: each row deleted changes the price the resolver
/// gives and moves the prices feed of its SKU; a bad key, a repeated one and one naming no row
/// of the caller's organization (another organization's included, which stays) are reported
/// by index; deleting needs `write:catalog`.
#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn price_rows_are_deleted_by_their_keys(pool: sqlx::PgPool) {
    let app = spawn(pool).await;
    let key = seed(&app).await;
    let read = app.key("a", &["read:pricing"]).await;
    let source = |query: &'static str| {
        let (app, read) = (&app, &read);
        async move {
            let (s, b) = price(app, read, "A36-BAR", query).await;
            assert_eq!(s, 200, "{query}: {b}");
            b["pricing"]["discountSource"].clone()
        }
    };
    let feed_seq =
        || app.count("SELECT seq FROM catalog_changes WHERE entity = 'prices' AND sku = 'A36-BAR'");

    // Another organization's rows are not found there, and stay.
    app.org("b").await;
    let b_key = app.key("b", &["write:catalog"]).await;
    let (s, b) = delete(
        &app,
        "contracts",
        &b_key,
        json!([{"contractId": "K-1", "sku": "A36-BAR"}]),
    )
    .await;
    assert_eq!((s, &b["deleted"]), (200, &json!(0)), "{b}");
    assert_eq!(b["errors"][0]["index"], 0, "{b}");
    assert_eq!(b["errors"][0]["field"], "items[0]", "{b}");
    assert_eq!(
        b["errors"][0]["message"], "not found: no contract price K-1/A36-BAR",
        "{b}"
    );
    assert_eq!(source("on=2026-06-30&customerId=ABC").await, "CONTRACT");

    // The contract, then the tier assignment, then the tier: ABC falls back step by step.
    let seq = feed_seq().await;
    let (s, b) = delete(
        &app,
        "contracts",
        &key,
        json!([
            {"contractId": "K-1", "sku": "A36-BAR"},
            {"contractId": "K-1", "sku": "A36-BAR"},
            {"contractId": "K-1"},
            {"contractId": "K-9", "sku": "A36-BAR"}
        ]),
    )
    .await;
    assert_eq!((s, &b["deleted"]), (200, &json!(1)), "{b}");
    let errors: Vec<(u64, &str)> = b["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["index"].as_u64().unwrap(), e["field"].as_str().unwrap()))
        .collect();
    assert_eq!(
        errors,
        [(1, "items[1]"), (2, "items[2]"), (3, "items[3]")],
        "{b}"
    );
    assert!(
        b["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("the same key as items[0]"),
        "{b}"
    );
    assert!(
        b["errors"][1]["message"]
            .as_str()
            .unwrap()
            .contains("missing field `sku`"),
        "{b}"
    );
    assert!(
        feed_seq().await > seq,
        "the contract's SKU moved in the prices feed"
    );
    assert_eq!(source("on=2026-06-30&customerId=ABC").await, "TIER");
    let (s, b) = delete(&app, "customer-tiers", &key, json!([{"customerId": "ABC"}])).await;
    assert_eq!((s, &b["deleted"]), (200, &json!(1)), "{b}");
    assert_eq!(source("on=2026-06-30&customerId=ABC").await, "NONE");
    let (_, b) = delete(&app, "tiers", &key, json!([{"tierCode": "GOLD"}])).await;
    assert_eq!(b["deleted"], 1, "{b}");
    assert_eq!(app.count("SELECT count(*) FROM price_tiers").await, 0);

    // XYZ's discount, the volume break, then the list price itself.
    assert_eq!(source("on=2026-06-30&customerId=XYZ").await, "CUSTOMER");
    let (_, b) = delete(&app, "discounts", &key, json!([{"discountId": "D-1"}])).await;
    assert_eq!(b["deleted"], 1, "{b}");
    assert_eq!(source("on=2026-06-30&customerId=XYZ").await, "NONE");
    assert_eq!(source("on=2026-06-30&quantity=500").await, "VOLUME");
    let (_, b) = delete(&app, "volume-breaks", &key, json!([{"breakId": "B-500"}])).await;
    assert_eq!(b["deleted"], 1, "{b}");
    assert_eq!(source("on=2026-06-30&quantity=500").await, "NONE");
    let seq = feed_seq().await;
    let (_, b) = delete(
        &app,
        "list-prices",
        &key,
        json!([
            {"priceListId": "PL-2026", "sku": "A36-BAR", "uom": "FT"},
            {"priceListId": "PL-2026", "sku": "A36-BAR", "uom": "LB"},
            {"priceListId": "PL-2026", "sku": "A36-BAR", "uom": "L B"}
        ]),
    )
    .await;
    assert_eq!(b["deleted"], 1, "{b}");
    assert_eq!(
        b["errors"][0]["message"], "not found: no list price PL-2026/A36-BAR/FT",
        "{b}"
    );
    assert_eq!(b["errors"][1]["field"], "items[2].uom", "{b}");
    assert!(feed_seq().await > seq);
    assert_eq!(
        app.count("SELECT count(*) FROM list_prices WHERE sku = 'A36-BAR'")
            .await,
        0
    );

    // Scopes: deleting is writing the catalog.
    for k in [&read, &app.key("a", &["read:orders", "write:orders"]).await] {
        let (s, _) = delete(&app, "tiers", k, json!([{"tierCode": "X"}])).await;
        assert_eq!(s, 403);
    }
    // More than 1,000 keys at once: refused as a whole.
    let many: Vec<Value> = (0..1001)
        .map(|i| json!({"breakId": format!("B{i}")}))
        .collect();
    let (s, b) = delete(&app, "volume-breaks", &key, json!(many)).await;
    assert_eq!((s, code(&b)), (422, "validation_failed"), "{b}");
}
