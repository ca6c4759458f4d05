//! apimachinery's field manager: the chain of managers kube-apiserver wraps around
//! structured-merge-diff (`internal/fieldmanager.go` `NewDefaultFieldManager`), from
//! the outside in:
//!
//! ```text
//! version check        apply: the configuration's kind and version are the endpoint's
//! last-applied updater apply by "kubectl": rewrite kubectl's last-applied annotation
//! last-applied manager apply by "kubectl": conflicts the annotation explains are forced
//! skip non-applied     update of an untracked object: stay untracked; first apply:
//!                      existing fields go to "before-first-apply"
//! cap managers         update: at most 10 Update entries, oldest merge into
//!                      "ancient-changes" (one per API version)
//! build manager info   manager name → identifier (operation, version, subresource)
//! managed-fields upd.  update: merge into the writer's entry and stamp the time only
//!                      when the write changed something; apply: stamp on change
//! strip meta           never own apiVersion, kind, metadata.name, uid, …
//! structured merge     typed objects, updater
//! ```

use std::borrow::Cow;
use std::sync::LazyLock;

use serde_json::{Map, Value};

use super::conflict::Conflict;
use super::create;
use super::managed::{self, Managed, ManagerInfo, Operation, Recorded};
use super::merge::{compare, compare_objects};
use super::path::Path;
use super::set::FieldSet;
use super::typed::{
    Ty, format_errors, is_valid_object, is_valid_object_beside, to_field_set, validate,
};
use super::updater::{UpdateError, Updater, VersionedSet};
use super::{ApplyError, MAX_UPDATE_MANAGERS, Request, gojson};
use crate::schema::Cursor;

const BEFORE_FIRST_APPLY: &str = "before-first-apply";
const ANCIENT_CHANGES: &str = "ancient-changes";
/// The updater's temporary name for the writer of an update.
const CURRENT_OPERATION: &str = "current-operation";
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// apimachinery's `TotalAnnotationSizeLimitB`.
const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;

/// A failure inside the chain: conflicts stay raw (identifier, path) until the
/// last-applied manager had its say.
enum ChainError {
    Conflicts(Vec<(String, Path)>),
    Other(ApplyError),
}

impl From<ApplyError> for ChainError {
    fn from(e: ApplyError) -> Self {
        Self::Other(e)
    }
}

/// Metadata paths no manager ever owns (apimachinery's `stripmeta.go`).
fn strip_set() -> FieldSet {
    let paths = [
        Path::fields(&["apiVersion"]),
        Path::fields(&["kind"]),
        Path::fields(&["metadata"]),
        Path::fields(&["metadata", "name"]),
        Path::fields(&["metadata", "namespace"]),
        Path::fields(&["metadata", "creationTimestamp"]),
        Path::fields(&["metadata", "selfLink"]),
        Path::fields(&["metadata", "uid"]),
        Path::fields(&["metadata", "clusterName"]),
        Path::fields(&["metadata", "generation"]),
        Path::fields(&["metadata", "managedFields"]),
        Path::fields(&["metadata", "resourceVersion"]),
    ];
    FieldSet::from_paths(paths.iter())
}

/// [`strip_set`], built once.
static STRIP: LazyLock<FieldSet> = LazyLock::new(strip_set);

fn metadata_in(obj: &Map<String, Value>) -> Option<&Map<String, Value>> {
    obj.get("metadata").and_then(Value::as_object)
}

fn metadata(obj: &Value) -> Option<&Map<String, Value>> {
    obj.as_object().and_then(metadata_in)
}

fn meta_str_in<'v>(obj: &'v Map<String, Value>, key: &str) -> &'v str {
    metadata_in(obj)
        .and_then(|m| m.get(key))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn meta_str<'v>(obj: &'v Value, key: &str) -> &'v str {
    obj.as_object()
        .map(|o| meta_str_in(o, key))
        .unwrap_or_default()
}

fn metadata_mut(obj: &mut Map<String, Value>) -> Option<&mut Map<String, Value>> {
    obj.get_mut("metadata").and_then(Value::as_object_mut)
}

fn managed_fields_in(obj: &Map<String, Value>) -> Option<&Value> {
    metadata_in(obj).and_then(|m| m.get("managedFields"))
}

