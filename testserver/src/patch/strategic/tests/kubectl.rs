//! Patches shaped like what kubectl sends for Deployments: `kubectl patch` (strategic,
//! the default type) and client-side `kubectl apply` (a three-way patch with
//! `$setElementOrder` lists, `$patch: delete` items, `$deleteFromPrimitiveList` and
//! `$retainKeys`). Every row runs on the hand-built schema and on the built-in one.

use serde_json::{Value, json};

use crate::schema::Cursor;

use super::{Row, check, deployment_schema};

/// A Deployment as the server stores it.
fn live() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "labels": {"app": "web", "tier": "frontend"},
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}\n"},
            "finalizers": ["a", "b", "c"],
        },
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
            },
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "nginx:1.24",
                            "ports": [{"containerPort": 80, "protocol": "TCP"}],
                            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                            "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                        },
                        {"name": "sidecar", "image": "busybox", "args": ["sleep", "3600"]},
                    ],
                    "volumes": [{"name": "data", "emptyDir": {}}],
                    "tolerations": [
                        {"key": "dedicated", "operator": "Equal", "value": "test-team", "effect": "NoSchedule"},
                    ],
                },
            },
        },
        "status": {
            "replicas": 2,
            "conditions": [
                {"type": "Progressing", "status": "True"},
                {"type": "Available", "status": "False"},
            ],
        },
    })
}

/// `live()` with the values at the given JSON pointers replaced (`None` removes).
fn live_with(edits: &[(&str, Option<Value>)]) -> Value {
    let mut doc = live();
    for (pointer, value) in edits {
        let (parent, key) = pointer.rsplit_once('/').unwrap_or(("", pointer));
        let Some(Value::Object(parent)) = doc.pointer_mut(parent) else {
            panic!("no object at {parent}");
        };
        match value {
            Some(value) => parent.insert(key.to_owned(), value.clone()),
            None => parent.remove(key),
        };
    }
    doc
}

/// A patch of the pod template's spec.
fn pod_spec(spec: Value) -> Value {
    json!({"spec": {"template": {"spec": spec}}})
}

const CONTAINERS: &str = "/spec/template/spec/containers";

/// The live `app` container with some fields replaced.
fn app(edits: Value) -> Value {
    let mut app = live()
        .pointer("/spec/template/spec/containers/0")
        .cloned()
        .unwrap_or_default();
    if let (Value::Object(app), Value::Object(edits)) = (&mut app, edits) {
        for (k, v) in edits {
            app.insert(k, v);
        }
    }
    app
}

fn sidecar() -> Value {
    json!({"name": "sidecar", "image": "busybox", "args": ["sleep", "3600"]})
}

