//! Controller benchmark: a kubeforge-informer `Controller` against a kube-rs
//! `Controller` (`kube-runtime` 5) on the same kubeforge apiserver, in one run.
//!
//! ```sh
//! cargo run --release -p kubeforge-bench --bin controller                      # 10k pods, 3 rounds
//! cargo run --release -p kubeforge-bench --bin controller -- --pods 2000 --rounds 1
//! cargo run --release -p kubeforge-bench --bin controller -- --only ours   # one side, for profiling
//! ```
//!
//! The server is a child process (`serve`) holding N ~2 KB pods in 10 namespaces.
//! Each measurement starts a fresh controller process (`reconcile ours|kube <url>
//! <marker>`), so its memory is its own. From a cold start the controller lists and
//! watches pods, and reconciles each pod: if `status.message` is not the round's
//! marker yet, it writes it with a merge patch of the status subresource. Both
//! sides run 32 reconciles at once and use their defaults otherwise (kube-rs keeps
//! `managedFields` in its cache: trimming them needs its unstable stream API; ours
//! drops them by default). The process reports:
//!
//! - **reconciled**: seconds from start until all N status writes succeeded;
//! - **peak RSS**: `VmHWM` at that moment.
//!
//! The driver also reads the server's CPU time around each run and reports it per
//! pod: serving the run's list, watch events and one status write (informational:
//! the same server serves both sides, so this shows what the server costs).
//!
//! Rounds alternate which side goes first; the report shows the median ratio
//! ours/kube-rs with the min–max over rounds next to the goal (issue: time to all
//! reconciled ≤ 0.7×, peak RSS ≤ 0.7×).

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kubeforge_bench::{
    CONCURRENCY, ChildServer, Error, load_pods, median, memory_kib, min_max, report_lines,
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
        Some("reconcile") => {
            let side = args.get(1).ok_or("reconcile: which side")?;
            let url = args.get(2).ok_or("reconcile: which server")?;
            let marker = args.get(3).ok_or("reconcile: which marker")?;
            let pods: usize = args
                .get(4)
                .and_then(|n| n.parse().ok())
                .ok_or("reconcile: how many pods")?;
            runtime.block_on(reconcile_all(side, url, marker, pods))
        }
        _ => runtime.block_on(drive(&args)),
    }
}

// ---------------------------------------------------------------------------
// The controller process

/// Counts successful status writes and wakes the main task at the last one.
struct Progress {
    started: Instant,
    /// Microseconds from start to the first reconcile (0: none yet).
    first_us: std::sync::atomic::AtomicU64,
    written: AtomicUsize,
    target: usize,
    done: tokio::sync::Notify,
}

impl Progress {
    fn reconciling(&self) {
        if self.first_us.load(Ordering::Relaxed) == 0 {
            let us = self.started.elapsed().as_micros().max(1) as u64;
            let _ = self
                .first_us
                .compare_exchange(0, us, Ordering::Relaxed, Ordering::Relaxed);
        }
    }

    fn wrote(&self) {
        if self.written.fetch_add(1, Ordering::Relaxed) + 1 == self.target {
            self.done.notify_one();
        }
    }
}

/// What both sides' reconciles share.
struct Ctx<C> {
    client: C,
    marker: String,
    progress: Arc<Progress>,
}

fn status_patch(marker: &str) -> serde_json::Value {
    serde_json::json!({ "status": { "message": marker } })
}

async fn reconcile_all(side: &str, url: &str, marker: &str, pods: usize) -> Result<(), Error> {
    let started = Instant::now();
    let progress = Arc::new(Progress {
        started,
        first_us: std::sync::atomic::AtomicU64::new(0),
        written: AtomicUsize::new(0),
        target: pods,
        done: tokio::sync::Notify::new(),
    });
    let done = progress.done.notified();
    // Keeps the controller running until the process ends.
    let _running = match side {
        "ours" => run_ours(url, marker, progress.clone())?,
        "kube" => run_kube(url, marker, progress.clone())?,
        other => return Err(format!("unknown side {other}").into()),
    };
    done.await;
    let secs = started.elapsed().as_secs_f64();
    let (peak, _) = memory_kib();
    let first = progress.first_us.load(Ordering::Relaxed) as f64 / 1e6;
    println!("DONE {secs} {peak} {first}");
    std::io::stdout().flush()?;
    Ok(())
}

