//! `export.run` writes one requested export's file (`POST /api/v1/exports` records the export
//! and enqueues this), and `export.expire` deletes the files whose 24 hours are up
//! (`schedules/export-expiry.toml`). Files live under `[paths] exports`; the row keeps the
//! file's absolute path, so whichever process serves the download finds it (processes of one
//! deployment share the directory, as they share the inbox).
//!
//! Progress: the writer reports rows written into a `watch` channel; a task beside it stores
//! the latest figure at most every [`PROGRESS_INTERVAL`], so a fast export does not spend its
//! time updating its own row, and a slow one shows movement within a second.

use crate::context::JobContext;
use crate::job::{Job, JobKindSpec};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;
use switchyard_core::error::AdapterError;
use switchyard_core::ids::ExportId;
use switchyard_core::JobPayload;
use switchyard_export::{ExportError, ExportState, Request};
use switchyard_store::exports;
use switchyard_store::queue::ClaimedJob;

/// How often a running export's progress is written to its row.
pub const PROGRESS_INTERVAL: Duration = Duration::from_millis(250);

/// `{"export": "<id>"}`: the export row to write the file of (in the job's organization).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunExport {
    pub export: ExportId,
}

impl JobPayload for RunExport {
    const KIND: &'static str = "export.run";
}

/// No parameters.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpireExports {}

impl JobPayload for ExpireExports {
    const KIND: &'static str = "export.expire";
}

struct Run {
    dir: PathBuf,
}

struct Expire;

/// `export.run`, writing under `dir`.
pub fn run_spec(dir: PathBuf) -> JobKindSpec {
    JobKindSpec::typed(Run { dir })
}

pub fn expire_spec() -> JobKindSpec {
    JobKindSpec::typed(Expire)
}

fn db(e: impl std::fmt::Display) -> AdapterError {
    AdapterError::transient(format!("database: {e}"))
}

#[async_trait]
impl Job for Run {
    type Payload = RunExport;

    async fn run(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        p: RunExport,
    ) -> Result<(), AdapterError> {
        let pool = ctx.pool();
        let Some(row) = exports::get(pool, job.org_id, p.export).await.map_err(db)? else {
            return Err(AdapterError::permanent(format!(
                "no export {} in this organization",
                p.export
            )));
        };
        match row.state() {
            // A redelivered job whose file is written (or already gone) has nothing to do.
            ExportState::Succeeded | ExportState::Expired | ExportState::Failed => return Ok(()),
            ExportState::Pending | ExportState::Running => {}
        }
        let span = tracing::info_span!("export", id = %p.export, entity = %row.entity, format = %row.format);
        let _enter = span.enter();
        // The mapping's current version: a file edited since the export was asked for shapes
        // it as it is now (the row records which version did). One gone since is a failure of
        // this export, said on it, not a retry.
        let mapping = match row.mapping.as_deref().map(|name| ctx.mapping(name, None)) {
            None => None,
            Some(Ok(m)) => Some(m),
            Some(Err(e)) => {
                let message = format!("mapping: {e}");
                exports::fail(pool, p.export, &message, ctx.now())
                    .await
                    .map_err(db)?;
                return Err(AdapterError::permanent(message));
            }
        };
        let request = Request {
            org: job.org_id,
            entity: row.entity(),
            format: row.format(),
            filters: row.filters.0.clone(),
            mapping,
        };
        match self.write(ctx, p.export, request).await {
            Ok(()) => Ok(()),
            // The database may come back: the job is retried, the export stays `running`.
            Err(ExportError::Store(e)) => Err(db(e)),
            Err(e) => {
                let message = ctx.masker.mask_text(&e.to_string());
                exports::fail(pool, p.export, &message, ctx.now())
                    .await
                    .map_err(db)?;
                Err(AdapterError::permanent(message))
            }
        }
    }
}

impl Run {
    async fn write(
        &self,
        ctx: &JobContext,
        id: ExportId,
        request: Request,
    ) -> Result<(), ExportError> {
        let pool = ctx.pool();
        let ext = request.format.as_str();
        let mapping_hash = request.mapping.as_ref().map(|m| m.hash.clone());
        let opened = switchyard_export::open(pool, request, ctx.now()).await?;
        exports::start(pool, id, opened.total, mapping_hash.as_deref(), ctx.now()).await?;
        tokio::fs::create_dir_all(&self.dir).await?;
        let dir = tokio::fs::canonicalize(&self.dir).await?;
        let done = dir.join(format!("{id}.{ext}"));
        let part = dir.join(format!("{id}.{ext}.part"));
        let mut file = tokio::fs::File::create(&part).await?;

        let (tx, rx) = tokio::sync::watch::channel(0u64);
        let reporter = tokio::spawn(report_progress(pool.clone(), id, rx));
        let written = opened
            .write_to(&mut file, &mut |n| {
                tx.send_replace(n);
            })
            .await;
        drop(tx);
        // The reporter ends when the sender is gone; its last write must not land after the
        // final state below.
        let _ = reporter.await;
        let summary = match written {
            Ok(s) => s,
            Err(e) => {
                let _ = tokio::fs::remove_file(&part).await;
                return Err(e);
            }
        };
        file.sync_all().await?;
        drop(file);
        // Renamed only when complete: a download never sees half a file.
        tokio::fs::rename(&part, &done).await?;
        exports::succeed(
            pool,
            id,
            summary.rows,
            summary.bytes,
            &path_text(&done),
            ctx.now(),
            chrono::Duration::hours(switchyard_export::TTL_HOURS),
        )
        .await?;
        tracing::info!(rows = summary.rows, bytes = summary.bytes, "export written");
        Ok(())
    }
}

fn path_text(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Writes the latest rows-done figure whenever it changed, at most every
/// [`PROGRESS_INTERVAL`]; a failed write is only logged (the next one may succeed, and the
/// final figure is written with the result).
async fn report_progress(
    pool: sqlx::PgPool,
    id: ExportId,
    mut rx: tokio::sync::watch::Receiver<u64>,
) {
    while rx.changed().await.is_ok() {
        let done = *rx.borrow_and_update();
        if let Err(e) = exports::progress(&pool, id, done).await {
            tracing::warn!(error = %e, "export progress not recorded");
        }
        tokio::time::sleep(PROGRESS_INTERVAL).await;
    }
}

#[async_trait]
impl Job for Expire {
    type Payload = ExpireExports;

    async fn run(
        &self,
        ctx: &JobContext,
        _: &ClaimedJob,
        _: ExpireExports,
    ) -> Result<(), AdapterError> {
        let mut expired = 0;
        loop {
            let due = exports::due(ctx.pool(), ctx.now(), 500).await.map_err(db)?;
            if due.is_empty() {
                break;
            }
            for (id, path) in due {
                match tokio::fs::remove_file(&path).await {
                    Ok(()) => {}
                    // Gone already (a previous run deleted it and lost its update): still expired.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(AdapterError::transient(format!(
                            "deleting export file {path}: {e}"
                        )))
                    }
                }
                exports::mark_expired(ctx.pool(), id).await.map_err(db)?;
                expired += 1;
            }
        }
        tracing::info!(expired, "export files expired");
        Ok(())
    }
}
