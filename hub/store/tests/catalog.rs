//! The catalog, inventory and the change feed against a real Postgres (a fresh database per
//! test): idempotent upserts leave the feed alone, every change advances it once, a tombstone
//! reaches it as deleted, numbers follow commit order across two real connections, concurrent
//! reservations never hold more than there is, and expiry gives stock back through the feed.

use chrono::{Duration, Utc};
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::{Connection, PgConnection, PgPool};
use std::sync::Arc;
use switchyard_core::ids::OrgId;
use switchyard_store::catalog::{
    self, AvailabilityStatus, Outcome, PriceVisibility, ProductRecord, VariantRecord,
};
use switchyard_store::feed::{self, Change, FeedEntity};
use switchyard_store::inventory::{self, LevelRecord, Line, Location, Release, Reserved};
use switchyard_store::orgs;

async fn org(pool: &PgPool, slug: &str) -> OrgId {
    orgs::ensure(pool, slug).await.unwrap().id
}

fn product(sku: &str) -> ProductRecord {
    ProductRecord {
        sku: sku.into(),
        name: format!("Plate {sku}"),
        gtin: None,
        uom: "EA".into(),
        active: true,
        short_description: Some("A36 plate".into()),
        long_description: None,
        category: None,
        specifications: json!([{"name": "Yield Strength", "value": "36,000 PSI min", "display_order": 1}]),
        dimensions: json!({"thickness": {"value": 0.25, "unit": "IN"}}),
        material_grade: Some("A36".into()),
        material_specification: Some("ASTM A36".into()),
        material_finish: Some("Hot Rolled".into()),
        price_visibility: PriceVisibility::Public,
        availability_status: AvailabilityStatus::InStock,
        lead_time_days: Some(3),
        web_visible: true,
        tags: vec!["plate".into()],
        seo_slug: Some(format!("plate-{}", sku.to_lowercase())),
        seo_title: None,
        seo_description: None,
        product_type: None,
        tax_code: None,
        attributes: serde_json::json!({}),
        variants: None,
    }
}

async fn upsert(pool: &PgPool, org: OrgId, p: &ProductRecord) -> Outcome {
    let mut r = catalog::upsert_products(pool, org, std::slice::from_ref(p))
        .await
        .unwrap();
    r.pop().unwrap().unwrap()
}

async fn changes(pool: &PgPool, org: OrgId, entity: FeedEntity, after: i64) -> Vec<Change> {
    feed::changed_since(pool, org, entity, after, 500)
        .await
        .unwrap()
}

/// A product with `on_hand` at location W1.
async fn stocked(pool: &PgPool, org: OrgId, sku: &str, on_hand: i64) {
    upsert(pool, org, &product(sku)).await;
    inventory::upsert_location(
        pool,
        org,
        &Location {
            code: "W1".into(),
            name: "Chicago".into(),
            city: Some("Chicago".into()),
            region: Some("IL".into()),
            ships_to: vec!["IL".into(), "WI".into()],
        },
    )
    .await
    .unwrap();
    let r = inventory::upsert_levels(
        pool,
        org,
        &[LevelRecord {
            sku: sku.into(),
            location: "W1".into(),
            on_hand: on_hand.into(),
            allocated: Decimal::ZERO,
            on_order: Decimal::ZERO,
            low_stock_threshold: None,
            on_hand_at_least: false,
        }],
    )
    .await
    .unwrap();
    assert!(r[0].is_ok(), "{r:?}");
}

