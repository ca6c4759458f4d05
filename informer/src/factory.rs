//! SharedInformerFactory: one informer per resource, shared by everyone who asks
//! (client-go's `SharedInformerFactory`, `dynamicinformer` and `metadatainformer` in
//! one type).

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use parking_lot::Mutex;
use serde::de::DeserializeOwned;

use kubeforge_client::Client;
use kubeforge_client::api::{Api, DynamicObject, PartialObjectMetadata, Resource};
use kubeforge_client::core::ApiResource;

use crate::informer::SharedIndexInformer;
use crate::reflector::ListWatch;

/// What an informer is for: its resource, and whether it holds whole objects,
/// dynamic ones or metadata only.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Slot {
    group: String,
    version: String,
    plural: String,
    flavour: &'static str,
}

impl Slot {
    fn of<K: Resource>(dt: &K::DynamicType, flavour: &'static str) -> Self {
        Slot {
            group: K::group(dt).into_owned(),
            version: K::version(dt).into_owned(),
            plural: K::plural(dt).into_owned(),
            flavour,
        }
    }
}

struct Entry {
    informer: Box<dyn Any + Send + Sync>,
    /// Starts and stops it without knowing its type.
    run: Box<dyn Fn() + Send + Sync>,
    stop: Box<dyn Fn() + Send + Sync>,
    synced: Box<dyn Fn() -> std::pin::Pin<Box<dyn Future<Output = bool> + Send>> + Send + Sync>,
}

/// Hands out one shared informer per resource (client-go's
/// `SharedInformerFactory`), for typed objects, [`DynamicObject`]s and
/// [`PartialObjectMetadata`]. Informers can be released one by one, which stops them
/// (client-go's factory cannot: kubernetes/kubernetes#79610). Dropping the factory
/// stops all of them.
pub struct SharedInformerFactory {
    client: Client,
    namespace: Option<String>,
    resync: Option<Duration>,
    informers: Mutex<HashMap<Slot, Entry>>,
    started: Mutex<bool>,
}

impl fmt::Debug for SharedInformerFactory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedInformerFactory")
            .field("namespace", &self.namespace)
            .field("resync", &self.resync)
            .field("informers", &self.informers.lock().len())
            .finish_non_exhaustive()
    }
}

impl SharedInformerFactory {
    /// A factory whose informers watch all namespaces.
    pub fn new(client: Client) -> Self {
        SharedInformerFactory {
            client,
            namespace: None,
            resync: None,
            informers: Mutex::new(HashMap::new()),
            started: Mutex::new(false),
        }
    }

    /// A factory whose informers of namespaced resources watch one namespace
    /// (client-go's `WithNamespace`).
    pub fn namespaced(client: Client, namespace: &str) -> Self {
        let mut factory = Self::new(client);
        factory.namespace = Some(namespace.to_owned());
        factory
    }

    /// The default resync period of the informers' handlers (none by default).
    pub fn with_resync(mut self, period: Duration) -> Self {
        self.resync = Some(period);
        self
    }

    fn api<K: Resource>(&self, dt: &K::DynamicType) -> Api<K> {
        match (&self.namespace, K::scope(dt)) {
            (Some(ns), kubeforge_client::core::Scope::Namespaced) => {
                Api::namespaced_with(self.client.clone(), ns, dt)
            }
            _ => Api::all_with(self.client.clone(), dt),
        }
    }

