//! Custom kinds registered at start-up (`echoes.demo.kubeforge.dev`), served as
//! kube-apiserver serves the custom resources of a CRD whose spec and status preserve
//! unknown fields.

use std::sync::Arc;

use clap::Parser;
use kubeforge_testserver::options::Options;
use kubeforge_testserver::{CustomResource, TestServer};
use serde_json::{Value, json};

use crate::kubectl::run_stdin;
use crate::support::{Harness, Kubectl, start_with, summary};

const GROUP: &str = "demo.kubeforge.dev";
const ECHOES: &str = "/apis/demo.kubeforge.dev/v1alpha1/namespaces/default/echoes";
const MERGE: &str = "application/merge-patch+json";
const APPLY: &str = "application/apply-patch+yaml";

fn echo_kind() -> CustomResource {
    CustomResource::new(GROUP, "v1alpha1", "Echo", "echoes")
        .short_names(["ec"])
        .categories(["all"])
}

async fn echo_server() -> Harness {
    start_with(TestServer::builder().custom_resource(echo_kind())).await
}

fn echo(name: &str, spec: Value) -> Value {
    json!({
        "apiVersion": "demo.kubeforge.dev/v1alpha1",
        "kind": "Echo",
        "metadata": {"name": name},
        "spec": spec,
    })
}

