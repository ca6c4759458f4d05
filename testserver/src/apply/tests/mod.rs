//! Scenario tests, one file per layer; expected values are upstream's, restated here,
//! and each row names the upstream test it mirrors.

use serde_json::{Value, json};

use crate::apply::{ApplyError, Conflict, Operation, Request, managed_fields};
use crate::schema::build::Builder;
use crate::schema::{Cursor, Kind, Scalar, TypeDef, TypeId};

/// The managed-fields list: capping update entries, resets, scale, default managers.
mod entries;
/// The fast paths of non-apply writes against the general algorithm (proptest).
mod fast_paths;
/// apimachinery's field manager: apply and update through the public door, conflicts,
/// stripped metadata, before-first-apply, kubectl's last-applied annotation.
mod field_manager;
/// Field sets of objects under each kind of schema type, and validation messages.
mod field_sets;
/// Ownership across sequences of applies and updates (structured-merge-diff's `merge` tests).
mod ownership;

/// A scalar type the schema builder has no shortcut for.
fn scalar(b: &mut Builder, scalar: Scalar) -> TypeId {
    b.schema.add(TypeDef {
        name: String::new(),
        description: String::new(),
        kind: Kind::Scalar {
            scalar,
            format: String::new(),
        },
    })
}

pub(super) const NOW: &str = "2025-01-02T03:04:05Z";

pub(super) fn builtin(group: &str, version: &str, kind: &str) -> Cursor<'static> {
    crate::schema::builtin::schema()
        .root(group, version, kind)
        .unwrap_or_else(|| panic!("no built-in schema for {group}/{version} {kind}"))
}

pub(super) fn deployments() -> Cursor<'static> {
    builtin("apps", "v1", "Deployment")
}

pub(super) fn pods() -> Cursor<'static> {
    builtin("", "v1", "Pod")
}

pub(super) fn req<'a>(manager: &'a str, api_version: &'a str, kind: &'a str) -> Request<'a> {
    Request {
        manager,
        api_version,
        kind,
        subresource: "",
        now: NOW,
        reset_fields: None,
    }
}

pub(super) fn deploy(manager: &str) -> Request<'_> {
    req(manager, "apps/v1", "Deployment")
}

pub(super) fn pod(manager: &str) -> Request<'_> {
    req(manager, "v1", "Pod")
}

/// A Deployment configuration as kube's fieldmanager tests write it.
pub(super) fn deployment(replicas: i64, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "deployment", "labels": {"app": "nginx"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {
                "metadata": {"labels": {"app": "nginx"}},
                "spec": {"containers": [{"name": "nginx", "image": image}]}
            }
        }
    })
}

/// `(manager, operation, fieldsV1)` of every entry, in stored order.
pub(super) fn owners(obj: &Value) -> Vec<(String, Operation, Value)> {
    managed_fields(obj)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|e| (e.manager, e.operation, e.fields.to_fields_v1()))
        .collect()
}

pub(super) fn names(obj: &Value) -> Vec<String> {
    owners(obj).into_iter().map(|(m, _, _)| m).collect()
}

pub(super) fn conflicts_of(r: Result<Value, ApplyError>) -> Vec<Conflict> {
    match r {
        Err(ApplyError::Conflicts(c)) => c,
        other => panic!("expected conflicts, got {other:?}"),
    }
}
