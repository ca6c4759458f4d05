//! Client benchmark: kubeforge-client against kube-rs (`kube` 5) on the same
//! kubeforge apiserver, in one run.
//!
//! ```sh
//! cargo run --release -p kubeforge-bench --bin client               # 5 rounds
//! cargo run --release -p kubeforge-bench --bin client -- --rounds 3 --pods 10000
//! cargo run --release -p kubeforge-bench --bin client -- --tls   # HTTPS: HTTP/2 vs HTTP/1.1
//! ```
//!
//! The server runs as a child process of this binary (`serve`), plain HTTP on
//! loopback, so both clients speak HTTP/1.1 to it and its CPU never competes with the
//! clients' runtime. Both clients use k8s-openapi 0.29 types, default options (ours
//! without client-side throttling, which kube-rs does not have), one shared client
//! per side.
//!
//! Scenarios, each timed for ours and for kube-rs back to back, the order alternating
//! between rounds (performance plan §4.4 method: interleaved rounds, median ratio,
//! min–max over rounds):
//! - **get**: 20,000 GETs of ConfigMaps by name, 32 concurrent;
//! - **list**: LIST all 10,000 ~2 KB pods into `Vec<Pod>` (typed), 5 times;
//! - **create**: POST 5,000 ConfigMaps, 32 concurrent;
//! - **watch**: decode 20,000 MODIFIED pod events replayed from the watch cache's
//!   history (a watch from a resourceVersion before 20,000 updates), events/s.
//!
//! The ratio is ours/kube-rs throughput (higher is better for us); the goal is ≥ 1.2
//! (`+` met, `-` missed). Throughput includes the server's time, the same for both
//! sides, so the report also gives each client's own CPU time per operation (this
//! process's user + system time; the server is another process) and its ratio
//! kube-rs/ours (higher is better for us).

use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kubeforge_bench::{ChildServer, cpu_seconds, median};
use serde_json::{Value, json};
use tokio::net::TcpListener;

type Error = Box<dyn std::error::Error + Send + Sync>;

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CONCURRENCY: usize = 32;
const GETS: usize = 20_000;
const GET_OBJECTS: usize = 100;
const LISTS: usize = 5;
const CREATES: usize = 5_000;
const WATCH_EVENTS: usize = 20_000;
const WATCHED_PODS: usize = 2_000;
const GOAL: f64 = 1.2;

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match args.first().map(String::as_str) {
        Some("serve") => runtime.block_on(serve(args.get(1).map(String::as_str))),
        Some("probe") => runtime.block_on(probe(args.get(1).map(String::as_str))),
        _ => runtime.block_on(drive(&args)),
    }
}

/// Serves plain HTTP, or HTTPS with a fresh CA written to `ca_path`.
async fn serve(ca_path: Option<&str>) -> Result<(), Error> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let mut config = kubeforge_testserver::Config::new().watch_history(100_000);
    if let Some(path) = ca_path {
        let material = kubeforge_testserver::tls::generate(&[])?;
        std::fs::write(path, &material.ca_pem)?;
        config.tls = Some(material);
    }
    println!("PORT {}", listener.local_addr()?.port());
    kubeforge_testserver::run(listener, config, std::future::pending()).await?;
    Ok(())
}

