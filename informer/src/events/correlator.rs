//! client-go's event correlator (`tools/record`): a spam filter and message
//! aggregation, in front of whichever API the events are written to.
//!
//! Pure logic: every decision takes the current [`Instant`] as an argument, so the
//! unit tests drive time by hand.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::Hash;
use std::time::Duration;

use tokio::time::Instant;

use super::{EventType, ObjectReference};

/// A map that forgets its least recently used entry past `cap` entries (client-go
/// keeps every correlator cache in a 4096-entry LRU).
#[derive(Debug)]
pub(crate) struct Lru<K, V> {
    cap: usize,
    /// Each entry with the tick of its last use; the tick is the entry's key in `order`.
    map: HashMap<K, (V, u64)>,
    /// Ticks of last use, oldest first; one per entry of `map`.
    order: BTreeMap<u64, K>,
    tick: u64,
}

impl<K: Hash + Eq + Clone, V> Lru<K, V> {
    pub(crate) fn new(cap: usize) -> Self {
        Lru {
            cap: cap.max(1),
            map: HashMap::new(),
            order: BTreeMap::new(),
            tick: 0,
        }
    }

    fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    /// The entry for `key`, marked as just used.
    pub(crate) fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        let tick = self.next_tick();
        let (_, used) = self.map.get_mut(key)?;
        let old = std::mem::replace(used, tick);
        if let Some(k) = self.order.remove(&old) {
            self.order.insert(tick, k);
        }
        self.map.get_mut(key).map(|(v, _)| v)
    }

    /// The entry for `key`, made with `make` when there is none; marked as just used.
    pub(crate) fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V {
        if self.get_mut(&key).is_none() {
            self.insert(key.clone(), make());
        }
        &mut self
            .map
            .get_mut(&key)
            .expect("the entry was just found or inserted as the newest, so not evicted")
            .0
    }

    /// Inserts or replaces `key`, evicting the least recently used entry if full.
    pub(crate) fn insert(&mut self, key: K, value: V) {
        let tick = self.next_tick();
        if let Some((_, old)) = self.map.insert(key.clone(), (value, tick)) {
            self.order.remove(&old);
        } else if self.map.len() > self.cap
            && let Some((_, evicted)) = self.order.pop_first()
        {
            self.map.remove(&evicted);
        }
        self.order.insert(tick, key);
    }

    /// Forgets `key`.
    pub(crate) fn remove(&mut self, key: &K) -> Option<V> {
        let (value, tick) = self.map.remove(key)?;
        self.order.remove(&tick);
        Some(value)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

/// The regarding object as the correlator keys it: without `resourceVersion` and
/// `fieldPath`, so that every change of the object counts against the same budget.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ObjectKey {
    api_version: Option<String>,
    kind: Option<String>,
    namespace: Option<String>,
    name: Option<String>,
    uid: Option<String>,
}

impl From<&ObjectReference> for ObjectKey {
    fn from(r: &ObjectReference) -> Self {
        ObjectKey {
            api_version: r.api_version.clone(),
            kind: r.kind.clone(),
            namespace: r.namespace.clone(),
            name: r.name.clone(),
            uid: r.uid.clone(),
        }
    }
}

// The reporter is in every key upstream (source component and host); here each
// recorder has one reporter and caches of its own, so it is part of the key by
// construction.

/// Spam-filter key: one token bucket per object and event type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct SpamKey {
    object: ObjectKey,
    type_: EventType,
}

/// Aggregation key: events that differ only by their note.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct AggregateKey {
    object: ObjectKey,
    type_: EventType,
    reason: String,
}

/// Settings of the correlator; [`Default`] is client-go's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CorrelatorConfig {
    /// Entries per cache.
    pub(crate) cache_size: usize,
    /// Events an object may get in a burst.
    pub(crate) spam_burst: u32,
    /// One more event allowed per this long.
    pub(crate) spam_refill: Duration,
    /// Distinct notes of one aggregation key before they are combined.
    pub(crate) aggregate_max: usize,
    /// How long since the last similar event before the count starts again.
    pub(crate) aggregate_window: Duration,
}

impl Default for CorrelatorConfig {
    fn default() -> Self {
        CorrelatorConfig {
            cache_size: 4096,
            spam_burst: 25,
            spam_refill: Duration::from_secs(300),
            aggregate_max: 10,
            aggregate_window: Duration::from_secs(600),
        }
    }
}

