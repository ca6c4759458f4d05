//! kubeforge-workqueue side by side with the tokio channels a controller
//! would otherwise use (performance reference 4.5, scenarios Q1–Q4).
//!
//! Both sides of a scenario run in this process on the same runtime, in
//! interleaved rounds (ours, baseline, ours, baseline, …) after a warm-up;
//! the report gives each side's median throughput and the median ratio
//! ours/baseline with the min–max over rounds.
//!
//! ```sh
//! cargo run --release -p kubeforge-bench --bin workqueue -- [--rounds N] [--smoke]
//! ```
//!
//! `--smoke` shrinks every workload 100x to prove the harness runs (CI);
//! its figures mean nothing. `--only Q3` runs one scenario.

use std::collections::HashSet;
use std::future::poll_fn;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kubeforge_workqueue::{DelayingQueue, Queue};
use parking_lot::Mutex;
use tokio::sync::mpsc;
use tokio_util::time::DelayQueue;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Workload sizes; `--smoke` divides the item counts by 100.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    q1_ops: usize,
    q1_keys: usize,
    q2_adds: usize,
    q2_keys: usize,
    q3_items: usize,
    q4_producers: usize,
    q4_adds: usize,
    q4_workers: usize,
}

impl Sizes {
    fn full() -> Self {
        Self {
            q1_ops: 1_000_000,
            q1_keys: 10_000,
            q2_adds: 200_000,
            q2_keys: 1_000,
            q3_items: 100_000,
            q4_producers: 8,
            q4_adds: 100_000,
            q4_workers: 4,
        }
    }

    fn smoke() -> Self {
        let full = Self::full();
        Self {
            q1_ops: full.q1_ops / 100,
            q1_keys: full.q1_keys / 100,
            q2_adds: full.q2_adds / 100,
            q2_keys: full.q2_keys / 100,
            q3_items: full.q3_items / 100,
            q4_adds: full.q4_adds / 100,
            ..full
        }
    }
}

fn keys(n: usize, prefix: &str) -> Arc<Vec<String>> {
    Arc::new(
        (0..n)
            .map(|i| format!("{prefix}-{}/object-{i}", i % 17))
            .collect(),
    )
}

/// Delays in [0, 10 min) from a fixed-seed xorshift, as client-go's
/// `BenchmarkDelayingQueue_AddAfter` draws them.
fn delays(n: usize) -> Arc<Vec<Duration>> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    Arc::new(
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                Duration::from_nanos(x % 600_000_000_000)
            })
            .collect(),
    )
}

/// One timed run: elapsed wall time and items processed.
struct Run {
    elapsed: Duration,
    processed: usize,
}

// ---------------------------------------------------------------- Q1

/// Q1 ours: one producer adds the keys in batches of `keys.len()` distinct
/// keys; one worker gets and dones them; the producer starts the next batch
/// when the worker has finished one, so no add ever coalesces and both
/// sides move exactly `ops` items.
async fn q1_ours(keys: Arc<Vec<String>>, ops: usize) -> Result<Run, BoxError> {
    let queue = Queue::new();
    let (batch_tx, mut batch_rx) = mpsc::unbounded_channel();
    let batches = ops / keys.len();
    let start = Instant::now();
    let worker = tokio::spawn({
        let (queue, n) = (queue.clone(), keys.len());
        async move {
            for _ in 0..batches {
                for _ in 0..n {
                    let key = queue.get().await.ok_or("queue shut down early")?;
                    queue.done(&key);
                }
                batch_tx.send(()).map_err(|_| "producer gone")?;
            }
            Ok::<_, BoxError>(())
        }
    });
    for _ in 0..batches {
        for key in keys.iter() {
            queue.add(key.clone());
        }
        batch_rx.recv().await.ok_or("worker gone")?;
    }
    worker.await??;
    Ok(Run {
        elapsed: start.elapsed(),
        processed: batches * keys.len(),
    })
}

