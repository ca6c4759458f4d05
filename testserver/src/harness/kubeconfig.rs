//! Writing an admin kubeconfig for a running server.

use base64::Engine;
use serde_json::json;

use crate::tls::TlsMaterial;

/// A kubeconfig (YAML) that reaches `server_url` as the admin, trusting the server's
/// CA when it has one.
pub(crate) fn render(server_url: &str, tls: Option<&TlsMaterial>) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let mut cluster = json!({"server": server_url});
    let mut user = json!({});
    if let Some(m) = tls {
        if m.ca_pem.is_empty() {
            cluster["insecure-skip-tls-verify"] = json!(true);
        } else {
            cluster["certificate-authority-data"] = json!(b64(&m.ca_pem));
        }
        if !m.admin_cert_pem.is_empty() {
            user = json!({
                "client-certificate-data": b64(&m.admin_cert_pem),
                "client-key-data": b64(&m.admin_key_pem),
            });
        }
    }
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "kubeforge", "cluster": cluster}],
        "contexts": [{"name": "kubeforge", "context": {"cluster": "kubeforge", "user": "kubeforge-admin", "namespace": "default"}}],
        "current-context": "kubeforge",
        "users": [{"name": "kubeforge-admin", "user": user}],
        "preferences": {},
    });
    serde_saphyr::to_string(&config).unwrap_or_else(|_| config.to_string())
}
