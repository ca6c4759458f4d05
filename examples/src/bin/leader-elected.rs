//! One replica of a leader-elected controller (`kubeforge_examples::leader_elected`).
//! Start two in two shells, stop the leader, watch the other take over.
//!
//! ```sh
//! KUBECONFIG=kubeforge-data/certs/admin.kubeconfig cargo run -p kubeforge-examples --bin leader-elected -- replica-a
//! ```

use kubeforge_examples::leader_elected::{Replica, run};
use kubeforge_examples::{BoxError, client_from_env, shutdown_on_signal};
use kubeforge_informer::leader::Stopped;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let client = client_from_env()?;
    let identity = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("POD_NAME").ok())
        .ok_or("usage: leader-elected <identity> (or set POD_NAME)")?;
    let namespace = std::env::var("NAMESPACE").unwrap_or_else(|_| "default".to_owned());
    let stopped = run(
        client,
        Replica::new(&namespace, &identity),
        shutdown_on_signal(),
    )
    .await?;
    tracing::info!(?stopped, "done");
    if stopped == Stopped::LeaseLost {
        // Start over from scratch, as a restarted pod would.
        std::process::exit(1);
    }
    Ok(())
}