fn run_ours(
    url: &str,
    marker: &str,
    progress: Arc<Progress>,
) -> Result<tokio::task::JoinHandle<()>, Error> {
    use kubeforge_client::api::{Api, Patch};
    use kubeforge_client::core::PatchOptions;
    use kubeforge_informer::SharedInformerFactory;
    use kubeforge_informer::controller::{Action, Controller, ObjectState, Request};

    let config = kubeforge_client::__doctest::config(url, None);
    // Same transport as kube-rs's default build: no gzip, no client-side throttling.
    let client = kubeforge_client::Client::builder(config)
        .no_rate_limit()
        .gzip(false)
        .build()?;
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        marker: marker.to_owned(),
        progress,
    });
    async fn reconcile(
        req: Request<Pod>,
        ctx: Arc<Ctx<kubeforge_client::Client>>,
    ) -> Result<Action, kubeforge_client::Error> {
        ctx.progress.reconciling();
        let ObjectState::Present(pod) = req.state() else {
            return Ok(Action::Done);
        };
        let current = pod.status.as_ref().and_then(|s| s.message.as_deref());
        if current == Some(ctx.marker.as_str()) {
            return Ok(Action::Done);
        }
        let api = Api::<Pod>::namespaced(
            ctx.client.clone(),
            req.key().namespace().unwrap_or_default(),
        );
        api.patch_status(
            req.key().name(),
            &PatchOptions::default(),
            &Patch::Merge(&status_patch(&ctx.marker)),
        )
        .await?;
        ctx.progress.wrote();
        Ok(Action::Done)
    }
    let factory = SharedInformerFactory::new(client);
    let controller = Controller::new(factory.informer::<Pod>()).workers(CONCURRENCY);
    let shutdown = tokio_util::sync::CancellationToken::new();
    Ok(tokio::spawn(async move {
        let _keep = (factory, shutdown.clone().drop_guard());
        if let Err(e) = controller.run(reconcile, ctx, shutdown).await {
            eprintln!("ours: {e}");
        }
    }))
}

fn run_kube(
    url: &str,
    marker: &str,
    progress: Arc<Progress>,
) -> Result<tokio::task::JoinHandle<()>, Error> {
    use kube::ResourceExt;
    use kube::api::{Api, Patch, PatchParams};
    use kube::runtime::controller::{Action, Config as ControllerConfig, Controller};
    use kube::runtime::watcher;

    let client = kube::Client::try_from(kube::Config::new(url.parse()?))?;
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        marker: marker.to_owned(),
        progress,
    });
    async fn reconcile(pod: Arc<Pod>, ctx: Arc<Ctx<kube::Client>>) -> Result<Action, kube::Error> {
        ctx.progress.reconciling();
        let current = pod.status.as_ref().and_then(|s| s.message.as_deref());
        if current == Some(ctx.marker.as_str()) {
            return Ok(Action::await_change());
        }
        let namespace = pod.namespace().unwrap_or_default();
        let api = Api::<Pod>::namespaced(ctx.client.clone(), &namespace);
        api.patch_status(
            &pod.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&status_patch(&ctx.marker)),
        )
        .await?;
        ctx.progress.wrote();
        Ok(Action::await_change())
    }
    fn error_policy(_: Arc<Pod>, _: &kube::Error, _: Arc<Ctx<kube::Client>>) -> Action {
        Action::requeue(Duration::from_millis(100))
    }
    let controller = Controller::new(Api::<Pod>::all(client), watcher::Config::default())
        .with_config(ControllerConfig::default().concurrency(CONCURRENCY as u16));
    Ok(tokio::spawn(async move {
        controller
            .run(reconcile, error_policy, ctx)
            .for_each(|_| async {})
            .await;
    }))
}

// ---------------------------------------------------------------------------
// The driver

