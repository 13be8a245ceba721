//! The repository's `schedules/reservation-expiry.toml` in a running daemon (scheduler and
//! worker): its job kind is known, and a reservation whose time is up is marked expired by
//! the job it fires, its stock counts again and the change reaches the feed as an inventory
//! change. The schedule runs every second here instead of every minute (the only line
//! changed), so the test waits for the job, not for the clock.

use sqlx::PgPool;
use std::time::Duration;
use switchyard_daemon::app::Roles;
use switchyard_e2e::{count, eventually, TestDaemon};
use switchyard_store::catalog::{self, AvailabilityStatus, PriceVisibility, ProductRecord};
use switchyard_store::feed::{self, FeedEntity};
use switchyard_store::inventory::{self, LevelRecord, Line, Location, Reserved};

fn product(sku: &str) -> ProductRecord {
    ProductRecord {
        sku: sku.into(),
        name: sku.into(),
        gtin: None,
        uom: "EA".into(),
        active: true,
        short_description: None,
        long_description: None,
        category: None,
        specifications: serde_json::json!([]),
        dimensions: serde_json::json!({}),
        material_grade: None,
        material_specification: None,
        material_finish: None,
        price_visibility: PriceVisibility::Public,
        availability_status: AvailabilityStatus::InStock,
        lead_time_days: None,
        web_visible: true,
        tags: vec![],
        seo_slug: None,
        seo_title: None,
        seo_description: None,
        product_type: None,
        tax_code: None,
        attributes: serde_json::json!({}),
        variants: None,
    }
}

async fn available(pool: &PgPool, org: switchyard_core::ids::OrgId) -> anyhow::Result<String> {
    Ok(inventory::stock(pool, org, &["P1".into()]).await?[0]
        .available
        .to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduled_job_expires_reservations_and_records_the_change() -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(switchyard_e2e::repo().join("schedules/reservation-expiry.toml"))?;
    let every_minute = "cron = \"0 * * * * *\"";
    assert_eq!(text.matches(every_minute).count(), 1, "{text}");
    let every_second = text.replace(every_minute, "cron = \"* * * * * *\"");
    let daemon = TestDaemon::builder()
        .roles(Roles {
            api: false,
            worker: true,
            scheduler: true,
        })
        .schedule("reservation-expiry", &every_second)
        .start()
        .await?;
    let pool = daemon.db.pool.clone();
    let org = daemon.org("shop").await?;
    let stored = catalog::upsert_products(&pool, org, &[product("P1")]).await?;
    assert!(stored[0].is_ok(), "{stored:?}");
    inventory::upsert_location(
        &pool,
        org,
        &Location {
            code: "W1".into(),
            name: "Chicago".into(),
            city: None,
            region: None,
            ships_to: vec![],
        },
    )
    .await?;
    inventory::upsert_levels(
        &pool,
        org,
        &[LevelRecord {
            sku: "P1".into(),
            location: "W1".into(),
            on_hand: 10.into(),
            allocated: 0.into(),
            on_order: 0.into(),
            low_stock_threshold: None,
            on_hand_at_least: false,
        }],
    )
    .await?;
    let line = Line {
        sku: "P1".into(),
        location: Some("W1".into()),
        quantity: 4.into(),
    };
    // One that is due (its minute has passed: moved into the past, as time would) and one
    // that is not.
    let mut ids = Vec::new();
    for reference in ["due", "held"] {
        match inventory::reserve(&pool, org, reference, std::slice::from_ref(&line), 60).await? {
            Reserved::Held(r) => ids.push(r.id),
            short => anyhow::bail!("{short:?}"),
        }
    }
    sqlx::query(
        "UPDATE inventory_reservations SET expires_at = now() - interval '1 second' WHERE id = $1",
    )
    .bind(ids[0])
    .execute(&pool)
    .await?;
    assert_eq!(
        available(&pool, org).await?,
        "6",
        "a due reservation no longer counts"
    );
    let head = feed::head(&pool, org).await?;

    eventually(
        Duration::from_secs(60),
        "the due reservation to expire",
        || {
            let pool = pool.clone();
            async move {
                Ok(count(
                    &pool,
                    "SELECT count(*) FROM inventory_reservations WHERE release_reason = 'expired'",
                )
                .await?
                    == 1)
            }
        },
    )
    .await?;
    let job_runs = count(
        &pool,
        "SELECT count(*) FROM jobs WHERE kind = 'inventory.reservations.expire' AND state = 'succeeded'",
    )
    .await?;
    assert!(job_runs >= 1, "the schedule's job ran");
    let expired: Option<String> =
        sqlx::query_scalar("SELECT release_reason FROM inventory_reservations WHERE id = $1")
            .bind(ids[1])
            .fetch_one(&pool)
            .await?;
    assert_eq!(expired, None, "the reservation still held is untouched");
    let changes = feed::changed_since(&pool, org, FeedEntity::Inventory, head, 10).await?;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!((changes[0].sku.as_str(), changes[0].seq), ("P1", head + 1));
    assert_eq!(available(&pool, org).await?, "6");
    daemon.stop().await
}
