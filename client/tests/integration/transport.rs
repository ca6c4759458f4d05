//! The transport against the test server's fault injection: throttling, retries,
//! warnings, timeouts and errors.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kubeforge_client::api::Api;
use kubeforge_client::core::{CreateOptions, FieldValidation, ListOptions, Status};
use kubeforge_client::transport::{RateLimit, RetryPolicy, Warning};
use kubeforge_testserver::Fault;
use parking_lot::Mutex;

use crate::support::{self, configmap};

/// With 4 QPS and a burst of 1, nine requests cannot finish before two seconds
/// have passed (on tokio's paused clock, so the test takes no real time and asserts
/// nothing about the machine's speed).
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_tiny_rate_limit_spaces_requests_out() {
    let server = support::server().await;
    let client = support::builder(&server)
        .rate_limit(RateLimit::new(4.0, 1))
        .build()
        .expect("client");
    let api = Api::<ConfigMap>::namespaced(client, "default");
    let started = tokio::time::Instant::now();
    let opts = ListOptions::default();
    let calls = (0..9).map(|_| api.list(&opts));
    let results = futures::future::join_all(calls).await;
    assert!(results.iter().all(Result::is_ok));
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_secs(2),
        "9 requests at 4/s after a burst of 1 need 2 s of tokio time, took {elapsed:?}"
    );
}

/// A 429 with `Retry-After` is retried after the wait and the call succeeds; with
/// retries off the caller sees `is_too_many_requests`.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_429_with_retry_after_is_retried() {
    let server = support::server().await;
    let api = Api::<ConfigMap>::namespaced(support::client(&server), "default");
    server.inject(
        Fault::fail(Status::too_many_requests("slow down", 2))
            .verb("list")
            .resource("configmaps"),
    );
    let started = tokio::time::Instant::now();
    api.list(&ListOptions::default()).await.expect("retried");
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "Retry-After honoured"
    );

    let no_retry = Api::<ConfigMap>::namespaced(
        support::builder(&server)
            .retry(RetryPolicy::none())
            .build()
            .expect("client"),
        "default",
    );
    server.inject(Fault::fail(Status::too_many_requests("slow down", 1)).verb("list"));
    let err = no_retry
        .list(&ListOptions::default())
        .await
        .expect_err("429");
    assert!(err.is_too_many_requests(), "{err}");
    assert_eq!(err.status().and_then(Status::retry_after_seconds), Some(1));
}

/// Two 503s then success: a read is retried with backoff until it succeeds.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_read_retries_through_503s() {
    let server = support::server().await;
    let api = Api::<ConfigMap>::namespaced(support::client(&server), "default");
    server.inject(
        Fault::fail(Status::service_unavailable("restarting"))
            .verb("get")
            .times(2),
    );
    api.create(&CreateOptions::default(), &configmap("r", "k", "v"))
        .await
        .expect("create");
    let got = api.get("r").await.expect("third attempt succeeds");
    assert_eq!(got.metadata.name.as_deref(), Some("r"));
}

/// A create answered 503 is not sent again (it may have been processed), so the
/// caller sees the 503 and decides.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_create_answered_503_is_not_retried() {
    let server = support::server().await;
    let api = Api::<ConfigMap>::namespaced(support::client(&server), "default");
    server.inject(Fault::fail(Status::service_unavailable("restarting")).verb("create"));
    let err = api
        .create(&CreateOptions::default(), &configmap("once", "k", "v"))
        .await
        .expect_err("not retried");
    assert!(err.is_service_unavailable(), "{err}");
    assert!(api.get_opt("once").await.expect("get_opt").is_none());
}

/// Warning headers reach a custom handler, those of fault injection and those the
/// server sends for dropped unknown fields alike.
#[tokio::test]
async fn warnings_reach_the_handler() {
    let server = support::server().await;
    let seen: Arc<Mutex<Vec<Warning>>> = Arc::default();
    let sink = seen.clone();
    let client = support::builder(&server)
        .warning_handler(move |w: &Warning| sink.lock().push(w.clone()))
        .build()
        .expect("client");
    server.inject(Fault::warn("this API is going away").verb("list"));
    let api = Api::<ConfigMap>::namespaced(client.clone(), "default");
    api.list(&ListOptions::default()).await.expect("list");

    let raw = Api::<kubeforge_client::api::DynamicObject>::namespaced_with(
        client,
        "default",
        &kubeforge_client::api::api_resource::<ConfigMap>(),
    );
    let obj = serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "w"}, "bogus": true,
    }))
    .expect("decode");
    raw.create(
        &CreateOptions::default().field_validation(FieldValidation::Warn),
        &obj,
    )
    .await
    .expect("create with a warning");

    let seen = seen.lock();
    assert_eq!(seen[0].text, "this API is going away");
    assert_eq!(seen[0].code, 299);
    assert!(
        seen.iter().any(|w| w.text.contains("bogus")),
        "unknown field warning: {seen:?}"
    );
}

/// A request slower than the client's timeout fails with `is_timeout`.
#[tokio::test]
async fn a_slow_answer_times_out() {
    let server = support::server().await;
    let client = support::builder(&server)
        .timeout(Duration::from_millis(200))
        .retry(RetryPolicy::none())
        .build()
        .expect("client");
    server.inject(Fault::delay(Duration::from_secs(5)).verb("get"));
    let err = Api::<ConfigMap>::namespaced(client, "default")
        .get("x")
        .await
        .expect_err("timeout");
    assert!(err.is_timeout(), "{err:?}");
}

