//! Listers: typed, read-only views of an [`Indexer`] (client-go's generated
//! `PodLister`, `PodNamespaceLister`… in one generic type).

use std::fmt;
use std::sync::Arc;

use kubeforge_client::api::Resource;
use kubeforge_client::core::LabelSelector;
use kubeforge_client::core::selector::Labels;

use crate::store::{Indexer, NAMESPACE_INDEX};

/// Reads objects of one type from an informer's cache (client-go's `Lister`).
pub struct Lister<K> {
    indexer: Arc<Indexer<K>>,
}

impl<K> Clone for Lister<K> {
    fn clone(&self) -> Self {
        Lister {
            indexer: self.indexer.clone(),
        }
    }
}

impl<K> fmt::Debug for Lister<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lister").finish_non_exhaustive()
    }
}

/// Label maps as the selector reads them.
struct LabelsOf<'a>(Option<&'a std::collections::BTreeMap<String, String>>);

impl Labels for LabelsOf<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0?.get(key).map(String::as_str)
    }
}

fn selected<K: Resource>(selector: &LabelSelector, obj: &K) -> bool {
    selector.matches(&LabelsOf(obj.meta().labels))
}

impl<K: Resource + Send + Sync + 'static> Lister<K> {
    /// A lister over `indexer`.
    pub fn new(indexer: Arc<Indexer<K>>) -> Self {
        Lister { indexer }
    }

    /// Every object whose labels match `selector` (`LabelSelector::default()`
    /// matches everything), in every namespace.
    pub fn list(&self, selector: &LabelSelector) -> Vec<Arc<K>> {
        let snapshot = self.indexer.snapshot();
        snapshot
            .iter()
            .filter(|o| selected(selector, o.as_ref()))
            .cloned()
            .collect()
    }

    /// The cluster-scoped object called `name`.
    pub fn get(&self, name: &str) -> Option<Arc<K>> {
        self.indexer.get_by_key(name)
    }

    /// The objects of one namespace (client-go's `Pods(namespace)`).
    pub fn namespaced(&self, namespace: &str) -> NamespaceLister<K> {
        NamespaceLister {
            indexer: self.indexer.clone(),
            namespace: namespace.to_owned(),
        }
    }

    /// The indexer underneath, for index queries.
    pub fn indexer(&self) -> &Arc<Indexer<K>> {
        &self.indexer
    }
}

/// Reads objects of one namespace (client-go's `…NamespaceLister`).
pub struct NamespaceLister<K> {
    indexer: Arc<Indexer<K>>,
    namespace: String,
}

impl<K> fmt::Debug for NamespaceLister<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NamespaceLister")
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

impl<K: Resource + Send + Sync + 'static> NamespaceLister<K> {
    /// The objects of the namespace whose labels match `selector`, found through the
    /// namespace index.
    pub fn list(&self, selector: &LabelSelector) -> Vec<Arc<K>> {
        let snapshot = self.indexer.snapshot();
        snapshot
            .by_index(NAMESPACE_INDEX, &self.namespace)
            .filter(|o| selected(selector, o.as_ref()))
            .cloned()
            .collect()
    }

    /// The object called `name` in the namespace.
    pub fn get(&self, name: &str) -> Option<Arc<K>> {
        self.indexer
            .get_by_key(&format!("{}/{name}", self.namespace))
    }
}
