//! What a write costs by how it is expressed: the same change to the same 2 KB
//! Deployment (one container's image) sent as a JSON merge patch, a strategic merge
//! patch and a server-side apply, each a real PATCH over HTTP to an in-process server.
//! All three keep `managedFields` (every write does); the apply also merges by the
//! schema's list keys and checks ownership for conflicts.
//!
//! `cargo bench -p kubeforge-testserver --bench patch`
//!
//! The server allocates through mimalloc, as the `kubeforge-apiserver` binary does
//! (feature `mimalloc`, on by default); `--no-default-features` measures it with the
//! system allocator, where the apply case pays much more for the many small blocks
//! its field sets allocate and free.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use kubeforge_testserver::TestServer;
use serde_json::{Value, json};
use tokio::runtime::Runtime;

#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/default/deployments";

fn container(name: &str, image: &str, port: u16) -> Value {
    let env: Vec<Value> = (0..5)
        .map(|i| json!({"name": format!("{}_SETTING_{i}", name.to_uppercase()), "value": format!("value-{i}")}))
        .collect();
    json!({
        "name": name,
        "image": image,
        "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
        "env": env,
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": port}, "periodSeconds": 5},
        "volumeMounts": [{"name": "config", "mountPath": format!("/etc/{name}")}],
    })
}

/// A Deployment of about 2 KB whose `app` container runs `image`.
fn deployment(name: &str, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "labels": {"app": name, "tier": "backend", "team": "payments"},
            "annotations": {"owner": "payments-team@example.com", "runbook": "https://example.com/runbooks/payments"},
        },
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name, "tier": "backend"}},
                "spec": {
                    "containers": [
                        container("app", image, 8080),
                        container("sidecar", "envoy:1.30", 9901),
                        container("metrics", "exporter:2.1", 9100),
                    ],
                    "volumes": [{"name": "config", "configMap": {"name": "payments-config"}}],
                },
            },
        },
    })
}

struct Bench {
    rt: Runtime,
    _server: TestServer,
    http: reqwest::Client,
    base: String,
}

impl Bench {
    fn start() -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime builds");
        let server = rt.block_on(TestServer::start()).expect("server starts");
        let base = server.base_url().to_owned();
        Bench {
            rt,
            _server: server,
            http: reqwest::Client::new(),
            base,
        }
    }

    fn patch(&self, name: &str, query: &str, content_type: &str, body: &Value) {
        let url = format!("{}{DEPLOYMENTS}/{name}?{query}", self.base);
        let body = serde_json::to_vec(body).expect("body encodes");
        self.rt.block_on(async {
            let resp = self
                .http
                .patch(&url)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .expect("request sent");
            assert!(
                resp.status().is_success(),
                "PATCH failed: {}",
                resp.status()
            );
            resp.bytes().await.expect("body read");
        });
    }

    /// Creates `name` by apply, so it starts with managed fields.
    fn seed(&self, name: &str) {
        self.patch(
            name,
            "fieldManager=seed",
            "application/apply-patch+yaml",
            &deployment(name, "app:0"),
        );
    }
}

fn patches(c: &mut Criterion) {
    let b = Bench::start();
    let mut group = c.benchmark_group("patch a 2 KB Deployment");
    group.measurement_time(Duration::from_secs(8));
    for (label, content_type, query) in [
        (
            "merge patch",
            "application/merge-patch+json",
            "fieldManager=bench",
        ),
        (
            "strategic merge patch",
            "application/strategic-merge-patch+json",
            "fieldManager=bench",
        ),
        (
            "server-side apply",
            "application/apply-patch+yaml",
            "fieldManager=seed",
        ),
    ] {
        let name = label.replace(' ', "-");
        b.seed(&name);
        let mut i = 0u64;
        group.bench_function(label, |bench| {
            bench.iter(|| {
                i += 1;
                // Every iteration changes the image, so every one writes.
                // The same bytes each way (a merge patch replaces the container list
                // whole; the others merge it by name).
                let body = deployment(&name, &format!("app:{i}"));
                b.patch(&name, query, content_type, &body);
            });
        });
    }
    group.finish();
}

criterion_group!(benches, patches);
criterion_main!(benches);
