//! Prometheus metrics.
//!
//! One recorder per process, installed on first use: the daemon records through the
//! `metrics` facade (exchange latency per partner, attempts, ...) and `/metrics` renders
//! everything recorded, after refreshing the queue gauges from the database.
//!
//! Names (all prefixed `switchyard_`): `jobs{state}` and `dead_letters_open` (gauges, set
//! here), `api_requests_total{method,route,status}` and `api_request_duration_seconds`
//! (recorded here). Histograms are rendered as Prometheus histograms with [`BUCKETS`] (in
//! seconds), so the daemon should record durations in seconds too.

use axum::http::StatusCode;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;
use switchyard_store::queue::{JobState, QueueCounts};

/// Histogram buckets, in seconds: from a fast loopback call to a slow partner.
pub const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process-wide Prometheus handle, installing the recorder on first call. The daemon
/// calls this at start so its own metrics land in the same registry.
pub fn metrics_handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets(BUCKETS)
            .expect("the bucket list is non-empty");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            // Someone installed another recorder first; `/metrics` still renders (only the
            // API's own figures are lost), which beats refusing to start.
            tracing::warn!("a metrics recorder was already installed; /metrics will be sparse");
        }
        handle
    })
}

pub(crate) fn record_request(method: &str, route: &str, status: StatusCode, elapsed: Duration) {
    // Make sure the recorder exists before the first figure is recorded.
    metrics_handle();
    let labels = [
        ("method", method.to_owned()),
        ("route", route.to_owned()),
        ("status", status.as_u16().to_string()),
    ];
    metrics::counter!("switchyard_api_requests_total", &labels).increment(1);
    metrics::histogram!("switchyard_api_request_duration_seconds", "route" => route.to_owned())
        .record(elapsed.as_secs_f64());
}

/// Set the queue gauges from a fresh count.
pub(crate) fn record_queue(counts: &QueueCounts) {
    metrics_handle();
    // Every state, so a state that emptied out reads 0 rather than its last count.
    for state in [
        JobState::Pending,
        JobState::Running,
        JobState::Succeeded,
        JobState::Retrying,
        JobState::Dead,
    ] {
        let n = counts
            .by_state
            .iter()
            .find(|(s, _)| *s == state)
            .map_or(0, |(_, n)| *n);
        metrics::gauge!("switchyard_jobs", "state" => state.as_str()).set(n as f64);
    }
    metrics::gauge!("switchyard_dead_letters_open").set(counts.dead_letters_open as f64);
}
