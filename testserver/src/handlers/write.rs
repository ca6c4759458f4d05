//! POST (create), PUT (update) and PATCH (JSON patch and JSON merge patch).

use bytes::Bytes;
use kubeforge_client::core::{
    CreateOptions, FieldError, GroupKind, PatchOptions, Status, UpdateOptions,
};
use serde_json::{Map, Value};

use super::negotiation::{Accepts, Output, negotiate};
use super::respond::{self, Response};
use super::{Ctx, decode_object, read_body, table};
use crate::apiserver::{ApiError, ApiResult};
use crate::registry::store::{Current, Owner, Part, Written};

/// How often a patch is re-applied after losing a race with another writer.
const MAX_PATCH_ATTEMPTS: usize = 64;

/// Most operations a JSON patch may have (upstream's limit).
const MAX_JSON_PATCH_OPS: usize = 10_000;

const JSON_PATCH: &str = "application/json-patch+json";
const MERGE_PATCH: &str = "application/merge-patch+json";
const STRATEGIC_PATCH: &str = "application/strategic-merge-patch+json";
const APPLY_PATCH: &str = "application/apply-patch+yaml";

/// Patch media types accepted for kinds without a schema (strategic merge needs the
/// schema's merge keys, as upstream refuses it for custom resources).
const PATCH_TYPES: &[&str] = &[JSON_PATCH, MERGE_PATCH, APPLY_PATCH];

/// Patch media types accepted for kinds with a schema, in upstream's order.
const PATCH_TYPES_BUILTIN: &[&str] = &[JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, APPLY_PATCH];

fn invalid_options(kind: &str, errs: &[FieldError]) -> ApiError {
    Status::invalid(&GroupKind::new("meta.k8s.io", kind), "", errs).into()
}

fn write_output(ctx: &Ctx<'_>) -> ApiResult<Output> {
    negotiate(
        ctx.header(http::header::ACCEPT),
        Accepts {
            table: false,
            metadata: false,
        },
    )
}

/// Answers a write with the written object.
pub(super) fn written(output: Output, w: Written) -> ApiResult<Response> {
    Ok(match output {
        Output::Yaml => respond::bytes(w.code, "application/yaml", table::yaml(&w.bytes)?),
        _ => respond::bytes(w.code, "application/json", w.bytes),
    })
}

pub(super) async fn create(ctx: &Ctx<'_>, body: hyper::body::Incoming) -> ApiResult<Response> {
    let opts = CreateOptions::from_query(ctx.query);
    let errs = opts.validate();
    if !errs.is_empty() {
        return Err(invalid_options("CreateOptions", &errs));
    }
    let output = write_output(ctx)?;
    let bytes = read_body(body).await?;
    let mut decoded = decode_object(ctx.res, ctx.headers, &bytes)?;
    ctx.check_fields(
        &mut decoded.obj,
        &decoded.duplicates,
        opts.field_validation.as_deref(),
        None,
    )?;
    let manager = ctx.field_manager(opts.field_manager.as_deref());
    let w = ctx
        .store()
        .create(ctx.namespace, decoded.obj, &opts, Owner::Update(&manager))
        .await?;
    written(output, w)
}

pub(super) async fn update(
    ctx: &Ctx<'_>,
    body: hyper::body::Incoming,
    part: Part,
) -> ApiResult<Response> {
    let opts = UpdateOptions::from_query(ctx.query);
    let errs = opts.validate();
    if !errs.is_empty() {
        return Err(invalid_options("UpdateOptions", &errs));
    }
    let output = write_output(ctx)?;
    let bytes = read_body(body).await?;
    let mut decoded = decode_object(ctx.res, ctx.headers, &bytes)?;
    ctx.check_fields(
        &mut decoded.obj,
        &decoded.duplicates,
        opts.field_validation.as_deref(),
        None,
    )?;
    let manager = ctx.field_manager(opts.field_manager.as_deref());
    let w = ctx
        .store()
        .update(
            ctx.namespace,
            &ctx.info.name,
            decoded.obj,
            part,
            opts.is_dry_run(),
            Owner::Update(&manager),
        )
        .await?;
    written(output, w)
}

/// A decoded patch.
#[derive(Debug)]
pub(super) enum Patch {
    Json(json_patch::Patch),
    /// A merge patch and the duplicate keys in it.
    Merge(Value, Vec<String>),
    /// A strategic merge patch (kinds with a schema) and the duplicate keys in it.
    Strategic(Value, Vec<String>),
    /// A server-side apply configuration, and what a strict YAML decoding found wrong
    /// with it (duplicate keys).
    Apply(Value, Option<String>),
}

