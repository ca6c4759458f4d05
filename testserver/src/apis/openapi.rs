//! OpenAPI v3 per group-version (and one v2 document), rendered from the schema model.
//!
//! What clients use them for:
//! - `kubectl create -f`, `replace` and `apply` look, in the group-version's v3
//!   document, for a PATCH operation of the object's kind (matched by
//!   `x-kubernetes-group-version-kind`) that lists the `fieldValidation` query
//!   parameter; finding one, they leave validation to the server.
//! - `kubectl explain` reads the kind's schema (descriptions, types, required
//!   fields) from `components.schemas`.
//! - client-side `kubectl apply` reads list semantics (`x-kubernetes-patch-strategy`,
//!   `-patch-merge-key`, `-list-type`, `-list-map-keys`) to compute its patches.
//!
//! v2 is served as JSON only. client-go's `OpenAPISchema()` asks for the protobuf
//! encoding of v2 and fails on JSON; kubectl 1.27+ reads v3 for everything above, so
//! we do not encode v2 as protobuf. Documents are rendered on the first request and
//! kept.

use std::collections::HashMap;

use bytes::Bytes;
use serde_json::{Map, Value, json};

use std::collections::BTreeMap;

use super::discovery::etag;
use crate::registry::{Registry, Resource};
use crate::schema::{Kind, ListType, PatchStrategy, Scalar, Schema, TypeId};

/// Which OpenAPI flavour a schema is rendered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    V2,
    V3,
}

impl Flavor {
    fn reference(self, name: &str) -> Value {
        match self {
            Flavor::V2 => json!({"$ref": format!("#/definitions/{name}")}),
            Flavor::V3 => json!({"$ref": format!("#/components/schemas/{name}")}),
        }
    }
}

/// Renders schema types into OpenAPI, collecting the named definitions they use.
struct Renderer<'a> {
    schema: &'a Schema,
    flavor: Flavor,
    definitions: BTreeMap<String, Value>,
    /// group/version/kind of each root type, for `x-kubernetes-group-version-kind`.
    gvks: HashMap<TypeId, Vec<Value>>,
}

