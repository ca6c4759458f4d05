//! Event recording: tell users, through `kubectl describe` and `kubectl events`, what a
//! controller did to their objects and why (client-go's `tools/events` and
//! `tools/record`).
//!
//! A [`Recorder`] takes events without ever blocking or failing the caller: they go
//! to a bounded queue (1000 by default; when full, new events are dropped and
//! counted) that one background task drains. On the way to the server each event
//! passes:
//!
//! 1. **aggregation**: once 10 distinct notes were seen for one object, type and
//!    reason within 10 minutes, further ones become one event whose note starts with
//!    `(combined from similar events): `;
//! 2. **the spam filter**: a token bucket per object and type, 25 events in a
//!    burst, then one more per 5 minutes; events beyond are dropped;
//! 3. **series**: a repeat of an isomorphic event (same regarding and related
//!    objects, type, reason, action and reporter) within 6 minutes of the last one
//!    patches the existing Event's `series {count, lastObservedTime}` instead of
//!    creating another; a series without a repeat for 6 minutes is finished. On the
//!    core `v1` API, exact repeats patch `count` and `lastTimestamp` instead.
//!
//! Writes are retried (12 tries, 10 s apart, the first wait randomised) when the
//! failure says nothing about the event (no connection, timeouts, 429, 5xx).
//! [`Recorder::flush`] waits until everything queued has been written (or given up);
//! [`Recorder::shutdown`] flushes and stops the task.
//!
//! The recorder writes `events.k8s.io/v1` Events, or core `v1` Events when discovery
//! says the server lacks `events.k8s.io/v1` (decided once, when the recorder starts;
//! [`EventApi`] forces either).
//!
//! ```
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let server = kubeforge_testserver::TestServer::start().await?;
//! # let config = kubeforge_client::__doctest::config(server.base_url(), server.ca_pem());
//! use k8s_openapi::api::core::v1::ConfigMap;
//! use kubeforge_client::Client;
//! use kubeforge_client::api::Api;
//! use kubeforge_informer::events::{EventType, ObjectReference, Recorder, Reporter};
//!
//! let client = Client::new(config)?;
//! let mut cm = ConfigMap::default();
//! cm.metadata.name = Some("web".into());
//! let cm = Api::<ConfigMap>::namespaced(client.clone(), "default")
//!     .create(&Default::default(), &cm)
//!     .await?;
//!
//! let recorder = Recorder::new(client, Reporter::new("example.com/web-controller", "web-0"));
//! let regarding = ObjectReference::from_object(&cm);
//! recorder.event(&regarding, None, EventType::Normal, "Synced", "Sync", "configuration applied");
//! recorder.shutdown().await; // writes what is queued, then stops
//! assert_eq!(recorder.stats().written, 1);
//! # Ok(())
//! # }
//! ```
//!
//! | client-go | kubeforge |
//! | --- | --- |
//! | `events.EventBroadcaster` + `EventRecorder`, `record.EventBroadcaster` + `EventRecorder` | [`Recorder`] |
//! | `NewEventBroadcasterAdapter` (picks the API from discovery) | [`EventApi::Discover`] |
//! | `record.EventCorrelator`, `CorrelatorOptions` | built in; [`RecorderBuilder::spam_filter`], [`RecorderBuilder::aggregation`] |
//! | `reference.GetReference` | [`ObjectReference::from_object`] |
//! | `eventsv1.Event`, `corev1.Event` | [`Event`], [`CoreEvent`] |

mod correlator;
mod series;
mod types;
mod worker;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use kubeforge_client::Client;
use kubeforge_client::api::Discovery;
use parking_lot::Mutex;
use tokio::sync::{mpsc, oneshot};
use tokio_util::task::AbortOnDropHandle;
use tracing::Instrument;

pub use types::{CoreEvent, Event, EventSeries, EventSource, ObjectReference};

use correlator::CorrelatorConfig;
use worker::{Item, Occurrence, Settings, Worker};

/// Events queued at most; more are dropped (client-go's `maxQueuedEvents`).
const QUEUE_CAPACITY: usize = 1000;
/// Tries per event (client-go's `maxTriesPerEvent`).
const MAX_TRIES: u32 = 12;
/// Sleep between tries (client-go's `defaultSleepDuration`).
const RETRY_SLEEP: Duration = Duration::from_secs(10);