fn line(sku: &str, location: Option<&str>, quantity: i64) -> Line {
    Line {
        sku: sku.into(),
        location: location.map(str::to_owned),
        quantity: quantity.into(),
    }
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn an_unchanged_upsert_does_not_advance_the_feed(pool: PgPool) {
    let org = org(&pool, "acme").await;
    assert_eq!(feed::head(&pool, org).await.unwrap(), 0);
    let mut p = product("P1");
    p.variants = Some(vec![VariantRecord {
        sku: "P1-A".into(),
        name: Some("1/4 in".into()),
        options: json!({"thickness": "1/4 in"}),
        gtin: None,
        units: None,
    }]);
    assert_eq!(upsert(&pool, org, &p).await, Outcome::Created);
    let head = feed::head(&pool, org).await.unwrap();
    let first = changes(&pool, org, FeedEntity::Catalog, 0).await;
    let skus: Vec<&str> = first.iter().map(|c| c.sku.as_str()).collect();
    assert_eq!(
        skus,
        ["P1-A", "P1"],
        "the variant and its product, product last"
    );

    // The same item again, variants and all: nothing written, the feed stands still.
    assert_eq!(upsert(&pool, org, &p).await, Outcome::Unchanged);
    assert_eq!(feed::head(&pool, org).await.unwrap(), head);
    assert!(changes(&pool, org, FeedEntity::Catalog, head)
        .await
        .is_empty());
    // The orders route's upsert of the same product, which sets `updated_at` every time, does
    // not move it either: the trigger ignores a change to `updated_at` alone.
    sqlx::query("UPDATE products SET updated_at = now() WHERE org_id = $1")
        .bind(org.0)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(feed::head(&pool, org).await.unwrap(), head);

    // One field changed: one change, of that product.
    p.lead_time_days = Some(5);
    assert_eq!(upsert(&pool, org, &p).await, Outcome::Updated);
    let after = changes(&pool, org, FeedEntity::Catalog, head).await;
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after[0].sku, "P1");
    assert_eq!(after[0].seq, head + 1);
    assert_eq!(feed::head(&pool, org).await.unwrap(), head + 1);
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn a_variants_units_are_stored_and_move_its_products_stock_and_prices(pool: PgPool) {
    let org = org(&pool, "acme").await;
    let mut p = product("RB");
    let length = |sku: &str, units: Option<i64>| VariantRecord {
        sku: sku.into(),
        name: None,
        options: json!({}),
        gtin: None,
        units: units.map(Decimal::from),
    };
    p.variants = Some(vec![length("RB-12", Some(12)), length("RB-CUT", None)]);
    assert_eq!(upsert(&pool, org, &p).await, Outcome::Created);
    let stored = catalog::get_product(&pool, org, "RB")
        .await
        .unwrap()
        .unwrap();
    let units: Vec<Option<Decimal>> = stored.variants.iter().map(|v| v.units).collect();
    assert_eq!(units, [Some(Decimal::from(12)), None]);
    // A variant with units is in the product's stock and prices items: created, both moved.
    let skus = |c: Vec<Change>| c.into_iter().map(|c| c.sku).collect::<Vec<_>>();
    assert_eq!(
        skus(changes(&pool, org, FeedEntity::Inventory, 0).await),
        ["RB"]
    );
    assert_eq!(
        skus(changes(&pool, org, FeedEntity::Prices, 0).await),
        ["RB"]
    );
    let head = feed::head(&pool, org).await.unwrap();
    // New units: moved again; the same units again: nothing.
    p.variants = Some(vec![length("RB-12", Some(10)), length("RB-CUT", None)]);
    assert_eq!(upsert(&pool, org, &p).await, Outcome::Updated);
    assert_eq!(
        skus(changes(&pool, org, FeedEntity::Inventory, head).await),
        ["RB"]
    );
    assert_eq!(
        skus(changes(&pool, org, FeedEntity::Prices, head).await),
        ["RB"]
    );
    let head = feed::head(&pool, org).await.unwrap();
    assert_eq!(upsert(&pool, org, &p).await, Outcome::Unchanged);
    assert_eq!(feed::head(&pool, org).await.unwrap(), head);
    // A variant without units renamed: only the catalog moves.
    let mut renamed = length("RB-CUT", None);
    renamed.name = Some("Cut to length".into());
    p.variants = Some(vec![length("RB-12", Some(10)), renamed]);
    assert_eq!(upsert(&pool, org, &p).await, Outcome::Updated);
    assert!(changes(&pool, org, FeedEntity::Inventory, head)
        .await
        .is_empty());
    assert!(changes(&pool, org, FeedEntity::Prices, head)
        .await
        .is_empty());
    // The length removed (left out of the list): the product's items lose it, so they move.
    let head = feed::head(&pool, org).await.unwrap();
    p.variants = Some(vec![length("RB-CUT", None)]);
    assert_eq!(upsert(&pool, org, &p).await, Outcome::Updated);
    assert_eq!(
        skus(changes(&pool, org, FeedEntity::Prices, head).await),
        ["RB"]
    );
    // Units must be above zero: the database refuses the rest too.
    let zero =
        sqlx::query("UPDATE product_variants SET units = 0 WHERE org_id = $1 AND sku = 'RB-CUT'")
            .bind(org.0)
            .execute(&pool)
            .await;
    assert!(zero.is_err(), "{zero:?}");
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn product_inventory_and_reservation_changes_each_advance_the_feed_once(pool: PgPool) {
    let org = org(&pool, "acme").await;
    stocked(&pool, org, "P1", 10).await;
    let head = feed::head(&pool, org).await.unwrap();

    // A product change: one catalog change.
    let mut p = product("P1");
    p.name = "Plate, renamed".into();
    upsert(&pool, org, &p).await;
    assert_eq!(feed::head(&pool, org).await.unwrap(), head + 1);
    assert_eq!(
        changes(&pool, org, FeedEntity::Catalog, head).await,
        [Change {
            seq: head + 1,
            sku: "P1".into(),
            deleted: false
        }]
    );

    // An inventory change: one inventory change, nothing in the catalog.
    let level = LevelRecord {
        sku: "P1".into(),
        location: "W1".into(),
        on_hand: 12.into(),
        allocated: 1.into(),
        on_order: Decimal::ZERO,
        low_stock_threshold: Some(2.into()),
        on_hand_at_least: false,
    };
    let r = inventory::upsert_levels(&pool, org, std::slice::from_ref(&level))
        .await
        .unwrap();
    assert_eq!(r, [Ok(Outcome::Updated)]);
    assert_eq!(feed::head(&pool, org).await.unwrap(), head + 2);
    assert_eq!(
        changes(&pool, org, FeedEntity::Inventory, head + 1).await,
        [Change {
            seq: head + 2,
            sku: "P1".into(),
            deleted: false
        }]
    );
    assert!(changes(&pool, org, FeedEntity::Catalog, head + 1)
        .await
        .is_empty());
    // The same levels again: unchanged, no change recorded.
    let r = inventory::upsert_levels(&pool, org, std::slice::from_ref(&level))
        .await
        .unwrap();
    assert_eq!(r, [Ok(Outcome::Unchanged)]);
    assert_eq!(feed::head(&pool, org).await.unwrap(), head + 2);

    // A reservation: one inventory change; its release: one more.
    let held = match inventory::reserve(&pool, org, "cart-1", &[line("P1", Some("W1"), 4)], 900)
        .await
        .unwrap()
    {
        Reserved::Held(r) => r,
        short => panic!("{short:?}"),
    };
    assert_eq!(feed::head(&pool, org).await.unwrap(), head + 3);
    let stock = inventory::stock(&pool, org, &["P1".into()]).await.unwrap();
    assert_eq!(stock[0].available, Decimal::from(12 - 1 - 4));
    assert_eq!(stock[0].reserved, Decimal::from(4));
    assert_eq!(
        inventory::release(&pool, org, held.id).await.unwrap(),
        Release::Released
    );
    assert_eq!(feed::head(&pool, org).await.unwrap(), head + 4);
    let stock = inventory::stock(&pool, org, &["P1".into()]).await.unwrap();
    assert_eq!(stock[0].available, Decimal::from(11));
    // Released twice: nothing more.
    assert_eq!(
        inventory::release(&pool, org, held.id).await.unwrap(),
        Release::AlreadyEnded
    );
    assert_eq!(feed::head(&pool, org).await.unwrap(), head + 4);
    assert_eq!(
        changes(&pool, org, FeedEntity::Inventory, head + 2).await,
        [Change {
            seq: head + 4,
            sku: "P1".into(),
            deleted: false
        }],
        "one row per item, at its latest change"
    );
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn a_removed_product_reaches_the_feed_as_a_tombstone(pool: PgPool) {
    let org = org(&pool, "acme").await;
    let mut p = product("P1");
    p.variants = Some(vec![VariantRecord {
        sku: "P1-A".into(),
        name: None,
        options: json!({"finish": "Pickled"}),
        gtin: None,
        units: None,
    }]);
    upsert(&pool, org, &p).await;
    let head = feed::head(&pool, org).await.unwrap();
    assert!(catalog::tombstone_product(&pool, org, "P1").await.unwrap());
    let gone = changes(&pool, org, FeedEntity::Catalog, head).await;
    assert!(gone.iter().any(|c| c.sku == "P1" && c.deleted), "{gone:?}");
    assert!(
        gone.iter().any(|c| c.sku == "P1-A" && c.deleted),
        "{gone:?}"
    );
    // The product's last word is its tombstone (it comes after its variant's).
    assert_eq!(
        gone.last().map(|c| (c.sku.as_str(), c.deleted)),
        Some(("P1", true))
    );
    // The row stays, marked.
    let stored = catalog::get_product(&pool, org, "P1")
        .await
        .unwrap()
        .unwrap();
    assert!(stored.deleted_at.is_some());
    assert!(stored.variants.iter().all(|v| v.deleted_at.is_some()));
    // Removed again: nothing moves. Unknown: false.
    let head = feed::head(&pool, org).await.unwrap();
    assert!(catalog::tombstone_product(&pool, org, "P1").await.unwrap());
    assert_eq!(feed::head(&pool, org).await.unwrap(), head);
    assert!(!catalog::tombstone_product(&pool, org, "NOPE")
        .await
        .unwrap());
    // An upsert brings it back, no longer deleted in the feed.
    assert_eq!(upsert(&pool, org, &p).await, Outcome::Updated);
    let back = changes(&pool, org, FeedEntity::Catalog, head).await;
    assert!(back.iter().any(|c| c.sku == "P1" && !c.deleted), "{back:?}");
    assert!(
        back.iter().any(|c| c.sku == "P1-A" && !c.deleted),
        "{back:?}"
    );
    // A removed product is not what an order line names any more.
    catalog::tombstone_product(&pool, org, "P1").await.unwrap();
    let found = switchyard_store::orders::find_product(
        &pool,
        org,
        switchyard_store::orders::ProductRef::Sku("P1"),
    )
    .await
    .unwrap();
    assert_eq!(found, None);
}

/// The backend pid of `conn`.
async fn pid(conn: &mut PgConnection) -> i32 {
    sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(conn)
        .await
        .unwrap()
}

/// Wait until backend `pid` waits for a lock (asked of the server, not guessed by time).
async fn until_waiting_for_lock(pool: &PgPool, pid: i32) {
    loop {
        let waiting: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = $1 AND NOT granted)",
        )
        .bind(pid)
        .fetch_one(pool)
        .await
        .unwrap();
        if waiting {
            return;
        }
        tokio::task::yield_now().await;
    }
}

/// The property the head row lock buys: T1 changes P1 and holds; T2 changes P2 and must wait
/// for T1 to end before it gets a number; a reader between T1's commit and T2's sees P1 and
/// moves its checkpoint there, and still finds P2 once T2 commits, with a higher number.
/// With numbers taken from a sequence, T2 would take its number first and commit first, and a
/// reader at T2's number would never see T1's change.
#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn a_later_commit_always_has_a_higher_number(pool: PgPool) {
    let org = org(&pool, "acme").await;
    upsert(&pool, org, &product("P1")).await;
    upsert(&pool, org, &product("P2")).await;
    let start = feed::head(&pool, org).await.unwrap();
    let options = pool.connect_options();
    let mut one = PgConnection::connect_with(&options).await.unwrap();
    let mut two = PgConnection::connect_with(&options).await.unwrap();
    let two_pid = pid(&mut two).await;

    let mut t1 = one.begin().await.unwrap();
    sqlx::query("UPDATE products SET name = 'first' WHERE org_id = $1 AND sku = 'P1'")
        .bind(org.0)
        .execute(&mut *t1)
        .await
        .unwrap();

    let (changed_tx, changed_rx) = tokio::sync::oneshot::channel();
    let (commit_tx, commit_rx) = tokio::sync::oneshot::channel::<()>();
    let second = tokio::spawn(async move {
        let mut t2 = two.begin().await.unwrap();
        sqlx::query("UPDATE products SET name = 'second' WHERE org_id = $1 AND sku = 'P2'")
            .bind(org.0)
            .execute(&mut *t2)
            .await
            .unwrap();
        changed_tx.send(()).unwrap();
        commit_rx.await.unwrap();
        t2.commit().await.unwrap();
    });
    // T2 is blocked on the head row T1 holds (bounded, so a T2 that never waits fails the
    // test instead of hanging it).
    tokio::time::timeout(
        std::time::Duration::from_secs(30),
        until_waiting_for_lock(&pool, two_pid),
    )
    .await
    .expect("T2 did not wait for T1: numbers would not follow commit order");
    assert!(changes(&pool, org, FeedEntity::Catalog, start)
        .await
        .is_empty());
    t1.commit().await.unwrap();
    // T2 now has its number and has not committed: a reader sees T1's change only.
    changed_rx.await.unwrap();
    let seen = changes(&pool, org, FeedEntity::Catalog, start).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].sku, "P1");
    let checkpoint = seen[0].seq;
    commit_tx.send(()).unwrap();
    second.await.unwrap();
    let next = changes(&pool, org, FeedEntity::Catalog, checkpoint).await;
    assert_eq!(next.len(), 1, "{next:?}");
    assert_eq!(next[0].sku, "P2");
    assert!(next[0].seq > checkpoint);
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn concurrent_reservations_never_hold_more_than_there_is(pool: PgPool) {
    let org = org(&pool, "acme").await;
    stocked(&pool, org, "P1", 10).await;
    let pool = Arc::new(pool);
    // 20 carts at once, 1 each, at the location; then 20 more from anywhere (none left).
    for location in [Some("W1"), None] {
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let pool = pool.clone();
                tokio::spawn(async move {
                    inventory::reserve(
                        &pool,
                        org,
                        &format!("cart-{i}"),
                        &[line("P1", location, 1)],
                        900,
                    )
                    .await
                    .unwrap()
                })
            })
            .collect();
        let mut held = 0;
        for t in tasks {
            match t.await.unwrap() {
                Reserved::Held(_) => held += 1,
                Reserved::Short(checks) => {
                    assert!(!checks[0].fits);
                    assert_eq!(checks[0].short_by, Decimal::ONE);
                }
            }
        }
        let expected = if location.is_some() { 10 } else { 0 };
        assert_eq!(held, expected, "reservations held at {location:?}");
        let stock = inventory::stock(&pool, org, &["P1".into()]).await.unwrap();
        assert_eq!(stock[0].reserved, Decimal::from(10));
        assert_eq!(stock[0].available, Decimal::ZERO);
    }
    let raw: Decimal = sqlx::query_scalar(
        "SELECT l.on_hand - l.allocated - sum(rl.quantity) FROM inventory_levels l
         JOIN inventory_reservation_lines rl ON rl.org_id = l.org_id AND rl.sku = l.sku
         GROUP BY l.on_hand, l.allocated",
    )
    .fetch_one(&*pool)
    .await
    .unwrap();
    assert_eq!(raw, Decimal::ZERO, "never below zero");
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn reservations_count_per_location_and_in_total(pool: PgPool) {
    let org = org(&pool, "acme").await;
    stocked(&pool, org, "P1", 10).await;
    inventory::upsert_location(
        &pool,
        org,
        &Location {
            code: "W2".into(),
            name: "Gary".into(),
            city: None,
            region: Some("IN".into()),
            ships_to: vec![],
        },
    )
    .await
    .unwrap();
    inventory::upsert_levels(
        &pool,
        org,
        &[LevelRecord {
            sku: "P1".into(),
            location: "W2".into(),
            on_hand: 5.into(),
            allocated: 2.into(),
            on_order: Decimal::ZERO,
            low_stock_threshold: None,
            on_hand_at_least: false,
        }],
    )
    .await
    .unwrap();
    // W2 has 3; 4 there does not fit even though the total (13) would.
    let lines = [line("P1", Some("W2"), 4)];
    match inventory::reserve(&pool, org, "c", &lines, 60)
        .await
        .unwrap()
    {
        Reserved::Short(c) => {
            assert_eq!(c[0].available, Decimal::from(3));
            assert_eq!(c[0].short_by, Decimal::ONE);
        }
        held => panic!("{held:?}"),
    }
    // Two lines of one request share the stock: 3 at W2 and 10 anywhere leaves 0.
    let lines = [line("P1", Some("W2"), 3), line("P1", None, 10)];
    assert!(matches!(
        inventory::reserve(&pool, org, "c", &lines, 60)
            .await
            .unwrap(),
        Reserved::Held(_)
    ));
    let checks = inventory::check(&pool, org, &[line("P1", None, 1)])
        .await
        .unwrap();
    assert!(!checks[0].fits);
    assert_eq!(checks[0].available, Decimal::ZERO);
    let stock = inventory::stock(&pool, org, &["P1".into()]).await.unwrap();
    let w2 = stock[0]
        .locations
        .iter()
        .find(|l| l.location == "W2")
        .unwrap();
    assert_eq!((w2.reserved, w2.available), (3.into(), Decimal::ZERO));
    assert_eq!(
        (stock[0].reserved, stock[0].available),
        (13.into(), Decimal::ZERO)
    );
    // An unknown SKU is no stock at all.
    let checks = inventory::check(&pool, org, &[line("NOPE", None, 1)])
        .await
        .unwrap();
    assert_eq!(
        (checks[0].fits, checks[0].available),
        (false, Decimal::ZERO)
    );
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn expiry_gives_the_stock_back_and_records_it(pool: PgPool) {
    let org = org(&pool, "acme").await;
    let other = self::org(&pool, "other").await;
    stocked(&pool, org, "P1", 10).await;
    let held = match inventory::reserve(&pool, org, "cart", &[line("P1", None, 4)], 60)
        .await
        .unwrap()
    {
        Reserved::Held(r) => r,
        short => panic!("{short:?}"),
    };
    let head = feed::head(&pool, org).await.unwrap();
    // Not due yet: nothing expires, nothing is recorded.
    assert_eq!(inventory::expire_due(&pool, Utc::now()).await.unwrap(), 0);
    assert_eq!(feed::head(&pool, org).await.unwrap(), head);
    assert_eq!(
        inventory::stock(&pool, org, &["P1".into()]).await.unwrap()[0].available,
        Decimal::from(6)
    );
    // Two minutes on: it expires once, and the feed carries the SKU.
    let later = Utc::now() + Duration::minutes(2);
    assert_eq!(inventory::expire_due(&pool, later).await.unwrap(), 1);
    assert_eq!(inventory::expire_due(&pool, later).await.unwrap(), 0);
    assert_eq!(
        changes(&pool, org, FeedEntity::Inventory, head).await,
        [Change {
            seq: head + 1,
            sku: "P1".into(),
            deleted: false
        }]
    );
    assert_eq!(feed::head(&pool, other).await.unwrap(), 0);
    let r = inventory::get_reservation(&pool, org, held.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.release_reason.as_deref(), Some("expired"));
    assert_eq!(
        inventory::stock(&pool, org, &["P1".into()]).await.unwrap()[0].available,
        Decimal::from(10)
    );
    // Another organization sees none of it.
    assert!(inventory::get_reservation(&pool, other, held.id)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        inventory::release(&pool, other, held.id).await.unwrap(),
        Release::NotFound
    );
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn rules_only_the_database_knows_are_reported_per_item(pool: PgPool) {
    let org = org(&pool, "acme").await;
    let mut a = product("A");
    a.gtin = Some("00012345678905".into());
    a.variants = Some(vec![VariantRecord {
        sku: "A-1".into(),
        name: None,
        options: json!({}),
        gtin: None,
        units: None,
    }]);
    let mut b = product("B");
    b.gtin = a.gtin.clone();
    let mut c = product("C");
    c.seo_slug = a.seo_slug.clone();
    let d = product("A-1");
    let mut e = product("E");
    e.variants = Some(vec![VariantRecord {
        sku: "A".into(),
        name: None,
        options: json!({}),
        gtin: None,
        units: None,
    }]);
    let f = product("F");
    let r = catalog::upsert_products(&pool, org, &[a, b, c, d, e, f])
        .await
        .unwrap();
    let fields: Vec<Option<&str>> = r
        .iter()
        .map(|r| r.as_ref().err().map(|e| e.field.as_str()))
        .collect();
    assert_eq!(
        fields,
        [
            None,
            Some("gtin"),
            Some("seo_slug"),
            Some("sku"),
            Some("variants[0].sku"),
            None
        ],
        "{r:?}"
    );
    assert_eq!(r[5], Ok(Outcome::Created));
    // The refused items left nothing behind.
    let (page, more) = catalog::list_products(&pool, org, &Default::default(), None, 50)
        .await
        .unwrap();
    let skus: Vec<&str> = page.iter().map(|p| p.sku.as_str()).collect();
    assert_eq!((skus, more), (vec!["A", "F"], false));
    assert_eq!(page[0].variants.len(), 1);
}

/// Price rows (migrations/0011_price_feed.sql) record a `prices` change, never a tombstone, for
/// every SKU they can move: a list price its SKU, a price list's currency every SKU listed in
/// it, a category discount the category's products (sub-categories included, compared as the
/// resolver compares), a tier every product. The same upload again records nothing.
#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn price_changes_reach_the_feed_for_every_sku_they_move(pool: PgPool) {
    use switchyard_core::catalog::pricing::{DiscountScope, Validity};
    use switchyard_core::catalog::uom::Uom;
    use switchyard_store::pricing::{
        upsert_prices, DiscountRow, ListPriceRow, PriceListRow, PriceRows, TierRow,
    };
    let org = org(&pool, "acme").await;
    for (sku, category) in [
        ("SHEET", "Steel > Flat > Sheet"),
        ("PLATE", "steel>flat"),
        ("BAR", "Steel > Bar"),
        ("PIPE", "Aluminium"),
    ] {
        upsert(&pool, org, &product(sku)).await;
        sqlx::query("UPDATE products SET category = $3 WHERE org_id = $1 AND sku = $2")
            .bind(org.0)
            .bind(sku)
            .bind(category)
            .execute(&pool)
            .await
            .unwrap();
    }
    sqlx::query("INSERT INTO customers (org_id, customer_id, name) VALUES ($1, 'C1', 'Acme')")
        .bind(org.0)
        .execute(&pool)
        .await
        .unwrap();
    let skus = |c: Vec<Change>| {
        assert!(
            c.iter().all(|c| !c.deleted),
            "a price is never a tombstone: {c:?}"
        );
        let mut v: Vec<String> = c.into_iter().map(|c| c.sku).collect();
        v.sort();
        v
    };
    let list = |currency: &str| {
        PriceRows::PriceLists(vec![PriceListRow {
            price_list_id: "WEB".into(),
            name: None,
            currency: currency.into(),
            validity: Validity::default(),
        }])
    };
    let prices = |amount: i64| {
        PriceRows::ListPrices(
            ["SHEET", "PLATE"]
                .iter()
                .map(|sku| ListPriceRow {
                    price_list_id: "WEB".into(),
                    sku: (*sku).into(),
                    uom: Uom::new("EA").unwrap(),
                    amount: Decimal::from(amount),
                    validity: Validity::default(),
                })
                .collect(),
        )
    };

    let h0 = feed::head(&pool, org).await.unwrap();
    upsert_prices(&pool, org, &list("USD")).await.unwrap();
    upsert_prices(&pool, org, &prices(10)).await.unwrap();
    assert_eq!(
        skus(changes(&pool, org, FeedEntity::Prices, h0).await),
        ["PLATE", "SHEET"]
    );
    // The same upload again: the rows are rewritten (`updated_at`), the feed stands still.
    let h1 = feed::head(&pool, org).await.unwrap();
    upsert_prices(&pool, org, &prices(10)).await.unwrap();
    upsert_prices(&pool, org, &list("USD")).await.unwrap();
    assert_eq!(feed::head(&pool, org).await.unwrap(), h1);
    // The list's currency moves every price in it.
    upsert_prices(&pool, org, &list("EUR")).await.unwrap();
    assert_eq!(
        skus(changes(&pool, org, FeedEntity::Prices, h1).await),
        ["PLATE", "SHEET"]
    );
    // A category discount: the category and what is under it, however it is spelled.
    let h2 = feed::head(&pool, org).await.unwrap();
    let discount = PriceRows::Discounts(vec![DiscountRow {
        discount_id: "D1".into(),
        customer_id: "C1".into(),
        scope: DiscountScope::Category("STEEL > Flat".into()),
        percent: Decimal::from(5),
        validity: Validity::default(),
    }]);
    upsert_prices(&pool, org, &discount).await.unwrap();
    assert_eq!(
        skus(changes(&pool, org, FeedEntity::Prices, h2).await),
        ["PLATE", "SHEET"]
    );
    // A tier's percentage can move any product's customer price.
    let h3 = feed::head(&pool, org).await.unwrap();
    let tier = PriceRows::Tiers(vec![TierRow {
        tier_code: "GOLD".into(),
        name: None,
        percent: Decimal::from(8),
    }]);
    upsert_prices(&pool, org, &tier).await.unwrap();
    assert_eq!(
        skus(changes(&pool, org, FeedEntity::Prices, h3).await),
        ["BAR", "PIPE", "PLATE", "SHEET"]
    );
    // None of it touched the catalog entity.
    assert!(changes(&pool, org, FeedEntity::Catalog, h1)
        .await
        .is_empty());
}

/// Deleting a price row (migrations/0013_price_sync_feed.sql) records a `prices` change for
/// every SKU it priced, and only rows of the caller's organization are deleted: a list price,
/// a contract and a break their SKU; a product discount its SKU; a customer's tier assignment
/// and a tier every product. Tiers uploaded together touch each product once (the triggers
/// work per statement, in one set), and deleting a tier takes its customers' assignments with
/// it, still one change per product.
#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn deleting_price_rows_moves_the_feed_of_what_they_priced(pool: PgPool) {
    use switchyard_core::catalog::pricing::{BreakAdjustment, DiscountScope, Validity};
    use switchyard_core::catalog::uom::Uom;
    use switchyard_store::pricing::{
        delete_prices, upsert_prices, ContractRow, CustomerTierRow, DiscountRow, ListPriceRow,
        PriceKeys, PriceListRow, PriceRows, TierRow, VolumeBreakRow,
    };
    let acme = org(&pool, "acme").await;
    let other = org(&pool, "other").await;
    let ea = || Uom::new("EA").unwrap();
    let always = Validity::default;
    for org in [acme, other] {
        for sku in ["A", "B", "C"] {
            upsert(&pool, org, &product(sku)).await;
        }
        sqlx::query(
            "INSERT INTO customers (org_id, customer_id, name) VALUES ($1, 'C1', 'c'), ($1, 'C2', 'c')",
        )
        .bind(org.0)
        .execute(&pool)
        .await
        .unwrap();
        let rows = [
            PriceRows::PriceLists(vec![PriceListRow {
                price_list_id: "WEB".into(),
                name: None,
                currency: "USD".into(),
                validity: always(),
            }]),
            PriceRows::ListPrices(vec![ListPriceRow {
                price_list_id: "WEB".into(),
                sku: "A".into(),
                uom: ea(),
                amount: Decimal::from(10),
                validity: always(),
            }]),
            PriceRows::Contracts(vec![ContractRow {
                contract_id: "K1".into(),
                sku: "B".into(),
                customer_id: "C1".into(),
                price: Decimal::from(9),
                uom: ea(),
                currency: "USD".into(),
                validity: always(),
            }]),
            PriceRows::VolumeBreaks(vec![VolumeBreakRow {
                break_id: "V1".into(),
                sku: "C".into(),
                min_quantity: Decimal::from(10),
                uom: ea(),
                adjustment: BreakAdjustment::Percent(Decimal::from(5)),
                validity: always(),
            }]),
            PriceRows::Discounts(vec![DiscountRow {
                discount_id: "D1".into(),
                customer_id: "C2".into(),
                scope: DiscountScope::Product("C".into()),
                percent: Decimal::from(5),
                validity: always(),
            }]),
        ];
        for r in &rows {
            upsert_prices(&pool, org, r).await.unwrap();
        }
    }
    let skus = |c: Vec<Change>| {
        assert!(c.iter().all(|c| !c.deleted), "never a tombstone: {c:?}");
        let mut v: Vec<String> = c.into_iter().map(|c| c.sku).collect();
        v.sort();
        v
    };
    // One deletion, its effect on the feed, and what `delete_prices` said of each key.
    let delete = |keys: PriceKeys| {
        let pool = pool.clone();
        async move {
            let h = feed::head(&pool, acme).await.unwrap();
            let gone = delete_prices(&pool, acme, &keys).await.unwrap();
            let moved = skus(changes(&pool, acme, FeedEntity::Prices, h).await);
            let advanced = feed::head(&pool, acme).await.unwrap() - h;
            (gone, moved, advanced)
        }
    };
    let other_head = feed::head(&pool, other).await.unwrap();

    let (gone, moved, _) = delete(PriceKeys::ListPrices(vec![
        ("WEB".into(), "A".into(), ea()),
        ("WEB".into(), "B".into(), ea()),
    ]))
    .await;
    assert_eq!((gone, moved), (vec![true, false], vec!["A".to_owned()]));
    let (gone, moved, _) = delete(PriceKeys::Contracts(vec![("K1".into(), "B".into())])).await;
    assert_eq!((gone, moved), (vec![true], vec!["B".to_owned()]));
    let (gone, moved, _) = delete(PriceKeys::VolumeBreaks(vec!["V1".into()])).await;
    assert_eq!((gone, moved), (vec![true], vec!["C".to_owned()]));
    let (gone, moved, _) = delete(PriceKeys::Discounts(vec!["D1".into()])).await;
    assert_eq!((gone, moved), (vec![true], vec!["C".to_owned()]));
    // Deleting what is gone deletes nothing and moves nothing.
    let (gone, moved, advanced) = delete(PriceKeys::Discounts(vec!["D1".into()])).await;
    assert_eq!((gone, moved, advanced), (vec![false], vec![], 0));

    // Three tiers in one upload, then two customers assigned: each product once, each time.
    let all = vec!["A".to_owned(), "B".to_owned(), "C".to_owned()];
    let h = feed::head(&pool, acme).await.unwrap();
    let tiers = ["GOLD", "SILVER", "BRONZE"].map(|t| TierRow {
        tier_code: t.into(),
        name: None,
        percent: Decimal::from(5),
    });
    upsert_prices(&pool, acme, &PriceRows::Tiers(tiers.into()))
        .await
        .unwrap();
    assert_eq!(
        feed::head(&pool, acme).await.unwrap() - h,
        3,
        "one number per product"
    );
    assert_eq!(skus(changes(&pool, acme, FeedEntity::Prices, h).await), all);
    let h = feed::head(&pool, acme).await.unwrap();
    let assign = ["C1", "C2"].map(|c| CustomerTierRow {
        customer_id: c.into(),
        tier_code: "GOLD".into(),
    });
    upsert_prices(&pool, acme, &PriceRows::CustomerTiers(assign.into()))
        .await
        .unwrap();
    assert_eq!(feed::head(&pool, acme).await.unwrap() - h, 3);
    // A tier's percentage changed moves every product; rewritten unchanged, nothing.
    let h = feed::head(&pool, acme).await.unwrap();
    let gold = |percent: i64| {
        PriceRows::Tiers(vec![TierRow {
            tier_code: "GOLD".into(),
            name: None,
            percent: Decimal::from(percent),
        }])
    };
    upsert_prices(&pool, acme, &gold(5)).await.unwrap();
    assert_eq!(feed::head(&pool, acme).await.unwrap(), h);
    upsert_prices(&pool, acme, &gold(8)).await.unwrap();
    assert_eq!(skus(changes(&pool, acme, FeedEntity::Prices, h).await), all);

    let (gone, moved, advanced) = delete(PriceKeys::CustomerTiers(vec!["C2".into()])).await;
    assert_eq!((gone, moved, advanced), (vec![true], all.clone(), 3));
    // GOLD goes with C1's assignment (a cascade in its own statement): each product moves,
    // once per statement, never once per customer.
    let (gone, moved, advanced) =
        delete(PriceKeys::Tiers(vec!["GOLD".into(), "NONE".into()])).await;
    assert_eq!((gone, moved), (vec![true, false], all.clone()));
    assert!(advanced <= 6, "at most two sets of three, got {advanced}");
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM customer_tiers WHERE org_id = $1")
        .bind(acme.0)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(left, 0);

    // The other organization's rows, with the same keys, are all still there, its feed still.
    assert_eq!(feed::head(&pool, other).await.unwrap(), other_head);
    for table in [
        "list_prices",
        "price_contracts",
        "volume_breaks",
        "customer_discounts",
    ] {
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table} WHERE org_id = $1"))
            .bind(other.0)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(n, 1, "{table}");
    }
}

