//! Group commit for concurrent handlers: many tasks each ask for one database operation, and
//! one task runs them as one statement, taking whatever has queued up meanwhile.
//!
//! There is no timer: a request that finds the batcher idle runs at once (a batch of one, so
//! latency at a low rate is one round trip), and requests arriving while a batch is in flight
//! form the next one. Under load the batch size follows the concurrency by itself. Callers
//! wait for their own answer, so whatever they do next (a job's completion, say) happens only
//! after their part of the batch is committed.
//!
//! Written here rather than taken from a crate: the few that exist (batched-fn, tokio-batch)
//! either add a fixed delay to fill a batch or do not hand each caller its own result, and
//! this is forty lines over a tokio channel.

use std::future::Future;
use std::sync::OnceLock;
use tokio::sync::{mpsc, oneshot};

type Request<Q, A> = (Q, oneshot::Sender<Result<A, String>>);

/// Runs `Q`s in batches of up to `max` through one async function returning one `A` per `Q`
/// (in order), or one error for the whole batch (every caller gets it). `C` is what the
/// function needs besides the batch (a pool), handed over by the first call.
pub struct Batcher<C, Q, A> {
    max: usize,
    run: std::sync::Arc<dyn Fn(C, Vec<Q>) -> BoxFuture<A> + Send + Sync>,
    // Started on first use, inside the caller's runtime (the handler is built before it).
    queue: OnceLock<mpsc::UnboundedSender<Request<Q, A>>>,
}

type BoxFuture<A> = std::pin::Pin<Box<dyn Future<Output = Result<Vec<A>, String>> + Send>>;

impl<C: Clone + Send + 'static, Q: Send + 'static, A: Send + 'static> Batcher<C, Q, A> {
    pub fn new<F, Fut>(max: usize, run: F) -> Self
    where
        F: Fn(C, Vec<Q>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<A>, String>> + Send + 'static,
    {
        Self {
            max: max.max(1),
            run: std::sync::Arc::new(move |cx, batch| Box::pin(run(cx, batch))),
            queue: OnceLock::new(),
        }
    }

    /// Queue `q` and wait for its answer; the first call's `cx` serves every batch.
    pub async fn call(&self, cx: &C, q: Q) -> Result<A, String> {
        let (tx, rx) = oneshot::channel();
        let queue = self.queue.get_or_init(|| self.start(cx.clone()));
        queue
            .send((q, tx))
            .map_err(|_| "the batch task has stopped".to_owned())?;
        rx.await
            .map_err(|_| "the batch task dropped the request".to_owned())?
    }

    fn start(&self, cx: C) -> mpsc::UnboundedSender<Request<Q, A>> {
        let (tx, mut rx) = mpsc::unbounded_channel::<Request<Q, A>>();
        let run = self.run.clone();
        let max = self.max;
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(max);
            // Ends when every sender (the batcher) is gone.
            while rx.recv_many(&mut batch, max).await > 0 {
                let (qs, answers): (Vec<Q>, Vec<_>) = batch.drain(..).unzip();
                let n = qs.len();
                match run(cx.clone(), qs).await {
                    Ok(results) if results.len() == n => {
                        for (answer, result) in answers.into_iter().zip(results) {
                            let _ = answer.send(Ok(result));
                        }
                    }
                    Ok(results) => {
                        let e = format!("a batch of {n} gave {} answers", results.len());
                        for answer in answers {
                            let _ = answer.send(Err(e.clone()));
                        }
                    }
                    Err(e) => {
                        for answer in answers {
                            let _ = answer.send(Err(e.clone()));
                        }
                    }
                }
            }
        });
        tx
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[tokio::test]
    async fn concurrent_calls_share_batches_and_each_gets_its_own_answer() {
        let batches = Arc::new(AtomicUsize::new(0));
        let counted = batches.clone();
        let b = Arc::new(Batcher::new(64, move |(): (), qs: Vec<u32>| {
            counted.fetch_add(1, Ordering::SeqCst);
            async move {
                // Hold the batch open so that the other callers queue up behind it.
                tokio::task::yield_now().await;
                Ok(qs.into_iter().map(|q| q * 2).collect())
            }
        }));
        let calls: Vec<_> = (0..200u32)
            .map(|i| {
                let b = b.clone();
                tokio::spawn(async move { (i, b.call(&(), i).await) })
            })
            .collect();
        for c in calls {
            let (i, got) = c.await.unwrap();
            assert_eq!(got, Ok(i * 2));
        }
        let n = batches.load(Ordering::SeqCst);
        assert!(
            (4..200).contains(&n),
            "{n} batches for 200 calls of at most 64"
        );
    }

    #[tokio::test]
    async fn a_failed_batch_fails_each_of_its_callers() {
        let b = Batcher::new(8, |(): (), _: Vec<u32>| async {
            Err::<Vec<u32>, _>("db down".into())
        });
        assert_eq!(b.call(&(), 1).await, Err("db down".to_owned()));
        let short = Batcher::new(8, |(): (), _: Vec<u32>| async { Ok(Vec::<u32>::new()) });
        assert!(short.call(&(), 1).await.unwrap_err().contains("0 answers"));
    }
}
