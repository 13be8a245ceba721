//! `edi.mailbox.poll`: a VAN mailbox on disk — `inbound/`, `outbound/`, `archive/`, `error/`
//! and our own `processing/` under one root.
//!
//! Pickup is crash-safe in three steps:
//! 1. a file is claimed by an atomic rename `inbound/NAME` → `processing/PICKUP__NAME`
//!    (`PICKUP` a fresh UUID), so a partner still writing under another name, or a second
//!    poller, never sees half a claim;
//! 2. every interchange is stored with that pickup id and its byte offset in the file before
//!    anything else happens, and its acknowledgement is stored (with its control numbers, in
//!    one transaction) before the ack file is written;
//! 3. the file is renamed into `archive/` (or `error/` with a `.error.txt` when nothing in it
//!    parsed).
//!
//! A poll first finishes whatever a crashed poll left in `processing/`: interchanges already
//! stored under that pickup are resumed (an ack stored but not written is written; one fully
//! done is skipped), so nothing is acknowledged twice and nothing is flagged as a duplicate
//! of itself. A Postgres advisory lock per mailbox (on a dedicated connection, released when
//! the connection closes, so a killed daemon cannot leave it held) keeps two workers from
//! polling one mailbox at once, which is what makes step 1's leftovers safe to take over.
//!
//! The same interchange sent twice by the partner (same sender and ISA13 / UNB 0020, in one
//! file or a later one) is stored once more flagged `error` with a "duplicate interchange"
//! error, is not processed again, and gets the one answer a duplicate gets: a TA1 R/025 (X12,
//! when the profile sends TA1s on envelope errors or the partner asked for one) or a CONTRL
//! with UCI action 4 / syntax error 26 (EDIFACT, when the profile sends CONTRLs); never a
//! 997/999 that would accept its groups again.
//!
//! The files are reached through a [`MailboxTransport`] (a local directory or an SFTP
//! server, from the partner's `[partners.NAME.mailbox]`), so both get the steps above.
//!
//! Payload: `{"partner": "acme"}` (an EDI partner in `switchyard.toml`, whose mailbox the
//! config declares); the partner's name in the EDI tables is the profile's `name`.

use crate::envelope::{edi_standard, group_controls, message_types, sanitize_name, transient};
use crate::jobs::PollMailbox;
use crate::messages::{
    self as store, ControlKind, EdiMessage, EdiMessageId, EdiStatus, InboundInsert, NewEdiMessage,
};
use crate::partners::{EdiPartner, EdiPartners};
use crate::transport::{free_name, Folder, MailboxTransport};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{Connection, PgConnection, PgPool};
use std::collections::HashMap;
use std::io::BufReader;
use std::path::PathBuf;
use std::time::Instant;
use switchyard_core::error::AdapterError;
use switchyard_core::ids::{JobId, OrgId};
use switchyard_edi::ack::{self, AckControls};
use switchyard_edi::partner::PartnerProfile;
use switchyard_edi::validate::{self, Validation};
use switchyard_edi::{Interchange, InterchangeReader, Issue, Standard, Unit};
use switchyard_runtime::context::JobContext;
use switchyard_runtime::job::Job;
use switchyard_store::logs::{self, Direction, IntegrationType, LogStatus, Masker, NewLogEntry};
use switchyard_store::queue::ClaimedJob;
use tokio::sync::mpsc;
use tracing::{info, info_span, warn, Instrument};
use uuid::Uuid;

pub const KIND: &str = <PollMailbox as switchyard_core::JobPayload>::KIND;

/// Inbound interchanges by partner and outcome.
pub const INTERCHANGES_METRIC: &str = "switchyard_edi_interchanges_total";

/// Separates the pickup id from the original name in `processing/`.
const PICKUP_SEP: &str = "__";

/// What happened to one interchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterchangeOutcome {
    /// Stored (or resumed) and handled: `status` is processed or error; `ack` names the file
    /// written into `outbound/` when one was due.
    Handled {
        message: EdiMessageId,
        status: EdiStatus,
        ack: Option<String>,
    },
    /// The partner sent this sender + control reference before; stored flagged, not
    /// processed; `ack` names the duplicate answer (TA1 R/025, CONTRL UCI 4/26) written into
    /// `outbound/` when the profile sends one.
    Duplicate {
        message: EdiMessageId,
        original: EdiMessageId,
        ack: Option<String>,
    },
}

