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
use crate::registry::store::{Part, Written};

/// How often a patch is re-applied after losing a race with another writer.
const MAX_PATCH_ATTEMPTS: usize = 64;

/// Most operations a JSON patch may have (upstream's limit).
const MAX_JSON_PATCH_OPS: usize = 10_000;

/// Patch media types accepted for kinds without a schema (strategic merge
/// needs the schema's merge keys, as upstream refuses it for custom resources).
const PATCH_TYPES: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
];

/// Patch media types accepted for kinds with a schema.
const PATCH_TYPES_BUILTIN: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
];

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
    let w = ctx
        .store()
        .create(ctx.namespace, decoded.obj, &opts)
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
    let w = ctx
        .store()
        .update(
            ctx.namespace,
            &ctx.info.name,
            decoded.obj,
            part,
            opts.is_dry_run(),
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
}

impl Patch {
    /// Parses a patch body by its content type.
    /// `schema` is the kind's schema: strategic merge patches need one.
    pub(super) fn parse(
        content_type: Option<&str>,
        body: &[u8],
        schema: Option<crate::schema::Cursor<'_>>,
    ) -> ApiResult<Patch> {
        let essence = content_type
            .and_then(|c| c.split(';').next())
            .map(|c| c.trim().to_ascii_lowercase())
            .unwrap_or_default();
        match essence.as_str() {
            "application/json-patch+json" => {
                let p: json_patch::Patch = serde_json::from_slice(body).map_err(|e| {
                    ApiError::from(Status::bad_request(format!("error decoding patch: {e}")))
                })?;
                if p.0.len() > MAX_JSON_PATCH_OPS {
                    return Err(Status::request_entity_too_large(&format!(
                        "The allowed maximum operations in a JSON patch is {MAX_JSON_PATCH_OPS}, got {}",
                        p.0.len()
                    ))
                    .into());
                }
                Ok(Patch::Json(p))
            }
            "application/merge-patch+json" => crate::schema::validate::decode(body)
                .map(|(v, dups)| Patch::Merge(v, dups))
                .map_err(|e| Status::bad_request(format!("error decoding patch: {e}")).into()),
            "application/strategic-merge-patch+json" if schema.is_some() => {
                crate::schema::validate::decode(body)
                    .map(|(v, dups)| Patch::Strategic(v, dups))
                    .map_err(|e| Status::bad_request(format!("error decoding patch: {e}")).into())
            }
            other => Err(Status::unsupported_media_type(
                other,
                if schema.is_some() {
                    PATCH_TYPES_BUILTIN
                } else {
                    PATCH_TYPES
                },
            )
            .into()),
        }
    }

    /// Duplicate keys in the patch body.
    pub(super) fn duplicates(&self) -> &[String] {
        match self {
            Patch::Merge(_, d) | Patch::Strategic(_, d) => d,
            Patch::Json(_) => &[],
        }
    }

    /// Applies the patch to a JSON document of the kind at `schema`.
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
                    return Err(Status::unsupported_media_type(
                        "application/strategic-merge-patch+json",
                        PATCH_TYPES,
                    )
                    .into());
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
        }
    }
}

/// Reads and parses a patch request's options and body.
pub(super) async fn patch_request(
    ctx: &Ctx<'_>,
    body: hyper::body::Incoming,
) -> ApiResult<(PatchOptions, Patch, Bytes)> {
    let opts = PatchOptions::from_query(ctx.query);
    let mut errs = opts.validate();
    if opts.force.is_some() {
        errs.push(FieldError::forbidden(
            "force",
            "may not be specified for non-apply patch",
        ));
    }
    if !errs.is_empty() {
        return Err(invalid_options("PatchOptions", &errs));
    }
    let bytes: Bytes = read_body(body).await?;
    let patch = Patch::parse(ctx.header(http::header::CONTENT_TYPE), &bytes, ctx.schema())?;
    Ok((opts, patch, bytes))
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
    let store = ctx.store();
    let name = &ctx.info.name;
    let mut attempts = 0;
    loop {
        let Some(cur) = store.current(ctx.namespace, name).await? else {
            return Err(Status::not_found(&ctx.res.group_resource(), name).into());
        };
        let current_rv = cur.kv.mod_revision.to_string();
        let mut doc = Value::Object(cur.obj);
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
            .update(ctx.namespace, name, patched, part, opts.is_dry_run())
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
