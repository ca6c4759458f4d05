//! WATCH: newline-delimited JSON events over a chunked response.
//!
//! Each watch runs in its own task (a panic ends that watch, not the server) that
//! pulls events from the resource's watch cache and pushes frames into a small
//! bounded channel the response body reads from: a slow client slows only its own
//! task, and when it falls out of the cache's history it gets `410 Expired` as an
//! `ERROR` event, as upstream does.
//!
//! Semantics (upstream's):
//! - resourceVersion unset: the current state as `ADDED` events, then changes
//!   (consistent); `"0"`: the same from any state; `"N"`: only changes after N.
//! - `sendInitialEvents=true`: the initial state, then a bookmark annotated
//!   `k8s.io/initial-events-end` if bookmarks were allowed.
//! - An object leaving the selector is `DELETED` (its previous state, at the event's
//!   resourceVersion); one entering is `ADDED`.
//! - Bookmarks only with `allowWatchBookmarks=true`, never before every earlier event
//!   was sent.
//! - `timeoutSeconds`, else a random timeout in `[min-request-timeout, 2x)`; the
//!   response then simply ends.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use kubeforge_client::core::{
    INITIAL_EVENTS_END_ANNOTATION, ListMeta, Status, WatchEvent, parse_resource_version,
};
use serde_json::json;
use tokio::sync::mpsc;

use super::get::cache_error;
use super::list::parse_options;
use super::negotiation::{Accepts, Output, negotiate};
use super::respond::Response;
use super::{Ctx, Filter, table};
use crate::apiserver::{ApiError, ApiResult, ApiServer};
use crate::cache::{CachedEvent, CachedObject, EventType, WatchCache, object::watch_line};
use crate::registry::Resource;
use crate::storage::Revision;

/// Events taken from the cache per read.
const BATCH: usize = 256;

/// Frames buffered between a watch task and its response body.
const CHANNEL_FRAMES: usize = 16;

/// How a watch turns cached objects into the bytes of its events.
struct Encoder {
    res: Arc<Resource>,
    server: Arc<ApiServer>,
    output: Output,
    query: String,
    namespace: String,
    convert: bool,
    first_table: bool,
}

impl Encoder {
    fn ctx_for<'a>(
        &'a self,
        info: &'a crate::request_info::RequestInfo,
        headers: &'a http::HeaderMap,
    ) -> Ctx<'a> {
        Ctx {
            server: &self.server,
            info,
            res: &self.res,
            query: &self.query,
            headers,
            namespace: &self.namespace,
            warnings: parking_lot::Mutex::new(Vec::new()),
        }
    }

    /// The line of one event with `object` (served bytes at the endpoint's version).
    fn line(&mut self, kind: &str, object: &Bytes) -> ApiResult<Bytes> {
        let object = if self.convert {
            crate::registry::store::Store::new(&self.server, &self.res).serve_cached(object)?
        } else {
            object.clone()
        };
        match self.output {
            Output::Table(v) => {
                let info = crate::request_info::RequestInfo::default();
                let headers = http::HeaderMap::new();
                let headers_row = std::mem::replace(&mut self.first_table, false);
                let ctx = self.ctx_for(&info, &headers);
                let t = table::table(&ctx, v, &[object], &ListMeta::default(), headers_row)?;
                Ok(watch_line(
                    kind,
                    &serde_json::to_vec(&t).unwrap_or_default(),
                ))
            }
            Output::Metadata(v) => {
                let obj: serde_json::Value = serde_json::from_slice(&object)
                    .map_err(|e| ApiError::from(Status::internal_error(&e.to_string())))?;
                let partial = table::partial(&obj, v);
                Ok(watch_line(
                    kind,
                    &serde_json::to_vec(&partial).unwrap_or_default(),
                ))
            }
            _ => Ok(watch_line(kind, &object)),
        }
    }

    fn plain(&self) -> bool {
        !self.convert && matches!(self.output, Output::Json | Output::Yaml)
    }

    /// The event as this watch sees it (selector transitions applied), if at all.
    fn event(&mut self, ev: &CachedEvent, filter: &Filter) -> ApiResult<Option<Bytes>> {
        let now = ev.kind != EventType::Deleted && filter.matches(&ev.object);
        let before = ev.prev.as_ref().is_some_and(|p| filter.matches(p));
        let (kind, natural) = match (now, before) {
            (false, false) => return Ok(None),
            (true, false) => (EventType::Added, ev.kind == EventType::Added),
            (true, true) => (EventType::Modified, ev.kind == EventType::Modified),
            (false, true) => (EventType::Deleted, ev.kind == EventType::Deleted),
        };
        if natural && self.plain() {
            return Ok(Some(ev.line().clone()));
        }
        let object = match kind {
            EventType::Deleted => ev.deleted_object().clone(),
            _ => ev.object.bytes().clone(),
        };
        self.line(kind.as_str(), &object).map(Some)
    }

    fn added(&mut self, obj: &CachedObject) -> ApiResult<Bytes> {
        self.line("ADDED", obj.bytes())
    }

    fn bookmark(&self, rev: Revision, initial_end: bool) -> Bytes {
        let mut meta = json!({"resourceVersion": rev.to_string()});
        if initial_end {
            meta["annotations"] = json!({INITIAL_EVENTS_END_ANNOTATION: "true"});
        }
        let obj = json!({"kind": self.res.gvk.kind, "apiVersion": self.res.api_version(), "metadata": meta});
        watch_line("BOOKMARK", &serde_json::to_vec(&obj).unwrap_or_default())
    }
}