/// Where a file ended up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileDisposition {
    Archived(PathBuf),
    /// Nothing in the file parsed; the reasons are in the `.error.txt` beside it.
    Error(PathBuf),
}

#[derive(Debug, Clone)]
pub struct FileReport {
    pub name: String,
    pub pickup: Uuid,
    pub interchanges: Vec<InterchangeOutcome>,
    /// Text that was not an interchange (skipped, reported with its byte offset).
    pub unparseable: Vec<String>,
    pub disposition: FileDisposition,
}

#[derive(Debug, Clone, Default)]
pub struct PollReport {
    /// False when another worker held the mailbox and this poll did nothing.
    pub polled: bool,
    pub files: Vec<FileReport>,
}

/// The job handler.
pub struct MailboxPoll {
    pub partners: std::sync::Arc<EdiPartners>,
}

#[async_trait]
impl Job for MailboxPoll {
    type Payload = PollMailbox;

    async fn run(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        payload: PollMailbox,
    ) -> Result<(), AdapterError> {
        let partner = payload.0.resolve(&self.partners, KIND)?;
        let report = poll(ctx.pool(), job.org_id, Some(job.id), &partner, ctx.now()).await?;
        info!(
            partner = %partner.profile.name,
            files = report.files.len(),
            polled = report.polled,
            "edi mailbox polled"
        );
        Ok(())
    }
}

/// Poll one mailbox: finish leftovers in `processing/`, then every file in `inbound/`.
pub async fn poll(
    pool: &PgPool,
    org: OrgId,
    job: Option<JobId>,
    partner: &EdiPartner,
    now: DateTime<Utc>,
) -> Result<PollReport, AdapterError> {
    let span = info_span!("edi.mailbox.poll", partner = %partner.profile.name);
    async {
        let mb = crate::connect::connect(&partner.mailbox).await?;
        let mb = mb.as_ref();
        mb.ensure_dirs().await?;
        let Some(lock) = MailboxLock::acquire(pool, &mb.lock_key().await).await? else {
            info!("another worker is polling this mailbox; skipping");
            return Ok(PollReport::default());
        };
        let result = poll_locked(pool, org, job, mb, &partner.profile, now).await;
        lock.release().await;
        result
    }
    .instrument(span)
    .await
}

async fn poll_locked(
    pool: &PgPool,
    org: OrgId,
    job: Option<JobId>,
    mb: &dyn MailboxTransport,
    profile: &PartnerProfile,
    now: DateTime<Utc>,
) -> Result<PollReport, AdapterError> {
    let mut report = PollReport {
        polled: true,
        files: Vec::new(),
    };
    let env = Env {
        pool,
        org,
        job,
        mb,
        profile,
        now,
    };
    // Leftovers of a crashed poll first, in the order they were claimed.
    for name in mb.list(Folder::Processing).await? {
        let (pickup, original) = match split_pickup(&name) {
            Some((p, o)) => (p, o.to_owned()),
            None => {
                // Put there by hand: give it a pickup of its own.
                let pickup = Uuid::now_v7();
                let claimed = format!("{}{PICKUP_SEP}{name}", pickup.simple());
                mb.rename(Folder::Processing, &name, Folder::Processing, &claimed)
                    .await?;
                (pickup, name)
            }
        };
        warn!(file = %original, %pickup, "resuming a file a previous poll did not finish");
        report
            .files
            .push(process_file(&env, pickup, &original).await?);
    }
    for name in mb.list(Folder::Inbound).await? {
        let pickup = Uuid::now_v7();
        let claimed = format!("{}{PICKUP_SEP}{name}", pickup.simple());
        if !mb
            .rename(Folder::Inbound, &name, Folder::Processing, &claimed)
            .await?
        {
            // Gone between listing and claiming (the partner's client took it back).
            continue;
        }
        report.files.push(process_file(&env, pickup, &name).await?);
    }
    Ok(report)
}

struct Env<'a> {
    pool: &'a PgPool,
    org: OrgId,
    job: Option<JobId>,
    mb: &'a dyn MailboxTransport,
    profile: &'a PartnerProfile,
    now: DateTime<Utc>,
}

