//! What differs per kind on top of the generic store: name syntax, defaults the API
//! fills in on create, values the server computes (namespace phase, service IPs), and
//! kind-specific validation.
//!
//! Full schema-driven defaulting is the business of the schema layer; this module
//! covers the defaults that clients and `kubectl` output depend on from the first
//! request (a namespace's `kubernetes` finalizer and `Active` phase, a service's
//! cluster IP, a secret's type, a workload's replica count…).

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use base64::Engine;
use kubeforge_client::core::{FieldError, FieldValue, ObjectMeta};
use parking_lot::Mutex;
use serde_json::{Map, Value, json};

use super::Resource;
use super::validation::NameRule;

/// The label every namespace carries with its own name.
pub(crate) const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// The finalizer the namespace controller removes once a namespace is empty.
pub(crate) const NAMESPACE_FINALIZER: &str = "kubernetes";

/// ConfigMaps and Secrets may hold at most this many bytes of data.
const DATA_MAX_BYTES: usize = 1024 * 1024;

/// The syntax of a kind's object names.
pub(crate) fn name_rule(res: &Resource) -> NameRule {
    match (res.gvk.group.as_str(), res.gvk.kind.as_str()) {
        ("", "Namespace") => NameRule::Label,
        ("", "Service") => NameRule::Dns1035Label,
        ("rbac.authorization.k8s.io", _) => NameRule::PathSegment,
        _ => NameRule::Subdomain,
    }
}

/// Hands out service cluster IPs and node ports. In-process bookkeeping seeded from
/// what is stored; kube-apiserver keeps these allocations in storage instead, which
/// matters only when several servers share one store.
#[derive(Debug)]
pub(crate) struct Allocators {
    cluster_ips: Mutex<BTreeSet<u32>>,
    node_ports: Mutex<BTreeSet<u16>>,
}

/// The service CIDR: 10.96.0.0/12, kube-apiserver's default. `.1` is the
/// `kubernetes` service's.
const SERVICE_CIDR_BASE: u32 = u32::from_be_bytes([10, 96, 0, 0]);
const SERVICE_CIDR_SIZE: u32 = 1 << 20;
const NODE_PORT_RANGE: std::ops::RangeInclusive<u16> = 30000..=32767;

impl Allocators {
    pub(crate) fn new() -> Self {
        Allocators {
            cluster_ips: Mutex::new(BTreeSet::new()),
            node_ports: Mutex::new(BTreeSet::new()),
        }
    }

    /// Marks the addresses and ports of a stored service as taken (seeding from
    /// storage at start).
    pub(crate) fn observe_service(&self, svc: &Value) {
        let (ips, ports) = held(svc);
        self.cluster_ips.lock().extend(ips);
        self.node_ports.lock().extend(ports);
    }

    /// Frees what a removed (or never stored) service held.
    pub(crate) fn release_service(&self, svc: &Value) {
        let (ips, ports) = held(svc);
        let mut taken = self.cluster_ips.lock();
        for ip in ips {
            taken.remove(&ip);
        }
        drop(taken);
        let mut taken = self.node_ports.lock();
        for p in ports {
            taken.remove(&p);
        }
    }

