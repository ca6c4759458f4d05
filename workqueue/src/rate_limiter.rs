//! Rate limiters: how long a failed item waits before its retry.
//!
//! The limiters and defaults of client-go's `default_rate_limiters.go`, plus
//! [`ItemBackoffRateLimiter`], which measures backoff in time rather than in
//! attempts (kubernetes/kubernetes#132805).

use std::fmt;
use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, FakeRelativeClock};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter as Gcra};
use parking_lot::Mutex;
use tokio::time::Instant;

use crate::state::ItemHasher;

/// Per-item limiter state, hashed like the queue's own bookkeeping.
type Map<K, V> = std::collections::HashMap<K, V, ItemHasher>;

/// Decides how long an item waits before it is retried; client-go's
/// `TypedRateLimiter`.
///
/// [`RateLimitingQueue::add_rate_limited`](crate::RateLimitingQueue::add_rate_limited)
/// calls [`when`](RateLimiter::when) once per failure.
/// Implement it to bring your own policy.
pub trait RateLimiter<T>: Send + Sync {
    /// How long `item` should wait before it is retried. Records the failure:
    /// per-item limiters count it, token buckets take a token.
    fn when(&self, item: &T) -> Duration;

    /// Stops tracking `item`: it succeeded (or was given up on), so its next
    /// failure starts from the first delay again. Call it for every item that
    /// was rate limited, or its history is kept forever.
    fn forget(&self, item: &T);

    /// How many failures are recorded for `item`.
    fn num_requeues(&self, item: &T) -> u32;
}

impl<T, R: RateLimiter<T> + ?Sized> RateLimiter<T> for Box<R> {
    fn when(&self, item: &T) -> Duration {
        (**self).when(item)
    }

    fn forget(&self, item: &T) {
        (**self).forget(item);
    }

    fn num_requeues(&self, item: &T) -> u32 {
        (**self).num_requeues(item)
    }
}

impl<T, R: RateLimiter<T> + ?Sized> RateLimiter<T> for Arc<R> {
    fn when(&self, item: &T) -> Duration {
        (**self).when(item)
    }

    fn forget(&self, item: &T) {
        (**self).forget(item);
    }

    fn num_requeues(&self, item: &T) -> u32 {
        (**self).num_requeues(item)
    }
}

/// `base * 2^exponent`, or `max` if that is larger or does not fit; never
/// overflows, whatever the exponent.
fn exponential(base: Duration, exponent: u32, max: Duration) -> Duration {
    let scaled = 1u128
        .checked_shl(exponent)
        .and_then(|factor| base.as_nanos().checked_mul(factor));
    match scaled {
        Some(nanos) if nanos <= max.as_nanos() => duration_from_nanos(nanos),
        _ => max,
    }
}

/// A `Duration` from a nanosecond count known to fit one (it is at most some
/// other `Duration`'s).
fn duration_from_nanos(nanos: u128) -> Duration {
    const NANOS_PER_SEC: u128 = 1_000_000_000;
    let secs = u64::try_from(nanos / NANOS_PER_SEC).unwrap_or(u64::MAX);
    // The remainder is below one billion, so it fits a u32.
    let subsec = (nanos % NANOS_PER_SEC) as u32;
    Duration::new(secs, subsec)
}

/// Per-item exponential backoff: `base * 2^failures`, capped at `max`;
/// client-go's `ItemExponentialFailureRateLimiter`.
///
/// Every call to [`when`](RateLimiter::when) counts a failure, including the
/// failures of runs that an event triggered before the previous backoff
/// elapsed; see [`ItemBackoffRateLimiter`] for a limiter that does not.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use kubeforge_workqueue::{ItemExponentialFailureRateLimiter, RateLimiter};
///
/// let limiter =
///     ItemExponentialFailureRateLimiter::new(Duration::from_millis(5), Duration::from_secs(1000));
/// assert_eq!(limiter.when(&"a"), Duration::from_millis(5));
/// assert_eq!(limiter.when(&"a"), Duration::from_millis(10));
/// assert_eq!(limiter.when(&"b"), Duration::from_millis(5));
/// limiter.forget(&"a");
/// assert_eq!(limiter.when(&"a"), Duration::from_millis(5));
/// ```
pub struct ItemExponentialFailureRateLimiter<T> {
    base: Duration,
    max: Duration,
    /// Failures per item since it was last forgotten.
    failures: Mutex<Map<T, u32>>,
}

