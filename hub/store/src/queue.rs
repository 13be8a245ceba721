//! The job queue: Switchyard's own table and SQL (see docs/ARCHITECTURE.md for why not
//! apalis-postgres).
//!
//! Life of a job:
//!
//! ```text
//! pending ──claim──▶ running ──ack──▶ succeeded
//!    ▲                  │
//!    │ run_at reached   │ fail (retryable, attempts left)
//!    └──── retrying ◀───┤
//!                       │ fail (permanent, or attempts exhausted)
//!                       ▼
//!                      dead ──replay──▶ a new pending job linked to the dead letter
//! ```
//!
//! * Claims are batched (`FOR UPDATE SKIP LOCKED`), so several workers and several
//!   processes share the table without ever running one job twice at once.
//! * A claimed job carries a lease; [`Queue::renew_leases`] extends it while the worker lives
//!   and [`Queue::rescue_expired`] hands expired leases (a killed worker) back to the queue.
//! * Times come from the injected [`Clock`](switchyard_core::clock::Clock), never from the
//!   database's `now()`, so retry timing is testable without sleeping.
//!
//! This module is the public face of the queue; the code lives in four crate-private
//! modules, none of which imports this one:
//!
//! * `jobs` — [`Queue`] and the job side: enqueue, claim, leases, acks, admin retries,
//!   [`notify`].
//! * `dead_letters` — [`Queue::fail`], [`Queue::bury`], [`Queue::rescue_expired`] (the
//!   paths that move jobs into dead letters), and dead-letter listing, deletion, retention.
//! * `replays` — [`Queue::replay_dead_letters`]: the partner sees the original document's key
//!   on every replay, a replayed dead letter needs `force` to be replayed again, and a request's
//!   `Idempotency-Key` makes a client's retry return the first answer.
//! * `retry` — [`RetryPolicy`] and [`RetrySpec`].
//!
//! Dependencies run one way: `replays` → `dead_letters` → `jobs` → `retry`.

pub use crate::dead_letters::{DeadLetterRow, DeadLetterState, FailOutcome, Failure};
pub use crate::jobs::{
    notify, ClaimedJob, Enqueued, JobRow, JobState, NewJob, Queue, QueueCounts, NOTIFY_CHANNEL,
};
pub use crate::replays::{Replay, Replayed};
pub use crate::retry::{RetryPolicy, RetrySpec};
