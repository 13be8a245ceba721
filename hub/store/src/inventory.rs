//! Stock per location and soft reservations (`migrations/0009_catalog.sql`).
//!
//! Available = on hand − allocated − active reservations (not released, not yet expired),
//! per location and in total across locations. A reservation without a location counts
//! against the total only.
//!
//! A reservation never makes what is available negative, however many arrive at once:
//! [`reserve`] takes the organization's feed head (the lock every catalog writer takes first),
//! then the inventory rows of its SKUs `FOR UPDATE` in (sku, location) order, computes what is
//! left under those locks, and either stores every line or none. The tables' triggers record
//! each reservation, release and expiry as an `inventory` change in the feed.

use crate::catalog::{ItemError, Outcome};
use crate::db::Result;
use crate::feed;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use std::collections::{BTreeMap, HashMap};
use switchyard_core::ids::OrgId;
use uuid::Uuid;

/// A warehouse and where it ships.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Location {
    pub code: String,
    pub name: String,
    pub city: Option<String>,
    pub region: Option<String>,
    /// States / regions it ships to.
    pub ships_to: Vec<String>,
}

pub async fn upsert_location(pool: &PgPool, org: OrgId, l: &Location) -> Result<()> {
    sqlx::query(
        "INSERT INTO inventory_locations AS l (org_id, code, name, city, region, ships_to)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (org_id, code) DO UPDATE SET name = EXCLUDED.name, city = EXCLUDED.city,
             region = EXCLUDED.region, ships_to = EXCLUDED.ships_to, updated_at = now()
         WHERE (l.name, l.city, l.region, l.ships_to)
             IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.city, EXCLUDED.region, EXCLUDED.ships_to)",
    )
    .bind(org.0)
    .bind(&l.code)
    .bind(&l.name)
    .bind(&l.city)
    .bind(&l.region)
    .bind(&l.ships_to)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn list_locations(pool: &PgPool, org: OrgId) -> Result<Vec<Location>> {
    Ok(sqlx::query_as(
        "SELECT code, name, city, region, ships_to FROM inventory_locations
         WHERE org_id = $1 ORDER BY code",
    )
    .bind(org.0)
    .fetch_all(pool)
    .await?)
}

/// Stock of one SKU at one location as written (quantities in the product's base unit).
#[derive(Debug, Clone, PartialEq)]
pub struct LevelRecord {
    pub sku: String,
    pub location: String,
    pub on_hand: Decimal,
    pub allocated: Decimal,
    pub on_order: Decimal,
    /// `None` keeps the stored threshold (none for a new row: it inherits the product's, the
    /// location's or the organization's, `crate::low_stock`).
    pub low_stock_threshold: Option<Decimal>,
    /// `on_hand` is a floor, not a count: the source capped it (a supplier's "100+").
    pub on_hand_at_least: bool,
}

/// Store a batch of levels in one transaction; per item, what was done or why not (an
/// unknown SKU or location). An item equal to what is stored writes nothing.
pub async fn upsert_levels(
    pool: &PgPool,
    org: OrgId,
    items: &[LevelRecord],
) -> Result<Vec<std::result::Result<Outcome, ItemError>>> {
    let mut tx = crate::begin(pool).await?;
    feed::lock(&mut tx, org).await?;
    let mut results = Vec::with_capacity(items.len());
    for l in items {
        if !crate::catalog::sku_exists(&mut tx, org, &l.sku).await? {
            results.push(Err(ItemError::new(
                "sku",
                format!("no product or variant has SKU `{}`", l.sku),
            )));
            continue;
        }
        let known: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM inventory_locations WHERE org_id = $1 AND code = $2)",
        )
        .bind(org.0)
        .bind(&l.location)
        .fetch_one(&mut *tx)
        .await?;
        if !known {
            results.push(Err(ItemError::new(
                "location",
                format!("unknown location `{}`", l.location),
            )));
            continue;
        }
        let created: Option<bool> = sqlx::query_scalar(
            "INSERT INTO inventory_levels AS i (org_id, sku, location, on_hand, allocated,
                 on_order, low_stock_threshold, on_hand_at_least)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (org_id, sku, location) DO UPDATE SET on_hand = EXCLUDED.on_hand,
                 allocated = EXCLUDED.allocated, on_order = EXCLUDED.on_order,
                 low_stock_threshold = COALESCE($7, i.low_stock_threshold),
                 on_hand_at_least = EXCLUDED.on_hand_at_least, updated_at = now()
             WHERE (i.on_hand, i.allocated, i.on_order, i.low_stock_threshold, i.on_hand_at_least)
                 IS DISTINCT FROM (EXCLUDED.on_hand, EXCLUDED.allocated, EXCLUDED.on_order,
                                   COALESCE($7, i.low_stock_threshold), EXCLUDED.on_hand_at_least)
             RETURNING (xmax = 0)",
        )
        .bind(org.0)
        .bind(&l.sku)
        .bind(&l.location)
        .bind(l.on_hand)
        .bind(l.allocated)
        .bind(l.on_order)
        .bind(l.low_stock_threshold)
        .bind(l.on_hand_at_least)
        .fetch_optional(&mut *tx)
        .await?;
        results.push(Ok(match created {
            Some(true) => Outcome::Created,
            Some(false) => Outcome::Updated,
            None => Outcome::Unchanged,
        }));
    }
    tx.commit().await?;
    Ok(results)
}

