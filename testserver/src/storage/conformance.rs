//! The storage contract as a test suite that every backend runs.
//!
//! Each `run_*` function checks one part of the [`Storage`] contract against a fresh,
//! empty store made by the caller, and panics with a message naming the broken rule.
//! Keys live under [`ROOT`]; revisions are asserted relative to the store's revision
//! when the check starts, so a backend whose revisions do not start at zero (etcd)
//! passes the same suite.
//!
//! ```
//! use kubeforge_testserver::storage::{conformance, memory::MemoryStorage};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! conformance::run_all(|| async { MemoryStorage::new() }).await;
//! # }
//! ```

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;

use super::{Error, EventKind, Revision, Storage, Watch, WatchItem};

/// Every key the suite writes starts with this.
pub const ROOT: &str = "/conformance/";

fn key(name: &str) -> String {
    format!("{ROOT}{name}")
}

fn val(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

/// Runs every check, each on a fresh store from `make`.
pub async fn run_all<S, F, Fut>(make: F)
where
    S: Storage,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    run_create(&make().await).await;
    run_get(&make().await).await;
    run_cas(&make().await).await;
    run_delete(&make().await).await;
    run_range_at_revision(&make().await).await;
    run_range_pagination(&make().await).await;
    run_watch_from_revision(&make().await).await;
    run_watch_prefix(&make().await).await;
    run_watch_slow_reader(&make().await).await;
    run_watch_progress(&make().await).await;
    run_compaction(&make().await).await;
}

/// Takes the next batch of events from a watch, failing after a few seconds.
async fn next_events(w: &mut Watch) -> Vec<super::Event> {
    loop {
        let item = tokio::time::timeout(Duration::from_secs(10), w.stream.next())
            .await
            .expect("watch delivered nothing within 10 s")
            .expect("watch ended")
            .expect("watch failed");
        match item {
            WatchItem::Events(evs) => return evs,
            WatchItem::Progress(_) => continue,
        }
    }
}

/// Collects exactly `n` events.
async fn collect_events(w: &mut Watch, n: usize) -> Vec<super::Event> {
    let mut out = Vec::new();
    while out.len() < n {
        out.extend(next_events(w).await);
    }
    assert_eq!(out.len(), n, "watch delivered more events than written");
    out
}

/// Create: takes the next revision, sets create/mod revision and version 1; creating an
/// existing key fails with `KeyExists` and takes no revision.
pub async fn run_create<S: Storage>(s: &S) {
    let base = s.current_revision().await.expect("current revision");
    let kv = s.create(&key("a"), val("1")).await.expect("create");
    assert_eq!(kv.mod_revision, base + 1, "create takes the next revision");
    assert_eq!(
        kv.create_revision,
        base + 1,
        "create revision is the create's"
    );
    assert_eq!(kv.version, 1, "a new key has version 1");
    assert_eq!(kv.value, val("1"));
    let err = s
        .create(&key("a"), val("2"))
        .await
        .expect_err("second create");
    assert!(
        matches!(err, Error::KeyExists { .. }),
        "create of an existing key: {err:?}"
    );
    assert_eq!(
        s.current_revision().await.expect("rev"),
        base + 1,
        "a failed create takes no revision"
    );
}

/// Get: latest by default, any retained revision on request, `Compacted`/`FutureRevision`
/// outside the retained window.
pub async fn run_get<S: Storage>(s: &S) {
    let base = s.current_revision().await.expect("rev");
    let (missing, rev) = s.get(&key("x"), 0).await.expect("get missing");
    assert!(missing.is_none(), "a missing key reads as None");
    assert_eq!(rev, base);
    let c = s.create(&key("x"), val("1")).await.expect("create");
    let u = s
        .update(&key("x"), val("2"), c.mod_revision)
        .await
        .expect("update");
    let (latest, _) = s.get(&key("x"), 0).await.expect("get");
    assert_eq!(
        latest.expect("exists").value,
        val("2"),
        "get reads the latest value"
    );
    let (old, rev) = s.get(&key("x"), c.mod_revision).await.expect("get old");
    assert_eq!(
        old.expect("exists").value,
        val("1"),
        "get at a revision reads that revision"
    );
    assert_eq!(rev, c.mod_revision);
    let err = s
        .get(&key("x"), u.mod_revision + 10)
        .await
        .expect_err("future");
    assert!(
        matches!(err, Error::FutureRevision { .. }),
        "future revision: {err:?}"
    );
}

