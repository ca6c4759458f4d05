//! The controller loop: informers → rate-limited queue → workers → reconcile.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kubeforge_client::api::{Api, Patch};
use kubeforge_client::core::{CreateOptions, DeleteOptions, PatchOptions};
use kubeforge_informer::SharedInformerFactory;
use kubeforge_informer::controller::{
    Action, Controller, ControllerError, ControllerMetricsProvider, CounterMetric, GaugeMetric,
    HistogramMetric, ObjectKey, Request,
};
use parking_lot::Mutex;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::support::{client, configmap, create_configmaps, eventually, server, settle};

/// One reconcile as the test saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    key: String,
    deleted: bool,
    value: Option<String>,
    retries: u32,
}

/// What the reconciles of a test share: what they saw, and what they should do.
#[derive(Default)]
struct Ctx {
    seen: Mutex<Vec<Seen>>,
}

impl Ctx {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().clone()
    }

    fn count(&self, key: &str) -> usize {
        self.seen.lock().iter().filter(|s| s.key == key).count()
    }

    fn record(&self, req: &Request<ConfigMap>) {
        let value = req.object().data.as_ref().and_then(|d| d.get("v")).cloned();
        self.seen.lock().push(Seen {
            key: req.key().to_string(),
            deleted: req.is_deleted(),
            value,
            retries: req.retries(),
        });
    }
}

