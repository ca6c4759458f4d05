//! Work queues with client-go's `util/workqueue` semantics.
//!
//! This crate is being built; see the project README for what works today.
