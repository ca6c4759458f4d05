//! Names of API groups, versions, kinds and resources.

use std::fmt;

/// An API group and version, as written in `apiVersion` (`"apps/v1"`, or `"v1"` for the
/// core group whose name is empty).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct GroupVersion {
    /// Group name; empty for the core ("legacy") group.
    pub group: String,
    /// Version name, e.g. `v1`, `v1beta1`.
    pub version: String,
}

impl GroupVersion {
    /// Builds a group-version from its parts.
    pub fn new(group: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            group: group.into(),
            version: version.into(),
        }
    }

    /// Parses an `apiVersion` string: `"v1"` is the core group, `"apps/v1"` a named one.
    ///
    /// Returns `None` for an empty string, an empty part or more than one `/`, as
    /// apimachinery's `ParseGroupVersion` rejects them.
    pub fn parse(api_version: &str) -> Option<Self> {
        match api_version.split_once('/') {
            None if !api_version.is_empty() => Some(Self::new("", api_version)),
            Some((g, v)) if !g.is_empty() && !v.is_empty() && !v.contains('/') => {
                Some(Self::new(g, v))
            }
            _ => None,
        }
    }

    /// The `apiVersion` string: `v1` or `group/version`.
    pub fn api_version(&self) -> String {
        self.to_string()
    }

    /// Adds a kind.
    pub fn with_kind(&self, kind: impl Into<String>) -> GroupVersionKind {
        GroupVersionKind {
            group: self.group.clone(),
            version: self.version.clone(),
            kind: kind.into(),
        }
    }
}

impl fmt::Display for GroupVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            f.write_str(&self.version)
        } else {
            write!(f, "{}/{}", self.group, self.version)
        }
    }
}

/// A kind in a group-version: what `apiVersion` + `kind` name in an object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct GroupVersionKind {
    /// Group name; empty for the core group.
    pub group: String,
    /// Version name.
    pub version: String,
    /// Kind, in CamelCase (`Deployment`).
    pub kind: String,
}

impl GroupVersionKind {
    /// Builds a GVK from its parts.
    pub fn new(
        group: impl Into<String>,
        version: impl Into<String>,
        kind: impl Into<String>,
    ) -> Self {
        Self {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
        }
    }

    /// Builds a GVK from an object's `apiVersion` and `kind`.
    pub fn from_api_version_kind(api_version: &str, kind: &str) -> Option<Self> {
        GroupVersion::parse(api_version).map(|gv| gv.with_kind(kind))
    }

    /// The group-version part.
    pub fn group_version(&self) -> GroupVersion {
        GroupVersion::new(self.group.clone(), self.version.clone())
    }

    /// The `apiVersion` string.
    pub fn api_version(&self) -> String {
        self.group_version().to_string()
    }

    /// The group-kind part.
    pub fn group_kind(&self) -> GroupKind {
        GroupKind::new(self.group.clone(), self.kind.clone())
    }
}

impl fmt::Display for GroupVersionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, Kind={}", self.group_version(), self.kind)
    }
}

/// A resource (plural, lowercase) in a group-version: what a URL path names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct GroupVersionResource {
    /// Group name; empty for the core group.
    pub group: String,
    /// Version name.
    pub version: String,
    /// Resource, plural and lowercase (`deployments`).
    pub resource: String,
}

impl GroupVersionResource {
    /// Builds a GVR from its parts.
    pub fn new(
        group: impl Into<String>,
        version: impl Into<String>,
        resource: impl Into<String>,
    ) -> Self {
        Self {
            group: group.into(),
            version: version.into(),
            resource: resource.into(),
        }
    }

    /// The group-resource part.
    pub fn group_resource(&self) -> GroupResource {
        GroupResource::new(self.group.clone(), self.resource.clone())
    }
}

impl fmt::Display for GroupVersionResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            write!(f, "{}/{}", self.version, self.resource)
        } else {
            write!(f, "{}/{}/{}", self.group, self.version, self.resource)
        }
    }
}

/// A resource in a group, without version: what error messages name
/// (`deployments.apps "web" not found`, `configmaps "x" not found`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct GroupResource {
    /// Group name; empty for the core group.
    pub group: String,
    /// Resource, plural and lowercase; may carry a subresource (`pods/status`) in messages.
    pub resource: String,
}

impl GroupResource {
    /// Builds a group-resource from its parts.
    pub fn new(group: impl Into<String>, resource: impl Into<String>) -> Self {
        Self {
            group: group.into(),
            resource: resource.into(),
        }
    }
}

impl fmt::Display for GroupResource {
    /// `resource.group`, or just `resource` for the core group, as apimachinery prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            f.write_str(&self.resource)
        } else {
            write!(f, "{}.{}", self.resource, self.group)
        }
    }
}

/// A kind in a group, without version: what `Invalid` errors name
/// (`Deployment.apps "web" is invalid`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct GroupKind {
    /// Group name; empty for the core group.
    pub group: String,
    /// Kind, in CamelCase.
    pub kind: String,
}

impl GroupKind {
    /// Builds a group-kind from its parts.
    pub fn new(group: impl Into<String>, kind: impl Into<String>) -> Self {
        Self {
            group: group.into(),
            kind: kind.into(),
        }
    }
}

impl fmt::Display for GroupKind {
    /// `Kind.group`, or just `Kind` for the core group.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            f.write_str(&self.kind)
        } else {
            write!(f, "{}.{}", self.kind, self.group)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_api_version() {
        let cases: &[(&str, Option<(&str, &str)>)] = &[
            // core group
            ("v1", Some(("", "v1"))),
            // named group
            ("apps/v1", Some(("apps", "v1"))),
            (
                "rbac.authorization.k8s.io/v1",
                Some(("rbac.authorization.k8s.io", "v1")),
            ),
            // malformed
            ("", None),
            ("/v1", None),
            ("apps/", None),
            ("a/b/c", None),
        ];
        for (input, want) in cases {
            let got = GroupVersion::parse(input);
            assert_eq!(
                got,
                want.map(|(g, v)| GroupVersion::new(g, v)),
                "input {input:?}"
            );
        }
    }

    #[test]
    fn display_matches_apimachinery() {
        assert_eq!(GroupVersion::new("", "v1").to_string(), "v1");
        assert_eq!(GroupVersion::new("apps", "v1").to_string(), "apps/v1");
        assert_eq!(
            GroupResource::new("", "configmaps").to_string(),
            "configmaps"
        );
        assert_eq!(
            GroupResource::new("apps", "deployments").to_string(),
            "deployments.apps"
        );
        assert_eq!(
            GroupKind::new("apps", "Deployment").to_string(),
            "Deployment.apps"
        );
        assert_eq!(
            GroupVersionKind::new("apps", "v1", "Deployment").to_string(),
            "apps/v1, Kind=Deployment"
        );
    }
}
