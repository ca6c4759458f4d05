//! Fault injection: make the server misbehave on purpose, deterministically, so tests
//! can check how clients (and the server itself) cope.
//!
//! A [`Fault`] matches requests by verb, resource, subresource, namespace and name
//! (each optional) and acts on the next `times` of them: answer with a chosen
//! `Status` (e.g. 429 with `Retry-After`, 500, 503) before the request runs, delay it,
//! run it and then answer with a `Status` anyway (a write that committed but whose
//! response was lost, as a 504 after commit), add a `Warning` header, or panic inside
//! the handler. Faults are consumed in the order they were armed.

use std::time::Duration;

use kubeforge_client::core::Status;
use parking_lot::Mutex;

use crate::request_info::RequestInfo;

/// What a fault does to a matching request.
#[derive(Debug, Clone)]
enum Action {
    Fail(Status),
    Delay(Duration),
    FailAfterCommit(Status),
    Warn(String),
    Panic,
}

/// One armed fault. Build with a constructor, narrow with the matchers, arm with
/// [`TestServer::inject`](crate::TestServer::inject).
#[derive(Debug, Clone)]
pub struct Fault {
    action: Action,
    verb: Option<String>,
    resource: Option<String>,
    subresource: Option<String>,
    namespace: Option<String>,
    name: Option<String>,
    path_prefix: Option<String>,
    times: usize,
}

impl Fault {
    fn new(action: Action) -> Self {
        Fault {
            action,
            verb: None,
            resource: None,
            subresource: None,
            namespace: None,
            name: None,
            path_prefix: None,
            times: 1,
        }
    }

    /// Answer with `status` instead of running the request (a `Retry-After` header is
    /// added when the status carries `retryAfterSeconds`).
    pub fn fail(status: Status) -> Self {
        Self::new(Action::Fail(status))
    }

    /// Hold the request for `delay`, then run it.
    pub fn delay(delay: Duration) -> Self {
        Self::new(Action::Delay(delay))
    }

    /// Run the request (a write commits), then answer with `status` anyway.
    pub fn fail_after_commit(status: Status) -> Self {
        Self::new(Action::FailAfterCommit(status))
    }

    /// Run the request and add `Warning: 299 - "<text>"` to its response.
    pub fn warn(text: impl Into<String>) -> Self {
        Self::new(Action::Warn(text.into()))
    }

    /// Panic inside the handler (the server answers 500 and keeps serving).
    pub fn panic() -> Self {
        Self::new(Action::Panic)
    }

    /// Only requests with this verb (`get`, `list`, `watch`, `create`, `update`,
    /// `patch`, `delete`, `deletecollection`).
    pub fn verb(mut self, verb: &str) -> Self {
        self.verb = Some(verb.to_owned());
        self
    }

    /// Only requests for this resource (plural, e.g. `configmaps`).
    pub fn resource(mut self, resource: &str) -> Self {
        self.resource = Some(resource.to_owned());
        self
    }

    /// Only requests for this subresource (`status`, `scale`).
    pub fn subresource(mut self, subresource: &str) -> Self {
        self.subresource = Some(subresource.to_owned());
        self
    }

    /// Only requests in this namespace.
    pub fn namespace(mut self, namespace: &str) -> Self {
        self.namespace = Some(namespace.to_owned());
        self
    }

    /// Only requests for this object name.
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    /// Only requests whose path starts with this (non-resource paths too).
    pub fn path_prefix(mut self, prefix: &str) -> Self {
        self.path_prefix = Some(prefix.to_owned());
        self
    }

    /// Act on the next `n` matching requests (default 1); `usize::MAX` for every one.
    pub fn times(mut self, n: usize) -> Self {
        self.times = n;
        self
    }

    fn matches(&self, info: &RequestInfo) -> bool {
        let eq = |want: &Option<String>, got: &str| want.as_deref().is_none_or(|w| w == got);
        eq(&self.verb, &info.verb)
            && eq(&self.resource, &info.resource)
            && eq(&self.subresource, &info.subresource)
            && eq(&self.namespace, &info.namespace)
            && eq(&self.name, &info.name)
            && self
                .path_prefix
                .as_deref()
                .is_none_or(|p| info.path.starts_with(p))
            && (self.path_prefix.is_some() || info.is_resource_request)
    }
}

/// What the pipeline must do for a request, from the armed faults.
#[derive(Debug, Default)]
pub(crate) struct Effects {
    pub(crate) fail: Option<Status>,
    pub(crate) delay: Option<Duration>,
    pub(crate) fail_after_commit: Option<Status>,
    pub(crate) warnings: Vec<String>,
    pub(crate) panic: bool,
}

/// Faults armed on one server.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    armed: Mutex<Vec<Fault>>,
}

impl Faults {
    pub(crate) fn arm(&self, fault: Fault) {
        if fault.times > 0 {
            self.armed.lock().push(fault);
        }
    }

    pub(crate) fn clear(&self) {
        self.armed.lock().clear();
    }

    /// Consumes the faults that match this request (at most one of each kind, the
    /// oldest first) and says what to do.
    pub(crate) fn take(&self, info: &RequestInfo) -> Effects {
        let mut effects = Effects::default();
        let mut armed = self.armed.lock();
        if armed.is_empty() {
            return effects;
        }
        for f in armed.iter_mut() {
            if f.times == 0 || !f.matches(info) {
                continue;
            }
            let used = match &f.action {
                Action::Fail(s) if effects.fail.is_none() => {
                    effects.fail = Some(s.clone());
                    true
                }
                Action::Delay(d) if effects.delay.is_none() => {
                    effects.delay = Some(*d);
                    true
                }
                Action::FailAfterCommit(s) if effects.fail_after_commit.is_none() => {
                    effects.fail_after_commit = Some(s.clone());
                    true
                }
                Action::Warn(w) => {
                    effects.warnings.push(w.clone());
                    true
                }
                Action::Panic if !effects.panic => {
                    effects.panic = true;
                    true
                }
                _ => false,
            };
            if used && f.times != usize::MAX {
                f.times -= 1;
            }
        }
        armed.retain(|f| f.times > 0);
        effects
    }
}
