//! Kubeconfig loading, merging and every credential kind, from fixture files under
//! `tests/fixtures/kubeconfig/`; exec credential plugins as shell scripts each test
//! writes into its own temporary directory.
//!
//! Tests never change this process's environment (`cargo test` runs them as threads of
//! one process): a test that needs `KUBECONFIG`, `HOME` or a stdin that is not a
//! terminal runs itself again in a child process with that environment
//! ([`in_child`]).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine;
use kubeforge_client::config::{
    Config, ConfigError, Credentials, Identity, Kubeconfig, KubeconfigOptions, TokenFile,
};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kubeconfig")
}

fn fixture(name: &str) -> PathBuf {
    fixtures().join(name)
}

fn context(name: &str) -> KubeconfigOptions {
    KubeconfigOptions {
        context: Some(name.to_string()),
        ..KubeconfigOptions::default()
    }
}

fn config_for(file: &Path, options: &KubeconfigOptions) -> Config {
    let kc = Kubeconfig::read_from(file).expect("fixture reads");
    Config::from_custom_kubeconfig(kc, options).expect("fixture builds a config")
}

/// The DER bytes of each certificate in a PEM file, decoded here independently of the
/// library.
fn der_of(pem_file: &str) -> Vec<Vec<u8>> {
    let pem = std::fs::read_to_string(fixture(pem_file)).expect("pem fixture");
    pem.split("-----BEGIN CERTIFICATE-----")
        .skip(1)
        .map(|block| {
            let body = block
                .split("-----END CERTIFICATE-----")
                .next()
                .unwrap_or("");
            let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .expect("fixture PEM body is base64")
        })
        .collect()
}

fn fixture_identity() -> Identity {
    Identity {
        cert_pem: std::fs::read(fixture("pki/client.crt")).expect("cert"),
        key_pem: std::fs::read(fixture("pki/client.key")).expect("key"),
    }
}

/// The error and its sources, one per line, to assert on what a user would read.
fn chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut next = err.source();
    while let Some(e) = next {
        out.push_str("\n  caused by: ");
        out.push_str(&e.to_string());
        next = e.source();
    }
    out
}

// ----- every credential kind --------------------------------------------------------

/// Each context of `credentials.yaml` yields the URL, trust, identity and
/// `Authorization` header its cluster and user describe.
#[tokio::test]
async fn every_credential_kind_in_the_fixture_becomes_the_matching_config() {
    let file = fixture("credentials.yaml");
    let ca = der_of("pki/ca.crt");
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("admin:hunter2")
    );
    struct Want<'a> {
        context: &'a str,
        url: &'a str,
        namespace: &'a str,
        root_certs: Vec<Vec<u8>>,
        insecure: bool,
        tls_server_name: Option<&'a str>,
        proxy_url: Option<&'a str>,
        identity: Option<Identity>,
        authorization: Option<String>,
    }
    let ca_data = |context, user_auth: Option<String>, identity| Want {
        context,
        url: "https://ca-data.example:6443",
        namespace: "default",
        root_certs: ca.clone(),
        insecure: false,
        tls_server_name: None,
        proxy_url: None,
        identity,
        authorization: user_auth,
    };
    let ca_file = |context, user_auth: Option<String>, identity| Want {
        context,
        // the trailing slash of the fixture is dropped
        url: "https://ca-file.example:6443",
        namespace: "default",
        root_certs: ca.clone(),
        insecure: false,
        tls_server_name: Some("apiserver.internal"),
        proxy_url: None,
        identity,
        authorization: user_auth,
    };
    let insecure = |context, user_auth: Option<String>| Want {
        context,
        url: "https://insecure.example:6443",
        namespace: "default",
        root_certs: Vec::new(),
        insecure: true,
        tls_server_name: None,
        proxy_url: Some("socks5://proxy.example:1080"),
        identity: None,
        authorization: user_auth,
    };
    let cases = [
        Want {
            namespace: "team-token",
            ..ca_data("token", Some("Bearer static-token".into()), None)
        },
        // tokenFile: relative to the kubeconfig's directory, read at load time
        ca_file("token-file", Some("Bearer token-from-file".into()), None),
        // token and tokenFile: the token first, the file once it is re-read
        ca_file("token-and-file", Some("Bearer initial-token".into()), None),
        ca_data("cert-data", None, Some(fixture_identity())),
        ca_file("cert-files", None, Some(fixture_identity())),
        insecure("basic", Some(basic)),
        insecure("anonymous", None),
    ];
    for want in cases {
        let config = config_for(&file, &context(want.context));
        let ctx = want.context;
        assert_eq!(config.cluster_url, want.url, "{ctx}");
        assert_eq!(config.default_namespace, want.namespace, "{ctx}");
        assert_eq!(config.root_certs, want.root_certs, "{ctx}");
        assert_eq!(config.accept_invalid_certs, want.insecure, "{ctx}");
        assert_eq!(
            config.tls_server_name.as_deref(),
            want.tls_server_name,
            "{ctx}"
        );
        assert_eq!(config.proxy_url.as_deref(), want.proxy_url, "{ctx}");
        assert!(config.identity == want.identity, "{ctx}: identity differs");
        let auth = config.credentials.authorization().await.expect("resolves");
        assert_eq!(auth, want.authorization, "{ctx}");
        assert_eq!(
            config.credentials.identity().await.expect("resolves"),
            None,
            "{ctx}: only exec plugins provide identities through credentials"
        );
    }
}

