//! The one place responses are written. A handler's failure is a `Status`, written
//! here with its code; anything else that fails is a bug, answered as a 500
//! `InternalError` and logged.

use std::convert::Infallible;

use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use http_body_util::{BodyExt, Full};
use kubeforge_client::core::Status;

use crate::apiserver::ApiError;

/// The body type of every response.
pub(crate) type Body = http_body_util::combinators::BoxBody<Bytes, Infallible>;

/// A response.
pub(crate) type Response = http::Response<Body>;

/// A body from bytes.
pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed()
}

/// A response with a body, a code and a content type.
pub(crate) fn bytes(code: u16, content_type: &'static str, body: impl Into<Bytes>) -> Response {
    let mut resp = http::Response::new(full(body));
    *resp.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, private"),
    );
    resp
}

/// A JSON response of any serializable value.
pub(crate) fn json<T: serde::Serialize>(code: u16, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => bytes(code, "application/json", body),
        Err(e) => status(&Status::internal_error(&format!(
            "failed to encode the response: {e}"
        ))),
    }
}

/// A `Status` response with the status's own code (500 when it has none), and
/// `Retry-After` when the status asks for a retry.
pub(crate) fn status(s: &Status) -> Response {
    let code = if s.code == 0 { 500 } else { s.code };
    let mut resp = json(code, s);
    if let Some(secs) = s.retry_after_seconds()
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

/// The response for a handler error.
pub(crate) fn error(e: &ApiError) -> Response {
    status(&e.0)
}

/// Go's `http.NotFound`: what kube-apiserver answers for paths it does not serve.
pub(crate) fn not_found() -> Response {
    let mut resp = bytes(404, "text/plain; charset=utf-8", "404 page not found\n");
    resp.headers_mut().insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    resp
}

/// Adds `Warning: 299 - "<text>"` headers.
pub(crate) fn with_warnings(mut resp: Response, warnings: &[String]) -> Response {
    for w in warnings {
        let text = serde_json::to_string(w).unwrap_or_default();
        if let Ok(v) = HeaderValue::from_str(&format!("299 - {text}")) {
            resp.headers_mut().append(header::WARNING, v);
        }
    }
    resp
}
