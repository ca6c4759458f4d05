//! From a kubeconfig to a [`Config`]: choose the context, cluster and user, read the
//! files they name, and check the combination (client-go's `DirectClientConfig`).

use std::path::{Path, PathBuf};

use base64::Engine;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::exec::{ExecPlugin, cluster_info};
use super::kubeconfig::{AuthInfo, Cluster, Context, Kubeconfig};
use super::{Config, ConfigError, Credentials, Identity, KubeconfigOptions, TokenFile};

/// The namespace used when a context names none.
pub(crate) const DEFAULT_NAMESPACE: &str = "default";

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Builds a [`Config`] from a (merged) kubeconfig and overrides.
pub(crate) fn build(kc: &Kubeconfig, opts: &KubeconfigOptions) -> Result<Config, ConfigError> {
    let non_empty = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
    let context_name = non_empty(&opts.context).or_else(|| non_empty(&kc.current_context));
    let empty = Context::default();
    let context = match &context_name {
        Some(name) => {
            &kc.context(name)
                .ok_or_else(|| ConfigError::NotFound {
                    what: "context",
                    name: name.clone(),
                })?
                .context
        }
        // No context, but the overrides say which cluster: go on without one, as
        // client-go does for `--cluster`/`--user` flags.
        None if opts.cluster.is_some() => &empty,
        None => return Err(ConfigError::NoCurrentContext),
    };
    let context_entry = match &context_name {
        Some(name) => format!("context {name:?}"),
        None => "the options".to_string(),
    };

    let cluster_name = non_empty(&opts.cluster)
        .or_else(|| non_empty(&context.cluster))
        .ok_or_else(|| ConfigError::Unusable {
            entry: context_entry.clone(),
            message: "no cluster is set".into(),
        })?;
    let cluster = &kc
        .cluster(&cluster_name)
        .ok_or_else(|| ConfigError::NotFound {
            what: "cluster",
            name: cluster_name.clone(),
        })?
        .cluster;

    // No user means anonymous (or whatever the cluster's TLS allows).
    let user = match non_empty(&opts.user).or_else(|| non_empty(&context.user)) {
        Some(name) => Some((
            format!("user {name:?}"),
            &kc.user(&name)
                .ok_or(ConfigError::NotFound { what: "user", name })?
                .user,
        )),
        None => None,
    };

    let cluster_entry = format!("cluster {cluster_name:?}");
    let tls = cluster_tls(&cluster_entry, cluster)?;
    let (identity, credentials) = match user {
        Some((entry, user)) => user_credentials(&entry, user, cluster, tls.ca_pem.as_deref())?,
        None => (None, Credentials::None),
    };

    Ok(Config {
        cluster_url: tls.server,
        default_namespace: non_empty(&context.namespace)
            .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string()),
        root_certs: tls.root_certs,
        accept_invalid_certs: tls.insecure,
        tls_server_name: non_empty(&cluster.tls_server_name),
        identity,
        credentials,
        proxy_url: tls.proxy_url,
    })
}

/// What a cluster entry says about reaching and trusting the server.
struct ClusterTls {
    server: String,
    /// The CA bundle as PEM (for exec plugins' cluster information).
    ca_pem: Option<Vec<u8>>,
    root_certs: Vec<Vec<u8>>,
    insecure: bool,
    proxy_url: Option<String>,
}

fn cluster_tls(entry: &str, cluster: &Cluster) -> Result<ClusterTls, ConfigError> {
    let unusable = |message: &str| ConfigError::Unusable {
        entry: entry.to_string(),
        message: message.to_string(),
    };
    let server = cluster
        .server
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| unusable("no server is set"))?;
    let server = normalize_server(server).map_err(|source| ConfigError::InvalidField {
        entry: entry.to_string(),
        field: "server",
        source,
    })?;

    let base = base_dir(cluster.origin.as_deref());
    let ca_pem = data_or_file(
        entry,
        (
            "certificate-authority-data",
            &cluster.certificate_authority_data,
        ),
        ("certificate-authority", &cluster.certificate_authority),
        base.as_deref(),
    )?;
    let insecure = cluster.insecure_skip_tls_verify.unwrap_or(false);
    if insecure && ca_pem.is_some() {
        // client-go refuses this too: trusting a CA and trusting anything contradict.
        return Err(unusable(
            "insecure-skip-tls-verify cannot be combined with a certificate authority",
        ));
    }
    let root_certs = match &ca_pem {
        Some((pem, field)) => certs_from_pem(pem).map_err(|source| ConfigError::InvalidField {
            entry: entry.to_string(),
            field,
            source,
        })?,
        None => Vec::new(),
    };

    let proxy_url = match cluster.proxy_url.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(url) => {
            let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
            match scheme.as_deref() {
                Some("http" | "https" | "socks5") => Some(url.to_string()),
                _ => {
                    return Err(ConfigError::InvalidField {
                        entry: entry.to_string(),
                        field: "proxy-url",
                        source: format!("{url:?} is not an http, https or socks5 URL").into(),
                    });
                }
            }
        }
    };

    Ok(ClusterTls {
        server,
        ca_pem: ca_pem.map(|(pem, _)| pem),
        root_certs,
        insecure,
        proxy_url,
    })
}

