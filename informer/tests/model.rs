//! Model-based tests: random operation sequences run against the Indexer and the
//! DeltaFIFO and against small reference models written for clarity, not speed;
//! after every step the two must agree. Plus a multi-threaded check that readers of
//! the Indexer always see a consistent store while writers run.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use k8s_openapi::api::core::v1::ConfigMap;
use kubeforge_informer::ReflectorStore;
use kubeforge_informer::fifo::{Deleted, Delta, DeltaFifo, KnownObjects};
use kubeforge_informer::store::{self, Indexer};
use proptest::prelude::*;

/// An object: a ConfigMap `ns/name` whose resourceVersion is its version and whose
/// `tier` label is `tier`.
fn obj(ns: &str, name: &str, version: u32, tier: &str) -> Arc<ConfigMap> {
    let mut cm = ConfigMap::default();
    cm.metadata.namespace = Some(ns.to_owned());
    cm.metadata.name = Some(name.to_owned());
    cm.metadata.resource_version = Some(version.to_string());
    cm.metadata.labels = Some([("tier".to_owned(), tier.to_owned())].into());
    Arc::new(cm)
}

fn version(cm: &ConfigMap) -> u32 {
    cm.metadata
        .resource_version
        .as_deref()
        .and_then(|v| v.parse().ok())
        .unwrap_or_default()
}

fn tier(cm: &ConfigMap) -> String {
    cm.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get("tier").cloned())
        .unwrap_or_default()
}

const NAMESPACES: [&str; 2] = ["a", "b"];
const NAMES: [&str; 4] = ["w", "x", "y", "z"];
const TIERS: [&str; 2] = ["web", "db"];

fn key_strategy() -> impl Strategy<Value = (usize, usize)> {
    (0..NAMESPACES.len(), 0..NAMES.len())
}

fn key((ns, name): (usize, usize)) -> String {
    format!("{}/{}", NAMESPACES[ns], NAMES[name])
}

// ---------------------------------------------------------------------------
// Indexer

#[derive(Debug, Clone)]
enum StoreOp {
    Put((usize, usize), u32, usize),
    Delete((usize, usize)),
    Replace(Vec<((usize, usize), u32, usize)>),
}

fn store_op() -> impl Strategy<Value = StoreOp> {
    prop_oneof![
        4 => (key_strategy(), 0..100u32, 0..TIERS.len()).prop_map(|(k, v, t)| StoreOp::Put(k, v, t)),
        2 => key_strategy().prop_map(StoreOp::Delete),
        1 => prop::collection::vec((key_strategy(), 0..100u32, 0..TIERS.len()), 0..6).prop_map(StoreOp::Replace),
    ]
}

fn make((ns, name): (usize, usize), v: u32, t: usize) -> Arc<ConfigMap> {
    obj(NAMESPACES[ns], NAMES[name], v, TIERS[t])
}

/// The indexer must answer every query as a scan of the model would.
fn check_store(indexer: &Indexer<ConfigMap>, model: &BTreeMap<String, Arc<ConfigMap>>) {
    let mut keys = indexer.list_keys();
    keys.sort();
    assert_eq!(keys, model.keys().cloned().collect::<Vec<_>>());
    for (k, o) in model {
        let got = indexer.get_by_key(k).expect("stored object");
        assert!(Arc::ptr_eq(&got, o), "{k}");
    }
    let names = |v: Vec<Arc<ConfigMap>>| {
        let mut n: Vec<String> = v.iter().map(|o| store::key_of(o.as_ref())).collect();
        n.sort();
        n
    };
    for ns in NAMESPACES {
        let expected: Vec<String> = model
            .iter()
            .filter(|(_, o)| o.metadata.namespace.as_deref() == Some(ns))
            .map(|(k, _)| k.clone())
            .collect();
        assert_eq!(
            names(indexer.by_index(store::NAMESPACE_INDEX, ns)),
            expected
        );
    }
    for t in TIERS {
        let expected: Vec<String> = model
            .iter()
            .filter(|(_, o)| tier(o) == t)
            .map(|(k, _)| k.clone())
            .collect();
        assert_eq!(names(indexer.by_index("tier", t)), expected);
        let mut keys = indexer.index_keys("tier", t);
        keys.sort();
        assert_eq!(keys, expected);
    }
    let values: BTreeSet<String> = model.values().map(|o| tier(o)).collect();
    let got: BTreeSet<String> = indexer.list_index_values("tier").into_iter().collect();
    assert_eq!(got, values);
}

