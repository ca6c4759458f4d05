use std::time::Duration;

use kubeforge_testserver::TestServer;
use kubeforge_testserver::watch_check::{self, Recorded};
use serde_json::{Value, json};

use crate::support::{start, start_with, summary};

const CM: &str = "/api/v1/namespaces/default/configmaps";

/// Without a resourceVersion a watch starts with the current state as ADDED, then
/// follows changes; DELETED carries the last state at the deletion's resourceVersion.
#[tokio::test]
async fn watch_from_now_replays_state_then_changes() {
    let h = start().await;
    let a = h.client.configmap("default", "a", &[("k", "1")]).await;
    let mut w = h.client.watch(&format!("{CM}?watch=true")).await;
    let first = w.next_change().await;
    assert_eq!(summary(&first), ("ADDED".into(), "a".into(), a.rv()));
    assert_eq!(first["object"]["data"]["k"], "1");
    let m = h
        .client
        .patch(
            &format!("{CM}/a"),
            "application/merge-patch+json",
            &json!({"data": {"k": "2"}}),
        )
        .await
        .expect(200);
    assert_eq!(
        summary(&w.next_change().await),
        ("MODIFIED".into(), "a".into(), m.rv())
    );
    h.client.delete(&format!("{CM}/a")).await.expect(200);
    let del = w.next_change().await;
    assert_eq!(del["type"], "DELETED");
    assert_eq!(
        del["object"]["data"]["k"], "2",
        "DELETED carries the last state"
    );
    assert!(
        summary(&del).2 > m.rv(),
        "at the deletion's resourceVersion"
    );
}

/// A watch from resourceVersion N sends only changes after N, no synthetic ADDED.
#[tokio::test]
async fn watch_from_resource_version_sends_only_later_changes() {
    let h = start().await;
    let a = h.client.configmap("default", "a", &[]).await;
    let b = h.client.configmap("default", "b", &[]).await;
    let mut w = h
        .client
        .watch(&format!("{CM}?watch=1&resourceVersion={}", a.rv()))
        .await;
    assert_eq!(
        summary(&w.next_change().await),
        ("ADDED".into(), "b".into(), b.rv())
    );
    let c = h.client.configmap("default", "c", &[]).await;
    assert_eq!(
        summary(&w.next_change().await),
        ("ADDED".into(), "c".into(), c.rv())
    );
    // The deprecated /watch/ path prefix, for a single object.
    let mut single = h
        .client
        .watch(&format!(
            "/api/v1/watch/namespaces/default/configmaps/c?resourceVersion={}",
            a.rv()
        ))
        .await;
    assert_eq!(summary(&single.next_change().await).1, "c");
}

/// Leaving a watch's selector is DELETED (previous state); entering is ADDED.
#[tokio::test]
async fn selector_transitions() {
    let h = start().await;
    let cm = h
        .client
        .post(
            CM,
            &json!({"metadata": {"name": "s", "labels": {"watch": "yes"}}}),
        )
        .await
        .expect(201);
    let mut w = h
        .client
        .watch(&format!(
            "{CM}?watch=true&labelSelector=watch%3Dyes&resourceVersion={}",
            cm.rv() - 1
        ))
        .await;
    assert_eq!(w.next_change().await["type"], "ADDED");
    let left = h
        .client
        .patch(
            &format!("{CM}/s"),
            "application/merge-patch+json",
            &json!({"metadata": {"labels": {"watch": "no"}}}),
        )
        .await
        .expect(200);
    let ev = w.next_change().await;
    assert_eq!(summary(&ev), ("DELETED".into(), "s".into(), left.rv()));
    assert_eq!(
        ev["object"]["metadata"]["labels"]["watch"], "yes",
        "the previous state"
    );
    let back = h
        .client
        .patch(
            &format!("{CM}/s"),
            "application/merge-patch+json",
            &json!({"metadata": {"labels": {"watch": "yes"}}}),
        )
        .await
        .expect(200);
    assert_eq!(
        summary(&w.next_change().await),
        ("ADDED".into(), "s".into(), back.rv())
    );
    // Changes outside the selector never arrive.
    h.client.configmap("default", "other", &[]).await;
    w.expect_quiet(Duration::from_millis(200)).await;
}

