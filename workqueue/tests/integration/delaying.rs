use std::time::Duration;

use kubeforge_workqueue::DelayingQueue;
use tokio::time::Instant;

const MS: Duration = Duration::from_millis(1);

/// Items scheduled out of order come out in ready-time order, each at its time.
#[tokio::test(start_paused = true)]
async fn add_after_hands_out_in_ready_time_order() {
    let queue = DelayingQueue::new();
    let start = Instant::now();
    queue.add_after("foo", 1000 * MS);
    queue.add_after("bar", 500 * MS);
    queue.add_after("baz", 250 * MS);
    assert_eq!(queue.len(), 0);
    assert_eq!(queue.waiting_len(), 3);
    for (name, at) in [("baz", 250), ("bar", 500), ("foo", 1000)] {
        assert_eq!(queue.get().await, Some(name));
        assert_eq!(start.elapsed(), at * MS);
    }
}

/// Re-adding a waiting item with a shorter delay moves it earlier; with a
/// longer one it stays.
#[tokio::test(start_paused = true)]
async fn readding_a_waiting_item_only_moves_it_earlier() {
    let queue = DelayingQueue::new();
    let start = Instant::now();
    queue.add_after("a", 100 * MS);
    queue.add_after("a", 300 * MS); // later: ignored
    queue.add_after("a", 50 * MS); // earlier: moves
    assert_eq!(queue.waiting_len(), 1);
    assert_eq!(queue.get().await, Some("a"));
    assert_eq!(start.elapsed(), 50 * MS);
    queue.done(&"a");
    // Nothing else was left scheduled.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(queue.len(), 0);
}

/// A zero delay is a plain add.
#[tokio::test(start_paused = true)]
async fn zero_delay_is_a_plain_add() {
    let queue = DelayingQueue::new();
    queue.add_after("a", Duration::ZERO);
    assert_eq!(queue.len(), 1);
    assert_eq!(queue.waiting_len(), 0);
}

/// Scheduled items are dropped at shutdown and later add_afters are ignored.
#[tokio::test(start_paused = true)]
async fn waiting_items_are_dropped_at_shutdown() {
    let queue = DelayingQueue::new();
    queue.add_after("a", 10 * MS);
    queue.add("b");
    queue.shut_down();
    queue.add_after("c", 10 * MS);
    assert_eq!(queue.waiting_len(), 0);
    assert_eq!(queue.get().await, Some("b"));
    assert_eq!(queue.get().await, None);
}

/// A due item that is being processed is handed out once more after done.
#[tokio::test(start_paused = true)]
async fn due_item_being_processed_runs_again_after_done() {
    let queue = DelayingQueue::new();
    queue.add("a");
    let item = queue.get().await.expect("queued");
    queue.add_after("a", 10 * MS);
    tokio::time::sleep(20 * MS).await;
    assert_eq!(queue.len(), 0, "not queued while processing");
    queue.done(&item);
    assert_eq!(queue.len(), 1);
    assert_eq!(queue.get().await, Some("a"));
}

/// A huge delay neither panics nor wraps around: the item just waits.
#[tokio::test(start_paused = true)]
async fn huge_delay_does_not_overflow() {
    let queue = DelayingQueue::new();
    queue.add_after("a", Duration::MAX);
    queue.add_after("b", MS);
    assert_eq!(queue.get().await, Some("b"));
    assert_eq!(queue.waiting_len(), 1);
}

/// Dropping the last handle stops the timer task.
#[tokio::test(start_paused = true)]
async fn dropping_the_queue_stops_its_timer_task() {
    let queue = DelayingQueue::new();
    queue.add_after(1u32, Duration::from_secs(3600));
    tokio::task::yield_now().await;
    let tasks_before = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks();
    assert_eq!(tasks_before, 1);
    drop(queue);
    tokio::task::yield_now().await;
    assert_eq!(
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks(),
        0
    );
}
