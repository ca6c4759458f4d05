//! The thread-safe store and Indexer the informer keeps its objects in (client-go's
//! `ThreadSafeStore` and `Indexer`).
//!
//! Objects are `Arc<K>`, keyed `namespace/name` (`name` for cluster-scoped objects).
//! Named indexes map each object to index values (the built-in
//! [`NAMESPACE_INDEX`]; [`by_owner`] and [`by_label`] build others; any closure will
//! do), and answer "which objects have this value" without a scan.
//!
//! Reads never hold the lock while they copy: the maps are persistent (`imbl`), so a
//! reader takes an O(1) snapshot under a read lock and walks it afterwards, and a
//! writer never waits for a reader's walk. (client-go copies every pointer of the
//! store while holding its lock.)

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use parking_lot::RwLock;

use kubeforge_client::api::Resource;

/// The index every [`Indexer`] has: objects by namespace (client-go's
/// `NamespaceIndex`).
pub const NAMESPACE_INDEX: &str = "namespace";

/// What an index computes for an object: the values it is filed under (client-go's
/// `IndexFunc`).
pub type IndexFn<K> = Arc<dyn Fn(&K) -> Vec<String> + Send + Sync>;

/// The cache key of an object: `namespace/name`, or `name` without a namespace
/// (client-go's `MetaNamespaceKeyFunc`).
pub fn key_of<K: Resource>(obj: &K) -> String {
    let meta = obj.meta();
    let name = meta.name.unwrap_or_default();
    match meta.namespace {
        Some(ns) if !ns.is_empty() => format!("{ns}/{name}"),
        _ => name.to_owned(),
    }
}

/// A key's namespace (`None` for cluster-scoped keys) and name (client-go's
/// `SplitMetaNamespaceKey`).
pub fn split_key(key: &str) -> (Option<&str>, &str) {
    match key.split_once('/') {
        Some((ns, name)) => (Some(ns), name),
        None => (None, key),
    }
}

/// The namespace index function (client-go's `MetaNamespaceIndexFunc`).
pub fn namespace_index<K: Resource>() -> IndexFn<K> {
    Arc::new(|obj: &K| vec![obj.meta().namespace.unwrap_or_default().to_owned()])
}

/// An index by owner: `owners(obj)` gives the UIDs of an object's owners (for
/// k8s-openapi types, `obj.metadata.owner_references`' `uid`s), and the index files
/// the object under each of them, so `by_index("owner", uid)` lists what an object
/// owns.
pub fn by_owner<K, F>(owners: F) -> IndexFn<K>
where
    F: Fn(&K) -> Vec<String> + Send + Sync + 'static,
{
    Arc::new(owners)
}

/// An index by the value of one label (objects without it are not filed).
pub fn by_label<K: Resource>(label: &str) -> IndexFn<K> {
    let label = label.to_owned();
    Arc::new(move |obj: &K| {
        obj.meta()
            .labels
            .and_then(|l| l.get(&label))
            .map(|v| vec![v.clone()])
            .unwrap_or_default()
    })
}

/// Adding an index failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    /// An index of that name exists already.
    #[error("index {0:?} already exists")]
    Exists(String),
}

type Keys = imbl::HashSet<Arc<str>>;

struct Index<K> {
    func: IndexFn<K>,
    /// Index value → keys filed under it.
    values: imbl::HashMap<String, Keys>,
}

impl<K> Clone for Index<K> {
    fn clone(&self) -> Self {
        Index {
            func: self.func.clone(),
            values: self.values.clone(),
        }
    }
}

impl<K> Index<K> {
    fn file(&mut self, key: &Arc<str>, obj: &K) {
        for value in (self.func)(obj) {
            self.values.entry(value).or_default().insert(key.clone());
        }
    }

    fn unfile(&mut self, key: &Arc<str>, obj: &K) {
        for value in (self.func)(obj) {
            if let Some(keys) = self.values.get_mut(&value) {
                keys.remove(key);
                if keys.is_empty() {
                    self.values.remove(&value);
                }
            }
        }
    }
}

struct State<K> {
    items: imbl::HashMap<Arc<str>, Arc<K>>,
    indexes: BTreeMap<String, Index<K>>,
}

