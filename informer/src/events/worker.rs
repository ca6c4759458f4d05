//! The background task of a [`Recorder`](super::Recorder): takes occurrences off the
//! queue one at a time, runs them through the correlator and the series or count
//! cache, and writes them with retries.
//!
//! One event at a time, in order, as `tools/record` does: a create always lands
//! before the patch that counts its repeat, and while the server is unreachable the
//! queue fills and further events are dropped at the door instead of piling up in
//! memory.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use kubeforge_client::api::{Api, Discovery, Patch};
use kubeforge_client::core::{CreateOptions, ObjectMeta, PatchOptions};
use kubeforge_client::{Client, Error};
use serde_json::json;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::correlator::{Correlator, CorrelatorConfig, Verdict};
use super::series::{EventLog, LogKey, SeriesCache, SeriesKey, Step, Written};
use super::types::{CoreEvent, Event, EventSeries, EventSource};
use super::{Counters, EventApi, EventType, ObjectReference, Reporter};
use crate::time::{micro_time, time};

/// The longest note `events.k8s.io/v1` accepts (bytes); longer ones are cut.
const MAX_NOTE_BYTES: usize = 1024;

/// Namespace of the events about cluster-scoped objects (as upstream).
const CLUSTER_EVENTS_NAMESPACE: &str = "default";

/// One call of [`Recorder::event`](super::Recorder::event), as queued.
#[derive(Debug)]
pub(crate) struct Occurrence {
    pub(crate) regarding: ObjectReference,
    pub(crate) related: Option<ObjectReference>,
    pub(crate) type_: EventType,
    pub(crate) reason: String,
    pub(crate) action: String,
    pub(crate) note: String,
    /// Wall-clock time, for the Event's timestamps.
    pub(crate) at: jiff::Timestamp,
    /// Monotonic time, for the correlator's and the series' windows.
    pub(crate) seen: Instant,
}

/// What travels on the queue.
#[derive(Debug)]
pub(crate) enum Item {
    Event(Box<Occurrence>),
    /// Answer once everything queued before has been handled.
    Flush(oneshot::Sender<()>),
    /// Handle nothing after this.
    Stop,
}

/// The worker's settings, fixed at build time.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) api: EventApi,
    pub(crate) discovery: Option<Discovery>,
    pub(crate) max_tries: u32,
    pub(crate) retry_sleep: Duration,
    pub(crate) correlator: CorrelatorConfig,
}

/// Which API the worker writes to, once decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    EventsV1,
    CoreV1,
}

pub(crate) struct Worker {
    pub(crate) client: Client,
    pub(crate) reporter: Reporter,
    pub(crate) settings: Settings,
    pub(crate) counters: Arc<Counters>,
}

/// The worker's mutable state; only the worker task touches it, so no lock.
struct State {
    correlator: Correlator,
    series: SeriesCache,
    log: EventLog,
    /// The last nanosecond stamp used in a name, so that two events in the same
    /// nanosecond still get distinct names.
    last_stamp: i128,
}

impl Worker {
    pub(crate) async fn run(self, mut queue: mpsc::Receiver<Item>) {
        let target = self.decide().await;
        tracing::debug!(?target, "recording events");
        let cfg = self.settings.correlator;
        let mut state = State {
            correlator: Correlator::new(cfg),
            series: SeriesCache::new(cfg.cache_size),
            log: EventLog::new(cfg.cache_size),
            last_stamp: 0,
        };
        while let Some(item) = queue.recv().await {
            match item {
                Item::Event(o) => self.record(target, &mut state, *o).await,
                Item::Flush(done) => {
                    let _ = done.send(());
                }
                Item::Stop => break,
            }
        }
    }

    /// Picks the API once, at start, from discovery.
    ///
    /// client-go's adapter asks discovery for `events.k8s.io/v1` and falls back to
    /// core events when the question fails for any reason. We fall back only when
    /// discovery answers without the group; when discovery itself fails we assume
    /// `events.k8s.io/v1` (served by every Kubernetes since 1.19), so that a passing
    /// failure at start-up does not pin the recorder to the old API for good. We do
    /// not switch on a NotFound from a write: creating an Event in a namespace that
    /// does not exist answers NotFound too.
    async fn decide(&self) -> Target {
        let discovery = match self.settings.api {
            EventApi::EventsV1 => return Target::EventsV1,
            EventApi::CoreV1 => return Target::CoreV1,
            EventApi::Discover => self
                .settings
                .discovery
                .clone()
                .unwrap_or_else(|| Discovery::new(self.client.clone())),
        };
        match discovery.get().await {
            Ok(served) => {
                let has_events_v1 = served.group("events.k8s.io").is_some_and(|g| {
                    g.versions.iter().any(|v| {
                        v.version == "v1"
                            && v.resources.iter().any(|r| r.resource.plural == "events")
                    })
                });
                if has_events_v1 {
                    Target::EventsV1
                } else {
                    Target::CoreV1
                }
            }
            Err(error) => {
                tracing::warn!(%error, "discovery failed; assuming events.k8s.io/v1");
                Target::EventsV1
            }
        }
    }