/// Bookmarks only when allowed; sendInitialEvents ends the initial state with the
/// annotated bookmark at the snapshot's resourceVersion.
#[tokio::test]
async fn bookmarks_and_initial_events() {
    let h = start_with(TestServer::builder().bookmark_interval(Duration::from_millis(100))).await;
    let a = h.client.configmap("default", "a", &[]).await;
    let mut w = h
        .client
        .watch(&format!("{CM}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true"))
        .await;
    let added = w.next().await.expect("event");
    assert_eq!(summary(&added), ("ADDED".into(), "a".into(), a.rv()));
    let end = w.next().await.expect("bookmark");
    assert_eq!(end["type"], "BOOKMARK");
    assert_eq!(end["object"]["kind"], "ConfigMap");
    assert_eq!(
        end["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    let rv: u64 = end["object"]["metadata"]["resourceVersion"]
        .as_str()
        .expect("rv")
        .parse()
        .expect("number");
    assert!(rv >= a.rv());
    // Periodic bookmarks follow.
    let next = w.next().await.expect("periodic bookmark");
    assert_eq!(next["type"], "BOOKMARK");
    assert!(next["object"]["metadata"].get("annotations").is_none());
    // Without allowWatchBookmarks: no bookmarks at all.
    let mut quiet = h
        .client
        .watch(&format!("{CM}?watch=true&resourceVersion={}", a.rv()))
        .await;
    assert!(
        quiet
            .next_within(Duration::from_millis(400))
            .await
            .is_none(),
        "no bookmark without allowWatchBookmarks"
    );
    // sendInitialEvents without NotOlderThan is invalid.
    h.client
        .get(&format!("{CM}?watch=true&sendInitialEvents=true"))
        .await
        .expect_status(422, "Invalid");
}

/// timeoutSeconds ends the response cleanly (no ERROR event).
#[tokio::test]
async fn timeout_ends_the_stream() {
    let h = start().await;
    let mut w = h
        .client
        .watch(&format!(
            "{CM}?watch=true&timeoutSeconds=1&resourceVersion=0"
        ))
        .await;
    loop {
        match w.next_within(Duration::from_secs(10)).await {
            Some(Some(ev)) => assert_ne!(ev["type"], "ERROR"),
            Some(None) => break,
            None => panic!("watch did not end after timeoutSeconds"),
        }
    }
}

/// Resuming from a resourceVersion older than the history answers 200 and one
/// ERROR event: 410 Expired, "too old resource version".
#[tokio::test]
async fn too_old_resource_version_is_an_error_event() {
    let h = start().await;
    let a = h.client.configmap("default", "a", &[]).await;
    h.client.configmap("default", "b", &[]).await;
    h.server.compact().await.expect("compact");
    let mut w = h
        .client
        .watch(&format!("{CM}?watch=true&resourceVersion={}", a.rv()))
        .await;
    let ev = w.next().await.expect("error event");
    assert_eq!(ev["type"], "ERROR");
    assert_eq!(ev["object"]["code"], 410);
    assert_eq!(ev["object"]["reason"], "Expired");
    assert!(
        ev["object"]["message"]
            .as_str()
            .expect("message")
            .starts_with(&format!("too old resource version: {}", a.rv()))
    );
    assert!(
        w.next_within(Duration::from_secs(5)).await == Some(None),
        "the stream closes after the error"
    );
}

/// A watch whose history window is tiny and whose reader lags gets 410, not a gap.
#[tokio::test]
async fn history_window_overrun_is_410_not_a_gap() {
    let h = start_with(TestServer::builder().watch_history(5)).await;
    let base = h.client.configmap("default", "base", &[]).await;
    for i in 0..20 {
        h.client.configmap("default", &format!("x{i}"), &[]).await;
    }
    let mut w = h
        .client
        .watch(&format!("{CM}?watch=true&resourceVersion={}", base.rv()))
        .await;
    let ev = w.next().await.expect("event");
    assert_eq!(ev["type"], "ERROR", "events fell out of the window: {ev}");
    assert_eq!(ev["object"]["code"], 410);
}

fn record(ev: &Value) -> Option<Recorded> {
    let t = ev["type"].as_str()?;
    if !matches!(t, "ADDED" | "MODIFIED" | "DELETED") {
        return None;
    }
    let (_, name, rv) = summary(ev);
    Some(Recorded {
        event_type: t.to_owned(),
        key: name,
        resource_version: rv,
    })
}

/// The watch checker over concurrent writers: one reference watch, and a watch
/// resumed from every delivered resourceVersion, each checked for ordered, unique,
/// reliable and resumable delivery.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches_never_skip_repeat_or_reorder_across_restarts() {
    let h = start().await;
    h.client.namespace("chk").await;
    let path = "/api/v1/namespaces/chk/configmaps";
    let start_rv = h.client.get(path).await.expect(200).rv();
    let mut reference = h
        .client
        .watch(&format!("{path}?watch=true&resourceVersion={start_rv}"))
        .await;
    let mut writers = Vec::new();
    for w in 0..4 {
        let c = h.client.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..15 {
                let name = format!("w{w}-{}", i % 5);
                let p = format!("/api/v1/namespaces/chk/configmaps/{name}");
                match i % 3 {
                    0 => {
                        let _ = c
                            .post(
                                "/api/v1/namespaces/chk/configmaps",
                                &json!({"metadata": {"name": name}}),
                            )
                            .await;
                    }
                    1 => {
                        let _ = c
                            .patch(
                                &p,
                                "application/merge-patch+json",
                                &json!({"data": {"i": i.to_string()}}),
                            )
                            .await;
                    }
                    _ => {
                        let _ = c.delete(&p).await;
                    }
                }
            }
        }));
    }
    for w in writers {
        w.await.expect("writer");
    }
    let end_rv = h.client.get(path).await.expect(200).rv();
    let mut events = Vec::new();
    while events
        .last()
        .is_none_or(|e: &Recorded| e.resource_version < end_rv)
    {
        let ev = reference.next().await.expect("reference watch ended");
        if let Some(r) = record(&ev) {
            events.push(r);
        }
        if end_rv == start_rv {
            break;
        }
    }
    watch_check::ordered(&events).unwrap_or_else(|v| panic!("{v}"));
    watch_check::unique(&events).unwrap_or_else(|v| panic!("{v}"));
    // Nothing but these writers changes anything in this server during the window, and
    // every successful write takes the next revision: the reference watch must hold
    // every revision of the window, none skipped.
    let revs: Vec<u64> = events.iter().map(|e| e.resource_version).collect();
    let all: Vec<u64> = (start_rv + 1..=end_rv).collect();
    assert_eq!(
        revs, all,
        "watch guarantee `reliable` violated: the reference watch skipped revisions"
    );
    for from in std::iter::once(start_rv).chain(events.iter().map(|e| e.resource_version)) {
        if from == end_rv {
            continue;
        }
        let mut resumed_watch = h
            .client
            .watch(&format!("{path}?watch=true&resourceVersion={from}"))
            .await;
        let mut resumed = Vec::new();
        while resumed
            .last()
            .is_none_or(|e: &Recorded| e.resource_version < end_rv)
        {
            let ev = resumed_watch.next().await.expect("resumed watch ended");
            if let Some(r) = record(&ev) {
                resumed.push(r);
            }
        }
        watch_check::resumable(&resumed, &events, from, end_rv).unwrap_or_else(|v| panic!("{v}"));
    }
}

