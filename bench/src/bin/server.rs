//! Server benchmark: kubeforge's apiserver against a bare hyper + serde_json server that
//! serves the same routes and payloads without any Kubernetes semantics (the "physical
//! limit" of the same stack).
//!
//! ```sh
//! cargo run --release -p kubeforge-bench --bin server            # 3 rounds, 10k pods
//! cargo run --release -p kubeforge-bench --bin server -- --pods 2000 --rounds 1
//! ```
//!
//! Both servers run as child processes of this binary (`serve-ours`, `serve-bare`), so
//! each one's CPU time is read from `/proc`. Rounds interleave the two servers scenario
//! by scenario on fresh processes; the report shows each scenario's median ratio
//! ours/bare with the min–max of the rounds, next to the goal.
//!
//! Scenarios (the shapes of the performance plan's S1–S4):
//! - **create**: POST N ~2 KB pods into 10 namespaces, 32 concurrent requests;
//! - **get**: GET pods by name, uniformly, 32 concurrent;
//! - **list**: LIST all N pods, 10 times; response bytes per second;
//! - **watch**: 100 watchers on all pods; 5,000 updates to 2,000 pods; events
//!   delivered per second summed over watchers.
//!
//! The bare server parses each body into a `serde_json::Value`, stamps uid,
//! resourceVersion and creationTimestamp, serializes, stores the bytes in a sharded
//! map, and fans watch events out through a broadcast channel.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use kubeforge_bench::{ChildServer, median};
use parking_lot::RwLock;
use serde_json::{Value, json};
use tokio::net::TcpListener;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Both servers (and the driver) run on mimalloc, the allocator the standalone
/// `kubeforge-apiserver` binary ships with.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

const NAMESPACES: usize = 10;
const CONCURRENCY: usize = 32;
const WATCHERS: usize = 100;
const UPDATES: usize = 5_000;
const UPDATED_PODS: usize = 2_000;
const LISTS: usize = 10;

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match args.first().map(String::as_str) {
        Some("serve-ours") => runtime.block_on(serve_ours()),
        Some("serve-bare") => runtime.block_on(serve_bare()),
        _ => runtime.block_on(drive(&args)),
    }
}

// ---------------------------------------------------------------------------
// The two servers

async fn serve_ours() -> Result<(), Error> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    println!("PORT {}", listener.local_addr()?.port());
    let config = kubeforge_testserver::Config::new().watch_history(50_000);
    kubeforge_testserver::run(listener, config, std::future::pending()).await?;
    Ok(())
}

type BareBody = http_body_util::combinators::BoxBody<Bytes, Infallible>;

/// The bare server's state: stored bytes per key, a revision counter, a fan-out.
struct Bare {
    shards: Vec<RwLock<HashMap<String, Bytes>>>,
    revision: AtomicU64,
    events: tokio::sync::broadcast::Sender<Bytes>,
}

impl Bare {
    fn shard(&self, key: &str) -> &RwLock<HashMap<String, Bytes>> {
        let h = key
            .bytes()
            .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize));
        &self.shards[h % self.shards.len()]
    }
}

fn bare_response(code: u16, body: Bytes) -> http::Response<BareBody> {
    let mut resp = http::Response::new(Full::new(body).boxed());
    *resp.status_mut() = http::StatusCode::from_u16(code).unwrap_or(http::StatusCode::OK);
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    resp
}

fn event_line(kind: &str, obj: &[u8]) -> Bytes {
    let mut v = Vec::with_capacity(obj.len() + 32);
    v.extend_from_slice(b"{\"type\":\"");
    v.extend_from_slice(kind.as_bytes());
    v.extend_from_slice(b"\",\"object\":");
    v.extend_from_slice(obj);
    v.extend_from_slice(b"}\n");
    Bytes::from(v)
}

