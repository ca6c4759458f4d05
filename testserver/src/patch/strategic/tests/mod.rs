//! Tests of strategic merge patch: tables of (original, patch, expected) rows.
//!
//! - `upstream`: upstream's `patch_test.go` cases, rebuilt on its `MergeItem` type;
//! - `kubectl`: what `kubectl patch --type=strategic` and client-side `kubectl apply`
//!   send to Deployments, on a hand-built schema and on the built-in one;
//! - `errors`: every error, its message and status code;
//! - `fuzz`: random small patches never panic.

use serde_json::Value;

use crate::schema::build::Builder;
use crate::schema::{Cursor, ListType, PatchStrategy, Schema, TypeId};

use super::apply;

mod errors;
mod fuzz;
mod kubectl;
mod upstream;

/// One case: its name, the original object, the patch, and the result (or a substring
/// of the error message).
type Row = (&'static str, Value, Value, Result<Value, &'static str>);

/// Applies every row, then fails once, listing each row whose outcome differed.
fn check(schema: Cursor<'_>, rows: Vec<Row>) {
    let mut failures = Vec::new();
    for (name, original, patch, want) in rows {
        let got = apply(schema, &original, &patch);
        let ok = match (&want, &got) {
            (Ok(want), Ok(got)) => want == got,
            (Err(want), Err(got)) => got.to_string().contains(want),
            _ => false,
        };
        if !ok {
            let got = match got {
                Ok(v) => pretty(&v),
                Err(e) => format!("error: {e}"),
            };
            let want = match want {
                Ok(v) => pretty(&v),
                Err(e) => format!("error containing: {e}"),
            };
            failures.push(format!(
                "--- {name}\noriginal: {original}\npatch:    {patch}\nexpected:\n{want}\ngot:\n{got}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

/// Upstream's test type `MergeItem` (and `RetainKeysMergeItem`), field for field:
///
/// | field | patch strategy |
/// | --- | --- |
/// | `mergingList`, `mergeItemPtr` | merge by `name` |
/// | `retainKeysMergingList` | merge,retainKeys by `name` |
/// | `nonMergingList`, `nonMergingIntList` | replace (none) |
/// | `mergingIntList` | merge (a set) |
/// | `simpleMap` | a map of strings |
/// | `replacingItem` | replace (`RawExtension`: untyped) |
/// | `jsonItem` | untyped |
/// | `retainKeysMap` | retainKeys |
fn merge_item_schema() -> (Schema, TypeId) {
    let mut b = Builder::new();
    let item = b.schema.reserve("MergeItem");
    let string = b.string();
    let int = b.integer();
    let untyped = b.untyped();
    let merging = b.list(item, ListType::Map(vec!["name".into()]));
    let non_merging = b.list(item, ListType::Atomic);
    let ints = b.list(int, ListType::Set);
    let atomic_ints = b.list(int, ListType::Atomic);
    let simple_map = b.map(string, false);
    let merge = Some(PatchStrategy::Merge);
    let name = Some("name");
    let retain = b.structure(
        "RetainKeysMergeItem",
        &[
            ("name", string, None, None),
            ("value", string, None, None),
            ("other", string, None, None),
            ("simpleMap", simple_map, None, None),
            ("mergingIntList", ints, merge, None),
            ("mergingList", merging, merge, name),
            ("nonMergingList", non_merging, None, None),
        ],
        false,
    );
    b.structure(
        "MergeItem",
        &[
            ("name", string, None, None),
            ("value", string, None, None),
            ("other", string, None, None),
            ("mergingList", merging, merge, name),
            ("nonMergingList", non_merging, None, None),
            ("mergingIntList", ints, merge, None),
            ("nonMergingIntList", atomic_ints, None, None),
            ("mergeItemPtr", merging, merge, name),
            ("simpleMap", simple_map, None, None),
            ("replacingItem", untyped, Some(PatchStrategy::Replace), None),
            ("jsonItem", untyped, None, None),
            (
                "retainKeysMap",
                retain,
                Some(PatchStrategy::RetainKeys),
                None,
            ),
            (
                "retainKeysMergingList",
                merging,
                Some(PatchStrategy::MergeRetainKeys),
                name,
            ),
        ],
        false,
    );
    (b.schema, item)
}

/// A Deployment as the built-in schema has it, cut down to what patches touch: containers
/// by `name`, ports by `containerPort`, env by `name`, volume mounts by `mountPath`,
/// volumes by `name` with merge,retainKeys, the strategy with retainKeys, finalizers a
/// set, owner references by `uid`, tolerations atomic.
fn deployment_schema() -> (Schema, TypeId) {
    let mut b = Builder::new();
    let merge = Some(PatchStrategy::Merge);
    let s = b.string();
    let int = b.integer();
    let quantity = b.int_or_string();
    let strings = b.map(s, false);
    let atomic_strings = b.map(s, true);
    let string_set = b.list(s, ListType::Set);
    let string_list = b.list(s, ListType::Atomic);
    let quantities = b.map(quantity, false);

    let owner_ref = b.structure(
        "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference",
        &[
            ("apiVersion", s, None, None),
            ("kind", s, None, None),
            ("name", s, None, None),
            ("uid", s, None, None),
        ],
        false,
    );
    let owner_refs = b.list(owner_ref, ListType::Map(vec!["uid".into()]));
    let meta = b.structure(
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        &[
            ("name", s, None, None),
            ("namespace", s, None, None),
            ("labels", strings, None, None),
            ("annotations", strings, None, None),
            ("finalizers", string_set, merge, None),
            ("ownerReferences", owner_refs, merge, Some("uid")),
            ("resourceVersion", s, None, None),
        ],
        false,
    );

    let port = b.structure(
        "io.k8s.api.core.v1.ContainerPort",
        &[
            ("containerPort", int, None, None),
            ("name", s, None, None),
            ("protocol", s, None, None),
        ],
        false,
    );
    let ports = b.list(
        port,
        ListType::Map(vec!["containerPort".into(), "protocol".into()]),
    );
    let field_ref = b.structure(
        "io.k8s.api.core.v1.ObjectFieldSelector",
        &[("fieldPath", s, None, None)],
        false,
    );
    let env_source = b.structure(
        "io.k8s.api.core.v1.EnvVarSource",
        &[("fieldRef", field_ref, None, None)],
        false,
    );
    let env_var = b.structure(
        "io.k8s.api.core.v1.EnvVar",
        &[
            ("name", s, None, None),
            ("value", s, None, None),
            ("valueFrom", env_source, None, None),
        ],
        false,
    );
    let env = b.list(env_var, ListType::Map(vec!["name".into()]));
    let mount = b.structure(
        "io.k8s.api.core.v1.VolumeMount",
        &[("mountPath", s, None, None), ("name", s, None, None)],
        false,
    );
    let mounts = b.list(mount, ListType::Map(vec!["mountPath".into()]));
    let resources = b.structure(
        "io.k8s.api.core.v1.ResourceRequirements",
        &[
            ("limits", quantities, None, None),
            ("requests", quantities, None, None),
        ],
        false,
    );
    let container = b.structure(
        "io.k8s.api.core.v1.Container",
        &[
            ("name", s, None, None),
            ("image", s, None, None),
            ("imagePullPolicy", s, None, None),
            ("command", string_list, None, None),
            ("args", string_list, None, None),
            ("ports", ports, merge, Some("containerPort")),
            ("env", env, merge, Some("name")),
            ("resources", resources, None, None),
            ("volumeMounts", mounts, merge, Some("mountPath")),
        ],
        false,
    );
    let containers = b.list(container, ListType::Map(vec!["name".into()]));

    let empty_dir = b.structure(
        "io.k8s.api.core.v1.EmptyDirVolumeSource",
        &[
            ("medium", s, None, None),
            ("sizeLimit", quantity, None, None),
        ],
        false,
    );
    let host_path = b.structure(
        "io.k8s.api.core.v1.HostPathVolumeSource",
        &[("path", s, None, None), ("type", s, None, None)],
        false,
    );
    let config_map = b.structure(
        "io.k8s.api.core.v1.ConfigMapVolumeSource",
        &[("name", s, None, None)],
        false,
    );
    let volume = b.structure(
        "io.k8s.api.core.v1.Volume",
        &[
            ("name", s, None, None),
            ("emptyDir", empty_dir, None, None),
            ("hostPath", host_path, None, None),
            ("configMap", config_map, None, None),
        ],
        false,
    );
    let volumes = b.list(volume, ListType::Map(vec!["name".into()]));
    let toleration = b.structure(
        "io.k8s.api.core.v1.Toleration",
        &[
            ("key", s, None, None),
            ("operator", s, None, None),
            ("value", s, None, None),
            ("effect", s, None, None),
        ],
        false,
    );
    let tolerations = b.list(toleration, ListType::Atomic);
    let pull_secret = b.structure(
        "io.k8s.api.core.v1.LocalObjectReference",
        &[("name", s, None, None)],
        false,
    );
    let pull_secrets = b.list(pull_secret, ListType::Map(vec!["name".into()]));
    let pod_spec = b.structure(
        "io.k8s.api.core.v1.PodSpec",
        &[
            ("containers", containers, merge, Some("name")),
            ("initContainers", containers, merge, Some("name")),
            (
                "volumes",
                volumes,
                Some(PatchStrategy::MergeRetainKeys),
                Some("name"),
            ),
            ("tolerations", tolerations, None, None),
            ("nodeSelector", atomic_strings, None, None),
            ("imagePullSecrets", pull_secrets, merge, Some("name")),
            ("serviceAccountName", s, None, None),
            ("restartPolicy", s, None, None),
        ],
        false,
    );
    let template = b.structure(
        "io.k8s.api.core.v1.PodTemplateSpec",
        &[
            ("metadata", meta, None, None),
            ("spec", pod_spec, None, None),
        ],
        false,
    );
    let rolling = b.structure(
        "io.k8s.api.apps.v1.RollingUpdateDeployment",
        &[
            ("maxSurge", quantity, None, None),
            ("maxUnavailable", quantity, None, None),
        ],
        false,
    );
    let strategy = b.structure(
        "io.k8s.api.apps.v1.DeploymentStrategy",
        &[
            ("type", s, None, None),
            ("rollingUpdate", rolling, None, None),
        ],
        false,
    );
    let selector = b.structure(
        "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
        &[("matchLabels", strings, None, None)],
        true,
    );
    let spec = b.structure(
        "io.k8s.api.apps.v1.DeploymentSpec",
        &[
            ("replicas", int, None, None),
            ("minReadySeconds", int, None, None),
            ("selector", selector, None, None),
            ("strategy", strategy, Some(PatchStrategy::RetainKeys), None),
            ("template", template, None, None),
        ],
        false,
    );
    let condition = b.structure(
        "io.k8s.api.apps.v1.DeploymentCondition",
        &[
            ("type", s, None, None),
            ("status", s, None, None),
            ("reason", s, None, None),
        ],
        false,
    );
    let conditions = b.list(condition, ListType::Map(vec!["type".into()]));
    let status = b.structure(
        "io.k8s.api.apps.v1.DeploymentStatus",
        &[
            ("replicas", int, None, None),
            ("conditions", conditions, merge, Some("type")),
        ],
        false,
    );
    let deployment = b.structure(
        "io.k8s.api.apps.v1.Deployment",
        &[
            ("apiVersion", s, None, None),
            ("kind", s, None, None),
            ("metadata", meta, None, None),
            ("spec", spec, None, None),
            ("status", status, None, None),
        ],
        false,
    );
    (b.schema, deployment)
}
