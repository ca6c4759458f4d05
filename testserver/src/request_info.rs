//! What a request is about, read from its method, path and query — the same reading
//! kube-apiserver's `RequestInfoFactory` makes, so that authorization, audit and
//! routing all agree on it.
//!
//! # Path grammar
//!
//! ```text
//! resource requests (API prefix `api` is groupless, `apis` carries a group):
//!   /api/{version}/{resource}[/{name}[/{subresource}]]
//!   /api/{version}/namespaces/{namespace}/{resource}[/{name}[/{subresource}]]
//!   /apis/{group}/{version}/...                        (same shapes)
//!   /api/{version}/watch/...  /api/{version}/proxy/... (deprecated verb-in-path forms)
//!
//!   /api/v1/namespaces/{name}                  the namespace object itself
//!   /api/v1/namespaces/{name}/status|finalize  namespace subresources
//!
//! everything else is a non-resource request:
//!   /, /api, /api/v1, /apis, /apis/{group}, /apis/{group}/{version},
//!   /version, /healthz, /livez, /readyz, /openapi/..., ...
//! ```
//!
//! Verbs: `POST` create, `GET`/`HEAD` get (list without a name, watch with
//! `watch=true`), `PUT` update, `PATCH` patch, `DELETE` delete (deletecollection
//! without a name). A non-resource request's verb is the lowercase method.

use http::Method;

