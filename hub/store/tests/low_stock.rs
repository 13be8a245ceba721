//! `inventory.low` (migrations/0019_low_stock.sql): one event when a level's available stock
//! falls to or below its threshold, none while it stays low, a new one after it recovered;
//! reservations at the location lower what is available, and releasing them gives it back.
//! Thresholds by scope (migrations/0024): the level's own, then the product's, the
//! location's and the organization's default; a rule set or cleared re-checks its levels.

use rust_decimal::Decimal;
use sqlx::PgPool;
use switchyard_core::ids::OrgId;
use switchyard_store::low_stock::{self, Scope};
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

/// Two products at two locations: IPH15 at MAIN (its own threshold 5) and at DFW, S23 at
/// MAIN (neither with its own), 20 of each.
async fn scoped(pool: &PgPool) -> Uuid {
    let org = setup(pool).await;
    for sql in [
        "INSERT INTO products (org_id, sku, name) VALUES ($1, 'IPH15', 'iPhone 15'), ($1, 'S23', 'Galaxy S23')",
        "INSERT INTO inventory_locations (org_id, code, name) VALUES ($1, 'DFW', 'Dallas')",
        "INSERT INTO inventory_levels (org_id, sku, location, on_hand)
         VALUES ($1, 'IPH15', 'DFW', 20), ($1, 'S23', 'MAIN', 20)",
    ] {
        sqlx::query(sql).bind(org).execute(pool).await.unwrap();
    }
    org
}

async fn set(pool: &PgPool, org: Uuid, sku: Option<&str>, location: Option<&str>, t: Option<i64>) {
    let scope = Scope::of(sku.map(str::to_owned), location.map(str::to_owned));
    low_stock::set(pool, OrgId(org), &scope, t.map(Decimal::from))
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{scope:?}: {e:?}"));
}

/// The threshold that applies to (sku, location), and the level's own.
async fn threshold(pool: &PgPool, org: Uuid, sku: &str, location: &str) -> (i64, Option<i64>) {
    let (t, own) = low_stock::effective(pool, OrgId(org), sku, location)
        .await
        .unwrap()
        .expect("a level");
    let int = |d: Decimal| i64::try_from(d).unwrap();
    (int(t), own.map(int))
}

/// (sku, location, threshold) of each `inventory.low`, in order.
async fn crossings(pool: &PgPool, org: Uuid) -> Vec<(String, String, String)> {
    lows(pool, org)
        .await
        .into_iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap().to_owned();
            (s("sku"), s("location"), s("threshold"))
        })
        .collect()
}

