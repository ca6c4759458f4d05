//! DeltaFIFO: per-key lists of deltas between the Reflector and the Indexer
//! (client-go's `DeltaFIFO`).
//!
//! The Reflector writes changes in; the informer pops one key at a time with every
//! change that key had since it was last popped, in order. A key is queued once
//! however many changes it gets while it waits. A relist ([`ReflectorStore::replace`])
//! turns objects the cache knows but the list lacks into deletes whose final state is
//! unknown ([`Deleted::FinalStateUnknown`]): the delete happened while the watch was
//! down.
//!
//! There is no `AddIfNotPresent` and no requeue of a key whose processing failed:
//! current client-go removed both (requeueing at the back moves the cache back in
//! time, at the front it jams the queue); processing here cannot fail.
//!
//! Unlike Go, where a delete hands the handler either an object or a
//! `DeletedFinalStateUnknown` behind an `interface{}` that every controller must
//! type-assert (and some panic on), a delete here is the [`Deleted`] enum, and both
//! arms carry the object.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;

use hashbrown::HashMap;
use parking_lot::Mutex;
use tokio::sync::Notify;

use kubeforge_client::api::Resource;

use crate::reflector::ReflectorStore;
use crate::store::{Indexer, key_of};

/// Why an object left (client-go: the object of a `Deleted` delta).
#[derive(Debug)]
pub enum Deleted<K> {
    /// The delete was seen: the object's last state.
    Object(Arc<K>),
    /// The object was missing from a relist: it was deleted while the watch was down,
    /// and `last` is the last state the cache knew (client-go's
    /// `DeletedFinalStateUnknown`).
    FinalStateUnknown {
        /// The cache key.
        key: String,
        /// The last known state.
        last: Arc<K>,
    },
}

impl<K> Clone for Deleted<K> {
    fn clone(&self) -> Self {
        match self {
            Deleted::Object(o) => Deleted::Object(o.clone()),
            Deleted::FinalStateUnknown { key, last } => Deleted::FinalStateUnknown {
                key: key.clone(),
                last: last.clone(),
            },
        }
    }
}

impl<K: Resource> Deleted<K> {
    /// The last known state of the object, in both cases.
    pub fn last(&self) -> &Arc<K> {
        match self {
            Deleted::Object(o) => o,
            Deleted::FinalStateUnknown { last, .. } => last,
        }
    }

    /// The object's cache key.
    pub fn key(&self) -> String {
        match self {
            Deleted::Object(o) => key_of(o.as_ref()),
            Deleted::FinalStateUnknown { key, .. } => key.clone(),
        }
    }

    /// Whether this is a tombstone from a relist rather than an observed delete.
    pub fn is_final_state_unknown(&self) -> bool {
        matches!(self, Deleted::FinalStateUnknown { .. })
    }
}

/// The kinds of change (client-go's `DeltaType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeltaType {
    /// A watch `ADDED`.
    Added,
    /// A watch `MODIFIED`.
    Updated,
    /// A watch `DELETED`, or a tombstone from a relist.
    Deleted,
    /// Part of a relist (instead of `Sync` when the FIFO emits `Replaced`).
    Replaced,
    /// A resync, or part of a relist.
    Sync,
}

/// One change of one object (client-go's `Delta`).
#[derive(Debug)]
pub enum Delta<K> {
    /// A watch `ADDED`.
    Added(Arc<K>),
    /// A watch `MODIFIED`.
    Updated(Arc<K>),
    /// A watch `DELETED`, or a tombstone from a relist.
    Deleted(Deleted<K>),
    /// Part of a relist.
    Replaced(Arc<K>),
    /// A resync (or part of a relist, for FIFOs that do not emit `Replaced`).
    Sync(Arc<K>),
}

impl<K> Clone for Delta<K> {
    fn clone(&self) -> Self {
        match self {
            Delta::Added(o) => Delta::Added(o.clone()),
            Delta::Updated(o) => Delta::Updated(o.clone()),
            Delta::Deleted(d) => Delta::Deleted(d.clone()),
            Delta::Replaced(o) => Delta::Replaced(o.clone()),
            Delta::Sync(o) => Delta::Sync(o.clone()),
        }
    }
}

impl<K: Resource> Delta<K> {
    /// The kind of change.
    pub fn kind(&self) -> DeltaType {
        match self {
            Delta::Added(_) => DeltaType::Added,
            Delta::Updated(_) => DeltaType::Updated,
            Delta::Deleted(_) => DeltaType::Deleted,
            Delta::Replaced(_) => DeltaType::Replaced,
            Delta::Sync(_) => DeltaType::Sync,
        }
    }

    /// The object the delta carries (for a delete, its last known state).
    pub fn object(&self) -> &Arc<K> {
        match self {
            Delta::Added(o) | Delta::Updated(o) | Delta::Replaced(o) | Delta::Sync(o) => o,
            Delta::Deleted(d) => d.last(),
        }
    }
}

