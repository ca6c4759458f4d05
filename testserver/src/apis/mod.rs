//! Non-resource endpoints: discovery, `/version`, health, OpenAPI and `GET /`.

pub(crate) mod discovery;
pub(crate) mod health;
pub(crate) mod openapi;
pub(crate) mod version;

use std::sync::Arc;

use http::{HeaderValue, Method, header};
use serde_json::json;

use crate::apiserver::ApiServer;
use crate::handlers::respond::{self, Response};
use crate::request_info::RequestInfo;

fn discovery_response(
    parts: &http::request::Parts,
    aggregated: &std::collections::HashMap<&'static str, (bytes::Bytes, String)>,
    legacy: Option<bytes::Bytes>,
) -> Response {
    let accept = parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    if let Some(dv) = discovery::aggregated_version(accept)
        && let Some((doc, tag)) = aggregated.get(dv)
    {
        let content_type: &'static str = if dv == "v2" {
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
        } else {
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
        };
        let none_match = parts
            .headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok());
        let mut resp = if none_match == Some(tag.as_str()) {
            let mut r = respond::bytes(304, content_type, bytes::Bytes::new());
            r.headers_mut().remove(header::CONTENT_TYPE);
            r
        } else {
            respond::bytes(200, content_type, doc.clone())
        };
        let h = resp.headers_mut();
        if let Ok(v) = HeaderValue::from_str(tag) {
            h.insert(header::ETAG, v);
        }
        h.insert(header::VARY, HeaderValue::from_static("Accept"));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public"));
        return resp;
    }
    match legacy {
        Some(doc) => respond::bytes(200, "application/json", doc),
        None => respond::not_found(),
    }
}

fn host(parts: &http::request::Parts) -> String {
    parts
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| parts.uri.authority().map(ToString::to_string))
        .unwrap_or_default()
}

/// Every non-resource path the server serves, for `GET /`.
fn root_paths(server: &ApiServer) -> Vec<String> {
    let mut paths = vec![
        "/api".to_owned(),
        "/api/v1".to_owned(),
        "/apis".to_owned(),
        "/apis/".to_owned(),
    ];
    for (g, vs) in server.registry.groups() {
        if g.is_empty() {
            continue;
        }
        paths.push(format!("/apis/{g}"));
        for v in vs {
            paths.push(format!("/apis/{g}/{v}"));
        }
    }
    for p in [
        "/healthz",
        "/livez",
        "/readyz",
        "/openapi/v2",
        "/openapi/v3",
        "/openapi/v3/",
        "/version",
    ] {
        paths.push(p.to_owned());
    }
    for endpoint in ["healthz", "livez", "readyz"] {
        paths.push(format!("/{endpoint}/ping"));
        paths.push(format!("/{endpoint}/log"));
        paths.push(format!("/{endpoint}/etcd"));
    }
    paths.sort();
    paths
}

/// Serves a non-resource request.
pub(crate) async fn serve(
    server: &Arc<ApiServer>,
    info: &RequestInfo,
    parts: &http::request::Parts,
) -> Response {
    if parts.method != Method::GET && parts.method != Method::HEAD {
        return respond::not_found();
    }
    let path = info.path.trim_end_matches('/');
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let docs = &server.discovery;
    let query = parts.uri.query().unwrap_or_default();
    match segments.as_slice() {
        [] => respond::json(200, &json!({"paths": root_paths(server)})),
        ["api"] => {
            let legacy = json!({
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": host(parts)}],
            });
            let legacy = bytes::Bytes::from(serde_json::to_vec(&legacy).unwrap_or_default());
            discovery_response(parts, &docs.aggregated_api, Some(legacy))
        }
        ["apis"] => discovery_response(parts, &docs.aggregated_apis, Some(docs.apis.clone())),
        ["apis", group] => match docs.groups.get(*group) {
            Some(doc) => respond::bytes(200, "application/json", doc.clone()),
            None => respond::not_found(),
        },
        ["api", version] | ["apis", _, version] => {
            let gv = if segments[0] == "api" {
                (*version).to_owned()
            } else {
                format!("{}/{version}", segments[1])
            };
            match docs.resource_lists.get(&gv) {
                Some(doc) => respond::bytes(200, "application/json", doc.clone()),
                None => respond::not_found(),
            }
        }
        ["version"] => respond::json(200, &version::info()),
        [endpoint @ ("healthz" | "livez" | "readyz")] => {
            health::serve(server, endpoint, "", query).await
        }
        [endpoint @ ("healthz" | "livez" | "readyz"), check] => {
            health::serve(server, endpoint, check, query).await
        }
        ["openapi", "v3"] => {
            respond::bytes(200, "application/json", server.openapi().index.clone())
        }
        ["openapi", "v3", rest @ ..] => match server.openapi().docs.get(&rest.join("/")) {
            Some((doc, tag)) => {
                let mut resp = respond::bytes(200, "application/json", doc.clone());
                if let Ok(v) = HeaderValue::from_str(tag) {
                    resp.headers_mut().insert(header::ETAG, v);
                }
                resp.headers_mut()
                    .insert(header::VARY, HeaderValue::from_static("Accept"));
                resp
            }
            None => respond::not_found(),
        },
        ["openapi", "v2"] => {
            let accept = parts
                .headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            let json_ok =
                accept.is_empty() || accept.contains("application/json") || accept.contains("*/*");
            if json_ok {
                respond::bytes(200, "application/json", server.openapi().v2.clone())
            } else {
                respond::status(&kubeforge_client::core::Status::not_acceptable(&[
                    "application/json",
                ]))
            }
        }
        _ => respond::not_found(),
    }
}
