//! Inbound purchase orders: `edi.order.import` turns every 850 / ORDERS set of a stored,
//! syntactically valid inbound interchange into a stored order, and answers the partner with
//! an 855 / ORDRSP (through `edi.send`); `edi.order.reprocess` re-checks an order an admin
//! fixed (or re-maps it from the stored message) and accepts it when it passes.
//!
//! The import, per set:
//! 1. the set becomes the JSON EDI tree (`switchyard_edi::tree::to_tree`), mapped by the
//!    mapping file `edi/x12-850.order.in` or `edi/edifact-orders.order.in` (hot-reloaded) into
//!    an order intake record: canonical field names, identifiers as the partner sent them;
//! 2. the buyer (N1 BY/BT, NAD+BY, then the interchange sender) and every line's product
//!    (our SKU, the buyer's part number, GTIN) are resolved against `customers` / `products`;
//!    quantities, prices and dates are parsed, and `orders::check_order` runs the business
//!    checks. Every problem becomes a review error naming the set, the segment position and
//!    id and the element (as a 997 AK3/AK4 would);
//! 3. the order is stored `confirmed` when clean, `pending_review` with its errors otherwise,
//!    and in the same transaction an `edi.send` `order_response` job is enqueued: 855 BAK02
//!    `AC` / ORDRSP BGM 1225 `29`, or `RJ` with ACK `IR` lines / `27`.
//!
//! Idempotent: the order is unique per source set (and per customer + PO, so a re-sent PO is
//! not a second order), and the response job is keyed by order and status, so a redelivered
//! job neither stores a second order nor answers twice.
//!
//! Payloads: import `{"message_id"}` (the message's partner, a `[partners.NAME]` with
//! `kind = "edi"`, gets the answer); reprocess `{"order_id", "remap": bool}`.

use crate::jobs::{DocumentKind, ImportOrders, ReprocessOrder, SendDocument};
use crate::messages::{self as edi_store, EdiMessageId};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use sqlx::PgPool;
use std::str::FromStr;
use switchyard_core::error::AdapterError;
use switchyard_core::ids::{JobId, OrderId, OrgId};
use switchyard_core::model::{Address, Order, OrderLine, OrderStatus, PartyRef, Uom};
use switchyard_core::JobPayload;
use switchyard_edi::{Interchange, Standard, TxSet, Unit};
use switchyard_runtime::context::JobContext;
use switchyard_runtime::job::Job;
use switchyard_store::logs::{self, Direction, IntegrationType, LogStatus, Masker, NewLogEntry};
use switchyard_store::orders::{
    self, ErrorLocation, NewOrder, OrderInsert, OrderRow, OrderUpdate, ProductRef, ReviewError,
};
use switchyard_store::queue::{ClaimedJob, NewJob, Queue};
use switchyard_store::StoreError;
use tracing::{info, info_span, warn, Instrument};
use uuid::Uuid;

pub const IMPORT_KIND: &str = ImportOrders::KIND;
pub const REPROCESS_KIND: &str = ReprocessOrder::KIND;

const X12_MAPPING: &str = "edi/x12-850.order.in";
const EDIFACT_MAPPING: &str = "edi/edifact-orders.order.in";

fn is_order_set(set_type: &str) -> bool {
    matches!(set_type, "850" | "ORDERS")
}

fn db(what: &'static str) -> impl Fn(StoreError) -> AdapterError {
    move |e| AdapterError::transient(format!("{what}: {e}"))
}

/// The hook of the mailbox poll: enqueue the import of a stored, valid interchange that holds
/// purchase orders, on `exec` (the transaction that marks the message processed, so a message
/// is never processed without its import). Nothing for interchanges without 850 / ORDERS.
pub async fn enqueue_import<'e>(
    exec: impl sqlx::PgExecutor<'e>,
    queue_clock: DateTime<Utc>,
    org: OrgId,
    message: EdiMessageId,
    ic: &Interchange,
) -> Result<(), AdapterError> {
    if !ic
        .groups
        .iter()
        .flat_map(|g| &g.sets)
        .any(|s| is_order_set(&s.set_type))
    {
        return Ok(());
    }
    let payload = ImportOrders {
        message_id: message.0,
    };
    let mut job =
        NewJob::new(org, IMPORT_KIND, json!(payload)).key(format!("{IMPORT_KIND}:{}", message.0));
    job.run_at = Some(queue_clock);
    job.correlation_id = Some(message.0.to_string());
    Queue::insert_job(exec, &job, queue_clock)
        .await
        .map_err(db("enqueueing the order import"))?;
    Ok(())
}

/// The payload as it was called before it became [`ImportOrders`].
pub type ImportPayload = ImportOrders;

pub struct OrderImport;

#[async_trait]
impl Job for OrderImport {
    type Payload = ImportOrders;

    async fn run(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        p: ImportOrders,
    ) -> Result<(), AdapterError> {
        let span = info_span!("edi.order.import", message = %p.message_id, job = %job.id);
        import(ctx, job.org_id, job.id, &p)
            .instrument(span)
            .await
            .map(|_| ())
    }
}