fn c(sku: &str, location: &str, threshold: &str) -> (String, String, String) {
    (sku.into(), location.into(), threshold.into())
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn the_most_specific_threshold_applies_and_a_new_one_is_checked_at_once(pool: PgPool) {
    let org = scoped(&pool).await;
    assert_eq!(
        threshold(&pool, org, "S23", "MAIN").await,
        (0, None),
        "none set: no alert"
    );

    // The default: 25 reaches every level without its own; IPH15 at MAIN keeps its 5.
    set(&pool, org, None, None, Some(25)).await;
    assert_eq!(threshold(&pool, org, "IPH15", "MAIN").await, (5, Some(5)));
    assert_eq!(threshold(&pool, org, "IPH15", "DFW").await, (25, None));
    assert_eq!(
        crossings(&pool, org).await,
        [c("IPH15", "DFW", "25"), c("S23", "MAIN", "25")],
        "20 is at or below 25: crossed when the default was set"
    );

    // The location beats the default: S23 at MAIN recovers above 8.
    set(&pool, org, None, Some("MAIN"), Some(8)).await;
    assert_eq!(threshold(&pool, org, "S23", "MAIN").await, (8, None));
    // The product beats the location and the default; IPH15 at DFW was low and stays low.
    set(&pool, org, Some("IPH15"), None, Some(30)).await;
    assert_eq!(threshold(&pool, org, "IPH15", "DFW").await, (30, None));
    assert_eq!(
        threshold(&pool, org, "IPH15", "MAIN").await,
        (5, Some(5)),
        "the level's own wins"
    );
    assert_eq!(crossings(&pool, org).await.len(), 2, "no new crossing");

    // The level's own cleared: IPH15 at MAIN inherits the product's 30 and crosses it.
    set(&pool, org, Some("IPH15"), Some("MAIN"), None).await;
    assert_eq!(threshold(&pool, org, "IPH15", "MAIN").await, (30, None));
    assert_eq!(crossings(&pool, org).await[2], c("IPH15", "MAIN", "30"));

    // S23 at MAIN falls under the location's 8: one event; lower still: none.
    sqlx::query("UPDATE inventory_levels SET on_hand = 8 WHERE org_id = $1 AND sku = 'S23'")
        .bind(org)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE inventory_levels SET on_hand = 1 WHERE org_id = $1 AND sku = 'S23'")
        .bind(org)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(crossings(&pool, org).await[3..], [c("S23", "MAIN", "8")]);

    // A level set to 0 is silent whatever its product says, and it stops being low.
    set(&pool, org, Some("IPH15"), Some("DFW"), Some(0)).await;
    assert_eq!(threshold(&pool, org, "IPH15", "DFW").await, (0, Some(0)));
    on_hand(&pool, org, 0).await;
    let low_now: Vec<(String, String)> = sqlx::query_as(
        "SELECT sku, location FROM inventory_low_state WHERE org_id = $1 ORDER BY 1, 2",
    )
    .bind(org)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        low_now,
        [
            ("IPH15".into(), "MAIN".into()),
            ("S23".into(), "MAIN".into())
        ]
    );
    assert_eq!(crossings(&pool, org).await.len(), 4);

    // Rules as listed: the product's, the location's, the default.
    let rules = low_stock::rules(&pool, OrgId(org)).await.unwrap();
    let listed: Vec<(Option<&str>, Option<&str>, String)> = rules
        .iter()
        .map(|r| {
            (
                r.sku.as_deref(),
                r.location.as_deref(),
                r.threshold.to_string(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            (Some("IPH15"), None, "30".into()),
            (None, Some("MAIN"), "8".into()),
            (None, None, "25".into())
        ]
    );
    // Cleared, the default is gone and S23 at MAIN still has its location's.
    set(&pool, org, None, None, None).await;
    assert_eq!(low_stock::rules(&pool, OrgId(org)).await.unwrap().len(), 2);
    assert_eq!(threshold(&pool, org, "S23", "MAIN").await, (8, None));
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_product_threshold_records_one_event_per_downward_crossing(pool: PgPool) {
    let org = scoped(&pool).await;
    set(&pool, org, Some("S23"), None, Some(10)).await;
    let s23 = |n: i32| {
        let pool = pool.clone();
        async move {
            sqlx::query(
                "UPDATE inventory_levels SET on_hand = $2 WHERE org_id = $1 AND sku = 'S23'",
            )
            .bind(org)
            .bind(n)
            .execute(&pool)
            .await
            .unwrap();
        }
    };
    s23(11).await;
    assert!(crossings(&pool, org).await.is_empty(), "11 is above 10");
    s23(10).await;
    s23(4).await;
    assert_eq!(crossings(&pool, org).await, [c("S23", "MAIN", "10")]);
    s23(30).await;
    s23(9).await;
    assert_eq!(
        crossings(&pool, org).await.len(),
        2,
        "recovered, then crossed again"
    );
    // Raising the threshold above a level that is already low is no new crossing.
    set(&pool, org, Some("S23"), None, Some(12)).await;
    assert_eq!(crossings(&pool, org).await.len(), 2);
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn unknown_skus_locations_and_levels_are_refused_naming_the_field(pool: PgPool) {
    let org = OrgId(scoped(&pool).await);
    let refused = |sku: Option<&str>, location: Option<&str>| {
        let pool = pool.clone();
        let scope = Scope::of(sku.map(str::to_owned), location.map(str::to_owned));
        async move {
            low_stock::set(&pool, org, &scope, Some(Decimal::ONE))
                .await
                .unwrap()
                .expect_err("refused")
        }
    };
    assert_eq!(refused(Some("NOPE"), None).await.field, "sku");
    assert_eq!(refused(None, Some("NOWHERE")).await.field, "location");
    let e = refused(Some("S23"), Some("DFW")).await;
    assert_eq!(e.field, "location");
    assert!(e.message.contains("no stock level"), "{}", e.message);
    assert!(low_stock::rules(&pool, org).await.unwrap().is_empty());
}
