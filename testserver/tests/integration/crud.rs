use serde_json::{Value, json};

use crate::support::start;

const CM: &str = "/api/v1/namespaces/default/configmaps";
const DEPLOY: &str = "/apis/apps/v1/namespaces/default/deployments";

fn deployment(name: &str, replicas: i64) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}
        }
    })
}

/// Create stamps uid, creationTimestamp and resourceVersion; generation only for kinds
/// that track it; the namespace comes from the path.
#[tokio::test]
async fn create_sets_system_metadata() {
    let h = start().await;
    let cm = h.client.configmap("default", "a", &[("k", "v")]).await;
    let meta = &cm.body["metadata"];
    assert_eq!(meta["namespace"], "default");
    assert_eq!(meta["uid"].as_str().expect("uid").len(), 36);
    let ts = meta["creationTimestamp"].as_str().expect("timestamp");
    assert!(
        ts.ends_with('Z') && !ts.contains('.'),
        "second precision: {ts}"
    );
    assert!(cm.rv() > 0);
    assert!(
        meta.get("generation").is_none(),
        "configmaps have no generation"
    );
    let d = h
        .client
        .post(DEPLOY, &deployment("web", 1))
        .await
        .expect(201);
    assert_eq!(d.body["metadata"]["generation"], 1);
    let got = h.client.get(&format!("{CM}/a")).await.expect(200);
    assert_eq!(
        got.body, cm.body,
        "get returns exactly what create returned"
    );
}

/// generateName appends 5 characters from upstream's alphabet.
#[tokio::test]
async fn generate_name() {
    let h = start().await;
    let r = h
        .client
        .post(
            CM,
            &json!({"metadata": {"generateName": "gen-"}, "data": {}}),
        )
        .await
        .expect(201);
    let name = r.body["metadata"]["name"].as_str().expect("name");
    assert_eq!(name.len(), 9);
    assert!(
        name[4..]
            .bytes()
            .all(|b| b"bcdfghjklmnpqrstvwxz2456789".contains(&b)),
        "{name}"
    );
    h.client
        .post(CM, &json!({"metadata": {}}))
        .await
        .expect_status(422, "Invalid");
}

/// Body namespace must match the path; cluster-scoped objects lose a namespace.
#[tokio::test]
async fn namespace_in_body_vs_path() {
    let h = start().await;
    let r = h
        .client
        .post(
            CM,
            &json!({"metadata": {"name": "x", "namespace": "kube-system"}}),
        )
        .await
        .expect_status(400, "BadRequest");
    assert_eq!(
        r.message(),
        "the namespace of the provided object does not match the namespace sent on the request"
    );
    let pc = h
        .client
        .post(
            "/apis/scheduling.k8s.io/v1/priorityclasses",
            &json!({"metadata": {"name": "high", "namespace": "ignored"}, "value": 1000}),
        )
        .await
        .expect(201);
    assert!(pc.body["metadata"].get("namespace").is_none());
}

/// Creating an existing name is 409 AlreadyExists; reading a missing one 404.
#[tokio::test]
async fn already_exists_and_not_found() {
    let h = start().await;
    h.client.configmap("default", "dup", &[]).await;
    let r = h
        .client
        .post(CM, &json!({"metadata": {"name": "dup"}}))
        .await
        .expect_status(409, "AlreadyExists");
    assert_eq!(r.message(), "configmaps \"dup\" already exists");
    assert_eq!(
        r.body["details"],
        json!({"name": "dup", "kind": "configmaps"})
    );
    let r = h
        .client
        .get(&format!("{DEPLOY}/missing"))
        .await
        .expect_status(404, "NotFound");
    assert_eq!(r.message(), "deployments.apps \"missing\" not found");
    assert_eq!(r.body["details"]["group"], "apps");
}

