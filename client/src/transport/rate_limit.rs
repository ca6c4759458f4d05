//! Client-side throttling: a token bucket in front of every request (client-go's
//! `QPS`/`Burst`), built on governor's GCRA.
//!
//! The limiter reads time from tokio's clock, so tests that pause time
//! (`tokio::time::pause`) see it advance with the runtime rather than the wall.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

/// How many requests per second a client may send, and how many it may send at once
/// after being idle.
///
/// client-go defaults to 5 QPS with a burst of 10. That throttles a controller as soon
/// as it starts a few informers (each a list and a watch) and writes status for more
/// than a handful of objects, and raising it is the first thing controller authors do.
/// kubeforge defaults to [`RateLimit::DEFAULT`], 50 QPS with bursts of 100: start-up and
/// resync bursts go through unthrottled, while one runaway reconcile loop still cannot
/// send more than 50 requests a second for the server's API Priority and Fairness to
/// shed. Set it per client with
/// [`ClientBuilder::rate_limit`](crate::ClientBuilder::rate_limit), or turn it off with
/// [`ClientBuilder::no_rate_limit`](crate::ClientBuilder::no_rate_limit).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    qps: f64,
    burst: NonZeroU32,
}

impl RateLimit {
    /// 50 requests per second, bursts of 100.
    pub const DEFAULT: RateLimit = RateLimit {
        qps: 50.0,
        burst: NonZeroU32::new(100).expect("100 is not zero"),
    };

    /// `qps` requests per second on average, up to `burst` at once. A `qps` that is
    /// not a positive finite number reads as the smallest rate the limiter can keep
    /// (one request per ~584 years) rather than panicking; a zero burst reads as 1.
    pub fn new(qps: f64, burst: u32) -> Self {
        RateLimit {
            qps: if qps.is_finite() && qps > 0.0 {
                qps
            } else {
                f64::MIN_POSITIVE
            },
            burst: NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN),
        }
    }

    /// Requests per second.
    pub fn qps(&self) -> f64 {
        self.qps
    }

    /// Requests that may go at once.
    pub fn burst(&self) -> u32 {
        self.burst.get()
    }

    fn quota(&self) -> Quota {
        let period = Duration::try_from_secs_f64(1.0 / self.qps).unwrap_or(Duration::MAX);
        Quota::with_period(period.max(Duration::from_nanos(1)))
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MAX))
            .allow_burst(self.burst)
    }
}

impl Default for RateLimit {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// governor's clock, read from tokio's (pausable) clock.
#[derive(Debug, Clone, Copy, Default)]
struct TokioClock;

impl Clock for TokioClock {
    type Instant = std::time::Instant;

    fn now(&self) -> Self::Instant {
        tokio::time::Instant::now().into_std()
    }
}

/// A token bucket shared by every request of one client.
#[derive(Debug)]
pub(crate) struct Limiter {
    bucket: RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<std::time::Instant>>,
}

/// Waits longer than this are logged (client-go logs from 50 ms at a high verbosity).
const LOG_WAIT: Duration = Duration::from_millis(50);

impl Limiter {
    pub(crate) fn new(limit: RateLimit) -> Self {
        Limiter {
            bucket: RateLimiter::direct_with_clock(limit.quota(), TokioClock),
        }
    }

    /// Waits until the bucket has a token and takes it.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a token is taken only when this returns, so dropping the future
    /// while it waits costs nothing.
    pub(crate) async fn acquire(&self) {
        let started = tokio::time::Instant::now();
        loop {
            match self.bucket.check() {
                Ok(()) => break,
                Err(not_until) => {
                    let wait = not_until.wait_time_from(TokioClock.now());
                    tokio::time::sleep(wait.max(Duration::from_micros(100))).await;
                }
            }
        }
        let waited = started.elapsed();
        if waited >= LOG_WAIT {
            tracing::debug!(
                waited_ms = waited.as_millis() as u64,
                "waited before sending request: client-side throttling"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// With paused time, the bucket lets `burst` requests through at once and then
    /// one per period, whatever the number of waiters.
    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_bucket_lets_the_burst_through_then_one_per_period() {
        let limiter = Arc::new(Limiter::new(RateLimit::new(2.0, 3)));
        let done = Arc::new(AtomicUsize::new(0));
        for _ in 0..10 {
            let (limiter, done) = (limiter.clone(), done.clone());
            tokio::spawn(async move {
                limiter.acquire().await;
                done.fetch_add(1, Ordering::SeqCst);
            });
        }
        tokio::task::yield_now().await;
        assert_eq!(done.load(Ordering::SeqCst), 3, "the burst goes at once");
        tokio::time::sleep(Duration::from_millis(1_010)).await;
        assert_eq!(done.load(Ordering::SeqCst), 5, "then 2 per second");
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(done.load(Ordering::SeqCst), 9);
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(done.load(Ordering::SeqCst), 10);
    }

    #[test]
    fn nonsense_rates_are_clamped_not_panicking() {
        for (qps, burst) in [(0.0, 0), (-1.0, 5), (f64::NAN, 1), (f64::INFINITY, 1)] {
            let limit = RateLimit::new(qps, burst);
            assert!(limit.qps() > 0.0);
            assert!(limit.burst() >= 1);
            let _ = limit.quota();
        }
        assert_eq!(RateLimit::default(), RateLimit::new(50.0, 100));
    }
}
