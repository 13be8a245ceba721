//! The catalog and inventory over HTTP: a bulk upsert with bad items (each reported by index
//! and field, the others stored), idempotent upserts that leave the change feed alone, one
//! change per product, level or reservation seen through `/catalog/changes`, tombstones,
//! reservations that do not fit (409 with what is available), scopes and tenancy (another
//! organization's item is 404).

use crate::common::{code, json, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    key: &str,
    body: Option<Value>,
) -> (u16, Value) {
    json(app.call(method, path, Some(key), body).await).await
}

async fn feed(app: &TestApp, key: &str, entity: &str, after: i64) -> Value {
    let (s, b) = call(
        app,
        Method::GET,
        &format!("/api/v1/catalog/changes?entity={entity}&after={after}"),
        key,
        None,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    b
}

/// The one change of `entity` after `after`: P1's, at `seq`, not a tombstone.
async fn one_change(app: &TestApp, key: &str, entity: &str, after: i64, seq: i64) {
    let page = feed(app, key, entity, after).await;
    assert_eq!(
        page["changes"],
        json!([{"seq": seq, "sku": "P1", "deleted": false}]),
        "{entity} after {after}"
    );
    assert_eq!(page["next_after"], seq);
}

fn plate(sku: &str) -> Value {
    json!({
        "sku": sku,
        "name": format!("Plate {sku}"),
        "short_description": "A36 hot rolled plate",
        "specifications": [{"name": "Yield Strength", "value": "36,000 PSI min", "display_order": 1}],
        "dimensions": {"thickness": {"value": 0.25, "unit": "IN", "tolerance": {"min": 0.24, "max": 0.26}}},
        "material": {"grade": "A36", "specification": "ASTM A36", "finish": "Hot Rolled"},
        "price_visibility": "login_required",
        "lead_time_days": 3,
        "web_visible": true,
        "tags": ["plate", "a36"],
        "seo": {"slug": format!("plate-{}", sku.to_lowercase()), "title": "A36 plate"},
        "variants": [{"sku": format!("{sku}-48X96"), "options": {"size": "48 x 96 in"}}]
    })
}

/// A key with every catalog and inventory scope, in `org`.
async fn writer(app: &TestApp, org: &str) -> String {
    app.key(org, &["write:catalog", "write:inventory"]).await
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn bad_items_are_reported_by_index_and_field_and_the_others_stored(pool: sqlx::PgPool) {
    let app = TestApp::builder(pool).spawn().await;
    let key = writer(&app, "a").await;
    let mut duplicate = plate("P1");
    duplicate["variants"] = json!([]);
    let items = json!([
        plate("P1"),
        {"sku": "P2"},
        {"sku": "P3", "name": "Three", "lead_time_days": "soon"},
        duplicate,
        {"sku": "P5", "name": "Five", "gtin": "12AB"},
        {"sku": "P6", "name": "Six", "variants": [{"sku": " "}]},
        {"sku": "P7", "name": "Seven", "seo": {"slug": "Not A Slug"}},
        {"sku": "P8", "name": "Eight", "colour": "red"},
        {"sku": "P9", "name": "Nine", "uom": "LB", "price_visibility": "quote_only"},
    ]);
    let (s, b) = call(
        &app,
        Method::PUT,
        "/api/v1/catalog/products",
        &key,
        Some(json!({"items": items})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let fields: Vec<&str> = b["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "items[1].name",
            "items[2].lead_time_days",
            "items[3].sku",
            "items[4].gtin",
            "items[5].variants[0].sku",
            "items[6].seo.slug",
            "items[7].colour",
        ],
        "{b}"
    );
    let indexes: Vec<u64> = b["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indexes, [1, 2, 3, 4, 5, 6, 7]);
    assert!(
        b["errors"][6]["message"]
            .as_str()
            .unwrap()
            .contains("colour"),
        "{b}"
    );
    assert!(
        b["errors"][2]["message"]
            .as_str()
            .unwrap()
            .contains("items[0].sku"),
        "{b}"
    );
    assert_eq!(
        (b["created"].as_u64(), b["rejected"].as_u64()),
        (Some(2), Some(7)),
        "{b}"
    );
    let outcomes: Vec<&str> = b["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        [
            "created", "rejected", "rejected", "rejected", "rejected", "rejected", "rejected",
            "rejected", "created"
        ]
    );
    assert_eq!(b["results"][2]["sku"], "P3");

    // The good ones are stored, as sent; the bad ones are not.
    let (s, p) = call(&app, Method::GET, "/api/v1/catalog/products/P1", &key, None).await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["material"]["grade"], "A36");
    assert_eq!(p["dimensions"]["thickness"]["tolerance"]["max"], 0.26);
    assert_eq!(p["price_visibility"], "login_required");
    assert_eq!(p["seo"]["slug"], "plate-p1");
    assert_eq!(p["variants"][0]["sku"], "P1-48X96");
    assert_eq!(p["variants"][0]["options"]["size"], "48 x 96 in");
    let (_, p) = call(&app, Method::GET, "/api/v1/catalog/products/P9", &key, None).await;
    assert_eq!(
        (p["uom"].as_str(), p["web_visible"].as_bool()),
        (Some("LB"), Some(false))
    );
    for sku in ["P2", "P3", "P5", "P6", "P7", "P8"] {
        let (s, _) = call(
            &app,
            Method::GET,
            &format!("/api/v1/catalog/products/{sku}"),
            &key,
            None,
        )
        .await;
        assert_eq!(s, 404, "{sku}");
    }

    // More than 1,000 items, or an item that is not an object: the call is refused whole.
    let many: Vec<Value> = (0..1001)
        .map(|i| json!({"sku": format!("S{i}"), "name": "n"}))
        .collect();
    let (s, b) = call(
        &app,
        Method::PUT,
        "/api/v1/catalog/products",
        &key,
        Some(json!({"items": many})),
    )
    .await;
    assert_eq!((s, code(&b)), (422, "validation_failed"), "{b}");
    let (s, _) = call(
        &app,
        Method::PUT,
        "/api/v1/catalog/products",
        &key,
        Some(json!({"items": [5]})),
    )
    .await;
    assert_eq!(s, 422);
    // A read key may not write.
    let read = app.key("a", &["read:catalog"]).await;
    let (s, _) = call(
        &app,
        Method::PUT,
        "/api/v1/catalog/products",
        &read,
        Some(json!({"items": []})),
    )
    .await;
    assert_eq!(s, 403);
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn a_variants_units_are_a_decimal_above_zero_and_move_its_products_stock_and_prices(
    pool: sqlx::PgPool,
) {
    let app = TestApp::builder(pool).spawn().await;
    let key = writer(&app, "a").await;
    let bar = |units: Value| {
        json!({"sku": "RB", "name": "Round bar", "uom": "FT",
               "variants": [{"sku": "RB-12FT", "units": "12"}, {"sku": "RB-20FT", "units": units}]})
    };
    let items = json!([
        bar(json!("0")),
        bar(json!("-20")),
        bar(json!("twenty")),
        bar(json!(20))
    ]);
    let (s, b) = call(
        &app,
        Method::PUT,
        "/api/v1/catalog/products",
        &key,
        Some(json!({"items": items})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let errors = b["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 4, "{b}");
    for (i, e) in errors.iter().enumerate() {
        assert_eq!(e["field"], format!("items[{i}].variants[1].units"), "{b}");
    }
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("a quantity above zero"),
        "{b}"
    );
    let (s, _) = call(&app, Method::GET, "/api/v1/catalog/products/RB", &key, None).await;
    assert_eq!(s, 404, "nothing stored");

    let (s, b) = call(
        &app,
        Method::PUT,
        "/api/v1/catalog/products",
        &key,
        Some(json!({"items": [bar(json!("20.0"))]})),
    )
    .await;
    assert_eq!((s, b["created"].as_u64()), (200, Some(1)), "{b}");
    let (_, p) = call(&app, Method::GET, "/api/v1/catalog/products/RB", &key, None).await;
    let units: Vec<&Value> = p["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| &v["units"])
        .collect();
    assert_eq!(units, [&json!("12"), &json!("20")], "{p}");
    // New units: the product's stock and prices items carry them, so both move in the feed.
    let inventory = feed(&app, &key, "inventory", 0).await["next_after"].clone();
    let prices = feed(&app, &key, "prices", 0).await["next_after"].clone();
    let (s, _) = call(
        &app,
        Method::PUT,
        "/api/v1/catalog/products",
        &key,
        Some(json!({"items": [bar(json!("18"))]})),
    )
    .await;
    assert_eq!(s, 200);
    for (entity, after) in [("inventory", inventory), ("prices", prices)] {
        let page = feed(&app, &key, entity, after.as_i64().unwrap_or(0)).await;
        let skus: Vec<&str> = page["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["sku"].as_str().unwrap())
            .collect();
        assert_eq!(skus, ["RB"], "{entity}: {page}");
    }
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn every_change_advances_the_feed_once_and_a_repeat_not_at_all(pool: sqlx::PgPool) {
    let app = TestApp::builder(pool).spawn().await;
    let key = writer(&app, "a").await;
    let put = |body: Value| {
        let app = &app;
        let key = &key;
        async move {
            call(
                app,
                Method::PUT,
                "/api/v1/catalog/products",
                key,
                Some(body),
            )
            .await
        }
    };
    let (s, b) = put(json!({"items": [plate("P1")]})).await;
    assert_eq!((s, b["created"].as_u64()), (200, Some(1)), "{b}");
    let head = feed(&app, &key, "catalog", 0).await["head"]
        .as_i64()
        .unwrap();

    // The same item again: unchanged, the feed does not move.
    let (_, b) = put(json!({"items": [plate("P1")]})).await;
    assert_eq!(b["unchanged"].as_u64(), Some(1), "{b}");
    let page = feed(&app, &key, "catalog", head).await;
    assert_eq!(
        (
            page["head"].as_i64(),
            page["changes"].as_array().map(Vec::len)
        ),
        (Some(head), Some(0))
    );

    // A product change: once.
    let mut changed = plate("P1");
    changed["lead_time_days"] = json!(10);
    let (_, b) = put(json!({"items": [changed]})).await;
    assert_eq!(b["updated"].as_u64(), Some(1), "{b}");
    one_change(&app, &key, "catalog", head, head + 1).await;

    // An inventory change: once, under `inventory`.
    let (s, b) = call(
        &app,
        Method::PUT,
        "/api/v1/inventory/locations/W1",
        &key,
        Some(json!({"name": "Chicago", "region": "IL", "ships_to": ["IL", "WI"]})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let level = json!({"items": [{"sku": "P1", "location": "W1", "on_hand": "10", "allocated": "1.5", "on_order": "0", "low_stock_threshold": "2"}]});
    let (s, b) = call(
        &app,
        Method::PUT,
        "/api/v1/inventory/levels",
        &key,
        Some(level.clone()),
    )
    .await;
    assert_eq!((s, b["created"].as_u64()), (200, Some(1)), "{b}");
    one_change(&app, &key, "inventory", head + 1, head + 2).await;
    let (_, b) = call(
        &app,
        Method::PUT,
        "/api/v1/inventory/levels",
        &key,
        Some(level),
    )
    .await;
    assert_eq!(b["unchanged"].as_u64(), Some(1), "{b}");
    assert_eq!(
        feed(&app, &key, "inventory", head + 2).await["changes"],
        json!([])
    );

    // A reservation: once; its release: once more.
    let (s, r) = call(&app, Method::POST, "/api/v1/inventory/reserve", &key,
        Some(json!({"reference": "cart-1", "lines": [{"sku": "P1", "quantity": "2.5", "location": "W1"}]}))).await;
    assert_eq!(s, 201, "{r}");
    one_change(&app, &key, "inventory", head + 2, head + 3).await;
    let (s, stock) = call(
        &app,
        Method::GET,
        "/api/v1/inventory/products/P1?by_location=true",
        &key,
        None,
    )
    .await;
    assert_eq!(s, 200, "{stock}");
    assert_eq!(
        (stock["available"].as_str(), stock["reserved"].as_str()),
        (Some("6.0"), Some("2.5")),
        "{stock}"
    );
    assert_eq!(stock["locations"][0]["ships_to"], json!(["IL", "WI"]));
    let id = r["id"].as_str().unwrap();
    let (s, _) = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/inventory/reservations/{id}"),
        &key,
        None,
    )
    .await;
    assert_eq!(s, 204);
    one_change(&app, &key, "inventory", head + 3, head + 4).await;
    let (_, r) = call(
        &app,
        Method::GET,
        &format!("/api/v1/inventory/reservations/{id}"),
        &key,
        None,
    )
    .await;
    assert_eq!(r["release_reason"], "released");

    // A removal: a tombstone in the feed; the product is 404, listed only with include_deleted.
    let (s, _) = call(
        &app,
        Method::DELETE,
        "/api/v1/catalog/products/P1",
        &key,
        None,
    )
    .await;
    assert_eq!(s, 204);
    let page = feed(&app, &key, "catalog", head + 4).await;
    let changes = page["changes"].as_array().unwrap();
    assert_eq!(changes.last().unwrap()["sku"], "P1");
    assert_eq!(changes.last().unwrap()["deleted"], true);
    assert!(
        changes
            .iter()
            .any(|c| c["sku"] == "P1-48X96" && c["deleted"] == true),
        "{page}"
    );
    let (s, _) = call(&app, Method::GET, "/api/v1/catalog/products/P1", &key, None).await;
    assert_eq!(s, 404);
    let (_, list) = call(&app, Method::GET, "/api/v1/catalog/products", &key, None).await;
    assert_eq!(list["items"], json!([]));
    let (_, list) = call(
        &app,
        Method::GET,
        "/api/v1/catalog/products?include_deleted=true",
        &key,
        None,
    )
    .await;
    assert_eq!(list["items"][0]["deleted"], true);
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn products_are_listed_in_keyset_pages_with_filters(pool: sqlx::PgPool) {
    let app = TestApp::builder(pool).spawn().await;
    let key = writer(&app, "a").await;
    let mut items: Vec<Value> = (1..=5).map(|i| plate(&format!("P{i}"))).collect();
    items[2]["web_visible"] = json!(false);
    let (s, _) = call(
        &app,
        Method::PUT,
        "/api/v1/catalog/products",
        &key,
        Some(json!({"items": items})),
    )
    .await;
    assert_eq!(s, 200);
    let mut seen = Vec::new();
    let mut path = "/api/v1/catalog/products?limit=2&web_visible=true".to_owned();
    loop {
        let (s, page) = call(&app, Method::GET, &path, &key, None).await;
        assert_eq!(s, 200, "{page}");
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["sku"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => {
                path = format!("/api/v1/catalog/products?limit=2&web_visible=true&cursor={c}")
            }
            None => break,
        }
    }
    assert_eq!(seen, ["P1", "P2", "P4", "P5"]);
    let future = "2999-01-01T00:00:00Z";
    let (_, page) = call(
        &app,
        Method::GET,
        &format!("/api/v1/catalog/products?updated_since={future}"),
        &key,
        None,
    )
    .await;
    assert_eq!(page["items"], json!([]));
    let (s, b) = call(
        &app,
        Method::GET,
        "/api/v1/catalog/products?cursor=%25%25",
        &key,
        None,
    )
    .await;
    assert_eq!(s, 422, "{b}");
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn a_reservation_that_does_not_fit_is_409_and_holds_nothing(pool: sqlx::PgPool) {
    let app = TestApp::builder(pool).spawn().await;
    let key = writer(&app, "a").await;
    call(
        &app,
        Method::PUT,
        "/api/v1/catalog/products",
        &key,
        Some(json!({"items": [plate("P1"), plate("P2")]})),
    )
    .await;
    call(
        &app,
        Method::PUT,
        "/api/v1/inventory/locations/W1",
        &key,
        Some(json!({"name": "Chicago"})),
    )
    .await;
    let (_, b) = call(
        &app,
        Method::PUT,
        "/api/v1/inventory/levels",
        &key,
        Some(json!({"items": [
            {"sku": "P1", "location": "W1", "on_hand": "5", "allocated": "0", "on_order": "0"},
            {"sku": "P2", "location": "W1", "on_hand": "1", "allocated": "0", "on_order": "3", "low_stock_threshold": "2"},
            {"sku": "NOPE", "location": "W1", "on_hand": "1", "allocated": "0", "on_order": "0"},
            {"sku": "P1", "location": "W9", "on_hand": "1", "allocated": "0", "on_order": "0"},
        ]})),
    )
    .await;
    let fields: Vec<&str> = b["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["items[2].sku", "items[3].location"], "{b}");
    // A blank SKU is what the schema refuses: the whole call is 422, naming it.
    let blank = json!({"items": [{"sku": " ", "location": "W1", "on_hand": "1", "allocated": "0", "on_order": "0"}]});
    let (s, b) = call(
        &app,
        Method::PUT,
        "/api/v1/inventory/levels",
        &key,
        Some(blank),
    )
    .await;
    assert_eq!(s, 422, "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("items[0].sku"),
        "{b}"
    );

    let lines = json!([{"sku": "P1", "quantity": "3"}, {"sku": "P2", "quantity": "2"}]);
    let (s, b) = call(
        &app,
        Method::POST,
        "/api/v1/inventory/availability-check",
        &key,
        Some(json!({"lines": lines})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["can_fulfill"], false);
    assert_eq!(b["lines"][0]["available_now"], true);
    assert_eq!(
        (
            b["lines"][1]["available"].as_str(),
            b["lines"][1]["short_by"].as_str()
        ),
        (Some("1"), Some("1"))
    );
    let (s, b) = call(
        &app,
        Method::POST,
        "/api/v1/inventory/reserve",
        &key,
        Some(json!({"reference": "cart", "lines": lines})),
    )
    .await;
    assert_eq!((s, code(&b)), (409, "conflict"), "{b}");
    assert_eq!(b["error"]["details"]["lines"][1]["available"], "1");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("lines[1] (P2): 1 available"),
        "{b}"
    );
    // Nothing was held: P1 still has all 5.
    let (_, s1) = call(
        &app,
        Method::POST,
        "/api/v1/inventory/products:batch",
        &key,
        Some(json!({"skus": ["P1", "P2", "NOPE"]})),
    )
    .await;
    assert_eq!(s1["items"][0]["available"], "5", "{s1}");
    assert_eq!(s1["items"][1]["status"], "low_stock");
    assert_eq!(s1["unknown"], json!(["NOPE"]));
    assert!(s1["items"][0].get("locations").is_none());
    // A TTL beyond the maximum is refused; the default is 15 minutes.
    let one = json!([{"sku": "P1", "quantity": "1"}]);
    let (s, _) = call(
        &app,
        Method::POST,
        "/api/v1/inventory/reserve",
        &key,
        Some(json!({"reference": "c", "lines": one, "ttl_minutes": 1441})),
    )
    .await;
    assert_eq!(s, 422);
    let (s, r) = call(
        &app,
        Method::POST,
        "/api/v1/inventory/reserve",
        &key,
        Some(json!({"reference": "c", "lines": one})),
    )
    .await;
    assert_eq!(s, 201, "{r}");
    let created: chrono::DateTime<chrono::Utc> = r["created_at"].as_str().unwrap().parse().unwrap();
    let expires: chrono::DateTime<chrono::Utc> = r["expires_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(expires - created, chrono::Duration::minutes(15));
    let (s, _) = call(
        &app,
        Method::POST,
        "/api/v1/inventory/reserve",
        &key,
        Some(json!({"reference": "c", "lines": [{"sku": "P1", "quantity": "0"}]})),
    )
    .await;
    assert_eq!(s, 422);
    let (s, b) = call(
        &app,
        Method::POST,
        "/api/v1/inventory/availability-check",
        &key,
        Some(json!({"lines": [{"sku": "", "quantity": "1"}]})),
    )
    .await;
    assert_eq!(s, 422, "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("lines[0].sku"),
        "{b}"
    );
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn another_organizations_items_are_404(pool: sqlx::PgPool) {
    let app = TestApp::builder(pool).spawn().await;
    let a = writer(&app, "a").await;
    let b = writer(&app, "b").await;
    call(
        &app,
        Method::PUT,
        "/api/v1/catalog/products",
        &a,
        Some(json!({"items": [plate("P1")]})),
    )
    .await;
    call(
        &app,
        Method::PUT,
        "/api/v1/inventory/locations/W1",
        &a,
        Some(json!({"name": "Chicago"})),
    )
    .await;
    call(
        &app,
        Method::PUT,
        "/api/v1/inventory/levels",
        &a,
        Some(json!({"items": [
        {"sku": "P1", "location": "W1", "on_hand": "5", "allocated": "0", "on_order": "0"}]})),
    )
    .await;
    let (s, r) = call(
        &app,
        Method::POST,
        "/api/v1/inventory/reserve",
        &a,
        Some(json!({"reference": "c", "lines": [{"sku": "P1", "quantity": "1"}]})),
    )
    .await;
    assert_eq!(s, 201, "{r}");
    let id = r["id"].as_str().unwrap();
    for (method, path) in [
        (Method::GET, "/api/v1/catalog/products/P1".to_owned()),
        (Method::DELETE, "/api/v1/catalog/products/P1".to_owned()),
        (Method::GET, "/api/v1/inventory/products/P1".to_owned()),
        (Method::GET, format!("/api/v1/inventory/reservations/{id}")),
        (
            Method::DELETE,
            format!("/api/v1/inventory/reservations/{id}"),
        ),
    ] {
        let (s, body) = call(&app, method.clone(), &path, &b, None).await;
        assert_eq!((s, code(&body)), (404, "not_found"), "{method} {path}");
    }
    // B's world is empty: no products, no stock, no changes; its levels cannot name A's SKU.
    let (_, list) = call(&app, Method::GET, "/api/v1/catalog/products", &b, None).await;
    assert_eq!(list["items"], json!([]));
    assert_eq!(
        feed(&app, &b, "catalog", 0).await,
        json!({"changes": [], "next_after": 0, "head": 0})
    );
    let (_, check) = call(
        &app,
        Method::POST,
        "/api/v1/inventory/availability-check",
        &b,
        Some(json!({"lines": [{"sku": "P1", "quantity": "1"}]})),
    )
    .await;
    assert_eq!(check["can_fulfill"], false);
    // And A's are untouched.
    let (s, _) = call(&app, Method::GET, "/api/v1/catalog/products/P1", &a, None).await;
    assert_eq!(s, 200);
    let (_, stock) = call(&app, Method::GET, "/api/v1/inventory/products/P1", &a, None).await;
    assert_eq!(stock["reserved"], "1");
}
