//! kubectl, the real client, against the server over TLS through the generated
//! kubeconfig.

use std::sync::Arc;

use kubeforge_testserver::TestServer;

use crate::support::{Kubectl, Output, init_crypto};

async fn tls_server() -> (TestServer, Arc<Kubectl>) {
    init_crypto();
    let server = TestServer::builder()
        .tls(true)
        .start()
        .await
        .expect("server");
    let k = Arc::new(Kubectl::new(&server));
    (server, k)
}

async fn run(k: &Arc<Kubectl>, args: &[&str]) -> Output {
    let k = k.clone();
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        k.run(&refs)
    })
    .await
    .expect("kubectl task")
}

/// Runs kubectl with `stdin` off the async runtime.
pub(crate) async fn run_stdin(k: &Arc<Kubectl>, args: &[&str], stdin: &str) -> Output {
    let k = k.clone();
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    let stdin = stdin.to_owned();
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        k.run_stdin(&refs, &stdin)
    })
    .await
    .expect("kubectl task")
}

/// version, api-resources, api-versions, cluster-info and get ns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_reads_cluster_information() {
    let (_server, k) = tls_server().await;
    run(&k, &["version"])
        .await
        .ok()
        .stdout_has("Server Version: v1.33.0");
    let res = run(&k, &["api-resources"]).await.ok();
    for line in [
        "configmaps",
        "deployments",
        "customresourcedefinitions",
        "leases",
    ] {
        assert!(res.stdout.contains(line), "api-resources lacks {line}");
    }
    run(&k, &["api-resources", "--namespaced=false", "-o", "name"])
        .await
        .ok()
        .stdout_has("namespaces\n");
    run(&k, &["api-versions"])
        .await
        .ok()
        .stdout_has("apps/v1\n")
        .stdout_has("autoscaling/v2\n");
    run(&k, &["cluster-info"])
        .await
        .ok()
        .stdout_has("is running at https://127.0.0.1:");
    let ns = run(
        &k,
        &[
            "get",
            "ns",
            "-o",
            "custom-columns=NAME:.metadata.name,PHASE:.status.phase",
        ],
    )
    .await
    .ok();
    ns.stdout_is(
        "NAME              PHASE\ndefault           Active\nkube-node-lease   Active\nkube-public       Active\nkube-system       Active",
    );
    run(&k, &["get", "ns"])
        .await
        .ok()
        .stdout_has("NAME              STATUS   AGE");
}

