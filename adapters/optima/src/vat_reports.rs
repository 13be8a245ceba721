//! JPK_V7M files: their SQL (migrations/1502_optima_vat_reports.sql) and the
//! `optima.vat_report` job that writes one with its progress.
//!
//! Which invoices make the month's registers, and how each becomes a row: `vat_register.rs`.

use crate::jpk::{self, Period, Totals};
use crate::push_job::INVOICE_MAPPING;
use crate::routes::Connections;
use crate::vat_register;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Postgres, Transaction};
use std::sync::Arc;
use switchyard_core::error::AdapterError;
use switchyard_core::ids::{JobId, OrgId};
use switchyard_core::JobPayload;
use switchyard_runtime::context::JobContext;
use switchyard_runtime::job::{Job, JobKindSpec};
use switchyard_store::queue::{ClaimedJob, NewJob, Queue, RetrySpec};
use switchyard_store::StoreError;
use tracing::{info_span, Instrument};
use uuid::Uuid;

/// Progress is written every this many rows.
const PROGRESS_EVERY: usize = 50;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ReportRow {
    pub id: Uuid,
    #[sqlx(try_from = "Uuid")]
    pub org_id: OrgId,
    pub partner: String,
    pub year: i32,
    pub month: i32,
    pub correction: bool,
    pub state: String,
    pub rows_total: Option<i32>,
    pub rows_done: i32,
    pub totals: Option<serde_json::Value>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

const REPORT_COLUMNS: &str = "id, org_id, partner, year, month, correction, state, rows_total, \
    rows_done, totals, error, created_at, finished_at";

/// A report requested, its job queued in the same transaction.
pub async fn create(
    tx: &mut Transaction<'static, Postgres>,
    org: OrgId,
    partner: &str,
    period: Period,
    correction: bool,
    retry: RetrySpec,
    now: DateTime<Utc>,
) -> Result<ReportRow, StoreError> {
    let id = Uuid::now_v7();
    let row = sqlx::query_as(&format!(
        "INSERT INTO optima_vat_reports (id, org_id, partner, year, month, correction, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {REPORT_COLUMNS}"
    ))
    .bind(id)
    .bind(org.0)
    .bind(partner)
    .bind(period.year)
    .bind(period.month as i32)
    .bind(correction)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    let job = NewJob::new(
        org,
        VatReport::KIND,
        serde_json::json!(VatReport { report_id: id }),
    )
    .partner(partner)
    .key(format!("optima-vat-report:{id}"))
    .retry(retry);
    Queue::insert_job_with_id(&mut **tx, JobId::new(), &job, now).await?;
    Ok(row)
}

pub async fn get(pool: &PgPool, org: OrgId, id: Uuid) -> Result<Option<ReportRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {REPORT_COLUMNS} FROM optima_vat_reports WHERE org_id = $1 AND id = $2"
    ))
    .bind(org.0)
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// The file of a finished report.
pub async fn file(pool: &PgPool, org: OrgId, id: Uuid) -> Result<Option<Vec<u8>>, sqlx::Error> {
    Ok(sqlx::query_scalar::<_, Option<Vec<u8>>>(
        "SELECT file FROM optima_vat_reports WHERE org_id = $1 AND id = $2",
    )
    .bind(org.0)
    .bind(id)
    .fetch_optional(pool)
    .await?
    .flatten())
}

async fn progress(pool: &PgPool, id: Uuid, total: usize, done: usize) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE optima_vat_reports SET state = 'running', rows_total = $2, rows_done = $3 WHERE id = $1",
    )
    .bind(id)
    .bind(total as i32)
    .bind(done as i32)
    .execute(pool)
    .await?;
    Ok(())
}

