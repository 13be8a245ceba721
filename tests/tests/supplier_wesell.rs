//! The supplier order flow with the organization's supplier switched to WesellCellular in
//! config (`[suppliers.acme] partner = "wesell"`, a `kind = "wesellcellular"` partner): the
//! same flows as PhoneX, no flow or mapping changed outside the adapter's own. An order is
//! forwarded to the fake tenant over loopback HTTP (once, however often it is forwarded), its
//! status polled by `supplier.status.poll` across the whole status machine (and a reassigned
//! supplier number followed), and it ends shipped with its tracking number.

use serde_json::{json, Value};
use switchyard_core::ids::{OrderId, OrgId};
use switchyard_core::model::OrderStatus;
use switchyard_daemon::app::Roles;
use switchyard_e2e::TestDaemon;
use switchyard_store::orders::{self, NewOrder, OrderInsert};
use switchyard_store::queue::{NewJob, Queue};
use switchyard_store::suppliers;
use switchyard_wesellcellular::fake::{FakeWesell, FakeWesellConfig};

fn config(fake: &FakeWesell) -> String {
    format!(
        "[partners.wesell]\nkind = \"wesellcellular\"\norg = \"acme\"\nbase_url = \"{}\"\nclient_id_ref = \"secret:wsc-id\"\nclient_secret_ref = \"secret:wsc-secret\"\n\n[suppliers.acme]\npartner = \"wesell\"\nforward = \"manual\"\n",
        fake.base_url()
    )
}

async fn order(pool: &sqlx::PgPool, org: OrgId, number: &str) -> anyhow::Result<OrderId> {
    sqlx::query(
        "INSERT INTO customers (org_id, customer_id, name) VALUES ($1, 'C-2001', 'Westside')",
    )
    .bind(org.0)
    .execute(pool)
    .await?;
    let path = switchyard_e2e::daemon::repo()
        .join("fixtures/mappings/wesellcellular/order.out/so-10077.input.json");
    let mut canonical: Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    canonical["order_number"] = json!(number);
    let new = NewOrder {
        org,
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
    match orders::insert_order(pool, &new).await? {
        OrderInsert::Stored(id) => Ok(id),
        other => anyhow::bail!("order not stored: {other:?}"),
    }
}

/// Enqueue one job and wait for it to end; its final state.
async fn run(queue: &Queue, org: OrgId, kind: &str, payload: Value) -> anyhow::Result<String> {
    let id = queue
        .enqueue(NewJob::new(org, kind, payload).partner("wesell"))
        .await?
        .job
        .id;
    switchyard_e2e::jobs::ended(queue.pool(), id).await
}

#[tokio::test]
async fn an_order_forwarded_to_wesellcellular_is_polled_through_the_machine_to_shipped(
) -> anyhow::Result<()> {
    let fake = FakeWesell::start(FakeWesellConfig::default()).await?;
    let daemon = TestDaemon::builder()
        .repo_mappings()
        .toml(&config(&fake))
        .secret("secret:wsc-id", &fake.config().client_id)
        .secret("secret:wsc-secret", &fake.config().client_secret)
        .roles(Roles {
            api: false,
            worker: true,
            scheduler: false,
        })
        .start()
        .await?;
    let pool = daemon.db.pool.clone();
    let queue = daemon.queue.clone();
    let org = daemon.org("acme").await?;
    let id = order(&pool, org, "SO-5001").await?;

    // Forwarded twice (a retry, a second click): one sales order at the tenant.
    for _ in 0..2 {
        let state = run(
            &queue,
            org,
            "supplier.order.forward",
            json!({"order_id": id.0}),
        )
        .await?;
        assert_eq!(state, "succeeded");
    }
    assert_eq!(fake.orders_placed(), 1);
    let placed = fake
        .order_by_reference("SO-5001")
        .expect("placed with our number");
    let body = fake.order_body(&placed.order_number).expect("its body");
    assert_eq!(
        body["items"][0]["quantity"],
        json!(30),
        "the order.out mapping merged the lines"
    );
    let row = suppliers::get(&pool, org, id).await?.expect("forwarded");
    assert_eq!(row.partner, "wesell");
    assert_eq!(
        row.supplier_order_id.as_deref(),
        Some(placed.order_number.as_str())
    );

    // Through the machine, one poll per change; the supplier renumbers the order half way.
    let mut number = placed.order_number.clone();
    let mut seen = Vec::new();
    for step in 0..4 {
        if step == 2 {
            number = fake.reassign(&number).expect("reassigned").order_number;
        }
        fake.advance(&number).expect("advanced");
        let state = run(
            &queue,
            org,
            "supplier.status.poll",
            json!({"partner": "wesell"}),
        )
        .await?;
        assert_eq!(state, "succeeded");
        let row = suppliers::get(&pool, org, id).await?.expect("row");
        seen.push(row.supplier_status.clone().unwrap_or_default());
        assert_eq!(
            row.supplier_order_id.as_deref(),
            Some(number.as_str()),
            "the new number is followed"
        );
    }
    assert_eq!(
        seen,
        [
            "Awaiting Shipping Quote",
            "Awaiting Payment",
            "Ready for Fulfillment",
            "Shipped"
        ]
    );
    let row = suppliers::get(&pool, org, id).await?.expect("row");
    assert_eq!(row.status.as_deref(), Some("shipped"));
    assert_eq!(row.carrier.as_deref(), Some("UPS"));
    assert!(row.tracking_number.is_some());
    assert!(row
        .previous_supplier_order_ids
        .contains(&placed.order_number));
    let (status,): (String,) = sqlx::query_as("SELECT status FROM orders WHERE id = $1")
        .bind(id.0)
        .fetch_one(&pool)
        .await?;
    assert_eq!(status, "shipped");
    assert_eq!(
        fake.orders_placed(),
        1,
        "no second order for the new number"
    );
    daemon.stop().await?;
    Ok(())
}