/// How a SKU (or its stock at one location) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StockStatus {
    InStock,
    /// Available, at or below the low-stock threshold.
    LowStock,
    OutOfStock,
    /// Nothing available, some on order.
    Backorder,
}

impl StockStatus {
    pub const ALL: [StockStatus; 4] = [
        StockStatus::InStock,
        StockStatus::LowStock,
        StockStatus::OutOfStock,
        StockStatus::Backorder,
    ];

    fn of(available: Decimal, threshold: Decimal, on_order: Decimal) -> Self {
        if available > Decimal::ZERO {
            if available <= threshold {
                StockStatus::LowStock
            } else {
                StockStatus::InStock
            }
        } else if on_order > Decimal::ZERO {
            StockStatus::Backorder
        } else {
            StockStatus::OutOfStock
        }
    }
}

/// Stock at one location.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LocationStock {
    pub location: String,
    pub location_name: String,
    pub on_hand: Decimal,
    pub allocated: Decimal,
    pub on_order: Decimal,
    /// Held by active reservations at this location.
    pub reserved: Decimal,
    /// on_hand − allocated − reserved, not below zero.
    pub available: Decimal,
    /// The threshold that applies by precedence (the level's own, its product's, its
    /// location's, the organization's; 0: none), `crate::low_stock`.
    pub low_stock_threshold: Decimal,
    /// `on_hand` is a floor (the source capped it, "100+"), and so is `available`.
    pub on_hand_at_least: bool,
    pub status: StockStatus,
    pub ships_to: Vec<String>,
    pub updated_at: DateTime<Utc>,
}

/// A SKU's stock across its locations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stock {
    pub sku: String,
    pub on_hand: Decimal,
    pub allocated: Decimal,
    pub on_order: Decimal,
    /// Held by active reservations, with or without a location.
    pub reserved: Decimal,
    /// on_hand − allocated − reserved over every location, not below zero.
    pub available: Decimal,
    /// Some location's `on_hand` is a floor, so the totals are floors too.
    pub on_hand_at_least: bool,
    pub status: StockStatus,
    pub locations: Vec<LocationStock>,
    /// The latest change to a level (null without one).
    pub updated_at: Option<DateTime<Utc>>,
}

impl Stock {
    /// What is left to reserve, before clamping: negative when stock fell under what is held.
    fn raw_total(&self) -> Decimal {
        self.on_hand - self.allocated - self.reserved
    }

    fn raw_at(&self, location: &str) -> Decimal {
        self.locations
            .iter()
            .find(|l| l.location == location)
            .map(|l| l.on_hand - l.allocated - l.reserved)
            .unwrap_or(Decimal::ZERO)
    }
}

type LevelRow = (
    String,
    String,
    String,
    Vec<String>,
    Decimal,
    Decimal,
    Decimal,
    Decimal,
    DateTime<Utc>,
    Decimal,
    bool,
);

