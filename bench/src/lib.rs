//! Shared helpers for the comparison benchmarks in `src/bin/`.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

/// The error every benchmark returns.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// A realistic ~2 KB pod without status (the performance plan's `pod-2k` shape):
/// three labels, an annotation, an owner, one container with env, ports, resources
/// and a mount, one volume, two tolerations.
pub fn pod(name: &str, i: usize) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": name,
            "labels": {"app": format!("app-{}", i % 50), "tier": "backend", "release": "stable"},
            "annotations": {"example.com/owner": "team-storage"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("rs-{}", i % 50),
                "uid": "5c1b4d3e-8f7a-4c2b-9e6d-0a1b2c3d4e5f", "controller": true, "blockOwnerDeletion": true}]
        },
        "spec": {
            "nodeName": format!("node-{}", i % 100),
            "containers": [{
                "name": "main", "image": "registry.example.com/team/service:1.42.7",
                "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "REGION", "value": "eu-west-1"}],
                "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
                "volumeMounts": [{"name": "config", "mountPath": "/etc/service"}]
            }],
            "volumes": [{"name": "config", "configMap": {"name": "service-config"}}],
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
            ]
        }
    })
}

/// User + system CPU seconds this process has used.
pub fn cpu_seconds() -> f64 {
    proc_cpu_seconds("self")
}

/// User + system CPU seconds of process `pid` (`"self"` for this one).
pub fn proc_cpu_seconds(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name (in parentheses): utime is the 14th, stime the 15th.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// `(VmHWM, VmRSS)` of this process in KiB: peak and current resident memory.
pub fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// The median (the mean of the middle two for an even count; 0 for none).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Smallest and largest of `v`.
pub fn min_max(v: &[f64]) -> (f64, f64) {
    (
        v.iter().copied().fold(f64::INFINITY, f64::min),
        v.iter().copied().fold(0.0, f64::max),
    )
}

/// A child process of this benchmark binary that prints `PORT <n>` first; killed on
/// drop.
#[derive(Debug)]
pub struct ChildServer {
    child: Child,
    /// `http://127.0.0.1:<port>` (or `https://`, see [`ChildServer::start_with`]).
    pub base: String,
}

impl ChildServer {
    /// Runs this executable with `args` and waits for its `PORT` line.
    ///
    /// # Errors
    ///
    /// The child does not start or does not announce a port.
    pub fn start(args: &[&str]) -> Result<ChildServer, Error> {
        Self::start_with(args, "http")
    }

    /// [`start`](Self::start) for a child serving `scheme` (`http` or `https`).
    ///
    /// # Errors
    ///
    /// The child does not start or does not announce a port.
    pub fn start_with(args: &[&str], scheme: &str) -> Result<ChildServer, Error> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut line = String::new();
        std::io::BufReader::new(stdout).read_line(&mut line)?;
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .ok_or("no port")?
            .to_owned();
        Ok(ChildServer {
            child,
            base: format!("{scheme}://127.0.0.1:{port}"),
        })
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// User + system CPU seconds the child has used so far.
    pub fn cpu_seconds(&self) -> f64 {
        proc_cpu_seconds(&self.pid().to_string())
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Serves a kubeforge apiserver on a free loopback port (plain HTTP, a watch
/// history of 100,000 events) until the process ends, announcing `PORT <n>` first:
/// the `serve` child of the client-side benchmarks.
///
/// # Errors
///
/// The listener or the server fails.
pub async fn serve_testserver() -> Result<(), Error> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("PORT {}", listener.local_addr()?.port());
    let config = kubeforge_testserver::Config::new().watch_history(100_000);
    kubeforge_testserver::run(listener, config, std::future::pending()).await?;
    Ok(())
}

/// Namespaces the client-side benchmarks spread pods over (`ns-0`…).
pub const NAMESPACES: usize = 10;

/// Concurrent requests of the client-side benchmarks' drivers.
pub const CONCURRENCY: usize = 32;

/// Creates the namespaces and `pods` [`pod`]s (`pod-<i>` in `ns-<i % NAMESPACES>`),
/// [`CONCURRENCY`] at a time.
///
/// # Errors
///
/// A request fails.
pub async fn load_pods(http: &reqwest::Client, base: &str, pods: usize) -> Result<(), Error> {
    use futures::{StreamExt, TryStreamExt};
    for ns in 0..NAMESPACES {
        let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": format!("ns-{ns}")}});
        http.post(format!("{base}/api/v1/namespaces"))
            .json(&body)
            .send()
            .await?
            .error_for_status()?;
    }
    futures::stream::iter(0..pods)
        .map(|i| async move {
            let url = format!("{base}/api/v1/namespaces/ns-{}/pods", i % NAMESPACES);
            http.post(url)
                .json(&pod(&format!("pod-{i}"), i))
                .send()
                .await?
                .error_for_status()?;
            Ok::<_, Error>(())
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect::<()>()
        .await
}

/// The lines a child writes to `stdout`, read on a thread of their own so that a
/// stuck child can be timed out (`recv_timeout`) instead of hanging the run.
pub fn report_lines(stdout: std::process::ChildStdout) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}
