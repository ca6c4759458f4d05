//! Discovery: legacy (`/api`, `/apis`, `/apis/{g}`, `/api/v1`, `/apis/{g}/{v}`) and
//! aggregated (v2 and v2beta1, chosen by `Accept`, on `/api` and `/apis`).
//!
//! Every document is rendered once from the registry when the server starts and
//! served as bytes, with a strong ETag for aggregated discovery (`If-None-Match` gets
//! 304). client-go decides aggregated vs legacy from the response `Content-Type`
//! alone, so aggregated answers carry `;g=apidiscovery.k8s.io;v=…;as=APIGroupDiscoveryList`.

use std::collections::HashMap;

use bytes::Bytes;
use serde_json::{Value, json};

use crate::registry::{Registry, Resource};

/// Pre-rendered discovery documents.
#[derive(Debug)]
pub(crate) struct Documents {
    /// `/apis` APIGroupList.
    pub(crate) apis: Bytes,
    /// `/apis/{group}` APIGroup.
    pub(crate) groups: HashMap<String, Bytes>,
    /// `/api/v1`, `/apis/{g}/{v}` APIResourceList, keyed by `v1` / `g/v`.
    pub(crate) resource_lists: HashMap<String, Bytes>,
    /// Aggregated `/api` and `/apis`, per discovery version (`v2`, `v2beta1`).
    pub(crate) aggregated_api: HashMap<&'static str, (Bytes, String)>,
    pub(crate) aggregated_apis: HashMap<&'static str, (Bytes, String)>,
}

fn gv_string(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    }
}

fn group_json(group: &str, versions: &[String]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": gv_string(group, v), "version": v}))
        .collect();
    let preferred = versions
        .first()
        .map(|v| json!({"groupVersion": gv_string(group, v), "version": v}));
    json!({"name": group, "versions": vs, "preferredVersion": preferred})
}

fn legacy_resource(r: &Resource) -> Vec<Value> {
    let mut out = Vec::new();
    let mut main = json!({
        "name": r.plural,
        "singularName": r.singular,
        "namespaced": r.namespaced,
        "kind": r.gvk.kind,
        "verbs": r.verbs,
    });
    if !r.short_names.is_empty() {
        main["shortNames"] = json!(r.short_names);
    }
    if !r.categories.is_empty() {
        main["categories"] = json!(r.categories);
    }
    if !r.storage_version_hash.is_empty() {
        main["storageVersionHash"] = json!(r.storage_version_hash);
    }
    out.push(main);
    for s in &r.subresources {
        let mut sub = json!({
            "name": format!("{}/{}", r.plural, s.name),
            "singularName": "",
            "namespaced": r.namespaced,
            "kind": s.gvk.kind,
            "verbs": s.verbs,
        });
        if s.gvk.group != r.gvk.group || s.gvk.version != r.gvk.version {
            sub["group"] = json!(s.gvk.group);
            sub["version"] = json!(s.gvk.version);
        }
        out.push(sub);
    }
    out
}

fn aggregated_resource(r: &Resource) -> Value {
    let mut v = json!({
        "resource": r.plural,
        "responseKind": {"group": r.gvk.group, "version": r.gvk.version, "kind": r.gvk.kind},
        "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": r.singular,
        "verbs": r.verbs,
    });
    if !r.short_names.is_empty() {
        v["shortNames"] = json!(r.short_names);
    }
    if !r.categories.is_empty() {
        v["categories"] = json!(r.categories);
    }
    if !r.subresources.is_empty() {
        let subs: Vec<Value> = r
            .subresources
            .iter()
            .map(|s| {
                json!({
                    "subresource": s.name,
                    "responseKind": {"group": s.gvk.group, "version": s.gvk.version, "kind": s.gvk.kind},
                    "verbs": s.verbs,
                })
            })
            .collect();
        v["subresources"] = json!(subs);
    }
    v
}

