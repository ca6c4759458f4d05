//! Chaos: random creates, updates and deletes across namespaces while faults are
//! injected at random (watches dropped, history compacted, 500s and 429s on lists,
//! watches and writes). At the end the informer's cache equals the server's state,
//! and each handler's last notification per object matches it, a slow handler with a
//! tiny buffer included.
//!
//! Seeded and reproducible: `KUBEFORGE_CHAOS_SEEDS=11,12` picks the seeds (default:
//! three fixed ones).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kubeforge_client::api::Api;
use kubeforge_client::core::{CreateOptions, DeleteOptions, ListOptions, Status};
use kubeforge_informer::reflector::ReflectorOptions;
use kubeforge_informer::{
    Deleted, HandlerOptions, ListWatch, ResourceEventHandler, SharedIndexInformer,
};
use kubeforge_testserver::{Fault, TestServer};
use parking_lot::Mutex;

use crate::support::{client, configmap};

/// A small deterministic generator (xorshift64*), so a seed replays the same run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }
}

/// The last thing a handler was told per object: its resourceVersion, or gone.
#[derive(Default)]
struct LastSeen {
    last: Mutex<BTreeMap<String, Option<String>>>,
    delay: Duration,
}

fn key(cm: &ConfigMap) -> String {
    format!(
        "{}/{}",
        cm.metadata.namespace.clone().unwrap_or_default(),
        cm.metadata.name.clone().unwrap_or_default()
    )
}

struct Handler(Arc<LastSeen>);

impl Handler {
    fn saw(&self, key: String, rv: Option<String>) {
        if !self.0.delay.is_zero() {
            std::thread::sleep(self.0.delay);
        }
        self.0.last.lock().insert(key, rv);
    }
}

impl ResourceEventHandler<ConfigMap> for Handler {
    fn on_add(&self, obj: &Arc<ConfigMap>, _initial: bool) {
        self.saw(key(obj), obj.metadata.resource_version.clone());
    }
    fn on_update(&self, _old: &Arc<ConfigMap>, new: &Arc<ConfigMap>) {
        self.saw(key(new), new.metadata.resource_version.clone());
    }
    fn on_delete(&self, obj: &Deleted<ConfigMap>) {
        self.saw(key(obj.last()), None);
    }
}

const NAMESPACES: [&str; 3] = ["chaos-a", "chaos-b", "chaos-c"];
const NAMES: u64 = 12;
const STEPS: usize = 300;

async fn run(seed: u64) {
    let server = TestServer::builder()
        .watch_history(64)
        .bookmark_interval(Duration::from_millis(50))
        .start()
        .await
        .expect("server");
    let client = client(&server);
    for ns in NAMESPACES {
        let body = serde_json::json!({"metadata": {"name": ns}});
        Api::<Namespace>::all(client.clone())
            .create(
                &CreateOptions::default(),
                &serde_json::from_value(body).expect("ns"),
            )
            .await
            .expect("namespace");
    }
    let informer = SharedIndexInformer::new(ListWatch::new(Api::<ConfigMap>::all(client.clone())));
    let mut options = ReflectorOptions::default();
    options.backoff_initial = Duration::from_millis(5);
    options.backoff_max = Duration::from_millis(50);
    options.min_watch_timeout = Duration::from_secs(1);
    informer
        .set_reflector_options(options)
        .expect("not started");
    let fast = Arc::new(LastSeen::default());
    let slow = Arc::new(LastSeen {
        delay: Duration::from_millis(1),
        ..LastSeen::default()
    });
    informer.add_event_handler(Handler(fast.clone()));
    informer.add_event_handler_with(Handler(slow.clone()), HandlerOptions::default().buffer(4));
    informer.run();

    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    for step in 0..STEPS {
        let ns = NAMESPACES[rng.below(NAMESPACES.len() as u64) as usize];
        let name = format!("cm-{}", rng.below(NAMES));
        let api = Api::<ConfigMap>::namespaced(client.clone(), ns);
        // Writes may fail under injected faults; the server's final state is the truth.
        match rng.below(3) {
            0 => {
                let _ = api
                    .create(
                        &CreateOptions::default(),
                        &configmap(&name, &step.to_string()),
                    )
                    .await;
            }
            1 => {
                if let Ok(mut cm) = api.get(&name).await {
                    cm.data = Some([("v".to_owned(), step.to_string())].into());
                    let _ = api.replace(&name, &Default::default(), &cm).await;
                }
            }
            _ => {
                let _ = api.delete(&name, &DeleteOptions::default()).await;
            }
        }
        match rng.below(20) {
            0 => server.close_watches(),
            1 => server.compact().await.expect("compact"),
            2 | 3 => {
                let verb = ["list", "watch", "create", "update", "delete"][rng.below(5) as usize];
                let status = if rng.below(2) == 0 {
                    Status::internal_error("chaos")
                } else {
                    Status::too_many_requests("chaos", 0)
                };
                server.inject(
                    Fault::fail(status)
                        .verb(verb)
                        .resource("configmaps")
                        .times(1 + rng.below(3) as usize),
                );
            }
            4 => tokio::time::sleep(Duration::from_millis(rng.below(20))).await,
            _ => {}
        }
    }
    server.clear_faults();

    // The server's final state: key -> resourceVersion.
    let truth: BTreeMap<String, String> = Api::<ConfigMap>::all(client)
        .list(&ListOptions::default())
        .await
        .expect("final list")
        .items
        .iter()
        .map(|cm| {
            (
                key(cm),
                cm.metadata.resource_version.clone().unwrap_or_default(),
            )
        })
        .collect();
    let cache = || -> BTreeMap<String, String> {
        informer
            .indexer()
            .list()
            .iter()
            .map(|cm| {
                (
                    key(cm),
                    cm.metadata.resource_version.clone().unwrap_or_default(),
                )
            })
            .collect()
    };
    let told = |h: &LastSeen| -> BTreeMap<String, String> {
        h.last
            .lock()
            .iter()
            .filter_map(|(k, rv)| rv.clone().map(|rv| (k.clone(), rv)))
            .collect()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let done = cache() == truth && told(&fast) == truth && told(&slow) == truth;
        if done {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "seed {seed}: did not converge\n server: {truth:?}\n cache:  {:?}\n fast:   {:?}\n slow:   {:?}",
            cache(),
            told(&fast),
            told(&slow)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    informer.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_and_every_handler_converge_to_the_server_under_random_faults() {
    let seeds: Vec<u64> = std::env::var("KUBEFORGE_CHAOS_SEEDS")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 2, 3]);
    for seed in seeds {
        run(seed).await;
    }
}