impl<K> Clone for State<K> {
    fn clone(&self) -> Self {
        State {
            items: self.items.clone(),
            indexes: self.indexes.clone(),
        }
    }
}

impl<K> State<K> {
    fn put(&mut self, key: Arc<str>, obj: Arc<K>) {
        let old = self.items.insert(key.clone(), obj.clone());
        for index in self.indexes.values_mut() {
            if let Some(old) = &old {
                index.unfile(&key, old);
            }
            index.file(&key, &obj);
        }
    }

    fn remove(&mut self, key: &str) {
        if let Some((key, old)) = self.items.remove_with_key(key) {
            for index in self.indexes.values_mut() {
                index.unfile(&key, &old);
            }
        }
    }
}

/// A thread-safe, indexed store of objects (client-go's `Indexer` over a
/// `ThreadSafeStore`). Cheap to share behind an `Arc`; every method takes `&self`.
pub struct Indexer<K> {
    state: RwLock<State<K>>,
}

impl<K> fmt::Debug for Indexer<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state.read();
        f.debug_struct("Indexer")
            .field("objects", &st.items.len())
            .field("indexes", &st.indexes.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl<K: Resource + Send + Sync + 'static> Default for Indexer<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Resource + Send + Sync + 'static> Indexer<K> {
    /// An empty store with the namespace index.
    pub fn new() -> Self {
        let mut indexes = BTreeMap::new();
        indexes.insert(
            NAMESPACE_INDEX.to_owned(),
            Index {
                func: namespace_index(),
                values: imbl::HashMap::new(),
            },
        );
        Indexer {
            state: RwLock::new(State {
                items: imbl::HashMap::new(),
                indexes,
            }),
        }
    }

    /// Adds an index and files every object already stored under it (client-go's
    /// `AddIndexers`, which since 1.26 also works after objects were added).
    ///
    /// # Errors
    ///
    /// [`IndexError::Exists`] if an index of that name exists.
    pub fn add_index(&self, name: &str, func: IndexFn<K>) -> Result<(), IndexError> {
        let mut st = self.state.write();
        if st.indexes.contains_key(name) {
            return Err(IndexError::Exists(name.to_owned()));
        }
        let mut index = Index {
            func,
            values: imbl::HashMap::new(),
        };
        for (key, obj) in &st.items {
            index.file(key, obj);
        }
        st.indexes.insert(name.to_owned(), index);
        Ok(())
    }

    /// Stores `obj` under its key, replacing what was there (client-go's `Add` and
    /// `Update` are the same operation).
    pub fn add(&self, obj: Arc<K>) {
        let key: Arc<str> = key_of(obj.as_ref()).into();
        self.state.write().put(key, obj);
    }

    /// Stores `obj` under `key`, which the caller computed already (the informer has
    /// it from the FIFO).
    pub(crate) fn add_with_key(&self, key: &str, obj: Arc<K>) {
        self.state.write().put(key.into(), obj);
    }

    /// Same as [`add`](Self::add).
    pub fn update(&self, obj: Arc<K>) {
        self.add(obj);
    }

    /// Removes the object stored under `obj`'s key.
    pub fn delete(&self, obj: &K) {
        self.delete_key(&key_of(obj));
    }

    /// Removes the object stored under `key`.
    pub fn delete_key(&self, key: &str) {
        self.state.write().remove(key);
    }

    /// Replaces the whole contents with `objs` (client-go's `Replace`). The new state
    /// is built aside and swapped in, so readers see either the old or the new one.
    pub fn replace(&self, objs: Vec<Arc<K>>) {
        let mut fresh = {
            let st = self.state.read();
            State {
                items: imbl::HashMap::new(),
                indexes: st
                    .indexes
                    .iter()
                    .map(|(name, index)| {
                        (
                            name.clone(),
                            Index {
                                func: index.func.clone(),
                                values: imbl::HashMap::new(),
                            },
                        )
                    })
                    .collect(),
            }
        };
        for obj in objs {
            let key: Arc<str> = key_of(obj.as_ref()).into();
            fresh.put(key, obj);
        }
        let mut st = self.state.write();
        // An index added while we built: file the new objects under it too.
        for (name, index) in &st.indexes {
            if !fresh.indexes.contains_key(name) {
                let mut index = Index {
                    func: index.func.clone(),
                    values: imbl::HashMap::new(),
                };
                for (key, obj) in &fresh.items {
                    index.file(key, obj);
                }
                fresh.indexes.insert(name.clone(), index);
            }
        }
        *st = fresh;
    }

    /// The object stored under `key`.
    pub fn get_by_key(&self, key: &str) -> Option<Arc<K>> {
        self.state.read().items.get(key).cloned()
    }

    /// The object stored under `obj`'s key.
    pub fn get(&self, obj: &K) -> Option<Arc<K>> {
        self.get_by_key(&key_of(obj))
    }

    /// Every object (in no particular order).
    pub fn list(&self) -> Vec<Arc<K>> {
        let items = self.state.read().items.clone();
        items.values().cloned().collect()
    }

    /// Every key.
    pub fn list_keys(&self) -> Vec<String> {
        let items = self.state.read().items.clone();
        items.keys().map(|k| k.to_string()).collect()
    }

    /// How many objects are stored.
    pub fn len(&self) -> usize {
        self.state.read().items.len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The objects filed under `value` in index `name` (none for an unknown index or
    /// value; client-go's `ByIndex`).
    pub fn by_index(&self, name: &str, value: &str) -> Vec<Arc<K>> {
        let (items, keys) = {
            let st = self.state.read();
            let keys = st
                .indexes
                .get(name)
                .and_then(|i| i.values.get(value))
                .cloned();
            (st.items.clone(), keys)
        };
        keys.map(|keys| keys.iter().filter_map(|k| items.get(k).cloned()).collect())
            .unwrap_or_default()
    }

    /// The keys filed under `value` in index `name` (client-go's `IndexKeys`).
    pub fn index_keys(&self, name: &str, value: &str) -> Vec<String> {
        let keys = {
            let st = self.state.read();
            st.indexes
                .get(name)
                .and_then(|i| i.values.get(value))
                .cloned()
        };
        keys.map(|keys| keys.iter().map(|k| k.to_string()).collect())
            .unwrap_or_default()
    }

    /// The values index `name` has objects under (client-go's `ListIndexFuncValues`).
    pub fn list_index_values(&self, name: &str) -> Vec<String> {
        let values = {
            let st = self.state.read();
            st.indexes.get(name).map(|i| i.values.clone())
        };
        values
            .map(|v| v.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The objects that `obj` would be filed with in index `name`: those sharing one
    /// of its values (client-go's `Index`).
    pub fn index(&self, name: &str, obj: &K) -> Vec<Arc<K>> {
        let (items, index) = {
            let st = self.state.read();
            (st.items.clone(), st.indexes.get(name).cloned())
        };
        let Some(index) = index else {
            return Vec::new();
        };
        let mut keys = Keys::new();
        for value in (index.func)(obj) {
            if let Some(k) = index.values.get(&value) {
                keys.extend(k.iter().cloned());
            }
        }
        keys.iter().filter_map(|k| items.get(k).cloned()).collect()
    }

    /// The names of the indexes.
    pub fn index_names(&self) -> Vec<String> {
        self.state.read().indexes.keys().cloned().collect()
    }

    /// A consistent read-only view of the whole store at this moment, for many reads
    /// without taking the lock again.
    pub fn snapshot(&self) -> Snapshot<K> {
        Snapshot {
            state: self.state.read().clone(),
        }
    }
}

/// The store as it was at one moment (see [`Indexer::snapshot`]).
pub struct Snapshot<K> {
    state: State<K>,
}

impl<K> fmt::Debug for Snapshot<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("objects", &self.state.items.len())
            .finish()
    }
}

impl<K> Snapshot<K> {
    /// The object under `key`.
    pub fn get_by_key(&self, key: &str) -> Option<&Arc<K>> {
        self.state.items.get(key)
    }

    /// Every object.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<K>> {
        self.state.items.values()
    }

    /// The objects filed under `value` in index `name`.
    pub fn by_index<'a>(&'a self, name: &str, value: &str) -> impl Iterator<Item = &'a Arc<K>> {
        self.state
            .indexes
            .get(name)
            .and_then(|i| i.values.get(value))
            .into_iter()
            .flat_map(move |keys| keys.iter().filter_map(move |k| self.state.items.get(k)))
    }

    /// How many objects.
    pub fn len(&self) -> usize {
        self.state.items.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.state.items.is_empty()
    }
}
