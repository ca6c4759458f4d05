//! The generic REST store: create, update, patch and delete semantics implemented
//! once for every resource (kube-apiserver's `genericregistry.Store`), with the
//! per-kind differences coming from [`Strategy`](super::Strategy) facts and the
//! [`strategy`](super::strategy) module.
//!
//! Writes go to storage directly; reads that feed a write (the current object of an
//! update) are read from storage too, so they are never stale. The response of a
//! write is the object exactly as stored, encoded once, with its new
//! resourceVersion spliced in.

use bytes::Bytes;
use kubeforge_client::core::{
    CauseType, CreateOptions, FieldError, GroupResource, ObjectMeta, ObjectMetaExt, Status,
    StatusCause,
};
use serde_json::{Map, Value, json};

use super::{CreateStatus, Resource, convert, strategy, validation};
use crate::apiserver::{ApiError, ApiResult, ApiServer};
use crate::object;
use crate::storage::{self, KeyValue, Revision};

/// How many times a name is generated from `generateName` before giving up.
const GENERATE_NAME_ATTEMPTS: usize = 8;

/// upstream's `OptimisticLockErrorMsg`.
pub(crate) const OPTIMISTIC_LOCK_MSG: &str =
    "the object has been modified; please apply your changes to the latest version and try again";

/// The result of a write: the object as served and the HTTP status.
#[derive(Debug)]
pub(crate) struct Written {
    pub(crate) bytes: Bytes,
    pub(crate) code: u16,
}

/// Which part of an object a write may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    /// The main resource: everything but `status` (when the kind has a status
    /// subresource).
    Main,
    /// `/status`: only `status`.
    Status,
    /// `/finalize` (namespaces): only `spec.finalizers`.
    Finalize,
}

impl Part {
    /// The subresource a write of this part goes through (`""` for the main resource).
    pub(crate) fn subresource(self) -> &'static str {
        match self {
            Part::Main => "",
            Part::Status => "status",
            Part::Finalize => "finalize",
        }
    }
}

/// How a write keeps `metadata.managedFields`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Owner<'a> {
    /// A create, update or non-apply patch by this field manager: the fields the write
    /// changed become the manager's.
    Update(&'a str),
    /// The caller computed the object's `managedFields` (server-side apply, or a
    /// `/scale` write mapped back onto its parent); they are stored as they are.
    Computed,
}

/// The current state of an object, read from storage for a write.
#[derive(Debug)]
pub(crate) struct Current {
    /// The object in its served version, `metadata.resourceVersion` included.
    pub(crate) obj: Map<String, Value>,
    pub(crate) kv: KeyValue,
}

/// RFC 3339, second precision, UTC: how the API writes timestamps.
pub(crate) fn timestamp(t: jiff::Timestamp) -> String {
    jiff::Timestamp::from_second(t.as_second())
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_string()
}

/// Maps a storage error for a write or read of `name` to a `Status`.
pub(crate) fn storage_status(gr: &GroupResource, name: &str, err: storage::Error) -> ApiError {
    match err {
        storage::Error::KeyNotFound { .. } => Status::not_found(gr, name).into(),
        storage::Error::KeyExists { .. } => Status::already_exists(gr, name).into(),
        storage::Error::Conflict { .. } => Status::conflict(gr, name, OPTIMISTIC_LOCK_MSG).into(),
        storage::Error::Compacted { .. } => {
            Status::expired("The resourceVersion for the provided list is too old.").into()
        }
        storage::Error::FutureRevision { requested, current } => too_large_rv(requested, current),
        storage::Error::Unavailable(why) => Status::service_unavailable(why).into(),
        other => {
            tracing::error!(error = %other, "storage failure");
            Status::internal_error(&other.to_string()).into()
        }
    }
}

/// 504 with a `ResourceVersionTooLarge` cause.
pub(crate) fn too_large_rv(requested: Revision, current: Revision) -> ApiError {
    Status::timeout(
        &format!("Too large resource version: {requested}, current: {current}"),
        Some(1),
    )
    .with_cause(StatusCause {
        cause_type: CauseType::RESOURCE_VERSION_TOO_LARGE.to_owned(),
        message: format!("Too large resource version: {requested}, current: {current}"),
        field: String::new(),
    })
    .into()
}

/// The object's `metadata` as a typed value, *without* `managedFields`: those stay
/// in the object as JSON (they are large, and only the field manager reads them);
/// [`set_meta`] keeps them. They are still checked: metadata whose `managedFields`
/// would not decode fails as before.
pub(crate) fn meta_of(res: &Resource, obj: &Map<String, Value>) -> ApiResult<ObjectMeta> {
    let fail = |e: serde_json::Error| decode_error(res, &e.to_string());
    match obj.get("metadata") {
        None | Some(Value::Null) => Ok(ObjectMeta::default()),
        Some(Value::Object(m))
            if m.get("managedFields")
                .is_none_or(|mf| mf.is_null() || is_normal_managed_fields(mf)) =>
        {
            // Every field but managedFields, borrowed; those decode (they are in the
            // form encoding writes), so the result is the full decoding's without them.
            let fields = m
                .iter()
                .filter(|(k, _)| *k != "managedFields")
                .map(|(k, v)| (k.as_str(), v));
            <ObjectMeta as serde::Deserialize>::deserialize(serde::de::value::MapDeserializer::<
                _,
                serde_json::Error,
            >::new(fields))
            .map_err(fail)
        }
        // Anything else decodes in full, for the error or the odd valid shape.
        Some(v) => <ObjectMeta as serde::Deserialize>::deserialize(v)
            .map(|mut meta| {
                meta.managed_fields = None;
                meta
            })
            .map_err(fail),
    }
}