/// The stock of each of `skus` that names a live product or variant, in SKU order (a SKU
/// without levels has zeros). `lock` takes the level rows `FOR UPDATE` in (sku, location)
/// order (inside a transaction that holds the feed head).
async fn load(
    db: &mut PgConnection,
    org: OrgId,
    skus: &[String],
    lock: bool,
) -> Result<Vec<Stock>> {
    let live: Vec<String> = sqlx::query_scalar(
        "SELECT sku FROM products WHERE org_id = $1 AND sku = ANY($2) AND deleted_at IS NULL
         UNION
         SELECT sku FROM product_variants WHERE org_id = $1 AND sku = ANY($2)
             AND deleted_at IS NULL
         ORDER BY 1",
    )
    .bind(org.0)
    .bind(skus)
    .fetch_all(&mut *db)
    .await?;
    if lock {
        sqlx::query(
            "SELECT 1 FROM inventory_levels WHERE org_id = $1 AND sku = ANY($2)
             ORDER BY sku, location FOR UPDATE",
        )
        .bind(org.0)
        .bind(&live)
        .execute(&mut *db)
        .await?;
    }
    // Reservations count while not released and not yet expired (the expiry job marks them
    // later; they stop counting at their time either way).
    let levels: Vec<LevelRow> = sqlx::query_as(
        "SELECT l.sku, l.location, loc.name, loc.ships_to, l.on_hand, l.allocated, l.on_order,
             inventory_low_threshold(l.org_id, l.sku, l.location, l.low_stock_threshold),
             l.updated_at,
             COALESCE((SELECT sum(rl.quantity) FROM inventory_reservation_lines rl
                       JOIN inventory_reservations r ON r.id = rl.reservation_id
                       WHERE rl.org_id = l.org_id AND rl.sku = l.sku
                         AND rl.location = l.location
                         AND r.released_at IS NULL AND r.expires_at > now()), 0),
             l.on_hand_at_least
         FROM inventory_levels l
         JOIN inventory_locations loc ON loc.org_id = l.org_id AND loc.code = l.location
         WHERE l.org_id = $1 AND l.sku = ANY($2) ORDER BY l.sku, l.location",
    )
    .bind(org.0)
    .bind(&live)
    .fetch_all(&mut *db)
    .await?;
    let anywhere: HashMap<String, Decimal> = sqlx::query_as::<_, (String, Decimal)>(
        "SELECT rl.sku, sum(rl.quantity) FROM inventory_reservation_lines rl
         JOIN inventory_reservations r ON r.id = rl.reservation_id
         WHERE rl.org_id = $1 AND rl.sku = ANY($2) AND rl.location IS NULL
           AND r.released_at IS NULL AND r.expires_at > now()
         GROUP BY rl.sku",
    )
    .bind(org.0)
    .bind(&live)
    .fetch_all(&mut *db)
    .await?
    .into_iter()
    .collect();
    let mut by_sku: BTreeMap<String, Vec<LocationStock>> =
        live.into_iter().map(|s| (s, Vec::new())).collect();
    for (
        sku,
        location,
        name,
        ships_to,
        on_hand,
        allocated,
        on_order,
        threshold,
        at,
        reserved,
        at_least,
    ) in levels
    {
        let available = (on_hand - allocated - reserved).max(Decimal::ZERO);
        by_sku.entry(sku).or_default().push(LocationStock {
            location,
            location_name: name,
            on_hand,
            allocated,
            on_order,
            reserved,
            available,
            low_stock_threshold: threshold,
            on_hand_at_least: at_least,
            status: StockStatus::of(available, threshold, on_order),
            ships_to,
            updated_at: at,
        });
    }
    Ok(by_sku
        .into_iter()
        .map(|(sku, locations)| {
            let sum = |f: fn(&LocationStock) -> Decimal| locations.iter().map(f).sum::<Decimal>();
            let reserved = sum(|l| l.reserved) + anywhere.get(&sku).copied().unwrap_or_default();
            let (on_hand, allocated, on_order) = (
                sum(|l| l.on_hand),
                sum(|l| l.allocated),
                sum(|l| l.on_order),
            );
            let available = (on_hand - allocated - reserved).max(Decimal::ZERO);
            let threshold = sum(|l| l.low_stock_threshold);
            Stock {
                updated_at: locations.iter().map(|l| l.updated_at).max(),
                on_hand_at_least: locations.iter().any(|l| l.on_hand_at_least),
                status: StockStatus::of(available, threshold, on_order),
                sku,
                on_hand,
                allocated,
                on_order,
                reserved,
                available,
                locations,
            }
        })
        .collect())
}

/// The stock of each of `skus` that names a live product or variant, in SKU order.
pub async fn stock(pool: &PgPool, org: OrgId, skus: &[String]) -> Result<Vec<Stock>> {
    let mut conn = pool.acquire().await?;
    load(&mut conn, org, skus, false).await
}

