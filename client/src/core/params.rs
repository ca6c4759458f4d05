//! Request parameters: the query strings (and `DeleteOptions` bodies) of get, list,
//! watch, create, update, patch and delete calls, with the validation the server
//! applies to them.
//!
//! Each options type knows its wire form both ways: `to_query()` for clients and
//! `from_query()` for the server, decoding values the way apimachinery's parameter
//! codec does (first value wins; booleans are false only for `0`/`false`; integers
//! must parse).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::field_error::FieldError;
use super::resource_version::ResourceVersionMatch;

/// A query parameter could not be decoded (a 400 from the server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseParamsError {
    /// The parameter name.
    pub param: String,
    /// Its raw value.
    pub value: String,
    /// Why it was rejected.
    pub reason: String,
}

impl fmt::Display for ParseParamsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid value {:?} for query parameter {:?}: {}",
            self.value, self.param, self.reason
        )
    }
}

impl std::error::Error for ParseParamsError {}

/// Decoded `name=value` pairs of a query string, first occurrence first.
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(query: &str) -> Self {
        Query(
            form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        )
    }

    fn first(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn string(&self, name: &str) -> Option<String> {
        self.first(name)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }

    /// apimachinery: a present boolean is false only when it reads `0` or `false`.
    fn boolean(&self, name: &str) -> Option<bool> {
        self.first(name)
            .map(|v| !(v == "0" || v.eq_ignore_ascii_case("false")))
    }

    fn int(&self, name: &str) -> Result<Option<i64>, ParseParamsError> {
        match self.first(name).map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) => v.parse::<i64>().map(Some).map_err(|e| ParseParamsError {
                param: name.to_owned(),
                value: v.to_owned(),
                reason: e.to_string(),
            }),
        }
    }
}

/// Builds a query string.
struct QueryWriter(form_urlencoded::Serializer<'static, String>);

impl QueryWriter {
    fn new() -> Self {
        QueryWriter(form_urlencoded::Serializer::new(String::new()))
    }

    fn opt(&mut self, name: &str, value: Option<impl ToString>) -> &mut Self {
        if let Some(v) = value {
            self.0.append_pair(name, &v.to_string());
        }
        self
    }

    fn flag(&mut self, name: &str, value: bool) -> &mut Self {
        if value {
            self.0.append_pair(name, "true");
        }
        self
    }

    fn list(&mut self, name: &str, values: &[String]) -> &mut Self {
        for v in values {
            self.0.append_pair(name, v);
        }
        self
    }

    fn finish(&mut self) -> String {
        self.0.finish()
    }
}

/// Options of list and watch calls (`meta.k8s.io/v1 ListOptions`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListOptions {
    /// Label selector string.
    pub label_selector: Option<String>,
    /// Field selector string.
    pub field_selector: Option<String>,
    /// Watch instead of list.
    pub watch: bool,
    /// Ask for `BOOKMARK` events on a watch.
    pub allow_watch_bookmarks: bool,
    /// resourceVersion: unset = most recent, `"0"` = any, `"N"` = see the table in the
    /// API concepts (exact, not older than, or changes after N for a watch).
    pub resource_version: Option<String>,
    /// How a list interprets `resource_version`.
    pub resource_version_match: Option<ResourceVersionMatch>,
    /// Server-side timeout of the call.
    pub timeout_seconds: Option<i64>,
    /// Page size.
    pub limit: Option<i64>,
    /// Continue token of the previous page.
    pub continue_token: Option<String>,
    /// On a watch: start with the current state as `ADDED` events, then a bookmark.
    pub send_initial_events: Option<bool>,
}

impl ListOptions {
    /// Decodes the query string of a list or watch request.
    ///
    /// # Errors
    ///
    /// A [`ParseParamsError`] when an integer parameter does not parse.
    pub fn from_query(query: &str) -> Result<Self, ParseParamsError> {
        let q = Query::parse(query);
        Ok(Self {
            label_selector: q.string("labelSelector"),
            field_selector: q.string("fieldSelector"),
            watch: q.boolean("watch").unwrap_or(false),
            allow_watch_bookmarks: q.boolean("allowWatchBookmarks").unwrap_or(false),
            resource_version: q.string("resourceVersion"),
            resource_version_match: q.string("resourceVersionMatch").map(|s| s.as_str().into()),
            timeout_seconds: q.int("timeoutSeconds")?,
            limit: q.int("limit")?,
            continue_token: q.string("continue"),
            send_initial_events: q.boolean("sendInitialEvents"),
        })
    }

