//! Writes adapters' exchanges to the integration log, off the job's hot path: exchanges go
//! through a bounded channel to one writer task that inserts them in batches, masked.
//!
//! While the database is away the writer keeps its batch and retries it (each row's id is
//! chosen once, so a retry after a lost answer writes nothing twice) and the channel holds
//! what arrives meanwhile. The bound ([`BUFFER_ROWS`]) only has to cover the exchanges of jobs
//! already running when the database went, since the worker claims nothing while it is away;
//! beyond it an exchange is dropped, and counted and logged, never silently.

use crate::backoff::Backoff;
use crate::health::{Component, Health};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::adapter::{AdapterContext, Direction, Exchange, ExchangeSink};
use switchyard_core::ids::LogId;
use switchyard_store::logs::{self, IntegrationType, LogStatus, Masker, NewLogEntry};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Exchanges waiting to be written, at most.
pub const BUFFER_ROWS: usize = 10_000;
/// Rows per insert.
const BATCH_ROWS: usize = 1000;

pub struct DbSink {
    tx: mpsc::Sender<NewLogEntry>,
    /// Exchanges dropped because the buffer was full, not yet reported.
    dropped: Arc<AtomicU64>,
}

/// The writer task; see [`LogWriter::finish`].
pub struct LogWriter {
    task: Option<JoinHandle<()>>,
    give_up: CancellationToken,
}

impl DbSink {
    /// Start the writer. It stops when every sender is dropped, after writing what is queued,
    /// or when told to give up ([`LogWriter::finish`]).
    pub fn start(pool: sqlx::PgPool, masker: Masker, health: Health) -> (Arc<Self>, LogWriter) {
        Self::start_with_capacity(pool, masker, health, BUFFER_ROWS)
    }

    fn start_with_capacity(
        pool: sqlx::PgPool,
        masker: Masker,
        health: Health,
        capacity: usize,
    ) -> (Arc<Self>, LogWriter) {
        let (tx, rx) = mpsc::channel::<NewLogEntry>(capacity);
        let dropped = Arc::new(AtomicU64::new(0));
        let give_up = CancellationToken::new();
        health.up(Component::LogWriter);
        let writer = Writer {
            pool,
            masker,
            health,
            dropped: dropped.clone(),
        };
        let task = tokio::spawn(writer.run(rx, give_up.clone()));
        (
            Arc::new(Self { tx, dropped }),
            LogWriter {
                task: Some(task),
                give_up,
            },
        )
    }
}

impl LogWriter {
    /// Resolves if the writer ends (it should not while any sink lives).
    pub async fn ended(&mut self) {
        match &mut self.task {
            Some(task) => {
                let _ = task.await;
                self.task = None;
            }
            None => std::future::pending::<()>().await,
        }
    }

    /// Wait for the writer to write what is queued (it ends once every sink is dropped); after
    /// `budget` it stops retrying and logs how many rows it could not write.
    pub async fn finish(mut self, budget: Duration) {
        let Some(mut task) = self.task.take() else {
            return;
        };
        if tokio::time::timeout(budget, &mut task).await.is_err() {
            self.give_up.cancel();
            let _ = task.await;
        }
    }
}

struct Writer {
    pool: sqlx::PgPool,
    masker: Masker,
    health: Health,
    dropped: Arc<AtomicU64>,
}

impl Writer {
    async fn run(self, mut rx: mpsc::Receiver<NewLogEntry>, give_up: CancellationToken) {
        let mut ids: Vec<LogId> = Vec::with_capacity(BATCH_ROWS);
        let mut batch: Vec<NewLogEntry> = Vec::with_capacity(BATCH_ROWS);
        let mut backoff = Backoff::default();
        loop {
            if batch.is_empty() {
                tokio::select! {
                    entry = rx.recv() => match entry {
                        Some(entry) => batch.push(entry),
                        None => return,
                    },
                    _ = give_up.cancelled() => return self.report_unwritten(0, &mut rx),
                }
            }
            while batch.len() < BATCH_ROWS {
                match rx.try_recv() {
                    Ok(entry) => batch.push(entry),
                    Err(_) => break,
                }
            }
            // An id per row, chosen once: the retry of a batch whose insert did land writes
            // nothing twice.
            ids.extend((ids.len()..batch.len()).map(|_| LogId::new()));
            let written = tokio::select! {
                written = logs::insert_batch_with_ids(&self.pool, &self.masker, &ids, &batch) => written,
                _ = give_up.cancelled() => return self.report_unwritten(batch.len(), &mut rx),
            };
            match written {
                Ok(()) => {
                    self.health.up(Component::LogWriter);
                    backoff.reset();
                    ids.clear();
                    batch.clear();
                    self.report_dropped();
                }
                Err(e) => {
                    self.health.failing(Component::LogWriter, &e);
                    tokio::select! {
                        _ = tokio::time::sleep(backoff.next_delay()) => {}
                        _ = give_up.cancelled() => return self.report_unwritten(batch.len(), &mut rx),
                    }
                }
            }
        }
    }

