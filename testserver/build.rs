//! Generates the schemas of every built-in kind the server serves, from k8s-openapi's
//! `schemars` output (a build-dependency with its own Kubernetes version feature, so
//! it never reaches the library's users), into one JSON document the crate embeds:
//!
//! ```text
//! {"definitions": {"io.k8s.api.core.v1.Pod": <JSON schema>, ...},
//!  "roots": [["", "v1", "Pod", "io.k8s.api.core.v1.Pod"], ...]}
//! ```
//!
//! References are rewritten from `#/$defs/<name>` to `<name>`. List and map merge
//! semantics are not in these schemas; the crate adds them from its own table.

use std::collections::BTreeMap;

use serde_json::{Value, json};

struct Collector {
    definitions: BTreeMap<String, Value>,
    roots: Vec<Value>,
}

fn strip_refs(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get_mut("$ref")
                && let Some(name) = r.strip_prefix("#/$defs/")
            {
                *r = name.to_owned();
            }
            for (_, child) in m.iter_mut() {
                strip_refs(child);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(strip_refs),
        _ => {}
    }
}

impl Collector {
    fn add<T: schemars::JsonSchema>(&mut self, group: &str, version: &str, kind: &str) {
        let schema = schemars::schema_for!(T);
        let mut root = serde_json::to_value(&schema).unwrap_or(Value::Null);
        strip_refs(&mut root);
        let Value::Object(mut root) = root else {
            return;
        };
        if let Some(Value::Object(defs)) = root.remove("$defs") {
            self.definitions.extend(defs);
        }
        root.remove("$schema");
        let name = root
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or(kind)
            .to_owned();
        root.remove("title");
        self.definitions.insert(name.clone(), Value::Object(root));
        self.roots.push(json!([group, version, kind, name]));
    }
}