impl<T: Eq + Hash> ItemExponentialFailureRateLimiter<T> {
    /// Delays of `base`, `2 * base`, `4 * base`, … up to `max`.
    pub fn new(base: Duration, max: Duration) -> Self {
        Self {
            base,
            max,
            failures: Mutex::new(Map::default()),
        }
    }
}

impl<T> fmt::Debug for ItemExponentialFailureRateLimiter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ItemExponentialFailureRateLimiter")
            .field("base", &self.base)
            .field("max", &self.max)
            .finish_non_exhaustive()
    }
}

impl<T: Clone + Eq + Hash + Send + Sync> RateLimiter<T> for ItemExponentialFailureRateLimiter<T> {
    fn when(&self, item: &T) -> Duration {
        let exponent = {
            let mut failures = self.failures.lock();
            let count = failures.entry(item.clone()).or_insert(0);
            let exponent = *count;
            *count = count.saturating_add(1);
            exponent
        };
        exponential(self.base, exponent, self.max)
    }

    fn forget(&self, item: &T) {
        self.failures.lock().remove(item);
    }

    fn num_requeues(&self, item: &T) -> u32 {
        self.failures.lock().get(item).copied().unwrap_or(0)
    }
}

/// Per-item backoff measured in time: a failure advances the exponent only if
/// the item's previous backoff has elapsed.
///
/// Not in client-go. With [`ItemExponentialFailureRateLimiter`], a key that
/// fails while events keep re-triggering it (a pod flapping Ready/Unready
/// while a webhook is down) climbs to the cap within seconds, because every
/// event-triggered run counts a failure before the backoff it was given has
/// passed (kubernetes/kubernetes#132805). Here such a failure returns what is
/// left of the current backoff and leaves the exponent alone; only a failure
/// after the backoff elapsed doubles it. So delays grow with the time spent
/// failing, not with the event rate. [`forget`](RateLimiter::forget) on success
/// resets the item (kube-rs/kube#1916 asks for exactly that reset).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use kubeforge_workqueue::{ItemBackoffRateLimiter, RateLimiter};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let limiter = ItemBackoffRateLimiter::new(Duration::from_millis(100), Duration::from_secs(60));
/// assert_eq!(limiter.when(&"a"), Duration::from_millis(100));
///
/// // An event re-runs "a" 30 ms later and it fails again: still one backoff.
/// tokio::time::advance(Duration::from_millis(30)).await;
/// assert_eq!(limiter.when(&"a"), Duration::from_millis(70));
/// assert_eq!(limiter.num_requeues(&"a"), 1);
///
/// // The retry after the backoff fails: now the delay doubles.
/// tokio::time::advance(Duration::from_millis(70)).await;
/// assert_eq!(limiter.when(&"a"), Duration::from_millis(200));
/// # }
/// ```
pub struct ItemBackoffRateLimiter<T> {
    base: Duration,
    max: Duration,
    /// Per item: failures counted so far and when the current backoff ends.
    items: Mutex<Map<T, Backoff>>,
}

#[derive(Debug, Clone, Copy)]
struct Backoff {
    failures: u32,
    until: Instant,
}

impl<T: Eq + Hash> ItemBackoffRateLimiter<T> {
    /// Delays of `base`, `2 * base`, `4 * base`, … up to `max`, each counted
    /// once it has elapsed.
    pub fn new(base: Duration, max: Duration) -> Self {
        Self {
            base,
            max,
            items: Mutex::new(Map::default()),
        }
    }
}

impl<T> fmt::Debug for ItemBackoffRateLimiter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ItemBackoffRateLimiter")
            .field("base", &self.base)
            .field("max", &self.max)
            .finish_non_exhaustive()
    }
}