/// The keys of a `managedFields` entry as the typed entry encodes them.
const MANAGED_FIELDS_KEYS: [&str; 7] = [
    "manager",
    "operation",
    "apiVersion",
    "time",
    "fieldsType",
    "fieldsV1",
    "subresource",
];

/// Whether `managedFields` is a list of entries exactly as the typed
/// `ManagedFieldsEntry` encodes (so decoding and encoding it again is the identity):
/// objects with known keys only, non-empty strings, a string `time`, a non-null
/// `fieldsV1`. Everything the server writes has this form.
fn is_normal_managed_fields(list: &Value) -> bool {
    let Value::Array(entries) = list else {
        return false;
    };
    entries.iter().all(|entry| {
        let Value::Object(entry) = entry else {
            return false;
        };
        entry.iter().all(|(k, v)| match k.as_str() {
            "fieldsV1" => !v.is_null(),
            "time" => v.is_string(),
            k if MANAGED_FIELDS_KEYS.contains(&k) => v.as_str().is_some_and(|s| !s.is_empty()),
            _ => false,
        })
    })
}

/// `managedFields` as a typed decoding and encoding would leave them (`None`: left
/// out), reusing `list` when it already has that form.
fn normal_managed_fields(list: Value) -> Option<Value> {
    if list.is_null() {
        return None;
    }
    if is_normal_managed_fields(&list) {
        return Some(list);
    }
    let entries =
        <Option<Vec<kubeforge_client::core::ManagedFieldsEntry>> as serde::Deserialize>::deserialize(
            list,
        )
        .ok()??;
    serde_json::to_value(entries).ok()
}

/// Writes a typed `metadata` back into the object. The object's own
/// `managedFields` (which [`meta_of`] leaves out of `meta`) stay, in their encoded form.
pub(crate) fn set_meta(obj: &mut Map<String, Value>, meta: &ObjectMeta) {
    let managed = obj
        .get_mut("metadata")
        .and_then(Value::as_object_mut)
        .and_then(|m| m.remove("managedFields"));
    set_meta_with(obj, meta, managed);
}

/// [`set_meta`] with the given `managedFields` (`None`: none).
fn set_meta_with(obj: &mut Map<String, Value>, meta: &ObjectMeta, managed: Option<Value>) {
    let mut value = serde_json::to_value(meta).unwrap_or_else(|_| json!({}));
    if let (Value::Object(m), Some(list)) = (&mut value, managed.and_then(normal_managed_fields)) {
        m.insert("managedFields".into(), list);
    }
    obj.insert("metadata".into(), value);
}

/// 400 `<Kind> in version "<v>" cannot be handled as a <Kind>: <why>`.
pub(crate) fn decode_error(res: &Resource, why: &str) -> ApiError {
    Status::bad_request(format!(
        "{kind} in version \"{v}\" cannot be handled as a {kind}: {why}",
        kind = res.gvk.kind,
        v = res.gvk.version
    ))
    .into()
}

/// Checks `apiVersion`/`kind` of a request body against the endpoint; fills them in
/// when absent (as upstream's decoder defaults them).
pub(crate) fn check_type(res: &Resource, obj: &mut Map<String, Value>) -> ApiResult<()> {
    let expected_av = res.api_version();
    match obj.get("apiVersion").and_then(Value::as_str) {
        None | Some("") => {
            obj.insert("apiVersion".into(), json!(expected_av));
        }
        Some(av) if av == expected_av => {}
        Some(av) => {
            return Err(Status::bad_request(format!(
                "the API version in the data ({av}) does not match the expected API version ({expected_av})"
            ))
            .into());
        }
    }
    match obj.get("kind").and_then(Value::as_str) {
        None | Some("") => {
            obj.insert("kind".into(), json!(res.gvk.kind));
        }
        Some(k) if k == res.gvk.kind => {}
        Some(k) => {
            return Err(decode_error(
                res,
                &format!(
                    "the kind in the data ({k}) does not match the expected kind ({})",
                    res.gvk.kind
                ),
            ));
        }
    }
    Ok(())
}

fn new_uid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// upstream's generateName: the prefix cut to 58 characters plus 5 random characters
/// from an alphabet without vowels and look-alikes.
fn generate_name(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut cut = prefix.len().min(58);
    while !prefix.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut name = prefix[..cut].to_owned();
    for b in &uuid::Uuid::new_v4().as_bytes()[..5] {
        name.push(ALPHABET[*b as usize % ALPHABET.len()] as char);
    }
    name
}

/// Everything outside `metadata` and `status`: what a generation counts changes of.
fn spec_part(obj: &Map<String, Value>) -> impl Iterator<Item = (&String, &Value)> {
    obj.iter()
        .filter(|(k, _)| !matches!(k.as_str(), "metadata" | "status" | "apiVersion" | "kind"))
}

