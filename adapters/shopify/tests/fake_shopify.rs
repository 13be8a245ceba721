//! The fake Shopify over real HTTP: it refuses what Shopify refuses and enforces each API
//! version's rules, so the adapter's tests against it prove something.

use serde_json::{json, Value};
use switchyard_shopify::fake::{gid, FakeOrderSpec, FakeShopify, FakeShopifyConfig, WriteOutcome};
use switchyard_shopify::ApiVersion;

const LOC: &str = "gid://shopify/Location/7001";

async fn post(fake: &FakeShopify, version: &str, token: &str, body: Value) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(format!(
            "{}/admin/api/{version}/graphql.json",
            fake.base_url()
        ))
        .header("X-Shopify-Access-Token", token)
        .json(&body)
        .send()
        .await
        .expect("fake reachable");
    let status = res.status().as_u16();
    (status, res.json().await.expect("json body"))
}

async fn gql(fake: &FakeShopify, version: ApiVersion, query: &str, variables: Value) -> Value {
    let (status, body) = post(
        fake,
        version.as_str(),
        fake.token(),
        json!({"query": query, "variables": variables}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {body}"))
}

const SET: &str = "mutation($input: ProductSetInput!, $id: ProductSetIdentifiers) {
  productSet(input: $input, identifier: $id) { product { id handle variants(first: 10) { nodes { id sku inventoryItem { id } } } } userErrors { field message code } } }";

fn product(sku: &str, variants: &[&str]) -> Value {
    json!({
        "id": {"customId": {"namespace": "switchyard", "key": "sku_root", "value": sku}},
        "input": {
            "title": format!("Product {sku}"),
            "status": "ACTIVE",
            "productOptions": [{"name": "Title", "values": variants.iter().map(|v| json!({"name": v})).collect::<Vec<_>>()}],
            "variants": variants.iter().map(|v| json!({"sku": v, "price": "10.00", "optionValues": [{"optionName": "Title", "name": v}]})).collect::<Vec<_>>(),
        }
    })
}

#[tokio::test]
async fn refuses_a_wrong_token_and_an_unsupported_version() {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let (status, body) = post(
        &fake,
        "2026-04",
        "shpat_wrong",
        json!({"query": "{ shop { name } }"}),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})
    );
    let (status, _) = post(
        &fake,
        "2019-04",
        fake.token(),
        json!({"query": "{ shop { name } }"}),
    )
    .await;
    assert_eq!(status, 404);
    let only_new =
        FakeShopify::start(FakeShopifyConfig::default().versions(&[ApiVersion::V2026_04]))
            .await
            .unwrap();
    let (status, _) = post(
        &only_new,
        "2025-10",
        only_new.token(),
        json!({"query": "{ shop { name } }"}),
    )
    .await;
    assert_eq!(status, 404);
    let body = gql(
        &fake,
        ApiVersion::V2026_04,
        "{ shop { name myshopifyDomain } }",
        json!({}),
    )
    .await;
    assert_eq!(
        body["data"]["shop"]["myshopifyDomain"],
        "switchyard-test.myshopify.com"
    );
    assert!(
        body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"].is_number(),
        "{body}"
    );
}

