//! ListWatch and Reflector: keep a [`ReflectorStore`] equal to what the server holds
//! (client-go's `ListWatch` and `Reflector`).
//!
//! The Reflector lists (in pages of 500, the first at resourceVersion "0" so the
//! server may answer from its cache), hands the list to the store as one
//! [`replace`](ReflectorStore::replace), then watches from the list's resourceVersion
//! with bookmarks, writing every event into the store. A watch that ends (its
//! randomised 5–10 minute timeout) is opened again from the last resourceVersion
//! seen; a watch that fails with 410 Gone, or any other error, leads to a new list.
//! Failures back off as client-go's do: 800 ms doubling to 30 s, with jitter, reset
//! after 2 minutes without failures.
//!
//! With [`ReflectorOptions::streaming_list`] the initial state comes as a watch with
//! `sendInitialEvents=true` (client-go's `WatchListClient`), ending at the bookmark
//! annotated `k8s.io/initial-events-end`; a server that refuses it is listed as usual
//! from then on.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt};
use parking_lot::Mutex;
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

use kubeforge_client::Error;
use kubeforge_client::api::{Api, ObjectList, Resource};
use kubeforge_client::core::{ListOptions, ResourceVersionMatch, WatchEvent};

/// What a Reflector writes into (client-go's `ReflectorStore`): the
/// [`DeltaFifo`](crate::fifo::DeltaFifo) in an informer, or any store in tests.
///
/// Calls never block for long: they run on the reflector's task between reads of the
/// watch stream.
pub trait ReflectorStore<K>: Send + Sync {
    /// An object appeared (a watch `ADDED`).
    fn add(&self, obj: Arc<K>);
    /// An object changed (a watch `MODIFIED`).
    fn update(&self, obj: Arc<K>);
    /// An object is gone (a watch `DELETED`, carrying its last state).
    fn delete(&self, obj: Arc<K>);
    /// A fresh list replaces everything known; `resource_version` is the list's.
    fn replace(&self, list: Vec<Arc<K>>, resource_version: &str);
    /// Deliver everything known again as sync events (the resync period elapsed).
    fn resync(&self);
}

/// How to list and watch one collection (client-go's `ListWatch`): an [`Api`]
/// (typed, dynamic or metadata-only) and optional selectors applied to both.
pub struct ListWatch<K> {
    api: Api<K>,
    label_selector: Option<String>,
    field_selector: Option<String>,
}

impl<K> Clone for ListWatch<K> {
    fn clone(&self) -> Self {
        ListWatch {
            api: self.api.clone(),
            label_selector: self.label_selector.clone(),
            field_selector: self.field_selector.clone(),
        }
    }
}

impl<K> fmt::Debug for ListWatch<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListWatch")
            .field("label_selector", &self.label_selector)
            .field("field_selector", &self.field_selector)
            .finish_non_exhaustive()
    }
}

impl<K> ListWatch<K>
where
    K: Resource + DeserializeOwned + Send + Sync + 'static,
{
    /// Lists and watches everything `api` reaches.
    pub fn new(api: Api<K>) -> Self {
        ListWatch {
            api,
            label_selector: None,
            field_selector: None,
        }
    }

    /// Lists and watches without `metadata.managedFields`, dropped from the response
    /// text before decoding (see [`Api::without_managed_fields`]).
    pub fn without_managed_fields(mut self) -> Self {
        self.api = self.api.without_managed_fields();
        self
    }

    /// Only objects whose labels match `selector` (`app=web,tier!=db`).
    pub fn labels(mut self, selector: &str) -> Self {
        self.label_selector = Some(selector.to_owned());
        self
    }

    /// Only objects whose fields match `selector` (`spec.nodeName=n1`).
    pub fn fields(mut self, selector: &str) -> Self {
        self.field_selector = Some(selector.to_owned());
        self
    }

    /// One page of the list.
    ///
    /// # Errors
    ///
    /// As [`Api::list`].
    pub async fn list(&self, mut opts: ListOptions) -> Result<ObjectList<K>, Error> {
        opts.label_selector.clone_from(&self.label_selector);
        opts.field_selector.clone_from(&self.field_selector);
        self.api.list(&opts).await
    }

    /// A watch.
    ///
    /// # Errors
    ///
    /// As [`Api::watch`].
    pub async fn watch(
        &self,
        mut opts: ListOptions,
    ) -> Result<impl Stream<Item = Result<WatchEvent<K>, Error>> + Send + 'static + use<K>, Error>
    {
        opts.label_selector.clone_from(&self.label_selector);
        opts.field_selector.clone_from(&self.field_selector);
        self.api.watch(&opts).await
    }
}

