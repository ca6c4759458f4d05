//! The request pipeline: every request flows through these steps, in this order
//! (kube-apiserver's handler chain, trimmed to what the server does today).
//!
//! ```text
//!  TCP / TLS accept ─► HTTP/1.1 or HTTP/2 (hyper)            server.rs
//!      │
//!      ▼
//!  ┌ panic guard ────────────────────────────────────────┐  a panicking handler
//!  │  request info (path grammar)      request_info.rs   │  becomes a 500 Status;
//!  │      │                                              │  the server keeps serving
//!  │      ├─ resource request ─► handlers::resource      │
//!  │      │      decode ─► strategy (defaults,           │
//!  │      │      validation) ─► registry store ─► storage │
//!  │      │      (reads: watch cache) ─► encode          │
//!  │      └─ otherwise ─► apis: discovery, openapi,      │
//!  │                     version, health, GET /          │
//!  └─────────────────────────────────────────────────────┘
//! ```
//!
//! Authentication, audit, impersonation, the in-flight limit and authorization slot
//! in between request info and routing as they land; until then every request is
//! served as a cluster admin.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use futures::FutureExt;
use http::Request;
use hyper::body::Incoming;
use kubeforge_client::core::Status;

use crate::apiserver::ApiServer;
use crate::handlers::{self, respond};
use crate::request_info::RequestInfo;

/// Serves one request. Never fails: every failure is a response.
pub(crate) async fn handle(server: Arc<ApiServer>, req: Request<Incoming>) -> respond::Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let resp = match AssertUnwindSafe(route(server, req)).catch_unwind().await {
        Ok(resp) => resp,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            tracing::error!(%method, %path, panic = %what, "handler panicked; answered 500");
            respond::status(&Status::internal_error(&format!(
                "the server has encountered an unexpected condition: {what}"
            )))
        }
    };
    tracing::debug!(%method, %path, status = resp.status().as_u16(), elapsed_us = started.elapsed().as_micros() as u64, "request");
    resp
}

async fn route(server: Arc<ApiServer>, req: Request<Incoming>) -> respond::Response {
    let (parts, body) = req.into_parts();
    let info = match RequestInfo::parse(
        &parts.method,
        parts.uri.path(),
        parts.uri.query().unwrap_or_default(),
    ) {
        Ok(info) => info,
        Err(_) => return respond::not_found(),
    };
    // Faults a test armed (none in normal operation: one uncontended lock).
    let effects = server.faults.take(&info);
    if effects.panic {
        panic!("fault injected: handler panic for {}", info.path);
    }
    if let Some(delay) = effects.delay {
        tokio::time::sleep(delay).await;
    }
    if let Some(status) = &effects.fail {
        return respond::with_warnings(respond::status(status), &effects.warnings);
    }
    let resp = if info.is_resource_request {
        handlers::resource(&server, &info, &parts, body).await
    } else {
        crate::apis::serve(&server, &info, &parts).await
    };
    let resp = match &effects.fail_after_commit {
        Some(status) => respond::status(status),
        None => resp,
    };
    respond::with_warnings(resp, &effects.warnings)
}
