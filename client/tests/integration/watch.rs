//! Watches: typed events in order, bookmarks, streaming lists, resumption and 410.

use std::pin::pin;

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kubeforge_client::api::{Api, Patch};
use kubeforge_client::core::{CreateOptions, DeleteOptions, ListOptions, PatchOptions, WatchEvent};
use serde_json::json;

use crate::support::{self, configmap};

/// A watch from a list's resourceVersion sees every later change in order, as typed
/// ADDED, MODIFIED and DELETED events.
#[tokio::test]
async fn a_watch_sees_every_change_after_its_resource_version_in_order() {
    let server = support::server().await;
    let api = Api::<ConfigMap>::namespaced(support::client(&server), "default");
    let rv = api
        .list(&ListOptions::default())
        .await
        .expect("list")
        .metadata
        .resource_version
        .expect("rv");
    let mut events = pin!(
        api.watch(&ListOptions::default().at(rv).timeout(30))
            .await
            .expect("watch")
    );

    api.create(&CreateOptions::default(), &configmap("w", "k", "1"))
        .await
        .expect("create");
    api.patch(
        "w",
        &PatchOptions::default(),
        &Patch::Merge(json!({"data": {"k": "2"}})),
    )
    .await
    .expect("patch");
    api.delete("w", &DeleteOptions::default())
        .await
        .expect("delete");

    let mut seen = Vec::new();
    while seen.len() < 3 {
        let event = events.next().await.expect("event").expect("decoded");
        let summary = match event {
            WatchEvent::Added(cm) => ("ADDED", cm.data.expect("data")["k"].clone()),
            WatchEvent::Modified(cm) => ("MODIFIED", cm.data.expect("data")["k"].clone()),
            WatchEvent::Deleted(cm) => ("DELETED", cm.data.expect("data")["k"].clone()),
            other => panic!("unexpected {other:?}"),
        };
        seen.push(summary);
    }
    assert_eq!(
        seen,
        [
            ("ADDED", "1".to_owned()),
            ("MODIFIED", "2".to_owned()),
            ("DELETED", "2".to_owned())
        ]
    );
}

/// A streaming list (`sendInitialEvents`) sends the current objects as ADDED events,
/// then a bookmark marked as the end of the initial events.
#[tokio::test]
async fn a_streaming_list_ends_its_initial_events_with_a_bookmark() {
    let server = support::server().await;
    let api = Api::<ConfigMap>::namespaced(support::client(&server), "default");
    for i in 0..5 {
        api.create(
            &CreateOptions::default(),
            &configmap(&format!("s{i}"), "k", "v"),
        )
        .await
        .expect("create");
    }
    let mut events = pin!(
        api.watch(&ListOptions::default().initial_events().timeout(30))
            .await
            .expect("watch")
    );
    let mut added = 0;
    loop {
        match events.next().await.expect("event").expect("decoded") {
            WatchEvent::Added(_) => added += 1,
            WatchEvent::Bookmark(b) => {
                assert!(b.is_initial_events_end(), "{b:?}");
                assert!(!b.metadata.resource_version.is_empty());
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(added, 5);
}

/// Resuming a watch from a compacted resourceVersion gets 410: as an ERROR event or
/// a failed call, both read as `is_gone`.
#[tokio::test]
async fn a_watch_from_compacted_history_reports_gone() {
    let server = support::server().await;
    let api = Api::<ConfigMap>::namespaced(support::client(&server), "default");
    let first = api
        .create(&CreateOptions::default(), &configmap("old", "k", "v"))
        .await
        .expect("create");
    api.create(&CreateOptions::default(), &configmap("new", "k", "v"))
        .await
        .expect("create");
    server.compact().await.expect("compact");
    let old_rv = first.metadata.resource_version.expect("rv");
    match api
        .watch(&ListOptions::default().at(old_rv).timeout(30))
        .await
    {
        Err(e) => assert!(e.is_gone(), "{e}"),
        Ok(events) => {
            let mut events = pin!(events);
            match events.next().await.expect("event").expect("decoded") {
                WatchEvent::Error(status) => assert!(status.is_gone(), "{status:?}"),
                other => panic!("expected 410, got {other:?}"),
            }
        }
    }
}

/// A watch ends cleanly (the stream finishes) when the server closes it.
#[tokio::test]
async fn a_watch_stream_finishes_when_the_server_closes_it() {
    let server = support::server().await;
    let api = Api::<ConfigMap>::namespaced(support::client(&server), "default");
    let mut events = pin!(
        api.watch(&ListOptions::default().timeout(300))
            .await
            .expect("watch")
    );
    server.close_watches();
    while let Some(item) = events.next().await {
        item.expect("no error before the end");
    }
}
