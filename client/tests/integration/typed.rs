//! Every verb of `Api<K>` on k8s-openapi types against a TLS `TestServer`.

use futures::TryStreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use kubeforge_client::api::{Api, Deleted, Patch};
use kubeforge_client::core::{
    CreateOptions, DeleteOptions, FieldValidation, GetOptions, ListOptions, PatchOptions,
    ResourceVersionMatch, UpdateOptions,
};
use serde_json::json;

use crate::support::{self, configmap, deployment, pod};

/// create, get, get_opt, replace and delete round-trip a ConfigMap, and get_opt
/// reads a missing object as `None` rather than an error.
#[tokio::test]
async fn a_configmap_round_trips_through_create_get_replace_and_delete() {
    let server = support::server().await;
    let api = Api::<ConfigMap>::namespaced(support::client(&server), "default");

    let created = api
        .create(&CreateOptions::default(), &configmap("a", "k", "v1"))
        .await
        .expect("create");
    assert_eq!(created.metadata.namespace.as_deref(), Some("default"));
    let rv = created.metadata.resource_version.clone().expect("rv");

    let got = api.get("a").await.expect("get");
    assert_eq!(got.data, created.data);
    assert_eq!(
        api.get_with(
            "a",
            &GetOptions {
                resource_version: Some("0".into())
            }
        )
        .await
        .expect("get at any rv")
        .metadata
        .name
        .as_deref(),
        Some("a")
    );

    let mut changed = got.clone();
    changed.data = Some([("k".to_owned(), "v2".to_owned())].into());
    let replaced = api
        .replace("a", &UpdateOptions::default(), &changed)
        .await
        .expect("replace");
    assert_eq!(replaced.data.as_ref().expect("data")["k"], "v2");
    assert_ne!(
        replaced.metadata.resource_version.as_deref(),
        Some(rv.as_str())
    );

    match api
        .delete("a", &DeleteOptions::default())
        .await
        .expect("delete")
    {
        Deleted::Status(s) => assert_eq!(s.status, "Success"),
        Deleted::Object(o) => assert_eq!(o.metadata.name.as_deref(), Some("a")),
    }
    assert!(api.get_opt("a").await.expect("get_opt").is_none());
    let err = api.get("a").await.expect_err("gone");
    assert!(err.is_not_found(), "{err}");
    assert_eq!(err.status().expect("status").code, 404);
}

/// A replace carrying an old resourceVersion fails with a conflict, and a second
/// create of the same name with already-exists: the predicates read the Status.
#[tokio::test]
async fn stale_writes_fail_with_conflict_and_duplicates_with_already_exists() {
    let server = support::server().await;
    let api = Api::<ConfigMap>::namespaced(support::client(&server), "default");
    let first = api
        .create(&CreateOptions::default(), &configmap("c", "k", "1"))
        .await
        .expect("create");
    let mut newer = first.clone();
    newer.data = Some([("k".to_owned(), "2".to_owned())].into());
    api.replace("c", &UpdateOptions::default(), &newer)
        .await
        .expect("replace");

    let err = api
        .replace("c", &UpdateOptions::default(), &first)
        .await
        .expect_err("stale");
    assert!(err.is_conflict(), "{err}");
    assert!(!err.is_already_exists());

    let err = api
        .create(&CreateOptions::default(), &configmap("c", "k", "1"))
        .await
        .expect_err("duplicate");
    assert!(err.is_already_exists(), "{err}");
}

/// An invalid object is refused with 422 and the Status names every bad field.
#[tokio::test]
async fn an_invalid_object_reports_its_field_causes() {
    let server = support::server().await;
    let api = Api::<ConfigMap>::namespaced(support::client(&server), "default");
    let err = api
        .create(&CreateOptions::default(), &configmap("Not_Valid", "k", "v"))
        .await
        .expect_err("invalid name");
    assert!(err.is_invalid(), "{err}");
    let causes = &err
        .status()
        .expect("status")
        .details
        .as_ref()
        .expect("details")
        .causes;
    assert!(
        causes.iter().any(|c| c.field == "metadata.name"),
        "{causes:?}"
    );
}