/// Without options the kubeconfig's `current-context` is used.
#[test]
fn the_current_context_is_used_by_default() {
    let config = config_for(&fixture("credentials.yaml"), &KubeconfigOptions::default());
    assert_eq!(config.default_namespace, "team-token");
    assert!(matches!(config.credentials, Credentials::Token(_)));
}

/// Overriding the user of a context keeps its cluster and namespace.
#[tokio::test]
async fn options_override_the_user_of_a_context() {
    let options = KubeconfigOptions {
        context: Some("token".into()),
        user: Some("basic".into()),
        ..KubeconfigOptions::default()
    };
    let config = config_for(&fixture("credentials.yaml"), &options);
    assert_eq!(config.cluster_url, "https://ca-data.example:6443");
    assert_eq!(config.default_namespace, "team-token");
    assert!(matches!(config.credentials, Credentials::Basic { .. }));
}

/// A file the kubeconfig names but that is missing is reported with the entry, the
/// field and the path.
#[test]
fn a_missing_referenced_file_names_entry_field_and_path() {
    let kc = Kubeconfig::from_yaml(
        "
clusters: [{name: c, cluster: {server: 'https://h', certificate-authority: /nonexistent/ca.crt}}]
contexts: [{name: x, context: {cluster: c}}]
current-context: x
",
    )
    .expect("yaml");
    let err = Config::from_custom_kubeconfig(kc, &KubeconfigOptions::default())
        .expect_err("missing CA file");
    let text = chain(&err);
    assert!(
        text.starts_with("invalid certificate-authority in cluster \"c\""),
        "{text}"
    );
    assert!(
        text.contains("failed to read /nonexistent/ca.crt"),
        "{text}"
    );
    // Request methods see it as a configuration error.
    let client_err: kubeforge_client::core::Error = err.into();
    assert!(matches!(
        client_err,
        kubeforge_client::core::Error::Config(_)
    ));
}

// ----- token files -----------------------------------------------------------------

/// A token file is read once a minute, right after `invalidate`, and a file that
/// disappears keeps the last token in use.
#[tokio::test(start_paused = true)]
async fn a_token_file_is_reread_after_a_minute_and_after_invalidate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("token");
    std::fs::write(&path, "one\n").expect("write");
    let creds = Credentials::TokenFile(TokenFile::new(&path));
    let bearer = |t: &str| Some(format!("Bearer {t}"));

    assert_eq!(creds.authorization().await.expect("read"), bearer("one"));
    std::fs::write(&path, "two").expect("write");
    tokio::time::advance(Duration::from_secs(59)).await;
    assert_eq!(
        creds.authorization().await.expect("cached"),
        bearer("one"),
        "still within the minute"
    );
    tokio::time::advance(Duration::from_secs(2)).await;
    assert_eq!(creds.authorization().await.expect("re-read"), bearer("two"));

    std::fs::write(&path, "three").expect("write");
    assert!(creds.invalidate(), "re-reading a token file may help");
    assert_eq!(
        creds.authorization().await.expect("re-read"),
        bearer("three")
    );

    std::fs::remove_file(&path).expect("remove");
    assert!(creds.invalidate());
    assert_eq!(
        creds.authorization().await.expect("previous token kept"),
        bearer("three")
    );
}

/// A token file that never could be read is an error naming it.
#[tokio::test]
async fn an_unreadable_token_file_is_an_error_naming_it() {
    let creds = Credentials::TokenFile(TokenFile::new("/nonexistent/token"));
    let err = creds.authorization().await.expect_err("no file");
    assert!(
        chain(&err).contains("/nonexistent/token"),
        "{}",
        chain(&err)
    );
}

