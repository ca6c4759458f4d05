//! [`RateLimitingQueue`]: a [`DelayingQueue`] whose retries are paced by a
//! [`RateLimiter`].

use std::fmt;
use std::hash::Hash;
use std::sync::Arc;

use crate::config::{Priority, QueueConfig};
use crate::delaying::DelayingQueue;
use crate::rate_limiter::RateLimiter;

/// A [`DelayingQueue`] with [`add_rate_limited`], [`forget`] and
/// [`num_requeues`]: client-go's `TypedRateLimitingInterface`.
///
/// The usual worker loop: `get` an item, process it, then on failure
/// [`add_rate_limited`] (retry after the limiter's delay), on success
/// [`forget`] (reset its backoff), and in both cases [`done`]. Forgetting on
/// success matters: without it, the item's next failure, maybe days later,
/// starts from the delay its old failures had reached.
///
/// [`add_rate_limited`]: RateLimitingQueue::add_rate_limited
/// [`forget`]: RateLimitingQueue::forget
/// [`num_requeues`]: RateLimitingQueue::num_requeues
/// [`done`]: RateLimitingQueue::done
///
/// # Examples
///
/// ```
/// use kubeforge_workqueue::{RateLimitingQueue, default_controller_rate_limiter};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let queue = RateLimitingQueue::new(default_controller_rate_limiter());
/// queue.add("default/web");
///
/// let key = queue.get().await.expect("queue is running");
/// // processing failed: retry in 5 ms, then 10 ms, 20 ms, …
/// queue.add_rate_limited(key);
/// queue.done(&key);
/// assert_eq!(queue.num_requeues(&key), 1);
///
/// let key = queue.get().await.expect("queue is running");
/// // processing succeeded
/// queue.forget(&key);
/// queue.done(&key);
/// assert_eq!(queue.num_requeues(&key), 0);
/// # }
/// ```
pub struct RateLimitingQueue<T> {
    queue: DelayingQueue<T>,
    limiter: Arc<dyn RateLimiter<T>>,
}

impl<T> Clone for RateLimitingQueue<T> {
    fn clone(&self) -> Self {
        Self {
            queue: self.queue.clone(),
            limiter: Arc::clone(&self.limiter),
        }
    }
}

impl<T> fmt::Debug for RateLimitingQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimitingQueue").finish_non_exhaustive()
    }
}

impl<T: Clone + Eq + Hash + Send + Sync + 'static> RateLimitingQueue<T> {
    /// An unnamed queue (no metrics) paced by `limiter`, typically
    /// [`default_controller_rate_limiter`](crate::default_controller_rate_limiter).
    pub fn new(limiter: impl RateLimiter<T> + 'static) -> Self {
        Self::with_config(limiter, QueueConfig::new())
    }

    /// A queue paced by `limiter`, with the given name, metrics provider and
    /// aging.
    pub fn with_config(limiter: impl RateLimiter<T> + 'static, config: QueueConfig) -> Self {
        Self {
            queue: DelayingQueue::with_config(config),
            limiter: Arc::new(limiter),
        }
    }

    /// Adds `item` after the delay the rate limiter gives it, at
    /// [`Priority::Normal`]; the limiter records a failure of `item`.
    ///
    /// # Panics
    ///
    /// As [`DelayingQueue::add_after`]: outside a tokio runtime when the delay
    /// is not zero.
    pub fn add_rate_limited(&self, item: T) {
        self.add_rate_limited_with_priority(item, Priority::Normal);
    }

    /// Adds `item` at `priority` after the delay the rate limiter gives it.
    ///
    /// # Panics
    ///
    /// As [`add_rate_limited`](RateLimitingQueue::add_rate_limited).
    pub fn add_rate_limited_with_priority(&self, item: T, priority: Priority) {
        // As in client-go, the limiter is asked even while shutting down.
        let delay = self.limiter.when(&item);
        self.queue.add_after_with_priority(item, delay, priority);
    }

    /// Resets the rate limiter's history of `item`; call it when processing
    /// `item` succeeded. It does not remove `item` from the queue.
    pub fn forget(&self, item: &T) {
        self.limiter.forget(item);
    }

    /// How many failures the rate limiter has recorded for `item` since it
    /// was last forgotten.
    pub fn num_requeues(&self, item: &T) -> u32 {
        self.limiter.num_requeues(item)
    }

    /// See [`DelayingQueue::add_after`].
    ///
    /// # Panics
    ///
    /// As [`DelayingQueue::add_after`].
    pub fn add_after(&self, item: T, delay: std::time::Duration) {
        self.queue.add_after(item, delay);
    }

    /// See [`DelayingQueue::add_after_with_priority`].
    ///
    /// # Panics
    ///
    /// As [`DelayingQueue::add_after`].
    pub fn add_after_with_priority(&self, item: T, delay: std::time::Duration, priority: Priority) {
        self.queue.add_after_with_priority(item, delay, priority);
    }

    /// See [`Queue::add`](crate::Queue::add).
    pub fn add(&self, item: T) {
        self.queue.add(item);
    }

    /// See [`Queue::add_with_priority`](crate::Queue::add_with_priority).
    pub fn add_with_priority(&self, item: T, priority: Priority) {
        self.queue.add_with_priority(item, priority);
    }

    /// See [`Queue::get`](crate::Queue::get).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, as [`Queue::get`](crate::Queue::get).
    pub async fn get(&self) -> Option<T> {
        self.queue.get().await
    }

    /// See [`Queue::done`](crate::Queue::done).
    pub fn done(&self, item: &T) {
        self.queue.done(item);
    }

    /// See [`Queue::len`](crate::Queue::len).
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// See [`Queue::is_empty`](crate::Queue::is_empty).
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// See [`DelayingQueue::waiting_len`].
    pub fn waiting_len(&self) -> usize {
        self.queue.waiting_len()
    }

    /// See [`DelayingQueue::shut_down`].
    pub fn shut_down(&self) {
        self.queue.shut_down();
    }

    /// See [`Queue::shut_down_with_drain`](crate::Queue::shut_down_with_drain).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, as [`Queue::shut_down_with_drain`](crate::Queue::shut_down_with_drain).
    pub async fn shut_down_with_drain(&self) {
        self.queue.shut_down_with_drain().await;
    }

    /// See [`Queue::is_shutting_down`](crate::Queue::is_shutting_down).
    pub fn is_shutting_down(&self) -> bool {
        self.queue.is_shutting_down()
    }
}