    /// Encodes the options as a query string (without `?`).
    pub fn to_query(&self) -> String {
        QueryWriter::new()
            .opt("labelSelector", self.label_selector.as_ref())
            .opt("fieldSelector", self.field_selector.as_ref())
            .flag("watch", self.watch)
            .flag("allowWatchBookmarks", self.allow_watch_bookmarks)
            .opt("resourceVersion", self.resource_version.as_ref())
            .opt("resourceVersionMatch", self.resource_version_match.as_ref())
            .opt("timeoutSeconds", self.timeout_seconds)
            .opt("limit", self.limit)
            .opt("continue", self.continue_token.as_ref())
            .opt("sendInitialEvents", self.send_initial_events)
            .finish()
    }

    /// The checks kube-apiserver applies before serving a list or watch; every
    /// problem found (a 422 `ListOptions.meta.k8s.io "" is invalid` when non-empty).
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let rvm_path = "resourceVersionMatch";
        let rvm = self.resource_version_match.as_ref();
        if self.watch {
            if self.send_initial_events.is_some()
                && rvm != Some(&ResourceVersionMatch::NotOlderThan)
            {
                errs.push(FieldError::forbidden(
                    rvm_path,
                    "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
                ));
            }
            if let Some(m) = rvm {
                if self.send_initial_events.is_none() {
                    errs.push(FieldError::forbidden(
                        rvm_path,
                        "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
                    ));
                }
                if *m != ResourceVersionMatch::NotOlderThan {
                    errs.push(FieldError::not_supported(
                        rvm_path,
                        m.as_str(),
                        &["NotOlderThan"],
                    ));
                }
                if self.continue_token.is_some() {
                    errs.push(FieldError::forbidden(
                        rvm_path,
                        "resourceVersionMatch is forbidden when continue is provided",
                    ));
                }
            }
            return errs;
        }
        if let Some(m) = rvm {
            if self.resource_version.is_none() {
                errs.push(FieldError::forbidden(
                    rvm_path,
                    "resourceVersionMatch is forbidden unless resourceVersion is provided",
                ));
            }
            if self.continue_token.is_some() {
                errs.push(FieldError::forbidden(
                    rvm_path,
                    "resourceVersionMatch is forbidden when continue is provided",
                ));
            }
            if let ResourceVersionMatch::Other(other) = m {
                errs.push(FieldError::not_supported(
                    rvm_path,
                    other.as_str(),
                    &["Exact", "NotOlderThan", ""],
                ));
            }
            if *m == ResourceVersionMatch::Exact && self.resource_version.as_deref() == Some("0") {
                errs.push(FieldError::forbidden(
                    rvm_path,
                    "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
                ));
            }
        }
        if self.send_initial_events.is_some() {
            errs.push(FieldError::forbidden(
                "sendInitialEvents",
                "sendInitialEvents is forbidden for list",
            ));
        }
        errs
    }
}

/// Options of a get (`meta.k8s.io/v1 GetOptions`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GetOptions {
    /// resourceVersion: unset = most recent, `"0"` = any, `"N"` = not older than N.
    pub resource_version: Option<String>,
}

impl GetOptions {
    /// Decodes a get's query string.
    pub fn from_query(query: &str) -> Self {
        Self {
            resource_version: Query::parse(query).string("resourceVersion"),
        }
    }

    /// Encodes the options as a query string.
    pub fn to_query(&self) -> String {
        QueryWriter::new()
            .opt("resourceVersion", self.resource_version.as_ref())
            .finish()
    }
}

/// `?dryRun=All`: run the whole request but persist nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DryRun;

impl DryRun {
    /// The only value the API defines.
    pub const ALL: &'static str = "All";