impl<T: Clone + Eq + Hash + Send + Sync> RateLimiter<T> for ItemBackoffRateLimiter<T> {
    fn when(&self, item: &T) -> Duration {
        let now = Instant::now();
        let mut items = self.items.lock();
        match items.get_mut(item) {
            Some(backoff) if now < backoff.until => backoff.until - now,
            Some(backoff) => {
                let delay = exponential(self.base, backoff.failures, self.max);
                backoff.failures = backoff.failures.saturating_add(1);
                backoff.until = now + delay;
                delay
            }
            None => {
                let delay = exponential(self.base, 0, self.max);
                items.insert(
                    item.clone(),
                    Backoff {
                        failures: 1,
                        until: now + delay,
                    },
                );
                delay
            }
        }
    }

    fn forget(&self, item: &T) {
        self.items.lock().remove(item);
    }

    fn num_requeues(&self, item: &T) -> u32 {
        self.items.lock().get(item).map_or(0, |b| b.failures)
    }
}

/// `fast` for the first `max_fast_attempts` failures of an item, `slow`
/// after; client-go's `ItemFastSlowRateLimiter`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use kubeforge_workqueue::{ItemFastSlowRateLimiter, RateLimiter};
///
/// let limiter =
///     ItemFastSlowRateLimiter::new(Duration::from_millis(5), Duration::from_secs(10), 2);
/// assert_eq!(limiter.when(&"a"), Duration::from_millis(5));
/// assert_eq!(limiter.when(&"a"), Duration::from_millis(5));
/// assert_eq!(limiter.when(&"a"), Duration::from_secs(10));
/// ```
pub struct ItemFastSlowRateLimiter<T> {
    fast: Duration,
    slow: Duration,
    max_fast_attempts: u32,
    /// Failures per item since it was last forgotten.
    failures: Mutex<Map<T, u32>>,
}

impl<T: Eq + Hash> ItemFastSlowRateLimiter<T> {
    /// `fast` for the first `max_fast_attempts` failures, then `slow`.
    pub fn new(fast: Duration, slow: Duration, max_fast_attempts: u32) -> Self {
        Self {
            fast,
            slow,
            max_fast_attempts,
            failures: Mutex::new(Map::default()),
        }
    }
}

impl<T> fmt::Debug for ItemFastSlowRateLimiter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ItemFastSlowRateLimiter")
            .field("fast", &self.fast)
            .field("slow", &self.slow)
            .field("max_fast_attempts", &self.max_fast_attempts)
            .finish_non_exhaustive()
    }
}

impl<T: Clone + Eq + Hash + Send + Sync> RateLimiter<T> for ItemFastSlowRateLimiter<T> {
    fn when(&self, item: &T) -> Duration {
        let failures = {
            let mut map = self.failures.lock();
            let count = map.entry(item.clone()).or_insert(0);
            *count = count.saturating_add(1);
            *count
        };
        if failures <= self.max_fast_attempts {
            self.fast
        } else {
            self.slow
        }
    }

    fn forget(&self, item: &T) {
        self.failures.lock().remove(item);
    }

    fn num_requeues(&self, item: &T) -> u32 {
        self.failures.lock().get(item).copied().unwrap_or(0)
    }
}

/// A global token bucket shared by all items; client-go's
/// `BucketRateLimiter` over `rate.Limiter`.
///
/// Each [`when`](RateLimiter::when) takes a token, reserving one in the future
/// if the bucket is empty, so a burst of failures is spread out at `per_second`
/// after the first `burst`. Keeps no per-item state: `num_requeues` is always
/// zero and `forget` does nothing.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use kubeforge_workqueue::{BucketRateLimiter, RateLimiter};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let limiter = BucketRateLimiter::new(10, 2);
/// assert_eq!(limiter.when(&"a"), Duration::ZERO);
/// assert_eq!(limiter.when(&"b"), Duration::ZERO);
/// assert_eq!(limiter.when(&"c"), Duration::from_millis(100));
/// assert_eq!(limiter.when(&"d"), Duration::from_millis(200));
/// # }
/// ```
pub struct BucketRateLimiter {
    bucket: Mutex<Bucket>,
}

