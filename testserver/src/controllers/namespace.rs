//! The namespace controller: empties terminating namespaces and then removes them.
//!
//! A deleted namespace is marked Terminating (`deletionTimestamp`, phase
//! `Terminating`) and keeps the `kubernetes` entry of `spec.finalizers`. This
//! controller deletes every namespaced object in it (objects with finalizers go when
//! their finalizers are removed), publishes upstream's deletion conditions, and once
//! nothing is left removes the `kubernetes` finalizer through `/finalize`, which
//! deletes the namespace. kube-controller-manager does this in a cluster; envtest has
//! no such controller, so namespaces there never go away.

use std::sync::Arc;
use std::time::Duration;

use kubeforge_client::core::{DeleteOptions, ObjectMetaExt};
use serde_json::{Map, Value, json};

use crate::apiserver::ApiServer;
use crate::registry::store::{Owner, Part, Store, timestamp};
use crate::registry::strategy::NAMESPACE_FINALIZER;

/// How often terminating namespaces are re-checked while work remains (objects
/// waiting for their finalizers).
/// The namespace controller's field manager (it runs in the controller manager
/// upstream).
const MANAGER: &str = "kube-controller-manager";

const RETRY: Duration = Duration::from_millis(500);

pub(super) async fn run(server: Arc<ApiServer>) {
    let Some(ns_res) = server.registry.lookup("", "v1", "namespaces").cloned() else {
        return;
    };
    let Some(cache) = server.registry.cache(&ns_res).cloned() else {
        return;
    };
    let mut changes = cache.subscribe();
    loop {
        changes.borrow_and_update();
        let terminating: Vec<Value> = cache
            .snapshot()
            .items
            .values()
            .filter_map(|o| serde_json::from_slice::<Value>(o.bytes()).ok())
            .filter(|ns| ns.pointer("/metadata/deletionTimestamp").is_some())
            .collect();
        let mut pending = false;
        for ns in &terminating {
            let name = ns.name().unwrap_or_default().to_owned();
            // A pass that panics is a bug, but must not end the controller for the rest
            // of the server's life: log it and retry.
            let pass = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(sync(
                &server, &name, ns,
            )))
            .await;
            match pass {
                Ok(Ok(done)) => pending |= !done,
                Ok(Err(e)) => {
                    tracing::debug!(namespace = %name, error = %e, "namespace deletion pass failed; retrying");
                    pending = true;
                }
                Err(_) => {
                    tracing::error!(namespace = %name, "namespace deletion pass panicked; retrying");
                    pending = true;
                }
            }
        }
        let wait = async {
            if pending {
                tokio::time::sleep(RETRY).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            r = changes.changed() => if r.is_err() { return },
            () = wait => {}
            () = server.shutdown.cancelled() => return,
        }
    }
}