    /// Problems with a `dryRun` list (only `All` is defined).
    pub fn validate(values: &[String]) -> Vec<FieldError> {
        if values.iter().all(|v| v == Self::ALL) {
            Vec::new()
        } else {
            vec![FieldError::not_supported(
                "dryRun",
                super::FieldValue::Json(serde_json::json!(values)),
                &[Self::ALL],
            )]
        }
    }
}

/// `?fieldValidation=`: what the server does with unknown or duplicate fields.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum FieldValidation {
    /// Drop them silently.
    Ignore,
    /// Drop them and answer with a Warning header per problem (the default).
    #[default]
    Warn,
    /// Reject the request.
    Strict,
}

impl FieldValidation {
    /// Parses the parameter; `None` for an unknown value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "" | "Warn" => Some(Self::Warn),
            "Ignore" => Some(Self::Ignore),
            "Strict" => Some(Self::Strict),
            _ => None,
        }
    }
}

fn validate_write_options(
    dry_run: &[String],
    field_manager: Option<&str>,
    field_validation: Option<&str>,
) -> Vec<FieldError> {
    let mut errs = DryRun::validate(dry_run);
    if let Some(m) = field_manager {
        if m.chars().count() > 128 {
            errs.push(FieldError::too_long("fieldManager", 128));
        }
        if m.chars().any(|c| c.is_control()) {
            errs.push(FieldError::invalid(
                "fieldManager",
                m,
                "must only contain printable characters",
            ));
        }
    }
    if let Some(v) = field_validation
        && FieldValidation::parse(v).is_none()
    {
        errs.push(FieldError::not_supported(
            "fieldValidation",
            v,
            &["", "Ignore", "Warn", "Strict"],
        ));
    }
    errs
}

macro_rules! write_options {
    ($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $field:ident : $ty:ty = $param:literal via $get:ident),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        pub struct $name {
            /// `dryRun` values (only `All` is valid).
            pub dry_run: Vec<String>,
            /// Name of the actor making the change (server-side apply's field manager).
            pub field_manager: Option<String>,
            /// `fieldValidation` (`Ignore`, `Warn`, `Strict`).
            pub field_validation: Option<String>,
            $($(#[$fdoc])* pub $field: $ty,)*
        }

        impl $name {
            /// Decodes the query string.
            pub fn from_query(query: &str) -> Self {
                let q = Query::parse(query);
                Self {
                    dry_run: q.all("dryRun"),
                    field_manager: q.string("fieldManager"),
                    field_validation: q.string("fieldValidation"),
                    $($field: q.$get($param),)*
                }
            }

            /// Encodes the options as a query string.
            pub fn to_query(&self) -> String {
                QueryWriter::new()
                    .list("dryRun", &self.dry_run)
                    .opt("fieldManager", self.field_manager.as_ref())
                    .opt("fieldValidation", self.field_validation.as_ref())
                    $(.opt($param, self.$field.as_ref()))*
                    .finish()
            }

            /// Whether this is a dry run.
            pub fn is_dry_run(&self) -> bool {
                !self.dry_run.is_empty()
            }

            /// Every problem with the options (a 422 when non-empty).
            pub fn validate(&self) -> Vec<FieldError> {
                validate_write_options(
                    &self.dry_run,
                    self.field_manager.as_deref(),
                    self.field_validation.as_deref(),
                )
            }
        }
    };
}

write_options!(
    /// Options of a create (`meta.k8s.io/v1 CreateOptions`).
    CreateOptions {}
);

write_options!(
    /// Options of an update (`meta.k8s.io/v1 UpdateOptions`).
    UpdateOptions {}
);

write_options!(
    /// Options of a patch (`meta.k8s.io/v1 PatchOptions`).
    PatchOptions {
        /// Server-side apply: take ownership of conflicting fields.
        force: Option<bool> = "force" via boolean,
    }
);

/// How deleting an owner treats its dependents.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum PropagationPolicy {
    /// Dependents are left alone (their owner reference is removed).
    Orphan,
    /// The owner goes now; the garbage collector deletes dependents afterwards.
    Background,
    /// Dependents are deleted first; the owner waits with a `foregroundDeletion`
    /// finalizer.
    Foreground,
    /// A value the API does not define (rejected by validation).
    Other(String),
}

