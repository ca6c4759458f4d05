//! Fault injection: make the server misbehave on purpose, deterministically, so tests
//! can check how clients (and the server itself) cope.
//!
//! Today: make the handler of a path panic (to prove one bad request never takes the
//! server down). More faults (dropped watches, forced compaction, failing or delayed
//! requests) build on the same hook.

use parking_lot::Mutex;

/// Faults armed on one server.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    /// Requests whose path starts with one of these panic inside their handler.
    panic_paths: Mutex<Vec<String>>,
}

impl Faults {
    pub(crate) fn panic_on(&self, path_prefix: &str) {
        self.panic_paths.lock().push(path_prefix.to_owned());
    }

    /// Panics if a fault is armed for `path` (called inside the panic guard).
    pub(crate) fn maybe_panic(&self, path: &str) {
        let hit = self
            .panic_paths
            .lock()
            .iter()
            .any(|p| path.starts_with(p.as_str()));
        if hit {
            panic!("fault injected: handler panic for {path}");
        }
    }
}
