//! Which occurrences are repeats of an Event already written, and so become a PATCH:
//! series for `events.k8s.io/v1` (`tools/events`), counts for core `v1`
//! (`tools/record`'s event log).
//!
//! Pure logic, time passed in, as in [`correlator`](super::correlator).

use std::time::Duration;

use tokio::time::Instant;

use super::correlator::Lru;
use super::{EventType, ObjectReference};

/// How long a series lives without a recurrence (client-go's `finishTime`).
pub(crate) const FINISH_AFTER: Duration = Duration::from_secs(6 * 60);

/// What makes two `events.k8s.io` events isomorphic: everything but the note and the
/// times (the reporter is implied: one recorder, one reporter, one cache). The
/// references are compared whole, resourceVersion included, as client-go and kube-rs
/// compare them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct SeriesKey {
    pub(crate) regarding: ObjectReference,
    pub(crate) related: Option<ObjectReference>,
    pub(crate) type_: EventType,
    pub(crate) reason: String,
    pub(crate) action: String,
}

/// An Event on the server and how often it has occurred.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Written {
    pub(crate) namespace: String,
    pub(crate) name: String,
    /// Occurrences so far, the first included.
    pub(crate) count: i32,
    /// Core `v1` only: `firstTimestamp` of the first occurrence.
    pub(crate) first_timestamp: String,
}

/// What to do with an occurrence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// Nothing of its kind is live: create an Event.
    Create,
    /// A repeat: patch this Event to the new count.
    Patch(Written),
}

#[derive(Debug)]
struct Live {
    written: Written,
    last_seen: Instant,
}

/// Live `events.k8s.io/v1` series, by [`SeriesKey`].
///
/// client-go counts repeats in memory and writes the count when the series finishes
/// (or every 30 minutes); we patch on every repeat that passes the spam filter, as
/// kube-rs does, so the server's count is never behind and nothing is left to write
/// when a series finishes: it is simply forgotten.
#[derive(Debug)]
pub(crate) struct SeriesCache {
    live: Lru<SeriesKey, Live>,
}

impl SeriesCache {
    pub(crate) fn new(cap: usize) -> Self {
        SeriesCache {
            live: Lru::new(cap),
        }
    }

    /// Counts one occurrence of `key` at `now`.
    pub(crate) fn observe(&mut self, key: &SeriesKey, now: Instant) -> Step {
        match self.live.get_mut(key) {
            Some(live) if now.saturating_duration_since(live.last_seen) <= FINISH_AFTER => {
                live.written.count = live.written.count.saturating_add(1);
                live.last_seen = now;
                Step::Patch(live.written.clone())
            }
            Some(_) => {
                // Finished: the next occurrence starts a new Event.
                self.live.remove(key);
                Step::Create
            }
            None => Step::Create,
        }
    }

    /// Records that the Event for `key` now exists as `written`.
    pub(crate) fn written(&mut self, key: SeriesKey, written: Written, now: Instant) {
        self.live.insert(
            key,
            Live {
                written,
                last_seen: now,
            },
        );
    }

    /// Forgets `key` (its Event could not be written).
    pub(crate) fn forget(&mut self, key: &SeriesKey) {
        self.live.remove(key);
    }
}

/// What makes two core `v1` events the same Event (client-go's `getEventKey`): the
/// object (with its field path, without its resourceVersion), type, reason and
/// message. Combined events all share their aggregation key instead, so that they
/// count up on one Event.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum LogKey {
    Exact {
        object: ObjectReference,
        type_: EventType,
        reason: String,
        message: String,
    },
    Combined {
        object: ObjectReference,
        type_: EventType,
        reason: String,
    },
}

impl LogKey {
    pub(crate) fn new(
        regarding: &ObjectReference,
        type_: EventType,
        reason: &str,
        message: &str,
        combined: bool,
    ) -> Self {
        let object = ObjectReference {
            resource_version: None,
            ..regarding.clone()
        };
        if combined {
            LogKey::Combined {
                object,
                type_,
                reason: reason.to_owned(),
            }
        } else {
            LogKey::Exact {
                object,
                type_,
                reason: reason.to_owned(),
                message: message.to_owned(),
            }
        }
    }
}

/// Core `v1` Events written so far, by [`LogKey`]. As upstream, an entry lives until
/// the cache evicts it: a repeat an hour later still patches the count (and creates
/// the Event anew if the server has expired it).
#[derive(Debug)]
pub(crate) struct EventLog {
    seen: Lru<LogKey, Written>,
}