/// The media type of a patch request, checked against what the kind accepts.
fn patch_type(content_type: Option<&str>, has_schema: bool) -> ApiResult<&'static str> {
    let essence = content_type
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let accepted = if has_schema {
        PATCH_TYPES_BUILTIN
    } else {
        PATCH_TYPES
    };
    accepted
        .iter()
        .find(|t| **t == essence)
        .copied()
        .ok_or_else(|| Status::unsupported_media_type(&essence, accepted).into())
}

/// Decodes an applied configuration: YAML, or JSON (which kubectl sends). Duplicate
/// keys do not fail the decoding; they are reported for `fieldValidation` to judge.
fn decode_apply(body: &[u8]) -> ApiResult<(Value, Option<String>)> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        let (v, dups) = crate::schema::validate::decode(body)
            .map_err(|e| ApiError::from(Status::bad_request(e.to_string())))?;
        // Upstream quotes the YAML decoder's line-numbered message; we name the fields.
        let strict = (!dups.is_empty()).then(|| {
            let keys: Vec<String> = dups
                .iter()
                .map(|d| format!("key {d:?} already set in map"))
                .collect();
            format!("error strict decoding YAML: {}", keys.join(", "))
        });
        return Ok((v, strict));
    }
    let text = std::str::from_utf8(body)
        .map_err(|e| ApiError::from(Status::bad_request(e.to_string())))?;
    match serde_saphyr::from_str::<Value>(text) {
        Ok(v) => Ok((v, None)),
        Err(strict) => {
            let lenient = serde_saphyr::options! {
                duplicate_keys: serde_saphyr::DuplicateKeyPolicy::LastWins,
            };
            match serde_saphyr::from_str_with_options::<Value>(text, lenient) {
                Ok(v) => Ok((v, Some(format!("error strict decoding YAML: {strict}")))),
                Err(_) => Err(Status::bad_request(strict.to_string()).into()),
            }
        }
    }
}

impl Patch {
    /// Parses a patch body of media type `patch_type` (from [`patch_type`]).
    fn parse(patch_type: &str, body: &[u8]) -> ApiResult<Patch> {
        let decode_error = |e: &dyn std::fmt::Display| {
            ApiError::from(Status::bad_request(format!("error decoding patch: {e}")))
        };
        match patch_type {
            JSON_PATCH => {
                let p: json_patch::Patch =
                    serde_json::from_slice(body).map_err(|e| decode_error(&e))?;
                if p.0.len() > MAX_JSON_PATCH_OPS {
                    return Err(Status::request_entity_too_large(&format!(
                        "The allowed maximum operations in a JSON patch is {MAX_JSON_PATCH_OPS}, got {}",
                        p.0.len()
                    ))
                    .into());
                }
                Ok(Patch::Json(p))
            }
            MERGE_PATCH => crate::schema::validate::decode(body)
                .map(|(v, dups)| Patch::Merge(v, dups))
                .map_err(|e| decode_error(&e)),
            STRATEGIC_PATCH => crate::schema::validate::decode(body)
                .map(|(v, dups)| Patch::Strategic(v, dups))
                .map_err(|e| decode_error(&e)),
            _ => decode_apply(body).map(|(v, strict)| Patch::Apply(v, strict)),
        }
    }

    /// Duplicate keys in the patch body.
    pub(super) fn duplicates(&self) -> &[String] {
        match self {
            Patch::Merge(_, d) | Patch::Strategic(_, d) => d,
            Patch::Json(_) | Patch::Apply(..) => &[],
        }
    }

    /// Applies a JSON, merge or strategic merge patch to a JSON document of the kind
    /// at `schema` (an apply patch goes through [`apply`] instead).
    pub(super) fn apply(
        &self,
        doc: &mut Value,
        schema: Option<crate::schema::Cursor<'_>>,
    ) -> ApiResult<()> {
        match self {
            Patch::Json(p) => json_patch::patch(doc, p).map_err(|e| {
                let mut s = Status::failure(
                    422,
                    kubeforge_client::core::StatusReason::Invalid,
                    e.to_string(),
                );
                s.details = None;
                ApiError::from(s)
            }),
            Patch::Merge(m, _) => {
                json_patch::merge(doc, m);
                Ok(())
            }
            Patch::Strategic(p, _) => {
                let Some(schema) = schema else {
                    return Err(Status::unsupported_media_type(STRATEGIC_PATCH, PATCH_TYPES).into());
                };
                match crate::patch::strategic::apply(schema, doc, p) {
                    Ok(merged) => {
                        *doc = merged;
                        Ok(())
                    }
                    Err(e) => {
                        let code = e.status_code();
                        let reason = match code {
                            400 => kubeforge_client::core::StatusReason::BadRequest,
                            422 => kubeforge_client::core::StatusReason::Invalid,
                            // Upstream passes these through unconverted: a 500 without a reason.
                            _ => kubeforge_client::core::StatusReason::Unknown,
                        };
                        Err(Status::failure(code, reason, e.to_string()).into())
                    }
                }
            }
            Patch::Apply(..) => Err(Status::internal_error(
                "an apply patch is merged by server-side apply, not patched",
            )
            .into()),
        }
    }
}

