//! Server-side apply and managed-fields tracking, as kube-apiserver 1.33 does them
//! (structured-merge-diff v4 under apimachinery's `managedfields` field manager).
//!
//! Every write records in `metadata.managedFields` which *manager* owns which fields:
//!
//! - [`apply`] (`PATCH` with `application/apply-patch+yaml`) merges an applied
//!   configuration into the live object per the schema's merge semantics, makes the
//!   applier the owner of exactly the fields of its configuration, removes fields it
//!   applied before and dropped (unless someone else owns them), and fails with
//!   [`ApplyError::Conflicts`] when it would change fields other managers own, unless
//!   forced, in which case ownership moves to it;
//! - [`update`] (create, update, every other patch) gives the writer the fields the
//!   write changed and takes them from everyone else.
//!
//! Both are pure: JSON objects in, JSON object out, no I/O, no clock (the caller passes
//! the time).
//!
//! # How the handlers call this
//!
//! Upstream's order, which the callers must keep (apiserver `handlers/create.go`,
//! `update.go`, `patch.go`):
//!
//! ```text
//! create   decode + default ─► update(None, obj) ─► admission ─► strategy (status reset,
//!                                                                 validation) ─► store
//! update   decode + default ─► update(Some(live), obj) ─► admission ─► strategy ─► store
//! patch    live ─► json/merge/strategic patch ─► decode + default
//!                                           ─► update(Some(live), obj) ─► … as update
//! apply    apply(live?, config, force) ─► default ─► [strict check of the YAML]
//!                                           ─► admission ─► strategy ─► store
//!          (live None: the object is created, 201)
//! ```
//!
//! - `live` and `obj` are in the endpoint's version (`Request::api_version`); managers
//!   recorded in other versions are compared in this one schema (no conversion).
//! - `update` runs on the object *as decoded and defaulted*, before the strategy resets
//!   status or spec, so the write's owner is recorded as upstream records it; pass the
//!   strategy's reset fields ([`Request::reset_fields`], e.g. `status` for a main
//!   resource, `spec` and friends for `/status`) so nobody owns what the strategy will
//!   reset.
//! - `apply` returns the merged object undefaulted; default it next, as upstream's
//!   field manager does.
//! - `update` never fails the request upstream (`UpdateNoErrors`): on `Err` the object
//!   is left without `managedFields`; log the error and carry on.
//! - `/status` passes the full object and subresource `"status"`; `/scale` passes the
//!   `autoscaling/v1` `Scale` and its own schema, with the parent's entries converted
//!   by [`scale_to_subresource`] before and [`scale_to_parent`] after.
//!
//! # Errors and status codes
//!
//! | error | upstream answer |
//! | --- | --- |
//! | [`ApplyError::Conflicts`] | 409 `Conflict`, message [`conflict_message`], one cause per conflict: type `FieldManagerConflict`, message [`cause_message`], field = [`Conflict::path`] |
//! | [`ApplyError::BadRequest`] | 400 `BadRequest` with the message |
//! | [`ApplyError::Invalid`] | 500 `InternalError` with the message (an applied configuration with a field the schema lacks, or a map-list item without its keys: `failed to create typed patch object (ns/name; apps/v1, Kind=Deployment): .spec.foo: field not declared in schema`; upstream answers 500, kubernetes#122480) |
//!
//! Unknown fields in an applied configuration fail the apply whatever
//! `fieldValidation` says (upstream's typed conversion rejects them before the strict
//! decoding check). With `Strict`/`Warn`, the caller runs its YAML duplicate-key check
//! after a successful `apply`, as upstream does.
//!
//! # Where we differ from kube-apiserver
//!
//! - No conversion: upstream compares each manager's fields in the API version the
//!   manager wrote, converting the object first; we compare all in the caller's one
//!   schema. Versions are labels only, which is what structured-merge-diff's own tests
//!   do, and exact wherever the versions share field paths.
//! - Creates start from `{apiVersion, kind}`: upstream starts a built-in create from
//!   the Go zero value (`spec: {}`, `status: {}`, …), so its updaters do not own those
//!   empty containers; ours do (`"f:spec": {".": {}, …}`), as upstream's do for custom
//!   resources. A caller wanting the built-in shape can pass such a zero object as
//!   `old` (without a `uid`).
//! - Map-list key defaults come from a table of the built-in `+default` markers on key
//!   fields (`ContainerPort.protocol`, `ServicePort.protocol`: `TCP`); the schema model
//!   has no `default` yet, so custom resources' key defaults are not applied.
//! - Removing every item of a map or list leaves `null`, as structured-merge-diff's
//!   output does; upstream's typed decoding then drops it for built-in kinds.
//! - Conflicts list managers in identifier order (upstream: map order).
//!
//! # Layout
//!
//! `path` and `set` are field paths and sets with their `fieldsV1` encoding; `typed`
//! sees objects through the schema; `merge` merges, compares and prunes objects;
//! `updater` keeps ownership for one write; `create` writes a create's entry in one
//! walk; `managed` encodes `managedFields`;
//! `fieldmanager` is apimachinery's chain of managers around it (before-first-apply,
//! capping update entries, stripping metadata, kubectl's last-applied annotation);
//! `conflict` words conflicts; `scale` moves replica ownership between a resource and
//! its `/scale`; `gojson` writes JSON the way Go does where that shows.

mod conflict;
mod create;
mod fieldmanager;
mod gojson;
mod managed;
mod merge;
mod path;
mod scale;
mod set;
#[cfg(test)]
mod tests;
mod typed;
mod updater;

use serde_json::{Map, Value};

use crate::schema::Cursor;