/// Managers and subresources of an object's managedFields, in order.
fn managers(obj: &Value) -> Vec<(String, String, String)> {
    obj["metadata"]["managedFields"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|e| {
                    (
                        e["manager"].as_str().unwrap_or_default().to_owned(),
                        e["operation"].as_str().unwrap_or_default().to_owned(),
                        e["subresource"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The group shows in /apis and in aggregated discovery; its group-version lists the
/// resource with the status subresource, short names, categories and CRD verbs.
#[tokio::test]
async fn custom_kind_is_discovered() {
    let h = echo_server().await;
    let apis = h.client.get("/apis").await.expect(200);
    let group = apis.body["groups"]
        .as_array()
        .and_then(|gs| gs.iter().find(|g| g["name"] == GROUP))
        .unwrap_or_else(|| panic!("no {GROUP} in /apis: {}", apis.text));
    assert_eq!(
        group["preferredVersion"]["groupVersion"],
        "demo.kubeforge.dev/v1alpha1"
    );
    let gv = h
        .client
        .get("/apis/demo.kubeforge.dev/v1alpha1")
        .await
        .expect(200);
    let names: Vec<&str> = gv.body["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(names, ["echoes", "echoes/status"]);
    let main = &gv.body["resources"][0];
    assert_eq!(main["kind"], "Echo");
    assert_eq!(main["singularName"], "echo");
    assert_eq!(main["namespaced"], true);
    assert_eq!(main["shortNames"], json!(["ec"]));
    assert_eq!(main["categories"], json!(["all"]));
    assert_eq!(
        main["verbs"],
        json!([
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "create",
            "update",
            "watch"
        ])
    );
    assert!(
        main["storageVersionHash"]
            .as_str()
            .is_some_and(|h| !h.is_empty())
    );
    let aggregated = h
        .client
        .get_accept(
            "/apis",
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
        )
        .await
        .expect(200);
    let entry = aggregated.body["items"]
        .as_array()
        .and_then(|gs| gs.iter().find(|g| g["metadata"]["name"] == GROUP))
        .unwrap_or_else(|| panic!("no {GROUP} in aggregated discovery"));
    let res = &entry["versions"][0]["resources"][0];
    assert_eq!(res["resource"], "echoes");
    assert_eq!(res["scope"], "Namespaced");
    assert_eq!(res["subresources"][0]["subresource"], "status");
}

/// Create, get, list (label and field selectors), watch, update and delete over HTTP.
#[tokio::test]
async fn custom_objects_support_crud_list_and_watch() {
    let h = echo_server().await;
    let c = &h.client;
    let mut w = c.watch(&format!("{ECHOES}?watch=true")).await;
    let mut body = echo("one", json!({"message": "hi", "tags": ["a", "b"]}));
    body["metadata"]["labels"] = json!({"app": "demo"});
    body["status"] = json!({"ready": true});
    let created = c.post(ECHOES, &body).await.expect(201);
    assert_eq!(created.body["spec"]["tags"], json!(["a", "b"]));
    assert_eq!(created.body["metadata"]["generation"], 1);
    assert!(
        created.body.get("status").is_none(),
        "create drops status when /status is served: {}",
        created.text
    );
    assert_eq!(managers(&created.body).len(), 1, "{}", created.text);
    assert_eq!(
        summary(&w.next_change().await),
        ("ADDED".into(), "one".into(), created.rv())
    );
    c.post(ECHOES, &echo("two", json!({}))).await.expect(201);
    w.next_change().await;
    c.post(ECHOES, &echo("one", json!({})))
        .await
        .expect_status(409, "AlreadyExists");

    let got = c.get(&format!("{ECHOES}/one")).await.expect(200);
    assert_eq!(got.body, created.body);
    let all = c.get(ECHOES).await.expect(200);
    assert_eq!(all.body["kind"], "EchoList");
    assert_eq!(all.body["items"].as_array().map(Vec::len), Some(2));
    let labelled = c.get(&format!("{ECHOES}?labelSelector=app%3Ddemo")).await;
    assert_eq!(labelled.body["items"].as_array().map(Vec::len), Some(1));
    let by_name = c
        .get(&format!("{ECHOES}?fieldSelector=metadata.name%3Dtwo"))
        .await
        .expect(200);
    assert_eq!(by_name.body["items"][0]["metadata"]["name"], "two");
    let cluster_wide = c
        .get("/apis/demo.kubeforge.dev/v1alpha1/echoes?fieldSelector=metadata.namespace%3Ddefault")
        .await
        .expect(200);
    assert_eq!(cluster_wide.body["items"].as_array().map(Vec::len), Some(2));
    let bad = c
        .get(&format!("{ECHOES}?fieldSelector=spec.message%3Dhi"))
        .await
        .expect_status(400, "BadRequest");
    assert_eq!(bad.message(), "field label not supported: spec.message");

    let mut update = got.body.clone();
    update["spec"]["message"] = json!("hello");
    let updated = c.put(&format!("{ECHOES}/one"), &update).await.expect(200);
    assert_eq!(updated.body["spec"]["message"], "hello");
    assert_eq!(
        summary(&w.next_change().await),
        ("MODIFIED".into(), "one".into(), updated.rv())
    );
    // A stale resourceVersion conflicts; none at all is refused (no unconditional update).
    c.put(&format!("{ECHOES}/one"), &update)
        .await
        .expect_status(409, "Conflict");
    let mut unconditional = update.clone();
    unconditional["metadata"]
        .as_object_mut()
        .expect("metadata")
        .remove("resourceVersion");
    c.put(&format!("{ECHOES}/one"), &unconditional)
        .await
        .expect_status(422, "Invalid");

    // Custom resources answer an immediate delete with a Success Status.
    let deleted = c.delete(&format!("{ECHOES}/one")).await.expect(200);
    assert_eq!(deleted.body["kind"], "Status");
    assert_eq!(deleted.body["status"], "Success");
    assert_eq!(deleted.body["details"]["kind"], "echoes");
    let gone = w.next_change().await;
    assert_eq!(gone["type"], "DELETED");
    assert_eq!(gone["object"]["spec"]["message"], "hello");
    c.get(&format!("{ECHOES}/one"))
        .await
        .expect_status(404, "NotFound");
    assert_eq!(
        c.get(&format!("{ECHOES}/one")).await.body["details"]["group"],
        GROUP
    );
}

/// Main-resource writes keep the stored status, status writes keep everything but
/// status, and generation counts changes outside metadata and status only.
#[tokio::test]
async fn status_subresource_and_generation() {
    let h = echo_server().await;
    let c = &h.client;
    let one = format!("{ECHOES}/one");
    c.post(ECHOES, &echo("one", json!({"size": 1})))
        .await
        .expect(201);

    // /status: status is written, spec and label changes are dropped.
    let mut obj = c.get(&one).await.body;
    obj["status"] = json!({"conditions": [{"type": "Ready", "status": "True"}]});
    obj["spec"]["size"] = json!(5);
    obj["metadata"]["labels"] = json!({"ignored": "yes"});
    let s = c.put(&format!("{one}/status"), &obj).await.expect(200);
    assert_eq!(s.body["status"]["conditions"][0]["type"], "Ready");
    assert_eq!(s.body["spec"]["size"], 1);
    assert!(s.body["metadata"].get("labels").is_none(), "{}", s.text);
    assert_eq!(s.body["metadata"]["generation"], 1);

    // Main resource: status changes are dropped; a label change keeps the generation.
    let mut obj = s.body.clone();
    obj["status"] = json!({"conditions": []});
    obj["metadata"]["labels"] = json!({"kept": "yes"});
    let m = c.put(&one, &obj).await.expect(200);
    assert_eq!(m.body["status"]["conditions"][0]["type"], "Ready");
    assert_eq!(m.body["metadata"]["labels"]["kept"], "yes");
    assert_eq!(m.body["metadata"]["generation"], 1);

    // A spec change bumps it.
    let p = c
        .patch(&one, MERGE, &json!({"spec": {"size": 2}}))
        .await
        .expect(200);
    assert_eq!(p.body["metadata"]["generation"], 2);
    // Status patches never do.
    let p = c
        .patch(
            &format!("{one}/status"),
            MERGE,
            &json!({"status": {"observedGeneration": 2}}),
        )
        .await
        .expect(200);
    assert_eq!(p.body["metadata"]["generation"], 2);
    assert_eq!(p.body["status"]["observedGeneration"], 2);
    assert_eq!(p.body["status"]["conditions"][0]["type"], "Ready");
}

/// Without the status subresource, status is an ordinary field: kept on create and
/// counted by generation; cluster-scoped kinds live outside namespaces.
#[tokio::test]
async fn kinds_without_status_and_cluster_scoped_kinds() {
    let kind = CustomResource::new(GROUP, "v1", "Widget", "widgets")
        .cluster_scoped()
        .without_status_subresource();
    let h = start_with(TestServer::builder().custom_resource(kind)).await;
    let c = &h.client;
    let path = "/apis/demo.kubeforge.dev/v1/widgets";
    let mut body = json!({"apiVersion": "demo.kubeforge.dev/v1", "kind": "Widget",
        "metadata": {"name": "w"}, "spec": {}, "status": {"phase": "New"}});
    let created = c.post(path, &body).await.expect(201);
    assert_eq!(created.body["status"]["phase"], "New");
    c.get("/apis/demo.kubeforge.dev/v1/widgets/w/status")
        .await
        .expect(404);
    body["metadata"]["resourceVersion"] = json!(created.rv().to_string());
    body["status"]["phase"] = json!("Old");
    let updated = c.put(&format!("{path}/w"), &body).await.expect(200);
    assert_eq!(updated.body["metadata"]["generation"], 2);
    c.get("/apis/demo.kubeforge.dev/v1/namespaces/default/widgets/w")
        .await
        .expect(404);
}

/// Merge and JSON patches work; strategic merge patch is refused with 415 as for
/// upstream's custom resources; so are protobuf bodies; unknown top-level fields are
/// pruned with a warning, and a non-object spec is invalid.
#[tokio::test]
async fn patches_and_bad_bodies() {
    let h = echo_server().await;
    let c = &h.client;
    let one = format!("{ECHOES}/one");
    let created = c
        .post(
            ECHOES,
            &echo("one", json!({"list": [1, 2], "map": {"a": 1}})),
        )
        .await
        .expect(201);
    let p = c
        .patch(
            &one,
            MERGE,
            &json!({"spec": {"list": [3], "map": {"b": 2}}}),
        )
        .await
        .expect(200);
    assert_eq!(
        p.body["spec"],
        json!({"list": [3], "map": {"a": 1, "b": 2}})
    );
    let p = c
        .patch(
            &one,
            "application/json-patch+json",
            &json!([{"op": "add", "path": "/spec/list/-", "value": 4}]),
        )
        .await
        .expect(200);
    assert_eq!(p.body["spec"]["list"], json!([3, 4]));
    let s = c
        .patch(
            &one,
            "application/strategic-merge-patch+json",
            &json!({"spec": {"x": 1}}),
        )
        .await
        .expect_status(415, "UnsupportedMediaType");
    assert!(
        !s.message().contains("strategic"),
        "strategic is not offered: {}",
        s.message()
    );
    c.raw(
        reqwest::Method::POST,
        ECHOES,
        "application/vnd.kubernetes.protobuf",
        b"k8s\0".to_vec(),
    )
    .await
    .expect_status(415, "UnsupportedMediaType");

    let mut extra = echo("extra", json!({}));
    extra["unknownTop"] = json!(1);
    let r = c.post(ECHOES, &extra).await.expect(201);
    assert!(r.body.get("unknownTop").is_none(), "{}", r.text);
    assert!(
        r.header("warning")
            .is_some_and(|w| w.contains("unknown field") && w.contains("unknownTop")),
        "{:?}",
        r.headers
    );
    c.post(ECHOES, &echo("bad", json!("text")))
        .await
        .expect_status(422, "Invalid");
    // The object is untouched by what was refused.
    assert_eq!(
        c.get(&one).await.body["metadata"]["uid"],
        created.body["metadata"]["uid"]
    );
}

/// Server-side apply with the deduced schema: two managers share spec, a third
/// conflicts until forced, and the status subresource is applied by a controller.
#[tokio::test]
async fn server_side_apply_with_two_managers_and_status() {
    let h = echo_server().await;
    let c = &h.client;
    let one = format!("{ECHOES}/one");
    let first = c
        .patch(
            &format!("{one}?fieldManager=alice"),
            APPLY,
            &echo("one", json!({"message": "hi", "tags": ["a"]})),
        )
        .await
        .expect(201);
    assert_eq!(first.body["metadata"]["generation"], 1);
    assert_eq!(
        managers(&first.body),
        [("alice".into(), "Apply".into(), String::new())]
    );
    let fields = &first.body["metadata"]["managedFields"][0]["fieldsV1"];
    assert_eq!(
        fields["f:spec"],
        json!({"f:message": {}, "f:tags": {}}),
        "maps granular, lists atomic"
    );

    // Bob owns another key of the same map: no conflict, both kept.
    let both = c
        .patch(
            &format!("{one}?fieldManager=bob"),
            APPLY,
            &echo("one", json!({"size": 3})),
        )
        .await
        .expect(200);
    assert_eq!(
        both.body["spec"],
        json!({"message": "hi", "size": 3, "tags": ["a"]})
    );
    assert_eq!(both.body["metadata"]["generation"], 2);

    // Bob may not take Alice's field without force.
    let conflict = c
        .patch(
            &format!("{one}?fieldManager=bob"),
            APPLY,
            &echo("one", json!({"size": 3, "message": "mine"})),
        )
        .await
        .expect_status(409, "Conflict");
    assert_eq!(
        conflict.body["details"]["causes"][0]["field"],
        ".spec.message"
    );
    assert!(
        conflict.message().contains("alice"),
        "{}",
        conflict.message()
    );
    let forced = c
        .patch(
            &format!("{one}?fieldManager=bob&force=true"),
            APPLY,
            &echo("one", json!({"size": 3, "message": "mine"})),
        )
        .await
        .expect(200);
    assert_eq!(forced.body["spec"]["message"], "mine");

    // A status apply through the subresource: recorded with subresource "status",
    // no generation bump, spec untouched.
    let mut status = echo("one", json!({}));
    status.as_object_mut().expect("object").remove("spec");
    status["status"] =
        json!({"conditions": [{"type": "Ready", "status": "True", "reason": "Echoed"}]});
    let st = c
        .patch(
            &format!("{one}/status?fieldManager=echo-operator"),
            APPLY,
            &status,
        )
        .await
        .expect(200);
    assert_eq!(st.body["status"]["conditions"][0]["reason"], "Echoed");
    assert_eq!(st.body["spec"]["message"], "mine");
    assert_eq!(
        st.body["metadata"]["generation"],
        forced.body["metadata"]["generation"]
    );
    assert!(
        managers(&st.body).contains(&("echo-operator".into(), "Apply".into(), "status".into())),
        "{:?}",
        managers(&st.body)
    );
    // Status in a main-resource apply is reset, so owned by nobody there.
    let main = c
        .patch(
            &format!("{one}?fieldManager=alice"),
            APPLY,
            &json!({"apiVersion": "demo.kubeforge.dev/v1alpha1", "kind": "Echo",
                "metadata": {"name": "one"}, "spec": {"tags": ["b"]}, "status": {"x": 1}}),
        )
        .await
        .expect(200);
    assert_eq!(main.body["status"]["conditions"][0]["reason"], "Echoed");
    assert!(main.body["status"].get("x").is_none());
    assert_eq!(main.body["spec"]["tags"], json!(["b"]));
    // A status apply to a missing object is NotFound.
    c.patch(
        &format!("{ECHOES}/none/status?fieldManager=x"),
        APPLY,
        &status,
    )
    .await
    .expect_status(404, "NotFound");
}

/// Finalizers hold a deletion until removed; owner references are kept as written.
#[tokio::test]
async fn finalizers_and_owner_references() {
    let h = echo_server().await;
    let c = &h.client;
    let one = format!("{ECHOES}/one");
    let mut body = echo("one", json!({}));
    body["metadata"]["finalizers"] = json!(["demo.kubeforge.dev/cleanup"]);
    body["metadata"]["ownerReferences"] = json!([{"apiVersion": "v1", "kind": "ConfigMap",
        "name": "owner", "uid": "6b0c5d1c-0000-4000-8000-000000000001"}]);
    c.post(ECHOES, &body).await.expect(201);
    let deleting = c.delete(&one).await.expect(200);
    assert!(deleting.body["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(
        deleting.body["metadata"]["ownerReferences"][0]["name"],
        "owner"
    );
    c.get(&one).await.expect(200);
    c.patch(&one, MERGE, &json!({"metadata": {"finalizers": null}}))
        .await
        .expect(200);
    c.get(&one).await.expect_status(404, "NotFound");
}

/// The binary's --custom-resource flag parses into kinds, repeats, and refuses bad
/// specifications with a clap error.
#[test]
fn binary_flag_parses_custom_resources() {
    let opts = Options::try_parse_from([
        "kubeforge-apiserver",
        "--custom-resource",
        "echoes.demo.kubeforge.dev/v1alpha1:Echo,short-name=ec,category=all",
        "--custom-resource",
        "widgets.demo.kubeforge.dev/v1:Widget,cluster,no-status,singular=wid",
    ])
    .expect("flags parse");
    assert_eq!(opts.custom_resources.len(), 2);
    assert_eq!(opts.custom_resources[0], echo_kind());
    assert_eq!(
        opts.custom_resources[1],
        CustomResource::new(GROUP, "v1", "Widget", "widgets")
            .cluster_scoped()
            .without_status_subresource()
            .singular("wid")
    );
    for bad in [
        "echoes.demo.kubeforge.dev/v1alpha1",
        "echoes.demo/v1:Echo",
        "echoes.demo.kubeforge.dev/v1:Echo,namespaced",
    ] {
        let err = Options::try_parse_from(["kubeforge-apiserver", "--custom-resource", bad])
            .expect_err(bad);
        assert!(err.to_string().contains("invalid custom resource"), "{err}");
    }
    let help = Options::try_parse_from(["kubeforge-apiserver", "--help"])
        .expect_err("help")
        .to_string();
    assert!(help.contains("PLURAL.GROUP/VERSION:KIND"), "{help}");
    assert!(help.contains("CustomResourceDefinition"), "{help}");
}

/// Two kinds with the same group and plural do not start.
#[tokio::test]
async fn clashing_custom_kinds_do_not_start() {
    crate::support::init_crypto();
    let err = TestServer::builder()
        .custom_resource(echo_kind())
        .custom_resource(CustomResource::new(GROUP, "v1", "Other", "echoes"))
        .start()
        .await
        .expect_err("clash");
    assert!(matches!(
        err,
        kubeforge_testserver::ServeError::CustomResource(_)
    ));
}

/// kubectl get (table with NAME and AGE, short name), apply -f (create, then update)
/// and delete a custom kind over TLS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_gets_applies_and_deletes_echoes() {
    crate::support::init_crypto();
    let server = TestServer::builder()
        .tls(true)
        .custom_resource(echo_kind())
        .start()
        .await
        .expect("server");
    let k = Arc::new(Kubectl::new(&server));
    run_stdin(&k, &["get", "echoes"], "").await.ok();
    let manifest = "apiVersion: demo.kubeforge.dev/v1alpha1\nkind: Echo\nmetadata:\n  name: hello\nspec:\n  message: hi\n  tags: [a, b]\n";
    run_stdin(&k, &["apply", "-f", "-"], manifest)
        .await
        .ok()
        .stdout_is("echo.demo.kubeforge.dev/hello created");
    let table = run_stdin(&k, &["get", "echoes"], "").await.ok();
    let header: Vec<&str> = table
        .stdout
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(header, ["NAME", "AGE"], "{}", table.stdout);
    assert!(table.stdout.contains("hello"), "{}", table.stdout);
    run_stdin(
        &k,
        &["get", "ec", "hello", "-o", "jsonpath={.spec.message}"],
        "",
    )
    .await
    .ok()
    .stdout_is("hi");
    let changed = manifest.replace("message: hi", "message: bye");
    run_stdin(&k, &["apply", "-f", "-"], &changed)
        .await
        .ok()
        .stdout_is("echo.demo.kubeforge.dev/hello configured");
    run_stdin(
        &k,
        &[
            "get",
            "echo",
            "hello",
            "-o",
            "jsonpath={.spec.message} {.metadata.generation}",
        ],
        "",
    )
    .await
    .ok()
    .stdout_is("bye 2");
    run_stdin(
        &k,
        &[
            "apply",
            "--server-side",
            "--force-conflicts",
            "--field-manager=kubectl-ssa",
            "-f",
            "-",
        ],
        &changed.replace("bye", "ssa"),
    )
    .await
    .ok()
    .stdout_is("echo.demo.kubeforge.dev/hello serverside-applied");
    run_stdin(&k, &["delete", "echo", "hello"], "")
        .await
        .ok()
        .stdout_is("echo.demo.kubeforge.dev \"hello\" deleted");
    run_stdin(&k, &["get", "echoes", "hello"], "")
        .await
        .fails()
        .stderr_has("NotFound");
}

/// Deleting a namespace removes the custom objects in it, as for built-in kinds.
#[tokio::test]
async fn namespace_deletion_removes_custom_objects() {
    let h = echo_server().await;
    let c = &h.client;
    c.namespace("doomed").await;
    let path = "/apis/demo.kubeforge.dev/v1alpha1/namespaces/doomed/echoes";
    c.post(path, &echo("inside", json!({}))).await.expect(201);
    c.delete("/api/v1/namespaces/doomed").await.expect(200);
    crate::support::eventually("the namespace and its echoes are gone", || async {
        c.get("/api/v1/namespaces/doomed").await.code == 404
    })
    .await;
    c.get(&format!("{path}/inside"))
        .await
        .expect_status(404, "NotFound");
}

/// The standalone binary serves a kind given with --custom-resource to kubectl.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_serves_a_custom_resource_from_the_flag() {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().expect("dir");
    let certs = dir.path().join("certs");
    let mut child = Command::new(env!("CARGO_BIN_EXE_kubeforge-apiserver"))
        .args([
            "--secure-port",
            "0",
            "--custom-resource",
            "echoes.demo.kubeforge.dev/v1alpha1:Echo,short-name=ec",
            "--cert-dir",
        ])
        .arg(&certs)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let kubeconfig = certs.join("admin.kubeconfig");
    for _ in 0..200 {
        if kubeconfig.exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let k = Arc::new(Kubectl::from_path(&kubeconfig));
    let resources = run_stdin(&k, &["api-resources", "--api-group", GROUP], "").await;
    let _ = child.kill();
    let _ = child.wait();
    resources.ok().stdout_has("echoes").stdout_has("ec ");
}