async fn bare_handle(
    state: Arc<Bare>,
    req: http::Request<hyper::body::Incoming>,
) -> http::Response<BareBody> {
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (req.method().as_str(), parts.as_slice()) {
        ("POST", ["api", "v1", "namespaces", ns, "pods"])
        | ("PUT", ["api", "v1", "namespaces", ns, "pods", _]) => {
            let put = req.method() == http::Method::PUT;
            let ns = (*ns).to_owned();
            let Ok(body) = req.into_body().collect().await else {
                return bare_response(400, Bytes::new());
            };
            let Ok(mut obj) = serde_json::from_slice::<Value>(&body.to_bytes()) else {
                return bare_response(400, Bytes::new());
            };
            let rev = state.revision.fetch_add(1, Ordering::SeqCst) + 1;
            let name = obj["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            obj["metadata"]["namespace"] = json!(ns);
            obj["metadata"]["uid"] = json!(uuid::Uuid::new_v4().to_string());
            obj["metadata"]["resourceVersion"] = json!(rev.to_string());
            obj["metadata"]["creationTimestamp"] = json!("2026-01-01T00:00:00Z");
            let bytes = Bytes::from(serde_json::to_vec(&obj).unwrap_or_default());
            state
                .shard(&format!("{ns}/{name}"))
                .write()
                .insert(format!("{ns}/{name}"), bytes.clone());
            let _ = state
                .events
                .send(event_line(if put { "MODIFIED" } else { "ADDED" }, &bytes));
            bare_response(if put { 200 } else { 201 }, bytes)
        }
        ("GET", ["api", "v1", "namespaces", ns, "pods", name]) => {
            let key = format!("{ns}/{name}");
            match state.shard(&key).read().get(&key) {
                Some(b) => bare_response(200, b.clone()),
                None => bare_response(404, Bytes::new()),
            }
        }
        ("GET", ["api", "v1", "pods"]) if query.contains("watch=true") => {
            let rx = state.events.subscribe();
            let stream = futures::stream::unfold(rx, |mut rx| async move {
                loop {
                    match rx.recv().await {
                        Ok(line) => return Some((Ok::<_, Infallible>(Frame::data(line)), rx)),
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(_) => return None,
                    }
                }
            });
            let mut resp = http::Response::new(StreamBody::new(stream).boxed());
            resp.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
            resp
        }
        ("GET", ["api", "v1", "pods"]) => {
            let rev = state.revision.load(Ordering::SeqCst);
            let mut out = Vec::new();
            out.extend_from_slice(
                br#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":""#,
            );
            out.extend_from_slice(rev.to_string().as_bytes());
            out.extend_from_slice(br#""},"items":["#);
            let mut first = true;
            for shard in &state.shards {
                for b in shard.read().values() {
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    out.extend_from_slice(b);
                }
            }
            out.extend_from_slice(b"]}");
            bare_response(200, Bytes::from(out))
        }
        _ => bare_response(404, Bytes::new()),
    }
}

async fn serve_bare() -> Result<(), Error> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    println!("PORT {}", listener.local_addr()?.port());
    let (events, _) = tokio::sync::broadcast::channel(65_536);
    let state = Arc::new(Bare {
        shards: (0..16).map(|_| RwLock::new(HashMap::new())).collect(),
        revision: AtomicU64::new(1),
        events,
    });
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let state = state.clone();
                async move { Ok::<_, Infallible>(bare_handle(state, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                .await;
        });
    }
}

// ---------------------------------------------------------------------------
// The driver

/// The shared ~2 KB pod fixture with a running pod's status.
fn pod(name: &str, i: usize) -> Value {
    let mut pod = kubeforge_bench::pod(name, i);
    pod["status"] = json!({
        "phase": "Running", "hostIP": "10.0.0.12", "podIP": format!("10.244.{}.{}", i / 250 % 250, i % 250),
        "conditions": [
            {"type": "Initialized", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"},
            {"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:05Z"},
            {"type": "ContainersReady", "status": "True", "lastTransitionTime": "2026-01-01T00:00:05Z"},
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}
        ],
        "containerStatuses": [{"name": "main", "ready": true, "restartCount": 0, "image": "registry.example.com/team/service:1.42.7",
            "imageID": "registry.example.com/team/service@sha256:0123456789abcdef", "started": true,
            "state": {"running": {"startedAt": "2026-01-01T00:00:03Z"}}}]
    });
    pod
}

fn pod_path(base: &str, i: usize) -> (String, String) {
    let ns = format!("bench-{}", i % NAMESPACES);
    (
        format!("{base}/api/v1/namespaces/{ns}/pods"),
        format!("pod-{i:06}"),
    )
}

/// Runs `total` requests from `CONCURRENCY` tasks; returns the elapsed time.
async fn load<F, Fut>(total: usize, f: F) -> Result<Duration, Error>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), Error>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let f = Arc::new(f);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let next = next.clone();
        let f = f.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return Ok::<(), Error>(());
                }
                f(i).await?;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(started.elapsed())
}

#[derive(Clone, Copy)]
struct Sizes {
    pods: usize,
    gets: usize,
}

/// One measurement: work per second and server CPU seconds per 1,000 operations.
#[derive(Clone, Copy, Debug)]
struct Measure {
    rate: f64,
    cpu_per_1k: f64,
}