/// A reconcile error for the tests.
#[derive(Debug)]
struct Failed(&'static str);

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// Starts `controller` with `reconcile`; returns the shutdown token and the task.
fn start<F, Fut>(
    controller: Controller<ConfigMap>,
    ctx: Arc<Ctx>,
    reconcile: F,
) -> (
    CancellationToken,
    tokio::task::JoinHandle<Result<(), ControllerError>>,
)
where
    F: Fn(Request<ConfigMap>, Arc<Ctx>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Action, Failed>> + Send + 'static,
{
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(controller.run(reconcile, ctx, shutdown.clone()));
    (shutdown, task)
}

async fn stop(
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), ControllerError>>,
) {
    shutdown.cancel();
    task.await
        .expect("controller task ends")
        .expect("controller ran");
}

async fn set_value(api: &Api<ConfigMap>, name: &str, value: &str) {
    api.patch(
        name,
        &PatchOptions::default(),
        &Patch::Merge(&json!({ "data": { "v": value } })),
    )
    .await
    .expect("patch");
}

/// A server, an API for ConfigMaps in `default`, an informer factory of that
/// namespace, and a fresh [`Ctx`]. Bind `_server` to keep the server running.
struct Setup {
    _server: kubeforge_testserver::TestServer,
    api: Api<ConfigMap>,
    factory: SharedInformerFactory,
    ctx: Arc<Ctx>,
}

/// A [`Setup`] whose namespace holds ConfigMaps named `names` (value "0"), settled so
/// the informer's first list sees them all.
async fn setup(names: &[&str]) -> Setup {
    let server = server().await;
    let client = client(&server);
    let api = Api::<ConfigMap>::namespaced(client.clone(), "default");
    for name in names {
        api.create(&CreateOptions::default(), &configmap(name, "0"))
            .await
            .expect("create");
    }
    settle(&api).await;
    Setup {
        _server: server,
        api,
        factory: SharedInformerFactory::namespaced(client, "default"),
        ctx: Arc::new(Ctx::default()),
    }
}

/// A [`Setup`] with ConfigMaps `prefix-0..n`.
async fn setup_many(prefix: &str, n: usize) -> Setup {
    let setup = setup(&[]).await;
    create_configmaps(&setup.api, prefix, n).await;
    settle(&setup.api).await;
    setup
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_existing_object_is_reconciled_once_after_sync() {
    let Setup {
        _server,
        factory,
        ctx,
        ..
    } = setup_many("cm", 20).await;
    let controller = Controller::new(factory.informer::<ConfigMap>()).workers(4);
    let (shutdown, task) = start(controller, ctx.clone(), |req, ctx: Arc<Ctx>| async move {
        ctx.record(&req);
        Ok(Action::Done)
    });
    eventually("20 reconciles", || ctx.seen().len() >= 20).await;
    // Nothing changes afterwards, so nothing is reconciled again.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop(shutdown, task).await;
    let keys: HashSet<String> = ctx.seen().into_iter().map(|s| s.key).collect();
    assert_eq!(ctx.seen().len(), 20, "{:?}", ctx.seen());
    assert_eq!(keys.len(), 20);
    assert!(keys.contains("default/cm-0") && keys.contains("default/cm-19"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_object_is_reconciled_with_its_last_state() {
    let Setup {
        _server,
        api,
        factory,
        ctx,
        ..
    } = setup(&["doomed"]).await;
    let controller = Controller::new(factory.informer::<ConfigMap>());
    let (shutdown, task) = start(controller, ctx.clone(), |req, ctx: Arc<Ctx>| async move {
        ctx.record(&req);
        Ok(Action::Done)
    });
    eventually("first reconcile", || ctx.count("default/doomed") == 1).await;
    set_value(&api, "doomed", "last").await;
    eventually("update reconciled", || {
        ctx.seen().last().and_then(|s| s.value.clone()).as_deref() == Some("last")
    })
    .await;
    api.delete("doomed", &DeleteOptions::default())
        .await
        .expect("delete");
    eventually("deletion reconciled", || {
        ctx.seen().last().is_some_and(|s| s.deleted)
    })
    .await;
    stop(shutdown, task).await;
    let last = ctx.seen().last().cloned().expect("a reconcile");
    assert_eq!(
        last,
        Seen {
            key: "default/doomed".into(),
            deleted: true,
            value: Some("last".into()),
            retries: 0,
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_back_off_per_key_and_a_success_resets_the_count() {
    let Setup {
        _server,
        api,
        factory,
        ctx,
        ..
    } = setup(&["flaky"]).await;
    let controller = Controller::new(factory.informer::<ConfigMap>());
    // Fails the first two attempts of every value, then succeeds.
    let (shutdown, task) = start(controller, ctx.clone(), |req, ctx: Arc<Ctx>| async move {
        ctx.record(&req);
        if req.retries() < 2 {
            Err(Failed("not yet"))
        } else {
            Ok(Action::Done)
        }
    });
    eventually("three attempts", || ctx.count("default/flaky") == 3).await;
    let retries: Vec<u32> = ctx.seen().iter().map(|s| s.retries).collect();
    assert_eq!(retries, [0, 1, 2], "each failure is one more requeue");
    set_value(&api, "flaky", "1").await;
    eventually("the change is reconciled", || {
        ctx.count("default/flaky") >= 4
    })
    .await;
    let after = ctx.seen()[3].clone();
    assert_eq!(after.value.as_deref(), Some("1"));
    assert_eq!(after.retries, 0, "the success forgot the failures");
    eventually("its failures retried again", || {
        ctx.count("default/flaky") == 6
    })
    .await;
    stop(shutdown, task).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requeue_after_reconciles_again_without_a_change() {
    let Setup {
        _server,
        factory,
        ctx,
        ..
    } = setup(&["poll"]).await;
    let controller = Controller::new(factory.informer::<ConfigMap>());
    let (shutdown, task) = start(controller, ctx.clone(), |req, ctx: Arc<Ctx>| async move {
        ctx.record(&req);
        if ctx.count("default/poll") < 3 {
            Ok(Action::RequeueAfter(Duration::from_millis(100)))
        } else {
            Ok(Action::Done)
        }
    });
    eventually("three reconciles", || ctx.count("default/poll") == 3).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop(shutdown, task).await;
    assert_eq!(ctx.count("default/poll"), 3, "Done stops the polling");
    assert!(
        ctx.seen().iter().all(|s| s.retries == 0),
        "a requeue-after is not a failure"
    );
}

fn owned_secret(name: &str, owner: &ConfigMap, controller: bool, value: &str) -> Secret {
    let mut secret = Secret::default();
    secret.metadata.name = Some(name.to_owned());
    secret.metadata.owner_references = Some(vec![OwnerReference {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        name: owner.metadata.name.clone().unwrap_or_default(),
        uid: owner.metadata.uid.clone().unwrap_or_default(),
        controller: Some(controller),
        block_owner_deletion: None,
    }]);
    secret.string_data = Some(BTreeMap::from([("v".to_owned(), value.to_owned())]));
    secret
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_of_an_owned_object_reconciles_its_controller_owner() {
    let server = server().await;
    let client = client(&server);
    let cms = Api::<ConfigMap>::namespaced(client.clone(), "default");
    let secrets = Api::<Secret>::namespaced(client.clone(), "default");
    let owner = cms
        .create(&CreateOptions::default(), &configmap("owner", "0"))
        .await
        .expect("create owner");
    let other = cms
        .create(&CreateOptions::default(), &configmap("other", "0"))
        .await
        .expect("create other");
    secrets
        .create(
            &CreateOptions::default(),
            &owned_secret("controlled", &owner, true, "a"),
        )
        .await
        .expect("create controlled");
    secrets
        .create(
            &CreateOptions::default(),
            &owned_secret("merely-owned", &other, false, "a"),
        )
        .await
        .expect("create merely owned");
    let factory = SharedInformerFactory::namespaced(client, "default");
    let ctx = Arc::new(Ctx::default());
    // One worker: keys are reconciled in the order they were queued.
    let controller =
        Controller::new(factory.informer::<ConfigMap>()).owns(factory.informer::<Secret>());
    let (shutdown, task) = start(controller, ctx.clone(), |req, ctx: Arc<Ctx>| async move {
        ctx.record(&req);
        Ok(Action::Done)
    });
    eventually("initial reconciles", || {
        ctx.count("default/owner") >= 1 && ctx.count("default/other") >= 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (owner_before, other_before) = (ctx.count("default/owner"), ctx.count("default/other"));
    // The merely-owned secret changes first: were it mapped, `other` would be
    // queued (and reconciled) before `owner`.
    for (name, value) in [("merely-owned", "b"), ("controlled", "b")] {
        secrets
            .patch(
                name,
                &PatchOptions::default(),
                &Patch::Merge(&json!({ "stringData": { "v": value } })),
            )
            .await
            .expect("patch secret");
    }
    eventually("the owner is reconciled again", || {
        ctx.count("default/owner") > owner_before
    })
    .await;
    stop(shutdown, task).await;
    assert_eq!(
        ctx.count("default/other"),
        other_before,
        "an owner reference without controller: true does not reconcile"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watched_objects_reconcile_the_keys_their_mapper_returns() {
    let server = server().await;
    let client = client(&server);
    let cms = Api::<ConfigMap>::namespaced(client.clone(), "default");
    let secrets = Api::<Secret>::namespaced(client.clone(), "default");
    cms.create(&CreateOptions::default(), &configmap("target", "0"))
        .await
        .expect("create");
    let factory = SharedInformerFactory::namespaced(client, "default");
    let ctx = Arc::new(Ctx::default());
    let controller = Controller::new(factory.informer::<ConfigMap>()).watches(
        factory.informer::<Secret>(),
        |s: &Secret| {
            s.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("for"))
                .map(|name| vec![ObjectKey::new(s.metadata.namespace.as_deref(), name)])
                .unwrap_or_default()
        },
    );
    let (shutdown, task) = start(controller, ctx.clone(), |req, ctx: Arc<Ctx>| async move {
        ctx.record(&req);
        Ok(Action::Done)
    });
    eventually("initial reconcile", || ctx.count("default/target") == 1).await;
    let mut secret = Secret::default();
    secret.metadata.name = Some("pointer".into());
    secret.metadata.labels = Some(BTreeMap::from([("for".to_owned(), "target".to_owned())]));
    secrets
        .create(&CreateOptions::default(), &secret)
        .await
        .expect("create secret");
    eventually("the mapped key is reconciled", || {
        ctx.count("default/target") == 2
    })
    .await;
    // A secret pointing at nothing queues a key that is skipped, not reconciled.
    secret.metadata.name = Some("dangling".into());
    secret.metadata.labels = Some(BTreeMap::from([("for".to_owned(), "nobody".to_owned())]));
    secrets
        .create(&CreateOptions::default(), &secret)
        .await
        .expect("create secret");
    secrets
        .delete("pointer", &DeleteOptions::default())
        .await
        .expect("delete secret");
    eventually("the delete is mapped too", || {
        ctx.count("default/target") == 3
    })
    .await;
    stop(shutdown, task).await;
    assert_eq!(ctx.count("default/nobody"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_key_is_reconciled_by_two_workers_at_once() {
    let Setup {
        _server,
        api,
        factory,
        ctx,
        ..
    } = setup_many("hot", 5).await;
    let in_flight: Arc<Mutex<HashSet<String>>> = Arc::default();
    let overlaps = Arc::new(AtomicU64::new(0));
    let max_parallel = Arc::new(AtomicU64::new(0));
    let controller = Controller::new(factory.informer::<ConfigMap>()).workers(4);
    let (shutdown, task) = {
        let (in_flight, overlaps, max_parallel) =
            (in_flight.clone(), overlaps.clone(), max_parallel.clone());
        start(controller, ctx.clone(), move |req, ctx: Arc<Ctx>| {
            let (in_flight, overlaps, max_parallel) =
                (in_flight.clone(), overlaps.clone(), max_parallel.clone());
            async move {
                let key = req.key().to_string();
                {
                    let mut set = in_flight.lock();
                    if !set.insert(key.clone()) {
                        overlaps.fetch_add(1, Ordering::SeqCst);
                    }
                    max_parallel.fetch_max(set.len() as u64, Ordering::SeqCst);
                }
                tokio::time::sleep(Duration::from_millis(15)).await;
                ctx.record(&req);
                in_flight.lock().remove(&key);
                Ok(Action::Done)
            }
        })
    };
    // Keep every key changing while the workers reconcile.
    for round in 0..12 {
        for i in 0..5 {
            set_value(&api, &format!("hot-{i}"), &round.to_string()).await;
        }
    }
    eventually("the last values reconciled", || {
        let seen = ctx.seen();
        (0..5).all(|i| {
            seen.iter()
                .any(|s| s.key == format!("default/hot-{i}") && s.value.as_deref() == Some("11"))
        })
    })
    .await;
    stop(shutdown, task).await;
    assert_eq!(
        overlaps.load(Ordering::SeqCst),
        0,
        "a key ran on two workers"
    );
    assert!(
        max_parallel.load(Ordering::SeqCst) >= 2,
        "several workers ran at once (else the check proves nothing)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_waits_for_reconciles_in_flight_and_starts_no_more() {
    let Setup {
        _server,
        factory,
        ctx,
        ..
    } = setup_many("slow", 6).await;
    let started = Arc::new(AtomicU64::new(0));
    let controller = Controller::new(factory.informer::<ConfigMap>()).workers(2);
    let (shutdown, task) = {
        let started = started.clone();
        start(controller, ctx.clone(), move |req, ctx: Arc<Ctx>| {
            let started = started.clone();
            async move {
                started.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(400)).await;
                ctx.record(&req);
                Ok(Action::Done)
            }
        })
    };
    eventually("two reconciles under way", || {
        started.load(Ordering::SeqCst) == 2
    })
    .await;
    shutdown.cancel();
    task.await
        .expect("controller task ends")
        .expect("controller ran");
    assert_eq!(ctx.seen().len(), 2, "both reconciles in flight finished");
    assert_eq!(
        started.load(Ordering::SeqCst),
        2,
        "none started after shutdown"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_reconcile_is_retried_and_its_worker_survives() {
    let Setup {
        _server,
        factory,
        ctx,
        ..
    } = setup(&["boom", "calm"]).await;
    let controller = Controller::new(factory.informer::<ConfigMap>());
    let (shutdown, task) = start(controller, ctx.clone(), |req, ctx: Arc<Ctx>| async move {
        ctx.record(&req);
        if req.key().name() == "boom" && req.retries() == 0 {
            panic!("reconcile bug");
        }
        Ok(Action::Done)
    });
    eventually("boom retried and calm reconciled", || {
        ctx.count("default/boom") == 2 && ctx.count("default/calm") == 1
    })
    .await;
    stop(shutdown, task).await;
    let retried = ctx
        .seen()
        .into_iter()
        .filter(|s| s.key == "default/boom")
        .map(|s| s.retries)
        .collect::<Vec<_>>();
    assert_eq!(retried, [0, 1], "the panic counted as one failure");
}

/// Counts what the controller reports, by series name.
#[derive(Default)]
struct Counting {
    counts: Arc<Mutex<HashMap<String, f64>>>,
}

struct Series(Arc<Mutex<HashMap<String, f64>>>, String);

impl CounterMetric for Series {
    fn inc(&self) {
        *self.0.lock().entry(self.1.clone()).or_default() += 1.0;
    }
}

impl GaugeMetric for Series {
    fn inc(&self) {
        *self.0.lock().entry(self.1.clone()).or_default() += 1.0;
    }
    fn dec(&self) {
        *self.0.lock().entry(self.1.clone()).or_default() -= 1.0;
    }
}

impl HistogramMetric for Series {
    fn observe(&self, _: f64) {
        *self.0.lock().entry(self.1.clone()).or_default() += 1.0;
    }
}

impl Counting {
    fn series(&self, name: String) -> Box<Series> {
        Box::new(Series(self.counts.clone(), name))
    }
}

impl ControllerMetricsProvider for Counting {
    fn new_reconcile_total(
        &self,
        controller: &str,
        result: kubeforge_informer::controller::ReconcileResult,
    ) -> Box<dyn CounterMetric> {
        self.series(format!("{controller}/total/{result}"))
    }
    fn new_reconcile_errors(&self, controller: &str) -> Box<dyn CounterMetric> {
        self.series(format!("{controller}/errors"))
    }
    fn new_reconcile_panics(&self, controller: &str) -> Box<dyn CounterMetric> {
        self.series(format!("{controller}/panics"))
    }
    fn new_reconcile_time(&self, controller: &str) -> Box<dyn HistogramMetric> {
        self.series(format!("{controller}/time"))
    }
    fn new_active_workers(&self, controller: &str) -> Box<dyn GaugeMetric> {
        self.series(format!("{controller}/active"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn named_controllers_report_every_reconcile_by_result() {
    let Setup {
        _server,
        factory,
        ctx,
        ..
    } = setup(&["ok", "bad"]).await;
    let metrics = Arc::new(Counting::default());
    let counts = metrics.counts.clone();
    let controller = Controller::new(factory.informer::<ConfigMap>())
        .name("demo")
        .reconcile_metrics(metrics);
    let (shutdown, task) = start(controller, ctx.clone(), |req, ctx: Arc<Ctx>| async move {
        ctx.record(&req);
        if req.key().name() == "bad" && req.retries() == 0 {
            Err(Failed("once"))
        } else {
            Ok(Action::Done)
        }
    });
    eventually("three reconciles", || ctx.seen().len() == 3).await;
    stop(shutdown, task).await;
    let counts = counts.lock().clone();
    let get = |k: &str| counts.get(k).copied().unwrap_or_default();
    assert_eq!(get("demo/total/success"), 2.0, "{counts:?}");
    assert_eq!(get("demo/total/error"), 1.0, "{counts:?}");
    assert_eq!(get("demo/errors"), 1.0);
    assert_eq!(get("demo/panics"), 0.0);
    assert_eq!(get("demo/time"), 3.0);
    assert_eq!(get("demo/active"), 0.0, "every worker left its reconcile");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_controller_without_workers_is_refused() {
    let server = server().await;
    let factory = SharedInformerFactory::new(client(&server));
    let controller = Controller::new(factory.informer::<ConfigMap>()).workers(0);
    let result = controller
        .run(
            |_: Request<ConfigMap>, _: Arc<()>| async { Ok::<_, Failed>(Action::Done) },
            Arc::new(()),
            CancellationToken::new(),
        )
        .await;
    assert!(matches!(result, Err(ControllerError::NoWorkers)));
}
