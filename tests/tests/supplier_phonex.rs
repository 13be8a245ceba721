//! PhoneX end to end through the daemon and the supplier flows: our order forwarded to the
//! fake PhoneX by `supplier.order.forward`, its status webhooks sent by the fake over real
//! HTTP to `POST /webhooks/phonex` out of order (shipped before accepted) and duplicated,
//! verified by the PhoneX adapter, stored once per event and applied (the order ends shipped
//! with its tracking); forged and stale deliveries refused (401), logged, never stored; PhoneX
//! down → retries → a dead letter → replayed after recovery → exactly one order placed.
//! One order placed and forwarded mails its customer once (over real SMTP to the sink): the
//! supplier's first status, `pending`, is no second mail.

use serde_json::{json, Value};
use std::time::{Duration, SystemTime};
use switchyard_core::ids::{JobId, OrderId, OrgId};
use switchyard_core::model::OrderStatus as Ours;
use switchyard_daemon::app::Roles;
use switchyard_e2e::{count, eventually, TestDaemon};
use switchyard_phonex::fake::{FakeConfig, FakePhonex};
use switchyard_phonex::wire::OrderStatus;
use switchyard_runtime::testkit::smtp_sink::SmtpSink;
use switchyard_store::orders::{insert_order, NewOrder, OrderInsert};
use switchyard_store::queue::{NewJob, RetryPolicy, RetrySpec};

