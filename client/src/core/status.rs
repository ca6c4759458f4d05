//! [`Status`]: the body of every failed request (and of some successful deletes), with
//! constructors that produce exactly the codes, reasons and messages apimachinery's
//! `api/errors` package does.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::field_error::FieldError;
use super::gvk::{GroupKind, GroupResource};
use super::meta::ListMeta;

/// Why a request failed, machine-readable (`Status.reason`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum StatusReason {
    /// No reason given (the empty string).
    #[default]
    Unknown,
    /// 401: the client is not authenticated.
    Unauthorized,
    /// 403: the client may not do this.
    Forbidden,
    /// 404: the object or resource does not exist.
    NotFound,
    /// 409: an object with this name exists.
    AlreadyExists,
    /// 409: the write lost an optimistic-concurrency race or a precondition failed.
    Conflict,
    /// 410: the resource is gone.
    Gone,
    /// 422: the object failed validation.
    Invalid,
    /// 500: the server could not finish in time; retry.
    ServerTimeout,
    /// 500: the server could not read the object from storage.
    StoreReadError,
    /// 504: the request did not finish in time.
    Timeout,
    /// 429: too many requests.
    TooManyRequests,
    /// 400: the request is malformed.
    BadRequest,
    /// 405: the verb is not supported for this resource.
    MethodNotAllowed,
    /// 406: no acceptable media type could be produced.
    NotAcceptable,
    /// 413: the request body is too large.
    RequestEntityTooLarge,
    /// 415: the request body's media type is not supported.
    UnsupportedMediaType,
    /// 500: a bug or failure inside the server.
    InternalError,
    /// 410: the requested resourceVersion or continue token is too old.
    Expired,
    /// 503: the service is unavailable.
    ServiceUnavailable,
    /// Any reason this crate does not know by name.
    Other(String),
}

impl StatusReason {
    /// The wire string.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Unknown => "",
            Self::Unauthorized => "Unauthorized",
            Self::Forbidden => "Forbidden",
            Self::NotFound => "NotFound",
            Self::AlreadyExists => "AlreadyExists",
            Self::Conflict => "Conflict",
            Self::Gone => "Gone",
            Self::Invalid => "Invalid",
            Self::ServerTimeout => "ServerTimeout",
            Self::StoreReadError => "StorageReadError",
            Self::Timeout => "Timeout",
            Self::TooManyRequests => "TooManyRequests",
            Self::BadRequest => "BadRequest",
            Self::MethodNotAllowed => "MethodNotAllowed",
            Self::NotAcceptable => "NotAcceptable",
            Self::RequestEntityTooLarge => "RequestEntityTooLarge",
            Self::UnsupportedMediaType => "UnsupportedMediaType",
            Self::InternalError => "InternalError",
            Self::Expired => "Expired",
            Self::ServiceUnavailable => "ServiceUnavailable",
            Self::Other(s) => s,
        }
    }
}

impl From<String> for StatusReason {
    fn from(s: String) -> Self {
        match s.as_str() {
            "" => Self::Unknown,
            "Unauthorized" => Self::Unauthorized,
            "Forbidden" => Self::Forbidden,
            "NotFound" => Self::NotFound,
            "AlreadyExists" => Self::AlreadyExists,
            "Conflict" => Self::Conflict,
            "Gone" => Self::Gone,
            "Invalid" => Self::Invalid,
            "ServerTimeout" => Self::ServerTimeout,
            "StorageReadError" => Self::StoreReadError,
            "Timeout" => Self::Timeout,
            "TooManyRequests" => Self::TooManyRequests,
            "BadRequest" => Self::BadRequest,
            "MethodNotAllowed" => Self::MethodNotAllowed,
            "NotAcceptable" => Self::NotAcceptable,
            "RequestEntityTooLarge" => Self::RequestEntityTooLarge,
            "UnsupportedMediaType" => Self::UnsupportedMediaType,
            "InternalError" => Self::InternalError,
            "Expired" => Self::Expired,
            "ServiceUnavailable" => Self::ServiceUnavailable,
            _ => Self::Other(s),
        }
    }
}

impl From<StatusReason> for String {
    fn from(r: StatusReason) -> Self {
        match r {
            StatusReason::Other(s) => s,
            r => r.as_str().to_owned(),
        }
    }
}

impl fmt::Display for StatusReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `StatusCause.type` values. Field-error types come from
/// [`FieldErrorType::cause_type`](super::FieldErrorType::cause_type); the rest are
/// named here.
#[derive(Debug, Clone, Copy)]
pub struct CauseType;