fn split_pickup(name: &str) -> Option<(Uuid, &str)> {
    let (id, rest) = name.split_once(PICKUP_SEP)?;
    if id.len() != 32 || rest.is_empty() {
        return None;
    }
    Some((Uuid::parse_str(id).ok()?, rest))
}

/// What the reading thread hands over, one at a time (the channel is bounded, so at most a
/// couple of interchanges are in memory however large the file is).
enum Item {
    Interchange(Box<Interchange>, Validation),
    Unparseable(Box<Issue>),
    Failed(std::io::Error),
}

async fn process_file(env: &Env<'_>, pickup: Uuid, name: &str) -> Result<FileReport, AdapterError> {
    let started = Instant::now();
    let claimed = format!("{}{PICKUP_SEP}{name}", pickup.simple());
    // Rows an earlier run of this pickup already stored, by byte offset.
    let previous: HashMap<i64, EdiMessage> = store::by_pickup(env.pool, env.org, pickup)
        .await
        .map_err(transient("loading the rows of an earlier pickup"))?
        .into_iter()
        .filter_map(|m| m.file_offset.map(|o| (o, m)))
        .collect();

    let (tx, mut rx) = mpsc::channel::<Item>(2);
    let file = env.mb.open(Folder::Processing, &claimed).await?;
    let reader = tokio::task::spawn_blocking(move || {
        for unit in InterchangeReader::new(BufReader::with_capacity(64 * 1024, file)) {
            let item = match unit {
                Ok(Unit::Interchange(ic)) => {
                    let v = validate::validate(&ic);
                    Item::Interchange(ic, v)
                }
                Ok(Unit::Unparseable(issue)) => Item::Unparseable(issue),
                Err(e) => Item::Failed(e),
            };
            let stop = matches!(item, Item::Failed(_));
            if tx.blocking_send(item).is_err() || stop {
                return;
            }
        }
    });

    let mut outcomes = Vec::new();
    let mut unparseable = Vec::new();
    while let Some(item) = rx.recv().await {
        match item {
            Item::Interchange(ic, v) => {
                let outcome = handle_interchange(env, pickup, name, &ic, &v, &previous).await?;
                outcomes.push(outcome);
            }
            Item::Unparseable(issue) => unparseable.push(issue.to_string()),
            Item::Failed(e) => {
                // Leave the file in processing/: the retry (or the next poll) resumes it.
                return Err(AdapterError::transient(format!(
                    "reading {}: {e}",
                    env.mb.path(Folder::Processing, &claimed).display()
                )));
            }
        }
    }
    reader
        .await
        .map_err(|e| AdapterError::transient(format!("edi reader thread: {e}")))?;

    let disposition = if outcomes.is_empty() {
        let mut why = format!(
            "{name}: no interchange could be read, so nothing was stored or acknowledged\n"
        );
        if unparseable.is_empty() {
            why.push_str("the file is empty (or holds only whitespace)\n");
        }
        for u in &unparseable {
            why.push_str(u);
            why.push('\n');
        }
        let target = free_name(env.mb, Folder::Error, name, pickup).await?;
        env.mb
            .write_atomic(
                Folder::Error,
                &format!("{target}.error.txt"),
                why.as_bytes(),
            )
            .await?;
        env.mb
            .rename(Folder::Processing, &claimed, Folder::Error, &target)
            .await?;
        let target = env.mb.path(Folder::Error, &target);
        let mut entry = log_entry(env, "edi.file.unreadable", LogStatus::Error);
        entry.error_message = Some(why.trim_end().to_owned());
        entry.request_body =
            Some(json!({ "file": name, "moved_to": target.display().to_string() }));
        entry.duration_ms = Some(started.elapsed().as_millis().min(i32::MAX as u128) as i32);
        write_log(env, &entry).await;
        warn!(file = %name, "nothing in the file parsed; moved to error/");
        FileDisposition::Error(target)
    } else {
        if !unparseable.is_empty() {
            let mut entry = log_entry(env, "edi.file.unparseable_text", LogStatus::Warning);
            entry.error_message = Some(unparseable.join("\n"));
            entry.request_body = Some(json!({ "file": name }));
            write_log(env, &entry).await;
        }
        let target = free_name(env.mb, Folder::Archive, name, pickup).await?;
        env.mb
            .rename(Folder::Processing, &claimed, Folder::Archive, &target)
            .await?;
        FileDisposition::Archived(env.mb.path(Folder::Archive, &target))
    };
    Ok(FileReport {
        name: name.to_owned(),
        pickup,
        interchanges: outcomes,
        unparseable,
        disposition,
    })
}

