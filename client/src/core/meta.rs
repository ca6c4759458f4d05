//! Object metadata: typed [`ObjectMeta`] / [`ListMeta`] as the API serializes them, and
//! [`ObjectMetaExt`] for reading metadata straight out of a JSON object without
//! decoding it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `apiVersion` and `kind` of an object.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TypeMeta {
    /// The object's `apiVersion` (`v1`, `apps/v1`).
    #[serde(
        rename = "apiVersion",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub api_version: String,
    /// The object's kind.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
}

/// A reference from a dependent object to its owner (garbage collection).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OwnerReference {
    /// API version of the owner.
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// Kind of the owner.
    pub kind: String,
    /// Name of the owner.
    pub name: String,
    /// UID of the owner.
    pub uid: String,
    /// Whether the owner is the managing controller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<bool>,
    /// Whether the owner cannot be deleted before this dependent (foreground deletion).
    #[serde(
        rename = "blockOwnerDeletion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub block_owner_deletion: Option<bool>,
}

/// One entry of `metadata.managedFields` (server-side apply bookkeeping).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ManagedFieldsEntry {
    /// The field manager.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub manager: String,
    /// `Apply` or `Update`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub operation: String,
    /// API version of the fields.
    #[serde(
        rename = "apiVersion",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub api_version: String,
    /// When the entry last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// Always `FieldsV1`.
    #[serde(
        rename = "fieldsType",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub fields_type: String,
    /// The owned field set.
    #[serde(rename = "fieldsV1", default, skip_serializing_if = "Option::is_none")]
    pub fields_v1: Option<Value>,
    /// The subresource the write went through, if any.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub subresource: String,
}

/// Metadata every persisted object carries (`metadata` of `meta.k8s.io/v1 ObjectMeta`).
///
/// Fields serialize in the order the API writes them and are left out when empty, so a
/// decoded-then-encoded metadata block looks as the apiserver would print it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    /// Name, unique within a namespace (or the cluster, for cluster-scoped kinds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Prefix the server completes to a unique name when `name` is empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generate_name: Option<String>,
    /// Namespace of a namespaced object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Deprecated; never set by current servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_link: Option<String>,
    /// Unique id for the lifetime of the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// Opaque version for optimistic concurrency and watches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    /// Sequence number of spec changes, for kinds that track it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
    /// RFC 3339 time of creation (second precision).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<String>,
    /// RFC 3339 time after which the object is deleted; set by a delete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_timestamp: Option<String>,
    /// Grace period of a pending deletion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_grace_period_seconds: Option<i64>,
    /// Labels (selectable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// Annotations (not selectable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Owners, for garbage collection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_references: Option<Vec<OwnerReference>>,
    /// Finalizers that must be removed before the object goes away.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finalizers: Option<Vec<String>>,
    /// Server-side apply bookkeeping.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_fields: Option<Vec<ManagedFieldsEntry>>,
}

/// Metadata of a list (`meta.k8s.io/v1 ListMeta`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListMeta {
    /// Deprecated; never set by current servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_link: Option<String>,
    /// The resourceVersion the list is consistent at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    /// Token for the next page, if more items exist.
    #[serde(rename = "continue", default, skip_serializing_if = "Option::is_none")]
    pub continue_token: Option<String>,
    /// How many items remain after this page (only without selectors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining_item_count: Option<i64>,
}

/// Read-only access to the metadata of an object held as JSON.
///
/// The server keeps objects as JSON; these accessors read `metadata.*` in place.
/// Missing or mistyped fields read as absent.
pub trait ObjectMetaExt {
    /// The object's `metadata` map.
    fn metadata(&self) -> Option<&serde_json::Map<String, Value>>;

    /// A string field of `metadata`.
    fn meta_str(&self, field: &str) -> Option<&str> {
        self.metadata()?.get(field)?.as_str()
    }

    /// `metadata.name`.
    fn name(&self) -> Option<&str> {
        self.meta_str("name")
    }

    /// `metadata.namespace`.
    fn namespace(&self) -> Option<&str> {
        self.meta_str("namespace")
    }

    /// `metadata.uid`.
    fn uid(&self) -> Option<&str> {
        self.meta_str("uid")
    }

    /// `metadata.resourceVersion`.
    fn resource_version(&self) -> Option<&str> {
        self.meta_str("resourceVersion")
    }

    /// `metadata.labels` (absent or mistyped: none).
    fn labels(&self) -> Option<&serde_json::Map<String, Value>> {
        self.metadata()?.get("labels")?.as_object()
    }

    /// One label's value.
    fn label(&self, key: &str) -> Option<&str> {
        self.labels()?.get(key)?.as_str()
    }

    /// `apiVersion`.
    fn api_version(&self) -> Option<&str>;

    /// `kind`.
    fn kind(&self) -> Option<&str>;
}

impl ObjectMetaExt for Value {
    fn metadata(&self) -> Option<&serde_json::Map<String, Value>> {
        self.get("metadata")?.as_object()
    }

    fn api_version(&self) -> Option<&str> {
        self.get("apiVersion")?.as_str()
    }

    fn kind(&self) -> Option<&str> {
        self.get("kind")?.as_str()
    }
}

impl ObjectMetaExt for serde_json::Map<String, Value> {
    fn metadata(&self) -> Option<&serde_json::Map<String, Value>> {
        self.get("metadata")?.as_object()
    }

    fn api_version(&self) -> Option<&str> {
        self.get("apiVersion")?.as_str()
    }

    fn kind(&self) -> Option<&str> {
        self.get("kind")?.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn object_meta_serializes_in_api_order_without_empty_fields() {
        let meta = ObjectMeta {
            name: Some("a".into()),
            namespace: Some("ns".into()),
            uid: Some("u".into()),
            labels: Some(BTreeMap::from([("k".to_owned(), "v".to_owned())])),
            ..ObjectMeta::default()
        };
        assert_eq!(
            serde_json::to_string(&meta).expect("encode"),
            r#"{"name":"a","namespace":"ns","uid":"u","labels":{"k":"v"}}"#
        );
    }

    #[test]
    fn json_accessors_tolerate_missing_and_mistyped_fields() {
        let obj =
            json!({"kind": "ConfigMap", "metadata": {"name": "a", "labels": {"x": "1", "y": 2}}});
        assert_eq!(obj.name(), Some("a"));
        assert_eq!(obj.namespace(), None);
        assert_eq!(obj.label("x"), Some("1"));
        assert_eq!(obj.label("y"), None);
        assert_eq!(obj.kind(), Some("ConfigMap"));
        assert_eq!(json!({"metadata": 3}).name(), None);
    }
}
