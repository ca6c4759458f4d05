//! [`ApiResource`]: what a client needs to address a kind over HTTP.

use super::gvk::{GroupVersion, GroupVersionKind, GroupVersionResource};

/// Whether objects of a resource live in a namespace or at cluster scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Objects live in a namespace (`/namespaces/{ns}/{resource}/{name}`).
    Namespaced,
    /// Objects are cluster-wide (`/{resource}/{name}`).
    Cluster,
}

impl Scope {
    /// The name aggregated discovery uses: `Namespaced` or `Cluster`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Namespaced => "Namespaced",
            Scope::Cluster => "Cluster",
        }
    }
}

/// A resource as discovery describes it: its kind, the plural that URLs use, its scope
/// and the verbs it supports.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ApiResource {
    /// Group name; empty for the core group.
    pub group: String,
    /// Version name.
    pub version: String,
    /// Kind, in CamelCase.
    pub kind: String,
    /// Plural resource name used in paths.
    pub plural: String,
    /// Whether the resource is namespaced.
    pub scope: Scope,
    /// Verbs the server supports on it (`get`, `list`, `watch`, `create`, …).
    pub verbs: Vec<String>,
}

impl ApiResource {
    /// The `apiVersion` objects of this resource carry.
    pub fn api_version(&self) -> String {
        GroupVersion::new(self.group.clone(), self.version.clone()).to_string()
    }

    /// The group-version-kind.
    pub fn gvk(&self) -> GroupVersionKind {
        GroupVersionKind::new(self.group.clone(), self.version.clone(), self.kind.clone())
    }

    /// The group-version-resource.
    pub fn gvr(&self) -> GroupVersionResource {
        GroupVersionResource::new(
            self.group.clone(),
            self.version.clone(),
            self.plural.clone(),
        )
    }

    /// Whether `verb` is supported.
    pub fn supports(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }

    /// The URL path of the collection, in `namespace` when given and namespaced
    /// (`/apis/apps/v1/namespaces/default/deployments`, `/api/v1/nodes`).
    pub fn collection_path(&self, namespace: Option<&str>) -> String {
        let mut path = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        if let (Scope::Namespaced, Some(ns)) = (self.scope, namespace) {
            path.push_str("/namespaces/");
            path.push_str(ns);
        }
        path.push('/');
        path.push_str(&self.plural);
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(group: &str, plural: &str, scope: Scope) -> ApiResource {
        ApiResource {
            group: group.into(),
            version: "v1".into(),
            kind: "K".into(),
            plural: plural.into(),
            scope,
            verbs: vec!["get".into()],
        }
    }

    #[test]
    fn collection_paths() {
        assert_eq!(
            res("", "pods", Scope::Namespaced).collection_path(Some("ns")),
            "/api/v1/namespaces/ns/pods"
        );
        assert_eq!(
            res("apps", "deployments", Scope::Namespaced).collection_path(None),
            "/apis/apps/v1/deployments"
        );
        // a namespace is ignored for cluster-scoped resources
        assert_eq!(
            res("", "nodes", Scope::Cluster).collection_path(Some("x")),
            "/api/v1/nodes"
        );
    }
}
