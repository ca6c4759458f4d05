//! Informer benchmark: kubeforge-informer against kube-rs's reflector
//! (`kube-runtime` 5) on the same kubeforge apiserver, in one run.
//!
//! ```sh
//! cargo run --release -p kubeforge-bench --bin informer                 # 10k and 100k pods, 3 rounds
//! cargo run --release -p kubeforge-bench --bin informer -- --pods 10000 --rounds 5
//! ```
//!
//! The server is a child process (`serve`) holding N ~2 KB pods in 10 namespaces. Each
//! measurement starts a fresh client process (`sync ours|kube <url>`), so its memory is
//! its own: it builds a client, starts an informer (ours: `SharedInformerFactory`, one
//! handler counting events; kube-rs: `watcher` + `reflector` with a `Store`, the
//! events counted on the stream), both paginated lists of 500 and both dropping
//! `managedFields` before caching (ours by default, kube-rs with `.modify()`, as its
//! docs advise for memory), and reports:
//!
//! - **sync**: seconds from start to synced (ours: `wait_for_cache_sync`, kube-rs:
//!   `wait_until_ready`);
//! - **peak** and **steady** RSS: `VmHWM` at sync, `VmRSS` 300 ms later;
//! - **events** (first size only): the driver then sends `--updates` label changes
//!   (32 concurrent merge patches) and the client reports events/s from the first
//!   patch to the last event handled, and its own CPU time per event.
//!
//! Rounds alternate which side goes first; the report shows the median ratio
//! ours/kube-rs with the min–max over rounds next to the goal (issue: time to synced
//! ≤ 0.7×, peak and steady RSS ≤ 0.7×, events/s ≥ 1.2×).

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kubeforge_bench::{
    CONCURRENCY, ChildServer, Error, NAMESPACES, cpu_seconds, load_pods, median, memory_kib,
    min_max, report_lines,
};

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), Error> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match args.first().map(String::as_str) {
        Some("serve") => runtime.block_on(kubeforge_bench::serve_testserver()),
        Some("sync") => {
            let side = args.get(1).ok_or("sync: which side")?;
            let url = args.get(2).ok_or("sync: which server")?;
            runtime.block_on(sync(side, url))
        }
        _ => runtime.block_on(drive(&args)),
    }
}

// ---------------------------------------------------------------------------
// The client process

/// Counts handled update events; the driver's `GO` resets the count.
#[derive(Default)]
struct Counter {
    updates: AtomicUsize,
    wake: tokio::sync::Notify,
}

impl Counter {
    fn hit(&self) {
        self.updates.fetch_add(1, Ordering::Relaxed);
        self.wake.notify_one();
    }

    async fn wait_for(&self, n: usize) {
        loop {
            let notified = self.wake.notified();
            if self.updates.load(Ordering::Relaxed) >= n {
                return;
            }
            notified.await;
        }
    }
}

async fn sync(side: &str, url: &str) -> Result<(), Error> {
    let started = Instant::now();
    let counter = Arc::new(Counter::default());
    // Keeps the informer (and its cache) alive until the process ends.
    let _keep: Box<dyn std::any::Any> = match side {
        "ours" => Box::new(sync_ours(url, counter.clone()).await?),
        "kube" => Box::new(sync_kube(url, counter.clone()).await?),
        other => return Err(format!("unknown side {other}").into()),
    };
    let synced = started.elapsed().as_secs_f64();
    let (peak, _) = memory_kib();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, steady) = memory_kib();
    println!("SYNCED {synced} {peak} {steady}");
    std::io::stdout().flush()?;
    // `GO <n>`: the driver starts n updates now.
    let line = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    })
    .await??;
    let Some(n) = line
        .trim()
        .strip_prefix("GO ")
        .and_then(|n| n.parse::<usize>().ok())
    else {
        return Ok(());
    };
    let (t0, cpu0) = (Instant::now(), cpu_seconds());
    counter.updates.store(0, Ordering::Relaxed);
    counter.wait_for(n).await;
    let secs = t0.elapsed().as_secs_f64();
    println!("EVENTS {secs} {}", cpu_seconds() - cpu0);
    std::io::stdout().flush()?;
    Ok(())
}

