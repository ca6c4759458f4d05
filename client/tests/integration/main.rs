//! The kubeforge-client integration tests: one binary, every test against a real
//! `TestServer` over TLS.
//!
//! When `config.rs` (kubeconfig loading and credentials, owned by the config work)
//! lands in this directory, declare it here as `mod config;`.

// Every verb of `Api<K>` on k8s-openapi types: ConfigMap, Pod, Deployment.
mod typed;
// Watches: events, bookmarks, streaming lists, metadata-only watches.
mod watch;
// Types made with `#[derive(CustomResource)]`.
mod custom;
// Discovery, the REST mapper and `DynamicObject`.
mod dynamic;
// `PartialObjectMetadata` get, list and watch.
mod metadata;
// The transport: rate limiting, retries, warnings, errors, user agent.
mod transport;
// Shared set-up.
mod support;
