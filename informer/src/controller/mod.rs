//! The controller runtime: informers feed a rate-limited work queue of object
//! keys, and N workers reconcile them.
//!
//! ```text
//! primary informer ──┐
//! owned informers ───┼──> RateLimitingQueue<ObjectKey> ──> N workers ──> reconcile(request, ctx)
//! watched informers ─┘          ^                                            │
//!                               └── Done: forget · RequeueAfter(d) · Err: add_rate_limited
//! ```
//!
//! It is the loop a client-go controller writes by hand (and controller-runtime
//! and kube-rs package), with client-go's queue semantics:
//!
//! - a burst of events for one object costs one reconcile (the queue
//!   de-duplicates), and no key is ever reconciled by two workers at once;
//! - an error requeues the key with per-key exponential backoff
//!   ([`default_controller_rate_limiter`] unless
//!   [`rate_limiter`](Controller::rate_limiter) says otherwise), and a success
//!   forgets the key's failures;
//! - [`Action::RequeueAfter`] reconciles the key again after a delay;
//! - a reconcile also runs when a primary object is deleted, with its last
//!   known state ([`ObjectState::Deleted`]) — kube-rs does not reconcile
//!   deletes, and client-go hands over only the key;
//! - workers start once every informer's initial state is queued, and
//!   shutdown stops taking keys and waits for the reconciles in flight;
//! - a panicking reconcile counts as an error and is retried; the worker lives
//!   on (as controller-runtime recovers panics);
//! - named controllers emit the work queue's series and
//!   [reconcile metrics](ControllerMetricsProvider).
//!
//! ```
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let server = kubeforge_testserver::TestServer::start().await?;
//! # let config = kubeforge_client::__doctest::config(server.base_url(), server.ca_pem());
//! use std::sync::Arc;
//! use k8s_openapi::api::core::v1::ConfigMap;
//! use kubeforge_client::Client;
//! use kubeforge_informer::SharedInformerFactory;
//! use kubeforge_informer::controller::{Action, Controller, ObjectState, Request};
//! use tokio_util::sync::CancellationToken;
//!
//! struct Ctx {
//!     client: Client,
//! }
//!
//! async fn reconcile(req: Request<ConfigMap>, ctx: Arc<Ctx>) -> Result<Action, std::io::Error> {
//!     let _client = &ctx.client;
//!     match req.state() {
//!         ObjectState::Present(cm) => println!("{} has {} keys", req.key(), cm.data.as_ref().map_or(0, |d| d.len())),
//!         ObjectState::Deleted(gone) => println!("{} was deleted", gone.key()),
//!     }
//!     Ok(Action::Done)
//! }
//!
//! let client = Client::new(config)?;
//! let factory = SharedInformerFactory::new(client.clone());
//! let shutdown = CancellationToken::new();
//! let controller = Controller::new(factory.informer::<ConfigMap>())
//!     .name("configmap-printer")
//!     .workers(4);
//! let running = tokio::spawn(controller.run(reconcile, Arc::new(Ctx { client }), shutdown.clone()));
//! // ... later: stop taking keys, wait for the reconciles in flight.
//! shutdown.cancel();
//! running.await??;
//! # Ok(())
//! # }
//! ```

mod metrics;
mod sources;

use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt;
use kubeforge_client::api::Resource;
use kubeforge_client::core::Scope;
use kubeforge_workqueue::{
    MetricsProvider, QueueConfig, RateLimiter, RateLimitingQueue, default_controller_rate_limiter,
};
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

#[cfg(feature = "prometheus")]
pub use self::metrics::PrometheusControllerMetrics;
use self::metrics::ReconcileMetrics;
pub use self::metrics::{
    ControllerMetricsProvider, CounterMetric, GaugeMetric, HistogramMetric, ReconcileResult,
    set_default_controller_metrics_provider,
};
use self::sources::{Source, Tombstones};
use crate::fifo::Deleted;
use crate::informer::SharedIndexInformer;
use crate::store::{Indexer, key_of, split_key};

/// The key of an object: `namespace/name`, or `name` for cluster-scoped objects
/// (client-go's `MetaNamespaceKeyFunc`, the keys of the cache). Cheap to clone
/// and hash; the work queue's item.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey(Arc<str>);

impl ObjectKey {
    /// The key of `name` in `namespace` (`None` or empty: cluster-scoped).
    pub fn new(namespace: Option<&str>, name: &str) -> Self {
        match namespace {
            Some(ns) if !ns.is_empty() => ObjectKey(format!("{ns}/{name}").into()),
            _ => ObjectKey(name.into()),
        }
    }

    /// The key of `obj`.
    pub fn of<K: Resource>(obj: &K) -> Self {
        ObjectKey(key_of(obj).into())
    }