/// What changes an object before it is stored (client-go's `TransformFunc`).
pub type Transform<K> = Arc<dyn Fn(K) -> K + Send + Sync>;

/// Called with every list or watch failure (client-go's `WatchErrorHandler`).
pub type ErrorHandler = Arc<dyn Fn(&Error) + Send + Sync>;

/// Options of a [`Reflector`], with client-go's defaults.
#[derive(Clone)]
#[non_exhaustive]
pub struct ReflectorOptions {
    /// Items per list page (500).
    pub page_size: i64,
    /// Get the initial state as a streaming list (`sendInitialEvents`), falling back
    /// to paginated lists when the server refuses (off).
    pub streaming_list: bool,
    /// How often the store is asked to [`resync`](ReflectorStore::resync) (never).
    pub resync: Option<Duration>,
    /// Watch timeouts are drawn from `[min, 2 × min)` (5 minutes), so that the
    /// watches of many clients do not end together.
    pub min_watch_timeout: Duration,
    /// First backoff after a failure (800 ms); doubles per failure.
    pub backoff_initial: Duration,
    /// Longest backoff (30 s).
    pub backoff_max: Duration,
    /// Backoff starts over after this long without failures (2 minutes).
    pub backoff_reset: Duration,
    /// Told of every failure.
    pub on_error: Option<ErrorHandler>,
}

impl fmt::Debug for ReflectorOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReflectorOptions")
            .field("page_size", &self.page_size)
            .field("streaming_list", &self.streaming_list)
            .field("resync", &self.resync)
            .field("min_watch_timeout", &self.min_watch_timeout)
            .field("backoff_initial", &self.backoff_initial)
            .field("backoff_max", &self.backoff_max)
            .field("backoff_reset", &self.backoff_reset)
            .finish_non_exhaustive()
    }
}

impl Default for ReflectorOptions {
    fn default() -> Self {
        ReflectorOptions {
            page_size: 500,
            streaming_list: false,
            resync: None,
            min_watch_timeout: Duration::from_secs(300),
            backoff_initial: Duration::from_millis(800),
            backoff_max: Duration::from_secs(30),
            backoff_reset: Duration::from_secs(120),
            on_error: None,
        }
    }
}

/// client-go's exponential backoff manager: doubling with jitter, capped, starting
/// over after a quiet period.
#[derive(Debug)]
struct Backoff {
    initial: Duration,
    max: Duration,
    reset: Duration,
    current: Duration,
    last: Option<Instant>,
}

impl Backoff {
    fn new(o: &ReflectorOptions) -> Self {
        Backoff {
            initial: o.backoff_initial,
            max: o.backoff_max,
            reset: o.backoff_reset,
            current: Duration::ZERO,
            last: None,
        }
    }

    /// The wait before the next attempt.
    fn next(&mut self) -> Duration {
        let now = Instant::now();
        if self.last.is_none_or(|t| now.duration_since(t) > self.reset) {
            self.current = self.initial;
        } else {
            self.current = (self.current * 2).min(self.max);
        }
        self.last = Some(now);
        // Jitter factor 1.0: up to as much again.
        self.current + self.current.mul_f64(rand::random::<f64>())
    }
}

/// Why one list-and-watch cycle ended.
enum Ended {
    Stopped,
    Failed(Error),
}

impl From<Error> for Ended {
    fn from(e: Error) -> Self {
        Ended::Failed(e)
    }
}