/// What the FIFO consults to find objects a relist no longer has, and to resync
/// (client-go's `KeyListerGetter`, implemented by the [`Indexer`]).
pub trait KnownObjects<K>: Send + Sync {
    /// Every key known.
    fn list_keys(&self) -> Vec<String>;
    /// The object under `key`.
    fn get_by_key(&self, key: &str) -> Option<Arc<K>>;
}

impl<K: Resource + Send + Sync + 'static> KnownObjects<K> for Indexer<K> {
    fn list_keys(&self) -> Vec<String> {
        Indexer::list_keys(self)
    }

    fn get_by_key(&self, key: &str) -> Option<Arc<K>> {
        Indexer::get_by_key(self, key)
    }
}

struct State<K> {
    /// Keys waiting, in the order they were first queued.
    queue: VecDeque<String>,
    /// Deltas of each waiting key, oldest first (never empty).
    items: HashMap<String, Vec<Delta<K>>, foldhash::fast::RandomState>,
    /// Whether anything was ever written (or replaced).
    populated: bool,
    /// Items of the first replace not popped yet.
    initial_population: usize,
    closed: bool,
}

/// A queue of per-object deltas (client-go's `DeltaFIFO`).
pub struct DeltaFifo<K> {
    state: Mutex<State<K>>,
    ready: Notify,
    known: Option<Arc<dyn KnownObjects<K>>>,
    emit_replaced: bool,
}

impl<K> fmt::Debug for DeltaFifo<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state.lock();
        f.debug_struct("DeltaFifo")
            .field("queued", &st.queue.len())
            .field("populated", &st.populated)
            .field("initial_population", &st.initial_population)
            .field("closed", &st.closed)
            .finish_non_exhaustive()
    }
}

/// The deltas of one key, as [`DeltaFifo::pop`] hands them out.
#[derive(Debug)]
pub struct Popped<K> {
    /// The key.
    pub key: String,
    /// Its deltas, oldest first.
    pub deltas: Vec<Delta<K>>,
    /// Whether the key was part of the first relist (client-go's
    /// `isInInitialList`).
    pub is_in_initial_list: bool,
}

impl<K: Resource + Send + Sync + 'static> DeltaFifo<K> {
    /// A FIFO that knows the objects in `known` (the informer's indexer), and emits
    /// [`Delta::Replaced`] for relisted objects, as informers do since client-go 1.27
    /// (`EmitDeltaTypeReplaced: true`).
    pub fn new(known: Option<Arc<dyn KnownObjects<K>>>) -> Self {
        DeltaFifo {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                items: HashMap::default(),
                populated: false,
                initial_population: 0,
                closed: false,
            }),
            ready: Notify::new(),
            known,
            emit_replaced: true,
        }
    }

    /// The same FIFO emitting [`Delta::Sync`] instead of [`Delta::Replaced`] for
    /// relisted objects (client-go's default when `EmitDeltaTypeReplaced` is unset).
    pub fn emit_sync_on_replace(mut self) -> Self {
        self.emit_replaced = false;
        self
    }

    /// Whether the first relist has been written and all its keys popped (client-go's
    /// `HasSynced`). With [`pop`](Self::pop), popped means processed: the count drops
    /// after the processing closure returns.
    pub fn has_synced(&self) -> bool {
        let st = self.state.lock();
        st.populated && st.initial_population == 0
    }

    /// How many keys wait.
    pub fn len(&self) -> usize {
        self.state.lock().queue.len()
    }

    /// Whether no key waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The keys waiting, in order.
    pub fn list_keys(&self) -> Vec<String> {
        self.state.lock().queue.iter().cloned().collect()
    }

    /// The deltas waiting for `key`.
    pub fn get_by_key(&self, key: &str) -> Option<Vec<Delta<K>>> {
        self.state.lock().items.get(key).cloned()
    }

    /// Stops the FIFO: [`pop`](Self::pop) hands out what waits, then returns `None`.
    pub fn close(&self) {
        self.state.lock().closed = true;
        self.ready.notify_waiters();
        self.ready.notify_one();
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.state.lock().closed
    }

    /// Waits for a key, takes its deltas and runs `process` on them while the FIFO is
    /// locked (as client-go does: [`has_synced`](Self::has_synced) turns true only
    /// after the last initial key was processed). `process` must be quick and must not
    /// call back into this FIFO. `None` once closed and empty.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a key is taken only in the poll that processes it.
    pub async fn pop<R>(&self, process: impl FnOnce(Popped<K>) -> R) -> Option<R> {
        let mut process = Some(process);
        loop {
            let notified = self.ready.notified();
            {
                let mut st = self.state.lock();
                if let Some(key) = st.queue.pop_front() {
                    let deltas = st.items.remove(&key).unwrap_or_default();
                    let is_in_initial_list = st.initial_population > 0;
                    let f = process.take()?;
                    let r = f(Popped {
                        key,
                        deltas,
                        is_in_initial_list,
                    });
                    if st.initial_population > 0 {
                        st.initial_population -= 1;
                    }
                    // Another key may wait for another popper.
                    if !st.queue.is_empty() {
                        self.ready.notify_one();
                    }
                    return Some(r);
                }
                if st.closed {
                    return None;
                }
            }
            notified.await;
        }
    }

    fn queue(&self, st: &mut State<K>, key: String, delta: Delta<K>) {
        let deltas = st.items.entry(key.clone()).or_default();
        let was_waiting = !deltas.is_empty();
        deltas.push(delta);
        dedup(deltas);
        if !was_waiting {
            st.queue.push_back(key);
        }
        self.ready.notify_one();
    }

    fn known(&self, key: &str) -> Option<Arc<K>> {
        self.known.as_ref().and_then(|k| k.get_by_key(key))
    }
}