/// Q1 baseline: the same batches through an unbounded tokio mpsc channel.
async fn q1_mpsc(keys: Arc<Vec<String>>, ops: usize) -> Result<Run, BoxError> {
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let (batch_tx, mut batch_rx) = mpsc::unbounded_channel();
    let batches = ops / keys.len();
    let start = Instant::now();
    let worker = tokio::spawn({
        let n = keys.len();
        async move {
            for _ in 0..batches {
                for _ in 0..n {
                    let key = rx.recv().await.ok_or("channel closed early")?;
                    drop(key);
                }
                batch_tx.send(()).map_err(|_| "producer gone")?;
            }
            Ok::<_, BoxError>(())
        }
    });
    for _ in 0..batches {
        for key in keys.iter() {
            tx.send(key.clone()).map_err(|_| "worker gone")?;
        }
        batch_rx.recv().await.ok_or("worker gone")?;
    }
    worker.await??;
    Ok(Run {
        elapsed: start.elapsed(),
        processed: batches * keys.len(),
    })
}

// ---------------------------------------------------------------- Q2

/// Q2 ours: `adds` adds over a few hot keys while two workers drain.
async fn q2_ours(keys: Arc<Vec<String>>, adds: usize) -> Result<Run, BoxError> {
    let queue = Queue::new();
    let start = Instant::now();
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let queue = queue.clone();
            tokio::spawn(async move {
                let mut processed = 0;
                while let Some(key) = queue.get().await {
                    processed += 1;
                    queue.done(&key);
                }
                processed
            })
        })
        .collect();
    for i in 0..adds {
        queue.add(keys[i % keys.len()].clone());
        if i % 1024 == 0 {
            tokio::task::yield_now().await;
        }
    }
    queue.shut_down_with_drain().await;
    let mut processed = 0;
    for worker in workers {
        processed += worker.await?;
    }
    Ok(Run {
        elapsed: start.elapsed(),
        processed,
    })
}

/// Q2 baseline: an unbounded mpsc channel plus a `Mutex<HashSet>` of queued
/// keys; a key is sent only if it is not queued yet and leaves the set when
/// a worker receives it. (Unlike the queue, this can hand one key to both
/// workers at once.)
async fn q2_mpsc(keys: Arc<Vec<String>>, adds: usize) -> Result<Run, BoxError> {
    let (tx, rx) = mpsc::unbounded_channel::<String>();
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let queued = Arc::new(Mutex::new(HashSet::new()));
    let start = Instant::now();
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (rx, queued) = (rx.clone(), queued.clone());
            tokio::spawn(async move {
                let mut processed = 0;
                loop {
                    // The receiver is shared by two workers; hold its lock only
                    // for the receive.
                    let key = rx.lock().await.recv().await;
                    let Some(key) = key else { break };
                    queued.lock().remove(&key);
                    processed += 1;
                }
                processed
            })
        })
        .collect();
    for i in 0..adds {
        let key = keys[i % keys.len()].clone();
        let fresh = queued.lock().insert(key.clone());
        if fresh {
            tx.send(key).map_err(|_| "workers gone")?;
        }
        if i % 1024 == 0 {
            tokio::task::yield_now().await;
        }
    }
    drop(tx);
    let mut processed = 0;
    for worker in workers {
        processed += worker.await?;
    }
    Ok(Run {
        elapsed: start.elapsed(),
        processed,
    })
}

// ---------------------------------------------------------------- Q3

/// Q3 ours: `add_after` every key with its delay on a paused clock, jump past
/// the longest delay, then get and done every item.
async fn q3_ours(keys: Arc<Vec<String>>, delays: Arc<Vec<Duration>>) -> Result<Run, BoxError> {
    let queue = DelayingQueue::new();
    let start = Instant::now();
    for (key, delay) in keys.iter().zip(delays.iter()) {
        queue.add_after(key.clone(), *delay);
    }
    tokio::time::advance(Duration::from_secs(11 * 60)).await;
    for _ in 0..keys.len() {
        let key = queue.get().await.ok_or("queue shut down early")?;
        queue.done(&key);
    }
    Ok(Run {
        elapsed: start.elapsed(),
        processed: keys.len(),
    })
}