fn managed_fields_of(obj: &Value) -> Option<&Value> {
    obj.as_object().and_then(managed_fields_in)
}

/// Sets (or, with `None`, removes) `metadata.managedFields`.
fn set_managed_fields(obj: &mut Value, list: Option<Value>) {
    if let Value::Object(root) = obj {
        set_managed_fields_in(root, list);
    }
}

/// [`set_managed_fields`] of an object's root.
fn set_managed_fields_in(root: &mut Map<String, Value>, list: Option<Value>) {
    match list {
        Some(list) => {
            let meta = root
                .entry("metadata")
                .or_insert_with(|| Value::Object(Map::new()));
            if !meta.is_object() {
                *meta = Value::Object(Map::new());
            }
            if let Value::Object(meta) = meta {
                meta.insert("managedFields".to_owned(), list);
            }
        }
        None => {
            if let Some(Value::Object(meta)) = root.get_mut("metadata") {
                meta.remove("managedFields");
            }
        }
    }
}

/// A copy of `obj` without `metadata.managedFields`, the form the typed walks see.
fn without_managed_fields(obj: &Value) -> Value {
    let mut out = obj.clone();
    set_managed_fields(&mut out, None);
    out
}

/// A group/version as apimachinery's `ParseGroupVersion` reads it (`None` when it has
/// more than one slash).
fn parse_group_version(gv: &str) -> Option<(&str, &str)> {
    if gv.is_empty() || gv == "/" {
        return Some(("", ""));
    }
    match gv.matches('/').count() {
        0 => Some(("", gv)),
        1 => gv.split_once('/'),
        _ => None,
    }
}

/// `GroupVersion.String()`: `apps/v1`, or `v1` for the core group.
fn group_version_string(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    }
}

/// An object's group/version/kind as `GroupVersionKind.String()` prints it:
/// `apps/v1, Kind=Deployment`, `/v1, Kind=Pod`.
fn gvk_string(obj: &Value) -> String {
    let api_version = obj
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or_default();
    let (group, version) = parse_group_version(api_version).unwrap_or(("", ""));
    format!("{group}/{version}, Kind={kind}")
}

/// How upstream names an object in errors: `ns/name; apps/v1, Kind=Deployment`.
fn object_gvknn(obj: &Value) -> String {
    format!(
        "{}/{}; {}",
        meta_str(obj, "namespace"),
        meta_str(obj, "name"),
        gvk_string(obj)
    )
}

/// The field manager of one request.
pub(super) struct FieldManager<'a> {
    ty: Ty<'a>,
    req: &'a Request<'a>,
    /// `req.now` in Unix seconds.
    now: i64,
    max_update_managers: usize,
}

impl<'a> FieldManager<'a> {
    pub(super) fn new(schema: Cursor<'a>, req: &'a Request<'a>) -> Result<Self, ApplyError> {
        let now = managed::parse_time(req.now).ok_or_else(|| {
            ApplyError::Invalid(format!(
                "the time of the write is not RFC 3339: {}",
                req.now
            ))
        })?;
        Ok(Self {
            ty: Ty::Schema(schema),
            req,
            now,
            max_update_managers: MAX_UPDATE_MANAGERS,
        })
    }

    #[cfg(test)]
    pub(super) fn with_max_update_managers(mut self, max: usize) -> Self {
        self.max_update_managers = max;
        self
    }

