//! Exec credential plugins: run a command, read an `ExecCredential`, cache it.
//!
//! The protocol (`client.authentication.k8s.io/v1`, and `v1beta1`): the plugin gets
//! `KUBERNETES_EXEC_INFO`, an `ExecCredential` whose `spec` says whether it may
//! interact with the user and, when the kubeconfig sets `provideClusterInfo`, which
//! cluster it is for; it prints an `ExecCredential` whose `status` holds a token
//! and/or a client certificate and key, and optionally when they expire.

use std::io::IsTerminal;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use parking_lot::Mutex;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::Deserialize;
use serde_json::{Value, json};

use super::kubeconfig::{Cluster, ExecConfig};
use super::{ConfigError, ExecError, Identity};

/// The environment variable carrying the plugin's input.
pub(crate) const EXEC_INFO_ENV: &str = "KUBERNETES_EXEC_INFO";
const V1: &str = "client.authentication.k8s.io/v1";
const V1BETA1: &str = "client.authentication.k8s.io/v1beta1";
/// The cluster extension handed to the plugin as `spec.cluster.config`.
const EXEC_EXTENSION: &str = "client.authentication.k8s.io/exec";

/// How long a plugin may run when it cannot interact with the user. Real plugins
/// answer in a second or two; a hung one would otherwise hold up every request.
pub const EXEC_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a plugin may run when it talks to the user on a terminal (a login in a
/// browser takes a while).
pub const EXEC_INTERACTIVE_TIMEOUT: Duration = Duration::from_secs(600);
/// A credential this close to its expiry is fetched again: a request sent with it
/// would likely meet a 401 and cost a retry. client-go uses none; a few seconds spare
/// a round trip.
const EXPIRY_MARGIN: jiff::SignedDuration = jiff::SignedDuration::from_secs(10);
/// How much of the plugin's stderr an error quotes.
const STDERR_EXCERPT: usize = 2048;

/// An exec credential plugin and its cached credential.
///
/// client-go's exec `Authenticator`. The plugin runs on first use, again when the
/// credential it returned expires (`expirationTimestamp`), and again after
/// [`Credentials::invalidate`](super::Credentials::invalidate) (the server answered
/// 401). Callers arriving while it runs wait for that run and share its result
/// rather than starting their own.
///
/// The process gets the caller's environment plus the kubeconfig's `env` and
/// `KUBERNETES_EXEC_INFO`; stdin and stderr are the terminal's when it runs
/// interactively, otherwise stdin is empty and stderr is captured for errors. It
/// runs on tokio (`tokio::process`, needing a runtime with I/O enabled), is killed
/// after [`EXEC_TIMEOUT`] ([`EXEC_INTERACTIVE_TIMEOUT`] when interactive) or when
/// the caller gives up.
///
/// Clones share the cache.
#[derive(Clone)]
pub struct ExecPlugin {
    inner: Arc<ExecInner>,
}

struct ExecInner {
    spec: ExecSpec,
    /// Overrides the default timeouts.
    timeout: Option<Duration>,
    state: Mutex<ExecState>,
    /// Held while the plugin process runs so that one run serves all concurrent
    /// callers. A tokio mutex because it is held across the process's await; it
    /// guards the plugin process, not data (the data is in `state`).
    run: tokio::sync::Mutex<()>,
}

/// What the kubeconfig says, checked.
#[derive(Clone)]
struct ExecSpec {
    command: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
    api_version: &'static str,
    install_hint: Option<String>,
    interactive_mode: InteractiveMode,
    /// `spec.cluster` of `KUBERNETES_EXEC_INFO` (only with `provideClusterInfo`).
    cluster: Option<Value>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum InteractiveMode {
    Never,
    IfAvailable,
    Always,
}

#[derive(Default)]
struct ExecState {
    /// The last credential the plugin returned; `None` before the first run and after
    /// `invalidate`.
    cached: Option<Cached>,
    /// Completed runs. A caller that waited for a run compares this with what it saw
    /// before waiting, to share that run's result instead of starting another.
    runs: u64,
}

struct Cached {
    creds: ExecCredentials,
    /// `None`: valid until invalidated.
    expires: Option<jiff::Timestamp>,
}

impl Cached {
    fn is_fresh(&self) -> bool {
        match self.expires {
            None => true,
            Some(exp) => jiff::Timestamp::now() < exp - EXPIRY_MARGIN,
        }
    }
}

/// What a plugin run yields.
#[derive(Clone)]
pub(crate) struct ExecCredentials {
    pub(crate) token: Option<String>,
    pub(crate) identity: Option<Identity>,
}

impl std::fmt::Debug for ExecPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let spec = &self.inner.spec;
        f.debug_struct("ExecPlugin")
            .field("command", &spec.command)
            .field("args", &spec.args)
            .field("api_version", &spec.api_version)
            .field("interactive_mode", &spec.interactive_mode)
            .finish_non_exhaustive()
    }
}