proptest! {
    #[test]
    fn the_indexer_answers_as_a_scan_of_a_map_would(ops in prop::collection::vec(store_op(), 0..60)) {
        let indexer = Indexer::<ConfigMap>::new();
        indexer.add_index("tier", store::by_label("tier")).expect("new index");
        let mut model: BTreeMap<String, Arc<ConfigMap>> = BTreeMap::new();
        for op in ops {
            match op {
                StoreOp::Put(k, v, t) => {
                    let o = make(k, v, t);
                    model.insert(key(k), o.clone());
                    indexer.add(o);
                }
                StoreOp::Delete(k) => {
                    model.remove(&key(k));
                    indexer.delete_key(&key(k));
                }
                StoreOp::Replace(items) => {
                    model.clear();
                    let objs: Vec<_> = items.into_iter().map(|(k, v, t)| {
                        let o = make(k, v, t);
                        model.insert(key(k), o.clone());
                        o
                    }).collect();
                    // The last of two objects under one key wins, as in the model.
                    indexer.replace(objs);
                }
            }
            check_store(&indexer, &model);
        }
    }
}

#[test]
fn readers_always_see_a_consistent_store_while_writers_run() {
    let indexer = Arc::new(Indexer::<ConfigMap>::new());
    indexer
        .add_index("tier", store::by_label("tier"))
        .expect("new index");
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let (indexer, stop) = (indexer.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut i: u32 = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    i = i.wrapping_add(1);
                    let name = format!("o{}", i % 64);
                    let t = TIERS[((i / 64 + w) % 2) as usize];
                    if i.is_multiple_of(7) {
                        indexer.delete_key(&format!("a/{name}"));
                    } else {
                        indexer.add(obj("a", &name, i, t));
                    }
                }
            })
        })
        .collect();
    for _ in 0..3_000 {
        let snap = indexer.snapshot();
        // Every object filed under a tier is in the store, with that tier, and every
        // object is filed under its own tier exactly once.
        let mut filed = 0;
        for t in TIERS {
            for o in snap.by_index("tier", t) {
                assert_eq!(tier(o), t);
                let k = store::key_of(o.as_ref());
                assert!(Arc::ptr_eq(snap.get_by_key(&k).expect("in the store"), o));
                filed += 1;
            }
        }
        assert_eq!(filed, snap.len());
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in writers {
        w.join().expect("writer");
    }
}

// ---------------------------------------------------------------------------
// DeltaFIFO

#[derive(Debug, Clone)]
enum FifoOp {
    Add((usize, usize), u32),
    Update((usize, usize), u32),
    Delete((usize, usize), u32),
    Replace(Vec<((usize, usize), u32)>),
    Resync,
    Pop,
}

fn fifo_op() -> impl Strategy<Value = FifoOp> {
    prop_oneof![
        3 => (key_strategy(), 0..50u32).prop_map(|(k, v)| FifoOp::Add(k, v)),
        3 => (key_strategy(), 0..50u32).prop_map(|(k, v)| FifoOp::Update(k, v)),
        2 => (key_strategy(), 0..50u32).prop_map(|(k, v)| FifoOp::Delete(k, v)),
        1 => prop::collection::vec((key_strategy(), 0..50u32), 0..5).prop_map(FifoOp::Replace),
        1 => Just(FifoOp::Resync),
        4 => Just(FifoOp::Pop),
    ]
}

/// A delta as the model writes it: kind, version, and for deletes whether it is a
/// tombstone.
#[derive(Debug, Clone, PartialEq, Eq)]
enum D {
    Added(u32),
    Updated(u32),
    Deleted(u32, bool),
    Replaced(u32),
    Sync(u32),
}

fn as_d(d: &Delta<ConfigMap>) -> D {
    match d {
        Delta::Added(o) => D::Added(version(o)),
        Delta::Updated(o) => D::Updated(version(o)),
        Delta::Deleted(Deleted::Object(o)) => D::Deleted(version(o), false),
        Delta::Deleted(Deleted::FinalStateUnknown { last, .. }) => D::Deleted(version(last), true),
        Delta::Replaced(o) => D::Replaced(version(o)),
        Delta::Sync(o) => D::Sync(version(o)),
    }
}

/// client-go's DeltaFIFO, restated in the plainest terms.
#[derive(Default)]
struct FifoModel {
    queue: Vec<String>,
    items: BTreeMap<String, Vec<D>>,
    /// The informer's view: what was popped and applied (key -> version).
    known: BTreeMap<String, u32>,
    populated: bool,
    initial: usize,
}

impl FifoModel {
    fn push(&mut self, key: String, d: D) {
        let list = self.items.entry(key.clone()).or_default();
        if list.is_empty() {
            self.queue.push(key);
        }
        list.push(d);
        // Two deletes in a row: keep the later unless it is a tombstone.
        let n = list.len();
        if n >= 2
            && let (D::Deleted(..), D::Deleted(_, later_tombstone)) = (&list[n - 2], &list[n - 1])
        {
            if *later_tombstone {
                list.pop();
            } else {
                list.remove(n - 2);
            }
        }
    }