/// Where list time goes: transfer and decode steps timed one by one (not part of the
/// report; for looking into a ratio).
async fn probe(only: Option<&str>) -> Result<(), Error> {
    let server = Server::start()?;
    let clients = Clients::new(&server.base)?;
    setup(&clients, 10_000).await?;
    if let Some(side) = only.and_then(|o| o.strip_prefix("get-")) {
        let cpu = cpu_seconds();
        let t = Instant::now();
        let side = if side == "ours" {
            Side::Ours
        } else {
            Side::Kube
        };
        for _ in 0..5 {
            run("get", side, &clients, 0, "", 0).await?;
        }
        println!(
            "{}: {} GETs in {:?}, {:.1} µs CPU each",
            if side == Side::Ours { "ours" } else { "kube" },
            5 * GETS,
            t.elapsed(),
            (cpu_seconds() - cpu) * 1e6 / (5 * GETS) as f64
        );
        return Ok(());
    }
    if let Some(side) = only {
        let cpu = cpu_seconds();
        let t = Instant::now();
        for _ in 0..20 {
            let n = if side == "ours" {
                kubeforge_client::api::Api::<Pod>::namespaced(clients.ours.clone(), "pods")
                    .list(&Default::default())
                    .await?
                    .items
                    .len()
            } else {
                kube::Api::<Pod>::namespaced(clients.kube.clone(), "pods")
                    .list(&Default::default())
                    .await?
                    .items
                    .len()
            };
            assert_eq!(n, 10_000);
        }
        println!(
            "{side}: 20 lists in {:?}, {:.2} s CPU",
            t.elapsed(),
            cpu_seconds() - cpu
        );
        return Ok(());
    }
    let url = format!("{}/api/v1/namespaces/pods/pods", server.base);
    let raw = reqwest::Client::new();
    for _ in 0..3 {
        let t = Instant::now();
        let body = raw.get(&url).send().await?.bytes().await?;
        let fetch = t.elapsed();
        let t = Instant::now();
        let a: kube::core::ObjectList<Pod> = serde_json::from_slice(&body)?;
        let slice = t.elapsed();
        let t = Instant::now();
        let text = String::from_utf8(body.to_vec())?;
        let b: kube::core::ObjectList<Pod> = serde_json::from_str(&text)?;
        let string = t.elapsed();
        let t = Instant::now();
        let c = kubeforge_client::api::Api::<Pod>::namespaced(clients.ours.clone(), "pods")
            .list(&Default::default())
            .await?;
        let ours = t.elapsed();
        let t = Instant::now();
        let d = kube::Api::<Pod>::namespaced(clients.kube.clone(), "pods")
            .list(&Default::default())
            .await?;
        let kube = t.elapsed();
        println!(
            "{} bytes: fetch {fetch:?}, from_slice {slice:?}, to_vec+from_str {string:?}, ours list {ours:?}, kube list {kube:?} ({} {} {} {})",
            body.len(),
            a.items.len(),
            b.items.len(),
            c.items.len(),
            d.items.len()
        );
    }
    Ok(())
}

/// The server child process (killed on drop) and the CA to trust when it serves HTTPS.
struct Server {
    _child: ChildServer,
    base: String,
    ca_pem: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl Server {
    fn start() -> Result<Server, Error> {
        Self::start_with(false)
    }

    fn start_with(tls: bool) -> Result<Server, Error> {
        let dir = if tls {
            Some(tempfile::tempdir()?)
        } else {
            None
        };
        let ca_path = dir.as_ref().map(|d| d.path().join("ca.pem"));
        let mut args = vec!["serve"];
        if let Some(p) = &ca_path {
            args.push(p.to_str().ok_or("temporary path is not UTF-8")?);
        }
        let child = ChildServer::start_with(&args, if tls { "https" } else { "http" })?;
        let ca_pem = match &ca_path {
            Some(p) => Some(std::fs::read_to_string(p)?),
            None => None,
        };
        Ok(Server {
            base: child.base.clone(),
            _child: child,
            ca_pem,
            _dir: dir,
        })
    }
}

/// The shared ~2 KB pod fixture, typed, without tolerations (the shape the figures
/// in the README were measured with).
fn pod(name: &str, i: usize) -> Pod {
    let mut v = kubeforge_bench::pod(name, i);
    if let Some(spec) = v["spec"].as_object_mut() {
        spec.remove("tolerations");
    }
    serde_json::from_value(v).expect("pod decodes")
}

fn configmap(name: &str) -> ConfigMap {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"bench": "client"}},
        "data": {"config.yaml": "mode: fast\nreplicas: 3\nregion: eu-west-1\n", "owner": "team-storage"},
    }))
    .expect("configmap decodes")
}

/// The two clients.
struct Clients {
    ours: kubeforge_client::Client,
    kube: kube::Client,
}

impl Clients {
    fn new(base: &str) -> Result<Clients, Error> {
        Self::with_ca(base, None)
    }

    fn with_ca(base: &str, ca_pem: Option<&str>) -> Result<Clients, Error> {
        let config = kubeforge_client::__doctest::config(base, ca_pem);
        let ours = kubeforge_client::Client::builder(config)
            .no_rate_limit()
            .gzip(std::env::var_os("KF_NO_GZIP").is_none())
            .build()?;
        let mut kube_config = kube::Config::new(base.parse()?);
        if let Some(pem) = ca_pem {
            use rustls::pki_types::CertificateDer;
            use rustls::pki_types::pem::PemObject;
            let ders = CertificateDer::pem_slice_iter(pem.as_bytes())
                .map(|c| c.map(|c| c.as_ref().to_vec()))
                .collect::<Result<Vec<_>, _>>()?;
            kube_config.root_cert = Some(ders);
        }
        let kube = kube::Client::try_from(kube_config)?;
        Ok(Clients { ours, kube })
    }
}