/// Compare-and-swap: update succeeds only at the expected mod revision, bumps the
/// version, keeps the create revision; a stale expectation returns the current value.
pub async fn run_cas<S: Storage>(s: &S) {
    let c = s.create(&key("c"), val("1")).await.expect("create");
    let u = s
        .update(&key("c"), val("2"), c.mod_revision)
        .await
        .expect("update");
    assert_eq!(
        u.mod_revision,
        c.mod_revision + 1,
        "update takes the next revision"
    );
    assert_eq!(
        u.create_revision, c.create_revision,
        "update keeps the create revision"
    );
    assert_eq!(u.version, 2, "update bumps the version");
    let err = s
        .update(&key("c"), val("3"), c.mod_revision)
        .await
        .expect_err("stale");
    match err {
        Error::Conflict {
            current, expected, ..
        } => {
            assert_eq!(expected, c.mod_revision);
            let current = current.expect("conflict carries the current value");
            assert_eq!(current.mod_revision, u.mod_revision);
            assert_eq!(current.value, val("2"));
        }
        other => panic!("stale update must conflict, got {other:?}"),
    }
    let err = s
        .update(&key("nope"), val("x"), 1)
        .await
        .expect_err("missing");
    assert!(
        matches!(err, Error::Conflict { current: None, .. }),
        "update of a missing key conflicts with no current value: {err:?}"
    );
}

/// Delete: returns the last state, takes a revision, honours the expected revision;
/// recreating starts a new incarnation.
pub async fn run_delete<S: Storage>(s: &S) {
    let c = s.create(&key("d"), val("1")).await.expect("create");
    let err = s
        .delete(&key("d"), Some(c.mod_revision + 100))
        .await
        .expect_err("stale");
    assert!(
        matches!(err, Error::Conflict { .. }),
        "stale delete: {err:?}"
    );
    let (prev, rev) = s
        .delete(&key("d"), Some(c.mod_revision))
        .await
        .expect("delete");
    assert_eq!(prev.value, val("1"), "delete returns the last value");
    assert_eq!(rev, c.mod_revision + 1, "delete takes the next revision");
    let err = s.delete(&key("d"), None).await.expect_err("again");
    assert!(
        matches!(err, Error::KeyNotFound { .. }),
        "delete of a missing key: {err:?}"
    );
    let (gone, _) = s.get(&key("d"), 0).await.expect("get");
    assert!(gone.is_none(), "a deleted key reads as None");
    let (before, _) = s.get(&key("d"), c.mod_revision).await.expect("get old");
    assert!(before.is_some(), "history before the delete is readable");
    let again = s.create(&key("d"), val("2")).await.expect("recreate");
    assert_eq!(again.version, 1, "a recreated key starts at version 1");
    assert_eq!(
        again.create_revision, again.mod_revision,
        "a recreated key has a new create revision"
    );
}

