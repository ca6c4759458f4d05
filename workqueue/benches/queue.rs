//! Criterion micro-benchmarks of the work queues (single task, no peers;
//! peer comparisons live in the workspace's `bench/` crate).

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use kubeforge_workqueue::{
    DelayingQueue, Queue, RateLimitingQueue, default_controller_rate_limiter,
};
use tokio::runtime::Runtime;

fn keys(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("namespace-{}/object-{i}", i % 17))
        .collect()
}

/// Delays in [0, 10 min) from a fixed-seed xorshift, as client-go's
/// `BenchmarkDelayingQueue_AddAfter` draws them.
fn delays(n: usize) -> Vec<Duration> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            Duration::from_nanos(x % 600_000_000_000)
        })
        .collect()
}

fn runtime(paused: bool) -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(paused)
        .build()
        .expect("runtime builds")
}

fn queue(c: &mut Criterion) {
    let rt = runtime(false);
    let keys10k = &keys(10_000);
    let mut group = c.benchmark_group("queue");

    // client-go's BenchmarkQueue shape, scaled: add every key, then get and
    // done each, on a fresh queue.
    group.bench_function("add_get_done/10k", |b| {
        b.to_async(&rt).iter_batched(
            Queue::new,
            |queue| async move {
                for key in keys10k {
                    queue.add(key.clone());
                }
                for _ in 0..keys10k.len() {
                    let key = queue.get().await.expect("queued");
                    queue.done(&key);
                }
                black_box(queue)
            },
            BatchSize::SmallInput,
        );
    });

    // Adds that coalesce: every key added ten times before it is handed out.
    let keys1k = keys(1_000);
    group.bench_function("add_dedup/10x1k", |b| {
        b.iter_batched(
            Queue::new,
            |queue| {
                for _ in 0..10 {
                    for key in &keys1k {
                        queue.add(key.clone());
                    }
                }
                black_box(queue)
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

fn delaying(c: &mut Criterion) {
    let rt = runtime(true);
    let keys = &keys(10_000);
    let delays = &delays(10_000);
    let mut group = c.benchmark_group("delaying");
    group.bench_function("add_after_then_drain/10k", |b| {
        b.to_async(&rt).iter_batched(
            DelayingQueue::new,
            |queue| async move {
                for (key, delay) in keys.iter().zip(delays) {
                    queue.add_after(key.clone(), *delay);
                }
                tokio::time::advance(Duration::from_secs(11 * 60)).await;
                for _ in 0..keys.len() {
                    let key = queue.get().await.expect("due");
                    queue.done(&key);
                }
                black_box(queue)
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

fn rate_limiting(c: &mut Criterion) {
    let rt = runtime(true);
    let keys = &keys(1_000);
    let mut group = c.benchmark_group("rate_limiting");
    group.bench_function("add_rate_limited_forget/1k", |b| {
        b.to_async(&rt).iter_batched(
            || RateLimitingQueue::new(default_controller_rate_limiter()),
            |queue| async move {
                for key in keys {
                    queue.add_rate_limited(key.clone());
                }
                for key in keys {
                    queue.forget(key);
                }
                black_box(queue)
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

criterion_group!(benches, queue, delaying, rate_limiting);
criterion_main!(benches);
