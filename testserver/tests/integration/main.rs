//! The testserver integration tests: every test talks HTTP over a real socket to a
//! real server started in-process (or drives it with the installed kubectl).

/// Helpers: JSON client, watch reader, kubectl runner.
mod support;

/// Server-side apply and managed fields.
mod apply;
/// Malformed and invalid requests, limits, and the panic guard.
mod bad_input;
/// Create, get, update, patch, delete and subresources on individual objects.
mod crud;
/// Custom kinds registered at start-up: discovery, REST, status, apply, kubectl.
mod custom;
/// Discovery (legacy and aggregated), /version, health, GET /, OpenAPI, tables.
mod discovery;
/// Fault injection: failures, delays, lost answers, warnings, closed watches.
mod faults;
/// fieldValidation: unknown and duplicate fields.
mod fields;
/// kubectl against the server, over TLS.
mod kubectl;
/// List: selectors, pagination, resourceVersion semantics.
mod list;
/// Namespace lifecycle and the namespace controller.
mod namespaces;
/// One generic REST test run over every resource the server serves.
mod rest;
/// TLS, HTTP/2, kubeconfig, and the standalone binary.
mod serving;
/// The storage conformance suite on the in-memory backend.
mod storage;
/// Watch: events, selector transitions, bookmarks, initial events, 410, the checker.
mod watch;
