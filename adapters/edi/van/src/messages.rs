//! EDI messages and control numbers.
//!
//! * [`allocate`] / [`next_control_number`]: per-partner counters for ISA13, GS06, ST02, UNB
//!   0020, UNH 0062 — one upsert that increments under the row lock, so numbers are strictly
//!   increasing and never reused across concurrent workers and restarts. Called inside the
//!   transaction that stores the outbound document, a crash before commit gives the numbers
//!   back instead of leaving a gap.
//! * [`insert_inbound`]: stores an inbound interchange, or reports the first copy when the
//!   partner already sent this sender + control reference ([`InboundInsert::Existing`]);
//!   [`insert_duplicate`] stores the flagged second copy so nothing is lost.
//! * [`insert_outbound`], [`list`] (inbox/outbox, filters, keyset pages), [`get`],
//!   [`set_status`], [`record_validation`], [`ack_of`].
//! * Outbound documents of `edi.send` ([`insert_outbound_for_job`], [`outbound_by_job`]), the
//!   partner's acks matched to them ([`outbound_by_group`], [`outbound_by_interchange`],
//!   [`record_ack`], [`partner_ack_of`]) and overdue acks ([`claim_overdue`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{PgExecutor, PgPool, Postgres, QueryBuilder};
use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;
use switchyard_core::ids::OrgId;
use switchyard_store::StoreError;
use uuid::Uuid;

type Result<T, E = StoreError> = std::result::Result<T, E>;

/// An `edi_messages` row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EdiMessageId(pub Uuid);

impl EdiMessageId {
    /// Time-sortable (v7), like every id we mint.
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }
}

impl Default for EdiMessageId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for EdiMessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = StoreError;
            fn from_str(s: &str) -> Result<Self> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(StoreError::Invalid(format!(
                        concat!("unknown ", stringify!($name), " `{}` (known: {})"),
                        other,
                        [$($text),+].join(", ")
                    ))),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(
    EdiDirection { Inbound => "inbound", Outbound => "outbound" }
);

text_enum!(
    EdiStandard { X12 => "x12", Edifact => "edifact" }
);

text_enum!(
    /// Where a message is in its life.
    EdiStatus {
        /// Stored, not yet fully handled (a crash leaves inbound rows here; the next pickup
        /// resumes them).
        Received => "received",
        /// Inbound: validated and acknowledged. Outbound: built, not yet handed over.
        Processed => "processed",
        /// Rejected, unreadable, or a duplicate.
        Error => "error",
        /// Outbound: handed to the transport (written into the mailbox's outbound directory).
        Sent => "sent",
        /// Outbound: the partner's 997/CONTRL for it arrived.
        Acknowledged => "acknowledged",
    }
);

text_enum!(
    /// Which counter: ISA13, GS06, ST02 (X12) or UNB 0020, UNG 0048, UNH 0062 (EDIFACT).
    ControlKind { Isa => "isa", Gs => "gs", St => "st", Unb => "unb", Ung => "ung", Unh => "unh" }
);

impl ControlKind {
    /// The largest number the element can carry (ISA13 is fixed at 9 digits; GS06 and ST02
    /// allow 9; the EDIFACT references are an..14, kept to what an i64 holds).
    pub fn max(self) -> i64 {
        match self {
            ControlKind::Isa | ControlKind::Gs | ControlKind::St => 999_999_999,
            ControlKind::Unb | ControlKind::Ung | ControlKind::Unh => 99_999_999_999_999,
        }
    }
}

