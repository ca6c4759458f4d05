//! Selectable fields per kind: what `?fieldSelector=` may name beyond `metadata.name`
//! (and `metadata.namespace` for namespaced kinds), and how each is read from an
//! object.
//!
//! An absent field reads as the Go zero value of its type (`""`, `"false"`, `"0"`),
//! because upstream builds field sets from typed objects where nothing is absent:
//! `spec.nodeName=` selects unscheduled pods, `spec.unschedulable=false` selects nodes
//! that never set it.

use serde_json::Value;

/// One selectable field.
#[derive(Debug)]
pub(crate) struct FieldSpec {
    /// The selector name (`spec.nodeName`).
    pub(crate) name: &'static str,
    /// Where the value lives in the object; empty for a name upstream accepts but
    /// never fills (it always reads as the default).
    path: &'static [&'static str],
    /// The value when the field is absent.
    default: &'static str,
}

impl FieldSpec {
    const fn new(name: &'static str, path: &'static [&'static str], default: &'static str) -> Self {
        FieldSpec {
            name,
            path,
            default,
        }
    }

    /// Where the value lives (empty: nowhere, always the default).
    pub(crate) fn path(&self) -> &'static [&'static str] {
        self.path
    }

    /// The field's value in `obj`, stringified as upstream does.
    pub(crate) fn extract(&self, obj: &serde_json::Map<String, Value>) -> String {
        let Some((first, rest)) = self.path.split_first() else {
            return self.default.to_owned();
        };
        let mut v = match obj.get(*first) {
            Some(v) => v,
            None => return self.default.to_owned(),
        };
        for p in rest {
            match v.get(p) {
                Some(next) => v = next,
                None => return self.default.to_owned(),
            }
        }
        self.stringify(Some(v))
    }

    /// A leaf value stringified as upstream does; absent or non-scalar: the default.
    pub(crate) fn stringify(&self, leaf: Option<&Value>) -> String {
        match leaf {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Bool(b)) => b.to_string(),
            Some(Value::Number(n)) => n.to_string(),
            _ => self.default.to_owned(),
        }
    }
}

const S: &str = "";

static POD: &[FieldSpec] = &[
    FieldSpec::new("spec.nodeName", &["spec", "nodeName"], S),
    FieldSpec::new("spec.restartPolicy", &["spec", "restartPolicy"], S),
    FieldSpec::new("spec.schedulerName", &["spec", "schedulerName"], S),
    FieldSpec::new(
        "spec.serviceAccountName",
        &["spec", "serviceAccountName"],
        S,
    ),
    FieldSpec::new("spec.hostNetwork", &["spec", "hostNetwork"], "false"),
    FieldSpec::new("status.phase", &["status", "phase"], S),
    FieldSpec::new("status.podIP", &["status", "podIP"], S),
    // Accepted by upstream's field label conversion but never filled in its field set.
    FieldSpec::new("status.podIPs", &[], S),
    FieldSpec::new(
        "status.nominatedNodeName",
        &["status", "nominatedNodeName"],
        S,
    ),
];

static NODE: &[FieldSpec] = &[FieldSpec::new(
    "spec.unschedulable",
    &["spec", "unschedulable"],
    "false",
)];

static REPLICAS: &[FieldSpec] = &[FieldSpec::new(
    "status.replicas",
    &["status", "replicas"],
    "0",
)];

static EVENT: &[FieldSpec] = &[
    FieldSpec::new("involvedObject.kind", &["involvedObject", "kind"], S),
    FieldSpec::new(
        "involvedObject.namespace",
        &["involvedObject", "namespace"],
        S,
    ),
    FieldSpec::new("involvedObject.name", &["involvedObject", "name"], S),
    FieldSpec::new("involvedObject.uid", &["involvedObject", "uid"], S),
    FieldSpec::new(
        "involvedObject.apiVersion",
        &["involvedObject", "apiVersion"],
        S,
    ),
    FieldSpec::new(
        "involvedObject.resourceVersion",
        &["involvedObject", "resourceVersion"],
        S,
    ),
    FieldSpec::new(
        "involvedObject.fieldPath",
        &["involvedObject", "fieldPath"],
        S,
    ),
    FieldSpec::new("reason", &["reason"], S),
    FieldSpec::new("reportingComponent", &["reportingComponent"], S),
    FieldSpec::new("source", &["source", "component"], S),
    FieldSpec::new("type", &["type"], S),
];

static NAMESPACE: &[FieldSpec] = &[
    FieldSpec::new("status.phase", &["status", "phase"], S),
    // Upstream keeps this alias of metadata.name for compatibility.
    FieldSpec::new("name", &["metadata", "name"], S),
];

static SECRET: &[FieldSpec] = &[FieldSpec::new("type", &["type"], S)];

static SERVICE: &[FieldSpec] = &[
    FieldSpec::new("spec.clusterIP", &["spec", "clusterIP"], S),
    FieldSpec::new("spec.type", &["spec", "type"], S),
];

static JOB: &[FieldSpec] = &[FieldSpec::new(
    "status.successful",
    &["status", "successful"],
    "0",
)];

static CSR: &[FieldSpec] = &[FieldSpec::new(
    "spec.signerName",
    &["spec", "signerName"],
    S,
)];

/// The selectable fields of a kind beyond the metadata ones, and whether the kind has
/// its own field-label conversion upstream (which decides the wording of the error
/// for an unsupported field).
pub(crate) fn selectable_fields(group: &str, kind: &str) -> (&'static [FieldSpec], bool) {
    match (group, kind) {
        ("", "Pod") => (POD, true),
        ("", "Node") => (NODE, true),
        ("", "ReplicationController") => (REPLICAS, true),
        ("", "Event") => (EVENT, true),
        ("", "Namespace") => (NAMESPACE, true),
        ("", "Secret") => (SECRET, true),
        ("", "Service") => (SERVICE, true),
        ("apps", "ReplicaSet") => (REPLICAS, true),
        ("batch", "Job") => (JOB, true),
        ("certificates.k8s.io", "CertificateSigningRequest") => (CSR, true),
        _ => (&[], false),
    }
}

/// Old field names upstream still accepts, mapped to their current ones.
pub(crate) fn legacy_alias(group: &str, kind: &str, field: &str) -> Option<&'static str> {
    match (group, kind, field) {
        ("", "Pod", "spec.host") => Some("spec.nodeName"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> serde_json::Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn absent_fields_read_as_zero_values() {
        let pod = obj(json!({"spec": {"nodeName": "n1"}, "status": {"phase": "Running"}}));
        let (fields, _) = selectable_fields("", "Pod");
        let got: Vec<(&str, String)> = fields.iter().map(|f| (f.name, f.extract(&pod))).collect();
        assert!(got.contains(&("spec.nodeName", "n1".into())));
        assert!(got.contains(&("spec.hostNetwork", "false".into())));
        assert!(got.contains(&("status.phase", "Running".into())));
        assert!(got.contains(&("spec.schedulerName", String::new())));
        let job = obj(json!({"status": {"successful": 3}}));
        assert_eq!(selectable_fields("batch", "Job").0[0].extract(&job), "3");
        assert_eq!(
            selectable_fields("batch", "Job").0[0].extract(&obj(json!({}))),
            "0"
        );
        let ev = obj(json!({"source": {"component": "kubelet"}}));
        let source = EVENT.iter().find(|f| f.name == "source").expect("source");
        assert_eq!(source.extract(&ev), "kubelet");
    }
}
