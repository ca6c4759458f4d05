//! In-cluster configuration: the service account a pod runs as.

use std::path::Path;

use super::client_config::{DEFAULT_NAMESPACE, certs_from_pem};
use super::{Config, ConfigError, Credentials, TokenFile};

/// Where kubelet mounts the pod's service account token, CA and namespace.
pub(crate) const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// Builds the in-cluster configuration from an environment lookup and a service
/// account directory (parameters so tests need neither a pod nor the process
/// environment).
///
/// - the apiserver is `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`;
/// - the token is `token`, read now (a pod without one cannot authenticate) and
///   re-read as kubelet rotates it;
/// - the CA is `ca.crt`. client-go logs a missing CA and goes on with none; we fail,
///   since without it no connection to the apiserver can be verified;
/// - the namespace is `$POD_NAMESPACE`, else `namespace`, else `default` (client-go's
///   in-cluster namespace lookup).
pub(crate) fn incluster_config(
    env: &dyn Fn(&str) -> Option<String>,
    dir: &Path,
) -> Result<Config, ConfigError> {
    let var = |k: &str| env(k).filter(|v| !v.is_empty());
    let (Some(host), Some(port)) = (
        var("KUBERNETES_SERVICE_HOST"),
        var("KUBERNETES_SERVICE_PORT"),
    ) else {
        return Err(ConfigError::InCluster(
            "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set".into(),
        ));
    };
    // An IPv6 address needs brackets in a URL.
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host
    };

    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read(&path).map_err(|source| ConfigError::Read { path, source })
    };

    let token_path = dir.join("token");
    let token = String::from_utf8_lossy(&read("token")?).trim().to_string();
    if token.is_empty() {
        return Err(ConfigError::EmptyTokenFile(token_path));
    }

    let ca_path = dir.join("ca.crt");
    let root_certs =
        certs_from_pem(&read("ca.crt")?).map_err(|source| ConfigError::InvalidField {
            entry: format!("service account CA {}", ca_path.display()),
            field: "ca.crt",
            source,
        })?;

    let default_namespace = match var("POD_NAMESPACE") {
        Some(ns) => ns,
        None => match std::fs::read_to_string(dir.join("namespace")) {
            Ok(ns) if !ns.trim().is_empty() => ns.trim().to_string(),
            _ => DEFAULT_NAMESPACE.to_string(),
        },
    };

    Ok(Config {
        cluster_url: format!("https://{host}:{port}"),
        default_namespace,
        root_certs,
        accept_invalid_certs: false,
        tls_server_name: None,
        identity: None,
        credentials: Credentials::TokenFile(TokenFile::with_token(token_path, token)),
        proxy_url: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CA: &str = include_str!("../../tests/fixtures/kubeconfig/pki/ca.crt");

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    fn service_account(namespace: Option<&str>) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("token"), "sa-token\n").expect("token");
        std::fs::write(dir.path().join("ca.crt"), CA).expect("ca");
        if let Some(ns) = namespace {
            std::fs::write(dir.path().join("namespace"), ns).expect("namespace");
        }
        dir
    }

    #[tokio::test]
    async fn a_pod_reaches_the_service_with_its_token_ca_and_namespace() {
        let dir = service_account(Some("team-a"));
        let vars = [
            ("KUBERNETES_SERVICE_HOST", "10.0.0.1"),
            ("KUBERNETES_SERVICE_PORT", "443"),
        ];
        let config = incluster_config(&env(&vars), dir.path()).expect("in-cluster config");
        assert_eq!(config.cluster_url, "https://10.0.0.1:443");
        assert_eq!(config.default_namespace, "team-a");
        assert_eq!(config.root_certs.len(), 1);
        assert!(!config.accept_invalid_certs);
        assert!(matches!(config.credentials, Credentials::TokenFile(_)));
        assert_eq!(
            config.credentials.authorization().await.expect("token"),
            Some("Bearer sa-token".into())
        );
    }

    #[test]
    fn ipv6_hosts_are_bracketed_and_pod_namespace_wins() {
        let dir = service_account(Some("from-file"));
        let vars = [
            ("KUBERNETES_SERVICE_HOST", "fd00::1"),
            ("KUBERNETES_SERVICE_PORT", "6443"),
            ("POD_NAMESPACE", "from-env"),
        ];
        let config = incluster_config(&env(&vars), dir.path()).expect("in-cluster config");
        assert_eq!(config.cluster_url, "https://[fd00::1]:6443");
        assert_eq!(config.default_namespace, "from-env");
    }

    #[test]
    fn without_a_namespace_file_the_namespace_is_default() {
        let dir = service_account(None);
        let vars = [
            ("KUBERNETES_SERVICE_HOST", "h"),
            ("KUBERNETES_SERVICE_PORT", "1"),
        ];
        let config = incluster_config(&env(&vars), dir.path()).expect("in-cluster config");
        assert_eq!(config.default_namespace, "default");
    }

    #[test]
    fn outside_a_pod_the_error_says_what_is_missing() {
        let dir = service_account(None);
        let err = incluster_config(&env(&[("KUBERNETES_SERVICE_HOST", "h")]), dir.path())
            .expect_err("no port");
        assert!(err.to_string().contains("KUBERNETES_SERVICE_PORT"), "{err}");

        let vars = [
            ("KUBERNETES_SERVICE_HOST", "h"),
            ("KUBERNETES_SERVICE_PORT", "1"),
        ];
        let empty = tempfile::tempdir().expect("tempdir");
        let err = incluster_config(&env(&vars), empty.path()).expect_err("no token");
        assert!(
            matches!(&err, ConfigError::Read { path, .. } if path.ends_with("token")),
            "{err:?}"
        );
    }
}
