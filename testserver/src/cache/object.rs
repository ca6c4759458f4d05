//! What the watch cache keeps per object and per event.

use std::sync::{Arc, OnceLock};

use bytes::{Bytes, BytesMut};
use kubeforge_client::core::selector::{Fields, Labels};
use serde_json::Value;

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

impl CachedObject {
    pub(crate) fn from_kv(kv: &KeyValue, spec: &CacheSpec) -> Result<Self, DecodeError> {
        let value: Value = serde_json::from_slice(&kv.value)?;
        let served = object::with_resource_version(&kv.value, kv.mod_revision)?;
        Ok(Self::from_value(&value, spec, served))
    }

    pub(crate) fn from_value(value: &Value, spec: &CacheSpec, served: Served) -> Self {
        let meta = value.get("metadata");
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
            fields.push((f.name, f.extract(value)));
        }
        CachedObject {
            name,
            namespace,
            labels: labels.into_boxed_slice(),
            fields: fields.into_boxed_slice(),
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
