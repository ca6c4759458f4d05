//! The `scale` subresource: an `autoscaling/v1 Scale` view of a workload's replica
//! count (deployments, replicasets, statefulsets, replicationcontrollers).

use kubeforge_client::core::{FieldError, GroupKind, Status};
use serde_json::{Map, Value, json};

use super::respond::Response;
use super::write::{Patch, patch_request};
use super::{Ctx, decode_object, read_body};
use crate::apiserver::{ApiError, ApiResult};
use crate::registry::Resource;
use crate::registry::store::{Owner, Part};

/// Formats a `metav1.LabelSelector` (or a ReplicationController's plain map) as a
/// selector string, as `status.selector` of a Scale carries it.
fn selector_string(selector: Option<&Value>) -> String {
    let Some(Value::Object(sel)) = selector else {
        return String::new();
    };
    let mut parts = Vec::new();
    let (labels, exprs) = if sel.contains_key("matchLabels") || sel.contains_key("matchExpressions")
    {
        (
            sel.get("matchLabels").and_then(Value::as_object),
            sel.get("matchExpressions").and_then(Value::as_array),
        )
    } else {
        (Some(sel), None)
    };
    for (k, v) in labels.into_iter().flatten() {
        parts.push(format!("{k}={}", v.as_str().unwrap_or_default()));
    }
    for e in exprs.into_iter().flatten() {
        let key = e.get("key").and_then(Value::as_str).unwrap_or_default();
        let mut values: Vec<&str> = e
            .get("values")
            .and_then(Value::as_array)
            .map(|v| v.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        values.sort_unstable();
        match e
            .get("operator")
            .and_then(Value::as_str)
            .unwrap_or_default()
        {
            "In" => parts.push(format!("{key} in ({})", values.join(","))),
            "NotIn" => parts.push(format!("{key} notin ({})", values.join(","))),
            "Exists" => parts.push(key.to_owned()),
            "DoesNotExist" => parts.push(format!("!{key}")),
            _ => {}
        }
    }
    parts.join(",")
}

/// The `autoscaling/v1 Scale` view of a workload, with the managers of the parent's
/// replica count as its `managedFields`.
fn scale_of(res: &Resource, obj: &Map<String, Value>) -> Value {
    let meta = obj.get("metadata").cloned().unwrap_or_else(|| json!({}));
    let pick = |k: &str| meta.get(k).cloned().unwrap_or(Value::Null);
    let mut m = Map::new();
    for k in [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "creationTimestamp",
    ] {
        let v = pick(k);
        if !v.is_null() {
            m.insert(k.to_owned(), v);
        }
    }
    let replicas = replicas_path();
    let api_version = res.api_version();
    match crate::apply::scale_to_subresource(
        meta.get("managedFields"),
        &[(api_version.as_str(), Some(&replicas))],
    ) {
        Ok(Some(managed)) => {
            m.insert("managedFields".into(), managed);
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "managed fields of a scale not derived"),
    }
    let spec = obj.get("spec");
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": m,
        "spec": {"replicas": spec.and_then(|s| s.get("replicas")).cloned().unwrap_or(json!(0))},
        "status": {
            "replicas": obj.get("status").and_then(|s| s.get("replicas")).cloned().unwrap_or(json!(0)),
            "selector": selector_string(spec.and_then(|s| s.get("selector"))),
        },
    })
}

/// Where every workload with a scale keeps its replica count.
fn replicas_path() -> crate::apply::Path {
    crate::apply::Path::fields(&["spec", "replicas"])
}

pub(super) async fn get(ctx: &Ctx<'_>) -> ApiResult<Response> {
    let Some(cur) = ctx.store().current(ctx.namespace, &ctx.info.name).await? else {
        return Err(Status::not_found(&ctx.res.group_resource(), &ctx.info.name).into());
    };
    Ok(super::respond::json(200, &scale_of(ctx.res, &cur.obj)))
}

/// What a write to `/scale` carries.
enum Input<'a> {
    /// A whole Scale (PUT).
    Scale(Map<String, Value>),
    /// A patch of the current Scale.
    Patch(&'a Patch),
}

/// How many times a scale write is redone after losing a race with another writer.
const MAX_ATTEMPTS: usize = 64;

