//! Local, indexed, always-converging caches of Kubernetes objects: the client-go
//! `tools/cache` concepts (Reflector, DeltaFIFO, Indexer, Lister, SharedInformer) in
//! async Rust.
//!
//! The pipeline is client-go's:
//! `ListWatch -> Reflector -> DeltaFIFO -> (Indexer + event handlers)`. Objects in the
//! cache are `Arc<K>`: shared and immutable, so handing one out costs a reference
//! count, and nobody can mutate the cache behind its back.

pub mod factory;
pub mod fifo;
pub mod handler;
pub mod informer;
pub mod lister;
pub mod reflector;
pub mod store;

pub use factory::SharedInformerFactory;
pub use fifo::{Deleted, Delta, DeltaFifo, DeltaType};
pub use handler::{HandlerFns, HandlerOptions, ResourceEventHandler};
pub use informer::{HandlerRegistration, SharedIndexInformer};
pub use lister::{Lister, NamespaceLister};
pub use reflector::{ListWatch, Reflector, ReflectorOptions, ReflectorStore};
pub use store::{IndexFn, Indexer, NAMESPACE_INDEX, key_of, split_key};