/// After a 401, credentials that can be refreshed (a token file, re-read) get one
/// more try: a single 401 is absorbed, a second one reaches the caller.
#[tokio::test]
async fn a_401_refreshes_credentials_and_retries_once() {
    use kubeforge_client::config::{Credentials, TokenFile};

    let server = support::server().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let token = dir.path().join("token");
    std::fs::write(&token, "first").expect("write token");
    let mut config = support::config(&server);
    config.credentials = Credentials::TokenFile(TokenFile::new(&token));
    let api = Api::<ConfigMap>::namespaced(
        kubeforge_client::Client::builder(config)
            .retry(RetryPolicy::none())
            .build()
            .expect("client"),
        "default",
    );

    server.inject(Fault::fail(Status::unauthorized("Unauthorized")).verb("list"));
    std::fs::write(&token, "rotated").expect("rotate token");
    api.list(&ListOptions::default())
        .await
        .expect("retried with the re-read token");

    server.inject(
        Fault::fail(Status::unauthorized("Unauthorized"))
            .verb("list")
            .times(2),
    );
    let err = api.list(&ListOptions::default()).await.expect_err("twice");
    assert!(err.is_unauthorized(), "{err}");
}

/// A 401 is reported as unauthorized and not retried when the credentials cannot be
/// refreshed.
#[tokio::test]
async fn a_401_is_unauthorized() {
    let server = support::server().await;
    server.inject(Fault::fail(Status::unauthorized("Unauthorized")).verb("get"));
    let err = Api::<ConfigMap>::namespaced(support::client(&server), "default")
        .get("x")
        .await
        .expect_err("401");
    assert!(err.is_unauthorized(), "{err}");
}

/// The user agent becomes the default field manager of writes.
#[tokio::test]
async fn the_user_agent_names_the_field_manager() {
    let server = support::server().await;
    let client = support::builder(&server)
        .user_agent("shelf-controller/1.2 (linux/amd64)")
        .build()
        .expect("client");
    let cm = Api::<ConfigMap>::namespaced(client, "default")
        .create(&CreateOptions::default(), &configmap("ua", "k", "v"))
        .await
        .expect("create");
    let managers: Vec<_> = cm
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.manager)
        .collect();
    assert_eq!(managers, ["shelf-controller"]);
}

/// The server's version comes back over the client, HTTP/2 over TLS.
#[tokio::test]
async fn the_server_version_is_read() {
    let server = support::server().await;
    let v = support::client(&server)
        .apiserver_version()
        .await
        .expect("version");
    assert_eq!(v.major, "1");
    assert!(!v.git_version.is_empty());
}

/// A client certificate handed out by an exec plugin is what the client connects
/// with, and the plugin runs once for many requests (its credential is cached).
#[cfg(unix)]
#[tokio::test]
async fn an_exec_plugin_certificate_is_used_and_the_plugin_runs_once() {
    use base64::Engine;
    use kubeforge_client::config::{Kubeconfig, KubeconfigOptions};
    use std::os::unix::fs::PermissionsExt;

    let server = support::server().await;
    let admin = Kubeconfig::from_yaml(server.kubeconfig()).expect("kubeconfig");
    let user = &admin.users[0].user;
    let decode = |b64: &Option<String>| {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64.as_deref().expect("present"))
            .expect("base64");
        String::from_utf8(bytes).expect("PEM is text")
    };
    let credential = serde_json::json!({
        "apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
        "status": {
            "clientCertificateData": decode(&user.client_certificate_data),
            "clientKeyData": decode(&user.client_key_data),
        },
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let plugin = dir.path().join("plugin");
    let source = dir.path().join("plugin.src");
    std::fs::write(
        &source,
        format!(
            "#!/bin/sh\necho run >> \"$(dirname \"$0\")/runs\"\ncat <<'EOF'\n{credential}\nEOF\n"
        ),
    )
    .expect("write plugin");
    std::fs::set_permissions(&source, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    // Copied by `cp` so that this process never holds the executable open for writing
    // while other tests fork ("text file busy").
    let copied = std::process::Command::new("cp")
        .arg(&source)
        .arg(&plugin)
        .status()
        .expect("cp runs");
    assert!(copied.success());

    let ca = admin.clusters[0]
        .cluster
        .certificate_authority_data
        .clone()
        .expect("CA data");
    let yaml = format!(
        "clusters: [{{name: s, cluster: {{server: '{}', certificate-authority-data: '{ca}'}}}}]\n\
         users: [{{name: u, user: {{exec: {{apiVersion: client.authentication.k8s.io/v1, command: '{}', interactiveMode: Never}}}}}}]\n\
         contexts: [{{name: c, context: {{cluster: s, user: u}}}}]\n\
         current-context: c\n",
        server.base_url(),
        plugin.display()
    );
    let config = kubeforge_client::Config::from_custom_kubeconfig(
        Kubeconfig::from_yaml(&yaml).expect("kubeconfig"),
        &KubeconfigOptions::default(),
    )
    .expect("config");
    assert!(
        config.identity.is_none(),
        "the certificate comes from the plugin"
    );
    let api = Api::<ConfigMap>::namespaced(
        kubeforge_client::Client::new(config).expect("client"),
        "default",
    );
    for _ in 0..3 {
        api.list(&ListOptions::default()).await.expect("list");
    }
    let runs = std::fs::read_to_string(dir.path().join("runs")).expect("the plugin ran");
    assert_eq!(runs.lines().count(), 1);
}