    /// Assigns and reserves the cluster IP and node ports a new service needs; values
    /// the client chose are reserved if free. Every problem is returned (a 422).
    pub(crate) fn allocate_service(
        &self,
        obj: &mut Map<String, Value>,
    ) -> Result<(), Vec<FieldError>> {
        let spec = obj_at(obj, &["spec"]);
        let ty = spec
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("ClusterIP")
            .to_owned();
        let mut errs = Vec::new();
        let mut reserved_ip = None;
        if ty != "ExternalName" {
            let asked = spec
                .get("clusterIP")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let ip = if asked == "None" {
                Some("None".to_owned())
            } else if asked.is_empty() {
                let mut taken = self.cluster_ips.lock();
                // .1 is the `kubernetes` service's; only an explicit request gets it.
                let free = (SERVICE_CIDR_BASE + 2..SERVICE_CIDR_BASE + SERVICE_CIDR_SIZE - 1)
                    .find(|ip| !taken.contains(ip));
                match free {
                    Some(ip) => {
                        taken.insert(ip);
                        reserved_ip = Some(ip);
                        Some(Ipv4Addr::from(ip).to_string())
                    }
                    None => {
                        errs.push(FieldError::invalid(
                            "spec.clusterIPs",
                            asked.as_str(),
                            "failed to allocate IP: range is full",
                        ));
                        None
                    }
                }
            } else {
                match asked.parse::<Ipv4Addr>().map(u32::from) {
                    Ok(ip)
                        if (SERVICE_CIDR_BASE..SERVICE_CIDR_BASE + SERVICE_CIDR_SIZE)
                            .contains(&ip) =>
                    {
                        if self.cluster_ips.lock().insert(ip) {
                            reserved_ip = Some(ip);
                            Some(asked.clone())
                        } else {
                            errs.push(FieldError::invalid(
                                "spec.clusterIPs",
                                FieldValue::Json(json!([asked])),
                                &format!("failed to allocate IP {asked}: provided IP is already allocated"),
                            ));
                            None
                        }
                    }
                    _ => {
                        errs.push(FieldError::invalid(
                            "spec.clusterIPs",
                            FieldValue::Json(json!([asked])),
                            &format!("failed to allocate IP {asked}: the provided IP ({asked}) is not in the valid range. The range of valid IPs is 10.96.0.0/12"),
                        ));
                        None
                    }
                }
            };
            if let Some(ip) = ip {
                spec.insert("clusterIP".into(), json!(ip));
                spec.insert("clusterIPs".into(), json!([ip]));
                if ip != "None" {
                    default(spec, "ipFamilies", json!(["IPv4"]));
                    default(spec, "ipFamilyPolicy", json!("SingleStack"));
                }
            }
        }
        let mut reserved_ports = Vec::new();
        if matches!(ty.as_str(), "NodePort" | "LoadBalancer")
            && let Some(Value::Array(ports)) = spec.get_mut("ports")
        {
            for (i, p) in ports
                .iter_mut()
                .filter_map(Value::as_object_mut)
                .enumerate()
            {
                let asked = p.get("nodePort").and_then(Value::as_u64).unwrap_or(0);
                let mut taken = self.node_ports.lock();
                if asked == 0 {
                    match NODE_PORT_RANGE.clone().find(|p| !taken.contains(p)) {
                        Some(port) => {
                            taken.insert(port);
                            reserved_ports.push(port);
                            p.insert("nodePort".into(), json!(port));
                        }
                        None => errs.push(FieldError::invalid(
                            &format!("spec.ports[{i}].nodePort"),
                            0,
                            "failed to allocate a nodePort: range is full",
                        )),
                    }
                } else {
                    let port = u16::try_from(asked)
                        .ok()
                        .filter(|p| NODE_PORT_RANGE.contains(p));
                    match port {
                        Some(port) if taken.insert(port) => reserved_ports.push(port),
                        Some(_) => errs.push(FieldError::invalid(
                            &format!("spec.ports[{i}].nodePort"),
                            asked as i64,
                            "provided port is already allocated",
                        )),
                        None => errs.push(FieldError::invalid(
                            &format!("spec.ports[{i}].nodePort"),
                            asked as i64,
                            "provided port is not in the valid range. The range of valid ports is 30000-32767",
                        )),
                    }
                }
            }
        }
        if errs.is_empty() {
            return Ok(());
        }
        // Give back what this attempt reserved.
        if let Some(ip) = reserved_ip {
            self.cluster_ips.lock().remove(&ip);
        }
        let mut taken = self.node_ports.lock();
        for p in reserved_ports {
            taken.remove(&p);
        }
        Err(errs)
    }
}

/// The cluster IPs and node ports a service object holds.
fn held(svc: &Value) -> (Vec<u32>, Vec<u16>) {
    let ips = svc
        .pointer("/spec/clusterIPs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|ip| ip.parse::<Ipv4Addr>().ok())
        .map(u32::from)
        .collect();
    let ports = svc
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("nodePort").and_then(Value::as_u64))
        .filter_map(|n| u16::try_from(n).ok())
        .collect();
    (ips, ports)
}

fn obj_at<'a>(obj: &'a mut Map<String, Value>, path: &[&str]) -> &'a mut Map<String, Value> {
    let mut cur = obj;
    for p in path {
        let entry = cur.entry((*p).to_owned()).or_insert_with(|| json!({}));
        if !entry.is_object() {
            *entry = json!({});
        }
        cur = match entry {
            Value::Object(m) => m,
            _ => unreachable!("just made an object"),
        };
    }
    cur
}

