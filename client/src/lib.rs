//! kubeforge-client: a Kubernetes client for controllers, with the API machinery
//! vocabulary the kubeforge apiserver shares.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let server = kubeforge_testserver::TestServer::builder().tls(true).start().await?;
//! # let config = kubeforge_client::__doctest::config(server.base_url(), server.ca_pem());
//! use k8s_openapi::api::core::v1::Pod;
//! use kubeforge_client::{Client, api::Api, core::ListOptions};
//!
//! let client = Client::new(config)?;
//! let pods = Api::<Pod>::namespaced(client, "default");
//! for pod in pods.list(&ListOptions::default().labels("app=web")).await? {
//!     println!("{:?}", pod.metadata.name);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Layout
//!
//! - [`Client`]: one apiserver; cheap to clone. Built from a [`Config`] by
//!   [`Client::new`] or [`Client::builder`] (throttling, retries, warnings, user
//!   agent).
//! - [`api`]: [`Api<K>`](api::Api) for typed objects (k8s-openapi types with the
//!   `k8s-openapi` feature, and [`CustomResource`] types), [`DynamicObject`](api::DynamicObject)
//!   with [`Discovery`](api::Discovery) and a [`RestMapper`](api::RestMapper), and
//!   metadata-only [`PartialObjectMetadata`](api::PartialObjectMetadata).
//! - [`transport`]: what happens to each request: rustls with the ring provider,
//!   HTTP/2, gzip, [`RateLimit`](transport::RateLimit),
//!   [`RetryPolicy`](transport::RetryPolicy), [`WarningHandler`](transport::WarningHandler).
//! - [`config`]: where the server is and who we are.
//! - [`core`]: types with no I/O that both clients and the kubeforge apiserver speak:
//!   group/version/kind and resource names ([`core::GroupVersionKind`],
//!   [`core::ApiResource`]), object metadata ([`core::ObjectMeta`] and JSON accessors),
//!   label and field selectors ([`core::LabelSelector`], [`core::FieldSelector`]),
//!   [`core::Status`] and the client [`Error`], watch events
//!   ([`core::WatchEvent`]) and request parameters ([`core::ListOptions`],
//!   [`core::DeleteOptions`]…).
//!
//! The server in `kubeforge-testserver` uses exactly the `core` types, so a client and
//! the server can never disagree on what a selector means or how a `Status` looks.
//!
//! # Errors
//!
//! Every call fails with the one [`Error`]. Ask it what happened with its predicates
//! ([`Error::is_not_found`], [`Error::is_conflict`], [`Error::is_gone`]…), and read
//! the server's [`Status`](core::Status) (with its field causes) through
//! [`Error::status`].
//!
//! # Cancellation
//!
//! Every async call is cancelled by dropping its future (or stream): the request is
//! abandoned and its connection reused or closed. Reads are safe to cancel; a
//! cancelled write may or may not have reached the server. Each call's `# Cancel
//! safety` section says which it is.
//!
//! # k8s-openapi
//!
//! With the `k8s-openapi` feature every k8s-openapi type is a [`Resource`](api::Resource).
//! As k8s-openapi asks of libraries, this crate enables no Kubernetes version: your
//! binary depends on `k8s-openapi` with one `v1_*` feature.
//!
//! | client-go / apimachinery | kubeforge |
//! | --- | --- |
//! | `rest.Config`, `rest.RESTClient` | [`Config`], [`Client`] |
//! | typed clientset, `dynamic`, `metadata` clients | [`api::Api`] with typed, [`api::DynamicObject`], [`api::PartialObjectMetadata`] |
//! | `discovery.DiscoveryClient`, `restmapper` | [`api::Discovery`], [`api::RestMapper`] |
//! | `flowcontrol.NewTokenBucketRateLimiter`, `WarningHandler` | [`transport::RateLimit`], [`transport::WarningHandler`] |
//! | `schema.GroupVersionKind` | [`core::GroupVersionKind`] |
//! | `labels.Selector`, `fields.Selector` | [`core::LabelSelector`], [`core::FieldSelector`] |
//! | `metav1.Status`, `errors.IsNotFound` | [`core::Status`], [`Error::is_not_found`] |
//! | `watch.Event` | [`core::WatchEvent`] |
//! | `metav1.ListOptions`, `metav1.DeleteOptions` | [`core::ListOptions`], [`core::DeleteOptions`] |

pub mod api;
mod client;
pub mod config;
pub mod core;
pub mod transport;

pub use client::{Client, ClientBuilder, ServerVersion};
pub use config::Config;
pub use core::Error;

/// Generates a custom resource's object type from its spec struct.
///
/// ```
/// use kubeforge_client::{CustomResource, api::Resource};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(CustomResource, Serialize, Deserialize, Clone, Debug)]
/// #[resource(group = "example.com", version = "v1", namespaced, status = "WidgetStatus")]
/// pub struct WidgetSpec {
///     pub size: u32,
/// }
///
/// #[derive(Serialize, Deserialize, Clone, Debug)]
/// pub struct WidgetStatus {
///     pub ready: bool,
/// }
///
/// let w = Widget::new("w1", WidgetSpec { size: 3 });
/// assert_eq!(Widget::plural(&()), "widgets");
/// assert_eq!(
///     serde_json::to_value(&w).unwrap(),
///     serde_json::json!({"apiVersion": "example.com/v1", "kind": "Widget",
///                        "metadata": {"name": "w1"}, "spec": {"size": 3}}),
/// );
/// ```
///
/// The derive reads `#[resource(...)]`:
///
/// | key | meaning | default |
/// | --- | --- | --- |
/// | `group = "…"` | API group (`""` for the core group) | required |
/// | `version = "…"` | version | required |
/// | `kind = "…"` | kind, and the name of the generated struct | the spec struct's name without `Spec` |
/// | `plural = "…"` | resource name in URLs | the lowercase kind, pluralized (`policy` → `policies`) |
/// | `namespaced` | namespaced (else cluster-scoped) | cluster-scoped |
/// | `status = "Type"` | type of `status`, as `Option<Type>` | no status field |
/// | `crate = "path"` | path to this crate | `::kubeforge_client` |
///
/// The generated struct has public fields `metadata` ([`core::ObjectMeta`]), `spec`
/// and, with `status`, `status`; derives `Clone` and `Debug` (so the spec and status
/// types must too); serializes with `apiVersion` and `kind`; implements
/// [`api::Resource`] and has `new(name, spec)`.
pub use kubeforge_client_derive::CustomResource;

#[doc(hidden)]
pub mod __private {
    pub use serde;
}

/// Set-up for doc examples: a [`Config`] reaching a server at `base_url` that trusts
/// `ca_pem`. Not part of the API.
#[doc(hidden)]
pub mod __doctest {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;

    /// A config for a test server.
    pub fn config(base_url: &str, ca_pem: Option<&str>) -> crate::Config {
        crate::Config {
            cluster_url: base_url.to_owned(),
            default_namespace: "default".to_owned(),
            root_certs: ca_pem
                .map(|pem| {
                    CertificateDer::pem_slice_iter(pem.as_bytes())
                        .filter_map(Result::ok)
                        .map(|c| c.as_ref().to_vec())
                        .collect()
                })
                .unwrap_or_default(),
            accept_invalid_certs: false,
            tls_server_name: None,
            identity: None,
            credentials: crate::config::Credentials::None,
            proxy_url: None,
        }
    }
}