/// Lists filter by label and field selectors, page with limit and continue, read at
/// a resourceVersion, and `list_all` walks every page.
#[tokio::test]
async fn lists_select_page_and_stream_every_page() {
    let server = support::server().await;
    let api = Api::<Pod>::namespaced(support::client(&server), "default");
    for i in 0..7 {
        let tier = if i % 2 == 0 { "web" } else { "db" };
        api.create(
            &CreateOptions::default(),
            &pod(&format!("p{i}"), &[("tier", tier)]),
        )
        .await
        .expect("create");
    }

    let web = api
        .list(&ListOptions::default().labels("tier=web"))
        .await
        .expect("list");
    assert_eq!(web.items.len(), 4);
    let named = api
        .list(&ListOptions::default().fields("metadata.name=p3"))
        .await
        .expect("list");
    assert_eq!(named.items.len(), 1);

    let page = api
        .list(&ListOptions::default().limit(3))
        .await
        .expect("page 1");
    assert_eq!(page.items.len(), 3);
    let token = page.metadata.continue_token.clone().expect("continue");
    let rest = api
        .list(&ListOptions::default().limit(10).continue_token(token))
        .await
        .expect("page 2");
    assert_eq!(rest.items.len(), 4);

    let rv = page.metadata.resource_version.clone().expect("list rv");
    let exact = api
        .list(
            &ListOptions::default()
                .at(rv)
                .matching(ResourceVersionMatch::Exact)
                .timeout(10),
        )
        .await
        .expect("exact");
    assert_eq!(exact.items.len(), 7);

    let names: Vec<String> = api
        .list_all(&ListOptions::default().limit(2))
        .map_ok(|p| p.metadata.name.unwrap_or_default())
        .try_collect()
        .await
        .expect("list_all");
    assert_eq!(names, ["p0", "p1", "p2", "p3", "p4", "p5", "p6"]);

    let everywhere = Api::<Pod>::all(support::client(&server))
        .list(&ListOptions::default())
        .await
        .expect("all namespaces");
    assert_eq!(everywhere.items.len(), 7);
}

/// JSON patch, merge patch and strategic merge patch each change a Deployment, and an
/// apply without a field manager is refused before anything is sent.
#[tokio::test]
async fn every_patch_kind_changes_a_deployment() {
    let server = support::server().await;
    let api = Api::<Deployment>::namespaced(support::client(&server), "default");
    api.create(&CreateOptions::default(), &deployment("web", 1))
        .await
        .expect("create");

    let d = api
        .patch(
            "web",
            &PatchOptions::default(),
            &Patch::Json(json!([{"op": "replace", "path": "/spec/replicas", "value": 2}])),
        )
        .await
        .expect("json patch");
    assert_eq!(d.spec.as_ref().and_then(|s| s.replicas), Some(2));

    let d = api
        .patch(
            "web",
            &PatchOptions::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"team": "a"}}})),
        )
        .await
        .expect("merge patch");
    assert_eq!(d.metadata.labels.expect("labels")["team"], "a");

    // Strategic: containers merge by name, so a new container is added, not replacing.
    let d = api
        .patch(
            "web",
            &PatchOptions::default(),
            &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [
                {"name": "sidecar", "image": "busybox:1.36"}
            ]}}}})),
        )
        .await
        .expect("strategic patch");
    let containers = d
        .spec
        .expect("spec")
        .template
        .spec
        .expect("pod spec")
        .containers;
    assert_eq!(containers.len(), 2, "{containers:?}");

    let err = api
        .patch(
            "web",
            &PatchOptions::default(),
            &Patch::Apply(json!({"apiVersion": "apps/v1", "kind": "Deployment"})),
        )
        .await
        .expect_err("apply needs a manager");
    assert!(matches!(err, kubeforge_client::Error::Request(_)), "{err}");
}

/// Server-side apply sets the fields it sends and records its field manager.
#[tokio::test]
async fn server_side_apply_owns_the_fields_it_sets() {
    let server = support::server().await;
    let api = Api::<Deployment>::namespaced(support::client(&server), "default");
    api.create(&CreateOptions::default(), &deployment("web", 1))
        .await
        .expect("create");
    let applied = api
        .patch(
            "web",
            &PatchOptions::apply("tests").force(),
            &Patch::Apply(json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web"},
                "spec": {"replicas": 5, "selector": {"matchLabels": {"app": "web"}},
                         "template": {"metadata": {"labels": {"app": "web"}},
                                      "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}}},
            })),
        )
        .await
        .expect("server-side apply");
    assert_eq!(applied.spec.as_ref().and_then(|s| s.replicas), Some(5));
    let managers: Vec<_> = applied
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.manager)
        .collect();
    assert!(managers.contains(&"tests".to_owned()), "{managers:?}");
}

