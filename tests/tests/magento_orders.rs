//! Magento orders in and shipments back, end to end: orders placed in the fake store, pulled by
//! the daemon's `magento.orders.pull` over loopback HTTP (OAuth-signed, keyset pages), imported
//! by `magento.order.import` into real Postgres through `mappings/magento/order.in`: one
//! canonical order per Magento order (`MAGENTO-{increment_id}`), configurable lines folded, an
//! edit and a cancellation applied from the stored checkpoint, an order with an unknown SKU a
//! dead letter naming the field that imports once the product exists and it is replayed; then a
//! shipment pushed back (`partner.push`) becomes one Magento shipment with its tracks.

use serde_json::{json, Value};
use switchyard_core::ids::{JobId, OrgId};
use switchyard_daemon::app::Roles;
use switchyard_e2e::TestDaemon;
use switchyard_magento::fake::{FakeLine, FakeMagento, FakeStoreConfig};
use switchyard_store::queue::{NewJob, Queue, RetryPolicy, RetrySpec};

async fn daemon(fake: &FakeMagento) -> anyhow::Result<(TestDaemon, sqlx::PgPool, OrgId)> {
    daemon_with(fake, "").await
}

/// The daemon with `extra` lines in the store's partner section.
async fn daemon_with(
    fake: &FakeMagento,
    extra: &str,
) -> anyhow::Result<(TestDaemon, sqlx::PgPool, OrgId)> {
    let c = fake.config();
    let daemon = TestDaemon::builder()
        .repo_mappings()
        .secret("secret:mg-ck", &c.consumer_key)
        .secret("secret:mg-cs", &c.consumer_secret)
        .secret("secret:mg-at", &c.access_token)
        .secret("secret:mg-as", &c.access_token_secret)
        .toml(&format!(
            "[partners.shop]\nkind = \"magento\"\norg = \"acme\"\nbase_url = \"{}\"\nstore_code = \"all\"\n\
             auth = {{ mode = \"oauth\", consumer_key_ref = \"secret:mg-ck\", consumer_secret_ref = \"secret:mg-cs\", \
             access_token_ref = \"secret:mg-at\", access_token_secret_ref = \"secret:mg-as\" }}\n\
             msi = {{ enabled = true, sources = {{ CHI = \"chicago\" }} }}\nnotify_customer = true\ntimeout_ms = 5000\n{extra}",
            fake.base_url()
        ))
        .roles(Roles {
            api: false,
            worker: true,
            scheduler: false,
        })
        .start()
        .await?;
    let pool = daemon.db.pool.clone();
    let org = daemon.org("acme").await?;
    Ok((daemon, pool, org))
}

async fn product(pool: &sqlx::PgPool, org: OrgId, sku: &str) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO products (org_id, sku, name, uom) VALUES ($1, $2, $3, 'EA')")
        .bind(org.0)
        .bind(sku)
        .bind(format!("Item {sku}"))
        .execute(pool)
        .await?;
    Ok(())
}

/// Run one job to its end; its final state.
async fn run(queue: &Queue, job: NewJob) -> anyhow::Result<String> {
    let id = queue
        .enqueue(job.retry(RetrySpec::of(RetryPolicy::Immediate)))
        .await?
        .job
        .id;
    switchyard_e2e::jobs::ended(queue.pool(), id).await
}

fn pull(org: OrgId, key: &str) -> NewJob {
    NewJob::new(org, "magento.orders.pull", json!({"partner": "shop"}))
        .partner("shop")
        .key(key)
}

/// Wait until every import job enqueued so far has ended; (succeeded, dead).
async fn imports_ended(pool: &sqlx::PgPool) -> anyhow::Result<(i64, i64)> {
    let ids: Vec<uuid::Uuid> =
        sqlx::query_scalar("SELECT id FROM jobs WHERE kind = 'magento.order.import'")
            .fetch_all(pool)
            .await?;
    for id in ids {
        switchyard_e2e::jobs::ended(pool, JobId(id)).await?;
    }
    Ok(sqlx::query_as(
        "SELECT count(*) FILTER (WHERE state = 'succeeded'), count(*) FILTER (WHERE state = 'dead')
         FROM jobs WHERE kind = 'magento.order.import'",
    )
    .fetch_one(pool)
    .await?)
}

/// How many `magento.order.status` pushes were enqueued.
async fn status_pushes(pool: &sqlx::PgPool) -> anyhow::Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM jobs WHERE kind = 'magento.order.status'")
            .fetch_one(pool)
            .await?,
    )
}