fn spec_changed(new: &Map<String, Value>, old: &Map<String, Value>) -> bool {
    !spec_part(new).eq(spec_part(old))
}

/// The store for one resource.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Store<'a> {
    pub(crate) server: &'a ApiServer,
    pub(crate) res: &'a Resource,
}

impl<'a> Store<'a> {
    pub(crate) fn new(server: &'a ApiServer, res: &'a Resource) -> Self {
        Store { server, res }
    }

    fn gr(&self) -> GroupResource {
        self.res.group_resource()
    }

    fn key(&self, ns: &str, name: &str) -> ApiResult<String> {
        self.res
            .key(ns, name)
            .ok_or_else(|| Status::method_not_supported(&self.gr(), "get").into())
    }

    /// Encodes an object (served version) for storage.
    fn encode(&self, obj: &Map<String, Value>) -> Bytes {
        if convert::stored_as(self.res).is_some() {
            object::encode(&convert::to_storage(self.res, obj.clone()))
        } else {
            object::encode(obj)
        }
    }

    /// The bytes served for a stored value at `rev` (converted when needed).
    pub(crate) fn serve(&self, raw: &[u8], rev: Revision) -> ApiResult<Bytes> {
        if convert::stored_as(self.res).is_some() {
            let stored: Map<String, Value> = serde_json::from_slice(raw).map_err(|e| {
                ApiError::from(Status::internal_error(&format!(
                    "stored object is not JSON: {e}"
                )))
            })?;
            let served = object::encode(&convert::from_storage(self.res, stored));
            return object::with_resource_version(&served, rev)
                .map(|s| s.bytes)
                .map_err(|e| Status::internal_error(&e.to_string()).into());
        }
        object::with_resource_version(raw, rev)
            .map(|s| s.bytes)
            .map_err(|e| Status::internal_error(&e.to_string()).into())
    }

    /// Converts the served bytes of a cached object (stored version, resourceVersion
    /// included) to this endpoint's version.
    pub(crate) fn serve_cached(&self, served: &[u8]) -> ApiResult<Bytes> {
        let stored: Map<String, Value> = serde_json::from_slice(served).map_err(|e| {
            ApiError::from(Status::internal_error(&format!(
                "cached object is not JSON: {e}"
            )))
        })?;
        let converted = convert::from_storage(self.res, stored);
        serde_json::to_vec(&converted)
            .map(Bytes::from)
            .map_err(|e| Status::internal_error(&e.to_string()).into())
    }

    /// Reads the current object from storage.
    pub(crate) async fn current(&self, ns: &str, name: &str) -> ApiResult<Option<Current>> {
        let key = self.key(ns, name)?;
        let (kv, _) = self
            .server
            .storage
            .get(&key, 0)
            .await
            .map_err(|e| storage_status(&self.gr(), name, e))?;
        let Some(kv) = kv else { return Ok(None) };
        let stored: Map<String, Value> = serde_json::from_slice(&kv.value).map_err(|e| {
            ApiError::from(Status::internal_error(&format!(
                "stored object is not JSON: {e}"
            )))
        })?;
        let mut obj = convert::from_storage(self.res, stored);
        if let Some(Value::Object(meta)) = obj.get_mut("metadata") {
            meta.insert("resourceVersion".into(), json!(kv.mod_revision.to_string()));
        }
        Ok(Some(Current { obj, kv }))
    }

    /// NamespaceLifecycle admission for creates: the namespace must exist and not be
    /// terminating.
    pub(crate) async fn admit_namespace(&self, ns: &str, name: &str) -> ApiResult<()> {
        let Some(ns_res) = self.server.registry.lookup("", "v1", "namespaces") else {
            return Ok(());
        };
        let ns_store = Store::new(self.server, ns_res);
        // The namespaces cache may lag a namespace created a moment ago: on a miss, ask
        // storage (upstream's admission does a live lookup in the same case).
        let from_cache = self
            .server
            .registry
            .cache(ns_res)
            .and_then(|c| c.get(&format!("/registry/namespaces/{ns}")));
        // The cache applies a namespace's deletion a moment after it is stored; for
        // namespaces this server has seen start terminating, read storage instead
        // (upstream's admission forces a live lookup for recent deletions likewise).
        let recently_deleted = self.server.terminating_namespaces.lock().contains(ns);
        let from_cache = if recently_deleted { None } else { from_cache };
        let terminating = match from_cache {
            // Deletion sets the phase, which the cache keeps as a selectable field.
            Some(cached) => cached.field("status.phase") == Some("Terminating"),
            None => match ns_store.current(ns, ns).await? {
                Some(cur) => is_terminating(&Value::Object(cur.obj)),
                None => {
                    return Err(Status::not_found(&GroupResource::new("", "namespaces"), ns).into());
                }
            },
        };
        if terminating {
            return Err(Status::forbidden(
                &self.gr(),
                name,
                &format!(
                    "unable to create new content in namespace {ns} because it is being terminated"
                ),
            )
            .with_cause(StatusCause {
                cause_type: CauseType::NAMESPACE_TERMINATING.to_owned(),
                message: format!("namespace {ns} is being terminated"),
                field: "metadata.namespace".to_owned(),
            })
            .into());
        }
        Ok(())
    }