/// With `token` and `tokenFile` both set, the token is used until the file's first
/// re-read.
#[tokio::test(start_paused = true)]
async fn a_kubeconfig_token_gives_way_to_its_token_file() {
    let config = config_for(&fixture("credentials.yaml"), &context("token-and-file"));
    let auth = || config.credentials.authorization();
    assert_eq!(
        auth().await.expect("token"),
        Some("Bearer initial-token".into())
    );
    tokio::time::advance(Duration::from_secs(61)).await;
    assert_eq!(
        auth().await.expect("file"),
        Some("Bearer token-from-file".into())
    );
}

/// Static credentials cannot get better by resolving them again.
#[test]
fn static_credentials_say_a_retry_would_not_help() {
    assert!(!Credentials::None.invalidate());
    assert!(!Credentials::Token("t".into()).invalidate());
    let basic = Credentials::Basic {
        username: "u".into(),
        password: "p".into(),
    };
    assert!(!basic.invalidate());
}

// ----- merging ---------------------------------------------------------------------

/// With `KUBECONFIG=first:second`, the first file decides `current-context` and every
/// name it defines; the second only adds names; relative paths resolve against the
/// directory of the file that named them.
#[tokio::test]
async fn merge_order_first_file_wins_and_later_files_fill_in() {
    // The second file lives elsewhere, with the token file it names relatively.
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let second = elsewhere.path().join("second.yaml");
    std::fs::copy(fixture("merge/second.yaml"), &second).expect("copy");
    std::fs::write(
        elsewhere.path().join("second-token"),
        "token-from-elsewhere\n",
    )
    .expect("write");
    let first = fixture("merge/first.yaml");

    let kc = Kubeconfig::read_merged([&first, &second]).expect("merged");
    assert_eq!(kc.current_context.as_deref(), Some("shared"));
    let names = |v: Vec<&str>| v.into_iter().map(String::from).collect::<Vec<_>>();
    assert_eq!(
        kc.clusters
            .iter()
            .map(|c| c.name.clone())
            .collect::<Vec<_>>(),
        names(vec!["shared", "only-second"])
    );
    assert_eq!(
        kc.cluster("shared")
            .and_then(|c| c.cluster.server.as_deref()),
        Some("https://first.example:6443")
    );
    assert_eq!(
        kc.context("shared")
            .and_then(|c| c.context.namespace.as_deref()),
        Some("from-first")
    );

    let shared =
        Config::from_custom_kubeconfig(kc.clone(), &KubeconfigOptions::default()).expect("config");
    assert_eq!(shared.cluster_url, "https://first.example:6443");
    assert_eq!(shared.default_namespace, "from-first");
    assert_eq!(
        shared.credentials.authorization().await.expect("token"),
        Some("Bearer first-token".into())
    );

    let filled_in = Config::from_custom_kubeconfig(kc, &context("only-second")).expect("config");
    assert_eq!(filled_in.cluster_url, "https://only-second.example:6443");
    assert_eq!(
        filled_in
            .credentials
            .authorization()
            .await
            .expect("token file"),
        Some("Bearer token-from-elsewhere".into()),
        "tokenFile resolves against the second file's directory"
    );

    // The other order: the second file now decides.
    let reversed = Kubeconfig::read_merged([&second, &first]).expect("merged");
    assert_eq!(reversed.current_context.as_deref(), Some("only-second"));
    assert_eq!(
        reversed
            .cluster("shared")
            .and_then(|c| c.cluster.server.as_deref()),
        Some("https://second.example:6443")
    );
}

/// Missing files in the list are skipped, a repeated file is read once, and a list
/// with no existing file is an error.
#[test]
fn missing_and_repeated_files_in_the_list() {
    let first = fixture("merge/first.yaml");
    let missing = fixture("merge/does-not-exist.yaml");
    let kc = Kubeconfig::read_merged([&missing, &first, &first]).expect("merged");
    assert_eq!(kc.clusters.len(), 1);
    let err = Kubeconfig::read_merged([&missing]).expect_err("nothing to read");
    assert!(matches!(err, ConfigError::NoKubeconfig { .. }), "{err:?}");
}