struct Progress {
    /// The resourceVersion of the last list, event or bookmark.
    last_sync: String,
    /// The last resourceVersion is too old to list at (client-go's
    /// `isLastSyncResourceVersionUnavailable`): list at the newest instead.
    unavailable: bool,
    /// The server refused a streaming list: use paginated lists from now on.
    streaming_refused: bool,
}

/// Keeps a store equal to a collection on the server (client-go's `Reflector`).
pub struct Reflector<K> {
    lw: ListWatch<K>,
    store: Arc<dyn ReflectorStore<K>>,
    options: ReflectorOptions,
    transform: Option<Transform<K>>,
    progress: Mutex<Progress>,
}

impl<K> fmt::Debug for Reflector<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reflector")
            .field("lw", &self.lw)
            .field("options", &self.options)
            .field("last_sync", &self.progress.lock().last_sync)
            .finish_non_exhaustive()
    }
}

impl<K> Reflector<K>
where
    K: Resource + DeserializeOwned + Send + Sync + 'static,
{
    /// A reflector from `lw` into `store`.
    pub fn new(lw: ListWatch<K>, store: Arc<dyn ReflectorStore<K>>) -> Self {
        Reflector {
            lw,
            store,
            options: ReflectorOptions::default(),
            transform: None,
            progress: Mutex::new(Progress {
                last_sync: String::new(),
                unavailable: false,
                streaming_refused: false,
            }),
        }
    }

    /// The same reflector with `options`.
    pub fn options(mut self, options: ReflectorOptions) -> Self {
        self.options = options;
        self
    }

    /// The same reflector applying `f` to every object before it is stored.
    pub fn transform(mut self, f: Transform<K>) -> Self {
        self.transform = Some(f);
        self
    }

    /// The resourceVersion of the last list, event or bookmark seen (client-go's
    /// `LastSyncResourceVersion`); empty before the first list.
    pub fn last_sync_resource_version(&self) -> String {
        self.progress.lock().last_sync.clone()
    }

    fn stored(&self, obj: K) -> Arc<K> {
        Arc::new(match &self.transform {
            Some(f) => f(obj),
            None => obj,
        })
    }

    fn failed(&self, e: &Error) {
        tracing::debug!(error = %e, "reflector: list or watch failed");
        if let Some(h) = &self.options.on_error {
            h(e);
        }
    }

    /// Lists and watches until `stop` is cancelled (client-go's `Run`).
    pub async fn run(&self, stop: CancellationToken) {
        let mut backoff = Backoff::new(&self.options);
        let resync = self.options.resync.map(|period| {
            let store = self.store.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(period);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                tick.tick().await;
                loop {
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tick.tick() => store.resync(),
                    }
                }
            })
        });
        loop {
            match self.list_and_watch(&stop).await {
                Ended::Stopped => break,
                Ended::Failed(e) => {
                    self.failed(&e);
                    let wait = backoff.next();
                    tokio::select! {
                        _ = stop.cancelled() => break,
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
            }
        }
        if let Some(task) = resync {
            task.abort();
        }
    }

    async fn list_and_watch(&self, stop: &CancellationToken) -> Ended {
        let streaming = {
            let p = self.progress.lock();
            self.options.streaming_list && !p.streaming_refused
        };
        if streaming {
            return self.stream_then_watch(stop).await;
        }
        match until(stop, self.list()).await {
            None => return Ended::Stopped,
            Some(Err(e)) => return Ended::Failed(e),
            Some(Ok(())) => {}
        }
        self.watch_loop(stop).await
    }

    /// The resourceVersion to list at (client-go's `relistResourceVersion`): "0" at
    /// first (any cached state will do), the last one seen later, the newest ("")
    /// when the last one is too old.
    fn list_resource_version(&self) -> String {
        let p = self.progress.lock();
        if p.unavailable {
            String::new()
        } else if p.last_sync.is_empty() {
            "0".to_owned()
        } else {
            p.last_sync.clone()
        }
    }

    async fn list(&self) -> Result<(), Error> {
        let rv = self.list_resource_version();
        match self.list_at(&rv).await {
            Err(e) if e.is_gone() || is_too_large_rv(&e) => {
                // The resourceVersion is compacted (or ahead of this server): list
                // at the newest instead, now.
                self.progress.lock().unavailable = true;
                self.list_at("").await
            }
            other => other,
        }
    }

    async fn list_at(&self, rv: &str) -> Result<(), Error> {
        let mut opts = ListOptions {
            limit: Some(self.options.page_size),
            ..ListOptions::default()
        };
        if !rv.is_empty() {
            opts.resource_version = Some(rv.to_owned());
            if rv != "0" {
                opts.resource_version_match = Some(ResourceVersionMatch::NotOlderThan);
            }
        }
        let mut items = Vec::new();
        let list_rv = loop {
            let page = self.lw.list(opts.clone()).await?;
            items.extend(page.items.into_iter().map(|o| self.stored(o)));
            match page.metadata.continue_token.as_deref() {
                Some(token) if !token.is_empty() => {
                    opts.continue_token = Some(token.to_owned());
                    // Later pages are read at the first page's revision.
                    opts.resource_version = None;
                    opts.resource_version_match = None;
                }
                _ => break page.metadata.resource_version.unwrap_or_default(),
            }
        };
        {
            // Known before the store hears of the list, so whoever the store tells
            // (an informer reporting sync) can read it.
            let mut p = self.progress.lock();
            p.last_sync.clone_from(&list_rv);
            p.unavailable = false;
        }
        self.store.replace(items, &list_rv);
        Ok(())
    }

    fn watch_options(&self) -> ListOptions {
        let min = self.options.min_watch_timeout.as_secs().max(1);
        let timeout = min + (min as f64 * rand::random::<f64>()) as u64;
        ListOptions {
            allow_watch_bookmarks: true,
            resource_version: Some(self.progress.lock().last_sync.clone()),
            timeout_seconds: Some(i64::try_from(timeout).unwrap_or(i64::MAX)),
            ..ListOptions::default()
        }
    }

    /// Watches from the last resourceVersion, again and again, until a failure.
    async fn watch_loop(&self, stop: &CancellationToken) -> Ended {
        loop {
            let stream = match until(stop, self.lw.watch(self.watch_options())).await {
                None => return Ended::Stopped,
                Some(Ok(s)) => s,
                Some(Err(e)) if e.is_too_many_requests() => {
                    // client-go retries the watch (no relist) after a pause.
                    self.failed(&e);
                    let wait = retry_after(&e).unwrap_or(self.options.backoff_initial);
                    tokio::select! {
                        _ = stop.cancelled() => return Ended::Stopped,
                        _ = tokio::time::sleep(wait) => continue,
                    }
                }
                Some(Err(e)) => return Ended::Failed(e),
            };
            match self.handle_watch(stop, stream, None).await {
                Watched::Closed => {}
                Watched::Stopped => return Ended::Stopped,
                Watched::Failed(e) => return Ended::Failed(e),
            }
        }
    }

    /// A streaming list, then the same watch on.
    async fn stream_then_watch(&self, stop: &CancellationToken) -> Ended {
        let rv = {
            let p = self.progress.lock();
            if p.unavailable {
                String::new()
            } else {
                p.last_sync.clone()
            }
        };
        let mut opts = self.watch_options();
        opts.send_initial_events = Some(true);
        opts.resource_version_match = Some(ResourceVersionMatch::NotOlderThan);
        opts.resource_version = Some(rv);
        let stream = match until(stop, self.lw.watch(opts)).await {
            None => return Ended::Stopped,
            Some(Ok(s)) => s,
            Some(Err(e)) if refuses_streaming(&e) => {
                self.refused(&e);
                return Ended::Failed(e);
            }
            Some(Err(e)) => return Ended::Failed(e),
        };
        match self.handle_watch(stop, stream, Some(Vec::new())).await {
            Watched::Stopped => Ended::Stopped,
            Watched::Failed(e) => Ended::Failed(e),
            Watched::Closed => self.watch_loop(stop).await,
        }
    }

    fn refused(&self, e: &Error) {
        tracing::info!(error = %e, "streaming list refused; listing in pages from now on");
        self.progress.lock().streaming_refused = true;
    }

    /// Writes a watch's events into the store until it ends. With `initial`, the
    /// events up to the initial-events-end bookmark are collected and replace the
    /// store's contents.
    async fn handle_watch<S>(
        &self,
        stop: &CancellationToken,
        stream: S,
        mut initial: Option<Vec<Arc<K>>>,
    ) -> Watched
    where
        S: Stream<Item = Result<WatchEvent<K>, Error>> + Send,
    {
        let mut stream = std::pin::pin!(stream);
        loop {
            // Biased: once stopped, nothing more is written, even if events wait.
            let next = tokio::select! {
                biased;
                _ = stop.cancelled() => return Watched::Stopped,
                next = stream.next() => next,
            };
            let event = match next {
                None if initial.is_some() => {
                    // The server ended the stream before the initial state was
                    // complete: it does not stream lists.
                    let e = Error::Transport("the watch ended before the initial events".into());
                    self.refused(&e);
                    return Watched::Failed(e);
                }
                None => return Watched::Closed,
                Some(Err(e)) => return Watched::Failed(e),
                Some(Ok(e)) => e,
            };
            let rv = match event {
                WatchEvent::Added(obj) => {
                    let rv = obj.meta().resource_version.map(str::to_owned);
                    let obj = self.stored(obj);
                    match &mut initial {
                        Some(items) => items.push(obj),
                        None => self.store.add(obj),
                    }
                    rv
                }
                WatchEvent::Modified(obj) => {
                    let rv = obj.meta().resource_version.map(str::to_owned);
                    self.store.update(self.stored(obj));
                    rv
                }
                WatchEvent::Deleted(obj) => {
                    let rv = obj.meta().resource_version.map(str::to_owned);
                    self.store.delete(self.stored(obj));
                    rv
                }
                WatchEvent::Bookmark(b) => {
                    let rv = b.metadata.resource_version.clone();
                    if b.is_initial_events_end()
                        && let Some(items) = initial.take()
                    {
                        self.progress.lock().last_sync.clone_from(&rv);
                        self.store.replace(items, &rv);
                    }
                    Some(rv)
                }
                WatchEvent::Error(status) => {
                    let e = Error::Api(status);
                    if e.is_gone() {
                        // History compacted past our resourceVersion: relist at
                        // the newest.
                        self.progress.lock().unavailable = true;
                    } else if initial.is_some() && refuses_streaming(&e) {
                        self.refused(&e);
                    }
                    return Watched::Failed(e);
                }
            };
            if let Some(rv) = rv.filter(|rv| !rv.is_empty()) {
                // During a streaming list the objects come in no order of
                // resourceVersion; only the end bookmark's counts.
                if initial.is_none() {
                    self.progress.lock().last_sync = rv;
                }
            }
        }
    }
}