fn config(fake: &FakePhonex) -> String {
    format!(
        "[partners.phonex]\nkind = \"phonex\"\norg = \"acme\"\nbase_url = \"{}\"\napi_key = \"secret:px-key\"\nwebhooks = {{ secret = \"secret:px-hooks\", encoding = \"hex\" }}\n\n[suppliers.acme]\npartner = \"phonex\"\nforward = \"manual\"\n",
        fake.base_url()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarded_order_ends_shipped_whatever_the_webhook_order_and_forged_or_stale_ones_are_refused(
) -> anyhow::Result<()> {
    let fake = FakePhonex::start(FakeConfig::default()).await?;
    let daemon = daemon(&fake).await?;
    let org = daemon.org("acme").await?;
    let ours = order(&daemon, org, "SO-20000").await?;
    assert_eq!(forward(&daemon, org, ours).await?, "succeeded");
    let placed = fake.order_by_number("SO-20000").expect("placed at PhoneX");
    assert_eq!(placed.request.items.len(), 2, "lines of one SKU merged");
    assert_eq!(placed.idempotency_key, format!("order-{}", ours.0));
    // Forwarding again (an admin asks twice) places nothing new.
    assert_eq!(forward(&daemon, org, ours).await?, "succeeded");
    let id = placed.order.id.as_str();
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
    assert_eq!(
        state(&daemon, ours).await?,
        (
            Some("shipped".into()),
            Some("1Z999AA10123456784".into()),
            Some("UPS".into()),
            "shipped".into()
        ),
        "the late `accepted` did not move the order back"
    );

    daemon.stop().await?;
    fake.shutdown().await;
    Ok(())
}

async fn daemon(fake: &FakePhonex) -> anyhow::Result<TestDaemon> {
    let c = fake.config().clone();
    let daemon = TestDaemon::builder()
        .repo_mappings()
        .toml(&config(fake))
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
    Ok(daemon)
}

/// A pending order of `org` (the order mapping's own example, renumbered).
async fn order(daemon: &TestDaemon, org: OrgId, number: &str) -> anyhow::Result<OrderId> {
    let path =
        switchyard_e2e::repo().join("fixtures/mappings/phonex/order.out/so-10077.input.json");
    let mut canonical: Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    canonical["order_number"] = json!(number);
    sqlx::query(
        "INSERT INTO customers (org_id, customer_id, name) VALUES ($1, 'C-2001', 'Westside Wireless')
         ON CONFLICT DO NOTHING",
    )
    .bind(org.0)
    .execute(&daemon.db.pool)
    .await?;
    let new = NewOrder {
        org,
        order_number: number.into(),
        customer_id: Some("C-2001".into()),
        customer_po: format!("PO-{number}"),
        status: Ours::Pending,
        canonical,
        source_message_id: None,
        partner: None,
        source_set: None,
        mapped: None,
        mapping_hash: None,
        review_errors: vec![],
        reply_to: None,
    };
    match insert_order(&daemon.db.pool, &new).await? {
        OrderInsert::Stored(id) => Ok(id),
        other => anyhow::bail!("{other:?}"),
    }
}

/// Queue `supplier.order.forward` of `order` (two immediate attempts) and wait for its end.
async fn forward(daemon: &TestDaemon, org: OrgId, order: OrderId) -> anyhow::Result<String> {
    let job =
        NewJob::new(org, "supplier.order.forward", json!({"order_id": order.0})).retry(RetrySpec {
            policy: RetryPolicy::Immediate,
            max_attempts: 2,
        });
    let id = daemon.queue.enqueue(job).await?.job.id;
    switchyard_e2e::jobs::ended(&daemon.db.pool, id).await
}

/// (supplier status, tracking number, carrier, our order's status).
async fn state(
    daemon: &TestDaemon,
    order: OrderId,
) -> anyhow::Result<(Option<String>, Option<String>, Option<String>, String)> {
    Ok(sqlx::query_as(
        "SELECT s.status, s.tracking_number, s.carrier, o.status
         FROM supplier_orders s JOIN orders o ON o.id = s.order_id WHERE s.order_id = $1",
    )
    .bind(order.0)
    .fetch_one(&daemon.db.pool)
    .await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phonex_down_dead_letters_the_forward_and_its_replay_places_one_order() -> anyhow::Result<()>
{
    let fake = FakePhonex::start(FakeConfig::default()).await?;
    let daemon = daemon(&fake).await?;
    let org = daemon.org("acme").await?;
    let id = order(&daemon, org, "SO-20002").await?;
    fake.always_fail(503);
    assert_eq!(forward(&daemon, org, id).await?, "dead");
    assert_eq!(fake.orders_placed(), 0);
    assert!(fake.requests() >= 2, "retried before giving up");
    let dead: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM dead_letters WHERE kind = 'supplier.order.forward'")
            .fetch_one(&daemon.db.pool)
            .await?;

    fake.fix();
    let admin = daemon.key("acme", &["write:dead-letters"]).await?;
    let (status, body) = daemon
        .call(
            reqwest::Method::POST,
            &format!("/api/v1/dead-letters/{dead}/replay"),
            Some(&admin),
            None,
        )
        .await?;
    assert_eq!(status, 201, "{body}");
    let job: uuid::Uuid = body["id"].as_str().unwrap_or_default().parse()?;
    assert_eq!(
        switchyard_e2e::jobs::ended(&daemon.db.pool, JobId(job)).await?,
        "succeeded"
    );
    assert_eq!(
        fake.orders_placed(),
        1,
        "exactly one order after the replay"
    );
    let placed = fake.order_by_number("SO-20002").expect("placed");
    let (status, _, _, ours) = state(&daemon, id).await?;
    assert_eq!(
        (status.as_deref(), ours.as_str()),
        (Some("pending"), "pending")
    );
    let stored: Option<String> =
        sqlx::query_scalar("SELECT supplier_order_id FROM supplier_orders WHERE order_id = $1")
            .bind(id.0)
            .fetch_one(&daemon.db.pool)
            .await?;
    assert_eq!(stored.as_deref(), Some(placed.order.id.as_str()));
    daemon.stop().await?;
    fake.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_order_placed_and_forwarded_mails_its_customer_once() -> anyhow::Result<()> {
    let fake = FakePhonex::start(FakeConfig::default()).await?;
    let sink = SmtpSink::start().await?;
    let c = fake.config().clone();
    let email = format!(
        "\n[email]\nhost = {:?}\nport = {}\nsecurity = \"none\"\nfrom = \"Switchyard <notify@hub.test>\"\n\
         templates = {:?}\npublic_url = \"https://hub.test\"\n",
        sink.host(),
        sink.port(),
        switchyard_e2e::repo()
            .join("templates/email")
            .to_string_lossy()
    );
    let daemon = TestDaemon::builder()
        .repo_mappings()
        .toml(&config(&fake))
        .toml(&email)
        .secret("secret:px-key", &c.api_key)
        .secret("secret:px-hooks", &c.webhook_secret)
        .roles(Roles {
            api: false,
            worker: true,
            scheduler: false,
        })
        .start()
        .await?;
    let org = daemon.org("acme").await?;
    let pool = daemon.db.pool.clone();
    // The customer has an address before the order is placed, as in the demo.
    sqlx::query(
        "INSERT INTO customers (org_id, customer_id, name, email)
         VALUES ($1, 'C-2001', 'Westside Wireless', 'orders@westside.test')",
    )
    .bind(org.0)
    .execute(&pool)
    .await?;
    let ours = order(&daemon, org, "SO-20010").await?;
    assert_eq!(forward(&daemon, org, ours).await?, "succeeded");
    // Two events reached the customer's mail jobs: the order placed, and the first supplier
    // status (`pending`, recorded by the forward). Both jobs end; one sends.
    let jobs = count(
        &pool,
        "SELECT count(*) FROM jobs WHERE kind = 'notify.email'",
    )
    .await?;
    assert_eq!(jobs, 2, "order.created and the supplier's first status");
    eventually(Duration::from_secs(30), "both mail jobs ended", || {
        let pool = pool.clone();
        async move {
            Ok(count(
                &pool,
                "SELECT count(*) FROM jobs WHERE kind = 'notify.email' AND state IN ('succeeded', 'dead')",
            )
            .await?
                == 2)
        }
    })
    .await?;
    let mails = sink.messages();
    assert_eq!(mails.len(), 1, "one mail for one order placed");
    assert_eq!(mails[0].to, ["orders@westside.test"]);
    assert!(
        mails[0].text().contains("Subject: Order SO-20010 received"),
        "{}",
        mails[0].text()
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM email_messages").await?,
        1
    );
    daemon.stop().await?;
    fake.shutdown().await;
    Ok(())
}