/// Reads and parses a patch request's options and body.
pub(super) async fn patch_request(
    ctx: &Ctx<'_>,
    body: hyper::body::Incoming,
) -> ApiResult<(PatchOptions, Patch, Bytes)> {
    // Strategic merge needs patch strategies and merge keys, which only built-in
    // schemas have: custom kinds refuse it (415) as upstream does for CRs.
    let ty = patch_type(
        ctx.header(http::header::CONTENT_TYPE),
        ctx.schema().is_some() && !ctx.res.is_custom(),
    )?;
    let opts = PatchOptions::from_query(ctx.query);
    let mut errs = opts.validate();
    if ty == APPLY_PATCH {
        if opts.field_manager.as_deref().is_none_or(str::is_empty) {
            errs.push(FieldError::required(
                "fieldManager",
                "is required for apply patch",
            ));
        }
    } else if opts.force.is_some() {
        errs.push(FieldError::forbidden(
            "force",
            "may not be specified for non-apply patch",
        ));
    }
    if !errs.is_empty() {
        return Err(invalid_options("PatchOptions", &errs));
    }
    let bytes: Bytes = read_body(body).await?;
    let patch = Patch::parse(ty, &bytes)?;
    Ok((opts, patch, bytes))
}

/// The answer to a failed server-side apply, as upstream words it.
pub(super) fn apply_error(e: crate::apply::ApplyError) -> ApiError {
    use crate::apply::ApplyError;
    use kubeforge_client::core::{CauseType, StatusCause, StatusReason};
    match e {
        ApplyError::Conflicts(conflicts) => {
            let mut s = Status::failure(
                409,
                StatusReason::Conflict,
                crate::apply::conflict_message(&conflicts),
            );
            for c in &conflicts {
                s = s.with_cause(StatusCause {
                    cause_type: CauseType::FIELD_MANAGER_CONFLICT.to_owned(),
                    message: crate::apply::cause_message(c),
                    field: c.path.clone(),
                });
            }
            s.into()
        }
        ApplyError::BadRequest(m) => Status::bad_request(m).into(),
        // Upstream returns the error unconverted: a 500 without a reason.
        ApplyError::Invalid(m) => Status::failure(500, StatusReason::Unknown, m).into(),
    }
}

/// Judges a strict-decoding problem of an applied configuration by `fieldValidation`
/// (after the apply succeeded, as upstream): Strict fails with 400, Warn warns.
pub(super) fn check_apply_decoding(
    ctx: &Ctx<'_>,
    problem: Option<&str>,
    directive: Option<&str>,
) -> ApiResult<()> {
    use kubeforge_client::core::FieldValidation;
    let Some(problem) = problem else {
        return Ok(());
    };
    match FieldValidation::parse(directive.unwrap_or_default()) {
        Some(FieldValidation::Strict) => Err(Status::bad_request(problem).into()),
        Some(FieldValidation::Ignore) => Ok(()),
        _ => {
            ctx.warn(problem.to_owned());
            Ok(())
        }
    }
}

fn as_object(ctx: &Ctx<'_>, v: Value) -> ApiResult<Map<String, Value>> {
    match v {
        Value::Object(m) => Ok(m),
        _ => Err(crate::registry::store::decode_error(
            ctx.res,
            "the patched object is not a JSON object",
        )),
    }
}

pub(super) async fn patch(
    ctx: &Ctx<'_>,
    body: hyper::body::Incoming,
    part: Part,
) -> ApiResult<Response> {
    let output = write_output(ctx)?;
    let (opts, patch, raw) = patch_request(ctx, body).await?;
    if let Patch::Apply(config, problem) = &patch {
        let w = server_side_apply(ctx, &opts, config, problem.as_deref(), part).await?;
        return written(output, w);
    }
    let manager = ctx.field_manager(opts.field_manager.as_deref());
    let store = ctx.store();
    let name = &ctx.info.name;
    let mut attempts = 0;
    loop {
        let Some(cur) = store.current(ctx.namespace, name).await? else {
            return Err(Status::not_found(&ctx.res.group_resource(), name).into());
        };
        let current_rv = cur.kv.mod_revision.to_string();
        // Patched on a copy: the store compares the result with the object as read.
        let mut doc = Value::Object(cur.obj.clone());
        patch.apply(&mut doc, ctx.schema())?;
        let mut patched = as_object(ctx, doc)?;
        // The patch pins a resourceVersion when it leaves one other than the one we read;
        // then a conflict is the client's to resolve, not ours to retry.
        let pinned = patched
            .get("metadata")
            .and_then(|m| m.get("resourceVersion"))
            .and_then(Value::as_str)
            != Some(current_rv.as_str());
        // Warnings of an earlier attempt would repeat.
        ctx.warnings.lock().clear();
        ctx.check_fields(
            &mut patched,
            patch.duplicates(),
            opts.field_validation.as_deref(),
            Some(&raw),
        )?;
        attempts += 1;
        match store
            .update_from(
                ctx.namespace,
                name,
                patched,
                part,
                opts.is_dry_run(),
                Owner::Update(&manager),
                Some(cur),
            )
            .await
        {
            Err(e) if e.0.is_conflict() && !pinned && attempts < MAX_PATCH_ATTEMPTS => {
                // Someone wrote between our read and our write: patch the new state.
                tokio::task::yield_now().await;
                continue;
            }
            Err(e) => return Err(e),
            Ok(w) => return written(output, w),
        }
    }
}

