//! When a failed request is sent again, and after how long.
//!
//! client-go retries a 429 or any 5xx that carries `Retry-After` (the server saying
//! it did not process the request), and for GETs also a broken connection. We do the
//! same and add what controllers hit in practice: a 502/503/504 without `Retry-After`
//! (a load balancer or an apiserver restarting) for idempotent verbs, with exponential
//! backoff and jitter so that many clients do not come back in step.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use http::Method;

/// How a client retries failed requests.
///
/// The default ([`RetryPolicy::default`]) retries up to 5 times, backing off from
/// 100 ms doubling up to 5 s, and honours `Retry-After` up to 30 s:
///
/// | failure | retried for |
/// | --- | --- |
/// | 429 TooManyRequests | every verb, after `Retry-After` (else backoff) |
/// | 5xx with `Retry-After` | every verb, after `Retry-After` |
/// | 502, 503, 504 without `Retry-After` | idempotent verbs (GET, HEAD, OPTIONS, PUT, DELETE) |
/// | connection refused (nothing was sent) | every verb |
/// | connection reset or lost mid-request | idempotent verbs |
///
/// A write (POST, PATCH) that may have reached the server is never sent twice.
/// Watches are retried only until their response starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_retries: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

/// What happened to one attempt, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attempt {
    /// The server answered with this code.
    Answered {
        code: u16,
        retry_after: Option<Duration>,
    },
    /// No connection could be made: the request was not sent.
    NotSent,
    /// The connection failed after the request may have been sent.
    Broken,
}

fn idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::PUT | Method::DELETE
    )
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// Retries at most `n` times per request.
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// Backoff starts at `initial` and doubles up to `max` (each wait is jittered
    /// down to half of it).
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// The longest `Retry-After` honoured; longer asks are cut to this.
    pub fn max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }

    /// The wait before retry number `retry` (0-based) of a request, or `None` when
    /// the request must not be retried.
    pub(crate) fn delay(&self, method: &Method, attempt: Attempt, retry: u32) -> Option<Duration> {
        if retry >= self.max_retries {
            return None;
        }
        let backoff = || self.backoff_for(retry);
        match attempt {
            Attempt::Answered {
                code: 429,
                retry_after,
            } => Some(retry_after.map_or_else(backoff, |d| d.min(self.max_retry_after))),
            Attempt::Answered {
                code: 500..=599,
                retry_after: Some(d),
            } => Some(d.min(self.max_retry_after)),
            Attempt::Answered {
                code: 502..=504,
                retry_after: None,
            } if idempotent(method) => Some(backoff()),
            Attempt::NotSent => Some(backoff()),
            Attempt::Broken if idempotent(method) => Some(backoff()),
            _ => None,
        }
    }

    fn backoff_for(&self, retry: u32) -> Duration {
        let full = self
            .initial_backoff
            .saturating_mul(1u32.checked_shl(retry).unwrap_or(u32::MAX))
            .min(self.max_backoff);
        // Jitter in [full/2, full]: a fresh `RandomState` is a cheap source of
        // randomness that needs no dependency.
        let r = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        let frac = (r >> 11) as f64 / (1u64 << 53) as f64;
        full.mul_f64(0.5 + frac / 2.0)
    }
}

/// Parses `Retry-After` as delta-seconds (what kube-apiserver sends). HTTP dates are
/// not used by Kubernetes servers and read as absent.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(code: u16, retry_after: Option<u64>) -> Attempt {
        Attempt::Answered {
            code,
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    #[test]
    fn which_failures_are_retried() {
        let p = RetryPolicy::default();
        let cases: &[(Method, Attempt, bool)] = &[
            // 429: every verb
            (Method::POST, answered(429, None), true),
            (Method::GET, answered(429, Some(1)), true),
            // 5xx with Retry-After: every verb
            (Method::POST, answered(500, Some(1)), true),
            // 503 without Retry-After: idempotent verbs only
            (Method::GET, answered(503, None), true),
            (Method::PUT, answered(504, None), true),
            (Method::POST, answered(503, None), false),
            (Method::PATCH, answered(502, None), false),
            // 500 without Retry-After is a server bug, not a transient failure
            (Method::GET, answered(500, None), false),
            // client errors are never retried
            (Method::GET, answered(404, None), false),
            (Method::GET, answered(409, None), false),
            // connection failures
            (Method::POST, Attempt::NotSent, true),
            (Method::GET, Attempt::Broken, true),
            (Method::POST, Attempt::Broken, false),
        ];
        for (method, attempt, retried) in cases {
            assert_eq!(
                p.delay(method, *attempt, 0).is_some(),
                *retried,
                "{method} {attempt:?}"
            );
        }
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_cap() {
        let p = RetryPolicy::default().max_retry_after(Duration::from_secs(10));
        assert_eq!(
            p.delay(&Method::GET, answered(429, Some(3)), 0),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            p.delay(&Method::GET, answered(429, Some(300)), 0),
            Some(Duration::from_secs(10))
        );
    }

    #[test]
    fn backoff_doubles_within_jitter_and_stops_at_the_limit() {
        let p = RetryPolicy::default()
            .backoff(Duration::from_millis(100), Duration::from_millis(800))
            .max_retries(6);
        for (retry, full_ms) in [(0, 100), (1, 200), (2, 400), (3, 800), (4, 800)] {
            let d = p
                .delay(&Method::GET, Attempt::NotSent, retry)
                .expect("retried");
            let full = Duration::from_millis(full_ms);
            assert!(d <= full && d >= full / 2, "retry {retry}: {d:?}");
        }
        assert_eq!(p.delay(&Method::GET, Attempt::NotSent, 6), None);
        assert_eq!(
            RetryPolicy::none().delay(&Method::GET, answered(429, None), 0),
            None
        );
    }

    #[test]
    fn retry_after_parses_seconds_only() {
        assert_eq!(parse_retry_after(" 7"), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
