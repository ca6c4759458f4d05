//! Event handlers and their buffers: what client-go's `sharedProcessor` and
//! `processorListener` do.
//!
//! Every handler has its own task and its own buffer, so a slow handler never delays
//! the cache or the other handlers. client-go's buffer is unbounded ("grows until we
//! OOM"); ours is bounded, with this policy when a handler stalls:
//!
//! - up to [`HandlerOptions::buffer`] notifications wait in order, as client-go
//!   delivers them;
//! - past that, the handler falls behind: further changes are folded per object into
//!   "what the handler last saw" and "what the cache holds now", so memory is bounded
//!   by the number of objects, not the number of events. When the handler catches up
//!   it receives, per object, one notification that takes it from the one state to the
//!   other (an add, an update, or a delete carrying the last state it was told of).
//!
//! A handler that falls behind thus misses intermediate states of an object (as any
//! watch client may after a relist) but never its final state: for every object, the
//! last notification a handler receives matches what the cache holds.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use hashbrown::HashMap;
use parking_lot::Mutex;
use tokio::sync::Notify;

use kubeforge_client::api::Resource;

use crate::fifo::Deleted;
use crate::store::key_of;

/// Reacts to changes of the cache (client-go's `ResourceEventHandler`).
///
/// Methods run on the handler's own task, one notification at a time, in order. They
/// should be quick (typically: put a key on a work queue); a slow handler delays only
/// itself (see the [module docs](self) for what happens when it falls far behind).
pub trait ResourceEventHandler<K>: Send + Sync + 'static {
    /// An object appeared. `is_in_initial_list`: it was part of the state the cache
    /// synced to (or, for a handler added later, of the state replayed to it).
    fn on_add(&self, obj: &Arc<K>, is_in_initial_list: bool) {
        let _ = (obj, is_in_initial_list);
    }

    /// An object changed (or a resync delivered it again: then `old` and `new` are
    /// the same object).
    fn on_update(&self, old: &Arc<K>, new: &Arc<K>) {
        let _ = (old, new);
    }

    /// An object is gone: its last state, or the last state the cache knew when the
    /// delete itself was missed (client-go's `DeletedFinalStateUnknown`).
    fn on_delete(&self, obj: &Deleted<K>) {
        let _ = obj;
    }
}

/// A handler made of closures (client-go's `ResourceEventHandlerFuncs`); unset ones do
/// nothing.
#[allow(clippy::type_complexity)]
pub struct HandlerFns<K> {
    add: Option<Box<dyn Fn(&Arc<K>, bool) + Send + Sync>>,
    update: Option<Box<dyn Fn(&Arc<K>, &Arc<K>) + Send + Sync>>,
    delete: Option<Box<dyn Fn(&Deleted<K>) + Send + Sync>>,
}

impl<K> Default for HandlerFns<K> {
    fn default() -> Self {
        HandlerFns {
            add: None,
            update: None,
            delete: None,
        }
    }
}

impl<K> std::fmt::Debug for HandlerFns<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandlerFns")
            .field("add", &self.add.is_some())
            .field("update", &self.update.is_some())
            .field("delete", &self.delete.is_some())
            .finish()
    }
}

impl<K> HandlerFns<K> {
    /// A handler that does nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `f(obj, is_in_initial_list)` on adds.
    pub fn on_add(mut self, f: impl Fn(&Arc<K>, bool) + Send + Sync + 'static) -> Self {
        self.add = Some(Box::new(f));
        self
    }

    /// Runs `f(old, new)` on updates.
    pub fn on_update(mut self, f: impl Fn(&Arc<K>, &Arc<K>) + Send + Sync + 'static) -> Self {
        self.update = Some(Box::new(f));
        self
    }

    /// Runs `f(deleted)` on deletes.
    pub fn on_delete(mut self, f: impl Fn(&Deleted<K>) + Send + Sync + 'static) -> Self {
        self.delete = Some(Box::new(f));
        self
    }
}

impl<K: Send + Sync + 'static> ResourceEventHandler<K> for HandlerFns<K> {
    fn on_add(&self, obj: &Arc<K>, is_in_initial_list: bool) {
        if let Some(f) = &self.add {
            f(obj, is_in_initial_list);
        }
    }

    fn on_update(&self, old: &Arc<K>, new: &Arc<K>) {
        if let Some(f) = &self.update {
            f(old, new);
        }
    }

    fn on_delete(&self, obj: &Deleted<K>) {
        if let Some(f) = &self.delete {
            f(obj);
        }
    }
}

/// Options of one handler registration.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HandlerOptions {
    /// Notifications kept in order before the handler counts as behind and changes
    /// are folded per object (default 4096).
    pub buffer: usize,
    /// This handler's resync period (client-go's `AddEventHandlerWithResyncPeriod`):
    /// every period it is told of every cached object again, as an update of the
    /// object to itself. `None`: the informer's default.
    pub resync: Option<std::time::Duration>,
}