/// `https://host:port[/prefix]` without a trailing slash; a bare `host:port` means
/// HTTPS (an apiserver without TLS must say `http://`).
fn normalize_server(server: &str) -> Result<String, BoxError> {
    let server = server.trim();
    let url = if server.contains("://") {
        server.to_string()
    } else {
        format!("https://{server}")
    };
    let (scheme, rest) = url.split_once("://").unwrap_or(("", ""));
    if !matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https") {
        return Err(format!("{server:?} is not an http or https URL").into());
    }
    if rest.is_empty() || rest.starts_with('/') {
        return Err(format!("{server:?} has no host").into());
    }
    Ok(url.trim_end_matches('/').to_string())
}

/// A user entry's client certificate and credentials, with client-go's checks and
/// precedence: a token (re-read from `tokenFile` when both are set) or `tokenFile`,
/// else basic authentication; a client certificate alongside either; an exec plugin
/// only when none of those is set.
fn user_credentials(
    entry: &str,
    user: &AuthInfo,
    cluster: &Cluster,
    ca_pem: Option<&[u8]>,
) -> Result<(Option<Identity>, Credentials), ConfigError> {
    let unusable = |message: String| ConfigError::Unusable {
        entry: entry.to_string(),
        message,
    };
    if let Some(provider) = &user.auth_provider {
        let name = provider.get("name").and_then(|n| n.as_str()).unwrap_or("");
        return Err(unusable(format!(
            "auth-provider {name:?} is not supported; use an exec credential plugin"
        )));
    }
    let impersonates = user.impersonate.as_ref().is_some_and(|s| !s.is_empty())
        || user.impersonate_uid.as_ref().is_some_and(|s| !s.is_empty())
        || user
            .impersonate_groups
            .as_ref()
            .is_some_and(|g| !g.is_empty())
        || user
            .impersonate_user_extra
            .as_ref()
            .is_some_and(|e| !e.is_empty());
    if impersonates {
        // Ignoring it would send requests as the real user, with its (usually
        // larger) rights: refuse rather than surprise.
        return Err(unusable(
            "impersonation (as, as-uid, as-groups, as-user-extra) is not supported".into(),
        ));
    }

    let base = base_dir(user.origin.as_deref());
    let cert = data_or_file(
        entry,
        ("client-certificate-data", &user.client_certificate_data),
        ("client-certificate", &user.client_certificate),
        base.as_deref(),
    )?;
    let key = data_or_file(
        entry,
        ("client-key-data", &user.client_key_data),
        ("client-key", &user.client_key),
        base.as_deref(),
    )?;
    let identity = match (cert, key) {
        (None, None) => None,
        (Some((cert_pem, cert_field)), Some((key_pem, key_field))) => {
            let certs = certs_from_pem(&cert_pem).map_err(|source| ConfigError::InvalidField {
                entry: entry.to_string(),
                field: cert_field,
                source,
            })?;
            debug_assert!(!certs.is_empty(), "certs_from_pem returns at least one");
            PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| ConfigError::InvalidField {
                entry: entry.to_string(),
                field: key_field,
                source: format!("not a PEM private key: {e}").into(),
            })?;
            Some(Identity { cert_pem, key_pem })
        }
        (Some(_), None) => {
            return Err(unusable(
                "client-certificate is set without client-key (or client-key-data)".into(),
            ));
        }
        (None, Some(_)) => {
            return Err(unusable(
                "client-key is set without client-certificate (or client-certificate-data)".into(),
            ));
        }
    };

    let token = user.token.clone().filter(|t| !t.is_empty());
    let token_file = user
        .token_file
        .as_deref()
        .filter(|f| !f.is_empty())
        .map(|f| resolve(base.as_deref(), f));
    let basic = user.username.as_ref().is_some_and(|u| !u.is_empty())
        || user.password.as_ref().is_some_and(|p| !p.is_empty());
    if basic && (token.is_some() || token_file.is_some()) {
        return Err(unusable(
            "more than one authentication method is set (token and username/password)".into(),
        ));
    }

    let credentials = match (token, token_file) {
        (Some(token), Some(path)) => Credentials::TokenFile(TokenFile::with_token(path, token)),
        (Some(token), None) => Credentials::Token(token),
        (None, Some(path)) => {
            // Read now, as client-go does: a missing file is a configuration error,
            // better reported at start-up than at the first request.
            let text =
                std::fs::read_to_string(&path).map_err(|source| ConfigError::InvalidField {
                    entry: entry.to_string(),
                    field: "tokenFile",
                    source: Box::new(ConfigError::Read {
                        path: path.clone(),
                        source,
                    }),
                })?;
            if text.trim().is_empty() {
                return Err(ConfigError::InvalidField {
                    entry: entry.to_string(),
                    field: "tokenFile",
                    source: Box::new(ConfigError::EmptyTokenFile(path)),
                });
            }
            Credentials::TokenFile(TokenFile::with_token(path, text.trim()))
        }
        (None, None) if basic => Credentials::Basic {
            username: user.username.clone().unwrap_or_default(),
            password: user.password.clone().unwrap_or_default(),
        },
        (None, None) => match &user.exec {
            // client-go runs the plugin only when nothing else authenticates.
            Some(exec) if identity.is_none() => {
                let info = cluster_info(cluster, ca_pem);
                Credentials::Exec(ExecPlugin::from_kubeconfig(
                    entry,
                    exec,
                    base.as_deref(),
                    Some(info),
                )?)
            }
            _ => Credentials::None,
        },
    };
    Ok((identity, credentials))
}