fn default(obj: &mut Map<String, Value>, key: &str, value: Value) {
    if obj.get(key).is_none_or(Value::is_null) {
        obj.insert(key.to_owned(), value);
    }
}

fn pod_spec_defaults(spec: &mut Map<String, Value>) {
    default(spec, "restartPolicy", json!("Always"));
    default(spec, "terminationGracePeriodSeconds", json!(30));
    default(spec, "dnsPolicy", json!("ClusterFirst"));
    default(spec, "schedulerName", json!("default-scheduler"));
    default(spec, "securityContext", json!({}));
    default(spec, "enableServiceLinks", json!(true));
    for list in ["containers", "initContainers"] {
        if let Some(Value::Array(containers)) = spec.get_mut(list) {
            for c in containers.iter_mut().filter_map(Value::as_object_mut) {
                let latest = c.get("image").and_then(Value::as_str).is_some_and(|i| {
                    !i.rsplit('/').next().unwrap_or(i).contains(':') || i.ends_with(":latest")
                });
                default(
                    c,
                    "imagePullPolicy",
                    json!(if latest { "Always" } else { "IfNotPresent" }),
                );
                default(c, "terminationMessagePath", json!("/dev/termination-log"));
                default(c, "terminationMessagePolicy", json!("File"));
                if let Some(Value::Array(ports)) = c.get_mut("ports") {
                    for p in ports.iter_mut().filter_map(Value::as_object_mut) {
                        default(p, "protocol", json!("TCP"));
                    }
                }
            }
        }
    }
}

fn template_defaults(obj: &mut Map<String, Value>) {
    if let Some(Value::Object(spec)) = obj
        .get_mut("spec")
        .and_then(|s| s.get_mut("template"))
        .and_then(|t| t.get_mut("spec"))
    {
        pod_spec_defaults(spec);
    }
}

/// Fills in defaults and computed values of a new object (after the generic metadata
/// handling, before validation).
/// `meta` is the object's metadata, written back into `obj` by the caller afterwards.
pub(crate) fn prepare_for_create(
    res: &Resource,
    obj: &mut Map<String, Value>,
    meta: &mut ObjectMeta,
) {
    defaults(res, obj);
    match (res.gvk.group.as_str(), res.gvk.kind.as_str()) {
        ("", "Namespace") => {
            let spec = obj_at(obj, &["spec"]);
            default(spec, "finalizers", json!([NAMESPACE_FINALIZER]));
            obj_at(obj, &["status"]).insert("phase".into(), json!("Active"));
            let name = meta.name.clone().unwrap_or_default();
            meta.labels
                .get_or_insert_with(Default::default)
                .insert(NAMESPACE_NAME_LABEL.into(), name);
        }
        ("", "Secret") => merge_string_data(obj),
        _ => {}
    }
}

/// The defaults of a kind's fields, as upstream's decoding fills them in on every
/// create and update.
pub(crate) fn defaults(res: &Resource, obj: &mut Map<String, Value>) {
    match (res.gvk.group.as_str(), res.gvk.kind.as_str()) {
        ("", "Secret") => default(obj, "type", json!("Opaque")),
        ("", "Pod") => pod_spec_defaults(obj_at(obj, &["spec"])),
        ("", "Service") => service_defaults(obj),
        ("apps", "Deployment") => {
            let spec = obj_at(obj, &["spec"]);
            default(spec, "replicas", json!(1));
            default(spec, "revisionHistoryLimit", json!(10));
            default(spec, "progressDeadlineSeconds", json!(600));
            default(
                spec,
                "strategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}),
            );
            template_defaults(obj);
        }
        ("apps", "ReplicaSet") | ("", "ReplicationController") => {
            default(obj_at(obj, &["spec"]), "replicas", json!(1));
            template_defaults(obj);
        }
        ("apps", "StatefulSet") => {
            let spec = obj_at(obj, &["spec"]);
            default(spec, "replicas", json!(1));
            default(spec, "podManagementPolicy", json!("OrderedReady"));
            default(spec, "revisionHistoryLimit", json!(10));
            default(
                spec,
                "updateStrategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}),
            );
            template_defaults(obj);
        }
        ("apps", "DaemonSet") => {
            let spec = obj_at(obj, &["spec"]);
            default(spec, "revisionHistoryLimit", json!(10));
            default(
                spec,
                "updateStrategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}),
            );
            template_defaults(obj);
        }
        ("batch", "Job") => {
            let spec = obj_at(obj, &["spec"]);
            default(spec, "backoffLimit", json!(6));
            default(spec, "completionMode", json!("NonIndexed"));
            default(spec, "suspend", json!(false));
            template_defaults(obj);
        }
        _ => {}
    }
}