fn aggregated_list(registry: &Registry, core: bool, dv: &str) -> Value {
    let items: Vec<Value> = registry
        .groups()
        .iter()
        .filter(|(g, _)| g.is_empty() == core)
        .map(|(group, versions)| {
            let vs: Vec<Value> = versions
                .iter()
                .map(|version| {
                    let resources: Vec<Value> = registry
                        .resources()
                        .iter()
                        .filter(|r| &r.gvk.group == group && &r.gvk.version == version)
                        .map(|r| aggregated_resource(r))
                        .collect();
                    json!({"version": version, "resources": resources, "freshness": "Current"})
                })
                .collect();
            json!({"metadata": {"name": group, "creationTimestamp": null}, "versions": vs})
        })
        .collect();
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": format!("apidiscovery.k8s.io/{dv}"),
        "metadata": {},
        "items": items,
    })
}

/// Quoted hex SHA-512 of a document, as aggregated discovery's ETag.
pub(crate) fn etag(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA512, bytes);
    let mut s = String::with_capacity(130);
    s.push('"');
    for b in digest.as_ref() {
        s.push_str(&format!("{b:02X}"));
    }
    s.push('"');
    s
}

fn to_bytes(v: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec(v).unwrap_or_default())
}

impl Documents {
    /// Renders every document from the registry.
    pub(crate) fn build(registry: &Registry) -> Self {
        let named: Vec<&(String, Vec<String>)> = registry
            .groups()
            .iter()
            .filter(|(g, _)| !g.is_empty())
            .collect();
        let apis = json!({
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": named.iter().map(|(g, vs)| group_json(g, vs)).collect::<Vec<_>>(),
        });
        let mut groups = HashMap::new();
        for (g, vs) in &named {
            let mut doc = group_json(g, vs);
            doc["kind"] = json!("APIGroup");
            doc["apiVersion"] = json!("v1");
            groups.insert(g.clone(), to_bytes(&doc));
        }
        let mut resource_lists = HashMap::new();
        for (g, vs) in registry.groups() {
            for v in vs {
                let resources: Vec<Value> = registry
                    .resources()
                    .iter()
                    .filter(|r| &r.gvk.group == g && &r.gvk.version == v)
                    .flat_map(|r| legacy_resource(r))
                    .collect();
                let doc = json!({
                    "kind": "APIResourceList",
                    "apiVersion": "v1",
                    "groupVersion": gv_string(g, v),
                    "resources": resources,
                });
                resource_lists.insert(gv_string(g, v), to_bytes(&doc));
            }
        }
        let mut aggregated_api = HashMap::new();
        let mut aggregated_apis = HashMap::new();
        for dv in ["v2", "v2beta1"] {
            let core = to_bytes(&aggregated_list(registry, true, dv));
            let tag = etag(&core);
            aggregated_api.insert(dv, (core, tag));
            let named = to_bytes(&aggregated_list(registry, false, dv));
            let tag = etag(&named);
            aggregated_apis.insert(dv, (named, tag));
        }
        Documents {
            apis: to_bytes(&apis),
            groups,
            resource_lists,
            aggregated_api,
            aggregated_apis,
        }
    }
}

/// Which aggregated discovery version an `Accept` header asks for, if any, in the
/// client's order of preference.
pub(crate) fn aggregated_version(accept: Option<&str>) -> Option<&'static str> {
    let accept = accept?;
    for range in accept.split(',') {
        let params: Vec<(&str, &str)> = range
            .split(';')
            .skip(1)
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.trim(), v.trim()))
            .collect();
        let has = |k: &str, v: &str| params.iter().any(|(pk, pv)| *pk == k && *pv == v);
        if has("g", "apidiscovery.k8s.io") && has("as", "APIGroupDiscoveryList") {
            if has("v", "v2") {
                return Some("v2");
            }
            if has("v", "v2beta1") {
                return Some("v2beta1");
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_aggregated_version_kubectl_asks_for() {
        let kubectl = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(aggregated_version(Some(kubectl)), Some("v2"));
        let old = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(aggregated_version(Some(old)), Some("v2beta1"));
        assert_eq!(aggregated_version(Some("application/json, */*")), None);
        assert_eq!(aggregated_version(None), None);
    }
}
