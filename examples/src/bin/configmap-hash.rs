//! Rolls Deployments when the ConfigMaps they use change
//! (`kubeforge_examples::configmap_hash`).
//!
//! ```sh
//! KUBECONFIG=kubeforge-data/certs/admin.kubeconfig cargo run -p kubeforge-examples --bin configmap-hash [namespace]
//! ```

use kubeforge_examples::{BoxError, client_from_env, configmap_hash, shutdown_on_signal};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let client = client_from_env()?;
    let namespace = std::env::args().nth(1);
    configmap_hash::run(client, namespace.as_deref(), shutdown_on_signal()).await?;
    Ok(())
}