/// [`message_types`] of an inbound interchange; a lone TA1 (an interchange acknowledgement has
/// no set of its own) is listed as `TA1`, as for the TA1s we send.
fn inbound_types(ic: &Interchange) -> Vec<String> {
    let mut types = message_types(ic);
    if types.is_empty() && crate::acks::has_ta1(ic) {
        types.push("TA1".into());
    }
    types
}

async fn handle_interchange(
    env: &Env<'_>,
    pickup: Uuid,
    file: &str,
    ic: &Interchange,
    v: &Validation,
    previous: &HashMap<i64, EdiMessage>,
) -> Result<InterchangeOutcome, AdapterError> {
    let started = Instant::now();
    let offset = ic.offset as i64;
    if let Some(row) = previous.get(&offset) {
        return resume(env, ic, v, row).await;
    }
    let errors: Vec<String> = v.errors().map(|i| i.to_string()).collect();
    let msg = NewEdiMessage {
        org: env.org,
        partner: env.profile.name.clone(),
        standard: edi_standard(ic.standard),
        message_types: inbound_types(ic),
        sender_id: ic.header.sender.clone(),
        receiver_id: ic.header.receiver.clone(),
        interchange_control: ic.header.control.clone(),
        group_controls: group_controls(ic),
        status: EdiStatus::Received,
        raw: ic.raw.clone(),
        validation: serde_json::to_value(v).ok(),
        errors,
        related_message_id: None,
        file_name: Some(file.to_owned()),
        pickup_id: Some(pickup),
        file_offset: Some(offset),
    };
    match store::insert_inbound(env.pool, &msg)
        .await
        .map_err(transient("storing an inbound interchange"))?
    {
        InboundInsert::Stored(id) => {
            let outcome = finish(env, ic, v, id).await?;
            log_interchange(env, ic, v, file, &outcome, started).await;
            Ok(outcome)
        }
        InboundInsert::Existing(original) => {
            let outcome = duplicate(env, ic, v, &msg, original.id).await?;
            warn!(control = %ic.header.control, sender = %ic.header.sender, original = %original.id, "duplicate interchange; not processed again");
            log_interchange(env, ic, v, file, &outcome, started).await;
            Ok(outcome)
        }
    }
}

/// An interchange an earlier run of this pickup already stored: finish what it did not.
async fn resume(
    env: &Env<'_>,
    ic: &Interchange,
    v: &Validation,
    row: &EdiMessage,
) -> Result<InterchangeOutcome, AdapterError> {
    if let Some(original) = row.duplicate_of {
        // Its answer, if one was due, was stored with it: written unless already sent.
        let ack = delivered_ack(env, row.id).await?;
        return Ok(InterchangeOutcome::Duplicate {
            message: row.id,
            original,
            ack,
        });
    }
    if row.status == EdiStatus::Received {
        let started = Instant::now();
        let outcome = finish(env, ic, v, row.id).await?;
        let file = row.file_name.clone().unwrap_or_default();
        log_interchange(env, ic, v, &file, &outcome, started).await;
        return Ok(outcome);
    }
    // Handled before the crash; its ack may be stored but not yet written.
    let ack_file = delivered_ack(env, row.id).await?;
    Ok(InterchangeOutcome::Handled {
        message: row.id,
        status: row.status,
        ack: ack_file,
    })
}

/// The stored ack of inbound message `id`, written into `outbound/` if a crash left it
/// unwritten; its file name.
async fn delivered_ack(env: &Env<'_>, id: EdiMessageId) -> Result<Option<String>, AdapterError> {
    let ack = store::ack_of(env.pool, env.org, id)
        .await
        .map_err(transient("loading a stored acknowledgement"))?;
    Ok(match ack {
        Some(ack) => {
            let name = ack.file_name.clone().unwrap_or_default();
            if ack.status == EdiStatus::Processed {
                deliver_ack(env, ack.id, &name, &ack.raw).await?;
            }
            Some(name)
        }
        None => None,
    })
}

