//! Exports (issue #17, FR-INT-008 / FR-INT-024): one entity of one organization, filtered,
//! streamed from Postgres into CSV, JSON or XML as the rows arrive, so memory does not depend
//! on the row count. The same code writes the `export.run` job's file, the small synchronous
//! `GET /api/v1/exports/{entity}.{format}` body and the CLI's `switchyard export` output.
//!
//! Module map:
//! - [`columns`]: each entity's CSV columns and XML element names
//! - [`write`]: the row writers, one per format ([`write::RowWriter`]), and those of rows
//!   reshaped by a mapping file ([`write::mapped`])
//! - [`flat`]: the CSV fast path, `COPY` text lines into CSV records (entities with a flat
//!   query, no mapping)
//! - [`reshape`]: whether a mapping file can reshape an export, and mapping one row
//! - this file: [`open`] (a snapshot and its row count) and [`Opened::write_to`]
//!
//! The rows' SQL lives in `switchyard_store::exports`; the XML schema in `schemas/export.xsd`
//! ([`write::xml::XSD`]).

pub mod columns;
pub mod flat;
pub mod reshape;
pub mod write;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use sqlx::{PgPool, Postgres, Transaction};
use std::sync::Arc;
use switchyard_core::ids::OrgId;
use switchyard_mapping::Mapping;
pub use switchyard_store::exports::{Entity, ExportState, FilterError, Filters, Format, Period};
use switchyard_store::StoreError;
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// How long a finished export file is kept (FR-INT-008: "files expire after 24h").
pub const TTL_HOURS: i64 = 24;

/// The most rows the synchronous route streams; more is an asynchronous export's job.
pub const SYNC_LIMIT: u64 = 10_000;

/// Bytes gathered before a write to the output: few syscalls, bounded memory.
const CHUNK: usize = 64 * 1024;

/// Rows between two progress reports.
const PROGRESS_EVERY: u64 = 500;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Filter(#[from] FilterError),
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error("writing the export: {0}")]
    Io(#[from] std::io::Error),
    /// A stored value the format cannot carry as its column says (a row the query built
    /// wrongly): located, so the fix is obvious.
    #[error("row {row}, column {column}: {message}")]
    Row {
        row: u64,
        column: String,
        message: String,
    },
    #[error("writing the export: {0}")]
    Write(String),
    /// The mapping cannot reshape this export (it does not read JSON rows): refused before a
    /// row is read.
    #[error("mapping `{mapping}`: {message}")]
    Unfit { mapping: String, message: String },
    /// The mapping failed on a row: the export stops there, naming the row (counted from 1 in
    /// the export's order), the output field and the rule.
    #[error("row {row}, field {field}: {message} (mapping `{mapping}`, rule at {rule})")]
    Mapping {
        row: u64,
        field: String,
        mapping: String,
        rule: String,
        message: String,
    },
}

impl From<csv::Error> for ExportError {
    fn from(e: csv::Error) -> Self {
        ExportError::Write(e.to_string())
    }
}

impl From<sqlx::Error> for ExportError {
    fn from(e: sqlx::Error) -> Self {
        ExportError::Store(e.into())
    }
}

/// What to export.
#[derive(Debug, Clone)]
pub struct Request {
    pub org: OrgId,
    pub entity: Entity,
    pub format: Format,
    pub filters: Filters,
    /// A mapping file each row goes through; the file then holds the mapped records
    /// ([`write::mapped`]) instead of the entity's own columns.
    pub mapping: Option<Arc<Mapping>>,
}

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub rows: u64,
    pub bytes: u64,
}

/// An export ready to write: a read-only snapshot and how many rows it holds.
pub struct Opened {
    tx: Transaction<'static, Postgres>,
    request: Request,
    now: DateTime<Utc>,
    /// The rows [`Opened::write_to`] will write.
    pub total: u64,
}

