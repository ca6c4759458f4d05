//! Conversion between a resource's served version and the version it is stored as.
//!
//! Almost every built-in kind is served in the version it is stored in. Two are not:
//! `autoscaling/v1` HorizontalPodAutoscalers share storage with `autoscaling/v2` (the
//! stored version), and `events.k8s.io/v1` Events share storage with core `v1` Events
//! (the stored version). Writes at the other version are converted to the stored one
//! before encoding; reads are converted back. What the older shape cannot express is
//! dropped on the way down — kube-apiserver keeps it in annotations; we do not, and
//! say so here.

use kubeforge_client::core::GroupVersionKind;
use serde_json::{Map, Value, json};

use super::Resource;

/// The kind a resource is stored as, when it differs from the served one.
pub(crate) fn stored_as(res: &Resource) -> Option<GroupVersionKind> {
    match (
        res.gvk.group.as_str(),
        res.gvk.version.as_str(),
        res.gvk.kind.as_str(),
    ) {
        ("autoscaling", "v1", "HorizontalPodAutoscaler") => Some(GroupVersionKind::new(
            "autoscaling",
            "v2",
            "HorizontalPodAutoscaler",
        )),
        ("events.k8s.io", "v1", "Event") => Some(GroupVersionKind::new("", "v1", "Event")),
        _ => None,
    }
}

fn set_type(obj: &mut Map<String, Value>, gvk: &GroupVersionKind) {
    obj.insert("apiVersion".into(), json!(gvk.api_version()));
    obj.insert("kind".into(), json!(gvk.kind));
}

fn rename(obj: &mut Map<String, Value>, from: &str, to: &str) {
    if let Some(v) = obj.remove(from) {
        obj.insert(to.into(), v);
    }
}

/// Converts an object in the served version of `res` to its stored version.
pub(crate) fn to_storage(res: &Resource, mut obj: Map<String, Value>) -> Map<String, Value> {
    let Some(stored) = stored_as(res) else {
        return obj;
    };
    match res.gvk.group.as_str() {
        "autoscaling" => hpa_v1_to_v2(&mut obj),
        "events.k8s.io" => {
            rename(&mut obj, "regarding", "involvedObject");
            rename(&mut obj, "note", "message");
            rename(&mut obj, "reportingController", "reportingComponent");
            rename(&mut obj, "deprecatedSource", "source");
            rename(&mut obj, "deprecatedFirstTimestamp", "firstTimestamp");
            rename(&mut obj, "deprecatedLastTimestamp", "lastTimestamp");
            rename(&mut obj, "deprecatedCount", "count");
        }
        _ => {}
    }
    set_type(&mut obj, &stored);
    obj
}

/// Converts a stored object to the served version of `res`.
pub(crate) fn from_storage(res: &Resource, mut obj: Map<String, Value>) -> Map<String, Value> {
    if stored_as(res).is_none() {
        return obj;
    }
    match res.gvk.group.as_str() {
        "autoscaling" => hpa_v2_to_v1(&mut obj),
        "events.k8s.io" => {
            rename(&mut obj, "involvedObject", "regarding");
            rename(&mut obj, "message", "note");
            rename(&mut obj, "reportingComponent", "reportingController");
            rename(&mut obj, "source", "deprecatedSource");
            rename(&mut obj, "firstTimestamp", "deprecatedFirstTimestamp");
            rename(&mut obj, "lastTimestamp", "deprecatedLastTimestamp");
            rename(&mut obj, "count", "deprecatedCount");
        }
        _ => {}
    }
    set_type(&mut obj, &res.gvk);
    obj
}

fn hpa_v1_to_v2(obj: &mut Map<String, Value>) {
    if let Some(Value::Object(spec)) = obj.get_mut("spec")
        && let Some(target) = spec.remove("targetCPUUtilizationPercentage")
    {
        spec.insert(
            "metrics".into(),
            json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": target}}}]),
        );
    }
    if let Some(Value::Object(status)) = obj.get_mut("status")
        && let Some(current) = status.remove("currentCPUUtilizationPercentage")
    {
        status.insert(
            "currentMetrics".into(),
            json!([{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": current}}}]),
        );
    }
}

fn cpu_utilization(metrics: Option<&Value>, side: &str) -> Option<Value> {
    metrics?.as_array()?.iter().find_map(|m| {
        let r = m.get("resource")?;
        (m.get("type")? == "Resource" && r.get("name")? == "cpu")
            .then(|| r.get(side)?.get("averageUtilization").cloned())
            .flatten()
    })
}

fn hpa_v2_to_v1(obj: &mut Map<String, Value>) {
    if let Some(Value::Object(spec)) = obj.get_mut("spec") {
        if let Some(t) = cpu_utilization(spec.get("metrics"), "target") {
            spec.insert("targetCPUUtilizationPercentage".into(), t);
        }
        spec.remove("metrics");
        spec.remove("behavior");
    }
    if let Some(Value::Object(status)) = obj.get_mut("status") {
        if let Some(c) = cpu_utilization(status.get("currentMetrics"), "current") {
            status.insert("currentCPUUtilizationPercentage".into(), c);
        }
        status.remove("currentMetrics");
        status.remove("conditions");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hpa_cpu_target_survives_a_round_trip() {
        let v1 = json!({"spec": {"maxReplicas": 3, "targetCPUUtilizationPercentage": 80}});
        let mut m = v1.as_object().cloned().expect("object");
        hpa_v1_to_v2(&mut m);
        assert_eq!(
            m["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
            80
        );
        hpa_v2_to_v1(&mut m);
        assert_eq!(Value::Object(m), v1);
    }
}
