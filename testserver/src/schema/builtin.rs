//! The built-in types' schemas: k8s-openapi's schemas (generated at build time, see
//! `build.rs`) plus our table of list and map merge semantics (`semantics.txt`),
//! loaded once per process on first use.
//!
//! Lists without an explicit list type get structured-merge-diff's default: a
//! `merge` patch strategy with a merge key makes a map-list keyed by it, `merge`
//! without a key a set, anything else an atomic list.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

use super::{FieldDef, Kind, ListType, PatchStrategy, Scalar, Schema, TypeDef, TypeId};

static GENERATED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/builtin_schemas.json"));
static SEMANTICS: &str = include_str!("semantics.txt");

/// The schema of every built-in kind, built on first use.
pub(crate) fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| load(GENERATED, SEMANTICS))
}

/// Merge facts of one field or type, from `semantics.txt`.
#[derive(Debug, Default, Clone)]
struct Facts {
    list: Option<ListType>,
    patch: Option<PatchStrategy>,
    merge_key: Option<String>,
    atomic: Option<bool>,
}

fn parse_semantics(text: &str) -> HashMap<String, Facts> {
    let mut out: HashMap<String, Facts> = HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.split_whitespace();
        let Some(target) = parts.next() else { continue };
        let mut facts = Facts::default();
        let mut list = None;
        let mut keys: Vec<String> = Vec::new();
        for kv in parts {
            let Some((k, v)) = kv.split_once('=') else {
                continue;
            };
            match k {
                "list" => list = Some(v.to_owned()),
                "keys" => keys = v.split(',').map(str::to_owned).collect(),
                "patch" => {
                    facts.patch = match v {
                        "merge" => Some(PatchStrategy::Merge),
                        "replace" => Some(PatchStrategy::Replace),
                        "retainKeys" => Some(PatchStrategy::RetainKeys),
                        "merge,retainKeys" | "retainKeys,merge" => {
                            Some(PatchStrategy::MergeRetainKeys)
                        }
                        _ => None,
                    }
                }
                "mergeKey" => facts.merge_key = Some(v.to_owned()),
                "map" | "struct" => facts.atomic = Some(v == "atomic"),
                _ => {}
            }
        }
        facts.list = match list.as_deref() {
            Some("atomic") => Some(ListType::Atomic),
            Some("set") => Some(ListType::Set),
            Some("map") => Some(ListType::Map(keys)),
            _ => None,
        };
        out.insert(target.to_owned(), facts);
    }
    out
}

/// structured-merge-diff's list type for a list without an explicit one.
fn default_list_type(facts: &Facts) -> ListType {
    match (facts.patch, &facts.merge_key) {
        (Some(PatchStrategy::Merge | PatchStrategy::MergeRetainKeys), Some(key)) => {
            ListType::Map(vec![key.clone()])
        }
        (Some(PatchStrategy::Merge | PatchStrategy::MergeRetainKeys), None) => ListType::Set,
        _ => ListType::Atomic,
    }
}

struct Loader<'a> {
    schema: Schema,
    definitions: &'a serde_json::Map<String, Value>,
    facts: HashMap<String, Facts>,
}