/// Allocate `n` consecutive control numbers for `partner`'s `kind`: the returned range is
/// above every number handed out before, and no other caller ever receives any of them.
/// The first allocation of a counter starts at 1.
pub async fn allocate<'e>(
    exec: impl PgExecutor<'e>,
    org: OrgId,
    partner: &str,
    kind: ControlKind,
    n: i64,
) -> Result<RangeInclusive<i64>> {
    if n < 1 {
        return Err(StoreError::Invalid(format!(
            "cannot allocate {n} control numbers (at least 1)"
        )));
    }
    let last: i64 = sqlx::query_scalar(
        "INSERT INTO edi_control_numbers (org_id, partner, kind, last) VALUES ($1, $2, $3, $4)
         ON CONFLICT (org_id, partner, kind)
         DO UPDATE SET last = edi_control_numbers.last + EXCLUDED.last, updated_at = now()
         RETURNING last",
    )
    .bind(org.0)
    .bind(partner)
    .bind(kind.as_str())
    .bind(n)
    .fetch_one(exec)
    .await?;
    if last > kind.max() {
        return Err(StoreError::Conflict(format!(
            "{kind} control numbers for partner `{partner}` are exhausted (last {last}, maximum {}); \
             numbers are never reused, so the partner must agree on a reset",
            kind.max()
        )));
    }
    Ok(last - n + 1..=last)
}

/// One control number (see [`allocate`]).
pub async fn next_control_number<'e>(
    exec: impl PgExecutor<'e>,
    org: OrgId,
    partner: &str,
    kind: ControlKind,
) -> Result<i64> {
    Ok(*allocate(exec, org, partner, kind, 1).await?.start())
}

/// The last number handed out, if any.
pub async fn last_control_number(
    pool: &PgPool,
    org: OrgId,
    partner: &str,
    kind: ControlKind,
) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT last FROM edi_control_numbers WHERE org_id = $1 AND partner = $2 AND kind = $3",
    )
    .bind(org.0)
    .bind(partner)
    .bind(kind.as_str())
    .fetch_optional(pool)
    .await?)
}