/// Runs `n` futures made by `f(i)`, `CONCURRENCY` at a time.
async fn concurrently<F, Fut>(n: usize, f: F) -> Result<(), Error>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Result<(), Error>>,
{
    futures::stream::iter(0..n)
        .map(f)
        .buffer_unordered(CONCURRENCY)
        .try_collect::<()>()
        .await
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Ours,
    Kube,
}

/// One run of a scenario: operations per second, and client CPU microseconds per
/// operation.
async fn run(
    scenario: &str,
    side: Side,
    c: &Clients,
    round: usize,
    rv: &str,
    pods: usize,
) -> Result<(f64, f64), Error> {
    let cpu = cpu_seconds();
    use kube::api::{Api as KApi, ListParams, PostParams, WatchParams};
    use kubeforge_client::api::Api;
    use kubeforge_client::core::{CreateOptions, ListOptions};
    let started = Instant::now();
    let ops = match (scenario, side) {
        ("get", Side::Ours) => {
            let api = Api::<ConfigMap>::namespaced(c.ours.clone(), "bench");
            concurrently(GETS, |i| {
                let api = api.clone();
                async move {
                    api.get(&format!("get-{}", i % GET_OBJECTS)).await?;
                    Ok(())
                }
            })
            .await?;
            GETS
        }
        ("get", Side::Kube) => {
            let api = KApi::<ConfigMap>::namespaced(c.kube.clone(), "bench");
            concurrently(GETS, |i| {
                let api = api.clone();
                async move {
                    api.get(&format!("get-{}", i % GET_OBJECTS)).await?;
                    Ok(())
                }
            })
            .await?;
            GETS
        }
        ("list", Side::Ours) => {
            let api = Api::<Pod>::namespaced(c.ours.clone(), "pods");
            for _ in 0..LISTS {
                let list = api.list(&ListOptions::default()).await?;
                assert_eq!(list.items.len(), pods);
            }
            LISTS
        }
        ("list", Side::Kube) => {
            let api = KApi::<Pod>::namespaced(c.kube.clone(), "pods");
            for _ in 0..LISTS {
                let list = api.list(&ListParams::default()).await?;
                assert_eq!(list.items.len(), pods);
            }
            LISTS
        }
        ("create", Side::Ours) => {
            let api = Api::<ConfigMap>::namespaced(c.ours.clone(), "bench");
            concurrently(CREATES, |i| {
                let api = api.clone();
                async move {
                    api.create(
                        &CreateOptions::default(),
                        &configmap(&format!("ours-{round}-{i}")),
                    )
                    .await?;
                    Ok(())
                }
            })
            .await?;
            CREATES
        }
        ("create", Side::Kube) => {
            let api = KApi::<ConfigMap>::namespaced(c.kube.clone(), "bench");
            concurrently(CREATES, |i| {
                let api = api.clone();
                async move {
                    api.create(
                        &PostParams::default(),
                        &configmap(&format!("kube-{round}-{i}")),
                    )
                    .await?;
                    Ok(())
                }
            })
            .await?;
            CREATES
        }
        ("watch", Side::Ours) => {
            let api = Api::<Pod>::namespaced(c.ours.clone(), "watched");
            let events = api
                .watch(&ListOptions::default().at(rv).timeout(60))
                .await?;
            let mut events = std::pin::pin!(events.take(WATCH_EVENTS));
            let mut n = 0;
            while let Some(e) = events.next().await {
                e?;
                n += 1;
            }
            n
        }
        ("watch", Side::Kube) => {
            let api = KApi::<Pod>::namespaced(c.kube.clone(), "watched");
            let events = api.watch(&WatchParams::default().timeout(60), rv).await?;
            let mut events = std::pin::pin!(events.take(WATCH_EVENTS));
            let mut n = 0;
            while let Some(e) = events.next().await {
                e?;
                n += 1;
            }
            n
        }
        _ => return Err(format!("unknown scenario {scenario}").into()),
    };
    let cpu_us = (cpu_seconds() - cpu) * 1e6 / ops as f64;
    Ok((ops as f64 / started.elapsed().as_secs_f64(), cpu_us))
}