/// Checks the filters, takes a snapshot and counts its rows; `now` fixes a period's window
/// and is the XML's `generated_at`.
pub async fn open(
    pool: &PgPool,
    request: Request,
    now: DateTime<Utc>,
) -> Result<Opened, ExportError> {
    request.filters.check(request.entity)?;
    if let Some(m) = &request.mapping {
        reshape::check(m, request.format)?;
    }
    let mut tx = switchyard_store::exports::snapshot(pool).await?;
    let total = switchyard_store::exports::count(
        &mut tx,
        request.org,
        request.entity,
        &request.filters,
        now,
    )
    .await?;
    Ok(Opened {
        tx,
        request,
        now,
        total,
    })
}

impl Opened {
    /// Streams every row into `out`, reporting rows written to `progress` every few hundred
    /// rows and at the end.
    pub async fn write_to<W: AsyncWrite + Unpin + Send>(
        mut self,
        out: &mut W,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<Summary, ExportError> {
        let Request {
            org,
            entity,
            format,
            ref filters,
            ref mapping,
        } = self.request;
        if format == Format::Csv && mapping.is_none() {
            // The stream borrows the transaction: it must be gone before the rollback.
            let flat = {
                let copy = switchyard_store::exports::copy_flat(
                    &mut self.tx,
                    org,
                    entity,
                    filters,
                    self.now,
                )
                .await?;
                match copy {
                    Some(copy) => Some(write_flat(copy, entity, out, progress).await?),
                    None => None,
                }
            };
            if let Some(summary) = flat {
                self.tx.rollback().await?;
                return Ok(summary);
            }
        }
        let mut writer = match mapping {
            Some(m) => write::mapped::writer(entity, format, m, self.now),
            None => write::writer(entity, format, self.now),
        };
        let mut reshape = mapping.as_deref().map(reshape::Reshape::new);
        let mut buf = Vec::with_capacity(CHUNK * 2);
        let mut summary = Summary { rows: 0, bytes: 0 };
        writer.begin(&mut buf)?;
        {
            let mut rows =
                switchyard_store::exports::rows(&mut self.tx, org, entity, filters, self.now);
            while let Some(row) = rows.next().await {
                let row = row?;
                summary.rows += 1;
                match &mut reshape {
                    Some(r) => writer.row(summary.rows, &r.row(summary.rows, &row)?, &mut buf)?,
                    None => writer.row(summary.rows, &row, &mut buf)?,
                }
                if buf.len() >= CHUNK {
                    out.write_all(&buf).await?;
                    summary.bytes += buf.len() as u64;
                    buf.clear();
                }
                if summary.rows.is_multiple_of(PROGRESS_EVERY) {
                    progress(summary.rows);
                }
            }
        }
        writer.end(&mut buf)?;
        out.write_all(&buf).await?;
        out.flush().await?;
        summary.bytes += buf.len() as u64;
        progress(summary.rows);
        // Read-only: nothing to commit, but ending it cleanly returns the connection at once.
        self.tx.rollback().await?;
        Ok(summary)
    }
}

/// The CSV of an entity's flat query ([`flat`]): the COPY stream's chunks as they come,
/// written out in chunks of [`CHUNK`], progress every [`PROGRESS_EVERY`] rows.
async fn write_flat<W: AsyncWrite + Unpin + Send>(
    mut copy: futures::stream::BoxStream<'_, Result<bytes::Bytes, StoreError>>,
    entity: Entity,
    out: &mut W,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<Summary, ExportError> {
    let mut buf = Vec::with_capacity(CHUNK * 2);
    let mut summary = Summary { rows: 0, bytes: 0 };
    let mut csv = flat::CopyToCsv::begin(columns::columns(entity), &mut buf)?;
    let mut reported = 0;
    while let Some(chunk) = copy.next().await {
        csv.chunk(&chunk?, &mut buf)?;
        if buf.len() >= CHUNK {
            out.write_all(&buf).await?;
            summary.bytes += buf.len() as u64;
            buf.clear();
        }
        if csv.rows >= reported + PROGRESS_EVERY {
            reported = csv.rows - csv.rows % PROGRESS_EVERY;
            progress(reported);
        }
    }
    drop(copy);
    summary.rows = csv.end(&mut buf)?;
    out.write_all(&buf).await?;
    out.flush().await?;
    summary.bytes += buf.len() as u64;
    progress(summary.rows);
    Ok(summary)
}