/// The earliest expiry of the reservations still held on each of `skus` (absent: none): the
/// instant from which their stock reads higher though nothing moved the feed yet (a reservation
/// stops counting at its time; the expiry job records the change up to a minute later). Over
/// every reservation not released, those already past their time included, so a reservation
/// that expires between the stock's query and this one is not missed: its SKU's next read is
/// then due at once.
pub async fn next_expiries(
    pool: &PgPool,
    org: OrgId,
    skus: &[String],
) -> Result<HashMap<String, DateTime<Utc>>> {
    Ok(sqlx::query_as::<_, (String, DateTime<Utc>)>(
        "SELECT rl.sku, min(r.expires_at) FROM inventory_reservation_lines rl
         JOIN inventory_reservations r ON r.id = rl.reservation_id
         WHERE rl.org_id = $1 AND rl.sku = ANY($2) AND r.released_at IS NULL
         GROUP BY rl.sku",
    )
    .bind(org.0)
    .bind(skus)
    .fetch_all(pool)
    .await?
    .into_iter()
    .collect())
}

/// A quantity of a SKU, at a location or anywhere.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    pub sku: String,
    pub location: Option<String>,
    pub quantity: Decimal,
}

/// One line against what is available, the lines before it in the same request counted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineCheck {
    pub sku: String,
    pub location: Option<String>,
    pub requested: Decimal,
    /// What was left for this line (not below zero).
    pub available: Decimal,
    pub fits: bool,
    /// requested − available when it does not fit, else 0.
    pub short_by: Decimal,
}

/// Check `lines` in order against `stock`: each takes what it asks from its location (if it
/// names one) and from the SKU's total.
fn fit(stock: &[Stock], lines: &[Line]) -> Vec<LineCheck> {
    let mut taken_at: HashMap<(&str, &str), Decimal> = HashMap::new();
    let mut taken: HashMap<&str, Decimal> = HashMap::new();
    lines
        .iter()
        .map(|line| {
            let s = stock.iter().find(|s| s.sku == line.sku);
            let total = s.map(Stock::raw_total).unwrap_or_default()
                - taken.get(line.sku.as_str()).copied().unwrap_or_default();
            let left = match &line.location {
                None => total,
                Some(loc) => {
                    let here = s.map(|s| s.raw_at(loc)).unwrap_or_default()
                        - taken_at
                            .get(&(line.sku.as_str(), loc.as_str()))
                            .copied()
                            .unwrap_or_default();
                    here.min(total)
                }
            };
            let left = left.max(Decimal::ZERO);
            let fits = line.quantity <= left;
            if fits {
                *taken.entry(&line.sku).or_default() += line.quantity;
                if let Some(loc) = &line.location {
                    *taken_at.entry((&line.sku, loc)).or_default() += line.quantity;
                }
            }
            LineCheck {
                sku: line.sku.clone(),
                location: line.location.clone(),
                requested: line.quantity,
                available: left,
                fits,
                short_by: if fits {
                    Decimal::ZERO
                } else {
                    line.quantity - left
                },
            }
        })
        .collect()
}

fn skus_of(lines: &[Line]) -> Vec<String> {
    let mut skus: Vec<String> = lines.iter().map(|l| l.sku.clone()).collect();
    skus.sort();
    skus.dedup();
    skus
}

/// Whether `lines` could be had now (nothing is held).
pub async fn check(pool: &PgPool, org: OrgId, lines: &[Line]) -> Result<Vec<LineCheck>> {
    let mut conn = pool.acquire().await?;
    let stock = load(&mut conn, org, &skus_of(lines), false).await?;
    Ok(fit(&stock, lines))
}

/// A stored reservation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reservation {
    pub id: Uuid,
    pub reference: String,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub released_at: Option<DateTime<Utc>>,
    /// `released` or `expired`, once it is no longer held.
    pub release_reason: Option<String>,
    pub lines: Vec<Line>,
}

/// What [`reserve`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Reserved {
    Held(Reservation),
    /// Some line did not fit; nothing was held. Every line's check, in order.
    Short(Vec<LineCheck>),
}