    fn newest_version(list: &[D]) -> Option<u32> {
        list.last().and_then(|d| match d {
            D::Deleted(..) => None,
            D::Added(v) | D::Updated(v) | D::Replaced(v) | D::Sync(v) => Some(*v),
        })
    }

    fn apply(&mut self, op: &FifoOp) -> Option<(String, Vec<D>)> {
        match op {
            FifoOp::Add(k, v) => {
                self.populated = true;
                self.push(key(*k), D::Added(*v));
            }
            FifoOp::Update(k, v) => {
                self.populated = true;
                self.push(key(*k), D::Updated(*v));
            }
            FifoOp::Delete(k, v) => {
                self.populated = true;
                let k = key(*k);
                if self.items.contains_key(&k) || self.known.contains_key(&k) {
                    self.push(k, D::Deleted(*v, false));
                }
            }
            FifoOp::Replace(list) => {
                let mut listed = BTreeSet::new();
                for (k, v) in list {
                    listed.insert(key(*k));
                    self.push(key(*k), D::Replaced(*v));
                }
                let waiting: Vec<(String, u32)> = self
                    .items
                    .iter()
                    .filter(|(k, _)| !listed.contains(*k))
                    .filter_map(|(k, ds)| Self::newest_version(ds).map(|v| (k.clone(), v)))
                    .collect();
                for (k, v) in waiting {
                    self.push(k, D::Deleted(v, true));
                }
                let known: Vec<(String, u32)> =
                    self.known.iter().map(|(k, v)| (k.clone(), *v)).collect();
                for (k, v) in known {
                    let deleted_last = matches!(
                        self.items.get(&k).and_then(|ds| ds.last()),
                        Some(D::Deleted(..))
                    );
                    if !listed.contains(&k) && !deleted_last {
                        self.push(k, D::Deleted(v, true));
                    }
                }
                if !self.populated {
                    self.populated = true;
                    self.initial = self.queue.len();
                }
            }
            FifoOp::Resync => {
                let known: Vec<(String, u32)> =
                    self.known.iter().map(|(k, v)| (k.clone(), *v)).collect();
                for (k, v) in known {
                    if !self.items.contains_key(&k) {
                        self.push(k, D::Sync(v));
                    }
                }
            }
            FifoOp::Pop => {
                if self.queue.is_empty() {
                    return None;
                }
                let k = self.queue.remove(0);
                let ds = self.items.remove(&k).unwrap_or_default();
                for d in &ds {
                    match d {
                        D::Deleted(..) => {
                            self.known.remove(&k);
                        }
                        D::Added(v) | D::Updated(v) | D::Replaced(v) | D::Sync(v) => {
                            self.known.insert(k.clone(), *v);
                        }
                    }
                }
                self.initial = self.initial.saturating_sub(1);
                return Some((k, ds));
            }
        }
        None
    }
}

proptest! {
    #[test]
    fn the_delta_fifo_behaves_as_client_go_describes(ops in prop::collection::vec(fifo_op(), 0..80)) {
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let indexer = Arc::new(Indexer::<ConfigMap>::new());
        let known: Arc<dyn KnownObjects<ConfigMap>> = indexer.clone();
        let fifo = DeltaFifo::new(Some(known));
        let mut model = FifoModel::default();
        for op in &ops {
            let expected = model.apply(op);
            let mk = |k: (usize, usize), v: u32| obj(NAMESPACES[k.0], NAMES[k.1], v, "web");
            match op {
                FifoOp::Add(k, v) => fifo.add(mk(*k, *v)),
                FifoOp::Update(k, v) => fifo.update(mk(*k, *v)),
                FifoOp::Delete(k, v) => fifo.delete(mk(*k, *v)),
                FifoOp::Replace(list) => fifo.replace(list.iter().map(|(k, v)| mk(*k, *v)).collect(), "1"),
                FifoOp::Resync => fifo.resync(),
                FifoOp::Pop => {
                    if fifo.is_empty() {
                        prop_assert!(expected.is_none());
                        continue;
                    }
                    // Popping applies the deltas to the indexer, as an informer does.
                    let got = rt.block_on(fifo.pop(|p| {
                        for d in &p.deltas {
                            match d {
                                Delta::Deleted(del) => indexer.delete_key(&del.key()),
                                other => indexer.add(other.object().clone()),
                            }
                        }
                        (p.key, p.deltas.iter().map(as_d).collect::<Vec<_>>())
                    }));
                    prop_assert_eq!(got, expected);
                }
            }
            prop_assert_eq!(fifo.list_keys(), model.queue.clone());
            for (k, ds) in &model.items {
                let got: Vec<D> = fifo.get_by_key(k).unwrap_or_default().iter().map(as_d).collect();
                prop_assert_eq!(&got, ds);
            }
            prop_assert_eq!(fifo.has_synced(), model.populated && model.initial == 0);
        }
    }
}
