//! The Echo operator (`kubeforge_examples::echo_operator`). The server must serve
//! `echoes.demo.kubeforge.dev`: start it with
//! `--custom-resource echoes.demo.kubeforge.dev/v1alpha1:Echo`.
//!
//! ```sh
//! KUBECONFIG=kubeforge-data/certs/admin.kubeconfig cargo run -p kubeforge-examples --bin echo-operator [namespace]
//! ```

use kubeforge_examples::{BoxError, client_from_env, echo_operator, shutdown_on_signal};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let client = client_from_env()?;
    let namespace = std::env::args().nth(1);
    let instance = std::env::var("POD_NAME").unwrap_or_else(|_| "local".to_owned());
    echo_operator::run(
        client,
        namespace.as_deref(),
        &instance,
        shutdown_on_signal(),
    )
    .await?;
    Ok(())
}
