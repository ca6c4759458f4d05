//! Queue metrics: client-go's seven series behind a small provider trait.
//!
//! A [`MetricsProvider`] makes one metric of each kind per named queue; the
//! queue updates them with exactly client-go's meanings:
//!
//! | series (Prometheus name) | kind | meaning |
//! | --- | --- | --- |
//! | `workqueue_depth` | gauge | items waiting to be handed out (+1 when an item becomes dirty, -1 when `get` hands it out) |
//! | `workqueue_adds_total` | counter | adds that made an item dirty (coalesced adds are not counted) |
//! | `workqueue_queue_duration_seconds` | histogram | from the add that made an item dirty to `get` |
//! | `workqueue_work_duration_seconds` | histogram | from `get` to `done` |
//! | `workqueue_unfinished_work_seconds` | settable gauge | sum of the ages of the items being processed, refreshed every 500 ms |
//! | `workqueue_longest_running_processor_seconds` | settable gauge | age of the oldest item being processed, refreshed every 500 ms |
//! | `workqueue_retries_total` | counter | `add_after` calls (so every `add_rate_limited`) |
//!
//! Unnamed queues emit nothing. With the `prometheus` feature,
//! `PrometheusMetricsProvider` registers these series with a `name` label in
//! a `prometheus_client` registry.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::time::Instant;

#[cfg(feature = "prometheus")]
mod prometheus;
#[cfg(feature = "prometheus")]
pub use self::prometheus::PrometheusMetricsProvider;

/// A gauge that goes up and down by one.
pub trait GaugeMetric: Send + Sync {
    /// Adds one.
    fn inc(&self);
    /// Subtracts one.
    fn dec(&self);
}

/// A gauge set to a value.
pub trait SettableGaugeMetric: Send + Sync {
    /// Sets the current value.
    fn set(&self, value: f64);
}

/// A monotonically increasing counter.
pub trait CounterMetric: Send + Sync {
    /// Adds one.
    fn inc(&self);
}

/// A distribution of observed values (seconds, for the queue's histograms).
pub trait HistogramMetric: Send + Sync {
    /// Records one observation.
    fn observe(&self, value: f64);
}

/// Makes the metrics of a named queue; client-go's `MetricsProvider`.
///
/// Each method is called once when a queue named `name` is built. Several
/// queues may share a name (client-go allows it too); a provider decides
/// whether they share series.
pub trait MetricsProvider: Send + Sync {
    /// `workqueue_depth`: the current depth of the queue.
    fn new_depth_metric(&self, name: &str) -> Box<dyn GaugeMetric>;
    /// `workqueue_adds_total`: the number of adds handled by the queue.
    fn new_adds_metric(&self, name: &str) -> Box<dyn CounterMetric>;
    /// `workqueue_queue_duration_seconds`: how long an item stays queued
    /// before it is handed out.
    fn new_latency_metric(&self, name: &str) -> Box<dyn HistogramMetric>;
    /// `workqueue_work_duration_seconds`: how long processing an item takes.
    fn new_work_duration_metric(&self, name: &str) -> Box<dyn HistogramMetric>;
    /// `workqueue_unfinished_work_seconds`: seconds of work in progress that
    /// `work_duration` has not observed yet; large values suggest stuck workers.
    fn new_unfinished_work_seconds_metric(&self, name: &str) -> Box<dyn SettableGaugeMetric>;
    /// `workqueue_longest_running_processor_seconds`: how long the
    /// longest-running worker has been processing its item.
    fn new_longest_running_processor_seconds_metric(
        &self,
        name: &str,
    ) -> Box<dyn SettableGaugeMetric>;
    /// `workqueue_retries_total`: the number of `add_after` calls.
    fn new_retries_metric(&self, name: &str) -> Box<dyn CounterMetric>;
}

static DEFAULT_PROVIDER: OnceLock<Arc<dyn MetricsProvider>> = OnceLock::new();

/// Installs the provider used by named queues built without one; client-go's
/// `workqueue.SetProvider`.
///
/// Only the first call takes effect (client-go's is a `sync.Once` too); queues
/// built before it emit nothing.
///
/// # Errors
///
/// Returns `provider` back if a default provider was already installed.
pub fn set_default_metrics_provider(
    provider: Arc<dyn MetricsProvider>,
) -> Result<(), Arc<dyn MetricsProvider>> {
    DEFAULT_PROVIDER.set(provider)
}

