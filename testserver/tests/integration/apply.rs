//! Server-side apply and managed fields over HTTP: field ownership across managers,
//! conflicts, forced applies, removal of dropped fields, and the bookkeeping every
//! other write does.

use serde_json::{Value, json};

use crate::support::{Harness, Resp, start};

const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/default/deployments";
const CONFIGMAPS: &str = "/api/v1/namespaces/default/configmaps";
const APPLY: &str = "application/apply-patch+yaml";

async fn apply(h: &Harness, path: &str, query: &str, config: &Value) -> Resp {
    h.client
        .patch(&format!("{path}?{query}"), APPLY, config)
        .await
}

fn deployment(name: &str, spec: Value) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": spec,
    })
}

fn web_spec() -> Value {
    json!({
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "app", "image": "nginx:1"}]},
        },
    })
}

fn configmap(name: &str, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data})
}

/// The managedFields entry of `manager`, panicking when there is none.
fn entry<'a>(obj: &'a Value, manager: &str) -> &'a Value {
    obj["metadata"]["managedFields"]
        .as_array()
        .and_then(|es| es.iter().find(|e| e["manager"] == manager))
        .unwrap_or_else(|| panic!("no managedFields entry of {manager}: {obj:#}"))
}

fn managers(obj: &Value) -> Vec<String> {
    obj["metadata"]["managedFields"]
        .as_array()
        .map(|es| {
            es.iter()
                .map(|e| e["manager"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn apply_creates_a_missing_object_then_merges_into_it() {
    let h = start().await;
    let path = format!("{DEPLOYMENTS}/web");
    let created = apply(
        &h,
        &path,
        "fieldManager=deployer",
        &deployment("web", web_spec()),
    )
    .await
    .expect(201);
    let e = entry(&created.body, "deployer");
    assert_eq!(e["operation"], "Apply");
    assert_eq!(e["apiVersion"], "apps/v1");
    assert_eq!(e["fieldsType"], "FieldsV1");
    assert!(e["time"].is_string(), "{e}");
    let owned = &e["fieldsV1"]["f:spec"];
    assert_eq!(owned["f:selector"], json!({}));
    assert_eq!(
        owned["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"app\"}"]["f:image"],
        json!({})
    );
    // Defaults are filled in after the apply and owned by no one.
    assert_eq!(created.body["spec"]["replicas"], 1);
    assert!(owned.get("f:replicas").is_none(), "{owned}");

    let mut spec = web_spec();
    spec["template"]["spec"]["containers"][0]["image"] = json!("nginx:2");
    let updated = apply(&h, &path, "fieldManager=deployer", &deployment("web", spec))
        .await
        .expect(200);
    assert_eq!(
        updated.body["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:2"
    );
    assert_eq!(managers(&updated.body), ["deployer"]);
    assert!(updated.rv() > created.rv());
}

#[tokio::test]
async fn apply_needs_a_field_manager_and_only_apply_may_force() {
    let h = start().await;
    let r = apply(
        &h,
        &format!("{CONFIGMAPS}/c"),
        "",
        &configmap("c", json!({})),
    )
    .await
    .expect_status(422, "Invalid");
    assert!(
        r.message()
            .contains("fieldManager: Required value: is required for apply patch"),
        "{}",
        r.message()
    );
    h.client.configmap("default", "c", &[]).await;
    let r = h
        .client
        .patch(
            &format!("{CONFIGMAPS}/c?force=true"),
            "application/merge-patch+json",
            &json!({"data": {"a": "1"}}),
        )
        .await
        .expect_status(422, "Invalid");
    assert!(
        r.message()
            .contains("force: Forbidden: may not be specified for non-apply patch"),
        "{}",
        r.message()
    );
}

/// Controller A owns `spec.replicas`, controller B a label; each applies only its own
/// fields, and neither undoes the other or the creator's.
#[tokio::test]
async fn managers_apply_their_own_fields_side_by_side() {
    let h = start().await;
    let path = format!("{DEPLOYMENTS}/web");
    let creator = deployment("web", web_spec());
    apply(&h, &path, "fieldManager=creator", &creator)
        .await
        .expect(201);
    apply(
        &h,
        &path,
        "fieldManager=scaler",
        &json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 3}}),
    )
    .await
    .expect(200);
    apply(
        &h,
        &path,
        "fieldManager=labeler",
        &json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"team": "blue"}}}),
    )
    .await
    .expect(200);
    // The creator applies its unchanged configuration again: nothing of theirs goes.
    let obj = apply(&h, &path, "fieldManager=creator", &creator)
        .await
        .expect(200)
        .body;
    assert_eq!(obj["spec"]["replicas"], 3);
    assert_eq!(obj["metadata"]["labels"]["team"], "blue");
    assert_eq!(
        obj["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1"
    );
    assert_eq!(
        entry(&obj, "scaler")["fieldsV1"],
        json!({"f:spec": {"f:replicas": {}}})
    );
    assert_eq!(
        entry(&obj, "labeler")["fieldsV1"],
        json!({"f:metadata": {"f:labels": {"f:team": {}}}})
    );
    assert!(
        entry(&obj, "creator")["fieldsV1"]["f:spec"]
            .get("f:replicas")
            .is_none()
    );
    let mut names = managers(&obj);
    names.sort();
    assert_eq!(names, ["creator", "labeler", "scaler"]);
}

