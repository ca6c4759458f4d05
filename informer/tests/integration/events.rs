//! The event recorder against a real `TestServer`: what lands on the server, series
//! and counts, the correlator, retries, the bounded queue and the core `v1` fallback.

use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kubeforge_client::Client;
use kubeforge_client::api::{Api, Discovery};
use kubeforge_client::core::{CreateOptions, ListOptions, Status, StatusReason};
use kubeforge_informer::events::{
    CoreEvent, Event, EventApi, EventType, ObjectReference, Recorder, RecorderBuilder, Reporter,
};
use kubeforge_testserver::Fault;

use crate::support::{client, configmap, server};

fn reporter() -> Reporter {
    Reporter::new("example.com/web-controller", "web-controller-0")
}

/// A recorder whose retries sleep milliseconds rather than seconds.
fn builder(client: &Client) -> RecorderBuilder {
    Recorder::builder(client.clone(), reporter()).retry(12, Duration::from_millis(10))
}

/// Creates a ConfigMap and returns a reference to it as the server has it.
async fn stored_configmap(client: &Client, name: &str) -> ObjectReference {
    let cm = Api::<ConfigMap>::namespaced(client.clone(), "default")
        .create(&CreateOptions::default(), &configmap(name, "0"))
        .await
        .expect("create configmap");
    ObjectReference::from_object(&cm)
}

async fn events_v1(client: &Client, ns: &str) -> Vec<Event> {
    let mut items = Api::<Event>::namespaced(client.clone(), ns)
        .list(&ListOptions::default())
        .await
        .expect("list events.k8s.io events")
        .items;
    items.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    items
}

async fn core_events(client: &Client, ns: &str) -> Vec<CoreEvent> {
    let mut items = Api::<CoreEvent>::namespaced(client.clone(), ns)
        .list(&ListOptions::default())
        .await
        .expect("list core events")
        .items;
    items.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    items
}

/// An event lands as an `events.k8s.io/v1` Event naming the reporter and the object,
/// in the object's namespace, with a MicroTime `eventTime` and no series.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_is_written_with_the_reporter_and_the_regarding_reference() {
    let server = server().await;
    let client = client(&server);
    let web = stored_configmap(&client, "web").await;
    let recorder = builder(&client).build();

    recorder.event(
        &web,
        None,
        EventType::Normal,
        "Synced",
        "Sync",
        "configuration applied",
    );
    recorder.flush().await;

    let events = events_v1(&client, "default").await;
    assert_eq!(events.len(), 1, "{events:#?}");
    let e = &events[0];
    assert_eq!(e.reporting_controller, "example.com/web-controller");
    assert_eq!(e.reporting_instance, "web-controller-0");
    assert_eq!(e.regarding, web);
    assert_eq!(web.api_version.as_deref(), Some("v1"));
    assert_eq!(web.kind.as_deref(), Some("ConfigMap"));
    assert!(web.uid.is_some() && web.resource_version.is_some());
    assert_eq!(
        (
            e.type_.as_deref(),
            e.reason.as_str(),
            e.action.as_str(),
            e.note.as_deref()
        ),
        (
            Some("Normal"),
            "Synced",
            "Sync",
            Some("configuration applied")
        )
    );
    assert_eq!(e.series, None);
    assert!(
        e.metadata
            .name
            .as_deref()
            .is_some_and(|n| n.starts_with("web.")),
        "{:?}",
        e.metadata.name
    );
    // MicroTime: `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
    assert_eq!(e.event_time.len(), 27, "{}", e.event_time);
    assert!(e.event_time.parse::<jiff::Timestamp>().is_ok());
    assert_eq!(recorder.stats().written, 1);
}

/// Repeats of an isomorphic event (even with another note) patch one Event's series
/// instead of creating more; the count includes the first occurrence.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeats_become_one_event_with_a_series_count() {
    let server = server().await;
    let client = client(&server);
    let web = stored_configmap(&client, "web").await;
    let recorder = builder(&client).build();

    for i in 0..5 {
        recorder.event(
            &web,
            None,
            EventType::Warning,
            "FailedSync",
            "Sync",
            &format!("attempt {i}"),
        );
    }
    // A different action is a different series.
    recorder.event(&web, None, EventType::Warning, "FailedSync", "Delete", "x");
    recorder.flush().await;

    let events = events_v1(&client, "default").await;
    assert_eq!(events.len(), 2, "{events:#?}");
    let sync = events
        .iter()
        .find(|e| e.action == "Sync")
        .expect("the Sync series");
    let series = sync.series.as_ref().expect("a series");
    assert_eq!(series.count, 5);
    assert!(series.last_observed_time >= sync.event_time);
    // The first occurrence's note stays: notes are not part of the series.
    assert_eq!(sync.note.as_deref(), Some("attempt 0"));
    let delete = events
        .iter()
        .find(|e| e.action == "Delete")
        .expect("Delete");
    assert_eq!(delete.series, None);
    assert_eq!(recorder.stats().written, 6);
}