    /// Once rows are written again, say how many exchanges the full buffer turned away.
    fn report_dropped(&self) {
        let dropped = self.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            tracing::error!(
                dropped,
                buffer = BUFFER_ROWS,
                "integration log rows were dropped while the database was away and the buffer was full"
            );
        }
    }

    fn report_unwritten(&self, in_batch: usize, rx: &mut mpsc::Receiver<NewLogEntry>) {
        rx.close();
        let mut unwritten = in_batch;
        while rx.try_recv().is_ok() {
            unwritten += 1;
        }
        let unwritten = unwritten as u64 + self.dropped.swap(0, Ordering::Relaxed);
        if unwritten > 0 {
            tracing::error!(
                rows_not_written = unwritten,
                "integration log rows not written: the database did not answer before shutdown"
            );
        }
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
        match self.tx.try_send(entry_for(ctx, exchange)) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                metrics::counter!("switchyard_integration_log_dropped_total").increment(1);
                if self.dropped.fetch_add(1, Ordering::Relaxed) == 0 {
                    tracing::error!(
                        buffer = BUFFER_ROWS,
                        "integration log buffer full while the database is away: exchanges are \
                         dropped (counted) until it is back"
                    );
                }
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                tracing::error!("integration log writer has stopped; exchange not logged");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::postgres::PgPoolOptions;
    use std::time::Instant;
    use switchyard_core::ids::{OrgId, PartnerName};

    fn exchange(n: u32) -> Exchange {
        Exchange {
            partner: PartnerName("shop".into()),
            event: format!("push {n}"),
            direction: Direction::Outbound,
            method: None,
            url: None,
            request_body: None,
            response_status: Some(200),
            response_body: None,
            duration: Duration::from_millis(1),
            error: None,
        }
    }

    /// While nothing can be written, exchanges beyond the buffer are counted rather than
    /// queued without bound, the writer says it is failing, and at shutdown it gives up when
    /// told instead of hanging.
    #[tokio::test]
    async fn a_full_buffer_counts_what_it_turns_away_and_the_writer_gives_up_when_told() {
        // Nothing listens on a port that was just freed: every connection is refused.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pool = PgPoolOptions::new()
            .acquire_timeout(Duration::from_millis(200))
            .connect_lazy(&format!("postgres://postgres@127.0.0.1:{port}/none"))
            .unwrap();
        let health = Health::new();
        let (sink, writer) =
            DbSink::start_with_capacity(pool, Masker::default(), health.clone(), 3);
        let ctx = AdapterContext {
            org: OrgId::new(),
            job: None,
            idempotency_key: "k".into(),
            correlation_id: "c".into(),
            attempt: 1,
            sink: sink.clone(),
        };
        // The writer task has not run yet (this runtime has one thread and the test has not
        // yielded): three exchanges fill the buffer, two are turned away.
        for n in 0..5 {
            sink.record(&ctx, exchange(n));
        }
        assert_eq!(sink.dropped.load(Ordering::Relaxed), 2);

        let deadline = Instant::now() + Duration::from_secs(10);
        while health.is_up(Component::LogWriter) {
            assert!(
                Instant::now() < deadline,
                "the writer never reported failing"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            health.problems()[0].starts_with("writing integration logs: failing"),
            "{:?}",
            health.problems()
        );
        tokio::time::timeout(
            Duration::from_secs(5),
            writer.finish(Duration::from_millis(100)),
        )
        .await
        .expect("the writer gives up once its budget is spent");
    }
}
