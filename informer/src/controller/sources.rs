//! What turns cache events into keys on the controller's queue: the primary
//! type's handler (which also keeps the last state of deleted objects), owned
//! types mapped to their controller owner, and watches mapped by the user.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use kubeforge_client::api::Resource;
use kubeforge_workqueue::RateLimitingQueue;
use parking_lot::Mutex;
use serde::de::DeserializeOwned;
use std::collections::HashMap;

use super::ObjectKey;
use crate::fifo::Deleted;
use crate::handler::ResourceEventHandler;
use crate::informer::SharedIndexInformer;

/// The last known state of primary objects that were deleted and not yet
/// reconciled successfully as deleted.
pub(super) type Tombstones<K> = Arc<Mutex<HashMap<ObjectKey, Deleted<K>>>>;

/// A source once its handler is registered.
pub(super) struct Attached {
    /// Starts the source's informer (a no-op if it runs already).
    pub(super) start: Box<dyn FnOnce() + Send>,
    /// Resolves once the handler has handled the informer's initial state.
    pub(super) synced: Pin<Box<dyn Future<Output = ()> + Send>>,
    /// Removes the handler.
    pub(super) detach: Box<dyn FnOnce() + Send>,
}

/// Registers a source's handler on the controller's queue.
pub(super) type Source = Box<dyn FnOnce(RateLimitingQueue<ObjectKey>) -> Attached + Send>;

/// Registers `handler` on `informer`.
fn attach<O, H>(informer: SharedIndexInformer<O>, handler: H) -> Attached
where
    O: Resource + DeserializeOwned + Send + Sync + 'static,
    H: ResourceEventHandler<O>,
{
    let registration = informer.add_event_handler(handler);
    let synced = {
        let registration = registration.clone();
        Box::pin(async move { registration.wait_synced().await })
    };
    let starting = informer.clone();
    Attached {
        start: Box::new(move || starting.run()),
        synced,
        detach: Box::new(move || informer.remove_event_handler(&registration)),
    }
}

/// The primary type: every change queues the object's own key; a delete also
/// keeps the last state for the reconcile that follows.
pub(super) fn primary<K>(informer: SharedIndexInformer<K>, tombstones: Tombstones<K>) -> Source
where
    K: Resource + DeserializeOwned + Send + Sync + 'static,
{
    Box::new(move |queue| attach(informer, Primary { queue, tombstones }))
}

struct Primary<K> {
    queue: RateLimitingQueue<ObjectKey>,
    tombstones: Tombstones<K>,
}

impl<K: Resource + Send + Sync + 'static> Primary<K> {
    fn present(&self, obj: &K) {
        let key = ObjectKey::of(obj);
        {
            let mut tombstones = self.tombstones.lock();
            if !tombstones.is_empty() {
                // Created again under the same key: the cache holds it now.
                tombstones.remove(&key);
            }
        }
        self.queue.add(key);
    }
}

impl<K: Resource + Send + Sync + 'static> ResourceEventHandler<K> for Primary<K> {
    fn on_add(&self, obj: &Arc<K>, _: bool) {
        self.present(obj);
    }

    fn on_update(&self, _: &Arc<K>, new: &Arc<K>) {
        self.present(new);
    }

    fn on_delete(&self, obj: &Deleted<K>) {
        let key = ObjectKey::from_cache_key(obj.key());
        self.tombstones.lock().insert(key.clone(), obj.clone());
        self.queue.add(key);
    }
}

/// What an owned or watched object maps to.
type Mapper<O> = Arc<dyn Fn(&O) -> Vec<ObjectKey> + Send + Sync>;

/// Related objects: every change queues the keys `map` gives for the old and
/// the new state (so a changed owner reference reconciles both owners).
pub(super) fn mapped<O>(informer: SharedIndexInformer<O>, map: Mapper<O>) -> Source
where
    O: Resource + DeserializeOwned + Send + Sync + 'static,
{
    Box::new(move |queue| attach(informer, Mapped { queue, map }))
}

struct Mapped<O> {
    queue: RateLimitingQueue<ObjectKey>,
    map: Mapper<O>,
}

impl<O> Mapped<O> {
    fn queue(&self, obj: &O) {
        for key in (self.map)(obj) {
            self.queue.add(key);
        }
    }
}

impl<O: Resource + Send + Sync + 'static> ResourceEventHandler<O> for Mapped<O> {
    fn on_add(&self, obj: &Arc<O>, _: bool) {
        self.queue(obj);
    }

    fn on_update(&self, old: &Arc<O>, new: &Arc<O>) {
        if !Arc::ptr_eq(old, new) {
            self.queue(old);
        }
        self.queue(new);
    }

    fn on_delete(&self, obj: &Deleted<O>) {
        self.queue(obj.last());
    }
}

/// Maps a dependent to the key of its controlling owner of kind `kind` in
/// group `group`. As controller-runtime's `Owns` (and unlike kube-rs, which
/// takes every matching reference), only the reference marked
/// `controller: true` counts: an object has at most one controller, and
/// plain owner references are for garbage collection, not for reconciling.
pub(super) fn owner_mapper<O: Resource>(
    kind: String,
    group: String,
    namespaced: bool,
) -> Mapper<O> {
    Arc::new(move |obj: &O| {
        let meta = obj.meta();
        meta.owner_references
            .controller()
            .filter(|r| r.kind == kind && r.group() == group)
            .map(|r| {
                // Owner references never cross namespaces: a namespaced owner
                // lives in its dependent's namespace.
                let namespace = if namespaced { meta.namespace } else { None };
                ObjectKey::new(namespace, r.name)
            })
            .into_iter()
            .collect()
    })
}
