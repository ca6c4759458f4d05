//! [`PartialObjectMetadata`]: objects as metadata only.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::resource::{MetaRef, Resource};
use crate::core::{ApiResource, ObjectMeta, Scope};

/// An object's type and metadata without its spec or status (`meta.k8s.io/v1
/// PartialObjectMetadata`): what a controller that only needs names, labels, owners
/// or finalizers should read, at a fraction of the memory and decode time.
///
/// `Api<PartialObjectMetadata>` asks the server for this representation on get, list
/// and watch (client-go's metadata client); servers that cannot produce it send whole
/// objects, which decode to the same thing.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = kubeforge_testserver::TestServer::builder().tls(true).start().await?;
/// # let client = kubeforge_client::Client::new(kubeforge_client::__doctest::config(server.base_url(), server.ca_pem()))?;
/// use k8s_openapi::api::core::v1::Namespace;
/// use kubeforge_client::api::{Api, PartialObjectMetadata, api_resource};
/// use kubeforge_client::core::ListOptions;
///
/// let namespaces = Api::<PartialObjectMetadata>::all_with(client, &api_resource::<Namespace>());
/// let list = namespaces.list(&ListOptions::default()).await?;
/// assert!(list.items.iter().all(|ns| ns.kind == "PartialObjectMetadata"));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PartialObjectMetadata {
    /// `meta.k8s.io/v1` (or the object's own when the server sent a whole object).
    #[serde(
        rename = "apiVersion",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub api_version: String,
    /// `PartialObjectMetadata` (or the object's own kind).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// The metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
}

impl Resource for PartialObjectMetadata {
    type DynamicType = ApiResource;
    const METADATA_ONLY: bool = true;

    fn kind(dt: &ApiResource) -> Cow<'_, str> {
        Cow::Borrowed(&dt.kind)
    }
    fn group(dt: &ApiResource) -> Cow<'_, str> {
        Cow::Borrowed(&dt.group)
    }
    fn version(dt: &ApiResource) -> Cow<'_, str> {
        Cow::Borrowed(&dt.version)
    }
    fn plural(dt: &ApiResource) -> Cow<'_, str> {
        Cow::Borrowed(&dt.plural)
    }
    fn scope(dt: &ApiResource) -> Scope {
        dt.scope
    }
    fn api_resource(dt: &ApiResource) -> ApiResource {
        dt.clone()
    }
    fn meta(&self) -> MetaRef<'_> {
        MetaRef::from(&self.metadata)
    }
    fn clear_managed_fields(&mut self) {
        self.metadata.managed_fields = None;
    }
}
