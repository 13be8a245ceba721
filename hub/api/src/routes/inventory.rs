//! Inventory (`read:inventory` / `write:inventory`): locations, stock levels in bulk,
//! availability of one SKU (in total or per location) or many, an availability check of
//! order lines, and soft reservations with a time to live (SteelWise 4.2). A reservation
//! never makes what is available negative: the store holds the rows it counts locked while it
//! decides (`switchyard_store::inventory::reserve`); one that does not fit is a 409 saying what
//! is available, and holds nothing.

use crate::auth::{ReadInventory, Scoped, WriteInventory};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody, ErrorCode};
use crate::paging::at_most;
use crate::quantities;
use crate::responses::{BadRequest, NotFound, UnprocessableEntity, UnsupportedMediaType};
use crate::routes::catalog::{at, BatchResult, MAX_BATCH};
use crate::schemas;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use switchyard_store::catalog::ItemError;
use switchyard_store::inventory::{
    self as store, LevelRecord, Line, LineCheck, Location, LocationStock, Release, Reservation,
    Reserved, Stock, StockStatus,
};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// A reservation's time to live when the request gives none, and the longest it may ask.
pub const DEFAULT_TTL_MINUTES: u32 = 15;
pub const MAX_TTL_MINUTES: u32 = 1440;
/// The most SKUs or lines one read or check takes.
pub const MAX_LINES: usize = 500;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_locations))
        .routes(routes!(put_location))
        .routes(routes!(put_levels))
        .routes(routes!(get_stock))
        .routes(routes!(batch_stock))
        .routes(routes!(check_availability))
        .routes(routes!(reserve))
        .routes(routes!(get_reservation, release_reservation))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationInput {
    #[schema(schema_with = schemas::name)]
    pub name: String,
    #[serde(default)]
    pub city: Option<String>,
    /// State or region the location is in.
    #[serde(default)]
    pub region: Option<String>,
    /// States / regions it ships to.
    #[serde(default)]
    pub ships_to: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LocationView {
    pub code: String,
    pub name: String,
    pub city: Option<String>,
    pub region: Option<String>,
    pub ships_to: Vec<String>,
}

impl From<Location> for LocationView {
    fn from(l: Location) -> Self {
        LocationView {
            code: l.code,
            name: l.name,
            city: l.city,
            region: l.region,
            ships_to: l.ships_to,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LocationList {
    pub items: Vec<LocationView>,
}

/// Every location of the organization, by code.
#[utoipa::path(get, path = "/inventory/locations", tag = "inventory",
    responses((status = 200, body = LocationList)))]
async fn list_locations(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadInventory>,
) -> Result<Json<LocationList>, ApiError> {
    let rows = store::list_locations(&app.api.pool, auth.org).await?;
    Ok(Json(LocationList {
        items: rows.into_iter().map(LocationView::from).collect(),
    }))
}

/// Create or replace a location (a warehouse) and the regions it ships to.
#[utoipa::path(put, path = "/inventory/locations/{code}", tag = "inventory",
    params(("code" = String, Path, min_length = 1, pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$", description = "the location's code")),
    request_body = LocationInput,
    responses((status = 200, body = LocationView), (status = 400, response = BadRequest),
        (status = 415, response = UnsupportedMediaType), (status = 422, response = UnprocessableEntity)))]
async fn put_location(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteInventory>,
    ApiPath(code): ApiPath<String>,
    ApiJson(input): ApiJson<LocationInput>,
) -> Result<Json<LocationView>, ApiError> {
    if code.trim().is_empty() {
        return Err(ApiError::validation("code: must not be empty"));
    }
    if input.name.trim().is_empty() {
        return Err(ApiError::validation("name: must not be empty"));
    }
    let location = Location {
        code,
        name: input.name,
        city: input.city,
        region: input.region,
        ships_to: input.ships_to,
    };
    store::upsert_location(&app.api.pool, auth.org, &location).await?;
    Ok(Json(location.into()))
}

/// Stock of one SKU at one location, in the product's base unit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LevelInput {
    #[schema(schema_with = schemas::name)]
    pub sku: String,
    #[schema(schema_with = schemas::name)]
    pub location: String,
    #[serde(deserialize_with = "quantities::quantity")]
    #[schema(schema_with = quantities::schema)]
    pub on_hand: Decimal,
    #[serde(deserialize_with = "quantities::quantity")]
    #[schema(schema_with = quantities::schema)]
    pub allocated: Decimal,
    #[serde(deserialize_with = "quantities::quantity")]
    #[schema(schema_with = quantities::schema)]
    pub on_order: Decimal,
    /// At or below it, the stock is `low_stock`; kept as stored when absent (0 at first).
    #[serde(default, deserialize_with = "quantities::optional_quantity")]
    #[schema(schema_with = quantities::optional_schema, required = false)]
    pub low_stock_threshold: Option<Decimal>,
    /// `on_hand` is a floor, not a count (a supplier's capped "100+"); false when absent.
    #[serde(default)]
    #[schema(required = false)]
    pub on_hand_at_least: bool,
}

impl LevelInput {
    fn record(&self) -> LevelRecord {
        LevelRecord {
            sku: self.sku.clone(),
            location: self.location.clone(),
            on_hand: self.on_hand,
            allocated: self.allocated,
            on_order: self.on_order,
            low_stock_threshold: self.low_stock_threshold,
            on_hand_at_least: self.on_hand_at_least,
        }
    }
}

/// One stock level as `PUT /inventory/levels` takes it (a [`LevelInput`] object), parsed and
/// checked, or the field at fault: what the scheduled pull stores its records through, so
/// both ways into the stock table keep one set of rules.
pub fn level_record(item: Value) -> Result<LevelRecord, ItemError> {
    let input: LevelInput = serde_path_to_error::deserialize(item).map_err(|e| {
        let path = e.path().to_string();
        ItemError::new(path.trim_start_matches('.'), e.into_inner().to_string())
    })?;
    for (field, v) in [("sku", &input.sku), ("location", &input.location)] {
        if v.trim().is_empty() {
            return Err(ItemError::new(field, "must not be empty"));
        }
    }
    Ok(input.record())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LevelBatch {
    #[schema(max_items = 1000)]
    pub items: Vec<LevelInput>,
}

/// Set the stock of up to 1,000 (SKU, location) pairs. Idempotent: an item equal to what is
/// stored writes nothing and does not advance the change feed. An item naming a SKU that is
/// no live product or variant, or an unknown location, is reported in `errors` with its
/// index and field; the others are stored. A body the schema refuses (a blank SKU) is a 422.
#[utoipa::path(put, path = "/inventory/levels", tag = "inventory", request_body = LevelBatch,
    responses((status = 200, body = BatchResult), (status = 400, response = BadRequest),
        (status = 415, response = UnsupportedMediaType), (status = 422, response = UnprocessableEntity)))]
