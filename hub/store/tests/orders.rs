//! Customers, products and orders against a real Postgres (a fresh database per test).

use serde_json::json;
use sqlx::PgPool;
use switchyard_core::ids::OrgId;
use switchyard_core::model::{Order, OrderLine, OrderStatus, Uom};
use switchyard_store::orders::{
    self, BuyerPart, CustomerRow, NewOrder, OrderInsert, OrderUpdate, PartyId, ProductRef,
    ProductRow,
};
use switchyard_store::{orgs, StoreError};
use uuid::Uuid;

async fn org(pool: &PgPool, slug: &str) -> OrgId {
    orgs::ensure(pool, slug).await.unwrap().id
}

async fn seed(pool: &PgPool, org: OrgId) {
    orders::upsert_customer(
        pool,
        org,
        &CustomerRow {
            customer_id: "C1".into(),
            name: "Acme".into(),
            active: true,
            edi_ids: vec![
                PartyId {
                    qualifier: "92".into(),
                    id: "0001".into(),
                },
                PartyId {
                    qualifier: "12".into(),
                    id: "5551234567".into(),
                },
            ],
        },
    )
    .await
    .unwrap();
    orders::upsert_product(
        pool,
        org,
        &ProductRow {
            sku: "BAR-1".into(),
            name: "Bar".into(),
            gtin: Some("0012345678905".into()),
            uom: "EA".into(),
            active: true,
            buyer_parts: vec![BuyerPart {
                customer_id: "C1".into(),
                part: "ACME-77".into(),
            }],
        },
    )
    .await
    .unwrap();
}

fn order(po: &str, customer: &str, qty: i64, sku: &str) -> Order {
    Order {
        order_number: format!("SO-{po}"),
        customer_id: customer.into(),
        status: OrderStatus::PendingReview,
        currency: "USD".into(),
        ordered_at: chrono::NaiveDate::from_ymd_opt(2026, 3, 10)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc()),
        requested_delivery: chrono::NaiveDate::from_ymd_opt(2026, 3, 1),
        lines: vec![OrderLine {
            buyer_line: None,
            buyer_part: None,
            gtin: None,
            line_number: 1,
            sku: sku.into(),
            description: None,
            quantity: qty.into(),
            uom: Uom::Ea,
            unit_price: 1.into(),
            requested_date: None,
        }],
        billing_address: None,
        shipping_address: None,
        supplier_order_ref: None,
        customer_po: Some(po.into()),
        tracking_numbers: vec![],
        parties: vec![],
    }
}