async fn create(
    client: &reqwest::Client,
    server: &ChildServer,
    sizes: Sizes,
    ours: bool,
) -> Result<Measure, Error> {
    if ours {
        for n in 0..NAMESPACES {
            let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": format!("bench-{n}")}});
            client
                .post(format!("{}/api/v1/namespaces", server.base))
                .json(&ns)
                .send()
                .await?;
        }
    }
    let bodies: Arc<Vec<(String, Bytes)>> = Arc::new(
        (0..sizes.pods)
            .map(|i| {
                let (url, name) = pod_path(&server.base, i);
                (
                    url,
                    Bytes::from(serde_json::to_vec(&pod(&name, i)).unwrap_or_default()),
                )
            })
            .collect(),
    );
    let cpu0 = server.cpu_seconds();
    let c = client.clone();
    let elapsed = load(sizes.pods, move |i| {
        let c = c.clone();
        let bodies = bodies.clone();
        async move {
            let (url, body) = &bodies[i];
            let r = c
                .post(url)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await?;
            if r.status().as_u16() != 201 {
                return Err(format!("create answered {}", r.status()).into());
            }
            r.bytes().await?;
            Ok(())
        }
    })
    .await?;
    Ok(Measure {
        rate: sizes.pods as f64 / elapsed.as_secs_f64(),
        cpu_per_1k: (server.cpu_seconds() - cpu0) * 1000.0 / sizes.pods as f64,
    })
}

async fn get(
    client: &reqwest::Client,
    server: &ChildServer,
    sizes: Sizes,
) -> Result<Measure, Error> {
    let base = server.base.clone();
    let pods = sizes.pods;
    let cpu0 = server.cpu_seconds();
    let c = client.clone();
    let elapsed = load(sizes.gets, move |i| {
        let c = c.clone();
        // A fixed pseudo-random spread over the stored pods.
        let n = (i.wrapping_mul(2_654_435_761)) % pods;
        let (url, name) = pod_path(&base, n);
        async move {
            let r = c.get(format!("{url}/{name}")).send().await?;
            if r.status().as_u16() != 200 {
                return Err(format!("get answered {}", r.status()).into());
            }
            r.bytes().await?;
            Ok(())
        }
    })
    .await?;
    Ok(Measure {
        rate: sizes.gets as f64 / elapsed.as_secs_f64(),
        cpu_per_1k: (server.cpu_seconds() - cpu0) * 1000.0 / sizes.gets as f64,
    })
}

async fn list(
    client: &reqwest::Client,
    server: &ChildServer,
    sizes: Sizes,
) -> Result<Measure, Error> {
    // Check the answer once, outside the timed loop (parsing it is the client's cost).
    let body = client
        .get(format!("{}/api/v1/pods", server.base))
        .send()
        .await?
        .bytes()
        .await?;
    let items = serde_json::from_slice::<Value>(&body)?["items"]
        .as_array()
        .map_or(0, Vec::len);
    if items != sizes.pods {
        return Err(format!("list returned {items} items, expected {}", sizes.pods).into());
    }
    let cpu0 = server.cpu_seconds();
    let started = Instant::now();
    let mut bytes = 0usize;
    for _ in 0..LISTS {
        let body = client
            .get(format!("{}/api/v1/pods", server.base))
            .send()
            .await?
            .bytes()
            .await?;
        bytes += body.len();
    }
    let elapsed = started.elapsed();
    Ok(Measure {
        rate: bytes as f64 / elapsed.as_secs_f64() / 1e6,
        cpu_per_1k: (server.cpu_seconds() - cpu0) * 1000.0 / LISTS as f64,
    })
}

