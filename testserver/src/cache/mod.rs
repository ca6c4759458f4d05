//! The watch cache: lists and watches are served from memory.
//!
//! One [`WatchCache`] per stored resource follows the storage's watch on the
//! resource's key prefix. It keeps:
//!
//! - the current state, a persistent ordered map (`imbl::OrdMap`) from storage key to
//!   [`CachedObject`], so a consistent snapshot for a list is an O(1) clone;
//! - a bounded history of [`CachedEvent`]s, so a watch can resume from any
//!   resourceVersion inside the window and gets `410 Gone` before it;
//! - a few recent snapshots, so the pages of a paginated list are all served at the
//!   first page's resourceVersion.
//!
//! Each object is parsed once when its event arrives (for labels and selectable
//! fields) and its JSON bytes — encoded once by the writer — are served as they are to
//! every reader.
//!
//! Reads that must be consistent ("most recent") first make sure the cache has caught
//! up with the storage's current revision, asking the storage watch for a progress
//! notification when the resource itself saw no recent write (as kube-apiserver's
//! consistent reads from cache do).

pub(crate) mod object;

pub(crate) use object::{CachedEvent, CachedObject, EventType, View};

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use imbl::OrdMap;
use parking_lot::{Mutex, RwLock};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::registry::fields::FieldSpec;
use crate::storage::{self, EventKind, ProgressRequester, Revision, Storage, WatchItem};

/// The current objects of a resource, by storage key.
pub(crate) type Items = OrdMap<String, Arc<CachedObject>>;

/// How long a consistent read waits for the cache to catch up with storage.
const FRESHNESS_TIMEOUT: Duration = Duration::from_secs(3);

/// How many paginated-list snapshots are kept, and for how long.
const SNAPSHOTS_KEPT: usize = 32;
const SNAPSHOT_TTL: Duration = Duration::from_secs(300);

/// What a cache needs to know about its resource.
#[derive(Debug, Clone)]
pub(crate) struct CacheSpec {
    /// Storage key prefix, with the trailing `/` (`/registry/pods/`).
    pub(crate) prefix: String,
    /// Selectable fields beyond `metadata.name`/`metadata.namespace`.
    pub(crate) fields: &'static [FieldSpec],
    /// Whether objects are namespaced (then `metadata.namespace` is selectable).
    pub(crate) namespaced: bool,
    /// Events kept for resuming watches.
    pub(crate) history_capacity: usize,
}

/// A consistent view of the cache at one revision.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub(crate) items: Items,
    pub(crate) revision: Revision,
}

/// A watch asked to resume from before the history window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooOld {
    /// The oldest revision a watch can resume from.
    pub(crate) oldest: Revision,
}

/// The cache could not serve a read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CacheError {
    /// The cache did not reach the wanted revision in time.
    #[error("too large resource version: {wanted}, current: {current}")]
    TooLargeResourceVersion { wanted: Revision, current: Revision },
    /// Storage failed.
    #[error("storage error")]
    Storage(#[from] storage::Error),
}

#[derive(Debug)]
struct State {
    items: Items,
    /// The revision the cache has caught up to: every change with a revision at or
    /// below it is in `items` and `history`.
    revision: Revision,
    /// Events in revision order; every event with a revision above `resumable_from`
    /// is here.
    history: VecDeque<Arc<CachedEvent>>,
    resumable_from: Revision,
    capacity: usize,
    /// Bytes of object JSON the history keeps alive (old versions included).
    history_bytes: usize,
}

/// The most bytes of object JSON one cache's history keeps: large objects written
/// often shorten the window instead of growing memory without bound.
const MAX_HISTORY_BYTES: usize = 256 * 1024 * 1024;

fn event_bytes(e: &CachedEvent) -> usize {
    e.object.bytes().len() + e.prev.as_ref().map_or(0, |p| p.bytes().len())
}

/// The watch cache of one resource. See the [module docs](self).
#[derive(Debug)]
pub(crate) struct WatchCache {
    spec: CacheSpec,
    storage: Arc<dyn Storage>,
    state: RwLock<State>,
    /// The cache's revision, for waiters (watchers and consistent reads).
    observed: watch::Sender<Revision>,
    progress: Mutex<Option<Box<dyn ProgressRequester>>>,
    snapshots: Mutex<VecDeque<(Revision, Instant, Items)>>,
    /// What writers of this server already parsed, by key: the cache takes it instead
    /// of parsing the stored value again, when the event carries the very buffer the
    /// writer stored (the in-memory backend hands it through; other backends never
    /// match and the cache parses). The hint keeps its buffer alive, so a buffer
    /// address cannot be reused by another value while the hint exists.
    hints: Mutex<std::collections::HashMap<String, (bytes::Bytes, View)>>,
}

