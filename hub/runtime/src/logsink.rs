//! Writes adapters' exchanges to the integration log, off the job's hot path: exchanges go
//! through a channel to one writer task that inserts them in batches, masked.

use std::sync::Arc;
use switchyard_core::adapter::{AdapterContext, Direction, Exchange, ExchangeSink};
use switchyard_store::logs::{self, IntegrationType, LogStatus, Masker, NewLogEntry};
use tokio::sync::mpsc;

pub struct DbSink {
    tx: mpsc::UnboundedSender<NewLogEntry>,
}

impl DbSink {
    /// Start the writer. It stops when every sender is dropped, after writing what is queued.
    pub fn start(pool: sqlx::PgPool, masker: Masker) -> (Arc<Self>, tokio::task::JoinHandle<()>) {
        let (tx, mut rx) = mpsc::unbounded_channel::<NewLogEntry>();
        let writer = tokio::spawn(async move {
            let mut batch = Vec::with_capacity(256);
            while let Some(first) = rx.recv().await {
                batch.push(first);
                while batch.len() < 1000 {
                    match rx.try_recv() {
                        Ok(e) => batch.push(e),
                        Err(_) => break,
                    }
                }
                if let Err(e) = logs::insert_batch(&pool, &masker, &batch).await {
                    tracing::error!(error = %e, rows = batch.len(), "integration log write failed");
                }
                batch.clear();
            }
        });
        (Arc::new(Self { tx }), writer)
    }
}

pub fn entry_for(ctx: &AdapterContext, exchange: Exchange) -> NewLogEntry {
    let status = match (&exchange.error, exchange.response_status) {
        (Some(_), _) => LogStatus::Error,
        (None, Some(s)) if s >= 400 => LogStatus::Error,
        _ => LogStatus::Success,
    };
    let direction = match exchange.direction {
        Direction::Inbound => logs::Direction::Inbound,
        Direction::Outbound => logs::Direction::Outbound,
    };
    let mut entry = NewLogEntry::new(
        Some(ctx.org),
        IntegrationType::Adapter,
        exchange.event,
        direction,
        status,
    );
    entry.http_status = exchange.response_status.map(i32::from);
    entry.request_body = exchange.request_body;
    entry.response_body = exchange.response_body;
    entry.error_message = exchange.error;
    entry.partner = Some(exchange.partner.0);
    entry.job_id = ctx.job;
    entry.retry_count = Some((ctx.attempt - 1).max(0));
    entry.correlation_id = Some(ctx.correlation_id.clone());
    entry.duration_ms = Some(exchange.duration.as_millis().min(i32::MAX as u128) as i32);
    entry
}

impl ExchangeSink for DbSink {
    fn record(&self, ctx: &AdapterContext, exchange: Exchange) {
        metrics::histogram!("switchyard_exchange_duration_seconds", "partner" => exchange.partner.0.clone())
            .record(exchange.duration.as_secs_f64());
        if self.tx.send(entry_for(ctx, exchange)).is_err() {
            tracing::error!("integration log writer has stopped; exchange not logged");
        }
    }
}