/// The everyday write commands: create ns/configmap/secret, output formats, label,
/// annotate, patch (merge and json), replace -f, get -l, get --field-selector,
/// delete and delete -l.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_everyday_commands() {
    let (_server, k) = tls_server().await;
    run(&k, &["create", "ns", "shop"])
        .await
        .ok()
        .stdout_is("namespace/shop created");
    run(
        &k,
        &[
            "-n",
            "shop",
            "create",
            "configmap",
            "cfg",
            "--from-literal=color=blue",
            "--from-literal=size=L",
        ],
    )
    .await
    .ok()
    .stdout_is("configmap/cfg created");
    run(
        &k,
        &[
            "-n",
            "shop",
            "create",
            "secret",
            "generic",
            "pw",
            "--from-literal=password=hunter2",
        ],
    )
    .await
    .ok()
    .stdout_is("secret/pw created");
    let yaml = run(&k, &["-n", "shop", "get", "cm", "cfg", "-o", "yaml"])
        .await
        .ok();
    assert!(
        yaml.stdout.contains("  color: blue\n") && yaml.stdout.contains("kind: ConfigMap\n"),
        "{}",
        yaml.stdout
    );
    let json = run(&k, &["-n", "shop", "get", "cm", "-o", "json"])
        .await
        .ok();
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("json output");
    assert_eq!(v["items"][0]["data"]["size"], "L");
    run(
        &k,
        &[
            "-n",
            "shop",
            "get",
            "secret",
            "pw",
            "-o",
            "jsonpath={.data.password}",
        ],
    )
    .await
    .ok()
    .stdout_is("aHVudGVyMg==");
    run(&k, &["-n", "shop", "label", "cm", "cfg", "tier=front"])
        .await
        .ok()
        .stdout_is("configmap/cfg labeled");
    run(&k, &["-n", "shop", "annotate", "cm", "cfg", "owner=team-a"])
        .await
        .ok()
        .stdout_is("configmap/cfg annotated");
    run(
        &k,
        &[
            "-n",
            "shop",
            "patch",
            "cm",
            "cfg",
            "--type=merge",
            "-p",
            r#"{"data":{"size":"XL"}}"#,
        ],
    )
    .await
    .ok()
    .stdout_is("configmap/cfg patched");
    run(
        &k,
        &[
            "-n",
            "shop",
            "patch",
            "cm",
            "cfg",
            "--type=json",
            "-p",
            r#"[{"op":"add","path":"/data/shape","value":"round"}]"#,
        ],
    )
    .await
    .ok()
    .stdout_is("configmap/cfg patched");
    run(&k, &["-n", "shop", "get", "cm", "cfg", "-o", "jsonpath={.data.size} {.data.shape} {.metadata.labels.tier} {.metadata.annotations.owner}"])
        .await
        .ok()
        .stdout_is("XL round front team-a");
    let current = run(&k, &["-n", "shop", "get", "cm", "cfg", "-o", "json"])
        .await
        .ok()
        .stdout;
    let replaced = current.replace("\"color\": \"blue\"", "\"color\": \"green\"");
    run_stdin(&k, &["replace", "-f", "-"], &replaced)
        .await
        .ok()
        .stdout_is("configmap/cfg replaced");
    run(
        &k,
        &[
            "-n",
            "shop",
            "get",
            "cm",
            "cfg",
            "-o",
            "jsonpath={.data.color}",
        ],
    )
    .await
    .ok()
    .stdout_is("green");
    run_stdin(&k, &["replace", "-f", "-"], &current)
        .await
        .fails()
        .stderr_has("the object has been modified");
    for i in 0..3 {
        run(
            &k,
            &[
                "-n",
                "shop",
                "create",
                "cm",
                &format!("batch-{i}"),
                "--from-literal=i=x",
            ],
        )
        .await
        .ok();
        run(
            &k,
            &[
                "-n",
                "shop",
                "label",
                "cm",
                &format!("batch-{i}"),
                "batch=yes",
            ],
        )
        .await
        .ok();
    }
    run(
        &k,
        &["-n", "shop", "get", "cm", "-l", "batch=yes", "-o", "name"],
    )
    .await
    .ok()
    .stdout_is("configmap/batch-0\nconfigmap/batch-1\nconfigmap/batch-2");
    run(
        &k,
        &[
            "-n",
            "shop",
            "get",
            "cm",
            "--field-selector",
            "metadata.name=batch-1",
            "-o",
            "name",
        ],
    )
    .await
    .ok()
    .stdout_is("configmap/batch-1");
    run(
        &k,
        &["-n", "shop", "get", "cm", "--field-selector", "data.i=x"],
    )
    .await
    .fails()
    .stderr_has("is not a known field selector");
    run(&k, &["-n", "shop", "delete", "cm", "-l", "batch=yes"])
        .await
        .ok()
        .stdout_is("configmap \"batch-0\" deleted\nconfigmap \"batch-1\" deleted\nconfigmap \"batch-2\" deleted");
    run(&k, &["-n", "shop", "delete", "cm", "cfg"])
        .await
        .ok()
        .stdout_is("configmap \"cfg\" deleted");
    run(&k, &["-n", "shop", "get", "cm", "cfg"])
        .await
        .fails()
        .stderr_has("configmaps \"cfg\" not found");
    let applied = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\n  namespace: shop\ndata:\n  k: v\n";
    run_stdin(&k, &["apply", "-f", "-"], applied)
        .await
        .ok()
        .stdout_is("configmap/applied created");
    run_stdin(&k, &["create", "-f", "-"], applied)
        .await
        .fails()
        .stderr_has("already exists");
}

