//! Set-up shared by the tests: a server, a client, objects, and a recording handler.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kubeforge_client::api::Api;
use kubeforge_client::config::{Kubeconfig, KubeconfigOptions};
use kubeforge_client::core::CreateOptions;
use kubeforge_client::{Client, Config};
use kubeforge_informer::{Deleted, ResourceEventHandler};
use kubeforge_testserver::TestServer;
use parking_lot::Mutex;

/// A fresh server with its own storage.
pub(crate) async fn server() -> TestServer {
    TestServer::start().await.expect("test server starts")
}

/// The config of `server`'s own kubeconfig.
pub(crate) fn config(server: &TestServer) -> Config {
    let kubeconfig = Kubeconfig::from_yaml(server.kubeconfig()).expect("kubeconfig parses");
    Config::from_custom_kubeconfig(kubeconfig, &KubeconfigOptions::default())
        .expect("kubeconfig is usable")
}

/// A client of `server`, without client-side throttling.
pub(crate) fn client(server: &TestServer) -> Client {
    Client::builder(config(server))
        .no_rate_limit()
        .build()
        .expect("client builds")
}

/// A ConfigMap with one data key.
pub(crate) fn configmap(name: &str, value: &str) -> ConfigMap {
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some(name.to_owned());
    cm.data = Some([("v".to_owned(), value.to_owned())].into());
    cm
}

/// Creates ConfigMaps `prefix-0..n` in `ns`, 16 at a time.
pub(crate) async fn create_configmaps(api: &Api<ConfigMap>, prefix: &str, n: usize) {
    use futures::StreamExt;
    futures::stream::iter(0..n)
        .map(|i| {
            let api = api.clone();
            async move {
                api.create(
                    &CreateOptions::default(),
                    &configmap(&format!("{prefix}-{i}"), "0"),
                )
                .await
                .expect("create");
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
}

/// Waits until the server's watch cache has every write made so far: a list without
/// a resourceVersion is a consistent read. Informers list at resourceVersion "0"
/// first, which (as upstream) may be served from a cache that lags the last writes by
/// a moment; tests that count what the initial list holds settle first.
pub(crate) async fn settle<K>(api: &Api<K>)
where
    K: kubeforge_client::api::Resource + serde::de::DeserializeOwned + Send + Sync + 'static,
{
    api.list(&kubeforge_client::core::ListOptions::default())
        .await
        .expect("consistent list");
}

/// One notification as a handler saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seen {
    Add {
        key: String,
        initial: bool,
    },
    Update {
        key: String,
        old_rv: String,
        new_rv: String,
    },
    Delete {
        key: String,
        tombstone: bool,
    },
}

/// A handler that records what it is told (and may be slowed down).
#[derive(Default)]
pub(crate) struct Recorder {
    pub(crate) seen: Mutex<Vec<Seen>>,
    pub(crate) delay: Mutex<Duration>,
}

fn key(cm: &ConfigMap) -> String {
    format!(
        "{}/{}",
        cm.metadata.namespace.clone().unwrap_or_default(),
        cm.metadata.name.clone().unwrap_or_default()
    )
}

fn rv(cm: &ConfigMap) -> String {
    cm.metadata.resource_version.clone().unwrap_or_default()
}

impl Recorder {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.seen.lock().clone()
    }

    fn pause(&self) {
        let d = *self.delay.lock();
        if !d.is_zero() {
            std::thread::sleep(d);
        }
    }
}

/// The handler side of a shared [`Recorder`].
pub(crate) struct Recording(pub(crate) Arc<Recorder>);

impl ResourceEventHandler<ConfigMap> for Recording {
    fn on_add(&self, obj: &Arc<ConfigMap>, is_in_initial_list: bool) {
        self.0.pause();
        self.0.seen.lock().push(Seen::Add {
            key: key(obj),
            initial: is_in_initial_list,
        });
    }

    fn on_update(&self, old: &Arc<ConfigMap>, new: &Arc<ConfigMap>) {
        self.0.pause();
        self.0.seen.lock().push(Seen::Update {
            key: key(new),
            old_rv: rv(old),
            new_rv: rv(new),
        });
    }

    fn on_delete(&self, obj: &Deleted<ConfigMap>) {
        self.0.pause();
        self.0.seen.lock().push(Seen::Delete {
            key: key(obj.last()),
            tombstone: obj.is_final_state_unknown(),
        });
    }
}

/// Polls `cond` every 10 ms for up to 20 s.
pub(crate) async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