    /// Body namespace rules: filled from the path when empty, cleared for cluster
    /// scope, 400 on a mismatch.
    fn check_namespace(&self, meta: &mut ObjectMeta, ns: &str) -> ApiResult<()> {
        if !self.res.namespaced {
            meta.namespace = None;
            return Ok(());
        }
        match meta.namespace.as_deref() {
            None | Some("") => meta.namespace = Some(ns.to_owned()),
            Some(body_ns) if body_ns == ns => {}
            Some(_) => {
                return Err(Status::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                )
                .into());
            }
        }
        Ok(())
    }

    fn invalid(&self, name: &str, errs: &[FieldError]) -> ApiError {
        Status::invalid(&self.res.group_kind(), name, errs).into()
    }

    /// Prepares a new object: metadata system fields, status, defaults, validation.
    /// `name` is the generated or given name.
    fn prepare_create(
        &self,
        obj: &mut Map<String, Value>,
        meta: &mut ObjectMeta,
        now: jiff::Timestamp,
        owner: Owner<'_>,
    ) -> ApiResult<()> {
        meta.uid = Some(new_uid());
        meta.creation_timestamp = Some(timestamp(now));
        meta.deletion_timestamp = None;
        meta.deletion_grace_period_seconds = None;
        meta.self_link = None;
        meta.resource_version = None;
        meta.generation = self.res.strategy.generation.then_some(1);
        match &self.res.create_status {
            CreateStatus::Keep => {}
            CreateStatus::Clear => {
                obj.remove("status");
            }
            CreateStatus::Reset(status) => {
                obj.insert("status".into(), status.clone());
            }
        }
        strategy::prepare_for_create(self.res, obj, meta);
        strategy::decode_check(self.res, obj).map_err(|why| decode_error(self.res, &why))?;
        let mut errs =
            validation::object_meta(meta, self.res.namespaced, strategy::name_rule(self.res));
        errs.extend(strategy::validate(self.res, obj));
        if !errs.is_empty() {
            return Err(self.invalid(meta.name.as_deref().unwrap_or_default(), &errs));
        }
        set_meta(obj, meta);
        if let Owner::Update(manager) = owner {
            self.track(None, obj, manager, Part::Main, now);
        }
        Ok(())
    }

    /// The schema of the resource's kind.
    fn schema(&self) -> Option<crate::schema::Cursor<'a>> {
        self.res.schema()
    }

    /// The fields a write through `part` never owns: what the strategy resets.
    pub(crate) fn reset_fields(&self, part: Part) -> Option<crate::apply::FieldSet> {
        use crate::apply::{FieldSet, Path};
        match part {
            Part::Main if self.res.subresource("status").is_some() => {
                Some(FieldSet::from_paths([&Path::fields(&["status"])]))
            }
            // The custom resource status strategy resets only spec (and, unlike the
            // built-in ones, keeps nothing but status from the request).
            Part::Status if self.res.is_custom() => {
                Some(FieldSet::from_paths([&Path::fields(&["spec"])]))
            }
            // Workload status strategies keep spec and labels (upstream's
            // `GetResetFields` of e.g. `deploymentStatusStrategy`).
            Part::Status => Some(FieldSet::from_paths([
                &Path::fields(&["spec"]),
                &Path::fields(&["metadata", "labels"]),
            ])),
            _ => None,
        }
    }

    /// Records in `new`'s `managedFields` what `manager` changed from `old` (`None`:
    /// a create). As upstream, a failure never fails the write: the object is stored
    /// without managed fields and the failure is logged.
    fn track(
        &self,
        old: Option<&Map<String, Value>>,
        new: &mut Map<String, Value>,
        manager: &str,
        part: Part,
        now: jiff::Timestamp,
    ) {
        self.track_with(old, None, new, manager, part, now);
    }

    /// [`track`](Self::track) of an update whose old object's `managedFields` were
    /// taken out of it and are given away (`old_managed`), so the entries that do
    /// not change move into `new` rather than being copied.
    fn track_from(
        &self,
        old: &Map<String, Value>,
        old_managed: Option<Value>,
        new: &mut Map<String, Value>,
        manager: &str,
        part: Part,
        now: jiff::Timestamp,
    ) {
        self.track_with(Some(old), Some(old_managed), new, manager, part, now);
    }

    /// [`track`](Self::track) and [`track_from`](Self::track_from): `taken` holds
    /// `old`'s managed fields when they were taken out of it.
    fn track_with(
        &self,
        old: Option<&Map<String, Value>>,
        taken: Option<Option<Value>>,
        new: &mut Map<String, Value>,
        manager: &str,
        part: Part,
        now: jiff::Timestamp,
    ) {
        let Some(schema) = self.schema() else {
            return;
        };
        let now = timestamp(now);
        let reset = self.reset_fields(part);
        let api_version = self.res.api_version();
        let req = crate::apply::Request {
            manager,
            api_version: &api_version,
            kind: &self.res.gvk.kind,
            subresource: part.subresource(),
            now: &now,
            reset_fields: reset.as_ref(),
        };
        let result = match (old, taken) {
            (Some(old), Some(old_managed)) => {
                crate::apply::update_object_from(schema, old, old_managed, new, &req)
            }
            (old, _) => crate::apply::update_object(schema, old, new, &req),
        };
        if let Err(e) = result {
            tracing::warn!(resource = %self.res.plural, error = %e, "managed fields not updated");
            if let Some(Value::Object(m)) = new.get_mut("metadata") {
                m.remove("managedFields");
            }
        }
    }

    /// POST: creates an object in `ns` (ignored for cluster-scoped resources).
    pub(crate) async fn create(
        &self,
        ns: &str,
        mut obj: Map<String, Value>,
        opts: &CreateOptions,
        owner: Owner<'_>,
    ) -> ApiResult<Written> {
        check_type(self.res, &mut obj)?;
        let mut meta = meta_of(self.res, &obj)?;
        self.check_namespace(&mut meta, ns)?;
        if meta
            .resource_version
            .as_deref()
            .is_some_and(|rv| !rv.is_empty())
        {
            // Upstream's storage refuses this outright; we answer 400 so clients do not
            // retry a request that cannot succeed.
            return Err(Status::bad_request(
                "resourceVersion should not be set on objects to be created",
            )
            .into());
        }
        let ns = meta.namespace.clone().unwrap_or_default();
        let generate = meta.name.as_deref().is_none_or(str::is_empty)
            && meta.generate_name.as_deref().is_some_and(|g| !g.is_empty());
        if self.res.namespaced {
            self.admit_namespace(&ns, meta.name.as_deref().unwrap_or_default())
                .await?;
        }
        let now = jiff::Timestamp::now();
        let attempts = if generate { GENERATE_NAME_ATTEMPTS } else { 1 };
        let mut last_name = String::new();
        let mut body = Some(obj);
        for attempt in 0..attempts {
            let mut m = meta.clone();
            if generate {
                m.name = Some(generate_name(
                    meta.generate_name.as_deref().unwrap_or_default(),
                ));
            }
            // Only a generated name can need another attempt; otherwise take the body.
            let mut o = if attempt + 1 < attempts {
                body.clone().unwrap_or_default()
            } else {
                body.take().unwrap_or_default()
            };
            self.prepare_create(&mut o, &mut m, now, owner)?;
            let name = m.name.clone().unwrap_or_default();
            last_name.clone_from(&name);
            // Addresses and ports are assigned once the object is valid (a dry run sees
            // them, but keeps none).
            let service = self.is_service();
            if service {
                self.server
                    .allocators
                    .allocate_service(&mut o)
                    .map_err(|errs| self.invalid(&name, &errs))?;
                if opts.is_dry_run() {
                    self.server
                        .allocators
                        .release_service(&Value::Object(o.clone()));
                }
            }
            let bytes = self.encode(&o);
            if opts.is_dry_run() {
                if self.current(&ns, &name).await?.is_some() {
                    return Err(Status::already_exists(&self.gr(), &name).into());
                }
                return Ok(Written {
                    bytes: self.serve_unversioned(&o)?,
                    code: 201,
                });
            }
            let key = self.key(&ns, &name)?;
            self.hint(&key, &bytes, &o);
            let stored = self.server.storage.create(&key, bytes.clone()).await;
            if stored.is_err() && service {
                self.server
                    .allocators
                    .release_service(&Value::Object(o.clone()));
            }
            match stored {
                Ok(kv) => {
                    return Ok(Written {
                        bytes: self.serve(&bytes, kv.mod_revision)?,
                        code: 201,
                    });
                }
                Err(storage::Error::KeyExists { .. }) if generate => continue,
                Err(storage::Error::KeyExists { .. }) => {
                    return Err(self.already_exists(&ns, &name).await);
                }
                Err(e) => return Err(storage_status(&self.gr(), &name, e)),
            }
        }
        Err(Status::generate_name_conflict(&self.gr(), &last_name).into())
    }

    /// The object without a resourceVersion (dry runs).
    fn serve_unversioned(&self, obj: &Map<String, Value>) -> ApiResult<Bytes> {
        Ok(object::encode(obj))
    }

    /// Hands the watch cache what we already parsed of an object about to be stored.
    fn hint(&self, key: &str, bytes: &Bytes, obj: &Map<String, Value>) {
        if convert::stored_as(self.res).is_none()
            && let Some(cache) = self.server.registry.cache(self.res)
        {
            cache.hint(key, bytes, obj);
        }
    }

    fn is_service(&self) -> bool {
        self.res.gvk.group.is_empty() && self.res.gvk.kind == "Service"
    }

    /// Bookkeeping a write must leave behind (allocations).
    fn observe_write(&self, obj: &Map<String, Value>) {
        if self.res.gvk.group.is_empty() && self.res.gvk.kind == "Service" {
            self.server
                .allocators
                .observe_service(&Value::Object(obj.clone()));
        }
    }

    /// 409 AlreadyExists, noting when the existing object is being deleted.
    async fn already_exists(&self, ns: &str, name: &str) -> ApiError {
        let deleting = matches!(
            self.current(ns, name).await,
            Ok(Some(cur)) if cur.obj.metadata().is_some_and(|m| m.contains_key("deletionTimestamp"))
        );
        let mut s = Status::already_exists(&self.gr(), name);
        if deleting {
            s.message = format!("object is being deleted: {}", s.message);
        }
        s.into()
    }

    /// PUT (and the common path of PATCH): replaces `name` with `obj`.
    ///
    /// `pinned` is the resourceVersion the client asked to update from (from the body),
    /// if any; without one, the update is unconditional where the kind allows it and is
    /// retried on concurrent writes.
    pub(crate) async fn update(
        &self,
        ns: &str,
        name: &str,
        obj: Map<String, Value>,
        part: Part,
        dry_run: bool,
        owner: Owner<'_>,
    ) -> ApiResult<Written> {
        self.update_from(ns, name, obj, part, dry_run, owner, None)
            .await
    }

    /// [`update`](Self::update) starting from `read`, the current object the caller
    /// has just read from storage for this write (a patch reads it to patch it), so it
    /// is not read and decoded again. The answer is the one `update` would give: if
    /// someone wrote in between, the compare-and-swap fails and storage is read afresh.
    #[expect(
        clippy::too_many_arguments,
        reason = "update's arguments plus the object already read"
    )]
    pub(crate) async fn update_from(
        &self,
        ns: &str,
        name: &str,
        mut obj: Map<String, Value>,
        part: Part,
        dry_run: bool,
        owner: Owner<'_>,
        mut read: Option<Current>,
    ) -> ApiResult<Written> {
        check_type(self.res, &mut obj)?;
        let mut meta = meta_of(self.res, &obj)?;
        let body_name = meta.name.clone().unwrap_or_default();
        if body_name != name {
            return Err(Status::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            ))
            .into());
        }
        if self.res.namespaced
            && let Some(body_ns) = meta.namespace.as_deref().filter(|n| !n.is_empty())
            && body_ns != ns
        {
            return Err(Status::bad_request(format!(
                "the namespace of the object ({body_ns}) does not match the namespace on the URL ({ns})"
            ))
            .into());
        }
        self.check_namespace(&mut meta, ns)?;
        let pinned = meta
            .resource_version
            .as_deref()
            .filter(|rv| !rv.is_empty())
            .map(|rv| {
                rv.parse::<Revision>().map_err(|_| {
                    self.invalid(
                        name,
                        &[FieldError::invalid(
                            "metadata.resourceVersion",
                            rv,
                            "must be a valid resource version",
                        )],
                    )
                })
            })
            .transpose()?;
        // Whether the object read may be gone when we write and the body then creates it.
        let may_create = part == Part::Main && self.res.strategy.allow_create_on_update;
        loop {
            let supplied = read.is_some();
            let cur = match read.take() {
                Some(cur) => cur,
                None => match self.current(ns, name).await? {
                    Some(cur) => cur,
                    None => {
                        if !may_create {
                            return Err(Status::not_found(&self.gr(), name).into());
                        }
                        // Upstream creates here whatever resourceVersion the body carries.
                        if let Some(Value::Object(m)) = obj.get_mut("metadata") {
                            m.remove("resourceVersion");
                        }
                        let opts = CreateOptions {
                            dry_run: if dry_run {
                                vec!["All".to_owned()]
                            } else {
                                Vec::new()
                            },
                            ..CreateOptions::default()
                        };
                        let created = self.create(ns, obj.clone(), &opts, owner).await;
                        if let Err(e) = &created
                            && e.0.is_already_exists()
                        {
                            // Someone created it meanwhile: update that one instead.
                            continue;
                        }
                        return created;
                    }
                },
            };
            // A UID in the body is a precondition (upstream's update preconditions).
            if let Some(uid) = meta.uid.as_deref().filter(|u| !u.is_empty())
                && let Some(actual) = cur.obj.uid()
                && uid != actual
            {
                return Err(Status::conflict(
                    &self.gr(),
                    name,
                    &format!("Precondition failed: UID in precondition: {uid}, UID in object meta: {actual}"),
                )
                .into());
            }
            let expected = match pinned {
                Some(rv) if rv != cur.kv.mod_revision => {
                    return Err(Status::conflict(&self.gr(), name, OPTIMISTIC_LOCK_MSG).into());
                }
                Some(rv) => rv,
                // Status and finalize updates follow the kind's rule too (their strategies
                // inherit it upstream).
                None if !self.res.strategy.allow_unconditional_update => {
                    return Err(self.invalid(
                        name,
                        &[FieldError::invalid(
                            "metadata.resourceVersion",
                            0,
                            "must be specified for an update",
                        )],
                    ));
                }
                None => cur.kv.mod_revision,
            };
            // The body is needed again only when a lost race leads to another attempt
            // here, or (read by the caller) to a create; otherwise it moves.
            let again = pinned.is_none() || (supplied && may_create);
            let body = if again {
                obj.clone()
            } else {
                std::mem::take(&mut obj)
            };
            match self
                .apply_update(ns, name, body, cur, expected, part, owner, dry_run)
                .await
            {
                Err(UpdateError::Conflict) if pinned.is_none() => continue,
                Err(UpdateError::Conflict) if supplied => {
                    // Decided on what storage holds now, as if we had read it first:
                    // another version (the pinned one cannot come back) or none.
                    if may_create {
                        continue;
                    }
                    return Err(match self.current(ns, name).await? {
                        Some(_) => Status::conflict(&self.gr(), name, OPTIMISTIC_LOCK_MSG),
                        None => Status::not_found(&self.gr(), name),
                    }
                    .into());
                }
                Err(UpdateError::Conflict) => {
                    return Err(Status::conflict(&self.gr(), name, OPTIMISTIC_LOCK_MSG).into());
                }
                Err(UpdateError::Api(e)) => return Err(e),
                Ok(w) => return Ok(w),
            }
        }
    }

    /// Builds the new state from `body` and the current object and writes it with a
    /// compare-and-swap on `expected`.
    #[expect(
        clippy::too_many_arguments,
        reason = "one internal call site; a struct would only rename them"
    )]
    async fn apply_update(
        &self,
        ns: &str,
        name: &str,
        body: Map<String, Value>,
        cur: Current,
        expected: Revision,
        part: Part,
        owner: Owner<'_>,
        dry_run: bool,
    ) -> Result<Written, UpdateError> {
        let Current { obj: mut old, kv } = cur;
        let body_managed = match owner {
            Owner::Computed => body
                .get("metadata")
                .and_then(|m| m.get("managedFields"))
                .cloned(),
            Owner::Update(_) => None,
        };
        let old_meta = meta_of(self.res, &old)?;
        let has_status = self.res.subresource("status").is_some();
        let mut new = match part {
            Part::Main => {
                let mut new = body;
                if has_status {
                    match old.get("status") {
                        Some(s) => new.insert("status".into(), s.clone()),
                        None => new.remove("status"),
                    };
                }
                new
            }
            // The old object with the body's status: built from the body, which (from a
            // patch) mostly equals the old object, so only what differs is copied.
            Part::Status => with_parts_of(body, &old, |k| k != "status"),
            Part::Finalize => {
                let mut new = old.clone();
                let finalizers = body.get("spec").and_then(|s| s.get("finalizers")).cloned();
                if let Some(Value::Object(spec)) = new.get_mut("spec") {
                    match finalizers {
                        Some(f) => spec.insert("finalizers".into(), f),
                        None => spec.remove("finalizers"),
                    };
                }
                new
            }
        };
        let mut meta = if part == Part::Main {
            let mut m = meta_of(self.res, &new)?;
            self.check_namespace(&mut m, ns)?;
            m
        } else {
            old_meta.clone()
        };
        if meta.uid.as_deref().is_none_or(str::is_empty) {
            meta.uid.clone_from(&old_meta.uid);
        }
        meta.creation_timestamp
            .clone_from(&old_meta.creation_timestamp);
        meta.deletion_timestamp
            .clone_from(&old_meta.deletion_timestamp);
        meta.deletion_grace_period_seconds = old_meta.deletion_grace_period_seconds;
        meta.generation = old_meta.generation;
        meta.self_link = None;
        meta.resource_version = None;
        if meta.generate_name.is_none() {
            meta.generate_name.clone_from(&old_meta.generate_name);
        }
        set_meta(&mut new, &meta);
        if part == Part::Main {
            // Every decode defaults upstream, so an update is defaulted like a create.
            strategy::defaults(self.res, &mut new);
        }
        match owner {
            Owner::Update(manager) => {
                // The old managed fields move into the new object where unchanged.
                let old_managed = old
                    .get_mut("metadata")
                    .and_then(Value::as_object_mut)
                    .and_then(|m| m.remove("managedFields"));
                self.track_from(
                    &old,
                    old_managed,
                    &mut new,
                    manager,
                    part,
                    jiff::Timestamp::now(),
                );
            }
            Owner::Computed => {
                if let Some(Value::Object(m)) = new.get_mut("metadata") {
                    match body_managed {
                        Some(mf) => m.insert("managedFields".into(), mf),
                        None => m.remove("managedFields"),
                    };
                }
            }
        }
        if part == Part::Main {
            strategy::prepare_for_update(self.res, &mut new, &old);
            strategy::decode_check(self.res, &new).map_err(|why| decode_error(self.res, &why))?;
        }
        // (None of these comparisons looks at the old resourceVersion.)
        // Deployments also count annotation changes (rollbacks travel in them upstream).
        let annotations_changed = self.res.gvk.group == "apps"
            && self.res.gvk.kind == "Deployment"
            && new.get("metadata").and_then(|m| m.get("annotations"))
                != old.get("metadata").and_then(|m| m.get("annotations"));
        // Custom resources count every change outside metadata, so status too when it
        // has no subresource of its own (with one, status was restored above); only
        // the main resource's strategy counts at all upstream.
        let changed = if self.res.is_custom() {
            part == Part::Main
                && new
                    .iter()
                    .filter(|(k, _)| *k != "metadata")
                    .ne(old.iter().filter(|(k, _)| *k != "metadata"))
        } else {
            spec_changed(&new, &old)
        };
        if self.res.strategy.generation && (changed || annotations_changed) {
            let generation = old_meta.generation.unwrap_or(0) + 1;
            debug_assert!(
                part != Part::Status,
                "a status write changed the generation"
            );
            // Only the generation changes: the managed fields just tracked stay (upstream
            // bumps it in PrepareForUpdate, after the field manager ran).
            if let Some(Value::Object(m)) = new.get_mut("metadata") {
                m.insert("generation".into(), json!(generation));
            }
        }
        let meta = meta_of(self.res, &new)?;
        let mut errs =
            validation::object_meta(&meta, self.res.namespaced, strategy::name_rule(self.res));
        errs.extend(validation::object_meta_update(&meta, &old_meta));
        errs.extend(strategy::validate(self.res, &new));
        if !errs.is_empty() {
            return Err(self.invalid(name, &errs).into());
        }

        // The last finalizer of a deleting object is gone: the update completes the delete.
        if meta.deletion_timestamp.is_some()
            && meta.deletion_grace_period_seconds.unwrap_or(0) == 0
            && meta.finalizers.as_ref().is_none_or(Vec::is_empty)
            && !has_spec_finalizers(self.res, &new)
        {
            let bytes = self.encode(&new);
            if dry_run {
                return Ok(Written {
                    bytes: self.serve(&bytes, kv.mod_revision)?,
                    code: 200,
                });
            }
            let key = self.key(ns, name)?;
            return match self.server.storage.delete(&key, Some(expected)).await {
                Ok((_, rev)) => {
                    if self.is_service() {
                        self.server
                            .allocators
                            .release_service(&Value::Object(new.clone()));
                    }
                    Ok(Written {
                        bytes: self.serve(&bytes, rev)?,
                        code: 200,
                    })
                }
                Err(storage::Error::Conflict { .. } | storage::Error::KeyNotFound { .. }) => {
                    Err(UpdateError::Conflict)
                }
                Err(e) => Err(storage_status(&self.gr(), name, e).into()),
            };
        }

        let bytes = self.encode(&new);
        if bytes == kv.value {
            // A no-op update does not write, and keeps the resourceVersion.
            return Ok(Written {
                bytes: self.serve(&kv.value, kv.mod_revision)?,
                code: 200,
            });
        }
        if dry_run {
            return Ok(Written {
                bytes: self.serve(&bytes, kv.mod_revision)?,
                code: 200,
            });
        }
        let key = self.key(ns, name)?;
        self.hint(&key, &bytes, &new);
        match self
            .server
            .storage
            .update(&key, bytes.clone(), expected)
            .await
        {
            Ok(kv) => {
                self.observe_write(&new);
                Ok(Written {
                    bytes: self.serve(&bytes, kv.mod_revision)?,
                    code: 200,
                })
            }
            Err(storage::Error::Conflict { .. }) => Err(UpdateError::Conflict),
            Err(e) => Err(storage_status(&self.gr(), name, e).into()),
        }
    }
}