fn new(org: OrgId, o: &Order, message: Option<Uuid>, set: &str, number: &str) -> NewOrder {
    NewOrder {
        org,
        order_number: number.into(),
        customer_id: Some(o.customer_id.clone()),
        customer_po: o.customer_po.clone().unwrap(),
        status: OrderStatus::PendingReview,
        canonical: serde_json::to_value(o).unwrap(),
        source_message_id: message,
        partner: Some("acme".into()),
        source_set: Some(set.into()),
        mapped: Some(json!({"customer_po": o.customer_po})),
        mapping_hash: Some("abc".into()),
        review_errors: vec![],
        reply_to: Some(json!({"partner": "acme"})),
    }
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn parties_and_products_resolve_by_every_identifier(pool: PgPool) {
    let a = org(&pool, "a").await;
    let b = org(&pool, "b").await;
    seed(&pool, a).await;
    assert_eq!(
        orders::customer_by_party(&pool, a, "92", " 0001 ")
            .await
            .unwrap()
            .as_deref(),
        Some("C1")
    );
    assert_eq!(
        orders::customer_by_party(&pool, a, "12", "5551234567")
            .await
            .unwrap()
            .as_deref(),
        Some("C1")
    );
    assert_eq!(
        orders::customer_by_party(&pool, a, "92", "0002")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        orders::customer_by_party(&pool, b, "92", "0001")
            .await
            .unwrap(),
        None,
        "another org"
    );
    let find = |r| orders::find_product(&pool, a, r);
    assert_eq!(
        find(ProductRef::Sku("BAR-1")).await.unwrap().as_deref(),
        Some("BAR-1")
    );
    // A UPC-A is the GTIN-13 with one leading zero less.
    assert_eq!(
        find(ProductRef::Gtin("012345678905"))
            .await
            .unwrap()
            .as_deref(),
        Some("BAR-1")
    );
    assert_eq!(
        find(ProductRef::Gtin("00000000000000")).await.unwrap(),
        None
    );
    assert_eq!(
        find(ProductRef::BuyerPart {
            customer_id: "C1",
            part: "ACME-77"
        })
        .await
        .unwrap()
        .as_deref(),
        Some("BAR-1")
    );
    assert_eq!(
        find(ProductRef::BuyerPart {
            customer_id: "C2",
            part: "ACME-77"
        })
        .await
        .unwrap(),
        None
    );
    // Replacing the identifiers drops the old ones; an inactive product is not found.
    orders::upsert_customer(
        &pool,
        a,
        &CustomerRow {
            customer_id: "C1".into(),
            name: "Acme".into(),
            active: true,
            edi_ids: vec![PartyId {
                qualifier: "92".into(),
                id: "0009".into(),
            }],
        },
    )
    .await
    .unwrap();
    assert_eq!(
        orders::customer_by_party(&pool, a, "92", "0001")
            .await
            .unwrap(),
        None
    );
    let err = orders::upsert_customer(
        &pool,
        a,
        &CustomerRow {
            customer_id: "C2".into(),
            name: "Other".into(),
            active: true,
            edi_ids: vec![PartyId {
                qualifier: "92".into(),
                id: "0009".into(),
            }],
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    orders::upsert_product(
        &pool,
        a,
        &ProductRow {
            sku: "BAR-1".into(),
            name: "Bar".into(),
            gtin: None,
            uom: "EA".into(),
            active: false,
            buyer_parts: vec![],
        },
    )
    .await
    .unwrap();
    assert_eq!(find(ProductRef::Sku("BAR-1")).await.unwrap(), None);
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn a_resent_po_or_a_redelivered_set_is_the_same_order(pool: PgPool) {
    let a = org(&pool, "a").await;
    seed(&pool, a).await;
    let msg = None;
    let o = order("PO-1", "C1", 5, "BAR-1");
    let id = match orders::insert_order(&pool, &new(a, &o, msg, "0001", "SO-1"))
        .await
        .unwrap()
    {
        OrderInsert::Stored(id) => id,
        other => panic!("{other:?}"),
    };
    // Same customer + PO from another interchange: the first order comes back.
    match orders::insert_order(&pool, &new(a, &o, msg, "0002", "SO-2"))
        .await
        .unwrap()
    {
        OrderInsert::Existing(row) => assert_eq!(row.id, id),
        other => panic!("{other:?}"),
    }
    let row = orders::get(&pool, a, id).await.unwrap().unwrap();
    assert_eq!(row.status, OrderStatus::PendingReview);
    assert_eq!(row.mapping_hash.as_deref(), Some("abc"));
    assert_eq!(row.reply_to, Some(json!({"partner": "acme"})));
    assert_eq!(
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM orders")
            .fetch_one(&pool)
            .await
            .unwrap(),
        1
    );
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn checks_find_every_problem_and_updates_are_optimistic(pool: PgPool) {
    let a = org(&pool, "a").await;
    seed(&pool, a).await;
    // Unknown customer, unknown product, quantity 0, delivery before the order date.
    let bad = order("PO-9", "NOBODY", 0, "NOPE");
    let errs = orders::check_order(&pool, a, &bad).await.unwrap();
    let codes: Vec<(&str, Option<&str>)> = errs
        .iter()
        .map(|e| (e.code.as_str(), e.location.field.as_deref()))
        .collect();
    assert_eq!(
        codes,
        vec![
            ("unknown_customer", Some("customer_id")),
            ("bad_date", Some("requested_delivery")),
            ("unknown_product", Some("lines[0].sku")),
            ("bad_quantity", Some("lines[0].quantity")),
        ]
    );
    assert!(
        errs[3].message.contains("line 1") && errs[3].message.contains("greater than zero"),
        "{}",
        errs[3].message
    );

    let mut good = order("PO-2", "C1", 3, "BAR-1");
    good.requested_delivery = chrono::NaiveDate::from_ymd_opt(2026, 3, 20);
    assert_eq!(orders::check_order(&pool, a, &good).await.unwrap(), vec![]);
    let id = match orders::insert_order(&pool, &new(a, &good, None, "0001", "SO-2"))
        .await
        .unwrap()
    {
        OrderInsert::Stored(id) => id,
        other => panic!("{other:?}"),
    };
    let confirm = OrderUpdate {
        customer_id: Some("C1".into()),
        customer_po: "PO-2".into(),
        status: OrderStatus::Confirmed,
        canonical: serde_json::to_value(&good).unwrap(),
        review_errors: vec![],
        mapped: None,
    };
    let row = orders::update(&pool, a, id, OrderStatus::PendingReview, &confirm)
        .await
        .unwrap();
    assert_eq!(row.status, OrderStatus::Confirmed);
    // A second update that read the old status loses.
    let err = orders::update(&pool, a, id, OrderStatus::PendingReview, &confirm)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    // An illegal step is refused before touching the row.
    let ship = OrderUpdate {
        status: OrderStatus::Delivered,
        ..confirm.clone()
    };
    assert!(matches!(
        orders::update(&pool, a, id, OrderStatus::Confirmed, &ship).await,
        Err(StoreError::Invalid(_))
    ));
    // The response is recorded once per expected previous job.
    let j1 = Uuid::now_v7();
    assert!(orders::set_response(&pool, a, id, None, j1, true)
        .await
        .unwrap());
    assert!(
        !orders::set_response(&pool, a, id, None, Uuid::now_v7(), true)
            .await
            .unwrap()
    );
    let row = orders::get(&pool, a, id).await.unwrap().unwrap();
    assert_eq!(
        (row.response_job_id, row.response.as_deref()),
        (Some(j1), Some("accepted"))
    );
}
