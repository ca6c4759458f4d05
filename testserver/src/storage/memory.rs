//! The in-memory backend: a multi-version map plus an event log, the default storage
//! of `TestServer` and of the standalone server without `--etcd-servers`.
//!
//! # Design
//!
//! One `State` behind one mutex holds the whole store: every key's versions (its
//! history since the last compaction), the log of every change since the last
//! compaction, and the registered watchers. A write appends to all three in one
//! critical section, so revisions, versions, log and watcher queues can never
//! disagree.
//!
//! Watchers are fed the way etcd feeds them: a *synced* watcher gets matching events
//! pushed onto its own queue at commit time (so a commit costs one prefix comparison
//! per watcher, and idle watchers are never woken); a watcher that starts in the past,
//! or whose queue overflows because its reader is slow, is *unsynced* and catches up
//! by reading the log from its next revision, then becomes synced again. No queue
//! grows without bound and no event is skipped or repeated.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::Bound;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::Notify;

use super::{
    Error, Event, EventKind, KeyValue, ProgressRequester, RangeResult, Result, Revision, Storage,
    Watch, WatchItem,
};

/// How many events a synced watcher may have queued before it is switched to
/// catching up from the log (its reader is slow).
const WATCHER_QUEUE_LIMIT: usize = 4096;

/// How many events one catch-up read takes from the log under the lock, so a far
/// behind watcher cannot stall writers for long.
const CATCH_UP_BATCH: usize = 1024;

/// One version of a key.
#[derive(Debug, Clone)]
struct Version {
    mod_revision: Revision,
    create_revision: Revision,
    version: i64,
    /// `None` marks the key deleted at `mod_revision` (a tombstone).
    value: Option<Bytes>,
}

#[derive(Debug)]
enum Feed {
    /// Every matching event is pushed to `queue` at commit time.
    Synced,
    /// Events from `next` on must still be read from the log.
    CatchingUp { next: Revision },
}

#[derive(Debug)]
struct Watcher {
    prefix: String,
    feed: Feed,
    queue: VecDeque<Event>,
    progress_requested: bool,
    notify: Arc<Notify>,
}

#[derive(Debug, Default)]
struct State {
    /// Revision of the last write; 0 before the first.
    revision: Revision,
    /// Revisions before this have been compacted away; the state at it is readable.
    compacted: Revision,
    /// Every key's versions with `mod_revision` ascending. After a compaction at `c`,
    /// a key keeps its newest version at or before `c` (unless it is a tombstone)
    /// and everything after.
    keys: BTreeMap<String, Vec<Version>>,
    /// Every change with revision > `log_start - 1`, one per revision, in order:
    /// `log[i]` has revision `log_start + i`.
    log: VecDeque<Event>,
    log_start: Revision,
    watchers: HashMap<u64, Watcher>,
    next_watcher: u64,
}

impl State {
    fn check_read_revision(&self, revision: Revision) -> Result<Revision> {
        if revision == 0 {
            return Ok(self.revision);
        }
        if revision < self.compacted {
            return Err(Error::Compacted {
                requested: revision,
                compacted: self.compacted,
            });
        }
        if revision > self.revision {
            return Err(Error::FutureRevision {
                requested: revision,
                current: self.revision,
            });
        }
        Ok(revision)
    }

    /// The live version of `key` at `revision`, as a key-value.
    fn read(&self, key: &str, revision: Revision) -> Option<KeyValue> {
        let versions = self.keys.get(key)?;
        let idx = versions.partition_point(|v| v.mod_revision <= revision);
        let v = versions.get(idx.checked_sub(1)?)?;
        let value = v.value.clone()?;
        Some(KeyValue {
            key: key.to_owned(),
            value,
            create_revision: v.create_revision,
            mod_revision: v.mod_revision,
            version: v.version,
        })
    }

    fn latest(&self, key: &str) -> Option<KeyValue> {
        self.read(key, self.revision)
    }

    /// Applies a change at the next revision: version history, log, watcher queues.
    /// Returns the watchers to wake, to be notified after the lock is released.
    fn commit(
        &mut self,
        key: &str,
        value: Option<Bytes>,
        prev: Option<KeyValue>,
    ) -> (Event, Vec<Arc<Notify>>) {
        self.revision += 1;
        let rev = self.revision;
        let (create_revision, version) = match (&value, &prev) {
            (Some(_), Some(p)) => (p.create_revision, p.version + 1),
            (Some(_), None) => (rev, 1),
            (None, _) => (0, 0),
        };
        self.keys.entry(key.to_owned()).or_default().push(Version {
            mod_revision: rev,
            create_revision,
            version,
            value: value.clone(),
        });
        let event = Event {
            kind: if value.is_some() {
                EventKind::Put
            } else {
                EventKind::Delete
            },
            kv: KeyValue {
                key: key.to_owned(),
                value: value.unwrap_or_default(),
                create_revision,
                mod_revision: rev,
                version,
            },
            prev_kv: prev,
        };
        if self.log.is_empty() {
            self.log_start = rev;
        }
        self.log.push_back(event.clone());
        let mut wake = Vec::new();
        for w in self.watchers.values_mut() {
            if !key.starts_with(&w.prefix) {
                continue;
            }
            if let Feed::Synced = w.feed {
                if w.queue.len() < WATCHER_QUEUE_LIMIT {
                    w.queue.push_back(event.clone());
                } else {
                    // The reader is slow: stop queueing and let it catch up from the log,
                    // starting with the oldest event it has not taken yet.
                    let next = w.queue.front().map_or(rev, Event::revision);
                    w.queue.clear();
                    w.feed = Feed::CatchingUp { next };
                }
            }
            wake.push(w.notify.clone());
        }
        (event, wake)
    }

