//! fieldValidation: unknown and duplicate fields, Strict / Warn / Ignore.

use serde_json::json;

use crate::support::start;

const CM: &str = "/api/v1/namespaces/default/configmaps";

/// Warn (the default) drops unknown fields and answers one Warning header each.
#[tokio::test]
async fn warn_drops_unknown_fields_with_a_warning() {
    let h = start().await;
    let r = h
        .client
        .post(CM, &json!({"metadata": {"name": "w", "bogusMeta": 1}, "data": {"a": "1"}, "bogus": {"x": 1}}))
        .await
        .expect(201);
    let warnings: Vec<&str> = r
        .headers
        .get_all("warning")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert_eq!(
        warnings,
        vec![
            r#"299 - "unknown field \"bogus\"""#,
            r#"299 - "unknown field \"metadata.bogusMeta\"""#
        ]
    );
    assert!(
        r.body.get("bogus").is_none(),
        "unknown fields are not stored"
    );
    let stored = h.client.get(&format!("{CM}/w")).await.expect(200);
    assert!(stored.body.get("bogus").is_none());
    assert!(stored.body["metadata"].get("bogusMeta").is_none());
}

/// Strict rejects unknown and duplicate fields with upstream's message: 400 on
/// create/update, 422 on patch.
#[tokio::test]
async fn strict_rejects_unknown_and_duplicate_fields() {
    let h = start().await;
    let body = br#"{"metadata":{"name":"s"},"data":{"a":"1"},"data":{"a":"2"},"spec":1}"#.to_vec();
    let r = h
        .client
        .raw(
            reqwest::Method::POST,
            &format!("{CM}?fieldValidation=Strict"),
            "application/json",
            body,
        )
        .await
        .expect_status(400, "BadRequest");
    assert_eq!(
        r.message(),
        r#"ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "spec", duplicate field "data""#
    );
    h.client
        .get(&format!("{CM}/s"))
        .await
        .expect_status(404, "NotFound");
    h.client.configmap("default", "p", &[]).await;
    let r = h
        .client
        .patch(
            &format!("{CM}/p?fieldValidation=Strict"),
            "application/merge-patch+json",
            &json!({"nope": true}),
        )
        .await
        .expect_status(422, "Invalid");
    assert!(
        r.message()
            .contains(r#"strict decoding error: unknown field "nope""#),
        "{}",
        r.message()
    );
    assert_eq!(r.body["details"]["causes"][0]["field"], "patch");
    // Nested unknown fields are named by their path.
    let deploy = json!({
        "metadata": {"name": "d"},
        "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}},
            "spec": {"containers": [{"name": "c", "image": "x", "imagePullPolicyy": "Always"}]}}}
    });
    let r = h
        .client
        .post(
            "/apis/apps/v1/namespaces/default/deployments?fieldValidation=Strict",
            &deploy,
        )
        .await
        .expect_status(400, "BadRequest");
    assert!(
        r.message()
            .ends_with(r#"unknown field "spec.template.spec.containers[0].imagePullPolicyy""#),
        "{}",
        r.message()
    );
}

/// Ignore drops unknown fields silently.
#[tokio::test]
async fn ignore_drops_silently() {
    let h = start().await;
    let r = h
        .client
        .post(
            &format!("{CM}?fieldValidation=Ignore"),
            &json!({"metadata": {"name": "i"}, "bogus": 1}),
        )
        .await
        .expect(201);
    assert!(r.header("warning").is_none());
    assert!(r.body.get("bogus").is_none());
}