/// On core `v1`, once 10 distinct messages about one object and reason were seen,
/// further ones are written as one combined Event whose count goes up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn distinct_messages_beyond_the_aggregation_threshold_are_combined() {
    let server = server().await;
    let client = client(&server);
    let web = stored_configmap(&client, "web").await;
    let recorder = builder(&client).api(EventApi::CoreV1).build();

    for i in 0..12 {
        recorder.event(
            &web,
            None,
            EventType::Warning,
            "FailedMount",
            "Mount",
            &format!("volume {i} not ready"),
        );
    }
    recorder.flush().await;

    let events = core_events(&client, "default").await;
    let (combined, single): (Vec<_>, Vec<_>) = events.iter().partition(|e| {
        e.message
            .as_deref()
            .is_some_and(|m| m.starts_with("(combined from similar events): "))
    });
    assert_eq!(single.len(), 9, "{events:#?}");
    assert!(single.iter().all(|e| e.count == Some(1)));
    assert_eq!(combined.len(), 1, "{events:#?}");
    let c = combined[0];
    assert_eq!(c.count, Some(3));
    assert_eq!(
        c.message.as_deref(),
        Some("(combined from similar events): volume 11 not ready")
    );
    assert_eq!(recorder.stats().written, 12);
}

/// The spam filter lets 25 events about one object through, then drops the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spam_filter_drops_events_beyond_the_burst() {
    let server = server().await;
    let client = client(&server);
    let web = stored_configmap(&client, "web").await;
    let db = stored_configmap(&client, "db").await;
    let recorder = builder(&client).build();

    // Distinct reasons: neither series nor aggregation folds them.
    for i in 0..30 {
        recorder.event(
            &web,
            None,
            EventType::Normal,
            &format!("Step{i}"),
            "Sync",
            "",
        );
    }
    // Another object has a budget of its own.
    recorder.event(&db, None, EventType::Normal, "Step0", "Sync", "");
    recorder.flush().await;

    let events = events_v1(&client, "default").await;
    let about = |name: &str| {
        events
            .iter()
            .filter(|e| e.regarding.name.as_deref() == Some(name))
            .count()
    };
    assert_eq!((about("web"), about("db")), (25, 1));
    let stats = recorder.stats();
    assert_eq!((stats.written, stats.spam_dropped), (26, 5));
}

/// A write the server fails with 503 is retried until it lands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_write_is_retried_and_lands() {
    let server = server().await;
    let client = client(&server);
    let web = stored_configmap(&client, "web").await;
    server.inject(
        Fault::fail(Status::service_unavailable("apiserver is restarting"))
            .verb("create")
            .resource("events")
            .times(3),
    );
    let recorder = builder(&client).build();

    recorder.event(&web, None, EventType::Normal, "Synced", "Sync", "ok");
    recorder.flush().await;

    assert_eq!(events_v1(&client, "default").await.len(), 1);
    let stats = recorder.stats();
    assert_eq!((stats.written, stats.failed), (1, 0));
}

/// A write the server rejects (403) is given up at once; the next event still lands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_write_is_not_retried() {
    let server = server().await;
    let client = client(&server);
    let web = stored_configmap(&client, "web").await;
    server.inject(
        Fault::fail(Status::failure(403, StatusReason::Forbidden, "no"))
            .verb("create")
            .resource("events")
            .times(1),
    );
    let recorder = builder(&client).build();

    recorder.event(&web, None, EventType::Normal, "First", "Sync", "");
    recorder.event(&web, None, EventType::Normal, "Second", "Sync", "");
    recorder.flush().await;

    let events = events_v1(&client, "default").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].reason, "Second");
    let stats = recorder.stats();
    assert_eq!((stats.written, stats.failed), (1, 1));
}

