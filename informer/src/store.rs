//! The thread-safe store and Indexer the informer keeps its objects in.
