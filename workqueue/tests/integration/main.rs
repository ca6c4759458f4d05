//! The one integration test binary of kubeforge-workqueue.

/// `DelayingQueue`: add_after ordering, moves, shutdown, the timer task.
mod delaying;
/// Metrics: the seven series' meanings, unnamed queues, Prometheus names.
mod metrics;
/// Proptest state machines against a reference model.
mod model;
/// Priority lanes and aging.
mod priority;
/// `Queue`: waiting, shutdown, drain, cancel safety, concurrent workers.
mod queue;
/// `RateLimitingQueue`: limiter-driven requeues, forget, success-aware backoff.
mod rate_limiting;