    fn get_or_make<K>(
        &self,
        slot: Slot,
        lw: impl FnOnce() -> ListWatch<K>,
    ) -> SharedIndexInformer<K>
    where
        K: Resource + DeserializeOwned + Send + Sync + 'static,
    {
        let mut informers = self.informers.lock();
        if let Some(existing) = informers
            .get(&slot)
            .and_then(|e| e.informer.downcast_ref::<SharedIndexInformer<K>>())
        {
            return existing.clone();
        }
        let informer = SharedIndexInformer::new(lw());
        if let Some(period) = self.resync {
            // A fresh informer has not started: this cannot fail.
            let _ = informer.set_resync(period);
        }
        let (a, b, c) = (informer.clone(), informer.clone(), informer.clone());
        informers.insert(
            slot,
            Entry {
                informer: Box::new(informer.clone()),
                run: Box::new(move || a.run()),
                stop: Box::new(move || b.stop()),
                synced: Box::new(move || {
                    let c = c.clone();
                    Box::pin(async move { c.wait_for_sync().await })
                }),
            },
        );
        if *self.started.lock() {
            informer.run();
        }
        informer
    }

    /// The informer of a typed resource (`Pod`, a derived custom resource…).
    pub fn informer<K>(&self) -> SharedIndexInformer<K>
    where
        K: Resource<DynamicType = ()> + DeserializeOwned + Send + Sync + 'static,
    {
        self.get_or_make(Slot::of::<K>(&(), "typed"), || {
            ListWatch::new(self.api::<K>(&()))
        })
    }

    /// The informer of a resource known at run time, as [`DynamicObject`]s
    /// (client-go's `dynamicinformer`).
    pub fn dynamic(&self, resource: &ApiResource) -> SharedIndexInformer<DynamicObject> {
        self.get_or_make(Slot::of::<DynamicObject>(resource, "dynamic"), || {
            ListWatch::new(self.api::<DynamicObject>(resource))
        })
    }

    /// The informer of a resource's metadata only (client-go's `metadatainformer`):
    /// a fraction of the memory of whole objects.
    pub fn metadata(&self, resource: &ApiResource) -> SharedIndexInformer<PartialObjectMetadata> {
        self.get_or_make(
            Slot::of::<PartialObjectMetadata>(resource, "metadata"),
            || ListWatch::new(self.api::<PartialObjectMetadata>(resource)),
        )
    }

    /// Starts every informer asked for so far, and those asked for later as they are
    /// (client-go's `Start`). Needs a tokio runtime.
    pub fn start(&self) {
        *self.started.lock() = true;
        for e in self.informers.lock().values() {
            (e.run)();
        }
    }

    /// Waits until every informer asked for so far has synced (client-go's
    /// `WaitForCacheSync`); `false` if one stopped before it synced.
    pub async fn wait_for_cache_sync(&self) -> bool {
        let waits: Vec<_> = self
            .informers
            .lock()
            .values()
            .map(|e| (e.synced)())
            .collect();
        futures::future::join_all(waits)
            .await
            .into_iter()
            .all(|ok| ok)
    }

    /// Stops the informer of typed resource `K` and forgets it: the next
    /// [`informer`](Self::informer) call makes a new one.
    pub fn release<K>(&self)
    where
        K: Resource<DynamicType = ()> + DeserializeOwned + Send + Sync + 'static,
    {
        self.release_slot(&Slot::of::<K>(&(), "typed"));
    }

    /// Stops and forgets the dynamic informer of `resource`.
    pub fn release_dynamic(&self, resource: &ApiResource) {
        self.release_slot(&Slot::of::<DynamicObject>(resource, "dynamic"));
    }

    /// Stops and forgets the metadata informer of `resource`.
    pub fn release_metadata(&self, resource: &ApiResource) {
        self.release_slot(&Slot::of::<PartialObjectMetadata>(resource, "metadata"));
    }

    fn release_slot(&self, slot: &Slot) {
        if let Some(e) = self.informers.lock().remove(slot) {
            (e.stop)();
        }
    }

    /// How many informers the factory holds.
    pub fn len(&self) -> usize {
        self.informers.lock().len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stops every informer (client-go's `Shutdown`).
    pub fn shutdown(&self) {
        for (_, e) in self.informers.lock().drain() {
            (e.stop)();
        }
    }
}

impl Drop for SharedInformerFactory {
    fn drop(&mut self) {
        self.shutdown();
    }
}
