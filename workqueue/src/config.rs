//! Queue configuration: name, metrics provider, priority aging.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::metrics::MetricsProvider;

/// How urgently an item should be handed out.
///
/// client-go's queues have no priorities (kubernetes/kubernetes#109348 was
/// closed); controller-runtime has a priority queue. Ours keeps one FIFO lane
/// per priority and ages waiting items so a busy higher lane cannot starve a
/// lower one: see [`QueueConfig::aging`].
///
/// A typical use: real changes at [`Priority::Normal`] (the default of
/// [`Queue::add`](crate::Queue::add)), periodic resyncs and bulk requeues at
/// [`Priority::Low`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Priority {
    /// Handed out after every fresher `Normal` and `High` item.
    Low,
    /// The priority of a plain `add`.
    #[default]
    Normal,
    /// Handed out before every fresher `Normal` and `Low` item.
    High,
}

impl Priority {
    /// The number of lanes, one per priority.
    pub(crate) const COUNT: usize = 3;

    /// Lane index: 0 is the most urgent.
    pub(crate) fn lane(self) -> usize {
        match self {
            Priority::High => 0,
            Priority::Normal => 1,
            Priority::Low => 2,
        }
    }
}

/// Settings shared by [`Queue`](crate::Queue),
/// [`DelayingQueue`](crate::DelayingQueue) and
/// [`RateLimitingQueue`](crate::RateLimitingQueue).
///
/// The counterpart of client-go's `TypedQueueConfig`. A queue without a name
/// emits no metrics, as in client-go.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use kubeforge_workqueue::{Queue, QueueConfig};
///
/// let queue: Queue<String> =
///     Queue::with_config(QueueConfig::new().name("pods").aging(Duration::from_secs(30)));
/// assert_eq!(queue.len(), 0);
/// ```
#[derive(Clone)]
pub struct QueueConfig {
    pub(crate) name: Option<String>,
    pub(crate) metrics_provider: Option<Arc<dyn MetricsProvider>>,
    pub(crate) aging: Duration,
}

impl QueueConfig {
    /// Our choice, not upstream's (client-go has no priorities and
    /// controller-runtime does not age): a waiting item rises one priority
    /// level per 10 s, so a `Low` item competes with fresh `High` items in
    /// arrival order after 20 s at most.
    pub const DEFAULT_AGING: Duration = Duration::from_secs(10);

    /// An unnamed queue (no metrics) with the default aging.
    pub fn new() -> Self {
        Self {
            name: None,
            metrics_provider: None,
            aging: Self::DEFAULT_AGING,
        }
    }

    /// Names the queue; named queues report metrics with this `name` label.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        self.name = (!name.is_empty()).then_some(name);
        self
    }

    /// The provider this queue's metrics come from.
    ///
    /// Without one, a named queue uses the provider installed with
    /// [`set_default_metrics_provider`](crate::set_default_metrics_provider),
    /// if any. Ignored for unnamed queues.
    pub fn metrics_provider(mut self, provider: Arc<dyn MetricsProvider>) -> Self {
        self.metrics_provider = Some(provider);
        self
    }

    /// How long an item waits before it rises one [`Priority`] level.
    ///
    /// An item's effective level is its priority plus one for every `aging`
    /// it has been waiting; the item with the highest effective level is
    /// handed out first, the one waiting longest among equals. So no item
    /// waits behind fresher work for more than two `aging` intervals.
    /// A zero `aging` is treated as one nanosecond (pure arrival order).
    pub fn aging(mut self, aging: Duration) -> Self {
        self.aging = aging.max(Duration::from_nanos(1));
        self
    }
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for QueueConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueConfig")
            .field("name", &self.name)
            .field("metrics_provider", &self.metrics_provider.is_some())
            .field("aging", &self.aging)
            .finish()
    }
}