fn description(v: &Value) -> String {
    v.get("description")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The JSON schema `type`, ignoring a `null` alternative.
fn json_type(v: &Value) -> Option<&str> {
    match v.get("type")? {
        Value::String(s) => Some(s),
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        _ => None,
    }
}

impl Loader<'_> {
    /// The type of a schema node; `owner` names the field it belongs to (for facts).
    fn node(&mut self, v: &Value, owner: Option<&str>) -> TypeId {
        if let Some(r) = v.get("$ref").and_then(Value::as_str) {
            return self.named(r);
        }
        if let Some(all) = v.get("allOf").and_then(Value::as_array)
            && let [only] = all.as_slice()
        {
            return self.node(only, owner);
        }
        let facts = owner
            .and_then(|o| self.facts.get(o))
            .cloned()
            .unwrap_or_default();
        let kind = self.kind(v, &facts, owner);
        self.schema.add(TypeDef {
            name: String::new(),
            description: description(v),
            kind,
        })
    }

    fn kind(&mut self, v: &Value, facts: &Facts, owner: Option<&str>) -> Kind {
        if v.get("x-kubernetes-int-or-string").and_then(Value::as_bool) == Some(true) {
            return Kind::IntOrString;
        }
        match json_type(v) {
            Some("object") => {
                if let Some(props) = v.get("properties").and_then(Value::as_object) {
                    let required = v
                        .get("required")
                        .and_then(Value::as_array)
                        .map(|r| {
                            r.iter()
                                .filter_map(|s| s.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default();
                    let mut fields = Vec::with_capacity(props.len());
                    for (name, prop) in props {
                        let key = owner.map(|o| format!("{o}.{name}"));
                        let field_facts = key
                            .as_deref()
                            .and_then(|k| self.facts.get(k))
                            .cloned()
                            .unwrap_or_default();
                        let ty = self.node(prop, key.as_deref());
                        fields.push(FieldDef {
                            name: name.clone(),
                            ty,
                            description: description(prop),
                            patch_strategy: field_facts.patch,
                            merge_key: field_facts.merge_key.clone(),
                        });
                    }
                    fields.sort_by(|a, b| a.name.cmp(&b.name));
                    return Kind::Struct {
                        fields,
                        required,
                        atomic: facts.atomic.unwrap_or(false),
                        preserve_unknown: v
                            .get("x-kubernetes-preserve-unknown-fields")
                            .and_then(Value::as_bool)
                            == Some(true),
                        embedded_resource: v
                            .get("x-kubernetes-embedded-resource")
                            .and_then(Value::as_bool)
                            == Some(true),
                    };
                }
                match v.get("additionalProperties") {
                    Some(values @ Value::Object(_)) => {
                        let values = self.node(values, None);
                        Kind::Map {
                            values,
                            atomic: facts.atomic.unwrap_or(false),
                        }
                    }
                    // An object with nothing declared (RawExtension, FieldsV1, JSON).
                    _ => Kind::Untyped,
                }
            }
            Some("array") => {
                let items = match v.get("items") {
                    Some(items) => self.node(items, None),
                    None => self.schema.add(TypeDef {
                        name: String::new(),
                        description: String::new(),
                        kind: Kind::Untyped,
                    }),
                };
                Kind::List {
                    items,
                    list_type: facts
                        .list
                        .clone()
                        .unwrap_or_else(|| default_list_type(facts)),
                }
            }
            Some(t @ ("string" | "integer" | "number" | "boolean")) => Kind::Scalar {
                scalar: match t {
                    "string" => Scalar::String,
                    "integer" => Scalar::Integer,
                    "number" => Scalar::Number,
                    _ => Scalar::Boolean,
                },
                format: v
                    .get("format")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            },
            _ => Kind::Untyped,
        }
    }

    /// A named definition, loaded once (recursion-safe).
    fn named(&mut self, name: &str) -> TypeId {
        if let Some(c) = self.schema.named(name) {
            return c.id();
        }
        let id = self.schema.reserve(name);
        let Some(v) = self.definitions.get(name).cloned() else {
            return id;
        };
        let facts = self.facts.get(name).cloned().unwrap_or_default();
        let kind = self.kind(&v, &facts, Some(name));
        self.schema.add(TypeDef {
            name: name.to_owned(),
            description: description(&v),
            kind,
        });
        id
    }
}

/// Builds the schema from the generated document and the semantics table.
fn load(generated: &[u8], semantics: &str) -> Schema {
    let doc: Value = serde_json::from_slice(generated).unwrap_or(Value::Null);
    let empty = serde_json::Map::new();
    let definitions = doc
        .get("definitions")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut loader = Loader {
        schema: Schema::new(),
        definitions,
        facts: parse_semantics(semantics),
    };
    for root in doc
        .get("roots")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let parts: Vec<&str> = root
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if let [group, version, kind, name] = parts.as_slice() {
            let id = loader.named(name);
            loader.schema.set_root(group, version, kind, id);
        }
    }
    loader.schema
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_served_kind_has_a_schema() {
        let s = schema();
        for r in crate::registry::builtin::RESOURCES {
            assert!(
                s.root(r.group, r.version, r.kind).is_some(),
                "no schema for {}/{} {}",
                r.group,
                r.version,
                r.kind
            );
        }
    }

    #[test]
    fn pod_containers_merge_by_name_and_tolerations_are_atomic() {
        let s = schema();
        let pod = s.root("", "v1", "Pod").expect("pod");
        let (_, spec) = pod.field("spec").expect("spec");
        let (def, containers) = spec.field("containers").expect("containers");
        assert_eq!(def.merge_key.as_deref(), Some("name"));
        assert_eq!(def.patch_strategy, Some(PatchStrategy::Merge));
        assert_eq!(
            containers.list_type(),
            Some(&ListType::Map(vec!["name".into()]))
        );
        let (_, tolerations) = spec.field("tolerations").expect("tolerations");
        assert_eq!(tolerations.list_type(), Some(&ListType::Atomic));
        let container = containers.items().expect("items");
        let (_, ports) = container.field("ports").expect("ports");
        assert_eq!(
            ports.list_type(),
            Some(&ListType::Map(vec![
                "containerPort".into(),
                "protocol".into()
            ]))
        );
        let (_, image) = container.field("image").expect("image");
        assert!(matches!(
            image.kind(),
            Kind::Scalar {
                scalar: Scalar::String,
                ..
            }
        ));
        let (_, meta) = pod.field("metadata").expect("metadata");
        let (_, labels) = meta.field("labels").expect("labels");
        assert!(matches!(labels.kind(), Kind::Map { atomic: false, .. }));
        assert!(
            !pod.def().description.is_empty(),
            "descriptions are kept for explain"
        );
    }

    #[test]
    fn special_types_are_recognised() {
        let s = schema();
        let deploy = s.root("apps", "v1", "Deployment").expect("deployment");
        let (_, spec) = deploy.field("spec").expect("spec");
        let (_, strategy) = spec.field("strategy").expect("strategy");
        let (_, rolling) = strategy.field("rollingUpdate").expect("rollingUpdate");
        let (_, surge) = rolling.field("maxSurge").expect("maxSurge");
        assert!(matches!(surge.kind(), Kind::IntOrString));
        let (_, selector) = spec.field("selector").expect("selector");
        assert!(selector.is_atomic(), "label selectors are atomic structs");
        let crd = s
            .root("apiextensions.k8s.io", "v1", "CustomResourceDefinition")
            .expect("crd");
        assert!(crd.field("spec").is_some());
    }
}