/// What one set became.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    pub order: OrderId,
    pub status: OrderStatus,
    pub errors: usize,
    /// False when the order existed already (a redelivery or a re-sent PO).
    pub created: bool,
}

pub async fn import(
    ctx: &JobContext,
    org: OrgId,
    job: JobId,
    p: &ImportPayload,
) -> Result<Vec<Imported>, AdapterError> {
    let pool = ctx.queue.pool();
    let msg = edi_store::get(pool, org, EdiMessageId(p.message_id))
        .await
        .map_err(db("loading the EDI message"))?
        .ok_or_else(|| {
            AdapterError::permanent(format!("EDI message {} does not exist", p.message_id))
        })?;
    let ic = parse_one(&msg.raw)?;
    // The partner the message came from (its `[partners.NAME]`) gets the answer.
    let reply_to = json!({"partner": msg.partner});
    let partner = msg.partner.clone();
    let mut done = Vec::new();
    for set in ic.groups.iter().flat_map(|g| &g.sets) {
        if !is_order_set(&set.set_type) {
            continue;
        }
        if let Some(existing) = orders::by_source(pool, org, p.message_id, &set.control)
            .await
            .map_err(db("looking for the set's order"))?
        {
            // A redelivery: the order is stored; make sure its answer is on its way.
            respond(ctx, org, &existing).await?;
            done.push(Imported {
                order: existing.id,
                status: existing.status,
                errors: existing.review_errors.len(),
                created: false,
            });
            continue;
        }
        let draft = build(ctx, org, &ic, set).await?;
        let status = if draft.errors.is_empty() {
            OrderStatus::Confirmed
        } else {
            OrderStatus::PendingReview
        };
        let mut order = draft.order;
        order.status = status;
        let new = NewOrder {
            org,
            order_number: order.order_number.clone(),
            customer_id: Some(order.customer_id.clone())
                .filter(|c| draft.customer_known && !c.is_empty()),
            customer_po: order.customer_po.clone().unwrap_or_default(),
            status,
            canonical: to_json(&order)?,
            source_message_id: Some(p.message_id),
            partner: Some(partner.clone()),
            source_set: Some(set.control.clone()),
            mapped: draft.mapped.clone(),
            mapping_hash: draft.mapping_hash.clone(),
            review_errors: draft.errors.clone(),
            reply_to: Some(reply_to.clone()),
        };
        let row = match orders::insert_order(pool, &new)
            .await
            .map_err(db("storing the order"))?
        {
            OrderInsert::Stored(id) => orders::get(pool, org, id)
                .await
                .map_err(db("loading the stored order"))?
                .ok_or_else(|| AdapterError::transient("the stored order vanished"))?,
            OrderInsert::Existing(row) => {
                warn!(order = %row.id, po = %row.customer_po, "the partner re-sent a PO we already hold; no second order");
                log(pool, org, job, &partner, "edi.order.duplicate_po", LogStatus::Warning,
                    json!({"order_id": row.id, "customer_po": row.customer_po, "message_id": p.message_id, "set": set.control}),
                    Some(format!("PO {} of customer {} is already order {}", row.customer_po, row.customer_id.as_deref().unwrap_or("?"), row.order_number))).await;
                done.push(Imported {
                    order: row.id,
                    status: row.status,
                    errors: row.review_errors.len(),
                    created: false,
                });
                continue;
            }
        };
        let (event, level, err) = if draft.errors.is_empty() {
            ("edi.order.imported", LogStatus::Success, None)
        } else {
            (
                "edi.order.pending_review",
                LogStatus::Warning,
                Some(
                    draft
                        .errors
                        .iter()
                        .map(|e| e.message.clone())
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
            )
        };
        log(
            pool,
            org,
            job,
            &partner,
            event,
            level,
            json!({"order_id": row.id, "order_number": row.order_number, "customer_po": row.customer_po,
                   "status": row.status, "message_id": p.message_id, "set": set.control}),
            err,
        )
        .await;
        info!(order = %row.id, status = row.status.as_str(), errors = draft.errors.len(), "purchase order stored");
        respond(ctx, org, &row).await?;
        done.push(Imported {
            order: row.id,
            status: row.status,
            errors: row.review_errors.len(),
            created: true,
        });
    }
    Ok(done)
}

fn to_json(order: &Order) -> Result<Value, AdapterError> {
    serde_json::to_value(order)
        .map_err(|e| AdapterError::permanent(format!("serializing the order: {e}")))
}

fn parse_one(raw: &[u8]) -> Result<Box<Interchange>, AdapterError> {
    match switchyard_edi::read_all(raw).into_iter().next() {
        Some(Unit::Interchange(ic)) => Ok(ic),
        Some(Unit::Unparseable(issue)) => Err(AdapterError::permanent(format!(
            "the stored interchange does not parse: {issue}"
        ))),
        None => Err(AdapterError::permanent("the stored message is empty")),
    }
}

#[allow(clippy::too_many_arguments)]
async fn log(
    pool: &PgPool,
    org: OrgId,
    job: JobId,
    partner: &str,
    event: &str,
    status: LogStatus,
    body: Value,
    error: Option<String>,
) {
    let mut entry = NewLogEntry::new(
        Some(org),
        IntegrationType::Edi,
        event,
        Direction::Inbound,
        status,
    );
    entry.partner = Some(partner.to_owned());
    entry.job_id = Some(job);
    entry.request_body = Some(body);
    entry.error_message = error;
    // The order is stored; a lost log row is reported, not retried.
    if let Err(e) = logs::insert(pool, &Masker::default(), &entry).await {
        warn!(error = %e, "could not write the integration log row");
    }
}

/// Enqueue the 855 / ORDRSP for the order's current status, once per order and status: the
/// job key and the `response_job_id` guard make a redelivery or a second reprocess a no-op.
pub async fn respond(ctx: &JobContext, org: OrgId, row: &OrderRow) -> Result<(), AdapterError> {
    let accepted = match row.status {
        OrderStatus::PendingReview => false,
        OrderStatus::Confirmed | OrderStatus::Pending => true,
        // Later states were answered when they were confirmed.
        _ => return Ok(()),
    };
    let want = if accepted { "accepted" } else { "rejected" };
    if row.response.as_deref() == Some(want) {
        return Ok(());
    }
    let Some(reply_to) = row.reply_to.as_ref() else {
        return Ok(()); // not an EDI order: nobody to answer
    };
    let Some(partner) = reply_to.get("partner").and_then(Value::as_str) else {
        warn!(order = %row.id, "the order's reply_to names no partner: no answer is sent");
        return Ok(());
    };
    let send = SendDocument {
        partner: partner.to_owned(),
        document: DocumentKind::OrderResponse,
        entity: row.canonical.clone(),
        order: None,
    };
    let mut job = NewJob::new(org, SendDocument::KIND, json!(send)).key(format!(
        "order_response:{}:{}",
        row.id,
        row.status.as_str()
    ));
    job.correlation_id = Some(row.id.to_string());
    let job_id = JobId::new();
    let pool = ctx.queue.pool();
    let mut tx = switchyard_store::begin(pool)
        .await
        .map_err(|e| AdapterError::transient(format!("starting a transaction: {e}")))?;
    if orders::set_response(
        &mut *tx,
        org,
        row.id,
        row.response_job_id,
        job_id.0,
        accepted,
    )
    .await
    .map_err(db("recording the order response"))?
    {
        Queue::insert_job_with_id(&mut *tx, job_id, &job, ctx.queue.now())
            .await
            .map_err(db("enqueueing the order response"))?;
    }
    tx.commit()
        .await
        .map_err(|e| AdapterError::transient(format!("committing the order response: {e}")))?;
    Ok(())
}

/// An order built from one set, with what is wrong with it.
pub struct Draft {
    pub order: Order,
    pub customer_known: bool,
    pub errors: Vec<ReviewError>,
    pub mapped: Option<Value>,
    pub mapping_hash: Option<String>,
}

/// Positions (1-based, ST/UNH = 1) of the set's segments by id.
struct SetIndex {
    control: String,
    ids: Vec<String>,
    /// The segment starting each order line (PO1 / LIN).
    lines: Vec<u32>,
}

impl SetIndex {
    fn new(ic: &Interchange, set: &TxSet) -> Self {
        let end = set.trailer.unwrap_or(ic.len().saturating_sub(1));
        let ids: Vec<String> = (set.header..=end)
            .map(|i| ic.segment(i).id().to_string())
            .collect();
        let trigger = if ic.standard == Standard::X12 {
            "PO1"
        } else {
            "LIN"
        };
        let lines = ids
            .iter()
            .enumerate()
            .filter(|(_, id)| *id == trigger)
            .map(|(i, _)| i as u32 + 1)
            .collect();
        SetIndex {
            control: set.control.clone(),
            ids,
            lines,
        }
    }

    /// The first `id` at or after `from` and before the next line starts (0 = the header).
    fn find(&self, id: &str, line: Option<usize>) -> Option<u32> {
        let (from, to) = match line {
            Some(i) => (
                *self.lines.get(i)?,
                self.lines
                    .get(i + 1)
                    .copied()
                    .unwrap_or(self.ids.len() as u32 + 1),
            ),
            None => (
                1,
                self.lines
                    .first()
                    .copied()
                    .unwrap_or(self.ids.len() as u32 + 1),
            ),
        };
        (from..to).find(|p| self.ids.get(*p as usize - 1).is_some_and(|s| s == id))
    }

    fn at(&self, segment: &str, line: Option<usize>, element: &str, field: &str) -> ErrorLocation {
        ErrorLocation {
            set_control: Some(self.control.clone()),
            segment_position: self.find(segment, line),
            segment: Some(segment.to_owned()),
            element: Some(element.to_owned()),
            line: None,
            field: Some(field.to_owned()),
        }
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// Human words for where an error is: "segment PO1 at position 14 of set 0001, element PO102".
fn where_(loc: &ErrorLocation) -> String {
    let mut s = String::new();
    if let Some(seg) = &loc.segment {
        s.push_str(&format!("segment {seg}"));
        if let Some(p) = loc.segment_position {
            s.push_str(&format!(" at position {p}"));
        }
    }
    if let Some(c) = &loc.set_control {
        s.push_str(&format!(" of set {c}"));
    }
    if let Some(e) = &loc.element {
        s.push_str(&format!(", element {e}"));
    }
    s
}

fn err(code: &str, message: String, loc: ErrorLocation) -> ReviewError {
    let message = format!("{message} ({})", where_(&loc));
    ReviewError {
        code: code.into(),
        message,
        location: loc,
    }
}

/// CCYYMMDD (X12 DT, EDIFACT 2379 = 102) or CCYYMMDDHHMM (203).
fn parse_date(v: &str, format: Option<&str>) -> Option<NaiveDate> {
    let v = v.trim();
    match format.unwrap_or("102") {
        "203" if v.len() >= 8 => NaiveDate::parse_from_str(&v[..8], "%Y%m%d").ok(),
        "102" => NaiveDate::parse_from_str(v, "%Y%m%d").ok(),
        _ => None,
    }
}

/// Map, resolve and check one set.
pub async fn build(
    ctx: &JobContext,
    org: OrgId,
    ic: &Interchange,
    set: &TxSet,
) -> Result<Draft, AdapterError> {
    let pool = ctx.queue.pool();
    let idx = SetIndex::new(ic, set);
    let x12 = ic.standard == Standard::X12;
    let mapping_name = if x12 { X12_MAPPING } else { EDIFACT_MAPPING };
    let mapping = ctx.mapping(mapping_name, None)?;
    let empty = Order {
        order_number: mint_order_number(),
        customer_id: String::new(),
        status: OrderStatus::PendingReview,
        currency: String::new(),
        ordered_at: None,
        requested_delivery: None,
        lines: Vec::new(),
        billing_address: None,
        shipping_address: None,
        supplier_order_ref: None,
        customer_po: None,
        tracking_numbers: Vec::new(),
        parties: Vec::new(),
    };
    let fail = |code: &str, message: String| Draft {
        order: empty.clone(),
        customer_known: false,
        errors: vec![ReviewError {
            code: code.into(),
            message: format!("{message} (set {})", set.control),
            location: ErrorLocation {
                set_control: Some(set.control.clone()),
                ..Default::default()
            },
        }],
        mapped: None,
        mapping_hash: Some(mapping.hash.clone()),
    };
    let tree = match switchyard_edi::regroup::mapping_tree(ic, set) {
        Ok(t) => t,
        Err(e) => {
            return Ok(fail(
                "structure",
                format!("the order's structure cannot be read: {e}"),
            ))
        }
    };
    let mapped = match mapping.map_record(&tree, &mut switchyard_mapping::RunState::default()) {
        Ok(m) => m,
        Err(e) => {
            return Ok(fail(
                "mapping",
                format!("mapping `{mapping_name}` failed: {e}"),
            ))
        }
    };
    let mut draft = resolve(pool, org, ic, &idx, &mapped, empty).await?;
    draft.mapped = Some(mapped);
    draft.mapping_hash = Some(mapping.hash.clone());
    Ok(draft)
}

/// The buyer's part number (X12 235 BP buyer's part / IN buyer's item; EDIFACT 7143 IN / BP)
/// and the GTIN (X12 UP, EN, UK, UA; EDIFACT EN, SRV) among a line's (qualifier, id) pairs,
/// first of each as sent: echoed on what we send back about the line.
fn buyer_item_ids(ids: &[(String, String)]) -> (Option<String>, Option<String>) {
    let first = |qs: &[&str]| {
        ids.iter()
            .find(|(q, _)| qs.contains(&q.as_str()))
            .map(|(_, id)| id.clone())
    };
    (
        first(&["BP", "IN"]),
        first(&["UP", "EN", "UK", "UA", "SRV"]),
    )
}

fn mint_order_number() -> String {
    // The random tail of a v7 UUID: unique enough for a human-facing number, and the database
    // index refuses the rare collision (the job is retried with a fresh number).
    let u = Uuid::now_v7().simple().to_string();
    format!("SO-{}", u[20..].to_uppercase())
}

fn uom_of(code: &str) -> Option<Uom> {
    // X12 355 and UN/ECE Rec. 20 codes we trade in (the reverse of generate.rs's tables).
    Some(match code.trim().to_ascii_uppercase().as_str() {
        "EA" | "PCE" | "C62" | "H87" | "PC" => Uom::Ea,
        "LB" | "LBR" => Uom::Lb,
        "KG" | "KGM" => Uom::Kg,
        "FT" | "FOT" => Uom::Ft,
        "MR" | "MTR" | "M" => Uom::M,
        "IN" | "INH" => Uom::In,
        "MM" | "MMT" => Uom::Mm,
        "SF" | "FTK" => Uom::Sf,
        "CW" | "CWA" | "CWT" => Uom::Cwt,
        "TN" | "TNE" | "TON" => Uom::Ton,
        _ => return None,
    })
}

fn address(p: &Value) -> Address {
    Address {
        name: text(p, "name"),
        line1: text(p, "line1"),
        line2: text(p, "line2"),
        city: text(p, "city"),
        region: text(p, "region"),
        postal_code: text(p, "postal_code"),
        country: text(p, "country"),
        phone: None,
        email: None,
    }
}

/// The intake record → canonical order, resolving the buyer and products, with located errors.
async fn resolve(
    pool: &PgPool,
    org: OrgId,
    ic: &Interchange,
    idx: &SetIndex,
    m: &Value,
    mut order: Order,
) -> Result<Draft, AdapterError> {
    let x12 = ic.standard == Standard::X12;
    let mut errors = Vec::new();
    // (code, field) pairs already reported here, so check_order does not repeat them.
    let mut reported: Vec<(String, String)> = Vec::new();
    let empty = Vec::new();

    // Buyer: N1 BY / BT or NAD+BY, then the interchange sender.
    let mut customer = None;
    let buyers = m
        .get("buyer_ids")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    for b in buyers {
        let (Some(q), Some(id)) = (text(b, "qualifier").or(Some(String::new())), text(b, "id"))
        else {
            continue;
        };
        if let Some(c) = orders::customer_by_party(pool, org, &q, &id)
            .await
            .map_err(db("resolving the buyer"))?
        {
            customer = Some(c);
            break;
        }
    }
    if customer.is_none() {
        customer =
            orders::customer_by_party(pool, org, &ic.header.sender_qualifier, &ic.header.sender)
                .await
                .map_err(db("resolving the interchange sender"))?;
    }
    let customer_known = customer.is_some();
    if !customer_known {
        let named = buyers
            .iter()
            .map(|b| {
                format!(
                    "{} {}{}",
                    text(b, "qualifier").unwrap_or_default(),
                    text(b, "id").unwrap_or_default(),
                    text(b, "name")
                        .map(|n| format!(" ({n})"))
                        .unwrap_or_default()
                )
            })
            .chain(std::iter::once(format!(
                "interchange sender {} {}",
                ic.header.sender_qualifier,
                ic.header.sender.trim()
            )))
            .collect::<Vec<_>>()
            .join(", ");
        let (seg, el) = match (x12, buyers.is_empty()) {
            (true, false) => ("N1", "N104"),
            (false, false) => ("NAD", "NAD02-1"),
            (true, true) => ("ISA", "ISA06"),
            (false, true) => ("UNB", "UNB02-1"),
        };
        errors.push(err(
            "unknown_customer",
            format!("the buyer is not one of our customers (identifiers: {named})"),
            idx.at(seg, None, el, "customer_id"),
        ));
        reported.push(("unknown_customer".into(), "customer_id".into()));
    }
    order.customer_id = customer.clone().unwrap_or_default();

    // PO number and dates.
    let (hdr, po_el) = if x12 {
        ("BEG", "BEG03")
    } else {
        ("BGM", "BGM02")
    };
    order.customer_po = text(m, "customer_po");
    if order.customer_po.is_none() {
        errors.push(err(
            "missing_po",
            "the purchase order number is missing".into(),
            idx.at(hdr, None, po_el, "customer_po"),
        ));
    }
    if let Some(d) = text(m, "order_date") {
        match parse_date(&d, text(m, "order_date_format").as_deref()) {
            Some(date) => order.ordered_at = date.and_hms_opt(0, 0, 0).map(|t| t.and_utc()),
            None => {
                let (seg, el) = if x12 {
                    ("BEG", "BEG05")
                } else {
                    ("DTM", "DTM01-2")
                };
                errors.push(err(
                    "bad_date",
                    format!("the order date `{d}` is not a valid date"),
                    idx.at(seg, None, el, "ordered_at"),
                ));
                reported.push(("bad_date".into(), "ordered_at".into()));
            }
        }
    }
    if let Some(d) = text(m, "requested_delivery") {
        match parse_date(&d, text(m, "requested_delivery_format").as_deref()) {
            Some(date) => order.requested_delivery = Some(date),
            None => {
                let el = if x12 { "DTM02" } else { "DTM01-2" };
                errors.push(err(
                    "bad_date",
                    format!("the requested delivery date `{d}` is not a valid date"),
                    idx.at("DTM", None, el, "requested_delivery"),
                ));
                reported.push(("bad_date".into(), "requested_delivery".into()));
            }
        }
    }
    order.currency =
        text(m, "currency").unwrap_or_else(|| if x12 { "USD".into() } else { "EUR".into() });
    for p in m.get("parties").and_then(Value::as_array).unwrap_or(&empty) {
        // The buyer's own identification of the party (N103/N104, NAD C082 3055/3039), kept
        // as sent: every document we send about the order names the party by it.
        if let (Some(role), Some(id)) = (text(p, "role"), text(p, "id")) {
            if order.party(&role).is_none() {
                let qualifier = text(p, "qualifier").unwrap_or_default();
                order.parties.push(PartyRef {
                    role,
                    qualifier,
                    id,
                });
            }
        }
        match text(p, "role").as_deref() {
            Some("ST" | "DP") if order.shipping_address.is_none() => {
                order.shipping_address = Some(address(p))
            }
            Some("BT" | "IV" | "BY") if order.billing_address.is_none() => {
                order.billing_address = Some(address(p))
            }
            _ => {}
        }
    }

    // Lines.
    let (line_seg, qty_seg, qty_el, price_seg, price_el, id_el) = if x12 {
        ("PO1", "PO1", "PO102", "PO1", "PO104", "PO107")
    } else {
        ("LIN", "QTY", "QTY01-2", "PRI", "PRI01-2", "LIN03-1")
    };
    for (i, l) in m
        .get("lines")
        .and_then(Value::as_array)
        .unwrap_or(&empty)
        .iter()
        .enumerate()
    {
        let number = text(l, "line_number")
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or(i as u32 + 1);
        let field = |f: &str| format!("lines[{i}].{f}");
        let mut line = OrderLine {
            line_number: number,
            // Kept as sent: PO101 is an identifier (`000100001`, `A1`), and the buyer matches
            // our 855/ORDRSP line on it exactly.
            buyer_line: text(l, "line_number"),
            sku: String::new(),
            buyer_part: None,
            gtin: None,
            description: text(l, "description"),
            quantity: Decimal::ZERO,
            uom: Uom::Ea,
            unit_price: Decimal::ZERO,
            requested_date: None,
        };
        match text(l, "quantity") {
            Some(q) => match Decimal::from_str(&q) {
                Ok(d) => line.quantity = d,
                Err(_) => {
                    errors.push(err(
                        "bad_quantity",
                        format!("line {number}: the quantity `{q}` is not a number"),
                        idx.at(qty_seg, Some(i), qty_el, &field("quantity")),
                    ));
                    reported.push(("bad_quantity".into(), field("quantity")));
                }
            },
            None => {
                errors.push(err(
                    "bad_quantity",
                    format!("line {number}: the quantity is missing"),
                    idx.at(qty_seg, Some(i), qty_el, &field("quantity")),
                ));
                reported.push(("bad_quantity".into(), field("quantity")));
            }
        }
        if let Some(u) = text(l, "uom") {
            match uom_of(&u) {
                Some(u) => line.uom = u,
                None => {
                    let el = if x12 { "PO103" } else { "QTY01-3" };
                    errors.push(err(
                        "unknown_uom",
                        format!("line {number}: unit of measure `{u}` is not one we trade in"),
                        idx.at(qty_seg, Some(i), el, &field("uom")),
                    ));
                }
            }
        }
        if let Some(p) = text(l, "unit_price") {
            match Decimal::from_str(&p) {
                Ok(d) if d >= Decimal::ZERO => line.unit_price = d,
                _ => errors.push(err(
                    "bad_price",
                    format!("line {number}: the unit price `{p}` is not a valid price"),
                    idx.at(price_seg, Some(i), price_el, &field("unit_price")),
                )),
            }
        }
        if let Some(d) = text(l, "requested_date") {
            match parse_date(&d, text(l, "requested_date_format").as_deref()) {
                Some(date) => line.requested_date = Some(date),
                None => {
                    let el = if x12 { "DTM02" } else { "DTM01-2" };
                    errors.push(err(
                        "bad_date",
                        format!(
                            "line {number}: the requested delivery date `{d}` is not a valid date"
                        ),
                        idx.at("DTM", Some(i), el, &field("requested_date")),
                    ));
                    reported.push(("bad_date".into(), field("requested_date")));
                }
            }
        }
        // Product: our SKU first, then the buyer's part, then the GTIN.
        let ids: Vec<(String, String)> = l
            .get("product_ids")
            .and_then(Value::as_array)
            .unwrap_or(&empty)
            .iter()
            .filter_map(|p| {
                Some((
                    text(p, "qualifier")
                        .unwrap_or_default()
                        .to_ascii_uppercase(),
                    text(p, "id")?,
                ))
            })
            .collect();
        (line.buyer_part, line.gtin) = buyer_item_ids(&ids);
        let rank = |q: &str| match q {
            "VP" | "VN" | "SA" => 0,
            "BP" | "IN" | "PI" => 1,
            "UP" | "EN" | "UK" | "UA" | "SRV" => 2,
            _ => 3,
        };
        let mut ordered = ids.clone();
        ordered.sort_by_key(|(q, _)| rank(q));
        for (q, id) in &ordered {
            let r = match rank(q) {
                0 => ProductRef::Sku(id),
                1 => match &customer {
                    Some(c) => ProductRef::BuyerPart {
                        customer_id: c,
                        part: id,
                    },
                    None => continue,
                },
                2 => ProductRef::Gtin(id),
                _ => continue,
            };
            if let Some(sku) = orders::find_product(pool, org, r)
                .await
                .map_err(db("resolving a product"))?
            {
                line.sku = sku;
                break;
            }
        }
        if line.sku.is_empty() {
            let named = if ids.is_empty() {
                "no product identifier".to_owned()
            } else {
                ids.iter()
                    .map(|(q, id)| format!("{q} {id}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            errors.push(err(
                "unknown_product",
                format!("line {number}: the product is not in our catalog ({named})"),
                idx.at(line_seg, Some(i), id_el, &field("sku")),
            ));
            reported.push(("unknown_product".into(), field("sku")));
            // Keep what the partner sent, so the admin sees it and can correct it.
            line.sku = ordered
                .first()
                .map(|(_, id)| id.clone())
                .unwrap_or_default();
        }
        order.lines.push(line);
    }

    // The business checks shared with the API (customer, products, quantities, dates), located.
    for e in orders::check_order(pool, org, &order)
        .await
        .map_err(db("checking the order"))?
    {
        let f = e.location.field.clone().unwrap_or_default();
        if reported.iter().any(|(c, rf)| *c == e.code && *rf == f) {
            continue;
        }
        let line = f
            .strip_prefix("lines[")
            .and_then(|r| r.split(']').next())
            .and_then(|n| n.parse::<usize>().ok());
        let loc = match (e.code.as_str(), line) {
            ("bad_quantity", Some(i)) => idx.at(qty_seg, Some(i), qty_el, &f),
            ("unknown_product", Some(i)) => idx.at(line_seg, Some(i), id_el, &f),
            ("bad_date", Some(i)) => {
                idx.at("DTM", Some(i), if x12 { "DTM02" } else { "DTM01-2" }, &f)
            }
            ("bad_date", None) => idx.at("DTM", None, if x12 { "DTM02" } else { "DTM01-2" }, &f),
            ("unknown_customer", _) if !reported.iter().any(|(c, _)| c == "unknown_customer") => {
                idx.at(
                    if x12 { "N1" } else { "NAD" },
                    None,
                    if x12 { "N104" } else { "NAD02-1" },
                    &f,
                )
            }
            ("unknown_customer", _) => continue,
            _ => ErrorLocation {
                set_control: Some(idx.control.clone()),
                field: Some(f.clone()),
                ..Default::default()
            },
        };
        let mut r = err(&e.code, e.message.clone(), loc);
        r.location.line = e.location.line;
        errors.push(r);
    }
    for e in &mut errors {
        if e.location.line.is_none() {
            if let Some(i) = e
                .location
                .field
                .as_deref()
                .and_then(|f| f.strip_prefix("lines["))
                .and_then(|r| r.split(']').next())
                .and_then(|n| n.parse::<usize>().ok())
            {
                e.location.line = order.lines.get(i).map(|l| l.line_number);
            }
        }
    }
    Ok(Draft {
        order,
        customer_known,
        errors,
        mapped: None,
        mapping_hash: None,
    })
}

/// The payload as it was called before it became [`ReprocessOrder`].
pub type ReprocessPayload = ReprocessOrder;

pub struct OrderReprocess;

#[async_trait]
impl Job for OrderReprocess {
    type Payload = ReprocessOrder;

    async fn run(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        p: ReprocessOrder,
    ) -> Result<(), AdapterError> {
        let span =
            info_span!("edi.order.reprocess", order = %p.order_id, remap = p.remap, job = %job.id);
        reprocess(ctx, job.org_id, job.id, &p)
            .instrument(span)
            .await
            .map(|_| ())
    }
}

/// Re-check (or re-map) a `pending_review` order; confirm it and send the acceptance when it
/// passes, or store its new errors. An order that is not waiting for review is left alone.
pub async fn reprocess(
    ctx: &JobContext,
    org: OrgId,
    job: JobId,
    p: &ReprocessPayload,
) -> Result<OrderStatus, AdapterError> {
    let pool = ctx.queue.pool();
    let row = orders::get(pool, org, OrderId(p.order_id))
        .await
        .map_err(db("loading the order"))?
        .ok_or_else(|| AdapterError::permanent(format!("order {} does not exist", p.order_id)))?;
    if row.status != OrderStatus::PendingReview {
        // Already accepted (a second click, a redelivery): make sure the answer went out.
        respond(ctx, org, &row).await?;
        return Ok(row.status);
    }
    let (mut order, errors, mapped) = if p.remap {
        let (Some(msg_id), Some(set_control)) = (row.source_message_id, row.source_set.clone())
        else {
            return Err(AdapterError::permanent(
                "only an order from an EDI message can be re-mapped",
            ));
        };
        let msg = edi_store::get(pool, org, EdiMessageId(msg_id))
            .await
            .map_err(db("loading the EDI message"))?
            .ok_or_else(|| {
                AdapterError::permanent(format!("EDI message {msg_id} does not exist"))
            })?;
        let ic = parse_one(&msg.raw)?;
        let set = ic
            .groups
            .iter()
            .flat_map(|g| &g.sets)
            .find(|s| s.control == set_control)
            .ok_or_else(|| {
                AdapterError::permanent(format!("set {set_control} is not in message {msg_id}"))
            })?;
        let mut draft = build(ctx, org, &ic, set).await?;
        // The order keeps its number.
        draft.order.order_number = row.order_number.clone();
        let mapped = draft.mapped.clone().zip(draft.mapping_hash.clone());
        (draft.order, draft.errors, mapped)
    } else {
        let order: Order = serde_json::from_value(row.canonical.clone()).map_err(|e| {
            AdapterError::permanent(format!("the stored order is not canonical: {e}"))
        })?;
        let errors = orders::check_order(pool, org, &order)
            .await
            .map_err(db("checking the order"))?;
        (order, errors, None)
    };
    let status = if errors.is_empty() {
        OrderStatus::Confirmed
    } else {
        OrderStatus::PendingReview
    };
    order.status = status;
    let customer = Some(order.customer_id.clone()).filter(|c| !c.is_empty());
    let customer = match customer {
        Some(c)
            if orders::customer_exists(pool, org, &c)
                .await
                .map_err(db("checking the customer"))? =>
        {
            Some(c)
        }
        _ => None,
    };
    let updated = orders::update(
        pool,
        org,
        row.id,
        OrderStatus::PendingReview,
        &OrderUpdate {
            customer_id: customer,
            customer_po: order.customer_po.clone().unwrap_or(row.customer_po.clone()),
            status,
            canonical: to_json(&order)?,
            review_errors: errors.clone(),
            mapped,
        },
    )
    .await
    .map_err(|e| match e {
        StoreError::Conflict(m) | StoreError::Invalid(m) => AdapterError::permanent(m),
        other => AdapterError::transient(other.to_string()),
    })?;
    let partner = row.partner.clone().unwrap_or_default();
    if errors.is_empty() {
        log(pool, org, job, &partner, "edi.order.confirmed", LogStatus::Success,
            json!({"order_id": row.id, "order_number": row.order_number, "reprocessed": true, "remap": p.remap}), None).await;
        info!(order = %row.id, "order passed review; accepting it");
        respond(ctx, org, &updated).await?;
    } else {
        log(pool, org, job, &partner, "edi.order.pending_review", LogStatus::Warning,
            json!({"order_id": row.id, "order_number": row.order_number, "reprocessed": true, "remap": p.remap}),
            Some(errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("; "))).await;
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_buyers_part_and_gtin_are_kept_as_sent() {
        let ids = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(q, i)| (q.to_string(), i.to_string()))
                .collect()
        };
        // 850 PO1*000100001*2500*YD*2.53*WE***BP*A_QU001-BLK*VN*… (a real partner's PO).
        assert_eq!(
            buyer_item_ids(&ids(&[("BP", "A_QU001-BLK"), ("VN", "SINGLE LINE")])),
            (Some("A_QU001-BLK".into()), None)
        );
        assert_eq!(
            buyer_item_ids(&ids(&[("VP", "BAR-A36-1"), ("UP", "012345678905")])),
            (None, Some("012345678905".into()))
        );
        // ORDERS: LIN C212 EN and PIA IN.
        assert_eq!(
            buyer_item_ids(&ids(&[
                ("EN", "4000862141404"),
                ("SA", "X"),
                ("IN", "ACME-77")
            ])),
            (Some("ACME-77".into()), Some("4000862141404".into()))
        );
    }

    #[test]
    fn dates_follow_the_format_qualifier() {
        assert_eq!(
            parse_date("20260301", None),
            NaiveDate::from_ymd_opt(2026, 3, 1)
        );
        assert_eq!(
            parse_date("202603010800", Some("203")),
            NaiveDate::from_ymd_opt(2026, 3, 1)
        );
        assert_eq!(parse_date("20260231", None), None);
        assert_eq!(parse_date("260301", Some("101")), None);
    }

    #[test]
    fn partner_unit_codes_map_to_ours() {
        assert_eq!(uom_of("PCE"), Some(Uom::Ea));
        assert_eq!(uom_of("cw"), Some(Uom::Cwt));
        assert_eq!(uom_of("KGM"), Some(Uom::Kg));
        assert_eq!(uom_of("BOX"), None);
    }

    #[test]
    fn locations_read_like_a_997() {
        let loc = ErrorLocation {
            set_control: Some("0001".into()),
            segment_position: Some(14),
            segment: Some("PO1".into()),
            element: Some("PO102".into()),
            ..Default::default()
        };
        assert_eq!(
            where_(&loc),
            "segment PO1 at position 14 of set 0001, element PO102"
        );
    }
}
