//! Command-line flags of `kubeforge-apiserver`, named as kube-apiserver's where they
//! mean the same thing, and their translation into a [`Config`].

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use crate::config::Config;
use crate::tls::{self, TlsError};

/// A Kubernetes-API-conformant apiserver.
#[derive(Debug, Clone, Parser)]
#[command(name = "kubeforge-apiserver", version, about)]
pub struct Options {
    /// The port to serve on (HTTPS unless --plain-http).
    #[arg(long, default_value_t = 6443)]
    pub secure_port: u16,

    /// The address to listen on. Defaults to loopback: until authentication lands every
    /// request is served as an admin, so do not expose the server to a network.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind_address: IpAddr,

    /// Where generated certificates and the admin kubeconfig are written.
    #[arg(long, default_value = "kubeforge-data/certs")]
    pub cert_dir: PathBuf,

    /// A serving certificate chain (PEM); with --tls-private-key-file, replaces the
    /// generated one.
    #[arg(long, requires = "tls_private_key_file")]
    pub tls_cert_file: Option<PathBuf>,

    /// The key of --tls-cert-file (PEM).
    #[arg(long, requires = "tls_cert_file")]
    pub tls_private_key_file: Option<PathBuf>,

    /// The address clients should use in the generated kubeconfig (default: the bind
    /// address, or 127.0.0.1 when binding to all addresses).
    #[arg(long)]
    pub advertise_address: Option<String>,

    /// Serve plain HTTP instead of HTTPS (for tests and local use).
    #[arg(long)]
    pub plain_http: bool,

    /// Watches without timeoutSeconds end after a random time between this and twice
    /// this many seconds.
    #[arg(long, default_value_t = 1800)]
    pub min_request_timeout: u64,

    /// How often storage history is compacted (seconds; 0 disables compaction).
    #[arg(long, default_value_t = 300)]
    pub etcd_compaction_interval: u64,

    /// Events each resource's watch cache keeps for resuming watches.
    #[arg(long, default_value_t = 10_000)]
    pub default_watch_cache_size: usize,

    /// Serve a custom kind, as the custom resources of a CRD whose spec and status
    /// preserve unknown fields (repeat the flag for several kinds). This stands in
    /// for CustomResourceDefinition serving, which is not there yet.
    ///
    /// Grammar: `PLURAL.GROUP/VERSION:KIND[,OPTION]...` where OPTION is `cluster`
    /// (cluster-scoped; default namespaced), `no-status` (no status subresource),
    /// `singular=NAME` (default: the lowercased kind), `short-name=NAME` and
    /// `category=NAME` (both repeatable). Example:
    /// `--custom-resource echoes.demo.kubeforge.dev/v1alpha1:Echo,short-name=ec`
    #[arg(
        long = "custom-resource",
        value_name = "PLURAL.GROUP/VERSION:KIND[,OPTION]..."
    )]
    pub custom_resources: Vec<crate::CustomResource>,

    /// Log filter (tracing's env-filter syntax, e.g. `info`, `kubeforge_testserver=debug`).
    #[arg(long, env = "RUST_LOG", default_value = "info")]
    pub log: String,
}

impl Options {
    /// The host clients should use.
    pub fn advertised_host(&self) -> String {
        if let Some(a) = &self.advertise_address {
            return a.clone();
        }
        if self.bind_address.is_unspecified() {
            "127.0.0.1".to_owned()
        } else {
            match self.bind_address {
                IpAddr::V6(v6) => format!("[{v6}]"),
                IpAddr::V4(v4) => v4.to_string(),
            }
        }
    }

    /// The completed configuration: certificates loaded or generated.
    ///
    /// # Errors
    ///
    /// Certificates could not be read, generated or written.
    pub fn into_config(self) -> Result<Config, TlsError> {
        let host = self.advertised_host();
        let tls = if self.plain_http {
            None
        } else if let (Some(cert), Some(key)) = (&self.tls_cert_file, &self.tls_private_key_file) {
            Some(tls::load_files(cert, key)?)
        } else {
            let extra = vec![
                host.trim_matches(|c| c == '[' || c == ']').to_owned(),
                self.bind_address.to_string(),
            ];
            Some(tls::load_or_generate(&self.cert_dir, &extra)?)
        };
        let mut config = Config::new()
            .watch_history(self.default_watch_cache_size)
            .min_request_timeout(Duration::from_secs(self.min_request_timeout.max(1)))
            .compaction_interval(Duration::from_secs(self.etcd_compaction_interval));
        for kind in self.custom_resources {
            config = config.custom_resource(kind);
        }
        config.tls = tls;
        config.kubeconfig_path = Some(self.cert_dir.join("admin.kubeconfig"));
        config.advertise_host = Some(host);
        Ok(config)
    }
}
