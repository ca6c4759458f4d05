//! The shared informer factory, a lister with a custom index, and a handler added
//! after start (`kubeforge_examples::informer_tour`).
//!
//! ```sh
//! KUBECONFIG=kubeforge-data/certs/admin.kubeconfig cargo run -p kubeforge-examples --bin informer-tour [namespace]
//! ```

use kubeforge_examples::{BoxError, client_from_env, informer_tour};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let client = client_from_env()?;
    let namespace = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "default".to_owned());
    let report = informer_tour::tour(client, &namespace).await?;
    println!(
        "ConfigMaps with a team label (lister):    {}",
        report.with_team
    );
    println!(
        "team=blue (custom index):                 {}",
        report.blue.join(", ")
    );
    println!(
        "team of tour-0 (namespace lister):        {}",
        report.first_team.as_deref().unwrap_or("-")
    );
    println!(
        "replayed to the handler added after sync: {}",
        report.replayed
    );
    println!(
        "both handlers saw the new ConfigMap:      {}",
        report.both_saw_new
    );
    Ok(())
}
