//! Long-lived tasks that must not end while the process runs (the worker's heartbeat and
//! LISTEN loop; the daemon's worker, scheduler and API server). A task that ends anyway,
//! returning or panicking, is reported by name, so its owner can stop the process loudly
//! instead of running on without it.

use futures::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use tokio::task::JoinSet;

/// How a supervised task ended.
#[derive(Debug)]
pub struct Exit {
    pub task: &'static str,
    /// `Err` with the error or the panic's message.
    pub outcome: Result<(), String>,
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.outcome {
            Ok(()) => write!(f, "the {} task ended", self.task),
            Err(e) => write!(f, "the {} task failed: {e}", self.task),
        }
    }
}

/// A set of named tasks.
#[derive(Default)]
pub struct Supervised {
    set: JoinSet<Exit>,
}

impl Supervised {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn spawn<F>(&mut self, task: &'static str, future: F)
    where
        F: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.set.spawn(async move {
            // Caught here rather than read from the JoinError, so the exit carries the name.
            let outcome = match AssertUnwindSafe(future).catch_unwind().await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(format!("{e:#}")),
                Err(panic) => Err(panic_message(panic.as_ref())),
            };
            Exit { task, outcome }
        });
    }

    /// The next task to end. Never resolves while none is running, so it can sit in a
    /// `select!` beside the shutdown signal.
    pub async fn next_exit(&mut self) -> Exit {
        loop {
            match self.set.join_next().await {
                Some(Ok(exit)) => return exit,
                // Aborted by `abort_all`: not an exit anyone needs to hear about.
                Some(Err(_)) => continue,
                None => std::future::pending::<()>().await,
            }
        }
    }

    /// Wait for every task to end (after shutdown was requested); how each ended.
    pub async fn join_all(&mut self) -> Vec<Exit> {
        let mut exits = Vec::new();
        while let Some(joined) = self.set.join_next().await {
            if let Ok(exit) = joined {
                exits.push(exit);
            }
        }
        exits
    }

    /// Stop every task (its owner is done with them).
    pub fn abort_all(&mut self) {
        self.set.abort_all();
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-text payload".to_owned());
    format!("panicked: {text}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn names_the_task_that_ended_and_how() {
        let mut tasks = Supervised::new();
        tasks.spawn("forever", std::future::pending());
        tasks.spawn("panics", async { panic!("lost the plot") });
        let exit = tasks.next_exit().await;
        assert_eq!(exit.task, "panics");
        assert_eq!(exit.outcome, Err("panicked: lost the plot".to_owned()));
        assert_eq!(
            exit.to_string(),
            "the panics task failed: panicked: lost the plot"
        );

        tasks.spawn("fails", async { anyhow::bail!("database gone") });
        let exit = tasks.next_exit().await;
        assert_eq!(
            (exit.task, exit.outcome),
            ("fails", Err("database gone".into()))
        );

        tasks.spawn("returns", async { Ok(()) });
        assert_eq!(
            tasks.next_exit().await.to_string(),
            "the returns task ended"
        );

        // Only `forever` is left: no exit to report, now or after it is aborted.
        assert!(tasks.next_exit().now_or_never().is_none());
        tasks.abort_all();
        assert!(tasks.join_all().await.is_empty());
        assert!(tasks.next_exit().now_or_never().is_none());
    }
}
