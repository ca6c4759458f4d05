//! [`Client`]: a cheap-to-clone handle on one apiserver, and [`ClientBuilder`] for
//! its transport knobs.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::config::Config;
use crate::core::Error;
use crate::transport::{
    self, HttpSettings, LogOnce, RateLimit, RetryPolicy, Transport, WarningHandler,
};

/// A connection to one Kubernetes apiserver (client-go's `rest.RESTClient` plus the
/// clientset's shared transport).
///
/// Cloning is cheap and clones share everything: the connection pool (one HTTP/2
/// connection carries every request when the server speaks HTTP/2), the rate limiter,
/// the credentials and the warning handler. Build one per apiserver and hand clones
/// to every [`Api`](crate::api::Api).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = kubeforge_testserver::TestServer::builder().tls(true).start().await?;
/// # let config = kubeforge_client::__doctest::config(server.base_url(), server.ca_pem());
/// use kubeforge_client::{Client, transport::RateLimit};
///
/// let client = Client::builder(config)
///     .rate_limit(RateLimit::new(100.0, 200))
///     .user_agent("my-controller/1.0")
///     .build()?;
/// let version = client.apiserver_version().await?;
/// assert_eq!(version.major, "1");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    transport: Arc<Transport>,
    default_namespace: Arc<str>,
}

/// Options of a [`Client`] beyond its [`Config`]: throttling, retries, warnings,
/// user agent and timeouts.
pub struct ClientBuilder {
    config: Config,
    rate_limit: Option<RateLimit>,
    retry: RetryPolicy,
    warnings: Arc<dyn WarningHandler>,
    user_agent: String,
    timeout: Option<Duration>,
    connect_timeout: Duration,
    gzip: bool,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("config", &self.config)
            .field("rate_limit", &self.rate_limit)
            .field("retry", &self.retry)
            .field("user_agent", &self.user_agent)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("gzip", &self.gzip)
            .finish_non_exhaustive()
    }
}

