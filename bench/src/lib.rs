//! Shared helpers for the comparison benchmarks in `src/bin/`.