impl PropagationPolicy {
    /// The wire string.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Orphan => "Orphan",
            Self::Background => "Background",
            Self::Foreground => "Foreground",
            Self::Other(s) => s,
        }
    }
}

impl From<String> for PropagationPolicy {
    fn from(s: String) -> Self {
        match s.as_str() {
            "Orphan" => Self::Orphan,
            "Background" => Self::Background,
            "Foreground" => Self::Foreground,
            _ => Self::Other(s),
        }
    }
}

impl From<PropagationPolicy> for String {
    fn from(p: PropagationPolicy) -> Self {
        match p {
            PropagationPolicy::Other(s) => s,
            p => p.as_str().to_owned(),
        }
    }
}

impl fmt::Display for PropagationPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Conditions a delete (or update) requires of the stored object.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Preconditions {
    /// The object's UID must be this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// The object's resourceVersion must be this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
}

/// Options of a delete or deletecollection (`meta.k8s.io/v1 DeleteOptions`), sent as
/// a JSON body or as query parameters.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteOptions {
    /// `DeleteOptions` when sent as a body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `v1` or `meta.k8s.io/v1` when sent as a body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Seconds before the object is deleted (kinds with graceful deletion).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_period_seconds: Option<i64>,
    /// What the stored object must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preconditions: Option<Preconditions>,
    /// Deprecated form of `propagationPolicy: Orphan`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orphan_dependents: Option<bool>,
    /// How dependents are treated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub propagation_policy: Option<PropagationPolicy>,
    /// `dryRun` values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dry_run: Vec<String>,
}

impl DeleteOptions {
    /// Decodes delete options from query parameters (used when the request has no
    /// body).
    ///
    /// # Errors
    ///
    /// A [`ParseParamsError`] when `gracePeriodSeconds` does not parse.
    pub fn from_query(query: &str) -> Result<Self, ParseParamsError> {
        let q = Query::parse(query);
        Ok(Self {
            kind: None,
            api_version: None,
            grace_period_seconds: q.int("gracePeriodSeconds")?,
            preconditions: None,
            orphan_dependents: q.boolean("orphanDependents"),
            propagation_policy: q.string("propagationPolicy").map(PropagationPolicy::from),
            dry_run: q.all("dryRun"),
        })
    }

    /// Encodes the options as query parameters (preconditions can only travel in a
    /// body).
    pub fn to_query(&self) -> String {
        QueryWriter::new()
            .opt("gracePeriodSeconds", self.grace_period_seconds)
            .opt("orphanDependents", self.orphan_dependents)
            .opt("propagationPolicy", self.propagation_policy.as_ref())
            .list("dryRun", &self.dry_run)
            .finish()
    }

    /// Whether this is a dry run.
    pub fn is_dry_run(&self) -> bool {
        !self.dry_run.is_empty()
    }

    /// Every problem with the options (a 422 `DeleteOptions.meta.k8s.io "" is invalid`
    /// when non-empty).
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errs = Vec::new();
        if let (Some(_), Some(p)) = (self.orphan_dependents, &self.propagation_policy) {
            errs.push(FieldError::invalid(
                "propagationPolicy",
                p.as_str(),
                "orphanDependents and deletionPropagation cannot be both set",
            ));
        }
        if let Some(PropagationPolicy::Other(p)) = &self.propagation_policy {
            errs.push(FieldError::not_supported(
                "propagationPolicy",
                p.as_str(),
                &["Foreground", "Background", "Orphan", "nil"],
            ));
        }
        errs.extend(DryRun::validate(&self.dry_run));
        errs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_options_decode_like_the_parameter_codec() {
        let o = ListOptions::from_query(
            "labelSelector=a%3Db&watch=1&allowWatchBookmarks=true&resourceVersion=5&limit=10&continue=abc&sendInitialEvents=false&timeoutSeconds=30",
        )
        .expect("decode");
        assert_eq!(o.label_selector.as_deref(), Some("a=b"));
        assert!(o.watch);
        assert!(o.allow_watch_bookmarks);
        assert_eq!(o.resource_version.as_deref(), Some("5"));
        assert_eq!(o.limit, Some(10));
        assert_eq!(o.continue_token.as_deref(), Some("abc"));
        assert_eq!(o.send_initial_events, Some(false));
        assert_eq!(o.timeout_seconds, Some(30));
        // booleans: only 0/false are false, even an empty value is true
        assert!(ListOptions::from_query("watch=").expect("decode").watch);
        assert!(
            !ListOptions::from_query("watch=False")
                .expect("decode")
                .watch
        );
        // integers must parse
        let err = ListOptions::from_query("limit=ten").expect_err("bad limit");
        assert_eq!(err.param, "limit");
    }