fn error_line(status: &Status) -> Bytes {
    let ev: WatchEvent<()> = WatchEvent::Error(Box::new(status.clone()));
    let mut v = serde_json::to_vec(&ev).unwrap_or_default();
    v.push(b'\n');
    Bytes::from(v)
}

/// Where the watch starts.
enum Start {
    /// Send these objects as ADDED, then changes after the revision; optionally a
    /// bookmark marking the end of the initial events.
    Initial {
        snapshot: crate::cache::Snapshot,
        end_bookmark: bool,
    },
    /// Only changes after the revision.
    After(Revision),
}

pub(super) async fn watch(ctx: &Ctx<'_>) -> ApiResult<Response> {
    let (opts, mut filter) = parse_options(ctx)?;
    if !ctx.info.name.is_empty() {
        // `/watch/…/{name}`: the single-object form of `fieldSelector=metadata.name=`.
        let name_term = format!("metadata.name={}", ctx.info.name);
        let merged = if filter.fields.is_empty() {
            name_term
        } else {
            format!("{},{name_term}", filter.fields)
        };
        filter.fields =
            merged
                .parse()
                .map_err(|e: kubeforge_client::core::ParseSelectorError| {
                    ApiError::from(Status::bad_request(e.to_string()))
                })?;
    }
    let output = negotiate(
        ctx.header(http::header::ACCEPT),
        Accepts {
            table: true,
            metadata: true,
        },
    )?;
    let output = if output == Output::Yaml {
        Output::Json
    } else {
        output
    };
    let cache = ctx.cache()?.clone();

    let bad_rv = |e: String| {
        ApiError::from(Status::bad_request(format!(
            "invalid resource version: {e}"
        )))
    };
    let rv = opts.resource_version.as_deref();
    let start = match (opts.send_initial_events, rv) {
        // The current state first: sendInitialEvents=true, or (upstream's legacy
        // semantics) a watch without resourceVersion or at "0".
        (Some(true), _) | (None, None | Some("0")) => {
            match rv {
                None => {
                    cache.wait_fresh().await.map_err(|e| cache_error(ctx, e))?;
                }
                Some("0") => {}
                Some(rv) => {
                    let rev = parse_resource_version(rv).map_err(bad_rv)?;
                    cache.wait_for(rev).await.map_err(|e| cache_error(ctx, e))?;
                }
            }
            Start::Initial {
                snapshot: cache.snapshot(),
                end_bookmark: opts.send_initial_events == Some(true) && opts.allow_watch_bookmarks,
            }
        }
        // sendInitialEvents=false: changes only, from now (unset: the latest revision;
        // "0": whatever the cache has).
        (Some(false), None) => {
            Start::After(cache.wait_fresh().await.map_err(|e| cache_error(ctx, e))?)
        }
        (Some(false), Some("0")) => Start::After(cache.revision()),
        // Changes after N. N may be ahead of the cache (a client resuming against a
        // restarted server): the stream opens and events come as the cache reaches N.
        (_, Some(rv)) => Start::After(parse_resource_version(rv).map_err(bad_rv)?),
    };

    let timeout = match opts.timeout_seconds {
        Some(secs) if secs > 0 => Duration::from_secs(secs as u64),
        _ => {
            let min = ctx.server.config.min_request_timeout;
            let jitter = uuid::Uuid::new_v4().as_u128() % 1000;
            min + min.mul_f64(jitter as f64 / 1000.0)
        }
    };
    let encoder = Encoder {
        res: ctx.res.clone(),
        server: ctx.server.clone(),
        output,
        query: ctx.query.to_owned(),
        namespace: ctx.namespace.to_owned(),
        convert: crate::registry::convert::stored_as(ctx.res).is_some(),
        first_table: true,
    };
    let (tx, rx) = mpsc::channel::<Bytes>(CHANNEL_FRAMES);
    let task = WatchTask {
        cache,
        filter,
        encoder,
        tx,
        bookmarks: opts.allow_watch_bookmarks,
        bookmark_interval: ctx.server.config.bookmark_interval,
        shutdown: ctx.server.shutdown.clone(),
        epoch: ctx.server.watch_epoch.subscribe(),
        bookmark_control: ctx.server.bookmark_control.subscribe(),
    };
    let span =
        tracing::debug_span!("watch", resource = %ctx.res.plural, namespace = %ctx.namespace);
    ctx.server.tasks.spawn(tracing::Instrument::instrument(
        async move {
            let _ = tokio::time::timeout(timeout, task.run(start)).await;
        },
        span,
    ));

    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, std::convert::Infallible>(Frame::data(b)), rx))
    });
    let mut resp = http::Response::new(StreamBody::new(stream).boxed());
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(table::watch_content_type(output)),
    );
    resp.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-cache, private"),
    );
    Ok(resp)
}

