//! Set-up shared by the tests: a TLS `TestServer` and a client for it.

use kubeforge_client::config::{Kubeconfig, KubeconfigOptions};
use kubeforge_client::{Client, ClientBuilder, Config};
use kubeforge_testserver::TestServer;

/// A fresh server over TLS (its own port and storage).
pub(crate) async fn server() -> TestServer {
    TestServer::builder()
        .tls(true)
        .start()
        .await
        .expect("test server starts")
}

/// The config of the server's own kubeconfig: its CA, and the admin's client
/// certificate.
pub(crate) fn config(server: &TestServer) -> Config {
    let kubeconfig = Kubeconfig::from_yaml(server.kubeconfig()).expect("kubeconfig parses");
    Config::from_custom_kubeconfig(kubeconfig, &KubeconfigOptions::default())
        .expect("kubeconfig is usable")
}

/// Client options for the server.
pub(crate) fn builder(server: &TestServer) -> ClientBuilder {
    Client::builder(config(server))
}

/// A client with default options.
pub(crate) fn client(server: &TestServer) -> Client {
    builder(server).build().expect("client builds")
}

/// A ConfigMap with one data key.
pub(crate) fn configmap(
    name: &str,
    key: &str,
    value: &str,
) -> k8s_openapi::api::core::v1::ConfigMap {
    let mut cm = k8s_openapi::api::core::v1::ConfigMap::default();
    cm.metadata.name = Some(name.to_owned());
    cm.data = Some([(key.to_owned(), value.to_owned())].into());
    cm
}

/// A minimal valid Pod.
pub(crate) fn pod(name: &str, labels: &[(&str, &str)]) -> k8s_openapi::api::core::v1::Pod {
    serde_json::from_value(serde_json::json!({
        "metadata": {
            "name": name,
            "labels": labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect::<std::collections::BTreeMap<_, _>>(),
        },
        "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]},
    }))
    .expect("pod decodes")
}

/// A minimal valid Deployment with `replicas`.
pub(crate) fn deployment(name: &str, replicas: i32) -> k8s_openapi::api::apps::v1::Deployment {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]},
            },
        },
    }))
    .expect("deployment decodes")
}