async fn put_levels(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteInventory>,
    ApiJson(batch): ApiJson<LevelBatch>,
) -> Result<Json<BatchResult>, ApiError> {
    at_most("items", batch.items.len(), MAX_BATCH)?;
    // What the schema says (non-blank SKU and location) refuses the call, as for any body
    // the document calls invalid; what only the database knows is reported per item.
    if let Some((i, field)) = batch.items.iter().enumerate().find_map(|(i, l)| {
        if l.sku.trim().is_empty() {
            Some((i, "sku"))
        } else if l.location.trim().is_empty() {
            Some((i, "location"))
        } else {
            None
        }
    }) {
        return Err(ApiError::validation(format!(
            "items[{i}].{field}: must not be empty"
        )));
    }
    let mut result = BatchResult::default();
    let good: Vec<LevelRecord> = batch.items.iter().map(LevelInput::record).collect();
    let mut stored = store::upsert_levels(&app.api.pool, auth.org, &good)
        .await?
        .into_iter();
    for (index, l) in batch.items.into_iter().enumerate() {
        let outcome = stored
            .next()
            .ok_or_else(|| ApiError::internal(&"the store answered fewer items than sent"))?
            .map_err(|e| at(index, e));
        result.push(index, Some(l.sku), outcome);
    }
    Ok(Json(result))
}

fn stock_status() -> utoipa::openapi::Object {
    schemas::one_of(&StockStatus::ALL)
}

/// Stock at one location.
#[derive(Debug, Serialize, ToSchema)]
pub struct LocationStockView {
    pub location: String,
    pub location_name: String,
    pub ships_to: Vec<String>,
    #[schema(value_type = String)]
    pub on_hand: Decimal,
    #[schema(value_type = String)]
    pub allocated: Decimal,
    #[schema(value_type = String)]
    pub on_order: Decimal,
    /// Held by active reservations at this location.
    #[schema(value_type = String)]
    pub reserved: Decimal,
    /// on_hand − allocated − reserved, not below zero.
    #[schema(value_type = String)]
    pub available: Decimal,
    #[schema(value_type = String)]
    pub low_stock_threshold: Decimal,
    /// `on_hand` (and so `available`) is a floor: the source capped it ("100+").
    pub on_hand_at_least: bool,
    #[schema(schema_with = stock_status)]
    pub status: StockStatus,
    pub updated_at: DateTime<Utc>,
}

