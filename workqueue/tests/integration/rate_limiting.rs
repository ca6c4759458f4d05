use std::collections::HashMap;
use std::time::Duration;

use kubeforge_workqueue::{
    RateLimiter, RateLimitingQueue, backoff_controller_rate_limiter,
    default_controller_rate_limiter,
};
use tokio::time::Instant;

const MS: Duration = Duration::from_millis(1);

/// Each failure of one key waits twice as long as the previous one, on the
/// default controller limiter.
#[tokio::test(start_paused = true)]
async fn add_rate_limited_retries_after_growing_delays() {
    let queue = RateLimitingQueue::new(default_controller_rate_limiter());
    queue.add("key");
    let mut item = queue.get().await.expect("queued");
    let mut waits = Vec::new();
    for _ in 0..4 {
        // Processing failed: retry later.
        let start = Instant::now();
        queue.add_rate_limited(item);
        queue.done(&item);
        item = queue.get().await.expect("retried");
        waits.push(start.elapsed());
    }
    assert_eq!(waits, [5 * MS, 10 * MS, 20 * MS, 40 * MS]);
    assert_eq!(queue.num_requeues(&"key"), 4);
}

/// `forget` on success resets the key: its next failure waits the base delay.
#[tokio::test(start_paused = true)]
async fn forget_resets_a_keys_backoff() {
    let queue = RateLimitingQueue::new(default_controller_rate_limiter());
    for _ in 0..5 {
        queue.add_rate_limited("key");
    }
    assert_eq!(queue.num_requeues(&"key"), 5);
    queue.forget(&"key");
    assert_eq!(queue.num_requeues(&"key"), 0);
    let item = queue.get().await.expect("retried");
    queue.done(&item);
    let start = Instant::now();
    queue.add_rate_limited("key");
    queue.get().await.expect("retried");
    assert_eq!(start.elapsed(), 5 * MS);
}

/// Simulates kubernetes/kubernetes#132805: a failing key that events keep
/// re-triggering during its backoff. Returns the failures counted after
/// `events` event-triggered failures within 1 s.
async fn failures_after_spurious_events(
    queue: RateLimitingQueue<&'static str>,
    events: u32,
) -> u32 {
    queue.add("rs");
    for _ in 0..events {
        let key = queue.get().await.expect("queued");
        // Reconcile fails (the webhook is down) and asks for a retry.
        queue.add_rate_limited(key);
        queue.done(&key);
        // A pod flaps Ready/Unready: an event re-triggers the key at once.
        tokio::time::advance(Duration::from_secs(1) / events).await;
        queue.add(key);
    }
    queue.num_requeues(&"rs")
}

/// Regression test for kubernetes/kubernetes#132805: with the backoff
/// limiter, failures of event-triggered runs during a backoff do not advance
/// the exponent, while client-go's limiter counts every one of them.
#[tokio::test(start_paused = true)]
async fn kubernetes_132805_event_triggered_failures_do_not_inflate_backoff() {
    let client_go = failures_after_spurious_events(
        RateLimitingQueue::new(default_controller_rate_limiter()),
        50,
    )
    .await;
    let ours = failures_after_spurious_events(
        RateLimitingQueue::new(backoff_controller_rate_limiter()),
        50,
    )
    .await;
    // client-go: 50 failures, so the next delay is the 1000 s cap.
    assert_eq!(client_go, 50);
    // Ours: a failure counts only once the previous backoff has elapsed,
    // which happens at 0, 20, 40, 60, 100, 180, 340 and 660 ms (the 640 ms
    // backoff started at 660 ms is still running at the last event).
    assert_eq!(ours, 8);
}

/// A user-supplied limiter drives the delays.
#[tokio::test(start_paused = true)]
async fn a_custom_rate_limiter_is_used() {
    struct Fixed(parking_lot::Mutex<HashMap<&'static str, u32>>);
    impl RateLimiter<&'static str> for Fixed {
        fn when(&self, item: &&'static str) -> Duration {
            *self.0.lock().entry(item).or_default() += 1;
            Duration::from_secs(7)
        }
        fn forget(&self, item: &&'static str) {
            self.0.lock().remove(item);
        }
        fn num_requeues(&self, item: &&'static str) -> u32 {
            self.0.lock().get(item).copied().unwrap_or(0)
        }
    }
    let queue = RateLimitingQueue::new(Fixed(parking_lot::Mutex::new(HashMap::new())));
    let start = Instant::now();
    queue.add_rate_limited("a");
    assert_eq!(queue.get().await, Some("a"));
    assert_eq!(start.elapsed(), Duration::from_secs(7));
    assert_eq!(queue.num_requeues(&"a"), 1);
}
