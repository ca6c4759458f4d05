use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kubeforge_workqueue::{
    CounterMetric, DelayingQueue, GaugeMetric, HistogramMetric, MetricsProvider, Queue,
    QueueConfig, SettableGaugeMetric,
};
use parking_lot::Mutex;

/// Everything a queue reported, by series.
#[derive(Debug, Default)]
struct Recorded {
    gauges: BTreeMap<&'static str, f64>,
    counters: BTreeMap<&'static str, u64>,
    observations: BTreeMap<&'static str, Vec<f64>>,
    created_for: Vec<String>,
}

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Recorded>>);

struct Series(&'static str, Recorder);

impl GaugeMetric for Series {
    fn inc(&self) {
        *self.1.0.lock().gauges.entry(self.0).or_default() += 1.0;
    }
    fn dec(&self) {
        *self.1.0.lock().gauges.entry(self.0).or_default() -= 1.0;
    }
}
impl SettableGaugeMetric for Series {
    fn set(&self, value: f64) {
        self.1.0.lock().gauges.insert(self.0, value);
    }
}
impl CounterMetric for Series {
    fn inc(&self) {
        *self.1.0.lock().counters.entry(self.0).or_default() += 1;
    }
}
impl HistogramMetric for Series {
    fn observe(&self, value: f64) {
        self.1
            .0
            .lock()
            .observations
            .entry(self.0)
            .or_default()
            .push(value);
    }
}

impl Recorder {
    fn series(&self, name: &str, series: &'static str) -> Box<Series> {
        self.0.lock().created_for.push(name.to_owned());
        Box::new(Series(series, self.clone()))
    }
    fn gauge(&self, series: &str) -> f64 {
        self.0.lock().gauges.get(series).copied().unwrap_or(0.0)
    }
    fn counter(&self, series: &str) -> u64 {
        self.0.lock().counters.get(series).copied().unwrap_or(0)
    }
    fn observed(&self, series: &str) -> Vec<f64> {
        self.0
            .lock()
            .observations
            .get(series)
            .cloned()
            .unwrap_or_default()
    }
}

impl MetricsProvider for Recorder {
    fn new_depth_metric(&self, name: &str) -> Box<dyn GaugeMetric> {
        self.series(name, "depth")
    }
    fn new_adds_metric(&self, name: &str) -> Box<dyn CounterMetric> {
        self.series(name, "adds")
    }
    fn new_latency_metric(&self, name: &str) -> Box<dyn HistogramMetric> {
        self.series(name, "queue_duration")
    }
    fn new_work_duration_metric(&self, name: &str) -> Box<dyn HistogramMetric> {
        self.series(name, "work_duration")
    }
    fn new_unfinished_work_seconds_metric(&self, name: &str) -> Box<dyn SettableGaugeMetric> {
        self.series(name, "unfinished_work")
    }
    fn new_longest_running_processor_seconds_metric(
        &self,
        name: &str,
    ) -> Box<dyn SettableGaugeMetric> {
        self.series(name, "longest_running")
    }
    fn new_retries_metric(&self, name: &str) -> Box<dyn CounterMetric> {
        self.series(name, "retries")
    }
}

fn named_queue(recorder: &Recorder) -> Queue<&'static str> {
    Queue::with_config(
        QueueConfig::new()
            .name("pods")
            .metrics_provider(Arc::new(recorder.clone())),
    )
}

/// Depth and adds count items becoming dirty; coalesced adds count nothing.
#[tokio::test(start_paused = true)]
async fn depth_and_adds_count_new_dirty_items_only() {
    let recorder = Recorder::default();
    let queue = named_queue(&recorder);
    queue.add("a");
    queue.add("a");
    queue.add("b");
    assert_eq!(recorder.gauge("depth"), 2.0);
    assert_eq!(recorder.counter("adds"), 2);
    let item = queue.get().await.expect("queued");
    assert_eq!(recorder.gauge("depth"), 1.0);
    queue.add(item); // dirty again while processing: counted
    assert_eq!(recorder.counter("adds"), 3);
    assert_eq!(recorder.gauge("depth"), 2.0);
    queue.done(&item);
    assert_eq!(recorder.gauge("depth"), 2.0);
    assert_eq!(recorder.0.lock().created_for, vec!["pods"; 7]);
}

