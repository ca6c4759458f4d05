//! [`Queue`]: the de-duplicating FIFO with client-go's dirty and processing
//! sets, as an async handle.

use std::fmt;
use std::hash::Hash;
use std::pin::pin;
use std::sync::{Arc, OnceLock, Weak};

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::config::{Priority, QueueConfig};
use crate::core::{Core, DoneWake};
use crate::metrics::UNFINISHED_WORK_UPDATE_PERIOD;
use crate::state::Pop;

/// What every handle of one queue shares.
pub(crate) struct Shared<T> {
    /// State and wake-up decisions; never locked across an `.await`.
    pub(crate) core: Core<T>,
    /// Parked `get` calls. Each registers (`enable`) before it looks at the
    /// state, so a wake-up sent after that look cannot be missed.
    pub(crate) ready: Notify,
    /// `shut_down_with_drain` callers waiting for in-flight work.
    drained: Notify,
    /// Wakes the delaying timer task: an earlier deadline, or shutdown. Held
    /// in its own `Arc` so the task can wait on it without keeping the queue
    /// alive.
    pub(crate) timer: Arc<Notify>,
    /// The delaying timer task, started by the first delayed add.
    pub(crate) timer_task: OnceLock<JoinHandle<()>>,
    /// Refreshes the unfinished-work gauges of a named queue; started by the
    /// first `get`.
    metrics_task: OnceLock<JoinHandle<()>>,
    /// Whether the queue reports metrics (fixed at construction).
    has_metrics: bool,
}

impl<T> Drop for Shared<T> {
    // The background tasks hold only weak references, so the last handle's
    // drop lands here; stop them rather than leave them sleeping.
    fn drop(&mut self) {
        if let Some(task) = self.timer_task.get() {
            task.abort();
        }
        if let Some(task) = self.metrics_task.get() {
            task.abort();
        }
    }
}

impl<T> Shared<T> {
    /// Wakes up to `n` parked `get` calls.
    pub(crate) fn wake_getters(&self, n: usize) {
        for _ in 0..n {
            self.ready.notify_one();
        }
    }

    fn after_done(&self, wake: DoneWake) {
        if wake.getter {
            self.ready.notify_one();
        }
        if wake.drained {
            self.drained.notify_waiters();
        }
    }
}

impl<T: Clone + Eq + Hash + Send + Sync + 'static> Shared<T> {
    pub(crate) fn new(config: &QueueConfig) -> Self {
        let core = Core::new(config);
        Self {
            has_metrics: core.has_metrics(),
            core,
            ready: Notify::new(),
            drained: Notify::new(),
            timer: Arc::new(Notify::new()),
            timer_task: OnceLock::new(),
            metrics_task: OnceLock::new(),
        }
    }
}

/// A work queue: items are handed out in FIFO order, at most once at a time,
/// and an item added again while it waits is not queued twice.
///
/// client-go's `TypedInterface` with the same guarantees:
///
/// - an item is never handed to two workers at once: until [`done`] is called
///   for an item returned by [`get`], no other `get` returns it;
/// - adding an item that is waiting is a no-op (at most it raises the item's
///   [`Priority`]);
/// - adding an item that is being processed marks it dirty: it is handed out
///   exactly once more after [`done`], however many times it was added;
/// - after [`shut_down`], adds are ignored, `get` hands out what is still
///   queued and then returns `None`.
///
/// `Queue` is a handle: clones share one queue, so give each worker its own
/// clone. The queue's state lives behind one short-held lock; waiting happens
/// on tokio primitives, never with the lock held.
///
/// [`get`]: Queue::get
/// [`done`]: Queue::done
/// [`shut_down`]: Queue::shut_down
///
/// # Examples
///
/// ```
/// use kubeforge_workqueue::Queue;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let queue = Queue::new();
/// queue.add("default/a");
/// queue.add("default/a"); // already waiting: no-op
/// queue.add("default/b");
/// assert_eq!(queue.len(), 2);
///
/// let item = queue.get().await;
/// assert_eq!(item, Some("default/a"));
/// queue.add("default/a"); // being processed: handed out again after done
/// queue.done(&"default/a");
///
/// queue.shut_down();
/// assert_eq!(queue.get().await, Some("default/b"));
/// assert_eq!(queue.get().await, Some("default/a"));
/// assert_eq!(queue.get().await, None);
/// # }
/// ```
pub struct Queue<T> {
    pub(crate) shared: Arc<Shared<T>>,
}

impl<T> Clone for Queue<T> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue").finish_non_exhaustive()
    }
}

impl<T: Clone + Eq + Hash + Send + Sync + 'static> Default for Queue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Clone + Eq + Hash + Send + Sync + 'static> Queue<T> {
    /// An unnamed queue: no metrics.
    pub fn new() -> Self {
        Self::with_config(QueueConfig::new())
    }

    /// A queue with the given name, metrics provider and aging.
    pub fn with_config(config: QueueConfig) -> Self {
        Self {
            shared: Arc::new(Shared::new(&config)),
        }
    }

    /// Marks `item` as needing processing, at [`Priority::Normal`].
    ///
    /// Ignored while shutting down; a no-op if `item` is already waiting; if
    /// `item` is being processed, it is handed out once more after [`done`].
    ///
    /// [`done`]: Queue::done
    pub fn add(&self, item: T) {
        self.add_with_priority(item, Priority::Normal);
    }

