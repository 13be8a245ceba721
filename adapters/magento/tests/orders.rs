//! Orders pulled from the fake store over HTTP (keyset pages, an edit during the pull, the
//! overlap's dedupe) and shipments sent back (tracks, notify, the MSI source, a redelivery).

mod common;

use common::{ctx, doc, oauth, Store};
use serde_json::json;
use switchyard_core::adapter::Adapter as _;
use switchyard_core::ErrorClass;
use switchyard_magento::fake::FakeLine;
use switchyard_magento::orders::Checkpoint;

async fn store() -> (Store, switchyard_magento::MagentoAdapter) {
    let store = Store::start().await;
    let adapter = store.adapter(&store.config(oauth("HMAC-SHA256")));
    (store, adapter)
}

#[tokio::test]
async fn orders_are_pulled_across_keyset_pages_once_each_with_an_edit_during_the_pull() {
    let (store, adapter) = store().await;
    // Seven orders in the same second (ties broken by entity_id), one with a configurable.
    let mut ids = Vec::new();
    for q in 1..=6 {
        ids.push(
            store
                .fake
                .create_order("a@example.com", &[FakeLine::simple("BOLT-M8", q, 0.35)])
                .0,
        );
    }
    ids.push(
        store
            .fake
            .create_order(
                "b@example.com",
                &[FakeLine::configurable("TEE-RED-L", 1, 50.0)],
            )
            .0,
    );
    // The first order is edited right after the first page is read: Magento's offset pages
    // would then skip the order sliding onto page one.
    store
        .fake
        .update_order_after_next_list(ids[0], |o| o["items"][0]["qty_ordered"] = json!(9));
    let (c, sink) = ctx("pull");
    let batch = adapter
        .pull_orders(&c, &Checkpoint::default(), 2)
        .await
        .unwrap();
    let got: Vec<i64> = batch
        .orders
        .iter()
        .map(|o| o["entity_id"].as_i64().unwrap())
        .collect();
    let mut sorted = got.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, ids, "every order once");
    assert_eq!(
        *got.last().unwrap(),
        ids[0],
        "the edited order comes last, as its newest version"
    );
    assert_eq!(batch.orders.last().unwrap()["items"][0]["qty_ordered"], 9);
    assert!(batch.pages >= 4, "{} pages", batch.pages);
    // Every page asked for page 1 from the last order read.
    let urls: Vec<String> = sink
        .exchanges()
        .iter()
        .filter_map(|e| e.url.clone())
        .collect();
    assert!(
        urls.iter().all(|u| u.contains("currentPage%5D=1")),
        "{urls:?}"
    );
    let configurable = batch
        .orders
        .iter()
        .find(|o| o["entity_id"] == ids[6])
        .unwrap();
    assert_eq!(
        configurable["items"].as_array().unwrap().len(),
        2,
        "parent and child lines"
    );

    // From the checkpoint: nothing new, then only the change.
    let again = adapter.pull_orders(&c, &batch.next, 2).await.unwrap();
    assert!(
        again.orders.is_empty(),
        "the overlap's orders are dropped: {:?}",
        again.orders
    );
    assert!(store.fake.cancel_order(ids[3]));
    let next = adapter.pull_orders(&c, &again.next, 2).await.unwrap();
    assert_eq!(next.orders.len(), 1);
    assert_eq!(next.orders[0]["state"], "canceled");
    assert!(next.next.since > batch.next.since);
}

fn shipment(
    increment_id: &str,
    lines: serde_json::Value,
) -> switchyard_core::adapter::OutboundDocument {
    doc(
        "shipment",
        json!({"shipment_number": "SH-1", "order_number": format!("MAGENTO-{increment_id}"),
               "carrier": "UPS", "service": "Ground", "shipped_at": "2026-12-05T12:00:00Z",
               "packages": [{"tracking_number": "1Z999AA10123456784", "lines": lines},
                            {"tracking_number": "1Z999AA10123456785", "lines": []}]}),
    )
}

