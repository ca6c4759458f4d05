use serde_json::json;

use crate::support::start;

const AGG_V2: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";

/// /api and /apis answer legacy discovery; groups list preferred versions first.
#[tokio::test]
async fn legacy_discovery_lists_versions_and_groups() {
    let h = start().await;
    let api = h.client.get("/api").await.expect(200);
    assert_eq!(api.body["kind"], "APIVersions");
    assert_eq!(api.body["versions"], json!(["v1"]));
    let apis = h.client.get("/apis").await.expect(200);
    assert_eq!(apis.body["kind"], "APIGroupList");
    let autoscaling = apis.body["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| g["name"] == "autoscaling")
        .expect("autoscaling served");
    assert_eq!(autoscaling["preferredVersion"]["version"], "v2");
    let group = h.client.get("/apis/apps").await.expect(200);
    assert_eq!(group.body["kind"], "APIGroup");
    assert_eq!(group.body["preferredVersion"]["groupVersion"], "apps/v1");
    h.client.get("/apis/nope.example.com").await.expect(404);
}

/// Resource lists carry names, kinds, verbs, short names, categories, hashes and
/// subresources as separate entries.
#[tokio::test]
async fn resource_lists_match_upstream_shape() {
    let h = start().await;
    let core = h.client.get("/api/v1").await.expect(200);
    assert_eq!(core.body["groupVersion"], "v1");
    let find = |name: &str| {
        core.body["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .find(|r| r["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} missing"))
    };
    let pods = find("pods");
    assert_eq!(pods["kind"], "Pod");
    assert_eq!(pods["namespaced"], true);
    assert_eq!(pods["shortNames"], json!(["po"]));
    assert_eq!(pods["categories"], json!(["all"]));
    assert_eq!(pods["storageVersionHash"], "xPOwRZ+Yhw8=");
    assert_eq!(
        pods["verbs"],
        json!([
            "create",
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "update",
            "watch"
        ])
    );
    assert_eq!(find("pods/status")["kind"], "Pod");
    let eviction = find("pods/eviction");
    assert_eq!(
        (eviction["group"].clone(), eviction["version"].clone()),
        (json!("policy"), json!("v1"))
    );
    let apps = h.client.get("/apis/apps/v1").await.expect(200);
    let scale = apps.body["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["name"] == "deployments/scale")
        .expect("deployments/scale");
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["group"], "autoscaling");
}

/// Aggregated discovery v2: content type echoed, ETag, 304 on If-None-Match, and the
/// resources the conformance suite requires.
#[tokio::test]
async fn aggregated_discovery_v2_with_etag() {
    let h = start().await;
    let apis = h.client.get_accept("/apis", AGG_V2).await.expect(200);
    assert_eq!(
        apis.header("content-type"),
        Some("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
    );
    assert_eq!(apis.body["kind"], "APIGroupDiscoveryList");
    assert_eq!(apis.header("vary"), Some("Accept"));
    let etag = apis.header("etag").expect("etag").to_owned();
    let required = [
        (
            "admissionregistration.k8s.io",
            "v1",
            "validatingwebhookconfigurations",
        ),
        ("apiextensions.k8s.io", "v1", "customresourcedefinitions"),
        ("apiregistration.k8s.io", "v1", "apiservices"),
        ("apps", "v1", "deployments"),
        ("authentication.k8s.io", "v1", "tokenreviews"),
        ("authorization.k8s.io", "v1", "selfsubjectaccessreviews"),
        ("autoscaling", "v1", "horizontalpodautoscalers"),
        ("autoscaling", "v2", "horizontalpodautoscalers"),
        ("batch", "v1", "jobs"),
        ("certificates.k8s.io", "v1", "certificatesigningrequests"),
        ("coordination.k8s.io", "v1", "leases"),
        ("discovery.k8s.io", "v1", "endpointslices"),
        ("events.k8s.io", "v1", "events"),
        ("networking.k8s.io", "v1", "ingresses"),
        ("node.k8s.io", "v1", "runtimeclasses"),
        ("policy", "v1", "poddisruptionbudgets"),
        ("scheduling.k8s.io", "v1", "priorityclasses"),
        ("storage.k8s.io", "v1", "csinodes"),
    ];
    for (g, v, r) in required {
        let group = apis.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|i| i["metadata"]["name"] == g)
            .unwrap_or_else(|| panic!("group {g} missing"));
        let version = group["versions"]
            .as_array()
            .expect("versions")
            .iter()
            .find(|x| x["version"] == v)
            .unwrap_or_else(|| panic!("{g}/{v} missing"));
        assert!(
            version["resources"]
                .as_array()
                .expect("resources")
                .iter()
                .any(|x| x["resource"] == r),
            "{g}/{v} {r} missing"
        );
    }
    let api = h.client.get_accept("/api", AGG_V2).await.expect(200);
    let core = &api.body["items"][0];
    assert_eq!(core["metadata"]["name"], "");
    let ns = core["versions"][0]["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["resource"] == "namespaces")
        .expect("namespaces");
    assert_eq!(ns["scope"], "Cluster");
    assert_eq!(
        ns["responseKind"],
        json!({"group": "", "version": "v1", "kind": "Namespace"})
    );

    let cached = h
        .client
        .send(
            h.client
                .http
                .get(h.client.url("/apis"))
                .header("accept", AGG_V2)
                .header("if-none-match", &etag),
        )
        .await;
    assert_eq!(cached.code, 304, "If-None-Match with the ETag answers 304");
    // Plain JSON gets legacy discovery.
    let legacy = h
        .client
        .get_accept("/apis", "application/json")
        .await
        .expect(200);
    assert_eq!(legacy.body["kind"], "APIGroupList");
}

/// /version reports Kubernetes 1.33 with integer major/minor.
#[tokio::test]
async fn version_reports_1_33() {
    let h = start().await;
    let v = h.client.get("/version").await.expect(200);
    assert_eq!(v.body["major"], "1");
    assert_eq!(v.body["minor"], "33");
    assert!(
        v.body["gitVersion"]
            .as_str()
            .expect("gitVersion")
            .starts_with("v1.33.")
    );
}

/// Health endpoints answer as upstream's: ok, verbose lines, exclusions, single checks.
#[tokio::test]
async fn health_endpoints() {
    let h = start().await;
    for ep in ["/healthz", "/livez", "/readyz"] {
        let r = h.client.get(ep).await.expect(200);
        assert_eq!(r.text, "ok");
        assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    }
    let verbose = h.client.get("/readyz?verbose").await.expect(200);
    assert!(verbose.text.starts_with("[+]ping ok\n"), "{}", verbose.text);
    assert!(
        verbose.text.ends_with("readyz check passed\n"),
        "{}",
        verbose.text
    );
    let excluded = h
        .client
        .get("/livez?verbose&exclude=etcd&exclude=nope")
        .await
        .expect(200);
    assert!(
        excluded.text.contains("[+]etcd excluded: ok"),
        "{}",
        excluded.text
    );
    assert!(
        excluded.text.contains("no matches for \"nope\""),
        "{}",
        excluded.text
    );
    assert_eq!(h.client.get("/livez/ping").await.expect(200).text, "ok");
    h.client.get("/livez/unknown").await.expect(404);
}

/// GET / lists the served paths; unknown paths are Go's plain 404.
#[tokio::test]
async fn root_lists_paths_and_unknown_paths_404() {
    let h = start().await;
    let root = h.client.get("/").await.expect(200);
    let paths: Vec<&str> = root.body["paths"]
        .as_array()
        .expect("paths")
        .iter()
        .filter_map(|p| p.as_str())
        .collect();
    for p in [
        "/api",
        "/apis/apps/v1",
        "/healthz",
        "/version",
        "/openapi/v3",
    ] {
        assert!(paths.contains(&p), "{p} missing");
    }
    let nf = h.client.get("/nothing/here").await.expect(404);
    assert_eq!(nf.text, "404 page not found\n");
}

/// /openapi/v3 indexes every group-version; each document has a PATCH operation per
/// kind that advertises fieldValidation (what kubectl checks before writing).
#[tokio::test]
async fn openapi_v3_advertises_field_validation() {
    let h = start().await;
    let index = h.client.get("/openapi/v3").await.expect(200);
    let url = index.body["paths"]["apis/apps/v1"]["serverRelativeURL"]
        .as_str()
        .expect("apps/v1")
        .to_owned();
    assert!(url.starts_with("/openapi/v3/apis/apps/v1?hash="));
    let doc = h.client.get(&url).await.expect(200);
    let item = &doc.body["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"];
    assert_eq!(
        item["patch"]["x-kubernetes-group-version-kind"],
        json!({"group": "apps", "version": "v1", "kind": "Deployment"})
    );
    let params = item["patch"]["parameters"].as_array().expect("params");
    assert!(
        params
            .iter()
            .any(|p| p["name"] == "fieldValidation" && p["in"] == "query")
    );
    assert!(h.client.get("/openapi/v3/api/v1").await.expect(200).body["paths"].is_object());
    h.client.get("/openapi/v2").await.expect(200);
}

/// Tables: kubectl's Accept gets upstream's columns for printed kinds and Name/Created
/// At for the rest; 406 where only a Table is acceptable and none exists.
#[tokio::test]
async fn table_output() {
    let h = start().await;
    let kubectl_accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
    h.client
        .configmap("default", "t", &[("a", "1"), ("b", "2")])
        .await;
    let t = h
        .client
        .get_accept("/api/v1/namespaces/default/configmaps", kubectl_accept)
        .await
        .expect(200);
    assert_eq!(t.body["kind"], "Table");
    assert_eq!(t.body["apiVersion"], "meta.k8s.io/v1");
    let cols: Vec<&str> = t.body["columnDefinitions"]
        .as_array()
        .expect("cols")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(cols, vec!["Name", "Data", "Age"]);
    let row = &t.body["rows"][0];
    assert_eq!(row["cells"][0], "t");
    assert_eq!(row["cells"][1], 2);
    assert_eq!(row["object"]["kind"], "PartialObjectMetadata");
    let ns = h
        .client
        .get_accept("/api/v1/namespaces/default", kubectl_accept)
        .await
        .expect(200);
    assert_eq!(ns.body["rows"][0]["cells"][1], "Active");
    let cr = h
        .client
        .get_accept(
            "/apis/rbac.authorization.k8s.io/v1/clusterroles",
            kubectl_accept,
        )
        .await
        .expect(200);
    let cols: Vec<&str> = cr.body["columnDefinitions"]
        .as_array()
        .expect("cols")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(cols, vec!["Name", "Created At"]);
    let table_only = "application/json;as=Table;v=v1;g=meta.k8s.io";
    let r = h
        .client
        .send(
            h.client
                .http
                .post(
                    h.client
                        .url("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"),
                )
                .header("accept", table_only)
                .json(
                    &json!({"spec": {"resourceAttributes": {"verb": "get", "resource": "pods"}}}),
                ),
        )
        .await;
    r.expect_status(406, "NotAcceptable");
    // includeObject=Object embeds the whole object.
    let full = h
        .client
        .get_accept(
            "/api/v1/namespaces/default/configmaps?includeObject=Object",
            kubectl_accept,
        )
        .await
        .expect(200);
    assert_eq!(full.body["rows"][0]["object"]["data"]["a"], "1");
    let meta = h
        .client
        .get_accept(
            "/api/v1/namespaces/default/configmaps",
            "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1",
        )
        .await
        .expect(200);
    assert_eq!(meta.body["kind"], "PartialObjectMetadataList");
    assert!(meta.body["items"][0].get("data").is_none());
}
