//! The wire forms of `events.k8s.io/v1` and core `v1` Events, defined here with serde
//! so that this library does not pick a k8s-openapi version for its users.

use std::borrow::Cow;

use kubeforge_client::api::{MetaRef, Resource};
use kubeforge_client::core::{ObjectMeta, Scope};
use serde::{Deserialize, Serialize};

/// A reference to the object an event is about (core `v1` `ObjectReference`).
///
/// Build one from any object with [`ObjectReference::from_object`] or
/// [`ObjectReference::from_object_with`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectReference {
    /// `apiVersion` of the referent (`apps/v1`, `v1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Kind of the referent (`Deployment`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Namespace of the referent; `None` for cluster-scoped objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name of the referent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// UID of the referent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// The resourceVersion of the referent the event was about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    /// A part of the referent (`spec.containers{web}`), when the event is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_path: Option<String>,
}

impl ObjectReference {
    /// A reference to `obj`, a statically typed resource (k8s-openapi types, custom
    /// resources): apiVersion, kind, namespace, name, uid and resourceVersion.
    pub fn from_object<K: Resource<DynamicType = ()>>(obj: &K) -> Self {
        Self::from_object_with(obj, &())
    }

    /// A reference to `obj`, whose type is described by `dt` at run time
    /// ([`DynamicObject`](kubeforge_client::api::DynamicObject) and friends).
    pub fn from_object_with<K: Resource>(obj: &K, dt: &K::DynamicType) -> Self {
        let meta: MetaRef<'_> = obj.meta();
        ObjectReference {
            api_version: Some(K::api_version(dt).into_owned()),
            kind: Some(K::kind(dt).into_owned()),
            namespace: meta.namespace.map(str::to_owned),
            name: meta.name.map(str::to_owned),
            uid: meta.uid.map(str::to_owned),
            resource_version: meta.resource_version.map(str::to_owned),
            field_path: None,
        }
    }

    /// The same reference, narrowed to a part of the object (`spec.containers{web}`).
    pub fn with_field_path(mut self, field_path: impl Into<String>) -> Self {
        self.field_path = Some(field_path.into());
        self
    }
}

/// `series` of an `events.k8s.io/v1` Event: how often an isomorphic event recurred.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventSeries {
    /// Occurrences so far, the first included (the server requires at least 2).
    pub count: i32,
    /// When the last occurrence was seen (MicroTime, RFC 3339 with microseconds).
    pub last_observed_time: String,
}

/// `deprecatedSource` / `source` of an Event: who reported it (core `v1` style).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSource {
    /// The reporting component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    /// The host it runs on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

fn events_v1_api_version() -> String {
    "events.k8s.io/v1".to_owned()
}

fn event_kind() -> String {
    "Event".to_owned()
}

fn core_v1_api_version() -> String {
    "v1".to_owned()
}

/// An `events.k8s.io/v1` Event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// Always `events.k8s.io/v1`.
    #[serde(default = "events_v1_api_version")]
    pub api_version: String,
    /// Always `Event`.
    #[serde(default = "event_kind")]
    pub kind: String,
    /// Name (`<regarding>.<hex nanoseconds>`) and namespace.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// When the event was first observed (MicroTime).
    #[serde(default)]
    pub event_time: String,
    /// Recurrences, when there were any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<EventSeries>,
    /// The controller that emitted the event (`example.com/my-controller`).
    #[serde(default)]
    pub reporting_controller: String,
    /// The instance of that controller (`my-controller-7d9f-x2`).
    #[serde(default)]
    pub reporting_instance: String,
    /// What was done, or failed, to the regarding object (`Scale`, `Sync`).
    #[serde(default)]
    pub action: String,
    /// Why, in UpperCamelCase (`ScalingReplicaSet`, `FailedSync`).
    #[serde(default)]
    pub reason: String,
    /// The object the event is about.
    #[serde(default)]
    pub regarding: ObjectReference,
    /// A second object involved, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related: Option<ObjectReference>,
    /// Human-readable description (at most 1 KiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// `Normal` or `Warning`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// Core `v1` compatibility: the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecated_source: Option<EventSource>,
    /// Core `v1` compatibility: the first occurrence (second precision).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecated_first_timestamp: Option<String>,
    /// Core `v1` compatibility: the last occurrence (second precision).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecated_last_timestamp: Option<String>,
    /// Core `v1` compatibility: the count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecated_count: Option<i32>,
}