impl EventLog {
    pub(crate) fn new(cap: usize) -> Self {
        EventLog {
            seen: Lru::new(cap),
        }
    }

    /// Counts one occurrence of `key`.
    pub(crate) fn observe(&mut self, key: &LogKey) -> Step {
        match self.seen.get_mut(key) {
            Some(w) => {
                w.count = w.count.saturating_add(1);
                Step::Patch(w.clone())
            }
            None => Step::Create,
        }
    }

    /// Records that the Event for `key` now exists as `written`.
    pub(crate) fn written(&mut self, key: LogKey, written: Written) {
        self.seen.insert(key, written);
    }

    /// Forgets `key`.
    pub(crate) fn forget(&mut self, key: &LogKey) {
        self.seen.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(reason: &str) -> SeriesKey {
        SeriesKey {
            regarding: ObjectReference {
                kind: Some("ConfigMap".into()),
                name: Some("web".into()),
                namespace: Some("default".into()),
                ..ObjectReference::default()
            },
            related: None,
            type_: EventType::Normal,
            reason: reason.into(),
            action: "Sync".into(),
        }
    }

    fn written(name: &str) -> Written {
        Written {
            namespace: "default".into(),
            name: name.into(),
            count: 1,
            first_timestamp: String::new(),
        }
    }

    #[test]
    fn repeats_within_six_minutes_patch_one_series() {
        let mut cache = SeriesCache::new(16);
        let t0 = Instant::now();
        let k = key("Synced");
        assert_eq!(cache.observe(&k, t0), Step::Create);
        cache.written(k.clone(), written("web.1"), t0);
        // Each repeat counts, and the window is measured from the last one.
        let mut t = t0;
        for count in 2..=4 {
            t += FINISH_AFTER;
            let Step::Patch(w) = cache.observe(&k, t) else {
                panic!("a repeat within the window patches");
            };
            assert_eq!((w.name.as_str(), w.count), ("web.1", count));
        }
    }

    #[test]
    fn series_finishes_after_six_minutes_without_recurrence() {
        let mut cache = SeriesCache::new(16);
        let t0 = Instant::now();
        let k = key("Synced");
        cache.written(k.clone(), written("web.1"), t0);
        let late = t0 + FINISH_AFTER + Duration::from_millis(1);
        assert_eq!(cache.observe(&k, late), Step::Create);
        // Forgotten, not revived by the next occurrence either.
        assert_eq!(cache.observe(&k, late), Step::Create);
    }

    #[test]
    fn series_key_tells_apart_everything_but_the_note() {
        let base = key("Synced");
        // Each row changes one part of the key; all must differ from `base`.
        let variants = [
            SeriesKey {
                reason: "Other".into(),
                ..base.clone()
            },
            SeriesKey {
                action: "Delete".into(),
                ..base.clone()
            },
            SeriesKey {
                type_: EventType::Warning,
                ..base.clone()
            },
            SeriesKey {
                related: Some(ObjectReference::default()),
                ..base.clone()
            },
            SeriesKey {
                regarding: ObjectReference {
                    uid: Some("u".into()),
                    ..base.regarding.clone()
                },
                ..base.clone()
            },
        ];
        let mut cache = SeriesCache::new(16);
        let t0 = Instant::now();
        cache.written(base.clone(), written("web.1"), t0);
        for v in &variants {
            assert_ne!(v, &base);
            assert_eq!(cache.observe(v, t0), Step::Create, "{v:?}");
        }
    }

    #[test]
    fn core_log_counts_exact_repeats_and_combined_events_on_one_event() {
        let mut log = EventLog::new(16);
        let obj = key("x").regarding;
        let exact = LogKey::new(&obj, EventType::Warning, "Failed", "boom", false);
        assert_eq!(log.observe(&exact), Step::Create);
        log.written(exact.clone(), written("web.1"));
        let Step::Patch(w) = log.observe(&exact) else {
            panic!("an exact repeat patches");
        };
        assert_eq!(w.count, 2);
        // A different message is a different Event…
        let other = LogKey::new(&obj, EventType::Warning, "Failed", "bang", false);
        assert_eq!(log.observe(&other), Step::Create);
        // …unless both are combined: then the message is not part of the key.
        assert_eq!(
            LogKey::new(&obj, EventType::Warning, "Failed", "a", true),
            LogKey::new(&obj, EventType::Warning, "Failed", "b", true)
        );
        // resourceVersion is ignored.
        let mut newer = obj.clone();
        newer.resource_version = Some("9".into());
        assert_eq!(
            LogKey::new(&newer, EventType::Warning, "Failed", "boom", false),
            exact
        );
    }
}
