//! What the watch cache keeps per object and per event.

use std::sync::{Arc, OnceLock};

use bytes::{Bytes, BytesMut};
use kubeforge_client::core::selector::{Fields, Labels};
use serde_json::Value;
use serde_json::value::RawValue;

use super::CacheSpec;
use crate::object::{self, Served};
use crate::storage::{KeyValue, Revision};

/// One object as the cache holds it: the served JSON bytes (encoded once, by the
/// writer) beside the few parsed fields that selectors need.
#[derive(Debug)]
pub(crate) struct CachedObject {
    pub(crate) name: String,
    /// Empty for cluster-scoped objects.
    pub(crate) namespace: String,
    /// Sorted by key.
    pub(crate) labels: Box<[(String, String)]>,
    /// Selectable fields with their values (`metadata.name` and friends included).
    pub(crate) fields: Box<[(&'static str, String)]>,
    pub(crate) served: Served,
}

/// Why a stored value could not be cached.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DecodeError {
    #[error("stored value is not a JSON object")]
    Json(#[from] serde_json::Error),
    #[error("stored value has no metadata")]
    Malformed(#[from] object::MalformedObject),
}

/// The parsed parts of an object the cache needs: names, labels, selectable fields.
#[derive(Debug)]
pub(crate) struct View {
    name: String,
    namespace: String,
    labels: Vec<(String, String)>,
    fields: Vec<(&'static str, String)>,
}

/// `metadata` as far as the cache reads it.
#[derive(serde::Deserialize)]
struct MetaView<'a> {
    #[serde(borrow, default)]
    name: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    namespace: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    labels: Option<std::collections::BTreeMap<String, String>>,
}

/// A JSON object decoded one level deep (members stay raw JSON).
type Members<'a> = std::collections::HashMap<&'a str, &'a RawValue>;

impl View {
    /// Reads only what is needed, without building the object's tree. `None` when the
    /// object has a shape this path does not handle (escaped keys, non-string labels):
    /// then [`View::of_object`] reads a full parse.
    fn fast(text: &str, spec: &CacheSpec) -> Option<View> {
        let top: Members<'_> = serde_json::from_str(text).ok()?;
        let meta: MetaView<'_> = match top.get("metadata") {
            Some(raw) => serde_json::from_str(raw.get()).ok()?,
            None => MetaView {
                name: None,
                namespace: None,
                labels: None,
            },
        };
        let name = meta.name.map(|c| c.into_owned()).unwrap_or_default();
        let namespace = meta.namespace.map(|c| c.into_owned()).unwrap_or_default();
        // A BTreeMap iterates sorted, which is the order the cache keeps labels in.
        let labels: Vec<(String, String)> = meta.labels.unwrap_or_default().into_iter().collect();
        let mut fields = Vec::with_capacity(2 + spec.fields.len());
        fields.push(("metadata.name", name.clone()));
        if spec.namespaced {
            fields.push(("metadata.namespace", namespace.clone()));
        }
        // Second-level objects parsed once each, however many fields read them.
        let mut sections: Vec<(&str, Option<Members<'_>>)> = Vec::new();
        for f in spec.fields {
            let value = match f.path() {
                [] => None,
                [key] => top.get(key).map(|raw| raw.get()),
                [section, key] => {
                    let idx = match sections.iter().position(|(s, _)| s == section) {
                        Some(i) => i,
                        None => {
                            let parsed = top
                                .get(section)
                                .and_then(|raw| serde_json::from_str(raw.get()).ok());
                            sections.push((section, parsed));
                            sections.len() - 1
                        }
                    };
                    sections[idx]
                        .1
                        .as_ref()
                        .and_then(|m| m.get(key))
                        .map(|raw| raw.get())
                }
                _ => return None,
            };
            let leaf: Option<Value> = value.and_then(|v| serde_json::from_str(v).ok());
            fields.push((f.name, f.stringify(leaf.as_ref())));
        }
        Some(View {
            name,
            namespace,
            labels,
            fields,
        })
    }

    /// Reads an object the writer already holds parsed (or a full parse produced).
    pub(crate) fn of_object(obj: &serde_json::Map<String, Value>, spec: &CacheSpec) -> View {
        let meta = obj.get("metadata");
        let meta_str = |f: &str| {
            meta.and_then(|m| m.get(f))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let name = meta_str("name");
        let namespace = meta_str("namespace");
        let mut labels: Vec<(String, String)> = meta
            .and_then(|m| m.get("labels"))
            .and_then(Value::as_object)
            .map(|l| {
                l.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        labels.sort();
        let mut fields: Vec<(&'static str, String)> = Vec::with_capacity(2 + spec.fields.len());
        fields.push(("metadata.name", name.clone()));
        if spec.namespaced {
            fields.push(("metadata.namespace", namespace.clone()));
        }
        for f in spec.fields {
            fields.push((f.name, f.extract(obj)));
        }
        View {
            name,
            namespace,
            labels,
            fields,
        }
    }
}

impl CachedObject {
    pub(crate) fn from_kv(kv: &KeyValue, spec: &CacheSpec) -> Result<Self, DecodeError> {
        let served = object::with_resource_version(&kv.value, kv.mod_revision)?;
        let fast = std::str::from_utf8(&kv.value)
            .ok()
            .and_then(|text| View::fast(text, spec));
        let view = match fast {
            Some(v) => v,
            None => match serde_json::from_slice(&kv.value)? {
                Value::Object(obj) => View::of_object(&obj, spec),
                _ => View::of_object(&serde_json::Map::new(), spec),
            },
        };
        Ok(Self::from_view(view, served))
    }

    /// A cached object from a view its writer already computed (no parse).
    pub(crate) fn from_view(view: View, served: Served) -> Self {
        CachedObject {
            name: view.name,
            namespace: view.namespace,
            labels: view.labels.into_boxed_slice(),
            fields: view.fields.into_boxed_slice(),
            served,
        }
    }

    /// The served JSON.
    pub(crate) fn bytes(&self) -> &Bytes {
        &self.served.bytes
    }

    /// Labels, for selector matching.
    pub(crate) fn label_set(&self) -> &[(String, String)] {
        &self.labels
    }

    /// The value of one selectable field.
    pub(crate) fn field(&self, name: &str) -> Option<&str> {
        Fields::get(self.field_set(), name)
    }

    /// Fields, for selector matching.
    pub(crate) fn field_set(&self) -> &[(&'static str, String)] {
        &self.fields
    }
}

impl Labels for CachedObject {
    fn get(&self, key: &str) -> Option<&str> {
        Labels::get(self.label_set(), key)
    }
}

impl Fields for CachedObject {
    fn get(&self, field: &str) -> Option<&str> {
        Fields::get(self.field_set(), field)
    }
}

/// The type of a watch event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change of the resource, as the history keeps it.
#[derive(Debug)]
pub(crate) struct CachedEvent {
    pub(crate) kind: EventType,
    pub(crate) revision: Revision,
    /// The object after the change; for a delete, its last state.
    pub(crate) object: Arc<CachedObject>,
    /// The object before the change (for selector transitions).
    pub(crate) prev: Option<Arc<CachedObject>>,
    /// The event's own watch line, built on first use and shared by every watcher
    /// that sees the event as it is.
    line: OnceLock<Bytes>,
    /// For deletes and for watchers that see a modification as leaving their
    /// selector: the previous state at this event's revision.
    prev_at_revision: OnceLock<Bytes>,
}

impl CachedEvent {
    pub(crate) fn new(
        kind: EventType,
        revision: Revision,
        object: Arc<CachedObject>,
        prev: Option<Arc<CachedObject>>,
    ) -> Self {
        CachedEvent {
            kind,
            revision,
            object,
            prev,
            line: OnceLock::new(),
            prev_at_revision: OnceLock::new(),
        }
    }

    /// The bytes a DELETED event carries: the last known state, at this revision.
    pub(crate) fn deleted_object(&self) -> &Bytes {
        self.prev_at_revision.get_or_init(|| {
            let last = self.prev.as_ref().unwrap_or(&self.object);
            last.served.at_revision(self.revision).bytes
        })
    }

    /// The event as a watch line of its own type.
    pub(crate) fn line(&self) -> &Bytes {
        self.line.get_or_init(|| {
            let obj = match self.kind {
                EventType::Deleted => self.deleted_object().clone(),
                _ => self.object.bytes().clone(),
            };
            watch_line(self.kind.as_str(), &obj)
        })
    }
}

/// `{"type":"<TYPE>","object":<object>}\n`
pub(crate) fn watch_line(kind: &str, object: &[u8]) -> Bytes {
    let mut buf = BytesMut::with_capacity(object.len() + 32);
    buf.extend_from_slice(b"{\"type\":\"");
    buf.extend_from_slice(kind.as_bytes());
    buf.extend_from_slice(b"\",\"object\":");
    buf.extend_from_slice(object);
    buf.extend_from_slice(b"}\n");
    buf.freeze()
}