/// A second copy of an interchange already stored (see the module docs): stored flagged, with
/// its duplicate answer when the profile sends one, both in one transaction, then the answer
/// written. Whatever else its validation found, the answer is the duplicate one alone.
async fn duplicate(
    env: &Env<'_>,
    ic: &Interchange,
    v: &Validation,
    msg: &NewEdiMessage,
    original: EdiMessageId,
) -> Result<InterchangeOutcome, AdapterError> {
    let acks = &env.profile.acks;
    let due = !crate::acks::is_ack_interchange(ic)
        && match ic.standard {
            Standard::X12 => {
                acks.ta1_on_envelope_error || (acks.ta1_when_requested && ic.header.ack_requested)
            }
            Standard::Edifact => acks.contrl,
        };
    let mut dv = v.clone();
    ack::mark_duplicate(ic, &mut dv);
    let opts = env.profile.ack_options(env.now.naive_utc());
    let build = |ctl: &AckControls| match ic.standard {
        Standard::X12 => ack::x12_ack(ic, &dv, ctl, &opts),
        Standard::Edifact => ack::contrl(ic, &dv, ctl, &opts),
    };
    let probe = if due {
        match build(&PROBE) {
            Ok(text) => text,
            Err(e) => {
                // Our writer refused (an envelope value the answer cannot echo): the copy is
                // still stored flagged; the reason is logged.
                warn!(error = %e, "could not build the answer to a duplicate interchange");
                None
            }
        }
    } else {
        None
    };
    let mut tx = switchyard_store::begin(env.pool)
        .await
        .map_err(|e| AdapterError::transient(format!("starting a transaction: {e}")))?;
    let id = store::insert_duplicate(&mut *tx, msg, original)
        .await
        .map_err(transient("storing a duplicate interchange"))?;
    let stored = match probe {
        Some(probe) => Some(store_ack(env, &mut tx, ic.standard, id, &probe, &build).await?),
        None => None,
    };
    tx.commit()
        .await
        .map_err(|e| AdapterError::transient(format!("committing a duplicate interchange: {e}")))?;
    let ack = match stored {
        Some(a) => {
            deliver_ack(env, a.id, &a.name, a.text.as_bytes()).await?;
            Some(a.name)
        }
        None => None,
    };
    Ok(InterchangeOutcome::Duplicate {
        message: id,
        original,
        ack,
    })
}

/// Control numbers for a dry run that decides whether an ack is due before numbers are spent.
const PROBE: AckControls = AckControls {
    interchange: 1,
    group: 1,
    first_set: 1,
};

/// An acknowledgement stored in the outbox, not yet written.
struct StoredAck {
    id: EdiMessageId,
    name: String,
    text: String,
}