impl From<LocationStock> for LocationStockView {
    fn from(l: LocationStock) -> Self {
        LocationStockView {
            location: l.location,
            location_name: l.location_name,
            ships_to: l.ships_to,
            on_hand: l.on_hand,
            allocated: l.allocated,
            on_order: l.on_order,
            reserved: l.reserved,
            available: l.available,
            low_stock_threshold: l.low_stock_threshold,
            on_hand_at_least: l.on_hand_at_least,
            status: l.status,
            updated_at: l.updated_at,
        }
    }
}

/// A SKU's stock across its locations.
#[derive(Debug, Serialize, ToSchema)]
pub struct StockView {
    pub sku: String,
    #[schema(value_type = String)]
    pub on_hand: Decimal,
    #[schema(value_type = String)]
    pub allocated: Decimal,
    #[schema(value_type = String)]
    pub on_order: Decimal,
    /// Held by active reservations, with or without a location.
    #[schema(value_type = String)]
    pub reserved: Decimal,
    /// on_hand − allocated − reserved over every location, not below zero.
    #[schema(value_type = String)]
    pub available: Decimal,
    /// Some location's stock is a floor (capped "100+"), so the totals are floors too.
    pub on_hand_at_least: bool,
    #[schema(schema_with = stock_status)]
    pub status: StockStatus,
    /// Per location, when asked for (`by_location`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locations: Option<Vec<LocationStockView>>,
    pub updated_at: Option<DateTime<Utc>>,
}

fn view(s: Stock, by_location: bool) -> StockView {
    StockView {
        sku: s.sku,
        on_hand: s.on_hand,
        allocated: s.allocated,
        on_order: s.on_order,
        reserved: s.reserved,
        available: s.available,
        on_hand_at_least: s.on_hand_at_least,
        status: s.status,
        locations: by_location.then(|| {
            s.locations
                .into_iter()
                .map(LocationStockView::from)
                .collect()
        }),
        updated_at: s.updated_at,
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StockQuery {
    /// Per location too (false when absent).
    #[serde(alias = "byLocation")]
    pub by_location: Option<bool>,
}

/// The stock of one SKU (a product or a variant): in total, and per location with
/// `by_location=true`. 404 for a SKU that is no live product or variant.
#[utoipa::path(get, path = "/inventory/products/{sku}", tag = "inventory",
    params(("sku" = String, Path, min_length = 1, description = "a product's or variant's SKU"), StockQuery),
    responses((status = 200, body = StockView), (status = 400, response = BadRequest), (status = 404, response = NotFound)))]
async fn get_stock(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadInventory>,
    ApiPath(sku): ApiPath<String>,
    ApiQuery(q): ApiQuery<StockQuery>,
) -> Result<Json<StockView>, ApiError> {
    let stock = store::stock(&app.api.pool, auth.org, std::slice::from_ref(&sku))
        .await?
        .pop()
        .ok_or_else(|| ApiError::not_found("product"))?;
    Ok(Json(view(stock, q.by_location.unwrap_or(false))))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockBatch {
    #[schema(max_items = 500)]
    pub skus: Vec<String>,
    /// Per location too (false when absent).
    #[serde(default)]
    pub by_location: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StockList {
    /// The stock of each SKU that names a live product or variant, in SKU order.
    pub items: Vec<StockView>,
    /// The SKUs asked for that name none.
    pub unknown: Vec<String>,
}

/// The stock of up to 500 SKUs at once.
#[utoipa::path(post, path = "/inventory/products:batch", tag = "inventory", request_body = StockBatch,
    responses((status = 200, body = StockList), (status = 400, response = BadRequest),
        (status = 415, response = UnsupportedMediaType), (status = 422, response = UnprocessableEntity)))]
async fn batch_stock(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadInventory>,
    ApiJson(batch): ApiJson<StockBatch>,
) -> Result<Json<StockList>, ApiError> {
    at_most("skus", batch.skus.len(), MAX_LINES)?;
    let stock = store::stock(&app.api.pool, auth.org, &batch.skus).await?;
    let mut unknown: Vec<String> = batch
        .skus
        .iter()
        .filter(|s| !stock.iter().any(|k| &k.sku == *s))
        .cloned()
        .collect();
    unknown.sort();
    unknown.dedup();
    Ok(Json(StockList {
        items: stock
            .into_iter()
            .map(|s| view(s, batch.by_location))
            .collect(),
        unknown,
    }))
}

