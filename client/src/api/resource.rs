//! [`Resource`]: what a type must say about itself to be used with [`Api`](super::Api).

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::core::{ApiResource, ObjectMeta, Scope};

/// A Kubernetes resource type: its kind, group, version, plural and scope, and read
/// access to the metadata of its objects.
///
/// Implemented for every k8s-openapi type (feature `k8s-openapi`), by
/// [`#[derive(CustomResource)]`](crate::CustomResource) for custom types, and by
/// [`DynamicObject`](super::DynamicObject) and
/// [`PartialObjectMetadata`](super::PartialObjectMetadata), whose type information
/// comes at run time as an [`ApiResource`].
///
/// `DynamicType` is that run-time information: `()` for types that know themselves
/// statically, [`ApiResource`] for the dynamic ones.
pub trait Resource: Sized {
    /// What the type needs at run time to know its resource (`()` when nothing).
    type DynamicType: Send + Sync + 'static;

    /// Whether reads ask the server for `PartialObjectMetadata` instead of whole
    /// objects (only [`PartialObjectMetadata`](super::PartialObjectMetadata) does).
    #[doc(hidden)]
    const METADATA_ONLY: bool = false;

    /// The kind (`Deployment`).
    fn kind(dt: &Self::DynamicType) -> Cow<'_, str>;
    /// The API group (`apps`; empty for the core group).
    fn group(dt: &Self::DynamicType) -> Cow<'_, str>;
    /// The version (`v1`).
    fn version(dt: &Self::DynamicType) -> Cow<'_, str>;
    /// The plural resource name used in URLs (`deployments`).
    fn plural(dt: &Self::DynamicType) -> Cow<'_, str>;
    /// Namespaced or cluster-scoped.
    fn scope(dt: &Self::DynamicType) -> Scope;
    /// The object's metadata.
    fn meta(&self) -> MetaRef<'_>;

    /// Drops `metadata.managedFields`, which caches rarely need and which can be as
    /// large as the rest of the object (informers do it by default). Types without
    /// managed fields keep the default, which does nothing.
    fn clear_managed_fields(&mut self) {}

    /// `apiVersion` of the objects (`apps/v1`, `v1`).
    fn api_version(dt: &Self::DynamicType) -> Cow<'_, str> {
        let (group, version) = (Self::group(dt), Self::version(dt));
        if group.is_empty() {
            version
        } else {
            Cow::Owned(format!("{group}/{version}"))
        }
    }

    /// The whole description as an [`ApiResource`] (verbs are unknown statically and
    /// left empty).
    fn api_resource(dt: &Self::DynamicType) -> ApiResource {
        ApiResource {
            group: Self::group(dt).into_owned(),
            version: Self::version(dt).into_owned(),
            kind: Self::kind(dt).into_owned(),
            plural: Self::plural(dt).into_owned(),
            scope: Self::scope(dt),
            verbs: Vec::new(),
        }
    }
}

/// The [`ApiResource`] of a statically known type, e.g. to list Pods' metadata only:
/// `Api::<PartialObjectMetadata>::all_with(client, &api_resource::<Pod>())`.
pub fn api_resource<K: Resource<DynamicType = ()>>() -> ApiResource {
    K::api_resource(&())
}

/// A borrowed view of the metadata every object has, whatever its metadata type
/// (k8s-openapi's `ObjectMeta` or [`core::ObjectMeta`](crate::core::ObjectMeta)).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[non_exhaustive]
pub struct MetaRef<'a> {
    /// `metadata.name`.
    pub name: Option<&'a str>,
    /// `metadata.namespace`.
    pub namespace: Option<&'a str>,
    /// `metadata.uid`.
    pub uid: Option<&'a str>,
    /// `metadata.resourceVersion`.
    pub resource_version: Option<&'a str>,
    /// `metadata.generation`.
    pub generation: Option<i64>,
    /// `metadata.labels`.
    pub labels: Option<&'a BTreeMap<String, String>>,
    /// `metadata.annotations`.
    pub annotations: Option<&'a BTreeMap<String, String>>,
    /// Whether `metadata.deletionTimestamp` is set (the object is being deleted).
    pub deleting: bool,
    /// `metadata.finalizers`.
    pub finalizers: Option<&'a [String]>,
    /// `metadata.ownerReferences`.
    pub owner_references: OwnerRefs<'a>,
}

/// A borrowed view of one owner reference, whatever the metadata type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct OwnerRef<'a> {
    /// `apiVersion` of the owner (`apps/v1`).
    pub api_version: &'a str,
    /// Kind of the owner.
    pub kind: &'a str,
    /// Name of the owner (in the dependent's namespace, or cluster-scoped).
    pub name: &'a str,
    /// UID of the owner.
    pub uid: &'a str,
    /// Whether the owner is the managing controller.
    pub controller: bool,
}

impl OwnerRef<'_> {
    /// The group of `api_version` (empty for the core group).
    pub fn group(&self) -> &str {
        self.api_version
            .rsplit_once('/')
            .map_or("", |(group, _)| group)
    }
}

/// `metadata.ownerReferences` of an object, borrowed ([`OwnerRefs::iter`]).
#[derive(Clone, Copy, Default)]
pub struct OwnerRefs<'a>(OwnerRefsInner<'a>);

