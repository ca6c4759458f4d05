//! kubeforge-testserver: a Kubernetes-API-conformant apiserver, as a library you start
//! inside a test ([`TestServer`]) and as the standalone `kubeforge-apiserver` binary.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let _ = rustls::crypto::ring::default_provider().install_default();
//! let server = kubeforge_testserver::TestServer::start().await?;
//! let resp = reqwest::get(format!("{}/version", server.base_url())).await?;
//! assert_eq!(resp.status(), 200);
//! # Ok(())
//! # }
//! ```
//!
//! # Layout
//!
//! A request flows `server` (TCP, TLS, HTTP/1.1 and HTTP/2) → `pipeline` (panic guard,
//! request info) → `handlers` (resources) or `apis` (discovery, OpenAPI, version,
//! health). Resource handlers use the `registry` (the table of built-in resources and
//! the generic REST store), which writes to [`storage`] and reads from the per-resource
//! watch `cache`. `controllers` run what kube-controller-manager would (namespace
//! deletion). Every failure is a Kubernetes `Status`; a panicking handler becomes a 500
//! and the server keeps serving.
//!
//! Until authentication and authorization land, every request is served as a
//! cluster admin.

mod apis;
mod apiserver;
mod apply;
mod cache;
mod config;
mod controllers;
mod handlers;
mod harness;
mod object;
pub mod options;
mod patch;
mod pipeline;
mod protobuf;
mod registry;
mod request_info;
mod schema;
mod server;
pub mod storage;
pub mod tls;

pub use config::Config;
pub use harness::{Fault, TestServer, TestServerBuilder, watch_check};
pub use registry::{CustomResource, InvalidCustomResource};
pub use server::{ServeError, run};

/// Renders an admin kubeconfig for a server at `server_url` (YAML).
pub fn kubeconfig(server_url: &str, tls: Option<&tls::TlsMaterial>) -> String {
    harness::render_kubeconfig(server_url, tls)
}
