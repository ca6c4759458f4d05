//! Subresource bodies: [`Scale`] (`autoscaling/v1`).

use serde::{Deserialize, Serialize};

use crate::core::ObjectMeta;

/// The `scale` subresource (`autoscaling/v1 Scale`): a replica count to set and the
/// count and selector observed. Defined here so that scaling works without
/// k8s-openapi.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Scale {
    /// `autoscaling/v1`.
    #[serde(rename = "apiVersion", default = "scale_api_version")]
    pub api_version: String,
    /// `Scale`.
    #[serde(default = "scale_kind")]
    pub kind: String,
    /// The scaled object's metadata (name, namespace, resourceVersion).
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The desired replica count.
    #[serde(default)]
    pub spec: ScaleSpec,
    /// The observed state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ScaleStatus>,
}

fn scale_api_version() -> String {
    "autoscaling/v1".to_owned()
}

fn scale_kind() -> String {
    "Scale".to_owned()
}

/// `Scale.spec`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ScaleSpec {
    /// Desired replicas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
}

/// `Scale.status`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ScaleStatus {
    /// Observed replicas.
    #[serde(default)]
    pub replicas: i32,
    /// The label selector of the pods, as a string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
}
