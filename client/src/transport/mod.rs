//! The HTTP layer under every API call: reqwest over rustls (ring provider passed
//! explicitly, HTTP/2 when the server offers it, gzip), client-side throttling
//! ([`RateLimit`]), retries with backoff ([`RetryPolicy`]), `Warning` headers
//! ([`WarningHandler`]) and credentials resolved per request.
//!
//! One request goes through these steps, each attempt again:
//!
//! ```text
//! rate limiter ─► credentials.authorization() ─► send ─► Warning headers ─► 2xx: done
//!                                                          │
//!        401 and credentials.invalidate() says retry ◄─────┤ (once per request)
//!        429 / 5xx / broken connection, per RetryPolicy ◄──┤ (sleep, then again)
//!        anything else ─► Error (the server's Status, or code and body)
//! ```
//!
//! Most users never touch this module directly: [`ClientBuilder`](crate::ClientBuilder)
//! takes the knobs, [`Api`](crate::api::Api) makes the requests.

mod rate_limit;
mod retry;
pub(crate) mod tls;
mod warning;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderMap, Method};

pub use rate_limit::RateLimit;
pub use retry::RetryPolicy;
pub use warning::{IgnoreWarnings, LogOnce, Warning, WarningHandler};

use crate::config::{Credentials, Identity};
use crate::core::{Error, Status};
use parking_lot::Mutex;
use rate_limit::Limiter;
use retry::Attempt;

/// The `Accept` header of JSON requests (what client-go sends for JSON clients).
pub(crate) const JSON: &str = "application/json";

/// One request, ready to send (and to send again: the body is shared bytes).
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: Method,
    /// Path and query, starting with `/`.
    pub(crate) path: String,
    pub(crate) body: Option<(Bytes, &'static str)>,
    pub(crate) accept: &'static str,
    /// A watch or other long-running request: no client timeout applies.
    pub(crate) streaming: bool,
}

impl Request {
    pub(crate) fn new(method: Method, path: String) -> Self {
        Request {
            method,
            path,
            body: None,
            accept: JSON,
            streaming: false,
        }
    }

    pub(crate) fn body(mut self, bytes: impl Into<Bytes>, content_type: &'static str) -> Self {
        self.body = Some((bytes.into(), content_type));
        self
    }

    pub(crate) fn accept(mut self, accept: &'static str) -> Self {
        self.accept = accept;
        self
    }

    pub(crate) fn streaming(mut self) -> Self {
        self.streaming = true;
        self
    }
}

/// What building an HTTP client takes; kept to build another one when an exec
/// plugin hands out a new client certificate.
#[derive(Debug)]
pub(crate) struct HttpSettings {
    pub(crate) config: crate::config::Config,
    pub(crate) user_agent: String,
    pub(crate) connect_timeout: Duration,
    pub(crate) gzip: bool,
}

impl HttpSettings {
    /// An HTTP client for these settings, with `identity` as the client certificate
    /// instead of the config's when given.
    pub(crate) fn build(&self, identity: Option<&Identity>) -> Result<reqwest::Client, Error> {
        let config_error = |e: reqwest::Error| Error::Config(Box::new(e));
        let tls = tls::client_config(&self.config, identity)?;
        let mut http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .user_agent(self.user_agent.clone())
            .connect_timeout(self.connect_timeout)
            .gzip(self.gzip)
            .tcp_nodelay(true)
            // Kubernetes clients follow no redirects (client-go refuses them too).
            .redirect(reqwest::redirect::Policy::none())
            // HTTP/2 flow control: lists and watches stream megabytes down one
            // connection shared by every request of the client. With the protocol's
            // 64 KiB default windows the server stalls every 64 KiB for a window
            // update; these let a 10,000-pod list or a busy watch flow, and bigger
            // frames mean fewer of them to decode.
            .http2_initial_stream_window_size(4 << 20)
            .http2_initial_connection_window_size(16 << 20)
            .http2_max_frame_size(1 << 20)
            // Dead connections are found within ~40 s rather than when the OS gives
            // up (client-go's HTTP/2 health check: 30 s ping, 15 s timeout).
            .http2_keep_alive_interval(Duration::from_secs(30))
            .http2_keep_alive_timeout(Duration::from_secs(15))
            .http2_keep_alive_while_idle(true);
        http = match &self.config.proxy_url {
            Some(url) => http.proxy(reqwest::Proxy::all(url).map_err(config_error)?),
            None => http.no_proxy(),
        };
        http.build().map_err(config_error)
    }
}

