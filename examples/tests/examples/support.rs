//! A server and a client of it.

use std::time::Duration;

use kubeforge_client::config::{Kubeconfig, KubeconfigOptions};
use kubeforge_client::{Client, Config};
use kubeforge_testserver::TestServer;

/// A fresh server with its own storage.
pub(crate) async fn server() -> TestServer {
    TestServer::start().await.expect("test server starts")
}

/// A client of `server`, through its kubeconfig as a user's program would be.
pub(crate) fn client(server: &TestServer) -> Client {
    let kubeconfig = Kubeconfig::from_yaml(server.kubeconfig()).expect("kubeconfig parses");
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeconfigOptions::default())
        .expect("kubeconfig is usable");
    Client::new(config).expect("client builds")
}

/// Polls `cond` every 20 ms for up to 20 s.
pub(crate) async fn eventually<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !cond().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