/// get --chunk-size=2 over 10 objects pages through continue tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_get_in_chunks() {
    let (_server, k) = tls_server().await;
    let mut manifest = String::new();
    for i in 0..10 {
        manifest.push_str(&format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: chunk-{i:02}\n  namespace: default\n"));
    }
    run_stdin(&k, &["create", "-f", "-"], &manifest).await.ok();
    let out = run(&k, &["get", "cm", "--chunk-size=2", "-o", "name", "-v=6"])
        .await
        .ok();
    let names: Vec<&str> = out.stdout.lines().collect();
    let want: Vec<String> = (0..10).map(|i| format!("configmap/chunk-{i:02}")).collect();
    assert_eq!(names, want);
    let pages = out.stderr.lines().filter(|l| l.contains("limit=2")).count();
    assert!(
        pages >= 5,
        "expected at least 5 paged requests, saw {pages}:\n{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("continue="),
        "later pages use continue tokens"
    );
}

/// get -w prints changes as they happen and ends with --request-timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_get_watch_with_request_timeout() {
    let (_server, k) = tls_server().await;
    run(&k, &["create", "cm", "before", "--from-literal=a=1"])
        .await
        .ok();
    let watcher = {
        let k = k.clone();
        tokio::task::spawn_blocking(move || {
            k.run(&["get", "cm", "-w", "--request-timeout=3s", "-o", "name"])
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    run(&k, &["create", "cm", "during", "--from-literal=a=1"])
        .await
        .ok();
    let out = watcher.await.expect("watch task");
    assert!(out.stdout.contains("configmap/before"), "{}", out.stdout);
    assert!(
        out.stdout.contains("configmap/during"),
        "the watch saw the new object:\n{}",
        out.stdout
    );
}

/// Deleting a namespace that holds objects: kubectl waits, and the namespace is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_delete_namespace_with_objects() {
    let (_server, k) = tls_server().await;
    run(&k, &["create", "ns", "temp"]).await.ok();
    run(
        &k,
        &["-n", "temp", "create", "cm", "one", "--from-literal=a=1"],
    )
    .await
    .ok();
    run(
        &k,
        &[
            "-n",
            "temp",
            "create",
            "secret",
            "generic",
            "two",
            "--from-literal=b=2",
        ],
    )
    .await
    .ok();
    run(&k, &["delete", "ns", "temp"])
        .await
        .ok()
        .stdout_is("namespace \"temp\" deleted");
    run(&k, &["get", "ns", "temp"])
        .await
        .fails()
        .stderr_has("namespaces \"temp\" not found");
    run(&k, &["get", "ns", "-o", "name"]).await.ok().stdout_is(
        "namespace/default\nnamespace/kube-node-lease\nnamespace/kube-public\nnamespace/kube-system",
    );
}

/// explain reads field docs from the OpenAPI v3 schemas.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_explain_reads_the_schema() {
    let (_server, k) = tls_server().await;
    let out = run(&k, &["explain", "pods.spec.containers.ports"])
        .await
        .ok();
    assert!(
        out.stdout.contains("FIELD: ports <[]ContainerPort>"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("containerPort\t<integer> -required-"),
        "{}",
        out.stdout
    );
    run(
        &k,
        &[
            "explain",
            "deployments.spec.strategy.rollingUpdate.maxSurge",
        ],
    )
    .await
    .ok()
    .stdout_has("<IntOrString>");
}

/// create -f with an unknown field: rejected by default (kubectl asks for Strict),
/// created with a warning under --validate=warn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_create_with_an_unknown_field() {
    let (_server, k) = tls_server().await;
    let manifest =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: u\ndata:\n  a: \"1\"\nbogus: 2\n";
    run_stdin(&k, &["create", "-f", "-"], manifest)
        .await
        .fails()
        .stderr_has(r#"strict decoding error: unknown field "bogus""#);
    run_stdin(&k, &["create", "-f", "-", "--validate=warn"], manifest)
        .await
        .ok()
        .stdout_is("configmap/u created")
        .stderr_has(r#"Warning: unknown field "bogus""#);
    run(&k, &["get", "cm", "u", "-o", "jsonpath={.data.a}"])
        .await
        .ok()
        .stdout_is("1");
}

/// --dry-run=server on create and delete runs everything and stores nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_server_dry_run() {
    let (_server, k) = tls_server().await;
    run(
        &k,
        &[
            "create",
            "cm",
            "dry",
            "--from-literal=a=1",
            "--dry-run=server",
            "-o",
            "name",
        ],
    )
    .await
    .ok()
    .stdout_is("configmap/dry");
    run(&k, &["get", "cm", "dry"])
        .await
        .fails()
        .stderr_has("not found");
    run(&k, &["create", "cm", "real", "--from-literal=a=1"])
        .await
        .ok();
    run(&k, &["delete", "cm", "real", "--dry-run=server"])
        .await
        .ok()
        .stdout_is("configmap \"real\" deleted (server dry run)");
    run(&k, &["get", "cm", "real", "-o", "name"])
        .await
        .ok()
        .stdout_is("configmap/real");
}

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: nginx:1
        env:
        - {name: A, value: \"1\"}
        - {name: B, value: \"2\"}
      - name: sidecar
        image: busybox:1
";

/// patch --type=strategic merges containers by name: the untouched container stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_strategic_patch_merges_lists_by_key() {
    let (_server, k) = tls_server().await;
    run_stdin(&k, &["create", "-f", "-"], DEPLOYMENT).await.ok();
    run(
        &k,
        &[
            "patch",
            "deployment",
            "web",
            "--type=strategic",
            "-p",
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:2","env":[{"name":"B","$patch":"delete"}]}]}}}}"#,
        ],
    )
    .await
    .ok()
    .stdout_is("deployment.apps/web patched");
    run(
        &k,
        &[
            "get",
            "deployment",
            "web",
            "-o",
            "jsonpath={range .spec.template.spec.containers[*]}{.name}={.image}[{range .env[*]}{.name}{end}] {end}",
        ],
    )
    .await
    .ok()
    .stdout_is("app=nginx:2[A] sidecar=busybox:1[]");
}

/// Client-side apply twice: the second apply computes a strategic three-way patch
/// from the last-applied annotation, so a container dropped from the manifest goes
/// and one the manifest never owned (added by patch) stays; diff shows the change
/// before it is made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_apply_twice_removes_what_the_manifest_dropped() {
    let (_server, k) = tls_server().await;
    run_stdin(&k, &["apply", "-f", "-"], DEPLOYMENT)
        .await
        .ok()
        .stdout_is("deployment.apps/web created");
    run(
        &k,
        &[
            "patch",
            "deployment",
            "web",
            "--type=strategic",
            "-p",
            r#"{"metadata":{"labels":{"owner":"someone-else"}}}"#,
        ],
    )
    .await
    .ok();
    let second = DEPLOYMENT
        .replace("      - name: sidecar\n        image: busybox:1\n", "")
        .replace("image: nginx:1", "image: nginx:3");
    let diff = run_stdin(&k, &["diff", "-f", "-"], &second).await;
    // kubectl diff exits 1 when it found differences.
    assert_eq!(diff.code, 1, "diff: {}\n{}", diff.stdout, diff.stderr);
    assert!(
        diff.stdout.contains("-        image: nginx:1"),
        "{}",
        diff.stdout
    );
    assert!(
        diff.stdout.contains("+        image: nginx:3"),
        "{}",
        diff.stdout
    );
    assert!(
        diff.stdout.contains("-        name: sidecar"),
        "{}",
        diff.stdout
    );
    run_stdin(&k, &["apply", "-f", "-"], &second)
        .await
        .ok()
        .stdout_is("deployment.apps/web configured");
    run(
        &k,
        &[
            "get",
            "deployment",
            "web",
            "-o",
            "jsonpath={.spec.template.spec.containers[*].name}/{.spec.template.spec.containers[0].image}/{.metadata.labels.owner}",
        ],
    )
    .await
    .ok()
    .stdout_is("app/nginx:3/someone-else");
    // The annotation now records the second manifest, for the next three-way patch.
    let last = run(
        &k,
        &[
            "get",
            "deployment",
            "web",
            "-o",
            r"jsonpath={.metadata.annotations.kubectl\.kubernetes\.io/last-applied-configuration}",
        ],
    )
    .await
    .ok();
    assert!(
        last.stdout.contains(r#""image":"nginx:3""#),
        "{}",
        last.stdout
    );
    assert!(!last.stdout.contains("sidecar"), "{}", last.stdout);
    run_stdin(&k, &["apply", "-f", "-"], &second)
        .await
        .ok()
        .stdout_is("deployment.apps/web unchanged");
    let same = run_stdin(&k, &["diff", "-f", "-"], &second).await;
    assert_eq!(same.code, 0, "diff: {}\n{}", same.stdout, same.stderr);
}

/// apply --server-side twice (a dropped container goes), a conflict with another
/// manager, then --force-conflicts takes the field over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_server_side_apply_with_conflicts() {
    let (_server, k) = tls_server().await;
    run_stdin(&k, &["apply", "--server-side", "-f", "-"], DEPLOYMENT)
        .await
        .ok()
        .stdout_is("deployment.apps/web serverside-applied");
    let second = DEPLOYMENT.replace("      - name: sidecar\n        image: busybox:1\n", "");
    run_stdin(&k, &["apply", "--server-side", "-f", "-"], &second)
        .await
        .ok()
        .stdout_is("deployment.apps/web serverside-applied");
    run(
        &k,
        &[
            "get",
            "deployment",
            "web",
            "-o",
            "jsonpath={.spec.template.spec.containers[*].name}",
        ],
    )
    .await
    .ok()
    .stdout_is("app");
    // Another manager sets replicas, which the first one's file also sets.
    let scaler =
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 4\n";
    run_stdin(
        &k,
        &[
            "apply",
            "--server-side",
            "--field-manager=scaler",
            "-f",
            "-",
        ],
        scaler,
    )
    .await
    .fails()
    .stderr_has(r#"Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas"#);
    run_stdin(
        &k,
        &[
            "apply",
            "--server-side",
            "--field-manager=scaler",
            "--force-conflicts",
            "-f",
            "-",
        ],
        scaler,
    )
    .await
    .ok()
    .stdout_is("deployment.apps/web serverside-applied");
    run(
        &k,
        &[
            "get",
            "deployment",
            "web",
            "--show-managed-fields",
            "-o",
            "jsonpath={.spec.replicas} {.metadata.managedFields[*].manager}",
        ],
    )
    .await
    .ok()
    .stdout_is("4 kubectl scaler");
    // The first manager's file now conflicts in turn.
    run_stdin(&k, &["apply", "--server-side", "-f", "-"], &second)
        .await
        .fails()
        .stderr_has(r#"conflict with "scaler": .spec.replicas"#);
    // What get -o yaml prints applies back as it is (status, uid and timestamps
    // included), taking over everything in it.
    let live = run(&k, &["get", "deployment", "web", "-o", "yaml"])
        .await
        .ok();
    run_stdin(
        &k,
        &["apply", "--server-side", "--force-conflicts", "-f", "-"],
        &live.stdout,
    )
    .await
    .ok()
    .stdout_is("deployment.apps/web serverside-applied");
}