impl Default for HandlerOptions {
    fn default() -> Self {
        HandlerOptions {
            buffer: 4096,
            resync: None,
        }
    }
}

impl HandlerOptions {
    /// The default options with a buffer of `n` notifications (at least 1).
    pub fn buffer(mut self, n: usize) -> Self {
        self.buffer = n.max(1);
        self
    }

    /// The default options with this handler's own resync period.
    pub fn resync(mut self, period: std::time::Duration) -> Self {
        self.resync = Some(period);
        self
    }
}

/// One change as a handler is told of it.
#[derive(Debug)]
pub(crate) enum Notification<K> {
    Add { obj: Arc<K>, initial: bool },
    Update { old: Arc<K>, new: Arc<K> },
    Delete(Deleted<K>),
}

impl<K> Clone for Notification<K> {
    fn clone(&self) -> Self {
        match self {
            Notification::Add { obj, initial } => Notification::Add {
                obj: obj.clone(),
                initial: *initial,
            },
            Notification::Update { old, new } => Notification::Update {
                old: old.clone(),
                new: new.clone(),
            },
            Notification::Delete(d) => Notification::Delete(d.clone()),
        }
    }
}

impl<K: Resource> Notification<K> {
    /// The object's state before the change, as the handler knew it (`None`: it did
    /// not know the object).
    fn before(&self) -> Option<&Arc<K>> {
        match self {
            Notification::Add { .. } => None,
            Notification::Update { old, .. } => Some(old),
            Notification::Delete(d) => Some(d.last()),
        }
    }

    /// The object's state after the change (`None`: gone).
    fn after(&self) -> Option<&Arc<K>> {
        match self {
            Notification::Add { obj, .. } => Some(obj),
            Notification::Update { new, .. } => Some(new),
            Notification::Delete(_) => None,
        }
    }

    fn key(&self) -> String {
        let obj = match self {
            Notification::Add { obj, .. } => obj,
            Notification::Update { new, .. } => new,
            Notification::Delete(d) => return d.key().to_owned(),
        };
        key_of(obj.as_ref())
    }
}

/// Per object, from the handler's last known state to the cache's current one.
struct Folded<K> {
    /// What the handler was last told of (`None`: nothing, or a delete).
    seen: Option<Arc<K>>,
    /// What it should end up knowing (`None`: gone).
    now: Option<Arc<K>>,
    /// Whether `now` came with an add of an initial list.
    initial: bool,
    /// The last delete folded in, told as such when the object is gone (or was
    /// replaced by another object of the same name).
    deleted: Option<Deleted<K>>,
    /// Handed-in notifications this entry stands for.
    count: u64,
}

/// What waits for one handler.
struct Pending<K> {
    queue: VecDeque<Notification<K>>,
    /// Changes folded per object once `queue` was full, in first-change order.
    folded: HashMap<String, Folded<K>, foldhash::fast::RandomState>,
    order: VecDeque<String>,
}

/// Folds `n` into the per-object entry of its object.
fn fold<K: Resource>(p: &mut Pending<K>, n: Notification<K>) {
    let key = n.key();
    let entry = match p.folded.entry(key) {
        hashbrown::hash_map::Entry::Occupied(e) => e.into_mut(),
        hashbrown::hash_map::Entry::Vacant(e) => {
            p.order.push_back(e.key().clone());
            e.insert(Folded {
                seen: n.before().cloned(),
                now: n.before().cloned(),
                initial: false,
                deleted: None,
                count: 0,
            })
        }
    };
    entry.now = n.after().cloned();
    entry.count += 1;
    match n {
        Notification::Add { initial, .. } => entry.initial = initial,
        Notification::Update { .. } => {}
        Notification::Delete(d) => entry.deleted = Some(d),
    }
}

/// The notifications that take a handler from `f.seen` to `f.now`.
fn unfold<K: Resource>(key: String, f: Folded<K>) -> Vec<Notification<K>> {
    let uid = |o: &Arc<K>| o.meta().uid.map(str::to_owned);
    let gone = |seen: Arc<K>, deleted: Option<Deleted<K>>| {
        Notification::Delete(deleted.unwrap_or(Deleted::FinalStateUnknown { key, last: seen }))
    };
    match (f.seen, f.now) {
        (None, None) => Vec::new(),
        (None, Some(obj)) => vec![Notification::Add {
            obj,
            initial: f.initial,
        }],
        (Some(seen), None) => vec![gone(seen, f.deleted)],
        (Some(old), Some(new)) if uid(&old) == uid(&new) => vec![Notification::Update { old, new }],
        // Deleted and created again under the same name: two objects.
        (Some(old), Some(new)) => vec![
            gone(old, f.deleted),
            Notification::Add {
                obj: new,
                initial: f.initial,
            },
        ],
    }
}

