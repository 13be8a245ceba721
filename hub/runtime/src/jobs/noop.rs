//! `noop`: does nothing; the queue benchmark measures the queue itself with it.

use crate::context::JobContext;
use crate::job::{JobHandler, JobKindSpec};
use async_trait::async_trait;
use switchyard_core::error::AdapterError;
use switchyard_store::queue::ClaimedJob;

pub const KIND: &str = "noop";

struct Noop;

#[async_trait]
impl JobHandler for Noop {
    async fn run(&self, _ctx: &JobContext, _job: &ClaimedJob) -> Result<(), AdapterError> {
        Ok(())
    }
}

pub fn spec() -> JobKindSpec {
    JobKindSpec::raw(KIND, Noop)
}
