//! The `scale` subresource: an `autoscaling/v1 Scale` view of a workload's replica
//! count (deployments, replicasets, statefulsets, replicationcontrollers).

use kubeforge_client::core::{FieldError, GroupKind, Status};
use serde_json::{Map, Value, json};

use super::respond::Response;
use super::write::patch_request;
use super::{Ctx, decode_object, read_body};
use crate::apiserver::{ApiError, ApiResult};
use crate::registry::store::Part;

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

fn scale_of(obj: &Map<String, Value>) -> Value {
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

pub(super) async fn get(ctx: &Ctx<'_>) -> ApiResult<Response> {
    let Some(cur) = ctx.store().current(ctx.namespace, &ctx.info.name).await? else {
        return Err(Status::not_found(&ctx.res.group_resource(), &ctx.info.name).into());
    };
    Ok(super::respond::json(200, &scale_of(&cur.obj)))
}

/// Writes `scale.spec.replicas` into the object, pinned to the Scale's
/// resourceVersion when it carries one.
async fn apply_scale(
    ctx: &Ctx<'_>,
    scale: &Map<String, Value>,
    dry_run: bool,
) -> ApiResult<Response> {
    let replicas = scale
        .get("spec")
        .and_then(|s| s.get("replicas"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if replicas < 0 {
        return Err(Status::invalid(
            &GroupKind::new("autoscaling", "Scale"),
            &ctx.info.name,
            &[FieldError::invalid(
                "spec.replicas",
                replicas,
                "must be greater than or equal to 0",
            )],
        )
        .into());
    }
    let pinned = scale
        .get("metadata")
        .and_then(|m| m.get("resourceVersion"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let store = ctx.store();
    let Some(cur) = store.current(ctx.namespace, &ctx.info.name).await? else {
        return Err(Status::not_found(&ctx.res.group_resource(), &ctx.info.name).into());
    };
    let mut obj = cur.obj;
    if let Some(Value::Object(meta)) = obj.get_mut("metadata") {
        match &pinned {
            Some(rv) => meta.insert("resourceVersion".into(), json!(rv)),
            None => meta.remove("resourceVersion"),
        };
    }
    if let Some(Value::Object(spec)) = obj.get_mut("spec") {
        spec.insert("replicas".into(), json!(replicas));
    } else {
        obj.insert("spec".into(), json!({"replicas": replicas}));
    }
    let w = store
        .update(ctx.namespace, &ctx.info.name, obj, Part::Main, dry_run)
        .await?;
    let updated: Map<String, Value> = serde_json::from_slice(&w.bytes)
        .map_err(|e| ApiError::from(Status::internal_error(&e.to_string())))?;
    Ok(super::respond::json(200, &scale_of(&updated)))
}

pub(super) async fn update(ctx: &Ctx<'_>, body: hyper::body::Incoming) -> ApiResult<Response> {
    let bytes = read_body(body).await?;
    let scale = decode_object(ctx.res, ctx.headers, &bytes)?.obj;
    let dry_run = kubeforge_client::core::UpdateOptions::from_query(ctx.query).is_dry_run();
    apply_scale(ctx, &scale, dry_run).await
}

pub(super) async fn patch(ctx: &Ctx<'_>, body: hyper::body::Incoming) -> ApiResult<Response> {
    let (opts, patch, _) = patch_request(ctx, body).await?;
    let Some(cur) = ctx.store().current(ctx.namespace, &ctx.info.name).await? else {
        return Err(Status::not_found(&ctx.res.group_resource(), &ctx.info.name).into());
    };
    let mut doc = scale_of(&cur.obj);
    let current_rv = doc["metadata"]["resourceVersion"].clone();
    let scale_schema = crate::schema::builtin::schema().root("autoscaling", "v1", "Scale");
    patch.apply(&mut doc, scale_schema)?;
    let Value::Object(mut scale) = doc else {
        return Err(Status::bad_request("the patched Scale is not an object").into());
    };
    // A patch that leaves the resourceVersion we read does not pin it.
    let pinned = scale.get("metadata").and_then(|m| m.get("resourceVersion")) != Some(&current_rv);
    if !pinned && let Some(Value::Object(m)) = scale.get_mut("metadata") {
        m.remove("resourceVersion");
    }
    apply_scale(ctx, &scale, opts.is_dry_run()).await
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