/// Updates: stale resourceVersion is 409 with upstream's message; unconditional
/// updates only where allowed; create-on-update only where allowed; a no-op update
/// keeps the resourceVersion.
#[tokio::test]
async fn update_semantics() {
    let h = start().await;
    let cm = h.client.configmap("default", "u", &[("a", "1")]).await;
    let mut body = cm.body.clone();
    body["data"]["a"] = json!("2");
    let updated = h.client.put(&format!("{CM}/u"), &body).await.expect(200);
    assert!(updated.rv() > cm.rv());
    let stale = h
        .client
        .put(&format!("{CM}/u"), &body)
        .await
        .expect_status(409, "Conflict");
    assert_eq!(
        stale.message(),
        "Operation cannot be fulfilled on configmaps \"u\": the object has been modified; please apply your changes to the latest version and try again"
    );
    // ConfigMaps allow unconditional updates.
    let mut unconditional = updated.body.clone();
    unconditional["metadata"]
        .as_object_mut()
        .expect("meta")
        .remove("resourceVersion");
    unconditional["data"]["a"] = json!("3");
    h.client
        .put(&format!("{CM}/u"), &unconditional)
        .await
        .expect(200);
    // Leases do not.
    let lease = h
        .client
        .post(
            "/apis/coordination.k8s.io/v1/namespaces/default/leases",
            &json!({"metadata": {"name": "l"}, "spec": {}}),
        )
        .await
        .expect(201);
    let mut lb = lease.body.clone();
    lb["metadata"]
        .as_object_mut()
        .expect("meta")
        .remove("resourceVersion");
    let r = h
        .client
        .put(
            "/apis/coordination.k8s.io/v1/namespaces/default/leases/l",
            &lb,
        )
        .await
        .expect_status(422, "Invalid");
    assert!(
        r.message().contains(
            "metadata.resourceVersion: Invalid value: 0: must be specified for an update"
        ),
        "{}",
        r.message()
    );
    // Name in body must match the URL.
    let r = h
        .client
        .put(&format!("{CM}/other"), &updated.body)
        .await
        .expect_status(400, "BadRequest");
    assert!(r.message().contains("does not match the name on the URL"));
    // Create on update: services yes, configmaps no.
    h.client
        .put(
            "/api/v1/namespaces/default/services/made-by-put",
            &json!({"metadata": {"name": "made-by-put"}, "spec": {"ports": [{"port": 80}]}}),
        )
        .await
        .expect(201);
    h.client
        .put(
            &format!("{CM}/nope"),
            &json!({"metadata": {"name": "nope"}}),
        )
        .await
        .expect_status(404, "NotFound");
    // No-op update.
    let current = h.client.get(&format!("{CM}/u")).await.expect(200);
    let again = h
        .client
        .put(&format!("{CM}/u"), &current.body)
        .await
        .expect(200);
    assert_eq!(
        again.rv(),
        current.rv(),
        "a no-op update does not change resourceVersion"
    );
}

/// Generation counts spec changes only; the status subresource and the main resource
/// each ignore the other's part.
#[tokio::test]
async fn generation_and_status_subresource() {
    let h = start().await;
    let d = h.client.post(DEPLOY, &deployment("g", 1)).await.expect(201);
    let mut body = d.body.clone();
    body["metadata"]["labels"] = json!({"x": "y"});
    body["status"] = json!({"replicas": 99});
    let labeled = h
        .client
        .put(&format!("{DEPLOY}/g"), &body)
        .await
        .expect(200);
    assert_eq!(
        labeled.body["metadata"]["generation"], 1,
        "metadata changes do not bump generation"
    );
    assert!(
        labeled.body.get("status").is_none() || labeled.body["status"].get("replicas").is_none(),
        "main endpoint ignores status"
    );
    let mut spec = labeled.body.clone();
    spec["spec"]["replicas"] = json!(3);
    let scaled = h
        .client
        .put(&format!("{DEPLOY}/g"), &spec)
        .await
        .expect(200);
    assert_eq!(scaled.body["metadata"]["generation"], 2);
    let mut st = scaled.body.clone();
    st["status"] = json!({"replicas": 3, "observedGeneration": 2});
    st["spec"]["replicas"] = json!(7);
    let status = h
        .client
        .put(&format!("{DEPLOY}/g/status"), &st)
        .await
        .expect(200);
    assert_eq!(status.body["status"]["replicas"], 3);
    assert_eq!(status.body["spec"]["replicas"], 3, "/status ignores spec");
    assert_eq!(status.body["metadata"]["generation"], 2);
    let read = h
        .client
        .get(&format!("{DEPLOY}/g/status"))
        .await
        .expect(200);
    assert_eq!(read.body["status"]["observedGeneration"], 2);
}