/// sendInitialEvents=false: only changes, no initial state.
#[tokio::test]
async fn send_initial_events_false_sends_only_changes() {
    let h = start().await;
    h.client.configmap("default", "old", &[]).await;
    let mut w = h
        .client
        .watch(&format!(
            "{CM}?watch=true&sendInitialEvents=false&resourceVersionMatch=NotOlderThan"
        ))
        .await;
    let new = h.client.configmap("default", "new", &[]).await;
    assert_eq!(
        summary(&w.next_change().await),
        ("ADDED".into(), "new".into(), new.rv())
    );
}

/// A watch from a resourceVersion the server has not reached yet opens and delivers
/// what comes after it.
#[tokio::test]
async fn watch_from_a_future_revision_waits_for_it() {
    let h = start().await;
    let cm = h.client.configmap("default", "a", &[]).await;
    let mut w = h
        .client
        .watch(&format!("{CM}?watch=true&resourceVersion={}", cm.rv() + 1))
        .await;
    h.client.configmap("default", "b", &[]).await; // takes rv+1: not delivered
    let c = h.client.configmap("default", "c", &[]).await;
    assert_eq!(
        summary(&w.next_change().await),
        ("ADDED".into(), "c".into(), c.rv())
    );
}

/// Metadata-only watches get PartialObjectMetadata events.
#[tokio::test]
async fn metadata_only_watch() {
    let h = start().await;
    h.client.configmap("default", "m", &[("k", "v")]).await;
    let resp = h
        .client
        .http
        .get(h.client.url(&format!("{CM}?watch=true")))
        .header(
            "accept",
            "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1",
        )
        .send()
        .await
        .expect("watch");
    assert_eq!(resp.status(), 200);
    let mut body = Vec::new();
    let mut resp = resp;
    while !body.contains(&b'\n') {
        body.extend_from_slice(&resp.chunk().await.expect("chunk").expect("data"));
    }
    let line = body.split(|b| *b == b'\n').next().expect("line");
    let ev: Value = serde_json::from_slice(line).expect("json");
    assert_eq!(ev["object"]["kind"], "PartialObjectMetadata");
    assert_eq!(ev["object"]["metadata"]["name"], "m");
    assert!(ev["object"].get("data").is_none());
}
