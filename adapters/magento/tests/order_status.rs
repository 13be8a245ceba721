//! Order status back over HTTP against the fake store: `order_status` documents become
//! `POST /V1/orders/{id}/cancel|hold|unhold|comments` with Magento's state rules (an order that
//! cannot be cancelled or held is a permanent error naming its state; a held order is unheld
//! before its cancel), and a redelivery does nothing twice.

mod common;

use common::{ctx, doc, oauth, Store};
use serde_json::{json, Value};
use switchyard_core::adapter::{Adapter as _, OutboundDocument};
use switchyard_core::ErrorClass;
use switchyard_magento::client::Call;
use switchyard_magento::fake::FakeLine;

fn status(increment_id: &str, action: &str, comment: Option<&str>) -> OutboundDocument {
    let mut body = json!({"order_number": format!("MAGENTO-{increment_id}"), "action": action});
    if let Some(c) = comment {
        body["comment"] = json!(c);
    }
    doc("order_status", body)
}

/// The store's write routes so far, in order.
fn write_routes(store: &Store) -> Vec<String> {
    store.fake.writes().into_iter().map(|w| w.route).collect()
}

#[tokio::test]
async fn a_cancel_cancels_the_order_with_its_note_once() {
    let store = Store::start().await;
    let adapter = store.adapter(&store.config(oauth("HMAC-SHA256")));
    let (id, inc) = store
        .fake
        .create_order("a@example.com", &[FakeLine::simple("BOLT-M8", 4, 0.35)]);
    let cancel = status(
        &inc,
        "cancel",
        Some("Cancelled in Switchyard: the supplier has none."),
    );
    let r = adapter.push(&ctx("cancel-1").0, &cancel).await.unwrap();
    assert!(!r.duplicate);
    assert_eq!(r.external_id, Some(id.to_string()));
    let order = store.fake.order(id).unwrap();
    assert_eq!(order["state"], "canceled");
    assert_eq!(order["items"][0]["qty_canceled"], 4.0);
    let history = order["status_histories"].as_array().unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(
        history[0]["comment"],
        "Cancelled in Switchyard: the supplier has none."
    );
    assert_eq!(history[0]["is_customer_notified"], 0);
    assert_eq!(history[0]["is_visible_on_front"], 0);
    assert_eq!(history[0]["parent_id"], id);
    assert_eq!(
        write_routes(&store),
        [
            format!("V1/orders/{id}/cancel"),
            format!("V1/orders/{id}/comments")
        ]
    );

    // Redelivered: the order is cancelled and has the note; nothing is written.
    let again = adapter.push(&ctx("cancel-1").0, &cancel).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(write_routes(&store).len(), 2);
}

#[tokio::test]
async fn an_order_magento_cannot_cancel_is_a_permanent_error_naming_its_state() {
    let store = Store::start().await;
    let adapter = store.adapter(&store.config(oauth("HMAC-SHA256")));
    let (id, inc) = store
        .fake
        .create_order("b@example.com", &[FakeLine::simple("BOLT-M8", 1, 1.0)]);
    assert!(store.fake.update_order(id, |o| {
        o["state"] = json!("complete");
        o["status"] = json!("complete");
    }));
    // The store itself answers `false`, as OrderManagement::cancel does.
    let answer = adapter
        .client()
        .send(
            &ctx("raw").0,
            Call::new(
                "magento.order.cancel",
                reqwest::Method::POST,
                format!("V1/orders/{id}/cancel"),
            ),
        )
        .await
        .unwrap();
    assert_eq!(answer.body, Value::Bool(false));
    let err = adapter
        .push(
            &ctx("cancel-complete").0,
            &status(&inc, "cancel", Some("x")),
        )
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Permanent);
    assert!(
        err.message.contains(&format!(
            "refused to cancel order {inc}: its state is `complete`"
        )),
        "{err}"
    );
    assert!(store.fake.order(id).unwrap()["status_histories"]
        .as_array()
        .unwrap()
        .is_empty());

    // An order the store does not have; an order number that is not Magento's.
    let err = adapter
        .push(&ctx("none").0, &status("999999999", "cancel", None))
        .await
        .unwrap_err();
    assert!(
        err.message
            .contains("no order with increment_id `999999999`"),
        "{err}"
    );
    let err = adapter
        .push(
            &ctx("foreign").0,
            &doc(
                "order_status",
                json!({"order_number": "EDI-1", "action": "cancel"}),
            ),
        )
        .await
        .unwrap_err();
    assert!(err.message.contains("is not a Magento order"), "{err}");
    let err = adapter
        .push(
            &ctx("bad").0,
            &doc(
                "order_status",
                json!({"order_number": format!("MAGENTO-{inc}"), "action": "archive"}),
            ),
        )
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Permanent);
    assert!(
        err.message.contains("order_status document is not valid"),
        "{err}"
    );
}