/// A message to store.
#[derive(Debug, Clone)]
pub struct NewEdiMessage {
    pub org: OrgId,
    pub partner: String,
    pub standard: EdiStandard,
    pub message_types: Vec<String>,
    pub sender_id: String,
    pub receiver_id: String,
    pub interchange_control: String,
    pub group_controls: Value,
    pub status: EdiStatus,
    pub raw: Vec<u8>,
    pub validation: Option<Value>,
    pub errors: Vec<String>,
    pub related_message_id: Option<EdiMessageId>,
    pub file_name: Option<String>,
    pub pickup_id: Option<Uuid>,
    pub file_offset: Option<i64>,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EdiMessage {
    pub id: EdiMessageId,
    pub org_id: OrgId,
    pub partner: String,
    pub direction: EdiDirection,
    pub standard: EdiStandard,
    pub message_types: Vec<String>,
    pub sender_id: String,
    pub receiver_id: String,
    pub interchange_control: String,
    pub group_controls: Value,
    pub status: EdiStatus,
    pub raw: Vec<u8>,
    pub validation: Option<Value>,
    pub errors: Vec<String>,
    pub related_message_id: Option<EdiMessageId>,
    pub duplicate_of: Option<EdiMessageId>,
    pub file_name: Option<String>,
    pub pickup_id: Option<Uuid>,
    pub file_offset: Option<i64>,
    /// When `edi.ack.overdue` found this outbound message unacknowledged past its partner's
    /// window (kept after a late acknowledgement, as history).
    pub ack_overdue_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl EdiMessage {
    /// Sent, past its partner's acknowledgement window, and still not acknowledged.
    pub fn ack_overdue(&self) -> bool {
        self.ack_overdue_at.is_some() && self.status == EdiStatus::Sent
    }
}

const COLUMNS: &str = "id, org_id, partner, direction, standard, message_types, sender_id, \
    receiver_id, interchange_control, group_controls, status, raw, validation, errors, \
    related_message_id, duplicate_of, file_name, pickup_id, file_offset, ack_overdue_at, created_at, \
    updated_at";

#[derive(sqlx::FromRow)]
struct RawRow {
    id: Uuid,
    org_id: Uuid,
    partner: String,
    direction: String,
    standard: String,
    message_types: Vec<String>,
    sender_id: String,
    receiver_id: String,
    interchange_control: String,
    group_controls: Value,
    status: String,
    raw: Vec<u8>,
    validation: Option<Value>,
    errors: Value,
    related_message_id: Option<Uuid>,
    duplicate_of: Option<Uuid>,
    file_name: Option<String>,
    pickup_id: Option<Uuid>,
    file_offset: Option<i64>,
    ack_overdue_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<RawRow> for EdiMessage {
    type Error = StoreError;
    fn try_from(r: RawRow) -> Result<Self> {
        Ok(EdiMessage {
            id: EdiMessageId(r.id),
            org_id: OrgId(r.org_id),
            partner: r.partner,
            direction: r.direction.parse()?,
            standard: r.standard.parse()?,
            message_types: r.message_types,
            sender_id: r.sender_id,
            receiver_id: r.receiver_id,
            interchange_control: r.interchange_control,
            group_controls: r.group_controls,
            status: r.status.parse()?,
            raw: r.raw,
            validation: r.validation,
            errors: serde_json::from_value(r.errors).unwrap_or_default(),
            related_message_id: r.related_message_id.map(EdiMessageId),
            duplicate_of: r.duplicate_of.map(EdiMessageId),
            file_name: r.file_name,
            pickup_id: r.pickup_id,
            file_offset: r.file_offset,
            ack_overdue_at: r.ack_overdue_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

async fn insert_row<'e>(
    exec: impl PgExecutor<'e>,
    m: &NewEdiMessage,
    direction: EdiDirection,
    duplicate_of: Option<EdiMessageId>,
    on_conflict_nothing: bool,
) -> Result<Option<EdiMessageId>> {
    let id = EdiMessageId::new();
    let conflict = if on_conflict_nothing {
        " ON CONFLICT (org_id, partner, sender_id, interchange_control) \
          WHERE direction = 'inbound' AND duplicate_of IS NULL DO NOTHING"
    } else {
        ""
    };
    let sql = format!(
        "INSERT INTO edi_messages (id, org_id, partner, direction, standard, message_types, \
         sender_id, receiver_id, interchange_control, group_controls, status, raw, validation, \
         errors, related_message_id, duplicate_of, file_name, pickup_id, file_offset) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)\
         {conflict} RETURNING id"
    );
    let inserted: Option<Uuid> = sqlx::query_scalar(&sql)
        .bind(id.0)
        .bind(m.org.0)
        .bind(&m.partner)
        .bind(direction.as_str())
        .bind(m.standard.as_str())
        .bind(&m.message_types)
        .bind(&m.sender_id)
        .bind(&m.receiver_id)
        .bind(&m.interchange_control)
        .bind(&m.group_controls)
        .bind(m.status.as_str())
        .bind(&m.raw)
        .bind(&m.validation)
        .bind(serde_json::to_value(&m.errors).unwrap_or_default())
        .bind(m.related_message_id.map(|r| r.0))
        .bind(duplicate_of.map(|d| d.0))
        .bind(&m.file_name)
        .bind(m.pickup_id)
        .bind(m.file_offset)
        .fetch_optional(exec)
        .await?;
    Ok(inserted.map(EdiMessageId))
}

/// What [`insert_inbound`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum InboundInsert {
    /// A new interchange, stored.
    Stored(EdiMessageId),
    /// This sender's interchange with this control reference is already stored (nothing was
    /// written): either the partner sent it twice, or a pickup is being re-run after a crash
    /// (compare `pickup_id` and `file_offset` to tell).
    Existing(Box<EdiMessage>),
}

/// Store an inbound interchange unless the same partner + sender + control reference is
/// already stored. Safe under concurrent inserts: the unique index decides.
pub async fn insert_inbound(pool: &PgPool, m: &NewEdiMessage) -> Result<InboundInsert> {
    // ON CONFLICT waits for a concurrent insert of the same key to commit, so the row the
    // select below looks for is always there (messages are never deleted).
    if let Some(id) = insert_row(pool, m, EdiDirection::Inbound, None, true).await? {
        return Ok(InboundInsert::Stored(id));
    }
    let existing: RawRow = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM edi_messages
         WHERE org_id = $1 AND partner = $2 AND sender_id = $3 AND interchange_control = $4
           AND direction = 'inbound' AND duplicate_of IS NULL"
    ))
    .bind(m.org.0)
    .bind(&m.partner)
    .bind(&m.sender_id)
    .bind(&m.interchange_control)
    .fetch_one(pool)
    .await?;
    Ok(InboundInsert::Existing(Box::new(existing.try_into()?)))
}

/// Store a second copy of an interchange, flagged: status `error`, an error saying which
/// message it duplicates, and `duplicate_of` pointing at the first copy.
pub async fn insert_duplicate<'e>(
    exec: impl PgExecutor<'e>,
    m: &NewEdiMessage,
    original: EdiMessageId,
) -> Result<EdiMessageId> {
    let mut m = m.clone();
    m.status = EdiStatus::Error;
    m.errors.insert(
        0,
        format!(
            "duplicate interchange: control reference {} from sender {} was already received as message {original}; not processed again",
            m.interchange_control, m.sender_id
        ),
    );
    insert_row(exec, &m, EdiDirection::Inbound, Some(original), false)
        .await?
        .ok_or(StoreError::NotFound("inserted duplicate"))
}

/// Store an outbound document (an acknowledgement sets `related_message_id`).
pub async fn insert_outbound<'e>(
    exec: impl PgExecutor<'e>,
    m: &NewEdiMessage,
) -> Result<EdiMessageId> {
    insert_row(exec, m, EdiDirection::Outbound, None, false)
        .await?
        .ok_or(StoreError::NotFound("inserted outbound message"))
}

/// Set a message's status; `errors` replaces the stored list when given.
pub async fn set_status<'e>(
    exec: impl PgExecutor<'e>,
    org: OrgId,
    id: EdiMessageId,
    status: EdiStatus,
    errors: Option<&[String]>,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE edi_messages SET status = $3, errors = coalesce($4, errors), updated_at = now()
         WHERE org_id = $1 AND id = $2",
    )
    .bind(org.0)
    .bind(id.0)
    .bind(status.as_str())
    .bind(errors.map(|e| serde_json::to_value(e).unwrap_or_default()))
    .execute(exec)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("edi message"));
    }
    Ok(())
}