/// Hints kept at most (writes that failed leave theirs behind until the next write of
/// the key or until this many accumulate).
const MAX_HINTS: usize = 4096;

impl WatchCache {
    /// Loads the resource from storage and starts following it; the task stops when
    /// `shutdown` is cancelled.
    pub(crate) async fn start(
        storage: Arc<dyn Storage>,
        spec: CacheSpec,
        shutdown: CancellationToken,
        tasks: &tokio_util::task::TaskTracker,
    ) -> Result<Arc<Self>, storage::Error> {
        let capacity = spec.history_capacity.max(1);
        let cache = Arc::new(WatchCache {
            spec,
            storage,
            state: RwLock::new(State {
                items: Items::new(),
                revision: 0,
                history: VecDeque::new(),
                resumable_from: 0,
                capacity,
                history_bytes: 0,
            }),
            observed: watch::Sender::new(0),
            progress: Mutex::new(None),
            snapshots: Mutex::new(VecDeque::new()),
            hints: Mutex::new(std::collections::HashMap::new()),
        });
        let rev = cache.reload().await?;
        let span = tracing::debug_span!("watch_cache", prefix = %cache.spec.prefix);
        tasks.spawn(tracing::Instrument::instrument(
            cache.clone().follow(rev, shutdown),
            span,
        ));
        Ok(cache)
    }

    /// Replaces the state with a fresh list from storage; history restarts there.
    async fn reload(&self) -> Result<Revision, storage::Error> {
        let list = self.storage.range(&self.spec.prefix, None, 0, 0).await?;
        let mut items = Items::new();
        for kv in &list.kvs {
            match CachedObject::from_kv(kv, &self.spec) {
                Ok(obj) => {
                    items.insert(kv.key.clone(), Arc::new(obj));
                }
                Err(e) => {
                    tracing::error!(key = %kv.key, error = %e, "skipping undecodable stored object")
                }
            }
        }
        {
            let mut st = self.state.write();
            st.items = items;
            st.revision = list.revision;
            st.history.clear();
            st.history_bytes = 0;
            st.resumable_from = list.revision;
        }
        self.snapshots.lock().clear();
        self.observed.send_replace(list.revision);
        Ok(list.revision)
    }

    async fn follow(self: Arc<Self>, mut rev: Revision, shutdown: CancellationToken) {
        loop {
            let watch = self.storage.watch(&self.spec.prefix, rev + 1);
            *self.progress.lock() = Some(watch.progress);
            let mut stream = watch.stream;
            let failure = loop {
                let item = tokio::select! {
                    item = stream.next() => item,
                    () = shutdown.cancelled() => return,
                };
                match item {
                    Some(Ok(WatchItem::Events(events))) => self.apply(events),
                    Some(Ok(WatchItem::Progress(p))) => self.advance(p),
                    Some(Err(e)) => break e,
                    // A stream that ends without an error (a lost connection to a remote
                    // store) is as bad as one that fails: reload, unless shutting down.
                    None if shutdown.is_cancelled() => return,
                    None => break storage::Error::Unavailable("storage watch ended".into()),
                }
            };
            tracing::warn!(error = %failure, "storage watch failed; reloading the cache");
            rev = loop {
                match self.reload().await {
                    Ok(rev) => break rev,
                    Err(e) => {
                        tracing::warn!(error = %e, "cache reload failed; retrying");
                        tokio::select! {
                            () = tokio::time::sleep(Duration::from_secs(1)) => {}
                            () = shutdown.cancelled() => return,
                        }
                    }
                }
            };
        }
    }