/// The scale subresource reads and writes spec.replicas as autoscaling/v1 Scale.
#[tokio::test]
async fn scale_subresource() {
    let h = start().await;
    h.client.post(DEPLOY, &deployment("s", 2)).await.expect(201);
    let scale = h.client.get(&format!("{DEPLOY}/s/scale")).await.expect(200);
    assert_eq!(scale.body["kind"], "Scale");
    assert_eq!(scale.body["apiVersion"], "autoscaling/v1");
    assert_eq!(scale.body["spec"]["replicas"], 2);
    assert_eq!(scale.body["status"]["selector"], "app=s");
    let mut body = scale.body.clone();
    body["spec"]["replicas"] = json!(5);
    let put = h
        .client
        .put(&format!("{DEPLOY}/s/scale"), &body)
        .await
        .expect(200);
    assert_eq!(put.body["spec"]["replicas"], 5);
    let patched = h
        .client
        .patch(
            &format!("{DEPLOY}/s/scale"),
            "application/merge-patch+json",
            &json!({"spec": {"replicas": 1}}),
        )
        .await
        .expect(200);
    assert_eq!(patched.body["spec"]["replicas"], 1);
    let d = h.client.get(&format!("{DEPLOY}/s")).await.expect(200);
    assert_eq!(d.body["spec"]["replicas"], 1);
    assert_eq!(d.body["metadata"]["generation"], 3);
    // a stale Scale resourceVersion conflicts
    h.client
        .put(&format!("{DEPLOY}/s/scale"), &body)
        .await
        .expect_status(409, "Conflict");
}

/// JSON patch and merge patch; unsupported patch types are 415 listing the accepted
/// ones; a failed JSON-patch test is 422; a malformed patch 400.
#[tokio::test]
async fn patch_types() {
    let h = start().await;
    h.client.configmap("default", "p", &[("a", "1")]).await;
    let path = format!("{CM}/p");
    let m = h
        .client
        .patch(
            &path,
            "application/merge-patch+json",
            &json!({"data": {"b": "2", "a": null}}),
        )
        .await
        .expect(200);
    assert_eq!(m.body["data"], json!({"b": "2"}));
    let j = h
        .client
        .patch(
            &path,
            "application/json-patch+json",
            &json!([{"op": "add", "path": "/data/c", "value": "3"}]),
        )
        .await
        .expect(200);
    assert_eq!(j.body["data"], json!({"b": "2", "c": "3"}));
    let s = h
        .client
        .patch(
            &path,
            "application/strategic-merge-patch+json",
            &json!({"data": {"x": "1"}}),
        )
        .await
        .expect(200);
    assert_eq!(s.body["data"], json!({"b": "2", "c": "3", "x": "1"}));
    let r = h
        .client
        .patch(&path, "application/vnd.unknown-patch+json", &json!({}))
        .await
        .expect_status(415, "UnsupportedMediaType");
    assert!(
        r.message().contains(
            "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json"
        ),
        "{}",
        r.message()
    );
    h.client
        .patch(
            &path,
            "application/json-patch+json",
            &json!([{"op": "test", "path": "/data/b", "value": "nope"}]),
        )
        .await
        .expect_status(422, "Invalid");
    h.client
        .raw(
            reqwest::Method::PATCH,
            &path,
            "application/merge-patch+json",
            b"{not json".to_vec(),
        )
        .await
        .expect_status(400, "BadRequest");
    h.client
        .patch(
            &format!("{CM}/absent"),
            "application/merge-patch+json",
            &json!({}),
        )
        .await
        .expect_status(404, "NotFound");
    // A patch pinning a stale resourceVersion conflicts.
    h.client
        .patch(
            &path,
            "application/merge-patch+json",
            &json!({"metadata": {"resourceVersion": "1"}, "data": {"z": "1"}}),
        )
        .await
        .expect_status(409, "Conflict");
}