/// Applies what an update must keep or recompute for a kind.
pub(crate) fn prepare_for_update(
    res: &Resource,
    new: &mut Map<String, Value>,
    old: &Map<String, Value>,
) {
    match (res.gvk.group.as_str(), res.gvk.kind.as_str()) {
        ("", "Namespace") => {
            // The name label always mirrors the name; spec.finalizers change only through
            // /finalize and the phase only through /status or deletion.
            let name = old
                .get("metadata")
                .and_then(|m| m.get("name"))
                .cloned()
                .unwrap_or(Value::Null);
            obj_at(new, &["metadata", "labels"]).insert(NAMESPACE_NAME_LABEL.into(), name);
            if let Some(f) = old.get("spec").and_then(|s| s.get("finalizers")) {
                obj_at(new, &["spec"]).insert("finalizers".into(), f.clone());
            }
        }
        ("", "Secret") => merge_string_data(new),
        ("", "Service") => {
            // Allocated addresses stay unless the client changes them explicitly.
            for key in ["clusterIP", "clusterIPs"] {
                if let Some(v) = old.get("spec").and_then(|s| s.get(key)) {
                    default(obj_at(new, &["spec"]), key, v.clone());
                }
            }
        }
        _ => {}
    }
}

/// `stringData` is write-only: merged into `data` (base64) and dropped.
fn merge_string_data(obj: &mut Map<String, Value>) {
    let Some(Value::Object(string_data)) = obj.remove("stringData") else {
        return;
    };
    let data = obj_at(obj, &["data"]);
    for (k, v) in string_data {
        if let Some(s) = v.as_str() {
            data.insert(
                k,
                json!(base64::engine::general_purpose::STANDARD.encode(s)),
            );
        }
    }
}

/// Service defaults; addresses and ports are assigned later, by
/// [`Allocators::allocate_service`], once the object is valid and really stored.
fn service_defaults(obj: &mut Map<String, Value>) {
    let spec = obj_at(obj, &["spec"]);
    default(spec, "type", json!("ClusterIP"));
    let ty = spec
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
        .to_owned();
    default(spec, "sessionAffinity", json!("None"));
    if ty != "ExternalName" {
        default(spec, "internalTrafficPolicy", json!("Cluster"));
    }
    if matches!(ty.as_str(), "NodePort" | "LoadBalancer") {
        default(spec, "externalTrafficPolicy", json!("Cluster"));
    }
    if let Some(Value::Array(ports)) = spec.get_mut("ports") {
        for p in ports.iter_mut().filter_map(Value::as_object_mut) {
            default(p, "protocol", json!("TCP"));
            if let Some(port) = p.get("port").cloned() {
                default(p, "targetPort", port);
            }
        }
    }
    if ty == "LoadBalancer" {
        default(obj_at(obj, &["status"]), "loadBalancer", json!({}));
    }
}

