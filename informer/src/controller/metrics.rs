//! Reconcile metrics: how many reconciles ended how, how many failed, how long
//! they took, and how many workers are busy. The series and their meanings are
//! controller-runtime's, so existing dashboards and alerts work unchanged; the
//! work queue's own seven series come from [`kubeforge_workqueue`].

use std::fmt;
use std::sync::Arc;

pub use kubeforge_workqueue::{CounterMetric, GaugeMetric, HistogramMetric};

/// How one reconcile ended, the `result` label of `reconcile_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReconcileResult {
    /// It returned [`Action::Done`](super::Action::Done).
    Success,
    /// It returned [`Action::RequeueAfter`](super::Action::RequeueAfter).
    RequeueAfter,
    /// It returned an error or panicked.
    Error,
}

impl ReconcileResult {
    /// The label value: `success`, `requeue_after` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReconcileResult::Success => "success",
            ReconcileResult::RequeueAfter => "requeue_after",
            ReconcileResult::Error => "error",
        }
    }
}

impl fmt::Display for ReconcileResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Makes the metrics of one named controller (label `controller`).
///
/// | method | controller-runtime series |
/// | --- | --- |
/// | [`new_reconcile_total`](Self::new_reconcile_total) | `controller_runtime_reconcile_total{controller,result}` |
/// | [`new_reconcile_errors`](Self::new_reconcile_errors) | `controller_runtime_reconcile_errors_total{controller}` |
/// | [`new_reconcile_panics`](Self::new_reconcile_panics) | `controller_runtime_reconcile_panics_total{controller}` |
/// | [`new_reconcile_time`](Self::new_reconcile_time) | `controller_runtime_reconcile_time_seconds{controller}` |
/// | [`new_active_workers`](Self::new_active_workers) | `controller_runtime_active_workers{controller}` |
pub trait ControllerMetricsProvider: Send + Sync {
    /// Reconciles that ended with `result`.
    fn new_reconcile_total(
        &self,
        controller: &str,
        result: ReconcileResult,
    ) -> Box<dyn CounterMetric>;
    /// Reconciles that returned an error or panicked.
    fn new_reconcile_errors(&self, controller: &str) -> Box<dyn CounterMetric>;
    /// Reconciles that panicked.
    fn new_reconcile_panics(&self, controller: &str) -> Box<dyn CounterMetric>;
    /// How long reconciles take, in seconds.
    fn new_reconcile_time(&self, controller: &str) -> Box<dyn HistogramMetric>;
    /// Workers in a reconcile right now.
    fn new_active_workers(&self, controller: &str) -> Box<dyn GaugeMetric>;
}

static DEFAULT_PROVIDER: std::sync::OnceLock<Arc<dyn ControllerMetricsProvider>> =
    std::sync::OnceLock::new();

/// Sets the provider of every named controller that was not given one with
/// [`Controller::reconcile_metrics`](super::Controller::reconcile_metrics) (as
/// `kubeforge_workqueue::set_default_metrics_provider` does for queues). Once per
/// process; returns the provider back if one was set already.
///
/// # Errors
///
/// A default provider was set before.
pub fn set_default_controller_metrics_provider(
    provider: Arc<dyn ControllerMetricsProvider>,
) -> Result<(), Arc<dyn ControllerMetricsProvider>> {
    DEFAULT_PROVIDER.set(provider)
}

/// The default provider, if one was set.
pub(super) fn default_provider() -> Option<&'static Arc<dyn ControllerMetricsProvider>> {
    DEFAULT_PROVIDER.get()
}

/// The metrics of one controller.
pub(super) struct ReconcileMetrics {
    success: Box<dyn CounterMetric>,
    requeue_after: Box<dyn CounterMetric>,
    error: Box<dyn CounterMetric>,
    errors: Box<dyn CounterMetric>,
    panics: Box<dyn CounterMetric>,
    time: Box<dyn HistogramMetric>,
    pub(super) active: Box<dyn GaugeMetric>,
}

impl ReconcileMetrics {
    pub(super) fn new(provider: &Arc<dyn ControllerMetricsProvider>, name: &str) -> Self {
        ReconcileMetrics {
            success: provider.new_reconcile_total(name, ReconcileResult::Success),
            requeue_after: provider.new_reconcile_total(name, ReconcileResult::RequeueAfter),
            error: provider.new_reconcile_total(name, ReconcileResult::Error),
            errors: provider.new_reconcile_errors(name),
            panics: provider.new_reconcile_panics(name),
            time: provider.new_reconcile_time(name),
            active: provider.new_active_workers(name),
        }
    }

    pub(super) fn observe(&self, result: ReconcileResult, panicked: bool, seconds: f64) {
        self.time.observe(seconds);
        match result {
            ReconcileResult::Success => self.success.inc(),
            ReconcileResult::RequeueAfter => self.requeue_after.inc(),
            ReconcileResult::Error => {
                self.error.inc();
                self.errors.inc();
                if panicked {
                    self.panics.inc();
                }
            }
        }
    }
}