/// Delete answers with a Success Status for most kinds and with the object for kinds
/// that return it; preconditions conflict; finalizers defer removal until they are
/// gone.
#[tokio::test]
async fn delete_semantics() {
    let h = start().await;
    let cm = h.client.configmap("default", "d", &[]).await;
    let uid = cm.body["metadata"]["uid"].as_str().expect("uid").to_owned();
    let r = h
        .client
        .delete_with(
            &format!("{CM}/d"),
            &json!({"preconditions": {"uid": "wrong"}}),
        )
        .await
        .expect_status(409, "Conflict");
    assert!(
        r.message()
            .contains("the UID in the precondition (wrong) does not match the UID in record"),
        "{}",
        r.message()
    );
    h.client
        .delete_with(
            &format!("{CM}/d"),
            &json!({"preconditions": {"resourceVersion": "1"}}),
        )
        .await
        .expect_status(409, "Conflict");
    let ok = h.client.delete(&format!("{CM}/d")).await.expect(200);
    assert_eq!(ok.body["kind"], "Status");
    assert_eq!(ok.body["status"], "Success");
    assert_eq!(
        ok.body["details"],
        json!({"name": "d", "kind": "configmaps", "uid": uid})
    );
    h.client
        .get(&format!("{CM}/d"))
        .await
        .expect_status(404, "NotFound");
    h.client
        .delete(&format!("{CM}/d"))
        .await
        .expect_status(404, "NotFound");

    let pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}});
    h.client
        .post("/api/v1/namespaces/default/pods", &pod)
        .await
        .expect(201);
    let deleted = h
        .client
        .delete("/api/v1/namespaces/default/pods/p")
        .await
        .expect(200);
    assert_eq!(
        deleted.body["kind"], "Pod",
        "pods answer with the deleted object"
    );

    h.client
        .post(
            CM,
            &json!({"metadata": {"name": "f", "finalizers": ["example.com/hold"]}}),
        )
        .await
        .expect(201);
    let marked = h.client.delete(&format!("{CM}/f")).await.expect(200);
    assert_eq!(marked.body["kind"], "ConfigMap");
    assert!(marked.body["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(marked.body["metadata"]["deletionGracePeriodSeconds"], 0);
    let again = h.client.delete(&format!("{CM}/f")).await.expect(200);
    assert_eq!(
        again.body["metadata"]["deletionTimestamp"],
        marked.body["metadata"]["deletionTimestamp"]
    );
    h.client.get(&format!("{CM}/f")).await.expect(200);
    let r = h
        .client
        .patch(
            &format!("{CM}/f"),
            "application/merge-patch+json",
            &json!({"metadata": {"finalizers": ["example.com/more"]}}),
        )
        .await
        .expect_status(422, "Invalid");
    assert!(
        r.message().contains("no new finalizers can be added"),
        "{}",
        r.message()
    );
    h.client
        .patch(
            &format!("{CM}/f"),
            "application/merge-patch+json",
            &json!({"metadata": {"finalizers": null}}),
        )
        .await
        .expect(200);
    h.client
        .get(&format!("{CM}/f"))
        .await
        .expect_status(404, "NotFound");

    h.client
        .delete_with(
            &format!("{CM}/x"),
            &json!({"propagationPolicy": "Sideways"}),
        )
        .await
        .expect_status(422, "Invalid");
}

/// deletecollection deletes what matches and answers the list of deleted objects.
#[tokio::test]
async fn delete_collection() {
    let h = start().await;
    for (name, tier) in [("a", "web"), ("b", "web"), ("c", "db")] {
        h.client
            .post(
                CM,
                &json!({"metadata": {"name": name, "labels": {"tier": tier}}}),
            )
            .await
            .expect(201);
    }
    let r = h
        .client
        .delete(&format!("{CM}?labelSelector=tier%3Dweb"))
        .await
        .expect(200);
    assert_eq!(r.body["kind"], "ConfigMapList");
    let names: Vec<&str> = r.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["metadata"]["name"].as_str())
        .collect();
    assert_eq!(names, vec!["a", "b"]);
    let left = h.client.get(CM).await.expect(200);
    let names: Vec<&str> = left.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["metadata"]["name"].as_str())
        .collect();
    assert!(names.contains(&"c") && !names.contains(&"a"));
}

/// dryRun=All runs everything but persists nothing.
#[tokio::test]
async fn dry_run_persists_nothing() {
    let h = start().await;
    let r = h
        .client
        .post(
            &format!("{CM}?dryRun=All"),
            &json!({"metadata": {"name": "dry"}}),
        )
        .await
        .expect(201);
    assert_eq!(r.body["metadata"]["name"], "dry");
    h.client
        .get(&format!("{CM}/dry"))
        .await
        .expect_status(404, "NotFound");
    h.client
        .post(
            &format!("{CM}?dryRun=Some"),
            &json!({"metadata": {"name": "dry"}}),
        )
        .await
        .expect_status(422, "Invalid");
    h.client.configmap("default", "keep", &[]).await;
    h.client
        .delete(&format!("{CM}/keep?dryRun=All"))
        .await
        .expect(200);
    h.client.get(&format!("{CM}/keep")).await.expect(200);
}

