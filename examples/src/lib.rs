//! Runnable kubeforge programs; each is a library module (what a test drives), a
//! thin binary in `src/bin/` (what you run against a cluster), and a test against
//! the in-process test server in `tests/`.
//!
//! | module | binary | what it shows |
//! | --- | --- | --- |
//! | [`configmap_hash`] | `configmap-hash` | a controller with a watched type mapped through an index |
//! | [`echo_operator`] | `echo-operator` | an operator for a custom kind: owned children by server-side apply, status conditions, a finalizer, events |
//! | [`informer_tour`] | `informer-tour` | the shared informer factory, a lister with a custom index, handlers added after start |
//! | [`leader_elected`] | `leader-elected` | two replicas, one leads on a Lease, the other takes over |

pub mod configmap_hash;
pub mod echo_operator;
pub mod informer_tour;
pub mod leader_elected;

use kubeforge_client::{Client, Config};
use tokio_util::sync::CancellationToken;

/// What an example's `main` may fail with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A client from `KUBECONFIG` (or `~/.kube/config`, or the in-cluster service
/// account), with logs on stderr filtered by `RUST_LOG` (default `info`).
///
/// # Errors
///
/// No usable configuration was found.
pub fn client_from_env() -> Result<Client, BoxError> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    Ok(Client::new(Config::infer()?)?)
}

/// A token cancelled on Ctrl-C or SIGTERM.
pub fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            match signal(SignalKind::terminate()) {
                Ok(mut term) => {
                    tokio::select! {
                        _ = ctrl_c => {}
                        _ = term.recv() => {}
                    }
                }
                Err(_) => {
                    let _ = ctrl_c.await;
                }
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutting down");
        cancel.cancel();
    });
    token
}