    async fn record(&self, target: Target, state: &mut State, o: Occurrence) {
        let verdict = state
            .correlator
            .correlate(&o.regarding, o.type_, &o.reason, &o.note, o.seen);
        let Verdict::Write { note, combined } = verdict else {
            self.counters.spam_dropped.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(reason = %o.reason, "event dropped by the spam filter");
            return;
        };
        let ok = match target {
            Target::EventsV1 => self.record_v1(state, &o, note).await,
            Target::CoreV1 => self.record_core(state, &o, note, combined).await,
        };
        let counter = if ok {
            &self.counters.written
        } else {
            &self.counters.failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn name_for(state: &mut State, o: &Occurrence) -> String {
        let stamp = o.at.as_nanosecond().max(state.last_stamp + 1);
        state.last_stamp = stamp;
        let base = o
            .regarding
            .name
            .as_deref()
            .filter(|n| !n.is_empty())
            .unwrap_or("event");
        format!("{base}.{stamp:x}")
    }

    fn namespace_for(o: &Occurrence) -> String {
        o.regarding
            .namespace
            .as_deref()
            .filter(|n| !n.is_empty())
            .unwrap_or(CLUSTER_EVENTS_NAMESPACE)
            .to_owned()
    }

    async fn record_v1(&self, state: &mut State, o: &Occurrence, note: String) -> bool {
        let key = SeriesKey {
            regarding: o.regarding.clone(),
            related: o.related.clone(),
            type_: o.type_,
            reason: o.reason.clone(),
            action: o.action.clone(),
        };
        let step = state.series.observe(&key, o.seen);
        let (written, series) = match &step {
            Step::Create => (
                Written {
                    namespace: Self::namespace_for(o),
                    name: Self::name_for(state, o),
                    count: 1,
                    first_timestamp: String::new(),
                },
                None,
            ),
            Step::Patch(w) => (
                w.clone(),
                Some(EventSeries {
                    count: w.count,
                    last_observed_time: micro_time(o.at),
                }),
            ),
        };
        let event = Event {
            api_version: "events.k8s.io/v1".to_owned(),
            kind: "Event".to_owned(),
            metadata: ObjectMeta {
                name: Some(written.name.clone()),
                namespace: Some(written.namespace.clone()),
                ..ObjectMeta::default()
            },
            event_time: micro_time(o.at),
            series,
            reporting_controller: self.reporter.controller.clone(),
            reporting_instance: self.reporter.instance.clone(),
            action: o.action.clone(),
            reason: o.reason.clone(),
            regarding: o.regarding.clone(),
            related: o.related.clone(),
            note: Some(truncate(note, MAX_NOTE_BYTES)),
            type_: Some(o.type_.as_str().to_owned()),
            deprecated_source: None,
            deprecated_first_timestamp: None,
            deprecated_last_timestamp: None,
            deprecated_count: None,
        };
        let api = Api::<Event>::namespaced(self.client.clone(), &written.namespace);
        let landed = self.retrying(Write::V1(&api, &event)).await;
        if landed {
            state.series.written(key, written, o.seen);
        } else if matches!(step, Step::Create) {
            state.series.forget(&key);
        }
        landed
    }

    async fn record_core(
        &self,
        state: &mut State,
        o: &Occurrence,
        note: String,
        combined: bool,
    ) -> bool {
        let key = LogKey::new(&o.regarding, o.type_, &o.reason, &o.note, combined);
        let step = state.log.observe(&key);
        let now = time(o.at);
        let (written, patch) = match &step {
            Step::Create => (
                Written {
                    namespace: Self::namespace_for(o),
                    name: Self::name_for(state, o),
                    count: 1,
                    first_timestamp: now.clone(),
                },
                false,
            ),
            Step::Patch(w) => (w.clone(), true),
        };
        let event = CoreEvent {
            api_version: "v1".to_owned(),
            kind: "Event".to_owned(),
            metadata: ObjectMeta {
                name: Some(written.name.clone()),
                namespace: Some(written.namespace.clone()),
                ..ObjectMeta::default()
            },
            involved_object: o.regarding.clone(),
            reason: Some(o.reason.clone()),
            message: Some(note),
            source: Some(EventSource {
                component: Some(self.reporter.controller.clone()),
                host: None,
            }),
            first_timestamp: Some(written.first_timestamp.clone()),
            last_timestamp: Some(now),
            count: Some(written.count),
            type_: Some(o.type_.as_str().to_owned()),
            event_time: None,
            action: Some(o.action.clone()).filter(|a| !a.is_empty()),
            related: o.related.clone(),
            reporting_component: Some(self.reporter.controller.clone()),
            reporting_instance: Some(self.reporter.instance.clone()),
        };
        let api = Api::<CoreEvent>::namespaced(self.client.clone(), &written.namespace);
        let landed = self.retrying(Write::Core(&api, &event, patch)).await;
        if landed {
            state.log.written(key, written);
        } else if !patch {
            state.log.forget(&key);
        }
        landed
    }

    /// Tries `write` up to `max_tries` times; `true` once it succeeds.
    ///
    /// Retried: transport failures, timeouts, 429 and 5xx, which say nothing about the
    /// event itself. Not retried: any other answer of the server (the event is
    /// malformed, forbidden or already there). client-go gives up on *every* `Status`
    /// answer, 500 and 503 included; we retry those, since an apiserver restarting
    /// behind a load balancer answers just that. The first wait is a random part of
    /// the sleep, so that clients that failed together do not come back together;
    /// the later ones are the whole sleep (`tools/record`'s schedule).
    async fn retrying(&self, write: Write<'_>) -> bool {
        let max = self.settings.max_tries.max(1);
        for tries in 1..=max {
            let attempt = match write {
                Write::V1(api, event) => write_v1(api, event).await,
                Write::Core(api, event, patch) => write_core(api, event, patch).await,
            };
            let error = match attempt {
                Ok(()) => return true,
                Err(e) => e,
            };
            if !retriable(&error) {
                tracing::warn!(%error, "the server rejected an event; not retrying");
                return false;
            }
            if tries == max {
                tracing::warn!(%error, tries, "could not write an event; giving up");
                return false;
            }
            tracing::debug!(%error, tries, "could not write an event; will retry");
            let sleep = self.settings.retry_sleep;
            let wait = if tries == 1 {
                sleep.mul_f64(rand::random::<f64>())
            } else {
                sleep
            };
            tokio::time::sleep(wait).await;
        }
        false
    }
}

/// One write, as [`Worker::retrying`] repeats it.
#[derive(Clone, Copy)]
enum Write<'a> {
    V1(&'a Api<Event>, &'a Event),
    /// The event, and whether to patch its count rather than create it.
    Core(&'a Api<CoreEvent>, &'a CoreEvent, bool),
}

fn retriable(e: &Error) -> bool {
    match e.code() {
        Some(code) => code == 429 || code >= 500,
        None => e.is_transport() || e.is_timeout(),
    }
}

/// Creates the Event, or patches its series; a series whose Event is gone (expired
/// by the server's event TTL, or deleted) is created anew under the same name.
async fn write_v1(api: &Api<Event>, event: &Event) -> Result<(), Error> {
    let name = event.metadata.name.as_deref().unwrap_or_default();
    if let Some(series) = &event.series {
        let patch = json!({ "series": series });
        match api
            .patch(name, &PatchOptions::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    api.create(&CreateOptions::default(), event).await.map(drop)
}

/// Creates the Event, or patches its count, last timestamp and message (which
/// changes for combined events); a gone Event is created anew with its count.
async fn write_core(api: &Api<CoreEvent>, event: &CoreEvent, patch: bool) -> Result<(), Error> {
    let name = event.metadata.name.as_deref().unwrap_or_default();
    if patch {
        let body = json!({
            "count": event.count,
            "lastTimestamp": event.last_timestamp,
            "message": event.message,
        });
        match api
            .patch(name, &PatchOptions::default(), &Patch::Merge(&body))
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    api.create(&CreateOptions::default(), event).await.map(drop)
}

/// Cuts `s` to at most `max` bytes, on a character boundary.
fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_keeps_whole_characters() {
        assert_eq!(truncate("abc".into(), 5), "abc");
        assert_eq!(truncate("abcdef".into(), 3), "abc");
        // "é" is two bytes: cutting at 2 would split it.
        assert_eq!(truncate("aé".into(), 2), "a");
    }

    #[test]
    fn only_failures_that_say_nothing_about_the_event_are_retried() {
        use kubeforge_client::core::{Status, StatusReason};
        let answer = |code, reason| Error::Api(Box::new(Status::failure(code, reason, "x")));
        // One row per kind of failure.
        assert!(retriable(&answer(500, StatusReason::InternalError)));
        assert!(retriable(&answer(503, StatusReason::ServiceUnavailable)));
        assert!(retriable(&answer(429, StatusReason::TooManyRequests)));
        assert!(retriable(&Error::Transport("reset".into())));
        assert!(!retriable(&answer(403, StatusReason::Forbidden)));
        assert!(!retriable(&answer(409, StatusReason::AlreadyExists)));
        assert!(!retriable(&answer(422, StatusReason::Invalid)));
        assert!(!retriable(&Error::Request("bad".into())));
    }
}
