//! The stock list: paged, capped quantities kept as caps, out-of-stock lines on request, a
//! malformed line named.

mod common;

use common::{ctx, stock_item, Tenant};
use serde_json::json;
use switchyard_core::adapter::{Adapter, PullRequest};
use switchyard_core::ErrorClass;
use switchyard_wesellcellular::wire::Quantity;

fn request(entity: &str, cursor: Option<String>, params: serde_json::Value) -> PullRequest {
    PullRequest {
        entity: entity.into(),
        cursor,
        params,
    }
}

#[tokio::test]
async fn capped_quantities_stay_capped_across_pages() {
    let t = Tenant::start().await;
    t.fake.seed_stock(vec![
        stock_item("IPHONE12", "A", "W1", Quantity::AtLeast(100), "231.00"),
        stock_item("IPHONE12", "B", "W2", Quantity::Exact(37), "199.50"),
        stock_item("IPHONE13", "AB", "DFW", Quantity::Exact(0), "305"),
        stock_item("IPHONE13", "Functional", "W1", Quantity::Exact(4), "120"),
        stock_item("GALAXYS21", "A", "W2", Quantity::AtLeast(100), "250"),
    ]);
    let a = t.adapter();
    for entity in ["inventory", "prices"] {
        let mut cursor = None;
        let mut lines = Vec::new();
        let mut pages = 0;
        loop {
            let page = a
                .pull(
                    &ctx("stock"),
                    &request(entity, cursor.clone(), json!({"pageSize": 2})),
                )
                .await
                .expect("a page");
            pages += 1;
            lines.extend(page.records);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(pages, 2, "4 in-stock lines in pages of 2");
        assert_eq!(lines.len(), 4, "out of stock left out by default");
        assert_eq!(
            lines[0]["quantity"],
            json!("100+"),
            "the cap is handed on as a cap"
        );
        assert_eq!(lines[1]["quantity"], json!(37));
        assert_eq!(lines[3]["quantity"], json!("100+"));
        assert_eq!(lines[1]["price"], json!("199.50"));
    }
    let all = a
        .pull(
            &ctx("all"),
            &request("inventory", None, json!({"includeOutOfStock": true})),
        )
        .await
        .unwrap();
    assert_eq!(all.records.len(), 5);
    assert_eq!(all.next_cursor, None);
}

#[tokio::test]
async fn a_malformed_line_fails_the_page_naming_it_and_unknown_entities_are_refused() {
    let t = Tenant::start().await;
    let good =
        serde_json::to_value(stock_item("IPHONE12", "A", "W1", Quantity::Exact(3), "1")).unwrap();
    let mut bad = good.clone();
    bad["quantity"] = json!("lots");
    t.fake.seed_stock_raw(vec![good, bad]);
    let a = t.adapter();
    let err = a
        .pull(&ctx("bad"), &request("inventory", None, json!({})))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Permanent);
    assert!(
        err.message.contains("line 1") && err.message.contains("lots"),
        "{err}"
    );
    let err = a
        .pull(&ctx("orders"), &request("orders", None, json!({})))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Permanent);
}