/// The default user agent: `kubeforge/<version> (<os>/<arch>)`, the shape of
/// client-go's `<binary>/<version> (<os>/<arch>) kubernetes/<commit>`.
fn default_user_agent() -> String {
    format!(
        "kubeforge/{} ({}/{})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

impl ClientBuilder {
    fn new(config: Config) -> Self {
        ClientBuilder {
            config,
            rate_limit: Some(RateLimit::DEFAULT),
            retry: RetryPolicy::default(),
            warnings: Arc::new(LogOnce::default()),
            user_agent: default_user_agent(),
            timeout: None,
            connect_timeout: Duration::from_secs(30),
            gzip: true,
        }
    }

    /// Client-side throttling (default [`RateLimit::DEFAULT`], 50 QPS, burst 100).
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = Some(limit);
        self
    }

    /// No client-side throttling: rely on the server's API Priority and Fairness
    /// (and its 429s, which are retried).
    pub fn no_rate_limit(mut self) -> Self {
        self.rate_limit = None;
        self
    }

    /// How failed requests are retried (default [`RetryPolicy::default`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Who receives the server's `Warning` headers (default
    /// [`LogOnce`](crate::transport::LogOnce)).
    pub fn warning_handler(mut self, handler: impl WarningHandler) -> Self {
        self.warnings = Arc::new(handler);
        self
    }

    /// The `User-Agent` header. The apiserver derives the default field manager of
    /// writes from it (the part before the first `/`), so it names your controller in
    /// every object's `managedFields`.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Timeout of each attempt of a non-watch request (default none: list calls on
    /// big clusters can take minutes; the server bounds them itself). Watches are
    /// never cut by it; they end when their `timeoutSeconds` does.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Timeout of establishing a connection (default 30 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Ask for gzip-compressed responses (default on; client-go's
    /// `DisableCompression` turns it off).
    pub fn gzip(mut self, enabled: bool) -> Self {
        self.gzip = enabled;
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the TLS material or the proxy URL is unusable.
    pub fn build(self) -> Result<Client, Error> {
        let settings = HttpSettings {
            user_agent: self.user_agent,
            connect_timeout: self.connect_timeout,
            gzip: self.gzip,
            config: self.config,
        };
        let http = settings.build(None)?;
        let base = settings.config.cluster_url.trim_end_matches('/').to_owned();
        let default_namespace = Arc::from(settings.config.default_namespace.as_str());
        Ok(Client {
            transport: Arc::new(Transport {
                http,
                base,
                credentials: settings.config.credentials.clone(),
                settings,
                exec_http: parking_lot::Mutex::new(None),
                limiter: Transport::new_limiter(self.rate_limit),
                retry: self.retry,
                warnings: self.warnings,
                timeout: self.timeout,
            }),
            default_namespace,
        })
    }
}

/// What `/version` says about the server.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ServerVersion {
    /// Major version (`"1"`).
    #[serde(default)]
    pub major: String,
    /// Minor version (`"33"`, sometimes with a `+`).
    #[serde(default)]
    pub minor: String,
    /// Full version (`v1.33.1`).
    #[serde(default)]
    pub git_version: String,
    /// `os/arch` of the server.
    #[serde(default)]
    pub platform: String,
}

impl Client {
    /// Options for a client talking to the apiserver `config` describes.
    pub fn builder(config: Config) -> ClientBuilder {
        ClientBuilder::new(config)
    }

    /// A client with default options.
    ///
    /// # Errors
    ///
    /// As [`ClientBuilder::build`].
    pub fn new(config: Config) -> Result<Client, Error> {
        ClientBuilder::new(config).build()
    }

    /// The namespace [`Api::default_namespaced`](crate::api::Api::default_namespaced)
    /// uses (the kubeconfig context's, or the pod's own in a cluster).
    pub fn default_namespace(&self) -> &str {
        &self.default_namespace
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.transport
    }

    /// Sends any request (path and query relative to the server's base URL) and
    /// decodes the JSON answer; for what [`Api`](crate::api::Api) does not cover.
    ///
    /// # Errors
    ///
    /// The server's answer as an [`Error`] when it is not a 2xx, transport failures,
    /// or [`Error::Decode`] when the body is not a `T`.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the request; the server may have processed it.
    pub async fn request<T: DeserializeOwned>(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<T, Error> {
        let bytes = self.request_bytes(request).await?;
        crate::api::decode_json(&bytes)
    }

    /// Like [`Client::request`], returning the raw body.
    ///
    /// # Errors
    ///
    /// As [`Client::request`], without the decoding.
    ///
    /// # Cancel safety
    ///
    /// As [`Client::request`].
    pub async fn request_bytes(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<bytes::Bytes, Error> {
        let (parts, body) = request.into_parts();
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".to_owned());
        let mut req = transport::Request::new(parts.method, path);
        if !body.is_empty() {
            let content_type = match parts
                .headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
            {
                Some("application/json-patch+json") => "application/json-patch+json",
                Some("application/merge-patch+json") => "application/merge-patch+json",
                Some("application/strategic-merge-patch+json") => {
                    "application/strategic-merge-patch+json"
                }
                Some("application/apply-patch+yaml") => "application/apply-patch+yaml",
                Some("application/yaml") => "application/yaml",
                _ => transport::JSON,
            };
            req = req.body(body, content_type);
        }
        self.transport.send_bytes(&req).await
    }

    /// The server's version (`GET /version`).
    ///
    /// # Errors
    ///
    /// As [`Client::request`].
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a read.
    pub async fn apiserver_version(&self) -> Result<ServerVersion, Error> {
        let req = transport::Request::new(http::Method::GET, "/version".to_owned());
        let bytes = self.transport.send_bytes(&req).await?;
        crate::api::decode_json(&bytes)
    }
}

impl TryFrom<Config> for Client {
    type Error = Error;

    fn try_from(config: Config) -> Result<Self, Error> {
        Client::new(config)
    }
}
