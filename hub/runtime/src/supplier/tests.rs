//! The supplier flows against `testkit::supplier::FakeSupplier` and a real Postgres: each
//! test runs the job handlers as the worker would (a claimed job, its attempt number) and
//! reads the tables and the events outbox.

use super::status::Outcome;
use super::*;
use crate::adapters::Adapters;
use crate::config::{Config, PartnerConfig};
use crate::mappings::Mappings;
use crate::secrets::FormOnly;
use crate::testkit::doubles::RecordingSink;
use crate::testkit::supplier::FakeSupplier;
use crate::webhooks::Delivery;
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::path::Path;
use std::sync::Arc;
use switchyard_core::adapter::Payload;
use switchyard_core::clock::SystemClock;
use switchyard_core::ids::{JobId, OrderId, OrgId};
use switchyard_core::model::OrderStatus;
use switchyard_core::supplier::{StatusUpdate, SupplierStatus, Tracking};
use switchyard_store::logs::Masker;
use switchyard_store::orders::{self, NewOrder, OrderInsert};
use switchyard_store::queue::{ClaimedJob, Queue, RetryPolicy};
use switchyard_store::suppliers as store;
use uuid::Uuid;

const PARTNER: &str = "acme-supplier";

struct World {
    ctx: JobContext,
    config: Config,
    supplier: Arc<FakeSupplier>,
    org: OrgId,
}

fn config(forward: &str) -> Config {
    let mut config = Config::default();
    config.partners.insert(
        PARTNER.into(),
        PartnerConfig::new("fake-supplier", toml::Table::new()),
    );
    config.suppliers = toml::from_str(&format!(
        "[default]\npartner = \"{PARTNER}\"\norder_mapping = \"phonex/order.out\"\nforward = \"{forward}\"\n"
    ))
    .unwrap();
    config
}

async fn world(pool: PgPool, supplier: FakeSupplier, forward: &str) -> World {
    let supplier = Arc::new(supplier);
    let mut adapters = Adapters::default();
    adapters.insert(PARTNER, supplier.clone());
    let org = switchyard_store::orgs::ensure(&pool, "default")
        .await
        .unwrap()
        .id;
    sqlx::query(
        "INSERT INTO customers (org_id, customer_id, name) VALUES ($1, 'C-2001', 'Westside')",
    )
    .bind(org.0)
    .execute(&pool)
    .await
    .unwrap();
    let mappings = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../mappings");
    let ctx = JobContext {
        queue: Queue::new(pool, Arc::new(SystemClock)),
        clock: Arc::new(SystemClock),
        sink: RecordingSink::new(),
        mappings: Mappings::load(&mappings),
        adapters: Arc::new(adapters),
        secrets: Arc::new(FormOnly),
        masker: Masker::default(),
    };
    World {
        ctx,
        config: config(forward),
        supplier,
        org,
    }
}

impl World {
    fn pool(&self) -> &PgPool {
        self.ctx.pool()
    }

    async fn order(&self, number: &str) -> OrderId {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/mappings/phonex/order.out/so-10077.input.json");
        let mut canonical: Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        canonical["order_number"] = json!(number);
        let new = NewOrder {
            org: self.org,
            order_number: number.into(),
            customer_id: Some("C-2001".into()),
            customer_po: format!("PO-{number}"),
            status: OrderStatus::Pending,
            canonical,
            source_message_id: None,
            partner: None,
            source_set: None,
            mapped: None,
            mapping_hash: None,
            review_errors: vec![],
            reply_to: None,
        };
        match orders::insert_order(self.pool(), &new).await.unwrap() {
            OrderInsert::Stored(id) => id,
            other => panic!("{other:?}"),
        }
    }

    /// Run one job of `kind` as attempt `attempt` of `max`.
    async fn run(
        &self,
        kind: &str,
        payload: Value,
        attempt: i32,
        max: i32,
    ) -> Result<(), AdapterError> {
        let spec = specs(&self.config)
            .into_iter()
            .find(|s| s.kind == kind)
            .unwrap_or_else(|| panic!("no kind {kind}"));
        let job = ClaimedJob {
            id: JobId::new(),
            org_id: self.org,
            kind: kind.into(),
            partner: None,
            payload,
            idempotency_key: None,
            effect_key: None,
            attempt,
            max_attempts: max,
            retry_policy: RetryPolicy::Exponential,
            correlation_id: None,
            replay_of: None,
        };
        spec.handler.run(&self.ctx, &job).await
    }

