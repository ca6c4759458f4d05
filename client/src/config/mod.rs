//! Client configuration: where the apiserver is, how to trust it, and who we are.
//!
//! A [`Config`] comes from a kubeconfig ([`Config::from_kubeconfig`]), from inside a
//! pod ([`Config::incluster`]), or from [`Config::infer`] (kubeconfig first, then
//! in-cluster), and is turned into a client by the transport.
//!
//! [`Credentials`] are resolved per request: static tokens, token files (re-read as
//! they rotate) and exec plugins (cached until they expire, re-run when the server
//! answers 401).
//!
//! | client-go | kubeforge |
//! | --- | --- |
//! | `clientcmdapi.Config` (`clientcmd.LoadFromFile`, `ClientConfigLoadingRules`) | [`Kubeconfig`] ([`Kubeconfig::read_from`], [`Kubeconfig::read`]) |
//! | `clientcmd.ConfigOverrides` (context, cluster, user) | [`KubeconfigOptions`] |
//! | `rest.Config` | [`Config`] |
//! | `clientcmd.BuildConfigFromFlags`, `NewNonInteractiveDeferredLoadingClientConfig` | [`Config::infer`] |
//! | `rest.InClusterConfig` | [`Config::incluster`] |
//! | exec `Authenticator` | [`ExecPlugin`] |
//!
//! # Layout
//!
//! - `kubeconfig`: the file's serde model, reading, `KUBECONFIG` merging.
//! - `client_config`: from a kubeconfig entry to a [`Config`] (selection, files, checks).
//! - `credentials`: [`Credentials`] and [`TokenFile`].
//! - `exec`: [`ExecPlugin`], the exec credential protocol.
//! - `incluster`: the service account environment of a pod.

mod client_config;
mod credentials;
mod error;
mod exec;
mod incluster;
mod kubeconfig;

use std::path::Path;

pub use credentials::{Credentials, TokenFile};
pub use error::{ConfigError, ExecError};
pub use exec::{EXEC_INTERACTIVE_TIMEOUT, EXEC_TIMEOUT, ExecPlugin};
pub use kubeconfig::{
    AuthInfo, Cluster, Context, ExecConfig, ExecEnvVar, Kubeconfig, NamedAuthInfo, NamedCluster,
    NamedContext, NamedExtension,
};

/// Configuration of a client.
#[derive(Debug, Clone)]
pub struct Config {
    /// The apiserver's base URL (`https://host:port`, possibly with a path prefix).
    pub cluster_url: String,
    /// The namespace `Api::default_namespaced` uses.
    pub default_namespace: String,
    /// CA certificates (DER) to trust in addition to none; empty means the platform
    /// roots are not used either unless `accept_invalid_certs` is set.
    pub root_certs: Vec<Vec<u8>>,
    /// Skip server certificate verification (`insecure-skip-tls-verify`).
    pub accept_invalid_certs: bool,
    /// The name to verify the server certificate against (`tls-server-name`).
    pub tls_server_name: Option<String>,
    /// A client certificate chain and key (PEM).
    pub identity: Option<Identity>,
    /// How requests authenticate.
    pub credentials: Credentials,
    /// An HTTP(S) or SOCKS proxy (`proxy-url`).
    pub proxy_url: Option<String>,
}

/// A client certificate and its key, PEM-encoded.
#[derive(Clone, PartialEq, Eq)]
pub struct Identity {
    /// Certificate chain (PEM).
    pub cert_pem: Vec<u8>,
    /// Private key (PEM).
    pub key_pem: Vec<u8>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity").finish_non_exhaustive()
    }
}

/// Which parts of a kubeconfig to use instead of those the current context names
/// (kubectl's `--context`, `--cluster` and `--user`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KubeconfigOptions {
    /// The context to use instead of `current-context`.
    pub context: Option<String>,
    /// The cluster to use instead of the context's.
    pub cluster: Option<String>,
    /// The user to use instead of the context's.
    pub user: Option<String>,
}

impl Config {
    /// The configuration kubectl would use: the kubeconfig from `KUBECONFIG` (a
    /// merged list) or `~/.kube/config` ([`Kubeconfig::read`]), with `options`
    /// choosing another context, cluster or user.
    ///
    /// Reads files synchronously (a few small ones, once at start-up); an exec plugin
    /// runs only when credentials are first needed.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when no kubeconfig exists, a file cannot be read or parsed, a
    /// chosen entry is missing, or an entry is unusable (see
    /// [`from_custom_kubeconfig`](Self::from_custom_kubeconfig)).
    pub fn from_kubeconfig(options: &KubeconfigOptions) -> Result<Config, ConfigError> {
        Config::from_custom_kubeconfig(Kubeconfig::read()?, options)
    }

