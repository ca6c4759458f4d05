//! Helpers shared by the integration tests: a small JSON client over real HTTP, and a
//! `kubectl` runner that prints expected vs got on failure.

#![allow(dead_code, reason = "each test module uses a different subset")]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Once;
use std::time::Duration;

use kubeforge_testserver::TestServer;
use serde_json::Value;

/// Installs ring as rustls' process-wide provider once (the workspace uses one
/// provider, and reqwest is built without its own).
pub(crate) fn init_crypto() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A started server and a client for it.
pub(crate) struct Harness {
    pub(crate) server: TestServer,
    pub(crate) client: Client,
}

pub(crate) async fn start() -> Harness {
    init_crypto();
    let server = TestServer::start().await.expect("test server starts");
    let client = Client::new(server.base_url());
    Harness { server, client }
}

pub(crate) async fn start_with(builder: kubeforge_testserver::TestServerBuilder) -> Harness {
    init_crypto();
    let server = builder.start().await.expect("test server starts");
    let client = Client::new(server.base_url());
    Harness { server, client }
}

/// A response: status code, headers and the body parsed as JSON (Null if not JSON).
#[derive(Debug)]
pub(crate) struct Resp {
    pub(crate) code: u16,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: Value,
    pub(crate) text: String,
}

impl Resp {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the code, printing the body when it differs.
    pub(crate) fn expect(self, code: u16) -> Self {
        assert_eq!(self.code, code, "unexpected status; body:\n{}", self.text);
        self
    }

    /// Asserts a failure Status with this code and reason.
    pub(crate) fn expect_status(self, code: u16, reason: &str) -> Self {
        assert_eq!(self.code, code, "unexpected status; body:\n{}", self.text);
        assert_eq!(self.body["kind"], "Status", "not a Status:\n{}", self.text);
        assert_eq!(self.body["reason"], reason, "wrong reason:\n{}", self.text);
        assert_eq!(self.body["code"], code, "Status code field:\n{}", self.text);
        self
    }

    pub(crate) fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }

    pub(crate) fn rv(&self) -> u64 {
        self.body["metadata"]["resourceVersion"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no resourceVersion in {}", self.text))
    }
}

/// JSON over HTTP to a test server.
#[derive(Clone)]
pub(crate) struct Client {
    pub(crate) base: String,
    pub(crate) http: reqwest::Client,
}

impl Client {
    pub(crate) fn new(base: &str) -> Self {
        init_crypto();
        Client {
            base: base.to_owned(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("http client"),
        }
    }

    pub(crate) async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
        let resp = req.send().await.expect("request sent");
        let code = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body read");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            code,
            headers,
            body,
            text,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub(crate) async fn get(&self, path: &str) -> Resp {
        self.send(self.http.get(self.url(path))).await
    }

    pub(crate) async fn get_accept(&self, path: &str, accept: &str) -> Resp {
        self.send(self.http.get(self.url(path)).header("accept", accept))
            .await
    }

    pub(crate) async fn post(&self, path: &str, body: &Value) -> Resp {
        self.send(self.http.post(self.url(path)).json(body)).await
    }

    pub(crate) async fn put(&self, path: &str, body: &Value) -> Resp {
        self.send(self.http.put(self.url(path)).json(body)).await
    }

    pub(crate) async fn patch(&self, path: &str, content_type: &str, body: &Value) -> Resp {
        self.send(
            self.http
                .patch(self.url(path))
                .header("content-type", content_type)
                .body(body.to_string()),
        )
        .await
    }

    pub(crate) async fn delete(&self, path: &str) -> Resp {
        self.send(self.http.delete(self.url(path))).await
    }

    pub(crate) async fn delete_with(&self, path: &str, options: &Value) -> Resp {
        self.send(self.http.delete(self.url(path)).json(options))
            .await
    }

    pub(crate) async fn raw(
        &self,
        method: reqwest::Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Resp {
        self.send(
            self.http
                .request(method, self.url(path))
                .header("content-type", content_type)
                .body(body),
        )
        .await
    }

    /// Creates a ConfigMap in `ns` and returns its resourceVersion.
    pub(crate) async fn configmap(&self, ns: &str, name: &str, data: &[(&str, &str)]) -> Resp {
        let data: serde_json::Map<String, Value> = data
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
            .collect();
        self.post(
            &format!("/api/v1/namespaces/{ns}/configmaps"),
            &serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}),
        )
        .await
        .expect(201)
    }

    pub(crate) async fn namespace(&self, name: &str) {
        self.post(
            "/api/v1/namespaces",
            &serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
        )
        .await
        .expect(201);
    }
}

/// Runs the installed kubectl against a test server, each helper with its own
/// discovery cache.
pub(crate) struct Kubectl {
    kubeconfig: PathBuf,
    cache: tempfile::TempDir,
}