impl CauseType {
    /// A list was asked for at a resourceVersion the server has not reached.
    pub const RESOURCE_VERSION_TOO_LARGE: &'static str = "ResourceVersionTooLarge";
    /// A server-side apply conflict on one field.
    pub const FIELD_MANAGER_CONFLICT: &'static str = "FieldManagerConflict";
    /// A namespace is terminating and takes no new content.
    pub const NAMESPACE_TERMINATING: &'static str = "NamespaceTerminating";
    /// A response from another server could not be understood.
    pub const UNEXPECTED_SERVER_RESPONSE: &'static str = "UnexpectedServerResponse";
}

/// One cause of a failure (usually one field error).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StatusCause {
    /// Machine-readable cause (`FieldValueInvalid`, …); empty when unknown.
    #[serde(rename = "reason", default, skip_serializing_if = "String::is_empty")]
    pub cause_type: String,
    /// Human-readable description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// The field path the cause is about, if any.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub field: String,
}

/// Which object a failure is about, and its causes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StatusDetails {
    /// Name of the object, if any.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// API group of the resource.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
    /// The resource (or kind, for `Invalid`) the failure is about.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// UID of the object, if known.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
    /// Individual causes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<StatusCause>,
    /// Seconds a client should wait before retrying.
    #[serde(
        rename = "retryAfterSeconds",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub retry_after_seconds: Option<i32>,
}

/// A `meta.k8s.io/v1 Status` (wire `kind: Status, apiVersion: v1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// Always `Status`.
    #[serde(default = "status_kind")]
    pub kind: String,
    /// Always `v1`.
    #[serde(rename = "apiVersion", default = "status_api_version")]
    pub api_version: String,
    /// List metadata; upstream always writes it, usually empty. A `continue` token rides
    /// here on 410 Expired list errors.
    #[serde(default)]
    pub metadata: ListMeta,
    /// `Success` or `Failure`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    /// Human-readable description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// Machine-readable reason.
    #[serde(default, skip_serializing_if = "is_unknown")]
    pub reason: StatusReason,
    /// The object the status is about and the causes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<StatusDetails>,
    /// The HTTP status code (0 when not set).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub code: u16,
}

fn status_kind() -> String {
    "Status".to_owned()
}

fn status_api_version() -> String {
    "v1".to_owned()
}

fn is_unknown(r: &StatusReason) -> bool {
    *r == StatusReason::Unknown
}

fn is_zero(c: &u16) -> bool {
    *c == 0
}

/// Joins field errors the way apimachinery's aggregate does: one error bare, several
/// in brackets.
fn aggregate(errs: &[FieldError]) -> String {
    match errs {
        [one] => one.to_string(),
        many => {
            let parts: Vec<String> = many.iter().map(ToString::to_string).collect();
            format!("[{}]", parts.join(", "))
        }
    }
}

impl Status {
    /// A `Failure` status with a code, reason and message and no details.
    pub fn failure(code: u16, reason: StatusReason, message: impl Into<String>) -> Self {
        Self {
            kind: status_kind(),
            api_version: status_api_version(),
            metadata: ListMeta::default(),
            status: "Failure".to_owned(),
            message: message.into(),
            reason,
            details: None,
            code,
        }
    }

    /// A `Success` status, as deletes of resources without `ReturnDeletedObject` answer.
    pub fn success(details: StatusDetails) -> Self {
        Self {
            kind: status_kind(),
            api_version: status_api_version(),
            metadata: ListMeta::default(),
            status: "Success".to_owned(),
            message: String::new(),
            reason: StatusReason::Unknown,
            details: Some(details),
            code: 0,
        }
    }

    fn with_details(mut self, details: StatusDetails) -> Self {
        self.details = Some(details);
        self
    }

    fn gr_details(gr: &GroupResource, name: &str) -> StatusDetails {
        StatusDetails {
            name: name.to_owned(),
            group: gr.group.clone(),
            kind: gr.resource.clone(),
            ..StatusDetails::default()
        }
    }

    /// 404 `<gr> "<name>" not found`.
    pub fn not_found(gr: &GroupResource, name: &str) -> Self {
        Self::failure(
            404,
            StatusReason::NotFound,
            format!("{gr} \"{name}\" not found"),
        )
        .with_details(Self::gr_details(gr, name))
    }