/// A token bucket: `tokens` as of `updated`.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// How similar events about one object were seen lately.
#[derive(Debug)]
struct Similar {
    /// Distinct notes seen, at most `aggregate_max` of them.
    notes: HashSet<String>,
    last: Instant,
}

/// What the correlator decided for one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Write it, with this note.
    Write {
        /// The note to write: the event's own, or the combined one.
        note: String,
        /// Whether the note stands for several similar events.
        combined: bool,
    },
    /// The object's spam budget is spent: drop it.
    Drop,
}

/// The prefix of a note that stands for several similar events (client-go's words).
pub(crate) const COMBINED_PREFIX: &str = "(combined from similar events): ";

/// Spam filter plus aggregation.
#[derive(Debug)]
pub(crate) struct Correlator {
    config: CorrelatorConfig,
    buckets: Lru<SpamKey, Bucket>,
    similar: Lru<AggregateKey, Similar>,
}

impl Correlator {
    pub(crate) fn new(config: CorrelatorConfig) -> Self {
        Correlator {
            buckets: Lru::new(config.cache_size),
            similar: Lru::new(config.cache_size),
            config,
        }
    }

    /// Decides what becomes of an event about `regarding`.
    ///
    /// Aggregation comes first, as upstream, so a combined event spends the object's
    /// budget like any other. Upstream counts a repeat in its dedup cache before the
    /// spam filter drops it; we filter first, so a dropped event counts nowhere.
    pub(crate) fn correlate(
        &mut self,
        regarding: &ObjectReference,
        type_: EventType,
        reason: &str,
        note: &str,
        now: Instant,
    ) -> Verdict {
        let object = ObjectKey::from(regarding);
        let combined = self.aggregate(
            AggregateKey {
                object: object.clone(),
                type_,
                reason: reason.to_owned(),
            },
            note,
            now,
        );
        if !self.allow(SpamKey { object, type_ }, now) {
            return Verdict::Drop;
        }
        if combined {
            Verdict::Write {
                note: format!("{COMBINED_PREFIX}{note}"),
                combined: true,
            }
        } else {
            Verdict::Write {
                note: note.to_owned(),
                combined: false,
            }
        }
    }