/// Record a fresh validation of a stored message (a reprocess): the report, the status it
/// leads to and its errors, in one update so the three never disagree.
pub async fn record_validation<'e>(
    exec: impl PgExecutor<'e>,
    org: OrgId,
    id: EdiMessageId,
    status: EdiStatus,
    validation: &Value,
    errors: &[String],
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE edi_messages SET status = $3, validation = $4, errors = $5, updated_at = now()
         WHERE org_id = $1 AND id = $2",
    )
    .bind(org.0)
    .bind(id.0)
    .bind(status.as_str())
    .bind(validation)
    .bind(serde_json::to_value(errors).unwrap_or_default())
    .execute(exec)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("edi message"));
    }
    Ok(())
}

pub async fn get(pool: &PgPool, org: OrgId, id: EdiMessageId) -> Result<Option<EdiMessage>> {
    let row: Option<RawRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM edi_messages WHERE org_id = $1 AND id = $2"
    ))
    .bind(org.0)
    .bind(id.0)
    .fetch_optional(pool)
    .await?;
    row.map(EdiMessage::try_from).transpose()
}

/// The outbound acknowledgement we stored for inbound message `id`, if any.
pub async fn ack_of(pool: &PgPool, org: OrgId, id: EdiMessageId) -> Result<Option<EdiMessage>> {
    let row: Option<RawRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM edi_messages
         WHERE org_id = $1 AND related_message_id = $2 AND direction = 'outbound'
         ORDER BY created_at LIMIT 1"
    ))
    .bind(org.0)
    .bind(id.0)
    .fetch_optional(pool)
    .await?;
    row.map(EdiMessage::try_from).transpose()
}