    /// A key as the cache writes it (`namespace/name` or `name`).
    pub fn from_cache_key(key: impl Into<Arc<str>>) -> Self {
        ObjectKey(key.into())
    }

    /// The namespace, if the object is namespaced.
    pub fn namespace(&self) -> Option<&str> {
        split_key(&self.0).0
    }

    /// The name.
    pub fn name(&self) -> &str {
        split_key(&self.0).1
    }

    /// The key as the cache writes it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

/// What the cache knows of the object a reconcile is for.
#[derive(Debug)]
pub enum ObjectState<K> {
    /// The object as the cache holds it now.
    Present(Arc<K>),
    /// The object is gone: its last known state (or, if the delete itself was
    /// missed while the watch was down, the last state the cache knew).
    Deleted(Deleted<K>),
}

impl<K> Clone for ObjectState<K> {
    fn clone(&self) -> Self {
        match self {
            ObjectState::Present(obj) => ObjectState::Present(obj.clone()),
            ObjectState::Deleted(gone) => ObjectState::Deleted(gone.clone()),
        }
    }
}

/// One reconcile's input: the key, what the cache knows of the object, and how
/// many times in a row this key's reconcile has failed.
#[derive(Debug)]
pub struct Request<K> {
    key: ObjectKey,
    state: ObjectState<K>,
    retries: u32,
}

impl<K: Resource> Request<K> {
    /// The object's key.
    pub fn key(&self) -> &ObjectKey {
        &self.key
    }

    /// What the cache knows of the object.
    pub fn state(&self) -> &ObjectState<K> {
        &self.state
    }

    /// The object: its current state, or its last known state if it is deleted.
    pub fn object(&self) -> &Arc<K> {
        match &self.state {
            ObjectState::Present(obj) => obj,
            ObjectState::Deleted(gone) => gone.last(),
        }
    }

    /// Whether the object is gone from the server.
    pub fn is_deleted(&self) -> bool {
        matches!(self.state, ObjectState::Deleted(_))
    }

    /// How many times in a row this key's reconcile failed before (the queue's
    /// `num_requeues`; 0 after a success).
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// The key and the state, by value.
    pub fn into_parts(self) -> (ObjectKey, ObjectState<K>) {
        (self.key, self.state)
    }
}

/// What to do with a key after a successful reconcile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing until the next change of a watched object.
    Done,
    /// Reconcile the key again after this long (also without any change), e.g.
    /// to poll something the informers do not watch. A change before then
    /// reconciles it earlier.
    RequeueAfter(Duration),
}

/// Why [`Controller::run`] could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ControllerError {
    /// `workers(0)`.
    #[error("a controller needs at least one worker")]
    NoWorkers,
}

/// A controller: informers, a rate-limited queue of keys, and workers calling
/// a reconcile function (see the [module docs](self)).
pub struct Controller<K: Resource> {
    primary: SharedIndexInformer<K>,
    kind: String,
    group: String,
    namespaced: bool,
    sources: Vec<Source>,
    workers: usize,
    name: Option<String>,
    limiter: Option<Box<dyn RateLimiter<ObjectKey>>>,
    queue_metrics: Option<Arc<dyn MetricsProvider>>,
    reconcile_metrics: Option<Arc<dyn ControllerMetricsProvider>>,
}

impl<K: Resource> fmt::Debug for Controller<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Controller")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("sources", &(self.sources.len() + 1))
            .field("workers", &self.workers)
            .finish_non_exhaustive()
    }
}