    /// Takes what watcher `id` should deliver next, or `None` to wait.
    fn poll_watcher(&mut self, id: u64) -> Option<Result<WatchItem>> {
        let current = self.revision;
        let compacted = self.compacted;
        let log_start = self.log_start;
        let w = self.watchers.get_mut(&id)?;
        if let Feed::CatchingUp { next } = w.feed {
            if next > current + 1 {
                // Started at a future revision: nothing to deliver until it is reached.
                return None;
            }
            if next < compacted || (next < log_start && next <= current) {
                return Some(Err(Error::Compacted {
                    requested: next,
                    compacted,
                }));
            }
            let mut events = Vec::new();
            let mut rev = next;
            while rev <= current && events.len() < CATCH_UP_BATCH {
                // `rev >= log_start` holds here: checked above, and `rev` only grows.
                let idx = (rev - log_start) as usize;
                if let Some(e) = self.log.get(idx)
                    && e.kv.key.starts_with(&w.prefix)
                {
                    events.push(e.clone());
                }
                rev += 1;
            }
            if rev > current {
                // Caught up: commits from now on are queued for us.
                w.feed = Feed::Synced;
            } else {
                w.feed = Feed::CatchingUp { next: rev };
                // More to read: make sure the reader comes back without a commit.
                w.notify.notify_one();
            }
            if !events.is_empty() {
                return Some(Ok(WatchItem::Events(events)));
            }
        }
        if !w.queue.is_empty() {
            return Some(Ok(WatchItem::Events(w.queue.drain(..).collect())));
        }
        if w.progress_requested && matches!(w.feed, Feed::Synced) {
            w.progress_requested = false;
            return Some(Ok(WatchItem::Progress(current)));
        }
        None
    }
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
}

impl Shared {
    fn wake(wake: Vec<Arc<Notify>>) {
        for n in wake {
            n.notify_one();
        }
    }
}

/// The in-memory [`Storage`]. Cheap to clone; clones share the store.
#[derive(Debug, Clone, Default)]
pub struct MemoryStorage {
    shared: Arc<Shared>,
}

impl MemoryStorage {
    /// An empty store at revision 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many keys currently exist (for tests and metrics).
    pub fn len(&self) -> usize {
        let st = self.shared.state.lock();
        st.keys
            .values()
            .filter(|v| v.last().is_some_and(|v| v.value.is_some()))
            .count()
    }

    /// Whether no key exists.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl Storage for MemoryStorage {
    async fn get(&self, key: &str, revision: Revision) -> Result<(Option<KeyValue>, Revision)> {
        let st = self.shared.state.lock();
        let rev = st.check_read_revision(revision)?;
        Ok((st.read(key, rev), rev))
    }

    async fn range(
        &self,
        prefix: &str,
        start: Option<&str>,
        revision: Revision,
        limit: usize,
    ) -> Result<RangeResult> {
        let st = self.shared.state.lock();
        let rev = st.check_read_revision(revision)?;
        let from = match start {
            Some(s) if s > prefix => Bound::Included(s),
            _ => Bound::Included(prefix),
        };
        let mut kvs = Vec::new();
        let mut count = 0;
        for (key, _) in st.keys.range::<str, _>((from, Bound::Unbounded)) {
            if !key.starts_with(prefix) {
                break;
            }
            let Some(kv) = st.read(key, rev) else {
                continue;
            };
            count += 1;
            if limit == 0 || kvs.len() < limit {
                kvs.push(kv);
            }
        }
        let more = count > kvs.len();
        Ok(RangeResult {
            kvs,
            more,
            count,
            revision: rev,
        })
    }

    async fn create(&self, key: &str, value: Bytes) -> Result<KeyValue> {
        let (event, wake) = {
            let mut st = self.shared.state.lock();
            if st.latest(key).is_some() {
                return Err(Error::KeyExists {
                    key: key.to_owned(),
                });
            }
            st.commit(key, Some(value), None)
        };
        Shared::wake(wake);
        Ok(event.kv)
    }

