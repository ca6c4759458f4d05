use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use kubeforge_workqueue::Queue;

/// `get` parks on an empty queue and returns the item added later.
#[tokio::test]
async fn get_waits_for_an_item_added_later() {
    let queue = Queue::new();
    let getter = tokio::spawn({
        let queue = queue.clone();
        async move { queue.get().await }
    });
    tokio::task::yield_now().await;
    queue.add("a");
    assert_eq!(getter.await.expect("getter"), Some("a"));
}

/// After `shut_down`, queued items are still handed out; then `None`.
#[tokio::test]
async fn shut_down_hands_out_remaining_items_then_none() {
    let queue = Queue::new();
    queue.add(1);
    queue.add(2);
    queue.shut_down();
    queue.add(3); // ignored
    assert!(queue.is_shutting_down());
    assert_eq!(queue.get().await, Some(1));
    assert_eq!(queue.get().await, Some(2));
    assert_eq!(queue.get().await, None);
}

/// `shut_down` wakes every parked `get` with `None`.
#[tokio::test]
async fn shut_down_wakes_all_parked_getters() {
    let queue: Queue<u32> = Queue::new();
    let getters: Vec<_> = (0..3)
        .map(|_| {
            let queue = queue.clone();
            tokio::spawn(async move { queue.get().await })
        })
        .collect();
    tokio::task::yield_now().await;
    queue.shut_down();
    for getter in getters {
        assert_eq!(getter.await.expect("getter"), None);
    }
}

/// `shut_down_with_drain` returns only after the item in flight is done.
#[tokio::test]
async fn shut_down_with_drain_waits_for_in_flight_work() {
    let queue = Queue::new();
    queue.add("a");
    let item = queue.get().await.expect("queued");
    let finished = Arc::new(AtomicBool::new(false));
    let worker = tokio::spawn({
        let (queue, finished) = (queue.clone(), finished.clone());
        async move {
            tokio::task::yield_now().await;
            finished.store(true, Ordering::SeqCst);
            queue.done(&item);
        }
    });
    queue.shut_down_with_drain().await;
    assert!(finished.load(Ordering::SeqCst));
    worker.await.expect("worker");
}

/// A later `shut_down` ends a drain that would otherwise never finish.
#[tokio::test]
async fn shut_down_cancels_a_pending_drain() {
    let queue = Queue::new();
    queue.add("stuck");
    let _item = queue.get().await.expect("queued"); // never done
    let drain = tokio::spawn({
        let queue = queue.clone();
        async move { queue.shut_down_with_drain().await }
    });
    tokio::task::yield_now().await;
    assert!(!drain.is_finished());
    queue.shut_down();
    drain.await.expect("drain ends");
}

/// Dropping a parked `get` loses nothing: the next `get` receives the item,
/// and a wake-up meant for the dropped one reaches another getter.
#[tokio::test]
async fn get_is_cancel_safe() {
    let queue = Queue::new();
    let cancelled = tokio::time::timeout(Duration::from_millis(1), queue.get()).await;
    assert!(cancelled.is_err());

    let first = tokio::spawn({
        let queue = queue.clone();
        async move { tokio::time::timeout(Duration::from_millis(1), queue.get()).await }
    });
    let second = tokio::spawn({
        let queue = queue.clone();
        async move { queue.get().await }
    });
    tokio::task::yield_now().await;
    first.abort();
    let _ = first.await;
    queue.add("a");
    assert_eq!(second.await.expect("second getter"), Some("a"));
    assert_eq!(queue.len(), 0);
}

/// Done for an item that is not being processed changes nothing.
#[tokio::test]
async fn done_for_an_item_not_in_processing_is_ignored() {
    let queue = Queue::new();
    queue.add("a");
    queue.done(&"a");
    queue.done(&"never-added");
    assert_eq!(queue.len(), 1);
    assert_eq!(queue.get().await, Some("a"));
    queue.shut_down();
    queue.done(&"a");
    assert_eq!(queue.get().await, None);
}

/// Four workers on a multi-thread runtime with producers re-adding keys all
/// the time: no key is ever held by two workers, and every key added after
/// its last processing started is processed again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_workers_never_share_an_item_and_miss_no_add() {
    const KEYS: u32 = 50;
    let queue = Queue::new();
    let holders: Arc<Vec<AtomicUsize>> = Arc::new((0..KEYS).map(|_| AtomicUsize::new(0)).collect());
    let processed = Arc::new(parking_lot::Mutex::new(HashSet::new()));

    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (queue, holders, processed) = (queue.clone(), holders.clone(), processed.clone());
            tokio::spawn(async move {
                while let Some(key) = queue.get().await {
                    let held = holders[key as usize].fetch_add(1, Ordering::SeqCst);
                    assert_eq!(held, 0, "key {key} handed to two workers");
                    tokio::task::yield_now().await;
                    holders[key as usize].fetch_sub(1, Ordering::SeqCst);
                    processed.lock().insert(key);
                    queue.done(&key);
                }
            })
        })
        .collect();
    let producers: Vec<_> = (0..2)
        .map(|p| {
            let queue = queue.clone();
            tokio::spawn(async move {
                for i in 0..5_000u32 {
                    queue.add((i * 7 + p) % KEYS);
                    if i % 64 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            })
        })
        .collect();
    for producer in producers {
        producer.await.expect("producer");
    }
    queue.shut_down_with_drain().await;
    for worker in workers {
        worker.await.expect("worker");
    }
    assert_eq!(processed.lock().len(), KEYS as usize);
    assert_eq!(queue.len(), 0);
}

/// An add recorded before a `done` keeps its place ahead of the requeue.
#[tokio::test]
async fn add_before_done_keeps_fifo_order_with_the_requeue() {
    let queue = Queue::new();
    queue.add(1);
    let item = queue.get().await.expect("queued");
    queue.add(1); // while processing: runs again after done
    queue.add(2);
    queue.done(&item);
    assert_eq!(queue.get().await, Some(2));
    assert_eq!(queue.get().await, Some(1));
}

/// No wake-up is lost: bursts of adds reach parked workers while some of
/// their `get` calls are being cancelled, and every burst is handed out with
/// no shutdown to wake anyone. A lost wake-up leaves an item waiting with
/// every worker asleep, and the guard below fails instead of hanging.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_reach_parked_workers_while_gets_are_cancelled() {
    let queue: Queue<u32> = Queue::new();
    let handled = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..3u64)
        .map(|w| {
            let (queue, handled) = (queue.clone(), handled.clone());
            tokio::spawn(async move {
                for n in 0u64.. {
                    let key = if (n + w) % 3 == 0 {
                        // Give up on this `get` once it has parked.
                        tokio::select! {
                            biased;
                            key = queue.get() => key,
                            () = tokio::task::yield_now() => continue,
                        }
                    } else {
                        queue.get().await
                    };
                    let Some(key) = key else { break };
                    handled.fetch_add(1, Ordering::SeqCst);
                    queue.done(&key);
                }
            })
        })
        .collect();
    let mut expected = 0;
    for round in 0..300u32 {
        let burst = 1 + round % 5;
        for k in 0..burst {
            queue.add(round * 10 + k);
        }
        expected += burst as usize;
        tokio::time::timeout(Duration::from_secs(60), async {
            while handled.load(Ordering::SeqCst) < expected {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("every item of the burst is handed out");
    }
    queue.shut_down();
    for worker in workers {
        worker.await.expect("worker");
    }
    assert_eq!(handled.load(Ordering::SeqCst), expected);
}