impl Renderer<'_> {
    /// A reference to `id` if it is named (rendering the definition once), else the
    /// type inline.
    fn use_type(&mut self, id: TypeId) -> Value {
        let def = self.schema.def(id);
        if def.name.is_empty() {
            return self.inline(id);
        }
        if !self.definitions.contains_key(&def.name) {
            // Reserve first: recursive types refer to themselves.
            self.definitions.insert(def.name.clone(), Value::Null);
            let mut body = self.inline(id);
            if let Some(gvks) = self.gvks.get(&id)
                && let Value::Object(m) = &mut body
            {
                m.insert("x-kubernetes-group-version-kind".into(), json!(gvks));
            }
            self.definitions.insert(def.name.clone(), body);
        }
        self.flavor.reference(&def.name)
    }

    fn inline(&mut self, id: TypeId) -> Value {
        let def = self.schema.def(id);
        let mut out = Map::new();
        if !def.description.is_empty() {
            out.insert("description".into(), json!(def.description));
        }
        match &def.kind {
            Kind::Struct {
                fields,
                required,
                atomic,
                preserve_unknown,
                embedded_resource,
            } => {
                out.insert("type".into(), json!("object"));
                let mut props = Map::new();
                for f in fields {
                    let ty = self.use_type(f.ty);
                    let mut prop = match (ty, self.flavor) {
                        (Value::Object(m), Flavor::V3) if m.contains_key("$ref") => {
                            let mut p = Map::new();
                            p.insert("allOf".into(), json!([m]));
                            p
                        }
                        (Value::Object(m), _) => m,
                        _ => Map::new(),
                    };
                    if !f.description.is_empty() {
                        prop.insert("description".into(), json!(f.description));
                    }
                    if let Some(ps) = f.patch_strategy {
                        let s = match ps {
                            PatchStrategy::Merge => "merge",
                            PatchStrategy::Replace => "replace",
                            PatchStrategy::RetainKeys => "retainKeys",
                            PatchStrategy::MergeRetainKeys => "merge,retainKeys",
                        };
                        prop.insert("x-kubernetes-patch-strategy".into(), json!(s));
                    }
                    if let Some(k) = &f.merge_key {
                        prop.insert("x-kubernetes-patch-merge-key".into(), json!(k));
                    }
                    props.insert(f.name.clone(), Value::Object(prop));
                }
                out.insert("properties".into(), Value::Object(props));
                if !required.is_empty() {
                    out.insert("required".into(), json!(required));
                }
                if *atomic {
                    out.insert("x-kubernetes-map-type".into(), json!("atomic"));
                }
                if *preserve_unknown {
                    out.insert("x-kubernetes-preserve-unknown-fields".into(), json!(true));
                }
                if *embedded_resource {
                    out.insert("x-kubernetes-embedded-resource".into(), json!(true));
                }
            }
            Kind::Map { values, atomic } => {
                out.insert("type".into(), json!("object"));
                let v = self.use_type(*values);
                out.insert("additionalProperties".into(), v);
                if *atomic {
                    out.insert("x-kubernetes-map-type".into(), json!("atomic"));
                }
            }
            Kind::List { items, list_type } => {
                out.insert("type".into(), json!("array"));
                let i = self.use_type(*items);
                out.insert("items".into(), i);
                match list_type {
                    ListType::Atomic => {
                        out.insert("x-kubernetes-list-type".into(), json!("atomic"));
                    }
                    ListType::Set => {
                        out.insert("x-kubernetes-list-type".into(), json!("set"));
                    }
                    ListType::Map(keys) => {
                        out.insert("x-kubernetes-list-type".into(), json!("map"));
                        out.insert("x-kubernetes-list-map-keys".into(), json!(keys));
                    }
                }
            }
            Kind::Scalar { scalar, format } => {
                let t = match scalar {
                    Scalar::String => "string",
                    Scalar::Integer => "integer",
                    Scalar::Number => "number",
                    Scalar::Boolean => "boolean",
                };
                out.insert("type".into(), json!(t));
                if !format.is_empty() {
                    out.insert("format".into(), json!(format));
                }
            }
            Kind::IntOrString => match self.flavor {
                Flavor::V2 => {
                    out.insert("type".into(), json!("string"));
                    out.insert("format".into(), json!("int-or-string"));
                }
                Flavor::V3 => {
                    out.insert("x-kubernetes-int-or-string".into(), json!(true));
                    out.insert(
                        "anyOf".into(),
                        json!([{"type": "integer"}, {"type": "string"}]),
                    );
                }
            },
            Kind::Untyped => {
                out.insert("type".into(), json!("object"));
            }
        }
        Value::Object(out)
    }
}

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

fn gvks_of(schema: &Schema) -> HashMap<TypeId, Vec<Value>> {
    let mut gvks: HashMap<TypeId, Vec<Value>> = HashMap::new();
    for ((g, v, k), id) in schema.roots() {
        gvks.entry(id)
            .or_default()
            .push(json!({"group": g, "version": v, "kind": k}));
    }
    for list in gvks.values_mut() {
        list.sort_by_key(ToString::to_string);
    }
    gvks
}

impl OpenApi {
    /// Renders the documents for every served group-version.
    pub(crate) fn build(registry: &Registry, schema: &Schema) -> Self {
        let gvks = gvks_of(schema);
        let mut v2_renderer = Renderer {
            schema,
            flavor: Flavor::V2,
            definitions: BTreeMap::new(),
            gvks: gvks.clone(),
        };
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
                let mut renderer = Renderer {
                    schema,
                    flavor: Flavor::V3,
                    definitions: BTreeMap::new(),
                    gvks: gvks.clone(),
                };
                for r in registry.resources() {
                    if &r.gvk.group == group && &r.gvk.version == version {
                        paths_of(r, &prefix, &mut paths);
                        // Custom kinds get their paths but no schema definitions
                        // (the schemaless path; CRD serving will publish theirs).
                        if let Some(root) = schema.root(&r.gvk.group, &r.gvk.version, &r.gvk.kind) {
                            renderer.use_type(root.id());
                            v2_renderer.use_type(root.id());
                        }
                    }
                }
                all_paths.extend(paths.clone());
                let doc = json!({
                    "openapi": "3.0.0",
                    "info": {"title": "Kubernetes", "version": super::version::GIT_VERSION},
                    "paths": paths,
                    "components": {"schemas": renderer.definitions},
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
            "definitions": v2_renderer.definitions,
        });
        OpenApi {
            index: Bytes::from(serde_json::to_vec(&json!({"paths": index})).unwrap_or_default()),
            docs,
            v2: Bytes::from(serde_json::to_vec(&v2).unwrap_or_default()),
        }
    }
}
