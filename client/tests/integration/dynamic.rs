//! Discovery, the REST mapper and `DynamicObject`.

use kubeforge_client::api::{Api, Discovery, DynamicObject, Patch, RestMapper};
use kubeforge_client::core::{
    CreateOptions, DeleteOptions, GroupVersionKind, GroupVersionResource, ListOptions,
    PatchOptions, Scope,
};
use serde_json::json;

use crate::support;

/// Aggregated discovery and the legacy per-group documents describe the same groups,
/// versions and resources.
#[tokio::test]
async fn aggregated_and_legacy_discovery_agree() {
    let server = support::server().await;
    let client = support::client(&server);
    let aggregated = Discovery::new(client.clone())
        .get()
        .await
        .expect("aggregated");
    let legacy = Discovery::legacy(client).get().await.expect("legacy");
    assert!(aggregated.aggregated);
    assert!(!legacy.aggregated);
    assert_eq!(aggregated.groups.len(), legacy.groups.len());
    for (a, l) in aggregated.groups.iter().zip(&legacy.groups) {
        assert_eq!(a.name, l.name);
        let versions = |g: &kubeforge_client::api::DiscoveredGroup| {
            g.versions
                .iter()
                .map(|v| v.version.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(versions(a), versions(l), "group {:?}", a.name);
        for (av, lv) in a.versions.iter().zip(&l.versions) {
            let mut ar: Vec<_> = av.resources.iter().map(|r| r.resource.clone()).collect();
            let mut lr: Vec<_> = lv.resources.iter().map(|r| r.resource.clone()).collect();
            ar.sort_by(|x, y| x.plural.cmp(&y.plural));
            lr.sort_by(|x, y| x.plural.cmp(&y.plural));
            assert_eq!(ar, lr, "{}/{}", a.name, av.version);
        }
    }
    let pods = aggregated
        .resolve_gvk(&GroupVersionKind::new("", "v1", "Pod"))
        .expect("pods");
    assert_eq!(pods.resource.plural, "pods");
    assert_eq!(pods.resource.scope, Scope::Namespaced);
    assert!(pods.subresources.contains(&"status".to_owned()));
    assert!(pods.short_names.contains(&"po".to_owned()));
}

/// Discovery answers from its cache until invalidated or refreshed.
#[tokio::test]
async fn discovery_is_cached_until_refreshed() {
    let server = support::server().await;
    let discovery = Discovery::new(support::client(&server));
    assert!(discovery.cached().is_none());
    let first = discovery.get().await.expect("first");
    let second = discovery.get().await.expect("second");
    assert!(
        std::sync::Arc::ptr_eq(&first, &second),
        "served from the cache"
    );
    let fresh = discovery.refresh().await.expect("refresh");
    assert!(!std::sync::Arc::ptr_eq(&first, &fresh));
    discovery.invalidate();
    assert!(discovery.cached().is_none());
}

/// The REST mapper resolves kinds, plurals, singulars, short names, qualified names
/// and categories, and reports what does not exist as no-match.
#[tokio::test]
async fn the_rest_mapper_resolves_what_kubectl_accepts() {
    let server = support::server().await;
    let mapper = RestMapper::new(Discovery::new(support::client(&server)));
    for (arg, group, plural) in [
        ("pods", "", "pods"),
        ("pod", "", "pods"),
        ("po", "", "pods"),
        ("Pod", "", "pods"),
        ("deploy", "apps", "deployments"),
        ("deployments.apps", "apps", "deployments"),
        ("deployments.v1.apps", "apps", "deployments"),
        ("cm", "", "configmaps"),
        ("leases", "coordination.k8s.io", "leases"),
    ] {
        let r = mapper
            .resolve(arg)
            .await
            .unwrap_or_else(|e| panic!("{arg}: {e}"));
        assert_eq!(
            (r.group.as_str(), r.plural.as_str()),
            (group, plural),
            "{arg}"
        );
    }
    let deployments = mapper
        .resource_for(&GroupVersionKind::new("apps", "", "Deployment"))
        .await
        .expect("preferred version");
    assert_eq!(deployments.version, "v1");
    assert!(deployments.supports("patch"));
    let kind = mapper
        .kind_for(&GroupVersionResource::new("apps", "v1", "statefulsets"))
        .await
        .expect("kind");
    assert_eq!(kind.kind, "StatefulSet");

    let all = mapper.category("all").await.expect("category");
    let plurals: Vec<_> = all.iter().map(|r| r.plural.as_str()).collect();
    for want in ["pods", "services", "deployments"] {
        assert!(plurals.contains(&want), "{plurals:?}");
    }

    let err = mapper
        .resource_for(&GroupVersionKind::new("example.com", "v1", "Widget"))
        .await
        .expect_err("unknown kind");
    assert!(err.is_no_match(), "{err}");
    assert!(
        mapper
            .resolve("widgets")
            .await
            .expect_err("unknown")
            .is_no_match()
    );
}

/// A Deployment found through the REST mapper round-trips as a `DynamicObject`:
/// create, get, list, patch and delete.
#[tokio::test]
async fn a_dynamic_object_round_trips_through_a_mapped_resource() {
    let server = support::server().await;
    let client = support::client(&server);
    let mapper = RestMapper::new(Discovery::new(client.clone()));
    let ar = mapper.resolve("deployments").await.expect("mapped");
    let api = Api::<DynamicObject>::namespaced_with(client, "default", &ar);

    let obj = DynamicObject::new("dyn", &ar).with_data(json!({
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "dyn"}},
            "template": {"metadata": {"labels": {"app": "dyn"}},
                         "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}},
        }
    }));
    let created = api
        .create(&CreateOptions::default(), &obj)
        .await
        .expect("create");
    assert_eq!(created.kind, "Deployment");
    assert_eq!(created.api_version, "apps/v1");
    assert!(created.metadata.uid.is_some());
    assert_eq!(created.data["spec"]["replicas"], 2);

    let patched = api
        .patch(
            "dyn",
            &PatchOptions::default(),
            &Patch::Merge(json!({"spec": {"replicas": 3}})),
        )
        .await
        .expect("patch");
    assert_eq!(patched.data["spec"]["replicas"], 3);
    let listed = api.list(&ListOptions::default()).await.expect("list");
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].metadata.name.as_deref(), Some("dyn"));
    api.delete("dyn", &DeleteOptions::default())
        .await
        .expect("delete");
    assert!(api.get_opt("dyn").await.expect("get_opt").is_none());
}

/// Legacy discovery leaves out a group-version whose document fails (an aggregated
/// API server that is down) and reports it, instead of failing as a whole.
#[tokio::test]
async fn legacy_discovery_survives_a_failing_group_version() {
    use kubeforge_client::core::Status;
    use kubeforge_client::transport::RetryPolicy;
    use kubeforge_testserver::Fault;

    let server = support::server().await;
    let client = support::builder(&server)
        .retry(RetryPolicy::none())
        .build()
        .expect("client");
    server.inject(
        Fault::fail(Status::service_unavailable("the aggregated API is down"))
            .path_prefix("/apis/batch/v1")
            .times(usize::MAX),
    );
    let discovered = Discovery::legacy(client).get().await.expect("discovery");
    assert_eq!(discovered.failed.len(), 1, "{:?}", discovered.failed);
    assert_eq!(discovered.failed[0].0, "batch/v1");
    assert!(discovered.group("batch").is_none());
    assert!(discovered.group("apps").is_some());
}
