//! DeltaFIFO: per-key lists of deltas between the Reflector and the Indexer.