    fn apply(&self, events: Vec<storage::Event>) {
        // Parse outside the lock; objects that cannot be decoded are logged and skipped
        // (they were written by something other than this server).
        let mut parsed = Vec::with_capacity(events.len());
        for e in &events {
            let hinted = match e.kind {
                EventKind::Put => self.take_hint(&e.kv),
                EventKind::Delete => None,
            };
            if let Some((view, served)) = hinted {
                parsed.push(Some(Arc::new(CachedObject::from_view(view, served))));
                continue;
            }
            let obj = match e.kind {
                EventKind::Put => match CachedObject::from_kv(&e.kv, &self.spec) {
                    Ok(o) => Some(Arc::new(o)),
                    Err(err) => {
                        tracing::error!(key = %e.kv.key, error = %err, "undecodable stored object");
                        None
                    }
                },
                EventKind::Delete => None,
            };
            parsed.push(obj);
        }
        let last = {
            let mut st = self.state.write();
            for (e, obj) in events.iter().zip(parsed) {
                let rev = e.revision();
                let key = &e.kv.key;
                let event = match (e.kind, obj) {
                    (EventKind::Put, Some(obj)) => {
                        let prev = st.items.insert(key.clone(), obj.clone());
                        let kind = if prev.is_some() {
                            EventType::Modified
                        } else {
                            EventType::Added
                        };
                        CachedEvent::new(kind, rev, obj, prev)
                    }
                    (EventKind::Put, None) => {
                        // Treat an undecodable write as the object's removal from the cache.
                        match st.items.remove(key) {
                            Some(prev) => {
                                CachedEvent::new(EventType::Deleted, rev, prev.clone(), Some(prev))
                            }
                            None => {
                                st.revision = rev;
                                continue;
                            }
                        }
                    }
                    (EventKind::Delete, _) => match st.items.remove(key) {
                        Some(prev) => {
                            CachedEvent::new(EventType::Deleted, rev, prev.clone(), Some(prev))
                        }
                        None => {
                            st.revision = rev;
                            continue;
                        }
                    },
                };
                st.history_bytes += event_bytes(&event);
                st.history.push_back(Arc::new(event));
                st.revision = rev;
            }
            while st.history.len() > st.capacity || st.history_bytes > MAX_HISTORY_BYTES {
                match st.history.pop_front() {
                    Some(old) => {
                        st.history_bytes -= event_bytes(&old);
                        st.resumable_from = old.revision;
                    }
                    None => break,
                }
            }
            st.revision
        };
        self.observed.send_replace(last);
    }

    /// Tells the cache what a writer of this server parsed from an object it is about to
    /// store as `value` under `key`.
    pub(crate) fn hint(
        &self,
        key: &str,
        value: &bytes::Bytes,
        obj: &serde_json::Map<String, serde_json::Value>,
    ) {
        let view = View::of_object(obj, &self.spec);
        let mut hints = self.hints.lock();
        if hints.len() >= MAX_HINTS {
            hints.clear();
        }
        hints.insert(key.to_owned(), (value.clone(), view));
    }

    /// The writer's view of a stored value, if this is the buffer it stored.
    fn take_hint(&self, kv: &crate::storage::KeyValue) -> Option<(View, crate::object::Served)> {
        let view = {
            let mut hints = self.hints.lock();
            match hints.get(&kv.key) {
                Some((buf, _))
                    if buf.as_ptr() == kv.value.as_ptr() && buf.len() == kv.value.len() =>
                {
                    hints.remove(&kv.key).map(|(_, view)| view)
                }
                _ => None,
            }
        }?;
        let served = crate::object::with_resource_version(&kv.value, kv.mod_revision).ok()?;
        Some((view, served))
    }

    fn advance(&self, rev: Revision) {
        let changed = {
            let mut st = self.state.write();
            if rev > st.revision {
                st.revision = rev;
                true
            } else {
                false
            }
        };
        if changed {
            self.observed.send_replace(rev);
        }
    }

    /// The revision the cache has caught up to.
    pub(crate) fn revision(&self) -> Revision {
        self.state.read().revision
    }

    /// Receives the cache's revision as it advances (for watchers).
    pub(crate) fn subscribe(&self) -> watch::Receiver<Revision> {
        self.observed.subscribe()
    }

    /// Waits until the cache has caught up to `rev`.
    ///
    /// # Errors
    ///
    /// [`CacheError::TooLargeResourceVersion`] if it does not within 3 s.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropping the future only stops waiting.
    pub(crate) async fn wait_for(&self, rev: Revision) -> Result<(), CacheError> {
        if self.revision() >= rev {
            return Ok(());
        }
        let mut rx = self.subscribe();
        if let Some(p) = self.progress.lock().as_ref() {
            p.request_progress();
        }
        let waited = tokio::time::timeout(FRESHNESS_TIMEOUT, rx.wait_for(|r| *r >= rev)).await;
        match waited {
            Ok(Ok(_)) => Ok(()),
            _ => Err(CacheError::TooLargeResourceVersion {
                wanted: rev,
                current: self.revision(),
            }),
        }
    }

