//! DELETE of one object and of a collection.

use bytes::Bytes;
use kubeforge_client::core::{DeleteOptions, Status};

use super::list::parse_options;
use super::respond::{self, Response};
use super::{Ctx, read_body};
use crate::apiserver::{ApiError, ApiResult};

/// DeleteOptions come from the body when there is one, else from the query.
fn options(ctx: &Ctx<'_>, body: &Bytes) -> ApiResult<DeleteOptions> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return DeleteOptions::from_query(ctx.query)
            .map_err(|e| Status::bad_request(e.to_string()).into());
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError::from(Status::bad_request(format!(
            "DeleteOptions in version \"v1\" cannot be handled as a DeleteOptions: {e}"
        )))
    })
}

pub(super) async fn delete(ctx: &Ctx<'_>, body: hyper::body::Incoming) -> ApiResult<Response> {
    let body = read_body(body).await?;
    let opts = options(ctx, &body)?;
    let d = ctx
        .store()
        .delete(ctx.namespace, &ctx.info.name, &opts)
        .await?;
    // 202 only when the object is not gone yet and the client explicitly asked not to
    // orphan (upstream's rule).
    let code = if !d.gone && opts.orphan_dependents == Some(false) {
        202
    } else {
        d.written.code
    };
    Ok(respond::bytes(code, "application/json", d.written.bytes))
}

pub(super) async fn delete_collection(
    ctx: &Ctx<'_>,
    body: hyper::body::Incoming,
) -> ApiResult<Response> {
    let (_, filter) = parse_options(ctx)?;
    let body = read_body(body).await?;
    let opts = options(ctx, &body)?;
    let cache = ctx.cache()?;
    cache
        .wait_fresh()
        .await
        .map_err(|e| super::get::cache_error(ctx, e))?;
    let prefix = ctx.res.namespace_prefix(ctx.namespace).unwrap_or_default();
    let snapshot = cache.snapshot();
    let mut items = Vec::new();
    for (_, obj) in snapshot
        .items
        .range(prefix.clone()..)
        .take_while(|(k, _)| k.starts_with(&prefix))
        .filter(|(_, o)| filter.matches(o))
    {
        items.push((obj.name.clone(), ctx.served(obj)?));
    }
    let list = ctx
        .store()
        .delete_collection(ctx.namespace, items, &opts)
        .await?;
    Ok(respond::bytes(200, "application/json", list))
}