/// A file that exists but is not a kubeconfig fails the whole list, naming it.
#[test]
fn a_broken_file_in_the_list_is_reported_by_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, "clusters: {oops: 1}\n").expect("write");
    let err =
        Kubeconfig::read_merged([fixture("merge/first.yaml"), broken.clone()]).expect_err("broken");
    assert!(
        err.to_string().contains(&broken.display().to_string()),
        "{err}"
    );
}

// ----- round trip ------------------------------------------------------------------

/// Every field kubeforge does not model, at every level, is written back.
#[test]
fn unknown_fields_survive_read_and_write() {
    let read = Kubeconfig::read_from(fixture("unknown-fields.yaml")).expect("read");
    assert_eq!(
        read.extra["x-tool"],
        serde_json::json!({"version": 3, "flags": ["a", "b"]})
    );
    assert_eq!(read.clusters[0].extra["x-named-cluster"], 1);
    assert_eq!(read.clusters[0].cluster.extra["x-cluster-field"], "kept");
    assert_eq!(read.contexts[0].extra["x-named-context"], true);
    assert_eq!(
        read.contexts[0].context.extra["x-context-field"],
        serde_json::json!([1, 2])
    );
    assert_eq!(read.users[0].extra["x-named-user"], serde_json::Value::Null);
    assert_eq!(
        read.preferences.as_ref().and_then(|p| p.get("x-pref")),
        Some(&serde_json::json!("kept"))
    );

    let written = read.to_yaml().expect("yaml");
    let mut again = Kubeconfig::from_yaml(&written).expect("written YAML reads");
    // `origin` records where an entry was read from and is never written.
    for c in &mut again.clusters {
        c.cluster
            .origin
            .clone_from(&read.clusters[0].cluster.origin);
    }
    for u in &mut again.users {
        u.user.origin.clone_from(&read.users[0].user.origin);
    }
    assert_eq!(again, read, "written:\n{written}");
    assert_eq!(again.to_yaml().expect("yaml"), written, "writing is stable");
}

// ----- against kubectl -------------------------------------------------------------