/// A quantity of a SKU, at a location or from any.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineInput {
    #[schema(schema_with = schemas::name)]
    pub sku: String,
    /// More than zero, in the product's base unit.
    #[serde(deserialize_with = "quantities::positive_quantity")]
    #[schema(schema_with = quantities::positive_schema)]
    pub quantity: Decimal,
    /// A location's code; absent: from any location (counted against the total).
    #[serde(default)]
    pub location: Option<String>,
}

/// The lines as the store takes them; 422 naming the first blank SKU.
fn lines(input: Vec<LineInput>) -> Result<Vec<Line>, ApiError> {
    if let Some(i) = input.iter().position(|l| l.sku.trim().is_empty()) {
        return Err(ApiError::validation(format!(
            "lines[{i}].sku: must not be empty"
        )));
    }
    Ok(input
        .into_iter()
        .map(|l| Line {
            sku: l.sku,
            location: l.location,
            quantity: l.quantity,
        })
        .collect())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityRequest {
    #[schema(max_items = 500)]
    pub lines: Vec<LineInput>,
}

/// One line against what is available (the lines before it in the request counted).
#[derive(Debug, Serialize, ToSchema)]
pub struct LineCheckView {
    pub sku: String,
    pub location: Option<String>,
    #[schema(value_type = String)]
    pub requested: Decimal,
    /// What was available for this line.
    #[schema(value_type = String)]
    pub available: Decimal,
    pub available_now: bool,
    /// requested − available when it does not fit, else 0.
    #[schema(value_type = String)]
    pub short_by: Decimal,
}

impl From<LineCheck> for LineCheckView {
    fn from(c: LineCheck) -> Self {
        LineCheckView {
            sku: c.sku,
            location: c.location,
            requested: c.requested,
            available: c.available,
            available_now: c.fits,
            short_by: c.short_by,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AvailabilityAnswer {
    /// Every line is available now.
    pub can_fulfill: bool,
    pub lines: Vec<LineCheckView>,
}

/// Whether order lines could be had now, each counted after the ones before it (two lines of
/// the same SKU share its stock). Holds nothing: `POST /inventory/reserve` does.
#[utoipa::path(post, path = "/inventory/availability-check", tag = "inventory", request_body = AvailabilityRequest,
    responses((status = 200, body = AvailabilityAnswer), (status = 400, response = BadRequest),
        (status = 415, response = UnsupportedMediaType), (status = 422, response = UnprocessableEntity)))]
async fn check_availability(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadInventory>,
    ApiJson(req): ApiJson<AvailabilityRequest>,
) -> Result<Json<AvailabilityAnswer>, ApiError> {
    at_most("lines", req.lines.len(), MAX_LINES)?;
    let checks = store::check(&app.api.pool, auth.org, &lines(req.lines)?).await?;
    Ok(Json(AvailabilityAnswer {
        can_fulfill: checks.iter().all(|c| c.fits),
        lines: checks.into_iter().map(LineCheckView::from).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReserveRequest {
    /// The cart, session or customer it is for.
    #[schema(schema_with = schemas::name)]
    pub reference: String,
    #[schema(min_items = 1, max_items = 500)]
    pub lines: Vec<LineInput>,
    /// How long it holds: 15 minutes when absent, at most 1440 (a day).
    #[serde(default, deserialize_with = "ttl_minutes")]
    #[schema(minimum = 1, maximum = 1440)]
    pub ttl_minutes: Option<u32>,
}

fn ttl_minutes<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    #[derive(Deserialize)]
    struct Minutes(#[serde(deserialize_with = "crate::routes::orders::whole_number")] u32);
    Ok(Option::<Minutes>::deserialize(d)?.map(|Minutes(m)| m))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReservedLine {
    pub sku: String,
    pub location: Option<String>,
    #[schema(value_type = String)]
    pub quantity: Decimal,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReservationView {
    pub id: uuid::Uuid,
    pub reference: String,
    pub lines: Vec<ReservedLine>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// When it stopped holding (released or expired).
    pub released_at: Option<DateTime<Utc>>,
    #[schema(schema_with = release_reason)]
    pub release_reason: Option<String>,
}

fn release_reason() -> utoipa::openapi::Object {
    schemas::one_of_or_null(&["released", "expired"])
}

impl From<Reservation> for ReservationView {
    fn from(r: Reservation) -> Self {
        ReservationView {
            id: r.id,
            reference: r.reference,
            lines: r
                .lines
                .into_iter()
                .map(|l| ReservedLine {
                    sku: l.sku,
                    location: l.location,
                    quantity: l.quantity,
                })
                .collect(),
            created_at: r.created_at,
            expires_at: r.expires_at,
            released_at: r.released_at,
            release_reason: r.release_reason,
        }
    }
}

/// Hold stock for a cart before checkout, every line or none, for `ttl_minutes` (15 by
/// default, at most 1440): what is held is not available to others until it is released
/// (`DELETE /inventory/reservations/{id}`) or expires. Concurrent reservations never hold more
/// than there is. 409 when a line does not fit, with every line's check in
/// `details.lines` (what was available, short by how much); nothing is held then.
#[utoipa::path(post, path = "/inventory/reserve", tag = "inventory", request_body = ReserveRequest,
    responses((status = 201, body = ReservationView), (status = 400, response = BadRequest),
        (status = 409, description = "a line does not fit; `details.lines` says what is available", body = ErrorBody),
        (status = 415, response = UnsupportedMediaType), (status = 422, response = UnprocessableEntity)))]
async fn reserve(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteInventory>,
    ApiJson(req): ApiJson<ReserveRequest>,
) -> Result<(StatusCode, Json<ReservationView>), ApiError> {
    if req.reference.trim().is_empty() {
        return Err(ApiError::validation("reference: must not be empty"));
    }
    if req.lines.is_empty() || req.lines.len() > MAX_LINES {
        return Err(ApiError::validation(format!(
            "lines: 1 to {MAX_LINES} lines, got {}",
            req.lines.len()
        )));
    }
    let ttl = req.ttl_minutes.unwrap_or(DEFAULT_TTL_MINUTES);
    if !(1..=MAX_TTL_MINUTES).contains(&ttl) {
        return Err(ApiError::validation(format!(
            "ttl_minutes: 1 to {MAX_TTL_MINUTES}, got {ttl}"
        )));
    }
    let lines = lines(req.lines)?;
    match store::reserve(
        &app.api.pool,
        auth.org,
        &req.reference,
        &lines,
        i64::from(ttl) * 60,
    )
    .await?
    {
        Reserved::Held(r) => Ok((StatusCode::CREATED, Json(r.into()))),
        Reserved::Short(checks) => {
            let short: Vec<String> = checks
                .iter()
                .enumerate()
                .filter(|(_, c)| !c.fits)
                .map(|(i, c)| format!("lines[{i}] ({}): {} available", c.sku, c.available))
                .collect();
            let lines: Vec<LineCheckView> = checks.into_iter().map(LineCheckView::from).collect();
            Err(ApiError::new(
                ErrorCode::Conflict,
                format!("not enough stock: {}", short.join("; ")),
            )
            .with_details(json!({ "lines": lines })))
        }
    }
}

/// One reservation, held or not.
#[utoipa::path(get, path = "/inventory/reservations/{id}", tag = "inventory",
    params(("id" = uuid::Uuid, Path, description = "reservation id")),
    responses((status = 200, body = ReservationView), (status = 400, response = BadRequest), (status = 404, response = NotFound)))]
async fn get_reservation(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadInventory>,
    ApiPath(id): ApiPath<uuid::Uuid>,
) -> Result<Json<ReservationView>, ApiError> {
    let r = store::get_reservation(&app.api.pool, auth.org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("reservation"))?;
    Ok(Json(r.into()))
}

/// Release a reservation: what it held is available again. Releasing one that was released
/// or has expired changes nothing.
#[utoipa::path(delete, path = "/inventory/reservations/{id}", tag = "inventory",
    params(("id" = uuid::Uuid, Path, description = "reservation id")),
    responses((status = 204, description = "released (or no longer held)"), (status = 400, response = BadRequest), (status = 404, response = NotFound)))]
async fn release_reservation(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteInventory>,
    ApiPath(id): ApiPath<uuid::Uuid>,
) -> Result<StatusCode, ApiError> {
    match store::release(&app.api.pool, auth.org, id).await? {
        Release::Released | Release::AlreadyEnded => Ok(StatusCode::NO_CONTENT),
        Release::NotFound => Err(ApiError::not_found("reservation")),
    }
}
