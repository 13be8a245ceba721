//! Retry policies: how long a failed job waits before its next attempt, and how many attempts
//! it gets. Resolved per job kind and partner at enqueue time and stored with the job.

use crate::db::StoreError;
use chrono::Duration;
use serde::{Deserialize, Serialize};

/// How a failed job is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryPolicy {
    /// Retries 5 s apart (3 tries by default).
    Immediate,
    /// 5 s, 30 s, 5 min, 30 min, 2 h (the MonoPilot schedule), then dead.
    Exponential,
    /// No automatic retry: the job waits in the retry queue for an admin.
    Manual,
}

impl RetryPolicy {
    pub const ALL: [RetryPolicy; 3] = [
        RetryPolicy::Immediate,
        RetryPolicy::Exponential,
        RetryPolicy::Manual,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RetryPolicy::Immediate => "immediate",
            RetryPolicy::Exponential => "exponential",
            RetryPolicy::Manual => "manual",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "immediate" => Some(RetryPolicy::Immediate),
            "exponential" => Some(RetryPolicy::Exponential),
            "manual" => Some(RetryPolicy::Manual),
            _ => None,
        }
    }

    /// The wait before retry number `retry` (1 = the first retry), or None for "held until
    /// an admin acts".
    pub fn delay(self, retry: i32) -> Option<Duration> {
        const EXPONENTIAL: [i64; 5] = [5, 30, 5 * 60, 30 * 60, 2 * 60 * 60];
        match self {
            RetryPolicy::Immediate => Some(Duration::seconds(5)),
            RetryPolicy::Exponential => {
                let i = (retry.max(1) as usize - 1).min(EXPONENTIAL.len() - 1);
                Some(Duration::seconds(EXPONENTIAL[i]))
            }
            RetryPolicy::Manual => None,
        }
    }

    /// Attempts (first try included) the policy allows by default.
    pub fn default_max_attempts(self) -> i32 {
        match self {
            RetryPolicy::Immediate => 3,
            RetryPolicy::Exponential => 6,
            RetryPolicy::Manual => 1,
        }
    }
}

/// The `retry_policy` text column, as read by `#[derive(sqlx::FromRow)]`.
impl TryFrom<String> for RetryPolicy {
    type Error = StoreError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s).ok_or_else(|| StoreError::Invalid(format!("retry policy `{s}`")))
    }
}

/// A policy with its attempt limit, resolved per job kind and partner at enqueue time and
/// stored with the job, so a config change never alters jobs already queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetrySpec {
    pub policy: RetryPolicy,
    pub max_attempts: i32,
}

impl RetrySpec {
    pub fn of(policy: RetryPolicy) -> Self {
        Self {
            policy,
            max_attempts: policy.default_max_attempts(),
        }
    }
}

impl Default for RetrySpec {
    fn default() -> Self {
        Self::of(RetryPolicy::Exponential)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_schedule_is_the_monopilot_one() {
        let p = RetryPolicy::Exponential;
        let secs: Vec<i64> = (1..=6).map(|r| p.delay(r).unwrap().num_seconds()).collect();
        assert_eq!(secs, vec![5, 30, 300, 1800, 7200, 7200]);
        assert_eq!(p.default_max_attempts(), 6);
    }

    #[test]
    fn immediate_and_manual_policies() {
        assert_eq!(RetryPolicy::Immediate.delay(1), Some(Duration::seconds(5)));
        assert_eq!(RetryPolicy::Immediate.default_max_attempts(), 3);
        assert_eq!(RetryPolicy::Manual.delay(1), None);
    }

    #[test]
    fn policies_read_from_their_column_text() {
        for p in [
            RetryPolicy::Immediate,
            RetryPolicy::Exponential,
            RetryPolicy::Manual,
        ] {
            assert_eq!(RetryPolicy::try_from(p.as_str().to_owned()).unwrap(), p);
        }
        let err = RetryPolicy::try_from("bogus".to_owned()).unwrap_err();
        assert_eq!(err.to_string(), "invalid: retry policy `bogus`");
    }
}