/// A location's name or regions are part of the inventory sync's item: changing them records
/// an inventory change for each SKU stocked there and no other; saving it unchanged, none.
#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn a_location_change_moves_the_inventory_feed_of_what_it_stocks(pool: PgPool) {
    let org = org(&pool, "acme").await;
    stocked(&pool, org, "A", 5).await;
    stocked(&pool, org, "B", 5).await;
    upsert(&pool, org, &product("ELSEWHERE")).await;
    let houston = Location {
        code: "W2".into(),
        name: "Houston".into(),
        city: None,
        region: Some("TX".into()),
        ships_to: vec!["TX".into()],
    };
    inventory::upsert_location(&pool, org, &houston)
        .await
        .unwrap();
    let r = inventory::upsert_levels(
        &pool,
        org,
        &[LevelRecord {
            sku: "ELSEWHERE".into(),
            location: "W2".into(),
            on_hand: Decimal::from(1),
            allocated: Decimal::ZERO,
            on_order: Decimal::ZERO,
            low_stock_threshold: None,
            on_hand_at_least: false,
        }],
    )
    .await
    .unwrap();
    assert!(r.iter().all(|r| r.is_ok()), "{r:?}");
    let mut chicago = Location {
        code: "W1".into(),
        name: "Chicago".into(),
        city: Some("Chicago".into()),
        region: Some("IL".into()),
        ships_to: vec!["IL".into(), "WI".into()],
    };
    let h = feed::head(&pool, org).await.unwrap();
    inventory::upsert_location(&pool, org, &chicago)
        .await
        .unwrap();
    assert_eq!(feed::head(&pool, org).await.unwrap(), h, "unchanged");
    chicago.ships_to.push("IN".into());
    inventory::upsert_location(&pool, org, &chicago)
        .await
        .unwrap();
    let moved: Vec<String> = changes(&pool, org, FeedEntity::Inventory, h)
        .await
        .into_iter()
        .map(|c| {
            assert!(!c.deleted);
            c.sku
        })
        .collect();
    assert_eq!(moved, ["A", "B"]);
    assert!(changes(&pool, org, FeedEntity::Catalog, h).await.is_empty());
}