/// The outcome of one kubectl run.
#[derive(Debug)]
pub(crate) struct Output {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Output {
    /// Asserts success, printing both streams otherwise.
    pub(crate) fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "kubectl failed\n---- stdout ----\n{}\n---- stderr ----\n{}\n----------------",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts failure.
    pub(crate) fn fails(self) -> Self {
        assert_ne!(
            self.code, 0,
            "kubectl unexpectedly succeeded\n---- stdout ----\n{}",
            self.stdout
        );
        self
    }

    /// Asserts stdout equals `want` (trailing whitespace ignored).
    pub(crate) fn stdout_is(self, want: &str) -> Self {
        assert_eq!(
            self.stdout.trim_end(),
            want.trim_end(),
            "\n---- expected ----\n{}\n---- got ----\n{}\n----------------",
            want.trim_end(),
            self.stdout.trim_end()
        );
        self
    }

    pub(crate) fn stdout_has(self, want: &str) -> Self {
        assert!(
            self.stdout.contains(want),
            "stdout lacks {want:?}\n---- got ----\n{}",
            self.stdout
        );
        self
    }

    pub(crate) fn stderr_has(self, want: &str) -> Self {
        assert!(
            self.stderr.contains(want),
            "stderr lacks {want:?}\n---- got ----\n{}",
            self.stderr
        );
        self
    }
}

impl Kubectl {
    pub(crate) fn new(server: &TestServer) -> Self {
        Self::from_path(server.kubeconfig_path())
    }

    pub(crate) fn from_path(kubeconfig: &std::path::Path) -> Self {
        Kubectl {
            kubeconfig: kubeconfig.to_owned(),
            cache: tempfile::tempdir().expect("cache dir"),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("kubectl");
        cmd.arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(self.cache.path())
            .args(args)
            .env("HOME", self.cache.path())
            .env_remove("KUBECONFIG");
        cmd
    }

    /// Runs kubectl (blocking; call from `spawn_blocking` or a multi-thread runtime).
    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.run_stdin(args, "")
    }

    pub(crate) fn run_stdin(&self, args: &[&str], stdin: &str) -> Output {
        use std::io::Write;
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl runs");
        if let Some(mut input) = child.stdin.take() {
            let _ = input.write_all(stdin.as_bytes());
        }
        let out = child.wait_with_output().expect("kubectl finishes");
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Polls `f` until it returns true, up to 10 s (never asserts a timing).
pub(crate) async fn eventually<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("condition not reached within 10 s: {what}");
}

/// A watch response read event by event.
pub(crate) struct Watch {
    resp: reqwest::Response,
    buf: Vec<u8>,
}

impl Client {
    /// Opens a watch (`path` includes the query); asserts 200.
    pub(crate) async fn watch(&self, path: &str) -> Watch {
        let resp = self
            .http
            .get(self.url(path))
            .timeout(Duration::from_secs(600))
            .send()
            .await
            .expect("watch request");
        assert_eq!(resp.status().as_u16(), 200, "watch {path} failed");
        Watch {
            resp,
            buf: Vec::new(),
        }
    }
}

impl Watch {
    /// The next event, or `None` when the stream ended. Panics after 10 s of silence.
    pub(crate) async fn next(&mut self) -> Option<Value> {
        self.next_within(Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("no watch event within 10 s"))
    }

    /// The next event within `d`: `None` on timeout, `Some(None)` when the stream ended.
    pub(crate) async fn next_within(&mut self, d: Duration) -> Option<Option<Value>> {
        let deadline = tokio::time::Instant::now() + d;
        loop {
            if let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=pos).collect();
                let v: Value = serde_json::from_slice(&line).unwrap_or_else(|e| {
                    panic!(
                        "watch line is not JSON ({e}): {}",
                        String::from_utf8_lossy(&line)
                    )
                });
                return Some(Some(v));
            }
            match tokio::time::timeout_at(deadline, self.resp.chunk()).await {
                Err(_) => return None,
                Ok(Ok(Some(chunk))) => self.buf.extend_from_slice(&chunk),
                Ok(Ok(None)) | Ok(Err(_)) => {
                    return Some(None);
                }
            }
        }
    }

    /// The next non-bookmark event.
    pub(crate) async fn next_change(&mut self) -> Value {
        loop {
            let ev = self.next().await.expect("watch ended early");
            if ev["type"] != "BOOKMARK" {
                return ev;
            }
        }
    }

    /// Asserts nothing arrives for a short while (used where the point is that no event
    /// is delivered; a late event still fails a later assertion).
    pub(crate) async fn expect_quiet(&mut self, d: Duration) {
        if let Some(Some(ev)) = self.next_within(d).await {
            assert_eq!(ev["type"], "BOOKMARK", "unexpected event: {ev}");
        }
    }
}

/// `(type, name, resourceVersion)` of an event.
pub(crate) fn summary(ev: &Value) -> (String, String, u64) {
    (
        ev["type"].as_str().unwrap_or_default().to_owned(),
        ev["object"]["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        ev["object"]["metadata"]["resourceVersion"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_default(),
    )
}