    /// 409 `<gr> "<name>" already exists`.
    pub fn already_exists(gr: &GroupResource, name: &str) -> Self {
        Self::failure(
            409,
            StatusReason::AlreadyExists,
            format!("{gr} \"{name}\" already exists"),
        )
        .with_details(Self::gr_details(gr, name))
    }

    /// 409 AlreadyExists after generateName ran out of attempts; asks to retry after 1 s.
    pub fn generate_name_conflict(gr: &GroupResource, name: &str) -> Self {
        let mut details = Self::gr_details(gr, name);
        details.retry_after_seconds = Some(1);
        Self::failure(
            409,
            StatusReason::AlreadyExists,
            format!(
                "{gr} \"{name}\" already exists, the server was not able to generate a unique name for the object"
            ),
        )
        .with_details(details)
    }

    /// 409 `Operation cannot be fulfilled on <gr> "<name>": <why>`.
    pub fn conflict(gr: &GroupResource, name: &str, why: &str) -> Self {
        Self::failure(
            409,
            StatusReason::Conflict,
            format!("Operation cannot be fulfilled on {gr} \"{name}\": {why}"),
        )
        .with_details(Self::gr_details(gr, name))
    }

    /// 422 `<Kind.group> "<name>" is invalid: <errors>`, one cause per field error.
    pub fn invalid(gk: &GroupKind, name: &str, errs: &[FieldError]) -> Self {
        let causes = errs
            .iter()
            .map(|e| StatusCause {
                cause_type: e.kind.cause_type().to_owned(),
                message: e.body(),
                field: e.field.clone(),
            })
            .collect();
        Self::failure(
            422,
            StatusReason::Invalid,
            format!("{gk} \"{name}\" is invalid: {}", aggregate(errs)),
        )
        .with_details(StatusDetails {
            name: name.to_owned(),
            group: gk.group.clone(),
            kind: gk.kind.clone(),
            causes,
            ..StatusDetails::default()
        })
    }

