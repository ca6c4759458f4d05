//! ListWatch and Reflector: keep a [`ReflectorStore`] equal to what the server holds.

use std::sync::Arc;

/// What a Reflector writes into (client-go's `ReflectorStore`): the
/// [`DeltaFIFO`](crate::fifo::DeltaFifo) in an informer, or any store in tests.
///
/// Calls never block for long: they run on the reflector's task between reads of the
/// watch stream.
pub trait ReflectorStore<K>: Send + Sync {
    /// An object appeared (a watch `ADDED`).
    fn add(&self, obj: Arc<K>);
    /// An object changed (a watch `MODIFIED`).
    fn update(&self, obj: Arc<K>);
    /// An object is gone (a watch `DELETED`, carrying its last state).
    fn delete(&self, obj: Arc<K>);
    /// A fresh list replaces everything known; `resource_version` is the list's.
    fn replace(&self, list: Vec<Arc<K>>, resource_version: &str);
    /// Deliver everything known again as sync events (the resync period elapsed).
    fn resync(&self);
}