fn kubectl_patch_rows() -> Vec<Row> {
    vec![
        // The docs' patch-demo: a new container goes ahead of the server's.
        (
            "patch adds a container",
            live(),
            pod_spec(json!({"containers": [{"name": "patch-demo-ctr-2", "image": "redis"}]})),
            Ok(live_with(&[(
                CONTAINERS,
                Some(json!([
                    {"name": "patch-demo-ctr-2", "image": "redis"}, app(json!({})), sidecar(),
                ])),
            )])),
        ),
        // A container named by its key merges in place.
        (
            "patch changes an image by container name",
            live(),
            pod_spec(json!({"containers": [{"name": "app", "image": "nginx:1.25"}]})),
            Ok(live_with(&[(
                CONTAINERS,
                Some(json!([app(json!({"image": "nginx:1.25"})), sidecar()])),
            )])),
        ),
        // The docs' tolerations example: no patch strategy, so the list is replaced.
        (
            "patch replaces the tolerations",
            live(),
            pod_spec(
                json!({"tolerations": [{"effect": "NoSchedule", "key": "disktype", "value": "ssd"}]}),
            ),
            Ok(live_with(&[(
                "/spec/template/spec/tolerations",
                Some(json!([{"effect": "NoSchedule", "key": "disktype", "value": "ssd"}])),
            )])),
        ),
        // `kubectl scale`-like: a scalar replaced.
        (
            "patch sets replicas",
            live(),
            json!({"spec": {"replicas": 5}}),
            Ok(live_with(&[("/spec/replicas", Some(json!(5)))])),
        ),
        // `kubectl label tier- env=prod`: null deletes a label, others are added.
        (
            "patch removes and adds labels",
            live(),
            json!({"metadata": {"labels": {"tier": null, "env": "prod"}}}),
            Ok(live_with(&[(
                "/metadata/labels",
                Some(json!({"app": "web", "env": "prod"})),
            )])),
        ),
        // The docs' retainkeys-demo: `$retainKeys` clears rollingUpdate.
        (
            "patch switches the strategy with $retainKeys",
            live(),
            json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}),
            Ok(live_with(&[(
                "/spec/strategy",
                Some(json!({"type": "Recreate"})),
            )])),
        ),
        // Without the directive rollingUpdate stays (validation then rejects the object).
        (
            "patch switches the strategy type without $retainKeys",
            live(),
            json!({"spec": {"strategy": {"type": "Recreate"}}}),
            Ok(live_with(&[(
                "/spec/strategy/type",
                Some(json!("Recreate")),
            )])),
        ),
        // A `$patch: replace` item makes the patch list the whole list.
        (
            "patch replaces the container list with $patch: replace",
            live(),
            pod_spec(
                json!({"containers": [{"name": "only", "image": "x"}, {"$patch": "replace"}]}),
            ),
            Ok(live_with(&[(
                CONTAINERS,
                Some(json!([{"name": "only", "image": "x"}])),
            )])),
        ),
        // A `$patch: delete` item removes an env var by name.
        (
            "patch deletes an env var",
            live(),
            pod_spec(
                json!({"containers": [{"name": "app", "env": [{"name": "A", "$patch": "delete"}]}]}),
            ),
            Ok(live_with(&[(
                CONTAINERS,
                Some(json!([
                    app(json!({"env": [{"name": "B", "value": "2"}]})),
                    sidecar()
                ])),
            )])),
        ),
        // `$patch: replace` inside a map replaces the map.
        (
            "patch replaces the labels",
            live(),
            json!({"metadata": {"labels": {"$patch": "replace", "app": "web2"}}}),
            Ok(live_with(&[(
                "/metadata/labels",
                Some(json!({"app": "web2"})),
            )])),
        ),
        // `$patch: delete` inside a map leaves it empty.
        (
            "patch deletes rollingUpdate",
            live(),
            json!({"spec": {"strategy": {"rollingUpdate": {"$patch": "delete"}}}}),
            Ok(live_with(&[(
                "/spec/strategy/rollingUpdate",
                Some(json!({})),
            )])),
        ),
        // A finalizer removed from the set.
        (
            "patch removes a finalizer",
            live(),
            json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["b"]}}),
            Ok(live_with(&[(
                "/metadata/finalizers",
                Some(json!(["a", "c"])),
            )])),
        ),
        // A finalizer added to the set: patch order for the values it names, the new
        // value ahead of the server's next one.
        (
            "patch adds a finalizer",
            live(),
            json!({"metadata": {"finalizers": ["d", "a"]}}),
            Ok(live_with(&[(
                "/metadata/finalizers",
                Some(json!(["d", "a", "b", "c"])),
            )])),
        ),
        // Ports merge by containerPort, in the patch's order.
        (
            "patch adds and names ports",
            live(),
            pod_spec(json!({"containers": [{"name": "app", "ports": [
                {"containerPort": 443, "protocol": "TCP"},
                {"containerPort": 80, "name": "http"},
            ]}]})),
            Ok(live_with(&[(
                CONTAINERS,
                Some(json!([
                    app(json!({"ports": [
                        {"containerPort": 443, "protocol": "TCP"},
                        {"containerPort": 80, "protocol": "TCP", "name": "http"},
                    ]})),
                    sidecar(),
                ])),
            )])),
        ),
        // A new merge-list item is appended as sent, nulls and all, as upstream does.
        (
            "patch adds a container with a null field",
            live(),
            pod_spec(json!({"containers": [{"name": "new", "image": "x", "command": null}]})),
            Ok(live_with(&[(
                CONTAINERS,
                Some(json!([
                    {"name": "new", "image": "x", "command": null}, app(json!({})), sidecar(),
                ])),
            )])),
        ),
        // As upstream: a map the original lacks is taken whole minus directive objects,
        // so `$patch: replace` there adds nothing.
        (
            "patch replaces an absent nodeSelector",
            live(),
            pod_spec(json!({"nodeSelector": {"$patch": "replace", "disk": "ssd"}})),
            Ok(live()),
        ),
        // An empty list merges nothing into a merge list: the containers stay.
        (
            "patch with an empty container list",
            live(),
            pod_spec(json!({"containers": []})),
            Ok(live()),
        ),
        // An empty list replaces a list without merge strategy.
        (
            "patch with an empty toleration list",
            live(),
            pod_spec(json!({"tolerations": []})),
            Ok(live_with(&[(
                "/spec/template/spec/tolerations",
                Some(json!([])),
            )])),
        ),
        // Status conditions merge by type (`kubectl patch --subresource=status`).
        (
            "patch updates a status condition",
            live(),
            json!({"status": {"conditions": [{"type": "Available", "status": "True"}]}}),
            Ok(live_with(&[(
                "/status/conditions",
                Some(
                    json!([{"type": "Progressing", "status": "True"}, {"type": "Available", "status": "True"}]),
                ),
            )])),
        ),
    ]
}

