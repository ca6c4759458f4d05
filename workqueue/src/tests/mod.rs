//! Loom models of the queue core (built only with `--cfg kubeforge_loom`).

#[cfg(kubeforge_loom)]
mod loom_queue;
