//! [`DelayingQueue`]: a [`Queue`] that can add an item after a delay.

use std::fmt;
use std::hash::Hash;
use std::pin::pin;
use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::config::{Priority, QueueConfig};
use crate::queue::{Queue, Shared};
use crate::state::{AfterOutcome, ready_at};

/// A [`Queue`] with [`add_after`](DelayingQueue::add_after): client-go's
/// `TypedDelayingInterface`.
///
/// Scheduled items wait in a timer heap that shares the queue's lock; one
/// background task, started by the first delayed add, sleeps until the
/// earliest deadline and moves due items into the queue. It runs on tokio's
/// clock, so tests can use paused time (`tokio::time::pause`). The task stops
/// at shutdown or when the last handle is dropped.
///
/// Scheduled items are not counted by [`len`](DelayingQueue::len) and are
/// dropped at shutdown.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use kubeforge_workqueue::DelayingQueue;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let queue = DelayingQueue::new();
/// queue.add_after("default/web", Duration::from_secs(5));
/// queue.add_after("default/web", Duration::from_secs(1)); // moves it earlier
/// assert_eq!(queue.len(), 0);
///
/// let start = tokio::time::Instant::now();
/// assert_eq!(queue.get().await, Some("default/web"));
/// assert_eq!(start.elapsed(), Duration::from_secs(1));
/// # }
/// ```
pub struct DelayingQueue<T> {
    queue: Queue<T>,
}

impl<T> Clone for DelayingQueue<T> {
    fn clone(&self) -> Self {
        Self {
            queue: self.queue.clone(),
        }
    }
}

impl<T> fmt::Debug for DelayingQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DelayingQueue").finish_non_exhaustive()
    }
}

impl<T: Clone + Eq + Hash + Send + Sync + 'static> Default for DelayingQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Clone + Eq + Hash + Send + Sync + 'static> DelayingQueue<T> {
    /// An unnamed delaying queue: no metrics.
    pub fn new() -> Self {
        Self::with_config(QueueConfig::new())
    }

    /// A delaying queue with the given name, metrics provider and aging.
    pub fn with_config(config: QueueConfig) -> Self {
        Self {
            queue: Queue::with_config(config),
        }
    }

    /// Adds `item` once `delay` has passed, at [`Priority::Normal`].
    ///
    /// A zero delay is a plain [`add`](DelayingQueue::add). If `item` is
    /// already scheduled, it keeps the earlier of the two instants: re-adding
    /// only ever moves an item earlier. Ignored while shutting down. Counted
    /// by the `workqueue_retries_total` metric.
    ///
    /// # Panics
    ///
    /// The first call with a non-zero delay starts the timer task, so it
    /// panics outside a tokio runtime, as `tokio::spawn` does.
    pub fn add_after(&self, item: T, delay: Duration) {
        self.add_after_with_priority(item, delay, Priority::Normal);
    }

    /// Adds `item` at `priority` once `delay` has passed; see
    /// [`add_after`](DelayingQueue::add_after). A scheduled item keeps the
    /// highest priority it was scheduled with.
    ///
    /// # Panics
    ///
    /// As [`add_after`](DelayingQueue::add_after).
    pub fn add_after_with_priority(&self, item: T, delay: Duration, priority: Priority) {
        let shared = &self.queue.shared;
        let (outcome, wake) = shared.core.add_after(item, ready_at(delay), priority);
        if wake {
            shared.ready.notify_one();
        }
        match outcome {
            AfterOutcome::Added { .. } | AfterOutcome::Ignored => {}
            AfterOutcome::Scheduled { rearm } => {
                shared.timer_task.get_or_init(|| {
                    tokio::spawn(run_timer(Arc::downgrade(shared), Arc::clone(&shared.timer)))
                });
                if rearm {
                    shared.timer.notify_one();
                }
            }
        }
    }

    /// See [`Queue::add`].
    pub fn add(&self, item: T) {
        self.queue.add(item);
    }

    /// See [`Queue::add_with_priority`].
    pub fn add_with_priority(&self, item: T, priority: Priority) {
        self.queue.add_with_priority(item, priority);
    }

    /// See [`Queue::get`].
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, as [`Queue::get`].
    pub async fn get(&self) -> Option<T> {
        self.queue.get().await
    }

    /// See [`Queue::done`].
    pub fn done(&self, item: &T) {
        self.queue.done(item);
    }

    /// See [`Queue::len`]; items scheduled for later are not counted.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// See [`Queue::is_empty`].
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Number of items scheduled with `add_after` and not yet due.
    pub fn waiting_len(&self) -> usize {
        self.queue.shared.core.waiting_len()
    }

    /// See [`Queue::shut_down`]; scheduled items are dropped.
    pub fn shut_down(&self) {
        self.queue.shut_down();
    }

    /// See [`Queue::shut_down_with_drain`]; scheduled items are dropped.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, as [`Queue::shut_down_with_drain`].
    pub async fn shut_down_with_drain(&self) {
        self.queue.shut_down_with_drain().await;
    }

    /// See [`Queue::is_shutting_down`].
    pub fn is_shutting_down(&self) -> bool {
        self.queue.is_shutting_down()
    }
}

/// Moves due items into the queue, then sleeps until the next deadline or
/// until woken by an earlier one; exits at shutdown or when the queue is gone.
async fn run_timer<T: Clone + Eq + Hash>(shared: Weak<Shared<T>>, wake: Arc<Notify>) {
    loop {
        let mut woken = pin!(wake.notified());
        // Register before reading the deadline, so an earlier one scheduled
        // after the read still wakes us.
        woken.as_mut().enable();
        let next = {
            let Some(shared) = shared.upgrade() else {
                return;
            };
            let Some((wake_getters, next)) = shared.core.add_due(Instant::now()) else {
                return;
            };
            shared.wake_getters(wake_getters);
            next
        };
        match next {
            Some(deadline) => {
                tokio::select! {
                    () = tokio::time::sleep_until(deadline) => {}
                    () = woken => {}
                }
            }
            None => woken.await,
        }
    }
}
