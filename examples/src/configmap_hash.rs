//! `configmap-hash`: rolls Deployments when the ConfigMaps they use change.
//!
//! A Deployment does not notice when a ConfigMap it mounts changes: its pods keep
//! the old content until they restart. This controller writes a hash of every
//! ConfigMap a Deployment uses (volumes, projected volumes, `envFrom`, `env`
//! references) into an annotation of its pod template; a changed hash is a
//! changed template, so the Deployment rolls out new pods.
//!
//! How it is wired:
//!
//! - the primary type is `Deployment`; a ConfigMap change is *mapped* to the
//!   Deployments using it ([`Controller::watches`]), found through an index of
//!   Deployments by ConfigMap ([`CONFIGMAP_INDEX`]), so the mapping costs a
//!   lookup, not a scan;
//! - the reconcile reads ConfigMaps from the informer's lister (no API call),
//!   and writes only when the hash differs, with a merge patch of the one
//!   annotation.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, PodSpec};
use kubeforge_client::Client;
use kubeforge_client::api::{Api, Patch};
use kubeforge_client::core::PatchOptions;
use kubeforge_informer::controller::{Action, Controller, ObjectKey, ObjectState, Request};
use kubeforge_informer::{Lister, SharedInformerFactory};
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// The pod-template annotation holding the hash.
pub const HASH_ANNOTATION: &str = "kubeforge.dev/config-hash";

/// The index of Deployments by the `namespace/name` of each ConfigMap they use.
pub const CONFIGMAP_INDEX: &str = "configmap";

/// The field manager of our writes.
const MANAGER: &str = "configmap-hash";

/// What a reconcile can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Writing the annotation failed.
    #[error("annotating {key}: {source}")]
    Patch {
        /// The Deployment.
        key: ObjectKey,
        /// The client's error.
        source: kubeforge_client::Error,
    },
}

/// The names of the ConfigMaps a pod spec uses, sorted, without duplicates.
pub fn configmaps_used(spec: &PodSpec) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for volume in spec.volumes.iter().flatten() {
        if let Some(cm) = &volume.config_map {
            names.insert(cm.name.clone());
        }
        let projected = volume.projected.as_ref().and_then(|p| p.sources.as_ref());
        for source in projected.into_iter().flatten() {
            if let Some(cm) = &source.config_map {
                names.insert(cm.name.clone());
            }
        }
    }
    let containers = spec
        .init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter());
    for container in containers {
        for from in container.env_from.iter().flatten() {
            if let Some(cm) = &from.config_map_ref {
                names.insert(cm.name.clone());
            }
        }
        for env in container.env.iter().flatten() {
            let key_ref = env
                .value_from
                .as_ref()
                .and_then(|v| v.config_map_key_ref.as_ref());
            if let Some(r) = key_ref {
                names.insert(r.name.clone());
            }
        }
    }
    names.retain(|n| !n.is_empty());
    names
}

/// The ConfigMaps `deployment` uses, as `namespace/name` keys.
fn used_keys(deployment: &Deployment) -> Vec<String> {
    let namespace = deployment.metadata.namespace.as_deref().unwrap_or_default();
    deployment
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .map(configmaps_used)
        .unwrap_or_default()
        .into_iter()
        .map(|name| format!("{namespace}/{name}"))
        .collect()
}

/// A SHA-256 over the used ConfigMaps, in name order: each name, then its data and
/// binary data in key order (a missing ConfigMap hashes as absent, so creating
/// it later changes the hash too).
pub fn config_hash(
    names: &BTreeSet<String>,
    lookup: impl Fn(&str) -> Option<Arc<ConfigMap>>,
) -> String {
    let mut hasher = ring::digest::Context::new(&ring::digest::SHA256);
    // Every field is length-prefixed so no two inputs can run together.
    let mut put = |bytes: &[u8]| {
        hasher.update(&(bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    };
    for name in names {
        put(name.as_bytes());
        match lookup(name) {
            None => put(b"absent"),
            Some(cm) => {
                put(b"present");
                for (k, v) in cm.data.iter().flatten() {
                    put(k.as_bytes());
                    put(v.as_bytes());
                }
                put(b"binary");
                for (k, v) in cm.binary_data.iter().flatten() {
                    put(k.as_bytes());
                    put(&v.0);
                }
            }
        }
    }
    let digest = hasher.finish();
    let mut hex = String::with_capacity(64);
    for b in digest.as_ref() {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

/// What the reconciles share.
#[derive(Debug)]
pub struct Context {
    client: Client,
    configmaps: Lister<ConfigMap>,
}

/// Brings one Deployment's annotation up to date.
///
/// # Errors
///
/// The patch failed; the controller retries with backoff.
pub async fn reconcile(req: Request<Deployment>, ctx: Arc<Context>) -> Result<Action, Error> {
    let ObjectState::Present(deployment) = req.state() else {
        // Gone: nothing of ours outlives it.
        return Ok(Action::Done);
    };
    let Some(template) = deployment.spec.as_ref().map(|s| &s.template) else {
        return Ok(Action::Done);
    };
    let names = template
        .spec
        .as_ref()
        .map(configmaps_used)
        .unwrap_or_default();
    let namespace = req.key().namespace().unwrap_or_default();
    let configmaps = ctx.configmaps.namespaced(namespace);
    let hash = config_hash(&names, |name| configmaps.get(name));
    let current = template
        .metadata
        .as_ref()
        .and_then(|m| m.annotations.as_ref())
        .and_then(|a| a.get(HASH_ANNOTATION));
    if current == Some(&hash) {
        return Ok(Action::Done);
    }
    tracing::info!(deployment = %req.key(), %hash, "config changed, rolling");
    let api = Api::<Deployment>::namespaced(ctx.client.clone(), namespace);
    let patch = json!({
        "spec": { "template": { "metadata": { "annotations": { HASH_ANNOTATION: hash } } } }
    });
    api.patch(
        req.key().name(),
        &PatchOptions {
            field_manager: Some(MANAGER.to_owned()),
            ..PatchOptions::default()
        },
        &Patch::Merge(&patch),
    )
    .await
    .map_err(|source| Error::Patch {
        key: req.key().clone(),
        source,
    })?;
    Ok(Action::Done)
}

/// Runs the controller until `shutdown` (all namespaces, or one).
///
/// # Errors
///
/// The controller could not start.
pub async fn run(
    client: Client,
    namespace: Option<&str>,
    shutdown: CancellationToken,
) -> Result<(), kubeforge_informer::controller::ControllerError> {
    let factory = match namespace {
        Some(ns) => SharedInformerFactory::namespaced(client.clone(), ns),
        None => SharedInformerFactory::new(client.clone()),
    };
    let deployments = factory.informer::<Deployment>();
    let configmaps = factory.informer::<ConfigMap>();
    // Before start: the index is built as objects arrive.
    if let Err(e) = deployments.add_index(CONFIGMAP_INDEX, Arc::new(used_keys)) {
        tracing::warn!(error = %e, "index already present");
    }
    let by_configmap = deployments.indexer();
    let context = Arc::new(Context {
        client,
        configmaps: configmaps.lister(),
    });
    let controller = Controller::new(deployments)
        .name("configmap-hash")
        .workers(4)
        .watches(configmaps, move |cm: &ConfigMap| {
            let key = ObjectKey::of(cm);
            by_configmap
                .index_keys(CONFIGMAP_INDEX, key.as_str())
                .into_iter()
                .map(ObjectKey::from_cache_key)
                .collect()
        });
    let result = controller.run(reconcile, context, shutdown).await;
    factory.shutdown();
    result
}
