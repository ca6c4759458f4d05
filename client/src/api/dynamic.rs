//! [`DynamicObject`]: any object, its type known at run time.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::resource::{MetaRef, Resource};
use crate::core::{ApiResource, ObjectMeta, Scope};

/// An object of any kind, as JSON with typed metadata (client-go's
/// `unstructured.Unstructured`). Use it with `Api::<DynamicObject>::*_with(client,
/// &api_resource)`, the [`ApiResource`] coming from [`Discovery`](super::Discovery)
/// or a [`RestMapper`](super::RestMapper).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = kubeforge_testserver::TestServer::builder().tls(true).start().await?;
/// # let client = kubeforge_client::Client::new(kubeforge_client::__doctest::config(server.base_url(), server.ca_pem()))?;
/// use kubeforge_client::api::{Api, Discovery, DynamicObject, RestMapper};
/// use kubeforge_client::core::{CreateOptions, GroupVersionKind};
///
/// let mapper = RestMapper::new(Discovery::new(client.clone()));
/// let secrets = mapper.resource_for(&GroupVersionKind::new("", "v1", "Secret")).await?;
/// let api = Api::<DynamicObject>::namespaced_with(client, "default", &secrets);
/// let secret = DynamicObject::new("token", &secrets)
///     .with_data(serde_json::json!({"stringData": {"token": "s3cr3t"}}));
/// api.create(&CreateOptions::default(), &secret).await?;
/// let read = api.get("token").await?;
/// assert_eq!(read.data["data"]["token"], "czNjcjN0");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DynamicObject {
    /// `apiVersion`.
    #[serde(
        rename = "apiVersion",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub api_version: String,
    /// `kind`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// `metadata`.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// Every other top-level field (`spec`, `status`, `data`, …).
    #[serde(flatten)]
    pub data: Map<String, Value>,
}

impl DynamicObject {
    /// An empty object of the given resource's kind, named `name`.
    pub fn new(name: &str, resource: &ApiResource) -> Self {
        DynamicObject {
            api_version: resource.api_version(),
            kind: resource.kind.clone(),
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                ..ObjectMeta::default()
            },
            data: Map::new(),
        }
    }

    /// Sets the namespace.
    pub fn within(mut self, namespace: &str) -> Self {
        self.metadata.namespace = Some(namespace.to_owned());
        self
    }

    /// Adds the top-level fields of a JSON object (`{"spec": {…}}`); anything that is
    /// not an object is ignored.
    pub fn with_data(mut self, data: Value) -> Self {
        if let Value::Object(map) = data {
            self.data.extend(map);
        }
        self
    }
}

impl Resource for DynamicObject {
    type DynamicType = ApiResource;

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