/// Q3 baseline: the same inserts and expiries through `DelayQueue`.
async fn q3_delay_queue(
    keys: Arc<Vec<String>>,
    delays: Arc<Vec<Duration>>,
) -> Result<Run, BoxError> {
    let mut queue = DelayQueue::new();
    let start = Instant::now();
    for (key, delay) in keys.iter().zip(delays.iter()) {
        queue.insert(key.clone(), *delay);
    }
    tokio::time::advance(Duration::from_secs(11 * 60)).await;
    let mut processed = 0;
    while let Some(expired) = poll_fn(|cx| queue.poll_expired(cx)).await {
        drop(expired.into_inner());
        processed += 1;
    }
    Ok(Run {
        elapsed: start.elapsed(),
        processed,
    })
}

// ---------------------------------------------------------------- Q4

/// Q4 ours: `producers` tasks each add their own distinct keys while
/// `workers` tasks get and done.
async fn q4_ours(keys: Arc<Vec<String>>, sizes: Sizes) -> Result<Run, BoxError> {
    let queue = Queue::new();
    let start = Instant::now();
    let workers: Vec<_> = (0..sizes.q4_workers)
        .map(|_| {
            let queue = queue.clone();
            tokio::spawn(async move {
                let mut processed = 0;
                while let Some(key) = queue.get().await {
                    processed += 1;
                    queue.done(&key);
                }
                processed
            })
        })
        .collect();
    let producers: Vec<_> = (0..sizes.q4_producers)
        .map(|p| {
            let (queue, keys) = (queue.clone(), keys.clone());
            tokio::spawn(async move {
                for (i, key) in keys[p * sizes.q4_adds..(p + 1) * sizes.q4_adds]
                    .iter()
                    .enumerate()
                {
                    queue.add(key.clone());
                    if i % 1024 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            })
        })
        .collect();
    for producer in producers {
        producer.await?;
    }
    queue.shut_down_with_drain().await;
    let mut processed = 0;
    for worker in workers {
        processed += worker.await?;
    }
    Ok(Run {
        elapsed: start.elapsed(),
        processed,
    })
}

/// Q4 baseline: one unbounded mpsc channel with a sender per producer; the
/// workers share the receiver (mpsc has one), locking it for each receive.
async fn q4_mpsc(keys: Arc<Vec<String>>, sizes: Sizes) -> Result<Run, BoxError> {
    let (tx, rx) = mpsc::unbounded_channel::<String>();
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let start = Instant::now();
    let workers: Vec<_> = (0..sizes.q4_workers)
        .map(|_| {
            let rx = rx.clone();
            tokio::spawn(async move {
                let mut processed = 0;
                loop {
                    let key = rx.lock().await.recv().await;
                    let Some(key) = key else { break };
                    drop(key);
                    processed += 1;
                }
                processed
            })
        })
        .collect();
    let producers: Vec<_> = (0..sizes.q4_producers)
        .map(|p| {
            let (tx, keys) = (tx.clone(), keys.clone());
            tokio::spawn(async move {
                for (i, key) in keys[p * sizes.q4_adds..(p + 1) * sizes.q4_adds]
                    .iter()
                    .enumerate()
                {
                    if tx.send(key.clone()).is_err() {
                        break;
                    }
                    if i % 1024 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            })
        })
        .collect();
    drop(tx);
    for producer in producers {
        producer.await?;
    }
    let mut processed = 0;
    for worker in workers {
        processed += worker.await?;
    }
    Ok(Run {
        elapsed: start.elapsed(),
        processed,
    })
}

// ---------------------------------------------------------------- harness

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// Runs `ours` and `baseline` once each to warm up, then `rounds` times
/// interleaved, and prints the comparison. `ops` is the number of operations
/// a run performs (the throughput's numerator).
fn compare(
    label: &str,
    baseline_name: &str,
    goal: f64,
    ops: usize,
    rounds: usize,
    mut ours: impl FnMut() -> Result<Run, BoxError>,
    mut baseline: impl FnMut() -> Result<Run, BoxError>,
) -> Result<bool, BoxError> {
    ours()?;
    baseline()?;
    let (mut ours_rate, mut base_rate, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let (mut ours_processed, mut base_processed) = (0, 0);
    for _ in 0..rounds {
        let a = ours()?;
        let b = baseline()?;
        let a_rate = ops as f64 / a.elapsed.as_secs_f64();
        let b_rate = ops as f64 / b.elapsed.as_secs_f64();
        ours_rate.push(a_rate);
        base_rate.push(b_rate);
        ratios.push(a_rate / b_rate);
        ours_processed = a.processed;
        base_processed = b.processed;
    }
    let min = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let max = ratios.iter().copied().fold(0.0, f64::max);
    let ratio = median(&mut ratios);
    let pass = ratio >= goal;
    println!(
        "{label:<44} ours {:>6.2} M ops/s | {baseline_name} {:>6.2} M ops/s | ratio {ratio:.2} \
         ({min:.2}-{max:.2}) | goal >= {goal} {} | processed {ours_processed} vs {base_processed}",
        median(&mut ours_rate) / 1e6,
        median(&mut base_rate) / 1e6,
        if pass { "PASS" } else { "MISS" },
    );
    Ok(pass)
}

fn main() -> Result<(), BoxError> {
    let mut rounds = 5;
    let mut sizes = Sizes::full();
    let mut only: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rounds" => {
                rounds = args
                    .next()
                    .ok_or("--rounds needs a number")?
                    .parse()
                    .map_err(|_| "--rounds needs a number")?;
            }
            "--smoke" => sizes = Sizes::smoke(),
            "--only" => only = Some(args.next().ok_or("--only needs a scenario")?),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let rounds = rounds.max(1);

    // Two worker threads: the machine the figures are quoted for has two
    // cores, and both sides get the same runtime.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let paused = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()?;

    println!("kubeforge-workqueue vs tokio, {rounds} interleaved rounds after a warm-up");
    let mut all_pass = true;

    let runs = |id: &str| only.as_deref().is_none_or(|o| o.eq_ignore_ascii_case(id));

    let q1_keys = keys(sizes.q1_keys, "q1");
    all_pass &= !runs("Q1")
        || compare(
            &format!(
                "Q1 add/get/done, 1 producer 1 worker, {} keys",
                sizes.q1_keys
            ),
            "mpsc",
            0.5,
            sizes.q1_ops,
            rounds,
            || rt.block_on(q1_ours(q1_keys.clone(), sizes.q1_ops)),
            || rt.block_on(q1_mpsc(q1_keys.clone(), sizes.q1_ops)),
        )?;

    let q2_keys = keys(sizes.q2_keys, "q2");
    all_pass &= !runs("Q2")
        || compare(
            &format!(
                "Q2 dedup, {} adds over {} keys, 2 workers",
                sizes.q2_adds, sizes.q2_keys
            ),
            "mpsc+set",
            1.5,
            sizes.q2_adds,
            rounds,
            || rt.block_on(q2_ours(q2_keys.clone(), sizes.q2_adds)),
            || rt.block_on(q2_mpsc(q2_keys.clone(), sizes.q2_adds)),
        )?;

    let q3_keys = keys(sizes.q3_items, "q3");
    let q3_delays = delays(sizes.q3_items);
    all_pass &= !runs("Q3")
        || compare(
            &format!(
                "Q3 add_after + drain, {} items, paused clock",
                sizes.q3_items
            ),
            "DelayQueue",
            0.7,
            sizes.q3_items,
            rounds,
            || paused.block_on(q3_ours(q3_keys.clone(), q3_delays.clone())),
            || paused.block_on(q3_delay_queue(q3_keys.clone(), q3_delays.clone())),
        )?;

    let q4_keys = keys(sizes.q4_producers * sizes.q4_adds, "q4");
    all_pass &= !runs("Q4")
        || compare(
            &format!(
                "Q4 fan-in, {} producers x {} adds, {} workers",
                sizes.q4_producers, sizes.q4_adds, sizes.q4_workers
            ),
            "mpsc",
            0.4,
            sizes.q4_producers * sizes.q4_adds,
            rounds,
            || rt.block_on(q4_ours(q4_keys.clone(), sizes)),
            || rt.block_on(q4_mpsc(q4_keys.clone(), sizes)),
        )?;

    println!(
        "{}",
        if all_pass {
            "all goals met"
        } else {
            "some goals missed"
        }
    );
    Ok(())
}