/// `base` with the top-level fields for which `from_old` holds set to `old`'s (or
/// removed where `old` has none). Fields that are equal already are kept, not copied:
/// when `base` came from `old` (a patch), this copies only what the patch changed.
fn with_parts_of(
    mut base: Map<String, Value>,
    old: &Map<String, Value>,
    from_old: impl Fn(&str) -> bool,
) -> Map<String, Value> {
    base.retain(|k, _| !from_old(k) || old.contains_key(k));
    for (k, v) in old {
        if from_old(k) && base.get(k) != Some(v) {
            base.insert(k.clone(), v.clone());
        }
    }
    base
}

/// Whether a namespace still has `spec.finalizers` (it is not removed before they
/// are gone).
fn has_spec_finalizers(res: &Resource, obj: &Map<String, Value>) -> bool {
    res.gvk.group.is_empty()
        && res.gvk.kind == "Namespace"
        && obj
            .get("spec")
            .and_then(|s| s.get("finalizers"))
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty())
}

/// Whether a namespace object is terminating.
pub(crate) fn is_terminating(ns: &Value) -> bool {
    ns.pointer("/metadata/deletionTimestamp").is_some()
        || ns.pointer("/status/phase").and_then(Value::as_str) == Some("Terminating")
}

/// Why an update attempt did not write.
#[derive(Debug)]
pub(crate) enum UpdateError {
    /// Lost a compare-and-swap: re-read and retry (if allowed).
    Conflict,
    /// Answer with this.
    Api(ApiError),
}

impl From<ApiError> for UpdateError {
    fn from(e: ApiError) -> Self {
        UpdateError::Api(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names_use_upstreams_alphabet_and_length() {
        let name = generate_name("web-");
        assert_eq!(name.len(), 9);
        assert!(name.starts_with("web-"));
        assert!(
            name[4..]
                .bytes()
                .all(|b| b"bcdfghjklmnpqrstvwxz2456789".contains(&b))
        );
        let long = generate_name(&"a".repeat(70));
        assert_eq!(long.len(), 63);
    }

    #[test]
    fn timestamps_have_second_precision() {
        let t: jiff::Timestamp = "2024-05-06T07:08:09.123456Z".parse().expect("time");
        assert_eq!(timestamp(t), "2024-05-06T07:08:09Z");
    }
}