/// Inbox (direction inbound) or outbox listing filters.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EdiFilter {
    pub direction: Option<EdiDirection>,
    pub partner: Option<String>,
    pub status: Option<EdiStatus>,
    pub standard: Option<EdiStandard>,
    /// Rows whose `message_types` contain this type (`850`, `ORDERS`).
    pub message_type: Option<String>,
    pub interchange_control: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// `true`: outbound messages still `sent` that `edi.ack.overdue` found past their
    /// partner's window; `false`: every other message.
    pub overdue: Option<bool>,
}

/// Keyset position: `(created_at, id)` of the last row of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EdiCursor {
    pub created_at: DateTime<Utc>,
    pub id: EdiMessageId,
}

impl EdiCursor {
    /// Opaque to clients: base64url of `micros:uuid`.
    pub fn encode(&self) -> String {
        switchyard_store::cursor::encode(self.created_at, self.id.0)
    }

    pub fn decode(s: &str) -> Result<Self> {
        let (created_at, id) = switchyard_store::cursor::decode(s)?;
        Ok(Self {
            created_at,
            id: EdiMessageId(id),
        })
    }
}

fn push_filters(qb: &mut QueryBuilder<'_, Postgres>, org: OrgId, f: &EdiFilter) -> Result<()> {
    switchyard_store::storable::check_times(&[("from", f.from), ("to", f.to)])?;
    qb.push(" WHERE org_id = ").push_bind(org.0);
    if let Some(d) = f.direction {
        qb.push(" AND direction = ").push_bind(d.as_str());
    }
    if let Some(p) = &f.partner {
        qb.push(" AND partner = ").push_bind(p.clone());
    }
    if let Some(s) = f.status {
        qb.push(" AND status = ").push_bind(s.as_str());
    }
    if let Some(s) = f.standard {
        qb.push(" AND standard = ").push_bind(s.as_str());
    }
    if let Some(t) = &f.message_type {
        qb.push(" AND ")
            .push_bind(t.clone())
            .push(" = ANY(message_types)");
    }
    if let Some(c) = &f.interchange_control {
        qb.push(" AND interchange_control = ").push_bind(c.clone());
    }
    if let Some(from) = f.from {
        qb.push(" AND created_at >= ").push_bind(from);
    }
    if let Some(to) = f.to {
        qb.push(" AND created_at < ").push_bind(to);
    }
    match f.overdue {
        Some(true) => {
            qb.push(" AND ack_overdue_at IS NOT NULL AND status = 'sent'");
        }
        Some(false) => {
            qb.push(" AND (ack_overdue_at IS NULL OR status <> 'sent')");
        }
        None => {}
    }
    Ok(())
}

/// One page of messages, newest first, strictly after `after`; the cursor for the next page
/// is `None` on the last page.
pub async fn list(
    pool: &PgPool,
    org: OrgId,
    filter: &EdiFilter,
    after: Option<EdiCursor>,
    limit: i64,
) -> Result<(Vec<EdiMessage>, Option<EdiCursor>)> {
    let limit = limit.clamp(1, 1000);
    let mut qb = QueryBuilder::new(format!("SELECT {COLUMNS} FROM edi_messages"));
    push_filters(&mut qb, org, filter)?;
    switchyard_store::cursor::push_page(
        &mut qb,
        "created_at",
        after.map(|c| (c.created_at, c.id.0)),
        limit,
    );
    let raw: Vec<RawRow> = qb.build_query_as().fetch_all(pool).await?;
    let mut rows = raw
        .into_iter()
        .map(EdiMessage::try_from)
        .collect::<Result<Vec<_>>>()?;
    let next = switchyard_store::cursor::split_page(&mut rows, limit, |r| (r.created_at, r.id.0))
        .map(|(created_at, id)| EdiCursor {
            created_at,
            id: EdiMessageId(id),
        });
    Ok((rows, next))
}

