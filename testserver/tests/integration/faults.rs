//! Fault injection: each kind of fault does what it says to exactly the requests it
//! matches, for exactly as many requests as armed, and the server is fine afterwards.

use std::time::{Duration, Instant};

use kubeforge_client::core::Status;
use kubeforge_testserver::Fault;
use serde_json::json;

use crate::support::start;

const CM: &str = "/api/v1/namespaces/default/configmaps";

#[tokio::test]
async fn a_failure_answers_the_matching_requests_with_its_status_then_disarms() {
    let h = start().await;
    h.client.configmap("default", "a", &[]).await.expect(201);
    h.server.inject(
        Fault::fail(Status::too_many_requests("slow down", 3))
            .verb("list")
            .resource("configmaps")
            .times(2),
    );
    // A get of the same resource does not match the list fault.
    h.client.get(&format!("{CM}/a")).await.expect(200);
    for _ in 0..2 {
        let r = h.client.get(CM).await.expect_status(429, "TooManyRequests");
        assert_eq!(r.header("retry-after"), Some("3"));
        assert_eq!(r.message(), "slow down");
    }
    let r = h.client.get(CM).await.expect(200);
    assert_eq!(r.body["items"][0]["metadata"]["name"], "a");
}

#[tokio::test]
async fn a_failure_narrowed_by_namespace_and_name_spares_other_objects() {
    let h = start().await;
    h.client.namespace("other").await;
    h.client.configmap("default", "a", &[]).await.expect(201);
    h.client.configmap("default", "b", &[]).await.expect(201);
    h.client.configmap("other", "a", &[]).await.expect(201);
    h.server.inject(
        Fault::fail(Status::service_unavailable("down for a moment"))
            .namespace("default")
            .name("a"),
    );
    h.client.get(&format!("{CM}/b")).await.expect(200);
    h.client
        .get("/api/v1/namespaces/other/configmaps/a")
        .await
        .expect(200);
    h.client
        .get(&format!("{CM}/a"))
        .await
        .expect_status(503, "ServiceUnavailable");
    h.client.get(&format!("{CM}/a")).await.expect(200);
}

#[tokio::test]
async fn a_lost_answer_commits_the_write_and_reports_a_failure() {
    let h = start().await;
    h.server.inject(
        Fault::fail_after_commit(Status::timeout("the answer was lost", Some(1)))
            .verb("create")
            .resource("configmaps"),
    );
    let cm = json!({"metadata": {"name": "committed"}, "data": {"k": "v"}});
    h.client.post(CM, &cm).await.expect_status(504, "Timeout");
    // The write happened: the object is there, and a retry sees AlreadyExists.
    let got = h.client.get(&format!("{CM}/committed")).await.expect(200);
    assert_eq!(got.body["data"], json!({"k": "v"}));
    h.client
        .post(CM, &cm)
        .await
        .expect_status(409, "AlreadyExists");
}

#[tokio::test]
async fn a_delay_holds_the_request_back_and_then_serves_it() {
    let h = start().await;
    h.server.inject(
        Fault::delay(Duration::from_millis(300))
            .verb("get")
            .subresource(""),
    );
    let started = Instant::now();
    h.client.get("/api/v1/namespaces/default").await.expect(200);
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "answered after {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_warning_reaches_the_client_on_an_otherwise_normal_answer() {
    let h = start().await;
    h.server
        .inject(Fault::warn("this API is going away").path_prefix("/api/v1/namespaces"));
    let r = h.client.get("/api/v1/namespaces").await.expect(200);
    assert_eq!(
        r.header("warning"),
        Some(r#"299 - "this API is going away""#)
    );
    let again = h.client.get("/api/v1/namespaces").await.expect(200);
    assert_eq!(again.header("warning"), None);
}

#[tokio::test]
async fn cleared_faults_no_longer_fire() {
    let h = start().await;
    h.server.inject(
        Fault::fail(Status::service_unavailable("down"))
            .resource("namespaces")
            .times(usize::MAX),
    );
    h.client
        .get("/api/v1/namespaces")
        .await
        .expect_status(503, "ServiceUnavailable");
    h.server.clear_faults();
    h.client.get("/api/v1/namespaces").await.expect(200);
}

#[tokio::test]
async fn closing_watches_ends_open_streams_and_new_watches_work() {
    let h = start().await;
    let mut w = h.client.watch(&format!("{CM}?watch=1")).await;
    h.client
        .configmap("default", "before", &[])
        .await
        .expect(201);
    assert_eq!(w.next_change().await["type"], "ADDED");
    h.server.close_watches();
    loop {
        match w.next().await {
            None => break,
            Some(ev) => assert_eq!(ev["type"], "BOOKMARK", "unexpected event {ev}"),
        }
    }
    // A new watch without a resourceVersion starts with the current state.
    let mut again = h.client.watch(&format!("{CM}?watch=1")).await;
    h.client
        .configmap("default", "after", &[])
        .await
        .expect(201);
    let first = again.next_change().await;
    assert_eq!(first["object"]["metadata"]["name"], "before");
    let second = again.next_change().await;
    assert_eq!(second["object"]["metadata"]["name"], "after");
}

#[tokio::test]
async fn bookmarks_can_be_forced_now_and_suppressed() {
    let h = start().await;
    let mut w = h
        .client
        .watch(&format!("{CM}?watch=1&allowWatchBookmarks=true"))
        .await;
    let mut plain = h.client.watch(&format!("{CM}?watch=1")).await;
    h.client.configmap("default", "a", &[]).await.expect(201);
    let added = w.next_change().await;
    assert_eq!(plain.next_change().await["type"], "ADDED");
    let rv = added["object"]["metadata"]["resourceVersion"].clone();

    // Forced: at once, though the interval is a minute, at the revision reached.
    h.server.force_bookmarks();
    let bookmark = w.next().await.expect("a bookmark");
    assert_eq!(bookmark["type"], "BOOKMARK");
    assert_eq!(bookmark["object"]["metadata"]["resourceVersion"], rv);
    // Only watches that asked for bookmarks get one.
    plain.expect_quiet(Duration::from_millis(200)).await;

    // Suppressed: even forced ones are held back, until suppression ends.
    h.server.suppress_bookmarks(true);
    h.server.force_bookmarks();
    w.expect_quiet(Duration::from_millis(300)).await;
    h.server.suppress_bookmarks(false);
    h.server.force_bookmarks();
    assert_eq!(w.next().await.expect("a bookmark")["type"], "BOOKMARK");
}