async fn finish(
    pool: &PgPool,
    id: Uuid,
    result: Result<(&[u8], &Totals), &str>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let (state, file, totals, error) = match result {
        Ok((file, totals)) => ("done", Some(file), serde_json::to_value(totals).ok(), None),
        Err(e) => ("failed", None, None, Some(e)),
    };
    sqlx::query(
        "UPDATE optima_vat_reports SET state = $2, file = $3, totals = $4, error = $5, finished_at = $6
         WHERE id = $1",
    )
    .bind(id)
    .bind(state)
    .bind(file)
    .bind(totals)
    .bind(error)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

/// `optima.vat_report` `{"report_id"}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VatReport {
    pub report_id: Uuid,
}

impl JobPayload for VatReport {
    const KIND: &'static str = "optima.vat_report";
}

pub fn spec(connections: Arc<Connections>) -> JobKindSpec {
    JobKindSpec::typed(VatReportJob { connections }).partner(crate::chart_job::CONNECTION_JOB)
}

struct VatReportJob {
    connections: Arc<Connections>,
}

fn db(e: impl std::fmt::Display) -> AdapterError {
    AdapterError::transient(format!("the VAT reports: {e}"))
}

#[async_trait]
impl Job for VatReportJob {
    type Payload = VatReport;

    async fn run(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        p: VatReport,
    ) -> Result<(), AdapterError> {
        let span = info_span!("optima.vat_report", report = %p.report_id);
        async {
            let report = get(ctx.pool(), job.org_id, p.report_id)
                .await
                .map_err(db)?
                .ok_or_else(|| AdapterError::permanent(format!("no VAT report {}", p.report_id)))?;
            if report.state == "done" {
                return Ok(());
            }
            match self.generate(ctx, &report).await {
                Ok((file, totals)) => finish(
                    ctx.pool(),
                    report.id,
                    Ok((file.as_bytes(), &totals)),
                    ctx.now(),
                )
                .await
                .map_err(db),
                Err(e) => {
                    if !e.class.is_retryable() || job.attempt >= job.max_attempts {
                        finish(ctx.pool(), report.id, Err(&e.message), ctx.now())
                            .await
                            .map_err(db)?;
                    }
                    Err(e)
                }
            }
        }
        .instrument(span)
        .await
    }
}

impl VatReportJob {
    async fn generate(
        &self,
        ctx: &JobContext,
        report: &ReportRow,
    ) -> Result<(String, Totals), AdapterError> {
        let adapter = self.connections.get(&report.partner).ok_or_else(|| {
            AdapterError::permanent(format!("no Optima connection `{}`", report.partner))
        })?;
        crate::routes::job_owns(ctx.pool(), report.org_id, adapter, &report.partner).await?;
        let taxpayer = adapter.partner().taxpayer.clone().ok_or_else(|| {
            AdapterError::permanent(format!(
                "[partners.{}.jpk] is not configured (nip, name, email, tax_office_code)",
                report.partner
            ))
        })?;
        let period = Period {
            year: report.year,
            month: report.month as u32,
        };
        let (pool, org, partner) = (ctx.pool(), report.org_id, report.partner.as_str());
        let sales = vat_register::sales(pool, org, partner, period)
            .await
            .map_err(db)?;
        let purchases = vat_register::purchases(pool, org, partner, period)
            .await
            .map_err(db)?;
        let total = sales.len() + purchases.len();
        progress(pool, report.id, total, 0).await.map_err(db)?;
        let mapping = ctx.mapping(INVOICE_MAPPING, None)?;
        let mut sale_rows = Vec::with_capacity(sales.len());
        let mut purchase_rows = Vec::with_capacity(purchases.len());
        for (i, inv) in sales.iter().chain(&purchases).enumerate() {
            if i < sales.len() {
                sale_rows.push(vat_register::sale_row(&mapping, inv)?);
            } else {
                purchase_rows.push(vat_register::purchase_row(inv)?);
            }
            if (i + 1) % PROGRESS_EVERY == 0 {
                progress(pool, report.id, total, i + 1).await.map_err(db)?;
            }
        }
        progress(pool, report.id, total, total).await.map_err(db)?;
        jpk::write(
            period,
            report.correction,
            &taxpayer,
            ctx.now(),
            &sale_rows,
            &purchase_rows,
        )
        .map_err(|e| AdapterError::permanent(e.to_string()))
    }
}
