//! OpenAPI v3 (and a JSON v2) as far as `kubectl` needs them before it writes.
//!
//! `kubectl create -f`, `replace` and `apply` fetch `/openapi/v3` first and look, in
//! the group-version's document, for a PATCH operation of the object's kind (matched
//! by `x-kubernetes-group-version-kind`) that lists the `fieldValidation` query
//! parameter; when it finds one they leave validation to the server. These documents
//! carry exactly that: every path of every resource with its operations and
//! parameters. Full schemas (for `kubectl explain` and client-side apply merges) come
//! with the schema layer.

use std::collections::HashMap;

use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::discovery::etag;
use crate::registry::{Registry, Resource};

/// Pre-rendered OpenAPI documents.
#[derive(Debug)]
pub(crate) struct OpenApi {
    /// `/openapi/v3`: the index of group-version documents.
    pub(crate) index: Bytes,
    /// `/openapi/v3/<api/v1 | apis/g/v>`: document and its ETag.
    pub(crate) docs: HashMap<String, (Bytes, String)>,
    /// `/openapi/v2` as JSON.
    pub(crate) v2: Bytes,
}

fn param(name: &str, kind: &str) -> Value {
    json!({"name": name, "in": "query", "schema": {"type": kind, "uniqueItems": true}})
}

fn write_params() -> Vec<Value> {
    vec![
        param("dryRun", "string"),
        param("fieldManager", "string"),
        param("fieldValidation", "string"),
    ]
}

fn operation(r: &Resource, action: &str, id: &str, params: Vec<Value>) -> Value {
    json!({
        "operationId": id,
        "tags": [],
        "parameters": params,
        "responses": {"200": {"description": "OK"}, "401": {"description": "Unauthorized"}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": r.gvk.group, "version": r.gvk.version, "kind": r.gvk.kind},
    })
}

fn paths_of(r: &Resource, prefix: &str, paths: &mut Map<String, Value>) {
    let ns = if r.namespaced {
        "/namespaces/{namespace}"
    } else {
        ""
    };
    let collection = format!("{prefix}{ns}/{}", r.plural);
    let item = format!("{collection}/{{name}}");
    let op_kind = format!("{}{}", r.gvk.kind, r.gvk.version);
    let mut coll = Map::new();
    let mut obj = Map::new();
    for verb in &r.verbs {
        match verb.as_str() {
            "list" => {
                coll.insert(
                    "get".into(),
                    operation(r, "list", &format!("list{op_kind}"), vec![]),
                );
            }
            "create" => {
                coll.insert(
                    "post".into(),
                    operation(r, "post", &format!("create{op_kind}"), write_params()),
                );
            }
            "deletecollection" => {
                coll.insert(
                    "delete".into(),
                    operation(
                        r,
                        "deletecollection",
                        &format!("deletecollection{op_kind}"),
                        vec![],
                    ),
                );
            }
            "get" => {
                obj.insert(
                    "get".into(),
                    operation(r, "get", &format!("read{op_kind}"), vec![]),
                );
            }
            "update" => {
                obj.insert(
                    "put".into(),
                    operation(r, "put", &format!("replace{op_kind}"), write_params()),
                );
            }
            "patch" => {
                let mut params = write_params();
                params.push(param("force", "boolean"));
                obj.insert(
                    "patch".into(),
                    operation(r, "patch", &format!("patch{op_kind}"), params),
                );
            }
            "delete" => {
                obj.insert(
                    "delete".into(),
                    operation(r, "delete", &format!("delete{op_kind}"), vec![]),
                );
            }
            _ => {}
        }
    }
    if !coll.is_empty() {
        paths.insert(collection, Value::Object(coll));
    }
    if !obj.is_empty() {
        paths.insert(item, Value::Object(obj));
    }
}

impl OpenApi {
    /// Renders the documents for every served group-version.
    pub(crate) fn build(registry: &Registry) -> Self {
        let mut docs = HashMap::new();
        let mut index = Map::new();
        let mut all_paths = Map::new();
        for (group, versions) in registry.groups() {
            for version in versions {
                let (key, prefix) = if group.is_empty() {
                    (format!("api/{version}"), format!("/api/{version}"))
                } else {
                    (
                        format!("apis/{group}/{version}"),
                        format!("/apis/{group}/{version}"),
                    )
                };
                let mut paths = Map::new();
                for r in registry.resources() {
                    if &r.gvk.group == group && &r.gvk.version == version {
                        paths_of(r, &prefix, &mut paths);
                    }
                }
                all_paths.extend(paths.clone());
                let doc = json!({
                    "openapi": "3.0.0",
                    "info": {"title": "Kubernetes", "version": super::version::GIT_VERSION},
                    "paths": paths,
                    "components": {"schemas": {}},
                });
                let bytes = Bytes::from(serde_json::to_vec(&doc).unwrap_or_default());
                let tag = etag(&bytes);
                let hash = tag.trim_matches('"').to_owned();
                index.insert(
                    key.clone(),
                    json!({"serverRelativeURL": format!("/openapi/v3/{key}?hash={hash}")}),
                );
                docs.insert(key, (bytes, tag));
            }
        }
        let v2 = json!({
            "swagger": "2.0",
            "info": {"title": "Kubernetes", "version": super::version::GIT_VERSION},
            "paths": all_paths,
            "definitions": {},
        });
        OpenApi {
            index: Bytes::from(serde_json::to_vec(&json!({"paths": index})).unwrap_or_default()),
            docs,
            v2: Bytes::from(serde_json::to_vec(&v2).unwrap_or_default()),
        }
    }
}