/// A server-side apply of `config` through `part`: merged into the live object (or
/// creating it, 201) with field ownership, then stored like an update.
async fn server_side_apply(
    ctx: &Ctx<'_>,
    opts: &PatchOptions,
    config: &Value,
    problem: Option<&str>,
    part: Part,
) -> ApiResult<Written> {
    let Some(schema) = ctx.schema() else {
        return Err(Status::unsupported_media_type(APPLY_PATCH, PATCH_TYPES).into());
    };
    let store = ctx.store();
    let name = &ctx.info.name;
    let manager = opts.field_manager.as_deref().unwrap_or_default();
    let api_version = ctx.res.api_version();
    let reset = store.reset_fields(part);
    // A resourceVersion in the configuration is the client's precondition; otherwise
    // we pin the version we merged into and retry when someone wrote meanwhile.
    let pinned = config
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .is_some_and(|rv| !rv.is_empty());
    let mut attempts = 0;
    loop {
        attempts += 1;
        let now = crate::registry::store::timestamp(jiff::Timestamp::now());
        let req = crate::apply::Request {
            manager,
            api_version: &api_version,
            kind: &ctx.res.gvk.kind,
            subresource: part.subresource(),
            now: &now,
            reset_fields: reset.as_ref(),
        };
        let cur = store.current(ctx.namespace, name).await?;
        let live = cur.map(|c| (Value::Object(c.obj), c.kv));
        let merged = crate::apply::apply(
            schema,
            live.as_ref().map(|(obj, _)| obj),
            config,
            opts.force.unwrap_or(false),
            &req,
        )
        .map_err(apply_error)?;
        ctx.warnings.lock().clear();
        check_apply_decoding(ctx, problem, opts.field_validation.as_deref())?;
        let mut obj = as_object(ctx, merged)?;
        let retry = attempts < MAX_PATCH_ATTEMPTS;
        match live {
            None => {
                if part != Part::Main {
                    return Err(Status::not_found(&ctx.res.group_resource(), name).into());
                }
                let meta = obj
                    .entry("metadata")
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(meta) = meta {
                    match meta.get("name").and_then(Value::as_str) {
                        Some(n) if n != name => {
                            return Err(Status::bad_request(format!(
                                "the name of the object ({n}) does not match the name on the URL ({name})"
                            ))
                            .into());
                        }
                        Some(_) => {}
                        None => {
                            meta.insert("name".into(), Value::String(name.clone()));
                        }
                    }
                }
                let create = CreateOptions {
                    dry_run: opts.dry_run.clone(),
                    field_manager: Some(manager.to_owned()),
                    ..CreateOptions::default()
                };
                match store
                    .create(ctx.namespace, obj, &create, Owner::Computed)
                    .await
                {
                    // Someone created it meanwhile: apply to theirs.
                    Err(e) if e.0.is_already_exists() && retry => continue,
                    other => return other,
                }
            }
            Some((live, kv)) => {
                if !pinned && let Some(Value::Object(meta)) = obj.get_mut("metadata") {
                    meta.insert(
                        "resourceVersion".into(),
                        Value::String(kv.mod_revision.to_string()),
                    );
                }
                // The store starts from the object we merged into rather than reading it
                // again.
                let read = match live {
                    Value::Object(obj) => Some(Current { obj, kv }),
                    _ => None,
                };
                match store
                    .update_from(
                        ctx.namespace,
                        name,
                        obj,
                        part,
                        opts.is_dry_run(),
                        Owner::Computed,
                        read,
                    )
                    .await
                {
                    Err(e) if e.0.is_conflict() && !pinned && retry => {
                        tokio::task::yield_now().await;
                        continue;
                    }
                    other => return other,
                }
            }
        }
    }
}