#[tokio::test]
async fn a_conflicting_apply_is_refused_until_forced() {
    let h = start().await;
    let path = format!("{DEPLOYMENTS}/web");
    let mut spec = web_spec();
    spec["replicas"] = json!(2);
    apply(&h, &path, "fieldManager=owner", &deployment("web", spec))
        .await
        .expect(201);
    let challenger = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 5}});
    let r = apply(&h, &path, "fieldManager=challenger", &challenger)
        .await
        .expect_status(409, "Conflict");
    assert_eq!(
        r.message(),
        r#"Apply failed with 1 conflict: conflict with "owner": .spec.replicas"#
    );
    assert_eq!(
        r.body["details"]["causes"],
        json!([{"reason": "FieldManagerConflict", "message": "conflict with \"owner\"", "field": ".spec.replicas"}])
    );
    // Applying the same value is agreement, not a conflict.
    let same = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 2}});
    let shared = apply(&h, &path, "fieldManager=agreer", &same)
        .await
        .expect(200);
    assert_eq!(
        entry(&shared.body, "agreer")["fieldsV1"],
        json!({"f:spec": {"f:replicas": {}}})
    );
    let r = apply(&h, &path, "fieldManager=challenger", &challenger)
        .await
        .expect_status(409, "Conflict");
    assert_eq!(
        r.body["details"]["causes"].as_array().map(Vec::len),
        Some(2),
        "{}",
        r.text
    );
    let forced = apply(&h, &path, "fieldManager=challenger&force=true", &challenger)
        .await
        .expect(200);
    assert_eq!(forced.body["spec"]["replicas"], 5);
    assert_eq!(
        entry(&forced.body, "challenger")["fieldsV1"],
        json!({"f:spec": {"f:replicas": {}}})
    );
    assert!(
        entry(&forced.body, "owner")["fieldsV1"]["f:spec"]
            .get("f:replicas")
            .is_none()
    );
    // The agreer owned nothing else, so its entry is gone.
    assert!(!managers(&forced.body).contains(&"agreer".to_owned()));
}

#[tokio::test]
async fn a_field_dropped_from_a_configuration_goes_unless_someone_else_owns_it() {
    let h = start().await;
    let path = format!("{CONFIGMAPS}/c");
    apply(
        &h,
        &path,
        "fieldManager=a",
        &configmap("c", json!({"x": "1", "y": "2", "z": "3"})),
    )
    .await
    .expect(201);
    apply(
        &h,
        &path,
        "fieldManager=b",
        &configmap("c", json!({"z": "3"})),
    )
    .await
    .expect(200);
    let after = apply(
        &h,
        &path,
        "fieldManager=a",
        &configmap("c", json!({"x": "1"})),
    )
    .await
    .expect(200);
    // y was a's alone and goes; z is b's too and stays.
    assert_eq!(after.body["data"], json!({"x": "1", "z": "3"}));
}