    fn updater(&self) -> Updater<'a> {
        Updater {
            ty: self.ty,
            ignore: self.req.reset_fields,
        }
    }

    /// The object kube-apiserver starts from when nothing exists yet (its
    /// `ObjectCreater.New` for unstructured objects: kind and version only).
    fn empty_object(&self) -> Value {
        Value::Object(self.empty_map())
    }

    /// [`empty_object`](Self::empty_object)'s map.
    fn empty_map(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert(
            "apiVersion".into(),
            Value::String(self.req.api_version.to_owned()),
        );
        m.insert("kind".into(), Value::String(self.req.kind.to_owned()));
        m
    }

    fn identifier(&self, manager: &str, operation: Operation) -> String {
        ManagerInfo {
            manager: if manager.is_empty() {
                "unknown"
            } else {
                manager
            }
            .to_owned(),
            operation,
            api_version: self.req.api_version.to_owned(),
            subresource: self.req.subresource.to_owned(),
        }
        .identifier()
    }

    // ---- update ------------------------------------------------------------------

    /// [`super::update`]: objects go through [`update_object`](Self::update_object),
    /// anything else (which fails validation) through [`update_general`](Self::update_general).
    pub(super) fn update(&self, old: Option<&Value>, new: &mut Value) -> Result<(), ApplyError> {
        match (old, new) {
            (None | Some(Value::Object(_)), Value::Object(new)) => {
                self.update_object(old.and_then(Value::as_object), new)
            }
            (old, new) => self.update_general(old, new),
        }
    }

    /// [`update`](Self::update) of objects, without copying them: a create sending no
    /// managed fields writes its entry in one walk ([`create::fields_v1`]); any other
    /// write checks both objects without wording errors and compares them skipping
    /// equal subtrees ([`compare_objects`]). Objects that do not fit the schema take
    /// the general way, which words the error. The result is
    /// [`update_general`](Self::update_general)'s.
    pub(super) fn update_object(
        &self,
        old: Option<&Map<String, Value>>,
        new: &mut Map<String, Value>,
    ) -> Result<(), ApplyError> {
        let live_managed = old.and_then(managed_fields_in).map(Cow::Borrowed);
        self.update_object_with(old, live_managed, new)
    }

    /// [`update_object`](Self::update_object) of an `old` object whose
    /// `metadata.managedFields` the caller took out and gives away as `old_managed`:
    /// entries that do not change move into `new` instead of being copied. (The
    /// structured comparison never looks at the live object's managed fields.)
    pub(super) fn update_object_from(
        &self,
        old: &Map<String, Value>,
        old_managed: Option<Value>,
        new: &mut Map<String, Value>,
    ) -> Result<(), ApplyError> {
        self.update_object_with(Some(old), old_managed.map(Cow::Owned), new)
    }

    /// [`update_object`](Self::update_object) with the live object's managed fields
    /// given apart (whatever `old` holds of them is ignored).
    fn update_object_with<'v>(
        &self,
        old: Option<&Map<String, Value>>,
        live_managed: Option<Cow<'v, Value>>,
        new: &mut Map<String, Value>,
    ) -> Result<(), ApplyError> {
        let empty;
        let live = match old {
            Some(old) => old,
            None => {
                empty = self.empty_map();
                &empty
            }
        };
        // The client's entries are ours to take: unchanged ones go back as they came.
        let sent = metadata_mut(new).and_then(|m| m.remove("managedFields"));
        let (managed, mut recorded) = self.decode_live_or_new(live_managed, sent.map(Cow::Owned));
        // Skip non-applied: as in `update_general`.
        if managed.is_empty() && !meta_str_in(live, "uid").is_empty() {
            return Ok(());
        }
        if old.is_none()
            && managed.is_empty()
            && let Some(fields) = self.created_fields(live, new)
        {
            let list = (!fields.is_empty()).then(|| Value::Array(vec![self.created_entry(fields)]));
            set_managed_fields_in(new, list);
            return Ok(());
        }
        let managed = self.tracked_update(live, new, managed)?;
        set_managed_fields_in(new, managed::encode_reusing(&managed, &mut recorded));
        Ok(())
    }

    /// The general algorithm of [`update`](Self::update), on copies of the objects:
    /// what [`update_object`](Self::update_object) must agree with.
    pub(super) fn update_general(
        &self,
        old: Option<&Value>,
        new: &mut Value,
    ) -> Result<(), ApplyError> {
        let live = old.cloned().unwrap_or_else(|| self.empty_object());
        let (managed, _) = self.decode_live_or_new(
            managed_fields_of(&live).map(Cow::Borrowed),
            managed_fields_of(new).map(Cow::Borrowed),
        );
        set_managed_fields(new, None);
        // Skip non-applied: an object nobody tracks stays untracked on update; a create
        // (no uid yet) starts tracking.
        if managed.is_empty() && !meta_str(&live, "uid").is_empty() {
            return Ok(());
        }
        let managed = self.capped_update(&live, new, managed, self.req.manager)?;
        set_managed_fields(new, managed::encode(&managed));
        Ok(())
    }

    /// The entries a non-apply write starts from (upstream's `decodeLiveOrNew`): the
    /// client's (`sent`) when it sent decodable, non-empty ones through the main
    /// resource, none when it asked for a reset, else the live object's. With them,
    /// their `fieldsV1` values, for [`managed::encode_reusing`].
    fn decode_live_or_new<'v>(
        &self,
        live: Option<Cow<'v, Value>>,
        sent: Option<Cow<'v, Value>>,
    ) -> (Managed, Recorded<'v>) {
        let from_live = || managed::decode_recorded(live).unwrap_or_default();
        if !self.req.subresource.is_empty() {
            return from_live();
        }
        if managed::is_reset(sent.as_deref()) {
            return Default::default();
        }
        match managed::decode_recorded(sent) {
            Ok((m, recorded)) if !m.is_empty() => (m, recorded),
            _ => from_live(),
        }
    }

    /// The `fieldsV1` of a create that starts from no managed fields, when both
    /// objects are valid and [`create::fields_v1`] applies.
    fn created_fields(
        &self,
        live: &Map<String, Value>,
        new: &Map<String, Value>,
    ) -> Option<Map<String, Value>> {
        // `fields_v1` checks `new` as it walks it; `live` is `{apiVersion, kind}`.
        let fields = create::fields_v1(self.ty, new, self.req.reset_fields, &STRIP)?;
        is_valid_object_beside(self.ty, live, new).then_some(fields)
    }

    /// The one entry of a create: the writer's update, now.
    fn created_entry(&self, fields_v1: Map<String, Value>) -> Value {
        let manager = if self.req.manager.is_empty() {
            "unknown"
        } else {
            self.req.manager
        };
        managed::entry_value(
            manager,
            Operation::Update,
            self.req.api_version,
            Some(managed::format_time(self.now)),
            Value::Object(fields_v1),
            self.req.subresource,
        )
    }

    /// [`capped_update`](Self::capped_update) of valid objects, without copies and
    /// comparing them skipping equal subtrees; invalid ones go the general way, which
    /// words the error.
    fn tracked_update(
        &self,
        live: &Map<String, Value>,
        new: &Map<String, Value>,
        managed: Managed,
    ) -> Result<Managed, ApplyError> {
        let cmp = (is_valid_object(self.ty, new) && is_valid_object_beside(self.ty, live, new))
            .then(|| compare_objects(self.ty, live, new).ok())
            .flatten();
        let Some(cmp) = cmp else {
            let live = Value::Object(live.clone());
            let new = Value::Object(new.clone());
            return self.capped_update(&live, &new, managed, self.req.manager);
        };
        let fields = self.updater().update_compared(
            cmp,
            self.req.api_version,
            managed.fields,
            CURRENT_OPERATION,
        );
        let managed = Managed {
            fields,
            times: managed.times,
        };
        Ok(self.finish_update(managed, self.req.manager))
    }

    /// Cap managers → build manager info → managed-fields updater → strip meta →
    /// structured merge, for a non-apply write by `manager`.
    fn capped_update(
        &self,
        live: &Value,
        new: &Value,
        managed: Managed,
        manager: &str,
    ) -> Result<Managed, ApplyError> {
        let managed = self.structured_update(live, new, managed)?;
        Ok(self.finish_update(managed, manager))
    }

    /// After the structured merge of a non-apply write by `manager`: strip meta from
    /// the writer's fields, merge them into its entry (stamped now), cap the entries.
    fn finish_update(&self, mut managed: Managed, manager: &str) -> Managed {
        let id = self.identifier(manager, Operation::Update);
        strip(&mut managed, CURRENT_OPERATION);
        if let Some(vs) = managed.fields.remove(CURRENT_OPERATION) {
            let mut set = vs.set;
            if let Some(prev) = managed.fields.remove(&id) {
                set.union_with(prev.set);
            }
            managed.fields.insert(
                id.clone(),
                VersionedSet {
                    set,
                    api_version: vs.api_version,
                    applied: vs.applied,
                },
            );
            managed.times.insert(id, Some(self.now));
        }
        self.cap_update_managers(managed)
    }

    fn structured_update(
        &self,
        live: &Value,
        new: &Value,
        managed: Managed,
    ) -> Result<Managed, ApplyError> {
        let new_typed = without_managed_fields(new);
        let live_typed = without_managed_fields(live);
        let errs = validate(self.ty, &new_typed, true);
        if !errs.is_empty() {
            return Err(ApplyError::Invalid(format!(
                "failed to convert new object ({}) to smd typed: {}",
                object_gvknn(new),
                format_errors(&errs)
            )));
        }
        let errs = validate(self.ty, &live_typed, true);
        if !errs.is_empty() {
            return Err(ApplyError::Invalid(format!(
                "failed to convert live object ({}) to smd typed: {}",
                object_gvknn(live),
                format_errors(&errs)
            )));
        }
        let fields = self
            .updater()
            .update(
                &live_typed,
                &new_typed,
                self.req.api_version,
                managed.fields,
                CURRENT_OPERATION,
            )
            .map_err(|e| {
                let why = match e {
                    UpdateError::Invalid(why) => why,
                    UpdateError::Conflicts(_) => "conflicts on a forced update".to_owned(),
                };
                ApplyError::Invalid(format!(
                    "failed to update ManagedFields ({}): {why}",
                    object_gvknn(new)
                ))
            })?;
        Ok(Managed {
            fields,
            times: managed.times,
        })
    }

    /// Merges the oldest Update entries, per API version, into `ancient-changes` until
    /// at most the maximum remain (apimachinery's `capUpdateManagers`).
    fn cap_update_managers(&self, mut managed: Managed) -> Managed {
        let mut updaters: Vec<String> = managed
            .fields
            .iter()
            .filter(|(_, vs)| !vs.applied)
            .map(|(id, _)| id.clone())
            .collect();
        if updaters.len() <= self.max_update_managers {
            return managed;
        }
        let seconds = |id: &String| managed.times.get(id).copied().flatten().unwrap_or(0);
        updaters.sort_by(|a, b| seconds(a).cmp(&seconds(b)).then_with(|| a.cmp(b)));
        let mut first_of_version: Vec<(String, String)> = Vec::new();
        let mut length = updaters.len();
        for id in updaters {
            if length <= self.max_update_managers {
                break;
            }
            let Some(vs) = managed.fields.get(&id).cloned() else {
                continue;
            };
            let time = managed.times.get(&id).copied().flatten();
            let version = vs.api_version.clone();
            let bucket = ManagerInfo {
                manager: ANCIENT_CHANGES.to_owned(),
                operation: Operation::Update,
                api_version: version.clone(),
                subresource: String::new(),
            }
            .identifier();
            match first_of_version.iter().find(|(v, _)| *v == version) {
                Some((_, first)) => {
                    if !managed.fields.contains_key(&bucket)
                        && let Some(first_set) = managed.fields.remove(first)
                    {
                        managed.fields.insert(bucket.clone(), first_set);
                    }
                    let union = match managed.fields.get(&bucket) {
                        Some(b) => vs.set.union(&b.set),
                        None => vs.set.clone(),
                    };
                    managed.fields.insert(
                        bucket.clone(),
                        VersionedSet {
                            set: union,
                            api_version: vs.api_version,
                            applied: vs.applied,
                        },
                    );
                    managed.fields.remove(&id);
                    length -= 1;
                    managed.times.insert(bucket, time);
                }
                None => first_of_version.push((version, id)),
            }
        }
        managed
    }

    // ---- apply -------------------------------------------------------------------

    pub(super) fn apply(
        &self,
        live: Option<&Value>,
        applied: &Value,
        force: bool,
    ) -> Result<Value, ApplyError> {
        let live = live.cloned().unwrap_or_else(|| self.empty_object());
        let managed = managed::decode_live(managed_fields_of(&live))?;
        self.check_type(applied)?;
        let kubectl = self.req.manager == "kubectl";
        let (mut obj, managed) = match self.apply_chain(&live, applied, managed.clone(), force) {
            Ok(done) => done,
            Err(ChainError::Conflicts(conflicts)) if kubectl => {
                match self.allowed_conflicts_from_last_applied(&live) {
                    Some(allowed) => {
                        let rest: Vec<(String, Path)> = conflicts
                            .into_iter()
                            .filter(|(_, p)| !allowed.has(&p.0))
                            .collect();
                        if rest.is_empty() {
                            self.apply_chain(&live, applied, managed, true)
                                .map_err(|e| self.finish_error(e, &live))?
                        } else {
                            return Err(self.conflicts(rest, &live));
                        }
                    }
                    None => return Err(self.conflicts(conflicts, &live)),
                }
            }
            Err(e) => return Err(self.finish_error(e, &live)),
        };
        if kubectl && has_last_applied(&obj) {
            set_last_applied(&mut obj, &build_last_applied(applied));
        }
        set_managed_fields(&mut obj, managed::encode(&managed));
        Ok(obj)
    }

    /// The version check: an applied configuration must be of the endpoint's kind and
    /// version.
    fn check_type(&self, applied: &Value) -> Result<(), ApplyError> {
        let api_version = applied
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let kind = applied
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let got = parse_group_version(api_version).unwrap_or(("", ""));
        let want = parse_group_version(self.req.api_version).unwrap_or(("", ""));
        if got != want || kind != self.req.kind {
            return Err(ApplyError::BadRequest(format!(
                "invalid object type: {}",
                gvk_string(applied)
            )));
        }
        Ok(())
    }

    fn finish_error(&self, e: ChainError, live: &Value) -> ApplyError {
        match e {
            ChainError::Conflicts(c) => self.conflicts(c, live),
            ChainError::Other(e) => e,
        }
    }

    /// Turns raw conflicts into [`Conflict`]s, naming each manager's API version.
    fn conflicts(&self, raw: Vec<(String, Path)>, live: &Value) -> ApplyError {
        let managed = managed::decode(managed_fields_of(live)).unwrap_or_default();
        ApplyError::Conflicts(
            raw.into_iter()
                .map(|(id, path)| {
                    let version = ManagerInfo::parse(&id)
                        .map(|i| i.api_version)
                        .filter(|v| !v.is_empty())
                        .or_else(|| managed.fields.get(&id).map(|vs| vs.api_version.clone()))
                        .unwrap_or_default();
                    Conflict::from_identifier(&id, &version, path.to_string())
                })
                .collect(),
        )
    }

    /// Skip non-applied → build manager info → managed-fields updater → strip meta →
    /// structured merge, for an apply.
    fn apply_chain(
        &self,
        live: &Value,
        applied: &Value,
        managed: Managed,
        force: bool,
    ) -> Result<(Value, Managed), ChainError> {
        // The first apply to an untracked object hands its existing fields to
        // "before-first-apply", so the applier conflicts on them instead of taking them.
        let managed = if managed.is_empty() {
            let empty = self.empty_object();
            self.capped_update(&empty, live, managed, BEFORE_FIRST_APPLY)
                .map_err(|e| {
                    ApplyError::Invalid(format!(
                        "failed to create manager for existing fields: {e}"
                    ))
                })?
        } else {
            managed
        };
        let id = self.identifier(self.req.manager, Operation::Apply);
        let (obj, mut managed) = self.structured_apply(live, applied, managed, &id, force)?;
        strip(&mut managed, &id);
        let obj = match obj {
            Some(obj) => {
                managed.times.insert(id, Some(self.now));
                obj
            }
            // Nothing changed: the object stays, and so does the applier's time.
            None => without_managed_fields(live),
        };
        Ok((obj, managed))
    }

    fn structured_apply(
        &self,
        live: &Value,
        applied: &Value,
        managed: Managed,
        id: &str,
        force: bool,
    ) -> Result<(Option<Value>, Managed), ChainError> {
        let api_version = applied
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let got = parse_group_version(api_version).unwrap_or(("", ""));
        let want = parse_group_version(self.req.api_version).unwrap_or(("", ""));
        if got != want {
            return Err(ApplyError::BadRequest(format!(
                "Incorrect version specified in apply patch. Specified patch version: {}, expected: {}",
                group_version_string(got.0, got.1),
                group_version_string(want.0, want.1)
            ))
            .into());
        }
        if matches!(managed_fields_of(applied), Some(Value::Array(_))) {
            return Err(
                ApplyError::BadRequest("metadata.managedFields must be nil".to_owned()).into(),
            );
        }
        let errs = validate(self.ty, applied, false);
        if !errs.is_empty() {
            return Err(ApplyError::Invalid(format!(
                "failed to create typed patch object ({}): {}",
                object_gvknn(applied),
                format_errors(&errs)
            ))
            .into());
        }
        let live_typed = without_managed_fields(live);
        let errs = validate(self.ty, &live_typed, true);
        if !errs.is_empty() {
            return Err(ApplyError::Invalid(format!(
                "failed to create typed live object ({}): {}",
                object_gvknn(live),
                format_errors(&errs)
            ))
            .into());
        }
        let (obj, fields) = self
            .updater()
            .apply(
                &live_typed,
                applied,
                self.req.api_version,
                managed.fields,
                id,
                force,
            )
            .map_err(|e| match e {
                UpdateError::Conflicts(c) => ChainError::Conflicts(c),
                UpdateError::Invalid(why) => ChainError::Other(ApplyError::Invalid(why)),
            })?;
        Ok((
            obj,
            Managed {
                fields,
                times: managed.times,
            },
        ))
    }

    /// The fields kubectl's last-applied annotation says kubectl set and the live
    /// object still has as it set them: conflicts on those are not conflicts for an
    /// upgrade from client-side to server-side apply. `None` when there is no usable
    /// annotation.
    fn allowed_conflicts_from_last_applied(&self, live: &Value) -> Option<FieldSet> {
        let text = metadata(live)
            .and_then(|m| m.get("annotations"))
            .and_then(|a| a.get(LAST_APPLIED))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())?;
        let live_typed = without_managed_fields(live);
        if !validate(self.ty, &live_typed, false).is_empty() {
            return None;
        }
        let last: Value = serde_json::from_str(text).ok()?;
        if last
            .get("kind")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return None;
        }
        if last.get("apiVersion").and_then(Value::as_str) != Some(self.req.api_version) {
            return None;
        }
        if !validate(self.ty, &last, false).is_empty() {
            return None;
        }
        let set = to_field_set(self.ty, &last);
        let cmp = compare(self.ty, &last, &live_typed).ok()?;
        Some(
            set.difference(&cmp.modified)
                .difference(&cmp.added)
                .difference(&cmp.removed),
        )
    }
}

