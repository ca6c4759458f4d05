use kubeforge_testserver::storage::{conformance, memory::MemoryStorage};

/// The in-memory backend keeps the whole storage contract.
#[tokio::test]
async fn memory_backend_passes_storage_conformance() {
    conformance::run_all(|| async { MemoryStorage::new() }).await;
}