/// Hold every one of `lines` for `ttl_seconds`, or none of them.
pub async fn reserve(
    pool: &PgPool,
    org: OrgId,
    reference: &str,
    lines: &[Line],
    ttl_seconds: i64,
) -> Result<Reserved> {
    let mut tx = crate::begin(pool).await?;
    feed::lock(&mut tx, org).await?;
    let stock = load(&mut tx, org, &skus_of(lines), true).await?;
    let checks = fit(&stock, lines);
    if checks.iter().any(|c| !c.fits) {
        tx.rollback().await?;
        return Ok(Reserved::Short(checks));
    }
    let id = Uuid::now_v7();
    let (expires_at, created_at): (DateTime<Utc>, DateTime<Utc>) = sqlx::query_as(
        "INSERT INTO inventory_reservations (id, org_id, reference, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4))
         RETURNING expires_at, created_at",
    )
    .bind(id)
    .bind(org.0)
    .bind(reference)
    .bind(ttl_seconds as f64)
    .fetch_one(&mut *tx)
    .await?;
    for (i, l) in lines.iter().enumerate() {
        sqlx::query(
            "INSERT INTO inventory_reservation_lines
                 (reservation_id, line, org_id, sku, location, quantity)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(i as i32 + 1)
        .bind(org.0)
        .bind(&l.sku)
        .bind(&l.location)
        .bind(l.quantity)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(Reserved::Held(Reservation {
        id,
        reference: reference.to_owned(),
        expires_at,
        created_at,
        released_at: None,
        release_reason: None,
        lines: lines.to_vec(),
    }))
}

/// reference, expires_at, created_at, released_at, release_reason.
type ReservationRow = (
    String,
    DateTime<Utc>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<String>,
);

pub async fn get_reservation(pool: &PgPool, org: OrgId, id: Uuid) -> Result<Option<Reservation>> {
    let row: Option<ReservationRow> = sqlx::query_as(
        "SELECT reference, expires_at, created_at, released_at, release_reason
             FROM inventory_reservations WHERE org_id = $1 AND id = $2",
    )
    .bind(org.0)
    .bind(id)
    .fetch_optional(pool)
    .await?;
    let Some((reference, expires_at, created_at, released_at, release_reason)) = row else {
        return Ok(None);
    };
    let lines: Vec<(String, Option<String>, Decimal)> = sqlx::query_as(
        "SELECT sku, location, quantity FROM inventory_reservation_lines
         WHERE reservation_id = $1 ORDER BY line",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok(Some(Reservation {
        id,
        reference,
        expires_at,
        created_at,
        released_at,
        release_reason,
        lines: lines
            .into_iter()
            .map(|(sku, location, quantity)| Line {
                sku,
                location,
                quantity,
            })
            .collect(),
    }))
}

/// What [`release`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    Released,
    /// Released or expired before: nothing changed.
    AlreadyEnded,
    NotFound,
}

/// Release a reservation: what it held is available again.
pub async fn release(pool: &PgPool, org: OrgId, id: Uuid) -> Result<Release> {
    let mut tx = crate::begin(pool).await?;
    feed::lock(&mut tx, org).await?;
    let ended: Option<bool> = sqlx::query_scalar(
        "SELECT released_at IS NOT NULL FROM inventory_reservations
         WHERE org_id = $1 AND id = $2 FOR UPDATE",
    )
    .bind(org.0)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let outcome = match ended {
        None => Release::NotFound,
        Some(true) => Release::AlreadyEnded,
        Some(false) => {
            sqlx::query(
                "UPDATE inventory_reservations SET released_at = now(), release_reason = 'released'
                 WHERE id = $1",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
            Release::Released
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

/// Mark every reservation (of every organization) whose time is up at `now` as expired, one
/// organization per transaction; how many. Each records an inventory change of its SKUs.
pub async fn expire_due(pool: &PgPool, now: DateTime<Utc>) -> Result<u64> {
    let orgs: Vec<Uuid> = sqlx::query_scalar(
        "SELECT DISTINCT org_id FROM inventory_reservations
         WHERE released_at IS NULL AND expires_at <= $1",
    )
    .bind(now)
    .fetch_all(pool)
    .await?;
    let mut expired = 0;
    for org in orgs {
        let mut tx = crate::begin(pool).await?;
        feed::lock(&mut tx, OrgId(org)).await?;
        expired += sqlx::query(
            "UPDATE inventory_reservations SET released_at = now(), release_reason = 'expired'
             WHERE org_id = $1 AND released_at IS NULL AND expires_at <= $2",
        )
        .bind(org)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
    }
    Ok(expired)
}