async fn setup(c: &Clients, pods: usize) -> Result<String, Error> {
    use k8s_openapi::api::core::v1::Namespace;
    use kubeforge_client::api::{Api, Patch};
    use kubeforge_client::core::{CreateOptions, ListOptions, PatchOptions};
    for ns in ["bench", "pods", "watched"] {
        let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": ns}}))?;
        Api::<Namespace>::all(c.ours.clone())
            .create(&CreateOptions::default(), &ns)
            .await?;
    }
    let cms = Api::<ConfigMap>::namespaced(c.ours.clone(), "bench");
    concurrently(GET_OBJECTS, |i| {
        let cms = cms.clone();
        async move {
            cms.create(&CreateOptions::default(), &configmap(&format!("get-{i}")))
                .await?;
            Ok(())
        }
    })
    .await?;
    let listed = Api::<Pod>::namespaced(c.ours.clone(), "pods");
    concurrently(pods, |i| {
        let listed = listed.clone();
        async move {
            listed
                .create(&CreateOptions::default(), &pod(&format!("pod-{i}"), i))
                .await?;
            Ok(())
        }
    })
    .await?;
    let watched = Api::<Pod>::namespaced(c.ours.clone(), "watched");
    concurrently(WATCHED_PODS, |i| {
        let watched = watched.clone();
        async move {
            watched
                .create(&CreateOptions::default(), &pod(&format!("w-{i}"), i))
                .await?;
            Ok(())
        }
    })
    .await?;
    let rv = watched
        .list(&ListOptions::default())
        .await?
        .metadata
        .resource_version
        .ok_or("no list resourceVersion")?;
    concurrently(WATCH_EVENTS, |i| {
        let watched = watched.clone();
        async move {
            let patch: Value =
                json!({"metadata": {"annotations": {"example.com/revision": i.to_string()}}});
            watched
                .patch(
                    &format!("w-{}", i % WATCHED_PODS),
                    &PatchOptions::default(),
                    &Patch::Merge(&patch),
                )
                .await?;
            Ok(())
        }
    })
    .await?;
    Ok(rv)
}

async fn drive(args: &[String]) -> Result<(), Error> {
    let arg = |name: &str, default: usize| -> usize {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let rounds = arg("--rounds", 5).max(1);
    let pods = arg("--pods", 10_000).max(1);
    let tls = args.iter().any(|a| a == "--tls");
    let server = Server::start_with(tls)?;
    let clients = Clients::with_ca(&server.base, server.ca_pem.as_deref())?;
    if tls {
        println!("over TLS: ours negotiates HTTP/2 (one multiplexed connection), kube-rs HTTP/1.1");
    }
    let t = Instant::now();
    let rv = setup(&clients, pods).await?;
    println!(
        "set-up: {pods} pods, {WATCH_EVENTS} updates of {WATCHED_PODS} pods in {:.1?}",
        t.elapsed()
    );
    // warm both clients' connection pools
    run("get", Side::Ours, &clients, 0, &rv, pods).await?;
    run("get", Side::Kube, &clients, 0, &rv, pods).await?;

    let scenarios = [
        ("get", "GETs/s"),
        ("list", "lists/s"),
        ("create", "creates/s"),
        ("watch", "events/s"),
    ];
    println!(
        "{:<8} {:>18} {:>18} {:>8} {:>13} {:>5} | {:>12} {:>12} {:>7}",
        "scenario",
        "ours",
        "kube-rs",
        "ratio",
        "min–max",
        "goal",
        "ours CPU/op",
        "kube CPU/op",
        "ratio"
    );
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let kube_first = args.iter().any(|a| a == "--kube-first");
    for (scenario, unit) in scenarios {
        if only.as_deref().is_some_and(|o| o != scenario) {
            continue;
        }
        let (mut ours, mut kube, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        let (mut ours_cpu, mut kube_cpu, mut cpu_ratios) = (Vec::new(), Vec::new(), Vec::new());
        for round in 1..=rounds {
            let order = if (round % 2 == 0) != kube_first {
                [Side::Kube, Side::Ours]
            } else {
                [Side::Ours, Side::Kube]
            };
            let mut pair = [(0.0, 0.0); 2];
            for side in order {
                pair[usize::from(side == Side::Kube)] =
                    run(scenario, side, &clients, round, &rv, pods).await?;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            ours.push(pair[0].0);
            kube.push(pair[1].0);
            ratios.push(pair[0].0 / pair[1].0);
            ours_cpu.push(pair[0].1);
            kube_cpu.push(pair[1].1);
            cpu_ratios.push(pair[1].1 / pair[0].1.max(f64::MIN_POSITIVE));
        }
        let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = ratios.iter().copied().fold(0.0, f64::max);
        let ratio = median(ratios);
        println!(
            "{:<8} {:>10.1} {unit:<7} {:>10.1} {unit:<7} {:>7.2}x {:>6.2}–{:<6.2} {:>4.1}{} | {:>9.1} µs {:>9.1} µs {:>6.2}x",
            scenario,
            median(ours),
            median(kube),
            ratio,
            lo,
            hi,
            GOAL,
            if ratio >= GOAL { "+" } else { "-" },
            median(ours_cpu),
            median(kube_cpu),
            median(cpu_ratios),
        );
    }
    Ok(())
}