/// The parsed identity of a request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct RequestInfo {
    /// Whether the path addresses an API resource.
    pub(crate) is_resource_request: bool,
    /// The request path.
    pub(crate) path: String,
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`,
    /// `deletecollection`, `proxy`; for non-resource requests the lowercase method.
    pub(crate) verb: String,
    /// `api` or `apis`.
    pub(crate) api_prefix: String,
    /// API group; empty for the core group.
    pub(crate) group: String,
    /// API version.
    pub(crate) version: String,
    /// Namespace, if the path names one.
    pub(crate) namespace: String,
    /// Resource (plural).
    pub(crate) resource: String,
    /// Subresource (`status`, `scale`, …).
    pub(crate) subresource: String,
    /// Object name.
    pub(crate) name: String,
    /// Path segments after the namespace (resource, name, subresource, …).
    pub(crate) parts: Vec<String>,
    /// The verb came from the path (`/watch/…`), not from the method and query.
    pub(crate) verb_in_path: bool,
}

/// The path could not be understood as a resource request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unable to determine kind and namespace from url {0}")]
pub(crate) struct RequestInfoError(String);

fn method_verb(method: &Method) -> &'static str {
    match *method {
        Method::POST => "create",
        Method::GET | Method::HEAD => "get",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE => "delete",
        _ => "",
    }
}

/// apimachinery reads a present `watch` parameter as true unless it is `0` or `false`.
fn watch_requested(query: &str) -> bool {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "watch")
        .is_some_and(|(_, v)| !(v == "0" || v.eq_ignore_ascii_case("false")))
}

impl RequestInfo {
    /// Parses a request's method, path and query.
    ///
    /// # Errors
    ///
    /// A `/watch/` or `/proxy/` path with nothing after the verb.
    pub(crate) fn parse(
        method: &Method,
        path: &str,
        query: &str,
    ) -> Result<Self, RequestInfoError> {
        let mut info = RequestInfo {
            path: path.to_owned(),
            verb: method.as_str().to_ascii_lowercase(),
            ..RequestInfo::default()
        };
        // Segments are percent-decoded as Go decodes `URL.Path` (`system%3Aauth-delegator`);
        // a decoded segment holding `/` cannot name anything.
        let mut decoded = Vec::new();
        for raw in path.trim_matches('/').split('/').filter(|s| !s.is_empty()) {
            let seg = percent_encoding::percent_decode_str(raw)
                .decode_utf8_lossy()
                .into_owned();
            if seg.contains('/') {
                return Err(RequestInfoError(path.to_owned()));
            }
            decoded.push(seg);
        }
        let segments: Vec<&str> = decoded.iter().map(String::as_str).collect();
        if segments.len() < 3 || !matches!(segments[0], "api" | "apis") {
            return Ok(info);
        }
        info.api_prefix = segments[0].to_owned();
        let mut rest = &segments[1..];
        if info.api_prefix == "apis" {
            if rest.len() < 3 {
                return Ok(info);
            }
            info.group = rest[0].to_owned();
            rest = &rest[1..];
        }
        info.is_resource_request = true;
        info.version = rest[0].to_owned();
        rest = &rest[1..];

        if matches!(rest[0], "watch" | "proxy") {
            if rest.len() < 2 {
                return Err(RequestInfoError(path.to_owned()));
            }
            info.verb = rest[0].to_owned();
            info.verb_in_path = true;
            rest = &rest[1..];
        } else {
            info.verb = method_verb(method).to_owned();
        }

        if rest[0] == "namespaces" && rest.len() > 1 {
            info.namespace = rest[1].to_owned();
            if rest.len() > 2 && !matches!(rest[2], "status" | "finalize") {
                rest = &rest[2..];
            }
        }
        info.parts = rest.iter().map(|s| (*s).to_owned()).collect();
        let proxy = info.verb == "proxy";
        if info.parts.len() >= 3 && !proxy {
            info.subresource = info.parts[2].clone();
        }
        if info.parts.len() >= 2 {
            info.name = info.parts[1].clone();
        }
        if let Some(r) = info.parts.first() {
            info.resource = r.clone();
        }

        if info.name.is_empty() && info.verb == "get" {
            info.verb = if watch_requested(query) {
                "watch"
            } else {
                "list"
            }
            .to_owned();
        }
        if info.name.is_empty() && info.verb == "delete" {
            info.verb = "deletecollection".to_owned();
        }
        Ok(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_path_grammar() {
        // (method, path, query, resource?, verb, group, version, namespace, resource, name, subresource)
        type Case<'a> = (
            &'a str,
            &'a str,
            &'a str,
            bool,
            &'a str,
            &'a str,
            &'a str,
            &'a str,
            &'a str,
            &'a str,
            &'a str,
        );
        #[rustfmt::skip]
        let cases: &[Case<'_>] = &[
            // non-resource paths
            ("GET", "/", "", false, "get", "", "", "", "", "", ""),
            ("GET", "/api", "", false, "get", "", "", "", "", "", ""),
            ("GET", "/api/v1", "", false, "get", "", "", "", "", "", ""),
            ("GET", "/apis/apps/v1", "", false, "get", "", "", "", "", "", ""),
            ("GET", "/healthz", "", false, "get", "", "", "", "", "", ""),
            ("POST", "/version/x/y", "", false, "post", "", "", "", "", "", ""),
            // core resources
            ("GET", "/api/v1/pods", "", true, "list", "", "v1", "", "pods", "", ""),
            ("GET", "/api/v1/pods", "watch=true", true, "watch", "", "v1", "", "pods", "", ""),
            ("GET", "/api/v1/pods", "watch=false", true, "list", "", "v1", "", "pods", "", ""),
            ("GET", "/api/v1/namespaces/ns/pods/p", "", true, "get", "", "v1", "ns", "pods", "p", ""),
            ("PUT", "/api/v1/namespaces/ns/pods/p/status", "", true, "update", "", "v1", "ns", "pods", "p", "status"),
            ("DELETE", "/api/v1/namespaces/ns/pods", "", true, "deletecollection", "", "v1", "ns", "pods", "", ""),
            ("POST", "/api/v1/namespaces/ns/pods", "", true, "create", "", "v1", "ns", "pods", "", ""),
            // namespaces themselves
            ("GET", "/api/v1/namespaces", "", true, "list", "", "v1", "", "namespaces", "", ""),
            ("GET", "/api/v1/namespaces/ns", "", true, "get", "", "v1", "ns", "namespaces", "ns", ""),
            ("PUT", "/api/v1/namespaces/ns/finalize", "", true, "update", "", "v1", "ns", "namespaces", "ns", "finalize"),
            ("PATCH", "/api/v1/namespaces/ns/status", "", true, "patch", "", "v1", "ns", "namespaces", "ns", "status"),
            // grouped resources
            ("PATCH", "/apis/apps/v1/namespaces/ns/deployments/d/scale", "", true, "patch", "apps", "v1", "ns", "deployments", "d", "scale"),
            ("GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles", "", true, "list", "rbac.authorization.k8s.io", "v1", "", "clusterroles", "", ""),
            // percent-encoded segments are decoded
            ("GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles/system%3Aauth-delegator", "", true, "get", "rbac.authorization.k8s.io", "v1", "", "clusterroles", "system:auth-delegator", ""),
            // verb in path
            ("GET", "/api/v1/watch/namespaces/ns/pods/p", "", true, "watch", "", "v1", "ns", "pods", "p", ""),
            ("GET", "/api/v1/watch/pods", "", true, "watch", "", "v1", "", "pods", "", ""),
            ("GET", "/api/v1/proxy/namespaces/ns/pods/p/x/y", "", true, "proxy", "", "v1", "ns", "pods", "p", ""),
        ];
        for &(method, path, query, resource, verb, group, version, ns, res, name, sub) in cases {
            let m: Method = method.parse().expect("method");
            let info = RequestInfo::parse(&m, path, query).expect(path);
            assert_eq!(info.is_resource_request, resource, "{method} {path}");
            assert_eq!(info.verb, verb, "{method} {path}");
            assert_eq!(
                (
                    info.group.as_str(),
                    info.version.as_str(),
                    info.namespace.as_str(),
                    info.resource.as_str(),
                    info.name.as_str(),
                    info.subresource.as_str()
                ),
                (group, version, ns, res, name, sub),
                "{method} {path}"
            );
        }
    }

    #[test]
    fn verb_without_resource_is_an_error() {
        assert!(RequestInfo::parse(&Method::GET, "/api/v1/watch", "").is_err());
    }
}
