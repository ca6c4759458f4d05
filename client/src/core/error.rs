//! The client [`Error`] and its predicates.

use super::selector::ParseSelectorError;
use super::status::Status;

/// Everything a kubeforge client call can fail with.
///
/// Match on the predicates (`is_not_found()`, `is_conflict()`, …) rather than on the
/// variants: they read the `Status` reason and code the way apimachinery's
/// `errors.IsNotFound` and friends do, and keep working as variants are added.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a failure `Status`.
    #[error("{}", .0.message)]
    Api(Box<Status>),
    /// A response body could not be decoded.
    #[error("failed to decode the response")]
    Decode(#[source] serde_json::Error),
    /// A selector string could not be parsed.
    #[error("invalid selector")]
    Selector(#[source] ParseSelectorError),
    /// The configuration is unusable (kubeconfig, certificates, credentials).
    #[error("invalid client configuration")]
    Config(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The request did not reach the server or the response did not come back.
    #[error("request failed")]
    Transport(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The server answered with a failure that is not a `Status` (its code and body).
    #[error("the server answered {code}: {body}")]
    Http {
        /// The HTTP status code.
        code: u16,
        /// The response body (truncated).
        body: String,
    },
    /// The request did not complete within the client's timeout.
    #[error("the request timed out")]
    Timeout(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Discovery knows no resource for what was asked (a kind, a resource name, a
    /// short name or a category), even after refreshing.
    #[error("no resource on the server matches {0:?}")]
    NoMatch(String),
    /// A request could not be built (an invalid name, header or body).
    #[error("invalid request")]
    Request(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl Error {
    /// The server's `Status`, if the server answered with one.
    pub fn status(&self) -> Option<&Status> {
        match self {
            Error::Api(s) => Some(s),
            _ => None,
        }
    }

    /// The HTTP status code of the server's answer, when there was one (from the
    /// `Status`, or from a non-`Status` error body).
    pub fn code(&self) -> Option<u16> {
        match self {
            Error::Api(s) if s.code != 0 => Some(s.code),
            Error::Http { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Reads the `Status` when there is one; otherwise synthesizes what the code
    /// alone says (a proxy's bare `404` still reads as not found), as apimachinery
    /// does for responses it cannot decode.
    fn status_is(&self, f: impl Fn(&Status) -> bool) -> bool {
        match self {
            Error::Api(s) => f(s),
            Error::Http { code, .. } => f(&Status::failure(
                *code,
                crate::core::StatusReason::Unknown,
                String::new(),
            )),
            _ => false,
        }
    }

    /// 404 NotFound.
    pub fn is_not_found(&self) -> bool {
        self.status_is(Status::is_not_found)
    }

    /// 409 AlreadyExists.
    pub fn is_already_exists(&self) -> bool {
        self.status_is(Status::is_already_exists)
    }

    /// 409 Conflict: re-read and retry.
    pub fn is_conflict(&self) -> bool {
        self.status_is(Status::is_conflict)
    }

    /// 422 Invalid.
    pub fn is_invalid(&self) -> bool {
        self.status_is(Status::is_invalid)
    }

    /// 410 Gone or Expired: list again.
    pub fn is_gone(&self) -> bool {
        self.status_is(Status::is_gone)
    }

    /// 429 TooManyRequests.
    pub fn is_too_many_requests(&self) -> bool {
        self.status_is(Status::is_too_many_requests)
    }

    /// 504 Timeout or 500 ServerTimeout from the server, or the client's own request
    /// timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout(_)) || self.status_is(Status::is_timeout)
    }

    /// 403 Forbidden.
    pub fn is_forbidden(&self) -> bool {
        self.status_is(Status::is_forbidden)
    }

    /// 400 BadRequest.
    pub fn is_bad_request(&self) -> bool {
        self.status_is(Status::is_bad_request)
    }

    /// 401 Unauthorized.
    pub fn is_unauthorized(&self) -> bool {
        self.status_is(|s| s.effective_reason() == crate::core::StatusReason::Unauthorized)
    }

    /// 503 ServiceUnavailable.
    pub fn is_service_unavailable(&self) -> bool {
        self.status_is(|s| s.effective_reason() == crate::core::StatusReason::ServiceUnavailable)
    }

    /// Discovery found no resource for a kind or name ([`Error::NoMatch`]).
    pub fn is_no_match(&self) -> bool {
        matches!(self, Error::NoMatch(_))
    }

    /// The failure was in getting the request to the server or the answer back
    /// (connection refused or reset, TLS, DNS), not an answer of the server.
    pub fn is_transport(&self) -> bool {
        matches!(self, Error::Transport(_))
    }
}

impl From<Status> for Error {
    fn from(s: Status) -> Self {
        Error::Api(Box::new(s))
    }
}

impl From<ParseSelectorError> for Error {
    fn from(e: ParseSelectorError) -> Self {
        Error::Selector(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::GroupResource;

    #[test]
    fn predicates_read_the_status() {
        let err = Error::from(Status::not_found(&GroupResource::new("", "pods"), "p"));
        assert!(err.is_not_found());
        assert!(!err.is_conflict());
        assert_eq!(err.to_string(), r#"pods "p" not found"#);
        let err = Error::Decode(serde_json::from_str::<u8>("x").expect_err("bad json"));
        assert!(!err.is_not_found());
        assert!(std::error::Error::source(&err).is_some());
    }

    #[test]
    fn a_bare_http_code_still_answers_the_predicates() {
        type Predicate = fn(&Error) -> bool;
        let cases: &[(u16, Predicate)] = &[
            (404, Error::is_not_found),
            (401, Error::is_unauthorized),
            (403, Error::is_forbidden),
            (410, Error::is_gone),
            (429, Error::is_too_many_requests),
            (503, Error::is_service_unavailable),
            (504, Error::is_timeout),
            (422, Error::is_invalid),
        ];
        for (code, predicate) in cases {
            let err = Error::Http {
                code: *code,
                body: "<html>".into(),
            };
            assert!(predicate(&err), "{code}");
            assert_eq!(err.code(), Some(*code));
        }
        // AlreadyExists needs the reason: a bare 409 is a conflict
        let conflict = Error::Http {
            code: 409,
            body: String::new(),
        };
        assert!(conflict.is_conflict());
        assert!(!conflict.is_already_exists());
    }
}