/// governor's GCRA limiter on a virtual clock.
///
/// governor answers "may I now?" but, unlike Go's `rate.Limiter.Reserve`,
/// cannot take a token in the future. We get the reservation by running its
/// clock ahead: the virtual clock is never behind tokio's clock, and when the
/// bucket is empty we move it to the earliest instant governor would allow
/// and take the token there. The next reservation then starts from that
/// instant, which is exactly where an empty bucket's next token comes from.
struct Bucket {
    limiter: Gcra<NotKeyed, InMemoryState, FakeRelativeClock, NoOpMiddleware<Nanos>>,
    /// governor's view of time, as time since `epoch`.
    clock: FakeRelativeClock,
    epoch: Instant,
}

impl BucketRateLimiter {
    /// A bucket refilled at `per_second` tokens a second, holding at most
    /// `burst`, initially full. Zero for either is taken as one.
    pub fn new(per_second: u32, burst: u32) -> Self {
        let per_second = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let clock = FakeRelativeClock::default();
        let quota = Quota::per_second(per_second).allow_burst(burst);
        Self {
            bucket: Mutex::new(Bucket {
                limiter: Gcra::direct_with_clock(quota, clock.clone()),
                clock,
                epoch: Instant::now(),
            }),
        }
    }

    /// Takes a token; returns how long until it is due.
    fn reserve(&self) -> Duration {
        let bucket = self.bucket.lock();
        let now = Duration::from(Nanos::from(bucket.epoch.elapsed()));
        let virtual_now = Duration::from(bucket.clock.now());
        if now > virtual_now {
            bucket.clock.advance(now - virtual_now);
        }
        // GCRA admits a request at the earliest instant it names, so this
        // loop runs at most twice; the bound only guards against a clock that
        // refuses to move.
        for _ in 0..4 {
            match bucket.limiter.check() {
                Ok(()) => break,
                Err(not_until) => {
                    let at = Duration::from(not_until.earliest_possible());
                    let virtual_now = Duration::from(bucket.clock.now());
                    bucket.clock.advance(at.saturating_sub(virtual_now));
                }
            }
        }
        Duration::from(bucket.clock.now()).saturating_sub(now)
    }
}

impl fmt::Debug for BucketRateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BucketRateLimiter").finish_non_exhaustive()
    }
}

impl<T> RateLimiter<T> for BucketRateLimiter {
    fn when(&self, _item: &T) -> Duration {
        self.reserve()
    }

    fn forget(&self, _item: &T) {}

    fn num_requeues(&self, _item: &T) -> u32 {
        0
    }
}

/// The longest delay of several limiters; client-go's `MaxOfRateLimiter`.
///
/// Every limiter's `when` is called, so a token bucket in the set takes a
/// token even when another limiter's delay wins (as in client-go, the bucket
/// may then look as if its burst was exceeded). `num_requeues` is the largest
/// count; `forget` forgets in all.
pub struct MaxOfRateLimiter<T> {
    limiters: Vec<Box<dyn RateLimiter<T>>>,
}

impl<T> MaxOfRateLimiter<T> {
    /// The maximum of `limiters`; with none, every delay is zero.
    pub fn new(limiters: Vec<Box<dyn RateLimiter<T>>>) -> Self {
        Self { limiters }
    }
}

impl<T> fmt::Debug for MaxOfRateLimiter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MaxOfRateLimiter")
            .field("limiters", &self.limiters.len())
            .finish()
    }
}

impl<T> RateLimiter<T> for MaxOfRateLimiter<T> {
    fn when(&self, item: &T) -> Duration {
        self.limiters
            .iter()
            .map(|l| l.when(item))
            .max()
            .unwrap_or(Duration::ZERO)
    }

    fn forget(&self, item: &T) {
        for limiter in &self.limiters {
            limiter.forget(item);
        }
    }

    fn num_requeues(&self, item: &T) -> u32 {
        self.limiters
            .iter()
            .map(|l| l.num_requeues(item))
            .max()
            .unwrap_or(0)
    }
}