impl<K> Controller<K>
where
    K: Resource + DeserializeOwned + Send + Sync + 'static,
{
    /// A controller of the objects `informer` caches (the "primary" type).
    pub fn new(informer: SharedIndexInformer<K>) -> Self
    where
        K::DynamicType: Default,
    {
        Self::new_with(informer, &K::DynamicType::default())
    }

    /// [`new`](Self::new) for types known at run time (`DynamicObject`,
    /// `PartialObjectMetadata`), described by `dt`.
    pub fn new_with(informer: SharedIndexInformer<K>, dt: &K::DynamicType) -> Self {
        Controller {
            primary: informer,
            kind: K::kind(dt).into_owned(),
            group: K::group(dt).into_owned(),
            namespaced: K::scope(dt) == Scope::Namespaced,
            sources: Vec::new(),
            workers: 1,
            name: None,
            limiter: None,
            queue_metrics: None,
            reconcile_metrics: None,
        }
    }

    /// Also reconciles the controlling owner of objects of type `C` when they
    /// change: an object whose `ownerReferences` entry with `controller: true`
    /// names a `K` queues that `K`'s key (controller-runtime's `Owns`).
    pub fn owns<C>(mut self, informer: SharedIndexInformer<C>) -> Self
    where
        C: Resource + DeserializeOwned + Send + Sync + 'static,
    {
        let map =
            sources::owner_mapper::<C>(self.kind.clone(), self.group.clone(), self.namespaced);
        self.sources.push(sources::mapped(informer, map));
        self
    }

    /// Also reconciles the keys `map` returns for objects of type `O` when they
    /// change (both the old and the new state of an update are mapped, and the
    /// last state of a delete), e.g. the Deployments that mount a ConfigMap,
    /// found through an index.
    pub fn watches<O, F>(mut self, informer: SharedIndexInformer<O>, map: F) -> Self
    where
        O: Resource + DeserializeOwned + Send + Sync + 'static,
        F: Fn(&O) -> Vec<ObjectKey> + Send + Sync + 'static,
    {
        self.sources.push(sources::mapped(informer, Arc::new(map)));
        self
    }

    /// How many reconciles may run at once, each for a different key (default 1,
    /// as controller-runtime's `MaxConcurrentReconciles`).
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = n;
        self
    }

    /// Names the controller: the work queue's `name` label and the reconcile
    /// metrics' `controller` label. Unnamed controllers emit no metrics (as
    /// unnamed client-go queues).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// How failed keys are delayed (default: [`default_controller_rate_limiter`],
    /// per-key 5 ms × 2ⁿ up to 1000 s, and 10 retries/s overall with bursts of
    /// 100). [`kubeforge_workqueue::backoff_controller_rate_limiter`] does not let
    /// reconciles triggered by events during a backoff inflate it.
    pub fn rate_limiter(mut self, limiter: impl RateLimiter<ObjectKey> + 'static) -> Self {
        self.limiter = Some(Box::new(limiter));
        self
    }

    /// Where the work queue's series go (default: the workqueue crate's default
    /// provider). Only for named controllers.
    pub fn queue_metrics(mut self, provider: Arc<dyn MetricsProvider>) -> Self {
        self.queue_metrics = Some(provider);
        self
    }

    /// Where the reconcile series go (default: the provider set with
    /// [`set_default_controller_metrics_provider`], if any). Only for named
    /// controllers.
    pub fn reconcile_metrics(mut self, provider: Arc<dyn ControllerMetricsProvider>) -> Self {
        self.reconcile_metrics = Some(provider);
        self
    }

    /// The primary informer's cache.
    pub fn indexer(&self) -> Arc<Indexer<K>> {
        self.primary.indexer()
    }

    /// Runs until `shutdown` is cancelled: starts the informers (those not running
    /// yet), waits until their initial state is queued, then reconciles with
    /// [`workers`](Self::workers) workers. On shutdown no new reconcile starts;
    /// `run` returns once the reconciles in flight have ended.
    ///
    /// A reconcile's error is logged (`tracing`, with the key) and the key is
    /// retried after its backoff.
    ///
    /// # Errors
    ///
    /// [`ControllerError::NoWorkers`] for `workers(0)`.
    pub async fn run<Ctx, F, Fut, E>(
        self,
        reconcile: F,
        ctx: Arc<Ctx>,
        shutdown: CancellationToken,
    ) -> Result<(), ControllerError>
    where
        Ctx: Send + Sync + 'static,
        F: Fn(Request<K>, Arc<Ctx>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Action, E>> + Send + 'static,
        E: fmt::Display + Send + 'static,
    {
        if self.workers == 0 {
            return Err(ControllerError::NoWorkers);
        }
        let mut config = QueueConfig::new();
        if let Some(name) = &self.name {
            config = config.name(name.clone());
            if let Some(provider) = self.queue_metrics {
                config = config.metrics_provider(provider);
            }
        }
        let limiter: Box<dyn RateLimiter<ObjectKey>> = match self.limiter {
            Some(limiter) => limiter,
            None => Box::new(default_controller_rate_limiter()),
        };
        let queue = RateLimitingQueue::with_config(limiter, config);
        let provider = self
            .reconcile_metrics
            .as_ref()
            .or_else(|| metrics::default_provider());
        let metrics = match (&self.name, provider) {
            (Some(name), Some(provider)) => Some(ReconcileMetrics::new(provider, name)),
            _ => None,
        };

        let tombstones: Tombstones<K> = Arc::default();
        let mut all = vec![sources::primary(self.primary.clone(), tombstones.clone())];
        all.extend(self.sources);
        let attached: Vec<_> = all.into_iter().map(|s| s(queue.clone())).collect();
        let mut synced = Vec::with_capacity(attached.len());
        let mut detach = Vec::with_capacity(attached.len());
        for a in attached {
            (a.start)();
            synced.push(a.synced);
            detach.push(a.detach);
        }

        let all_synced = futures::future::join_all(synced);
        let started = tokio::select! {
            _ = all_synced => true,
            _ = shutdown.cancelled() => false,
        };
        if started {
            tracing::debug!(controller = ?self.name, "caches synced, starting workers");
            let worker = Arc::new(Worker {
                queue: queue.clone(),
                indexer: self.primary.indexer(),
                tombstones,
                reconcile,
                ctx,
                metrics,
                name: self.name.unwrap_or_else(|| self.kind.clone()),
            });
            let workers: Vec<_> = (0..self.workers)
                .map(|_| tokio::spawn(worker.clone().run(shutdown.clone())))
                .collect();
            for w in workers {
                if let Err(e) = w.await {
                    // Reconcile panics are caught; this is a bug of ours.
                    tracing::error!(error = %e, "controller worker ended abnormally");
                }
            }
        }
        for d in detach {
            d();
        }
        queue.shut_down();
        Ok(())
    }
}