/// Range: prefix-bounded, key-ordered, at a past revision.
pub async fn run_range_at_revision<S: Storage>(s: &S) {
    s.create(&key("r/b"), val("b1")).await.expect("create");
    let a = s.create(&key("r/a"), val("a1")).await.expect("create");
    s.create(&key("rz"), val("outside")).await.expect("create");
    let snapshot = s.current_revision().await.expect("rev");
    s.update(&key("r/a"), val("a2"), a.mod_revision)
        .await
        .expect("update");
    s.delete(&key("r/b"), None).await.expect("delete");
    s.create(&key("r/c"), val("c1")).await.expect("create");

    let now = s.range(&key("r/"), None, 0, 0).await.expect("range");
    let got: Vec<(&str, &[u8])> = now
        .kvs
        .iter()
        .map(|kv| (kv.key.as_str(), &kv.value[..]))
        .collect();
    assert_eq!(
        got,
        vec![
            (key("r/a").as_str(), &b"a2"[..]),
            (key("r/c").as_str(), &b"c1"[..])
        ],
        "range reads live keys under the prefix only, in key order"
    );
    let then = s
        .range(&key("r/"), None, snapshot, 0)
        .await
        .expect("range at rev");
    let got: Vec<(&str, &[u8])> = then
        .kvs
        .iter()
        .map(|kv| (kv.key.as_str(), &kv.value[..]))
        .collect();
    assert_eq!(
        got,
        vec![
            (key("r/a").as_str(), &b"a1"[..]),
            (key("r/b").as_str(), &b"b1"[..])
        ],
        "range at a revision sees the store as it was"
    );
    assert_eq!(then.revision, snapshot);
}

/// Range pagination: `limit`, `more`, `count` and a start key give stable pages at one
/// revision.
pub async fn run_range_pagination<S: Storage>(s: &S) {
    for i in 0..7 {
        s.create(&key(&format!("p/{i:02}")), val(&i.to_string()))
            .await
            .expect("create");
    }
    let rev = s.current_revision().await.expect("rev");
    let mut start: Option<String> = None;
    let mut seen = Vec::new();
    loop {
        let page = s
            .range(&key("p/"), start.as_deref(), rev, 3)
            .await
            .expect("page");
        assert!(page.kvs.len() <= 3, "a page holds at most `limit` keys");
        seen.extend(page.kvs.iter().map(|kv| kv.key.clone()));
        // Writes between pages must not show up in later pages at `rev`.
        s.create(&key(&format!("p/{:02}x", seen.len())), val("late"))
            .await
            .expect("create");
        if !page.more {
            assert_eq!(
                page.count,
                page.kvs.len(),
                "the last page counts only itself"
            );
            break;
        }
        assert_eq!(
            page.count,
            7 - (seen.len() - page.kvs.len()),
            "count covers the rest"
        );
        let last = page.kvs.last().expect("non-empty page").key.clone();
        start = Some(format!("{last}\0"));
    }
    let want: Vec<String> = (0..7).map(|i| key(&format!("p/{i:02}"))).collect();
    assert_eq!(
        seen, want,
        "pages at one revision cover each key once, in order"
    );
}

/// Watch from a revision: replays history from `start`, then follows live writes, in
/// order, with previous values, without gaps or repeats.
pub async fn run_watch_from_revision<S: Storage>(s: &S) {
    let c = s.create(&key("w/a"), val("1")).await.expect("create");
    let u = s
        .update(&key("w/a"), val("2"), c.mod_revision)
        .await
        .expect("update");
    let mut w = s.watch(&key("w/"), c.mod_revision);
    let (_, d) = s.delete(&key("w/a"), None).await.expect("delete");
    let evs = collect_events(&mut w, 3).await;
    let revs: Vec<Revision> = evs.iter().map(|e| e.revision()).collect();
    assert_eq!(
        revs,
        vec![c.mod_revision, u.mod_revision, d],
        "events in order, none skipped"
    );
    assert_eq!(evs[0].kind, EventKind::Put);
    assert!(evs[0].prev_kv.is_none(), "a create has no previous value");
    assert_eq!(
        evs[1].prev_kv.as_ref().expect("prev").value,
        val("1"),
        "an update carries the previous value"
    );
    assert_eq!(evs[2].kind, EventKind::Delete);
    assert_eq!(
        evs[2].prev_kv.as_ref().expect("prev").value,
        val("2"),
        "a delete carries the deleted value"
    );

    // A watch from 0 sees only what happens after it starts.
    let mut live = s.watch(&key("w/"), 0);
    let n = s.create(&key("w/b"), val("x")).await.expect("create");
    let evs = collect_events(&mut live, 1).await;
    assert_eq!(
        evs[0].revision(),
        n.mod_revision,
        "a watch from 0 starts after the current revision"
    );
}

