//! `informer-tour`: the shared informer factory, a lister with a custom index, and
//! an event handler added after the cache synced.
//!
//! The tour creates a few ConfigMaps labelled by team in one namespace, then:
//!
//! 1. asks a [`SharedInformerFactory`] for a ConfigMap informer (twice: the
//!    factory hands out one shared informer per type), adds an index by the
//!    `team` label, and starts it;
//! 2. reads through the lister (by label selector, by name) and the index (by
//!    team) — all from memory, no API call;
//! 3. adds a handler after the informer synced: it is told of every cached
//!    object first (as adds "in the initial list"), then of changes;
//! 4. creates one more ConfigMap and waits until both handlers saw it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kubeforge_client::Client;
use kubeforge_client::api::Api;
use kubeforge_client::core::{CreateOptions, DeleteOptions, LabelSelector};
use kubeforge_informer::{HandlerFns, SharedInformerFactory, store};

/// The label the tour indexes by.
pub const TEAM_LABEL: &str = "team";

/// What the tour found, for its caller (and its test) to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// ConfigMaps the lister lists with `team` set.
    pub with_team: usize,
    /// Names filed under team `blue` by the index, sorted.
    pub blue: Vec<String>,
    /// The `team` of `tour-0`, read through the namespace lister.
    pub first_team: Option<String>,
    /// Objects replayed to the handler added after sync, as initial adds.
    pub replayed: usize,
    /// Whether the early and the late handler both saw the ConfigMap created last.
    pub both_saw_new: bool,
}

/// What the tour can fail with.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

fn labelled(name: &str, team: &str) -> ConfigMap {
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some(name.to_owned());
    cm.metadata.labels = Some([(TEAM_LABEL.to_owned(), team.to_owned())].into());
    cm
}

/// Runs the tour in `namespace` (creating and, at the end, deleting its objects).
///
/// # Errors
///
/// A write failed, or the cache did not sync or see the last object within 30 s.
pub async fn tour(client: Client, namespace: &str) -> Result<Report, Error> {
    let api = Api::<ConfigMap>::namespaced(client.clone(), namespace);
    let teams = ["blue", "green", "blue", "red", "blue"];
    for (i, team) in teams.iter().enumerate() {
        api.create(
            &CreateOptions::default(),
            &labelled(&format!("tour-{i}"), team),
        )
        .await?;
    }

    // 1. One informer per type, shared; an index before start.
    let factory = SharedInformerFactory::namespaced(client, namespace);
    let configmaps = factory.informer::<ConfigMap>();
    let same = factory.informer::<ConfigMap>();
    configmaps.add_index(TEAM_LABEL, store::by_label(TEAM_LABEL))?;
    let early_seen = Arc::new(AtomicUsize::new(0));
    let early = early_seen.clone();
    same.add_event_handler(HandlerFns::new().on_add(move |cm: &Arc<ConfigMap>, _| {
        if cm.metadata.name.as_deref() == Some("tour-new") {
            early.fetch_add(1, Ordering::SeqCst);
        }
    }));
    factory.start();
    let synced = tokio::time::timeout(Duration::from_secs(30), factory.wait_for_cache_sync()).await;
    if !matches!(synced, Ok(true)) {
        return Err("the ConfigMap cache did not sync".into());
    }

    // 2. Reads from memory: lister, namespace lister, index.
    let lister = configmaps.lister();
    let with_team = lister.list(&LabelSelector::parse(TEAM_LABEL)?).len();
    let first_team = lister
        .namespaced(namespace)
        .get("tour-0")
        .and_then(|cm| cm.metadata.labels.as_ref()?.get(TEAM_LABEL).cloned());
    let mut blue: Vec<String> = configmaps
        .indexer()
        .by_index(TEAM_LABEL, "blue")
        .iter()
        .filter_map(|cm| cm.metadata.name.clone())
        .collect();
    blue.sort();

    // 3. A handler added after sync gets the cache replayed first.
    let replayed = Arc::new(AtomicUsize::new(0));
    let late_seen = Arc::new(AtomicUsize::new(0));
    let (r, l) = (replayed.clone(), late_seen.clone());
    let late = configmaps.add_event_handler(HandlerFns::new().on_add(
        move |cm: &Arc<ConfigMap>, initial| {
            if initial {
                r.fetch_add(1, Ordering::SeqCst);
            } else if cm.metadata.name.as_deref() == Some("tour-new") {
                l.fetch_add(1, Ordering::SeqCst);
            }
        },
    ));
    tokio::time::timeout(Duration::from_secs(30), late.wait_synced()).await?;

    // 4. A change reaches both handlers.
    api.create(&CreateOptions::default(), &labelled("tour-new", "green"))
        .await?;
    let both = async {
        while early_seen.load(Ordering::SeqCst) == 0 || late_seen.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    let both_saw_new = tokio::time::timeout(Duration::from_secs(30), both)
        .await
        .is_ok();

    factory.shutdown();
    for i in 0..teams.len() {
        api.delete(&format!("tour-{i}"), &DeleteOptions::default())
            .await?;
    }
    api.delete("tour-new", &DeleteOptions::default()).await?;
    Ok(Report {
        with_team,
        blue,
        first_team,
        replayed: replayed.load(Ordering::SeqCst),
        both_saw_new,
    })
}
