//! Adapter errors carry the retry decision: the queue never has to guess from a message
//! whether trying again can help.

use std::time::Duration;

/// What the queue should do with a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorClass {
    /// Timeout, connection reset, 5xx: retry by the job's policy, and no earlier than
    /// `retry_after` when the partner said so (a 503 with `Retry-After`).
    Transient { retry_after: Option<Duration> },
    /// 429 or throttling: retry no earlier than `retry_after` when the partner said so.
    RateLimited { retry_after: Option<Duration> },
    /// Bad or expired credentials: retrying will not help until someone fixes the config.
    Auth,
    /// Validation, mapping, other 4xx: straight to the dead-letter queue.
    Permanent,
    /// Not attempted: the handler chose not to run now (an outbound webhook endpoint at its
    /// concurrency or rate limit). The job goes back to the queue to run after `after`, the
    /// attempt is not counted and no error is recorded, so waiting never uses up retries and
    /// never holds a worker slot.
    Deferred { after: Duration },
}

impl ErrorClass {
    /// Whether the queue may retry automatically.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ErrorClass::Transient { .. }
                | ErrorClass::RateLimited { .. }
                | ErrorClass::Deferred { .. }
        )
    }

    /// A transient failure without a partner-given delay.
    pub const fn transient() -> Self {
        ErrorClass::Transient { retry_after: None }
    }

    /// The partner's `Retry-After`, when it gave one: a floor on the retry delay.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ErrorClass::Transient { retry_after } | ErrorClass::RateLimited { retry_after } => {
                *retry_after
            }
            ErrorClass::Deferred { after } => Some(*after),
            ErrorClass::Auth | ErrorClass::Permanent => None,
        }
    }

    /// Stable name stored with each attempt's error.
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorClass::Transient { .. } => "transient",
            ErrorClass::RateLimited { .. } => "rate_limited",
            ErrorClass::Auth => "auth",
            ErrorClass::Permanent => "permanent",
            ErrorClass::Deferred { .. } => "deferred",
        }
    }
}

/// An adapter failure with its class and a message meant for an operator.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{class_name}: {message}", class_name = .class.as_str())]
pub struct AdapterError {
    pub class: ErrorClass,
    pub message: String,
    /// HTTP status from the partner, when there was one.
    pub status: Option<u16>,
}

impl AdapterError {
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            class: ErrorClass::transient(),
            message: message.into(),
            status: None,
        }
    }
    pub fn rate_limited(retry_after: Option<Duration>, message: impl Into<String>) -> Self {
        Self {
            class: ErrorClass::RateLimited { retry_after },
            message: message.into(),
            status: Some(429),
        }
    }
    pub fn auth(message: impl Into<String>) -> Self {
        Self {
            class: ErrorClass::Auth,
            message: message.into(),
            status: None,
        }
    }
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            class: ErrorClass::Permanent,
            message: message.into(),
            status: None,
        }
    }
    /// Not attempted now: run again after `after` without counting this attempt.
    pub fn deferred(after: Duration, message: impl Into<String>) -> Self {
        Self {
            class: ErrorClass::Deferred { after },
            message: message.into(),
            status: None,
        }
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// Classify an HTTP response status the way every HTTP adapter should:
    /// 408/425/5xx transient, 429 rate-limited, 401/403 auth, other 4xx permanent.
    /// `retry_after` (the response's `Retry-After`) is kept on every retryable status: RFC 9110
    /// §10.2.3 defines it for 503 and 3xx as well as 429, and partners send it on 502/504 too.
    pub fn from_http_status(
        status: u16,
        retry_after: Option<Duration>,
        message: impl Into<String>,
    ) -> Self {
        let class = match status {
            429 => ErrorClass::RateLimited { retry_after },
            401 | 403 => ErrorClass::Auth,
            408 | 425 | 500..=599 => ErrorClass::Transient { retry_after },
            _ => ErrorClass::Permanent,
        };
        Self {
            class,
            message: message.into(),
            status: Some(status),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_statuses_map_to_retry_decisions() {
        assert_eq!(
            AdapterError::from_http_status(503, None, "x").class,
            ErrorClass::transient()
        );
        for status in [502, 503, 504] {
            let class =
                AdapterError::from_http_status(status, Some(Duration::from_secs(30)), "x").class;
            assert_eq!(
                class.retry_after(),
                Some(Duration::from_secs(30)),
                "{status}"
            );
            assert!(class.is_retryable());
        }
        // A Retry-After on a permanent answer changes nothing: it is not retried at all.
        assert_eq!(
            AdapterError::from_http_status(400, Some(Duration::from_secs(30)), "x")
                .class
                .retry_after(),
            None
        );
        assert_eq!(
            AdapterError::from_http_status(429, Some(Duration::from_secs(7)), "x").class,
            ErrorClass::RateLimited {
                retry_after: Some(Duration::from_secs(7))
            }
        );
        assert_eq!(
            AdapterError::from_http_status(401, None, "x").class,
            ErrorClass::Auth
        );
        assert_eq!(
            AdapterError::from_http_status(422, None, "x").class,
            ErrorClass::Permanent
        );
        assert!(!ErrorClass::Permanent.is_retryable());
        assert!(ErrorClass::transient().is_retryable());
    }

    #[test]
    fn display_names_the_class() {
        let e = AdapterError::permanent("sku missing");
        assert_eq!(e.to_string(), "permanent: sku missing");
    }
}