#[tokio::test]
async fn a_shipment_becomes_a_ship_call_with_tracks_once() {
    let store = Store::start().await;
    let mut config = store.config(oauth("HMAC-SHA256"));
    config["notify_customer"] = json!(true);
    let adapter = store.adapter(&config);
    let (id, inc) = store.fake.create_order(
        "c@example.com",
        &[
            FakeLine::simple("BOLT-M8", 4, 0.35),
            FakeLine::configurable("TEE-RED-L", 1, 50.0),
        ],
    );
    let doc = shipment(
        &inc,
        json!([{"sku": "BOLT-M8", "quantity": "4", "uom": "EA"}, {"sku": "TEE-RED-L", "quantity": "1", "uom": "EA"}]),
    );
    let r = adapter.push(&ctx("ship-1").0, &doc).await.unwrap();
    assert!(!r.duplicate);
    let shipped = store.fake.shipments_of(id);
    assert_eq!(shipped.len(), 1);
    assert_eq!(r.external_id, Some(shipped[0].1.to_string()));
    let body = &shipped[0].0;
    assert_eq!(body["notify"], true);
    assert_eq!(
        body["tracks"],
        json!([{"track_number": "1Z999AA10123456784", "title": "UPS", "carrier_code": "ups"},
               {"track_number": "1Z999AA10123456785", "title": "UPS", "carrier_code": "ups"}])
    );
    // The configurable ships as its parent line (item 2), never the child (item 3).
    assert_eq!(
        body["items"],
        json!([{"order_item_id": 1, "qty": 4}, {"order_item_id": 2, "qty": 1}])
    );
    assert!(
        body.get("arguments").is_none(),
        "two sources configured and none named"
    );
    assert_eq!(store.fake.order(id).unwrap()["state"], "complete");

    // Pushed again: nothing left to ship, a duplicate receipt, no second shipment.
    let again = adapter.push(&ctx("ship-1-again").0, &doc).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(store.fake.shipments_of(id).len(), 1);
}

#[tokio::test]
async fn shipments_name_their_source_and_refusals_are_permanent() {
    let (store, adapter) = store().await;
    let (id, inc) = store
        .fake
        .create_order("d@example.com", &[FakeLine::simple("BOLT-M8", 2, 1.0)]);
    // A location we do not map is our error, before any ship call.
    let mut located = shipment(&inc, json!([]));
    if let switchyard_core::adapter::Payload::Json { body } = &mut located.payload {
        body["ship_from_location"] = json!("DAL");
    }
    let err = adapter.push(&ctx("dal").0, &located).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Permanent);
    assert!(err.message.contains("ship_from_location `DAL`"), "{err}");
    if let switchyard_core::adapter::Payload::Json { body } = &mut located.payload {
        body["ship_from_location"] = json!("HOU");
    }
    adapter.push(&ctx("hou").0, &located).await.unwrap();
    let shipped = store.fake.shipments_of(id);
    assert_eq!(
        shipped[0].0["arguments"]["extension_attributes"]["source_code"],
        "houston"
    );
    assert_eq!(
        shipped[0].0["items"],
        json!([]),
        "no lines: Magento ships every line left"
    );
    assert_eq!(
        shipped[0].0["notify"], false,
        "notify_customer defaults to off, as Magento's"
    );

    // A SKU the order does not have, an order Magento does not have, a cancelled order.
    let (id2, inc2) = store
        .fake
        .create_order("e@example.com", &[FakeLine::simple("BOLT-M8", 2, 1.0)]);
    let err = adapter
        .push(
            &ctx("nut").0,
            &shipment(&inc2, json!([{"sku": "NUT-M8", "quantity": "1"}])),
        )
        .await
        .unwrap_err();
    assert!(
        err.message.contains("packages[0].lines[0].sku `NUT-M8`"),
        "{err}"
    );
    let err = adapter
        .push(&ctx("none").0, &shipment("999999999", json!([])))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Permanent);
    assert!(
        err.message
            .contains("no order with increment_id `999999999`"),
        "{err}"
    );
    assert!(store.fake.cancel_order(id2));
    let err = adapter
        .push(&ctx("cancelled").0, &shipment(&inc2, json!([])))
        .await
        .unwrap_err();
    assert!(err.message.contains("is cancelled"), "{err}");
    let err = adapter
        .push(
            &ctx("foreign").0,
            &doc("shipment", json!({"order_number": "SHOPIFY-1"})),
        )
        .await
        .unwrap_err();
    assert!(err.message.contains("is not a Magento order"), "{err}");
    // The store itself refuses an item that is not the order's, with its validation message.
    let (id3, _) = store
        .fake
        .create_order("f@example.com", &[FakeLine::simple("BOLT-M8", 1, 1.0)]);
    let err = adapter
        .client()
        .send(
            &ctx("foreign-item").0,
            switchyard_magento::client::Call::new(
                "magento.order.ship",
                reqwest::Method::POST,
                format!("V1/order/{id3}/ship"),
            )
            .body(json!({"items": [{"order_item_id": 99, "qty": 1}]})),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status, Some(400));
    assert_eq!(err.class, ErrorClass::Permanent);
    assert!(err.message.contains("not part of the order"), "{err}");
}
