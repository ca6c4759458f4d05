//! kubeforge-client: the Kubernetes API machinery vocabulary, and (as it grows) an HTTP
//! client for any Kubernetes apiserver.
//!
//! # Layout
//!
//! - [`core`]: types with no I/O that both clients and the kubeforge apiserver speak:
//!   group/version/kind and resource names ([`core::GroupVersionKind`],
//!   [`core::ApiResource`]), object metadata ([`core::ObjectMeta`] and JSON accessors),
//!   label and field selectors ([`core::LabelSelector`], [`core::FieldSelector`]),
//!   [`core::Status`] and the client [`core::Error`], watch events
//!   ([`core::WatchEvent`]) and request parameters ([`core::ListOptions`],
//!   [`core::DeleteOptions`]…).
//!
//! The server in `kubeforge-testserver` uses exactly these types, so a client and the
//! server can never disagree on what a selector means or how a `Status` looks.
//!
//! | client-go / apimachinery | kubeforge |
//! | --- | --- |
//! | `schema.GroupVersionKind` | [`core::GroupVersionKind`] |
//! | `labels.Selector`, `fields.Selector` | [`core::LabelSelector`], [`core::FieldSelector`] |
//! | `metav1.Status`, `errors.IsNotFound` | [`core::Status`], [`core::Error::is_not_found`] |
//! | `watch.Event` | [`core::WatchEvent`] |
//! | `metav1.ListOptions`, `metav1.DeleteOptions` | [`core::ListOptions`], [`core::DeleteOptions`] |

pub mod config;
pub mod core;