/// Runs one controller process to the end; returns (seconds, peak KiB, seconds to
/// the first reconcile).
fn measure(side: &str, base: &str, marker: &str, pods: usize) -> Result<(f64, f64, f64), Error> {
    let mut child = Command::new(std::env::current_exe()?)
        .args(["reconcile", side, base, marker, &pods.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let rx = report_lines(child.stdout.take().ok_or("no stdout")?);
    let line = rx.recv_timeout(Duration::from_secs(600));
    let _ = child.kill();
    let _ = child.wait();
    let line = line.map_err(|_| format!("{side}: not done within 10 minutes"))?;
    let fields: Vec<f64> = line
        .trim()
        .strip_prefix("DONE ")
        .ok_or_else(|| format!("{side}: bad report {line:?}"))?
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    let [secs, peak, first] = fields[..] else {
        return Err(format!("{side}: bad report {line:?}").into());
    };
    Ok((secs, peak, first))
}

fn row(name: &str, unit: &str, ours: &[f64], kube: &[f64], goal: f64) {
    let ratios: Vec<f64> = ours.iter().zip(kube).map(|(o, k)| o / k).collect();
    let (lo, hi) = min_max(&ratios);
    let ratio = median(ratios);
    println!(
        "{name:<22} {:>10.2} {unit:<4} {:>10.2} {unit:<4} {ratio:>6.2} ({lo:.2}–{hi:.2})   ≤ {goal} {}",
        median(ours.to_vec()),
        median(kube.to_vec()),
        if ratio <= goal { "met" } else { "NOT met" }
    );
}

async fn drive(args: &[String]) -> Result<(), Error> {
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
    };
    let rounds: usize = arg("--rounds").and_then(|v| v.parse().ok()).unwrap_or(3);
    let pods: usize = arg("--pods").and_then(|v| v.parse().ok()).unwrap_or(10_000);
    // `--only ours|kube` measures one side (for profiling; no ratios then).
    let only = arg("--only").map(String::as_str);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY * 2)
        .build()?;
    let server = ChildServer::start(&["serve"])?;
    let t = Instant::now();
    load_pods(&http, &server.base, pods).await?;
    println!(
        "{pods} pods (~2 KB each) loaded in {:.1?}; {rounds} round(s), {CONCURRENCY} concurrent reconciles",
        t.elapsed()
    );
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
            let marker = format!("{side}-round-{round}");
            let base = server.base.clone();
            let cpu_before = server.cpu_seconds();
            let result =
                tokio::task::spawn_blocking(move || measure(side, &base, &marker, pods)).await?;
            // Microseconds of server CPU per pod in this run (list, watch, write).
            let server_us = (server.cpu_seconds() - cpu_before) * 1e6 / pods as f64;
            match result {
                Ok((secs, peak, first)) if side == "ours" => {
                    ours.push((secs, peak, first, server_us))
                }
                Ok((secs, peak, first)) => kube.push((secs, peak, first, server_us)),
                Err(e) => println!("round {}: {side} failed: {e}", round + 1),
            }
        }
    }
    if ours.len() != kube.len() || ours.is_empty() || only.is_some() {
        println!(
            "ours: {ours:?}\nkube-rs: {kube:?} (seconds, peak KiB, first reconcile s, server µs per pod)"
        );
        return if only.is_some() {
            Ok(())
        } else {
            Err("a side failed; no ratios".into())
        };
    }
    println!(
        "{:<22} {:>15} {:>15} {:>20} {:>7}",
        "scenario", "ours", "kube-rs", "ours/kube-rs", "goal"
    );
    type Run = (f64, f64, f64, f64);
    let col = |v: &[Run], f: fn(&Run) -> f64| v.iter().map(f).collect::<Vec<_>>();
    row(
        "time to all reconciled",
        "s",
        &col(&ours, |r| r.0),
        &col(&kube, |r| r.0),
        0.7,
    );
    row(
        "peak RSS",
        "MiB",
        &col(&ours, |r| r.1 / 1024.0),
        &col(&kube, |r| r.1 / 1024.0),
        0.7,
    );
    println!(
        "first reconcile at     {:>10.2} s    {:>10.2} s    (from process start)",
        median(col(&ours, |r| r.2)),
        median(col(&kube, |r| r.2))
    );
    let all: Vec<f64> = ours.iter().chain(&kube).map(|r| r.3).collect();
    let (lo, hi) = min_max(&all);
    println!(
        "server CPU per pod     {:>10.0} µs   {:>10.0} µs    (median of all runs {:.0} µs, {lo:.0}–{hi:.0})",
        median(col(&ours, |r| r.3)),
        median(col(&kube, |r| r.3)),
        median(all.clone())
    );
    Ok(())
}