/// Caps another limiter's delays at `max_delay`; client-go's
/// `WithMaxWaitRateLimiter`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use kubeforge_workqueue::{
///     ItemFastSlowRateLimiter, RateLimiter, WithMaxWaitRateLimiter,
/// };
///
/// let slow = ItemFastSlowRateLimiter::new(Duration::from_secs(1), Duration::from_secs(60), 0);
/// let limiter = WithMaxWaitRateLimiter::new(slow, Duration::from_secs(30));
/// assert_eq!(limiter.when(&"a"), Duration::from_secs(30));
/// ```
#[derive(Debug)]
pub struct WithMaxWaitRateLimiter<R> {
    limiter: R,
    max_delay: Duration,
}

impl<R> WithMaxWaitRateLimiter<R> {
    /// `limiter`, with every delay capped at `max_delay`.
    pub fn new(limiter: R, max_delay: Duration) -> Self {
        Self { limiter, max_delay }
    }
}

impl<T, R: RateLimiter<T>> RateLimiter<T> for WithMaxWaitRateLimiter<R> {
    fn when(&self, item: &T) -> Duration {
        self.limiter.when(item).min(self.max_delay)
    }

    fn forget(&self, item: &T) {
        self.limiter.forget(item);
    }

    fn num_requeues(&self, item: &T) -> u32 {
        self.limiter.num_requeues(item)
    }
}

/// client-go's `DefaultControllerRateLimiter`: the maximum of per-item
/// exponential backoff (5 ms doubling up to 1000 s) and a global token bucket
/// (10 per second, burst 100).
///
/// The bucket only bounds the overall retry rate; the per-item backoff does
/// the real work.
pub fn default_controller_rate_limiter<T: Clone + Eq + Hash + Send + Sync + 'static>()
-> MaxOfRateLimiter<T> {
    MaxOfRateLimiter::new(vec![
        Box::new(ItemExponentialFailureRateLimiter::new(
            Duration::from_millis(5),
            Duration::from_secs(1000),
        )),
        Box::new(BucketRateLimiter::new(10, 100)),
    ])
}

/// client-go's `DefaultItemBasedRateLimiter`: per-item exponential backoff
/// from 1 ms up to 1000 s.
pub fn default_item_based_rate_limiter<T: Clone + Eq + Hash + Send + Sync>()
-> ItemExponentialFailureRateLimiter<T> {
    ItemExponentialFailureRateLimiter::new(Duration::from_millis(1), Duration::from_secs(1000))
}

