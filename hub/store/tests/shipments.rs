//! Orders created through the API, shipments and invoices against a real Postgres (a fresh
//! database per test): idempotency, what a shipment may carry, the order's status after each
//! shipment, the events recorded in the same transaction, and tenant isolation.

use chrono::{NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use sqlx::PgPool;
use switchyard_core::ids::{OrderId, OrgId};
use switchyard_core::model::{InvoiceLine, Order, OrderLine, OrderStatus, Uom};
use switchyard_store::invoices::{self, NewInvoice};
use switchyard_store::order_intake::{self, ApiOrder, Created};
use switchyard_store::orders::{self, CustomerRow, ProductRow};
use switchyard_store::shipments::{self, NewShipment, Recorded, ShipLine};
use switchyard_store::{orgs, StoreError};

async fn org(pool: &PgPool, slug: &str) -> OrgId {
    let org = orgs::ensure(pool, slug).await.unwrap().id;
    orders::upsert_customer(
        pool,
        org,
        &CustomerRow {
            customer_id: "C1".into(),
            name: "Acme".into(),
            active: true,
            edi_ids: vec![],
        },
    )
    .await
    .unwrap();
    for sku in ["A", "B"] {
        orders::upsert_product(
            pool,
            org,
            &ProductRow {
                sku: sku.into(),
                name: format!("Product {sku}"),
                gtin: None,
                uom: "EA".into(),
                active: true,
                buyer_parts: vec![],
            },
        )
        .await
        .unwrap();
    }
    org
}

fn line(n: u32, sku: &str, qty: i64) -> OrderLine {
    OrderLine {
        line_number: n,
        buyer_line: None,
        sku: sku.into(),
        buyer_part: None,
        gtin: None,
        description: None,
        quantity: qty.into(),
        uom: Uom::Ea,
        unit_price: Decimal::new(1050, 2),
        requested_date: None,
    }
}

fn api_order(org: OrgId, number: &str, po: &str, key: Option<&str>) -> ApiOrder {
    let order = Order {
        order_number: number.into(),
        customer_id: "C1".into(),
        status: OrderStatus::Pending,
        currency: "USD".into(),
        ordered_at: Some(Utc::now()),
        requested_delivery: None,
        lines: vec![line(1, "A", 5), line(2, "B", 2)],
        billing_address: None,
        shipping_address: None,
        supplier_order_ref: None,
        customer_po: Some(po.into()),
        tracking_numbers: vec![],
        parties: vec![],
    };
    ApiOrder {
        org,
        order_number: number.into(),
        customer_id: "C1".into(),
        customer_po: po.into(),
        canonical: serde_json::to_value(order).unwrap(),
        idempotency_key: key.map(str::to_owned),
    }
}

async fn create(pool: &PgPool, o: &ApiOrder) -> OrderId {
    match order_intake::create(pool, o).await.unwrap() {
        Created::New(row) => row.id,
        Created::Existing(row) => panic!("expected a new order, got {}", row.order_number),
    }
}

fn ship(number: &str, tracking: Option<&str>, lines: &[(&str, i64)]) -> NewShipment {
    NewShipment {
        shipment_number: number.into(),
        carrier: Some("UPS".into()),
        service: None,
        tracking_number: tracking.map(str::to_owned),
        tracking_url: tracking.map(|t| format!("https://ups.example/track/{t}")),
        shipped_at: Utc::now(),
        lines: lines
            .iter()
            .map(|(sku, q)| ShipLine {
                line_number: None,
                sku: (*sku).into(),
                quantity: (*q).into(),
            })
            .collect(),
    }
}

async fn events(pool: &PgPool, org: OrgId, ty: &str) -> Vec<Value> {
    sqlx::query_scalar("SELECT data FROM events WHERE org_id = $1 AND type = $2 ORDER BY id")
        .bind(org.0)
        .bind(ty)
        .fetch_all(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn an_api_order_is_stored_once_per_key_reference_and_number(pool: PgPool) {
    let a = org(&pool, "a").await;
    let id = create(&pool, &api_order(a, "SO-1", "PO-1", Some("k-1"))).await;
    let row = orders::get(&pool, a, id).await.unwrap().unwrap();
    assert_eq!(
        (row.status, row.source.as_str()),
        (OrderStatus::Pending, "api")
    );
    assert_eq!(
        order_intake::key_of(&pool, a, id).await.unwrap().as_deref(),
        Some("k-1")
    );
    // The same key with another number and PO: the first order, not a second one.
    for again in [
        api_order(a, "SO-2", "PO-2", Some("k-1")),
        api_order(a, "SO-3", "PO-1", None),
        api_order(a, "SO-1", "PO-9", Some("k-9")),
    ] {
        match order_intake::create(&pool, &again).await.unwrap() {
            Created::Existing(r) => assert_eq!(r.id, id),
            Created::New(r) => panic!("a second order {}", r.order_number),
        }
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM orders")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 1);
    // Another organization has its own numbers, references and keys.
    let b = org(&pool, "b").await;
    let other = create(&pool, &api_order(b, "SO-1", "PO-1", Some("k-1"))).await;
    assert_ne!(other, id);
    assert_eq!(events(&pool, a, "order.created").await.len(), 1);
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn shipments_move_the_order_and_never_exceed_what_was_ordered(pool: PgPool) {
    let a = org(&pool, "a").await;
    let id = create(&pool, &api_order(a, "SO-1", "PO-1", None)).await;

    let first = ship("SH-1", Some("1Z1"), &[("A", 3)]);
    let Recorded::New(row, status) = shipments::record(&pool, a, id, &first).await.unwrap() else {
        panic!("the first shipment is new")
    };
    assert_eq!(status, OrderStatus::PartiallyShipped);
    assert_eq!(row.lines[0].line_number, 1);
    let order = orders::get(&pool, a, id).await.unwrap().unwrap();
    assert_eq!(order.status, OrderStatus::PartiallyShipped);
    let canonical: Order = serde_json::from_value(order.canonical).unwrap();
    assert_eq!(canonical.tracking_numbers, vec!["1Z1".to_string()]);
    assert_eq!(canonical.status, OrderStatus::PartiallyShipped);

    // The same shipment again is found, not recorded twice; its number with other lines is
    // a conflict.
    assert!(matches!(
        shipments::record(&pool, a, id, &first).await.unwrap(),
        Recorded::Existing(r) if r.id == row.id
    ));
    let err = shipments::record(&pool, a, id, &ship("SH-1", None, &[("A", 1)]))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");

    // Beyond what is left of line 1 (5 ordered, 3 shipped): refused naming the line field,
    // and nothing of it is stored.
    let err = shipments::record(
        &pool,
        a,
        id,
        &ship("SH-2", Some("1Z2"), &[("B", 1), ("A", 3)]),
    )
    .await
    .unwrap_err();
    let StoreError::Invalid(msg) = err else {
        panic!("{err}")
    };
    assert!(msg.starts_with("lines[1].quantity:"), "{msg}");
    assert!(msg.contains("2 left"), "{msg}");
    // A SKU the order does not have, and a line number that is another SKU's.
    for (bad, field) in [
        (ship("SH-2", None, &[("Z", 1)]), "lines[0].sku"),
        (
            NewShipment {
                lines: vec![ShipLine {
                    line_number: Some(2),
                    sku: "A".into(),
                    quantity: 1.into(),
                }],
                ..ship("SH-2", None, &[])
            },
            "lines[0].sku",
        ),
        (ship("SH-2", None, &[]), "lines"),
        (ship("SH-2", None, &[("A", 0)]), "lines[0].quantity"),
    ] {
        match shipments::record(&pool, a, id, &bad).await {
            Err(StoreError::Invalid(m)) => assert!(m.starts_with(field), "{m}"),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(events(&pool, a, "shipment.dispatched").await.len(), 1);

    // The rest: the order is shipped and can ship no more.
    let Recorded::New(_, status) = shipments::record(
        &pool,
        a,
        id,
        &ship("SH-2", Some("1Z2"), &[("A", 2), ("B", 2)]),
    )
    .await
    .unwrap() else {
        panic!("new")
    };
    assert_eq!(status, OrderStatus::Shipped);
    let err = shipments::record(&pool, a, id, &ship("SH-3", None, &[("A", 1)]))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");

    let dispatched = events(&pool, a, "shipment.dispatched").await;
    assert_eq!(dispatched.len(), 2);
    assert_eq!(dispatched[1]["shipment_number"], "SH-2");
    assert_eq!(dispatched[1]["order_number"], "SO-1");
    assert_eq!(dispatched[1]["tracking_number"], "1Z2");
    assert_eq!(
        dispatched[1]["tracking_url"],
        "https://ups.example/track/1Z2"
    );
    let statuses: Vec<Value> = events(&pool, a, "order.updated")
        .await
        .into_iter()
        .map(|d| d["status"].clone())
        .collect();
    assert_eq!(statuses, vec![json!("partially_shipped"), json!("shipped")]);

    let listed = shipments::for_order(&pool, a, id).await.unwrap().unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|s| s.shipment_number.as_str())
            .collect::<Vec<_>>(),
        ["SH-1", "SH-2"]
    );
    assert_eq!(listed[1].lines.len(), 2);

    // Another organization sees neither the order nor its shipments.
    let b = org(&pool, "b").await;
    assert_eq!(shipments::for_order(&pool, b, id).await.unwrap(), None);
    let err = shipments::record(&pool, b, id, &ship("SH-9", None, &[("A", 1)]))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound("order")), "{err}");
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn a_refused_shipment_records_no_event(pool: PgPool) {
    let a = org(&pool, "a").await;
    let id = create(&pool, &api_order(a, "SO-1", "PO-1", None)).await;
    sqlx::query("UPDATE orders SET status = 'cancelled' WHERE id = $1")
        .bind(id.0)
        .execute(&pool)
        .await
        .unwrap();
    let err = shipments::record(&pool, a, id, &ship("SH-1", Some("1Z1"), &[("A", 1)]))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    assert!(events(&pool, a, "shipment.dispatched").await.is_empty());
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM shipments")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

fn invoice_line(n: u32, sku: &str, qty: i64, price: Decimal, vat: i64) -> InvoiceLine {
    InvoiceLine {
        line_number: n,
        buyer_line: None,
        buyer_part: None,
        gtin: None,
        sku: sku.into(),
        description: None,
        quantity: qty.into(),
        uom: Uom::Ea,
        unit_price: price,
        vat_rate: vat.into(),
    }
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn invoices_keep_their_sums_and_numbers(pool: PgPool) {
    let a = org(&pool, "a").await;
    let id = create(&pool, &api_order(a, "SO-1", "PO-1", None)).await;
    let new = NewInvoice {
        invoice_number: "FV/1/2026".into(),
        order_id: Some(id),
        customer_id: "C1".into(),
        issue_date: NaiveDate::from_ymd_opt(2026, 1, 2).unwrap(),
        due_date: NaiveDate::from_ymd_opt(2026, 1, 16),
        currency: "PLN".into(),
        // 3 × 3.333 = 9.999 → 10.00 net, 2.30 VAT; 1 × 0.10 at 8 % → 0.01 VAT.
        lines: vec![
            invoice_line(1, "A", 3, Decimal::new(3333, 3), 23),
            invoice_line(2, "B", 1, Decimal::new(10, 2), 8),
        ],
    };
    let invoices::Created::New(row) = invoices::create(&pool, a, &new).await.unwrap() else {
        panic!("new")
    };
    assert_eq!(row.net_total, Decimal::new(1010, 2));
    assert_eq!(row.vat_total, Decimal::new(231, 2));
    assert_eq!(row.gross_total, Decimal::new(1241, 2));
    assert_eq!(row.order_number.as_deref(), Some("SO-1"));
    assert_eq!(row.lines[0].net_amount, Decimal::new(1000, 2));

    // The number again: the stored invoice, which the caller compares.
    match invoices::create(&pool, a, &new).await.unwrap() {
        invoices::Created::Existing(r) => {
            assert_eq!(r.id, row.id);
            assert!(r.is_same(&new));
            let mut other = new.clone();
            other.lines[0].quantity = 4.into();
            assert!(!r.is_same(&other));
        }
        invoices::Created::New(_) => panic!("a second invoice under one number"),
    }
    let created = events(&pool, a, "invoice.created").await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["gross_total"], "12.41");
    assert_eq!(created[0]["order_number"], "SO-1");
    assert_eq!(created[0]["issue_date"], "2026-01-02");

    // An unknown customer is refused naming the field.
    let err = invoices::create(
        &pool,
        a,
        &NewInvoice {
            invoice_number: "FV/2/2026".into(),
            order_id: None,
            customer_id: "NOPE".into(),
            ..new.clone()
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid(m) if m.starts_with("customer_id")),
        "{err}"
    );
    assert!(invoices::get(&pool, a, row.id).await.unwrap().is_some());

    // Tenancy: another organization can reuse the number and never sees the first.
    let b = org(&pool, "b").await;
    assert_eq!(invoices::get(&pool, b, row.id).await.unwrap(), None);
    let (page, _) = invoices::list(&pool, b, &Default::default(), None, 50)
        .await
        .unwrap();
    assert!(page.is_empty());
    let mut theirs = new.clone();
    theirs.order_id = None;
    assert!(matches!(
        invoices::create(&pool, b, &theirs).await.unwrap(),
        invoices::Created::New(_)
    ));
    let (page, next) = invoices::list(&pool, a, &Default::default(), None, 50)
        .await
        .unwrap();
    assert_eq!((page.len(), next), (1, None));
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn an_order_on_hold_cannot_ship_and_is_released_to_where_it_was(pool: PgPool) {
    use switchyard_store::order_status::{self, Change, Changed};
    let a = org(&pool, "a").await;
    let id = create(&pool, &api_order(a, "SO-1", "PO-1", None)).await;
    sqlx::query("UPDATE orders SET status = 'in_production' WHERE id = $1")
        .bind(id.0)
        .execute(&pool)
        .await
        .unwrap();
    let hold = Change::Hold {
        reason: "credit check",
    };
    let Changed::Moved { from, row } = order_status::change(&pool, a, id, hold).await.unwrap()
    else {
        panic!("expected the order to move");
    };
    assert_eq!(from, OrderStatus::InProduction);
    assert_eq!(row.status, OrderStatus::OnHold);
    assert_eq!(row.held_from, Some(OrderStatus::InProduction));
    assert_eq!(row.status_reason.as_deref(), Some("credit check"));
    assert_eq!(row.canonical["status"], "on_hold");

    // Held: no shipment, and the refusal names the status.
    let err = shipments::record(&pool, a, id, &ship("SH-1", None, &[("A", 1)]))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    assert!(err.to_string().contains("is on_hold"), "{err}");

    // The same hold again changes nothing.
    let again = order_status::change(&pool, a, id, hold).await.unwrap();
    assert!(matches!(again, Changed::Already(_)), "{again:?}");

    // Released: back to in production, the hold's reason gone with it.
    let release = Change::Release { note: None };
    let Changed::Moved { row, .. } = order_status::change(&pool, a, id, release).await.unwrap()
    else {
        panic!("expected the order to move");
    };
    assert_eq!(row.status, OrderStatus::InProduction);
    assert_eq!((row.held_from, row.status_reason.as_deref()), (None, None));
    assert_eq!(row.canonical["status"], "in_production");
    let err = order_status::change(&pool, a, id, release)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    assert!(
        err.to_string().contains("in_production, not on_hold"),
        "{err}"
    );

    // Held again and cancelled while held: the events say each step.
    order_status::change(&pool, a, id, hold).await.unwrap();
    let cancel = Change::Cancel {
        reason: "customer withdrew",
    };
    let Changed::Moved { from, row } = order_status::change(&pool, a, id, cancel).await.unwrap()
    else {
        panic!("expected the order to move");
    };
    assert_eq!(
        (from, row.status),
        (OrderStatus::OnHold, OrderStatus::Cancelled)
    );
    assert_eq!(row.status_reason.as_deref(), Some("customer withdrew"));
    assert_eq!(row.held_from, None);
    let updated: Vec<(Value, Value)> = events(&pool, a, "order.updated")
        .await
        .into_iter()
        .map(|d| (d["previous_status"].clone(), d["status"].clone()))
        .collect();
    assert_eq!(
        updated,
        [
            (json!("pending"), json!("in_production")),
            (json!("in_production"), json!("on_hold")),
            (json!("on_hold"), json!("in_production")),
            (json!("in_production"), json!("on_hold")),
        ]
    );
    let cancelled = events(&pool, a, "order.cancelled").await;
    assert_eq!(cancelled.len(), 1);
    assert_eq!(cancelled[0]["previous_status"], "on_hold");

    // No step out of cancelled; another organization's order is not found.
    let err = order_status::change(&pool, a, id, hold).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("cannot go from cancelled to on_hold"),
        "{err}"
    );
    let b = org(&pool, "b").await;
    let err = order_status::change(&pool, b, id, hold).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound("order")), "{err}");

    // The database refuses a hold from a status no release could return to, whoever writes it.
    let shipped = create(&pool, &api_order(a, "SO-2", "PO-2", None)).await;
    sqlx::query("UPDATE orders SET status = 'shipped' WHERE id = $1")
        .bind(shipped.0)
        .execute(&pool)
        .await
        .unwrap();
    let refused = sqlx::query("UPDATE orders SET status = 'on_hold' WHERE id = $1")
        .bind(shipped.0)
        .execute(&pool)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("held_from"), "{refused}");
}
