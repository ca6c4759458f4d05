use serde_json::json;

use crate::support::{eventually, start};

/// The system namespaces exist at start, Active, labelled with their name.
#[tokio::test]
async fn system_namespaces_exist() {
    let h = start().await;
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        let r = h
            .client
            .get(&format!("/api/v1/namespaces/{ns}"))
            .await
            .expect(200);
        assert_eq!(r.body["status"]["phase"], "Active");
        assert_eq!(r.body["spec"]["finalizers"], json!(["kubernetes"]));
        assert_eq!(
            r.body["metadata"]["labels"]["kubernetes.io/metadata.name"],
            ns
        );
    }
    let svc = h
        .client
        .get("/api/v1/namespaces/default/services/kubernetes")
        .await
        .expect(200);
    assert_eq!(svc.body["spec"]["clusterIP"], "10.96.0.1");
}

/// Writing into a namespace that does not exist is 404 for the namespace.
#[tokio::test]
async fn writes_into_missing_namespace_are_404() {
    let h = start().await;
    let r = h
        .client
        .post(
            "/api/v1/namespaces/ghost/configmaps",
            &json!({"metadata": {"name": "x"}}),
        )
        .await
        .expect_status(404, "NotFound");
    assert_eq!(r.message(), "namespaces \"ghost\" not found");
    assert_eq!(r.body["details"]["kind"], "namespaces");
}

/// Deleting a namespace: Terminating at once, creates forbidden (403 with the
/// NamespaceTerminating cause), a second delete is 409, content is removed, objects
/// with finalizers hold it until released, then the namespace disappears.
#[tokio::test]
async fn namespace_deletion_removes_content_then_the_namespace() {
    let h = start().await;
    h.client.namespace("doomed").await;
    h.client.configmap("doomed", "a", &[]).await;
    h.client
        .post(
            "/api/v1/namespaces/doomed/secrets",
            &json!({"metadata": {"name": "s", "finalizers": ["example.com/hold"]}}),
        )
        .await
        .expect(201);
    h.client
        .post("/apis/apps/v1/namespaces/doomed/deployments", &json!({"metadata": {"name": "d"}, "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}}))
        .await
        .expect(201);
    let del = h
        .client
        .delete("/api/v1/namespaces/doomed")
        .await
        .expect(200);
    assert_eq!(del.body["status"]["phase"], "Terminating");
    assert!(del.body["metadata"]["deletionTimestamp"].is_string());
    let r = h
        .client
        .post(
            "/api/v1/namespaces/doomed/configmaps",
            &json!({"metadata": {"name": "late"}}),
        )
        .await
        .expect_status(403, "Forbidden");
    assert_eq!(
        r.message(),
        "configmaps \"late\" is forbidden: unable to create new content in namespace doomed because it is being terminated"
    );
    assert_eq!(
        r.body["details"]["causes"][0]["reason"],
        "NamespaceTerminating"
    );
    let again = h
        .client
        .delete("/api/v1/namespaces/doomed")
        .await
        .expect_status(409, "Conflict");
    assert!(
        again
            .message()
            .contains("The system is ensuring all content is removed from this namespace.")
    );
    let c = h.client.clone();
    eventually("content without finalizers is deleted", || {
        let c = c.clone();
        async move {
            c.get("/api/v1/namespaces/doomed/configmaps/a").await.code == 404
                && c.get("/apis/apps/v1/namespaces/doomed/deployments/d")
                    .await
                    .code
                    == 404
        }
    })
    .await;
    let c = h.client.clone();
    eventually("deletion conditions are published", || {
        let c = c.clone();
        async move {
            let ns = c.get("/api/v1/namespaces/doomed").await;
            ns.body["status"]["conditions"]
                .as_array()
                .is_some_and(|cs| {
                    cs.iter()
                        .any(|x| x["type"] == "NamespaceContentRemaining" && x["status"] == "True")
                })
        }
    })
    .await;
    h.client.get("/api/v1/namespaces/doomed").await.expect(200);
    h.client
        .patch(
            "/api/v1/namespaces/doomed/secrets/s",
            "application/merge-patch+json",
            &json!({"metadata": {"finalizers": null}}),
        )
        .await
        .expect(200);
    let c = h.client.clone();
    eventually("the namespace disappears", || {
        let c = c.clone();
        async move { c.get("/api/v1/namespaces/doomed").await.code == 404 }
    })
    .await;
    // The name can be used again.
    h.client.namespace("doomed").await;
}

/// default, kube-system and kube-public cannot be deleted.
#[tokio::test]
async fn system_namespaces_cannot_be_deleted() {
    let h = start().await;
    for ns in ["default", "kube-system", "kube-public"] {
        let r = h
            .client
            .delete(&format!("/api/v1/namespaces/{ns}"))
            .await
            .expect_status(403, "Forbidden");
        assert_eq!(
            r.message(),
            format!("namespaces \"{ns}\" is forbidden: this namespace may not be deleted")
        );
    }
}

/// Namespaces have no deletecollection; /finalize only updates.
#[tokio::test]
async fn namespace_verbs() {
    let h = start().await;
    h.client
        .delete("/api/v1/namespaces")
        .await
        .expect_status(405, "MethodNotAllowed");
    h.client
        .get("/api/v1/namespaces/default/finalize")
        .await
        .expect_status(405, "MethodNotAllowed");
}

/// A create right after the namespace's delete is refused (403, or 404 once the
/// namespace is gone), never slipped in before the cache sees the deletion.
#[tokio::test]
async fn create_right_after_namespace_delete_is_forbidden() {
    let h = start().await;
    for i in 0..20 {
        let ns = format!("race-{i}");
        h.client.namespace(&ns).await;
        h.client
            .delete(&format!("/api/v1/namespaces/{ns}"))
            .await
            .expect(200);
        let r = h
            .client
            .post(
                &format!("/api/v1/namespaces/{ns}/configmaps"),
                &json!({"metadata": {"name": "x"}}),
            )
            .await;
        // Terminating (403) or already removed by the controller (404); never created.
        assert!(
            (r.code == 403 && r.body["reason"] == "Forbidden")
                || (r.code == 404 && r.body["reason"] == "NotFound"),
            "create in a deleted namespace: {}",
            r.text
        );
    }
}