/// A capped supplier quantity ("100+") is stored as a floor: the flag is kept per location,
/// shown in the total, changes the level when it comes or goes, and is not a count of 100.
#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn a_capped_level_is_stored_and_read_as_a_floor(pool: PgPool) {
    let org = org(&pool, "acme").await;
    stocked(&pool, org, "P1", 10).await;
    let capped = LevelRecord {
        sku: "P1".into(),
        location: "W1".into(),
        on_hand: 100.into(),
        allocated: Decimal::ZERO,
        on_order: Decimal::ZERO,
        low_stock_threshold: None,
        on_hand_at_least: true,
    };
    let r = inventory::upsert_levels(&pool, org, std::slice::from_ref(&capped))
        .await
        .unwrap();
    assert_eq!(r, [Ok(Outcome::Updated)]);
    let stock = inventory::stock(&pool, org, &["P1".into()]).await.unwrap();
    assert!(stock[0].on_hand_at_least);
    assert!(stock[0].locations[0].on_hand_at_least);
    assert_eq!(stock[0].on_hand, Decimal::from(100));
    // Exactly 100 is another level: the flag alone changes it.
    let exact = LevelRecord {
        on_hand_at_least: false,
        ..capped
    };
    let r = inventory::upsert_levels(&pool, org, std::slice::from_ref(&exact))
        .await
        .unwrap();
    assert_eq!(r, [Ok(Outcome::Updated)]);
    let stock = inventory::stock(&pool, org, &["P1".into()]).await.unwrap();
    assert!(!stock[0].on_hand_at_least);
}

