//! SharedIndexInformer: one list-watch, one indexed cache, many event handlers
//! (client-go's `SharedIndexInformer`).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use serde::de::DeserializeOwned;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use kubeforge_client::api::Resource;

use crate::fifo::{Delta, DeltaFifo, KnownObjects};
use crate::handler::{HandlerOptions, Listener, Notification, ResourceEventHandler};
use crate::lister::Lister;
use crate::reflector::{
    ErrorHandler, ListWatch, Reflector, ReflectorOptions, ReflectorStore, Transform,
};
use crate::store::{IndexError, IndexFn, Indexer};

/// The informer was started: what must be set before cannot change any more.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the informer has already started")]
pub struct AlreadyStarted;

/// One handler's registration (client-go's `ResourceEventHandlerRegistration`).
pub struct HandlerRegistration<K> {
    listener: Arc<Listener<K>>,
}

impl<K> Clone for HandlerRegistration<K> {
    fn clone(&self) -> Self {
        HandlerRegistration {
            listener: self.listener.clone(),
        }
    }
}

impl<K> fmt::Debug for HandlerRegistration<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandlerRegistration")
            .field("listener", &self.listener)
            .finish()
    }
}

impl<K: Resource + Send + Sync + 'static> HandlerRegistration<K> {
    /// Whether this handler has *handled* (returned from) every notification of the
    /// informer's initial state, or of the state replayed to it when it was added
    /// after the informer synced (client-go's per-registration `HasSynced`, which only
    /// says "delivered").
    pub fn has_synced(&self) -> bool {
        self.listener.has_synced()
    }

    /// Notifications folded into later ones because this handler fell behind its
    /// buffer (see [`handler`](crate::handler)).
    pub fn folded(&self) -> u64 {
        self.listener.folded()
    }

    /// Waits until [`has_synced`](Self::has_synced).
    pub async fn wait_synced(&self) {
        while !self.has_synced() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// One listener with its resync schedule.
struct Registered<K> {
    listener: Arc<Listener<K>>,
    task: JoinHandle<()>,
    /// Its resync period (`None`: never), and when it is next due.
    resync: Option<Duration>,
    next_resync: Mutex<Instant>,
    /// Due in the current resync round: it gets `Sync` deltas.
    syncing: AtomicBool,
}

struct Shared<K> {
    lw: ListWatch<K>,
    indexer: Arc<Indexer<K>>,
    fifo: Arc<DeltaFifo<K>>,
    /// Held while a popped key is handed to listeners and while a listener is added,
    /// so a new listener sees every object exactly once: replayed, or notified.
    listeners: RwLock<Vec<Registered<K>>>,
    settings: Mutex<Settings<K>>,
    started: AtomicBool,
    synced: tokio::sync::watch::Sender<bool>,
    stop: CancellationToken,
    next_id: AtomicU64,
    reflector: Mutex<Option<Arc<Reflector<K>>>>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

struct Settings<K> {
    resync: Option<Duration>,
    transform: Option<Transform<K>>,
    /// The default: managed fields are dropped, from the text before decoding.
    strip_managed_fields: bool,
    reflector: ReflectorOptions,
}

/// A cache of one collection with event handlers (client-go's
/// `SharedIndexInformer`). Cheap to clone; clones share everything.
///
/// By default the cache drops `metadata.managedFields` from every object (a
/// transform; [`keep_managed_fields`](Self::keep_managed_fields) opts out): a
/// controller rarely reads them and they can double an object's size.
pub struct SharedIndexInformer<K> {
    shared: Arc<Shared<K>>,
}

impl<K> Clone for SharedIndexInformer<K> {
    fn clone(&self) -> Self {
        SharedIndexInformer {
            shared: self.shared.clone(),
        }
    }
}

impl<K> fmt::Debug for SharedIndexInformer<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedIndexInformer")
            .field("lw", &self.shared.lw)
            .field("started", &self.shared.started.load(Ordering::Relaxed))
            .field("synced", &*self.shared.synced.borrow())
            .finish_non_exhaustive()
    }
}

/// What the reflector writes into: the FIFO, with resync rounds decided per handler.
struct Sink<K> {
    shared: std::sync::Weak<Shared<K>>,
    fifo: Arc<DeltaFifo<K>>,
}

