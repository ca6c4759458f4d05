//! A finalizer helper for reconcilers: clean up before an object goes.
//!
//! A controller that creates things outside the object (cloud resources,
//! objects in other namespaces, entries in a database) must clean them up
//! before the object disappears. Kubernetes' answer is a finalizer: a name in
//! `metadata.finalizers` that keeps a deleted object around (with
//! `deletionTimestamp` set) until whoever put it there removes it. [`finalizer`]
//! runs that protocol around a reconcile:
//!
//! - the object is live and lacks the finalizer: it is added, and nothing else
//!   happens yet — the write is a change, so the object is reconciled again,
//!   now with the finalizer in place (no work is ever done on an object the
//!   finalizer does not protect yet);
//! - the object is live and has it: [`Event::Apply`];
//! - the object is being deleted and has it: [`Event::Cleanup`], and once that
//!   succeeds the finalizer is removed, letting the deletion finish;
//! - the object is being deleted without it: nothing to do.
//!
//! Both writes carry the object's `resourceVersion` as a precondition, so they
//! never overwrite a concurrent change of the finalizer list (another
//! controller adding its own, a user removing ours): the write fails with a
//! conflict, the reconcile returns the error, and the retry sees the new state.

use std::future::Future;
use std::sync::Arc;

use kubeforge_client::Error as ClientError;
use kubeforge_client::api::{Api, Patch, Resource};
use kubeforge_client::core::PatchOptions;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::controller::Action;

/// What the reconcile passed to [`finalizer`] is asked to do.
#[derive(Debug)]
pub enum Event<K> {
    /// The object is live and protected by the finalizer: reconcile it.
    Apply(Arc<K>),
    /// The object is being deleted: clean up what it owns outside the cluster's
    /// garbage collection. The finalizer is removed when this succeeds; an error
    /// keeps it (and the object) until a retry succeeds.
    Cleanup(Arc<K>),
}

/// Why [`finalizer`] failed.
#[derive(Debug, thiserror::Error)]
pub enum FinalizerError<E> {
    /// The reconcile of a live object failed.
    #[error("reconcile failed: {0}")]
    Apply(#[source] E),
    /// The cleanup failed; the finalizer stays.
    #[error("cleanup failed: {0}")]
    Cleanup(#[source] E),
    /// Adding the finalizer failed (a conflict if the object changed meanwhile).
    #[error("adding the finalizer failed: {0}")]
    AddFinalizer(#[source] ClientError),
    /// Removing the finalizer failed (a conflict if the object changed meanwhile).
    #[error("removing the finalizer failed: {0}")]
    RemoveFinalizer(#[source] ClientError),
    /// The object has no name or no resourceVersion: it was not read from the server.
    #[error("the object has no name or resourceVersion; pass an object read from the server")]
    NotStored,
    /// The finalizer name is not a qualified name (`example.com/cleanup`).
    #[error(
        "invalid finalizer name {0:?}: it must be a qualified name such as example.com/cleanup"
    )]
    InvalidName(String),
}

impl<E> FinalizerError<E> {
    /// Whether a write lost a race with another change of the object (retry).
    pub fn is_conflict(&self) -> bool {
        match self {
            FinalizerError::AddFinalizer(e) | FinalizerError::RemoveFinalizer(e) => e.is_conflict(),
            _ => false,
        }
    }
}

/// Runs `reconcile` for `obj` under the finalizer `name` (see the
/// [module docs](self) for the protocol). `api` must reach the object: namespaced
/// to its namespace, or cluster-scoped.
///
/// Returns what `reconcile` returned, or [`Action::Done`] when the call only
/// added the finalizer (the write triggers the next reconcile) or had nothing
/// to do.
///
/// # Errors
///
/// [`FinalizerError`]: the reconcile's error, or a failed finalizer write.
pub async fn finalizer<K, F, Fut, E>(
    api: &Api<K>,
    name: &str,
    obj: Arc<K>,
    reconcile: F,
) -> Result<Action, FinalizerError<E>>
where
    K: Resource + DeserializeOwned + Send + Sync + 'static,
    F: FnOnce(Event<K>) -> Fut,
    Fut: Future<Output = Result<Action, E>>,
{
    if !is_qualified(name) {
        return Err(FinalizerError::InvalidName(name.to_owned()));
    }
    let meta = obj.meta();
    let (Some(object_name), Some(rv)) = (meta.name, meta.resource_version) else {
        return Err(FinalizerError::NotStored);
    };
    let current: Vec<&str> = meta
        .finalizers
        .unwrap_or_default()
        .iter()
        .map(String::as_str)
        .collect();
    let has = current.contains(&name);
    match (meta.deleting, has) {
        (false, false) => {
            let mut wanted = current.clone();
            wanted.push(name);
            write_finalizers(api, object_name, rv, &wanted)
                .await
                .map_err(FinalizerError::AddFinalizer)?;
            Ok(Action::Done)
        }
        (false, true) => reconcile(Event::Apply(obj.clone()))
            .await
            .map_err(FinalizerError::Apply),
        (true, true) => {
            // Copied out: the object itself moves into the cleanup.
            let (object_name, rv) = (object_name.to_owned(), rv.to_owned());
            let rest: Vec<String> = current
                .iter()
                .filter(|f| **f != name)
                .map(|f| (*f).to_owned())
                .collect();
            let action = reconcile(Event::Cleanup(obj.clone()))
                .await
                .map_err(FinalizerError::Cleanup)?;
            let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
            match write_finalizers(api, &object_name, &rv, &rest).await {
                Ok(()) => Ok(action),
                // Gone already: our finalizer was the last and someone else removed it.
                Err(e) if e.is_not_found() => Ok(action),
                Err(e) => Err(FinalizerError::RemoveFinalizer(e)),
            }
        }
        (true, false) => Ok(Action::Done),
    }
}

/// Sets `metadata.finalizers` to `finalizers` if the object is still at `rv`.
async fn write_finalizers<K>(
    api: &Api<K>,
    name: &str,
    rv: &str,
    finalizers: &[&str],
) -> Result<(), ClientError>
where
    K: Resource + DeserializeOwned + Send + 'static,
{
    // A merge patch replaces lists whole; the resourceVersion makes it a
    // compare-and-swap, so a concurrent change of the list is never lost.
    let patch = json!({
        "metadata": { "resourceVersion": rv, "finalizers": finalizers }
    });
    api.patch(name, &PatchOptions::default(), &Patch::Merge(&patch))
        .await
        .map(drop)
}

/// A finalizer must be a qualified name with a prefix (`example.com/cleanup`): the
/// server refuses unprefixed ones other than its own built-in finalizers.
fn is_qualified(name: &str) -> bool {
    name.contains('/') && kubeforge_client::core::validation::qualified_name(name).is_empty()
}

#[cfg(test)]
mod tests {
    use super::is_qualified;

    #[test]
    fn finalizer_names_must_be_qualified() {
        for good in ["example.com/cleanup", "a/b", "kubeforge.dev/echo_1.x"] {
            assert!(is_qualified(good), "{good}");
        }
        for bad in [
            "cleanup",
            "/x",
            "example.com/",
            "Example.com/x",
            "-a.com/x",
            "a.com/-x",
            "a/b/c",
        ] {
            assert!(!is_qualified(bad), "{bad}");
        }
    }
}
