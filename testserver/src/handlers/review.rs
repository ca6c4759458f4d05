//! Create-only kinds that are never stored: the access and token reviews, and
//! `Binding`. Until authentication and authorization are configurable every request
//! is served as a cluster admin, and the reviews say so.

use kubeforge_client::core::Status;
use serde_json::{Value, json};

use super::respond::{self, Response};
use super::{Ctx, decode_object, read_body};
use crate::apiserver::ApiResult;
use crate::registry::store::{self, Owner, Part};

/// The identity every request has until authentication lands.
pub(crate) const ADMIN_USER: &str = "kubernetes-admin";

pub(super) async fn create(ctx: &Ctx<'_>, body: hyper::body::Incoming) -> ApiResult<Response> {
    // Reviews have no table form: a client accepting only a Table gets 406.
    super::negotiation::negotiate(
        ctx.header(http::header::ACCEPT),
        super::negotiation::Accepts {
            table: false,
            metadata: false,
        },
    )?;
    let bytes = read_body(body).await?;
    let decoded = decode_object(ctx.res, ctx.headers, &bytes)?;
    let mut obj = decoded.obj;
    ctx.check_fields(&mut obj, &decoded.duplicates, None, None)?;
    store::check_type(ctx.res, &mut obj)?;
    let status = match ctx.res.gvk.kind.as_str() {
        "SelfSubjectAccessReview" | "SubjectAccessReview" | "LocalSubjectAccessReview" => json!({
            "allowed": true,
            "reason": "every request is served as a cluster admin (no authorizer is configured)",
        }),
        "SelfSubjectRulesReview" => json!({
            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
            "incomplete": false,
        }),
        "SelfSubjectReview" => json!({
            "userInfo": {"username": ADMIN_USER, "groups": ["system:masters", "system:authenticated"]},
        }),
        "TokenReview" => json!({
            "authenticated": false,
            "error": "token authentication is not configured",
        }),
        "Binding" => return bind(ctx, &obj).await,
        _ => return Err(Status::method_not_supported(&ctx.res.group_resource(), "create").into()),
    };
    obj.insert("status".into(), status);
    Ok(respond::json(201, &Value::Object(obj)))
}

/// `Binding`: assigns a pod to a node (what a scheduler does).
async fn bind(ctx: &Ctx<'_>, binding: &serde_json::Map<String, Value>) -> ApiResult<Response> {
    let pod_name = binding
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let node = binding
        .get("target")
        .and_then(|t| t.get("name"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let Some(pods) = ctx.server.registry.lookup("", "v1", "pods") else {
        return Err(Status::not_found(&ctx.res.group_resource(), &pod_name).into());
    };
    let pods = store::Store::new(ctx.server, pods);
    let Some(cur) = pods.current(ctx.namespace, &pod_name).await? else {
        return Err(Status::not_found(
            &kubeforge_client::core::GroupResource::new("", "pods"),
            &pod_name,
        )
        .into());
    };
    let dry_run = kubeforge_client::core::CreateOptions::from_query(ctx.query).is_dry_run();
    if node.is_empty() {
        return Err(Status::invalid(
            &kubeforge_client::core::GroupKind::new("", "Binding"),
            &pod_name,
            &[kubeforge_client::core::FieldError::required(
                "target.name",
                "",
            )],
        )
        .into());
    }
    let pods_gr = kubeforge_client::core::GroupResource::new("", "pods");
    let mut pod = cur.obj;
    if pod
        .get("metadata")
        .and_then(|m| m.get("deletionTimestamp"))
        .is_some()
    {
        return Err(Status::conflict(
            &pods_gr,
            &pod_name,
            &format!("pod {pod_name} is being deleted, cannot be assigned to a host"),
        )
        .into());
    }
    let bound = pod
        .get("spec")
        .and_then(|s| s.get("nodeName"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !bound.is_empty() {
        return Err(Status::conflict(
            &pods_gr,
            &pod_name,
            &format!("pod {pod_name} is already assigned to node \"{bound}\""),
        )
        .into());
    }
    match pod.get_mut("spec") {
        Some(Value::Object(spec)) => {
            spec.insert("nodeName".into(), json!(node));
        }
        _ => {
            pod.insert("spec".into(), json!({"nodeName": node}));
        }
    }
    // Unconditional: a concurrent write to the pod is retried, not a conflict.
    if let Some(Value::Object(meta)) = pod.get_mut("metadata") {
        meta.remove("resourceVersion");
    }
    let manager = ctx.field_manager(None);
    pods.update(
        ctx.namespace,
        &pod_name,
        pod,
        Part::Main,
        dry_run,
        Owner::Update(&manager),
    )
    .await?;
    Ok(respond::json(201, &Status::success(Default::default())))
}
