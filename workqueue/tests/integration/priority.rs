use std::time::Duration;

use kubeforge_workqueue::{Priority, Queue, QueueConfig};

/// Without aging in play, higher priorities go first, FIFO within one.
#[tokio::test(start_paused = true)]
async fn higher_priority_items_are_handed_out_first() {
    let queue = Queue::new();
    queue.add_with_priority("low", Priority::Low);
    queue.add("normal-1");
    queue.add_with_priority("high", Priority::High);
    queue.add("normal-2");
    let mut order = Vec::new();
    for _ in 0..4 {
        order.push(queue.get().await.expect("queued"));
    }
    assert_eq!(order, ["high", "normal-1", "normal-2", "low"]);
}

/// Re-adding a waiting item at a higher priority promotes it; at a lower one
/// it stays where it is.
#[tokio::test(start_paused = true)]
async fn readding_at_higher_priority_promotes_and_never_demotes() {
    let queue = Queue::new();
    queue.add_with_priority("a", Priority::Low);
    queue.add("b");
    queue.add_with_priority("a", Priority::High);
    queue.add_with_priority("b", Priority::Low); // stays Normal
    assert_eq!(queue.len(), 2);
    assert_eq!(queue.get().await, Some("a"));
    assert_eq!(queue.get().await, Some("b"));
    assert!(queue.is_empty());
}

/// A low-priority item that has waited two aging intervals is handed out
/// before fresher high-priority items: low priority cannot starve.
#[tokio::test(start_paused = true)]
async fn aging_keeps_low_priority_from_starving() {
    let aging = Duration::from_secs(1);
    let queue = Queue::with_config(QueueConfig::new().aging(aging));
    queue.add_with_priority("resync".to_string(), Priority::Low);

    // A stream of fresh high-priority work: one item every 100 ms.
    let mut handed = Vec::new();
    for i in 0..40 {
        queue.add_with_priority(format!("event-{i}"), Priority::High);
        let item = queue.get().await.expect("queued");
        queue.done(&item);
        handed.push(item);
        tokio::time::advance(Duration::from_millis(100)).await;
    }
    // Two levels to climb at one per second: at 2 s (step 20) it ties with
    // the fresh high item and wins as the older one.
    let position = handed.iter().position(|i| i == "resync");
    assert_eq!(position, Some(20), "{handed:?}");
}

/// Items of one priority keep arrival order even when aging is at play.
#[tokio::test(start_paused = true)]
async fn aging_keeps_fifo_order_within_a_lane() {
    let queue = Queue::with_config(QueueConfig::new().aging(Duration::from_millis(10)));
    for i in 0..5 {
        queue.add_with_priority(i, Priority::Low);
        tokio::time::advance(Duration::from_millis(7)).await;
    }
    queue.add_with_priority(100, Priority::High);
    let mut order = Vec::new();
    while let Ok(Some(item)) = tokio::time::timeout(Duration::ZERO, queue.get()).await {
        order.push(item);
    }
    let lows: Vec<_> = order.iter().copied().filter(|&i| i < 100).collect();
    assert_eq!(lows, [0, 1, 2, 3, 4]);
    // The oldest low item aged past the fresh high one.
    assert_eq!(order[0], 0);
}