async fn sync_kube(url: &str, counter: Arc<Counter>) -> Result<impl Send + use<>, Error> {
    use kube::ResourceExt;
    use kube::runtime::{WatchStreamExt, reflector, watcher};
    let client = kube::Client::try_from(kube::Config::new(url.parse()?))?;
    let api = kube::Api::<Pod>::all(client);
    let (reader, writer) = reflector::store::<Pod>();
    let stream = watcher(api, watcher::Config::default())
        .default_backoff()
        .modify(|pod| pod.managed_fields_mut().clear())
        .reflect(writer);
    let task = tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        while let Some(event) = stream.next().await {
            if let Ok(watcher::Event::Apply(_)) = event {
                counter.hit();
            }
        }
    });
    reader.wait_until_ready().await?;
    Ok((reader, AbortOnDrop(task)))
}

async fn sync_ours(url: &str, counter: Arc<Counter>) -> Result<impl Send + use<>, Error> {
    use kubeforge_informer::{HandlerFns, SharedInformerFactory};
    let config = kubeforge_client::__doctest::config(url, None);
    // Same transport as kube-rs's default build: no gzip (compressing on loopback
    // only costs the server CPU), no client-side throttling.
    let client = kubeforge_client::Client::builder(config)
        .no_rate_limit()
        .gzip(false)
        .build()?;
    let factory = SharedInformerFactory::new(client);
    let informer = factory.informer::<Pod>();
    informer.add_event_handler(HandlerFns::new().on_update(move |_, _| counter.hit()));
    factory.start();
    if !factory.wait_for_cache_sync().await {
        return Err("ours: the informer stopped before it synced".into());
    }
    Ok(factory)
}

/// Stops a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

// ---------------------------------------------------------------------------
// The driver

/// What one client process reported.
#[derive(Clone, Copy, Default)]
struct Report {
    synced: f64,
    peak_kib: f64,
    steady_kib: f64,
    events_per_s: f64,
    cpu_us_per_event: f64,
}