enum Watched {
    /// The server ended the watch (timeout): watch again.
    Closed,
    Stopped,
    Failed(Error),
}

/// Runs `f` unless `stop` is cancelled first.
async fn until<T>(stop: &CancellationToken, f: impl Future<Output = T>) -> Option<T> {
    tokio::select! {
        biased;
        _ = stop.cancelled() => None,
        v = f => Some(v),
    }
}

/// "Too large resource version": the server has not caught up with the
/// resourceVersion yet (client-go's `isTooLargeResourceVersionError`).
fn is_too_large_rv(e: &Error) -> bool {
    e.status().is_some_and(|s| {
        s.details.as_ref().is_some_and(|d| {
            d.causes
                .iter()
                .any(|c| c.cause_type == "ResourceVersionTooLarge")
        }) || s.message.contains("Too large resource version")
    })
}

/// Whether a failed streaming list says the server does not support it (an old
/// server rejects the parameters as invalid or as a bad request).
fn refuses_streaming(e: &Error) -> bool {
    e.is_bad_request() || e.is_invalid() || e.status().is_some_and(|s| s.code == 501)
}

/// The wait a 429 asks for.
fn retry_after(e: &Error) -> Option<Duration> {
    let secs = e
        .status()?
        .details
        .as_ref()?
        .retry_after_seconds
        .filter(|s| *s > 0)?;
    Some(Duration::from_secs(u64::try_from(secs).ok()?))
}