#[derive(Clone, Copy, Default)]
enum OwnerRefsInner<'a> {
    #[default]
    None,
    Core(&'a [crate::core::OwnerReference]),
    #[cfg(feature = "k8s-openapi")]
    K8s(&'a [k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference]),
}

impl<'a> OwnerRefs<'a> {
    /// Every owner reference, in order.
    pub fn iter(&self) -> impl Iterator<Item = OwnerRef<'a>> + use<'a> {
        let core = match self.0 {
            OwnerRefsInner::Core(refs) => refs,
            _ => &[],
        };
        let core = core.iter().map(|r| OwnerRef {
            api_version: &r.api_version,
            kind: &r.kind,
            name: &r.name,
            uid: &r.uid,
            controller: r.controller == Some(true),
        });
        #[cfg(feature = "k8s-openapi")]
        let core = {
            let k8s = match self.0 {
                OwnerRefsInner::K8s(refs) => refs,
                _ => &[],
            };
            core.chain(k8s.iter().map(|r| OwnerRef {
                api_version: &r.api_version,
                kind: &r.kind,
                name: &r.name,
                uid: &r.uid,
                controller: r.controller == Some(true),
            }))
        };
        core
    }

    /// The managing controller's reference, if any (`controller: true`).
    pub fn controller(&self) -> Option<OwnerRef<'a>> {
        self.iter().find(|r| r.controller)
    }

    /// How many references there are.
    pub fn len(&self) -> usize {
        match self.0 {
            OwnerRefsInner::None => 0,
            OwnerRefsInner::Core(refs) => refs.len(),
            #[cfg(feature = "k8s-openapi")]
            OwnerRefsInner::K8s(refs) => refs.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl std::fmt::Debug for OwnerRefs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for OwnerRefs<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl<'a> From<&'a ObjectMeta> for MetaRef<'a> {
    fn from(m: &'a ObjectMeta) -> Self {
        MetaRef {
            name: m.name.as_deref(),
            namespace: m.namespace.as_deref(),
            uid: m.uid.as_deref(),
            resource_version: m.resource_version.as_deref(),
            generation: m.generation,
            labels: m.labels.as_ref(),
            annotations: m.annotations.as_ref(),
            deleting: m.deletion_timestamp.is_some(),
            finalizers: m.finalizers.as_deref(),
            owner_references: OwnerRefs(match &m.owner_references {
                Some(refs) => OwnerRefsInner::Core(refs),
                None => OwnerRefsInner::None,
            }),
        }
    }
}

/// The scope of a k8s-openapi type, read from its `Scope` marker type.
///
/// Implemented for k8s-openapi's `NamespaceResourceScope` and `ClusterResourceScope`;
/// subresource types (`Scale`, `Eviction`, …) have no scope of their own and are not
/// [`Resource`]s.
pub trait StaticScope {
    /// The scope.
    const SCOPE: Scope;
}

#[cfg(feature = "k8s-openapi")]
mod k8s {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta as K8sObjectMeta;

    impl StaticScope for k8s_openapi::NamespaceResourceScope {
        const SCOPE: Scope = Scope::Namespaced;
    }

    impl StaticScope for k8s_openapi::ClusterResourceScope {
        const SCOPE: Scope = Scope::Cluster;
    }

    impl<'a> From<&'a K8sObjectMeta> for MetaRef<'a> {
        fn from(m: &'a K8sObjectMeta) -> Self {
            MetaRef {
                name: m.name.as_deref(),
                namespace: m.namespace.as_deref(),
                uid: m.uid.as_deref(),
                resource_version: m.resource_version.as_deref(),
                generation: m.generation,
                labels: m.labels.as_ref(),
                annotations: m.annotations.as_ref(),
                deleting: m.deletion_timestamp.is_some(),
                finalizers: m.finalizers.as_deref(),
                owner_references: OwnerRefs(match &m.owner_references {
                    Some(refs) => OwnerRefsInner::K8s(refs),
                    None => OwnerRefsInner::None,
                }),
            }
        }
    }

    impl<K> Resource for K
    where
        K: k8s_openapi::Resource + k8s_openapi::Metadata<Ty = K8sObjectMeta>,
        K::Scope: StaticScope,
    {
        type DynamicType = ();

        fn kind(_: &()) -> Cow<'_, str> {
            Cow::Borrowed(K::KIND)
        }
        fn group(_: &()) -> Cow<'_, str> {
            Cow::Borrowed(K::GROUP)
        }
        fn version(_: &()) -> Cow<'_, str> {
            Cow::Borrowed(K::VERSION)
        }
        fn plural(_: &()) -> Cow<'_, str> {
            Cow::Borrowed(K::URL_PATH_SEGMENT)
        }
        fn scope(_: &()) -> Scope {
            <K::Scope as StaticScope>::SCOPE
        }
        fn api_version(_: &()) -> Cow<'_, str> {
            Cow::Borrowed(K::API_VERSION)
        }
        fn meta(&self) -> MetaRef<'_> {
            MetaRef::from(self.metadata())
        }
        fn clear_managed_fields(&mut self) {
            self.metadata_mut().managed_fields = None;
        }
    }
}