impl<K: Resource + DeserializeOwned + Send + Sync + 'static> ReflectorStore<K> for Sink<K> {
    fn add(&self, obj: Arc<K>) {
        self.fifo.add(obj);
    }
    fn update(&self, obj: Arc<K>) {
        self.fifo.update(obj);
    }
    fn delete(&self, obj: Arc<K>) {
        self.fifo.delete(obj);
    }
    fn replace(&self, list: Vec<Arc<K>>, resource_version: &str) {
        self.fifo.replace(list, resource_version);
        // An empty first list pops nothing: the informer is synced right away.
        if let Some(shared) = self.shared.upgrade() {
            shared.check_synced();
        }
    }
    fn resync(&self) {
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        // client-go's `shouldResync`: the handlers whose period is due sync now. The
        // listener lock is let go before the FIFO is, as `process` takes them the other
        // way round.
        let now = Instant::now();
        let mut any = false;
        for r in shared.listeners.read().iter() {
            let due = r.resync.is_some_and(|period| {
                let mut next = r.next_resync.lock();
                if now >= *next {
                    *next = now + period;
                    true
                } else {
                    false
                }
            });
            r.syncing.store(due, Ordering::Relaxed);
            any |= due;
        }
        if any {
            self.fifo.resync();
        }
    }
}