macro_rules! kinds {
    ($c:ident; $( $group:literal $version:literal $kind:literal => $path:path ;)*) => {
        $( $c.add::<$path>($group, $version, $kind); )*
    };
}

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let mut c = Collector {
        definitions: BTreeMap::new(),
        roots: Vec::new(),
    };
    use k8s_openapi::api as a;
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiext;
    use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1 as apireg;
    kinds! { c;
        "" "v1" "Binding" => a::core::v1::Binding;
        "" "v1" "ComponentStatus" => a::core::v1::ComponentStatus;
        "" "v1" "ConfigMap" => a::core::v1::ConfigMap;
        "" "v1" "Endpoints" => a::core::v1::Endpoints;
        "" "v1" "Event" => a::core::v1::Event;
        "" "v1" "LimitRange" => a::core::v1::LimitRange;
        "" "v1" "Namespace" => a::core::v1::Namespace;
        "" "v1" "Node" => a::core::v1::Node;
        "" "v1" "PersistentVolumeClaim" => a::core::v1::PersistentVolumeClaim;
        "" "v1" "PersistentVolume" => a::core::v1::PersistentVolume;
        "" "v1" "Pod" => a::core::v1::Pod;
        "" "v1" "PodTemplate" => a::core::v1::PodTemplate;
        "" "v1" "ReplicationController" => a::core::v1::ReplicationController;
        "" "v1" "ResourceQuota" => a::core::v1::ResourceQuota;
        "" "v1" "Secret" => a::core::v1::Secret;
        "" "v1" "ServiceAccount" => a::core::v1::ServiceAccount;
        "" "v1" "Service" => a::core::v1::Service;
        "apiregistration.k8s.io" "v1" "APIService" => apireg::APIService;
        "apps" "v1" "ControllerRevision" => a::apps::v1::ControllerRevision;
        "apps" "v1" "DaemonSet" => a::apps::v1::DaemonSet;
        "apps" "v1" "Deployment" => a::apps::v1::Deployment;
        "apps" "v1" "ReplicaSet" => a::apps::v1::ReplicaSet;
        "apps" "v1" "StatefulSet" => a::apps::v1::StatefulSet;
        "events.k8s.io" "v1" "Event" => a::events::v1::Event;
        "authentication.k8s.io" "v1" "SelfSubjectReview" => a::authentication::v1::SelfSubjectReview;
        "authentication.k8s.io" "v1" "TokenReview" => a::authentication::v1::TokenReview;
        "authentication.k8s.io" "v1" "TokenRequest" => a::authentication::v1::TokenRequest;
        "authorization.k8s.io" "v1" "LocalSubjectAccessReview" => a::authorization::v1::LocalSubjectAccessReview;
        "authorization.k8s.io" "v1" "SelfSubjectAccessReview" => a::authorization::v1::SelfSubjectAccessReview;
        "authorization.k8s.io" "v1" "SelfSubjectRulesReview" => a::authorization::v1::SelfSubjectRulesReview;
        "authorization.k8s.io" "v1" "SubjectAccessReview" => a::authorization::v1::SubjectAccessReview;
        "autoscaling" "v2" "HorizontalPodAutoscaler" => a::autoscaling::v2::HorizontalPodAutoscaler;
        "autoscaling" "v1" "HorizontalPodAutoscaler" => a::autoscaling::v1::HorizontalPodAutoscaler;
        "autoscaling" "v1" "Scale" => a::autoscaling::v1::Scale;
        "batch" "v1" "CronJob" => a::batch::v1::CronJob;
        "batch" "v1" "Job" => a::batch::v1::Job;
        "certificates.k8s.io" "v1" "CertificateSigningRequest" => a::certificates::v1::CertificateSigningRequest;
        "networking.k8s.io" "v1" "IngressClass" => a::networking::v1::IngressClass;
        "networking.k8s.io" "v1" "Ingress" => a::networking::v1::Ingress;
        "networking.k8s.io" "v1" "IPAddress" => a::networking::v1::IPAddress;
        "networking.k8s.io" "v1" "NetworkPolicy" => a::networking::v1::NetworkPolicy;
        "networking.k8s.io" "v1" "ServiceCIDR" => a::networking::v1::ServiceCIDR;
        "policy" "v1" "PodDisruptionBudget" => a::policy::v1::PodDisruptionBudget;
        "policy" "v1" "Eviction" => a::policy::v1::Eviction;
        "rbac.authorization.k8s.io" "v1" "ClusterRoleBinding" => a::rbac::v1::ClusterRoleBinding;
        "rbac.authorization.k8s.io" "v1" "ClusterRole" => a::rbac::v1::ClusterRole;
        "rbac.authorization.k8s.io" "v1" "RoleBinding" => a::rbac::v1::RoleBinding;
        "rbac.authorization.k8s.io" "v1" "Role" => a::rbac::v1::Role;
        "storage.k8s.io" "v1" "CSIDriver" => a::storage::v1::CSIDriver;
        "storage.k8s.io" "v1" "CSINode" => a::storage::v1::CSINode;
        "storage.k8s.io" "v1" "CSIStorageCapacity" => a::storage::v1::CSIStorageCapacity;
        "storage.k8s.io" "v1" "StorageClass" => a::storage::v1::StorageClass;
        "storage.k8s.io" "v1" "VolumeAttachment" => a::storage::v1::VolumeAttachment;
        "admissionregistration.k8s.io" "v1" "MutatingWebhookConfiguration" => a::admissionregistration::v1::MutatingWebhookConfiguration;
        "admissionregistration.k8s.io" "v1" "ValidatingAdmissionPolicy" => a::admissionregistration::v1::ValidatingAdmissionPolicy;
        "admissionregistration.k8s.io" "v1" "ValidatingAdmissionPolicyBinding" => a::admissionregistration::v1::ValidatingAdmissionPolicyBinding;
        "admissionregistration.k8s.io" "v1" "ValidatingWebhookConfiguration" => a::admissionregistration::v1::ValidatingWebhookConfiguration;
        "apiextensions.k8s.io" "v1" "CustomResourceDefinition" => apiext::CustomResourceDefinition;
        "scheduling.k8s.io" "v1" "PriorityClass" => a::scheduling::v1::PriorityClass;
        "coordination.k8s.io" "v1" "Lease" => a::coordination::v1::Lease;
        "node.k8s.io" "v1" "RuntimeClass" => a::node::v1::RuntimeClass;
        "discovery.k8s.io" "v1" "EndpointSlice" => a::discovery::v1::EndpointSlice;
        "flowcontrol.apiserver.k8s.io" "v1" "FlowSchema" => a::flowcontrol::v1::FlowSchema;
        "flowcontrol.apiserver.k8s.io" "v1" "PriorityLevelConfiguration" => a::flowcontrol::v1::PriorityLevelConfiguration;
    }
    let doc = json!({"definitions": c.definitions, "roots": c.roots});
    let out = std::env::var("OUT_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_default();
    let bytes = serde_json::to_vec(&doc).unwrap_or_default();
    if let Err(e) = std::fs::write(out.join("builtin_schemas.json"), bytes) {
        panic!("cannot write the generated schemas: {e}");
    }
}