/// Queue duration runs from add to get; work duration from get to done.
#[tokio::test(start_paused = true)]
async fn durations_measure_waiting_and_processing() {
    let recorder = Recorder::default();
    let queue = named_queue(&recorder);
    queue.add("a");
    tokio::time::advance(Duration::from_secs(2)).await;
    let item = queue.get().await.expect("queued");
    tokio::time::advance(Duration::from_secs(3)).await;
    queue.done(&item);
    assert_eq!(recorder.observed("queue_duration"), [2.0]);
    assert_eq!(recorder.observed("work_duration"), [3.0]);
}

/// The unfinished-work gauges sum and max the ages of items in flight,
/// refreshed every 500 ms.
#[tokio::test(start_paused = true)]
async fn unfinished_work_gauges_track_items_in_flight() {
    let recorder = Recorder::default();
    let queue = named_queue(&recorder);
    queue.add("a");
    queue.add("b");
    let a = queue.get().await.expect("queued");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let b = queue.get().await.expect("queued");
    tokio::time::sleep(Duration::from_millis(1250)).await;
    // Last refreshed at 2 s, when "a" had run 2 s and "b" 1 s.
    assert_eq!(recorder.gauge("unfinished_work"), 3.0);
    assert_eq!(recorder.gauge("longest_running"), 2.0);
    queue.done(&a);
    queue.done(&b);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(recorder.gauge("unfinished_work"), 0.0);
    assert_eq!(recorder.gauge("longest_running"), 0.0);
}

/// Every add_after counts as a retry, including a zero delay.
#[tokio::test(start_paused = true)]
async fn retries_count_every_add_after() {
    let recorder = Recorder::default();
    let queue: DelayingQueue<&str> = DelayingQueue::with_config(
        QueueConfig::new()
            .name("pods")
            .metrics_provider(Arc::new(recorder.clone())),
    );
    queue.add_after("a", Duration::from_secs(1));
    queue.add_after("a", Duration::from_secs(2));
    queue.add_after("b", Duration::ZERO);
    assert_eq!(recorder.counter("retries"), 3);
}

/// A queue without a name creates no metrics at all.
#[tokio::test(start_paused = true)]
async fn unnamed_queues_emit_nothing() {
    let recorder = Recorder::default();
    let queue: Queue<&str> =
        Queue::with_config(QueueConfig::new().metrics_provider(Arc::new(recorder.clone())));
    queue.add("a");
    let item = queue.get().await.expect("queued");
    queue.done(&item);
    let recorded = recorder.0.lock();
    assert!(recorded.created_for.is_empty());
    assert!(recorded.gauges.is_empty() && recorded.counters.is_empty());
}

/// The Prometheus provider exposes client-go's series names with a `name`
/// label.
#[cfg(feature = "prometheus")]
#[tokio::test(start_paused = true)]
async fn prometheus_provider_exposes_the_seven_series() {
    use kubeforge_workqueue::PrometheusMetricsProvider;
    use prometheus_client::registry::Registry;

    let mut registry = Registry::default();
    let provider = Arc::new(PrometheusMetricsProvider::new(&mut registry));
    let queue: DelayingQueue<&str> =
        DelayingQueue::with_config(QueueConfig::new().name("pods").metrics_provider(provider));
    queue.add("a");
    queue.add_after("b", Duration::from_secs(1));
    let item = queue.get().await.expect("queued");
    queue.done(&item);

    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).expect("encodes");
    for line in [
        r#"workqueue_depth{name="pods"} 0"#,
        r#"workqueue_adds_total{name="pods"} 1"#,
        r#"workqueue_queue_duration_seconds_count{name="pods"} 1"#,
        r#"workqueue_work_duration_seconds_count{name="pods"} 1"#,
        r#"workqueue_unfinished_work_seconds{name="pods"} 0"#,
        r#"workqueue_longest_running_processor_seconds{name="pods"} 0"#,
        r#"workqueue_retries_total{name="pods"} 1"#,
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(line)),
            "missing {line} in\n{text}"
        );
    }
}
