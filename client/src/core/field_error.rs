//! Field errors: one problem with one field of an object, as apimachinery's
//! `field.Error`. A 422 `Invalid` [`Status`](super::Status) carries one cause per
//! field error.

use std::fmt;

/// What is wrong with a field. The names follow apimachinery's `field.ErrorType`; the
/// [`cause_type`](Self::cause_type) is what a `Status` cause carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldErrorType {
    /// A referenced value does not exist.
    NotFound,
    /// A required value is missing.
    Required,
    /// A value must be unique but is not.
    Duplicate,
    /// A value is malformed or out of range.
    Invalid,
    /// A value is not one of the supported ones.
    NotSupported,
    /// A value is valid but not allowed here.
    Forbidden,
    /// A value is too long.
    TooLong,
    /// A list has too many items.
    TooMany,
    /// An error inside the server, not the client's fault.
    Internal,
    /// A value has the wrong type.
    TypeInvalid,
}

impl FieldErrorType {
    /// The human text apimachinery prints (`Invalid value`, `Required value`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotFound => "Not found",
            Self::Required => "Required value",
            Self::Duplicate => "Duplicate value",
            Self::Invalid => "Invalid value",
            Self::NotSupported => "Unsupported value",
            Self::Forbidden => "Forbidden",
            Self::TooLong => "Too long",
            Self::TooMany => "Too many",
            Self::Internal => "Internal error",
            Self::TypeInvalid => "Invalid value",
        }
    }

    /// The `StatusCause.type` for this error (`FieldValueInvalid`, …).
    pub fn cause_type(self) -> &'static str {
        match self {
            Self::NotFound => "FieldValueNotFound",
            Self::Required => "FieldValueRequired",
            Self::Duplicate => "FieldValueDuplicate",
            Self::Invalid => "FieldValueInvalid",
            Self::NotSupported => "FieldValueNotSupported",
            Self::Forbidden => "FieldValueForbidden",
            Self::TooLong => "FieldValueTooLong",
            Self::TooMany => "FieldValueTooMany",
            Self::Internal => "InternalError",
            Self::TypeInvalid => "FieldValueTypeInvalid",
        }
    }
}

/// The offending value of a field error, printed the way apimachinery prints it
/// (strings quoted, numbers bare).
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// No value is printed.
    Omitted,
    /// A string, printed quoted.
    Str(String),
    /// An integer, printed bare.
    Int(i64),
    /// Any other value, printed as JSON.
    Json(serde_json::Value),
}

impl fmt::Display for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Omitted => Ok(()),
            // JSON string quoting matches Go's %q for everything but exotic characters.
            FieldValue::Str(s) => write!(f, "{}", serde_json::Value::String(s.clone())),
            FieldValue::Int(i) => write!(f, "{i}"),
            FieldValue::Json(v) => write!(f, "{v}"),
        }
    }
}

impl From<&str> for FieldValue {
    fn from(s: &str) -> Self {
        FieldValue::Str(s.to_owned())
    }
}

impl From<String> for FieldValue {
    fn from(s: String) -> Self {
        FieldValue::Str(s)
    }
}

impl From<i64> for FieldValue {
    fn from(i: i64) -> Self {
        FieldValue::Int(i)
    }
}

/// One problem with one field.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    /// What is wrong.
    pub kind: FieldErrorType,
    /// The field's path, e.g. `metadata.labels`, `spec.containers[0].name`.
    pub field: String,
    /// The offending value.
    pub value: FieldValue,
    /// Why, in words.
    pub detail: String,
}

impl FieldError {
    fn new(kind: FieldErrorType, field: &str, value: FieldValue, detail: &str) -> Self {
        Self {
            kind,
            field: field.to_owned(),
            value,
            detail: detail.to_owned(),
        }
    }

    /// The value is malformed.
    pub fn invalid(field: &str, value: impl Into<FieldValue>, detail: &str) -> Self {
        Self::new(FieldErrorType::Invalid, field, value.into(), detail)
    }

    /// A required value is missing.
    pub fn required(field: &str, detail: &str) -> Self {
        Self::new(FieldErrorType::Required, field, FieldValue::Omitted, detail)
    }

    /// The value is not allowed.
    pub fn forbidden(field: &str, detail: &str) -> Self {
        Self::new(
            FieldErrorType::Forbidden,
            field,
            FieldValue::Omitted,
            detail,
        )
    }

    /// The value is too long.
    pub fn too_long(field: &str, max: usize) -> Self {
        Self::new(
            FieldErrorType::TooLong,
            field,
            FieldValue::Omitted,
            &format!("may not be more than {max} bytes"),
        )
    }

    /// The value is not one of `supported`.
    pub fn not_supported(field: &str, value: impl Into<FieldValue>, supported: &[&str]) -> Self {
        let list: Vec<String> = supported.iter().map(|s| format!("{s:?}")).collect();
        Self::new(
            FieldErrorType::NotSupported,
            field,
            value.into(),
            &format!("supported values: {}", list.join(", ")),
        )
    }

    /// The value duplicates another.
    pub fn duplicate(field: &str, value: impl Into<FieldValue>) -> Self {
        Self::new(FieldErrorType::Duplicate, field, value.into(), "")
    }

    /// The message without the field path, as a `Status` cause carries it
    /// (`Invalid value: "Foo": a lowercase RFC 1123 subdomain must …`).
    pub fn body(&self) -> String {
        let mut s = String::from(self.kind.as_str());
        let prints_value = !matches!(
            self.kind,
            FieldErrorType::Required
                | FieldErrorType::Forbidden
                | FieldErrorType::TooLong
                | FieldErrorType::Internal
        ) && self.value != FieldValue::Omitted;
        if prints_value {
            s.push_str(": ");
            s.push_str(&self.value.to_string());
        }
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.body())
    }
}

impl std::error::Error for FieldError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_match_apimachinery() {
        let cases = [
            // a string value is quoted
            (
                FieldError::invalid("metadata.name", "Foo", "must be lowercase"),
                r#"metadata.name: Invalid value: "Foo": must be lowercase"#,
            ),
            // an integer value is bare
            (
                FieldError::invalid(
                    "metadata.resourceVersion",
                    0,
                    "must be specified for an update",
                ),
                "metadata.resourceVersion: Invalid value: 0: must be specified for an update",
            ),
            // required values print no value
            (
                FieldError::required("metadata.name", "name or generateName is required"),
                "metadata.name: Required value: name or generateName is required",
            ),
            (
                FieldError::not_supported("propagationPolicy", "x", &["Orphan", "Background"]),
                r#"propagationPolicy: Unsupported value: "x": supported values: "Orphan", "Background""#,
            ),
            (
                FieldError::too_long("metadata.annotations", 262144),
                "metadata.annotations: Too long: may not be more than 262144 bytes",
            ),
        ];
        for (err, want) in cases {
            assert_eq!(err.to_string(), want);
        }
    }
}