#[tokio::test]
async fn other_writes_record_their_manager_from_the_query_or_the_user_agent() {
    let h = start().await;
    let created = h
        .client
        .send(
            h.client
                .http
                .post(h.client.url(CONFIGMAPS))
                .header("user-agent", "my-controller/1.2.3 (linux/amd64) kubeforge")
                .json(&configmap("c", json!({"a": "1"}))),
        )
        .await
        .expect(201);
    let e = entry(&created.body, "my-controller");
    assert_eq!(e["operation"], "Update");
    assert_eq!(e["fieldsV1"], json!({"f:data": {".": {}, "f:a": {}}}));
    let patched = h
        .client
        .patch(
            &format!("{CONFIGMAPS}/c?fieldManager=editor"),
            "application/merge-patch+json",
            &json!({"data": {"b": "2"}}),
        )
        .await
        .expect(200);
    assert_eq!(
        entry(&patched.body, "editor")["fieldsV1"],
        json!({"f:data": {"f:b": {}}})
    );
    // A write that changes nothing leaves the entries (and the object) alone.
    let again = h
        .client
        .patch(
            &format!("{CONFIGMAPS}/c?fieldManager=other"),
            "application/merge-patch+json",
            &json!({"data": {"b": "2"}}),
        )
        .await
        .expect(200);
    assert_eq!(again.rv(), patched.rv());
    assert!(!managers(&again.body).contains(&"other".to_owned()));
}

#[tokio::test]
async fn a_write_that_bumps_the_generation_still_records_its_manager() {
    let h = start().await;
    let created = h
        .client
        .post(
            &format!("{DEPLOYMENTS}?fieldManager=creator"),
            &deployment("web", web_spec()),
        )
        .await
        .expect(201);
    assert_eq!(created.body["metadata"]["generation"], 1);
    // A replace of what was read (managed fields included) with a new image.
    let mut body = created.body.clone();
    body["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:2");
    let replaced = h
        .client
        .put(&format!("{DEPLOYMENTS}/web?fieldManager=editor"), &body)
        .await
        .expect(200);
    assert_eq!(replaced.body["metadata"]["generation"], 2);
    assert_eq!(managers(&replaced.body), ["creator", "editor"]);
    let image = &entry(&replaced.body, "editor")["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
        ["k:{\"name\":\"app\"}"]["f:image"];
    assert_eq!(*image, json!({}), "{:#}", replaced.body);
    // A patch that bumps it, too.
    let patched = h
        .client
        .patch(
            &format!("{DEPLOYMENTS}/web?fieldManager=scaler"),
            "application/merge-patch+json",
            &json!({"spec": {"replicas": 3}}),
        )
        .await
        .expect(200);
    assert_eq!(patched.body["metadata"]["generation"], 3);
    assert_eq!(
        entry(&patched.body, "scaler")["fieldsV1"],
        json!({"f:spec": {"f:replicas": {}}})
    );
    assert!(managers(&patched.body).contains(&"editor".to_owned()));
    // What is served is what is stored.
    let read = h
        .client
        .get(&format!("{DEPLOYMENTS}/web"))
        .await
        .expect(200);
    assert_eq!(
        read.body["metadata"]["managedFields"],
        patched.body["metadata"]["managedFields"]
    );
}

#[tokio::test]
async fn at_most_ten_update_managers_are_kept() {
    let h = start().await;
    h.client.configmap("default", "c", &[]).await;
    for i in 0..12 {
        h.client
            .patch(
                &format!("{CONFIGMAPS}/c?fieldManager=m{i:02}"),
                "application/merge-patch+json",
                &json!({"data": {format!("k{i}"): "v"}}),
            )
            .await
            .expect(200);
    }
    let obj = h
        .client
        .get(&format!("{CONFIGMAPS}/c"))
        .await
        .expect(200)
        .body;
    let names = managers(&obj);
    assert!(names.len() <= 10, "{names:?}");
    assert!(names.contains(&"ancient-changes".to_owned()), "{names:?}");
    // The oldest go first; equal times are ordered by manager, as upstream does.
    assert!(names.contains(&"m11".to_owned()), "{names:?}");
    assert!(!names.contains(&"m00".to_owned()), "{names:?}");
}

#[tokio::test]
async fn apply_reaches_status_and_scale() {
    let h = start().await;
    let path = format!("{DEPLOYMENTS}/web");
    let mut spec = web_spec();
    spec["replicas"] = json!(2);
    apply(&h, &path, "fieldManager=deployer", &deployment("web", spec))
        .await
        .expect(201);
    let status = apply(
        &h,
        &format!("{path}/status"),
        "fieldManager=reporter",
        &json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "status": {"observedGeneration": 1}}),
    )
    .await
    .expect(200);
    assert_eq!(status.body["status"]["observedGeneration"], 1);
    let e = entry(&status.body, "reporter");
    assert_eq!(e["subresource"], "status");
    assert_eq!(
        e["fieldsV1"],
        json!({"f:status": {"f:observedGeneration": {}}})
    );

    let scale = json!({"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": "web"}, "spec": {"replicas": 4}});
    let r = apply(
        &h,
        &format!("{path}/scale"),
        "fieldManager=autoscaler",
        &scale,
    )
    .await
    .expect_status(409, "Conflict");
    assert!(
        r.message().contains(r#"conflict with "deployer""#),
        "{}",
        r.message()
    );
    let scaled = apply(
        &h,
        &format!("{path}/scale"),
        "fieldManager=autoscaler&force=true",
        &scale,
    )
    .await
    .expect(200);
    assert_eq!(scaled.body["kind"], "Scale");
    assert_eq!(scaled.body["spec"]["replicas"], 4);
    let obj = h.client.get(&path).await.expect(200).body;
    assert_eq!(obj["spec"]["replicas"], 4);
    let e = entry(&obj, "autoscaler");
    assert_eq!(e["subresource"], "scale");
    assert_eq!(e["apiVersion"], "apps/v1");
    assert_eq!(e["fieldsV1"], json!({"f:spec": {"f:replicas": {}}}));
    assert!(
        entry(&obj, "deployer")["fieldsV1"]["f:spec"]
            .get("f:replicas")
            .is_none()
    );
}