/// The scale subresource reads and sets a Deployment's replicas, and the status
/// subresource writes status without touching spec.
#[tokio::test]
async fn scale_and_status_subresources_reach_their_halves() {
    let server = support::server().await;
    let api = Api::<Deployment>::namespaced(support::client(&server), "default");
    api.create(&CreateOptions::default(), &deployment("web", 1))
        .await
        .expect("create");

    let mut scale = api.get_scale("web").await.expect("get scale");
    assert_eq!(scale.spec.replicas, Some(1));
    scale.spec.replicas = Some(3);
    let scale = api
        .replace_scale("web", &UpdateOptions::default(), &scale)
        .await
        .expect("replace scale");
    assert_eq!(scale.spec.replicas, Some(3));
    let scale = api
        .patch_scale(
            "web",
            &PatchOptions::default(),
            &Patch::Merge(json!({"spec": {"replicas": 4}})),
        )
        .await
        .expect("patch scale");
    assert_eq!(scale.spec.replicas, Some(4));
    assert_eq!(
        api.get("web")
            .await
            .expect("get")
            .spec
            .and_then(|s| s.replicas),
        Some(4)
    );

    let d = api
        .patch_status(
            "web",
            &PatchOptions::default(),
            &Patch::Merge(json!({"status": {"observedGeneration": 7}, "spec": {"replicas": 9}})),
        )
        .await
        .expect("patch status");
    assert_eq!(
        d.status.as_ref().and_then(|s| s.observed_generation),
        Some(7)
    );
    assert_eq!(
        d.spec.as_ref().and_then(|s| s.replicas),
        Some(4),
        "spec untouched"
    );

    let mut d = api.get_status("web").await.expect("get status");
    d.status.as_mut().expect("status").observed_generation = Some(8);
    let d = api
        .replace_status("web", &UpdateOptions::default(), &d)
        .await
        .expect("replace status");
    assert_eq!(d.status.and_then(|s| s.observed_generation), Some(8));
}

/// A dry-run create validates and answers like a real one but stores nothing, and
/// strict field validation refuses an unknown field.
#[tokio::test]
async fn dry_run_stores_nothing_and_strict_validation_refuses_unknown_fields() {
    let server = support::server().await;
    let api = Api::<ConfigMap>::namespaced(support::client(&server), "default");
    let answered = api
        .create(
            &CreateOptions::default().dry_run(),
            &configmap("dry", "k", "v"),
        )
        .await
        .expect("dry run");
    assert_eq!(answered.metadata.name.as_deref(), Some("dry"));
    assert!(api.get_opt("dry").await.expect("get_opt").is_none());

    let raw = Api::<kubeforge_client::api::DynamicObject>::namespaced_with(
        support::client(&server),
        "default",
        &kubeforge_client::api::api_resource::<ConfigMap>(),
    );
    let obj: kubeforge_client::api::DynamicObject = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "strict"}, "data": {"k": "v"}, "bogus": 1,
    }))
    .expect("decode");
    let err = raw
        .create(
            &CreateOptions::default().field_validation(FieldValidation::Strict),
            &obj,
        )
        .await
        .expect_err("strict");
    assert!(err.is_bad_request(), "{err}");
    assert!(err.to_string().contains("bogus"), "{err}");
}