/// [`default_controller_rate_limiter`] with its per-item part replaced by
/// [`ItemBackoffRateLimiter`] (same 5 ms to 1000 s): failures of runs that
/// events trigger during a backoff no longer inflate the exponent.
pub fn backoff_controller_rate_limiter<T: Clone + Eq + Hash + Send + Sync + 'static>()
-> MaxOfRateLimiter<T> {
    MaxOfRateLimiter::new(vec![
        Box::new(ItemBackoffRateLimiter::new(
            Duration::from_millis(5),
            Duration::from_secs(1000),
        )),
        Box::new(BucketRateLimiter::new(10, 100)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    /// The delays of `n` consecutive failures of one item.
    fn failures(limiter: &dyn RateLimiter<&'static str>, n: usize) -> Vec<Duration> {
        (0..n).map(|_| limiter.when(&"key")).collect()
    }

    #[test]
    fn exponential_limiter_starts_at_five_ms_and_doubles() {
        let limiter = ItemExponentialFailureRateLimiter::new(5 * MS, Duration::from_secs(1000));
        assert_eq!(
            failures(&limiter, 4),
            vec![5 * MS, 10 * MS, 20 * MS, 40 * MS]
        );
        assert_eq!(limiter.num_requeues(&"key"), 4);
    }

    #[test]
    fn exponential_limiter_waits_ten_seconds_after_eleven_failures() {
        let limiter = ItemExponentialFailureRateLimiter::new(5 * MS, Duration::from_secs(1000));
        failures(&limiter, 11);
        // 5 ms * 2^11 = 10.24 s: client-go's "about 10 s after 11 failures".
        assert_eq!(limiter.when(&"key"), 10_240 * MS);
    }

    #[test]
    fn exponential_limiter_caps_at_one_thousand_seconds() {
        let limiter = ItemExponentialFailureRateLimiter::new(5 * MS, Duration::from_secs(1000));
        let delays = failures(&limiter, 20);
        // 5 ms * 2^17 = 655 s is the last delay below the cap.
        assert_eq!(delays[17], 655_360 * MS);
        assert_eq!(delays[18], Duration::from_secs(1000));
        assert_eq!(delays[19], Duration::from_secs(1000));
    }

    #[test]
    fn exponential_limiter_never_overflows_however_many_failures() {
        let limiter = ItemExponentialFailureRateLimiter::new(Duration::MAX, Duration::MAX);
        // Table: (exponent, expected) for the shared helper at the edges.
        let rows = [
            (0, Duration::MAX),        // base alone is already the cap
            (1, Duration::MAX),        // doubling MAX overflows: cap
            (127, Duration::MAX),      // largest shift a u128 allows
            (128, Duration::MAX),      // shift out of range: cap
            (u32::MAX, Duration::MAX), // the counter saturates here
        ];
        for (exponent, expected) in rows {
            assert_eq!(
                exponential(Duration::MAX, exponent, Duration::MAX),
                expected,
                "exponent {exponent}"
            );
        }
        assert_eq!(
            exponential(MS, 200, Duration::from_secs(1)),
            Duration::from_secs(1)
        );
        assert_eq!(limiter.when(&"key"), Duration::MAX);
    }

    #[test]
    fn exponential_limiter_keeps_items_apart_and_forgets_one() {
        let limiter = ItemExponentialFailureRateLimiter::new(MS, Duration::from_secs(1));
        assert_eq!(limiter.when(&"a"), MS);
        assert_eq!(limiter.when(&"a"), 2 * MS);
        assert_eq!(limiter.when(&"b"), MS);
        limiter.forget(&"a");
        assert_eq!(limiter.num_requeues(&"a"), 0);
        assert_eq!(limiter.num_requeues(&"b"), 1);
        assert_eq!(limiter.when(&"a"), MS);
    }

    #[test]
    fn default_item_based_limiter_spans_one_ms_to_one_thousand_s() {
        let limiter = default_item_based_rate_limiter();
        let delays = failures(&limiter, 30);
        assert_eq!(delays[0], MS);
        assert_eq!(delays[29], Duration::from_secs(1000));
    }

    #[test]
    fn fast_slow_limiter_switches_after_max_fast_attempts() {
        let limiter = ItemFastSlowRateLimiter::new(5 * MS, Duration::from_secs(10), 3);
        assert_eq!(
            failures(&limiter, 5),
            vec![
                5 * MS,
                5 * MS,
                5 * MS,
                Duration::from_secs(10),
                Duration::from_secs(10)
            ]
        );
        assert_eq!(limiter.num_requeues(&"key"), 5);
        limiter.forget(&"key");
        assert_eq!(limiter.when(&"key"), 5 * MS);
    }

    #[tokio::test(start_paused = true)]
    async fn bucket_gives_a_burst_of_one_hundred_then_ten_per_second() {
        let limiter = BucketRateLimiter::new(10, 100);
        let delays: Vec<Duration> = (0..103).map(|i| limiter.when(&i)).collect();
        assert!(delays[..100].iter().all(|d| d.is_zero()), "{delays:?}");
        assert_eq!(&delays[100..], &[100 * MS, 200 * MS, 300 * MS]);
        assert_eq!(RateLimiter::<i32>::num_requeues(&limiter, &1), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn bucket_refills_as_time_passes() {
        let limiter = BucketRateLimiter::new(10, 100);
        for i in 0..100 {
            limiter.when(&i);
        }
        assert_eq!(limiter.when(&100), 100 * MS);
        // One second later the reserved token is paid for and nine more came in.
        tokio::time::advance(Duration::from_secs(1)).await;
        let delays: Vec<Duration> = (0..10).map(|i| limiter.when(&i)).collect();
        assert!(delays[..9].iter().all(|d| d.is_zero()), "{delays:?}");
        assert_eq!(delays[9], 100 * MS);
    }

    #[tokio::test(start_paused = true)]
    async fn max_of_returns_the_longest_delay_and_forgets_in_all() {
        let limiter: MaxOfRateLimiter<&str> = MaxOfRateLimiter::new(vec![
            Box::new(ItemFastSlowRateLimiter::new(MS, Duration::from_secs(3), 1)),
            Box::new(ItemExponentialFailureRateLimiter::new(
                Duration::from_secs(1),
                Duration::from_secs(100),
            )),
        ]);
        // Rows: failure n -> max(fast/slow, exponential).
        assert_eq!(limiter.when(&"a"), Duration::from_secs(1)); // max(1 ms, 1 s)
        assert_eq!(limiter.when(&"a"), Duration::from_secs(3)); // max(3 s, 2 s)
        assert_eq!(limiter.when(&"a"), Duration::from_secs(4)); // max(3 s, 4 s)
        assert_eq!(limiter.num_requeues(&"a"), 3);
        limiter.forget(&"a");
        assert_eq!(limiter.num_requeues(&"a"), 0);
        assert_eq!(limiter.when(&"a"), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn default_controller_limiter_is_max_of_exponential_and_bucket() {
        let limiter = default_controller_rate_limiter::<u32>();
        // Per-item backoff dominates while the bucket has tokens.
        assert_eq!(limiter.when(&0), 5 * MS);
        assert_eq!(limiter.when(&0), 10 * MS);
        // 98 more distinct items use up the burst of 100.
        for item in 1..99 {
            assert_eq!(limiter.when(&item), 5 * MS);
        }
        // Now the bucket dominates: 100 ms per token at 10 per second.
        assert_eq!(limiter.when(&1000), 100 * MS);
        assert_eq!(limiter.when(&1001), 200 * MS);
        assert_eq!(limiter.num_requeues(&0), 2);
    }

    #[test]
    fn with_max_wait_caps_delays_and_delegates_the_rest() {
        let limiter = WithMaxWaitRateLimiter::new(
            ItemExponentialFailureRateLimiter::new(
                Duration::from_secs(1),
                Duration::from_secs(100),
            ),
            Duration::from_secs(3),
        );
        assert_eq!(
            failures(&limiter, 4),
            vec![
                Duration::from_secs(1),
                Duration::from_secs(2),
                Duration::from_secs(3),
                Duration::from_secs(3)
            ]
        );
        assert_eq!(limiter.num_requeues(&"key"), 4);
        limiter.forget(&"key");
        assert_eq!(limiter.num_requeues(&"key"), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn backoff_limiter_ignores_failures_before_the_backoff_elapses() {
        let limiter = ItemBackoffRateLimiter::new(5 * MS, Duration::from_secs(1000));
        assert_eq!(limiter.when(&"key"), 5 * MS);
        // Twenty event-triggered failures within the first backoff: the
        // exponential limiter would be at 5 ms * 2^20 (capped); this one
        // returns what is left of the first 5 ms and keeps one failure.
        for _ in 0..20 {
            tokio::time::advance(MS / 10).await;
            assert!(limiter.when(&"key") <= 5 * MS);
        }
        assert_eq!(limiter.num_requeues(&"key"), 1);
        tokio::time::advance(5 * MS).await;
        assert_eq!(limiter.when(&"key"), 10 * MS);
        assert_eq!(limiter.num_requeues(&"key"), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn backoff_limiter_starts_over_after_forget() {
        let limiter = ItemBackoffRateLimiter::new(5 * MS, Duration::from_secs(1000));
        for _ in 0..3 {
            limiter.when(&"key");
            tokio::time::advance(Duration::from_secs(1)).await;
        }
        assert_eq!(limiter.when(&"key"), 40 * MS);
        limiter.forget(&"key");
        assert_eq!(limiter.num_requeues(&"key"), 0);
        assert_eq!(limiter.when(&"key"), 5 * MS);
    }

    #[tokio::test(start_paused = true)]
    async fn backoff_limiter_caps_at_max() {
        let limiter = ItemBackoffRateLimiter::new(5 * MS, Duration::from_secs(1000));
        let mut last = Duration::ZERO;
        for _ in 0..40 {
            last = limiter.when(&"key");
            tokio::time::advance(last).await;
        }
        assert_eq!(last, Duration::from_secs(1000));
    }
}