#[tokio::test]
async fn refuses_unknown_fields_arguments_and_missing_arguments() {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let v = ApiVersion::V2026_04;
    let body = gql(&fake, v, "{ shop { name colour } }", json!({})).await;
    assert_eq!(code(&body), "undefinedField");
    assert_eq!(
        body["errors"][0]["message"],
        "Field 'colour' doesn't exist on type 'Shop'"
    );
    assert!(body.get("data").is_none(), "nothing runs: {body}");
    let body = gql(
        &fake,
        v,
        "{ products(first: 1, colour: \"red\") { nodes { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(code(&body), "argumentNotAccepted");
    let body = gql(
        &fake,
        v,
        "mutation { productSet(synchronous: true) { userErrors { message } } }",
        json!({}),
    )
    .await;
    assert_eq!(code(&body), "missingRequiredArguments");
    assert_eq!(
        body["errors"][0]["message"],
        "Field 'productSet' is missing required arguments: input"
    );
    // An input object key Shopify does not have, inside a variable.
    let mut vars = product("P1", &["P1-A"]);
    vars["input"]["variants"][0]["colour"] = json!("red");
    let body = gql(&fake, v, SET, vars).await;
    assert_eq!(code(&body), "INVALID_VARIABLE");
    assert_eq!(
        body["errors"][0]["extensions"]["problems"][0]["path"],
        json!(["variants", 0, "colour"])
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Field is not defined on ProductVariantSetInput"),
        "{body}"
    );
    // A page over 250, and a connection without first or last.
    let body = gql(
        &fake,
        v,
        "{ products(first: 251) { nodes { id } } }",
        json!({}),
    )
    .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("cannot exceed 250"),
        "{body}"
    );
    let body = gql(&fake, v, "{ products { nodes { id } } }", json!({})).await;
    assert_eq!(
        body["errors"][0]["message"],
        "you must provide one of first or last"
    );
    // A syntax error.
    let body = gql(&fake, v, "{ shop { name }", json!({})).await;
    assert_eq!(code(&body), "syntaxError");
    assert_eq!(fake.writes().len(), 0);
}

#[tokio::test]
async fn product_set_upserts_and_replaces_lists() {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let v = ApiVersion::V2026_04;
    let first = gql(&fake, v, SET, product("P1", &["P1-A", "P1-B"])).await;
    assert_eq!(
        first["data"]["productSet"]["userErrors"],
        json!([]),
        "{first}"
    );
    let id = first["data"]["productSet"]["product"]["id"].clone();
    let a_id = first["data"]["productSet"]["product"]["variants"]["nodes"][0]["id"].clone();
    // The same customId again: the same product; P1-B left out is deleted (replace-set).
    let second = gql(&fake, v, SET, product("P1", &["P1-A"])).await;
    assert_eq!(second["data"]["productSet"]["product"]["id"], id);
    let nodes = &second["data"]["productSet"]["product"]["variants"]["nodes"];
    assert_eq!(nodes.as_array().unwrap().len(), 1);
    assert_eq!(nodes[0]["id"], a_id, "a variant kept keeps its id");
    assert_eq!(fake.product_count(), 1);
    // Archive by identifier alone.
    let archived = gql(&fake, v, SET, json!({"id": {"customId": {"namespace": "switchyard", "key": "sku_root", "value": "P1"}}, "input": {"status": "ARCHIVED"}})).await;
    assert_eq!(archived["data"]["productSet"]["userErrors"], json!([]));
    assert_eq!(
        fake.product_by_custom_id("switchyard", "sku_root", "P1")
            .unwrap()["status"],
        "ARCHIVED"
    );
    // A new product without a title, an option value the product lacks, and a bad status.
    let body = gql(
        &fake,
        v,
        SET,
        json!({"id": {"handle": "nope"}, "input": {"status": "ACTIVE"}}),
    )
    .await;
    assert_eq!(body["data"]["productSet"]["userErrors"][0]["code"], "BLANK");
    let mut vars = product("P2", &["P2-A"]);
    vars["input"]["variants"][0]["optionValues"][0]["name"] = json!("Other");
    let body = gql(&fake, v, SET, vars).await;
    assert_eq!(
        body["data"]["productSet"]["userErrors"][0]["code"],
        "OPTION_VALUE_DOES_NOT_EXIST"
    );
    let mut vars = product("P2", &["P2-A"]);
    vars["input"]["status"] = json!("GONE");
    assert_eq!(code(&gql(&fake, v, SET, vars).await), "INVALID_VARIABLE");
    // Over 2,048 variants.
    let many: Vec<String> = (0..2049).map(|i| format!("V{i}")).collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    let body = gql(&fake, v, SET, product("BIG", &refs)).await;
    assert_eq!(
        body["data"]["productSet"]["userErrors"][0]["code"],
        "TOO_MANY_VARIANTS"
    );
    assert_eq!(fake.product_count(), 1);
    let applied = fake
        .writes()
        .iter()
        .filter(|w| w.outcome == WriteOutcome::Applied)
        .count();
    assert_eq!(applied, 3);
}