/// Allocates exactly the control numbers the ack `probe` (a dry run of `build`) uses, builds it
/// with them and stores it in the outbox as the answer to inbound message `related`, in `tx`.
async fn store_ack(
    env: &Env<'_>,
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    standard: Standard,
    related: EdiMessageId,
    probe: &str,
    build: &(dyn Fn(&AckControls) -> Result<Option<String>, switchyard_edi::writer::WriteError>
          + Sync),
) -> Result<StoredAck, AdapterError> {
    // Count what the ack holds (a TA1 alone has no group; a 997 has one ST per acknowledged
    // group; a CONTRL one UNH and no UNG) so exactly the numbers it uses are allocated.
    let (groups, sets) = match switchyard_edi::read_all(probe.as_bytes()).first() {
        Some(Unit::Interchange(a)) => (
            a.groups.iter().filter(|g| g.header.is_some()).count() as i64,
            a.groups.iter().map(|g| g.sets.len()).sum::<usize>() as i64,
        ),
        _ => {
            return Err(AdapterError::permanent(
                "the acknowledgement we built does not parse",
            ))
        }
    };
    let partner = env.profile.name.as_str();
    let (k_ic, k_group, k_set) = match standard {
        Standard::X12 => (ControlKind::Isa, ControlKind::Gs, ControlKind::St),
        Standard::Edifact => (ControlKind::Unb, ControlKind::Ung, ControlKind::Unh),
    };
    let alloc = transient("allocating control numbers");
    let n_ic = *store::allocate(&mut **tx, env.org, partner, k_ic, 1)
        .await
        .map_err(&alloc)?
        .start();
    let n_group = if groups > 0 {
        *store::allocate(&mut **tx, env.org, partner, k_group, groups)
            .await
            .map_err(&alloc)?
            .start()
    } else {
        0
    };
    let n_set = if sets > 0 {
        *store::allocate(&mut **tx, env.org, partner, k_set, sets)
            .await
            .map_err(&alloc)?
            .start()
    } else {
        0
    };
    let to_u32 = |n: i64| {
        u32::try_from(n).map_err(|_| {
            AdapterError::permanent(format!(
                "control number {n} does not fit the acknowledgement"
            ))
        })
    };
    let ctl = AckControls {
        interchange: to_u32(n_ic)?,
        group: to_u32(n_group)?,
        first_set: to_u32(n_set)?,
    };
    let text = build(&ctl)
        .map_err(|e| AdapterError::permanent(format!("building the acknowledgement: {e}")))?
        .ok_or_else(|| {
            AdapterError::permanent(
                "the acknowledgement was due on the dry run but not with real control numbers",
            )
        })?;
    // Read our own ack back: its types and controls go into the outbox row, and an ack that
    // does not parse is a bug worth failing loudly on.
    let parsed = match switchyard_edi::read_all(text.as_bytes()).into_iter().next() {
        Some(Unit::Interchange(a)) => a,
        _ => {
            return Err(AdapterError::permanent(
                "the acknowledgement we built does not parse",
            ))
        }
    };
    let mut types = message_types(&parsed);
    if types.is_empty() {
        types.push("TA1".into());
    }
    let kind = types.join("+");
    let ack_name = format!(
        "{}_{}_{}.edi",
        sanitize_name(partner),
        kind,
        parsed.header.control
    );
    let id = store::insert_outbound(
        &mut **tx,
        &NewEdiMessage {
            org: env.org,
            partner: partner.to_owned(),
            standard: edi_standard(parsed.standard),
            message_types: types,
            sender_id: parsed.header.sender.clone(),
            receiver_id: parsed.header.receiver.clone(),
            interchange_control: parsed.header.control.clone(),
            group_controls: group_controls(&parsed),
            status: EdiStatus::Processed,
            raw: text.clone().into_bytes(),
            validation: None,
            errors: Vec::new(),
            related_message_id: Some(related),
            file_name: Some(ack_name.clone()),
            pickup_id: None,
            file_offset: None,
        },
    )
    .await
    .map_err(transient("storing the acknowledgement"))?;
    Ok(StoredAck {
        id,
        name: ack_name,
        text,
    })
}

