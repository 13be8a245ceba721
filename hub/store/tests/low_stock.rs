//! `inventory.low` (migrations/0019_low_stock.sql): one event when a level's available stock
//! falls to or below its threshold, none while it stays low, a new one after it recovered;
//! reservations at the location lower what is available, and releasing them gives it back.

use sqlx::PgPool;
use switchyard_store::MIGRATOR;
use uuid::Uuid;

async fn setup(pool: &PgPool) -> Uuid {
    let org = switchyard_store::orgs::ensure(pool, "default")
        .await
        .unwrap()
        .id
        .0;
    sqlx::query("INSERT INTO inventory_locations (org_id, code, name) VALUES ($1, 'MAIN', 'Main')")
        .bind(org)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO inventory_levels (org_id, sku, location, on_hand, low_stock_threshold)
         VALUES ($1, 'IPH15', 'MAIN', 20, 5)",
    )
    .bind(org)
    .execute(pool)
    .await
    .unwrap();
    org
}

async fn on_hand(pool: &PgPool, org: Uuid, n: i32) {
    sqlx::query("UPDATE inventory_levels SET on_hand = $2 WHERE org_id = $1 AND sku = 'IPH15'")
        .bind(org)
        .bind(n)
        .execute(pool)
        .await
        .unwrap();
}

async fn lows(pool: &PgPool, org: Uuid) -> Vec<serde_json::Value> {
    sqlx::query_scalar(
        "SELECT data FROM events WHERE org_id = $1 AND type = 'inventory.low' ORDER BY id",
    )
    .bind(org)
    .fetch_all(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn one_event_per_downward_crossing(pool: PgPool) {
    let org = setup(&pool).await;
    assert!(lows(&pool, org).await.is_empty());
    on_hand(&pool, org, 6).await;
    assert!(lows(&pool, org).await.is_empty(), "6 is above 5");
    on_hand(&pool, org, 5).await;
    let events = lows(&pool, org).await;
    assert_eq!(
        events,
        [
            serde_json::json!({"sku": "IPH15", "location": "MAIN", "available": "5", "threshold": "5"})
        ]
    );
    // Staying low, even lower: nothing new.
    on_hand(&pool, org, 2).await;
    on_hand(&pool, org, 0).await;
    assert_eq!(lows(&pool, org).await.len(), 1);
    // Recovered, then low again: a second event.
    on_hand(&pool, org, 12).await;
    assert_eq!(lows(&pool, org).await.len(), 1);
    on_hand(&pool, org, 3).await;
    let events = lows(&pool, org).await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[1]["available"], "3");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn reservations_at_the_location_lower_what_is_available(pool: PgPool) {
    let org = setup(&pool).await;
    on_hand(&pool, org, 10).await;
    let r = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO inventory_reservations (id, org_id, reference, expires_at)
         VALUES ($1, $2, 'cart-1', now() + interval '1 hour')",
    )
    .bind(r)
    .bind(org)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO inventory_reservation_lines (reservation_id, line, org_id, sku, location, quantity)
         VALUES ($1, 1, $2, 'IPH15', 'MAIN', 7)",
    )
    .bind(r)
    .bind(org)
    .execute(&pool)
    .await
    .unwrap();
    let events = lows(&pool, org).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["available"], "3");
    // Released: back to 10, recovered; a new reservation crosses again.
    sqlx::query("UPDATE inventory_reservations SET released_at = now(), release_reason = 'released' WHERE id = $1")
        .bind(r)
        .execute(&pool)
        .await
        .unwrap();
    on_hand(&pool, org, 4).await;
    assert_eq!(lows(&pool, org).await.len(), 2);
    // A threshold of 0 turns the alert off.
    sqlx::query(
        "UPDATE inventory_levels SET low_stock_threshold = 0, on_hand = 20 WHERE org_id = $1",
    )
    .bind(org)
    .execute(&pool)
    .await
    .unwrap();
    on_hand(&pool, org, 0).await;
    assert_eq!(lows(&pool, org).await.len(), 2);
}