    /// The configuration of a kubeconfig already loaded.
    ///
    /// - The context is `options.context`, else `current-context`; its cluster and
    ///   user can be overridden; no user means no credentials; its namespace, else
    ///   `default`, becomes [`default_namespace`](Self::default_namespace).
    /// - Files the entries name are read now; relative paths resolve against the
    ///   directory of the kubeconfig file that named them (client-go's rule), or the
    ///   working directory for a kubeconfig that came from no file.
    /// - Credentials follow client-go's precedence: `token` (re-read from `tokenFile`
    ///   when that is set too) or `tokenFile`, else `username`/`password`; a client
    ///   certificate next to either; an `exec` plugin only when none of those is set.
    ///
    /// # Errors
    ///
    /// [`ConfigError::NoCurrentContext`] or [`ConfigError::NotFound`] when the chosen
    /// context, cluster or user is missing; [`ConfigError::InvalidField`] when a
    /// field's value or file is unusable (bad base64, no PEM, unreadable file);
    /// [`ConfigError::Unusable`] for contradictions client-go refuses too (data and
    /// file both set, a CA with `insecure-skip-tls-verify`, a token with basic
    /// authentication, a certificate without its key) and for what kubeforge does not
    /// support (`auth-provider`, impersonation).
    ///
    /// # Examples
    ///
    /// ```
    /// use kubeforge_client::config::{Config, Credentials, Kubeconfig, KubeconfigOptions};
    ///
    /// let kc = Kubeconfig::from_yaml(
    ///     "
    /// clusters: [{name: dev, cluster: {server: 'https://127.0.0.1:6443', insecure-skip-tls-verify: true}}]
    /// users: [{name: me, user: {token: abc}}]
    /// contexts: [{name: dev, context: {cluster: dev, user: me, namespace: apps}}]
    /// current-context: dev
    /// ",
    /// )?;
    /// let config = Config::from_custom_kubeconfig(kc, &KubeconfigOptions::default())?;
    /// assert_eq!(config.cluster_url, "https://127.0.0.1:6443");
    /// assert_eq!(config.default_namespace, "apps");
    /// assert!(matches!(config.credentials, Credentials::Token(_)));
    /// # Ok::<(), kubeforge_client::config::ConfigError>(())
    /// ```
    pub fn from_custom_kubeconfig(
        kubeconfig: Kubeconfig,
        options: &KubeconfigOptions,
    ) -> Result<Config, ConfigError> {
        client_config::build(&kubeconfig, options)
    }

    /// The configuration of a pod: the apiserver at
    /// `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`, trusted through
    /// the service account's `ca.crt`, authenticated by its `token` (re-read as
    /// kubelet rotates it), in `$POD_NAMESPACE` or the service account's namespace.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InCluster`] outside a pod (the variables are unset);
    /// [`ConfigError::Read`] or [`ConfigError::InvalidField`] when the service
    /// account files are missing or invalid.
    pub fn incluster() -> Result<Config, ConfigError> {
        incluster::incluster_config(
            &|k| std::env::var(k).ok(),
            Path::new(incluster::SERVICE_ACCOUNT_DIR),
        )
    }

    /// The kubeconfig when there is one, else the in-cluster configuration.
    ///
    /// As client-go's default loading: in-cluster configuration is used only when no
    /// kubeconfig file exists (or those that exist are empty). A kubeconfig that
    /// exists but is broken is reported, not skipped: silently talking to another
    /// cluster than the one configured would be worse than failing.
    ///
    /// # Errors
    ///
    /// The kubeconfig's error when one exists ([`from_kubeconfig`]); else
    /// [`ConfigError::NoConfig`] holding why in-cluster configuration failed.
    ///
    /// [`from_kubeconfig`]: Self::from_kubeconfig
    pub fn infer() -> Result<Config, ConfigError> {
        match Kubeconfig::read() {
            Ok(kc) if !is_empty(&kc) => {
                Config::from_custom_kubeconfig(kc, &KubeconfigOptions::default())
            }
            Ok(_) | Err(ConfigError::NoKubeconfig { .. }) => {
                Config::incluster().map_err(|e| ConfigError::NoConfig(Box::new(e)))
            }
            Err(e) => Err(e),
        }
    }
}

/// A kubeconfig naming nothing (client-go's `IsConfigEmpty`).
fn is_empty(kc: &Kubeconfig) -> bool {
    kc.clusters.is_empty()
        && kc.contexts.is_empty()
        && kc.users.is_empty()
        && kc.current_context.as_deref().unwrap_or("").is_empty()
}