/// Rows a mailbox pickup already wrote (to resume it after a crash), oldest first.
pub async fn by_pickup(pool: &PgPool, org: OrgId, pickup: Uuid) -> Result<Vec<EdiMessage>> {
    let raw: Vec<RawRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM edi_messages WHERE org_id = $1 AND pickup_id = $2
         ORDER BY created_at, id"
    ))
    .bind(org.0)
    .bind(pickup)
    .fetch_all(pool)
    .await?;
    raw.into_iter().map(EdiMessage::try_from).collect()
}

// ---- Outbound documents sent by `edi.send`, acknowledgement matching, overdue acks ----

/// Store an outbound document built by job `job` (see [`outbound_by_job`]); the unique index
/// on `job_id` makes a second store for the same job fail instead of duplicating it.
pub async fn insert_outbound_for_job(
    conn: &mut sqlx::PgConnection,
    m: &NewEdiMessage,
    job: Uuid,
) -> Result<EdiMessageId> {
    let id = insert_outbound(&mut *conn, m).await?;
    sqlx::query("UPDATE edi_messages SET job_id = $3 WHERE org_id = $1 AND id = $2")
        .bind(m.org.0)
        .bind(id.0)
        .bind(job)
        .execute(&mut *conn)
        .await?;
    Ok(id)
}

/// The outbound message job `job` stored, if it got that far before.
pub async fn outbound_by_job(pool: &PgPool, org: OrgId, job: Uuid) -> Result<Option<EdiMessage>> {
    let row: Option<RawRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM edi_messages
         WHERE org_id = $1 AND job_id = $2 AND direction = 'outbound'"
    ))
    .bind(org.0)
    .bind(job)
    .fetch_optional(pool)
    .await?;
    row.map(EdiMessage::try_from).transpose()
}

/// Types of the acknowledgements themselves: never waiting for an acknowledgement of their own.
const ACK_TYPES: &str = "ARRAY['997', '999', 'TA1', 'CONTRL']::text[]";

/// Outbound X12 documents to `partner` whose functional group is `functional_id` / `control`
/// (AK1 of a 997 or 999). Control numbers compare as numbers written with or without leading
/// zeros, since partners' translators differ in how they echo them.
pub async fn outbound_by_group(
    pool: &PgPool,
    org: OrgId,
    partner: &str,
    functional_id: &str,
    control: &str,
) -> Result<Vec<EdiMessage>> {
    let raw: Vec<RawRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM edi_messages
         WHERE org_id = $1 AND partner = $2 AND direction = 'outbound' AND standard = 'x12'
           AND NOT (message_types && {ACK_TYPES})
           AND EXISTS (SELECT 1 FROM jsonb_array_elements(group_controls) g
                       WHERE g->>'functional_id' = $3
                         AND ltrim(g->>'control', '0') = ltrim($4, '0'))
         ORDER BY created_at, id"
    ))
    .bind(org.0)
    .bind(partner)
    .bind(functional_id)
    .bind(control)
    .fetch_all(pool)
    .await?;
    raw.into_iter().map(EdiMessage::try_from).collect()
}

/// Outbound interchanges to `partner` with interchange control `control`: an EDIFACT UNB
/// reference (UCI 0020 of a CONTRL) or an X12 ISA13 (TA101 of a TA1).
pub async fn outbound_by_interchange(
    pool: &PgPool,
    org: OrgId,
    partner: &str,
    standard: EdiStandard,
    control: &str,
) -> Result<Vec<EdiMessage>> {
    let raw: Vec<RawRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM edi_messages
         WHERE org_id = $1 AND partner = $2 AND direction = 'outbound' AND standard = $4
           AND NOT (message_types && {ACK_TYPES})
           AND ltrim(interchange_control, '0') = ltrim($3, '0')
         ORDER BY created_at, id"
    ))
    .bind(org.0)
    .bind(partner)
    .bind(control)
    .bind(standard.as_str())
    .fetch_all(pool)
    .await?;
    raw.into_iter().map(EdiMessage::try_from).collect()
}