/// How often the two "unfinished work" gauges are refreshed (client-go's
/// `defaultUnfinishedWorkUpdatePeriod`).
pub(crate) const UNFINISHED_WORK_UPDATE_PERIOD: Duration = Duration::from_millis(500);

/// The metrics of one named queue, updated under the queue's lock.
pub(crate) struct QueueMetrics {
    depth: Box<dyn GaugeMetric>,
    adds: Box<dyn CounterMetric>,
    latency: Box<dyn HistogramMetric>,
    work_duration: Box<dyn HistogramMetric>,
    unfinished_work_seconds: Box<dyn SettableGaugeMetric>,
    longest_running_processor: Box<dyn SettableGaugeMetric>,
    retries: Box<dyn CounterMetric>,
    /// Start instants of the items being processed, with multiplicity.
    /// Invariant: one count per record position with a `started_at`.
    running: BTreeMap<Instant, usize>,
    /// Per record position (see `items.rs`): when the item last became
    /// dirty and when it was handed out. Kept here rather than in the
    /// records so that unnamed queues do not carry them.
    stamps: Vec<Stamps>,
}

/// The instants one item's metrics are measured from.
#[derive(Debug, Default, Clone, Copy)]
struct Stamps {
    /// When the item last became dirty; taken when it is handed out.
    added_at: Option<Instant>,
    /// When the item was handed out; taken at `done`.
    started_at: Option<Instant>,
}

impl std::fmt::Debug for QueueMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueMetrics")
            .field("running", &self.running.len())
            .finish_non_exhaustive()
    }
}

impl QueueMetrics {
    /// The metrics for a queue with this name and provider, or `None` when
    /// the queue must emit nothing (no name, or no provider anywhere).
    pub(crate) fn new(
        name: Option<&str>,
        provider: Option<&Arc<dyn MetricsProvider>>,
    ) -> Option<Self> {
        let name = name?;
        let provider = provider.or_else(|| DEFAULT_PROVIDER.get())?;
        Some(Self {
            depth: provider.new_depth_metric(name),
            adds: provider.new_adds_metric(name),
            latency: provider.new_latency_metric(name),
            work_duration: provider.new_work_duration_metric(name),
            unfinished_work_seconds: provider.new_unfinished_work_seconds_metric(name),
            longest_running_processor: provider.new_longest_running_processor_seconds_metric(name),
            retries: provider.new_retries_metric(name),
            running: BTreeMap::new(),
            stamps: Vec::new(),
        })
    }

    fn stamps(&mut self, at: u32) -> &mut Stamps {
        let at = at as usize;
        if self.stamps.len() <= at {
            self.stamps.resize(at + 1, Stamps::default());
        }
        &mut self.stamps[at]
    }

    /// The item at record position `at` became dirty.
    pub(crate) fn added(&mut self, at: u32) {
        self.adds.inc();
        self.depth.inc();
        self.stamps(at).added_at = Some(Instant::now());
    }

    /// The item at `at` was handed out at `now`.
    pub(crate) fn handed_out(&mut self, at: u32, now: Instant) {
        self.depth.dec();
        let stamps = self.stamps(at);
        let added_at = stamps.added_at.take();
        stamps.started_at = Some(now);
        if let Some(added_at) = added_at {
            self.latency
                .observe(now.saturating_duration_since(added_at).as_secs_f64());
        }
        *self.running.entry(now).or_default() += 1;
    }

    /// The item at `at` is done at `now`.
    pub(crate) fn done(&mut self, at: u32, now: Instant) {
        let Some(started_at) = self.stamps(at).started_at.take() else {
            return;
        };
        self.work_duration
            .observe(now.saturating_duration_since(started_at).as_secs_f64());
        if let Some(count) = self.running.get_mut(&started_at) {
            *count -= 1;
            if *count == 0 {
                self.running.remove(&started_at);
            }
        }
    }

    /// `add_after` was called.
    pub(crate) fn retried(&self) {
        self.retries.inc();
    }

    /// Refreshes the two gauges about work in progress.
    pub(crate) fn update_unfinished_work(&self, now: Instant) {
        let mut total = 0.0;
        for (started_at, count) in &self.running {
            total += now.saturating_duration_since(*started_at).as_secs_f64() * *count as f64;
        }
        let longest = self.running.keys().next().map_or(0.0, |oldest| {
            now.saturating_duration_since(*oldest).as_secs_f64()
        });
        self.unfinished_work_seconds.set(total);
        self.longest_running_processor.set(longest);
    }
}
