//! Local, indexed, always-converging caches of Kubernetes objects: the client-go
//! `tools/cache` concepts (Reflector, DeltaFIFO, Indexer, Lister, SharedInformer) in
//! async Rust.
//!
//! This crate is being built; see the project README for what works today.