/// While the server holds a write, `event` keeps returning; events beyond the queue's
/// capacity are dropped and counted, and every event is accounted for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_queue_drops_events_without_blocking_the_caller() {
    let server = server().await;
    let client = client(&server);
    let mut objects = Vec::new();
    for i in 0..20 {
        objects.push(stored_configmap(&client, &format!("cm-{i}")).await);
    }
    server.inject(
        Fault::delay(Duration::from_secs(2))
            .verb("create")
            .resource("events")
            .times(1),
    );
    let recorder = builder(&client)
        .api(EventApi::EventsV1)
        .queue_capacity(4)
        .build();

    for obj in &objects {
        recorder.event(obj, None, EventType::Normal, "Synced", "Sync", "");
    }
    // At most one event is being written and four are queued.
    assert!(recorder.stats().queue_full >= 15, "{:?}", recorder.stats());

    recorder.flush().await;
    let stats = recorder.stats();
    assert_eq!(stats.written + stats.queue_full, 20, "{stats:?}");
    assert_eq!(
        events_v1(&client, "default").await.len() as u64,
        stats.written
    );
}

/// When discovery does not list `events.k8s.io/v1`, the recorder writes core `v1`
/// Events, and repeats count up on one Event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorder_falls_back_to_core_events_when_discovery_lacks_the_group() {
    let server = server().await;
    let client = client(&server);
    let web = stored_configmap(&client, "web").await;
    // The group is gone: its discovery document and its resources answer 404.
    server.inject(
        Fault::fail(Status::failure(
            404,
            StatusReason::NotFound,
            "the server could not find the requested resource",
        ))
        .path_prefix("/apis/events.k8s.io")
        .times(usize::MAX),
    );
    // Legacy discovery reads one document per group-version, so the 404 removes the
    // group (aggregated discovery would list every group in one answer).
    let recorder = builder(&client)
        .discovery(Discovery::legacy(client.clone()))
        .build();

    recorder.event(&web, None, EventType::Warning, "Failed", "Sync", "boom");
    recorder.event(&web, None, EventType::Warning, "Failed", "Sync", "boom");
    recorder.flush().await;

    let events = core_events(&client, "default").await;
    assert_eq!(events.len(), 1, "{events:#?}");
    let e = &events[0];
    assert_eq!(e.involved_object, web);
    assert_eq!(e.count, Some(2));
    assert_eq!(e.message.as_deref(), Some("boom"));
    assert_eq!(
        e.source.as_ref().and_then(|s| s.component.as_deref()),
        Some("example.com/web-controller")
    );
    assert_eq!(e.reporting_instance.as_deref(), Some("web-controller-0"));
    assert!(e.first_timestamp.is_some() && e.last_timestamp.is_some());
    assert_eq!(recorder.stats().written, 2);
}

/// Events about a cluster-scoped object go to the `default` namespace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_about_cluster_scoped_objects_go_to_the_default_namespace() {
    let server = server().await;
    let client = client(&server);
    let mut ns = Namespace::default();
    ns.metadata.name = Some("team-a".into());
    let ns = Api::<Namespace>::all(client.clone())
        .create(&CreateOptions::default(), &ns)
        .await
        .expect("create namespace");
    let regarding = ObjectReference::from_object(&ns);
    assert_eq!(regarding.namespace, None);
    let recorder = builder(&client).build();

    recorder.event(&regarding, None, EventType::Normal, "Created", "Create", "");
    recorder.flush().await;

    let events = events_v1(&client, "default").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].regarding.kind.as_deref(), Some("Namespace"));
    assert!(events_v1(&client, "team-a").await.is_empty());
}

/// `shutdown` writes what is queued; later events are dropped and counted, from
/// every clone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_writes_queued_events_then_drops_later_ones() {
    let server = server().await;
    let client = client(&server);
    let web = stored_configmap(&client, "web").await;
    let recorder = builder(&client).build();
    let clone = recorder.clone();

    recorder.event(&web, None, EventType::Normal, "A", "Sync", "");
    recorder.event(&web, None, EventType::Normal, "B", "Sync", "");
    recorder.shutdown().await;
    assert_eq!(events_v1(&client, "default").await.len(), 2);

    clone.event(&web, None, EventType::Normal, "C", "Sync", "");
    clone.flush().await;
    clone.shutdown().await;
    let stats = recorder.stats();
    assert_eq!((stats.written, stats.queue_full), (2, 1));
}