    async fn update(&self, key: &str, value: Bytes, expected: Revision) -> Result<KeyValue> {
        let (event, wake) = {
            let mut st = self.shared.state.lock();
            let current = st.latest(key);
            match &current {
                Some(kv) if kv.mod_revision == expected => {}
                _ => {
                    return Err(Error::Conflict {
                        key: key.to_owned(),
                        expected,
                        current: current.map(Box::new),
                    });
                }
            }
            st.commit(key, Some(value), current)
        };
        Shared::wake(wake);
        Ok(event.kv)
    }

    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<(KeyValue, Revision)> {
        let (event, wake) = {
            let mut st = self.shared.state.lock();
            let Some(current) = st.latest(key) else {
                return Err(Error::KeyNotFound {
                    key: key.to_owned(),
                });
            };
            if let Some(expected) = expected
                && current.mod_revision != expected
            {
                return Err(Error::Conflict {
                    key: key.to_owned(),
                    expected,
                    current: Some(Box::new(current)),
                });
            }
            st.commit(key, None, Some(current))
        };
        Shared::wake(wake);
        let rev = event.revision();
        let prev = event
            .prev_kv
            .ok_or_else(|| Error::Corrupt("delete without previous value".into()))?;
        Ok((prev, rev))
    }

    async fn current_revision(&self) -> Result<Revision> {
        Ok(self.shared.state.lock().revision)
    }

    async fn compact(&self, revision: Revision) -> Result<()> {
        let wake = {
            let mut st = self.shared.state.lock();
            if revision < st.compacted {
                return Err(Error::Compacted {
                    requested: revision,
                    compacted: st.compacted,
                });
            }
            if revision > st.revision {
                return Err(Error::FutureRevision {
                    requested: revision,
                    current: st.revision,
                });
            }
            st.compacted = revision;
            st.keys.retain(|_, versions| {
                // Keep the newest version at or before `revision` (if live) and all after.
                let idx = versions.partition_point(|v| v.mod_revision <= revision);
                let keep_from = match idx.checked_sub(1) {
                    Some(i) if versions[i].value.is_some() => i,
                    Some(i) => i + 1,
                    None => 0,
                };
                versions.drain(..keep_from);
                !versions.is_empty()
            });
            while st.log.front().is_some_and(|e| e.revision() < revision) {
                st.log.pop_front();
                st.log_start += 1;
            }
            if st.log.is_empty() {
                st.log_start = st.revision + 1;
            }
            // Watchers still catching up from before the compaction must learn it.
            st.watchers
                .values()
                .filter(|w| matches!(w.feed, Feed::CatchingUp { next } if next < revision))
                .map(|w| w.notify.clone())
                .collect::<Vec<_>>()
        };
        Shared::wake(wake);
        Ok(())
    }

    fn watch(&self, prefix: &str, start: Revision) -> Watch {
        let notify = Arc::new(Notify::new());
        let id = {
            let mut st = self.shared.state.lock();
            let id = st.next_watcher;
            st.next_watcher += 1;
            let feed = if start == 0 || start > st.revision {
                // Nothing to replay: changes from the next commit on are queued. A start in
                // the future simply waits for that revision (events before it are skipped).
                if start > st.revision + 1 {
                    Feed::CatchingUp { next: start }
                } else {
                    Feed::Synced
                }
            } else {
                Feed::CatchingUp { next: start }
            };
            st.watchers.insert(
                id,
                Watcher {
                    prefix: prefix.to_owned(),
                    feed,
                    queue: VecDeque::new(),
                    progress_requested: false,
                    notify: notify.clone(),
                },
            );
            id
        };
        // Pending catch-up work must not wait for a commit.
        notify.notify_one();
        let guard = WatcherGuard {
            shared: self.shared.clone(),
            id,
        };
        let stream =
            futures::stream::unfold((guard, notify, false), |(guard, notify, done)| async move {
                if done {
                    return None;
                }
                loop {
                    let item = guard.shared.state.lock().poll_watcher(guard.id);
                    match item {
                        Some(Err(e)) => return Some((Err(e), (guard, notify, true))),
                        Some(Ok(item)) => return Some((Ok(item), (guard, notify, false))),
                        None => notify.notified().await,
                    }
                }
            });
        Watch {
            stream: Box::pin(stream),
            progress: Box::new(MemoryProgress {
                shared: self.shared.clone(),
                id,
            }),
        }
    }
}

/// Unregisters a watcher when its stream is dropped.
#[derive(Debug)]
struct WatcherGuard {
    shared: Arc<Shared>,
    id: u64,
}

impl Drop for WatcherGuard {
    fn drop(&mut self) {
        self.shared.state.lock().watchers.remove(&self.id);
    }
}

#[derive(Debug)]
struct MemoryProgress {
    shared: Arc<Shared>,
    id: u64,
}

impl ProgressRequester for MemoryProgress {
    fn request_progress(&self) {
        let notify = {
            let mut st = self.shared.state.lock();
            st.watchers.get_mut(&self.id).map(|w| {
                w.progress_requested = true;
                w.notify.clone()
            })
        };
        if let Some(n) = notify {
            n.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::conformance;

    #[tokio::test]
    async fn memory_storage_passes_the_conformance_suite() {
        conformance::run_all(|| async { MemoryStorage::new() }).await;
    }
}