/// One deletion pass over a terminating namespace; `Ok(true)` when it is finished.
async fn sync(server: &Arc<ApiServer>, ns: &str, ns_obj: &Value) -> Result<bool, String> {
    let mut remaining: Vec<(String, usize)> = Vec::new();
    let mut finalizers_remaining: Vec<(String, usize)> = Vec::new();
    for res in server.registry.namespaced_stored() {
        let Some(cache) = server.registry.cache(&res) else {
            continue;
        };
        cache.wait_fresh().await.map_err(|e| e.to_string())?;
        let prefix = res.namespace_prefix(ns).unwrap_or_default();
        let snapshot = cache.snapshot();
        let names: Vec<String> = snapshot
            .items
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(_, o)| o.name.clone())
            .collect();
        if names.is_empty() {
            continue;
        }
        let store = Store::new(server, &res);
        let mut left = 0;
        let mut with_finalizers = std::collections::BTreeMap::<String, usize>::new();
        for name in &names {
            match store.delete(ns, name, &DeleteOptions::default()).await {
                Ok(d) if d.gone => {}
                Ok(d) => {
                    left += 1;
                    if let Ok(v) = serde_json::from_slice::<Value>(&d.written.bytes) {
                        for f in v
                            .pointer("/metadata/finalizers")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                        {
                            if let Some(f) = f.as_str() {
                                *with_finalizers.entry(f.to_owned()).or_default() += 1;
                            }
                        }
                    }
                }
                Err(e) if e.0.is_not_found() => {}
                Err(e) => return Err(e.0.message),
            }
        }
        if left > 0 {
            remaining.push((format!("{}.{}", res.plural, res.gvk.group), left));
            finalizers_remaining.extend(with_finalizers);
        }
    }
    let Some(ns_res) = server.registry.lookup("", "v1", "namespaces") else {
        return Ok(true);
    };
    let store = Store::new(server, ns_res);
    if !remaining.is_empty() {
        write_conditions(&store, ns, ns_obj, &remaining, &finalizers_remaining).await;
        return Ok(false);
    }
    // Empty: drop our finalizer; the last one gone deletes the namespace.
    let Some(cur) = store.current(ns, ns).await.map_err(|e| e.0.message)? else {
        return Ok(true);
    };
    let mut obj = cur.obj;
    let finalizers: Vec<Value> = obj
        .get("spec")
        .and_then(|s| s.get("finalizers"))
        .and_then(Value::as_array)
        .map(|f| {
            f.iter()
                .filter(|v| v.as_str() != Some(NAMESPACE_FINALIZER))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    match obj.get_mut("spec") {
        Some(Value::Object(spec)) => {
            spec.insert("finalizers".into(), json!(finalizers));
        }
        _ => {
            obj.insert("spec".into(), json!({"finalizers": finalizers}));
        }
    }
    store
        .update(ns, ns, obj, Part::Finalize, false, Owner::Update(MANAGER))
        .await
        .map_err(|e| e.0.message)?;
    server.terminating_namespaces.lock().remove(ns);
    Ok(true)
}

fn condition(kind: &str, status: &str, reason: &str, message: &str, now: &str) -> Value {
    json!({"type": kind, "status": status, "lastTransitionTime": now, "reason": reason, "message": message})
}

/// Publishes upstream's five namespace deletion conditions.
async fn write_conditions(
    store: &Store<'_>,
    ns: &str,
    ns_obj: &Value,
    remaining: &[(String, usize)],
    finalizers: &[(String, usize)],
) {
    let now = timestamp(jiff::Timestamp::now());
    let content: Vec<String> = remaining
        .iter()
        .map(|(r, n)| format!("{r} has {n} resource instances"))
        .collect();
    let finalizer_msg: Vec<String> = finalizers
        .iter()
        .map(|(f, n)| format!("{f} in {n} resource instances"))
        .collect();
    let conditions = vec![
        condition(
            "NamespaceDeletionDiscoveryFailure",
            "False",
            "ResourcesDiscovered",
            "All resources successfully discovered",
            &now,
        ),
        condition(
            "NamespaceDeletionGroupVersionParsingFailure",
            "False",
            "ParsedGroupVersions",
            "All legacy kube types successfully parsed",
            &now,
        ),
        condition(
            "NamespaceDeletionContentFailure",
            "False",
            "ContentDeleted",
            "All content successfully deleted, may be waiting on finalization",
            &now,
        ),
        condition(
            "NamespaceContentRemaining",
            "True",
            "SomeResourcesRemain",
            &format!("Some resources are remaining: {}", content.join(", ")),
            &now,
        ),
        if finalizer_msg.is_empty() {
            condition(
                "NamespaceFinalizersRemaining",
                "False",
                "ContentHasNoFinalizers",
                "All content-preserving finalizers finished",
                &now,
            )
        } else {
            condition(
                "NamespaceFinalizersRemaining",
                "True",
                "SomeFinalizersRemain",
                &format!(
                    "Some content in the namespace has finalizers remaining: {}",
                    finalizer_msg.join(", ")
                ),
                &now,
            )
        },
    ];
    let same = ns_obj
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|old| {
            old.len() == conditions.len()
                && old.iter().zip(&conditions).all(|(a, b)| {
                    a.get("message") == b.get("message") && a.get("status") == b.get("status")
                })
        });
    if same {
        return;
    }
    let Ok(Some(cur)) = store.current(ns, ns).await else {
        return;
    };
    let mut obj: Map<String, Value> = cur.obj;
    match obj.get_mut("status") {
        Some(Value::Object(status)) => {
            status.insert("conditions".into(), json!(conditions));
        }
        _ => {
            obj.insert(
                "status".into(),
                json!({"phase": "Terminating", "conditions": conditions}),
            );
        }
    }
    let _ = store
        .update(ns, ns, obj, Part::Status, false, Owner::Update(MANAGER))
        .await;
}
