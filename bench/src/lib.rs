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

/// A child process of this benchmark binary that prints `PORT <n>` first.
#[derive(Debug)]
pub struct ChildServer {
    child: Child,
    /// `http://127.0.0.1:<port>`
    pub base: String,
}

impl ChildServer {
    /// Runs this executable with `args` and waits for its `PORT` line.
    ///
    /// # Errors
    ///
    /// The child does not start or does not announce a port.
    pub fn start(args: &[&str]) -> Result<ChildServer, Error> {
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
            base: format!("http://127.0.0.1:{port}"),
        })
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