/// Writes a Scale's `spec.replicas` into the object, with the ownership of the
/// replica count moved as the write through `/scale` says; pinned to the Scale's
/// resourceVersion when the client gave one.
async fn write_scale(
    ctx: &Ctx<'_>,
    input: &Input<'_>,
    opts: &ScaleOptions<'_>,
) -> ApiResult<Response> {
    let store = ctx.store();
    let name = &ctx.info.name;
    let scale_schema = crate::schema::builtin::schema().root("autoscaling", "v1", "Scale");
    let api_version = ctx.res.api_version();
    let replicas_path = replicas_path();
    let mappings = [(api_version.as_str(), Some(&replicas_path))];
    let mut attempts = 0;
    loop {
        attempts += 1;
        let Some(cur) = store.current(ctx.namespace, name).await? else {
            return Err(Status::not_found(&ctx.res.group_resource(), name).into());
        };
        let old_scale = scale_of(ctx.res, &cur.obj);
        let current_rv = old_scale["metadata"]["resourceVersion"].clone();
        let now = crate::registry::store::timestamp(jiff::Timestamp::now());
        let req = crate::apply::Request {
            manager: opts.manager,
            api_version: "autoscaling/v1",
            kind: "Scale",
            subresource: "scale",
            now: &now,
            reset_fields: None,
        };
        let mut scale = match input {
            Input::Scale(s) => Value::Object(s.clone()),
            Input::Patch(Patch::Apply(config, problem)) => {
                let Some(schema) = scale_schema else {
                    return Err(Status::internal_error("no schema for Scale").into());
                };
                let applied =
                    crate::apply::apply(schema, Some(&old_scale), config, opts.force, &req)
                        .map_err(super::write::apply_error)?;
                ctx.warnings.lock().clear();
                super::write::check_apply_decoding(ctx, problem.as_deref(), opts.field_validation)?;
                applied
            }
            Input::Patch(p) => {
                let mut doc = old_scale.clone();
                p.apply(&mut doc, scale_schema)?;
                doc
            }
        };
        // The client pins a resourceVersion by leaving one other than the one we read
        // (for a PUT: by sending one at all).
        let sent_rv = scale
            .pointer("/metadata/resourceVersion")
            .filter(|v| v.as_str().is_some_and(|s| !s.is_empty()))
            .cloned();
        let pinned = match input {
            Input::Scale(_) => sent_rv.clone(),
            Input::Patch(_) => sent_rv.clone().filter(|rv| *rv != current_rv),
        };
        if !matches!(input, Input::Patch(Patch::Apply(..)))
            && let Some(schema) = scale_schema
            && let Err(e) = crate::apply::update(schema, Some(&old_scale), &mut scale, &req)
        {
            tracing::warn!(error = %e, "managed fields of a scale not updated");
        }
        let Value::Object(scale) = scale else {
            return Err(Status::bad_request("the Scale is not an object").into());
        };
        let replicas = scale
            .get("spec")
            .and_then(|s| s.get("replicas"))
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if replicas < 0 {
            return Err(Status::invalid(
                &GroupKind::new("autoscaling", "Scale"),
                name,
                &[FieldError::invalid(
                    "spec.replicas",
                    replicas,
                    "must be greater than or equal to 0",
                )],
            )
            .into());
        }
        let mut obj = cur.obj;
        let parent_managed = crate::apply::scale_to_parent(
            obj.get("metadata").and_then(|m| m.get("managedFields")),
            scale.get("metadata").and_then(|m| m.get("managedFields")),
            &api_version,
            &mappings,
        )
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "managed fields of a scale not mapped to its parent");
            None
        });
        if let Some(Value::Object(meta)) = obj.get_mut("metadata") {
            let rv = pinned.clone().unwrap_or_else(|| current_rv.clone());
            meta.insert("resourceVersion".into(), rv);
            match parent_managed {
                Some(m) => meta.insert("managedFields".into(), m),
                None => meta.remove("managedFields"),
            };
        }
        if let Some(Value::Object(spec)) = obj.get_mut("spec") {
            spec.insert("replicas".into(), json!(replicas));
        } else {
            obj.insert("spec".into(), json!({"replicas": replicas}));
        }
        match store
            .update(
                ctx.namespace,
                name,
                obj,
                Part::Main,
                opts.dry_run,
                Owner::Computed,
            )
            .await
        {
            Err(e) if e.0.is_conflict() && pinned.is_none() && attempts < MAX_ATTEMPTS => {
                tokio::task::yield_now().await;
            }
            Err(e) => return Err(e),
            Ok(w) => {
                let updated: Map<String, Value> = serde_json::from_slice(&w.bytes)
                    .map_err(|e| ApiError::from(Status::internal_error(&e.to_string())))?;
                return Ok(super::respond::json(200, &scale_of(ctx.res, &updated)));
            }
        }
    }
}

/// The options of a write to `/scale`.
struct ScaleOptions<'a> {
    manager: &'a str,
    dry_run: bool,
    force: bool,
    field_validation: Option<&'a str>,
}

pub(super) async fn update(ctx: &Ctx<'_>, body: hyper::body::Incoming) -> ApiResult<Response> {
    let opts = kubeforge_client::core::UpdateOptions::from_query(ctx.query);
    let bytes = read_body(body).await?;
    let scale = decode_object(ctx.res, ctx.headers, &bytes)?.obj;
    let manager = ctx.field_manager(opts.field_manager.as_deref());
    let options = ScaleOptions {
        manager: &manager,
        dry_run: opts.is_dry_run(),
        force: false,
        field_validation: opts.field_validation.as_deref(),
    };
    write_scale(ctx, &Input::Scale(scale), &options).await
}

pub(super) async fn patch(ctx: &Ctx<'_>, body: hyper::body::Incoming) -> ApiResult<Response> {
    let (opts, patch, _) = patch_request(ctx, body).await?;
    let manager = match &patch {
        Patch::Apply(..) => opts.field_manager.clone().unwrap_or_default(),
        _ => ctx.field_manager(opts.field_manager.as_deref()),
    };
    let options = ScaleOptions {
        manager: &manager,
        dry_run: opts.is_dry_run(),
        force: opts.force.unwrap_or(false),
        field_validation: opts.field_validation.as_deref(),
    };
    write_scale(ctx, &Input::Patch(&patch), &options).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_format_like_label_selectors() {
        let sel = json!({"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]}]});
        assert_eq!(selector_string(Some(&sel)), "app=web,tier in (a,b)");
        assert_eq!(selector_string(Some(&json!({"app": "rc"}))), "app=rc");
        assert_eq!(selector_string(None), "");
    }
}