/// The directory relative paths of an entry resolve against.
fn base_dir(origin: Option<&Path>) -> Option<PathBuf> {
    origin.and_then(Path::parent).map(Path::to_path_buf)
}

fn resolve(base: Option<&Path>, path: &str) -> PathBuf {
    match base {
        Some(dir) if Path::new(path).is_relative() => dir.join(path),
        _ => PathBuf::from(path),
    }
}

/// The bytes of a `*-data` field (base64) or of the file a path field names, and the
/// name of the field they came from. Both set is an error, as in client-go's
/// validation.
fn data_or_file(
    entry: &str,
    (data_field, data): (&'static str, &Option<String>),
    (file_field, file): (&'static str, &Option<String>),
    base: Option<&Path>,
) -> Result<Option<(Vec<u8>, &'static str)>, ConfigError> {
    let data = data.as_deref().filter(|s| !s.is_empty());
    let file = file.as_deref().filter(|s| !s.is_empty());
    match (data, file) {
        (Some(_), Some(_)) => Err(ConfigError::Unusable {
            entry: entry.to_string(),
            message: format!("{data_field} and {file_field} are both set"),
        }),
        (Some(b64), None) => {
            // Go's decoder skips line breaks inside base64; some tools wrap it.
            let clean: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(clean)
                .map_err(|e| ConfigError::InvalidField {
                    entry: entry.to_string(),
                    field: data_field,
                    source: Box::new(e),
                })?;
            Ok(Some((bytes, data_field)))
        }
        (None, Some(path)) => {
            let path = resolve(base, path);
            let bytes = std::fs::read(&path).map_err(|source| ConfigError::InvalidField {
                entry: entry.to_string(),
                field: file_field,
                source: Box::new(ConfigError::Read { path, source }),
            })?;
            Ok(Some((bytes, file_field)))
        }
        (None, None) => Ok(None),
    }
}

/// The DER certificates of a PEM bundle; at least one.
pub(crate) fn certs_from_pem(pem: &[u8]) -> Result<Vec<Vec<u8>>, BoxError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .map(|c| c.map(|c| c.to_vec()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("not PEM: {e}"))?;
    if certs.is_empty() {
        return Err("no PEM certificate found".into());
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build_from(yaml: &str, opts: &KubeconfigOptions) -> Result<Config, ConfigError> {
        build(&Kubeconfig::from_yaml(yaml).expect("yaml"), opts)
    }

    const TWO_CONTEXTS: &str = "
clusters:
- {name: a, cluster: {server: 'https://a.example:6443/'}}
- {name: b, cluster: {server: 'b.example:443'}}
users:
- {name: ua, user: {token: token-a}}
- {name: ub, user: {username: bob, password: secret}}
contexts:
- {name: ctx-a, context: {cluster: a, user: ua, namespace: team-a}}
- {name: ctx-b, context: {cluster: b, user: ub}}
current-context: ctx-a
";

    #[test]
    fn overrides_choose_context_cluster_and_user() {
        let cases = [
            // (context, cluster, user) -> (url, namespace, authorization kind)
            (
                (None, None, None),
                ("https://a.example:6443", "team-a", "Bearer"),
            ),
            (
                (Some("ctx-b"), None, None),
                ("https://b.example:443", "default", "Basic"),
            ),
            (
                (None, Some("b"), None),
                ("https://b.example:443", "team-a", "Bearer"),
            ),
            (
                (None, None, Some("ub")),
                ("https://a.example:6443", "team-a", "Basic"),
            ),
        ];
        for ((context, cluster, user), (url, ns, auth)) in cases {
            let opts = KubeconfigOptions {
                context: context.map(String::from),
                cluster: cluster.map(String::from),
                user: user.map(String::from),
            };
            let config = build_from(TWO_CONTEXTS, &opts).expect("config");
            assert_eq!(config.cluster_url, url, "{opts:?}");
            assert_eq!(config.default_namespace, ns, "{opts:?}");
            let kind = match &config.credentials {
                Credentials::Token(_) => "Bearer",
                Credentials::Basic { .. } => "Basic",
                other => panic!("{other:?}"),
            };
            assert_eq!(kind, auth, "{opts:?}");
        }
    }

    #[test]
    fn missing_names_are_reported_by_kind_and_name() {
        let cases = [
            (Some("nope"), None, None, "context \"nope\" not found"),
            (None, Some("nope"), None, "cluster \"nope\" not found"),
            (None, None, Some("nope"), "user \"nope\" not found"),
        ];
        for (context, cluster, user, want) in cases {
            let opts = KubeconfigOptions {
                context: context.map(String::from),
                cluster: cluster.map(String::from),
                user: user.map(String::from),
            };
            let err = build_from(TWO_CONTEXTS, &opts).expect_err("missing");
            assert!(err.to_string().contains(want), "{err}");
        }
        let err = build_from("clusters: []", &KubeconfigOptions::default()).expect_err("empty");
        assert!(matches!(err, ConfigError::NoCurrentContext), "{err:?}");
    }

    #[test]
    fn contradictory_entries_are_refused_as_client_go_does() {
        let pem = base64::engine::general_purpose::STANDARD.encode("x");
        let cases = [
            // (cluster, user, what the error says)
            (
                format!(
                    "{{server: 'https://h', certificate-authority-data: {pem}, certificate-authority: /ca}}"
                ),
                "{}".to_string(),
                "certificate-authority-data and certificate-authority are both set",
            ),
            (
                format!(
                    "{{server: 'https://h', insecure-skip-tls-verify: true, certificate-authority-data: {pem}}}"
                ),
                "{}".to_string(),
                "cannot be combined",
            ),
            (
                "{server: 'https://h'}".into(),
                "{token: t, username: u}".into(),
                "more than one",
            ),
            (
                "{server: 'https://h'}".into(),
                format!("{{client-certificate-data: {pem}}}"),
                "without client-key",
            ),
            (
                "{server: 'https://h'}".into(),
                "{as: admin}".into(),
                "impersonation",
            ),
            (
                "{server: 'https://h'}".into(),
                "{auth-provider: {name: gcp}}".into(),
                "auth-provider \"gcp\"",
            ),
            (
                "{server: 'https://h', proxy-url: 'ftp://p'}".into(),
                "{}".into(),
                "invalid proxy-url",
            ),
            (
                "{server: 'unix:///sock'}".into(),
                "{}".into(),
                "invalid server",
            ),
            (
                "{insecure-skip-tls-verify: true}".into(),
                "{}".into(),
                "no server",
            ),
            (
                "{server: 'https://h', certificate-authority-data: '%%%'}".into(),
                "{}".into(),
                "invalid certificate-authority-data",
            ),
        ];
        for (cluster, user, want) in cases {
            let yaml = format!(
                "clusters: [{{name: c, cluster: {cluster}}}]\nusers: [{{name: u, user: {user}}}]\n\
                 contexts: [{{name: x, context: {{cluster: c, user: u}}}}]\ncurrent-context: x\n"
            );
            let err = build_from(&yaml, &KubeconfigOptions::default()).expect_err(want);
            assert!(err.to_string().contains(want), "{yaml}\n{err}");
        }
    }

    #[test]
    fn servers_are_normalized() {
        let cases = [
            ("https://h:6443/", Ok("https://h:6443")),
            ("h:6443", Ok("https://h:6443")),
            ("http://h/prefix/", Ok("http://h/prefix")),
            ("https://", Err(())),
            ("ftp://h", Err(())),
        ];
        for (input, want) in cases {
            let got = normalize_server(input).map_err(|_| ());
            assert_eq!(got.as_deref(), want.as_deref(), "{input}");
        }
    }

    #[test]
    fn a_context_without_a_user_is_anonymous() {
        let yaml = "
clusters: [{name: c, cluster: {server: 'https://h', insecure-skip-tls-verify: true}}]
contexts: [{name: x, context: {cluster: c}}]
current-context: x
";
        let config = build_from(yaml, &KubeconfigOptions::default()).expect("config");
        assert!(matches!(config.credentials, Credentials::None));
        assert!(config.accept_invalid_certs);
        assert!(config.root_certs.is_empty());
    }
}
