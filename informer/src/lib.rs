//! Local, indexed, always-converging caches of Kubernetes objects: the client-go
//! `tools/cache` concepts (Reflector, DeltaFIFO, Indexer, Lister, SharedInformer) in
//! async Rust.
//!
//! The pipeline is client-go's:
//! `ListWatch -> Reflector -> DeltaFIFO -> (Indexer + event handlers)`. Objects in the
//! cache are `Arc<K>`: shared and immutable, so handing one out costs a reference
//! count, and nobody can mutate the cache behind its back.
//!
//! This crate is being built; see the project README for what works today.

pub mod fifo;
pub mod lister;
pub mod reflector;
pub mod store;

pub use reflector::ReflectorStore;