    /// Takes a token from the key's bucket; `false` when there is none.
    fn allow(&mut self, key: SpamKey, now: Instant) -> bool {
        let burst = f64::from(self.config.spam_burst);
        let refill = self.config.spam_refill.as_secs_f64();
        let bucket = self.buckets.get_or_insert_with(key, || Bucket {
            tokens: burst,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        let earned = if refill > 0.0 {
            elapsed / refill
        } else {
            burst
        };
        bucket.tokens = (bucket.tokens + earned).min(burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Records `note` under `key`; `true` when the event is to be combined.
    ///
    /// Upstream combines once its set of distinct notes reaches the limit, then
    /// removes an arbitrary note so the set stays bounded, which lets a repeat of an
    /// old note through uncombined now and then. We keep the set full instead: from
    /// the limit on, every similar event is combined until the window passes without
    /// one.
    fn aggregate(&mut self, key: AggregateKey, note: &str, now: Instant) -> bool {
        let window = self.config.aggregate_window;
        let max = self.config.aggregate_max;
        match self.similar.get_mut(&key) {
            Some(s) if now.saturating_duration_since(s.last) <= window => {
                if s.notes.len() < max {
                    s.notes.insert(note.to_owned());
                }
                s.last = now;
                s.notes.len() >= max
            }
            _ => {
                let notes = HashSet::from([note.to_owned()]);
                let combined = notes.len() >= max;
                self.similar.insert(key, Similar { notes, last: now });
                combined
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str) -> ObjectReference {
        ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("Pod".into()),
            namespace: Some("default".into()),
            name: Some(name.into()),
            ..ObjectReference::default()
        }
    }

    fn written(v: &Verdict) -> bool {
        matches!(v, Verdict::Write { .. })
    }

    #[test]
    fn lru_evicts_the_least_recently_used_entry() {
        let mut lru = Lru::new(2);
        lru.insert("a", 1);
        lru.insert("b", 2);
        // Touch `a`: `b` is now the oldest.
        assert_eq!(lru.get_mut(&"a").copied(), Some(1));
        lru.insert("c", 3);
        assert_eq!(lru.len(), 2);
        assert!(lru.get_mut(&"b").is_none());
        assert_eq!(lru.get_mut(&"a").copied(), Some(1));
        assert_eq!(lru.get_mut(&"c").copied(), Some(3));
        // Replacing a key keeps the size.
        lru.insert("c", 4);
        assert_eq!(lru.len(), 2);
        assert_eq!(lru.remove(&"c"), Some(4));
        assert_eq!(lru.len(), 1);
    }

    #[test]
    fn spam_filter_allows_the_burst_then_one_event_per_refill_period() {
        let mut c = Correlator::new(CorrelatorConfig::default());
        let t0 = Instant::now();
        let web = pod("web");
        for i in 0..25 {
            let v = c.correlate(&web, EventType::Normal, "Synced", "same", t0);
            assert!(written(&v), "event {i} of the burst is written");
        }
        let v = c.correlate(&web, EventType::Normal, "Synced", "same", t0);
        assert_eq!(v, Verdict::Drop, "the 26th is dropped");
        // Another object, and another type on the same object, have their own budget.
        assert!(written(&c.correlate(
            &pod("db"),
            EventType::Normal,
            "Synced",
            "same",
            t0
        )));
        assert!(written(&c.correlate(
            &web,
            EventType::Warning,
            "Failed",
            "same",
            t0
        )));
        // 299 s later: still no whole token.
        let t1 = t0 + Duration::from_secs(299);
        assert_eq!(
            c.correlate(&web, EventType::Normal, "Synced", "same", t1),
            Verdict::Drop
        );
        // 300 s after the last refill point: one token, then empty again.
        let t2 = t1 + Duration::from_secs(300);
        assert!(written(&c.correlate(
            &web,
            EventType::Normal,
            "Synced",
            "same",
            t2
        )));
        assert_eq!(
            c.correlate(&web, EventType::Normal, "Synced", "same", t2),
            Verdict::Drop
        );
    }

    #[test]
    fn tenth_distinct_note_within_the_window_is_combined() {
        let mut c = Correlator::new(CorrelatorConfig::default());
        let t0 = Instant::now();
        let web = pod("web");
        for i in 0..9 {
            let v = c.correlate(&web, EventType::Warning, "Failed", &format!("e{i}"), t0);
            assert_eq!(
                v,
                Verdict::Write {
                    note: format!("e{i}"),
                    combined: false
                }
            );
        }
        let v = c.correlate(&web, EventType::Warning, "Failed", "e9", t0);
        assert_eq!(
            v,
            Verdict::Write {
                note: format!("{COMBINED_PREFIX}e9"),
                combined: true
            }
        );
        // From now on even a note seen before is combined.
        let v = c.correlate(&web, EventType::Warning, "Failed", "e0", t0);
        assert!(matches!(v, Verdict::Write { combined: true, .. }));
        // Another reason is another aggregation key.
        let v = c.correlate(&web, EventType::Warning, "Other", "x", t0);
        assert!(matches!(
            v,
            Verdict::Write {
                combined: false,
                ..
            }
        ));
    }

    #[test]
    fn aggregation_starts_over_after_the_window_passes_quietly() {
        let mut c = Correlator::new(CorrelatorConfig::default());
        let t0 = Instant::now();
        let web = pod("web");
        for i in 0..10 {
            c.correlate(&web, EventType::Warning, "Failed", &format!("e{i}"), t0);
        }
        // Exactly at the window's end the record still counts…
        let t1 = t0 + Duration::from_secs(600);
        let v = c.correlate(&web, EventType::Warning, "Failed", "late", t1);
        assert!(matches!(v, Verdict::Write { combined: true, .. }));
        // …and past it (measured from the last similar event) it starts over.
        let t2 = t1 + Duration::from_secs(601);
        let v = c.correlate(&web, EventType::Warning, "Failed", "fresh", t2);
        assert_eq!(
            v,
            Verdict::Write {
                note: "fresh".into(),
                combined: false
            }
        );
    }

    #[test]
    fn spam_filter_ignores_resource_version_and_field_path() {
        let config = CorrelatorConfig {
            spam_burst: 1,
            ..CorrelatorConfig::default()
        };
        let mut c = Correlator::new(config);
        let t0 = Instant::now();
        let mut web = pod("web");
        web.resource_version = Some("1".into());
        assert!(written(&c.correlate(&web, EventType::Normal, "A", "n", t0)));
        web.resource_version = Some("2".into());
        web.field_path = Some("spec.containers{app}".into());
        assert_eq!(
            c.correlate(&web, EventType::Normal, "A", "n", t0),
            Verdict::Drop
        );
    }
}