async fn watch(
    client: &reqwest::Client,
    server: &ChildServer,
    sizes: Sizes,
    ours: bool,
) -> Result<Measure, Error> {
    let query = if ours {
        let rv = client
            .get(format!("{}/api/v1/pods?limit=1", server.base))
            .send()
            .await?
            .json::<Value>()
            .await?["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or("0")
            .to_owned();
        format!("watch=true&resourceVersion={rv}")
    } else {
        "watch=true".to_owned()
    };
    let updates = UPDATES;
    let mut watchers = Vec::new();
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(WATCHERS);
    for _ in 0..WATCHERS {
        let url = format!("{}/api/v1/pods?{query}", server.base);
        let ready = ready_tx.clone();
        let watch_client = reqwest::Client::builder().build()?;
        watchers.push(tokio::spawn(async move {
            let mut resp = watch_client.get(url).send().await?;
            let _ = ready.send(()).await;
            let mut seen = 0usize;
            while seen < updates {
                match resp.chunk().await? {
                    Some(chunk) => seen += chunk.iter().filter(|b| **b == b'\n').count(),
                    None => return Err::<Instant, Error>("watch ended early".into()),
                }
            }
            Ok(Instant::now())
        }));
    }
    for _ in 0..WATCHERS {
        ready_rx.recv().await.ok_or("watcher failed to start")?;
    }
    // Give the servers a moment to register every watch before the first write.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let base = server.base.clone();
    let updated = sizes.pods.min(UPDATED_PODS);
    let cpu0 = server.cpu_seconds();
    let started = Instant::now();
    let c = client.clone();
    load(updates, move |i| {
        let c = c.clone();
        let n = i % updated;
        let (url, name) = pod_path(&base, n);
        let mut body = pod(&name, n);
        body["metadata"]["annotations"]["example.com/generation"] = json!(i.to_string());
        async move {
            let r = c.put(format!("{url}/{name}")).json(&body).send().await?;
            if r.status().as_u16() != 200 {
                return Err(format!("update answered {}", r.status()).into());
            }
            r.bytes().await?;
            Ok(())
        }
    })
    .await?;
    let mut last = started;
    for w in watchers {
        last = last.max(w.await??);
    }
    let elapsed = last.duration_since(started);
    let delivered = (WATCHERS * updates) as f64;
    Ok(Measure {
        rate: delivered / elapsed.as_secs_f64(),
        cpu_per_1k: (server.cpu_seconds() - cpu0) * 1000.0 / delivered,
    })
}

async fn drive(args: &[String]) -> Result<(), Error> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let arg = |name: &str, default: usize| -> usize {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let rounds = arg("--rounds", 3).max(1);
    let sizes = Sizes {
        pods: arg("--pods", 10_000),
        gets: arg("--gets", 50_000),
    };
    // `--only-create` stops after the create scenario (for profiling it).
    let only_create = args.iter().any(|a| a == "--only-create");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY * 2)
        .build()?;
    let names = ["create", "get", "list", "watch"];
    let units = ["creates/s", "gets/s", "MB/s", "events/s"];
    let goals = [0.6, 0.8, 0.8, 0.7];
    let mut results: Vec<Vec<(Measure, Measure)>> = vec![Vec::new(); names.len()];
    for round in 0..rounds {
        eprintln!("round {}/{rounds}", round + 1);
        let ours = ChildServer::start(&["serve-ours"])?;
        let bare = ChildServer::start(&["serve-bare"])?;
        let o = create(&client, &ours, sizes, true).await?;
        let b = create(&client, &bare, sizes, false).await?;
        results[0].push((o, b));
        if only_create {
            continue;
        }
        let o = get(&client, &ours, sizes).await?;
        let b = get(&client, &bare, sizes).await?;
        results[1].push((o, b));
        let o = list(&client, &ours, sizes).await?;
        let b = list(&client, &bare, sizes).await?;
        results[2].push((o, b));
        let o = watch(&client, &ours, sizes, true).await?;
        let b = watch(&client, &bare, sizes, false).await?;
        results[3].push((o, b));
    }
    println!(
        "server benchmark: {} pods (~2 KB), {} gets, {LISTS} lists, {WATCHERS} watchers x {UPDATES} updates, {rounds} round(s)",
        sizes.pods, sizes.gets
    );
    println!(
        "{:<8} {:>14} {:>14} {:>10} {:>16} {:>6} {:>14}",
        "scenario", "ours", "bare", "unit", "ours/bare", "goal", "cpu ours/bare"
    );
    for (i, name) in names.iter().enumerate() {
        let r = &results[i];
        if r.is_empty() {
            continue;
        }
        let ratios: Vec<f64> = r.iter().map(|(o, b)| o.rate / b.rate).collect();
        let cpu: Vec<f64> = r
            .iter()
            .map(|(o, b)| o.cpu_per_1k / b.cpu_per_1k.max(1e-9))
            .collect();
        let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = ratios.iter().copied().fold(0.0, f64::max);
        println!(
            "{:<8} {:>14.1} {:>14.1} {:>10} {:>6.2} ({:.2}-{:.2}) {:>6.2} {:>14.2}",
            name,
            median(r.iter().map(|(o, _)| o.rate).collect()),
            median(r.iter().map(|(_, b)| b.rate).collect()),
            units[i],
            median(ratios.clone()),
            lo,
            hi,
            goals[i],
            median(cpu),
        );
    }
    Ok(())
}