#[tokio::test]
async fn products_page_with_cursors() {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let v = ApiVersion::V2026_04;
    for i in 0..5 {
        gql(
            &fake,
            v,
            SET,
            product(&format!("P{i}"), &[&format!("P{i}-A")]),
        )
        .await;
    }
    let q = "query($after: String) { products(first: 2, after: $after) { nodes { id variants(first: 5) { nodes { sku } } } pageInfo { hasNextPage endCursor } } }";
    let mut after = Value::Null;
    let mut skus = Vec::new();
    loop {
        let body = gql(&fake, v, q, json!({"after": after})).await;
        let page = &body["data"]["products"];
        for n in page["nodes"].as_array().unwrap() {
            skus.push(
                n["variants"]["nodes"][0]["sku"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        if page["pageInfo"]["hasNextPage"] == json!(false) {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(skus, ["P0-A", "P1-A", "P2-A", "P3-A", "P4-A"]);
}

const SET_Q_2026: &str = "mutation($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) { inventoryAdjustmentGroup { changes { delta quantityAfterChange } } userErrors { field message code } } }";

async fn item_of(fake: &FakeShopify, v: ApiVersion, sku: &str) -> Value {
    let body = gql(fake, v, SET, product(sku, &[&format!("{sku}-A")])).await;
    body["data"]["productSet"]["product"]["variants"]["nodes"][0]["inventoryItem"]["id"].clone()
}

#[tokio::test]
async fn inventory_2026_04_idempotency_and_compare_and_swap() {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let v = ApiVersion::V2026_04;
    let item = item_of(&fake, v, "S1").await;
    let input = |qty: i64, from: Value| {
        json!({"name": "available", "reason": "correction", "referenceDocumentUri": "gid://switchyard/Sync/1",
        "quantities": [{"inventoryItemId": item, "locationId": LOC, "quantity": qty, "changeFromQuantity": from}]})
    };
    // Without @idempotent: refused.
    let no_key = "mutation($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) { userErrors { code } } }";
    let body = gql(&fake, v, no_key, json!({"input": input(5, Value::Null)})).await;
    assert_eq!(code(&body), "BAD_REQUEST");
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("@idempotent"));
    // Without changeFromQuantity: refused.
    let mut missing = input(5, Value::Null);
    missing["quantities"][0]
        .as_object_mut()
        .unwrap()
        .remove("changeFromQuantity");
    let body = gql(&fake, v, SET_Q_2026, json!({"input": missing, "key": "k0"})).await;
    assert_eq!(
        body["data"]["inventorySetQuantities"]["userErrors"][0]["code"],
        "CHANGE_FROM_QUANTITY_REQUIRED"
    );
    // compareQuantity is gone in 2026-04.
    let mut old = input(5, Value::Null);
    old["quantities"][0]["compareQuantity"] = json!(0);
    assert_eq!(
        code(&gql(&fake, v, SET_Q_2026, json!({"input": old, "key": "k00"})).await),
        "INVALID_VARIABLE"
    );
    // Set 5 (null: no check), then the same key and variables: replayed, not applied again.
    let body = gql(
        &fake,
        v,
        SET_Q_2026,
        json!({"input": input(5, Value::Null), "key": "k1"}),
    )
    .await;
    assert_eq!(
        body["data"]["inventorySetQuantities"]["inventoryAdjustmentGroup"]["changes"][0]
            ["quantityAfterChange"],
        5,
        "{body}"
    );
    fake.set_available("S1-A", LOC, 4);
    let again = gql(
        &fake,
        v,
        SET_Q_2026,
        json!({"input": input(5, Value::Null), "key": "k1"}),
    )
    .await;
    assert_eq!(again["data"], body["data"]);
    assert_eq!(
        fake.available("S1-A", LOC),
        Some(4),
        "a replay changes nothing"
    );
    // The same key with other variables.
    let body = gql(
        &fake,
        v,
        SET_Q_2026,
        json!({"input": input(6, Value::Null), "key": "k1"}),
    )
    .await;
    assert_eq!(code(&body), "IDEMPOTENCY_KEY_PARAMETER_MISMATCH");
    // Compare-and-swap: stale from 5 (it is 4), right from 4.
    let body = gql(
        &fake,
        v,
        SET_Q_2026,
        json!({"input": input(9, json!(5)), "key": "k2"}),
    )
    .await;
    assert_eq!(
        body["data"]["inventorySetQuantities"]["userErrors"][0]["code"],
        "CHANGE_FROM_QUANTITY_STALE"
    );
    assert_eq!(fake.available("S1-A", LOC), Some(4));
    let body = gql(
        &fake,
        v,
        SET_Q_2026,
        json!({"input": input(9, json!(4)), "key": "k3"}),
    )
    .await;
    assert_eq!(
        body["data"]["inventorySetQuantities"]["userErrors"],
        json!([])
    );
    assert_eq!(fake.available("S1-A", LOC), Some(9));
    let outcomes: Vec<WriteOutcome> = fake
        .writes()
        .iter()
        .filter(|w| w.operation == "inventorySetQuantities")
        .map(|w| w.outcome)
        .collect();
    use WriteOutcome::*;
    assert_eq!(
        outcomes,
        [UserErrors, Applied, Replayed, UserErrors, Applied]
    );
}

#[tokio::test]
async fn inventory_2025_10_compare_quantity() {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let v = ApiVersion::V2025_10;
    let item = item_of(&fake, v, "S2").await;
    let q = "mutation($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) { userErrors { field code } } }";
    let input = |qty: i64, ignore: bool, cmp: Option<i64>| {
        let mut entry = json!({"inventoryItemId": item, "locationId": LOC, "quantity": qty});
        if let Some(c) = cmp {
            entry["compareQuantity"] = json!(c);
        }
        json!({"input": {"name": "available", "reason": "correction", "ignoreCompareQuantity": ignore, "quantities": [entry]}})
    };
    let body = gql(&fake, v, q, input(3, true, None)).await;
    assert_eq!(
        body["data"]["inventorySetQuantities"]["userErrors"],
        json!([]),
        "{body}"
    );
    let body = gql(&fake, v, q, input(7, false, Some(2))).await;
    assert_eq!(
        body["data"]["inventorySetQuantities"]["userErrors"][0]["code"],
        "COMPARE_QUANTITY_STALE"
    );
    let body = gql(&fake, v, q, input(7, false, Some(3))).await;
    assert_eq!(
        body["data"]["inventorySetQuantities"]["userErrors"],
        json!([])
    );
    assert_eq!(fake.available("S2-A", LOC), Some(7));
    // changeFromQuantity does not exist yet in 2025-10.
    let mut newer = input(1, true, None);
    newer["input"]["quantities"][0]["changeFromQuantity"] = json!(7);
    assert_eq!(code(&gql(&fake, v, q, newer).await), "INVALID_VARIABLE");
    // An unknown reason.
    let mut odd = input(1, true, None);
    odd["input"]["reason"] = json!("because");
    let body = gql(&fake, v, q, odd).await;
    assert_eq!(
        body["data"]["inventorySetQuantities"]["userErrors"][0]["code"],
        "INVALID_REASON"
    );
}

#[tokio::test]
async fn the_cost_bucket_throttles_and_never_goes_below_zero() {
    let fake = FakeShopify::start(FakeShopifyConfig::default().bucket(30.0, 1.0))
        .await
        .unwrap();
    let v = ApiVersion::V2026_04;
    let q = "{ products(first: 10) { nodes { id } pageInfo { hasNextPage } } }";
    // Costs 2 + 10 × 1 = 12: two fit in 30, the third is throttled.
    for _ in 0..2 {
        let body = gql(&fake, v, q, json!({})).await;
        assert_eq!(
            body["extensions"]["cost"]["requestedQueryCost"], 12.0,
            "{body}"
        );
    }
    let body = gql(&fake, v, q, json!({})).await;
    assert_eq!(code(&body), "THROTTLED");
    assert!(body["extensions"]["cost"]["actualQueryCost"].is_null());
    assert!(
        body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"]
            .as_f64()
            .unwrap()
            < 12.0
    );
    fake.throttle_with_429(true);
    let (status, body) = post(&fake, "2026-04", fake.token(), json!({"query": q})).await;
    assert_eq!(status, 429);
    assert_eq!(code(&body), "THROTTLED");
    assert!(fake.bucket_lowest() >= 0.0);
    assert_eq!(fake.stats().throttled, 2);
    // A query over the single-query maximum.
    let big = "{ products(first: 250) { nodes { variants(first: 250) { nodes { id inventoryItem { id } } } } } }";
    let fresh = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let body = gql(&fresh, v, big, json!({})).await;
    assert_eq!(code(&body), "MAX_COST_EXCEEDED");
    assert_eq!(body["errors"][0]["extensions"]["maxCost"], 1000.0);
}

#[tokio::test]
async fn variants_bulk_update_partial() {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let v = ApiVersion::V2026_04;
    let body = gql(&fake, v, SET, product("P1", &["P1-A", "P1-B"])).await;
    let p = &body["data"]["productSet"]["product"];
    let (a, b) = (
        p["variants"]["nodes"][0]["id"].clone(),
        p["variants"]["nodes"][1]["id"].clone(),
    );
    let q = "mutation($pid: ID!, $vs: [ProductVariantsBulkInput!]!, $partial: Boolean) {
      productVariantsBulkUpdate(productId: $pid, variants: $vs, allowPartialUpdates: $partial) { productVariants { sku price } userErrors { field code } } }";
    let vs =
        json!([{"id": a, "price": "12.50", "compareAtPrice": "15.00"}, {"id": b, "price": "-1"}]);
    let body = gql(
        &fake,
        v,
        q,
        json!({"pid": p["id"], "vs": vs, "partial": false}),
    )
    .await;
    assert_eq!(
        body["data"]["productVariantsBulkUpdate"]["userErrors"][0]["field"],
        json!(["variants", "1", "price"])
    );
    assert_eq!(
        fake.variant_price("P1-A").unwrap().0,
        "10.00",
        "all or nothing without partial updates"
    );
    let body = gql(
        &fake,
        v,
        q,
        json!({"pid": p["id"], "vs": vs, "partial": true}),
    )
    .await;
    assert_eq!(
        body["data"]["productVariantsBulkUpdate"]["productVariants"],
        json!([{"sku": "P1-A", "price": "12.50"}])
    );
    assert_eq!(
        fake.variant_price("P1-A").unwrap(),
        ("12.50".to_owned(), Some("15.00".to_owned()))
    );
}

const ORDERS: &str = "query($q: String, $after: String) {
  orders(first: 2, after: $after, sortKey: UPDATED_AT, query: $q) {
    pageInfo { hasNextPage endCursor }
    nodes { id name updatedAt cancelledAt customer { email } shippingAddress { city countryCodeV2 }
      lineItems(first: 50) { nodes { quantity variant { sku } originalUnitPriceSet { shopMoney { amount currencyCode } } } }
      fulfillmentOrders(first: 5) { nodes { id status lineItems(first: 50) { nodes { id remainingQuantity } } } } } } }";

/// Pages of `orders` from `query`, following `endCursor`; the ids and updatedAts seen, and
/// `between` run after the first page (an edit during the pull).
async fn pull_orders(
    fake: &FakeShopify,
    q: Option<&str>,
    between: impl FnOnce(),
) -> Vec<(String, String)> {
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut between = Some(between);
    loop {
        let body = gql(
            fake,
            ApiVersion::V2026_04,
            ORDERS,
            json!({"q": q, "after": after}),
        )
        .await;
        assert!(body.get("errors").is_none(), "{body}");
        let page = &body["data"]["orders"];
        for n in page["nodes"].as_array().expect("nodes") {
            seen.push((
                n["id"].as_str().unwrap().to_owned(),
                n["updatedAt"].as_str().unwrap().to_owned(),
            ));
        }
        if let Some(f) = between.take() {
            f();
        }
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            return seen;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
}

#[tokio::test]
async fn orders_page_by_updated_at_and_an_edit_during_the_pull_moves_behind_the_cursor() {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let ids: Vec<u64> = (0..5)
        .map(|i| fake.create_order(FakeOrderSpec::simple("a@example.com", &[("SKU-1", i + 1)])))
        .collect();
    let first = gql(&fake, ApiVersion::V2026_04, ORDERS, json!({})).await;
    let o = &first["data"]["orders"]["nodes"][0];
    assert_eq!(o["id"], gid("Order", ids[0]));
    assert_eq!(o["lineItems"]["nodes"][0]["variant"]["sku"], "SKU-1");
    assert_eq!(
        o["lineItems"]["nodes"][0]["originalUnitPriceSet"]["shopMoney"]["amount"],
        "10.00"
    );
    assert_eq!(o["shippingAddress"]["city"], "Chicago");
    assert_eq!(o["fulfillmentOrders"]["nodes"][0]["status"], "OPEN");

    // The first order is edited after page one: it is met again at the end, nothing skipped.
    let seen = pull_orders(&fake, None, || {
        assert!(fake.update_order(ids[0], |s| s.lines[0].quantity = 9));
    })
    .await;
    let order_ids: Vec<&str> = seen.iter().map(|(id, _)| id.as_str()).collect();
    let want: Vec<String> = [0, 1, 2, 3, 4, 0]
        .iter()
        .map(|&i| gid("Order", ids[i]))
        .collect();
    assert_eq!(
        order_ids,
        want.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_ne!(seen[0].1, seen[5].1, "the edit moved updatedAt");

    // `updated_at:>=` from the edit's time: only the edited order.
    let since = format!("updated_at:>={}", seen[5].1);
    let later = pull_orders(&fake, Some(&since), || {}).await;
    assert_eq!(later, vec![seen[5].clone()]);

    // A cancellation is an update with cancelledAt.
    assert!(fake.cancel_order(ids[1], "CUSTOMER"));
    let o = fake.order_json(ids[1]).unwrap();
    assert!(o["cancelledAt"].is_string(), "{o}");
    assert_eq!(
        o["fulfillmentOrders"]["__connection"][0]["status"],
        "CANCELLED"
    );
}

#[tokio::test]
async fn orders_refuse_an_unknown_sort_key_and_field() {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let body = gql(
        &fake,
        ApiVersion::V2026_04,
        "{ orders(first: 5, sortKey: SHIPPED_AT) { nodes { id } } }",
        json!({}),
    )
    .await;
    assert!(body["errors"].is_array(), "{body}");
    let body = gql(
        &fake,
        ApiVersion::V2026_04,
        "{ orders(first: 5) { nodes { id trackingNumber } } }",
        json!({}),
    )
    .await;
    assert_eq!(code(&body), "undefinedField", "{body}");
}

#[tokio::test]
async fn fulfillment_create_refuses_an_unknown_or_closed_fulfillment_order() {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let id = fake.create_order(FakeOrderSpec::simple("a@example.com", &[("SKU-1", 1)]));
    let fo = fake.order_json(id).unwrap()["fulfillmentOrders"]["__connection"][0]["id"].clone();
    const FULFILL: &str = "mutation($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) {
      fulfillment { id status trackingInfo { company number } } userErrors { field message } } }";
    let unknown = gql(&fake, ApiVersion::V2026_04, FULFILL,
        json!({"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": "gid://shopify/FulfillmentOrder/1"}]}})).await;
    assert_eq!(
        unknown["data"]["fulfillmentCreate"]["userErrors"][0]["message"],
        "Fulfillment order does not exist."
    );
    let f = json!({"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo}],
        "trackingInfo": {"company": "UPS", "number": "1Z1"}, "notifyCustomer": false}});
    let ok = gql(&fake, ApiVersion::V2026_04, FULFILL, f.clone()).await;
    assert_eq!(
        ok["data"]["fulfillmentCreate"]["fulfillment"]["trackingInfo"][0]["number"], "1Z1",
        "{ok}"
    );
    let again = gql(&fake, ApiVersion::V2026_04, FULFILL, f).await;
    assert!(
        again["data"]["fulfillmentCreate"]["userErrors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("not in an open state")
    );
    // An input key Shopify does not have is refused.
    let bad = gql(
        &fake,
        ApiVersion::V2026_04,
        FULFILL,
        json!({"f": {"lineItemsByFulfillmentOrder": [], "trackingCompany": "UPS"}}),
    )
    .await;
    assert_eq!(code(&bad), "INVALID_VARIABLE", "{bad}");
    assert_eq!(fake.fulfillments_of(id).len(), 1);
}
