//! [`Config`]: everything a server needs to run, complete and validated. The binary
//! builds it from flags ([`crate::options`]), [`TestServer`](crate::TestServer) from
//! its builder.

use std::path::PathBuf;
use std::time::Duration;

use crate::apiserver::ApiConfig;
use crate::tls::TlsMaterial;

/// A complete server configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Serve HTTPS with this material; `None` serves plain HTTP.
    pub tls: Option<TlsMaterial>,
    /// Write an admin kubeconfig here once listening.
    pub kubeconfig_path: Option<PathBuf>,
    /// The host name or address clients should use in the kubeconfig
    /// (default `127.0.0.1`).
    pub advertise_host: Option<String>,
    pub(crate) api: ApiConfig,
}

impl Config {
    /// Plain HTTP, defaults everywhere.
    pub fn new() -> Self {
        Self::default()
    }

    /// Events each watch cache keeps for resuming watches (`--default-watch-cache-size`
    /// in spirit: upstream sizes per resource; this is per resource too).
    pub fn watch_history(mut self, events: usize) -> Self {
        self.api.watch_history = events.max(1);
        self
    }

    /// How often watches that allow bookmarks receive one.
    pub fn bookmark_interval(mut self, every: Duration) -> Self {
        self.api.bookmark_interval = every.max(Duration::from_millis(1));
        self
    }

    /// `--min-request-timeout`: watches without `timeoutSeconds` end after a random time
    /// in `[min, 2*min)`.
    pub fn min_request_timeout(mut self, min: Duration) -> Self {
        // Between a second and a week: watch timeouts are drawn from [min, 2*min).
        self.api.min_request_timeout =
            min.clamp(Duration::from_secs(1), Duration::from_secs(7 * 24 * 3600));
        self
    }

    /// How often storage history is compacted; zero disables compaction.
    pub fn compaction_interval(mut self, every: Duration) -> Self {
        self.api.compaction_interval = every;
        self
    }

    /// Serves a custom kind from start-up, as kube-apiserver serves the custom
    /// resources of a CRD whose spec and status preserve unknown fields. This stands in
    /// for serving CustomResourceDefinition objects until that lands. The kinds are
    /// checked when the server starts ([`ServeError::CustomResource`](crate::ServeError::CustomResource)).
    pub fn custom_resource(mut self, kind: crate::CustomResource) -> Self {
        self.api.custom_resources.push(kind);
        self
    }

    /// Runs (default) or disables the built-in namespace controller.
    pub fn namespace_controller(mut self, enabled: bool) -> Self {
        self.api.namespace_controller = enabled;
        self
    }
}
