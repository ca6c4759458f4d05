//! The kubeforge-client integration tests: one binary; API tests run against a real
//! `TestServer` over TLS.

// Kubeconfig loading and merging, credentials, exec plugins, in-cluster config.
mod config;
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