/// `kubectl config view --raw -o json` for `KUBECONFIG=files`, read back as a
/// kubeconfig (JSON is YAML).
fn kubectl_view(files: &[PathBuf]) -> Kubeconfig {
    let home = tempfile::tempdir().expect("tempdir");
    let out = Command::new("kubectl")
        .args(["config", "view", "--raw", "-o", "json"])
        .env("KUBECONFIG", std::env::join_paths(files).expect("joinable"))
        .env("HOME", home.path())
        .stdin(Stdio::null())
        .output()
        .expect("kubectl is installed");
    assert!(
        out.status.success(),
        "kubectl config view failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Kubeconfig::from_yaml(&String::from_utf8_lossy(&out.stdout)).expect("kubectl prints JSON")
}

/// What both sides must agree on: current context, and each named entry's fields
/// that do not depend on path resolution.
fn essentials(kc: &Kubeconfig) -> String {
    let mut lines = vec![format!("current-context: {:?}", kc.current_context)];
    for c in &kc.clusters {
        let cl = &c.cluster;
        lines.push(format!(
            "cluster {}: {:?} insecure={:?}",
            c.name, cl.server, cl.insecure_skip_tls_verify
        ));
    }
    for c in &kc.contexts {
        let cx = &c.context;
        lines.push(format!(
            "context {}: {:?} {:?} {:?}",
            c.name, cx.cluster, cx.user, cx.namespace
        ));
    }
    for u in &kc.users {
        lines.push(format!("user {}: token={:?}", u.name, u.user.token));
    }
    lines.sort();
    lines.join("\n")
}

/// Our merge of `KUBECONFIG` agrees with kubectl's, in both orders.
#[test]
fn merging_agrees_with_kubectl() {
    let first = fixture("merge/first.yaml");
    let second = fixture("merge/second.yaml");
    for files in [[first.clone(), second.clone()], [second, first]] {
        let ours = Kubeconfig::read_merged(&files).expect("merged");
        assert_eq!(
            essentials(&ours),
            essentials(&kubectl_view(&files)),
            "{files:?}"
        );
    }
}

/// kubectl reads the kubeconfig we write as it reads the original.
#[test]
fn kubectl_reads_what_we_write_as_the_original() {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["unknown-fields.yaml", "merge/first.yaml"] {
        let original = fixture(name);
        let written = dir.path().join("written.yaml");
        let yaml = Kubeconfig::read_from(&original)
            .expect("read")
            .to_yaml()
            .expect("yaml");
        std::fs::write(&written, yaml).expect("write");
        assert_eq!(
            kubectl_view(&[written]),
            kubectl_view(&[original]),
            "{name}"
        );
    }
}

// ----- exec plugins ----------------------------------------------------------------
// Plugins are shell scripts.
#[cfg(unix)]
mod exec_plugins {
    use super::*;
    use kubeforge_client::config::ExecError;

    /// A temporary directory holding `exec.yaml`, the PKI it names, and a plugin script
    /// `credential-plugin` that appends a line to `runs` each time it runs, records its
    /// input, and prints what `body` prints.
    struct ExecFixture {
        dir: tempfile::TempDir,
    }

    impl ExecFixture {
        fn new(body: &str) -> ExecFixture {
            let dir = tempfile::tempdir().expect("tempdir");
            std::fs::copy(fixture("exec.yaml"), dir.path().join("exec.yaml")).expect("copy");
            std::fs::create_dir(dir.path().join("pki")).expect("mkdir");
            std::fs::copy(fixture("pki/ca.crt"), dir.path().join("pki/ca.crt")).expect("copy");
            let script = format!(
                r#"#!/bin/sh
dir=$(dirname "$0")
echo run >> "$dir/runs"
n=$(wc -l < "$dir/runs" | tr -d ' ')
printf '%s' "$KUBERNETES_EXEC_INFO" > "$dir/exec-info.json"
printf '%s\n' "$@" > "$dir/args"
printf '%s' "$PLUGIN_GREETING" > "$dir/greeting"
api=$(printf '%s' "$KUBERNETES_EXEC_INFO" | sed 's/.*"apiVersion":"\([^"]*\)".*/\1/')
{body}
"#
            );
            write_executable(&dir.path().join("credential-plugin"), &script);
            ExecFixture { dir }
        }

        fn config(&self, context_name: &str) -> Config {
            config_for(&self.dir.path().join("exec.yaml"), &context(context_name))
        }

        fn runs(&self) -> usize {
            std::fs::read_to_string(self.dir.path().join("runs"))
                .map(|s| s.lines().count())
                .unwrap_or(0)
        }

        fn recorded(&self, name: &str) -> String {
            std::fs::read_to_string(self.dir.path().join(name)).expect("the plugin recorded it")
        }
    }

    /// Writes an executable script without this process ever holding it open for writing:
    /// a file open for writing in a process that forks (another test spawning a plugin)
    /// makes executing it fail with "text file busy" until that child execs. `cp` writes
    /// it in its own process instead.
    fn write_executable(path: &Path, script: &str) {
        let source = path.with_extension("src");
        std::fs::write(&source, script).expect("write script source");
        let status = Command::new("cp")
            .arg(&source)
            .arg(path)
            .status()
            .expect("cp runs");
        assert!(status.success(), "cp failed");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    /// A plugin body printing a token numbered by its run, expiring at `expiry`.
    fn token_body(expiry: &str) -> String {
        format!(
            r#"printf '{{"apiVersion":"%s","kind":"ExecCredential","status":{{"token":"token-%s","expirationTimestamp":"{expiry}"}}}}' "$api" "$n""#
        )
    }

    fn in_an_hour() -> String {
        (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1)).to_string()
    }

    fn an_hour_ago() -> String {
        (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(1)).to_string()
    }

    /// A credential expiring in the future is cached: the plugin runs once for many
    /// requests.
    #[tokio::test]
    async fn an_exec_credential_is_cached_until_it_expires() {
        let fx = ExecFixture::new(&token_body(&in_an_hour()));
        let config = fx.config("exec");
        for _ in 0..3 {
            assert_eq!(
                config
                    .credentials
                    .authorization()
                    .await
                    .expect("plugin runs"),
                Some("Bearer token-1".into())
            );
        }
        assert_eq!(fx.runs(), 1);
    }

    /// A credential that has already expired is fetched again on every call.
    #[tokio::test]
    async fn an_expired_exec_credential_runs_the_plugin_again() {
        let fx = ExecFixture::new(&token_body(&an_hour_ago()));
        let creds = fx.config("exec").credentials;
        assert_eq!(
            creds.authorization().await.expect("run 1"),
            Some("Bearer token-1".into())
        );
        assert_eq!(
            creds.authorization().await.expect("run 2"),
            Some("Bearer token-2".into())
        );
        assert_eq!(fx.runs(), 2);
    }

    /// After a 401 the transport calls `invalidate`: it says a retry may help, and the
    /// next call runs the plugin again even though the credential had not expired.
    #[tokio::test]
    async fn invalidate_after_a_401_runs_the_plugin_again() {
        let fx = ExecFixture::new(&token_body(&in_an_hour()));
        let creds = fx.config("exec").credentials;
        assert_eq!(
            creds.authorization().await.expect("run 1"),
            Some("Bearer token-1".into())
        );
        assert!(creds.invalidate(), "re-running the plugin may help");
        assert_eq!(
            creds.authorization().await.expect("run 2"),
            Some("Bearer token-2".into())
        );
        assert_eq!(
            creds.authorization().await.expect("cached again"),
            Some("Bearer token-2".into())
        );
        assert_eq!(fx.runs(), 2);
    }

    /// Callers arriving while the plugin runs wait for that run instead of starting their
    /// own.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_callers_share_one_plugin_run() {
        // The sleep only makes the callers overlap; the assertion holds either way.
        let fx = ExecFixture::new(&format!("sleep 0.3\n{}", token_body(&in_an_hour())));
        let creds = fx.config("exec").credentials;
        let mut callers = tokio::task::JoinSet::new();
        for _ in 0..16 {
            let creds = creds.clone();
            callers.spawn(async move { creds.authorization().await.expect("shared run") });
        }
        while let Some(auth) = callers.join_next().await {
            assert_eq!(auth.expect("no panic"), Some("Bearer token-1".into()));
        }
        assert_eq!(fx.runs(), 1);
    }

    /// The plugin gets its args, the kubeconfig's `env`, and `KUBERNETES_EXEC_INFO` with
    /// the cluster (`provideClusterInfo`), its CA, and its exec extension.
    #[tokio::test]
    async fn the_plugin_gets_args_env_and_cluster_info() {
        let fx = ExecFixture::new(&token_body(&in_an_hour()));
        fx.config("exec")
            .credentials
            .authorization()
            .await
            .expect("plugin runs");
        assert_eq!(fx.recorded("args"), "--audience\nkubeforge-tests\n");
        assert_eq!(fx.recorded("greeting"), "hello from the kubeconfig");
        let info: serde_json::Value =
            serde_json::from_str(&fx.recorded("exec-info.json")).expect("exec info is JSON");
        let ca_pem = std::fs::read(fixture("pki/ca.crt")).expect("ca");
        assert_eq!(
            info,
            serde_json::json!({
                "apiVersion": "client.authentication.k8s.io/v1",
                "kind": "ExecCredential",
                "spec": {
                    "interactive": false,
                    "cluster": {
                        "server": "https://exec.example:6443",
                        "tls-server-name": "exec.internal",
                        "certificate-authority-data":
                            base64::engine::general_purpose::STANDARD.encode(ca_pem),
                        "config": {"audience": "kubeforge-tests"},
                    },
                },
            })
        );
    }

    /// A `v1beta1` plugin without `interactiveMode` defaults to `IfAvailable` and gets no
    /// cluster unless it asks.
    #[tokio::test]
    async fn a_v1beta1_plugin_works_without_interactive_mode() {
        let fx = ExecFixture::new(&token_body(&in_an_hour()));
        let creds = fx.config("exec-v1beta1").credentials;
        assert_eq!(
            creds.authorization().await.expect("plugin runs"),
            Some("Bearer token-1".into())
        );
        let info: serde_json::Value =
            serde_json::from_str(&fx.recorded("exec-info.json")).expect("exec info is JSON");
        assert_eq!(info["apiVersion"], "client.authentication.k8s.io/v1beta1");
        assert!(info["spec"].get("cluster").is_none(), "{info}");
    }

    /// A plugin may return a client certificate and key instead of a token; the
    /// transport gets them from `identity()`.
    #[tokio::test]
    async fn a_plugin_returning_a_client_certificate_provides_an_identity() {
        let id = fixture_identity();
        let status = serde_json::json!({
            "clientCertificateData": String::from_utf8(id.cert_pem.clone()).expect("utf-8"),
            "clientKeyData": String::from_utf8(id.key_pem.clone()).expect("utf-8"),
        });
        let out = format!(
            r#"{{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{status}}}"#
        );
        let fx = ExecFixture::new(&format!("cat <<'EOF'\n{out}\nEOF"));
        let creds = fx.config("exec").credentials;
        assert!(creds.identity().await.expect("plugin runs") == Some(id));
        assert_eq!(creds.authorization().await.expect("cached"), None);
        assert_eq!(fx.runs(), 1, "identity and authorization share the cache");
    }

    /// A plugin that is not installed fails with the kubeconfig's install hint.
    #[tokio::test]
    async fn a_missing_plugin_reports_its_install_hint() {
        let fx = ExecFixture::new("exit 0");
        let err = fx
            .config("exec-missing")
            .credentials
            .authorization()
            .await
            .expect_err("not installed");
        let text = chain(&err);
        assert!(
            text.contains("exec credential plugin \"kubeforge-no-such-credential-plugin\" failed"),
            "{text}"
        );
        assert!(text.contains("executable not found"), "{text}");
        assert!(text.contains("apt-get install kubeforge-no-such"), "{text}");
    }

    /// A plugin that fails reports its exit status and what it wrote to stderr.
    #[tokio::test]
    async fn a_failing_plugin_reports_exit_status_and_stderr() {
        let fx = ExecFixture::new("echo 'the token service is down' >&2\nexit 3");
        let err = fx
            .config("exec")
            .credentials
            .authorization()
            .await
            .expect_err("fails");
        let text = chain(&err);
        assert!(text.contains("exit status: 3"), "{text}");
        assert!(text.contains("the token service is down"), "{text}");
    }

    /// A plugin printing something that is not an `ExecCredential` is an error, and
    /// nothing is cached: the next call runs it again.
    #[tokio::test]
    async fn invalid_plugin_output_is_an_error_and_is_not_cached() {
        let fx = ExecFixture::new("echo 'not json'");
        let creds = fx.config("exec").credentials;
        for _ in 0..2 {
            let err = creds.authorization().await.expect_err("invalid output");
            assert!(
                chain(&err).contains("invalid ExecCredential"),
                "{}",
                chain(&err)
            );
        }
        assert_eq!(fx.runs(), 2);
    }

    /// `interactiveMode: Always` with a stdin that is not a terminal fails before running
    /// the plugin. (Runs in a child whose stdin is `/dev/null`, since a developer's
    /// `cargo test` may have a terminal.)
    #[test]
    fn interactive_mode_always_fails_without_a_terminal() {
        let Some(dir) = child_env(DIR_VAR) else {
            let fx = ExecFixture::new(&token_body(&in_an_hour()));
            in_child(
                "exec_plugins::interactive_mode_always_fails_without_a_terminal",
                &[(DIR_VAR, fx.dir.path().as_os_str().to_owned())],
                &[],
            );
            return;
        };
        let fx_dir = PathBuf::from(dir);
        let config = config_for(&fx_dir.join("exec.yaml"), &context("exec-always"));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let err = runtime
            .block_on(config.credentials.authorization())
            .expect_err("no terminal");
        let text = chain(&err);
        assert!(text.contains("standard input is not a terminal"), "{text}");
        assert!(!fx_dir.join("runs").exists(), "the plugin never ran");
        // The error is a ConfigError::Exec holding ExecError::NotInteractive.
        let config_err = match &err {
            kubeforge_client::core::Error::Config(e) => e.downcast_ref::<ConfigError>(),
            _ => None,
        };
        assert!(
            matches!(
                config_err,
                Some(ConfigError::Exec {
                    source: ExecError::NotInteractive,
                    ..
                })
            ),
            "{err:?}"
        );
    }
}