    /// Waits until the cache reflects every write made so far (a consistent read), and
    /// returns the storage revision it is now at least at.
    ///
    /// # Errors
    ///
    /// Storage failures, or a cache that does not catch up in time.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe.
    pub(crate) async fn wait_fresh(&self) -> Result<Revision, CacheError> {
        let current = self.storage.current_revision().await?;
        self.wait_for(current).await?;
        Ok(current)
    }

    /// The current state (O(1)).
    pub(crate) fn snapshot(&self) -> Snapshot {
        let st = self.state.read();
        Snapshot {
            items: st.items.clone(),
            revision: st.revision,
        }
    }

    /// One object by storage key.
    pub(crate) fn get(&self, key: &str) -> Option<Arc<CachedObject>> {
        self.state.read().items.get(key).cloned()
    }

    /// Events with a revision above `after`, at most `max` of them, and the cache's
    /// revision at the same instant: when no events come back, everything up to that
    /// revision has been seen.
    ///
    /// # Errors
    ///
    /// [`TooOld`] if events after `after` have left the history window.
    pub(crate) fn events_after_with_revision(
        &self,
        after: Revision,
        max: usize,
    ) -> Result<(Vec<Arc<CachedEvent>>, Revision), TooOld> {
        let st = self.state.read();
        if after < st.resumable_from {
            return Err(TooOld {
                oldest: st.resumable_from,
            });
        }
        let start = st.history.partition_point(|e| e.revision <= after);
        let events = st.history.iter().skip(start).take(max).cloned().collect();
        Ok((events, st.revision))
    }

    /// Forgets the history: every watch resuming from before now gets 410 Gone (fault
    /// injection, and what a storage compaction past the window means).
    pub(crate) fn drop_history(&self) {
        let mut st = self.state.write();
        st.history.clear();
        st.history_bytes = 0;
        st.resumable_from = st.revision;
        drop(st);
        self.snapshots.lock().clear();
    }

    /// Keeps `snapshot` for the following pages of a paginated list.
    pub(crate) fn remember_snapshot(&self, snapshot: &Snapshot) {
        let now = Instant::now();
        let mut snaps = self.snapshots.lock();
        snaps.retain(|(_, at, _)| now.duration_since(*at) < SNAPSHOT_TTL);
        if snaps.iter().any(|(rev, _, _)| *rev == snapshot.revision) {
            return;
        }
        if snaps.len() >= SNAPSHOTS_KEPT {
            snaps.pop_front();
        }
        snaps.push_back((snapshot.revision, now, snapshot.items.clone()));
    }

    /// The state at exactly `rev`, if a paginated list kept it, or if nothing changed
    /// since.
    pub(crate) fn snapshot_at(&self, rev: Revision) -> Option<Snapshot> {
        if let Some((_, _, items)) = self.snapshots.lock().iter().find(|(r, _, _)| *r == rev) {
            return Some(Snapshot {
                items: items.clone(),
                revision: rev,
            });
        }
        // If the resource has not changed since `rev`, the current state is the state at
        // `rev`.
        let st = self.state.read();
        let last_change = st.history.back().map_or(st.resumable_from, |e| e.revision);
        (rev >= last_change && rev <= st.revision).then(|| Snapshot {
            items: st.items.clone(),
            revision: rev,
        })
    }
}

impl WatchCache {
    /// The state at exactly `rev` read from storage, for list pages whose snapshot
    /// the cache no longer keeps. Only keys at or after `start` under `prefix` are read.
    pub(crate) async fn snapshot_from_storage(
        &self,
        prefix: &str,
        start: Option<&str>,
        rev: Revision,
    ) -> Result<Snapshot, storage::Error> {
        let list = self.storage.range(prefix, start, rev, 0).await?;
        let mut items = Items::new();
        for kv in &list.kvs {
            match CachedObject::from_kv(kv, &self.spec) {
                Ok(obj) => {
                    items.insert(kv.key.clone(), Arc::new(obj));
                }
                Err(e) => {
                    tracing::error!(key = %kv.key, error = %e, "skipping undecodable stored object")
                }
            }
        }
        Ok(Snapshot {
            items,
            revision: list.revision,
        })
    }
}
