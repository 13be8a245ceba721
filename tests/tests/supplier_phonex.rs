//! PhoneX end to end through the daemon: an order placed at the fake PhoneX, its status
//! webhooks sent by the fake over real HTTP to the daemon's `POST /webhooks/phonex` out of
//! order (shipped before accepted) and duplicated, verified by the PhoneX adapter, stored once
//! per event and processed; forged and stale deliveries refused (401), logged, never stored.

use std::time::{Duration, SystemTime};
use switchyard_core::ids::PartnerName;
use switchyard_core::supplier::Supplier;
use switchyard_daemon::app::Roles;
use switchyard_e2e::{count, eventually, TestDaemon};
use switchyard_phonex::fake::{FakeConfig, FakePhonex};
use switchyard_phonex::wire::OrderStatus;
use switchyard_phonex::PhonexFactory;
use switchyard_runtime::testkit::doubles::{context, MapSecrets, RecordingSink};

fn config(fake: &FakePhonex) -> String {
    format!(
        "[partners.phonex]\nkind = \"phonex\"\norg = \"acme\"\nbase_url = \"{}\"\napi_key = \"secret:px-key\"\nwebhooks = {{ secret = \"secret:px-hooks\", encoding = \"hex\" }}\n",
        fake.base_url()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_webhooks_are_verified_stored_once_and_forged_or_stale_ones_refused(
) -> anyhow::Result<()> {
    let fake = FakePhonex::start(FakeConfig::default()).await?;
    let c = fake.config().clone();
    let daemon = TestDaemon::builder()
        .repo_mappings()
        .toml(&config(&fake))
        .secret("secret:px-key", &c.api_key)
        .secret("secret:px-hooks", &c.webhook_secret)
        .roles(Roles {
            api: true,
            worker: true,
            scheduler: false,
        })
        .start()
        .await?;
    fake.set_webhook_url(format!("{}/webhooks/phonex", daemon.api()));

    // An order at PhoneX (placed through the adapter: the forwarding flow is the supplier
    // flows' part).
    let adapter = PhonexFactory::new()?.build_phonex(
        &PartnerName::from("phonex"),
        &fake.partner_config("secret:k", "secret:h"),
        &MapSecrets::new()
            .with("secret:k", &c.api_key)
            .with("secret:h", &c.webhook_secret),
    )?;
    let body = serde_json::json!({
        "supplier": "wesellcellular", "order_id": "PXSTKL0000347", "customer_id": "worldtech-1734",
        "items": [{"sku": "IPHONE12-64GB-A", "quantity": 10, "unit_price": 231.00}],
        "shipping_address": {"name": "WorldTech"}, "metadata": {}
    });
    let doc = switchyard_core::adapter::OutboundDocument {
        document: "order".into(),
        payload: switchyard_core::adapter::Payload::Json { body },
    };
    let ack = adapter
        .create_order(&context("order-347", RecordingSink::new()), &doc)
        .await?;
    let id = ack.supplier_order_id.as_str();
    let accepted = fake
        .advance(id, OrderStatus::Accepted, None)
        .map_err(anyhow::Error::msg)?;
    let shipped = fake
        .advance(
            id,
            OrderStatus::Shipped,
            Some(("1Z999AA10123456784", Some("UPS"))),
        )
        .map_err(anyhow::Error::msg)?;

    // Shipped before accepted, then shipped again: 202, 202, then 200 for the redelivery.
    assert_eq!(fake.deliver(&shipped).await, Ok(202));
    assert_eq!(fake.deliver(&accepted).await, Ok(202));
    assert_eq!(fake.deliver(&shipped).await, Ok(200));
    // Forged, stale and from the future: refused.
    let now = SystemTime::now();
    let skew = Duration::from_secs(600);
    assert_eq!(
        fake.deliver_signed(&shipped, now, Some("forged")).await,
        Ok(401)
    );
    assert_eq!(
        fake.deliver_signed(&shipped, now - skew, None).await,
        Ok(401)
    );
    assert_eq!(
        fake.deliver_signed(&shipped, now + skew, None).await,
        Ok(401)
    );

    let pool = daemon.db.pool.clone();
    eventually(Duration::from_secs(30), "both deliveries processed", || {
        let pool = pool.clone();
        async move {
            Ok(count(
                &pool,
                "SELECT count(*) FROM webhook_deliveries WHERE partner = 'phonex' AND status = 'processed'",
            )
            .await?
                == 2)
        }
    })
    .await?;
    let (stored, duplicates, masked): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*), coalesce(sum(duplicates), 0)::bigint,
                count(*) FILTER (WHERE headers->>'x-phonex-signature' = '***')
         FROM webhook_deliveries WHERE partner = 'phonex'",
    )
    .fetch_one(&pool)
    .await?;
    assert_eq!((stored, duplicates, masked), (2, 1, 2));
    let refused = count(
        &pool,
        "SELECT count(*) FROM integration_logs WHERE event_type = 'webhook.refused' AND http_status = 401",
    )
    .await?;
    assert_eq!(refused, 3);
    assert_eq!(fake.orders_placed(), 1);

    daemon.stop().await?;
    fake.shutdown().await;
    Ok(())
}
