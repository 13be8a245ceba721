//! The pause between attempts of a database write that failed: doubling from 50 ms to at most
//! a second, so a long outage costs one attempt a second (each also waits the pool's acquire
//! timeout) and the first attempt after the database returns comes within a second.
//!
//! Written here rather than taken from backon or tokio-retry: those wrap a closure in their
//! own retry loop, and the completer and the log writer must keep taking in new work while
//! they wait; the delay itself is the few lines below.

use std::time::Duration;

const FIRST: Duration = Duration::from_millis(50);
const MAX: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { next: FIRST }
    }
}

impl Backoff {
    /// The pause before the next attempt; each call doubles the one after, up to the cap.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(MAX);
        delay
    }

    /// An attempt worked: the next failure starts from the shortest pause again.
    pub fn reset(&mut self) {
        self.next = FIRST;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_a_second_and_starts_over_after_a_success() {
        let mut b = Backoff::default();
        let delays: Vec<u128> = (0..7).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(delays, [50, 100, 200, 400, 800, 1000, 1000]);
        b.reset();
        assert_eq!(b.next_delay(), FIRST);
    }
}