struct WatchTask {
    cache: Arc<WatchCache>,
    filter: Filter,
    encoder: Encoder,
    tx: mpsc::Sender<Bytes>,
    bookmarks: bool,
    bookmark_interval: Duration,
    shutdown: tokio_util::sync::CancellationToken,
    /// Changes when a test closes every watch.
    epoch: tokio::sync::watch::Receiver<u64>,
    /// Changes when a test suppresses or forces bookmarks.
    bookmark_control: tokio::sync::watch::Receiver<crate::apiserver::BookmarkControl>,
}

/// The watch is over (client gone, or an error event was sent).
struct Done;

impl WatchTask {
    async fn send(&self, frame: Bytes) -> Result<(), Done> {
        self.tx.send(frame).await.map_err(|_| Done)
    }

    /// Sends one frame made of several lines (fewer, larger writes under load).
    async fn send_lines(&self, lines: Vec<Bytes>) -> Result<(), Done> {
        match lines.len() {
            0 => Ok(()),
            1 => {
                self.send(lines.into_iter().next().unwrap_or_default())
                    .await
            }
            _ => {
                let mut buf = BytesMut::with_capacity(lines.iter().map(Bytes::len).sum());
                for l in &lines {
                    buf.extend_from_slice(l);
                }
                self.send(buf.freeze()).await
            }
        }
    }