/// The ack (if due) with fresh control numbers, stored with the inbound status in one
/// transaction, then written; or just the inbound status when no ack is due.
async fn finish(
    env: &Env<'_>,
    ic: &Interchange,
    v: &Validation,
    id: EdiMessageId,
) -> Result<InterchangeOutcome, AdapterError> {
    let status = if v.is_valid() {
        EdiStatus::Processed
    } else {
        EdiStatus::Error
    };
    // The partner's 997 / 999 / CONTRL for something we sent: matched to it, never itself
    // acknowledged (an ack of an ack would loop between translators). Matched before the
    // status is set, so a crash in between leaves it `received` and the resume matches again.
    if crate::acks::is_ack_interchange(ic) {
        if v.is_valid() {
            crate::acks::match_inbound_ack(env.pool, env.org, &env.profile.name, ic, id).await?;
        }
        store::set_status(env.pool, env.org, id, status, None)
            .await
            .map_err(transient("updating an inbound interchange"))?;
        return Ok(InterchangeOutcome::Handled {
            message: id,
            status,
            ack: None,
        });
    }
    let now = env.now.naive_utc();
    let opts = env.profile.ack_options(now);
    let build = |ctl: &AckControls| match ic.standard {
        Standard::X12 => ack::x12_ack(ic, v, ctl, &opts),
        Standard::Edifact if env.profile.acks.contrl => ack::contrl(ic, v, ctl, &opts),
        Standard::Edifact => Ok(None),
    };
    // A dry run decides whether an ack is due before numbers are spent on it.
    let probe_text = match build(&PROBE) {
        Ok(a) => a,
        Err(e) => {
            // Our own writer refused (a value it cannot escape): the message is kept, flagged.
            let mut errors: Vec<String> = v.errors().map(|i| i.to_string()).collect();
            errors.push(format!("could not build the acknowledgement: {e}"));
            store::set_status(env.pool, env.org, id, EdiStatus::Error, Some(&errors))
                .await
                .map_err(transient("updating an inbound interchange"))?;
            return Ok(InterchangeOutcome::Handled {
                message: id,
                status: EdiStatus::Error,
                ack: None,
            });
        }
    };
    let Some(probe_text) = probe_text else {
        let mut tx = switchyard_store::begin(env.pool)
            .await
            .map_err(|e| AdapterError::transient(format!("starting a transaction: {e}")))?;
        store::set_status(&mut *tx, env.org, id, status, None)
            .await
            .map_err(transient("updating an inbound interchange"))?;
        if status == EdiStatus::Processed {
            crate::orders::enqueue_import(&mut *tx, env.now, env.org, id, ic).await?;
        }
        tx.commit().await.map_err(|e| {
            AdapterError::transient(format!("committing an inbound interchange: {e}"))
        })?;
        return Ok(InterchangeOutcome::Handled {
            message: id,
            status,
            ack: None,
        });
    };
    let mut tx = switchyard_store::begin(env.pool)
        .await
        .map_err(|e| AdapterError::transient(format!("starting a transaction: {e}")))?;
    let StoredAck {
        id: ack_id,
        name: ack_name,
        text,
    } = store_ack(env, &mut tx, ic.standard, id, &probe_text, &build).await?;
    store::set_status(&mut *tx, env.org, id, status, None)
        .await
        .map_err(transient("updating an inbound interchange"))?;
    // Purchase orders in a valid interchange: their import is enqueued with the status, so a
    // message is never processed without it.
    if status == EdiStatus::Processed {
        crate::orders::enqueue_import(&mut *tx, env.now, env.org, id, ic).await?;
    }
    tx.commit()
        .await
        .map_err(|e| AdapterError::transient(format!("committing the acknowledgement: {e}")))?;
    deliver_ack(env, ack_id, &ack_name, text.as_bytes()).await?;
    Ok(InterchangeOutcome::Handled {
        message: id,
        status,
        ack: Some(ack_name),
    })
}

/// Write the ack into `outbound/` and mark it sent.
async fn deliver_ack(
    env: &Env<'_>,
    id: EdiMessageId,
    name: &str,
    body: &[u8],
) -> Result<(), AdapterError> {
    env.mb.write_atomic(Folder::Outbound, name, body).await?;
    store::set_status(env.pool, env.org, id, EdiStatus::Sent, None)
        .await
        .map_err(transient("marking the acknowledgement sent"))
}

fn log_entry(env: &Env<'_>, event: &str, status: LogStatus) -> NewLogEntry {
    let mut e = NewLogEntry::new(
        Some(env.org),
        IntegrationType::Edi,
        event,
        Direction::Inbound,
        status,
    );
    e.at = env.now;
    e.partner = Some(env.profile.name.clone());
    e.job_id = env.job;
    e
}