/// Record the partner's acknowledgement `ack` (an inbound 997/999/CONTRL) of outbound message
/// `id`: its status (`acknowledged` or `error`) and the reasons, and the ack pointing at it.
pub async fn record_ack(
    conn: &mut sqlx::PgConnection,
    org: OrgId,
    id: EdiMessageId,
    status: EdiStatus,
    errors: &[String],
    ack: EdiMessageId,
) -> Result<()> {
    set_status(&mut *conn, org, id, status, Some(errors)).await?;
    // An ack covering several of our messages points at the first; the others are found by
    // their group / interchange control numbers, which the ack names.
    sqlx::query(
        "UPDATE edi_messages SET related_message_id = coalesce(related_message_id, $3),
         updated_at = now() WHERE org_id = $1 AND id = $2",
    )
    .bind(org.0)
    .bind(ack.0)
    .bind(id.0)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The partner's acknowledgement recorded for outbound message `id` (see [`record_ack`]).
pub async fn partner_ack_of(
    pool: &PgPool,
    org: OrgId,
    id: EdiMessageId,
) -> Result<Option<EdiMessage>> {
    let row: Option<RawRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM edi_messages
         WHERE org_id = $1 AND related_message_id = $2 AND direction = 'inbound'
         ORDER BY created_at LIMIT 1"
    ))
    .bind(org.0)
    .bind(id.0)
    .fetch_optional(pool)
    .await?;
    row.map(EdiMessage::try_from).transpose()
}

/// Outbound documents to `partner` still `sent` (not acknowledged) that were stored before
/// `cutoff` and not yet warned about: marks them warned at `now` and returns them. One
/// statement, so concurrent runs never warn about the same message twice.
pub async fn claim_overdue(
    pool: &PgPool,
    org: OrgId,
    partner: &str,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<EdiMessage>> {
    let ids: Vec<Uuid> = sqlx::query_scalar(&format!(
        "UPDATE edi_messages SET ack_overdue_at = $4
         WHERE org_id = $1 AND partner = $2 AND direction = 'outbound' AND status = 'sent'
           AND ack_overdue_at IS NULL AND created_at < $3
           AND NOT (message_types && {ACK_TYPES})
         RETURNING id"
    ))
    .bind(org.0)
    .bind(partner)
    .bind(cutoff)
    .bind(now)
    .fetch_all(pool)
    .await?;
    let raw: Vec<RawRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM edi_messages WHERE org_id = $1 AND id = ANY($2)
         ORDER BY created_at, id"
    ))
    .bind(org.0)
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    raw.into_iter().map(EdiMessage::try_from).collect()
}

/// Undo [`claim_overdue`] for `ids` (their warning could not be written; the next run retries).
pub async fn unclaim_overdue(pool: &PgPool, org: OrgId, ids: &[EdiMessageId]) -> Result<()> {
    let ids: Vec<Uuid> = ids.iter().map(|i| i.0).collect();
    sqlx::query("UPDATE edi_messages SET ack_overdue_at = NULL WHERE org_id = $1 AND id = ANY($2)")
        .bind(org.0)
        .bind(&ids)
        .execute(pool)
        .await?;
    Ok(())
}

/// When [`claim_overdue`] warned about message `id`, if it did.
pub async fn ack_overdue_at(
    pool: &PgPool,
    org: OrgId,
    id: EdiMessageId,
) -> Result<Option<DateTime<Utc>>> {
    Ok(
        sqlx::query_scalar("SELECT ack_overdue_at FROM edi_messages WHERE org_id = $1 AND id = $2")
            .bind(org.0)
            .bind(id.0)
            .fetch_optional(pool)
            .await?
            .flatten(),
    )
}