impl ExecPlugin {
    /// A plugin from a kubeconfig `exec` section, run as written (a relative
    /// `command` resolves against the working directory; no cluster information is
    /// passed). [`Config::from_kubeconfig`](super::Config::from_kubeconfig) builds
    /// plugins with the kubeconfig's directory and cluster instead.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Unusable`] when `apiVersion`, `command`, `env` or
    /// `interactiveMode` is missing or invalid.
    pub fn new(exec: &ExecConfig) -> Result<ExecPlugin, ConfigError> {
        ExecPlugin::from_kubeconfig("exec plugin", exec, None, None)
    }

    /// The same plugin with its own (empty) cache and a different run timeout.
    #[must_use]
    pub fn with_timeout(&self, timeout: Duration) -> ExecPlugin {
        ExecPlugin::from_spec(self.inner.spec.clone(), Some(timeout))
    }

    /// Checks an `exec` section; `entry` names it in errors, `base_dir` is the
    /// kubeconfig's directory, `cluster` the `spec.cluster` to pass when asked.
    pub(crate) fn from_kubeconfig(
        entry: &str,
        exec: &ExecConfig,
        base_dir: Option<&Path>,
        cluster: Option<Value>,
    ) -> Result<ExecPlugin, ConfigError> {
        let unusable = |message: String| ConfigError::Unusable {
            entry: entry.to_string(),
            message,
        };
        let api_version = match exec.api_version.as_deref() {
            Some(V1) => V1,
            Some(V1BETA1) => V1BETA1,
            None | Some("") => return Err(unusable("exec.apiVersion must be set".into())),
            Some(other) => {
                return Err(unusable(format!(
                    "exec.apiVersion {other:?} is not supported (use {V1} or {V1BETA1})"
                )));
            }
        };
        if exec.command.is_empty() {
            return Err(unusable("exec.command must be set".into()));
        }
        let interactive_mode = match exec.interactive_mode.as_deref() {
            Some("Never") => InteractiveMode::Never,
            Some("IfAvailable") => InteractiveMode::IfAvailable,
            Some("Always") => InteractiveMode::Always,
            // client-go defaults it for v1beta1 only; v1 made it required.
            None | Some("") if api_version == V1BETA1 => InteractiveMode::IfAvailable,
            None | Some("") => {
                return Err(unusable(format!(
                    "exec.interactiveMode must be set for {V1} (Never, IfAvailable or Always)"
                )));
            }
            Some(other) => {
                return Err(unusable(format!(
                    "exec.interactiveMode {other:?} is not one of Never, IfAvailable, Always"
                )));
            }
        };
        let mut env = Vec::new();
        for var in exec.env.iter().flatten() {
            if var.name.is_empty() {
                return Err(unusable("exec.env has an entry without a name".into()));
            }
            env.push((var.name.clone(), var.value.clone()));
        }
        // client-go's rule: a command with a path separator is a path, relative to the
        // kubeconfig's directory; a bare name is looked up in PATH.
        let command = match base_dir {
            Some(dir)
                if exec.command.contains(std::path::MAIN_SEPARATOR)
                    && Path::new(&exec.command).is_relative() =>
            {
                dir.join(&exec.command).to_string_lossy().into_owned()
            }
            _ => exec.command.clone(),
        };
        let cluster = if exec.provide_cluster_info.unwrap_or(false) {
            cluster
        } else {
            None
        };
        let spec = ExecSpec {
            command,
            args: exec.args.clone().unwrap_or_default(),
            env,
            api_version,
            install_hint: exec.install_hint.clone(),
            interactive_mode,
            cluster,
        };
        Ok(ExecPlugin::from_spec(spec, None))
    }