    /// 400 with a free-text message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::failure(400, StatusReason::BadRequest, message)
    }

    /// 401.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::failure(401, StatusReason::Unauthorized, message)
    }

    /// 403 `<gr> "<name>" is forbidden: <why>` (no name: `<gr> is forbidden: <why>`).
    pub fn forbidden(gr: &GroupResource, name: &str, why: &str) -> Self {
        let message = if name.is_empty() {
            format!("{gr} is forbidden: {why}")
        } else {
            format!("{gr} \"{name}\" is forbidden: {why}")
        };
        Self::failure(403, StatusReason::Forbidden, message)
            .with_details(Self::gr_details(gr, name))
    }

    /// 405 `<verb> is not supported on resources of kind "<gr>"`.
    pub fn method_not_supported(gr: &GroupResource, verb: &str) -> Self {
        Self::failure(
            405,
            StatusReason::MethodNotAllowed,
            format!("{verb} is not supported on resources of kind \"{gr}\""),
        )
        .with_details(Self::gr_details(gr, ""))
    }

    /// 406 listing the media types the server can produce.
    pub fn not_acceptable(accepted: &[&str]) -> Self {
        Self::failure(
            406,
            StatusReason::NotAcceptable,
            format!(
                "only the following media types are accepted: {}",
                accepted.join(", ")
            ),
        )
    }

    /// 415 listing the request media types the server accepts.
    pub fn unsupported_media_type(content_type: &str, accepted: &[&str]) -> Self {
        let _ = content_type;
        Self::failure(
            415,
            StatusReason::UnsupportedMediaType,
            format!(
                "the body of the request was in an unknown format - accepted media types include: {}",
                accepted.join(", ")
            ),
        )
    }

    /// 410 Gone.
    pub fn gone(message: impl Into<String>) -> Self {
        Self::failure(410, StatusReason::Gone, message)
    }

    /// 410 Expired: a resourceVersion or continue token is too old.
    pub fn expired(message: impl Into<String>) -> Self {
        Self::failure(410, StatusReason::Expired, message)
    }

    /// 413 `Request entity too large: <why>`.
    pub fn request_entity_too_large(why: &str) -> Self {
        Self::failure(
            413,
            StatusReason::RequestEntityTooLarge,
            format!("Request entity too large: {why}"),
        )
    }

    /// 429 with a Retry-After hint.
    pub fn too_many_requests(message: impl Into<String>, retry_after_seconds: i32) -> Self {
        Self::failure(429, StatusReason::TooManyRequests, message).with_details(StatusDetails {
            retry_after_seconds: Some(retry_after_seconds),
            ..StatusDetails::default()
        })
    }

    /// 500 `Internal error occurred: <why>`.
    pub fn internal_error(why: &str) -> Self {
        Self::failure(
            500,
            StatusReason::InternalError,
            format!("Internal error occurred: {why}"),
        )
        .with_details(StatusDetails {
            causes: vec![StatusCause {
                message: why.to_owned(),
                ..StatusCause::default()
            }],
            ..StatusDetails::default()
        })
    }

    /// 500 ServerTimeout: `The <op> operation against <gr> could not be completed at this
    /// time, please try again.`
    pub fn server_timeout(gr: &GroupResource, operation: &str, retry_after_seconds: i32) -> Self {
        let mut details = Self::gr_details(gr, operation);
        details.retry_after_seconds = Some(retry_after_seconds);
        Self::failure(
            500,
            StatusReason::ServerTimeout,
            format!(
                "The {operation} operation against {gr} could not be completed at this time, please try again."
            ),
        )
        .with_details(details)
    }

    /// 503.
    pub fn service_unavailable(message: impl Into<String>) -> Self {
        Self::failure(503, StatusReason::ServiceUnavailable, message)
    }

    /// 504 `Timeout: <why>`.
    pub fn timeout(why: &str, retry_after_seconds: Option<i32>) -> Self {
        let mut s = Self::failure(504, StatusReason::Timeout, format!("Timeout: {why}"));
        if let Some(secs) = retry_after_seconds {
            s.details = Some(StatusDetails {
                retry_after_seconds: Some(secs),
                ..StatusDetails::default()
            });
        }
        s
    }

    /// Adds a cause.
    pub fn with_cause(mut self, cause: StatusCause) -> Self {
        self.details
            .get_or_insert_with(StatusDetails::default)
            .causes
            .push(cause);
        self
    }

    /// The reason, falling back to the one implied by the code when the server sent none
    /// (apimachinery's `ReasonForError` + code checks).
    pub fn effective_reason(&self) -> StatusReason {
        if self.reason != StatusReason::Unknown {
            return self.reason.clone();
        }
        match self.code {
            400 => StatusReason::BadRequest,
            401 => StatusReason::Unauthorized,
            403 => StatusReason::Forbidden,
            404 => StatusReason::NotFound,
            405 => StatusReason::MethodNotAllowed,
            406 => StatusReason::NotAcceptable,
            409 => StatusReason::Conflict,
            410 => StatusReason::Gone,
            413 => StatusReason::RequestEntityTooLarge,
            415 => StatusReason::UnsupportedMediaType,
            422 => StatusReason::Invalid,
            429 => StatusReason::TooManyRequests,
            500 => StatusReason::InternalError,
            503 => StatusReason::ServiceUnavailable,
            504 => StatusReason::Timeout,
            _ => StatusReason::Unknown,
        }
    }

    /// 404 NotFound.
    pub fn is_not_found(&self) -> bool {
        self.effective_reason() == StatusReason::NotFound
    }

    /// 409 AlreadyExists.
    pub fn is_already_exists(&self) -> bool {
        self.reason == StatusReason::AlreadyExists
    }

    /// 409 Conflict (a lost optimistic-concurrency race or failed precondition).
    pub fn is_conflict(&self) -> bool {
        self.reason == StatusReason::Conflict
            || (self.reason == StatusReason::Unknown && self.code == 409)
    }

    /// 422 Invalid.
    pub fn is_invalid(&self) -> bool {
        self.effective_reason() == StatusReason::Invalid
    }

    /// 410 Gone or Expired: list or watch again from scratch.
    pub fn is_gone(&self) -> bool {
        matches!(
            self.effective_reason(),
            StatusReason::Gone | StatusReason::Expired
        )
    }

    /// 429 TooManyRequests.
    pub fn is_too_many_requests(&self) -> bool {
        self.effective_reason() == StatusReason::TooManyRequests
    }

    /// 504 Timeout or 500 ServerTimeout.
    pub fn is_timeout(&self) -> bool {
        matches!(
            self.effective_reason(),
            StatusReason::Timeout | StatusReason::ServerTimeout
        )
    }

    /// 403 Forbidden.
    pub fn is_forbidden(&self) -> bool {
        self.effective_reason() == StatusReason::Forbidden
    }

    /// 400 BadRequest.
    pub fn is_bad_request(&self) -> bool {
        self.effective_reason() == StatusReason::BadRequest
    }

    /// 405 MethodNotAllowed.
    pub fn is_method_not_supported(&self) -> bool {
        self.effective_reason() == StatusReason::MethodNotAllowed
    }

    /// A list failed because its resourceVersion is ahead of the server
    /// (504 with a `ResourceVersionTooLarge` cause).
    pub fn is_resource_version_too_large(&self) -> bool {
        self.details.as_ref().is_some_and(|d| {
            d.causes
                .iter()
                .any(|c| c.cause_type == CauseType::RESOURCE_VERSION_TOO_LARGE)
        })
    }

    /// `retryAfterSeconds` from the details, if any.
    pub fn retry_after_seconds(&self) -> Option<i32> {
        self.details.as_ref().and_then(|d| d.retry_after_seconds)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Status {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::FieldError;

    #[test]
    fn constructors_match_apimachinery() {
        let cm = GroupResource::new("", "configmaps");
        let deploy = GroupResource::new("apps", "deployments");
        let cases: Vec<(Status, u16, &str, &str)> = vec![
            (
                Status::not_found(&cm, "x"),
                404,
                "NotFound",
                r#"configmaps "x" not found"#,
            ),
            (
                Status::not_found(&deploy, "web"),
                404,
                "NotFound",
                r#"deployments.apps "web" not found"#,
            ),
            (
                Status::already_exists(&cm, "x"),
                409,
                "AlreadyExists",
                r#"configmaps "x" already exists"#,
            ),
            (
                Status::conflict(&cm, "x", "the object has been modified"),
                409,
                "Conflict",
                r#"Operation cannot be fulfilled on configmaps "x": the object has been modified"#,
            ),
            (
                Status::method_not_supported(&cm, "patch"),
                405,
                "MethodNotAllowed",
                r#"patch is not supported on resources of kind "configmaps""#,
            ),
            (
                Status::forbidden(&cm, "", "no"),
                403,
                "Forbidden",
                "configmaps is forbidden: no",
            ),
            (
                Status::internal_error("boom"),
                500,
                "InternalError",
                "Internal error occurred: boom",
            ),
            (
                Status::timeout("slow", None),
                504,
                "Timeout",
                "Timeout: slow",
            ),
        ];
        for (status, code, reason, message) in cases {
            assert_eq!(status.code, code, "{message}");
            assert_eq!(status.reason.as_str(), reason, "{message}");
            assert_eq!(status.message, message);
            assert_eq!(status.status, "Failure");
        }
    }

    #[test]
    fn invalid_lists_every_cause() {
        let errs = [
            FieldError::invalid("metadata.name", "A", "bad"),
            FieldError::required("spec.x", ""),
        ];
        let s = Status::invalid(&GroupKind::new("", "ConfigMap"), "A", &errs);
        assert_eq!(
            s.message,
            r#"ConfigMap "A" is invalid: [metadata.name: Invalid value: "A": bad, spec.x: Required value]"#
        );
        let details = s.details.expect("details");
        assert_eq!(details.kind, "ConfigMap");
        assert_eq!(details.causes.len(), 2);
        assert_eq!(details.causes[0].cause_type, "FieldValueInvalid");
        assert_eq!(details.causes[0].message, r#"Invalid value: "A": bad"#);
        assert_eq!(details.causes[1].field, "spec.x");
    }

    #[test]
    fn wire_form_round_trips() {
        let s = Status::not_found(&GroupResource::new("apps", "deployments"), "web");
        let json = serde_json::to_value(&s).expect("encode");
        assert_eq!(
            json,
            serde_json::json!({
                "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "deployments.apps \"web\" not found", "reason": "NotFound",
                "details": {"name": "web", "group": "apps", "kind": "deployments"}, "code": 404
            })
        );
        let back: Status = serde_json::from_value(json).expect("decode");
        assert_eq!(back, s);
        assert!(back.is_not_found());
    }

    #[test]
    fn predicates_fall_back_to_the_code() {
        let s: Status = serde_json::from_str(r#"{"code":410}"#).expect("decode");
        assert!(s.is_gone());
        let s: Status = serde_json::from_str(r#"{"code":404,"reason":"Weird"}"#).expect("decode");
        assert!(
            !s.is_not_found(),
            "an explicit unknown reason wins over the code"
        );
        assert_eq!(s.reason, StatusReason::Other("Weird".into()));
    }
}