// ----- the environment: KUBECONFIG, HOME, in-cluster --------------------------------

const CHILD_MARKER: &str = "KUBEFORGE_CONFIG_TEST_CHILD";
const DIR_VAR: &str = "KUBEFORGE_CONFIG_TEST_DIR";

/// A variable of the child's environment, `None` in the parent (the marker is unset).
fn child_env(name: &str) -> Option<OsString> {
    std::env::var_os(CHILD_MARKER)?;
    std::env::var_os(name)
}

/// Runs one test of this binary again in a child process, with `set` added to and
/// `remove` taken from the environment, stdin from `/dev/null`; fails if it fails.
fn in_child(test: &str, set: &[(&str, OsString)], remove: &[&str]) {
    // Test names are module paths inside the test crate: "config::<test>".
    let module = module_path!()
        .split_once("::")
        .map_or(module_path!(), |(_, rest)| rest);
    let name = format!("{module}::{test}");
    let exe = std::env::current_exe().expect("test binary path");
    let mut cmd = Command::new(exe);
    cmd.args([name.as_str(), "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_MARKER, "1")
        .stdin(Stdio::null());
    for (k, v) in set {
        cmd.env(k, v);
    }
    for k in remove {
        cmd.env_remove(k);
    }
    let out = cmd.output().expect("child test runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child {name} failed ({})\n--- stdout\n{stdout}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `Config::from_kubeconfig` and `Config::infer` read the files `KUBECONFIG` lists, in
/// order, ignoring `~/.kube/config`.
#[test]
fn kubeconfig_env_lists_files_merged_in_order() {
    if child_env(CHILD_MARKER).is_none() {
        let home = tempfile::tempdir().expect("tempdir");
        // A ~/.kube/config that must not be read while KUBECONFIG is set.
        std::fs::create_dir(home.path().join(".kube")).expect("mkdir");
        std::fs::write(home.path().join(".kube/config"), "not: [a kubeconfig").expect("write");
        let list = std::env::join_paths([
            fixture("merge/does-not-exist.yaml"),
            fixture("merge/first.yaml"),
            fixture("merge/second.yaml"),
        ])
        .expect("joinable paths");
        in_child(
            "kubeconfig_env_lists_files_merged_in_order",
            &[
                ("KUBECONFIG", list),
                ("HOME", home.path().as_os_str().to_owned()),
            ],
            &[],
        );
        return;
    }
    let config = Config::from_kubeconfig(&KubeconfigOptions::default()).expect("config");
    assert_eq!(config.cluster_url, "https://first.example:6443");
    let config = Config::from_kubeconfig(&context("only-second")).expect("config");
    assert_eq!(config.cluster_url, "https://only-second.example:6443");
    let inferred = Config::infer().expect("inferred");
    assert_eq!(inferred.cluster_url, "https://first.example:6443");
}

/// Without `KUBECONFIG`, `~/.kube/config` is read.
#[test]
fn without_kubeconfig_env_the_home_config_is_read() {
    if child_env(CHILD_MARKER).is_none() {
        let home = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(home.path().join(".kube")).expect("mkdir");
        std::fs::copy(
            fixture("merge/first.yaml"),
            home.path().join(".kube/config"),
        )
        .expect("copy");
        in_child(
            "without_kubeconfig_env_the_home_config_is_read",
            &[("HOME", home.path().as_os_str().to_owned())],
            &["KUBECONFIG"],
        );
        return;
    }
    let config = Config::infer().expect("inferred");
    assert_eq!(config.cluster_url, "https://first.example:6443");
}

/// With no kubeconfig anywhere and outside a pod, `infer` says it found neither, and
/// why in-cluster configuration failed.
#[test]
fn infer_without_kubeconfig_or_pod_says_so() {
    if child_env(CHILD_MARKER).is_none() {
        let home = tempfile::tempdir().expect("tempdir");
        in_child(
            "infer_without_kubeconfig_or_pod_says_so",
            &[("HOME", home.path().as_os_str().to_owned())],
            &[
                "KUBECONFIG",
                "KUBERNETES_SERVICE_HOST",
                "KUBERNETES_SERVICE_PORT",
            ],
        );
        return;
    }
    let err = Config::infer().expect_err("nothing to infer from");
    let text = chain(&err);
    assert!(
        text.starts_with("found neither a kubeconfig nor an in-cluster environment"),
        "{text}"
    );
    assert!(text.contains("KUBERNETES_SERVICE_HOST"), "{text}");
    let err = Config::from_kubeconfig(&KubeconfigOptions::default()).expect_err("none");
    assert!(matches!(err, ConfigError::NoKubeconfig { .. }), "{err:?}");
    let err = Config::incluster().expect_err("not in a pod");
    assert!(matches!(err, ConfigError::InCluster(_)), "{err:?}");
}

/// A kubeconfig that exists but is broken is reported by `infer`, not skipped in
/// favour of in-cluster configuration.
#[test]
fn infer_reports_a_broken_kubeconfig() {
    if child_env(CHILD_MARKER).is_none() {
        let dir = tempfile::tempdir().expect("tempdir");
        let broken = dir.path().join("broken.yaml");
        std::fs::write(&broken, "users: 42\n").expect("write");
        in_child(
            "infer_reports_a_broken_kubeconfig",
            &[
                ("KUBECONFIG", broken.into_os_string()),
                ("KUBERNETES_SERVICE_HOST", "10.0.0.1".into()),
                ("KUBERNETES_SERVICE_PORT", "443".into()),
            ],
            &[],
        );
        return;
    }
    let err = Config::infer().expect_err("broken kubeconfig");
    assert!(matches!(err, ConfigError::Parse { .. }), "{err:?}");
}