/// Who reports events: the controller's name and which instance of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reporter {
    /// `reportingController`, e.g. `example.com/web-controller`.
    pub controller: String,
    /// `reportingInstance`, e.g. the pod name (`web-controller-6f7c9-x2k4q`).
    pub instance: String,
}

impl Reporter {
    /// A reporter from a controller name and an instance name.
    pub fn new(controller: impl Into<String>, instance: impl Into<String>) -> Self {
        Reporter {
            controller: controller.into(),
            instance: instance.into(),
        }
    }
}

/// `Normal` (things going as intended) or `Warning` (something to look at).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// `Normal`.
    Normal,
    /// `Warning`.
    Warning,
}

impl EventType {
    /// The wire form: `Normal` or `Warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which Events API a recorder writes to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventApi {
    /// `events.k8s.io/v1` if discovery lists it when the recorder starts, else core
    /// `v1` (the default).
    #[default]
    Discover,
    /// Always `events.k8s.io/v1`.
    EventsV1,
    /// Always core `v1`.
    CoreV1,
}

/// What a recorder did with the events it was given, so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecorderStats {
    /// Events written (created or patched into a series or count).
    pub written: u64,
    /// Events dropped because the queue was full (or the recorder shut down).
    pub queue_full: u64,
    /// Events dropped by the spam filter.
    pub spam_dropped: u64,
    /// Events given up on: rejected by the server, or still failing after every try.
    pub failed: u64,
}

/// The counters behind [`RecorderStats`], shared with the worker.
#[derive(Debug, Default)]
struct Counters {
    written: AtomicU64,
    queue_full: AtomicU64,
    spam_dropped: AtomicU64,
    failed: AtomicU64,
}

/// Records events about objects, best effort, in the background.
///
/// Clones share one queue and one background task. The task stops when
/// [`Recorder::shutdown`] returns, or when the last clone is dropped (then whatever
/// is still queued is lost: call `shutdown` to keep it).
#[derive(Clone)]
pub struct Recorder {
    inner: Arc<Inner>,
}

struct Inner {
    queue: mpsc::Sender<Item>,
    /// Set by `shutdown`: no more events are accepted.
    closed: AtomicBool,
    counters: Arc<Counters>,
    /// The background task; taken by `shutdown` to await it, aborted on drop.
    task: Mutex<Option<AbortOnDropHandle<()>>>,
}

impl fmt::Debug for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Recorder {
    /// A recorder with client-go's defaults, writing through `client` as `reporter`.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime (it spawns its background task).
    pub fn new(client: Client, reporter: Reporter) -> Self {
        Self::builder(client, reporter).build()
    }

    /// A builder to change the defaults.
    pub fn builder(client: Client, reporter: Reporter) -> RecorderBuilder {
        RecorderBuilder {
            client,
            reporter,
            queue_capacity: QUEUE_CAPACITY,
            settings: Settings {
                api: EventApi::Discover,
                discovery: None,
                max_tries: MAX_TRIES,
                retry_sleep: RETRY_SLEEP,
                correlator: CorrelatorConfig::default(),
            },
        }
    }

    /// Records an event about `regarding` (and `related`, a second object involved,
    /// if any): `reason` is why, in UpperCamelCase (`FailedSync`); `action` what was
    /// done or failed (`Sync`); `note` a human-readable sentence (cut to 1 KiB on
    /// `events.k8s.io`).
    ///
    /// Never blocks and never fails: the event is queued, or dropped and counted in
    /// [`RecorderStats::queue_full`] when the queue is full or the recorder has shut
    /// down. Events about cluster-scoped objects go to the `default` namespace.
    pub fn event(
        &self,
        regarding: &ObjectReference,
        related: Option<&ObjectReference>,
        type_: EventType,
        reason: &str,
        action: &str,
        note: &str,
    ) {
        let dropped = || {
            self.inner
                .counters
                .queue_full
                .fetch_add(1, Ordering::Relaxed);
            tracing::debug!(reason, "event queue full or closed; event dropped");
        };
        if self.inner.closed.load(Ordering::Acquire) {
            return dropped();
        }
        let occurrence = Occurrence {
            regarding: regarding.clone(),
            related: related.cloned(),
            type_,
            reason: reason.to_owned(),
            action: action.to_owned(),
            note: note.to_owned(),
            at: jiff::Timestamp::now(),
            seen: tokio::time::Instant::now(),
        };
        if self
            .inner
            .queue
            .try_send(Item::Event(Box::new(occurrence)))
            .is_err()
        {
            dropped();
        }
    }