impl Resource for Event {
    type DynamicType = ();

    fn kind(_: &()) -> Cow<'_, str> {
        Cow::Borrowed("Event")
    }
    fn group(_: &()) -> Cow<'_, str> {
        Cow::Borrowed("events.k8s.io")
    }
    fn version(_: &()) -> Cow<'_, str> {
        Cow::Borrowed("v1")
    }
    fn plural(_: &()) -> Cow<'_, str> {
        Cow::Borrowed("events")
    }
    fn scope(_: &()) -> Scope {
        Scope::Namespaced
    }
    fn meta(&self) -> MetaRef<'_> {
        MetaRef::from(&self.metadata)
    }
    fn clear_managed_fields(&mut self) {
        self.metadata.managed_fields = None;
    }
}

/// A core `v1` Event (the API before `events.k8s.io`, still served everywhere).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CoreEvent {
    /// Always `v1`.
    #[serde(default = "core_v1_api_version")]
    pub api_version: String,
    /// Always `Event`.
    #[serde(default = "event_kind")]
    pub kind: String,
    /// Name (`<involvedObject>.<hex nanoseconds>`) and namespace.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The object the event is about.
    #[serde(default)]
    pub involved_object: ObjectReference,
    /// Why, in UpperCamelCase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Human-readable description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Who reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<EventSource>,
    /// The first occurrence (RFC 3339, seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_timestamp: Option<String>,
    /// The last occurrence (RFC 3339, seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_timestamp: Option<String>,
    /// How often it occurred.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<i32>,
    /// `Normal` or `Warning`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// When it was first observed (MicroTime); set by newer clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_time: Option<String>,
    /// What was done (`Scale`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// A second object involved, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related: Option<ObjectReference>,
    /// The reporting controller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporting_component: Option<String>,
    /// The instance of that controller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporting_instance: Option<String>,
}

impl Resource for CoreEvent {
    type DynamicType = ();

    fn kind(_: &()) -> Cow<'_, str> {
        Cow::Borrowed("Event")
    }
    fn group(_: &()) -> Cow<'_, str> {
        Cow::Borrowed("")
    }
    fn version(_: &()) -> Cow<'_, str> {
        Cow::Borrowed("v1")
    }
    fn plural(_: &()) -> Cow<'_, str> {
        Cow::Borrowed("events")
    }
    fn scope(_: &()) -> Scope {
        Scope::Namespaced
    }
    fn meta(&self) -> MetaRef<'_> {
        MetaRef::from(&self.metadata)
    }
    fn clear_managed_fields(&mut self) {
        self.metadata.managed_fields = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_round_trips_with_wire_field_names() {
        let json = serde_json::json!({
            "apiVersion": "events.k8s.io/v1",
            "kind": "Event",
            "metadata": {"name": "web.1", "namespace": "default"},
            "eventTime": "2024-03-05T07:08:09.000000Z",
            "series": {"count": 2, "lastObservedTime": "2024-03-05T07:08:10.000000Z"},
            "reportingController": "example.com/c",
            "reportingInstance": "c-0",
            "action": "Sync",
            "reason": "Synced",
            "regarding": {"apiVersion": "v1", "kind": "ConfigMap", "name": "web", "namespace": "default"},
            "note": "ok",
            "type": "Normal"
        });
        let event: Event = serde_json::from_value(json.clone()).expect("decodes");
        assert_eq!(event.series.as_ref().map(|s| s.count), Some(2));
        assert_eq!(serde_json::to_value(&event).expect("encodes"), json);
    }
}