/// One integration log row per interchange. A failed log write is reported, not fatal: the
/// message itself is safely in `edi_messages`.
async fn log_interchange(
    env: &Env<'_>,
    ic: &Interchange,
    v: &Validation,
    file: &str,
    outcome: &InterchangeOutcome,
    started: Instant,
) {
    let outcome_label = match outcome {
        InterchangeOutcome::Handled {
            status: EdiStatus::Error,
            ..
        } => "error",
        InterchangeOutcome::Handled { .. } => "processed",
        InterchangeOutcome::Duplicate { .. } => "duplicate",
    };
    metrics::counter!(INTERCHANGES_METRIC, "partner" => env.profile.name.clone(), "outcome" => outcome_label)
        .increment(1);
    let (event, status, message, ack) = match outcome {
        InterchangeOutcome::Handled {
            message,
            status,
            ack,
        } => {
            let log_status = match status {
                EdiStatus::Error => LogStatus::Error,
                _ if v.issues.iter().any(|i| !i.is_error()) => LogStatus::Warning,
                _ => LogStatus::Success,
            };
            (
                "edi.interchange.received",
                log_status,
                *message,
                ack.clone(),
            )
        }
        InterchangeOutcome::Duplicate { message, ack, .. } => (
            "edi.interchange.duplicate",
            LogStatus::Error,
            *message,
            ack.clone(),
        ),
    };
    let mut entry = log_entry(env, event, status);
    entry.request_body = Some(json!({
        "file": file,
        "message_id": message.to_string(),
        "standard": edi_standard(ic.standard).as_str(),
        "sender": ic.header.sender,
        "receiver": ic.header.receiver,
        "interchange_control": ic.header.control,
        "types": message_types(ic),
    }));
    entry.response_body = ack.map(|a| json!({ "ack_file": a }));
    entry.error_message = match outcome {
        InterchangeOutcome::Duplicate { original, .. } => Some(format!(
            "duplicate interchange: control reference {} from sender {} was already received as message {original}",
            ic.header.control, ic.header.sender
        )),
        _ => {
            let errors: Vec<String> = v.errors().take(20).map(|i| i.to_string()).collect();
            (!errors.is_empty()).then(|| errors.join("\n"))
        }
    };
    entry.duration_ms = Some(started.elapsed().as_millis().min(i32::MAX as u128) as i32);
    write_log(env, &entry).await;
}

async fn write_log(env: &Env<'_>, entry: &NewLogEntry) {
    if let Err(e) = logs::insert(env.pool, &Masker::default(), entry).await {
        warn!(error = %e, event = %entry.event_type, "could not write the integration log row");
    }
}

/// A session-level advisory lock on a dedicated connection: if the daemon dies, Postgres
/// closes the connection and the lock goes with it (a pooled connection could hand a held
/// lock to an unrelated query instead).
struct MailboxLock {
    conn: PgConnection,
    key: String,
}

impl MailboxLock {
    async fn acquire(pool: &PgPool, key: &str) -> Result<Option<Self>, AdapterError> {
        let key = key.to_owned();
        let mut conn = PgConnection::connect_with(&pool.connect_options())
            .await
            .map_err(|e| {
                AdapterError::transient(format!("connecting for the mailbox lock: {e}"))
            })?;
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtextextended($1, 0))")
            .bind(&key)
            .fetch_one(&mut conn)
            .await
            .map_err(|e| AdapterError::transient(format!("taking the mailbox lock: {e}")))?;
        if got {
            Ok(Some(Self { conn, key }))
        } else {
            let _ = conn.close().await;
            Ok(None)
        }
    }

    async fn release(mut self) {
        let _ = sqlx::query("SELECT pg_advisory_unlock(hashtextextended($1, 0))")
            .bind(&self.key)
            .execute(&mut self.conn)
            .await;
        // Closing releases it in any case.
        let _ = self.conn.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn pickup_names_round_trip_and_foreign_names_are_not_pickups() {
        let id = Uuid::now_v7();
        let name = format!("{}{PICKUP_SEP}po__2026.edi", id.simple());
        assert_eq!(split_pickup(&name), Some((id, "po__2026.edi")));
        assert_eq!(split_pickup("po__2026.edi"), None);
        assert_eq!(split_pickup("po.edi"), None);
    }

    #[test]
    fn payload_comes_from_a_schedule_file() {
        // `switchyard check` and the scheduler load the directory this way.
        let (list, problems) = switchyard_runtime::schedules::load_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../schedules"),
        );
        assert!(problems.is_empty(), "{problems:?}");
        let s = list
            .iter()
            .find(|s| s.name == "edi-mailbox")
            .expect("schedules/edi-mailbox.toml");
        assert_eq!(s.job, KIND);
        assert_eq!(s.cron.to_string(), "0 */5 * * * *");
        // The shipped schedule names its partner; the profile lives in switchyard.toml.
        let p: PollMailbox =
            switchyard_runtime::job::parse_payload(&s.params).expect("payload deserializes");
        assert_eq!(p.0, crate::partners::PartnerRef::named("acme"));
    }
}
