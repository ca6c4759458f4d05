//! The seven workqueue series in a `prometheus_client` registry.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::{CounterMetric, GaugeMetric, HistogramMetric, MetricsProvider, SettableGaugeMetric};

/// The label set of every series: the queue's name.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueLabels {
    name: String,
}

type HistogramFamily = Family<QueueLabels, Histogram, fn() -> Histogram>;

/// Buckets from 10 ns to 1000 s, ×10 each: the ones controller-runtime
/// registers for both duration histograms.
fn duration_histogram() -> Histogram {
    Histogram::new(exponential_buckets(10e-9, 10.0, 12))
}

/// A [`MetricsProvider`] exposing client-go's workqueue series, with the names
/// controller-runtime registers, through a `prometheus_client` registry.
///
/// Counters are registered without the `_total` suffix because
/// `prometheus_client` appends it, so the exposition reads
/// `workqueue_adds_total` and `workqueue_retries_total`.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use kubeforge_workqueue::{PrometheusMetricsProvider, Queue, QueueConfig};
/// use prometheus_client::registry::Registry;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut registry = Registry::default();
/// let provider = Arc::new(PrometheusMetricsProvider::new(&mut registry));
/// let queue = Queue::with_config(QueueConfig::new().name("pods").metrics_provider(provider));
/// queue.add("default/web".to_string());
///
/// let mut text = String::new();
/// prometheus_client::encoding::text::encode(&mut text, &registry)?;
/// assert!(text.contains(r#"workqueue_depth{name="pods"} 1"#));
/// assert!(text.contains(r#"workqueue_adds_total{name="pods"} 1"#));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct PrometheusMetricsProvider {
    depth: Family<QueueLabels, Gauge>,
    adds: Family<QueueLabels, Counter>,
    latency: HistogramFamily,
    work_duration: HistogramFamily,
    unfinished_work_seconds: Family<QueueLabels, Gauge<f64, AtomicU64>>,
    longest_running_processor_seconds: Family<QueueLabels, Gauge<f64, AtomicU64>>,
    retries: Family<QueueLabels, Counter>,
}

impl PrometheusMetricsProvider {
    /// Registers the seven series in `registry` and returns a provider that
    /// feeds them.
    pub fn new(registry: &mut Registry) -> Self {
        let provider = Self {
            depth: Family::default(),
            adds: Family::default(),
            latency: Family::new_with_constructor(duration_histogram),
            work_duration: Family::new_with_constructor(duration_histogram),
            unfinished_work_seconds: Family::default(),
            longest_running_processor_seconds: Family::default(),
            retries: Family::default(),
        };
        registry.register(
            "workqueue_depth",
            "Current depth of the work queue",
            provider.depth.clone(),
        );
        registry.register(
            "workqueue_adds",
            "Total number of adds handled by the work queue",
            provider.adds.clone(),
        );
        registry.register(
            "workqueue_queue_duration_seconds",
            "How long in seconds an item stays in the work queue before it is handed out",
            provider.latency.clone(),
        );
        registry.register(
            "workqueue_work_duration_seconds",
            "How long in seconds processing an item from the work queue takes",
            provider.work_duration.clone(),
        );
        registry.register(
            "workqueue_unfinished_work_seconds",
            "Seconds of work in progress not yet observed by work_duration; \
             large values suggest stuck workers",
            provider.unfinished_work_seconds.clone(),
        );
        registry.register(
            "workqueue_longest_running_processor_seconds",
            "How many seconds the longest-running worker has been processing its item",
            provider.longest_running_processor_seconds.clone(),
        );
        registry.register(
            "workqueue_retries",
            "Total number of retries (delayed adds) handled by the work queue",
            provider.retries.clone(),
        );
        provider
    }
}

fn labels(name: &str) -> QueueLabels {
    QueueLabels {
        name: name.to_owned(),
    }
}

impl MetricsProvider for PrometheusMetricsProvider {
    fn new_depth_metric(&self, name: &str) -> Box<dyn GaugeMetric> {
        Box::new(self.depth.get_or_create(&labels(name)).clone())
    }

    fn new_adds_metric(&self, name: &str) -> Box<dyn CounterMetric> {
        Box::new(self.adds.get_or_create(&labels(name)).clone())
    }

    fn new_latency_metric(&self, name: &str) -> Box<dyn HistogramMetric> {
        Box::new(self.latency.get_or_create(&labels(name)).clone())
    }

    fn new_work_duration_metric(&self, name: &str) -> Box<dyn HistogramMetric> {
        Box::new(self.work_duration.get_or_create(&labels(name)).clone())
    }

    fn new_unfinished_work_seconds_metric(&self, name: &str) -> Box<dyn SettableGaugeMetric> {
        Box::new(
            self.unfinished_work_seconds
                .get_or_create(&labels(name))
                .clone(),
        )
    }

    fn new_longest_running_processor_seconds_metric(
        &self,
        name: &str,
    ) -> Box<dyn SettableGaugeMetric> {
        Box::new(
            self.longest_running_processor_seconds
                .get_or_create(&labels(name))
                .clone(),
        )
    }

    fn new_retries_metric(&self, name: &str) -> Box<dyn CounterMetric> {
        Box::new(self.retries.get_or_create(&labels(name)).clone())
    }
}

impl GaugeMetric for Gauge {
    fn inc(&self) {
        Gauge::inc(self);
    }

    fn dec(&self) {
        Gauge::dec(self);
    }
}

impl SettableGaugeMetric for Gauge<f64, AtomicU64> {
    fn set(&self, value: f64) {
        Gauge::set(self, value);
    }
}

impl CounterMetric for Counter {
    fn inc(&self) {
        Counter::inc(self);
    }
}

impl HistogramMetric for Histogram {
    fn observe(&self, value: f64) {
        Histogram::observe(self, value);
    }
}