    fn from_spec(spec: ExecSpec, timeout: Option<Duration>) -> ExecPlugin {
        ExecPlugin {
            inner: Arc::new(ExecInner {
                spec,
                timeout,
                state: Mutex::new(ExecState::default()),
                run: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// Forget the cached credential, so the next call runs the plugin.
    pub(crate) fn invalidate(&self) {
        self.inner.state.lock().cached = None;
    }

    /// The cached credential while fresh, else the result of a new run (or of the
    /// run that finished while this call waited for it).
    pub(crate) async fn credential(&self) -> Result<ExecCredentials, ConfigError> {
        let runs_before = {
            let st = self.inner.state.lock();
            match &st.cached {
                Some(c) if c.is_fresh() => return Ok(c.creds.clone()),
                _ => st.runs,
            }
        };
        let _running = self.inner.run.lock().await;
        {
            let st = self.inner.state.lock();
            if let Some(c) = &st.cached
                && (c.is_fresh() || st.runs != runs_before)
            {
                return Ok(c.creds.clone());
            }
        }
        let fresh = self.run().await.map_err(|source| ConfigError::Exec {
            command: self.inner.spec.command.clone(),
            source,
        })?;
        let creds = fresh.creds.clone();
        let mut st = self.inner.state.lock();
        st.cached = Some(fresh);
        st.runs += 1;
        Ok(creds)
    }

    async fn run(&self) -> Result<Cached, ExecError> {
        let spec = &self.inner.spec;
        let interactive = match spec.interactive_mode {
            InteractiveMode::Never => false,
            InteractiveMode::IfAvailable => std::io::stdin().is_terminal(),
            InteractiveMode::Always if std::io::stdin().is_terminal() => true,
            InteractiveMode::Always => return Err(ExecError::NotInteractive),
        };
        let mut exec_spec = json!({ "interactive": interactive });
        if let Some(cluster) = &spec.cluster {
            exec_spec["cluster"] = cluster.clone();
        }
        let info = json!({
            "apiVersion": spec.api_version,
            "kind": "ExecCredential",
            "spec": exec_spec,
        });
        let mut cmd = tokio::process::Command::new(&spec.command);
        cmd.args(&spec.args)
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .env(EXEC_INFO_ENV, info.to_string())
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        if interactive {
            cmd.stdin(Stdio::inherit()).stderr(Stdio::inherit());
        } else {
            cmd.stdin(Stdio::null()).stderr(Stdio::piped());
        }
        let child = cmd.spawn().map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ExecError::NotFound {
                install_hint: spec.install_hint.clone(),
            },
            _ => ExecError::Io(e),
        })?;
        let timeout = self.inner.timeout.unwrap_or(if interactive {
            EXEC_INTERACTIVE_TIMEOUT
        } else {
            EXEC_TIMEOUT
        });
        // On timeout the future owning the child is dropped, which kills it.
        let output = tokio::time::timeout(timeout, child.wait_with_output())
            .await
            .map_err(|_| ExecError::Timeout(timeout))?
            .map_err(ExecError::Io)?;
        if !output.status.success() {
            return Err(ExecError::Exit {
                status: output.status,
                stderr: excerpt(&output.stderr),
            });
        }
        parse_output(&output.stdout, spec.api_version)
    }
}

/// The end of a process's stderr, trimmed, as text.
fn excerpt(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let text = text.trim();
    match text.char_indices().rev().nth(STDERR_EXCERPT) {
        Some((i, _)) => format!("…{}", &text[i..]),
        None => text.to_string(),
    }
}

/// An `ExecCredential` as plugins print it; only what we read.
#[derive(Deserialize)]
struct ExecCredentialOut {
    #[serde(rename = "apiVersion", default)]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    status: Option<ExecCredentialStatus>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecCredentialStatus {
    #[serde(default)]
    token: Option<String>,
    /// PEM text (not base64: the field is a string in the API).
    #[serde(default)]
    client_certificate_data: Option<String>,
    #[serde(default)]
    client_key_data: Option<String>,
    #[serde(default)]
    expiration_timestamp: Option<String>,
}

/// Checks what a plugin printed, as client-go does: the API version asked for, a
/// status, a token or a certificate and key (both or neither), a valid expiry.
fn parse_output(stdout: &[u8], api_version: &str) -> Result<Cached, ExecError> {
    let bad = |m: String| ExecError::Output(m);
    // JSON is what plugins print; YAML is accepted too, as client-go's decoder does.
    let out: ExecCredentialOut = match serde_json::from_slice(stdout) {
        Ok(out) => out,
        Err(json_err) => {
            let text = std::str::from_utf8(stdout).map_err(|_| bad(json_err.to_string()))?;
            serde_saphyr::from_str(text).map_err(|_| bad(json_err.to_string()))?
        }
    };
    if out.api_version.as_deref() != Some(api_version) {
        return Err(bad(format!(
            "apiVersion is {:?}, the kubeconfig asks for {api_version:?}",
            out.api_version.unwrap_or_default()
        )));
    }
    if out.kind.as_deref() != Some("ExecCredential") {
        return Err(bad(format!(
            "kind is {:?}, not \"ExecCredential\"",
            out.kind.unwrap_or_default()
        )));
    }
    let status = out.status.ok_or_else(|| bad("no status".into()))?;
    let non_empty = |s: Option<String>| s.filter(|s| !s.is_empty());
    let token = non_empty(status.token);
    let cert = non_empty(status.client_certificate_data);
    let key = non_empty(status.client_key_data);
    let identity = match (cert, key) {
        (None, None) => None,
        (Some(cert), Some(key)) => {
            let certs = CertificateDer::pem_slice_iter(cert.as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| bad(format!("clientCertificateData is not PEM: {e}")))?;
            if certs.is_empty() {
                return Err(bad("clientCertificateData holds no certificate".into()));
            }
            PrivateKeyDer::from_pem_slice(key.as_bytes())
                .map_err(|e| bad(format!("clientKeyData is not a PEM private key: {e}")))?;
            Some(Identity {
                cert_pem: cert.into_bytes(),
                key_pem: key.into_bytes(),
            })
        }
        _ => {
            return Err(bad(
                "status has clientCertificateData or clientKeyData, not both".into(),
            ));
        }
    };
    if token.is_none() && identity.is_none() {
        return Err(bad(
            "status has neither a token nor a client certificate and key".into(),
        ));
    }
    let expires = match non_empty(status.expiration_timestamp) {
        None => None,
        Some(ts) => Some(
            ts.parse::<jiff::Timestamp>()
                .map_err(|e| bad(format!("expirationTimestamp {ts:?} is not RFC 3339: {e}")))?,
        ),
    };
    Ok(Cached {
        creds: ExecCredentials { token, identity },
        expires,
    })
}

/// `spec.cluster` for a plugin with `provideClusterInfo`: the cluster as the plugin
/// sees it (`certificate-authority-data` is the base64 of the CA PEM, read from the
/// file when the kubeconfig names one), plus the cluster's
/// `client.authentication.k8s.io/exec` extension as `config`.
pub(crate) fn cluster_info(cluster: &Cluster, ca_pem: Option<&[u8]>) -> Value {
    let mut info = json!({ "server": cluster.server.clone().unwrap_or_default() });
    let mut set = |k: &str, v: Value| {
        info[k] = v;
    };
    if let Some(name) = cluster.tls_server_name.as_ref().filter(|s| !s.is_empty()) {
        set("tls-server-name", json!(name));
    }
    if cluster.insecure_skip_tls_verify == Some(true) {
        set("insecure-skip-tls-verify", json!(true));
    }
    if let Some(pem) = ca_pem.filter(|p| !p.is_empty()) {
        let b64 = base64::engine::general_purpose::STANDARD.encode(pem);
        set("certificate-authority-data", json!(b64));
    }
    if let Some(proxy) = cluster.proxy_url.as_ref().filter(|s| !s.is_empty()) {
        set("proxy-url", json!(proxy));
    }
    if cluster.disable_compression == Some(true) {
        set("disable-compression", json!(true));
    }
    let mut extensions = cluster.extensions.iter().flatten();
    if let Some(ext) = extensions.find(|e| e.name == EXEC_EXTENSION) {
        set("config", ext.extension.clone());
    }
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &str = "-----BEGIN CERTIFICATE-----\nMIIBAA==\n-----END CERTIFICATE-----\n";
    const KEY: &str = "-----BEGIN PRIVATE KEY-----\nMIIBAA==\n-----END PRIVATE KEY-----\n";

    fn parse(v: Value) -> Result<Cached, ExecError> {
        parse_output(v.to_string().as_bytes(), V1)
    }

    #[test]
    fn a_token_with_an_expiry_is_fresh_until_shortly_before_it() {
        let later = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1);
        let cached = parse(json!({
            "apiVersion": V1, "kind": "ExecCredential",
            "status": {"token": "t", "expirationTimestamp": later.to_string()},
        }))
        .expect("valid");
        assert_eq!(cached.creds.token.as_deref(), Some("t"));
        assert!(cached.is_fresh());
        let soon = Cached {
            creds: cached.creds,
            expires: Some(jiff::Timestamp::now() + jiff::SignedDuration::from_secs(5)),
        };
        assert!(!soon.is_fresh(), "inside the margin");
    }

    #[test]
    fn plugin_output_is_checked_as_client_go_does() {
        let cases = [
            // (what the plugin printed, what the error says)
            (
                json!({"apiVersion": V1BETA1, "kind": "ExecCredential", "status": {"token": "t"}}),
                "apiVersion",
            ),
            (
                json!({"apiVersion": V1, "kind": "Other", "status": {"token": "t"}}),
                "kind",
            ),
            (
                json!({"apiVersion": V1, "kind": "ExecCredential"}),
                "no status",
            ),
            (
                json!({"apiVersion": V1, "kind": "ExecCredential", "status": {}}),
                "neither",
            ),
            (
                json!({"apiVersion": V1, "kind": "ExecCredential", "status": {"clientCertificateData": CERT}}),
                "not both",
            ),
            (
                json!({"apiVersion": V1, "kind": "ExecCredential", "status": {"token": "t", "expirationTimestamp": "tomorrow"}}),
                "expirationTimestamp",
            ),
            (
                json!({"apiVersion": V1, "kind": "ExecCredential", "status": {"clientCertificateData": "nope", "clientKeyData": KEY}}),
                "no certificate",
            ),
        ];
        for (out, want) in cases {
            let err = parse(out.clone()).err().expect("invalid output");
            assert!(err.to_string().contains(want), "{out}: {err}");
        }
    }

    #[test]
    fn a_certificate_and_key_become_an_identity() {
        let cached = parse(json!({
            "apiVersion": V1, "kind": "ExecCredential",
            "status": {"clientCertificateData": CERT, "clientKeyData": KEY},
        }))
        .expect("valid");
        let id = cached.creds.identity.expect("identity");
        assert_eq!(id.cert_pem, CERT.as_bytes());
        assert_eq!(id.key_pem, KEY.as_bytes());
        assert_eq!(cached.creds.token, None);
        assert!(cached.expires.is_none());
    }

    #[test]
    fn yaml_output_is_accepted() {
        let out = format!("apiVersion: {V1}\nkind: ExecCredential\nstatus:\n  token: from-yaml\n");
        let cached = parse_output(out.as_bytes(), V1).expect("yaml");
        assert_eq!(cached.creds.token.as_deref(), Some("from-yaml"));
    }

    #[test]
    fn exec_sections_are_checked_when_the_plugin_is_built() {
        let exec = |api: Option<&str>, mode: Option<&str>, command: &str| ExecConfig {
            api_version: api.map(String::from),
            interactive_mode: mode.map(String::from),
            command: command.into(),
            ..ExecConfig::default()
        };
        let cases = [
            // (section, error or None when fine)
            (exec(Some(V1), Some("Never"), "p"), None),
            (exec(Some(V1BETA1), None, "p"), None),
            (
                exec(Some(V1), None, "p"),
                Some("interactiveMode must be set"),
            ),
            (exec(Some(V1), Some("Sometimes"), "p"), Some("Sometimes")),
            (
                exec(None, Some("Never"), "p"),
                Some("apiVersion must be set"),
            ),
            (
                exec(
                    Some("client.authentication.k8s.io/v1alpha1"),
                    Some("Never"),
                    "p",
                ),
                Some("not supported"),
            ),
            (
                exec(Some(V1), Some("Never"), ""),
                Some("command must be set"),
            ),
        ];
        for (section, want) in cases {
            match (ExecPlugin::new(&section), want) {
                (Ok(_), None) => {}
                (Err(e), Some(want)) => assert!(e.to_string().contains(want), "{e}"),
                (got, want) => panic!("{section:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn relative_commands_with_a_separator_resolve_against_the_kubeconfig() {
        let exec = |command: &str| ExecConfig {
            api_version: Some(V1.into()),
            interactive_mode: Some("Never".into()),
            command: command.into(),
            ..ExecConfig::default()
        };
        let dir = Path::new("/etc/kube");
        let resolved = |command: &str| {
            ExecPlugin::from_kubeconfig("user", &exec(command), Some(dir), None)
                .expect("valid")
                .inner
                .spec
                .command
                .clone()
        };
        assert_eq!(resolved("./bin/plugin"), "/etc/kube/./bin/plugin");
        assert_eq!(resolved("bin/plugin"), "/etc/kube/bin/plugin");
        assert_eq!(resolved("plugin"), "plugin", "bare names use PATH");
        assert_eq!(resolved("/usr/bin/plugin"), "/usr/bin/plugin");
    }

    #[tokio::test]
    async fn a_plugin_that_outlives_its_timeout_is_killed() {
        let plugin = ExecPlugin::new(&ExecConfig {
            api_version: Some(V1.into()),
            interactive_mode: Some("Never".into()),
            command: "sleep".into(),
            args: Some(vec!["30".into()]),
            ..ExecConfig::default()
        })
        .expect("valid")
        .with_timeout(Duration::from_millis(100));
        let err = plugin.credential().await.err().expect("times out");
        assert!(
            matches!(
                &err,
                ConfigError::Exec {
                    source: ExecError::Timeout(_),
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn stderr_excerpts_keep_the_end() {
        let long = "x".repeat(STDERR_EXCERPT + 10) + "END";
        let e = excerpt(long.as_bytes());
        assert!(e.starts_with('…') && e.ends_with("END"));
        assert_eq!(excerpt(b"  short\n"), "short");
    }
}