#[tokio::test]
async fn a_dry_run_apply_stores_nothing() {
    let h = start().await;
    let path = format!("{CONFIGMAPS}/c");
    let r = apply(
        &h,
        &path,
        "fieldManager=a&dryRun=All",
        &configmap("c", json!({"x": "1"})),
    )
    .await
    .expect(201);
    assert_eq!(r.body["data"]["x"], "1");
    h.client.get(&path).await.expect_status(404, "NotFound");
}

#[tokio::test]
async fn an_applied_configuration_must_fit_the_schema() {
    let h = start().await;
    let path = format!("{CONFIGMAPS}/c");
    let r = apply(
        &h,
        &path,
        "fieldManager=a",
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "bogus": 1}),
    )
    .await
    .expect(500);
    assert!(
        r.message().contains(".bogus: field not declared in schema"),
        "{}",
        r.message()
    );
    let r = apply(
        &h,
        &path,
        "fieldManager=a",
        &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "c"}}),
    )
    .await
    .expect_status(400, "BadRequest");
    assert!(!r.message().is_empty());
    let r = h
        .client
        .raw(
            reqwest::Method::PATCH,
            &format!("{path}?fieldManager=a&fieldValidation=Strict"),
            APPLY,
            b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: one\n  a: two\n"
                .to_vec(),
        )
        .await
        .expect_status(400, "BadRequest");
    assert!(
        r.message().starts_with("error strict decoding YAML"),
        "{}",
        r.message()
    );
    // Warn (the default) applies the last value and says why.
    let r = h
        .client
        .raw(
            reqwest::Method::PATCH,
            &format!("{path}?fieldManager=a"),
            APPLY,
            b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: one\n  a: two\n"
                .to_vec(),
        )
        .await
        .expect(201);
    assert_eq!(r.body["data"]["a"], "two");
    assert!(
        r.header("warning")
            .is_some_and(|w| w.contains("error strict decoding YAML")),
        "{:?}",
        r.headers
    );
}