/// What every worker shares.
struct Worker<K, F, Ctx> {
    queue: RateLimitingQueue<ObjectKey>,
    indexer: Arc<Indexer<K>>,
    tombstones: Tombstones<K>,
    reconcile: F,
    ctx: Arc<Ctx>,
    metrics: Option<ReconcileMetrics>,
    name: String,
}

impl<K, F, Fut, E, Ctx> Worker<K, F, Ctx>
where
    K: Resource + Send + Sync + 'static,
    Ctx: Send + Sync + 'static,
    F: Fn(Request<K>, Arc<Ctx>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Action, E>> + Send + 'static,
    E: fmt::Display + Send + 'static,
{
    async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        loop {
            // `get` is cancel-safe: losing the race to shutdown loses no key.
            let key = tokio::select! {
                biased;
                _ = shutdown.cancelled() => return,
                key = self.queue.get() => key,
            };
            let Some(key) = key else { return };
            self.process(&key).await;
            self.queue.done(&key);
        }
    }

    /// One reconcile of `key`, and what it means for the queue.
    async fn process(&self, key: &ObjectKey) {
        let state = match self.indexer.get_by_key(key.as_str()) {
            Some(obj) => ObjectState::Present(obj),
            None => match self.tombstones.lock().get(key) {
                Some(gone) => ObjectState::Deleted(gone.clone()),
                None => {
                    // Mapped from a related object, but not in the cache and never
                    // seen deleted: nothing to reconcile (client-go reconcilers
                    // ignore NotFound the same way).
                    tracing::trace!(key = %key, "no such object, skipped");
                    self.queue.forget(key);
                    return;
                }
            },
        };
        let deleted = match &state {
            ObjectState::Deleted(gone) => Some(gone.last().clone()),
            ObjectState::Present(_) => None,
        };
        let request = Request {
            key: key.clone(),
            state,
            retries: self.queue.num_requeues(key),
        };
        let started = Instant::now();
        if let Some(m) = &self.metrics {
            m.active.inc();
        }
        // Called inside the future, so a reconcile that panics before its first
        // await is caught too.
        let future = async { (self.reconcile)(request, self.ctx.clone()).await };
        let outcome = AssertUnwindSafe(future).catch_unwind().await;
        if let Some(m) = &self.metrics {
            m.active.dec();
        }
        let (result, panicked) = match outcome {
            Ok(Ok(Action::Done)) => {
                self.queue.forget(key);
                if let Some(last) = deleted {
                    self.forget_tombstone(key, &last);
                }
                (ReconcileResult::Success, false)
            }
            Ok(Ok(Action::RequeueAfter(delay))) => {
                self.queue.forget(key);
                self.queue.add_after(key.clone(), delay);
                (ReconcileResult::RequeueAfter, false)
            }
            Ok(Err(error)) => {
                tracing::warn!(controller = %self.name, key = %key, %error, "reconcile failed");
                self.queue.add_rate_limited(key.clone());
                (ReconcileResult::Error, false)
            }
            Err(panic) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a non-string panic".to_owned());
                tracing::error!(controller = %self.name, key = %key, panic = %message, "reconcile panicked");
                self.queue.add_rate_limited(key.clone());
                (ReconcileResult::Error, true)
            }
        };
        if let Some(m) = &self.metrics {
            m.observe(result, panicked, started.elapsed().as_secs_f64());
        }
    }

    /// Drops the last state of a deleted object once its deletion is reconciled,
    /// unless a newer delete of the same key replaced it meanwhile.
    fn forget_tombstone(&self, key: &ObjectKey, last: &Arc<K>) {
        let mut tombstones = self.tombstones.lock();
        if tombstones
            .get(key)
            .is_some_and(|gone| Arc::ptr_eq(gone.last(), last))
        {
            tombstones.remove(key);
        }
    }
}