/// Kind defaults the API fills in: secret stringData, service IPs, namespace phase.
#[tokio::test]
async fn kind_defaults() {
    let h = start().await;
    let s = h
        .client
        .post(
            "/api/v1/namespaces/default/secrets",
            &json!({"metadata": {"name": "s"}, "stringData": {"pw": "hunter2"}}),
        )
        .await
        .expect(201);
    assert_eq!(s.body["data"]["pw"], "aHVudGVyMg==");
    assert_eq!(s.body["type"], "Opaque");
    assert!(s.body.get("stringData").is_none());
    h.client
        .post(
            "/api/v1/namespaces/default/secrets",
            &json!({"metadata": {"name": "bad"}, "data": {"x": "not base64!"}}),
        )
        .await
        .expect_status(400, "BadRequest");
    let svc = h
        .client
        .post(
            "/api/v1/namespaces/default/services",
            &json!({"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}}),
        )
        .await
        .expect(201);
    let ip = svc.body["spec"]["clusterIP"].as_str().expect("cluster IP");
    assert!(ip.starts_with("10.96."), "{ip}");
    assert_eq!(svc.body["spec"]["ports"][0]["targetPort"], 80);
    assert_eq!(svc.body["spec"]["type"], "ClusterIP");
}

/// Access reviews answer allowed (every request is an admin until authorization
/// lands), are never stored, and are create-only.
#[tokio::test]
async fn access_reviews() {
    let h = start().await;
    let r = h
        .client
        .post(
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            &json!({"spec": {"resourceAttributes": {"verb": "delete", "resource": "pods"}}}),
        )
        .await
        .expect(201);
    assert_eq!(r.body["status"]["allowed"], true);
    assert_eq!(r.body["kind"], "SelfSubjectAccessReview");
    h.client
        .get("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")
        .await
        .expect_status(405, "MethodNotAllowed");
}

/// Objects served at a version other than their stored one are converted both ways.
#[tokio::test]
async fn hpa_served_at_v1_and_v2() {
    let h = start().await;
    let v1 = json!({
        "metadata": {"name": "h"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "maxReplicas": 5, "targetCPUUtilizationPercentage": 70}
    });
    h.client
        .post(
            "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers",
            &v1,
        )
        .await
        .expect(201);
    let v2 = h
        .client
        .get("/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/h")
        .await
        .expect(200);
    assert_eq!(v2.body["apiVersion"], "autoscaling/v2");
    assert_eq!(
        v2.body["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
        70
    );
    let back = h
        .client
        .get("/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/h")
        .await
        .expect(200);
    assert_eq!(back.body["apiVersion"], "autoscaling/v1");
    assert_eq!(back.body["spec"]["targetCPUUtilizationPercentage"], 70);
}

/// A JSON patch that replaces metadata with a stale resourceVersion is a 409, not an
/// endless retry.
#[tokio::test]
async fn patch_replacing_metadata_with_a_stale_version_conflicts() {
    let h = start().await;
    h.client.configmap("default", "m", &[]).await;
    let patch = json!([{"op": "replace", "path": "/metadata", "value": {"name": "m", "namespace": "default", "resourceVersion": "1"}}]);
    h.client
        .patch(&format!("{CM}/m"), "application/json-patch+json", &patch)
        .await
        .expect_status(409, "Conflict");
}

/// A UID in an update body is a precondition: a mismatch is 409.
#[tokio::test]
async fn update_with_another_uid_conflicts() {
    let h = start().await;
    let cm = h.client.configmap("default", "uid", &[]).await;
    let mut body = cm.body.clone();
    body["metadata"]["uid"] = json!("00000000-0000-0000-0000-000000000000");
    let r = h
        .client
        .put(&format!("{CM}/uid"), &body)
        .await
        .expect_status(409, "Conflict");
    assert!(
        r.message()
            .contains("Precondition failed: UID in precondition"),
        "{}",
        r.message()
    );
}

/// PUT of a missing object that may be created by PUT creates it even if the body
/// carries a resourceVersion.
#[tokio::test]
async fn put_create_ignores_a_resource_version() {
    let h = start().await;
    h.client
        .put(
            "/apis/coordination.k8s.io/v1/namespaces/default/leases/new",
            &json!({"metadata": {"name": "new", "resourceVersion": "12345"}, "spec": {}}),
        )
        .await
        .expect(201);
}

/// A delete answers with the object at the delete's resourceVersion.
#[tokio::test]
async fn delete_answers_at_the_delete_revision() {
    let h = start().await;
    let pod =
        json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "x"}]}});
    let created = h
        .client
        .post("/api/v1/namespaces/default/pods", &pod)
        .await
        .expect(201);
    let deleted = h
        .client
        .delete("/api/v1/namespaces/default/pods/p")
        .await
        .expect(200);
    assert!(
        deleted.rv() > created.rv(),
        "the deleted object carries the delete's revision"
    );
    let after = h
        .client
        .get("/api/v1/namespaces/default/pods")
        .await
        .expect(200);
    assert_eq!(after.rv(), deleted.rv());
}

