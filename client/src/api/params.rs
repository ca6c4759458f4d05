//! Builders over the request options of [`core`](crate::core), in kube-rs's style
//! (`ListOptions::default().labels("app=web").limit(50)`), and [`Patch`].

use serde::Serialize;

use crate::core::{
    CreateOptions, DeleteOptions, DryRun, Error, FieldValidation, ListOptions, PatchOptions,
    Preconditions, PropagationPolicy, ResourceVersionMatch, UpdateOptions,
};

impl ListOptions {
    /// Only objects whose labels match this selector (`app=web,tier!=db`).
    pub fn labels(mut self, selector: impl Into<String>) -> Self {
        self.label_selector = Some(selector.into());
        self
    }

    /// Only objects whose fields match this selector (`metadata.name=web`).
    pub fn fields(mut self, selector: impl Into<String>) -> Self {
        self.field_selector = Some(selector.into());
        self
    }

    /// At most `limit` objects per response; the rest through `continue`.
    pub fn limit(mut self, limit: i64) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The next page after a list that returned this `continue` token.
    pub fn continue_token(mut self, token: impl Into<String>) -> Self {
        self.continue_token = Some(token.into());
        self
    }

    /// The resourceVersion to read at (list) or watch from (watch).
    pub fn at(mut self, resource_version: impl Into<String>) -> Self {
        self.resource_version = Some(resource_version.into());
        self
    }

    /// Any resourceVersion will do (`resourceVersion=0`: served from the watch cache,
    /// possibly stale).
    pub fn any_version(self) -> Self {
        self.at("0")
    }

    /// How a list reads its resourceVersion.
    pub fn matching(mut self, m: ResourceVersionMatch) -> Self {
        self.resource_version_match = Some(m);
        self
    }

    /// A server-side timeout for the call (a watch ends cleanly after it).
    pub fn timeout(mut self, seconds: i64) -> Self {
        self.timeout_seconds = Some(seconds);
        self
    }

    /// Ask for `BOOKMARK` events on a watch.
    pub fn bookmarks(mut self) -> Self {
        self.allow_watch_bookmarks = true;
        self
    }

    /// A streaming list: the watch first sends the current state as `ADDED` events,
    /// then a bookmark marked with
    /// [`INITIAL_EVENTS_END_ANNOTATION`](crate::core::INITIAL_EVENTS_END_ANNOTATION).
    /// Sets what the server requires with it: bookmarks and
    /// `resourceVersionMatch=NotOlderThan`.
    pub fn initial_events(mut self) -> Self {
        self.send_initial_events = Some(true);
        self.allow_watch_bookmarks = true;
        self.resource_version_match = Some(ResourceVersionMatch::NotOlderThan);
        self
    }
}

macro_rules! write_builders {
    ($($ty:ident),*) => {$(
        impl $ty {
            /// Run the request without persisting anything (`dryRun=All`).
            pub fn dry_run(mut self) -> Self {
                self.dry_run = vec![DryRun::ALL.to_owned()];
                self
            }

            /// The field manager recorded in `managedFields`.
            pub fn field_manager(mut self, manager: impl Into<String>) -> Self {
                self.field_manager = Some(manager.into());
                self
            }

            /// What the server does with unknown or duplicate fields.
            pub fn field_validation(mut self, v: FieldValidation) -> Self {
                self.field_validation = Some(
                    match v {
                        FieldValidation::Ignore => "Ignore",
                        FieldValidation::Warn => "Warn",
                        FieldValidation::Strict => "Strict",
                    }
                    .to_owned(),
                );
                self
            }
        }
    )*};
}

write_builders!(CreateOptions, UpdateOptions, PatchOptions);

impl PatchOptions {
    /// Options of a server-side apply by `manager` (required for [`Patch::Apply`]).
    pub fn apply(manager: impl Into<String>) -> Self {
        PatchOptions::default().field_manager(manager)
    }

