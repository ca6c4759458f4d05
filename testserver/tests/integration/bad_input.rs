use serde_json::json;

use crate::support::start;

const CM: &str = "/api/v1/namespaces/default/configmaps";

/// Malformed JSON, a non-object body and mismatched apiVersion/kind are 400s.
#[tokio::test]
async fn malformed_bodies_are_400() {
    let h = start().await;
    let r = h
        .client
        .raw(
            reqwest::Method::POST,
            CM,
            "application/json",
            b"{\"metadata\": ".to_vec(),
        )
        .await
        .expect_status(400, "BadRequest");
    assert!(
        r.message()
            .starts_with("ConfigMap in version \"v1\" cannot be handled as a ConfigMap"),
        "{}",
        r.message()
    );
    h.client
        .raw(
            reqwest::Method::POST,
            CM,
            "application/json",
            b"[1,2]".to_vec(),
        )
        .await
        .expect_status(400, "BadRequest");
    let r = h
        .client
        .post(
            CM,
            &json!({"apiVersion": "apps/v1", "kind": "ConfigMap", "metadata": {"name": "x"}}),
        )
        .await
        .expect_status(400, "BadRequest");
    assert_eq!(
        r.message(),
        "the API version in the data (apps/v1) does not match the expected API version (v1)"
    );
    h.client
        .post(
            CM,
            &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}}),
        )
        .await
        .expect_status(400, "BadRequest");
    h.client
        .post(
            CM,
            &json!({"metadata": {"name": "x", "labels": ["not", "a", "map"]}}),
        )
        .await
        .expect_status(400, "BadRequest");
    h.client
        .raw(reqwest::Method::POST, CM, "text/plain", b"hello".to_vec())
        .await
        .expect_status(415, "UnsupportedMediaType");
    // YAML bodies are accepted.
    h.client
        .raw(
            reqwest::Method::POST,
            CM,
            "application/yaml",
            b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  a: \"1\"\n"
                .to_vec(),
        )
        .await
        .expect(201);
}

/// Invalid names, labels and annotations are 422 Invalid with one cause per field.
#[tokio::test]
async fn invalid_metadata_is_422_with_causes() {
    let h = start().await;
    let r = h
        .client
        .post(
            CM,
            &json!({"metadata": {"name": "Bad_Name", "labels": {"ok": "-bad value"}, "annotations": {"a": "x".repeat(256 * 1024)}}}),
        )
        .await
        .expect_status(422, "Invalid");
    assert!(
        r.message()
            .starts_with("ConfigMap \"Bad_Name\" is invalid: ["),
        "{}",
        r.message()
    );
    let causes = r.body["details"]["causes"].as_array().expect("causes");
    let fields: Vec<&str> = causes.iter().filter_map(|c| c["field"].as_str()).collect();
    assert_eq!(
        fields,
        vec!["metadata.name", "metadata.labels", "metadata.annotations"]
    );
    assert_eq!(causes[0]["reason"], "FieldValueInvalid");
    assert_eq!(causes[2]["reason"], "FieldValueTooLong");
    assert_eq!(r.body["details"]["kind"], "ConfigMap");
    let r = h
        .client
        .post(
            "/api/v1/namespaces",
            &json!({"metadata": {"name": "has.dots"}}),
        )
        .await
        .expect_status(422, "Invalid");
    assert!(r.message().contains("RFC 1123 label"), "{}", r.message());
    h.client
        .post(
            CM,
            &json!({"metadata": {"name": "k"}, "data": {"bad key!": "v"}}),
        )
        .await
        .expect_status(422, "Invalid");
    // Nothing was stored by any of these.
    let list = h.client.get(CM).await.expect(200);
    assert_eq!(list.body["items"].as_array().expect("items").len(), 0);
}

/// Bodies over 3 MiB are 413 and nothing is stored.
#[tokio::test]
async fn oversized_body_is_413() {
    let h = start().await;
    let big = json!({"metadata": {"name": "big"}, "data": {"x": "y".repeat(3 * 1024 * 1024 + 10)}});
    let r = h
        .client
        .post(CM, &big)
        .await
        .expect_status(413, "RequestEntityTooLarge");
    assert!(
        r.message().starts_with("Request entity too large"),
        "{}",
        r.message()
    );
    h.client
        .get(&format!("{CM}/big"))
        .await
        .expect_status(404, "NotFound");
}

/// Unknown groups, resources and paths are 404; unsupported verbs 405.
#[tokio::test]
async fn unknown_things_and_unsupported_verbs() {
    let h = start().await;
    h.client.get("/api/v1/frobs").await.expect(404);
    h.client
        .get("/apis/example.com/v1/widgets")
        .await
        .expect(404);
    h.client
        .get("/apis/apps/v1/namespaces/default/deployments/x/bogus")
        .await
        .expect(404);
    h.client.get("/definitely/not/a/path").await.expect(404);
    // Cluster-scoped resources have no namespaced paths.
    h.client
        .get("/api/v1/namespaces/default/nodes")
        .await
        .expect(404);
    let r = h
        .client
        .send(
            h.client
                .http
                .post(h.client.url("/api/v1/namespaces/default/configmaps/x"))
                .json(&json!({})),
        )
        .await;
    assert_eq!(r.code, 405, "{}", r.text);
    let r = h
        .client
        .delete("/api/v1/componentstatuses/x")
        .await
        .expect_status(405, "MethodNotAllowed");
    assert_eq!(
        r.message(),
        "delete is not supported on resources of kind \"componentstatuses\""
    );
}

/// A handler that panics becomes a 500 Status; the server keeps serving and loses
/// nothing.
#[tokio::test]
async fn a_panicking_handler_is_a_500_and_the_server_keeps_serving() {
    let h = start().await;
    h.client
        .configmap("default", "survivor", &[("k", "v")])
        .await;
    h.server
        .inject_handler_panic("/api/v1/namespaces/default/secrets");
    for _ in 0..3 {
        let r = h
            .client
            .get("/api/v1/namespaces/default/secrets")
            .await
            .expect_status(500, "InternalError");
        assert!(r.message().contains("fault injected"), "{}", r.message());
    }
    let cm = h.client.get(&format!("{CM}/survivor")).await.expect(200);
    assert_eq!(cm.body["data"]["k"], "v");
    h.client.configmap("default", "after", &[]).await;
}

/// Query options are validated: bad dryRun, bad fieldValidation, force on a non-apply
/// patch.
#[tokio::test]
async fn invalid_options_are_422() {
    let h = start().await;
    h.client.configmap("default", "o", &[]).await;
    h.client
        .post(
            &format!("{CM}?fieldValidation=Loose"),
            &json!({"metadata": {"name": "x"}}),
        )
        .await
        .expect_status(422, "Invalid");
    h.client
        .patch(
            &format!("{CM}/o?force=true"),
            "application/merge-patch+json",
            &json!({}),
        )
        .await
        .expect_status(422, "Invalid");
}