    async fn fail(&self, status: &Status) -> Done {
        let _ = self.send(error_line(status)).await;
        Done
    }

    async fn run(mut self, start: Start) {
        let _ = self.run_inner(start).await;
    }

    async fn run_inner(&mut self, start: Start) -> Result<(), Done> {
        let mut next = match start {
            Start::Initial {
                snapshot,
                end_bookmark,
            } => {
                let mut lines = Vec::new();
                for obj in snapshot.items.values() {
                    if !self.filter.matches(obj) {
                        continue;
                    }
                    match self.encoder.added(obj) {
                        Ok(l) => lines.push(l),
                        Err(e) => return Err(self.fail(&e.0).await),
                    }
                    if lines.len() >= BATCH {
                        self.send_lines(std::mem::take(&mut lines)).await?;
                    }
                }
                self.send_lines(lines).await?;
                if end_bookmark {
                    self.send(self.encoder.bookmark(snapshot.revision, true))
                        .await?;
                }
                snapshot.revision
            }
            Start::After(rev) => rev,
        };
        let mut observed = self.cache.subscribe();
        // Only watches that asked for bookmarks get a ticker.
        let mut ticker = self.bookmarks.then(|| {
            let mut t = tokio::time::interval(self.bookmark_interval);
            t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            t.reset();
            t
        });
        let mut bookmark_due = false;
        let mut forced_seen = self.bookmark_control.borrow_and_update().forced;
        loop {
            observed.borrow_and_update();
            let (events, caught_up) = match self.cache.events_after_with_revision(next, BATCH) {
                Ok(x) => x,
                Err(too_old) => {
                    let status = Status::expired(format!(
                        "too old resource version: {next} ({})",
                        too_old.oldest
                    ));
                    return Err(self.fail(&status).await);
                }
            };
            if !events.is_empty() {
                let mut lines = Vec::with_capacity(events.len());
                for ev in &events {
                    match self.encoder.event(ev, &self.filter) {
                        Ok(Some(l)) => lines.push(l),
                        Ok(None) => {}
                        Err(e) => return Err(self.fail(&e.0).await),
                    }
                    next = ev.revision;
                }
                self.send_lines(lines).await?;
                continue;
            }
            // A bookmark may only claim what the cache has reached (a watch resumed ahead
            // of the cache waits until it catches up).
            let suppressed = self.bookmark_control.borrow().suppressed;
            if bookmark_due && self.bookmarks && !suppressed && caught_up >= next {
                bookmark_due = false;
                self.send(self.encoder.bookmark(caught_up, false)).await?;
                next = caught_up;
            }
            tokio::select! {
                changed = observed.changed() => {
                    if changed.is_err() {
                        return Err(Done);
                    }
                }
                _ = async { match ticker.as_mut() { Some(t) => t.tick().await, None => std::future::pending().await } } => {
                    bookmark_due = true;
                    // Bring a quiet resource's revision up to date so the bookmark is useful.
                    let _ = self.cache.wait_fresh().await;
                }
                () = self.tx.closed() => return Err(Done),
                () = self.shutdown.cancelled() => return Err(Done),
                _ = self.epoch.changed() => return Err(Done),
                changed = self.bookmark_control.changed() => {
                    if changed.is_err() {
                        return Err(Done);
                    }
                    let forced = self.bookmark_control.borrow_and_update().forced;
                    if forced != forced_seen {
                        forced_seen = forced;
                        bookmark_due = true;
                        let _ = self.cache.wait_fresh().await;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_events_carry_the_status() {
        let line = error_line(&Status::expired("too old resource version: 1 (5)"));
        let v: serde_json::Value = serde_json::from_slice(&line).expect("json");
        assert_eq!(v["type"], "ERROR");
        assert_eq!(v["object"]["code"], 410);
        assert_eq!(v["object"]["reason"], "Expired");
    }
}
