//! The Reflector alone, writing into a recording store: streaming lists and their
//! fallback, bookmarks, failures and backoff, stopping.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kubeforge_client::api::Api;
use kubeforge_client::core::{CreateOptions, Status};
use kubeforge_client::transport::RetryPolicy;
use kubeforge_informer::reflector::ReflectorOptions;
use kubeforge_informer::{ListWatch, Reflector, ReflectorStore};
use kubeforge_testserver::{Fault, TestServer};
use parking_lot::Mutex;
use tokio_util::sync::CancellationToken;

use crate::support::{client, configmap, create_configmaps, eventually, server, settle};

/// What the reflector wrote, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    Add(String),
    Update(String),
    Delete(String),
    Replace(usize),
    Resync,
}

#[derive(Default)]
struct Recording {
    ops: Mutex<Vec<Op>>,
}

fn name(cm: &ConfigMap) -> String {
    cm.metadata.name.clone().unwrap_or_default()
}

impl ReflectorStore<ConfigMap> for Recording {
    fn add(&self, obj: Arc<ConfigMap>) {
        self.ops.lock().push(Op::Add(name(&obj)));
    }
    fn update(&self, obj: Arc<ConfigMap>) {
        self.ops.lock().push(Op::Update(name(&obj)));
    }
    fn delete(&self, obj: Arc<ConfigMap>) {
        self.ops.lock().push(Op::Delete(name(&obj)));
    }
    fn replace(&self, list: Vec<Arc<ConfigMap>>, _rv: &str) {
        self.ops.lock().push(Op::Replace(list.len()));
    }
    fn resync(&self) {
        self.ops.lock().push(Op::Resync);
    }
}

impl Recording {
    fn ops(&self) -> Vec<Op> {
        self.ops.lock().clone()
    }
}

fn options() -> ReflectorOptions {
    let mut o = ReflectorOptions::default();
    o.backoff_initial = Duration::from_millis(20);
    o.backoff_max = Duration::from_millis(100);
    o
}

