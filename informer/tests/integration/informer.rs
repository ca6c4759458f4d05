//! SharedIndexInformer: sync, events, relists, handlers added late, slow handlers,
//! transforms, indexes and resync.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kubeforge_client::api::Api;
use kubeforge_client::core::{CreateOptions, DeleteOptions, LabelSelector, Status};
use kubeforge_informer::reflector::ReflectorOptions;
use kubeforge_informer::{HandlerFns, HandlerOptions, ListWatch, SharedIndexInformer, store};
use kubeforge_testserver::Fault;

use crate::support::{
    Recorder, Recording, Seen, client, configmap, create_configmaps, eventually, server, settle,
};

fn fast_backoff() -> ReflectorOptions {
    let mut o = ReflectorOptions::default();
    o.backoff_initial = Duration::from_millis(20);
    o.backoff_max = Duration::from_millis(100);
    o
}

fn informer(api: &Api<ConfigMap>) -> SharedIndexInformer<ConfigMap> {
    let informer = SharedIndexInformer::new(ListWatch::new(api.clone()));
    informer
        .set_reflector_options(fast_backoff())
        .expect("not started");
    informer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initial_list_fills_the_cache_and_every_handler_hears_it_as_initial() {
    let server = server().await;
    let api = Api::<ConfigMap>::namespaced(client(&server), "default");
    create_configmaps(&api, "cm", 1_234).await;
    settle(&api).await;
    let informer = informer(&api);
    let mut opts = fast_backoff();
    opts.page_size = 100;
    informer.set_reflector_options(opts).expect("not started");
    let rec = Recorder::new();
    let reg = informer.add_event_handler(Recording(rec.clone()));
    informer.run();
    assert!(informer.wait_for_sync().await);
    assert_eq!(informer.indexer().len(), 1_234);
    eventually("the handler handled the initial list", || reg.has_synced()).await;
    let seen = rec.seen();
    assert_eq!(seen.len(), 1_234);
    assert!(
        seen.iter()
            .all(|s| matches!(s, Seen::Add { initial: true, .. }))
    );
    assert!(!informer.last_sync_resource_version().is_empty());
    informer.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_after_sync_reach_the_cache_and_handlers_in_order() {
    let server = server().await;
    let api = Api::<ConfigMap>::namespaced(client(&server), "default");
    let informer = informer(&api);
    let rec = Recorder::new();
    informer.add_event_handler(Recording(rec.clone()));
    informer.run();
    assert!(informer.wait_for_sync().await);

    let created = api
        .create(&CreateOptions::default(), &configmap("a", "1"))
        .await
        .expect("create");
    let mut changed = created.clone();
    changed.data = Some([("v".to_owned(), "2".to_owned())].into());
    let updated = api
        .replace("a", &Default::default(), &changed)
        .await
        .expect("update");
    api.delete("a", &DeleteOptions::default())
        .await
        .expect("delete");

    let settled = tokio::time::timeout(Duration::from_secs(10), async {
        while rec.seen().len() < 3 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(settled.is_ok(), "three notifications, got {:?}", rec.seen());
    let rv = |c: &ConfigMap| c.metadata.resource_version.clone().unwrap_or_default();
    assert_eq!(
        rec.seen(),
        vec![
            Seen::Add {
                key: "default/a".into(),
                initial: false
            },
            Seen::Update {
                key: "default/a".into(),
                old_rv: rv(&created),
                new_rv: rv(&updated)
            },
            Seen::Delete {
                key: "default/a".into(),
                tombstone: false
            },
        ]
    );
    assert!(informer.indexer().get_by_key("default/a").is_none());
    informer.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_missed_while_the_watch_was_down_arrive_as_tombstones_after_compaction() {
    let server = server().await;
    let api = Api::<ConfigMap>::namespaced(client(&server), "default");
    for name in ["keep", "gone"] {
        api.create(&CreateOptions::default(), &configmap(name, "0"))
            .await
            .expect("create");
    }
    settle(&api).await;
    let informer = SharedIndexInformer::new(ListWatch::new(api.clone()));
    let failures = Arc::new(AtomicUsize::new(0));
    let mut options = fast_backoff();
    let f = failures.clone();
    options.on_error = Some(Arc::new(move |_: &kubeforge_client::Error| {
        f.fetch_add(1, Ordering::Relaxed);
    }));
    informer
        .set_reflector_options(options)
        .expect("not started");
    let rec = Recorder::new();
    informer.add_event_handler(Recording(rec.clone()));
    informer.run();
    assert!(informer.wait_for_sync().await);

    // A change seen through the watch: the watch is up (and can be taken down).
    api.create(&CreateOptions::default(), &configmap("probe", "0"))
        .await
        .expect("create");
    eventually("the watch delivered the probe", || {
        rec.seen()
            .iter()
            .any(|s| matches!(s, Seen::Add { key, .. } if key == "default/probe"))
    })
    .await;

    // Take the watch down and keep every list and watch failing while things change.
    for verb in ["list", "watch"] {
        server.inject(
            Fault::fail(Status::internal_error("injected"))
                .verb(verb)
                .resource("configmaps")
                .times(usize::MAX),
        );
    }
    server.close_watches();
    // Down for sure: the reflector's next watch has failed.
    eventually("a failed re-watch", || failures.load(Ordering::Relaxed) > 0).await;
    api.delete("gone", &DeleteOptions::default())
        .await
        .expect("delete");
    api.create(&CreateOptions::default(), &configmap("new", "0"))
        .await
        .expect("create");
    // Forget the history, so the reflector cannot resume and must list afresh.
    server.compact().await.expect("compact");
    server.clear_faults();

    eventually("the relist was handled", || {
        rec.seen()
            .iter()
            .any(|s| matches!(s, Seen::Add { key, .. } if key == "default/new"))
            && rec
                .seen()
                .iter()
                .any(|s| matches!(s, Seen::Delete { key, .. } if key == "default/gone"))
    })
    .await;
    assert!(rec.seen().contains(&Seen::Delete {
        key: "default/gone".into(),
        tombstone: true
    }));
    let mut keys = informer.indexer().list_keys();
    keys.sort();
    assert_eq!(keys, ["default/keep", "default/new", "default/probe"]);
    // "keep" did not change: the relist is no news for handlers without resync.
    assert!(
        !rec.seen()
            .iter()
            .any(|s| matches!(s, Seen::Update { key, .. } if key == "default/keep"))
    );
    informer.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_added_after_sync_is_told_of_the_cache_then_of_changes() {
    let server = server().await;
    let api = Api::<ConfigMap>::namespaced(client(&server), "default");
    create_configmaps(&api, "cm", 50).await;
    settle(&api).await;
    let informer = informer(&api);
    informer.run();
    assert!(informer.wait_for_sync().await);

    let rec = Recorder::new();
    let reg = informer.add_event_handler(Recording(rec.clone()));
    reg.wait_synced().await;
    assert_eq!(rec.seen().len(), 50);
    assert!(
        rec.seen()
            .iter()
            .all(|s| matches!(s, Seen::Add { initial: true, .. }))
    );
    api.create(&CreateOptions::default(), &configmap("late", "0"))
        .await
        .expect("create");
    eventually("the change after the replay", || rec.seen().len() == 51).await;
    assert_eq!(
        rec.seen().last(),
        Some(&Seen::Add {
            key: "default/late".into(),
            initial: false
        })
    );
    informer.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_handler_folds_changes_per_object_and_ends_at_the_final_state() {
    let server = server().await;
    let api = Api::<ConfigMap>::namespaced(client(&server), "default");
    let informer = informer(&api);
    let slow = Recorder::new();
    *slow.delay.lock() = Duration::from_millis(20);
    let slow_reg = informer
        .add_event_handler_with(Recording(slow.clone()), HandlerOptions::default().buffer(4));
    let fast = Recorder::new();
    informer.add_event_handler(Recording(fast.clone()));
    informer.run();
    assert!(informer.wait_for_sync().await);

    // 10 objects, each written 5 times, then half deleted.
    for i in 0..10 {
        let name = format!("cm-{i}");
        api.create(&CreateOptions::default(), &configmap(&name, "0"))
            .await
            .expect("create");
        for v in 1..5 {
            let mut cm = api.get(&name).await.expect("get");
            cm.data = Some([("v".to_owned(), v.to_string())].into());
            api.replace(&name, &Default::default(), &cm)
                .await
                .expect("update");
        }
    }
    for i in 0..5 {
        api.delete(&format!("cm-{i}"), &DeleteOptions::default())
            .await
            .expect("delete");
    }
    // The fast handler hears every change; the slow one fewer, folded.
    eventually("the fast handler heard all 55 changes", || {
        fast.seen().len() == 55
    })
    .await;
    let final_state = |seen: Vec<Seen>| {
        let mut last = std::collections::BTreeMap::new();
        for s in seen {
            match s {
                Seen::Add { key, .. } => last.insert(key, true),
                Seen::Update { key, .. } => last.insert(key, true),
                Seen::Delete { key, .. } => last.insert(key, false),
            };
        }
        last.into_iter()
            .filter(|(_, present)| *present)
            .map(|(k, _)| k)
            .collect::<Vec<_>>()
    };
    let expected: Vec<String> = (5..10).map(|i| format!("default/cm-{i}")).collect();
    assert_eq!(final_state(fast.seen()), expected);
    eventually("the slow handler caught up", || {
        final_state(slow.seen()) == expected && slow.seen().len() < 55
    })
    .await;
    assert!(slow_reg.folded() > 0);
    informer.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managed_fields_are_dropped_unless_kept() {
    let server = server().await;
    let api = Api::<ConfigMap>::namespaced(client(&server), "default");
    api.create(&CreateOptions::default(), &configmap("a", "0"))
        .await
        .expect("create");
    settle(&api).await;
    let stripped = informer(&api);
    let kept = informer(&api);
    kept.keep_managed_fields().expect("not started");
    stripped.run();
    kept.run();
    assert!(stripped.wait_for_sync().await && kept.wait_for_sync().await);
    let managed = |i: &SharedIndexInformer<ConfigMap>| {
        i.indexer()
            .get_by_key("default/a")
            .and_then(|cm| cm.metadata.managed_fields.clone())
    };
    assert!(managed(&stripped).is_none());
    assert!(managed(&kept).is_some_and(|m| !m.is_empty()));
    assert!(stripped.set_transform(|cm| cm).is_err());
    stripped.stop();
    kept.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listers_and_custom_indexes_read_the_cache() {
    let server = server().await;
    let client = client(&server);
    for ns in ["ns-a", "ns-b"] {
        let body = serde_json::json!({"metadata": {"name": ns}});
        let namespaces = Api::<k8s_openapi::api::core::v1::Namespace>::all(client.clone());
        namespaces
            .create(
                &CreateOptions::default(),
                &serde_json::from_value(body).expect("ns"),
            )
            .await
            .expect("namespace");
    }
    for (ns, name, tier) in [
        ("ns-a", "x", "web"),
        ("ns-a", "y", "db"),
        ("ns-b", "z", "web"),
    ] {
        let mut cm = configmap(name, "0");
        cm.metadata.labels = Some([("tier".to_owned(), tier.to_owned())].into());
        Api::<ConfigMap>::namespaced(client.clone(), ns)
            .create(&CreateOptions::default(), &cm)
            .await
            .expect("create");
    }
    let all = Api::<ConfigMap>::all(client);
    settle(&all).await;
    let informer = SharedIndexInformer::new(ListWatch::new(all));
    informer
        .add_index("tier", store::by_label("tier"))
        .expect("new index");
    informer.run();
    assert!(informer.wait_for_sync().await);
    let lister = informer.lister();
    let names = |v: Vec<Arc<ConfigMap>>| {
        let mut n: Vec<String> = v.iter().filter_map(|c| c.metadata.name.clone()).collect();
        n.sort();
        n
    };
    assert_eq!(
        names(lister.namespaced("ns-a").list(&LabelSelector::default())),
        ["x", "y"]
    );
    let web: LabelSelector = "tier=web".parse().expect("selector");
    assert_eq!(names(lister.list(&web)), ["x", "z"]);
    assert_eq!(
        lister
            .namespaced("ns-b")
            .get("z")
            .and_then(|c| c.metadata.name.clone()),
        Some("z".to_owned())
    );
    assert_eq!(
        names(informer.indexer().by_index("tier", "web")),
        ["x", "z"]
    );
    let mut tiers = informer.indexer().list_index_values("tier");
    tiers.sort();
    assert_eq!(tiers, ["db", "web"]);
    // An index added after start files what is cached already.
    informer
        .add_index(
            "name-length",
            Arc::new(|cm: &ConfigMap| {
                vec![
                    cm.metadata
                        .name
                        .as_deref()
                        .unwrap_or_default()
                        .len()
                        .to_string(),
                ]
            }),
        )
        .expect("new index");
    assert_eq!(informer.indexer().index_keys("name-length", "1").len(), 3);
    informer.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_handler_resyncs_on_its_own_period() {
    let server = server().await;
    let api = Api::<ConfigMap>::namespaced(client(&server), "default");
    api.create(&CreateOptions::default(), &configmap("a", "0"))
        .await
        .expect("create");
    let informer = informer(&api);
    let count = |n: Arc<AtomicUsize>| {
        HandlerFns::new().on_update(move |old: &Arc<ConfigMap>, new: &Arc<ConfigMap>| {
            // A resync tells of the object as it is.
            assert!(Arc::ptr_eq(old, new));
            n.fetch_add(1, Ordering::Relaxed);
        })
    };
    let eager = Arc::new(AtomicUsize::new(0));
    let never = Arc::new(AtomicUsize::new(0));
    informer.add_event_handler_with(
        count(eager.clone()),
        HandlerOptions::default().resync(Duration::from_millis(100)),
    );
    informer.add_event_handler(count(never.clone()));
    informer.run();
    assert!(informer.wait_for_sync().await);
    eventually("three resyncs", || eager.load(Ordering::Relaxed) >= 3).await;
    assert_eq!(never.load(Ordering::Relaxed), 0);
    informer.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_handler_hears_nothing_more() {
    let server = server().await;
    let api = Api::<ConfigMap>::namespaced(client(&server), "default");
    let informer = informer(&api);
    let gone = Recorder::new();
    let stays = Recorder::new();
    let reg = informer.add_event_handler(Recording(gone.clone()));
    informer.add_event_handler(Recording(stays.clone()));
    informer.run();
    assert!(informer.wait_for_sync().await);
    informer.remove_event_handler(&reg);
    api.create(&CreateOptions::default(), &configmap("a", "0"))
        .await
        .expect("create");
    eventually("the other handler heard it", || stays.seen().len() == 1).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(gone.seen().is_empty());
    informer.stop();
}