#[cfg(feature = "prometheus")]
pub use self::prometheus::PrometheusControllerMetrics;

#[cfg(feature = "prometheus")]
mod prometheus {
    use prometheus_client::encoding::EncodeLabelSet;
    use prometheus_client::metrics::counter::Counter;
    use prometheus_client::metrics::family::Family;
    use prometheus_client::metrics::gauge::Gauge;
    use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
    use prometheus_client::registry::Registry;

    use super::{
        ControllerMetricsProvider, CounterMetric, GaugeMetric, HistogramMetric, ReconcileResult,
    };

    #[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
    struct ControllerLabels {
        controller: String,
    }

    #[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
    struct ResultLabels {
        controller: String,
        result: String,
    }

    /// Reconciles take milliseconds to minutes: 5 ms doubling up to ~80 s.
    fn reconcile_histogram() -> Histogram {
        Histogram::new(exponential_buckets(0.005, 2.0, 15))
    }

    /// A [`ControllerMetricsProvider`] registering controller-runtime's series in
    /// a prometheus-client `Registry` (feature `prometheus`). One provider serves
    /// every controller; each is a label value.
    #[derive(Debug, Clone)]
    pub struct PrometheusControllerMetrics {
        total: Family<ResultLabels, Counter>,
        errors: Family<ControllerLabels, Counter>,
        panics: Family<ControllerLabels, Counter>,
        time: Family<ControllerLabels, Histogram, fn() -> Histogram>,
        active: Family<ControllerLabels, Gauge>,
    }

    impl PrometheusControllerMetrics {
        /// Registers the series in `registry`.
        pub fn new(registry: &mut Registry) -> Self {
            let metrics = PrometheusControllerMetrics {
                total: Family::default(),
                errors: Family::default(),
                panics: Family::default(),
                time: Family::new_with_constructor(reconcile_histogram),
                active: Family::default(),
            };
            // prometheus-client appends `_total` to counters.
            registry.register(
                "controller_runtime_reconcile",
                "Total number of reconciliations per controller and result",
                metrics.total.clone(),
            );
            registry.register(
                "controller_runtime_reconcile_errors",
                "Total number of reconciliation errors per controller",
                metrics.errors.clone(),
            );
            registry.register(
                "controller_runtime_reconcile_panics",
                "Total number of reconciliation panics per controller",
                metrics.panics.clone(),
            );
            registry.register(
                "controller_runtime_reconcile_time_seconds",
                "Length of time per reconciliation per controller",
                metrics.time.clone(),
            );
            registry.register(
                "controller_runtime_active_workers",
                "Number of workers in a reconcile per controller",
                metrics.active.clone(),
            );
            metrics
        }
    }

    fn controller(name: &str) -> ControllerLabels {
        ControllerLabels {
            controller: name.to_owned(),
        }
    }

    impl ControllerMetricsProvider for PrometheusControllerMetrics {
        fn new_reconcile_total(
            &self,
            name: &str,
            result: ReconcileResult,
        ) -> Box<dyn CounterMetric> {
            let labels = ResultLabels {
                controller: name.to_owned(),
                result: result.as_str().to_owned(),
            };
            Box::new(self.total.get_or_create(&labels).clone())
        }

        fn new_reconcile_errors(&self, name: &str) -> Box<dyn CounterMetric> {
            Box::new(self.errors.get_or_create(&controller(name)).clone())
        }

        fn new_reconcile_panics(&self, name: &str) -> Box<dyn CounterMetric> {
            Box::new(self.panics.get_or_create(&controller(name)).clone())
        }

        fn new_reconcile_time(&self, name: &str) -> Box<dyn HistogramMetric> {
            Box::new(self.time.get_or_create(&controller(name)).clone())
        }

        fn new_active_workers(&self, name: &str) -> Box<dyn GaugeMetric> {
            Box::new(self.active.get_or_create(&controller(name)).clone())
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn series_carry_controller_runtime_names_and_labels() {
            let mut registry = Registry::default();
            let provider = PrometheusControllerMetrics::new(&mut registry);
            let metrics = super::super::ReconcileMetrics::new(
                &(std::sync::Arc::new(provider) as std::sync::Arc<dyn ControllerMetricsProvider>),
                "demo",
            );
            metrics.observe(ReconcileResult::Success, false, 0.01);
            metrics.observe(ReconcileResult::Error, true, 0.02);
            let mut text = String::new();
            prometheus_client::encoding::text::encode(&mut text, &registry)
                .expect("registry encodes");
            for line in [
                "controller_runtime_reconcile_total{controller=\"demo\",result=\"success\"} 1",
                "controller_runtime_reconcile_total{controller=\"demo\",result=\"error\"} 1",
                "controller_runtime_reconcile_errors_total{controller=\"demo\"} 1",
                "controller_runtime_reconcile_panics_total{controller=\"demo\"} 1",
                "controller_runtime_reconcile_time_seconds_count{controller=\"demo\"} 2",
            ] {
                assert!(text.contains(line), "missing {line:?} in\n{text}");
            }
        }
    }
}
