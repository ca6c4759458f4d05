//! What kube-controller-manager and kube-apiserver's post-start hooks would do, built
//! in: the objects a cluster has from the start, the namespace controller, and
//! periodic storage compaction.

mod namespace;

use std::sync::Arc;

use kubeforge_client::core::CreateOptions;
use serde_json::{Map, Value, json};

use crate::apiserver::ApiServer;
use crate::registry::store::{Owner, Store};
use crate::storage::{self, Revision};

/// The field manager of what the server writes itself (upstream's bootstrap objects
/// are the apiserver's).
const MANAGER: &str = "kube-apiserver";

/// Namespaces every cluster has.
pub(crate) const SYSTEM_NAMESPACES: &[&str] =
    &["default", "kube-system", "kube-public", "kube-node-lease"];

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Creates what must exist before the first request: the system namespaces and the
/// `default/kubernetes` service.
pub(crate) async fn bootstrap(server: &Arc<ApiServer>) -> Result<(), storage::Error> {
    if let Some(ns) = server.registry.lookup("", "v1", "namespaces") {
        let store = Store::new(server, ns);
        for name in SYSTEM_NAMESPACES {
            let obj = object(
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
            );
            match store
                .create("", obj, &CreateOptions::default(), Owner::Update(MANAGER))
                .await
            {
                Ok(_) => {}
                Err(e) if e.0.is_already_exists() => {}
                Err(e) => return Err(storage::Error::Unavailable(e.0.message)),
            }
        }
    }
    if let Some(svc) = server.registry.lookup("", "v1", "services") {
        let store = Store::new(server, svc);
        let obj = object(json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"clusterIP": "10.96.0.1", "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]},
        }));
        match store
            .create(
                "default",
                obj,
                &CreateOptions::default(),
                Owner::Update(MANAGER),
            )
            .await
        {
            Ok(_) => {}
            Err(e) if e.0.is_already_exists() => {}
            Err(e) => return Err(storage::Error::Unavailable(e.0.message)),
        }
        // Seed the allocators with what is already stored (restarts on a persistent store).
        if let Some(cache) = server.registry.cache(svc) {
            for obj in cache.snapshot().items.values() {
                if let Ok(v) = serde_json::from_slice::<Value>(obj.bytes()) {
                    server.allocators.observe_service(&v);
                }
            }
        }
    }
    Ok(())
}

/// Starts the background controllers on the server's task tracker.
pub(crate) fn start(server: &Arc<ApiServer>) {
    if server.config.namespace_controller {
        let s = server.clone();
        server.tasks.spawn(tracing::Instrument::instrument(
            namespace::run(s),
            tracing::debug_span!("namespace_controller"),
        ));
    }
    if !server.config.compaction_interval.is_zero() {
        let s = server.clone();
        server.tasks.spawn(tracing::Instrument::instrument(
            compactor(s),
            tracing::debug_span!("compactor"),
        ));
    }
}

/// Compacts storage every interval to the revision seen one interval earlier, so
/// history is kept for at least one interval (kube-apiserver's scheme).
async fn compactor(server: Arc<ApiServer>) {
    let interval = server.config.compaction_interval;
    let mut previous: Option<Revision> = None;
    loop {
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = server.shutdown.cancelled() => return,
        }
        if let Some(rev) = previous
            && rev > 0
            && let Err(e) = server.storage.compact(rev).await
        {
            tracing::debug!(error = %e, revision = rev, "compaction skipped");
        }
        previous = server.storage.current_revision().await.ok();
    }
}