/// A batch without variants is written in one statement (`upsert_set`): the same outcomes, per
/// item and in order, as item by item; the same events; and what only the statement can find
/// (a GTIN another product holds) or cannot tell apart (a SKU twice) falls back to item by item.
#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn a_batch_without_variants_is_one_statement_with_the_same_outcomes(pool: PgPool) {
    let org = org(&pool, "acme").await;
    let mut x = product("X");
    x.variants = Some(vec![VariantRecord {
        sku: "X-1".into(),
        name: None,
        options: json!({}),
        gtin: None,
        units: None,
    }]);
    let mut p1 = product("P1");
    p1.gtin = Some("00012345678905".into());
    catalog::upsert_products(&pool, org, &[x, product("P2"), product("P3")])
        .await
        .unwrap();
    let events_before: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE org_id = $1")
        .bind(org.0)
        .fetch_one(&pool)
        .await
        .unwrap();
    let mut p2 = product("P2");
    p2.name = "Plate P2, renamed".into();
    let mut p4 = product("P4");
    p4.tags = vec!["a".into(), "b, c".into()];
    p4.lead_time_days = None;
    let r = catalog::upsert_products(
        &pool,
        org,
        &[p1.clone(), p2, product("P3"), product("X-1"), p4],
    )
    .await
    .unwrap();
    assert_eq!(
        r,
        [
            Ok(Outcome::Created),
            Ok(Outcome::Updated),
            Ok(Outcome::Unchanged),
            Err(catalog::ItemError::new(
                "sku",
                "`X-1` is a variant of product `X`"
            )),
            Ok(Outcome::Created)
        ]
    );
    let stored = catalog::get_product(&pool, org, "P4")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.tags, ["a", "b, c"]);
    assert_eq!(stored.lead_time_days, None);
    assert_eq!(stored.specifications, product("P4").specifications);
    assert_eq!(stored.dimensions, product("P4").dimensions);
    assert_eq!(stored.price_visibility, "public");
    let events: Vec<(String, serde_json::Value)> =
        sqlx::query_as("SELECT type, data FROM events WHERE org_id = $1 ORDER BY id OFFSET $2")
            .bind(org.0)
            .bind(events_before)
            .fetch_all(&pool)
            .await
            .unwrap();
    // One statement's events share a millisecond, and a UUIDv7's tail is random within one
    // (migration 0016), so their order by id is not the items' order: compare by SKU.
    let mut events: Vec<(&str, &serde_json::Value, &serde_json::Value)> = events
        .iter()
        .map(|(t, d)| (t.as_str(), &d["sku"], &d["changed"]))
        .collect();
    events.sort_by_key(|(_, sku, _)| sku.as_str().unwrap_or_default().to_owned());
    assert_eq!(
        events,
        [
            ("product.created", &json!("P1"), &serde_json::Value::Null),
            ("product.updated", &json!("P2"), &json!(["name"])),
            ("product.created", &json!("P4"), &serde_json::Value::Null),
        ]
    );

    // A GTIN P1 holds: the statement fails, the batch goes item by item.
    let mut q = product("Q");
    q.gtin = p1.gtin.clone();
    let r = catalog::upsert_products(&pool, org, &[product("R"), q])
        .await
        .unwrap();
    assert_eq!(r[0], Ok(Outcome::Created));
    assert_eq!(r[1].as_ref().unwrap_err().field, "gtin");
    assert!(catalog::get_product(&pool, org, "Q")
        .await
        .unwrap()
        .is_none());
    // A SKU twice: the second sees the first.
    let mut s2 = product("S");
    s2.name = "Plate S, again".into();
    let r = catalog::upsert_products(&pool, org, &[product("S"), product("S"), s2])
        .await
        .unwrap();
    assert_eq!(
        r,
        [
            Ok(Outcome::Created),
            Ok(Outcome::Unchanged),
            Ok(Outcome::Updated)
        ]
    );
}
