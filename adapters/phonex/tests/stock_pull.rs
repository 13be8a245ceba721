//! The stock list pulled from the fake and mapped by the repository's `phonex/stock.in` and
//! `phonex/price.in` into the pull engine's items (a stock level, a list price).

mod common;

use common::Px;
use serde_json::{json, Value};
use std::path::Path;
use switchyard_core::adapter::{Adapter, PullRequest};
use switchyard_mapping::{MappingRegistry, RunState};
use switchyard_runtime::testkit::doubles::{context, RecordingSink};

async fn pull_all(adapter: &dyn Adapter, entity: &str) -> Vec<Value> {
    let mut cursor = None;
    let mut records = Vec::new();
    loop {
        let page = adapter
            .pull(
                &context("stock", RecordingSink::new()),
                &PullRequest {
                    entity: entity.into(),
                    cursor: cursor.clone(),
                    params: json!({"per_page": 2}),
                },
            )
            .await
            .expect("a page");
        records.extend(page.records);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return records,
        }
    }
}

#[tokio::test]
async fn stock_and_prices_map_into_levels_and_list_prices() {
    let px = Px::start().await;
    px.fake.set_stock(vec![
        json!({"sku": "iphone12-64gb-a", "description": "iPhone 12 64GB, grade A", "available": 120,
               "price": "231.00", "currency": "USD", "updated_at": "2026-11-30T18:06:39Z"}),
        json!({"sku": "SGS23-256-GRN-B", "description": "Galaxy S23", "available": 0,
               "price": "389.5", "currency": "USD", "updated_at": "2026-11-30T18:06:39Z"}),
        json!({"sku": "PX-3", "description": "third page", "available": 7,
               "price": "10", "currency": "USD", "updated_at": "2026-11-30T18:06:39Z"}),
    ]);
    let adapter = px.adapter();
    let mappings = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../mappings");
    let (registry, report) = MappingRegistry::load(mappings);
    assert!(report.failed.is_empty(), "{:?}", report.failed);

    let stock = registry.get("phonex/stock.in").expect("phonex/stock.in");
    let mut state = RunState::default();
    let levels: Vec<Value> = pull_all(&adapter, "inventory")
        .await
        .iter()
        .map(|r| stock.map_record(r, &mut state).expect("mapped"))
        .collect();
    assert_eq!(
        levels,
        vec![
            json!({"sku": "IPHONE12-64GB-A", "location": "PHONEX", "on_hand": "120", "allocated": "0", "on_order": "0"}),
            json!({"sku": "SGS23-256-GRN-B", "location": "PHONEX", "on_hand": "0", "allocated": "0", "on_order": "0"}),
            json!({"sku": "PX-3", "location": "PHONEX", "on_hand": "7", "allocated": "0", "on_order": "0"}),
        ]
    );

    let price = registry.get("phonex/price.in").expect("phonex/price.in");
    let mut state = RunState::default();
    let prices: Vec<Value> = pull_all(&adapter, "prices")
        .await
        .iter()
        .map(|r| price.map_record(r, &mut state).expect("mapped"))
        .collect();
    assert_eq!(
        prices[0],
        json!({"priceListId": "PHONEX", "sku": "IPHONE12-64GB-A", "uom": "EA", "amount": "231"})
    );
    assert_eq!(prices.len(), 3);
}
