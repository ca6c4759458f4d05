//! Work queues with client-go's `util/workqueue` semantics, for async Rust.
//!
//! Every controller's reconcile loop is fed by a work queue: event handlers
//! add object keys, N workers take keys out, reconcile, and on failure put the
//! key back with a growing delay. This crate gives that loop client-go's
//! guarantees to the letter:
//!
//! - a key is never handed to two workers at once;
//! - adding a key that is already waiting does nothing, so a burst of events
//!   for one object costs one reconcile;
//! - adding a key while a worker processes it hands it out exactly once more,
//!   after that worker calls `done`, so no change is missed;
//! - shutting down with drain waits for the work in flight.
//!
//! Use it when your workers need those guarantees; a plain channel is enough
//! when every message must be processed as sent, duplicates included.
//!
//! # Example: a reconcile loop
//!
//! Four workers share one [`RateLimitingQueue`]. A failed reconcile puts the
//! key back with [`add_rate_limited`](RateLimitingQueue::add_rate_limited); a
//! successful one calls [`forget`](RateLimitingQueue::forget) so the key's
//! next failure starts from the shortest delay again.
//!
//! ```
//! use std::collections::HashMap;
//! use std::sync::{Arc, Mutex};
//! use kubeforge_workqueue::{RateLimitingQueue, default_controller_rate_limiter};
//!
//! #[derive(Debug)]
//! struct Conflict;
//!
//! /// Fails the first two attempts for every key, like a write that loses
//! /// two optimistic-concurrency races.
//! fn reconcile(key: &str, attempts: &Mutex<HashMap<String, u32>>) -> Result<(), Conflict> {
//!     let mut attempts = attempts.lock().expect("not poisoned");
//!     let n = attempts.entry(key.to_owned()).or_default();
//!     *n += 1;
//!     if *n <= 2 { Err(Conflict) } else { Ok(()) }
//! }
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let queue = RateLimitingQueue::<String>::new(default_controller_rate_limiter());
//! let attempts = Arc::new(Mutex::new(HashMap::new()));
//! let reconciled = Arc::new(Mutex::new(Vec::new()));
//!
//! let mut workers = Vec::new();
//! for _ in 0..4 {
//!     let (queue, attempts, reconciled) = (queue.clone(), attempts.clone(), reconciled.clone());
//!     workers.push(tokio::spawn(async move {
//!         while let Some(key) = queue.get().await {
//!             match reconcile(&key, &attempts) {
//!                 Ok(()) => {
//!                     queue.forget(&key);
//!                     reconciled.lock().expect("not poisoned").push(key.clone());
//!                 }
//!                 Err(Conflict) => queue.add_rate_limited(key.clone()),
//!             }
//!             queue.done(&key);
//!         }
//!     }));
//! }
//!
//! for name in ["default/a", "default/b", "default/c"] {
//!     queue.add(name.to_string());
//! }
//! // Each key fails twice (retried after 5 ms, then 10 ms) and then succeeds.
//! while reconciled.lock().expect("not poisoned").len() < 3 {
//!     tokio::time::sleep(std::time::Duration::from_millis(1)).await;
//! }
//! queue.shut_down_with_drain().await;
//! for worker in workers {
//!     worker.await?;
//! }
//! assert_eq!(attempts.lock().expect("not poisoned")["default/a"], 3);
//! assert_eq!(queue.num_requeues(&"default/a".to_string()), 0);
//! # Ok(())
//! # }
//! ```
//!
//! # Layout
//!
//! | type | client-go | what it adds |
//! | --- | --- | --- |
//! | [`Queue`] | `TypedInterface` | FIFO with the dirty and processing sets, shutdown, drain, priority lanes |
//! | [`DelayingQueue`] | `TypedDelayingInterface` | [`add_after`](DelayingQueue::add_after), on tokio's clock |
//! | [`RateLimitingQueue`] | `TypedRateLimitingInterface` | `add_rate_limited`, `forget`, `num_requeues` |
//! | [`RateLimiter`] | `TypedRateLimiter` | the trait to bring your own retry policy |
//! | [`ItemExponentialFailureRateLimiter`], [`ItemFastSlowRateLimiter`], [`BucketRateLimiter`], [`MaxOfRateLimiter`], [`WithMaxWaitRateLimiter`] | same names | client-go's limiters and defaults ([`default_controller_rate_limiter`]) |
//! | [`ItemBackoffRateLimiter`] | — | backoff that event-triggered failures do not inflate |
//! | [`MetricsProvider`] | `MetricsProvider` | the seven `workqueue_*` series; `PrometheusMetricsProvider` behind the `prometheus` feature |
//!
//! Newcomers start with [`RateLimitingQueue`] and
//! [`default_controller_rate_limiter`]: that is what a client-go controller
//! uses.
//!
//! # Beyond client-go
//!
//! - [`ItemBackoffRateLimiter`] (and [`backoff_controller_rate_limiter`]):
//!   a key's exponent advances only when its previous backoff has elapsed, so
//!   failures of runs triggered by events during the backoff do not push it
//!   to the cap (kubernetes/kubernetes#132805); `forget` on success resets it.
//! - [`Priority`] lanes with aging: resyncs can go in at [`Priority::Low`]
//!   without starving, because a waiting item rises one level per
//!   [`QueueConfig::aging`].
//!
//! # Cancellation
//!
//! Every async method is cancel-safe: dropping a [`Queue::get`] future loses
//! no item. Each documents this under `# Cancel safety`.
//!
//! # Runtime
//!
//! The queues run on tokio. A delaying queue starts one background task at its
//! first delayed add and a named queue one at its first `get`; both stop at
//! shutdown or when the last handle is dropped.

mod config;
mod core;
mod delaying;
mod items;
mod lanes;
mod loom;
mod metrics;
mod queue;
mod rate_limiter;
mod rate_limiting;
mod state;
mod waiting;

#[cfg(test)]
mod tests;

pub use crate::config::{Priority, QueueConfig};
pub use crate::delaying::DelayingQueue;
#[cfg(feature = "prometheus")]
pub use crate::metrics::PrometheusMetricsProvider;
pub use crate::metrics::{
    CounterMetric, GaugeMetric, HistogramMetric, MetricsProvider, SettableGaugeMetric,
    set_default_metrics_provider,
};
pub use crate::queue::Queue;
pub use crate::rate_limiter::{
    BucketRateLimiter, ItemBackoffRateLimiter, ItemExponentialFailureRateLimiter,
    ItemFastSlowRateLimiter, MaxOfRateLimiter, RateLimiter, WithMaxWaitRateLimiter,
    backoff_controller_rate_limiter, default_controller_rate_limiter,
    default_item_based_rate_limiter,
};
pub use crate::rate_limiting::RateLimitingQueue;