impl<K> SharedIndexInformer<K>
where
    K: Resource + DeserializeOwned + Send + Sync + 'static,
{
    /// An informer over `lw`, not started.
    pub fn new(lw: ListWatch<K>) -> Self {
        let indexer = Arc::new(Indexer::new());
        let known: Arc<dyn KnownObjects<K>> = indexer.clone();
        let fifo = Arc::new(DeltaFifo::new(Some(known)));
        let strip: Transform<K> = Arc::new(|mut obj: K| {
            obj.clear_managed_fields();
            obj
        });
        SharedIndexInformer {
            shared: Arc::new(Shared {
                lw,
                indexer,
                fifo,
                listeners: RwLock::new(Vec::new()),
                settings: Mutex::new(Settings {
                    resync: None,
                    transform: Some(strip),
                    strip_managed_fields: true,
                    reflector: ReflectorOptions::default(),
                }),
                started: AtomicBool::new(false),
                synced: tokio::sync::watch::Sender::new(false),
                stop: CancellationToken::new(),
                next_id: AtomicU64::new(1),
                reflector: Mutex::new(None),
                tasks: Mutex::new(Vec::new()),
            }),
        }
    }

    fn before_start(&self) -> Result<(), AlreadyStarted> {
        if self.shared.started.load(Ordering::Acquire) {
            Err(AlreadyStarted)
        } else {
            Ok(())
        }
    }

    /// The default resync period of handlers (client-go's `defaultEventHandlerResyncPeriod`;
    /// none by default).
    ///
    /// # Errors
    ///
    /// After [`run`](Self::run).
    pub fn set_resync(&self, period: Duration) -> Result<(), AlreadyStarted> {
        self.before_start()?;
        self.shared.settings.lock().resync = Some(period);
        Ok(())
    }

    /// Applies `f` to every object before it is cached (client-go's `SetTransform`),
    /// instead of the default that drops managed fields.
    ///
    /// # Errors
    ///
    /// After [`run`](Self::run).
    pub fn set_transform(
        &self,
        f: impl Fn(K) -> K + Send + Sync + 'static,
    ) -> Result<(), AlreadyStarted> {
        self.before_start()?;
        let mut settings = self.shared.settings.lock();
        settings.transform = Some(Arc::new(f));
        settings.strip_managed_fields = false;
        Ok(())
    }

    /// Caches objects as the server sends them, managed fields included.
    ///
    /// # Errors
    ///
    /// After [`run`](Self::run).
    pub fn keep_managed_fields(&self) -> Result<(), AlreadyStarted> {
        self.before_start()?;
        let mut settings = self.shared.settings.lock();
        settings.transform = None;
        settings.strip_managed_fields = false;
        Ok(())
    }

    /// Lists and watches with `options` (page size, streaming list, backoff…).
    ///
    /// # Errors
    ///
    /// After [`run`](Self::run).
    pub fn set_reflector_options(&self, options: ReflectorOptions) -> Result<(), AlreadyStarted> {
        self.before_start()?;
        self.shared.settings.lock().reflector = options;
        Ok(())
    }

    /// Tells `f` of every list or watch failure (client-go's `SetWatchErrorHandler`).
    ///
    /// # Errors
    ///
    /// After [`run`](Self::run).
    pub fn set_watch_error_handler(
        &self,
        f: impl Fn(&kubeforge_client::Error) + Send + Sync + 'static,
    ) -> Result<(), AlreadyStarted> {
        self.before_start()?;
        let handler: ErrorHandler = Arc::new(f);
        self.shared.settings.lock().reflector.on_error = Some(handler);
        Ok(())
    }

    /// Adds an index (client-go's `AddIndexers`; allowed before and after start).
    ///
    /// # Errors
    ///
    /// An index of that name exists.
    pub fn add_index(&self, name: &str, f: IndexFn<K>) -> Result<(), IndexError> {
        self.shared.indexer.add_index(name, f)
    }

    /// The cache.
    pub fn indexer(&self) -> Arc<Indexer<K>> {
        self.shared.indexer.clone()
    }

    /// A lister over the cache.
    pub fn lister(&self) -> Lister<K> {
        Lister::new(self.shared.indexer.clone())
    }

    /// Whether the cache holds the first complete state of the collection (client-go's
    /// `HasSynced`).
    pub fn has_synced(&self) -> bool {
        *self.shared.synced.borrow()
    }

    /// Waits until [`has_synced`](Self::has_synced); `false` if the informer stopped
    /// first.
    pub async fn wait_for_sync(&self) -> bool {
        let mut rx = self.shared.synced.subscribe();
        tokio::select! {
            r = rx.wait_for(|s| *s) => r.is_ok(),
            _ = self.shared.stop.cancelled() => self.has_synced(),
        }
    }

    /// The resourceVersion the cache is at (client-go's `LastSyncResourceVersion`).
    pub fn last_sync_resource_version(&self) -> String {
        self.shared
            .reflector
            .lock()
            .as_ref()
            .map(|r| r.last_sync_resource_version())
            .unwrap_or_default()
    }

    /// Adds a handler with default options.
    pub fn add_event_handler(
        &self,
        handler: impl ResourceEventHandler<K>,
    ) -> HandlerRegistration<K> {
        self.add_event_handler_with(handler, HandlerOptions::default())
    }

    /// Adds a handler. If the informer has objects already, the handler is told of
    /// each of them first, as adds in the initial list.
    pub fn add_event_handler_with(
        &self,
        handler: impl ResourceEventHandler<K>,
        options: HandlerOptions,
    ) -> HandlerRegistration<K> {
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let resync = options.resync.or(self.shared.settings.lock().resync);
        let listener = Arc::new(Listener::new(id, options));
        let task = tokio::spawn(listener.clone().run(Arc::new(handler)));
        let mut listeners = self.shared.listeners.write();
        // Under the lock no key is being handed out: the cache is exactly what every
        // listener has been told.
        if self.shared.started.load(Ordering::Acquire) {
            for obj in self.shared.indexer.list() {
                listener.push(Notification::Add { obj, initial: true });
            }
        }
        if self.has_synced() {
            listener.mark_synced();
        }
        listeners.push(Registered {
            listener: listener.clone(),
            task,
            resync,
            next_resync: Mutex::new(Instant::now() + resync.unwrap_or_default()),
            syncing: AtomicBool::new(false),
        });
        HandlerRegistration { listener }
    }

    /// Removes a handler: it is told of nothing more (client-go's
    /// `RemoveEventHandler`).
    pub fn remove_event_handler(&self, registration: &HandlerRegistration<K>) {
        let mut listeners = self.shared.listeners.write();
        let id = registration.listener.id();
        if let Some(i) = listeners.iter().position(|r| r.listener.id() == id) {
            let r = listeners.swap_remove(i);
            r.listener.stop();
            drop(r.task);
        }
    }

    /// Starts listing, watching and notifying on the current tokio runtime (client-go's
    /// `Run`); does nothing if started already. Stops at [`stop`](Self::stop).
    pub fn run(&self) {
        if self.shared.started.swap(true, Ordering::AcqRel) {
            return;
        }
        let settings = self.shared.settings.lock();
        let mut options = settings.reflector.clone();
        // The reflector resyncs as often as the most eager handler needs.
        let handlers_min = self
            .shared
            .listeners
            .read()
            .iter()
            .filter_map(|r| r.resync)
            .min();
        options.resync = match (settings.resync, handlers_min) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let sink: Arc<dyn ReflectorStore<K>> = Arc::new(Sink {
            shared: Arc::downgrade(&self.shared),
            fifo: self.shared.fifo.clone(),
        });
        let lw = if settings.strip_managed_fields {
            self.shared.lw.clone().without_managed_fields()
        } else {
            self.shared.lw.clone()
        };
        let mut reflector = Reflector::new(lw, sink).options(options);
        if let Some(t) = &settings.transform {
            reflector = reflector.transform(t.clone());
        }
        drop(settings);
        let reflector = Arc::new(reflector);
        *self.shared.reflector.lock() = Some(reflector.clone());
        let stop = self.shared.stop.clone();
        let fifo = self.shared.fifo.clone();
        let reflecting = tokio::spawn(async move {
            reflector.run(stop).await;
            fifo.close();
        });
        let shared = Arc::downgrade(&self.shared);
        let fifo = self.shared.fifo.clone();
        let processing = tokio::spawn(async move {
            loop {
                let popped = fifo
                    .pop(|p| {
                        if let Some(shared) = shared.upgrade() {
                            shared.process(&p.key, p.deltas, p.is_in_initial_list);
                        }
                    })
                    .await;
                if popped.is_none() {
                    return;
                }
                let Some(shared) = shared.upgrade() else {
                    return;
                };
                shared.check_synced();
            }
        });
        self.shared.tasks.lock().extend([reflecting, processing]);
    }

    /// Stops the informer: the watch closes, handlers are told of nothing more.
    pub fn stop(&self) {
        self.shared.stop.cancel();
        for r in self.shared.listeners.read().iter() {
            r.listener.stop();
        }
    }

    /// Whether [`stop`](Self::stop) was called.
    pub fn is_stopped(&self) -> bool {
        self.shared.stop.is_cancelled()
    }
}