    async fn forward(&self, order: OrderId) -> Result<(), AdapterError> {
        self.run(ForwardOrder::KIND, json!({"order_id": order.0}), 1, 6)
            .await
    }

    async fn webhook(&self, updates: &[StatusUpdate]) {
        let delivery = Delivery {
            id: Uuid::now_v7(),
            org: self.org,
            partner: PARTNER.into(),
            event_id: Uuid::now_v7().to_string(),
            topic: "order.status_updated".into(),
            documents: vec![],
            body: serde_json::to_vec(updates).unwrap(),
        };
        webhook_processor()
            .process(&self.ctx, &delivery)
            .await
            .unwrap();
    }

    async fn row(&self, order: OrderId) -> store::SupplierOrderRow {
        store::get(self.pool(), self.org, order)
            .await
            .unwrap()
            .unwrap()
    }

    async fn order_status(&self, order: OrderId) -> OrderStatus {
        orders::get(self.pool(), self.org, order)
            .await
            .unwrap()
            .unwrap()
            .status
    }

    async fn events(&self) -> Vec<Value> {
        sqlx::query_scalar("SELECT data FROM events WHERE org_id = $1 AND type = $2 ORDER BY id")
            .bind(self.org.0)
            .bind(STATUS_EVENT)
            .fetch_all(self.pool())
            .await
            .unwrap()
    }

    async fn jobs_of(&self, kind: &str) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM jobs WHERE org_id = $1 AND kind = $2")
            .bind(self.org.0)
            .bind(kind)
            .fetch_one(self.pool())
            .await
            .unwrap()
    }
}

fn at(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap() + Duration::seconds(secs)
}

