//! searchCriteria over HTTP: every condition type against the fake store, OR inside a group
//! and AND across, sorting, and paging by total_count past Magento's repeated last page.

mod common;

use common::{ctx, oauth, Store};
use serde_json::{json, Value};
use switchyard_magento::search::{Condition, Direction, Filter, SearchCriteria};

async fn seeded() -> Store {
    let store = Store::start().await;
    for n in 1..=25 {
        store.fake.seed_product(json!({
            "sku": format!("P-{n:03}"),
            "name": if n % 2 == 0 { format!("Round bar {n}") } else { format!("Flat bar {n}") },
            "price": n,
            "status": if n <= 20 { 1 } else { 2 },
            "updated_at": format!("2026-05-{n:02} 10:00:00"),
            "custom_attributes": [{"attribute_code": "grades", "value": if n % 3 == 0 { "A36,A572" } else { "A36" }}]
        }));
    }
    store
}

fn skus(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|p| p["sku"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn paging_stops_by_total_count_although_the_last_page_repeats() {
    let store = seeded().await;
    let adapter = store.adapter(&store.config(oauth("HMAC-SHA256")));
    let client = adapter.client();
    let (c, sink) = ctx("paging");
    let all = client
        .list_all(
            &c,
            "V1/products",
            &SearchCriteria::new()
                .sort("price", Direction::Asc)
                .page_size(10),
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 25);
    let mut unique = skus(&all);
    unique.dedup();
    assert_eq!(unique.len(), 25, "every product exactly once");
    assert_eq!(
        sink.len(),
        3,
        "three pages, not a fourth to find an empty one"
    );

    // The quirk itself: page 7 of 3 is page 3 again, never empty.
    let past = client
        .list(
            &c,
            "V1/products",
            &SearchCriteria::new()
                .sort("price", Direction::Asc)
                .page_size(10)
                .page(7),
        )
        .await
        .unwrap();
    assert_eq!(past.total_count, 25);
    assert_eq!(skus(&past.items), skus(&all[20..]));
}

#[tokio::test]
async fn every_condition_type_filters_as_magento_does() {
    let store = seeded().await;
    let adapter = store.adapter(&store.config(oauth("HMAC-SHA1")));
    let (c, _) = ctx("conditions");
    let count = |f: Filter| {
        let client = adapter.client();
        let c = c.clone();
        async move {
            client
                .list_all(&c, "V1/products", &SearchCriteria::new().and(f))
                .await
                .unwrap()
                .len()
        }
    };
    let cases: Vec<(Filter, usize)> = vec![
        (Filter::new("sku", Condition::Eq, "P-003"), 1),
        (Filter::new("sku", Condition::Neq, "P-003"), 24),
        (Filter::new("price", Condition::Gt, "20"), 5),
        (Filter::new("price", Condition::Gteq, "20"), 6),
        (Filter::new("price", Condition::Moreq, "20"), 6),
        (Filter::new("price", Condition::From, "20"), 6),
        (Filter::new("price", Condition::Lt, "3"), 2),
        (Filter::new("price", Condition::Lteq, "3"), 3),
        (Filter::new("price", Condition::To, "3"), 3),
        (
            Filter::any_of("sku", Condition::In, ["P-001", "P-002", "nope"]),
            2,
        ),
        (
            Filter::any_of("sku", Condition::Nin, ["P-001", "P-002"]),
            23,
        ),
        (Filter::new("name", Condition::Like, "round%"), 12),
        (Filter::new("name", Condition::Nlike, "%round%"), 13),
        (Filter::new("grades", Condition::Finset, "A572"), 8),
        (Filter::new("grades", Condition::Nfinset, "A572"), 17),
        (Filter::new("weight", Condition::Null, ""), 25),
        (Filter::new("weight", Condition::Notnull, ""), 0),
        (
            Filter::new("updated_at", Condition::Gteq, "2026-05-24 00:00:00"),
            2,
        ),
    ];
    assert_eq!(cases.len(), 18, "all 17 condition types (like twice)");
    for (filter, expected) in cases {
        let shown = format!("{filter:?}");
        assert_eq!(count(filter).await, expected, "{shown}");
    }
}

#[tokio::test]
async fn filters_are_ored_inside_a_group_and_anded_across() {
    let store = seeded().await;
    let adapter = store.adapter(&store.config(oauth("HMAC-SHA256")));
    let (c, _) = ctx("groups");
    // (price <= 2 OR price >= 24) AND status = 1 → P-001, P-002 (24, 25 are disabled).
    let criteria = SearchCriteria::new()
        .and_any(vec![
            Filter::new("price", Condition::Lteq, "2"),
            Filter::new("price", Condition::Gteq, "24"),
        ])
        .and(Filter::new("status", Condition::Eq, "1"))
        .sort("sku", Direction::Desc);
    let got = adapter
        .client()
        .list_all(&c, "V1/products", &criteria)
        .await
        .unwrap();
    assert_eq!(skus(&got), ["P-002", "P-001"]);
}

#[tokio::test]
async fn a_bad_condition_type_is_refused_by_the_store() {
    let store = seeded().await;
    let http = reqwest::Client::new();
    store.fake.set_integration_as_bearer(true);
    let url = format!(
        "{}/rest/all/V1/products?searchCriteria[filter_groups][0][filters][0][field]=sku&searchCriteria[filter_groups][0][filters][0][condition_type]=almost",
        store.fake.base_url()
    );
    let r = http
        .get(url)
        .bearer_auth(&store.fake.config().integration_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["parameters"][0]
            .as_str()
            .unwrap()
            .contains("condition_type"),
        "{body}"
    );
}