/// A huge grace period is accepted (the deadline saturates) instead of panicking.
#[tokio::test]
async fn huge_grace_periods_do_not_panic() {
    let h = start().await;
    h.client
        .post("/api/v1/nodes", &json!({"metadata": {"name": "n1"}}))
        .await
        .expect(201);
    let pod = json!({"metadata": {"name": "g"}, "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "x"}]}});
    h.client
        .post("/api/v1/namespaces/default/pods", &pod)
        .await
        .expect(201);
    let r = h
        .client
        .delete("/api/v1/namespaces/default/pods/g?gracePeriodSeconds=9223372036854775807")
        .await
        .expect(200);
    assert!(r.body["metadata"]["deletionTimestamp"].is_string());
}

/// Names with characters clients percent-encode are found.
#[tokio::test]
async fn percent_encoded_names_resolve() {
    let h = start().await;
    h.client
        .post(
            "/apis/rbac.authorization.k8s.io/v1/clusterroles",
            &json!({"metadata": {"name": "system:thing"}}),
        )
        .await
        .expect(201);
    let r = h
        .client
        .get("/apis/rbac.authorization.k8s.io/v1/clusterroles/system%3Athing")
        .await
        .expect(200);
    assert_eq!(r.body["metadata"]["name"], "system:thing");
}

/// Service addresses: a taken cluster IP is 422; a deleted service gives its address
/// back; a dry run keeps none.
#[tokio::test]
async fn service_addresses_are_allocated_and_released() {
    let h = start().await;
    let svc = |name: &str, ip: Option<&str>| {
        let mut s = json!({"metadata": {"name": name}, "spec": {"ports": [{"port": 80}]}});
        if let Some(ip) = ip {
            s["spec"]["clusterIP"] = json!(ip);
        }
        s
    };
    let path = "/api/v1/namespaces/default/services";
    h.client
        .post(
            &format!("{path}?dryRun=All"),
            &svc("dry", Some("10.96.0.50")),
        )
        .await
        .expect(201);
    h.client
        .post(path, &svc("a", Some("10.96.0.50")))
        .await
        .expect(201);
    let r = h
        .client
        .post(path, &svc("b", Some("10.96.0.50")))
        .await
        .expect_status(422, "Invalid");
    assert!(
        r.message().contains("provided IP is already allocated"),
        "{}",
        r.message()
    );
    h.client
        .post(path, &svc("c", Some("192.168.1.1")))
        .await
        .expect_status(422, "Invalid");
    h.client.delete(&format!("{path}/a")).await.expect(200);
    h.client
        .post(path, &svc("b", Some("10.96.0.50")))
        .await
        .expect(201);
}

/// A dry-run Binding does not bind.
#[tokio::test]
async fn dry_run_binding_does_not_bind() {
    let h = start().await;
    let pod =
        json!({"metadata": {"name": "b"}, "spec": {"containers": [{"name": "c", "image": "x"}]}});
    h.client
        .post("/api/v1/namespaces/default/pods", &pod)
        .await
        .expect(201);
    let binding = json!({"metadata": {"name": "b"}, "target": {"kind": "Node", "name": "n1"}});
    h.client
        .post("/api/v1/namespaces/default/bindings?dryRun=All", &binding)
        .await
        .expect(201);
    let p = h
        .client
        .get("/api/v1/namespaces/default/pods/b")
        .await
        .expect(200);
    assert!(
        p.body["spec"].get("nodeName").is_none(),
        "dry run left the pod unbound"
    );
    h.client
        .post("/api/v1/namespaces/default/bindings", &binding)
        .await
        .expect(201);
    let p = h
        .client
        .get("/api/v1/namespaces/default/pods/b")
        .await
        .expect(200);
    assert_eq!(p.body["spec"]["nodeName"], "n1");
    h.client
        .post("/api/v1/namespaces/default/bindings", &binding)
        .await
        .expect_status(409, "Conflict");
}