/// One registered handler: its buffer, its task's wake-up, its progress.
pub(crate) struct Listener<K> {
    id: u64,
    options: HandlerOptions,
    pending: Mutex<Pending<K>>,
    wake: Notify,
    /// Notifications handed in so far, and handled so far; `synced_at`: the count at
    /// which the informer's initial state was handed in (`u64::MAX`: not yet).
    received: AtomicU64,
    handled: AtomicU64,
    synced_at: AtomicU64,
    /// Notifications folded away (told of as fewer, later ones).
    folded_total: AtomicU64,
    stopped: AtomicBool,
}

impl<K> std::fmt::Debug for Listener<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("id", &self.id)
            .field("received", &self.received.load(Ordering::Relaxed))
            .field("handled", &self.handled.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl<K: Resource + Send + Sync + 'static> Listener<K> {
    pub(crate) fn new(id: u64, options: HandlerOptions) -> Self {
        Listener {
            id,
            options,
            pending: Mutex::new(Pending {
                queue: VecDeque::new(),
                folded: HashMap::default(),
                order: VecDeque::new(),
            }),
            wake: Notify::new(),
            received: AtomicU64::new(0),
            handled: AtomicU64::new(0),
            synced_at: AtomicU64::new(u64::MAX),
            folded_total: AtomicU64::new(0),
            stopped: AtomicBool::new(false),
        }
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Hands a notification to this handler (never blocks for long).
    pub(crate) fn push(&self, n: Notification<K>) {
        if self.stopped.load(Ordering::Relaxed) {
            return;
        }
        {
            let mut p = self.pending.lock();
            // Once behind, everything folds until the handler has caught up, so that
            // notifications of one object stay in order.
            if p.queue.len() < self.options.buffer && p.order.is_empty() {
                p.queue.push_back(n);
            } else {
                self.folded_total.fetch_add(1, Ordering::Relaxed);
                fold(&mut p, n);
            }
        }
        self.received.fetch_add(1, Ordering::Release);
        self.wake.notify_one();
    }

    /// Marks everything handed in so far as this handler's initial state.
    pub(crate) fn mark_synced(&self) {
        let at = self.received.load(Ordering::Acquire);
        let _ = self
            .synced_at
            .compare_exchange(u64::MAX, at, Ordering::AcqRel, Ordering::Acquire);
        self.wake.notify_one();
    }

    /// Whether the handler has handled (returned from) every notification of its
    /// initial state.
    pub(crate) fn has_synced(&self) -> bool {
        let at = self.synced_at.load(Ordering::Acquire);
        at != u64::MAX && self.handled.load(Ordering::Acquire) >= at
    }

    /// How many notifications were folded into later ones because the handler was
    /// behind.
    pub(crate) fn folded(&self) -> u64 {
        self.folded_total.load(Ordering::Relaxed)
    }

    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
        self.wake.notify_one();
    }

    /// Delivers notifications to `handler` until stopped.
    pub(crate) async fn run(self: Arc<Self>, handler: Arc<dyn ResourceEventHandler<K>>) {
        loop {
            let notified = self.wake.notified();
            let next = take(&mut self.pending.lock());
            match next {
                Some((Next::One(n), count)) => {
                    deliver(handler.as_ref(), &n);
                    self.handled.fetch_add(count, Ordering::AcqRel);
                }
                Some((Next::Folded(batch), count)) => {
                    for n in &batch {
                        deliver(handler.as_ref(), n);
                    }
                    self.handled.fetch_add(count, Ordering::AcqRel);
                }
                None if self.stopped.load(Ordering::Relaxed) => return,
                None => notified.await,
            }
        }
    }
}

/// Tells `handler` of `n`.
fn deliver<K: 'static>(handler: &dyn ResourceEventHandler<K>, n: &Notification<K>) {
    match n {
        Notification::Add { obj, initial } => handler.on_add(obj, *initial),
        Notification::Update { old, new } => handler.on_update(old, new),
        Notification::Delete(d) => handler.on_delete(d),
    }
}

/// What a handler is told next: one queued notification (the common case, no
/// allocation), or what one folded object unfolds to.
enum Next<K> {
    One(Notification<K>),
    Folded(Vec<Notification<K>>),
}

/// The next notifications to deliver and how many handed-in ones they stand for.
fn take<K: Resource>(p: &mut Pending<K>) -> Option<(Next<K>, u64)> {
    if let Some(n) = p.queue.pop_front() {
        return Some((Next::One(n), 1));
    }
    while let Some(key) = p.order.pop_front() {
        if let Some(f) = p.folded.remove(&key) {
            let count = f.count;
            return Some((Next::Folded(unfold(key, f)), count));
        }
    }
    None
}