    /// What the recorder did so far.
    pub fn stats(&self) -> RecorderStats {
        let c = &self.inner.counters;
        RecorderStats {
            written: c.written.load(Ordering::Relaxed),
            queue_full: c.queue_full.load(Ordering::Relaxed),
            spam_dropped: c.spam_dropped.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
        }
    }

    /// Waits until every event queued before the call has been written, dropped by
    /// the correlator or given up on. With a failing server this takes up to the
    /// whole retry schedule of each queued event.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropping the future only stops the waiting.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.inner.queue.send(Item::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }

    /// Stops accepting events, writes what is queued, and ends the background task
    /// (for every clone). Later calls return at once.
    ///
    /// # Cancel safety
    ///
    /// Not cancel-safe: the recorder is closed either way, and if the future is
    /// dropped before the task ends, the task is aborted with the events still queued.
    pub async fn shutdown(&self) {
        self.inner.closed.store(true, Ordering::Release);
        let task = self.inner.task.lock().take();
        let Some(task) = task else { return };
        if self.inner.queue.send(Item::Stop).await.is_ok() {
            let _ = task.await;
        }
    }
}

/// Options of a [`Recorder`]; start from [`Recorder::builder`].
pub struct RecorderBuilder {
    client: Client,
    reporter: Reporter,
    queue_capacity: usize,
    settings: Settings,
}

impl fmt::Debug for RecorderBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecorderBuilder")
            .field("reporter", &self.reporter)
            .field("queue_capacity", &self.queue_capacity)
            .field("api", &self.settings.api)
            .field("max_tries", &self.settings.max_tries)
            .field("retry_sleep", &self.settings.retry_sleep)
            .finish_non_exhaustive()
    }
}

impl RecorderBuilder {
    /// Which Events API to write to (default: [`EventApi::Discover`]).
    pub fn api(mut self, api: EventApi) -> Self {
        self.settings.api = api;
        self
    }

    /// The discovery client that [`EventApi::Discover`] asks (default: a fresh
    /// aggregated [`Discovery`] of the recorder's client). Passing the one the
    /// controller already holds saves the requests when it has a cached answer.
    pub fn discovery(mut self, discovery: Discovery) -> Self {
        self.settings.discovery = Some(discovery);
        self
    }

    /// Events queued at most before new ones are dropped (default 1000; at least 1).
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity.max(1);
        self
    }

    /// Tries per event (default 12) and the sleep between them (default 10 s; the
    /// first sleep is a random part of it).
    pub fn retry(mut self, max_tries: u32, sleep: Duration) -> Self {
        self.settings.max_tries = max_tries.max(1);
        self.settings.retry_sleep = sleep;
        self
    }

    /// Events one object may get of one type in a burst (default 25), and how long
    /// it takes to earn one more (default 5 min).
    pub fn spam_filter(mut self, burst: u32, refill_every: Duration) -> Self {
        self.settings.correlator.spam_burst = burst;
        self.settings.correlator.spam_refill = refill_every;
        self
    }

    /// Distinct notes for one object, type and reason (default 10) within `window`
    /// of each other (default 10 min) before further ones are combined.
    pub fn aggregation(mut self, max_similar: usize, window: Duration) -> Self {
        self.settings.correlator.aggregate_max = max_similar.max(1);
        self.settings.correlator.aggregate_window = window;
        self
    }

    /// Entries in each of the recorder's caches (default 4096).
    pub fn cache_size(mut self, entries: usize) -> Self {
        self.settings.correlator.cache_size = entries.max(1);
        self
    }

    /// Builds the recorder and starts its background task.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime.
    pub fn build(self) -> Recorder {
        let (queue, rx) = mpsc::channel(self.queue_capacity);
        let counters = Arc::new(Counters::default());
        let span = tracing::info_span!(
            "event_recorder",
            controller = %self.reporter.controller,
            instance = %self.reporter.instance,
        );
        let worker = Worker {
            client: self.client,
            reporter: self.reporter,
            settings: self.settings,
            counters: counters.clone(),
        };
        let task = AbortOnDropHandle::new(tokio::spawn(worker.run(rx).instrument(span)));
        Recorder {
            inner: Arc::new(Inner {
                queue,
                closed: AtomicBool::new(false),
                counters,
                task: Mutex::new(Some(task)),
            }),
        }
    }
}