impl<K: Resource + Send + Sync + 'static> Shared<K> {
    /// Once the FIFO has handed out the first list: the informer and the handlers
    /// registered so far have their initial state.
    fn check_synced(&self) {
        if *self.synced.borrow() || !self.fifo.has_synced() {
            return;
        }
        for r in self.listeners.read().iter() {
            r.listener.mark_synced();
        }
        self.synced.send_replace(true);
    }

    /// client-go's `processDeltas`: the cache first, then the handlers.
    /// `key`: the one key all of `deltas` are for, as the FIFO hands them out.
    fn process(&self, key: &str, deltas: Vec<Delta<K>>, is_in_initial_list: bool) {
        let listeners = self.listeners.read();
        for delta in deltas {
            let (obj, sync) = match delta {
                Delta::Deleted(d) => {
                    self.indexer.delete_key(key);
                    let n = Notification::Delete(d);
                    for r in listeners.iter() {
                        r.listener.push(n.clone());
                    }
                    continue;
                }
                Delta::Sync(o) => (o, true),
                Delta::Replaced(o) => (o, false),
                Delta::Added(o) | Delta::Updated(o) => (o, false),
            };
            match self.indexer.get_by_key(key) {
                Some(old) => {
                    // A relisted object at the resourceVersion already cached is no
                    // change: it goes to resyncing handlers only (as client-go).
                    let same = old.meta().resource_version.is_some()
                        && old.meta().resource_version == obj.meta().resource_version;
                    let sync = sync || same;
                    self.indexer.add_with_key(key, obj.clone());
                    let n = Notification::Update { old, new: obj };
                    for r in listeners.iter() {
                        if !sync || r.syncing.load(Ordering::Relaxed) {
                            r.listener.push(n.clone());
                        }
                    }
                }
                None => {
                    self.indexer.add_with_key(key, obj.clone());
                    let n = Notification::Add {
                        obj,
                        initial: is_in_initial_list,
                    };
                    for r in listeners.iter() {
                        r.listener.push(n.clone());
                    }
                }
            }
        }
    }
}

impl<K> Drop for Shared<K> {
    fn drop(&mut self) {
        self.stop.cancel();
        for r in self.listeners.get_mut().iter() {
            r.task.abort();
        }
        for t in self.tasks.get_mut().iter() {
            t.abort();
        }
    }
}