/// Problems with the shape of an object that upstream finds while decoding it into
/// its typed form (a 400, not a 422).
pub(crate) fn decode_check(res: &Resource, obj: &Map<String, Value>) -> Result<(), String> {
    if let ("", "Secret") = (res.gvk.group.as_str(), res.gvk.kind.as_str())
        && let Some(Value::Object(data)) = obj.get("data")
    {
        for (k, v) in data {
            let Some(s) = v.as_str() else {
                return Err(format!(
                    "json: cannot unmarshal {} into Go struct field Secret.data of type []uint8",
                    json_type(v)
                ));
            };
            if base64::engine::general_purpose::STANDARD.decode(s).is_err() {
                return Err(format!("illegal base64 data in data[{k}]"));
            }
        }
    }
    Ok(())
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn data_key_errors(
    field: &str,
    data: Option<&Value>,
    errs: &mut Vec<FieldError>,
    total: &mut usize,
) {
    let Some(Value::Object(map)) = data else {
        return;
    };
    for (k, v) in map {
        let valid = !k.is_empty()
            && k.len() <= 253
            && k != "."
            && k != ".."
            && !k.starts_with("..")
            && k.bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'));
        if !valid {
            errs.push(FieldError::invalid(
                &format!("{field}[{k}]"),
                k.as_str(),
                "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
            ));
        }
        *total += k.len() + v.as_str().map_or(0, str::len);
    }
}

/// Kind-specific validation, every problem at once.
pub(crate) fn validate(res: &Resource, obj: &Map<String, Value>) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if res.is_custom() {
        // A custom kind's schema declares spec and status as objects whose contents
        // are free (`x-kubernetes-preserve-unknown-fields`); nothing else is checked.
        for field in ["spec", "status"] {
            if let Some(v) = obj.get(field).filter(|v| !v.is_object()) {
                let ty = json_type(v);
                errs.push(FieldError::invalid(
                    field,
                    ty,
                    &format!("{field} in body must be of type object: \"{ty}\""),
                ));
            }
        }
        return errs;
    }
    match (res.gvk.group.as_str(), res.gvk.kind.as_str()) {
        ("", "ConfigMap") | ("", "Secret") => {
            let mut total = 0;
            data_key_errors("data", obj.get("data"), &mut errs, &mut total);
            data_key_errors("binaryData", obj.get("binaryData"), &mut errs, &mut total);
            if total > DATA_MAX_BYTES {
                errs.push(FieldError::too_long("data", DATA_MAX_BYTES));
            }
        }
        ("", "Namespace") => {
            if let Some(Value::Array(f)) = obj.get("spec").and_then(|s| s.get("finalizers")) {
                for (i, v) in f.iter().enumerate() {
                    if v.as_str().is_none_or(str::is_empty) {
                        errs.push(FieldError::required(&format!("spec.finalizers[{i}]"), ""));
                    }
                }
            }
        }
        _ => {}
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_get_addresses_and_ports_once_allocated() {
        let alloc = Allocators::new();
        let mut svc = json!({"spec": {"ports": [{"port": 80}], "type": "NodePort"}});
        service_defaults(svc.as_object_mut().expect("object"));
        assert_eq!(svc["spec"]["ports"][0]["targetPort"], 80);
        assert_eq!(svc["spec"]["ports"][0]["protocol"], "TCP");
        assert!(
            svc["spec"].get("clusterIP").is_none(),
            "defaults assign no address"
        );
        alloc
            .allocate_service(svc.as_object_mut().expect("object"))
            .expect("allocated");
        assert_eq!(svc["spec"]["clusterIP"], "10.96.0.2");
        assert_eq!(svc["spec"]["clusterIPs"], json!(["10.96.0.2"]));
        assert_eq!(svc["spec"]["ports"][0]["nodePort"], 30000);
        let mut headless = json!({"spec": {"clusterIP": "None"}});
        alloc
            .allocate_service(headless.as_object_mut().expect("object"))
            .expect("headless");
        assert_eq!(headless["spec"]["clusterIPs"], json!(["None"]));
        // Taken and out-of-range values are refused, and nothing stays reserved.
        let mut dup = json!({"spec": {"clusterIP": "10.96.0.2", "type": "NodePort", "ports": [{"port": 1, "nodePort": 30000}]}});
        let errs = alloc
            .allocate_service(dup.as_object_mut().expect("object"))
            .expect_err("taken");
        assert_eq!(errs.len(), 2);
        let mut outside = json!({"spec": {"clusterIP": "192.168.0.1"}});
        assert!(
            alloc
                .allocate_service(outside.as_object_mut().expect("object"))
                .is_err()
        );
        // Released addresses are handed out again.
        alloc.release_service(&svc);
        let mut next = json!({"spec": {}});
        alloc
            .allocate_service(next.as_object_mut().expect("object"))
            .expect("allocated");
        assert_eq!(next["spec"]["clusterIP"], "10.96.0.2");
    }

    #[test]
    fn string_data_is_merged_into_data() {
        let mut secret = json!({"stringData": {"a": "hello"}, "data": {"b": "eA=="}});
        merge_string_data(secret.as_object_mut().expect("object"));
        assert_eq!(secret, json!({"data": {"a": "aGVsbG8=", "b": "eA=="}}));
    }
}