fn update(id: &str, status: SupplierStatus, t: i64) -> StatusUpdate {
    StatusUpdate {
        supplier_order_id: id.into(),
        order_number: None,
        status,
        supplier_status: status.as_str().to_uppercase(),
        tracking: None,
        updated_at: at(t),
    }
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn an_order_is_placed_once_however_often_its_forward_runs(pool: PgPool) {
    let w = world(pool, FakeSupplier::webhooks(), "manual").await;
    let order = w.order("SO-1").await;
    w.supplier.outage(1);
    let e = w.forward(order).await.unwrap_err();
    assert!(e.class.is_retryable(), "{e:?}");
    assert!(w.supplier.placed().is_empty());
    w.forward(order).await.unwrap();
    // The answer lost (as if the daemon died before recording it): the replayed forward
    // carries the same key and the supplier places nothing new.
    sqlx::query("UPDATE supplier_orders SET supplier_order_id = NULL")
        .execute(w.pool())
        .await
        .unwrap();
    w.forward(order).await.unwrap();
    w.forward(order).await.unwrap();
    let placed = w.supplier.placed();
    assert_eq!(placed.len(), 1, "{placed:?}");
    assert_eq!(placed[0].0, order_key(order.0));
    let Payload::Json { body } = &placed[0].1.payload else {
        panic!("json expected")
    };
    assert_eq!(body["order_id"], "SO-1");
    let row = w.row(order).await;
    assert_eq!(row.supplier_order_id.as_deref(), Some("SUP0001"));
    assert_eq!(row.status.as_deref(), Some("pending"));
    assert!(row.forwarded_at.is_some());
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn shipped_before_accepted_ends_shipped_with_its_tracking(pool: PgPool) {
    let w = world(pool, FakeSupplier::webhooks(), "manual").await;
    let order = w.order("SO-2").await;
    w.forward(order).await.unwrap();
    let mut shipped = update("SUP0001", SupplierStatus::Shipped, 20);
    shipped.tracking = Some(Tracking {
        number: "1Z999AA10123456784".into(),
        carrier: Some("UPS".into()),
    });
    w.webhook(&[
        shipped.clone(),
        update("SUP0001", SupplierStatus::Accepted, 10),
    ])
    .await;
    // Delivered again, and a stale one with a later time but a lower rank.
    w.webhook(&[
        shipped.clone(),
        update("SUP0001", SupplierStatus::FulfillmentStarted, 30),
    ])
    .await;
    let row = w.row(order).await;
    assert_eq!(row.status.as_deref(), Some("shipped"));
    assert_eq!(row.tracking_number.as_deref(), Some("1Z999AA10123456784"));
    assert_eq!(row.carrier.as_deref(), Some("UPS"));
    assert_eq!(w.order_status(order).await, OrderStatus::Shipped);
    let history = store::history(w.pool(), w.org, order).await.unwrap();
    let statuses: Vec<&str> = history.iter().map(|h| h.status.as_str()).collect();
    assert_eq!(statuses, ["pending", "shipped"]);
    let events = w.events().await;
    assert_eq!(events.len(), 2, "{events:#?}");
    assert_eq!(
        events[1],
        json!({
            "order_id": order.0,
            "order_number": "SO-2",
            "customer_id": "C-2001",
            "partner": PARTNER,
            "supplier_order_id": "SUP0001",
            "status": "shipped",
            "previous_status": "pending",
            "supplier_status": "SHIPPED",
            "tracking_number": "1Z999AA10123456784",
            "carrier": "UPS",
            "updated_at": "2026-11-20T12:00:20Z",
        })
    );
    assert_eq!(events[0]["previous_status"], Value::Null);
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn a_reassigned_supplier_id_is_followed_without_a_second_order(pool: PgPool) {
    let w = world(pool, FakeSupplier::webhooks(), "manual").await;
    let order = w.order("SO-3").await;
    w.forward(order).await.unwrap();
    let mut moved = update("PXSTKL0000347", SupplierStatus::Accepted, 10);
    moved.order_number = Some("SO-3".into());
    w.webhook(&[moved]).await;
    let row = w.row(order).await;
    assert_eq!(row.supplier_order_id.as_deref(), Some("PXSTKL0000347"));
    assert_eq!(row.previous_supplier_order_ids, ["SUP0001"]);
    // A late update under the old id still finds the order.
    w.webhook(&[update("SUP0001", SupplierStatus::FulfillmentStarted, 20)])
        .await;
    assert_eq!(
        w.row(order).await.status.as_deref(),
        Some("fulfillment_started")
    );
    assert_eq!(w.order_status(order).await, OrderStatus::InProduction);
    assert_eq!(w.supplier.placed().len(), 1);
    assert!(store::list_unmatched(w.pool(), w.org)
        .await
        .unwrap()
        .is_empty());
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn an_update_for_an_unknown_order_is_held_then_applied_when_the_order_appears(pool: PgPool) {
    let w = world(pool, FakeSupplier::webhooks(), "manual").await;
    let order = w.order("SO-4").await;
    // The supplier's webhook beats the forward's answer.
    let early = update("SUP0001", SupplierStatus::Accepted, 10);
    let outcome = status::apply(
        w.pool(),
        w.org,
        PARTNER,
        &early,
        status::Source::Webhook,
        Utc::now(),
    )
    .await
    .unwrap();
    let Outcome::Held { id, new: true } = outcome else {
        panic!("{outcome:?}")
    };
    // Delivered twice: one held row, one retry job.
    w.webhook(std::slice::from_ref(&early)).await;
    assert_eq!(
        store::list_unmatched(w.pool(), w.org).await.unwrap().len(),
        1
    );
    assert_eq!(w.jobs_of(RetryHeld::KIND).await, 1);
    w.forward(order).await.unwrap();
    assert_eq!(w.row(order).await.status.as_deref(), Some("accepted"));
    assert_eq!(w.order_status(order).await, OrderStatus::Confirmed);
    let held = store::list_unmatched(w.pool(), w.org).await.unwrap();
    assert_eq!(held[0].state, "applied");
    // The retry job, when it comes, finds nothing left to do.
    w.run(RetryHeld::KIND, json!({"id": id}), 1, 6)
        .await
        .unwrap();
    assert_eq!(w.events().await.len(), 2);
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn an_update_nobody_claims_becomes_a_dead_letter_after_the_last_try(pool: PgPool) {
    let w = world(pool, FakeSupplier::webhooks(), "manual").await;
    let stray = update("NOPE-1", SupplierStatus::Shipped, 10);
    let Outcome::Held { id, .. } = status::apply(
        w.pool(),
        w.org,
        PARTNER,
        &stray,
        status::Source::Webhook,
        Utc::now(),
    )
    .await
    .unwrap() else {
        panic!("held expected")
    };
    let e = w
        .run(RetryHeld::KIND, json!({"id": id}), 1, 6)
        .await
        .unwrap_err();
    assert!(e.class.is_retryable(), "{e:?}");
    assert_eq!(
        store::list_unmatched(w.pool(), w.org).await.unwrap()[0].state,
        "waiting"
    );
    let e = w
        .run(RetryHeld::KIND, json!({"id": id}), 6, 6)
        .await
        .unwrap_err();
    assert!(!e.class.is_retryable(), "{e:?}");
    assert!(e.message.contains("NOPE-1"), "{}", e.message);
    let held = store::list_unmatched(w.pool(), w.org).await.unwrap();
    assert_eq!((held[0].state.as_str(), held[0].attempts), ("dead", 2));
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn a_polled_supplier_is_read_page_by_page_from_its_cursor(pool: PgPool) {
    let w = world(pool, FakeSupplier::polled(2), "manual").await;
    let order = w.order("SO-5").await;
    w.forward(order).await.unwrap();
    for (s, t) in [
        (SupplierStatus::AwaitingShippingQuote, 10),
        (SupplierStatus::AwaitingPayment, 20),
        (SupplierStatus::FulfillmentStarted, 30),
    ] {
        w.supplier.push_change(update("SUP0001", s, t));
    }
    w.run(PollStatus::KIND, json!({}), 1, 3).await.unwrap();
    assert_eq!(
        w.row(order).await.status.as_deref(),
        Some("fulfillment_started")
    );
    assert_eq!(
        store::poll_cursor(w.pool(), w.org, PARTNER)
            .await
            .unwrap()
            .as_deref(),
        Some("3")
    );
    w.supplier
        .push_change(update("SUP0001", SupplierStatus::Shipped, 40));
    w.run(PollStatus::KIND, json!({"partner": PARTNER}), 1, 3)
        .await
        .unwrap();
    let history = store::history(w.pool(), w.org, order).await.unwrap();
    // pending (the forward), then each change once: the second poll began at the cursor.
    assert_eq!(history.len(), 5, "{history:#?}");
    assert_eq!(w.order_status(order).await, OrderStatus::Shipped);
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn the_dispatcher_queues_new_orders_once_and_leaves_older_ones(pool: PgPool) {
    let w = world(pool, FakeSupplier::webhooks(), "on_create").await;
    let old = w.order("SO-OLD").await;
    // Forwarding begins with the first dispatch: what was there before stays.
    sqlx::query("UPDATE orders SET created_at = now() - interval '1 hour'")
        .execute(w.pool())
        .await
        .unwrap();
    w.run(DispatchForwards::KIND, json!({}), 1, 1)
        .await
        .unwrap();
    let new = w.order("SO-NEW").await;
    w.run(DispatchForwards::KIND, json!({}), 1, 1)
        .await
        .unwrap();
    w.run(DispatchForwards::KIND, json!({}), 1, 1)
        .await
        .unwrap();
    assert_eq!(w.jobs_of(ForwardOrder::KIND).await, 1);
    let payload: Value = sqlx::query_scalar("SELECT payload FROM jobs WHERE kind = $1")
        .bind(ForwardOrder::KIND)
        .fetch_one(w.pool())
        .await
        .unwrap();
    assert_eq!(payload, json!({"order_id": new.0, "partner": PARTNER}));
    assert!(store::get(w.pool(), w.org, old).await.unwrap().is_none());
    assert_eq!(w.row(new).await.partner, PARTNER);
}