    #[test]
    fn list_options_round_trip_through_the_query() {
        let o = ListOptions {
            label_selector: Some("a in (b,c)".into()),
            field_selector: Some("metadata.name=x".into()),
            watch: true,
            allow_watch_bookmarks: true,
            resource_version: Some("7".into()),
            resource_version_match: Some(ResourceVersionMatch::NotOlderThan),
            timeout_seconds: Some(5),
            limit: Some(2),
            continue_token: Some("tok".into()),
            send_initial_events: Some(true),
        };
        assert_eq!(ListOptions::from_query(&o.to_query()).expect("decode"), o);
    }

    #[test]
    fn list_validation_matches_upstream() {
        let cases: &[(&str, &[&str])] = &[
            ("", &[]),
            ("resourceVersion=5&resourceVersionMatch=Exact", &[]),
            (
                "resourceVersionMatch=Exact",
                &["forbidden unless resourceVersion is provided"],
            ),
            (
                "resourceVersion=0&resourceVersionMatch=Exact",
                &["\"exact\" is forbidden"],
            ),
            (
                "resourceVersion=1&resourceVersionMatch=Bad",
                &["Unsupported value: \"Bad\""],
            ),
            (
                "resourceVersion=1&resourceVersionMatch=Exact&continue=x",
                &["forbidden when continue"],
            ),
            (
                "sendInitialEvents=true",
                &["sendInitialEvents is forbidden for list"],
            ),
            (
                "watch=1&sendInitialEvents=true",
                &["requires setting resourceVersionMatch"],
            ),
            (
                "watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan",
                &[],
            ),
            (
                "watch=1&resourceVersionMatch=NotOlderThan",
                &["unless sendInitialEvents"],
            ),
        ];
        for (query, want) in cases {
            let errs = ListOptions::from_query(query).expect("decode").validate();
            let text: Vec<String> = errs.iter().map(ToString::to_string).collect();
            assert_eq!(errs.len(), want.len(), "{query}: {text:?}");
            for (got, w) in text.iter().zip(want.iter()) {
                assert!(got.contains(w), "{query}: {got}");
            }
        }
    }

    #[test]
    fn delete_options_validate() {
        let opts: DeleteOptions =
            serde_json::from_str(r#"{"propagationPolicy":"Sideways","dryRun":["Some"]}"#)
                .expect("decode");
        let errs = opts.validate();
        assert_eq!(errs.len(), 2);
        assert_eq!(errs[0].field, "propagationPolicy");
        assert_eq!(errs[1].field, "dryRun");
        let both = DeleteOptions {
            orphan_dependents: Some(true),
            propagation_policy: Some(PropagationPolicy::Orphan),
            ..DeleteOptions::default()
        };
        assert_eq!(both.validate().len(), 1);
        let q = DeleteOptions::from_query("gracePeriodSeconds=0&propagationPolicy=Foreground")
            .expect("decode");
        assert_eq!(q.grace_period_seconds, Some(0));
        assert_eq!(q.propagation_policy, Some(PropagationPolicy::Foreground));
    }

    #[test]
    fn write_options_decode_and_validate() {
        let o = PatchOptions::from_query("fieldManager=kubectl&force=true&dryRun=All");
        assert_eq!(o.field_manager.as_deref(), Some("kubectl"));
        assert_eq!(o.force, Some(true));
        assert!(o.is_dry_run());
        assert!(o.validate().is_empty());
        assert_eq!(PatchOptions::from_query(&o.to_query()), o);
        let bad = CreateOptions::from_query("dryRun=Yes&fieldValidation=Loose");
        assert_eq!(bad.validate().len(), 2);
    }
}
