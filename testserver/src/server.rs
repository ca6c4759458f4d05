//! Accepting connections: TCP, optional TLS, HTTP/1.1 and HTTP/2 (by ALPN over TLS,
//! by preface over plain TCP) through hyper, and graceful shutdown.
//!
//! [`run`] takes a bound listener and a shutdown future (mini-redis's shape): when the
//! future completes the server stops accepting, ends every watch, lets in-flight
//! requests finish (up to a timeout) and returns.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::apiserver::ApiServer;
use crate::config::Config;
use crate::storage::{Storage, memory::MemoryStorage};
use crate::tls;

/// How long a client may take to send its request headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(32);

/// How long in-flight requests may take to finish at shutdown.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// The server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// TLS material is unusable.
    #[error("invalid TLS configuration")]
    Tls(#[from] tls::TlsError),
    /// Storage could not be loaded.
    #[error("storage failed to start")]
    Storage(#[from] crate::storage::Error),
    /// A custom kind cannot be served (bad names, or two kinds clash).
    #[error("invalid custom resource")]
    CustomResource(#[from] crate::registry::InvalidCustomResource),
    /// A socket or file operation failed.
    #[error("i/o error")]
    Io(#[from] std::io::Error),
}

/// A started server's shared state and address.
#[derive(Debug)]
pub(crate) struct Running {
    pub(crate) api: Arc<ApiServer>,
    pub(crate) done: tokio::task::JoinHandle<()>,
}

/// Starts serving on `listener` in the background; stops when `shutdown` is cancelled.
pub(crate) async fn start(
    listener: TcpListener,
    config: &Config,
    shutdown: CancellationToken,
) -> Result<Running, ServeError> {
    crate::registry::custom::validate_all(&config.api.custom_resources)?;
    let acceptor = match &config.tls {
        Some(m) => Some(TlsAcceptor::from(tls::server_config(m)?)),
        None => None,
    };
    let storage: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
    let api = ApiServer::start(storage, config.api.clone(), shutdown.child_token()).await?;
    let addr = listener.local_addr()?;
    let done = tokio::spawn(tracing::Instrument::instrument(
        accept_loop(listener, acceptor, api.clone(), shutdown),
        tracing::info_span!("apiserver", %addr),
    ));
    Ok(Running { api, done })
}

/// Serves on `listener` until `shutdown` completes, then drains and returns.
///
/// # Errors
///
/// [`ServeError`] if TLS material or storage cannot be used.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let token = CancellationToken::new();
    let running = start(listener, &config, token.clone()).await?;
    shutdown.await;
    token.cancel();
    let _ = running.done.await;
    Ok(())
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: Option<TlsAcceptor>,
    api: Arc<ApiServer>,
    shutdown: CancellationToken,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // A client must send its request headers in time (kube-apiserver: 32 s); HTTP/2
    // keep-alive pings need the same timer.
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    builder.http2().timer(hyper_util::rt::TokioTimer::new());
    let graceful = GracefulShutdown::new();
    let connections = TaskTracker::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        let _ = stream.set_nodelay(true);
        let api = api.clone();
        let svc = service_fn(move |req| {
            let api = api.clone();
            async move { Ok::<_, Infallible>(crate::pipeline::handle(api, req).await) }
        });
        match &acceptor {
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                let builder = builder.clone();
                let watcher = graceful.watcher();
                connections.spawn(async move {
                    let tls = match acceptor.accept(stream).await {
                        Ok(s) => s,
                        Err(e) => {
                            tracing::debug!(%peer, error = %e, "TLS handshake failed");
                            return;
                        }
                    };
                    let conn = builder.serve_connection_with_upgrades(TokioIo::new(tls), svc);
                    if let Err(e) = watcher.watch(conn.into_owned()).await {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                });
            }
            None => {
                let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), svc);
                let conn = graceful.watch(conn.into_owned());
                connections.spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                });
            }
        }
    }
    drop(listener);
    // Watches end when the API's token is cancelled (a child of `shutdown`), so their
    // responses complete and connections can close.
    api.shutdown.cancel();
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown()).await;
    connections.close();
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, connections.wait()).await;
    api.tasks.close();
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, api.tasks.wait()).await;
}