/// Prefix isolation: a watch sees only keys under its prefix.
pub async fn run_watch_prefix<S: Storage>(s: &S) {
    let mut w = s.watch(&key("pa/"), 0);
    s.create(&key("pb/x"), val("no")).await.expect("create");
    s.create(&key("pa"), val("no")).await.expect("create");
    let mine = s.create(&key("pa/x"), val("yes")).await.expect("create");
    let evs = collect_events(&mut w, 1).await;
    assert_eq!(
        evs[0].kv.key,
        key("pa/x"),
        "only keys under the prefix are watched"
    );
    assert_eq!(evs[0].revision(), mine.mod_revision);
}

/// A reader that falls far behind still gets every event exactly once, in order.
pub async fn run_watch_slow_reader<S: Storage>(s: &S) {
    let base = s.current_revision().await.expect("rev");
    let mut w = s.watch(&key("slow/"), 0);
    const N: usize = 6000;
    for i in 0..N {
        s.create(&key(&format!("slow/{i}")), val("v"))
            .await
            .expect("create");
    }
    let evs = collect_events(&mut w, N).await;
    for (i, e) in evs.iter().enumerate() {
        assert_eq!(
            e.revision(),
            base + 1 + i as Revision,
            "event {i} out of order or missing"
        );
    }
}

/// Progress: on request, a watch reports a revision once everything up to it has been
/// delivered, even when the watched prefix saw no writes.
pub async fn run_watch_progress<S: Storage>(s: &S) {
    let mut w = s.watch(&key("prog/"), 0);
    s.create(&key("other"), val("x")).await.expect("create");
    let current = s.current_revision().await.expect("rev");
    w.progress.request_progress();
    let rev = loop {
        let item = tokio::time::timeout(Duration::from_secs(10), w.stream.next())
            .await
            .expect("no progress within 10 s")
            .expect("watch ended")
            .expect("watch failed");
        if let WatchItem::Progress(rev) = item {
            break rev;
        }
    };
    assert!(
        rev >= current,
        "progress {rev} must cover the current revision {current}"
    );
}

/// Compaction: older reads and watches fail with `Compacted`; the state at the
/// compaction revision and later stays readable and watchable.
pub async fn run_compaction<S: Storage>(s: &S) {
    let a = s.create(&key("k/a"), val("1")).await.expect("create");
    let u = s
        .update(&key("k/a"), val("2"), a.mod_revision)
        .await
        .expect("update");
    let b = s.create(&key("k/b"), val("1")).await.expect("create");
    s.delete(&key("k/b"), None).await.expect("delete");
    s.compact(b.mod_revision).await.expect("compact");

    let err = s
        .get(&key("k/a"), a.mod_revision)
        .await
        .expect_err("compacted read");
    assert!(
        matches!(err, Error::Compacted { .. }),
        "read before the compaction: {err:?}"
    );
    let (at, _) = s
        .get(&key("k/a"), b.mod_revision)
        .await
        .expect("read at compaction");
    assert_eq!(
        at.expect("a exists").mod_revision,
        u.mod_revision,
        "state at the compaction revision survives"
    );
    let range = s
        .range(&key("k/"), None, b.mod_revision, 0)
        .await
        .expect("range");
    assert_eq!(
        range.kvs.len(),
        2,
        "both keys existed at the compaction revision"
    );

    let mut old = s.watch(&key("k/"), a.mod_revision);
    let item = tokio::time::timeout(Duration::from_secs(10), old.stream.next())
        .await
        .expect("watch answered")
        .expect("watch item");
    assert!(
        matches!(item, Err(Error::Compacted { .. })),
        "watch from before the compaction fails: {item:?}"
    );
    let mut ok = s.watch(&key("k/"), b.mod_revision + 1);
    let evs = collect_events(&mut ok, 1).await;
    assert_eq!(
        evs[0].kind,
        EventKind::Delete,
        "watch from after the compaction replays"
    );

    let err = s
        .compact(a.mod_revision)
        .await
        .expect_err("older compaction");
    assert!(
        matches!(err, Error::Compacted { .. }),
        "compacting backwards: {err:?}"
    );
}