/// Drops the metadata paths nobody owns from `manager`'s set, and the entry when
/// nothing is left.
fn strip(managed: &mut Managed, manager: &str) {
    let Some(vs) = managed.fields.get_mut(manager) else {
        return;
    };
    vs.set.subtract(&STRIP);
    if vs.set.is_empty() {
        managed.fields.remove(manager);
    }
}

fn has_last_applied(obj: &Value) -> bool {
    metadata(obj)
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(LAST_APPLIED))
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty())
}

/// The annotation kubectl would write for `applied`: the configuration without the
/// annotation itself, as Go's JSON encoder writes it (sorted keys, trailing newline).
fn build_last_applied(applied: &Value) -> String {
    let mut copy = applied.clone();
    if let Some(Value::Object(meta)) = copy.get_mut("metadata") {
        match meta.get_mut("annotations") {
            Some(Value::Object(annotations)) => {
                annotations.remove(LAST_APPLIED);
            }
            Some(_) => {
                meta.remove("annotations");
            }
            None => {}
        }
    }
    let mut out = gojson::to_string(&copy);
    out.push('\n');
    out
}

/// Sets the last-applied annotation, unless that makes the annotations too large
/// (then the annotation is dropped, as upstream's `SetLastApplied` does).
fn set_last_applied(obj: &mut Value, value: &str) {
    let Value::Object(root) = obj else { return };
    let meta = root
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(meta) = meta else { return };
    let mut annotations = match meta.get("annotations") {
        Some(Value::Object(a)) => a.clone(),
        _ => Map::new(),
    };
    annotations.insert(LAST_APPLIED.to_owned(), Value::String(value.to_owned()));
    let size: usize = annotations
        .iter()
        .map(|(k, v)| k.len() + v.as_str().map_or(0, str::len))
        .sum();
    if size > TOTAL_ANNOTATION_SIZE_LIMIT {
        annotations.remove(LAST_APPLIED);
    }
    meta.insert("annotations".to_owned(), Value::Object(annotations));
}