async fn update(
    http: &reqwest::Client,
    base: &str,
    pods: usize,
    n: usize,
    round: usize,
) -> Result<(), Error> {
    futures::stream::iter(0..n)
        .map(|i| async move {
            let p = i % pods;
            let url = format!(
                "{base}/api/v1/namespaces/ns-{}/pods/pod-{p}",
                p % NAMESPACES
            );
            let patch = serde_json::json!({"metadata": {"labels": {"bench-round": format!("r{round}-{i}")}}});
            http.patch(url)
                .header("Content-Type", "application/merge-patch+json")
                .body(patch.to_string())
                .send()
                .await?
                .error_for_status()?;
            Ok::<_, Error>(())
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect::<()>()
        .await
}

/// Starts a client process, reads its sync report, then (with `updates > 0`) has it
/// count `updates` events while this process sends them.
async fn measure(
    side: &str,
    http: &reqwest::Client,
    base: &str,
    pods: usize,
    updates: usize,
    round: usize,
) -> Result<Report, Error> {
    let mut child = Command::new(std::env::current_exe()?)
        .args(["sync", side, base])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    // The child's report lines, read on a thread of their own so that a stuck client
    // fails the run after a while instead of hanging it.
    let rx = report_lines(child.stdout.take().ok_or("no stdout")?);
    let next_line = |what: &str| -> Result<String, Error> {
        rx.recv_timeout(Duration::from_secs(300))
            .map_err(|_| format!("{side}: no {what} report within 5 minutes").into())
    };
    let mut line = match next_line("sync") {
        Ok(l) => l,
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(e);
        }
    };
    let fields: Vec<f64> = line
        .trim()
        .strip_prefix("SYNCED ")
        .ok_or_else(|| format!("{side}: no sync report: {line:?}"))?
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    let [synced, peak_kib, steady_kib] = fields[..] else {
        return Err(format!("{side}: bad sync report {line:?}").into());
    };
    let mut report = Report {
        synced,
        peak_kib,
        steady_kib,
        ..Report::default()
    };
    if updates > 0 {
        writeln!(stdin, "GO {updates}")?;
        stdin.flush()?;
        update(http, base, pods, updates, round).await?;
        line = next_line("events")?;
        let fields: Vec<f64> = line
            .trim()
            .strip_prefix("EVENTS ")
            .ok_or_else(|| format!("{side}: no events report: {line:?}"))?
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        let [secs, cpu] = fields[..] else {
            return Err(format!("{side}: bad events report {line:?}").into());
        };
        report.events_per_s = updates as f64 / secs;
        report.cpu_us_per_event = cpu * 1e6 / updates as f64;
    } else {
        writeln!(stdin, "STOP")?;
    }
    let _ = child.kill();
    let _ = child.wait();
    Ok(report)
}

fn row(name: &str, unit: &str, ours: &[f64], kube: &[f64], goal: &str) {
    let ratios: Vec<f64> = ours.iter().zip(kube).map(|(o, k)| o / k).collect();
    let (lo, hi) = min_max(&ratios);
    let ratio = median(ratios);
    let met = match goal.split_whitespace().collect::<Vec<_>>()[..] {
        ["≤", g] => g.parse::<f64>().is_ok_and(|g| ratio <= g).then_some("met"),
        ["≥", g] => g.parse::<f64>().is_ok_and(|g| ratio >= g).then_some("met"),
        _ => Some(""),
    };
    println!(
        "{name:<26} {:>12.2} {unit:<6} {:>12.2} {unit:<6} {ratio:>6.2} ({lo:.2}–{hi:.2}) {goal:>7} {}",
        median(ours.to_vec()),
        median(kube.to_vec()),
        met.unwrap_or("NOT met")
    );
}

async fn drive(args: &[String]) -> Result<(), Error> {
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
    };
    let rounds: usize = arg("--rounds").and_then(|v| v.parse().ok()).unwrap_or(3);
    let updates: usize = arg("--updates")
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let sizes: Vec<usize> = arg("--pods")
        .map(|v| v.split(',').filter_map(|s| s.parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000]);
    // `--only ours|kube` measures one side (for profiling; no ratios then).
    let only = arg("--only").map(String::as_str);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY * 2)
        .build()?;
    for (s, &pods) in sizes.iter().enumerate() {
        let server = ChildServer::start(&["serve"])?;
        let t = Instant::now();
        load_pods(&http, &server.base, pods).await?;
        println!(
            "\n{pods} pods (~2 KB each) loaded in {:.1?}; {rounds} round(s)",
            t.elapsed()
        );
        let updates = if s == 0 { updates } else { 0 };
        let (mut ours, mut kube) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            let order = if round % 2 == 0 {
                ["ours", "kube"]
            } else {
                ["kube", "ours"]
            };
            for side in order {
                if only.is_some_and(|o| o != side) {
                    continue;
                }
                match measure(side, &http, &server.base, pods, updates, round).await {
                    Ok(r) if side == "ours" => ours.push(r),
                    Ok(r) => kube.push(r),
                    Err(e) => println!("round {}: {side} failed: {e}", round + 1),
                }
            }
        }
        if only.is_some() || ours.is_empty() || kube.is_empty() {
            for (side, r) in ours
                .iter()
                .map(|r| ("ours", r))
                .chain(kube.iter().map(|r| ("kube-rs", r)))
            {
                print!("{side}: ");
                println!(
                    "synced {:.3} s, peak {:.1} MiB, steady {:.1} MiB, {:.0} events/s, {:.1} µs CPU/event",
                    r.synced,
                    r.peak_kib / 1024.0,
                    r.steady_kib / 1024.0,
                    r.events_per_s,
                    r.cpu_us_per_event
                );
            }
            continue;
        }
        let col = |v: &[Report], f: fn(&Report) -> f64| v.iter().map(f).collect::<Vec<_>>();
        println!(
            "{:<26} {:>19} {:>19} {:>18} {:>7}",
            "scenario", "ours", "kube-rs", "ours/kube-rs", "goal"
        );
        row(
            "time to synced",
            "s",
            &col(&ours, |r| r.synced),
            &col(&kube, |r| r.synced),
            "≤ 0.7",
        );
        row(
            "peak RSS",
            "MiB",
            &col(&ours, |r| r.peak_kib / 1024.0),
            &col(&kube, |r| r.peak_kib / 1024.0),
            "≤ 0.7",
        );
        row(
            "steady RSS",
            "MiB",
            &col(&ours, |r| r.steady_kib / 1024.0),
            &col(&kube, |r| r.steady_kib / 1024.0),
            "≤ 0.7",
        );
        if updates > 0 {
            row(
                &format!("events/s ({updates} updates)"),
                "ev/s",
                &col(&ours, |r| r.events_per_s),
                &col(&kube, |r| r.events_per_s),
                "≥ 1.2",
            );
            row(
                "client CPU per event",
                "µs",
                &col(&ours, |r| r.cpu_us_per_event),
                &col(&kube, |r| r.cpu_us_per_event),
                "",
            );
        }
    }
    Ok(())
}