/// A Pod delete returns the object; delete_collection removes what the selector
/// picks and nothing else; a precondition on a wrong UID is a conflict.
#[tokio::test]
async fn deletes_return_objects_and_collections_honour_selectors() {
    let server = support::server().await;
    let api = Api::<Pod>::namespaced(support::client(&server), "default");
    for (name, tier) in [("a", "web"), ("b", "web"), ("c", "db")] {
        api.create(&CreateOptions::default(), &pod(name, &[("tier", tier)]))
            .await
            .expect("create");
    }

    let err = api
        .delete("c", &DeleteOptions::default().uid("not-the-uid"))
        .await
        .expect_err("precondition");
    assert!(err.is_conflict(), "{err}");

    let deleted = api
        .delete("c", &DeleteOptions::immediately())
        .await
        .expect("delete");
    assert_eq!(
        deleted.object().and_then(|p| p.metadata.name).as_deref(),
        Some("c")
    );

    let gone = api
        .delete_collection(
            &DeleteOptions::background(),
            &ListOptions::default().labels("tier=web"),
        )
        .await
        .expect("delete collection");
    if let Deleted::Object(list) = gone {
        assert_eq!(list.items.len(), 2);
    }
    let left = api.list(&ListOptions::default()).await.expect("list");
    assert!(left.items.is_empty(), "{:?}", left.items.len());
}

/// Cluster-scoped kinds are reached through `Api::all`, and a namespace given for
/// one is ignored rather than put in the path.
#[tokio::test]
async fn cluster_scoped_kinds_ignore_a_namespace() {
    let server = support::server().await;
    let client = support::client(&server);
    let ns: Namespace =
        serde_json::from_value(json!({"metadata": {"name": "team-a"}})).expect("ns");
    Api::<Namespace>::all(client.clone())
        .create(&CreateOptions::default(), &ns)
        .await
        .expect("create namespace");
    let through_namespaced = Api::<Namespace>::namespaced(client, "ignored");
    assert_eq!(through_namespaced.namespace(), None);
    let got = through_namespaced.get("team-a").await.expect("get");
    assert_eq!(got.metadata.name.as_deref(), Some("team-a"));
}

/// Two controllers share a Deployment in the server-side-apply style: the scaler owns
/// `spec.replicas`, the labeler one label; each applies only its fields, neither
/// undoes the other, managedFields show both, and a third manager's change to the
/// scaler's field is a conflict until forced.
#[tokio::test]
async fn controllers_apply_their_own_fields_side_by_side() {
    let server = support::server().await;
    let api = Api::<Deployment>::namespaced(support::client(&server), "default");
    api.create(&CreateOptions::default(), &deployment("web", 1))
        .await
        .expect("create");
    let scaler = |replicas: i32| {
        Patch::Apply(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"replicas": replicas},
        }))
    };
    let labeler = Patch::Apply(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"team": "blue"}},
    }));
    // The creator owns replicas until the scaler takes them over.
    api.patch("web", &PatchOptions::apply("scaler").force(), &scaler(3))
        .await
        .expect("scaler applies");
    api.patch("web", &PatchOptions::apply("labeler"), &labeler)
        .await
        .expect("labeler applies");
    let again = api
        .patch("web", &PatchOptions::apply("scaler"), &scaler(4))
        .await
        .expect("scaler applies again without a conflict");
    assert_eq!(again.spec.as_ref().and_then(|s| s.replicas), Some(4));
    assert_eq!(
        again
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("team"))
            .map(String::as_str),
        Some("blue")
    );
    let owned = |manager: &str| {
        again
            .metadata
            .managed_fields
            .iter()
            .flatten()
            .find(|m| m.manager.as_deref() == Some(manager))
            .and_then(|m| m.fields_v1.as_ref())
            .map(|f| f.0.clone())
            .unwrap_or_else(|| panic!("no entry of {manager}"))
    };
    assert_eq!(owned("scaler"), json!({"f:spec": {"f:replicas": {}}}));
    assert_eq!(
        owned("labeler"),
        json!({"f:metadata": {"f:labels": {"f:team": {}}}})
    );

    let err = api
        .patch("web", &PatchOptions::apply("intruder"), &scaler(9))
        .await
        .expect_err("another manager's field conflicts");
    assert!(err.is_conflict(), "{err}");
    let causes = &err
        .status()
        .expect("a Status")
        .details
        .as_ref()
        .expect("details")
        .causes;
    assert_eq!(causes.len(), 1, "{causes:?}");
    assert_eq!(causes[0].cause_type, "FieldManagerConflict");
    assert_eq!(causes[0].field, ".spec.replicas");
    let forced = api
        .patch("web", &PatchOptions::apply("intruder").force(), &scaler(9))
        .await
        .expect("forced apply");
    assert_eq!(forced.spec.as_ref().and_then(|s| s.replicas), Some(9));
}
