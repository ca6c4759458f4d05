//! The in-process test server.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::apiserver::ApiServer;
use crate::config::Config;
use crate::server::{self, ServeError};
use crate::tls::{self, TlsMaterial};

/// A real Kubernetes apiserver in the test process: HTTP (or HTTPS) on a random free
/// loopback port, in-memory storage, ready when [`start`](Self::start) returns.
///
/// Every `TestServer` is independent (its own port, storage and state), so tests can
/// start one each and run in parallel. The server stops when the `TestServer` is
/// dropped; [`shutdown`](Self::shutdown) stops it and waits.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use kubeforge_testserver::TestServer;
/// # let _ = rustls::crypto::ring::default_provider().install_default();
///
/// let server = TestServer::start().await?;
/// let body = reqwest::get(format!("{}/api/v1/namespaces/default", server.base_url()))
///     .await?
///     .text()
///     .await?;
/// assert!(body.contains("\"phase\":\"Active\""));
/// // `kubectl --kubeconfig <server.kubeconfig_path()> get ns` works too.
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct TestServer {
    addr: SocketAddr,
    base_url: String,
    kubeconfig_path: PathBuf,
    kubeconfig: String,
    tls: Option<TlsMaterial>,
    api: Arc<ApiServer>,
    token: CancellationToken,
    done: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

/// Options for a [`TestServer`].
#[derive(Debug, Clone, Default)]
pub struct TestServerBuilder {
    tls: bool,
    config: Config,
}

impl TestServerBuilder {
    /// Serve HTTPS with a freshly generated CA (the kubeconfig trusts it).
    pub fn tls(mut self, enabled: bool) -> Self {
        self.tls = enabled;
        self
    }

    /// Events each watch cache keeps for resuming watches (default 10 000).
    pub fn watch_history(mut self, events: usize) -> Self {
        self.config = self.config.watch_history(events);
        self
    }

    /// How often watches that allow bookmarks get one (default 60 s).
    pub fn bookmark_interval(mut self, every: Duration) -> Self {
        self.config = self.config.bookmark_interval(every);
        self
    }

    /// Serves a custom kind next to the built-in ones (see [`CustomResource`]): the
    /// start-up stand-in for a CustomResourceDefinition, which the server does not
    /// serve yet.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let _ = rustls::crypto::ring::default_provider().install_default();
    /// use kubeforge_testserver::{CustomResource, TestServer};
    ///
    /// let server = TestServer::builder()
    ///     .custom_resource(CustomResource::new("demo.kubeforge.dev", "v1alpha1", "Echo", "echoes"))
    ///     .start()
    ///     .await?;
    /// let url = format!("{}/apis/demo.kubeforge.dev/v1alpha1/namespaces/default/echoes", server.base_url());
    /// let created = reqwest::Client::new()
    ///     .post(&url)
    ///     .json(&serde_json::json!({
    ///         "apiVersion": "demo.kubeforge.dev/v1alpha1", "kind": "Echo",
    ///         "metadata": {"name": "hello"}, "spec": {"message": "hi"},
    ///     }))
    ///     .send()
    ///     .await?;
    /// assert_eq!(created.status(), 201);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// [`CustomResource`]: crate::CustomResource
    pub fn custom_resource(mut self, kind: crate::CustomResource) -> Self {
        self.config = self.config.custom_resource(kind);
        self
    }

    /// Runs (default) or disables the built-in namespace controller.
    pub fn namespace_controller(mut self, enabled: bool) -> Self {
        self.config = self.config.namespace_controller(enabled);
        self
    }

    /// Starts the server.
    ///
    /// # Errors
    ///
    /// Binding the port, writing the kubeconfig, or generating certificates failed, or
    /// a custom kind is invalid.
    pub async fn start(self) -> Result<TestServer, ServeError> {
        let dir = tempfile::Builder::new()
            .prefix("kubeforge-testserver-")
            .tempdir()?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let mut config = self.config;
        if self.tls {
            config.tls = Some(tls::generate(&[])?);
        }
        let scheme = if self.tls { "https" } else { "http" };
        let base_url = format!("{scheme}://{addr}");
        let kubeconfig = super::render_kubeconfig(&base_url, config.tls.as_ref());
        let kubeconfig_path = dir.path().join("kubeconfig");
        std::fs::write(&kubeconfig_path, &kubeconfig)?;
        let token = CancellationToken::new();
        let running = server::start(listener, &config, token.clone()).await?;
        Ok(TestServer {
            addr,
            base_url,
            kubeconfig_path,
            kubeconfig,
            tls: config.tls,
            api: running.api,
            token,
            done: Some(running.done),
            _dir: dir,
        })
    }
}

impl TestServer {
    /// Starts a server with default options.
    ///
    /// # Errors
    ///
    /// As [`TestServerBuilder::start`].
    pub async fn start() -> Result<TestServer, ServeError> {
        Self::builder().start().await
    }

    /// Options for a server.
    pub fn builder() -> TestServerBuilder {
        TestServerBuilder::default()
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>` (or `https://…`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// A kubeconfig file reaching this server as the admin.
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig_path
    }

    /// The kubeconfig's contents (YAML).
    pub fn kubeconfig(&self) -> &str {
        &self.kubeconfig
    }

    /// The CA certificate (PEM) clients must trust, when serving HTTPS.
    pub fn ca_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(|m| m.ca_pem.as_str())
    }

    /// Stops the server and waits until it has drained.
    pub async fn shutdown(mut self) {
        self.token.cancel();
        if let Some(done) = self.done.take() {
            let _ = done.await;
        }
    }

    /// Compacts storage history up to now and empties every watch cache's history:
    /// watches resumed from an earlier resourceVersion, lists at one and continue
    /// tokens issued before now all get `410 Expired` (fault injection).
    ///
    /// # Errors
    ///
    /// The storage refused the compaction.
    pub async fn compact(&self) -> Result<(), crate::storage::Error> {
        self.api.compact_now().await
    }

    /// Makes every request whose path starts with `path_prefix` panic inside its
    /// handler (fault injection). The server answers such requests with a 500 `Status`
    /// and keeps serving everything else.
    pub fn inject_handler_panic(&self, path_prefix: &str) {
        self.api.faults.arm(
            super::faults::Fault::panic()
                .path_prefix(path_prefix)
                .times(usize::MAX),
        );
    }

    /// Arms a fault: the next matching requests fail, wait, warn or lose their answer.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let _ = rustls::crypto::ring::default_provider().install_default();
    /// use kubeforge_client::core::Status;
    /// use kubeforge_testserver::{Fault, TestServer};
    ///
    /// let server = TestServer::start().await?;
    /// server.inject(Fault::fail(Status::too_many_requests("slow down", 2)).verb("list").resource("pods"));
    /// let url = format!("{}/api/v1/pods", server.base_url());
    /// let first = reqwest::get(&url).await?;
    /// assert_eq!(first.status(), 429);
    /// assert_eq!(first.headers()["retry-after"], "2");
    /// assert_eq!(reqwest::get(&url).await?.status(), 200);
    /// # Ok(())
    /// # }
    /// ```
    pub fn inject(&self, fault: super::faults::Fault) {
        self.api.faults.arm(fault);
    }

    /// Disarms every fault.
    pub fn clear_faults(&self) {
        self.api.faults.clear();
    }

    /// Ends every open watch now (clients see their streams close cleanly and must
    /// re-watch, as after an apiserver restart or a network blip).
    pub fn close_watches(&self) {
        self.api.close_watches();
    }

    /// Stops sending bookmarks (`true`) on every watch, open or opened later, until
    /// called with `false`: periodic bookmarks and [`force_bookmarks`](Self::force_bookmarks)
    /// are held back, so a client's resourceVersion only moves with events. The
    /// bookmark that ends a streaming list's initial events is still sent.
    pub fn suppress_bookmarks(&self, suppressed: bool) {
        self.api.suppress_bookmarks(suppressed);
    }

    /// Sends a bookmark now on every open watch that allows them, at the revision its
    /// resource has reached, whatever the bookmark interval.
    pub fn force_bookmarks(&self) {
        self.api.force_bookmarks();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.token.cancel();
    }
}