    /// Server-side apply: take ownership of fields other managers own instead of
    /// failing with a conflict.
    pub fn force(mut self) -> Self {
        self.force = Some(true);
        self
    }
}

impl DeleteOptions {
    /// Delete now (`gracePeriodSeconds=0`).
    pub fn immediately() -> Self {
        DeleteOptions {
            grace_period_seconds: Some(0),
            ..DeleteOptions::default()
        }
    }

    /// Background deletion of dependents.
    pub fn background() -> Self {
        DeleteOptions::default().propagation(PropagationPolicy::Background)
    }

    /// Foreground deletion: dependents first, the owner waits.
    pub fn foreground() -> Self {
        DeleteOptions::default().propagation(PropagationPolicy::Foreground)
    }

    /// How dependents are treated.
    pub fn propagation(mut self, policy: PropagationPolicy) -> Self {
        self.propagation_policy = Some(policy);
        self
    }

    /// Seconds before the object goes (kinds with graceful deletion, e.g. pods).
    pub fn grace_period(mut self, seconds: i64) -> Self {
        self.grace_period_seconds = Some(seconds);
        self
    }

    /// Only delete if the stored object has this UID.
    pub fn uid(mut self, uid: impl Into<String>) -> Self {
        self.preconditions
            .get_or_insert_with(Preconditions::default)
            .uid = Some(uid.into());
        self
    }

    /// Only delete if the stored object has this resourceVersion.
    pub fn resource_version(mut self, rv: impl Into<String>) -> Self {
        self.preconditions
            .get_or_insert_with(Preconditions::default)
            .resource_version = Some(rv.into());
        self
    }

    /// Run the delete without persisting anything (`dryRun=All`).
    pub fn dry_run(mut self) -> Self {
        self.dry_run = vec![DryRun::ALL.to_owned()];
        self
    }
}

/// A patch body and its kind. `P` is anything that serializes to the patch document
/// (`serde_json::Value`, a typed object, `json_patch::Patch`…).
#[derive(Debug, Clone, PartialEq)]
pub enum Patch<P> {
    /// RFC 6902 JSON patch: a list of operations.
    Json(P),
    /// RFC 7386 JSON merge patch: `null` deletes, objects merge, lists replace.
    Merge(P),
    /// Strategic merge patch: like merge, but lists of objects merge by key as the
    /// built-in types' schemas say (`containers` by `name`). Built-in types only.
    Strategic(P),
    /// Server-side apply of a (partial) object: the fields set are owned by the
    /// field manager, which [`PatchOptions::apply`] names.
    Apply(P),
}

impl<P: Serialize> Patch<P> {
    pub(crate) fn content_type(&self) -> &'static str {
        match self {
            Patch::Json(_) => "application/json-patch+json",
            Patch::Merge(_) => "application/merge-patch+json",
            Patch::Strategic(_) => "application/strategic-merge-patch+json",
            // JSON is YAML: the apply body goes as JSON under the YAML media type,
            // as client-go does.
            Patch::Apply(_) => "application/apply-patch+yaml",
        }
    }

    pub(crate) fn body(&self) -> Result<Vec<u8>, Error> {
        let p = match self {
            Patch::Json(p) | Patch::Merge(p) | Patch::Strategic(p) | Patch::Apply(p) => p,
        };
        serde_json::to_vec(p).map_err(|e| Error::Request(Box::new(e)))
    }

    pub(crate) fn check(&self, opts: &PatchOptions) -> Result<(), Error> {
        match self {
            Patch::Apply(_) if opts.field_manager.is_none() => Err(Error::Request(
                "server-side apply needs a field manager: use PatchOptions::apply(manager)".into(),
            )),
            Patch::Apply(_) => Ok(()),
            _ if opts.force.is_some() => Err(Error::Request(
                "force applies to server-side apply patches only".into(),
            )),
            _ => Ok(()),
        }
    }
}