/// Two deletes in a row collapse into one: the later, unless the later is a
/// tombstone, which says less than the earlier (client-go's `dedupDeltas` /
/// `isDeletionDup`).
fn dedup<K>(deltas: &mut Vec<Delta<K>>) {
    let n = deltas.len();
    if n < 2 {
        return;
    }
    if let (Delta::Deleted(_), Delta::Deleted(b)) = (&deltas[n - 2], &deltas[n - 1]) {
        if matches!(b, Deleted::FinalStateUnknown { .. }) {
            deltas.pop();
        } else {
            deltas.remove(n - 2);
        }
    }
}

impl<K: Resource + Send + Sync + 'static> ReflectorStore<K> for DeltaFifo<K> {
    fn add(&self, obj: Arc<K>) {
        let mut st = self.state.lock();
        st.populated = true;
        let key = key_of(obj.as_ref());
        self.queue(&mut st, key, Delta::Added(obj));
    }

    fn update(&self, obj: Arc<K>) {
        let mut st = self.state.lock();
        st.populated = true;
        let key = key_of(obj.as_ref());
        self.queue(&mut st, key, Delta::Updated(obj));
    }

    fn delete(&self, obj: Arc<K>) {
        let key = key_of(obj.as_ref());
        let mut st = self.state.lock();
        st.populated = true;
        // Nothing to delete: neither waiting nor known (client-go drops the delete).
        let waiting = st.items.contains_key(&key);
        let known = match &self.known {
            Some(k) => k.get_by_key(&key).is_some(),
            None => false,
        };
        if !waiting && !known {
            return;
        }
        self.queue(&mut st, key, Delta::Deleted(Deleted::Object(obj)));
    }

    fn replace(&self, list: Vec<Arc<K>>, _resource_version: &str) {
        let mut st = self.state.lock();
        let mut listed = hashbrown::HashSet::with_capacity_and_hasher(
            list.len(),
            foldhash::fast::RandomState::default(),
        );
        for obj in list {
            let key = key_of(obj.as_ref());
            listed.insert(key.clone());
            let delta = if self.emit_replaced {
                Delta::Replaced(obj)
            } else {
                Delta::Sync(obj)
            };
            self.queue(&mut st, key, delta);
        }
        // Waiting objects the list lacks, whose last delta is not a delete yet: their
        // delete was missed (client-go handles these before the known objects).
        // Tombstones are queued in key order (client-go's order is a map's, random).
        let mut waiting: Vec<(String, Arc<K>)> = st
            .items
            .iter()
            .filter(|(k, _)| !listed.contains(*k))
            .filter_map(|(k, ds)| match ds.last() {
                Some(Delta::Deleted(_)) | None => None,
                Some(d) => Some((k.clone(), d.object().clone())),
            })
            .collect();
        waiting.sort_by(|a, b| a.0.cmp(&b.0));
        for (key, last) in waiting {
            let d = Deleted::FinalStateUnknown {
                key: key.clone(),
                last,
            };
            self.queue(&mut st, key, Delta::Deleted(d));
        }
        if let Some(known) = &self.known {
            let mut keys = known.list_keys();
            keys.sort();
            for key in keys {
                if listed.contains(&key) {
                    continue;
                }
                if st
                    .items
                    .get(&key)
                    .and_then(|ds| ds.last())
                    .is_some_and(|d| matches!(d, Delta::Deleted(_)))
                {
                    continue;
                }
                let Some(last) = known.get_by_key(&key) else {
                    continue;
                };
                let d = Deleted::FinalStateUnknown {
                    key: key.clone(),
                    last,
                };
                self.queue(&mut st, key, Delta::Deleted(d));
            }
        }
        if !st.populated {
            // Nothing was written before: every waiting key is from this list.
            st.populated = true;
            st.initial_population = st.queue.len();
        }
    }

    fn resync(&self) {
        let Some(known) = &self.known else {
            return;
        };
        let mut st = self.state.lock();
        let mut keys = known.list_keys();
        keys.sort();
        for key in keys {
            // A key with deltas waiting will be processed anyway.
            if st.items.contains_key(&key) {
                continue;
            }
            if let Some(obj) = self.known(&key) {
                self.queue(&mut st, key, Delta::Sync(obj));
            }
        }
    }
}
