use std::process::{Command, Stdio};
use std::time::Duration;

use kubeforge_testserver::TestServer;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::support::{Kubectl, init_crypto};

fn tls_client(ca_pem: &str, http1_only: bool) -> reqwest::Client {
    init_crypto();
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.expect("CA pem")).expect("CA added");
    }
    let mut cfg = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocols")
    .with_root_certificates(roots)
    .with_no_client_auth();
    cfg.alpn_protocols = if http1_only {
        vec![b"http/1.1".to_vec()]
    } else {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    };
    let mut b = reqwest::Client::builder().tls_backend_preconfigured(cfg);
    if http1_only {
        b = b.http1_only();
    }
    b.build().expect("client")
}

/// Over TLS the server speaks HTTP/2 (by ALPN) and HTTP/1.1, with a certificate its
/// CA vouches for.
#[tokio::test]
async fn tls_serves_http2_and_http1() {
    let server = TestServer::builder()
        .tls(true)
        .start()
        .await
        .expect("server");
    assert!(server.base_url().starts_with("https://"));
    let ca = server.ca_pem().expect("CA").to_owned();
    let h2 = tls_client(&ca, false)
        .get(format!("{}/api/v1/namespaces", server.base_url()))
        .send()
        .await
        .expect("h2 request");
    assert_eq!(h2.status(), 200);
    assert_eq!(h2.version(), reqwest::Version::HTTP_2);
    let h1 = tls_client(&ca, true)
        .get(format!("{}/version", server.base_url()))
        .send()
        .await
        .expect("h1 request");
    assert_eq!(h1.version(), reqwest::Version::HTTP_11);
    assert!(server.kubeconfig().contains("certificate-authority-data"));
}

/// Plain HTTP also speaks HTTP/2 with prior knowledge.
#[tokio::test]
async fn plain_http_speaks_h2_prior_knowledge() {
    init_crypto();
    let server = TestServer::start().await.expect("server");
    let c = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .expect("client");
    let r = c
        .get(format!("{}/api", server.base_url()))
        .send()
        .await
        .expect("request");
    assert_eq!(r.version(), reqwest::Version::HTTP_2);
    assert_eq!(r.status(), 200);
}

/// Many independent servers run in one process, each with its own state, and a
/// dropped server stops serving.
#[tokio::test]
async fn servers_are_independent_and_stop_on_drop() {
    init_crypto();
    let a = TestServer::start().await.expect("a");
    let b = TestServer::start().await.expect("b");
    let c = reqwest::Client::new();
    let cm = serde_json::json!({"metadata": {"name": "only-in-a"}});
    let r = c
        .post(format!(
            "{}/api/v1/namespaces/default/configmaps",
            a.base_url()
        ))
        .json(&cm)
        .send()
        .await
        .expect("create");
    assert_eq!(r.status(), 201);
    let r = c
        .get(format!(
            "{}/api/v1/namespaces/default/configmaps/only-in-a",
            b.base_url()
        ))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 404);
    let url = a.base_url().to_owned();
    a.shutdown().await;
    assert!(
        c.get(format!("{url}/version")).send().await.is_err(),
        "a stopped server refuses connections"
    );
}

/// The standalone binary: generates certificates and an admin kubeconfig, serves
/// kubectl over TLS, and exits cleanly on SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_serves_kubectl_over_tls_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("dir");
    let certs = dir.path().join("certs");
    let mut child = Command::new(env!("CARGO_BIN_EXE_kubeforge-apiserver"))
        .args(["--secure-port", "0", "--cert-dir"])
        .arg(&certs)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let kubeconfig = certs.join("admin.kubeconfig");
    for _ in 0..200 {
        if kubeconfig.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(kubeconfig.exists(), "no kubeconfig written");
    for f in ["ca.crt", "apiserver.crt", "apiserver.key"] {
        assert!(certs.join(f).exists(), "{f} not generated");
    }
    let k = Kubectl::from_path(&kubeconfig);
    let out = tokio::task::spawn_blocking(move || k.run(&["get", "ns", "-o", "name"]))
        .await
        .expect("kubectl")
        .ok();
    assert!(out.stdout.contains("namespace/default"), "{}", out.stdout);
    let pid = child.id().to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("join")
        .expect("wait");
    assert!(exit.success(), "clean exit on SIGTERM, got {exit:?}");
}