/// Everything needed to send requests to one apiserver. Shared by every clone of a
/// [`Client`](crate::Client).
pub(crate) struct Transport {
    /// The client with the config's own client certificate (if any).
    pub(crate) http: reqwest::Client,
    pub(crate) settings: HttpSettings,
    /// The client for the certificate the exec plugin handed out last, rebuilt when
    /// the plugin hands out another (its connections then close with it).
    pub(crate) exec_http: Mutex<Option<(Identity, reqwest::Client)>>,
    /// Base URL without a trailing slash.
    pub(crate) base: String,
    pub(crate) credentials: Credentials,
    pub(crate) limiter: Option<Limiter>,
    pub(crate) retry: RetryPolicy,
    pub(crate) warnings: Arc<dyn WarningHandler>,
    /// Timeout of each non-streaming attempt.
    pub(crate) timeout: Option<Duration>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("base", &self.base)
            .field("settings", &self.settings)
            .field("credentials", &self.credentials)
            .field("rate_limited", &self.limiter.is_some())
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Transport {
    pub(crate) fn new_limiter(limit: Option<RateLimit>) -> Option<Limiter> {
        limit.map(Limiter::new)
    }

    /// The HTTP client for the credentials' current client certificate.
    async fn http(&self) -> Result<reqwest::Client, Error> {
        let Some(identity) = self.credentials.identity().await? else {
            return Ok(self.http.clone());
        };
        if let Some((current, http)) = &*self.exec_http.lock()
            && *current == identity
        {
            return Ok(http.clone());
        }
        let http = self.settings.build(Some(&identity))?;
        *self.exec_http.lock() = Some((identity, http.clone()));
        Ok(http)
    }

    /// Sends a request, retrying as the policy says, and returns a successful (2xx)
    /// response whose body has not been read.
    ///
    /// # Errors
    ///
    /// The server's `Status` ([`Error::Api`]) or code and body ([`Error::Http`]) for a
    /// non-2xx answer; [`Error::Transport`] or [`Error::Timeout`] when no answer came.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the request (possibly after the server got it).
    pub(crate) async fn send(&self, req: &Request) -> Result<reqwest::Response, Error> {
        let mut retry = 0;
        let mut reauthenticated = false;
        loop {
            if let Some(limiter) = &self.limiter {
                limiter.acquire().await;
            }
            let mut builder = self
                .http()
                .await?
                .request(req.method.clone(), format!("{}{}", self.base, req.path))
                .header(ACCEPT, req.accept);
            if let Some(auth) = self.credentials.authorization().await? {
                builder = builder.header(AUTHORIZATION, auth);
            }
            if let Some((body, content_type)) = &req.body {
                builder = builder
                    .header(CONTENT_TYPE, *content_type)
                    .body(body.clone());
            }
            if !req.streaming
                && let Some(t) = self.timeout
            {
                builder = builder.timeout(t);
            }
            let attempt = match builder.send().await {
                Ok(resp) => {
                    self.warn(resp.headers());
                    let status = resp.status();
                    if status.is_success() {
                        return Ok(resp);
                    }
                    if status == http::StatusCode::UNAUTHORIZED
                        && !reauthenticated
                        && self.credentials.invalidate()
                    {
                        reauthenticated = true;
                        continue;
                    }
                    let retry_after = resp
                        .headers()
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(retry::parse_retry_after);
                    let attempt = Attempt::Answered {
                        code: status.as_u16(),
                        retry_after,
                    };
                    match self.retry.delay(&req.method, attempt, retry) {
                        Some(wait) => {
                            tracing::debug!(
                                method = %req.method, path = %req.path, code = status.as_u16(),
                                wait_ms = wait.as_millis() as u64, "retrying request"
                            );
                            drop(resp);
                            tokio::time::sleep(wait).await;
                            retry += 1;
                            continue;
                        }
                        None => return Err(error_from_response(resp).await),
                    }
                }
                Err(e) if e.is_timeout() => return Err(Error::Timeout(Box::new(e))),
                Err(e) => {
                    let attempt = if e.is_connect() {
                        Attempt::NotSent
                    } else {
                        Attempt::Broken
                    };
                    match self.retry.delay(&req.method, attempt, retry) {
                        Some(wait) => {
                            tracing::debug!(
                                method = %req.method, path = %req.path, error = %e,
                                wait_ms = wait.as_millis() as u64, "retrying request"
                            );
                            tokio::time::sleep(wait).await;
                            retry += 1;
                            continue;
                        }
                        None => Err(e),
                    }
                }
            };
            return attempt.map_err(transport_error);
        }
    }

    /// Sends a request and returns the whole successful body.
    ///
    /// # Errors
    ///
    /// As [`Transport::send`], plus a transport error while reading the body.
    pub(crate) async fn send_bytes(&self, req: &Request) -> Result<Bytes, Error> {
        let resp = self.send(req).await?;
        resp.bytes().await.map_err(body_error)
    }

    fn warn(&self, headers: &HeaderMap) {
        for value in headers.get_all(http::header::WARNING) {
            if let Ok(text) = value.to_str() {
                for w in warning::parse(text) {
                    self.warnings.handle(&w);
                }
            }
        }
    }
}

pub(crate) fn transport_error(e: reqwest::Error) -> Error {
    if e.is_timeout() {
        Error::Timeout(Box::new(e))
    } else {
        Error::Transport(Box::new(e))
    }
}

pub(crate) fn body_error(e: reqwest::Error) -> Error {
    transport_error(e)
}

/// Most of a non-Status error body kept in [`Error::Http`].
const MAX_ERROR_BODY: usize = 4096;

/// Turns a failed response into the server's `Status`, or its code and body.
async fn error_from_response(resp: reqwest::Response) -> Error {
    let code = resp.status().as_u16();
    let body = match resp.bytes().await {
        Ok(b) => b,
        Err(e) => return transport_error(e),
    };
    error_from_body(code, &body)
}

pub(crate) fn error_from_body(code: u16, body: &[u8]) -> Error {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body)
        && value.get("kind").and_then(|k| k.as_str()) == Some("Status")
        && let Ok(mut status) = serde_json::from_value::<Status>(value)
    {
        if status.code == 0 {
            status.code = code;
        }
        return Error::Api(Box::new(status));
    }
    let mut text = String::from_utf8_lossy(body).into_owned();
    if text.len() > MAX_ERROR_BODY {
        let mut cut = MAX_ERROR_BODY;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    Error::Http {
        code,
        body: text.trim_end().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_become_a_status_or_a_code_and_text() {
        // a Status without a code takes the response's
        let err = error_from_body(
            404,
            br#"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","message":"pods \"x\" not found"}"#,
        );
        assert!(err.is_not_found());
        assert_eq!(err.status().map(|s| s.code), Some(404));
        assert_eq!(err.to_string(), r#"pods "x" not found"#);

        // JSON that is not a Status is kept as text
        let err = error_from_body(502, br#"{"error":"upstream down"}"#);
        assert_eq!(
            err.to_string(),
            r#"the server answered 502: {"error":"upstream down"}"#
        );
        assert!(err.status().is_none());

        // an HTML page from a proxy, cut to a bounded size
        let page = format!("<html>{}</html>\n", "x".repeat(10_000));
        let err = error_from_body(503, page.as_bytes());
        assert!(err.is_service_unavailable());
        match err {
            Error::Http { code, body } => {
                assert_eq!(code, 503);
                assert!(body.len() <= MAX_ERROR_BODY + '…'.len_utf8());
                assert!(body.starts_with("<html>"));
            }
            other => panic!("{other:?}"),
        }
    }
}