/// Cancel our copy of the order as the hub's code paths do, in one transaction; commit or not.
async fn cancel_ours(
    pool: &sqlx::PgPool,
    org: OrgId,
    increment_id: &str,
    commit: bool,
) -> anyhow::Result<()> {
    let mut tx = switchyard_store::begin(pool).await?;
    let n = sqlx::query(
        "UPDATE orders SET status = 'cancelled', updated_at = now()
         WHERE org_id = $1 AND order_number = $2",
    )
    .bind(org.0)
    .bind(format!("MAGENTO-{increment_id}"))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    assert_eq!(n, 1);
    if commit {
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    Ok(())
}

/// Set our order's status as a code path without a reason would, in one statement.
async fn set_status(
    pool: &sqlx::PgPool,
    org: OrgId,
    increment_id: &str,
    status: &str,
) -> anyhow::Result<()> {
    let n = sqlx::query(
        "UPDATE orders SET status = $3, updated_at = now() WHERE org_id = $1 AND order_number = $2",
    )
    .bind(org.0)
    .bind(format!("MAGENTO-{increment_id}"))
    .bind(status)
    .execute(pool)
    .await?
    .rows_affected();
    assert_eq!(n, 1);
    Ok(())
}

/// The one `magento.order.status` job of `action` for our copy of `increment_id`.
async fn only_push(
    pool: &sqlx::PgPool,
    org: OrgId,
    increment_id: &str,
    action: &str,
) -> anyhow::Result<JobId> {
    let ids: Vec<uuid::Uuid> = sqlx::query_scalar(
        "SELECT id FROM jobs WHERE kind = 'magento.order.status'
           AND payload->'change'->>'action' = $3
           AND payload->>'order_id' =
               (SELECT id::text FROM orders WHERE org_id = $1 AND order_number = $2)",
    )
    .bind(org.0)
    .bind(format!("MAGENTO-{increment_id}"))
    .bind(action)
    .fetch_all(pool)
    .await?;
    assert_eq!(ids.len(), 1, "{action} pushes of {increment_id}: {ids:?}");
    Ok(JobId(ids[0]))
}

/// (status, customer_po, canonical) of the order stored for `increment_id`.
async fn stored(
    pool: &sqlx::PgPool,
    org: OrgId,
    increment_id: &str,
) -> anyhow::Result<Option<(String, String, Value)>> {
    Ok(sqlx::query_as(
        "SELECT status, customer_po, canonical FROM orders WHERE org_id = $1 AND order_number = $2",
    )
    .bind(org.0)
    .bind(format!("MAGENTO-{increment_id}"))
    .fetch_optional(pool)
    .await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_are_pulled_imported_once_edited_cancelled_and_shipped_back() -> anyhow::Result<()> {
    let fake = FakeMagento::start(FakeStoreConfig::default()).await?;
    let (daemon, pool, org) = daemon(&fake).await?;
    let queue = daemon.queue.clone();
    product(&pool, org, "BOLT-M8").await?;
    product(&pool, org, "TEE-RED-L").await?;

    let mut orders = Vec::new();
    for q in 1..=60 {
        orders.push(fake.create_order("a@example.com", &[FakeLine::simple("BOLT-M8", q, 0.35)]));
    }
    let tee = fake.create_order(
        "b@example.com",
        &[
            FakeLine::configurable("TEE-RED-L", 2, 50.0),
            FakeLine::simple("BOLT-M8", 1, 0.35),
        ],
    );
    let unknown = fake.create_order("c@example.com", &[FakeLine::simple("NUT-M8", 5, 0.1)]);

    // 1. The first pull (two pages of 50): 62 imports, one dead letter.
    assert_eq!(run(&queue, pull(org, "pull-1")).await?, "succeeded");
    assert_eq!(imports_ended(&pool).await?, (61, 1));
    let (pulled, since): (i64, Option<String>) = sqlx::query_as(
        "SELECT pulled, checkpoint->>'since' FROM magento_order_pulls WHERE org_id = $1 AND partner = 'shop'",
    )
    .bind(org.0)
    .fetch_one(&pool)
    .await?;
    assert_eq!(pulled, 62);
    assert_eq!(since.as_deref(), Some("2026-05-02T10:00:00"));

    let (status, po, canonical) = stored(&pool, org, &tee.1).await?.expect("stored");
    assert_eq!(status, "confirmed");
    assert_eq!(po, tee.1);
    let lines = canonical["lines"].as_array().expect("lines");
    assert_eq!(
        lines.len(),
        2,
        "the configurable's child line folded: {lines:?}"
    );
    assert_eq!(lines[0]["sku"], "TEE-RED-L");
    assert_eq!(lines[0]["quantity"], "2");
    assert_eq!(lines[0]["unit_price"], "50");
    assert_eq!(canonical["shipping_address"]["city"], "Chicago");
    assert!(stored(&pool, org, &unknown.1).await?.is_none());

    // The dead letter names the SKU and its field; replayed after the product exists, it imports.
    let dead = queue.list_dead_letters(org, None, None, 10).await?;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].kind, "magento.order.import");
    assert!(
        dead[0]
            .reason
            .contains("unknown SKU `NUT-M8` (field lines[1].sku)"),
        "{}",
        dead[0].reason
    );
    product(&pool, org, "NUT-M8").await?;
    let replayed = queue.replay(org, dead[0].id, None, None).await?;
    assert_eq!(
        switchyard_e2e::jobs::ended(&pool, replayed.id).await?,
        "succeeded"
    );
    assert!(stored(&pool, org, &unknown.1).await?.is_some());

    // 2. A pull with nothing changed enqueues nothing.
    assert_eq!(run(&queue, pull(org, "pull-2")).await?, "succeeded");
    let (n,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM jobs WHERE kind = 'magento.order.import'")
            .fetch_one(&pool)
            .await?;
    // The 62 pulled and the replay's own job.
    assert_eq!(
        n, 63,
        "the overlap's orders are recognised, not imported again"
    );

    // 3. An edit and a cancellation in the store: only those two are imported, and applied.
    assert!(fake.update_order(orders[3].0, |o| o["items"][0]["qty_ordered"] = json!(40)));
    assert!(fake.cancel_order(orders[4].0));
    assert_eq!(run(&queue, pull(org, "pull-3")).await?, "succeeded");
    assert_eq!(imports_ended(&pool).await?, (64, 1));
    let (_, _, canonical) = stored(&pool, org, &orders[3].1).await?.expect("stored");
    assert_eq!(canonical["lines"][0]["quantity"], "40");
    let (status, _, _) = stored(&pool, org, &orders[4].1).await?.expect("stored");
    assert_eq!(status, "cancelled");
    assert_eq!(
        status_pushes(&pool).await?,
        0,
        "a cancellation that came from the store is not pushed back to it"
    );
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM orders WHERE org_id = $1")
        .bind(org.0)
        .fetch_one(&pool)
        .await?;
    assert_eq!(n, 62, "one canonical order per Magento order");

    // 4. A shipment back: one Magento shipment with its tracks; pushed again, none more.
    let shipment = json!({
        "shipment_number": "SH-1", "order_number": format!("MAGENTO-{}", tee.1),
        "carrier": "FedEx", "service": "Ground", "shipped_at": "2026-12-05T12:00:00Z",
        "packages": [{"sscc": null, "tracking_number": "7712 3456 7890", "weight": null, "weight_uom": null,
                      "lines": [{"sku": "TEE-RED-L", "quantity": "2", "uom": "EA"},
                                {"sku": "BOLT-M8", "quantity": "1", "uom": "EA"}]}],
    });
    for key in ["ship-1", "ship-1-again"] {
        let job = NewJob::new(
            org,
            "partner.push",
            json!({"document": "shipment", "body": shipment}),
        )
        .partner("shop")
        .key(key);
        assert_eq!(run(&queue, job).await?, "succeeded");
    }
    let shipped = fake.shipments_of(tee.0);
    assert_eq!(shipped.len(), 1, "{shipped:?}");
    let body = &shipped[0].0;
    assert_eq!(
        body["tracks"],
        json!([{"track_number": "7712 3456 7890", "title": "FedEx", "carrier_code": "fedex"}])
    );
    assert_eq!(body["notify"], true);
    assert_eq!(
        body["arguments"]["extension_attributes"]["source_code"],
        "chicago"
    );
    assert_eq!(fake.order(tee.0).expect("order")["state"], "complete");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_cancellation_of_a_magento_order_is_pushed_to_the_store_with_a_note(
) -> anyhow::Result<()> {
    let fake = FakeMagento::start(FakeStoreConfig::default()).await?;
    let (daemon, pool, org) = daemon(&fake).await?;
    let queue = daemon.queue.clone();
    product(&pool, org, "BOLT-M8").await?;
    let open = fake.create_order("a@example.com", &[FakeLine::simple("BOLT-M8", 3, 0.35)]);
    let done = fake.create_order("b@example.com", &[FakeLine::simple("BOLT-M8", 1, 0.35)]);
    assert_eq!(run(&queue, pull(org, "pull-1")).await?, "succeeded");
    assert_eq!(imports_ended(&pool).await?, (2, 0));
    assert_eq!(status_pushes(&pool).await?, 0, "imports push nothing back");

    // Our order moving on is a status note, which this connection does not send
    // (`status_notes` is off by default): the job ends without a call.
    set_status(&pool, org, &done.1, "ready").await?;
    let note = only_push(&pool, org, &done.1, "comment").await?;
    assert_eq!(switchyard_e2e::jobs::ended(&pool, note).await?, "succeeded");
    assert!(fake.writes().is_empty(), "{:?}", fake.writes());

    // A cancellation rolled back enqueues nothing: the push is part of its transaction.
    cancel_ours(&pool, org, &open.1, false).await?;
    assert_eq!(status_pushes(&pool).await?, 1);

    // Committed: one push, which cancels the store's order and leaves the note.
    cancel_ours(&pool, org, &open.1, true).await?;
    let (id, partner): (uuid::Uuid, Option<String>) = sqlx::query_as(
        "SELECT id, partner FROM jobs WHERE kind = 'magento.order.status'
         AND payload->'change'->>'action' = 'cancel'",
    )
    .fetch_one(&pool)
    .await?;
    assert_eq!(partner.as_deref(), Some("shop"));
    assert_eq!(
        switchyard_e2e::jobs::ended(&pool, JobId(id)).await?,
        "succeeded"
    );
    let order = fake.order(open.0).expect("order");
    assert_eq!(order["state"], "canceled");
    assert_eq!(
        order["status_histories"][0]["comment"],
        "Cancelled in Switchyard (the order was confirmed)."
    );
    let writes: Vec<String> = fake.writes().into_iter().map(|w| w.route).collect();
    assert_eq!(
        writes,
        [
            format!("V1/orders/{}/cancel", open.0),
            format!("V1/orders/{}/comments", open.0)
        ]
    );

    // The store's order is complete (shipped in its admin): Magento will not cancel it. A dead
    // letter naming the state, nothing written but the refused call.
    assert!(fake.update_order(done.0, |o| {
        o["state"] = json!("complete");
        o["status"] = json!("complete");
    }));
    cancel_ours(&pool, org, &done.1, true).await?;
    let id = only_push(&pool, org, &done.1, "cancel").await?;
    assert_eq!(switchyard_e2e::jobs::ended(&pool, id).await?, "dead");
    let dead = queue.list_dead_letters(org, None, None, 10).await?;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].kind, "magento.order.status");
    assert!(
        dead[0].reason.contains(&format!(
            "refused to cancel order {}: its state is `complete`",
            done.1
        )),
        "{}",
        dead[0].reason
    );
    assert_eq!(fake.order(done.0).expect("order")["state"], "complete");
    Ok(())
}

/// Wait until every `magento.order.status` job so far has ended; how many there are.
async fn pushes_ended(pool: &sqlx::PgPool) -> anyhow::Result<usize> {
    let ids: Vec<uuid::Uuid> =
        sqlx::query_scalar("SELECT id FROM jobs WHERE kind = 'magento.order.status'")
            .fetch_all(pool)
            .await?;
    for id in &ids {
        assert_eq!(
            switchyard_e2e::jobs::ended(pool, JobId(*id)).await?,
            "succeeded"
        );
    }
    Ok(ids.len())
}

/// Hold, release or cancel our copy of `increment_id` as `POST /orders/{id}/hold|release|cancel`
/// does (the same store call, in its one transaction).
async fn change(
    pool: &sqlx::PgPool,
    org: OrgId,
    increment_id: &str,
    change: switchyard_store::order_status::Change<'_>,
) -> anyhow::Result<()> {
    let id: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM orders WHERE org_id = $1 AND order_number = $2")
            .bind(org.0)
            .bind(format!("MAGENTO-{increment_id}"))
            .fetch_one(pool)
            .await?;
    switchyard_store::order_status::change(pool, org, switchyard_core::ids::OrderId(id), change)
        .await?;
    Ok(())
}

/// The notes in the store's history of order `id`.
fn notes(fake: &FakeMagento, id: i64) -> Vec<String> {
    fake.order(id).expect("order")["status_histories"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|h| h["comment"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holds_releases_and_notes_reach_the_store_and_its_own_changes_come_back_once(
) -> anyhow::Result<()> {
    use switchyard_store::order_status::Change;
    let fake = FakeMagento::start(FakeStoreConfig::default()).await?;
    let (daemon, pool, org) = daemon_with(&fake, "status_notes = true\n").await?;
    let queue = daemon.queue.clone();
    product(&pool, org, "BOLT-M8").await?;
    let a = fake.create_order("a@example.com", &[FakeLine::simple("BOLT-M8", 3, 0.35)]);
    let b = fake.create_order("b@example.com", &[FakeLine::simple("BOLT-M8", 2, 0.35)]);
    let c = fake.create_order("c@example.com", &[FakeLine::simple("BOLT-M8", 1, 0.35)]);
    assert_eq!(run(&queue, pull(org, "pull-1")).await?, "succeeded");
    assert_eq!(imports_ended(&pool).await?, (3, 0));

    // 1. Our hold reaches the store with its reason; our release unholds it.
    let hold = Change::Hold {
        reason: "payment check",
    };
    change(&pool, org, &a.1, hold).await?;
    assert_eq!(pushes_ended(&pool).await?, 1);
    assert_eq!(fake.order(a.0).expect("order")["state"], "holded");
    change(&pool, org, &a.1, Change::Release { note: None }).await?;
    assert_eq!(pushes_ended(&pool).await?, 2);
    assert_eq!(fake.order(a.0).expect("order")["state"], "new");
    assert_eq!(
        stored(&pool, org, &a.1).await?.expect("stored").0,
        "confirmed"
    );

    // 2. Held again and cancelled while held: Magento cancels no held order, so the push
    //    unholds it first.
    change(&pool, org, &a.1, hold).await?;
    assert_eq!(pushes_ended(&pool).await?, 3);
    change(
        &pool,
        org,
        &a.1,
        Change::Cancel {
            reason: "customer withdrew",
        },
    )
    .await?;
    assert_eq!(pushes_ended(&pool).await?, 4);
    assert_eq!(fake.order(a.0).expect("order")["state"], "canceled");
    assert_eq!(
        notes(&fake, a.0),
        [
            "Put on hold in Switchyard: payment check.",
            "Released in Switchyard (back to confirmed).",
            "Cancelled in Switchyard (the order was on_hold): customer withdrew."
        ],
        "the second hold's note is the first's, not added twice"
    );
    let routes: Vec<String> = fake.writes().into_iter().map(|w| w.route).collect();
    let tail: Vec<&str> = routes
        .iter()
        .rev()
        .take(3)
        .rev()
        .map(String::as_str)
        .collect();
    assert_eq!(
        tail,
        [
            format!("V1/orders/{}/unhold", a.0),
            format!("V1/orders/{}/cancel", a.0),
            format!("V1/orders/{}/comments", a.0)
        ]
    );

    // 3. Our order moving on is a status note (the connection asks for them).
    set_status(&pool, org, &b.1, "in_production").await?;
    assert_eq!(pushes_ended(&pool).await?, 5);
    assert_eq!(
        notes(&fake, b.0),
        ["Switchyard: the order is in production."]
    );

    // 4. Each push moved the store's `updated_at`: the next pull imports a and b again. Our
    //    statuses stay (b is not put back to confirmed), and nothing is pushed back: no loop.
    assert_eq!(run(&queue, pull(org, "pull-2")).await?, "succeeded");
    assert_eq!(imports_ended(&pool).await?, (5, 0));
    assert_eq!(
        stored(&pool, org, &a.1).await?.expect("stored").0,
        "cancelled"
    );
    assert_eq!(
        stored(&pool, org, &b.1).await?.expect("stored").0,
        "in_production"
    );
    assert_eq!(status_pushes(&pool).await?, 5);

    // 5. The store's admin holds c: the pull holds ours, and pushes nothing back; the
    //    admin's release releases ours to where it was.
    assert!(fake.update_order(c.0, |o| {
        o["hold_before_state"] = o["state"].clone();
        o["hold_before_status"] = o["status"].clone();
        o["state"] = json!("holded");
        o["status"] = json!("holded");
    }));
    assert_eq!(run(&queue, pull(org, "pull-3")).await?, "succeeded");
    assert_eq!(imports_ended(&pool).await?, (6, 0));
    assert_eq!(
        stored(&pool, org, &c.1).await?.expect("stored").0,
        "on_hold"
    );
    assert!(fake.update_order(c.0, |o| {
        o["state"] = json!("processing");
        o["status"] = json!("processing");
    }));
    assert_eq!(run(&queue, pull(org, "pull-4")).await?, "succeeded");
    assert_eq!(imports_ended(&pool).await?, (7, 0));
    assert_eq!(
        stored(&pool, org, &c.1).await?.expect("stored").0,
        "confirmed"
    );
    assert_eq!(
        status_pushes(&pool).await?,
        5,
        "changes that came from the store are not pushed back to it"
    );
    assert!(notes(&fake, c.0).is_empty());
    Ok(())
}