    /// Marks `item` as needing processing at `priority`.
    ///
    /// Like [`add`](Queue::add); if `item` is already waiting at a lower
    /// priority, it moves up to `priority` keeping its place in time (it is
    /// never moved down).
    pub fn add_with_priority(&self, item: T, priority: Priority) {
        if self.shared.core.add(item, priority) {
            self.shared.ready.notify_one();
        }
    }

    /// Waits for the next item to process and marks it as being processed.
    ///
    /// Returns `None` only once the queue is shutting down and has nothing
    /// left to hand out. Every item returned must be passed to [`done`] when
    /// its processing ends, or the queue never hands it out again (and
    /// [`shut_down_with_drain`] never returns).
    ///
    /// [`done`]: Queue::done
    /// [`shut_down_with_drain`]: Queue::shut_down_with_drain
    ///
    /// # Cancel safety
    ///
    /// This method is cancel-safe: an item is taken off the queue only in the
    /// same poll that returns it, so dropping the future (for example when
    /// another `select!` branch wins) loses no item, and a wake-up it had
    /// received is passed on to another waiting `get`.
    pub async fn get(&self) -> Option<T> {
        if self.shared.has_metrics {
            self.start_metrics_task();
        }
        // Fast path: an item is ready, no need to register for a wake-up.
        if let Some(item) = self.shared.core.try_pop() {
            return Some(item);
        }
        let mut waiter = Waiter {
            core: &self.shared.core,
            counted: false,
        };
        loop {
            let mut notified = pin!(self.shared.ready.notified());
            // Register before looking, so an add after the look wakes us.
            notified.as_mut().enable();
            // Uncounted and counted again (if need be) under one lock.
            match self.shared.core.pop(std::mem::take(&mut waiter.counted)) {
                Pop::Item(item) => return Some(item),
                Pop::Closed => return None,
                Pop::Wait => waiter.counted = true,
            }
            notified.await;
        }
    }

    /// Marks `item`, returned by [`get`](Queue::get), as processed.
    ///
    /// If `item` was added while it was being processed, it goes back in line
    /// now. Calling `done` for an item that is not being processed does
    /// nothing.
    pub fn done(&self, item: &T) {
        let wake = self.shared.core.done(item);
        self.shared.after_done(wake);
    }

    /// Number of items waiting to be handed out (not counting items being
    /// processed or scheduled for later). Informational only: it may change
    /// before the caller acts on it.
    pub fn len(&self) -> usize {
        self.shared.core.len()
    }

    /// Whether no item is waiting to be handed out; see [`len`](Queue::len).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stops the queue: later adds are ignored, items scheduled for later are
    /// dropped, and once the queued items are handed out every
    /// [`get`](Queue::get) returns `None`.
    ///
    /// Also ends the wait of a pending
    /// [`shut_down_with_drain`](Queue::shut_down_with_drain) at once.
    pub fn shut_down(&self) {
        self.shared.core.shut_down(false);
        self.wake_all();
    }

    /// Stops the queue like [`shut_down`](Queue::shut_down), then waits until
    /// every item handed out has been passed to [`done`](Queue::done).
    ///
    /// Workers must keep calling `get` and `done` until `get` returns `None`,
    /// or this never returns; a later `shut_down` ends the wait.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: the queue is shut down by the first poll and stays so;
    /// dropping the future only stops waiting for in-flight work.
    pub async fn shut_down_with_drain(&self) {
        self.shared.core.shut_down(true);
        self.wake_all();
        loop {
            let mut notified = pin!(self.shared.drained.notified());
            notified.as_mut().enable();
            if self.shared.core.is_drained() {
                return;
            }
            notified.await;
        }
    }

    /// Whether [`shut_down`](Queue::shut_down) or
    /// [`shut_down_with_drain`](Queue::shut_down_with_drain) was called.
    pub fn is_shutting_down(&self) -> bool {
        self.shared.core.is_shutting_down()
    }

    fn wake_all(&self) {
        self.shared.ready.notify_waiters();
        self.shared.drained.notify_waiters();
        self.shared.timer.notify_one();
    }

    fn start_metrics_task(&self) {
        self.shared
            .metrics_task
            .get_or_init(|| tokio::spawn(refresh_unfinished_work(Arc::downgrade(&self.shared))));
    }
}

/// A `get` counted as a parked waiter; uncounts itself if the `get` is
/// dropped while parked.
struct Waiter<'a, T: Clone + Eq + Hash> {
    core: &'a Core<T>,
    counted: bool,
}

impl<T: Clone + Eq + Hash> Drop for Waiter<'_, T> {
    fn drop(&mut self) {
        if self.counted {
            self.core.uncount();
        }
    }
}

/// Refreshes the unfinished-work gauges every 500 ms until shutdown, as
/// client-go's `updateUnfinishedWorkLoop` does.
async fn refresh_unfinished_work<T: Clone + Eq + Hash>(shared: Weak<Shared<T>>) {
    let mut ticker = tokio::time::interval(UNFINISHED_WORK_UPDATE_PERIOD);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        if !shared.core.update_unfinished_work(Instant::now()) {
            return;
        }
    }
}