pub(crate) use conflict::{Conflict, cause_message, conflict_message};
#[cfg(test)]
pub(crate) use managed::{ManagedFieldsEntry, Operation};
pub(crate) use path::Path;
pub(crate) use scale::{scale_to_parent, scale_to_subresource};
pub(crate) use set::FieldSet;

/// At most this many `Update` entries are kept; older ones merge into
/// `ancient-changes` (apimachinery's `DefaultMaxUpdateManagers`).
pub(crate) const MAX_UPDATE_MANAGERS: usize = 10;

/// Why an apply or a managed-fields update failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ApplyError {
    /// The apply would change fields other managers own (409).
    #[error("{}", conflict_message(.0))]
    Conflicts(Vec<Conflict>),
    /// The request is malformed: `managedFields` in an applied configuration, or an
    /// applied configuration of another kind or version than the endpoint's (400).
    #[error("{0}")]
    BadRequest(String),
    /// An object does not fit the schema, or stored managed fields do not decode
    /// (upstream: 500).
    #[error("{0}")]
    Invalid(String),
}

/// Who writes, through which endpoint, and when.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Request<'a> {
    /// The field manager: `?fieldManager=` (required for apply), else
    /// [`manager_from_user_agent`]; empty is recorded as `unknown`.
    pub(crate) manager: &'a str,
    /// The endpoint's group/version (`apps/v1`, `v1`).
    pub(crate) api_version: &'a str,
    /// The endpoint's kind (`Deployment`; `Scale` for `/scale`).
    pub(crate) kind: &'a str,
    /// `""` for the main resource, else `status`, `scale`, ….
    pub(crate) subresource: &'a str,
    /// The time of the write, RFC 3339 (`2025-01-02T03:04:05Z`).
    pub(crate) now: &'a str,
    /// Fields the endpoint's strategy resets (`GetResetFields`): never owned by this
    /// write, never a conflict.
    pub(crate) reset_fields: Option<&'a FieldSet>,
}

/// Server-side apply: merges `applied` into `live` (`None`: the object does not exist
/// yet and is created by this apply) and returns the new object with
/// `metadata.managedFields` updated, `req.manager` recorded with operation `Apply`.
///
/// # Errors
///
/// [`ApplyError::Conflicts`] when other managers own fields the configuration changes
/// and `force` is off; [`ApplyError::BadRequest`] for a configuration of another
/// kind or version, or with `metadata.managedFields`; [`ApplyError::Invalid`] when the
/// configuration or the live object does not fit the schema.
pub(crate) fn apply(
    schema: Cursor<'_>,
    live: Option<&Value>,
    applied: &Value,
    force: bool,
    req: &Request<'_>,
) -> Result<Value, ApplyError> {
    fieldmanager::FieldManager::new(schema, req)?.apply(live, applied, force)
}

/// Any other write (create, update, patch): sets `new`'s `metadata.managedFields` from
/// `old` (`None` on create) and what the write changed. `new` carries the client's
/// `managedFields` as sent: they replace the old entries when they decode and are not
/// empty, `[]` or `[{}]` clears tracking, anything else keeps the old entries.
///
/// # Errors
///
/// [`ApplyError::Invalid`] when an object does not fit the schema; `new` is then left
/// without `managedFields` (upstream logs and carries on).
pub(crate) fn update(
    schema: Cursor<'_>,
    old: Option<&Value>,
    new: &mut Value,
    req: &Request<'_>,
) -> Result<(), ApplyError> {
    fieldmanager::FieldManager::new(schema, req)?.update(old, new)
}

/// [`update`] of objects, for callers that hold them as maps: the live object is only
/// read, never copied.
///
/// # Errors
///
/// As [`update`]'s; `new` is then left without `managedFields`.
pub(crate) fn update_object(
    schema: Cursor<'_>,
    old: Option<&Map<String, Value>>,
    new: &mut Map<String, Value>,
    req: &Request<'_>,
) -> Result<(), ApplyError> {
    fieldmanager::FieldManager::new(schema, req)?.update_object(old, new)
}

/// [`update_object`] of an `old` object without its `metadata.managedFields`, which
/// the caller took out and gives away as `old_managed`: unchanged entries move into
/// `new` instead of being copied.
///
/// # Errors
///
/// As [`update`]'s; `new` is then left without `managedFields`.
pub(crate) fn update_object_from(
    schema: Cursor<'_>,
    old: &Map<String, Value>,
    old_managed: Option<Value>,
    new: &mut Map<String, Value>,
    req: &Request<'_>,
) -> Result<(), ApplyError> {
    fieldmanager::FieldManager::new(schema, req)?.update_object_from(old, old_managed, new)
}

/// The decoded `metadata.managedFields` of an object, sorted as stored.
///
/// # Errors
///
/// [`ApplyError::Invalid`] when an entry does not decode.
#[cfg(test)]
pub(crate) fn managed_fields(obj: &Value) -> Result<Vec<ManagedFieldsEntry>, ApplyError> {
    let list = obj.get("metadata").and_then(|m| m.get("managedFields"));
    Ok(managed::entries(&managed::decode_live(list)?))
}

/// The default manager of a non-apply write without `?fieldManager=`: the User-Agent
/// up to its first `/`, printable characters only, at most 128 bytes (apiserver's
/// `prefixFromUserAgent`).
pub(crate) fn manager_from_user_agent(user_agent: &str) -> String {
    let prefix = user_agent.split('/').next().unwrap_or_default();
    let mut out = String::new();
    for c in prefix.chars().filter(|c| gojson::is_go_printable(*c)) {
        if out.len() + c.len_utf8() > 128 {
            break;
        }
        out.push(c);
    }
    out
}
