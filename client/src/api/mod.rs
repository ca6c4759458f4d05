//! Typed, dynamic and metadata-only access to resources.
//!
//! - [`Api<K>`]: every verb on one resource type, in one namespace, across all
//!   namespaces, or at cluster scope. `K` is any [`Resource`]: k8s-openapi types
//!   (feature `k8s-openapi`), types made with
//!   [`#[derive(CustomResource)]`](crate::CustomResource), [`DynamicObject`] (any
//!   resource, described at run time by an [`ApiResource`](crate::core::ApiResource))
//!   and [`PartialObjectMetadata`] (metadata only).
//! - [`Discovery`]: what the server serves (aggregated discovery, falling back to the
//!   legacy per-group documents), cached and refreshable.
//! - [`RestMapper`]: kinds, resource names, short names and categories to
//!   [`ApiResource`](crate::core::ApiResource)s, refreshing discovery on a miss.
//!
//! | client-go | kubeforge |
//! | --- | --- |
//! | `kubernetes.Clientset` typed clients | [`Api<K>`] with k8s-openapi types |
//! | `dynamic.Interface`, `unstructured.Unstructured` | [`Api<DynamicObject>`] |
//! | `metadata.Interface`, `PartialObjectMetadata` | [`Api<PartialObjectMetadata>`] |
//! | `discovery.DiscoveryClient`, `cached/memory` | [`Discovery`] |
//! | `restmapper.DeferredDiscoveryRESTMapper`, shortcut and category expanders | [`RestMapper`] |
//! | `tools/pager.ListPager` | [`Api::list_all`] |

mod discovery;
mod dynamic;
mod list;
mod metadata;
mod params;
mod resource;
mod rest_mapper;
mod strip;
mod subresource;
mod typed;
mod watch;

pub use discovery::{
    Discovered, DiscoveredGroup, DiscoveredResource, DiscoveredVersion, Discovery,
};
pub use dynamic::DynamicObject;
pub use metadata::PartialObjectMetadata;
pub use params::Patch;
pub use resource::{MetaRef, OwnerRef, OwnerRefs, Resource, StaticScope, api_resource};
pub use rest_mapper::RestMapper;
pub use subresource::{Scale, ScaleSpec, ScaleStatus};
pub use typed::{Api, Deleted, ObjectList};

/// Decodes JSON: the bytes are checked as UTF-8 once, then parsed as a `str`.
///
/// serde_json's `from_slice` validates UTF-8 string by string while parsing, which
/// measured ~30% slower on Kubernetes objects than one vectorized `from_utf8` over
/// the whole buffer followed by `from_str` (10,000 pods: 140 ms against 105 ms).
/// Invalid UTF-8 goes through `from_slice` to get serde_json's own error.
pub(crate) fn decode_json<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
) -> Result<T, crate::core::Error> {
    match std::str::from_utf8(bytes) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(bytes),
    }
    .map_err(crate::core::Error::Decode)
}
