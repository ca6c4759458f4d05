//! Listers: typed, read-only views of an Indexer.