#[tokio::test]
async fn hold_and_unhold_follow_magentos_state_rules() {
    let store = Store::start().await;
    let adapter = store.adapter(&store.config(oauth("HMAC-SHA256")));
    let (id, inc) = store
        .fake
        .create_order("c@example.com", &[FakeLine::simple("BOLT-M8", 2, 1.0)]);
    adapter
        .push(&ctx("hold").0, &status(&inc, "hold", None))
        .await
        .unwrap();
    assert_eq!(store.fake.order(id).unwrap()["state"], "holded");
    // Held again: a duplicate, no call.
    assert!(
        adapter
            .push(&ctx("hold-again").0, &status(&inc, "hold", None))
            .await
            .unwrap()
            .duplicate
    );
    // A held order cannot be cancelled (canCancel() is false): the store answers false.
    let answer = adapter
        .client()
        .send(
            &ctx("raw-cancel-held").0,
            Call::new(
                "magento.order.cancel",
                reqwest::Method::POST,
                format!("V1/orders/{id}/cancel"),
            ),
        )
        .await
        .unwrap();
    assert_eq!(answer.body, Value::Bool(false));
    assert_eq!(store.fake.order(id).unwrap()["state"], "holded");
    adapter
        .push(&ctx("unhold").0, &status(&inc, "unhold", None))
        .await
        .unwrap();
    let order = store.fake.order(id).unwrap();
    assert_eq!(order["state"], "new", "back to the state it had");
    assert_eq!(order["status"], "pending");
    assert_eq!(
        write_routes(&store),
        [
            format!("V1/orders/{id}/hold"),
            format!("V1/orders/{id}/cancel"),
            format!("V1/orders/{id}/unhold")
        ]
    );

    // A cancelled order cannot be held: Magento's 400 with its message, permanent.
    adapter
        .push(&ctx("cancel").0, &status(&inc, "cancel", None))
        .await
        .unwrap();
    let err = adapter
        .push(&ctx("hold-cancelled").0, &status(&inc, "hold", None))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Permanent);
    assert_eq!(err.status, Some(400));
    assert!(
        err.message.contains("A hold action is not available."),
        "{err}"
    );
    // Unhold of an order that is not held: the store refuses it; we find nothing to do.
    let refused = adapter
        .client()
        .send(
            &ctx("raw-unhold").0,
            Call::new(
                "magento.order.unhold",
                reqwest::Method::POST,
                format!("V1/orders/{id}/unhold"),
            ),
        )
        .await
        .unwrap_err();
    assert!(
        refused.message.contains("You cannot remove the hold."),
        "{refused}"
    );
    assert!(
        adapter
            .push(&ctx("unhold-cancelled").0, &status(&inc, "unhold", None))
            .await
            .unwrap()
            .duplicate
    );
}

#[tokio::test]
async fn a_cancel_of_a_held_order_unholds_it_first() {
    let store = Store::start().await;
    let adapter = store.adapter(&store.config(oauth("HMAC-SHA256")));
    let (id, inc) = store
        .fake
        .create_order("e@example.com", &[FakeLine::simple("BOLT-M8", 2, 1.0)]);
    adapter
        .push(&ctx("hold").0, &status(&inc, "hold", None))
        .await
        .unwrap();
    let cancel = status(
        &inc,
        "cancel",
        Some("Cancelled in Switchyard (the order was on_hold)."),
    );
    let r = adapter.push(&ctx("cancel").0, &cancel).await.unwrap();
    assert!(!r.duplicate);
    let order = store.fake.order(id).unwrap();
    assert_eq!(order["state"], "canceled");
    assert_eq!(
        write_routes(&store),
        [
            format!("V1/orders/{id}/hold"),
            format!("V1/orders/{id}/unhold"),
            format!("V1/orders/{id}/cancel"),
            format!("V1/orders/{id}/comments")
        ]
    );
    // Redelivered: nothing more.
    assert!(
        adapter
            .push(&ctx("cancel").0, &cancel)
            .await
            .unwrap()
            .duplicate
    );
    assert_eq!(write_routes(&store).len(), 4);
}

#[tokio::test]
async fn a_comment_is_a_status_note_and_the_store_checks_its_shape() {
    let store = Store::start().await;
    let adapter = store.adapter(&store.config(oauth("HMAC-SHA256")));
    let (id, inc) = store
        .fake
        .create_order("d@example.com", &[FakeLine::simple("BOLT-M8", 2, 1.0)]);
    let mut note = status(&inc, "comment", Some("Packed at Chicago."));
    if let switchyard_core::adapter::Payload::Json { body } = &mut note.payload {
        body["notify"] = json!(true);
        body["visible_on_front"] = json!(true);
    }
    adapter.push(&ctx("note").0, &note).await.unwrap();
    let order = store.fake.order(id).unwrap();
    assert_eq!(order["state"], "new", "a note changes no state");
    let history = &order["status_histories"][0];
    assert_eq!(history["comment"], "Packed at Chicago.");
    assert_eq!(history["is_customer_notified"], 1);
    assert_eq!(history["is_visible_on_front"], 1);
    assert_eq!(history["status"], "pending");

    // A comment action without its text is our error, before any call.
    let before = write_routes(&store).len();
    let err = adapter
        .push(&ctx("empty").0, &status(&inc, "comment", None))
        .await
        .unwrap_err();
    assert!(err.message.contains("order_status.comment"), "{err}");
    assert_eq!(write_routes(&store).len(), before);

    // The store refuses what Magento refuses: an unknown property, a missing field.
    let raw = ctx("raw").0;
    let send = |body: Value| {
        adapter.client().send(
            &raw,
            Call::new(
                "magento.order.comment",
                reqwest::Method::POST,
                format!("V1/orders/{id}/comments"),
            )
            .body(body),
        )
    };
    let err =
        send(json!({"statusHistory": {"comment": "x", "is_visible_on_front": 0, "colour": "red"}}))
            .await
            .unwrap_err();
    assert_eq!(err.status, Some(400));
    assert!(
        err.message
            .contains("Property \"Colour\" does not have accessor method \"getColour\""),
        "{err}"
    );
    let err = send(json!({"statusHistory": {"is_visible_on_front": 0}}))
        .await
        .unwrap_err();
    assert!(err.message.contains("\"comment\" is required"), "{err}");
    let err = send(json!({"history": {}})).await.unwrap_err();
    assert!(
        err.message.contains("\"history\" is not a valid parameter"),
        "{err}"
    );
}