/// Runs a reflector over ConfigMaps of `default` until the returned token is
/// cancelled.
fn start(
    api: &Api<ConfigMap>,
    options: ReflectorOptions,
) -> (Arc<Recording>, Arc<Reflector<ConfigMap>>, CancellationToken) {
    let store = Arc::new(Recording::default());
    let reflector =
        Arc::new(Reflector::new(ListWatch::new(api.clone()), store.clone()).options(options));
    let stop = CancellationToken::new();
    let (r, s) = (reflector.clone(), stop.clone());
    tokio::spawn(async move { r.run(s).await });
    (store, reflector, stop)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streaming_list_syncs_without_any_list_request() {
    let server = server().await;
    let api = Api::<ConfigMap>::namespaced(client(&server), "default");
    create_configmaps(&api, "cm", 120).await;
    settle(&api).await;
    // Lists would fail: the initial state must come from the watch.
    server.inject(
        Fault::fail(Status::internal_error("no lists"))
            .verb("list")
            .resource("configmaps")
            .times(usize::MAX),
    );
    let mut o = options();
    o.streaming_list = true;
    let (store, reflector, stop) = start(&api, o);
    eventually("the streamed state replaced the store", || {
        store.ops().first() == Some(&Op::Replace(120))
    })
    .await;
    let rv: u64 = reflector
        .last_sync_resource_version()
        .parse()
        .expect("numeric resourceVersion, set before the store hears of the list");
    assert!(rv > 0);
    api.create(&CreateOptions::default(), &configmap("after", "0"))
        .await
        .expect("create");
    eventually("the same watch goes on", || {
        store.ops().last() == Some(&Op::Add("after".into()))
    })
    .await;
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_streaming_list_falls_back_to_paginated_lists() {
    let server = server().await;
    let api = Api::<ConfigMap>::namespaced(client(&server), "default");
    create_configmaps(&api, "cm", 30).await;
    settle(&api).await;
    // A server without streaming lists rejects the parameters.
    server.inject(
        Fault::fail(Status::bad_request("sendInitialEvents is not supported"))
            .verb("watch")
            .resource("configmaps"),
    );
    let errors = Arc::new(AtomicUsize::new(0));
    let mut o = options();
    o.streaming_list = true;
    let e = errors.clone();
    o.on_error = Some(Arc::new(move |err: &kubeforge_client::Error| {
        assert!(err.is_bad_request(), "{err}");
        e.fetch_add(1, Ordering::Relaxed);
    }));
    let (store, _reflector, stop) = start(&api, o);
    eventually("the list replaced the store", || {
        store.ops().contains(&Op::Replace(30))
    })
    .await;
    assert_eq!(errors.load(Ordering::Relaxed), 1);
    api.create(&CreateOptions::default(), &configmap("after", "0"))
        .await
        .expect("create");
    eventually("the watch after the list", || {
        store.ops().last() == Some(&Op::Add("after".into()))
    })
    .await;
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bookmarks_advance_the_resource_version_without_events() {
    let server = TestServer::builder()
        .bookmark_interval(Duration::from_millis(50))
        .start()
        .await
        .expect("server");
    let c = client(&server);
    let api = Api::<ConfigMap>::namespaced(c.clone(), "default");
    let (store, reflector, stop) = start(&api, options());
    eventually("listed", || store.ops() == vec![Op::Replace(0)]).await;
    let before: u64 = reflector
        .last_sync_resource_version()
        .parse()
        .expect("numeric");
    // A change elsewhere moves the server's resourceVersion; only bookmarks tell us.
    Api::<ConfigMap>::namespaced(c, "kube-system")
        .create(&CreateOptions::default(), &configmap("elsewhere", "0"))
        .await
        .expect("create");
    eventually("a bookmark moved the resourceVersion", || {
        reflector
            .last_sync_resource_version()
            .parse::<u64>()
            .is_ok_and(|rv| rv > before)
    })
    .await;
    assert_eq!(store.ops(), vec![Op::Replace(0)]);
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_reported_and_retried_until_the_list_succeeds() {
    let server = server().await;
    let c = kubeforge_client::Client::builder(crate::support::config(&server))
        .no_rate_limit()
        .retry(RetryPolicy::none())
        .build()
        .expect("client");
    let api = Api::<ConfigMap>::namespaced(c, "default");
    create_configmaps(&api, "cm", 3).await;
    settle(&api).await;
    server.inject(
        Fault::fail(Status::internal_error("injected"))
            .verb("list")
            .resource("configmaps")
            .times(2),
    );
    server.inject(
        Fault::fail(Status::too_many_requests("slow down", 1))
            .verb("list")
            .resource("configmaps"),
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut o = options();
    let s = seen.clone();
    o.on_error = Some(Arc::new(move |e: &kubeforge_client::Error| {
        s.lock()
            .push(e.status().map(|st| st.code).unwrap_or_default());
    }));
    let (store, _reflector, stop) = start(&api, o);
    eventually("listed after the failures", || {
        store.ops().contains(&Op::Replace(3))
    })
    .await;
    assert_eq!(*seen.lock(), vec![500, 500, 429]);
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resync_asks_the_store_again_on_each_period() {
    let server = server().await;
    let api = Api::<ConfigMap>::namespaced(client(&server), "default");
    let mut o = options();
    o.resync = Some(Duration::from_millis(50));
    let (store, _reflector, stop) = start(&api, o);
    eventually("two resyncs", || {
        store.ops().iter().filter(|op| **op == Op::Resync).count() >= 2
    })
    .await;
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_ends_run_and_writes_nothing_more() {
    let server = server().await;
    let api = Api::<ConfigMap>::namespaced(client(&server), "default");
    let store = Arc::new(Recording::default());
    let reflector = Reflector::new(ListWatch::new(api.clone()), store.clone()).options(options());
    let stop = CancellationToken::new();
    let s = stop.clone();
    let run = tokio::spawn(async move { reflector.run(s).await });
    eventually("listed", || !store.ops().is_empty()).await;
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(5), run)
        .await
        .expect("run returns when stopped")
        .expect("no panic");
    let before = store.ops().len();
    api.create(&CreateOptions::default(), &configmap("late", "0"))
        .await
        .expect("create");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(store.ops().len(), before);
}