fn kubectl_apply_rows() -> Vec<Row> {
    let order = json!([{"name": "app"}, {"name": "sidecar"}]);
    vec![
        // An image bump: the order list and the changed container.
        (
            "apply bumps an image",
            live(),
            pod_spec(json!({"$setElementOrder/containers": order,
                            "containers": [{"image": "nginx:1.25", "name": "app"}]})),
            Ok(live_with(&[(
                CONTAINERS,
                Some(json!([app(json!({"image": "nginx:1.25"})), sidecar()])),
            )])),
        ),
        // A container dropped from the config: a delete item.
        (
            "apply removes a container",
            live(),
            pod_spec(json!({"$setElementOrder/containers": [{"name": "app"}],
                            "containers": [{"$patch": "delete", "name": "sidecar"}]})),
            Ok(live_with(&[(CONTAINERS, Some(json!([app(json!({}))])))])),
        ),
        // Containers reordered in the config: only the order list.
        (
            "apply reorders containers",
            live(),
            pod_spec(
                json!({"$setElementOrder/containers": [{"name": "sidecar"}, {"name": "app"}]}),
            ),
            Ok(live_with(&[(
                CONTAINERS,
                Some(json!([sidecar(), app(json!({}))])),
            )])),
        ),
        // A container added in the middle of the config lands there.
        (
            "apply adds a container between two",
            live(),
            pod_spec(
                json!({"$setElementOrder/containers": [{"name": "app"}, {"name": "metrics"}, {"name": "sidecar"}],
                            "containers": [{"image": "prom", "name": "metrics"}]}),
            ),
            Ok(live_with(&[(
                CONTAINERS,
                Some(json!([
                    app(json!({})), {"image": "prom", "name": "metrics"}, sidecar(),
                ])),
            )])),
        ),
        // Env: one changed, one added, one removed, each with its own order list.
        (
            "apply changes, adds and removes env vars",
            live(),
            pod_spec(json!({
                "$setElementOrder/containers": order,
                "containers": [{
                    "$setElementOrder/env": [{"name": "A"}, {"name": "C"}],
                    "env": [{"name": "A", "value": "10"}, {"name": "C", "value": "3"}, {"$patch": "delete", "name": "B"}],
                    "name": "app",
                }],
            })),
            Ok(live_with(&[(
                CONTAINERS,
                Some(json!([
                    app(
                        json!({"env": [{"name": "A", "value": "10"}, {"name": "C", "value": "3"}]})
                    ),
                    sidecar(),
                ])),
            )])),
        ),
        // A port added after the existing one, ordered by containerPort.
        (
            "apply adds a port",
            live(),
            pod_spec(json!({
                "$setElementOrder/containers": order,
                "containers": [{
                    "$setElementOrder/ports": [{"containerPort": 80}, {"containerPort": 9090}],
                    "name": "app",
                    "ports": [{"containerPort": 9090, "name": "metrics"}],
                }],
            })),
            Ok(live_with(&[(
                CONTAINERS,
                Some(json!([
                    app(
                        json!({"ports": [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 9090, "name": "metrics"}]})
                    ),
                    sidecar(),
                ])),
            )])),
        ),
        // A volume switched from emptyDir to hostPath: `$retainKeys` in the item.
        (
            "apply switches a volume source",
            live(),
            pod_spec(json!({
                "$setElementOrder/volumes": [{"name": "data"}],
                "volumes": [{"$retainKeys": ["hostPath", "name"], "emptyDir": null,
                             "hostPath": {"path": "/var/data"}, "name": "data"}],
            })),
            Ok(live_with(&[(
                "/spec/template/spec/volumes",
                Some(json!([{"name": "data", "hostPath": {"path": "/var/data"}}])),
            )])),
        ),
        // The strategy switched to Recreate: `$retainKeys` and a null.
        (
            "apply switches the strategy",
            live(),
            json!({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": null, "type": "Recreate"}}}),
            Ok(live_with(&[(
                "/spec/strategy",
                Some(json!({"type": "Recreate"})),
            )])),
        ),
        // Every apply rewrites its annotation; a label dropped from the config is nulled.
        (
            "apply updates last-applied and drops a label",
            live(),
            json!({"metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"kind\":\"Deployment\"}\n"},
                                "labels": {"tier": null}}}),
            Ok(live_with(&[
                (
                    "/metadata/annotations",
                    Some(
                        json!({"kubectl.kubernetes.io/last-applied-configuration": "{\"kind\":\"Deployment\"}\n"}),
                    ),
                ),
                ("/metadata/labels", Some(json!({"app": "web"}))),
            ])),
        ),
        // A set reordered with a value deleted: order first, then the deletion.
        (
            "apply reorders and trims finalizers",
            live(),
            json!({"metadata": {"$setElementOrder/finalizers": ["c", "a"], "$deleteFromPrimitiveList/finalizers": ["b"]}}),
            Ok(live_with(&[(
                "/metadata/finalizers",
                Some(json!(["c", "a"])),
            )])),
        ),
        // A field dropped from the config is nulled.
        (
            "apply drops replicas",
            live(),
            json!({"spec": {"replicas": null}}),
            Ok(live_with(&[("/spec/replicas", None)])),
        ),
        // A container the server injected (not in the order list) keeps its place.
        (
            "apply keeps a server-side container",
            live(),
            pod_spec(json!({"$setElementOrder/containers": [{"name": "app"}],
                            "containers": [{"image": "nginx:1.25", "name": "app"}]})),
            Ok(live_with(&[(
                CONTAINERS,
                Some(json!([app(json!({"image": "nginx:1.25"})), sidecar()])),
            )])),
        ),
    ]
}

fn builtin_deployment() -> Cursor<'static> {
    crate::schema::builtin::schema()
        .root("apps", "v1", "Deployment")
        .expect("the built-in schema has apps/v1 Deployment")
}

#[test]
fn kubectl_patch_shapes_merge_on_a_deployment() {
    let (schema, root) = deployment_schema();
    check(schema.cursor(root), kubectl_patch_rows());
}

#[test]
fn kubectl_apply_shapes_merge_on_a_deployment() {
    let (schema, root) = deployment_schema();
    check(schema.cursor(root), kubectl_apply_rows());
}

#[test]
fn kubectl_shapes_merge_the_same_on_the_builtin_deployment_schema() {
    let cursor = builtin_deployment();
    check(cursor, kubectl_patch_rows());
    check(cursor, kubectl_apply_rows());
}
